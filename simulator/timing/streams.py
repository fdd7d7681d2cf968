"""The recorded waves turned into what the cycle engine replays.

Each timed warp gets its *stream*: the PCs it issued, in order, as a slice of one flat
array, and for each memory instruction in it an index into the memory tables (sectors,
where they were served, wavefronts, serialization, and the resulting latency and L1/shared
pipe occupancy). CTAs are listed by id with the slices of their warps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ArchConfig
from . import caches
from .record import ATOMIC_G, ATOMIC_S, SHARED, Recorder


@dataclass
class Streams:
    """Flat per-warp instruction streams of the timed CTAs and their memory facts."""

    pc: np.ndarray
    """PC of every recorded warp-instruction, warp by warp."""
    mem: np.ndarray
    """Index into the memory tables, or -1."""
    cta_ids: np.ndarray
    """Timed CTAs (linear ids), ascending."""
    warp_start: np.ndarray
    """[CTA, warp] start of each warp's stream in ``pc``."""
    warp_end: np.ndarray
    """[CTA, warp] end."""
    latency: np.ndarray
    """Per memory instruction: cycles from leaving the L1/shared pipe to the result."""
    occupancy: np.ndarray
    """Per memory instruction: cycles it holds the SM's L1/shared pipe."""
    l2_bytes: np.ndarray
    """Per memory instruction: bytes moved between L1 and L2."""
    dram_bytes: np.ndarray
    """Per memory instruction: bytes moved to or from DRAM."""
    counters: dict
    """Per memory instruction arrays for the profile: ``kind`` (record kind * 2 + store),
    ``sectors``, ``l1_hits``, ``l2_hits``, ``dram_reads``, ``dram_writes``,
    ``wavefronts``, ``serial`` (global atomics: the busiest address's count; shared
    accesses: the fewest wavefronts they could take)."""


