"""Kernels written for Numba's CUDA target, as its documentation and public CUDA-Python
code write them, run unmodified through ``from warpforge import cuda``. Each case launches
with Numba's syntax (``k[blocks, threads](...)``, device arrays, streams, dynamic shared
memory) and says what numpy computes."""

from . import atomics, basics, memory, simulations, stencils  # noqa: F401 - each registers its cases
from .base import CASES, Case  # noqa: F401 - the corpus, in registration order
