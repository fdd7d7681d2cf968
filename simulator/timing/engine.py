"""The cycle engine: every timed SM's four schedulers advanced together as numpy arrays.

State is kept per *warp slot* (SM x resident CTA x warp of the CTA): the next instruction
of the warp's stream, the cycle its stall count lets it issue (``ready``), the cycle each
of its scoreboards SB0-SB5 is released, and whether it waits at a CTA barrier. Per
sub-partition (a warp's sub-partition is its warp number within the SM modulo 4) each
pipe is busy until a cycle, and per SM the L1/shared pipe; L2 and DRAM are bandwidth
queues shared by all SMs.

One *step* of the engine is one cycle in which something can issue: the earliest cycle at
which any warp is eligible (``max(ready, scoreboards it waits on, its pipe)``), or the
cycle after the last step. Cycles in between, where no warp could issue, are skipped. In a
step every scheduler issues at most one eligible warp: greedy-then-oldest (the warp it
issued last, unless that one yielded or is not eligible, else the oldest resident warp) or
loose round robin (the next eligible warp after the one it issued last).

Issuing sets the warp's ``ready`` to now + its stall count, busies the pipe for the pipe's
initiation interval, and schedules the releases of its read scoreboard (operands read) and
write scoreboard (result written): fixed for MUFU/conversion/S2R/SHFL/HMMA, and for memory
from what the access touched (:mod:`.caches`) plus the queues it waited in. A BAR blocks
the warp until every unfinished warp of its CTA has reached it. When every warp of a CTA
has issued its last instruction the CTA retires and the SM's next CTA starts in its slots.

Every warp-instruction's issue cycle is kept, and the cycles since the warp's previous
issue are split into the reasons it waited: its stall count (``wait``), a barrier,
scoreboards set by global memory (``long_scoreboard``) or by anything else
(``short_scoreboard``), a busy pipe (``pipe_throttle``), or another warp being picked
(``not_selected``); one cycle is the issue itself.
"""

from __future__ import annotations

import numpy as np

from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS
from ..config import ArchConfig
from .streams import Streams
from .tables import Tables

INF = np.iinfo(np.int64).max // 4
ENGINE = "native"
"""The engine :meth:`Engine.run` uses, of three that follow these rules: ``"native"``
(:mod:`.native`'s function compiled: what times launches), ``"python"`` (the same
function run as Python: a slow, readable reference) and ``"arrays"`` (this module's numpy
arrays: an independent implementation the tests compare against)."""
REASONS = ("issued", "wait", "barrier", "long_scoreboard", "short_scoreboard",
           "pipe_throttle", "not_selected")
"""Where a warp's cycles go, per instruction (Nsight Compute's warp states, simplified)."""


