"""What the timing model needs from the functional run, recorded while it runs.

The functional core executes a wave one *step* at a time (one PC for every thread there).
A :class:`Recorder` keeps, per step, the PC and the warps that took part (only the warps of
the CTAs being timed), and per memory step what each of those warps touched:

* global and local accesses: the distinct 32-byte sectors of each warp (local memory is
  interleaved by lane, as on hardware, so a warp's accesses to one local offset coalesce);
* shared accesses: the wavefronts each warp needs (bank conflicts);
* atomics: the sectors, and how many times the busiest address is hit (atomics to one
  address serialize).

Nothing here depends on time: the timing model (:mod:`.engine`) replays it afterwards.
"""

from __future__ import annotations

import numpy as np

from ..machine import warp_any

WARP = 32
GLOBAL, LOCAL, SHARED, ATOMIC_G, ATOMIC_S = range(5)
"""Kinds of memory records."""
BANK_MEMO_BYTES = 32 << 20
"""Bytes of shared-memory access patterns whose bank conflicts are remembered (by the
process: launches of one kernel repeat theirs); past it the memo starts afresh."""
_BANKS: dict[tuple, tuple] = {}
"""Bank-conflict results by access pattern: (kind, bytes, the threads, the addresses)."""
_BANK_BYTES = [0]
"""The address bytes the memo's keys hold."""


class WaveTrace:
    """The recorded steps of one wave: PCs, warp sets, and memory records."""

    def __init__(self, first_cta: int, count: int, warps_per_cta: int,
                 timed: np.ndarray) -> None:
        self.first_cta = first_cta
        self.count = count
        self.warps_per_cta = warps_per_cta
        self.timed = timed
        """Bool per wave warp: recorded (its CTA is timed and it exists)."""
        self.all_pos: np.ndarray | None = None
        """The timed threads' columns, once asked for ..."""
        self.all_key = b""
        """... and as bytes (a memo key)."""
        self.pcs: list[int] = []
        self.set_at: list[int] = []
        """Step indices where the warp set changes ..."""
        self.sets: list[np.ndarray] = []
        """... and the warp indices (within the wave) from there on."""
        self.mem: list[tuple] = []
        """(step, kind, store, warps, sectors or wavefronts per warp, sector addresses,
        sector warps, serialization per warp, L2 outcome per sector or None)."""


