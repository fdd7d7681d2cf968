"""What a timed launch gives the user (LaunchResult fields, report, trace, roofline), the
occupancy calculator, sampling, the scheduling pass seen in cycles, and bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import warpforge as wf
from warpforge.compiler.sass import emit
from warpforge.simulator.config import PRESETS, ArchConfig
from warpforge.simulator.launch import occupancy_limits
from warpforge.simulator.timing import REASONS
from warpforge.simulator.timing.profile import LIMITER_ORDER

AMPERE = PRESETS["ampere"]


@wf.kernel
def saxpy(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        y[i] = a * x[i] + y[i]


def run_saxpy(device, n: int = 3000, block: int = 128):
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)
    with wf.device(device):
        res = saxpy[(n + block - 1) // block, block](2.0, x, y, n)
    np.testing.assert_allclose(y, 2 * x + 1)
    return res


def test_a_timed_launch_reports_cycles_ipc_occupancy_and_counters():
    res = run_saxpy(wf.Simulator("test"))
    assert isinstance(res.cycles, int) and res.cycles > 0
    assert res.sim_seconds == pytest.approx(res.cycles / PRESETS["test"].clock_hz)
    assert res.ipc == pytest.approx(res.stats["instructions"] / res.cycles)
    occ = res.occupancy
    assert occ["theoretical"] == 1.0 and 0 < occ["achieved"] <= 1.0
    assert occ["limiter"] == "warps" and occ["ctas_per_sm"] == 16
    s = res.stats
    # 3000 floats: x and y read once, y written once; 4 sectors a full warp's request
    # x and y are read from DRAM once (12,000 bytes each, in whole sectors), y written once
    assert s["dram_read_bytes"] == 2 * 12000 and s["dram_write_bytes"] == 12000
    assert s["global_requests"] == 3 * -(-3000 // 32)
    assert s["sectors_per_request"] <= 4.0
    assert set(s["stall_cycles"]) == set(REASONS)
    assert s["stall_cycles"]["issued"] == s["instructions"]
    assert sum(s["pipe_instructions"].values()) == s["instructions"]


def test_stall_cycles_add_up_to_each_warps_lifetime():
    res = run_saxpy(wf.Simulator("test"))
    per_warp = sum(end - start + 1 for _, _, start, end in res.timing.events["warps"])
    assert sum(res.stats["stall_cycles"].values()) == per_warp


def test_the_profile_has_rows_per_instruction_and_per_source_line():
    res = run_saxpy(wf.Simulator("test"))
    rows = res.profile.instructions
    assert sum(r["executions"] for r in rows) == res.stats["instructions"]
    lines = {r["line"]: r for r in res.profile.lines}
    body = next(r for r in res.profile.lines if "y[i] = a * x[i] + y[i]" in r["source"])
    assert body["sectors"] == res.stats["global_sectors"]
    assert body["long_scoreboard"] > 0
    assert sum(r["cycles"] for r in lines.values()) == sum(r["cycles"] for r in rows)
    assert res.profile.to_csv("lines").startswith("file,line,instructions,executions")


def test_the_report_has_nsight_like_sections_and_the_source_view():
    text = run_saxpy(wf.Simulator("test")).report()
    for section in ("GPU speed of light", "launch statistics", "occupancy", "warp state",
                    "memory workload", "source"):
        assert f"Section: {section}" in text
    assert "y[i] = a * x[i] + y[i]" in text and "long_scoreboard" in text


def test_functional_only_leaves_the_timing_fields_empty():
    res = run_saxpy(wf.Simulator("test", timing=False))
    assert res.cycles is None and res.profile is None and res.ipc is None
    assert "cycles" not in res.report()


def test_a_trace_holds_every_timed_cta_and_warp(tmp_path):
    res = run_saxpy(wf.Simulator("test"), n=1000)
    path = tmp_path / "t.json"
    res.save_trace(path)
    events = json.loads(path.read_text())["traceEvents"]
    ctas = [e for e in events if e.get("cat") == "cta"]
    warps = [e for e in events if e.get("cat") == "warp"]
    assert len(ctas) == 8 and len(warps) == 8 * 4
    assert max(e["ts"] + e["dur"] for e in ctas) <= res.cycles + 1


def test_an_unwritable_trace_path_is_an_oserror_after_the_results_are_in(tmp_path):
    n = 1000
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)
    with wf.device(wf.Simulator("test")):
        res = saxpy[(n + 127) // 128, 128](2.0, x, y, n)
    np.testing.assert_allclose(y, 2 * x + 1)
    with pytest.raises(OSError):
        res.save_trace(tmp_path / "missing" / "t.json")
    assert not (tmp_path / "missing").exists()


def test_the_roofline_is_a_png(tmp_path):
    import matplotlib  # noqa: F401  (the plot extra, which the test extra installs)
    res = run_saxpy(wf.Simulator("test"))
    path = tmp_path / "r.png"
    res.roofline(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- occupancy ---------------------------------------------------------------------------

PROGRAM = wf.isa.assemble(".kernel k\n  EXIT ;")


@pytest.mark.parametrize("threads,registers,shared,ctas,limiter", [
    # The CUDA occupancy calculator's rules for compute capability 8.0: registers per warp
    # rounded up to 256, shared memory per CTA plus 1 KiB reserved rounded up to 128 bytes.
    (256, 32, 0, 8, "warps"),          # 100%
    (256, 64, 0, 4, "registers"),      # 2048 registers a warp: 32 warps, 50%
    (128, 40, 0, 12, "registers"),     # 1280 a warp: 51 warps, 12 CTAs, 75%
    (128, 33, 0, 12, "registers"),     # 1056 rounds up to 1280: still 75%
    (128, 0, 48 * 1024, 3, "shared"),  # 49 KiB a CTA of 164 KiB: 18.75%
    (1024, 64, 0, 1, "registers"),     # 64 K registers: one CTA
])
def test_theoretical_occupancy_follows_the_occupancy_calculator(threads, registers, shared,
                                                                ctas, limiter):
    prog = dataclasses.replace(PROGRAM, registers=registers, shared_bytes=shared)
    limits = occupancy_limits(prog, threads, AMPERE)
    assert min(limits.values()) == ctas
    assert min(limits, key=lambda k: (limits[k], LIMITER_ORDER.index(k))) == limiter


def test_a_launchs_occupancy_names_its_limiter():
    @wf.kernel
    def smem_hog(out: wf.f32[:]):
        s = wf.shared((12 * 1024,), wf.f32)  # 48 KiB
        t = wf.thread_idx.x
        s[t] = 1.0
        wf.syncthreads()
        out[t] = s[127 - t]

    out = np.zeros(128, np.float32)
    with wf.device(wf.Simulator("test")):
        res = smem_hog[1, 128](out)
    assert res.occupancy["limiter"] == "shared" and res.occupancy["ctas_per_sm"] == 3
    assert res.occupancy["theoretical"] == pytest.approx(12 / 64)


# --- sampling ----------------------------------------------------------------------------

def test_sampling_a_multi_wave_grid_is_within_two_percent_of_full_detail():
    cfg = dict(num_sms=16, sample_sms=4)
    n = 16 * 16 * 8 * 128  # 2,048 CTAs of 128 threads: 8 waves of 16 a SM on 16 SMs
    full = run_saxpy(wf.Simulator(sample=None, **cfg), n=n)
    sampled = run_saxpy(wf.Simulator(sample="auto", **cfg), n=n)
    assert sampled.timing.sampled and sampled.timing.timed_sms == 4
    assert not full.timing.sampled and full.timing.timed_sms == 16
    assert sampled.stats["instructions"] == full.stats["instructions"]
    assert abs(sampled.cycles - full.cycles) <= 0.02 * full.cycles
    assert abs(sampled.stats["dram_bytes"] - full.stats["dram_bytes"]) \
        <= 0.02 * full.stats["dram_bytes"]


@wf.kernel
def tile_sum(a: wf.f32[:, :], out: wf.f32[:, :], n: wf.i32):
    """Each 16x16 CTA sums its row of A's tiles: the CTAs of a row share every sector."""
    t = wf.shared((16, 16), wf.f32)
    r = wf.block_idx.y * 16 + wf.thread_idx.y
    c = wf.block_idx.x * 16 + wf.thread_idx.x
    acc = 0.0
    for k in range(0, n, 16):
        t[wf.thread_idx.y, wf.thread_idx.x] = a[r, k + wf.thread_idx.x]
        wf.syncthreads()
        acc += t[wf.thread_idx.y, (wf.thread_idx.x + 1) % 16]
        wf.syncthreads()
    out[r, c] = acc


