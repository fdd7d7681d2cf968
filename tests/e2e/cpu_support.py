"""Helpers for the CPU-device tests: the device configurations to cover and a runner that
launches one kernel on the simulator and on the CPU and compares what they wrote."""

from __future__ import annotations

import numpy as np

import warpforge as wf

LANES = (8, 16, 32)
"""Every lane width the LLVM backend supports."""
THREADS = (1, 2)
"""Worker threads: one, and two (CTAs on both cores at once)."""
CONFIGS = [(lanes, threads) for lanes in LANES for threads in THREADS]
"""Every (lanes, threads) pair."""
CONFIG_IDS = [f"lanes{lanes}-threads{threads}" for lanes, threads in CONFIGS]


def cpu(lanes: int, threads: int) -> wf.CPU:
    """A checked CPU device with ``lanes`` SIMD lanes and ``threads`` workers."""
    return wf.CPU(threads=threads, lanes=lanes, checked=True)


def run_both(kernel, grid, block, *args, lanes: int, threads: int, float_tol: float = 0.0,
             **constexprs):
    """Launch ``kernel`` on copies of ``args`` on the simulator and on the CPU; assert the
    arrays they leave agree (integers and bools bit for bit, floats within ``float_tol``
    relative, exactly when 0); returns (simulator arrays, CPU arrays)."""
    on_sim = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    on_cpu = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel.launch(grid, block, *on_sim, device=wf.Simulator(arch="test"), **constexprs)
    kernel.launch(grid, block, *on_cpu, device=cpu(lanes, threads), **constexprs)
    for k, (s, c) in enumerate(zip(on_sim, on_cpu, strict=True)):
        if not isinstance(s, np.ndarray):
            continue
        if s.dtype.kind == "f" and float_tol:
            np.testing.assert_allclose(c, s, rtol=float_tol, atol=float_tol,
                                       err_msg=f"argument {k}")
        else:
            np.testing.assert_array_equal(c, s, err_msg=f"argument {k}")
    return on_sim, on_cpu
