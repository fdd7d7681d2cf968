"""The cycle engine's rules (:mod:`.engine`) in plain Python, for launches timed on a few SMs.

With few warps issuing a cycle, the dozens of small numpy operations of an array step
cost more than looking at each warp. This engine keeps the same state in lists and
follows the same rules in the same order, so it gives the same cycles, issue times and
reasons (a test holds the two to that). What it adds is bookkeeping: a warp's earliest
issue cycle ignoring its pipe (``base``: stall count and scoreboards) is recomputed only
when the warp issues, is released from a barrier or starts; each scheduler keeps its
warps whose base has passed in a ready list and the others in a heap by base, so a pick
looks only at the ready ones. A scheduler's earliest cycle (``gmin``) is a lower bound:
set after a cycle in which it could issue nothing (from the ready warps' pipes and the
heap's top), lowered whenever one of its warps gets a new base, and left as it is when
it issued (the next cycle's look makes it tight again). A bound that is too low costs a
cycle in which nothing issues, never a decision.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS
from .engine import INF, reasons


def run_scalar(eng) -> dict:
    """Run ``eng`` (an :class:`~.engine.Engine`) to the last retirement; the same result
    as its array engine."""
    tb, st, cfg = eng.tb, eng.st, eng.cfg
    N, wpc, per_sm, n_sm, SP, K = eng.N, eng.wpc, eng.per_sm, eng.n_sm, eng.SP, eng.K
    G = n_sm * SP
    pipe_l = tb.pipe.tolist()
    stall_l = tb.stall.tolist()
    yield_l = tb.yield_.tolist()
    waits_l = [tuple(np.flatnonzero(row).tolist()) for row in tb.wait]
    rsb_l = tb.read_sb.tolist()
    wsb_l = tb.write_sb.tolist()
    has_sb = ((tb.read_sb != NO_BARRIER) | (tb.write_sb != NO_BARRIER)).tolist()
    lat_l = tb.latency.tolist()
    mem_l = tb.memory.tolist()
    long_l = tb.long.tolist()
    bar_l = tb.bar.tolist()
    interval = tb.interval.tolist()
    pcs = st.pc.tolist()
    mems = st.mem.tolist()
    occ_l = st.occupancy.tolist()
    mlat_l = st.latency.tolist()
    l2b_l = st.l2_bytes.tolist()
    db_l = st.dram_bytes.tolist()
    starts = st.warp_start.tolist()
    ends = st.warp_end.tolist()
    read_latency = cfg.read_latency
    l2_rate, dram_rate = eng.l2_per_cycle, eng.dram_per_cycle
    n_total = len(pcs)

    cur = [0] * N
    end = [0] * N
    alive = [False] * N
    ready = [0] * N
    bar_ready = [0] * N
    last_t = [0] * N
    sb = [[0] * NUM_SCOREBOARDS for _ in range(N)]
    sbl = [[False] * NUM_SCOREBOARDS for _ in range(N)]
    at_bar = [False] * N
    age = [0] * N
    base = [INF] * N
    sbt_c = [0] * N
    long_c = [False] * N
    pnext = [0] * N
    pipe_free = [[0] * len(interval) for _ in range(G)]
    slot_g = eng.slot_sched.tolist()
    slot_sm = eng.slot_sm.tolist()
    slot_cta = eng.slot_cta.tolist()
    pos = eng.pos.tolist()
    future: list[list[tuple[int, int]]] = [[] for _ in range(G)]
    """Per scheduler, a heap of (base, warp) for warps not yet ready (stale entries are
    skipped: their warp's base has changed or it is ready already)."""
    ready_set: list[list[int]] = [[] for _ in range(G)]
    """Per scheduler, the warps whose base has passed (they wait for nothing but their
    pipe and the scheduler's pick)."""
    is_ready = [False] * N
    last_pick = [-1] * G
    last_yield = [False] * G
    gmin = [INF] * G
    lsu_free = [0] * n_sm
    l2_free = 0.0
    dram_free = 0.0
    slot_cta_id = [-1] * (N // wpc)
    cta_start = [0] * (N // wpc)
    issue_t = [0] * n_total
    snap0, snap1, snap2, snap3, snap4, snap5 = ([0] * n_total for _ in range(6))
    queues = eng._queues()
    counter = [0]
    started = 0
    ages = 0
    resident = 0
    occupancy_integral = 0.0
    lrr = eng.lrr
    t = -1
    finish = 0

    def refresh(w: int) -> None:
        if is_ready[w]:
            is_ready[w] = False
            ready_set[slot_g[w]].remove(w)
        if not alive[w] or at_bar[w]:
            base[w] = INF
            return
        pc = pcs[cur[w]]
        s = 0
        row = sb[w]
        for b in waits_l[pc]:
            if row[b] > s:
                s = row[b]
        sbt_c[w] = s
        lg = False
        if s > 0:
            lrow = sbl[w]
            for b in waits_l[pc]:
                if lrow[b] and row[b] == s:
                    lg = True
                    break
        long_c[w] = lg
        pnext[w] = pipe_l[pc]
        r = ready[w]
        b = r if r > s else s
        base[w] = b
        g = slot_g[w]
        heapq.heappush(future[g], (b, w))
        if b < gmin[g]:
            gmin[g] = b

    def group_min(g: int) -> None:
        pf = pipe_free[g]
        m = INF
        for w in ready_set[g]:
            e = pf[pnext[w]]
            if base[w] > e:
                e = base[w]
            if e < m:
                m = e
        h = future[g]
        if h and h[0][0] < m:
            m = h[0][0]
        gmin[g] = m

    def launch(cta_slot: int, k: int, when: int) -> bool:
        nonlocal started, resident, ages
        c = eng.next_cta(k, queues, counter)
        if c is None:
            return False
        slot_cta_id[cta_slot] = c
        cta_start[cta_slot] = when
        started += 1
        for j in range(wpc):
            w = cta_slot * wpc + j
            a, b = starts[c][j], ends[c][j]
            ok = b > a
            cur[w], end[w], alive[w] = (a, b, True) if ok else (n_total, n_total, False)
            resident += ok
            ready[w] = when
            last_t[w] = when - 1
            bar_ready[w] = 0
            sb[w] = [0] * NUM_SCOREBOARDS
            sbl[w] = [False] * NUM_SCOREBOARDS
            at_bar[w] = False
            age[w] = ages + j
            refresh(w)
        ages += wpc
        return True

    for j in range(per_sm):
        for k in range(n_sm):
            launch(k * per_sm + j, k, 0)  # refresh() sets each scheduler's bound

    def set_sb(w: int, p: int, lat: int) -> None:
        r, wb = rsb_l[p], wsb_l[p]
        if r != NO_BARRIER:
            sb[w][r] = t + read_latency
            sbl[w][r] = False
        if wb != NO_BARRIER:
            if lat > sb[w][wb]:
                sb[w][wb] = lat
            sbl[w][wb] = long_l[p]

    while True:
        e_min = min(gmin)
        if e_min >= INF:
            if not any(alive):
                break
            for w in range(N):
                if alive[w]:
                    at_bar[w] = False
                    bar_ready[w] = t
                    refresh(w)
            for g in range(G):
                group_min(g)
            continue
        t_new = t + 1 if t + 1 > e_min else e_min
        occupancy_integral += resident * (t_new - (t if t > 0 else 0))
        t = t_new
        chosen = []
        for g in range(G):
            if gmin[g] > t:
                continue
            pf = pipe_free[g]
            h = future[g]
            rs = ready_set[g]
            while h and h[0][0] <= t:
                b, w = heapq.heappop(h)
                if base[w] == b and not is_ready[w]:
                    is_ready[w] = True
                    rs.append(w)
            best = -1
            lp = last_pick[g]
            if not lrr and lp >= 0 and not last_yield[g] and is_ready[lp] \
                    and pf[pnext[lp]] <= t:
                best = lp
            if best < 0:
                bestkey = INF
                later = h[0][0] if h else INF
                lpos = pos[lp] if lp >= 0 else -1
                for w in rs:
                    e = pf[pnext[w]]
                    if e <= t:
                        key = (pos[w] - lpos - 1) % K if lrr else age[w]
                        if key < bestkey:
                            bestkey = key
                            best = w
                    elif e < later:
                        later = e
                if best < 0:  # nothing can issue: the group's earliest cycle, or below
                    gmin[g] = later
                    continue
            chosen.append((g, best))
        mem_reqs = []
        step_max = t + 1
        bars = False
        gone = []
        for g, w in chosen:
            idx = cur[w]
            p = pcs[idx]
            pi = pipe_l[p]
            pf = pipe_free[g]
            issue_t[idx] = t
            snap0[idx] = last_t[w]
            snap1[idx] = ready[w]
            snap2[idx] = bar_ready[w]
            snap3[idx] = sbt_c[w]
            snap4[idx] = pf[pi]
            snap5[idx] = long_c[w]
            last_t[w] = t
            bar_ready[w] = 0
            ready[w] = t + stall_l[p]
            pf[pi] = t + interval[pi]
            last_pick[g] = w
            last_yield[g] = yield_l[p]
            m = mems[idx]
            if mem_l[p] and m >= 0:
                mem_reqs.append((w, p, m))
            else:
                lat = t + lat_l[p]
                if has_sb[p]:
                    set_sb(w, p, lat)
                if lat > step_max:
                    step_max = lat
            if bar_l[p]:
                at_bar[w] = True
                bars = True
            idx += 1
            cur[w] = idx
            if idx >= end[w]:
                cur[w] = end[w] = n_total
                alive[w] = False
                gone.append(w)
        if mem_reqs:
            outs = []
            l2_total = dram_total = 0
            for w, _p, m in mem_reqs:
                k = slot_sm[w]
                start = lsu_free[k] if lsu_free[k] > t else t
                out = start + occ_l[m]
                lsu_free[k] = out
                outs.append(out + mlat_l[m])
                l2_total += l2b_l[m]
                dram_total += db_l[m]
            if l2_total:
                l2_free = (l2_free if l2_free > t else float(t)) + l2_total / l2_rate
                l2_done = math.ceil(l2_free)
            if dram_total:
                dram_free = (dram_free if dram_free > t else float(t)) \
                    + dram_total / dram_rate
                dram_done = math.ceil(dram_free)
            for (w, p, m), lat in zip(mem_reqs, outs, strict=False):
                if l2b_l[m] and l2_done > lat:
                    lat = l2_done
                if db_l[m] and dram_done > lat:
                    lat = dram_done
                set_sb(w, p, lat)
                if lat > step_max:
                    step_max = lat
        if step_max > finish:
            finish = step_max
        resident -= len(gone)
        if gone or bars:
            ctas = sorted({slot_cta[w] for g, w in chosen})
            for c in ctas:
                ws = range(c * wpc, (c + 1) * wpc)
                waiting = sum(1 for w in ws if at_bar[w])
                living = sum(1 for w in ws if alive[w])
                if waiting and waiting == living:
                    for w in ws:
                        if at_bar[w]:
                            at_bar[w] = False
                            bar_ready[w] = t + 1
                            refresh(w)
            for c in sorted({slot_cta[w] for w in gone}):
                ws = range(c * wpc, (c + 1) * wpc)
                if any(alive[w] for w in ws):
                    continue
                eng.cta_events.append((slot_cta_id[c], c // per_sm, cta_start[c], t + 1))
                launch(c, c // per_sm, t + 1 + cfg.cta_launch_cycles)
        for _g, w in chosen:
            refresh(w)
    finish = max(finish, t + 1, math.ceil(dram_free), math.ceil(l2_free))
    issue = np.asarray(issue_t, np.int64)
    snap = np.array([snap0, snap1, snap2, snap3, snap4, snap5], np.int64).reshape(6, n_total)
    return {"cycles": finish, "issue_t": issue, "reasons": reasons(issue, snap),
            "occupancy_integral": occupancy_integral, "ctas": started}