class Recorder:
    """Collects :class:`WaveTrace` s for the CTAs the timing model will time.

    ``timed_ctas(first, count)`` returns a bool per CTA of a wave saying which are timed
    (all of them, or those of the sampled SMs).
    """

    def __init__(self, block_threads: int, timed_ctas, sector_bytes: int,
                 l2=None, num_sms: int = 1) -> None:
        self.l2 = l2
        """An :class:`~.caches.L2Tracker` when a sample is timed: it sees every access."""
        self.num_sms = num_sms
        """CTA c runs on SM c mod ``num_sms`` (the L2 tracker's draw is by SM)."""
        self.waves: list[WaveTrace] = []
        self.cur: WaveTrace | None = None
        self.block_threads = block_threads
        self.warps_per_cta = -(-block_threads // WARP)
        self.timed_ctas = timed_ctas
        self.sector_shift = int(sector_bytes).bit_length() - 1
        self._live_key: object = None

    # --- driven by the executor -----------------------------------------------------------

    def start_wave(self, first: int, count: int, wave_ctas: int) -> None:
        """A new wave of ``count`` CTAs from ``first`` in a machine of ``wave_ctas`` slots."""
        wpc = self.warps_per_cta
        timed_cta = np.zeros(wave_ctas, bool)
        timed_cta[:count] = self.timed_ctas(first, count)
        timed = np.repeat(timed_cta, wpc)
        self.cur = WaveTrace(first, count, wpc, timed)
        self.waves.append(self.cur)
        self._live_key = None

    def step(self, pc: int, warps: np.ndarray) -> None:
        """Step at ``pc`` by the wave warps ``warps`` (a new array when the set changed)."""
        cur = self.cur
        if warps is not self._live_key:
            self._live_key = warps
            cur.set_at.append(len(cur.pcs))
            cur.sets.append(warps[self.cur.timed[warps]])
        cur.pcs.append(pc)

    def converged(self, live: np.ndarray | None, m) -> np.ndarray:
        """The warp-index array of a converged stretch with live mask ``live``."""
        if live is None:
            return np.arange(m.W, dtype=np.int64)
        return np.flatnonzero(warp_any(live))

    def diverged(self, mask: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """The warp indices of a diverged step's threads."""
        if idx is not None:
            return np.unique(idx >> 5)
        return np.flatnonzero(warp_any(mask))

    # --- driven by the memory handlers ---------------------------------------------------

    def _select(self, tid: np.ndarray | None, T: int) -> tuple[np.ndarray, np.ndarray]:
        """(thread indices, positions into the access arrays) of the timed threads."""
        cur = self.cur
        if tid is None:
            if cur.all_pos is None:
                cur.all_pos = np.flatnonzero(np.repeat(cur.timed, WARP))
                cur.all_key = cur.all_pos.tobytes()
            return cur.all_pos, cur.all_pos
        keep = cur.timed[tid >> 5]
        pos = np.flatnonzero(keep)
        return tid[pos], pos

    def access(self, kind: int, store: bool, tid: np.ndarray | None, a: np.ndarray,
               size: int, T: int, segs: list | None = None) -> None:
        """A memory access by threads ``tid`` (None: all ``T``) at addresses ``a``; global
        ones with their ``segs`` (``GlobalMemory.segments``)."""
        cur = self.cur
        l2 = None
        if self.l2 is not None and segs is not None:
            def sm_of(at: np.ndarray) -> np.ndarray:
                thread = at if tid is None else tid[at].astype(np.int64)
                return (cur.first_cta + (thread >> 5) // self.warps_per_cta) % self.num_sms
            l2 = self.l2.touch(segs, size, a.size, store, sm_of)
        t, pos = self._select(tid, T)
        if t.size == 0:
            return
        step = len(cur.pcs) - 1
        if kind in (SHARED, ATOMIC_S):
            sel = a if pos.size == a.size else a[pos]
            who = cur.all_key if tid is None else t.tobytes()
            memo = (kind, size, who, sel.dtype.char, sel.tobytes())
            found = _BANKS.get(memo)
            if found is None:
                found = _wavefronts(t >> 5, t & 31, sel.astype(np.int64) >> 2,
                                    max(size // 4, 1), kind == ATOMIC_S)
                if _BANK_BYTES[0] + len(memo[-1]) > BANK_MEMO_BYTES:
                    _BANKS.clear()
                    _BANK_BYTES[0] = 0
                _BANKS[memo] = found
                _BANK_BYTES[0] += len(memo[-1])
            warps, wavefronts, ideal = found
            cur.mem.append((step, kind, store, warps, wavefronts, None, None, ideal, None))
            return
        warp = t >> 5
        if kind == GLOBAL and tid is None and t.size % WARP == 0:
            # converged: whole warps in order; distinct sectors a row (one warp) at a time
            rows = (a[pos].astype(np.int64) >> self.sector_shift).reshape(-1, WARP)
            if l2 is None:
                rows.sort(axis=1)
            else:
                order = np.argsort(rows, axis=1, kind="stable")
                rows = np.take_along_axis(rows, order, axis=1)
            new = np.empty(rows.shape, bool)
            new[:, 0] = True
            np.not_equal(rows[:, 1:], rows[:, :-1], out=new[:, 1:])
            counts = new.sum(axis=1)
            warps = warp[::WARP]
            known = None
            if l2 is not None:  # each (warp, sector)'s L2 outcome: its first thread's
                first = pos[(order + WARP * np.arange(rows.shape[0])[:, None])[new]]
                known = (l2[0][first], l2[1][first])
            cur.mem.append((step, kind, store, warps, counts, rows[new],
                            np.repeat(warps, counts), None, known))
            return
        if kind == LOCAL:
            # Interleaved by lane: word k of every lane's window sits in one 128-byte row,
            # and each warp's windows are apart from the other warps'.
            span = max(size // 4, 1)
            rows = (a[pos].astype(np.int64) // 4)[:, None] + np.arange(span)
            addr = (warp << 34)[:, None] + rows * (4 * WARP) + ((t & 31) * 4)[:, None]
            addr = addr.reshape(-1)
            warp = np.repeat(warp, span)
        else:
            addr = a[pos].astype(np.int64)
        sector = addr >> self.sector_shift
        order = np.lexsort((sector, warp))
        w_sorted, s_sorted = warp[order], sector[order]
        new = np.ones(w_sorted.size, bool)
        new[1:] = (w_sorted[1:] != w_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
        sec_w, sec_s = w_sorted[new], s_sorted[new]
        known = None
        if l2 is not None:  # each (warp, sector)'s L2 outcome: its first thread's
            first = order[new]
            known = (l2[0][pos][first], l2[1][pos][first])
        warps, counts = np.unique(sec_w, return_counts=True)
        serial = None
        if kind == ATOMIC_G:
            word = addr >> 2
            o2 = np.lexsort((word, warp))
            ww, wd = warp[o2], word[o2]
            start = np.ones(ww.size, bool)
            start[1:] = (ww[1:] != ww[:-1]) | (wd[1:] != wd[:-1])
            run_id = np.cumsum(start) - 1
            run_len = np.bincount(run_id)
            run_warp = ww[start]
            serial = np.zeros(warps.size, np.int64)
            np.maximum.at(serial, np.searchsorted(warps, run_warp), run_len)
        cur.mem.append((step, kind, store, warps, counts, sec_s, sec_w, serial, known))


def _wavefronts(warp: np.ndarray, lane: np.ndarray, words: np.ndarray, width: int,
               atomic: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per warp, the wavefronts a shared access needs and the fewest it could need: a
    64-bit access is served a half warp at a time and a 128-bit one a quarter warp at a
    time; within each, the most distinct 4-byte words any one of the 32 banks is asked for
    (threads asking for the same word share it), at least one. Atomics: the most threads
    on one word (they serialize). Returns (warps, wavefronts, fewest)."""
    if atomic:
        key = np.sort(warp * (1 << 40) + words)
        start = np.r_[True, key[1:] != key[:-1]]
        runs = np.diff(np.r_[np.flatnonzero(start), key.size])
        run_warp = key[start] >> 40
        first = np.r_[True, run_warp[1:] != run_warp[:-1]]
        return run_warp[first], np.maximum.reduceat(runs, np.flatnonzero(first)), \
            np.ones(int(first.sum()), np.int64)
    phases = width  # 1, 2 or 4 phases of 32/width threads
    group = warp * phases + (lane // (WARP // phases) if phases > 1 else 0)
    if width > 1:
        words = (words[:, None] + np.arange(width)).reshape(-1)
        group = np.repeat(group, width)
    key = np.sort(group * (1 << 40) + words)
    key = key[np.r_[True, key[1:] != key[:-1]]]      # distinct (group, word)
    kg = key >> 40
    n_groups = int(kg[-1]) + 1
    per_bank = np.bincount(kg * 32 + (key & 31), minlength=n_groups * 32)
    worst = per_bank.reshape(n_groups, 32).max(axis=1)
    n_warps = -(-n_groups // phases)
    pad = n_warps * phases - n_groups
    worst = np.r_[worst, np.zeros(pad, np.int64)].reshape(n_warps, phases)
    used = (worst > 0).sum(axis=1)
    warps = np.flatnonzero(used)
    return warps, worst.sum(axis=1)[warps], used[warps]
