"""Microbenchmarks written in the DSL, each reproducing a configured or published fact.

Cycle counts are deterministic, so they are asserted. Per-operation costs are measured
differentially (the same kernel with more work, minus the kernel with less), so fixed
launch and loop overheads cancel.
"""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf
from warpforge.simulator.config import PRESETS

TEST = PRESETS["test"]


def sim(**overrides) -> wf.Simulator:
    return wf.Simulator("test", sample=None, **overrides)


@wf.kernel
def ffma_chain(x: wf.f32[:], n: wf.i32, CHAINS: wf.constexpr, UNROLL: wf.constexpr):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    acc = wf.local((CHAINS,), wf.f32)
    for c in wf.static_range(CHAINS):
        acc[c] = x[i] + c
    for _ in range(n):
        for _u in wf.static_range(UNROLL):
            for c in wf.static_range(CHAINS):
                acc[c] = acc[c] * 0.999 + 0.5
    total = acc[0]
    for c in wf.static_range(1, CHAINS):
        total = total + acc[c]
    x[i] = total


def ffma_cycles(unroll: int, chains: int, warps: int = 1, n: int = 16, **kw) -> int:
    x = np.ones(32 * warps, np.float32)
    with wf.device(sim(**kw)):
        return ffma_chain[1, 32 * warps](x, n, CHAINS=chains, UNROLL=unroll).cycles


def per_ffma(chains: int, warps: int = 1) -> float:
    """Cycles per FFMA of one warp: 16 iterations of 16 more FFMAs a chain, over them."""
    extra = ffma_cycles(24, chains, warps) - ffma_cycles(8, chains, warps)
    return extra / (16 * 16 * chains)


def test_dependent_ffma_chain_costs_its_latency():
    # gpu-facts.md: FFMA -> dependent FFMA 4 cycles; the stall counts carry it.
    assert per_ffma(1) == pytest.approx(4.0, abs=0.15)


def test_independent_ffmas_issue_at_the_pipe_rate():
    # 8 independent chains: one warp issues an FFMA every fma_interval cycles.
    assert per_ffma(8) == pytest.approx(TEST.fma_interval, abs=0.15)


def test_latency_bound_throughput_grows_with_warps_until_the_pipe_limit():
    # Dependent chains: each warp issues one FFMA every 4 cycles; its sub-partition's FMA
    # pipe takes one every 2 cycles, so 2 warps a sub-partition (8 an SM) saturate it.
    ipc = {warps: warps / per_ffma(1, warps) for warps in (1, 2, 4, 8, 16)}
    assert ipc[1] == pytest.approx(0.25, rel=0.05)
    assert ipc[2] == pytest.approx(0.5, rel=0.05)
    assert ipc[4] == pytest.approx(1.0, rel=0.05)
    peak = TEST.sub_partitions / TEST.fma_interval
    assert ipc[8] == pytest.approx(peak, rel=0.05)
    assert ipc[16] == pytest.approx(peak, rel=0.05)


@wf.kernel
def chase(nxt: wf.i32[:], out: wf.i32[:], steps: wf.i32):
    j = 0
    for _ in range(steps):
        j = nxt[j]
    out[0] = j


@wf.kernel
def chase_shared(nxt: wf.i32[:], out: wf.i32[:], steps: wf.i32, N: wf.constexpr):
    s = wf.shared((N,), wf.i32)
    for k in range(N):
        s[k] = nxt[k]
    j = 0
    for _ in range(steps):
        j = s[j]
    out[0] = j


CHASE = dict(l1_shared_bytes=16 * 1024, l2_bytes=256 * 1024)
"""A small memory system, so the three plateaus fit a test: L1 512 sectors, L2 8192."""


def chase_ring(sectors: int) -> np.ndarray:
    """Indices visiting one element per 32-byte sector, ``sectors`` of them, in a cycle."""
    nxt = np.zeros(sectors * 8, np.int32)
    nxt[np.arange(sectors) * 8] = ((np.arange(sectors) + 1) % sectors) * 8
    return nxt


def chase_step(sectors: int) -> float:
    """Cycles per dependent load once warm: two laps minus one lap, over a lap."""
    nxt = chase_ring(sectors)
    out = np.zeros(1, np.int32)
    with wf.device(sim(**CHASE)):
        one = chase[1, 1](nxt, out, 2 * sectors).cycles
        two = chase[1, 1](nxt, out, 3 * sectors).cycles
    return (two - one) / sectors


def test_pointer_chase_shows_l1_l2_and_dram_latency_plateaus():
    l1, l2, dram = chase_step(64), chase_step(2048), chase_step(16384)
    loop = 12  # the chase loop's own instructions around the load
    assert TEST.l1_latency <= l1 <= TEST.l1_latency + loop
    assert TEST.l2_latency <= l2 <= TEST.l2_latency + loop
    assert TEST.dram_latency <= dram <= TEST.dram_latency + loop


