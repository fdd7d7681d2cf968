"""Tests of the compiler layer."""
