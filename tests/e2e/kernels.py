"""Shared helpers of the end-to-end tests: the example kernels and their numpy references."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import warpforge as wf
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


def saxpy_inputs(n: int, seed: int):
    """x with few significant bits, so that a*x is exact in float32 and numpy's
    a*x + y rounds once, as the kernel's fused FFMA does. Two guard elements past n."""
    rng = np.random.default_rng(seed)
    a = np.float32(1.75)
    x = (rng.integers(-(2**12), 2**12, n + 2) / 16).astype(np.float32)
    y = rng.standard_normal(n + 2).astype(np.float32)
    return a, x, y


def collatz_inputs(n: int, seed: int) -> np.ndarray:
    """Values whose Collatz walks differ widely in length, with the edge cases 0, 1, 2,
    27 (111 steps) and 77031 (350 steps) among them, plus two guard elements past n."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 100_000, n + 2).astype(np.uint32)
    special = np.array([0, 1, 2, 27, 77031, 3, 4], np.uint32)
    k = min(n, special.size)
    x[rng.permutation(n)[:k]] = special[:k]
    return x


@wf.kernel
def six_breaks(a: wf.i32[:], out: wf.i32[:]):
    """A loop with six data-dependent breaks: beyond the SASS backend's predicate budget
    (see test_differential), fine on the CPU. out[i] = 0 for a[i] in 1..6, else 10."""
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    v = a[i]
    n = 0
    while n < 10:
        if v == 1:
            break
        if v == 2:
            break
        if v == 3:
            break
        if v == 4:
            break
        if v == 5:
            break
        if v == 6:
            break
        n += 1
    out[i] = n
