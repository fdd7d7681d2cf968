"""libs.gemm: SASS quality, simulated efficiency, and CPU speed against numpy.

A benchmark, not a test. In one run it prints:

1. SASS quality of the SIMT template's 128x128x8 configuration (8x8 thread tile, 256
   threads, CUTLASS's SIMT default), with strided fragments and with CUTLASS's layout of
   runs of 4 (VEC=4): registers, spills, hot-loop instructions by opcode and FFMA
   share, next to ptxas's 119 registers and 91% FFMA on the reference kernel
   (``reference/ptxas-sm80.md``). Goals: FFMA share at least 0.90, registers at most
   1.1x 119, no spills.
2. Simulated efficiency: SGEMM at N=1024 on the A100 configuration (timed, sampled), as a
   share of the simulated FP32 peak (108 SMs x 64 lanes x 2 FLOP a cycle), for the
   128x128x8 config with one stage, with two stages and padding, with vector fragments
   (VEC=4) and with split-K, 64x64 tiles, and the simulator heuristic's pick; split-K's
   cycles include its second kernel. Goal 80% (CUTLASS reaches about 88% on silicon).
3. Simulated tensor cores: the f16 template (``wf.mma_sync``, HMMA.16816 with f32
   accumulators) at 1024^3 and 2048^3 (``--large``: and 4096^3, minutes more) on the A100
   configuration, as a share of the simulated HMMA peak (108 SMs x 4 tensor cores, an
   HMMA.16816 each every 8 cycles), for a few configurations and the heuristic's pick,
   with the shared-memory traffic and the registers. Goal 60%.
4. CPU: ``matmul`` against ``numpy.matmul`` (OpenBLAS) in the same run at N=1024 and
   N=2048, 4096x64x4096 and a skinny 16x4096x4096: the fastest of a few configurations
   on one timing each, then it and numpy timed by turns, best of several. Goal 0.9x
   numpy at 1024 and 2048. 1023^3 runs the edge tiles' guarded loads everywhere, to show
   what the guards cost against 1024^3.

Usage: python benchmarks/gemm.py [--repeats 3] [--skip-sim]

Section 3 takes about 3 minutes of simulation on this machine.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
import time
from collections import Counter

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe

import warpforge as wf
from warpforge.dsl.kernel import LAUNCH_HOOKS as kernel_hooks
from warpforge.libs import gemm
from warpforge.libs.gemm.config import GemmConfig, default_config
from warpforge.libs.gemm.simt import gemm_simt
from warpforge.libs.gemm.tensorop_config import TensorOpConfig, default_tensorop_config
from warpforge.libs.gemm.tuning import label
from warpforge.simulator.timing.report import peaks

PTXAS_REGISTERS = 119
PTXAS_FFMA_SHARE = 0.91
SIM_CONFIGS = (GemmConfig(128, 128, 8, 8, 8), GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=1),
               GemmConfig(64, 64, 8, 4, 4, STAGES=2, PAD=4, VEC=4),
               GemmConfig(64, 64, 8, 4, 4, STAGES=2, PAD=4, VEC=4, SPLIT_K=2),
               GemmConfig(64, 64, 8, 4, 4, STAGES=2, PAD=4, VEC=4, SPLIT_K=5, ATOMIC=1),
               GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=4, VEC=4),
               GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=4, VEC=4, SPLIT_K=10),
               GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=4, VEC=4, SPLIT_K=8, ATOMIC=1),
               GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=4, VEC=4, SPLIT_K=10, ATOMIC=1),
               GemmConfig(128, 128, 8, 8, 8, STAGES=2, PAD=4, VEC=4, SPLIT_K=10, ATOMIC=1,
                          WM=32, WN=64))
CPU_CONFIGS = (GemmConfig(64, 64, 16, 4, 4, STAGES=2), GemmConfig(64, 64, 8, 4, 4, STAGES=2),
               GemmConfig(32, 128, 8, 4, 2, STAGES=2), GemmConfig(16, 16, 16, 1, 1, STAGES=2),
               GemmConfig(64, 64, 16, 4, 4))


def hot_loop(asm: str) -> list[str]:
    """The opcodes of the innermost loop with the most instructions (label to back
    branch)."""
    lines = asm.splitlines()
    best: list[str] = []
    for i, line in enumerate(lines):
        label = re.match(r"\s*(\.L_loop\d+):", line)
        if not label:
            continue
        body = []
        for later in lines[i + 1:]:
            op = re.search(r"\]\s+(?:@!?P\w+\s+)?([A-Z0-9_.]+)", later)
            if op:
                body.append(op.group(1))
            if "BRA" in later and label.group(1) in later:
                break
        if len(body) > len(best):
            best = body
    return best


def sass_quality() -> None:
    """The 128x128x8 config's hot loop with strided fragments (scalar LDS) and with
    CUTLASS's layout (VEC=4: LDS.128), one stage as in the reference kernel."""
    for cfg in (GemmConfig(128, 128, 8, 8, 8), GemmConfig(128, 128, 8, 8, 8, PAD=4, VEC=4)):
        A = np.ones((1024, 1024), np.float32)
        ck = gemm_simt.compile(A, A, A.copy(), np.zeros(1, np.float32), 1024, 1024, 1024,
                               1.0, 0.0, BETA=0, HAS_BIAS=0, ACT=0, EVEN=1, target="sim",
                               **cfg.constexprs())
        loop = hot_loop(ck.asm)
        ffma = sum(op.startswith("FFMA") for op in loop) / max(len(loop), 1)
        counts = Counter(loop)
        print(f"\nSASS, {label(cfg)}: {ck.registers} registers (ptxas {PTXAS_REGISTERS}: "
              f"{ck.registers / PTXAS_REGISTERS:.2f}x), local memory "
              f"{ck.program.local_bytes} bytes, hot loop {len(loop)} instructions, FFMA share "
              f"{ffma:.2f} (ptxas {PTXAS_FFMA_SHARE})")
        print("  " + ", ".join(f"{op} {n}" for op, n in counts.most_common()))
        ok = (ffma >= 0.90 and ck.registers <= 1.1 * PTXAS_REGISTERS
              and not ck.program.local_bytes)
        print(f"  goal (FFMA >= 0.90, registers <= 1.1x, no spills): "
              f"{'met' if ok else 'NOT met'}")


