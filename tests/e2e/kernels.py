"""Shared helpers of the end-to-end tests: the example kernels and their numpy references."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from warpforge.demo import collatz_steps  # noqa: F401  (the demo's reference, for the tests)
from warpforge.isa import Program, assemble

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sass"
"""Folder of the hand-written SASS examples."""
NAMES = ("saxpy", "reduce_smem", "reduce_shfl", "divergent_loops")
"""Every example kernel, by file stem."""
EPS32 = 2.0**-24
"""Unit roundoff of float32 (round to nearest)."""


def example_path(name: str) -> Path:
    """The .sass file of example ``name``."""
    return EXAMPLES / f"{name}.sass"


def load_example(name: str) -> Program:
    """Example ``name``, assembled from its file."""
    path = example_path(name)
    return assemble(path.read_text(), filename=str(path))


def blocks_for(n: int, block: int) -> int:
    """Blocks of ``block`` threads that cover ``n`` elements (at least one)."""
    return max(1, -(-n // block))


def tree_block_sums(x: np.ndarray, block: int, blocks: int) -> np.ndarray:
    """Per-block sums in the exact order of a shared-memory tree reduction.

    Each block's ``block`` elements (zeros past the end of ``x``) are folded as
    ``s[t] += s[t + stride]`` for stride = block/2, ..., 1; float32 additions round to
    nearest even, so the result is bit-exact with a kernel doing the same additions.
    """
    s = np.zeros(blocks * block, np.float32)
    s[: x.size] = x
    s = s.reshape(blocks, block)
    stride = block // 2
    while stride:
        s[:, :stride] = s[:, :stride] + s[:, stride : 2 * stride]
        stride //= 2
    return s[:, 0].copy()


def butterfly_warp_sums(x: np.ndarray, total_threads: int) -> np.ndarray:
    """Each warp's sum in the exact order of a five-step XOR butterfly (16, 8, 4, 2, 1).

    Float32 addition is commutative, so every lane ends with the same value; lane 0's
    is returned per warp. Threads past the end of ``x`` contribute 0.
    """
    v = np.zeros(total_threads, np.float32)
    v[: x.size] = x
    v = v.reshape(-1, 32)
    lanes = np.arange(32)
    for offset in (16, 8, 4, 2, 1):
        v = v + v[:, lanes ^ offset]
    return v[:, 0].copy()


