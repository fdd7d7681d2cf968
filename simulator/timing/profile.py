"""What a timed launch reports: :class:`Timing` (cycles, occupancy, counters) and
:class:`Profile` (rows per instruction and per source line).

Counters in ``Timing.stats`` (scaled from the timed CTAs to the whole grid when sampled):

* ``pipe_instructions``: warp-instructions issued per pipe (fma, alu, fp16, fp64, sfu, lsu,
  cbu, tensor);
* ``stall_cycles``: warp-cycles per reason (:data:`~.engine.REASONS`), summed over warps;
* ``global_requests`` / ``global_sectors`` / ``sectors_per_request``: global and local
  memory warp-instructions, the 32-byte sectors they touched, and the ratio (4 for a
  warp reading consecutive floats, 32 for a fully scattered one);
* ``l1_hit_rate``, ``l2_hit_rate``: sector hit rates (L1: loads; L2: what reached it);
* ``l2_bytes``, ``dram_read_bytes``, ``dram_write_bytes``, ``dram_bytes``;
* ``shared_requests``, ``shared_wavefronts``, ``bank_conflicts`` (wavefronts beyond the
  fewest a request could take: one, or two for 64-bit and four for 128-bit accesses);
* ``achieved_occupancy``, ``theoretical_occupancy`` (fractions of the SM's warp slots).
"""

from __future__ import annotations

import csv
import io
import linecache
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...isa.program import Program
from ..config import ArchConfig
from .engine import REASONS
from .record import ATOMIC_G, ATOMIC_S, GLOBAL, LOCAL, SHARED
from .tables import PIPE_NAMES

LIMITER_ORDER = ("warps", "registers", "shared", "ctas")
"""Which resource is named the limiter when several allow the same CTAs an SM."""


class Profile:
    """Rows per instruction (``instructions``) and per source line (``lines``), each a
    dict: executions (warp-level), cycles by reason, sectors and bank conflicts. The rows
    are made when first asked for (most launches never are)."""

    def __init__(self, instructions: list[dict] | None = None,
                 lines: list[dict] | None = None,
                 make: Callable[[], tuple[list[dict], list[dict]]] | None = None) -> None:
        self._rows = None if make is not None else (instructions or [], lines or [])
        self._make = make

    def _get(self) -> tuple[list[dict], list[dict]]:
        if self._rows is None:
            self._rows = self._make()
            self._make = None
        return self._rows

    @property
    def instructions(self) -> list[dict]:
        """One row per PC."""
        return self._get()[0]

    @property
    def lines(self) -> list[dict]:
        """One row per source line, by file and line."""
        return self._get()[1]

    def to_csv(self, which: str = "instructions") -> str:
        """The rows of ``which`` ("instructions" or "lines") as CSV text."""
        rows = getattr(self, which)
        if not rows:
            return ""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


@dataclass
class Timing:
    """The timing model's answer for one launch."""

    cycles: int
    sim_seconds: float
    ipc: float
    occupancy: dict
    stats: dict
    profile: Profile
    sampled: bool
    timed_sms: int
    events: dict
    """For traces: ``ctas`` (CTA id, SM, start, end) and ``warps`` (CTA id, warp, start of
    residency, last issue)."""


