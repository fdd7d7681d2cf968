"""The cycle-aware timing model: a second pass over what the functional core computed.

While the functional core runs, a :class:`~.record.Recorder` keeps each timed warp's
instruction stream and what its memory instructions touched. Afterwards
:func:`time_launch` decides where each sector was served (:mod:`.caches`), replays the
streams through every timed SM's schedulers, pipes and memory queues (:mod:`.engine`), and
returns a :class:`Timing`: cycles, occupancy, counters and the per-instruction profile.

Sampling: with ``sample="auto"``, a grid that keeps more than ``ArchConfig.sample_sms``
SMs busy is timed on that many SMs only (spread over the device, SM 0 among them: it gets
the most CTAs); CTA ``c`` runs on SM ``c mod num_sms`` as in the round-robin placement, and
DRAM and L2 bandwidth are scaled to the sampled share of SMs. Cycles are those of the
sampled SMs; counters are scaled from the timed CTAs to the whole grid. L2 sees every
CTA's accesses even then (:class:`~.caches.L2Tracker`), so the sampled CTAs find what the
others brought in.
``sample=None`` times every CTA, placing each new CTA on the SM that frees a slot first.
"""

from __future__ import annotations

import numpy as np

from ...isa.program import Program
from ..config import ArchConfig
from ..launch import occupancy_limits
from .caches import L2Tracker
from .engine import REASONS, Engine
from .profile import Timing, build_timing
from .record import Recorder
from .streams import build
from .tables import Tables

SCHEDULERS = ("gto", "lrr")
"""Warp scheduling policies: greedy-then-oldest and loose round robin."""
TIMING_MODEL_VERSION = 2
"""Changes whenever the model can give different cycles for the same launch (autotuning
caches key on it)."""

__all__ = ["REASONS", "SCHEDULERS", "TIMING_MODEL_VERSION", "Timing", "plan", "time_launch"]


def plan(total: int, cfg: ArchConfig, sample: str | None) -> tuple[list[int], bool]:
    """(The SMs to time, whether they are a sample) for a grid of ``total`` CTAs."""
    busy = min(cfg.num_sms, total)
    if sample == "auto" and busy > cfg.sample_sms:
        k = cfg.sample_sms
        return sorted({i * cfg.num_sms // k for i in range(k)}), True
    return list(range(busy)), False


def recorder_for(block_threads: int, sms: list[int], sampled: bool, cfg: ArchConfig
                 ) -> Recorder:
    """A recorder that keeps the CTAs of ``sms`` (all CTAs when not sampled); a sampled
    one follows every CTA's global accesses through an :class:`~.caches.L2Tracker`."""
    l2 = None
    if sampled:
        l2 = L2Tracker(cfg.l2_bytes // cfg.sector_bytes, cfg.sector_bytes)
        chosen = np.zeros(cfg.num_sms, bool)
        chosen[sms] = True

        def timed(first: int, count: int) -> np.ndarray:
            return chosen[(first + np.arange(count)) % cfg.num_sms]
    else:
        def timed(first: int, count: int) -> np.ndarray:
            return np.ones(count, bool)
    return Recorder(block_threads, timed, cfg.sector_bytes, l2, cfg.num_sms)


def time_launch(program: Program, rec: Recorder, cfg: ArchConfig, per_sm: int, total: int,
                sms: list[int], sampled: bool, scheduler: str, instructions: int
                ) -> Timing:
    """Time a recorded launch of ``total`` CTAs, ``per_sm`` resident per SM."""
    share = len(sms) / cfg.num_sms if sampled else 1.0
    shared = per_sm * program.shared_bytes
    streams = build(rec, cfg, shared, share)
    tables = Tables.of(program, cfg)
    engine = Engine(tables, streams, cfg, sms, per_sm, sampled, scheduler, share)
    out = engine.run()
    limits = occupancy_limits(program, rec.block_threads, cfg)
    return build_timing(program, cfg, tables, streams, engine, out, limits, per_sm,
                        total, sampled, len(sms), instructions)