def test_pointer_chase_through_shared_memory_gives_the_shared_latency():
    n = 256
    nxt = chase_ring(n // 8)
    nxt = (nxt[:n] % n).astype(np.int32)
    out = np.zeros(1, np.int32)
    with wf.device(sim()):
        one = chase_shared[1, 1](nxt, out, 64, N=n).cycles
        two = chase_shared[1, 1](nxt, out, 128, N=n).cycles
    step = (two - one) / 64
    assert TEST.shared_latency <= step <= TEST.shared_latency + 12


@wf.kernel
def shared_stride(out: wf.f32[:], STRIDE: wf.constexpr):
    s = wf.shared((32 * 32,), wf.f32)
    lane = wf.thread_idx.x
    s[lane] = 1.0
    wf.syncthreads()
    out[lane] = s[(lane * STRIDE) % 1024]


@pytest.mark.parametrize("stride", [1, 2, 4, 8, 16, 32, 3, 5, 7, 33])
def test_shared_memory_stride_gives_the_bank_conflict_degree(stride):
    # 32 banks of 4 bytes: stride 2^k puts 2^k lanes on each bank used (up to 32); an odd
    # stride spreads the 32 lanes over all 32 banks.
    out = np.zeros(32, np.float32)
    with wf.device(sim()):
        s = shared_stride[1, 32](out, STRIDE=stride).stats
    expected = min(stride & -stride, 32)
    # one store (conflict-free) and one load
    assert s["shared_requests"] == 2
    assert s["shared_wavefronts"] == 1 + expected
    assert s["bank_conflicts"] == expected - 1


@wf.kernel
def shared_wide(out: wf.f64[:]):
    s = wf.shared((64,), wf.f64)
    lane = wf.thread_idx.x
    s[lane] = 1.0
    wf.syncthreads()
    out[lane] = s[lane]


def test_consecutive_64_bit_shared_accesses_are_two_wavefronts_without_conflicts():
    out = np.zeros(32, np.float64)
    with wf.device(sim()):
        s = shared_wide[1, 32](out).stats
    assert s["shared_wavefronts"] == 4 and s["bank_conflicts"] == 0


@wf.kernel
def strided_load(x: wf.f32[:], out: wf.f32[:], STRIDE: wf.constexpr):
    lane = wf.thread_idx.x
    out[lane] = x[lane * STRIDE]


@pytest.mark.parametrize("stride", [1, 2, 3, 4, 8, 16, 33])
def test_a_warp_loading_at_stride_s_touches_min_4s_32_sectors(stride):
    x = np.zeros(32 * stride + 32, np.float32)
    out = np.zeros(32, np.float32)
    with wf.device(sim()):
        res = strided_load[1, 32](x, out, STRIDE=stride)
    rows = {r["instruction"]: r for r in res.profile.instructions}
    assert rows["LDG.E"]["sectors"] == min(4 * stride, 32)
    assert rows["STG.E"]["sectors"] == 4


@wf.kernel
def copy(x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        y[i] = x[i]


def test_a_streaming_kernel_saturates_the_configured_dram_bandwidth():
    bw = 40e9  # 28 bytes a cycle at 1.41 GHz: far below what 2 SMs' L1s can ask for
    n = 1 << 16
    x = np.arange(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    with wf.device(sim(dram_bytes_per_second=bw)):
        res = copy[n // 256, 256](x, y, n)
    np.testing.assert_array_equal(y, x)
    per_cycle = res.stats["dram_bytes"] / res.cycles
    assert res.stats["dram_bytes"] == 2 * 4 * n
    assert 0.9 <= per_cycle / (bw / TEST.clock_hz) <= 1.0


def test_the_same_launch_gives_the_same_cycles_every_time():
    n = 5000
    x = np.arange(n, dtype=np.float32)
    runs = []
    for _ in range(3):
        y = np.zeros(n, np.float32)
        with wf.device(sim()):
            res = copy[(n + 127) // 128, 128](x, y, n)
        runs.append((res.cycles, res.profile.to_csv(), res.stats["stall_cycles"]))
    assert runs[0] == runs[1] == runs[2]


def straight_ffmas(n: int) -> wf.isa.Program:
    """``n`` independent FFMAs (stall 1, no yield), then EXIT: what the compiler emits
    for independent work, without the loop and yield bits around it."""
    lines = [".kernel probe", ".registers 10"]
    lines += [f"  [B------:R-:W-:-:S01]  FFMA R{1 + k % 8}, R9, R9, R9 ;" for k in range(n)]
    lines.append("  [B------:R-:W-:-:S01]  EXIT ;")
    return wf.isa.assemble("\n".join(lines))


def test_gto_runs_the_oldest_warp_ahead_and_lrr_keeps_warps_together():
    # 8 warps, 2 a sub-partition, 64 FFMAs each at the FMA pipe's rate (one every 2
    # cycles a sub-partition). GTO keeps issuing the older warp of each pair until it is
    # done (at 2 x 64 cycles), then the younger (at 4 x 64); LRR alternates, so both of
    # a pair finish at about 4 x 64 cycles.
    def warp_ends(scheduler: str) -> list[int]:
        res = wf.Simulator("test", sample=None, scheduler=scheduler).launch(
            straight_ffmas(64), 1, 256, [])
        return sorted(end for _, _, _, end in res.timing.events["warps"])

    gto, lrr = warp_ends("gto"), warp_ends("lrr")
    interval = TEST.fma_interval
    assert gto[:4] == [interval * 64 - 1] * 4
    assert all(abs(e - 2 * interval * 64) <= 2 for e in gto[4:])
    assert all(abs(e - 2 * interval * 64) <= 4 for e in lrr)
