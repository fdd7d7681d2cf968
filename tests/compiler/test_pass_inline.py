"""Inlining device-function calls, on printed modules in and the kernel printed out."""

from __future__ import annotations

from textwrap import dedent

import pytest

from warpforge.compiler.errors import IRError
from warpforge.compiler.ir import parse_module, print_function
from warpforge.compiler.passes import run_pipeline
from warpforge.compiler.passes.inline import inline, make_inline


def run(text: str, kernel: str = "k") -> str:
    module = parse_module(dedent(text))
    func = run_pipeline(module[kernel], [make_inline(module)], module=module)
    return print_function(func)


def test_calls_become_the_callee_body_with_nested_calls():
    assert run("""
        func @sq(%v: f32) -> f32 {
          %0 = mul %v, %v : f32
          return %0
        }
        func @norm2(%a: f32, %b: f32) -> f32, i32 {
          %0 = call @sq %a : f32
          %1 = call @sq %b : f32
          %2 = add %0, %1 : f32
          %3 = constant 2 : i32
          return %2, %3
        }
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %0 = load %x[%n] : f32
          %1, %2 = call @norm2 %0, %0 : f32, i32
          store %x[%2], %1
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %0 = load %x[%n] : f32
          %1 = mul %0, %0 : f32
          %2 = mul %0, %0 : f32
          %3 = add %1, %2 : f32
          %4 = constant 2 : i32
          store %x[%4], %3
          return
        }
        """)


def test_calls_inside_regions_and_void_callees():
    assert run("""
        func @put(%x: array<f32, 1, global>, %i: i32, %v: f32) {
          store %x[%i], %v
          return
        }
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          %0 = constant 1.0 : f32
          if %p {
            call @put %x, %n, %0
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          %0 = constant 1.0 : f32
          if %p {
            store %x[%n], %0
            yield
          }
          return
        }
        """)


def test_early_returns_recursion_and_missing_callees_are_errors():
    early = """
        func @f(%a: i32, %p: bool) -> i32 {
          if %p {
            return %a
          }
          return %a
        }
        kernel @k(%n: i32, %p: bool) {
          %0 = call @f %n, %p : i32
          return
        }
        """
    with pytest.raises(IRError, match="returns early"):
        run(early)
    recursive = """
        func @f(%a: i32) -> i32 {
          %0 = call @f %a : i32
          return %0
        }
        kernel @k(%n: i32) {
          %0 = call @f %n : i32
          return
        }
        """
    with pytest.raises(IRError, match="recursive"):
        run(recursive)
    module = parse_module(dedent(recursive))
    with pytest.raises(IRError, match="not in the module"):
        inline(module["k"], None)