def simulated() -> None:
    n = 1024
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    sim = wf.Simulator()
    peak = peaks(sim.config)["flop"]
    print(f"\nsimulated SGEMM N={n}, A100 config, against the FP32 peak ({peak:,} FLOP a "
          "cycle):")
    best = 0.0
    heuristic = default_config(n, n, sim.config.num_sms, k=n)
    for cfg in (*SIM_CONFIGS, None):
        start = time.perf_counter()
        C = np.zeros((n, n), np.float32)
        launches.clear()
        with wf.device(sim):
            gemm.matmul(A, B, C, config=cfg)
        took = time.perf_counter() - start
        np.testing.assert_allclose(C, A @ B, rtol=1e-3, atol=1e-3)
        cycles = sum(res.cycles for res in launches)  # split-K: the reduction's too
        conflicts = sum(res.stats["bank_conflicts"] for res in launches)
        share = 2 * n**3 / cycles / peak
        best = max(best, share)
        name = label(cfg) if cfg is not None else f"heuristic {label(heuristic)}"
        print(f"  {name:<32} {cycles:>10,} cycles ({len(launches)} launches) {share:6.1%} "
              f"of peak, bank conflicts {conflicts:>9,}; host {took:.1f} s")
    print(f"  goal 80%: {'met' if best >= 0.8 else 'NOT met'} (best {best:.1%})")


TC_CONFIGS = (TensorOpConfig(128, 128, 32, 64, 32, STAGES=2),
              TensorOpConfig(128, 128, 32, 64, 64, STAGES=2),
              TensorOpConfig(128, 64, 32, 64, 32, STAGES=2),
              TensorOpConfig(64, 64, 32, 32, 32),
              TensorOpConfig(64, 64, 32, 32, 32, STAGES=2))