def build(rec: Recorder, cfg: ArchConfig, shared_bytes_per_sm: int,
          l2_share: float) -> Streams:
    """Assemble :class:`Streams` from the recorder; L2 capacity is scaled by ``l2_share``
    (the fraction of SMs timed) so that a sample sees its share of the cache."""
    wpc = rec.warps_per_cta
    pcs, mems, ctas, starts, ends = [], [], [], [], []
    acc = {"sector": [], "owner": [], "sm": [], "load": [], "atomic": [], "l2hit": [],
           "l2dirty": []}
    info = {"kind": [], "count": [], "serial": []}
    base = 0
    n_mem = 0
    for wave in rec.waves:
        pc = np.asarray(wave.pcs, np.int32)
        S = pc.size
        if S == 0:
            continue
        bounds = [*list(wave.set_at), S]
        step_parts, warp_parts = [], []
        for i, warps in enumerate(wave.sets):
            lo, hi = bounds[i], bounds[i + 1]
            if hi <= lo or warps.size == 0:
                continue
            step_parts.append(np.repeat(np.arange(lo, hi, dtype=np.int64), warps.size))
            warp_parts.append(np.tile(warps.astype(np.int64), hi - lo))
        if not step_parts:
            continue
        pair_step = np.concatenate(step_parts)
        pair_warp = np.concatenate(warp_parts)
        W = wave.timed.size
        pair_key = pair_step * W + pair_warp
        pair_mem = np.full(pair_key.size, -1, np.int64)
        if wave.mem:
            n_mem = _memory_records(wave, W, pair_key, pair_mem, n_mem, info, acc,
                                    rec.l2 is not None, wpc, cfg.num_sms)
        order = np.argsort(pair_warp, kind="stable")
        per_warp = np.bincount(pair_warp, minlength=W)
        first = np.concatenate([[0], np.cumsum(per_warp)[:-1]]) + base
        pcs.append(pc[pair_step[order]])
        mems.append(pair_mem[order])
        slots = np.flatnonzero(wave.timed.reshape(-1, wpc).any(axis=1))
        for slot in slots:
            ws = slice(slot * wpc, (slot + 1) * wpc)
            ctas.append(wave.first_cta + slot)
            starts.append(first[ws])
            ends.append(first[ws] + per_warp[ws])
        base += pair_warp.size
    def cat(parts, dt):
        return (np.concatenate(parts).astype(dt) if parts
               else np.zeros(0, dt))
    kind = cat(info["kind"], np.int64)
    count = cat(info["count"], np.int64)
    serial = cat(info["serial"], np.int64)
    l1_sectors = max((cfg.l1_shared_bytes - shared_bytes_per_sm) // cfg.sector_bytes, 0)
    l2_sectors = max(int(cfg.l2_bytes * l2_share) // cfg.sector_bytes, 1)
    served = caches.serve(cat(acc["sector"], np.int64), cat(acc["owner"], np.int64),
                          cat(acc["sm"], np.int64), cat(acc["load"], bool),
                          cat(acc["atomic"], bool), n_mem, l1_sectors, l2_sectors,
                          (cat(acc["l2hit"], bool), cat(acc["l2dirty"], bool))
                          if rec.l2 is not None else None)
    latency, occupancy, l2_bytes, dram_bytes, wavefronts = _memory_costs(
        kind, count, serial, served, cfg)
    order_ctas = np.argsort(np.asarray(ctas, np.int64), kind="stable")
    counters = dict(served, kind=kind, wavefronts=wavefronts,
                    serial=serial)
    return Streams(
        pc=cat(pcs, np.int32), mem=cat(mems, np.int64),
        cta_ids=np.asarray(ctas, np.int64)[order_ctas],
        warp_start=np.asarray(starts, np.int64).reshape(-1, wpc)[order_ctas],
        warp_end=np.asarray(ends, np.int64).reshape(-1, wpc)[order_ctas],
        latency=latency, occupancy=occupancy, l2_bytes=l2_bytes, dram_bytes=dram_bytes,
        counters=counters)


def _memory_records(wave, W: int, pair_key: np.ndarray, pair_mem: np.ndarray, n_mem: int,
                    info: dict, acc: dict, tracked: bool, wpc: int, num_sms: int) -> int:
    """Number a wave's memory records from ``n_mem``, point their (step, warp) pairs at
    them and add their facts to ``info`` and their sectors to ``acc``, all records at
    once; returns the next number."""
    recs = wave.mem
    sizes = np.array([r[3].size for r in recs], np.int64)
    warps = np.concatenate([r[3] for r in recs]).astype(np.int64)
    rec_of = np.repeat(np.arange(len(recs), dtype=np.int64), sizes)
    steps = np.array([r[0] for r in recs], np.int64)
    pair_mem[np.searchsorted(pair_key, steps[rec_of] * W + warps)] = \
        n_mem + np.arange(warps.size)
    kinds = np.array([r[1] * 2 + int(r[2]) for r in recs], np.int64)
    info["kind"].append(kinds[rec_of])
    info["count"].append(np.concatenate([r[4] for r in recs]))
    info["serial"].append(np.concatenate([r[7] if r[7] is not None
                                          else np.ones(r[3].size, np.int64) for r in recs]))
    with_sectors = [i for i, r in enumerate(recs) if r[5] is not None]
    if with_sectors:
        sec_sizes = np.array([recs[i][5].size for i in with_sectors], np.int64)
        sec_rec = np.repeat(np.array(with_sectors, np.int64), sec_sizes)
        sec_s = np.concatenate([recs[i][5] for i in with_sectors])
        sec_w = np.concatenate([recs[i][6] for i in with_sectors]).astype(np.int64)
        # records in order, warps ascending within each: (record, warp) keys are sorted
        owner = n_mem + np.searchsorted(rec_of * W + warps, sec_rec * W + sec_w)
        acc["sector"].append(sec_s)
        acc["owner"].append(owner)
        acc["sm"].append((wave.first_cta + sec_w // wpc) % num_sms)
        kind, store = kinds[sec_rec] // 2, (kinds[sec_rec] % 2).astype(bool)
        acc["load"].append(~store | (kind == ATOMIC_G))
        acc["atomic"].append(kind == ATOMIC_G)
        if tracked:
            for part, name in ((0, "l2hit"), (1, "l2dirty")):
                acc[name].append(np.concatenate([
                    recs[i][8][part] if recs[i][8] is not None
                    else np.zeros(recs[i][5].size, bool) for i in with_sectors]))
    return n_mem + int(warps.size)


def _memory_costs(kind2: np.ndarray, count: np.ndarray, serial: np.ndarray, served: dict,
                  cfg: ArchConfig):
    """Latency, L1/shared pipe occupancy, L2 and DRAM bytes per memory instruction."""
    kind = kind2 // 2
    shared = (kind == SHARED) | (kind == ATOMIC_S)
    wavefronts = np.where(shared, count, 0)
    sectors = served["sectors"]
    l1_miss = sectors - served["l1_hits"]
    dram = served["dram_reads"] + served["dram_writes"]
    level = np.where(dram > 0, cfg.dram_latency,
                     np.where(l1_miss > 0, cfg.l2_latency, cfg.l1_latency))
    latency = np.where(shared, cfg.shared_latency + np.maximum(wavefronts - 1, 0), level)
    atomic_g = kind == ATOMIC_G
    latency = np.where(atomic_g, np.maximum(level, cfg.atomic_latency) + 2 * (serial - 1),
                       latency)
    latency = np.where(kind == ATOMIC_S, cfg.shared_latency + 2 * count, latency)
    per = cfg.l1_sectors_per_cycle
    occupancy = np.where(shared, np.maximum(wavefronts, 1),
                         np.maximum(-(-sectors // per), 1))
    l2_bytes = np.where(shared, 0, l1_miss * cfg.sector_bytes)
    dram_bytes = dram * cfg.sector_bytes
    return latency, occupancy, l2_bytes, dram_bytes, wavefronts
