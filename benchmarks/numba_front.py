"""Numba kernels, unmodified: Numba's own CUDA simulator against warpforge's devices.

A benchmark, not a test. One script's kernels (a grid-stride vector add over 2^16
elements; the documentation's 16x16 shared-memory matmul at N=64) run three ways in one
run: under Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``, in a subprocess, when Numba is
installed: ``pip install numba`` in the benchmark's environment only), through ``from
warpforge import cuda`` on warpforge's simulator, and on warpforge's CPU device. Each time
covers a launch from the Python call to the results on the host (warm: compiled once
before); the best of several for warpforge, one run for Numba's simulator, which takes
seconds.

Goal: warpforge's simulator at least 1000x faster than Numba's on both kernels.

Usage: python benchmarks/numba_front.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe

GOAL = 1000.0

KERNELS = textwrap.dedent('''
    import numpy as np
    from numba import cuda, float32

    TPB = 16

    @cuda.jit
    def add_kernel(x, y, out):
        start = cuda.grid(1)
        stride = cuda.gridsize(1)
        for i in range(start, x.shape[0], stride):
            out[i] = x[i] + y[i]

    @cuda.jit
    def fast_matmul(A, B, C):
        sA = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
        sB = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
        x, y = cuda.grid(2)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bpg = cuda.gridDim.x
        tmp = float32(0.)
        for i in range(bpg):
            sA[ty, tx] = 0
            sB[ty, tx] = 0
            if y < A.shape[0] and (tx + i * TPB) < A.shape[1]:
                sA[ty, tx] = A[y, tx + i * TPB]
            if x < B.shape[1] and (ty + i * TPB) < B.shape[0]:
                sB[ty, tx] = B[ty + i * TPB, x]
            cuda.syncthreads()
            for j in range(TPB):
                tmp += sA[ty, j] * sB[j, tx]
            cuda.syncthreads()
        if y < C.shape[0] and x < C.shape[1]:
            C[y, x] = tmp

    def run_add(n):
        x = np.arange(n, dtype=np.float32)
        y = np.ones(n, np.float32)
        out = np.zeros(n, np.float32)
        add_kernel[64, 256](x, y, out)
        assert np.array_equal(out, x + y)

    def run_matmul(n):
        rng = np.random.default_rng(0)
        A = rng.standard_normal((n, n)).astype(np.float32)
        B = rng.standard_normal((n, n)).astype(np.float32)
        C = np.zeros((n, n), np.float32)
        blocks = (n + TPB - 1) // TPB
        fast_matmul[(blocks, blocks), (TPB, TPB)](A, B, C)
        assert np.allclose(C, A @ B, rtol=1e-4, atol=1e-4)
''')

NUMBA_RUNNER = textwrap.dedent('''
    import importlib.util, json, sys, time
    spec = importlib.util.spec_from_file_location("kernels", sys.argv[1])
    kernels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kernels)
    out = {}
    for name, size in (("add", 2**16), ("matmul", 64)):
        start = time.perf_counter()
        getattr(kernels, "run_" + name)(size)
        out[name] = time.perf_counter() - start
    print(json.dumps(out))
''')


def numba_simulator(folder: pathlib.Path) -> dict[str, float] | None:
    """Seconds per kernel under Numba's simulator, or None when Numba is not installed."""
    if importlib.util.find_spec("numba") is None:
        return None
    runner = folder / "numba_runner.py"
    runner.write_text(NUMBA_RUNNER)
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run([sys.executable, str(runner), str(folder / "kernels.py")],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(f"Numba's simulator failed:\n{done.stderr[-2000:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def warpforge_times(folder: pathlib.Path, device: str, repeat: int) -> dict[str, float]:
    """Best seconds per kernel through ``warpforge numba``'s stand-in, on ``device``."""
    import warpforge as wf
    from warpforge.numba_shim import install, uninstall

    saved = install()
    try:
        spec = importlib.util.spec_from_file_location(f"kernels_{device}",
                                                      folder / "kernels.py")
        kernels = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(kernels)
        out = {}
        with wf.device(device):
            for name, size in (("add", 2**16), ("matmul", 64)):
                run = getattr(kernels, "run_" + name)
                run(size)  # compile once
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    run(size)
                    best = min(best, time.perf_counter() - start)
                out[name] = best
        return out
    finally:
        uninstall(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        (folder / "kernels.py").write_text(KERNELS)
        ours_sim = warpforge_times(folder, "sim", args.repeat)
        ours_cpu = warpforge_times(folder, "cpu", args.repeat)
        numba = numba_simulator(folder)
    print()
    print(f"{'kernel':<28}{'Numba simulator':>18}{'warpforge sim':>16}{'x faster':>10}"
          f"{'warpforge CPU':>16}{'x faster':>10}")
    print("-" * 98)
    labels = {"add": "vector add, 2^16 elements", "matmul": "shared matmul, N=64"}
    met = []
    for name in ("add", "matmul"):
        theirs = numba[name] if numba else float("nan")
        s, c = ours_sim[name], ours_cpu[name]
        print(f"{labels[name]:<28}{theirs:>16.3f} s{s * 1e3:>13.2f} ms{theirs / s:>10.0f}"
              f"{c * 1e3:>13.2f} ms{theirs / c:>10.0f}")
        met.append(theirs / s >= GOAL if numba else None)
    print()
    if numba is None:
        print("Numba is not installed here: pip install numba, then run again for the "
              "comparison (the goal needs it)")
        return
    for name, ok in zip(("add", "matmul"), met, strict=True):
        ratio = numba[name] / ours_sim[name]
        print(f"goal: {labels[name]} on warpforge's simulator >= {GOAL:.0f}x Numba's "
              f"simulator: {ratio:,.0f}x {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