@wf.kernel
def fragment_loop(src, out, iters, MT: wf.constexpr, NT: wf.constexpr):
    """The template's inner loop alone: a warp's MT x NT accumulator tiles, fragments read
    from shared memory with LDS.128 / LDS.64 (the next step's while this one's MMAs run),
    no copy from global memory and no barrier in the loop: what the tensor cores reach
    when shared-memory reads are all that feeds them."""
    lane = wf.lane_id()
    words = wf.shared((4096,), wf.u32)
    t = wf.thread_idx.x
    for q in wf.static_range(4096 // 128):
        words[t + q * 128] = src[lane, q % 4]
    wf.syncthreads()
    acc = wf.local((MT * NT, 4), wf.f32)
    af = wf.local((2, MT, 4), wf.u32)
    bf = wf.local((2, NT, 2), wf.u32)
    for i in wf.static_range(MT * NT):
        for x in wf.static_range(4):
            acc[i, x] = 0.0
    base = lane * 4
    for i in wf.static_range(MT):
        for x in wf.static_range(4):
            af[0, i, x] = words[base + (i * 128 + x)]
    for j in wf.static_range(NT):
        for x in wf.static_range(2):
            bf[0, j, x] = words[base + (2048 + j * 128 + x)]
    for _ in range(iters):
        for h in wf.static_range(2):
            for i in wf.static_range(MT):
                for x in wf.static_range(4):
                    af[1 - h, i, x] = words[base + (i * 128 + 64 * (1 - h) + x)]
            for j in wf.static_range(NT):
                for x in wf.static_range(2):
                    bf[1 - h, j, x] = words[base + (2048 + j * 128 + 64 * (1 - h) + x)]
            for j in wf.static_range(NT):
                for i in wf.static_range(MT):
                    wf.mma_sync(acc[i * NT + j], af[h, i], bf[h, j], acc[i * NT + j])
    for i in wf.static_range(MT * NT):
        for x in wf.static_range(4):
            out[wf.block_idx.x * 128 + t, i * 4 + x] = acc[i, x]


def tensor_cores(large: bool = False) -> None:
    sim = wf.Simulator()
    cfg = sim.config
    per_cycle = 4 * cfg.num_sms / cfg.tensor_interval
    print(f"\nsimulated f16 GEMM (f32 accumulation) on tensor cores, A100 config, against the "
          f"HMMA peak ({per_cycle:g} HMMA.16816 a cycle):")
    best = 0.0
    rng = np.random.default_rng(0)
    sizes = [(1024, (*TC_CONFIGS, None)), (2048, (TC_CONFIGS[0], TC_CONFIGS[4], None))]
    if large:  # about five minutes of simulation on a 2-core machine
        sizes.append((4096, (None,)))
    for n, configs in sizes:
        A = rng.standard_normal((n, n)).astype(np.float16)
        B = rng.standard_normal((n, n)).astype(np.float16)
        want = A.astype(np.float32) @ B.astype(np.float32)
        heuristic = default_tensorop_config(n, n, cfg.num_sms, k=n)
        for config in configs:
            start = time.perf_counter()
            launches.clear()
            C = gemm.matmul(A, B, config=config, device=sim)
            took = time.perf_counter() - start
            np.testing.assert_allclose(C, want, rtol=1e-3, atol=1e-2)
            cycles = sum(res.cycles for res in launches)
            main_launch = launches[-1]
            registers = gemm._compile(A, B, C, config or heuristic, sim).registers
            share = n**3 / (16 * 8 * 16) / cycles / per_cycle
            best = max(best, share)
            name = (label(config) if config is not None
                    else f"heuristic {label(heuristic)}")
            print(f"  {n}^3 {name:<30} {cycles:>9,} cycles {share:6.1%} of the HMMA peak; "
                  f"{registers} registers, "
                  f"{main_launch.stats['shared_wavefronts'] / cycles / cfg.num_sms:.2f} "
                  f"shared wavefronts a cycle an SM; host {took:.1f} s")
    # the inner loop alone, 2 CTAs of 4 warps an SM, each warp 4x8 tiles (64x64)
    ctas, iters = 2 * cfg.num_sms, 50
    out = np.zeros((ctas * 128, 4 * 8 * 4), np.float32)
    res = fragment_loop.launch(ctas, 128, np.zeros((32, 4), np.uint32), out, np.int32(iters),
                               MT=4, NT=8, device=sim)
    share = ctas * 4 * 4 * 8 * 2 * iters / res.cycles / per_cycle
    print(f"  the fragment loop alone (no copy, no barrier; 64x64 a warp, 8 warps an SM): "
          f"{res.cycles:,} cycles, {share:.1%} of the HMMA peak")
    print(f"  goal 60%: {'met' if best >= 0.6 else 'NOT met'} (best {best:.1%})")


launches: list = []


def cpu(repeats: int) -> None:
    device = wf.CPU()
    print(f"\nCPU ({device!r}) against numpy.matmul, best of {repeats}:")
    rng = np.random.default_rng(1)
    for m, n, k in ((1024, 1024, 1024), (1023, 1023, 1023), (2048, 2048, 2048),
                    (4096, 64, 4096), (16, 4096, 4096)):
        A = rng.standard_normal((m, k), dtype=np.float32)
        B = rng.standard_normal((k, n), dtype=np.float32)
        C = np.zeros((m, n), np.float32)
        # pick the config on one timing each, then time it and numpy by turns, so that a
        # change in the machine's load (it is shared) falls on both alike
        first = {}
        for cfg in CPU_CONFIGS:
            gemm.matmul(A, B, C, config=cfg, device=device)
            first[cfg] = _time(gemm.matmul, A, B, C, config=cfg, device=device)
        best_cfg = min(first, key=first.get)
        np.matmul(A, B)
        best, theirs = float("inf"), float("inf")
        for _ in range(repeats):
            best = min(best, _time(gemm.matmul, A, B, C, config=best_cfg, device=device))
            theirs = min(theirs, _time(np.matmul, A, B))
        np.testing.assert_allclose(C, A @ B, rtol=1e-3, atol=1e-2)
        flop = 2 * m * n * k
        print(f"  {m}x{n}x{k}: ours {flop / best / 1e9:6.1f} GFLOP/s ({best_cfg}), numpy "
              f"{flop / theirs / 1e9:6.1f} GFLOP/s: {theirs / best:.2f}x numpy")
        if (m, n, k) == (1024, 1024, 1024):
            host_hot_loop(best_cfg, device)


def host_hot_loop(cfg: GemmConfig, device) -> None:
    """The evidence the CPU goal asks for: the host assembly's loop with the most FMAs, its
    instructions by mnemonic, its broadcasts of A's elements, and its stack accesses."""
    A = np.ones((1024, 1024), np.float32)
    ck = gemm._compile(A, A, A.copy(), cfg, device)
    lines = [line.strip() for line in ck.native_asm.splitlines()]
    best: list[str] = []
    for i, line in enumerate(lines):
        head = re.match(r"(\.LBB\w+):", line)
        if not head:
            continue
        body = []
        for later in lines[i + 1:]:
            if re.match(r"\.LBB\w+:", later):
                break
            body.append(later)
            if later.startswith("j") and later.endswith(head.group(1)):
                break  # the back branch
        closes = bool(body) and body[-1].endswith(head.group(1))
        if closes and sum("fmadd" in b for b in body) > sum("fmadd" in b for b in best):
            best = body
    insts = [b for b in best if b and not b.startswith(".")]
    ops = Counter(b.split()[0] for b in insts)
    fma = sum(n for op, n in ops.items() if "fmadd" in op)
    bcast = ops.get("vbroadcastss", 0) + sum("1to" in b for b in insts)
    stack = [b for b in insts if "(%rsp" in b]
    stores = [b for b in stack if re.search(r",\s*-?\d*\(%rsp[^)]*\)$", b)]
    print(f"  host hot loop of {label(cfg)}: {len(insts)} instructions, {fma} FMAs, {bcast} "
          "broadcasts of A's elements; " + ", ".join(f"{op} {n}"
                                                    for op, n in ops.most_common(6)))
    print(f"  its stack operands: {len(stack) - len(stores)} loads (B's tile rows, which "
          f"LLVM hoisted before the loop into stack slots), {len(stores)} stores")


def _time(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--large", action="store_true",
                    help="also the tensor-core template at 4096^3 (minutes)")
    args = ap.parse_args()
    print(describe())
    kernel_hooks.append(launches.append)
    sass_quality()
    if not args.skip_sim:
        simulated()
        tensor_cores(args.large)
    cpu(args.repeats)


if __name__ == "__main__":
    main()