def build_timing(program: Program, cfg: ArchConfig, tables, streams, engine, out: dict,
                 limits: dict, per_sm: int, total: int, sampled: bool, n_sms: int,
                 instructions: int) -> Timing:
    """Assemble the :class:`Timing` of a launch from the engine's output."""
    cycles = int(out["cycles"])
    timed = max(int(streams.cta_ids.size), 1)
    scale = total / timed
    n_pc = tables.n - 1
    reasons = {r: out["pc_reasons"][i, :n_pc] for i, r in enumerate(REASONS)}
    executions = reasons["issued"]  # one "issued" cycle per warp-instruction
    c = streams.counters
    has_mem = streams.mem >= 0
    mem_pc = np.zeros(streams.latency.size, np.int64)
    mem_pc[streams.mem[has_mem]] = streams.pc[has_mem]
    kind = c["kind"] // 2
    store = (c["kind"] % 2).astype(bool)
    glob = (kind == GLOBAL) | (kind == LOCAL) | (kind == ATOMIC_G)
    shared = (kind == SHARED) | (kind == ATOMIC_S)
    sectors_pc = np.bincount(mem_pc, weights=c["sectors"], minlength=n_pc)[:n_pc]
    ideal = np.where(kind == SHARED, c["serial"], 1)
    conflicts = np.where(shared, np.maximum(c["wavefronts"] - ideal, 0), 0)
    conflicts_pc = np.bincount(mem_pc, weights=conflicts, minlength=n_pc)[:n_pc]
    wpc = streams.warp_start.shape[1] if streams.warp_start.size else 1
    theoretical = per_sm * wpc / cfg.max_warps_per_sm
    achieved = out["occupancy_integral"] / max(cycles * n_sms * cfg.max_warps_per_sm, 1)
    limiter = min(limits, key=lambda k: (limits[k], LIMITER_ORDER.index(k)))
    occupancy = {"achieved": achieved, "theoretical": theoretical, "limiter": limiter,
                 "ctas_per_sm": per_sm, "warps_per_sm": per_sm * wpc, "limits": limits}
    g_req = int(np.count_nonzero(glob))
    g_sec = int(c["sectors"][glob].sum())
    l1_candidates = glob & ~store & (kind != ATOMIC_G)
    l1_sec = int(c["sectors"][l1_candidates].sum())
    l2_seen = int((c["sectors"] - c["l1_hits"])[glob].sum())
    sh_req = int(np.count_nonzero(shared))
    sh_wf = int(c["wavefronts"][shared].sum())

    def scaled(v: float) -> float:
        return float(v) * scale

    stats = {
        "pipe_instructions": {name: round(scaled(
            executions[tables.pipe[:n_pc] == i].sum())) for i, name in enumerate(PIPE_NAMES)},
        "stall_cycles": {r: round(scaled(v.sum())) for r, v in reasons.items()},
        "global_requests": round(scaled(g_req)),
        "global_sectors": round(scaled(g_sec)),
        "sectors_per_request": g_sec / g_req if g_req else 0.0,
        "l1_hit_rate": float(c["l1_hits"][l1_candidates].sum()) / l1_sec if l1_sec else 0.0,
        "l2_hit_rate": float(c["l2_hits"][glob].sum()) / l2_seen if l2_seen else 0.0,
        "l2_bytes": round(scaled(streams.l2_bytes.sum())),
        "dram_read_bytes": round(scaled(c["dram_reads"].sum() * cfg.sector_bytes)),
        "dram_write_bytes": round(scaled(c["dram_writes"].sum() * cfg.sector_bytes)),
        "shared_requests": round(scaled(sh_req)),
        "shared_wavefronts": round(scaled(sh_wf)),
        "bank_conflicts": round(scaled(conflicts.sum())),
        "achieved_occupancy": achieved,
        "theoretical_occupancy": theoretical,
    }
    stats["dram_bytes"] = stats["dram_read_bytes"] + stats["dram_write_bytes"]
    profile = Profile(make=lambda: _profile(program, executions, reasons, sectors_pc,
                                            conflicts_pc, scale))
    span = out["warp_span"]
    ran = (streams.warp_end > streams.warp_start).ravel()
    warps = list(zip(np.repeat(streams.cta_ids, wpc)[ran].tolist(),
                     np.tile(np.arange(wpc), streams.cta_ids.size)[ran].tolist(),
                     span[0, ran].tolist(), span[1, ran].tolist(), strict=True))
    events = {"ctas": [(int(streams.cta_ids[c_]), sm, s, e)
                       for c_, sm, s, e in engine.cta_events], "warps": warps}
    return Timing(cycles=cycles, sim_seconds=cycles / cfg.clock_hz,
                  ipc=instructions / cycles if cycles else 0.0, occupancy=occupancy,
                  stats=stats, profile=profile, sampled=sampled, timed_sms=n_sms,
                  events=events)


def _profile(program: Program, executions, reasons, sectors, conflicts, scale
             ) -> tuple[list[dict], list[dict]]:
    rows = []
    by_line: dict[tuple, dict] = {}
    for pc, inst in enumerate(program.instructions):
        loc = inst.loc
        row = {"pc": pc, "offset": f"{pc * 16:04x}",
               "instruction": inst.mnemonic,
               "file": loc.file if loc else "", "line": loc.line if loc else 0,
               "executions": round(executions[pc] * scale)}
        total = 0
        for r in REASONS:
            v = round(reasons[r][pc] * scale)
            row[r] = v
            total += v
        row["cycles"] = total
        row["sectors"] = round(sectors[pc] * scale)
        row["bank_conflicts"] = round(conflicts[pc] * scale)
        rows.append(row)
        key = (row["file"], row["line"])
        agg = by_line.setdefault(key, {"file": key[0], "line": key[1], "instructions": 0,
                                       "executions": 0, "cycles": 0,
                                       **{r: 0 for r in REASONS}, "sectors": 0,
                                       "bank_conflicts": 0})
        agg["instructions"] += 1
        for k in ("executions", "cycles", *REASONS, "sectors", "bank_conflicts"):
            agg[k] += row[k]
    lines = sorted(by_line.values(), key=lambda d: (d["file"], d["line"]))
    for d in lines:
        d["source"] = linecache.getline(d["file"], d["line"]).rstrip() if d["file"] else ""
    return rows, lines
