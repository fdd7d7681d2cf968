"""A timed launch as text (Nsight Compute's sections), as a Perfetto trace, as a roofline.

:func:`report` prints: speed of light (SM issue and memory throughput as % of the
configured peaks), launch statistics, occupancy, warp state (where the warps' cycles went,
per issued instruction), memory workload, and a source view (each Python line of the
kernel with its instructions, cycles and top stall reasons).
"""

from __future__ import annotations

import json
import os

from .engine import REASONS

SOURCE_LINES = 12
"""Lines the source view shows (the costliest, in source order)."""


def _pct(x: float) -> str:
    return f"{100 * x:6.1f} %"


def peaks(cfg) -> dict:
    """Per-cycle peaks of the configured device: warp-instructions issued, FP32 FLOP,
    DRAM bytes."""
    lanes = 32 // cfg.fma_interval * cfg.sub_partitions
    return {"issue": cfg.num_sms * cfg.sub_partitions,
            "flop": cfg.num_sms * lanes * 2,
            "dram": cfg.dram_bytes_per_second / cfg.clock_hz}


def report(res) -> str:
    """The text report of a timed :class:`~..launch.LaunchResult`."""
    tm = res.timing
    s = res.stats
    cfg = res.device.config
    pk = peaks(cfg)
    cyc = max(tm.cycles, 1)
    inst = s.get("instructions", 0)
    fp32 = s["pipe_instructions"]["fma"]
    sm_tp = inst / (cyc * pk["issue"])
    mem_tp = s["dram_bytes"] / (cyc * pk["dram"])
    how = f"sampled: {tm.timed_sms} SMs timed" if tm.sampled else "every CTA timed"
    out = [f"kernel {res.kernel or '?'} on {res.device}  ({how})"]
    out.append("Section: GPU speed of light")
    out.append(f"  cycles                 {tm.cycles:>14,}")
    out.append(f"  duration               {tm.sim_seconds * 1e6:>14,.2f} us "
               f"(at {cfg.clock_hz / 1e9:g} GHz)")
    out.append(f"  SM issue throughput    {_pct(sm_tp):>16}  (IPC {tm.ipc:.2f} of "
               f"{pk['issue']})")
    fp32_busy = fp32 * cfg.fma_interval / (cyc * pk["issue"])
    out.append(f"  FP32 pipe              {_pct(fp32_busy):>16}")
    out.append(f"  DRAM throughput        {_pct(mem_tp):>16}  "
               f"({s['dram_bytes'] / tm.sim_seconds / 1e9 if tm.sim_seconds else 0:,.1f} GB/s)")
    out.append("Section: launch statistics")
    out.append(f"  grid {s['grid']}  block {s['block']}  {s['ctas']:,} CTAs  "
               f"{s['threads']:,} threads  {s['waves']} functional waves")
    out.append(f"  registers/thread {s['registers']}  shared bytes/CTA {s['shared_bytes']}")
    out.append(f"  warp instructions {inst:,}  thread instructions "
               f"{s.get('thread_instructions', 0):,}")
    occ = tm.occupancy
    out.append("Section: occupancy")
    out.append(f"  theoretical {_pct(occ['theoretical'])}  achieved {_pct(occ['achieved'])}  "
               f"({occ['ctas_per_sm']} CTAs, {occ['warps_per_sm']} warps an SM; "
               f"limited by {occ['limiter']})")
    out.append("  CTAs an SM by resource: " + ", ".join(
        f"{k} {v}" for k, v in occ["limits"].items()))
    out.append("Section: warp state (cycles per issued warp-instruction)")
    stalls = s["stall_cycles"]
    issued = max(stalls.get("issued", 0), 1)
    for r in REASONS:
        if stalls[r]:
            out.append(f"  {r:<20} {stalls[r] / issued:>8.2f}")
    out.append("Section: memory workload")
    out.append(f"  global requests {s['global_requests']:,}  sectors {s['global_sectors']:,}"
               f"  ({s['sectors_per_request']:.2f} a request)")
    out.append(f"  L1 hit {_pct(s['l1_hit_rate'])}  L2 hit {_pct(s['l2_hit_rate'])}  "
               f"L2 {s['l2_bytes']:,} B  DRAM read {s['dram_read_bytes']:,} B  "
               f"write {s['dram_write_bytes']:,} B")
    out.append(f"  shared requests {s['shared_requests']:,}  wavefronts "
               f"{s['shared_wavefronts']:,}  bank conflicts {s['bank_conflicts']:,}")
    out.extend(_source_view(tm.profile.lines))
    return "\n".join(out)