class Engine:
    """Times the streams of one launch; :meth:`run` returns the totals."""

    def __init__(self, tables: Tables, streams: Streams, cfg: ArchConfig, sms: list[int],
                 ctas_per_sm: int, sampled: bool, scheduler: str, bandwidth_share: float
                 ) -> None:
        self.tb = tables
        self.st = streams
        self.cfg = cfg
        SP = cfg.sub_partitions
        self.SP = SP
        self.sms = sms
        self.sampled = sampled
        # Slots for as many CTAs as an SM will ever hold at once (no more than it gets).
        ids = streams.cta_ids
        if sampled:
            most = max((int(np.count_nonzero(ids % cfg.num_sms == sm)) for sm in sms),
                       default=1)
        else:
            most = -(-ids.size // max(len(sms), 1))
        ctas_per_sm = max(1, min(ctas_per_sm, most))
        self.per_sm = ctas_per_sm
        self.lrr = scheduler == "lrr"
        wpc = streams.warp_start.shape[1] if streams.warp_start.size else 1
        self.wpc = wpc
        n_sm = len(sms)
        self.n_sm = n_sm
        self.N = N = n_sm * ctas_per_sm * wpc
        slot = np.arange(N)
        self.slot_sm = slot // (ctas_per_sm * wpc)
        self.slot_cta = slot // wpc           # CTA slot (global over timed SMs)
        within_sm = slot % (ctas_per_sm * wpc)
        self.slot_sched = self.slot_sm * SP + within_sm % SP
        # scheduler groups: [n_sm * 4, K] slot indices, padded with N (a dummy slot)
        K = -(-(ctas_per_sm * wpc) // SP)
        self.K = K
        groups = np.full((n_sm * SP, K), N, np.int64)
        pos = np.zeros(N, np.int64)
        fill = np.zeros(n_sm * SP, np.int64)
        for s in range(N):
            g = self.slot_sched[s]
            groups[g, fill[g]] = s
            pos[s] = fill[g]
            fill[g] += 1
        self.groups = groups
        self.pos = pos
        bw_scale = bandwidth_share
        self.dram_per_cycle = cfg.dram_bytes_per_second / cfg.clock_hz * bw_scale
        self.l2_per_cycle = cfg.l2_bytes_per_cycle * cfg.num_sms * bw_scale

    def _queues(self) -> dict[int, list[int]]:
        """CTAs (indices into the streams' CTA list) waiting for each timed SM."""
        ids = self.st.cta_ids
        if self.sampled:
            return {k: list(np.flatnonzero(ids % self.cfg.num_sms == sm))
                    for k, sm in enumerate(self.sms)}
        return {}

    def run(self) -> dict:
        """Run to the last retirement, with the engine :data:`ENGINE` names; return
        ``cycles``, ``pc_reasons`` (cycles by reason, one row per :data:`REASONS`, one
        column per PC), ``warp_span`` (rows: the cycle each [CTA, warp] of the streams
        became resident and its last issue, flattened; zeros for warps that ran
        nothing), the ``occupancy_integral`` (resident warps summed over cycles) and
        ``ctas`` started."""
        self.cta_events: list[tuple[int, int, int, int]] = []
        """(CTA index, timed SM, start cycle, retire cycle) per CTA."""
        if ENGINE == "arrays":
            return self._run_vector()
        from .native import time_streams
        return time_streams(self, python=ENGINE == "python")

    def next_cta(self, k: int, queues: dict, counter: list) -> int | None:
        """The next CTA (index into the streams' list) for timed SM ``k``: its own queue
        when sampled, else the grid's next."""
        if self.sampled:
            q = queues[k]
            return q.pop(0) if q else None
        if counter[0] >= self.st.cta_ids.size:
            return None
        counter[0] += 1
        return counter[0] - 1

    def _run_vector(self) -> dict:
        tb, st, cfg = self.tb, self.st, self.cfg
        N, wpc, per_sm, SP = self.N, self.wpc, self.per_sm, self.SP
        n_total = st.pc.size
        pc_of = np.append(st.pc, tb.n - 1).astype(np.int64)  # dummy instruction at the end
        mem_of = np.append(st.mem, -1)
        dummy = n_total
        cur = np.full(N + 1, dummy, np.int64)
        end = np.full(N + 1, dummy, np.int64)
        ready = np.zeros(N + 1, np.int64)
        bar_ready = np.zeros(N + 1, np.int64)
        last_t = np.zeros(N + 1, np.int64)
        sb = np.zeros((N + 1, NUM_SCOREBOARDS), np.int64)
        sb_long = np.zeros((N + 1, NUM_SCOREBOARDS), bool)
        at_bar = np.zeros(N + 1, bool)
        age = np.zeros(N + 1, np.int64)
        pipe_free = np.zeros((self.n_sm * SP + 1, len(tb.interval)), np.int64)
        lsu_free = np.zeros(self.n_sm + 1, np.int64)
        l2_free = 0.0
        dram_free = 0.0
        last_pick = np.full(self.n_sm * SP, -1, np.int64)
        last_yield = np.zeros(self.n_sm * SP, bool)
        slot_cta_id = np.full(N // wpc, -1, np.int64)
        issue_t = np.zeros(n_total, np.int64)
        snap = np.zeros((6, n_total), np.int64)
        queues = self._queues()
        next_global = [0]
        started = 0
        ages = [0]
        resident = 0
        occupancy_integral = 0.0
        t = -1
        finish = 0
        cta_start = np.zeros(N // wpc, np.int64)

        def place(cta_slot: int, sm_k: int, when: int) -> bool:
            nonlocal started, resident
            c = self.next_cta(sm_k, queues, next_global)
            if c is None:
                return False
            s = slice(cta_slot * wpc, (cta_slot + 1) * wpc)
            cur[s] = st.warp_start[c]
            end[s] = st.warp_end[c]
            empty = cur[s] >= end[s]
            cur[s][empty] = dummy
            end[s][empty] = dummy
            ready[s] = when
            last_t[s] = when - 1
            bar_ready[s] = 0
            sb[s] = 0
            sb_long[s] = False
            at_bar[s] = False
            age[s] = ages[0] + np.arange(wpc)
            ages[0] += wpc
            slot_cta_id[cta_slot] = c
            cta_start[cta_slot] = when
            started += 1
            resident += int(np.count_nonzero(~empty))
            return True

        tb_pipe, tb_stall, tb_wait = tb.pipe, tb.stall, tb.wait
        base = np.full(N + 1, INF, np.int64)
        """Per slot: the cycle its stall count and scoreboards let it issue (INF: finished,
        at a barrier, or empty); recomputed only when the slot changes."""
        sbt_c = np.zeros(N + 1, np.int64)
        long_c = np.zeros(N + 1, np.int64)
        pnext = np.zeros(N + 1, np.int64)

        def refresh(s: np.ndarray) -> None:
            pc_s = pc_of[cur[s]]
            waits = np.where(tb_wait[pc_s], sb[s], 0)
            sbt_s = waits.max(axis=1)
            sbt_c[s] = sbt_s
            long_c[s] = ((waits == sbt_s[:, None]) & sb_long[s]).any(axis=1) & (sbt_s > 0)
            pnext[s] = tb_pipe[pc_s]
            b = np.maximum(ready[s], sbt_s)
            b[(cur[s] >= end[s]) | at_bar[s]] = INF
            base[s] = b

        def launch(cta_slot: int, sm_k: int, when: int) -> bool:
            ok = place(cta_slot, sm_k, when)
            if ok:
                refresh(np.arange(cta_slot * wpc, (cta_slot + 1) * wpc))
            return ok

        # initial placement: round robin over SMs, as the hardware's CTA dispatcher
        for j in range(per_sm):
            for k in range(self.n_sm):
                launch(k * per_sm + j, k, 0)
        interval = tb.interval
        sched = np.append(self.slot_sched, self.n_sm * SP)
        slot_sm = np.append(self.slot_sm, self.n_sm)
        groups, K = self.groups, self.K
        rows = np.arange(groups.shape[0])
        pos_ext = np.append(self.pos, 0)
        while True:
            pipet = pipe_free[sched, pnext]
            elig = np.maximum(base, pipet)
            e_min = int(elig.min())
            if e_min >= INF:
                alive = cur < end
                if not alive.any():
                    break
                # only barrier waiters left whose CTA lost warps oddly: let them go
                at_bar[alive] = False
                bar_ready[alive] = t
                refresh(np.flatnonzero(alive))
                continue
            t_new = max(t + 1, e_min)
            occupancy_integral += resident * (t_new - max(t, 0))
            t = t_new
            cand = elig <= t
            if self.lrr:
                lp = np.where(last_pick >= 0, pos_ext[last_pick], -1)
                key = np.where(cand, (pos_ext - np.append(lp, 0)[sched] - 1) % K, INF)
            else:
                key = np.where(cand, age, INF)
                greedy = last_pick[(last_pick >= 0) & ~last_yield]
                key[greedy[cand[greedy]]] = -1
            gk = key[groups]
            pick = gk.argmin(axis=1)
            ok = gk[rows, pick] < INF
            ch = groups[rows[ok], pick[ok]]
            idx = cur[ch]
            sbt = sbt_c
            p = pc_of[idx]
            # --- what it waited for (split into reasons at the end) ----------------------
            issue_t[idx] = t
            snap[0, idx] = last_t[ch]
            snap[1, idx] = ready[ch]
            snap[2, idx] = bar_ready[ch]
            snap[3, idx] = sbt[ch]
            snap[4, idx] = pipet[ch]
            snap[5, idx] = long_c[ch]
            # --- issue --------------------------------------------------------------------
            last_t[ch] = t
            bar_ready[ch] = 0
            ready[ch] = t + tb_stall[p]
            pipes = tb_pipe[p]
            pipe_free[sched[ch], pipes] = t + interval[pipes]
            g_of = sched[ch]
            last_pick[g_of] = ch
            last_yield[g_of] = tb.yield_[p]
            lat = t + tb.latency[p]
            mm = tb.memory[p] & (mem_of[idx] >= 0)
            if mm.any():
                lat[mm], dram_free, l2_free = self._memory(
                    ch[mm], mem_of[idx[mm]], t, slot_sm, lsu_free, l2_free, dram_free)
            w = tb.write_sb[p]
            r = tb.read_sb[p]
            has_r = r != NO_BARRIER
            if has_r.any():
                sb[ch[has_r], r[has_r]] = t + cfg.read_latency
                sb_long[ch[has_r], r[has_r]] = False
            has_w = w != NO_BARRIER
            if has_w.any():
                cw, ww = ch[has_w], w[has_w]
                sb[cw, ww] = np.maximum(lat[has_w], sb[cw, ww])
                sb_long[cw, ww] = tb.long[p[has_w]]
            finish = max(finish, int(lat.max()), t + 1)
            cur[ch] += 1
            bars = tb.bar[p]
            if bars.any():
                at_bar[ch[bars]] = True
            done = cur[ch] >= end[ch]
            if done.any() or bars.any():
                gone = ch[done]
                cur[gone] = dummy
                end[gone] = dummy
                resident -= gone.size
                alive = cur < end
                released = self._barriers(alive, at_bar, bar_ready, t)
                if released is not None:
                    refresh(released)
                if done.any():
                    for c in np.unique(self.slot_cta[gone]):
                        c = int(c)
                        if alive[c * wpc:(c + 1) * wpc].any():
                            continue
                        self.cta_events.append((int(slot_cta_id[c]), c // per_sm,
                                                int(cta_start[c]), t + 1))
                        launch(c, c // per_sm, t + 1 + cfg.cta_launch_cycles)
            refresh(ch)
        finish = max(finish, t + 1, int(np.ceil(dram_free)), int(np.ceil(l2_free)))
        split = reasons(issue_t, snap)
        pcs = pc_of[:n_total]
        first, last = st.warp_start.ravel(), st.warp_end.ravel()
        ran = last > first
        span = np.zeros((2, first.size), np.int64)
        # resident from the cycle its first instruction began to wait
        span[0, ran] = issue_t[first[ran]] - split[:, first[ran]].sum(axis=0) + 1
        span[1, ran] = issue_t[last[ran] - 1]
        return {"cycles": finish,
                "pc_reasons": np.stack([np.bincount(pcs, weights=row, minlength=tb.n)
                                        for row in split]).astype(np.int64),
                "warp_span": span, "occupancy_integral": occupancy_integral,
                "ctas": started}

    def _memory(self, slots, mem, t, slot_sm, lsu_free, l2_free, dram_free):
        """Result cycles of memory instructions issued together at ``t`` (sorted by SM),
        through the SM's L1/shared pipe and the shared L2 and DRAM queues."""
        st = self.st
        occ = st.occupancy[mem]
        sm = slot_sm[slots]
        csum = np.cumsum(occ)
        first = np.r_[True, sm[1:] != sm[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(sm.size), 0))
        before = csum - occ - (csum - occ)[group_start]
        start = np.maximum(lsu_free[sm], t) + before
        out = start + occ
        last = np.r_[sm[1:] != sm[:-1], True]
        lsu_free[sm[last]] = out[last]
        result = out + st.latency[mem]
        return queued(result, st.l2_bytes[mem], st.dram_bytes[mem], t, self.l2_per_cycle,
                      self.dram_per_cycle, l2_free, dram_free)


    def _barriers(self, alive, at_bar, bar_ready, t) -> np.ndarray | None:
        """Release the CTAs whose unfinished warps are all at a BAR; the released slots."""
        if not at_bar.any():
            return None
        n_slots = self.N // self.wpc
        cta = self.slot_cta
        waiting = np.bincount(cta[at_bar[:-1]], minlength=n_slots)
        living = np.bincount(cta[alive[:-1]], minlength=n_slots)
        full = (waiting > 0) & (waiting == living)
        if not full.any():
            return None
        rel = np.flatnonzero(full[cta] & at_bar[:-1])
        at_bar[rel] = False
        bar_ready[rel] = t + 1
        return rel

def queued(result, l2b, db, t: int, l2_rate: float, dram_rate: float, l2_free: float,
           dram_free: float):
    """Results of one cycle's memory instructions through the L2 and DRAM queues: the
    cycle's bytes join each queue together and are through at ``max(free, t) + bytes /
    rate``; a request that moves bytes there is not done before that. Returns (results,
    L2 free, DRAM free)."""
    total = int(l2b.sum())
    if total:
        l2_free = max(l2_free, float(t)) + total / l2_rate
        result = np.where(l2b > 0, np.maximum(result, int(np.ceil(l2_free))), result)
    total = int(db.sum())
    if total:
        dram_free = max(dram_free, float(t)) + total / dram_rate
        result = np.where(db > 0, np.maximum(result, int(np.ceil(dram_free))), result)
    return result, dram_free, l2_free


def reasons(issue_t: np.ndarray, snap: np.ndarray) -> np.ndarray:
    """Cycles by reason (:data:`REASONS`) per warp-instruction, from its issue cycle and
    what held at its issue (``snap`` rows: the warp's previous issue, the cycle its stall
    count allowed, its barrier release, its scoreboards' release, its pipe's release, and
    whether the scoreboard it waited for longest was set by global memory). The cycles
    since the previous issue go, in turn, to the stall count, the barrier, the
    scoreboards, the pipe, and the rest to other warps being picked; one is the issue."""
    t = issue_t
    last, ready, bar, sbt, pipe, long_ = snap
    out = np.empty((len(REASONS), t.size), np.int64)
    issued, wait, barrier, long_sb, short_sb, throttle, other = out
    issued.fill(1)
    b0 = last + 1
    r0 = np.maximum(ready, b0)
    np.subtract(np.minimum(ready, t), b0, out=wait)
    np.maximum(wait, 0, out=wait)
    r1 = np.maximum(r0, bar)
    np.subtract(np.minimum(r1, t), r0, out=barrier)
    np.maximum(barrier, 0, out=barrier)
    s_t = np.minimum(np.maximum(sbt, r1), t)
    is_long = long_.astype(bool)
    np.subtract(s_t, r1, out=long_sb)
    np.multiply(long_sb, ~is_long, out=short_sb)
    long_sb *= is_long
    p_t = np.minimum(np.maximum(pipe, s_t), t)
    np.subtract(p_t, s_t, out=throttle)
    np.subtract(t, p_t, out=other)
    return out
