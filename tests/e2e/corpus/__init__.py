"""A corpus of kernels in the style of public CUDA-Python code (Numba's documentation and
tests, the CUDA samples, course notebooks): grid-stride loops, bounds guards, shared-memory
reductions and scans, atomics, stencils, sorting networks, n-body, Black-Scholes in f64,
Mandelbrot, transposes. Each :class:`Case` builds its inputs, launches, and says what numpy
computes for them; ``test_corpus.py`` runs every case on both devices."""

from . import elementwise, reductions, rows, simulations, stencils  # noqa: F401 - each registers its cases
from .base import CASES, Case  # noqa: F401 - the corpus, in registration order
