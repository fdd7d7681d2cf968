"""End-to-end tests: example kernels and the command line, from files to results."""