def test_a_sample_takes_its_share_of_l2_misses_on_shared_data():
    """CTAs of one row of the grid read the same sectors in the same step. Whichever of
    them brings a sector into L2 takes the miss; the sampled SMs must take their share,
    not the lowest CTA's (which would double the sampled DRAM traffic here)."""
    cfg = dict(num_sms=16, sample_sms=4)
    n = 256
    a = np.random.default_rng(3).standard_normal((n, n)).astype(np.float32)
    results = []
    for sample in (None, "auto"):
        out = np.zeros((n, n), np.float32)
        with wf.device(wf.Simulator(sample=sample, **cfg)):
            results.append(tile_sum[(n // 16, n // 16), (16, 16)](a, out, n))
        per_lane = a.reshape(n, n // 16, 16).sum(axis=1)  # [row, column within a tile]
        np.testing.assert_allclose(out, per_lane[:, (np.arange(n) % 16 + 1) % 16],
                                   rtol=1e-4, atol=1e-4)
    full, sampled = results
    assert sampled.timing.sampled and not full.timing.sampled
    assert full.stats["dram_read_bytes"] == n * n * 4  # A once
    assert abs(sampled.stats["dram_read_bytes"] - full.stats["dram_read_bytes"]) \
        <= 0.05 * full.stats["dram_read_bytes"]
    assert abs(sampled.stats["l2_hit_rate"] - full.stats["l2_hit_rate"]) <= 0.02


# --- the compiler's scheduling pass ------------------------------------------------------

def test_the_scheduling_pass_lowers_cycles(monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE", "0")

    def three_loads():
        @wf.kernel
        def k(x: wf.f32[:], y: wf.f32[:], z: wf.f32[:], out: wf.f32[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            s = x[i] * 2.0
            s = wf.sqrt(s * s + 1.0) + y[i] * 3.0
            s = wf.sqrt(s * s + 1.0) + z[i] * 4.0
            out[i] = s
        return k

    args = [np.linspace(1, 2, 256, dtype=np.float32) for _ in range(3)]

    def cycles() -> int:
        out = np.zeros(256, np.float32)
        with wf.device(wf.Simulator("test")):
            res = three_loads()[2, 128](*args, out)
        return res.cycles, out

    scheduled, out1 = cycles()
    monkeypatch.setattr(emit, "schedule", lambda code, *limit: list(code))
    unscheduled, out2 = cycles()
    np.testing.assert_array_equal(out1, out2)
    assert scheduled < 0.9 * unscheduled


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [("l2_latency", -5), ("num_sms", 0),
                                         ("fma_interval", 0), ("dram_bytes_per_second", 0),
                                         ("cta_launch_cycles", -1)])
def test_nonsense_config_overrides_are_errors_naming_the_field(field, value):
    with pytest.raises(wf.LaunchError, match=field):
        wf.Simulator(**{field: value})


def test_an_unknown_scheduler_or_sample_is_an_error_naming_it():
    with pytest.raises(wf.LaunchError, match=r"scheduler.*'gto', 'lrr'"):
        wf.Simulator(scheduler="fifo")
    with pytest.raises(wf.LaunchError, match="sample"):
        wf.Simulator(sample="some")
    with pytest.raises(TypeError):
        ArchConfig(bogus=1)
