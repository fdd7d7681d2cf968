"""Timed-simulation speed, sampling error, and small-launch overhead.

A benchmark, not a test. On the default (A100-like) simulator it runs, in one process:

1. saxpy over 2^24 elements and the 16x16 tiled matmul at N=512, functional only
   (``timing=False``), timed with ``sample="auto"`` and timed with every CTA
   (``sample=None``); it prints warp-instructions simulated per second for each, next to
   Accel-Sim's published 12,500 (Khairy et al., ISCA 2020, Table I), and the ratio of
   timed to functional time. Goal: at least 1,000,000 warp-instructions a second timed,
   and timing at most 3x slower than functional.
2. Sampling: cycles with ``sample="auto"`` against every CTA on a grid of at least 8
   waves, with the speed-up. Goal: error at most 2%.
3. Small launches: a one-CTA and a 16-CTA 16x16 tiled matmul, timed and functional only,
   in microseconds per functional step (one instruction for every warp of the wave; the
   whole launch divided by its steps). Goal: under 15 us timed.

Usage: python benchmarks/sim_timing.py [--saxpy-log2 24] [--matmul-n 512] [--repeats 3]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples" / "dsl"))
from machine import describe
from matmul_tiled import matmul_tiled
from saxpy import saxpy

import warpforge as wf

ACCEL_SIM = 12_500.0
GOAL_RATE = 1e6
GOAL_SLOWDOWN = 3.0
GOAL_SAMPLE_ERROR = 0.02
GOAL_STEP_US = 15.0
SMALL_REPEATS = 5
"""Small launches take milliseconds: more tries give a steadier best."""


def best_of(fn, repeats: int):
    """(best seconds, last result) of ``repeats`` calls."""
    best, res = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - start)
    return best, res


def saxpy_launch(sim, n):
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)

    def run():
        with wf.device(sim):
            return saxpy[(n + 255) // 256, 256](np.float32(2.0), x, y, n)
    return run


def matmul_launch(sim, n, blocks=None):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.zeros((n, n), np.float32)
    grid = (n // 16, n // 16) if blocks is None else blocks

    def run():
        with wf.device(sim):
            return matmul_tiled[grid, (16, 16)](a, b, c, n)
    return run


def speed(name: str, make, repeats: int) -> None:
    rows = {}
    for label, sim in (("functional", wf.Simulator(timing=False)),
                       ("timed, sample=auto", wf.Simulator()),
                       ("timed, every CTA", wf.Simulator(sample=None))):
        make(sim)()  # compile and warm up
        secs, res = best_of(make(sim), repeats)
        rows[label] = (secs, res)
    base = rows["functional"][0]
    print(f"\n{name}")
    print(f"  {'mode':<20} {'host s':>9} {'warp-instr/s':>14} {'x Accel-Sim':>12} "
          f"{'x functional':>13} {'cycles':>12}")
    for label, (secs, res) in rows.items():
        rate = res.stats["instructions"] / secs
        cyc = f"{res.cycles:,}" if res.cycles is not None else "-"
        print(f"  {label:<20} {secs:>9.3f} {rate:>14,.0f} {rate / ACCEL_SIM:>12,.0f} "
              f"{secs / base:>13.2f} {cyc:>12}")
    for label in ("timed, sample=auto", "timed, every CTA"):
        secs, res = rows[label]
        rate = res.stats["instructions"] / secs
        ok = rate >= GOAL_RATE and secs / base <= GOAL_SLOWDOWN
        print(f"  goal ({label}): >= {GOAL_RATE:,.0f} warp-instr/s and <= "
              f"{GOAL_SLOWDOWN:g}x functional: {'met' if ok else 'NOT met'}")


def sampling(repeats: int) -> None:
    n = 1 << 22  # 16,384 CTAs of 256: 19 waves of 864 on 108 SMs
    full_s, full = best_of(saxpy_launch(wf.Simulator(sample=None), n), 1)
    samp_s, samp = best_of(saxpy_launch(wf.Simulator(), n), repeats)
    waves = full.stats["ctas"] / (full.occupancy["ctas_per_sm"] * 108)
    err = abs(samp.cycles - full.cycles) / full.cycles
    print(f"\nsampling: saxpy over 2^22 ({full.stats['ctas']:,} CTAs, {waves:.1f} waves)")
    print(f"  every CTA: {full.cycles:,} cycles in {full_s:.2f} s; sampled "
          f"({samp.timing.timed_sms} SMs): {samp.cycles:,} cycles in {samp_s:.2f} s")
    print(f"  error {err:.2%}, speed-up {full_s / samp_s:.1f}x; goal <= "
          f"{GOAL_SAMPLE_ERROR:.0%}: {'met' if err <= GOAL_SAMPLE_ERROR else 'NOT met'}")
    n = 512
    full_s, full = best_of(matmul_launch(wf.Simulator(sample=None), n), 1)
    samp_s, samp = best_of(matmul_launch(wf.Simulator(), n), repeats)
    err = abs(samp.cycles - full.cycles) / full.cycles
    print(f"  matmul N=512 ({full.stats['ctas']:,} CTAs): every CTA {full.cycles:,} "
          f"cycles, sampled {samp.cycles:,}: error {err:.2%}, speed-up "
          f"{full_s / samp_s:.1f}x")


def small(repeats: int) -> None:
    print("\nsmall launches (16x16 tiled matmul, K=128), best of "
          f"{SMALL_REPEATS * repeats}: microseconds a functional step")
    for ctas in (1, 16):
        grid = (1, 1) if ctas == 1 else (4, 4)
        per = {}
        for label, sim in (("functional", wf.Simulator(timing=False)),
                           ("timed", wf.Simulator())):
            make = matmul_launch(sim, 16 * 8, grid)
            make()
            secs, res = best_of(make, SMALL_REPEATS * repeats)
            per[label] = secs / res.stats["steps"] * 1e6
        steps = res.stats["steps"]
        timed = per["timed"]
        print(f"  {ctas:>2} CTA(s) ({steps} steps, {ctas * 256:,} threads): timed "
              f"{timed:.1f} us, functional alone {per['functional']:.1f} us; goal timed < "
              f"{GOAL_STEP_US:g} us: {'met' if timed < GOAL_STEP_US else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--saxpy-log2", type=int, default=24)
    ap.add_argument("--matmul-n", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(describe())
    cfg = wf.Simulator().config
    print(f"device: Simulator(arch='ampere'): {cfg.num_sms} SMs at {cfg.clock_hz / 1e9:g} "
          f"GHz, sample_sms={cfg.sample_sms}")
    print(f"baseline: Accel-Sim {ACCEL_SIM:,.0f} warp-instructions/s (published)")
    speed(f"saxpy over 2^{args.saxpy_log2}",
          lambda sim: saxpy_launch(sim, 1 << args.saxpy_log2), args.repeats)
    speed(f"16x16 tiled matmul, N={args.matmul_n}",
          lambda sim: matmul_launch(sim, args.matmul_n), args.repeats)
    sampling(args.repeats)
    small(args.repeats)


if __name__ == "__main__":
    main()
