"""Where each global sector is served: L1, L2 or DRAM.

The caches are decided over the recorded accesses in the functional run's order (wave,
step, warp), which does not depend on timing; so the outcome is deterministic and the cycle
engine only has to look it up. Each cache keeps the most recently used sectors: an access
hits when fewer than the cache's capacity (in sectors) of accesses to that cache came
between it and the previous access to the same sector. Counting accesses rather than
distinct sectors (true LRU stack distance) is exact for streaming and for cyclic sweeps
over a working set (the pointer-chase plateaus) and errs towards misses when a few sectors
are hit again and again in between.

* L1 is per SM (of the CTA that made the access, by the round-robin placement CTA c on SM
  c mod SMs) and caches loads; its capacity is what shared memory leaves of the SM's
  combined L1/shared storage. Stores write through to L2 without allocating in L1, and
  atomics are performed at L2.
* L2 is shared by every SM, sees L1's misses, stores and atomics, and reads its load
  misses from DRAM. It is write-back: a store dirties its sector, which is written to DRAM
  once (at eviction or at the end), so each dirtying counts one sector of DRAM writes.

When only a sample of SMs is timed, the L2 must still see every CTA's traffic (CTAs on
other SMs bring in the tiles the sampled ones reuse). Then an :class:`L2Tracker` follows
every global access of the functional run as it happens, one recency counter per sector
of each allocation, and decides the timed accesses' L2 outcome on the spot; the counter
advances by the sectors each access could touch (threads x bytes / 32), an estimate of
the accesses between two uses of a sector.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _hits(keys: np.ndarray, groups: np.ndarray | None, capacity: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per access (in order), whether it hits a cache of ``capacity`` sectors per group,
    and the position of the previous access to the same sector (-1 for none)."""
    n = keys.size
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, np.int64)
    if groups is None:
        seq = np.arange(n, dtype=np.int64)
        order = np.lexsort((seq, keys))
    else:
        by_group = np.argsort(groups, kind="stable")
        seq = np.empty(n, np.int64)
        g_sorted = groups[by_group]
        starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        seq[by_group] = rank
        order = np.lexsort((np.arange(n), keys, groups))
    k = keys[order]
    same = np.zeros(n, bool)
    same[1:] = k[1:] == k[:-1]
    if groups is not None:
        g = groups[order]
        same[1:] &= g[1:] == g[:-1]
    s = seq[order]
    dist = np.zeros(n, np.int64)
    dist[1:] = s[1:] - s[:-1]
    hit_sorted = same & (dist <= capacity)
    hit = np.empty(n, bool)
    hit[order] = hit_sorted
    prev = np.full(n, -1, np.int64)
    prev_sorted = np.r_[-1, order[:-1]]
    prev[order] = np.where(same, prev_sorted, -1)
    return hit, prev


