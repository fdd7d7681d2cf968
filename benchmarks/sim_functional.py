"""Functional-simulator throughput: saxpy over 2^24 elements, the tree reduction over 2^22.

A benchmark, not a test. It runs the hand-written SASS examples on the default (Ampere-like)
simulator and prints simulated thread-instructions per second and elements per second,
next to the published peers measured on this machine on 2026-11-25:

- Numba's CUDA simulator: about 7,000 elements/s on vector add, and 104 s for a
  2^16-element shared-memory reduction (630 elements/s);
- Triton's interpreter: 1.9 M elements/s on vector add.

Goals: at least 200 M thread-instructions per second on saxpy, and at least 20x Triton's
interpreter in elements per second.

Usage: python benchmarks/sim_functional.py [--saxpy-log2 24] [--reduce-log2 22]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe

import warpforge as wf

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples" / "sass"
NUMBA_SIM_VECADD = 7_000.0
NUMBA_SIM_REDUCE = 2**16 / 104.0
TRITON_INTERP_VECADD = 1.9e6
GOAL_THREAD_INSTRUCTIONS = 200e6
GOAL_VS_TRITON = 20.0


def load(name: str) -> wf.isa.Program:
    """Assemble ``examples/sass/<name>.sass``."""
    path = EXAMPLES / f"{name}.sass"
    return wf.isa.assemble(path.read_text(), filename=str(path))


def timed_launches(sim, program, n, block, make_args, repeats):
    """Time ``repeats`` launches over ``n`` elements: (first, best, stats).

    The first launch of a size pays for fresh memory (the allocator maps and the kernel
    zero-fills pages for the wave's registers and temporaries); later ones reuse it.
    """
    times, stats = [], None
    for _ in range(repeats):
        args = make_args(n)
        start = time.perf_counter()
        result = sim.launch(program, (n + block - 1) // block, block, args)
        times.append(time.perf_counter() - start)
        stats = result.stats
    return times[0], min(times), stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saxpy-log2", type=int, default=24)
    parser.add_argument("--reduce-log2", type=int, default=22)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args(argv)

    print(describe())
    sim = wf.Simulator(timing=False)
    cfg = sim.config
    print(f"device: Simulator(arch='ampere'): {cfg.num_sms} SMs x {cfg.max_threads_per_sm} "
          "threads per wave\n")
    rng = np.random.default_rng(0)

    def saxpy_args(n):
        x = rng.standard_normal(n, dtype=np.float32)
        return [n, 2.0, x, np.ones(n, np.float32)]

    def reduce_args(n):
        x = rng.standard_normal(n, dtype=np.float32)
        return [x, np.zeros((n + 255) // 256, np.float32), n]

    rows = []
    for name, log2, make_args, peer in (
        ("saxpy", opts.saxpy_log2, saxpy_args, NUMBA_SIM_VECADD),
        ("reduce_smem", opts.reduce_log2, reduce_args, NUMBA_SIM_REDUCE),
    ):
        program = load(name)
        n = 1 << log2
        timed_launches(sim, program, 1 << 14, 256, make_args, 1)  # imports, decoding
        first, seconds, stats = timed_launches(sim, program, n, 256, make_args, opts.repeats)
        rows.append((name, n, seconds, stats, peer, first))

    header = (f"{'kernel':<12} {'elements':>10} {'seconds':>8} {'thread-instr':>14} "
              f"{'thread-instr/s':>15} {'elements/s':>12} {'vs Triton interp':>17} "
              f"{'vs Numba sim':>13}")
    print(header)
    print("-" * len(header))
    for name, n, seconds, stats, peer, _ in rows:
        tips = stats["thread_instructions"] / seconds
        eps = n / seconds
        print(f"{name:<12} {n:>10,} {seconds:>8.3f} {stats['thread_instructions']:>14,} "
              f"{tips / 1e6:>13.1f} M {eps / 1e6:>10.2f} M {eps / TRITON_INTERP_VECADD:>16.1f}x "
              f"{eps / peer:>12,.0f}x")

    print(f"(best of {opts.repeats} launches; the first launch of each size took "
          + ", ".join(f"{row[0]} {row[5]:.3f} s" for row in rows)
          + " while the allocator mapped fresh memory)")
    name, n, seconds, stats, _, _ = rows[0]
    tips = stats["thread_instructions"] / seconds
    vs_triton = n / seconds / TRITON_INTERP_VECADD
    print()
    print(f"goal: saxpy >= {GOAL_THREAD_INSTRUCTIONS / 1e6:.0f} M thread-instructions/s: "
          f"{tips / 1e6:.1f} M ({tips / GOAL_THREAD_INSTRUCTIONS:.2f}x of goal) "
          f"{'met' if tips >= GOAL_THREAD_INSTRUCTIONS else 'NOT met'}")
    print(f"goal: saxpy >= {GOAL_VS_TRITON:.0f}x Triton's interpreter "
          f"({TRITON_INTERP_VECADD / 1e6:.1f} M elements/s): {vs_triton:.1f}x "
          f"{'met' if vs_triton >= GOAL_VS_TRITON else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