def _source_view(lines: list[dict]) -> list[str]:
    rows = [d for d in lines if d["line"]]
    if not rows:
        return []
    total = max(sum(d["cycles"] for d in rows), 1)
    keep = sorted(sorted(rows, key=lambda d: -d["cycles"])[:SOURCE_LINES],
                  key=lambda d: (d["file"], d["line"]))
    out = ["Section: source (warp-cycles spent on each line, top stall reasons)",
           "   line  instr   executions   cycles  share  top stalls          source"]
    for d in keep:
        top = sorted(((d[r], r) for r in REASONS[1:] if d[r]), reverse=True)[:2]
        why = ", ".join(f"{r}" for _, r in top) or "-"
        out.append(f"  {d['line']:>5}  {d['instructions']:>5}  {d['executions']:>11,}  "
                   f"{d['cycles']:>7,}  {d['cycles'] / total:>5.0%}  {why:<20} "
                   f"{d['source'].strip()[:60]}")
    return out


def save_trace(res, path) -> None:
    """A Chrome trace (``chrome://tracing``, ui.perfetto.dev) of the timed CTAs and warps:
    one process per SM, one track per CTA and per warp, time in cycles (shown as us)."""
    tm = res.timing
    if tm is None:
        raise ValueError("save_trace needs a launch on the timed simulator")
    events = [{"name": "process_name", "ph": "M", "pid": sm, "args": {"name": f"SM {sm}"}}
              for sm in sorted({e[1] for e in tm.events["ctas"]})]
    cta_sm = {}
    for cta, sm, start, end in tm.events["ctas"]:
        cta_sm[cta] = sm
        events.append({"name": f"CTA {cta}", "cat": "cta", "ph": "X", "pid": sm,
                       "tid": 0, "ts": start, "dur": max(end - start, 1)})
    for cta, w, start, end in tm.events["warps"]:
        sm = cta_sm.get(cta, 0)
        events.append({"name": f"CTA {cta} warp {w}", "cat": "warp", "ph": "X", "pid": sm,
                       "tid": 1 + w, "ts": start, "dur": max(end - start + 1, 1)})
    data = json.dumps({"traceEvents": events, "displayTimeUnit": "ns",
                       "otherData": {"kernel": res.kernel, "unit": "cycles"}})
    _write_atomic(path, data.encode())


def _write_atomic(path, data: bytes) -> None:
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def roofline(res, path) -> None:
    """Plot the launch on the configured device's roofline (FP32 FLOP per DRAM byte)."""
    tm = res.timing
    if tm is None:
        raise ValueError("roofline needs a launch on the timed simulator")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("roofline needs matplotlib: pip install 'warpforge[plot]'"
                          ) from err
    cfg = res.device.config
    pk = peaks(cfg)
    s = res.stats
    flop = 2 * 32 * s["pipe_instructions"]["fma"]  # FFMA counted as 2 FLOP a lane
    cyc = max(tm.cycles, 1)
    intensity = flop / max(s["dram_bytes"], 1)
    perf = flop / cyc * cfg.clock_hz / 1e9
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [2 ** (i / 4) for i in range(-24, 48)]
    roof = [min(pk["flop"], x * pk["dram"]) * cfg.clock_hz / 1e9 for x in xs]
    ax.loglog(xs, roof, label=f"{cfg.name} roofline")
    ax.loglog([intensity], [max(perf, 1e-6)], "o", label=res.kernel or "kernel")
    ax.set_xlabel("FP32 FLOP per DRAM byte")
    ax.set_ylabel("GFLOP/s")
    ax.legend()
    fig.tight_layout()
    try:
        import io
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    _write_atomic(path, buf.getvalue())
