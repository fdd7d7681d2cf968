"""``warpforge demo``: the example kernels, end to end.

First a ``@wf.kernel`` written in Python (``examples/dsl/saxpy.py``) is compiled: its IR,
its SASS-like assembly, and its run on the simulator checked against numpy. The tiled
matmul then runs on the timed simulator and its profile report is shown. Then each
hand-written SASS example in ``examples/sass/`` is assembled, printed, encoded and decoded,
launched on the simulator, and its result checked against numpy. Last, the same Python
kernels run natively on the CPU device (LLVM backend): saxpy and the tiled matmul, checked
against numpy and timed next to it.
"""

from __future__ import annotations

import pathlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import isa
from .simulator import Simulator

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples" / "sass"
DSL_EXAMPLES = EXAMPLES.parent / "dsl"


def collatz_steps(x: np.ndarray) -> np.ndarray:
    """Steps from each x to 1 under v -> v/2 (even), 3v+1 (odd); 0 for x <= 1 (numpy).

    The reference for ``divergent_loops``, whose 3v+1 is 32-bit: raises ``ValueError`` for
    inputs whose walk leaves 32 bits.
    """
    v = x.astype(np.uint64)
    steps = np.zeros(x.shape, np.uint32)
    live = v > 1
    while live.any():
        odd = (v & 1) == 1
        v = np.where(live, np.where(odd, 3 * v + 1, v // 2), v)
        if int(v.max(initial=0)) >= 2**32:
            raise ValueError("inputs overflow the kernel's 32-bit 3v+1")
        steps += live
        live = v > 1
    return steps


@dataclass
class Example:
    """An example kernel: its file, how to launch it, and its numpy reference."""

    name: str
    what: str
    block: int
    setup: Callable[[np.random.Generator], tuple[list, int, Callable[[list], str]]]


def _saxpy(rng):
    n = 1_000_000
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    want = (np.float64(2.0) * x + y).astype(np.float32)

    def check(args):
        err = np.max(np.abs(args[3] - want))
        assert np.allclose(args[3], want, rtol=1e-6, atol=1e-6), err
        return f"y == 2*x + y for all {n:,} elements (max |error| vs numpy {err:.1e})"

    return [n, 2.0, x, y], n, check


def _reduce_smem(rng):
    n = 1 << 20
    x = rng.standard_normal(n, dtype=np.float32)
    out = np.zeros((n + 255) // 256, np.float32)

    def check(args):
        got, want = float(args[1].astype(np.float64).sum()), float(x.astype(np.float64).sum())
        assert abs(got - want) <= 1e-5 * np.abs(x).sum(), (got, want)
        return f"sum of {n:,} elements = {got:.4f} (numpy: {want:.4f})"

    return [x, out, n], n, check


def _reduce_shfl(rng):
    n = 1 << 20
    x = rng.standard_normal(n, dtype=np.float32)
    out = np.zeros(1, np.float32)

    def check(args):
        got, want = float(args[1][0]), float(x.astype(np.float64).sum())
        assert abs(got - want) <= 1e-5 * np.abs(x).sum(), (got, want)
        return f"sum of {n:,} elements = {got:.4f} (numpy: {want:.4f})"

    return [x, out, n], n, check


def _divergent(rng):
    n = 100_000
    x = rng.integers(0, 100_000, n, dtype=np.uint32)
    steps = np.zeros(n, np.uint32)
    want = collatz_steps(x)

    def check(args):
        assert np.array_equal(args[2], want)
        return (f"Collatz step counts of {n:,} numbers equal numpy's "
                f"(per-thread trips 0..{int(want.max())})")

    return [n, x, steps], n, check


DEMOS = [
    Example("saxpy", "y = a*x + y", 256, _saxpy),
    Example("reduce_smem", "per-block sums through a shared-memory tree", 256, _reduce_smem),
    Example("reduce_shfl", "warp-shuffle reduction with one RED per warp", 256, _reduce_shfl),
    Example("divergent_loops", "data-dependent loops under BSSY/BSYNC", 128, _divergent),
]


def run_example(example: Example, sim: Simulator, rng: np.random.Generator) -> None:
    """Assemble, print, launch and check one example."""
    path = EXAMPLES / f"{example.name}.sass"
    program = isa.assemble(path.read_text(), filename=str(path))
    assert isa.decode(program.encode()) == program
    print(f"== {example.name}: {example.what} ({path.name}) ==")
    print(program)
    args, n, check = example.setup(rng)
    grid = (n + example.block - 1) // example.block
    result = sim.launch(program, grid, example.block, args)
    stats = result.stats
    rate = stats["thread_instructions"] / max(result.elapsed_s, 1e-9)
    print(f"launch: grid {grid}, block {example.block}: {check(args)}  [ok]")
    print(f"simulated {stats['thread_instructions']:,} thread-instructions "
          f"({stats['instructions']:,} warp-instructions) in {result.elapsed_s:.3f} s: "
          f"{per_second(rate)} thread-instructions/s, "
          f"{per_second(n / max(result.elapsed_s, 1e-9))} elements/s\n")


def per_second(rate: float) -> str:
    """A rate with three significant digits and a unit prefix: ``247 M``, ``101 k``."""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= scale:
            return f"{rate / scale:.3g} {prefix}"
    return f"{rate:.3g}"


def _load_dsl(name: str):
    """The kernel ``name`` of ``examples/dsl/<name>.py``."""
    import importlib.util

    path = DSL_EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"warpforge_demo_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def run_dsl_saxpy(sim: Simulator, rng: np.random.Generator) -> None:
    """Compile examples/dsl/saxpy.py's kernel, show its layers, run it, check it."""
    path = DSL_EXAMPLES / "saxpy.py"
    kernel = _load_dsl("saxpy")
    print(f"== a @wf.kernel in Python ({path.name}) ==")
    print(pathlib.Path(path).read_text().split("\n\n\n")[1].strip(), "\n")
    n = 1_000_000
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    want = np.float32(2.0) * x + y
    compiled = kernel.compile(2.0, x, y, n)
    print("-- its IR after the optimization passes --")
    print(compiled.ir)
    print(f"-- its assembly: {len(compiled.program)} instructions, {compiled.registers} "
          "registers --")
    print(compiled.asm)
    result = kernel.launch((n + 255) // 256, 256, 2.0, x, y, n, device=sim)
    err = float(np.max(np.abs(y - want)))
    assert err <= 1e-5 * float(np.max(np.abs(want))), err
    rate = result.stats["thread_instructions"] / max(result.elapsed_s, 1e-9)
    print(f"launch: grid {(n + 255) // 256}, block 256: y == 2*x + y for all {n:,} elements "
          f"(max |error| vs numpy {err:.1e})  [ok]")
    print(f"simulated {result.stats['thread_instructions']:,} thread-instructions in "
          f"{result.elapsed_s:.3f} s ({rate / 1e6:.0f} M/s)\n")


def run_profile(rng: np.random.Generator) -> None:
    """The tiled matmul on the timed simulator, and its report: why it takes the cycles
    it takes."""
    matmul = _load_dsl("matmul_tiled")
    m = 256
    A = rng.standard_normal((m, m), dtype=np.float32)
    B = rng.standard_normal((m, m), dtype=np.float32)
    C = np.zeros((m, m), np.float32)
    print(f"== the cycle model: matmul_tiled {m}x{m} on the timed simulator ==")
    result = matmul.launch((m // 16, m // 16), (16, 16), A, B, C, m, device=Simulator())
    np.testing.assert_allclose(C, A @ B, rtol=1e-3, atol=1e-3)
    print(f"matmul_tiled {m}x{m} matches numpy  [ok]; its report:")
    print(result.report(), "\n")


def run_gemm_sim(rng: np.random.Generator) -> None:
    """libs.gemm on the timed simulator: its heuristic config, cycles and share of peak."""
    from .dsl.kernel import LAUNCH_HOOKS
    from .libs import gemm
    from .libs.gemm.config import default_config
    from .libs.gemm.tuning import label
    from .simulator.timing.report import peaks
    sim = Simulator()
    n = 512
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    results: list = []
    LAUNCH_HOOKS.append(results.append)
    try:
        C = gemm.matmul(A, B, device=sim)
    finally:
        LAUNCH_HOOKS.remove(results.append)
    np.testing.assert_allclose(C, A @ B, rtol=1e-3, atol=1e-3)
    cycles = sum(r.cycles for r in results)
    peak = peaks(sim.config)["flop"]
    pick = label(default_config(n, n, sim.config.num_sms, k=n))
    print(f"== libs.gemm.matmul {n}x{n}x{n} on the timed simulator ==")
    print(f"the heuristic's config {pick}: {cycles:,} cycles, {2 * n**3 / cycles / peak:.1%} "
          f"of the FP32 peak ({peak:,} FLOP a cycle); matches numpy  [ok]\n")


def _best(run: Callable[[], object], repeats: int = 3) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def run_native(rng: np.random.Generator) -> None:
    """Run saxpy and the tiled matmul natively on the CPU device, against numpy."""
    from .dsl.cpu import CPU

    cpu = CPU()
    print(f"== the same Python kernels, native on the CPU: {cpu!r} ==")
    saxpy = _load_dsl("saxpy")
    n = 1 << 24
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    want = np.float32(2.0) * x + y
    start = time.perf_counter()
    compiled = saxpy.compile(2.0, x, y, n, target="cpu", block=(256,))
    built = time.perf_counter() - start
    loop = [line for line in compiled.native_asm.splitlines() if "vfmadd" in line]
    print(f"saxpy compiled for the host CPU in {built * 1e3:.0f} ms "
          f"({'from the cache' if compiled.from_cache else 'cold'}), {compiled.lanes} "
          f"lanes; its fused multiply-add: {loop[0].strip() if loop else '?'}")
    saxpy.launch(n // 256, 256, 2.0, x, y, n, device=cpu)
    err = float(np.max(np.abs(y - want)))
    assert err <= 1e-5 * float(np.max(np.abs(want))), err
    ours = _best(lambda: saxpy.launch(n // 256, 256, 2.0, x, y, n, device=cpu))
    a = np.float32(2.0)
    theirs = _best(lambda: np.add(y, a * x, out=y))
    print(f"saxpy over {n:,} floats matches numpy (max |error| {err:.1e})  [ok]")
    print(f"  native {12 * n / ours / 1e9:6.1f} GB/s, numpy y += a*x {12 * n / theirs / 1e9:6.1f}"
          f" GB/s: {theirs / ours:.1f}x numpy")
    matmul = _load_dsl("matmul_tiled")
    m = 1024
    A = rng.standard_normal((m, m), dtype=np.float32)
    B = rng.standard_normal((m, m), dtype=np.float32)
    C = np.zeros((m, m), np.float32)
    ours = _best(lambda: matmul.launch((m // 16, m // 16), (16, 16), A, B, C, m, device=cpu))
    np.testing.assert_allclose(C, A @ B, rtol=1e-3, atol=1e-3)
    theirs = _best(lambda: np.matmul(A, B))
    flops = 2 * m**3
    print(f"matmul_tiled {m}x{m} matches numpy  [ok]")
    print(f"  native {flops / ours / 1e9:6.1f} GFLOP/s, numpy.matmul (BLAS) "
          f"{flops / theirs / 1e9:6.1f} GFLOP/s: {theirs / ours:.2f}x numpy")
    from .libs import gemm
    C2 = gemm.matmul(A, B, device=cpu)
    np.testing.assert_allclose(C2, A @ B, rtol=1e-3, atol=1e-3)
    ours = _best(lambda: gemm.matmul(A, B, C2, device=cpu))
    print(f"libs.gemm.matmul {m}x{m} (the SIMT template, heuristic config) matches numpy  "
          f"[ok]")
    print(f"  native {flops / ours / 1e9:6.1f} GFLOP/s: {theirs / ours:.2f}x numpy\n")


def main() -> int:
    """Run every example; returns the exit status."""
    if not EXAMPLES.is_dir():
        print(f"warpforge demo: the examples folder {EXAMPLES} is missing; the demo runs "
              "from a source checkout (pip install -e .)", file=sys.stderr)
        return 1
    sim = Simulator()
    cfg = sim.config
    print(f"warpforge demo: SASS-like kernels on the cycle-aware simulator "
          f"({cfg.num_sms} SMs, {cfg.max_threads_per_sm} threads per SM)\n")
    rng = np.random.default_rng(2026)
    run_dsl_saxpy(sim, rng)
    run_profile(rng)
    run_gemm_sim(rng)
    for example in DEMOS:
        run_example(example, sim, rng)
    run_native(rng)
    print("every example matches numpy")
    return 0
