"""The CPU device: saxpy bandwidth, GEMM throughput, cold compile and cached load times.

A benchmark, not a test. Each figure is measured in this run next to its baseline:

- saxpy over 2^24 f32 elements, in GB/s (12 bytes an element: read x and y, write y),
  against numpy's ``y += a * x`` and a plain numpy copy (8 bytes an element) here;
- the 16x16 tiled matmul example and the register-tiled one at N=1024, in GFLOP/s
  (2 N^3 flops), against ``numpy.matmul`` here;
- the first compile of saxpy and of the tiled matmul in a fresh process (cold, empty
  cache: the frontend, LLVM's O3 pipeline, object emission and loading) and their load
  from the disk cache in another fresh process. Both are timed after ``wf.CPU()``, which
  starts the runtime once per process (loads LLVM's library, reads the host CPU; printed
  beside them), as a CUDA context is created before modules load.

Published peers measured on this machine on 2026-11-25 for the same work: Numba's parallel
saxpy 49 GB/s and cache-blocked SGEMM 77 GFLOP/s; NVIDIA Warp's CPU ``tile_matmul``
25 GFLOP/s and its one-element-per-thread matmul 0.8 GFLOP/s; cold compiles of a first
kernel: Numba 0.27 s, Warp 2.05 s.

Goals: saxpy at least Numba's 49 GB/s; the tiled matmul example at least 25 GFLOP/s;
saxpy's cold compile under 0.3 s and a cached load under 20 ms.

Usage: python benchmarks/cpu.py [--threads N] [--lanes 8|16|32] [--n 1024]
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
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe

import warpforge as wf

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "dsl"
NUMBA_SAXPY_GBS = 49.0
NUMBA_SGEMM_GFLOPS = 77.0
WARP_TILE_MATMUL_GFLOPS = 25.0
NUMBA_COLD_S = 0.27
WARP_COLD_S = 2.05
GOAL_SAXPY_GBS = NUMBA_SAXPY_GBS
GOAL_TILED_GFLOPS = WARP_TILE_MATMUL_GFLOPS
GOAL_COLD_S = 0.3
GOAL_CACHED_S = 0.020


def example(name: str):
    """Import ``examples/dsl/<name>.py``."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_of(repeats: int, run) -> float:
    """The best wall time of ``repeats`` calls of ``run`` (after one warm-up call)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_saxpy(device, log2: int) -> None:
    n = 1 << log2
    rng = np.random.default_rng(0)
    x = rng.random(n, dtype=np.float32)
    y = rng.random(n, dtype=np.float32)
    a = np.float32(2.0)
    saxpy = example("saxpy").saxpy
    block = 256
    ours = best_of(10, lambda: saxpy.launch((n + block - 1) // block, block, 2.0, x, y, n,
                                           device=device))
    check = rng.random(n, dtype=np.float32)
    want = a * x + check
    saxpy.launch((n + block - 1) // block, block, 2.0, x, check, n, device=device)
    np.testing.assert_allclose(check, want, rtol=1e-6)
    base = best_of(10, lambda: np.add(y, a * x, out=y))
    dst = np.empty_like(x)
    copy = best_of(10, lambda: np.copyto(dst, x))
    gbs, np_gbs, copy_gbs = 12 * n / ours / 1e9, 12 * n / base / 1e9, 8 * n / copy / 1e9
    print(f"saxpy, 2^{log2} f32 elements (12 bytes each)")
    print(f"  warpforge CPU     {ours * 1e3:8.2f} ms  {gbs:7.1f} GB/s")
    print(f"  numpy y += a*x    {base * 1e3:8.2f} ms  {np_gbs:7.1f} GB/s   ours "
          f"{gbs / np_gbs:5.2f}x")
    print(f"  numpy copy        {copy * 1e3:8.2f} ms  {copy_gbs:7.1f} GB/s   ours "
          f"{gbs / copy_gbs:5.2f}x (8 bytes an element)")
    print(f"  Numba parallel    (published)  {NUMBA_SAXPY_GBS:7.1f} GB/s   ours "
          f"{gbs / NUMBA_SAXPY_GBS:5.2f}x")
    _goal(f"saxpy >= Numba's {NUMBA_SAXPY_GBS:.0f} GB/s", gbs >= GOAL_SAXPY_GBS,
          f"{gbs:.1f} GB/s")
    BENCH["saxpy_gbs"] = gbs


def bench_gemm(device, n: int) -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2 * n**3
    base = best_of(3, lambda: np.matmul(a, b))
    np_gf = flops / base / 1e9
    print(f"\nSGEMM, N={n} ({flops / 1e9:.2f} GFLOP)")
    print(f"  numpy.matmul                    {base * 1e3:8.2f} ms  {np_gf:7.1f} GFLOP/s")
    want = a @ b
    for label, launch in gemm_kernels(n):
        c = np.zeros((n, n), np.float32)
        seconds = best_of(3, lambda launch=launch, c=c: launch(a, b, c, device))
        np.testing.assert_allclose(c, want, rtol=2e-3, atol=2e-3)
        gf = flops / seconds / 1e9
        print(f"  {label:<31} {seconds * 1e3:8.2f} ms  {gf:7.1f} GFLOP/s   "
              f"{gf / np_gf:5.2f}x numpy, {gf / WARP_TILE_MATMUL_GFLOPS:5.2f}x Warp "
              f"tile_matmul, {gf / NUMBA_SGEMM_GFLOPS:5.2f}x Numba")
        BENCH[label] = gf
    tiled = BENCH["matmul_tiled (16x16 tiles)"]
    _goal(f"tiled matmul >= Warp's tile_matmul {WARP_TILE_MATMUL_GFLOPS:.0f} GFLOP/s",
          tiled >= GOAL_TILED_GFLOPS, f"{tiled:.1f} GFLOP/s")


def gemm_kernels(n: int):
    """(label, launch(a, b, c, device)) for each DSL GEMM there is."""
    tiled = example("matmul_tiled").matmul_tiled
    out = [("matmul_tiled (16x16 tiles)",
            lambda a, b, c, dev: tiled.launch((n // 16, n // 16), (16, 16), a, b, c, n,
                                              device=dev))]
    if (EXAMPLES / "matmul_register.py").exists():
        module = example("matmul_register")
        out.append(("matmul_register", lambda a, b, c, dev: module.launch(a, b, c,
                                                                           device=dev)))
    return out


# --- compile times, each in a fresh process -----------------------------------------------

_CHILD = r"""
import json, sys, time
start = time.perf_counter()
import numpy as np
import warpforge as wf
import importlib.util
imported = time.perf_counter()
spec = importlib.util.spec_from_file_location("ex", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
kernel = getattr(module, sys.argv[2])
args = json.loads(sys.argv[3])
arrays = [np.zeros(shape, np.float32) if isinstance(shape, list) else shape for shape in args]
block = tuple(json.loads(sys.argv[4]))
t0 = time.perf_counter()
device = wf.CPU()  # the runtime: loads LLVM and reads the host CPU, once per process
t1 = time.perf_counter()
compiled = kernel.compile(*arrays, target="cpu", block=block)
t2 = time.perf_counter()
print(json.dumps({"init": t1 - t0, "compile": t2 - t1, "import": imported - start,
                  "cached": compiled.from_cache}))
"""


def child_compile(cache: str, name: str, kernel: str, args: list, block: tuple) -> dict:
    """Compile one example kernel for the CPU in a fresh Python process."""
    env = dict(os.environ, WARPFORGE_CACHE_DIR=cache, WARPFORGE_CACHE="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: from bytecode
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(EXAMPLES / f"{name}.py"), kernel,
                           json.dumps(args), json.dumps(list(block))],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_compile() -> None:
    print("\ncompile for the CPU, each in a fresh process (after `import warpforge` and "
          "`wf.CPU()`)")
    print(f"  {'kernel':<14} {'cold':>9} {'cached load':>12} {'wf.CPU()':>9}   cold vs Numba "
          f"{NUMBA_COLD_S} s / Warp {WARP_COLD_S} s")
    cases = [("saxpy", "saxpy", [2.0, [16], [16], 16], (256,)),
             ("matmul_tiled", "matmul_tiled", [[16, 16], [16, 16], [16, 16], 16], (16, 16))]
    for name, kernel, args, block in cases:
        with tempfile.TemporaryDirectory(prefix="warpforge-bench-cache-") as cache:
            child_compile(cache + "/warm-up", name, kernel, args, block)  # writes bytecode
            cold = child_compile(cache, name, kernel, args, block)
            warm = min((child_compile(cache, name, kernel, args, block) for _ in range(3)),
                       key=lambda r: r["compile"])
        assert not cold["cached"] and warm["cached"]
        print(f"  {name:<14} {cold['compile'] * 1e3:7.1f} ms {warm['compile'] * 1e3:9.2f} ms"
              f" {warm['init'] * 1e3:6.1f} ms   {NUMBA_COLD_S / cold['compile']:5.1f}x / "
              f"{WARP_COLD_S / cold['compile']:5.1f}x faster")
        BENCH[f"{name}_cold_s"] = cold["compile"]
        BENCH[f"{name}_cached_s"] = warm["compile"]
    _goal(f"saxpy cold compile < {GOAL_COLD_S} s", BENCH["saxpy_cold_s"] < GOAL_COLD_S,
          f"{BENCH['saxpy_cold_s'] * 1e3:.1f} ms")
    _goal(f"cached load < {GOAL_CACHED_S * 1e3:.0f} ms",
          max(BENCH["saxpy_cached_s"], BENCH["matmul_tiled_cached_s"]) < GOAL_CACHED_S,
          f"saxpy {BENCH['saxpy_cached_s'] * 1e3:.2f} ms, matmul_tiled "
          f"{BENCH['matmul_tiled_cached_s'] * 1e3:.2f} ms")


def host_cpu() -> str:
    """The CPU name LLVM compiles for (from the native-code cache key)."""
    from warpforge.compiler.llvm.jit import host_signature
    return host_signature().split(";", 1)[0]


BENCH: dict[str, float] = {}
GOALS: list[str] = []


def _goal(what: str, met: bool, figure: str) -> None:
    GOALS.append(f"goal: {what}: {figure} {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="worker threads")
    parser.add_argument("--lanes", type=int, default=None, help="SIMD lanes (8, 16, 32)")
    parser.add_argument("--saxpy-log2", type=int, default=24)
    parser.add_argument("--n", type=int, default=1024, help="GEMM size")
    args = parser.parse_args()
    device = wf.CPU(threads=args.threads, lanes=args.lanes, checked=False)
    print(describe())
    print(f"device: {device!r}, LLVM target CPU {host_cpu()}")
    print()
    bench_saxpy(device, args.saxpy_log2)
    bench_gemm(device, args.n)
    bench_compile()
    print()
    print("\n".join(GOALS))


if __name__ == "__main__":
    main()