def serve(sectors: np.ndarray, owner: np.ndarray, sm: np.ndarray, load: np.ndarray,
          atomic: np.ndarray, n_owners: int, l1_sectors: int, l2_sectors: int,
          l2_known: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per owner (memory instruction of one warp): sectors, L1 hits, L2 hits, DRAM reads
    and DRAM writes. The access arrays are in the functional run's order. ``l2_known``
    (hit, was dirty) per access comes from an :class:`L2Tracker` when a sample is timed."""
    l1_candidate = load & ~atomic
    hit1 = np.zeros(sectors.size, bool)
    idx1 = np.flatnonzero(l1_candidate)
    hit1[idx1] = _hits(sectors[idx1], sm[idx1], l1_sectors)[0]
    to_l2 = ~hit1
    idx2 = np.flatnonzero(to_l2)
    hit2 = np.zeros(sectors.size, bool)
    stored = ~load | atomic
    writes = np.zeros(sectors.size, bool)
    if l2_known is not None:
        hit2[idx2] = l2_known[0][idx2]
        writes[idx2] = stored[idx2] & ~l2_known[1][idx2]
    else:
        h2, prev2 = _hits(sectors[idx2], None, l2_sectors)
        hit2[idx2] = h2
        # A store dirties its sector; the sector goes back to DRAM once per dirtying (a
        # store whose previous L2 access was a store still cached dirties nothing new).
        prev_store = np.zeros(idx2.size, bool)
        has_prev = prev2 >= 0
        prev_store[has_prev] = stored[idx2[prev2[has_prev]]]
        writes[idx2] = stored[idx2] & ~(h2 & prev_store)
    miss2 = to_l2 & ~hit2

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(owner[mask], minlength=n_owners)

    return {"sectors": np.bincount(owner, minlength=n_owners),
            "l1_hits": count(hit1), "l2_hits": count(hit2),
            "dram_reads": count(miss2 & load), "dram_writes": count(writes)}


def _mix(k: np.ndarray, seed: int) -> np.ndarray:
    """Pseudo-random non-negative int64 priorities for ``k`` (a 64-bit finalizer, as in
    MurmurHash3, of ``k`` offset by ``seed``): distinct for distinct ``k``, barring
    collisions of the top 63 bits."""
    x = k.astype(np.uint64) + np.uint64(seed * 0x9E3779B97F4A7C15 % 2**64)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return (x >> np.uint64(1)).astype(np.int64)


class L2Tracker:
    """Online L2 recency over every global access of a launch (see the module docstring)."""

    def __init__(self, capacity_sectors: int, sector_bytes: int) -> None:
        self.capacity = capacity_sectors
        self.shift = int(sector_bytes).bit_length() - 1
        self.sector_bytes = sector_bytes
        self.clock = 0
        self.arrays: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _arrays(self, alloc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(last access, last store, scratch) per sector of ``alloc``."""
        if alloc.ptr not in self.arrays:
            n = -(-alloc.buf.size // self.sector_bytes) + 1
            self.arrays[alloc.ptr] = (np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                                      np.zeros(n, np.int64))
        return self.arrays[alloc.ptr]

    def touch(self, segs: list, size: int, n: int, store: bool,
              sm_of: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """An access by ``n`` threads split into ``segs`` (``GlobalMemory.segments``):
        per thread, whether its sector hits L2 and whether it was dirty there; then the
        access is recorded. Of the threads on one sector, one may miss; the others find
        it on its way (hits), and a store's others find it dirty. The one is the first in
        thread order of the threads on an SM drawn pseudo-randomly (``sm_of`` gives the
        SMs of the threads at positions of the access). In thread order overall it would
        always be the lowest CTA's, and a sample's SMs would take more or fewer misses
        than their share; within an SM it is the thread whose L1 miss reaches L2 (L1 is
        decided in thread order)."""
        hit = np.zeros(n, bool)
        dirty = np.zeros(n, bool)
        now = self.clock
        for alloc, ix, pos in segs:
            last, stored, scratch = self._arrays(alloc)
            sec = (ix.astype(np.int64) * size) >> self.shift
            # Neighbouring threads mostly share a sector: work on runs of equal sectors.
            run = np.empty(sec.size, bool)
            run[0] = True
            np.not_equal(sec[1:], sec[:-1], out=run[1:])
            u = sec[run]
            k = np.arange(u.size)
            scratch[u] = k
            later = scratch[u] != k
            if later.any():
                # Which run brings a shared sector in: the first of the SM of least
                # priority (the scatter above let the last run write: a sector is shared)
                starts = np.flatnonzero(run)
                shift = np.uint64(max(int(u.size).bit_length(), 1))
                prio = ((_mix(sm_of(starts if pos is None else pos[starts]), now)
                         .astype(np.uint64) >> shift << shift)
                        | k.astype(np.uint64)).astype(np.int64)
                scratch[u] = np.iinfo(np.int64).max
                np.minimum.at(scratch, u, prio)
                later = scratch[u] != prio
            prev = last[u]
            h = ((prev >= 0) & (now - prev <= self.capacity)) | later
            st = stored[u]
            d = h & (st >= 0) & (now - st <= self.capacity)
            if store:
                d |= later
            last[u] = now
            if store:
                stored[u] = now
            if u.size < sec.size:  # back to threads: a run's later threads hit (dirty)
                rid = np.cumsum(run) - 1
                h = h[rid] | ~run
                d = d[rid] | (~run if store else False)
            if pos is None:
                hit[:], dirty[:] = h, d
            else:
                hit[pos], dirty[pos] = h, d
        self.clock = now + max(1, n * size // self.sector_bytes)
        return hit, dirty
