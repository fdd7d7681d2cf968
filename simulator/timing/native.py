"""The cycle engine's rules as one function of the compiled subset (:mod:`.jit`).

The same rules as the array engine (:mod:`.engine`), followed warp by warp in the order the
array engine applies them, so both give the same cycles, cycles by reason per PC and
warp and CTA spans (a test holds them to that). Compiled, this is what times
launches; as Python it is a readable reference.

Bookkeeping that makes a step cheap: a warp's earliest issue cycle ignoring its pipe
(``base``: its stall count and scoreboards) is recomputed only when the warp changes (it
issued, left a barrier, or its slot got a new CTA): such warps are listed (``dlist``,
once each) and refreshed before the next step looks for a cycle. Each scheduler keeps
its earliest cycle (``gmin``, the least over its warps of ``max(base, the warp's pipe
free)``), recomputed only when one of its warps changed or it issued, so a step looks at
the schedulers, not at every warp, to find the next cycle. CTAs that retire in a step
are launched, in slot order, at the top of the next one.
"""

from __future__ import annotations

import math

import numpy as np

from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS
from .engine import INF, REASONS
from .jit import Ints, native

_OUT_CYCLES, _OUT_STARTED, _OUT_EVENTS, _OUT_OCCUPANCY = range(4)
_N_REASONS = len(REASONS)


def run(pipe: Ints, stall: Ints, yld: Ints, waitmask: Ints, rsb: Ints, wsb: Ints,
        fixed_lat: Ints, is_mem: Ints, is_long: Ints, is_bar: Ints, interval: Ints,
        pcs: Ints, mems: Ints, occ: Ints, mlat: Ints, l2b: Ints, dramb: Ints,
        starts: Ints, ends: Ints, slot_g: Ints, slot_sm: Ints, pos: Ints, groups: Ints,
        queue: Ints, qhead: Ints, qend: Ints, q_of: Ints, todo: Ints,
        cur: Ints, end: Ints, ready: Ints, bar_ready: Ints, last_t: Ints, sb: Ints,
        sbl: Ints, at_bar: Ints, age: Ints, base: Ints, sbt_c: Ints, long_c: Ints,
        pnext: Ints, dirty: Ints, dlist: Ints, pipe_free: Ints, gmin: Ints, gdirty: Ints,
        last_pick: Ints, last_yield: Ints, lsu_free: Ints, slot_cta_id: Ints,
        cta_start: Ints, flag: Ints, ch_w: Ints, ch_g: Ints, ch_p: Ints, ch_m: Ints,
        ch_lat: Ints,
        pc_reasons: Ints, warp_span: Ints, events: Ints, out: Ints,
        N: int, wpc: int, per_sm: int, G: int, K: int, P: int, n_todo: int,
        n_total: int, read_latency: int, launch_cycles: int, lrr: int, l2_rate: float,
        dram_rate: float) -> None:
    """Time a launch. The parameters, as :func:`time_streams` passes them:

    - the program's tables by PC (:class:`~.tables.Tables`; ``waitmask`` holds the
      scoreboards waited on as bits, ``interval`` is by pipe);
    - the streams (:class:`~.streams.Streams`): ``pcs``/``mems`` per recorded
      warp-instruction, the memory tables by memory instruction, ``starts``/``ends``
      per [CTA, warp] flattened;
    - the slots: per warp slot its scheduler (``slot_g``), SM and position in the
      scheduler's ``groups`` (``G`` rows of ``K``, padded with ``N``);
    - the CTA queues: ``queue[qhead[q]:qend[q]]`` for queue ``q_of[SM]``, and the slots
      to fill first (``todo[:n_todo]``);
    - state, zeroed (``base``, ``gmin``, ``last_pick`` and ``slot_cta_id`` start at
      their "none"), per warp slot, scheduler, SM or CTA slot, and scratch per scheduler
      (``ch_*``: the step's picks);
    - outputs: ``pc_reasons``, cycles by reason (:data:`~.engine.REASONS`, split as
      :func:`~.engine.reasons` splits them) summed per PC, PC-major; ``warp_span``, per
      [CTA, warp] of the streams the cycle it became resident and its last issue;
      ``events`` (CTA, SM, start, retire) per CTA; and
      ``out`` (cycles, CTAs started, events, the occupancy integral).
    """
    n_slots = N // wpc
    when = 0
    t = -1
    finish = 0
    started = 0
    ages = 0
    resident = 0
    occupancy = 0
    n_events = 0
    n_dirty = 0
    l2_free: float = 0
    dram_free: float = 0
    while True:
        # --- CTAs waiting for a slot: the initial placement, or those retired last step --
        for i in range(n_todo):
            c = todo[i]
            k = c // per_sm
            q = q_of[k]
            if qhead[q] >= qend[q]:
                continue
            cta = queue[qhead[q]]
            qhead[q] += 1
            slot_cta_id[c] = cta
            cta_start[c] = when
            started += 1
            for j in range(wpc):
                w = c * wpc + j
                a = starts[cta * wpc + j]
                b = ends[cta * wpc + j]
                if b > a:
                    cur[w] = a
                    end[w] = b
                    resident += 1
                    warp_span[2 * (cta * wpc + j)] = when
                else:
                    cur[w] = n_total
                    end[w] = n_total
                ready[w] = when
                last_t[w] = when - 1
                bar_ready[w] = 0
                for s in range(NUM_SCOREBOARDS):
                    sb[w * NUM_SCOREBOARDS + s] = 0
                    sbl[w * NUM_SCOREBOARDS + s] = 0
                at_bar[w] = 0
                age[w] = ages + j
                if dirty[w] == 0:
                    dirty[w] = 1
                    dlist[n_dirty] = w
                    n_dirty += 1
            ages += wpc
        n_todo = 0
        # --- refresh the warps that changed, then their schedulers' earliest cycles ------
        for i in range(n_dirty):
            w = dlist[i]
            dirty[w] = 0
            gdirty[slot_g[w]] = 1
            if cur[w] >= end[w] or at_bar[w] != 0:
                base[w] = INF
                continue
            pc = pcs[cur[w]]
            mask = waitmask[pc]
            s_t = 0
            for s in range(NUM_SCOREBOARDS):
                if (mask >> s) & 1 and sb[w * NUM_SCOREBOARDS + s] > s_t:
                    s_t = sb[w * NUM_SCOREBOARDS + s]
            lg = 0
            if s_t > 0:
                for s in range(NUM_SCOREBOARDS):
                    b = w * NUM_SCOREBOARDS + s
                    if (mask >> s) & 1 and sbl[b] != 0 and sb[b] == s_t:
                        lg = 1
            sbt_c[w] = s_t
            long_c[w] = lg
            pnext[w] = pipe[pc]
            base[w] = max(ready[w], s_t)
        n_dirty = 0
        e_min = INF
        for g in range(G):
            if gdirty[g] != 0:
                gdirty[g] = 0
                m = INF
                for k in range(K):
                    w = groups[g * K + k]
                    if w >= N:
                        break
                    e = max(base[w], pipe_free[g * P + pnext[w]])
                    if e < m:
                        m = e
                gmin[g] = m
            if gmin[g] < e_min:
                e_min = gmin[g]
        if e_min >= INF:
            # nothing can issue: done, or only barrier waiters whose CTA lost warps oddly
            alive = 0
            for w in range(N):
                if cur[w] < end[w]:
                    alive = 1
                    at_bar[w] = 0
                    bar_ready[w] = t
                    if dirty[w] == 0:
                        dirty[w] = 1
                        dlist[n_dirty] = w
                        n_dirty += 1
            if alive == 0:
                break
            continue
        t_new = max(t + 1, e_min)
        occupancy += resident * (t_new - max(t, 0))
        t = t_new
        # --- each scheduler picks: greedy-then-oldest or loose round robin --------------
        n_ch = 0
        for g in range(G):
            if gmin[g] > t:
                continue
            best = -1
            lp = last_pick[g]
            if (lrr == 0 and lp >= 0 and last_yield[g] == 0 and base[lp] <= t
                    and pipe_free[g * P + pnext[lp]] <= t):
                best = lp
            if best < 0:
                best_key = INF
                lpos = pos[lp] if lp >= 0 else -1
                for k in range(K):
                    w = groups[g * K + k]
                    if w >= N:
                        break
                    if base[w] <= t and pipe_free[g * P + pnext[w]] <= t:
                        key = (pos[w] - lpos - 1) % K if lrr != 0 else age[w]
                        if key < best_key:
                            best_key = key
                            best = w
            if best >= 0:
                ch_w[n_ch] = best
                ch_g[n_ch] = g
                n_ch += 1
        # --- issue -----------------------------------------------------------------------
        step_max = t + 1
        changed = 0
        l2_total = 0
        dram_total = 0
        for i in range(n_ch):
            w = ch_w[i]
            g = ch_g[i]
            idx = cur[w]
            p = pcs[idx]
            pi = pipe[p]
            ch_p[i] = p
            # where the cycles since the warp's previous issue went, as reasons() splits
            b0 = last_t[w] + 1
            r0 = max(ready[w], b0)
            r1 = max(r0, bar_ready[w])
            s_t = min(max(sbt_c[w], r1), t)
            p_t = min(max(pipe_free[g * P + pi], s_t), t)
            row = p * _N_REASONS
            pc_reasons[row] += 1
            pc_reasons[row + 1] += max(min(ready[w], t) - b0, 0)
            pc_reasons[row + 2] += max(min(r1, t) - r0, 0)
            pc_reasons[row + (3 if long_c[w] != 0 else 4)] += s_t - r1
            pc_reasons[row + 5] += p_t - s_t
            pc_reasons[row + 6] += t - p_t
            last_t[w] = t
            bar_ready[w] = 0
            ready[w] = t + stall[p]
            pipe_free[g * P + pi] = t + interval[pi]
            last_pick[g] = w
            last_yield[g] = yld[p]
            gdirty[g] = 1
            if dirty[w] == 0:
                dirty[w] = 1
                dlist[n_dirty] = w
                n_dirty += 1
            m = mems[idx]
            if is_mem[p] != 0 and m >= 0:
                # through the SM's L1/shared pipe in turn; L2 and DRAM bytes queue below
                k = slot_sm[w]
                done = max(lsu_free[k], t) + occ[m]
                lsu_free[k] = done
                ch_lat[i] = done + mlat[m]
                ch_m[i] = m
                l2_total += l2b[m]
                dram_total += dramb[m]
            else:
                ch_lat[i] = t + fixed_lat[p]
                ch_m[i] = -1
            if is_bar[p] != 0:
                at_bar[w] = 1
                changed = 1
            cur[w] = idx + 1
            if idx + 1 >= end[w]:
                warp_span[2 * (slot_cta_id[w // wpc] * wpc + w % wpc) + 1] = t
                cur[w] = n_total
                end[w] = n_total
                resident -= 1
                changed = 1
        l2_done = 0
        dram_done = 0
        if l2_total > 0:
            l2_free = max(l2_free, float(t)) + l2_total / l2_rate
            l2_done = math.ceil(l2_free)
        if dram_total > 0:
            dram_free = max(dram_free, float(t)) + dram_total / dram_rate
            dram_done = math.ceil(dram_free)
        for i in range(n_ch):
            w = ch_w[i]
            p = ch_p[i]
            lat = ch_lat[i]
            m = ch_m[i]
            if m >= 0:
                if l2b[m] > 0 and l2_done > lat:
                    lat = l2_done
                if dramb[m] > 0 and dram_done > lat:
                    lat = dram_done
            r = rsb[p]
            if r != NO_BARRIER:
                sb[w * NUM_SCOREBOARDS + r] = t + read_latency
                sbl[w * NUM_SCOREBOARDS + r] = 0
            r = wsb[p]
            if r != NO_BARRIER:
                if lat > sb[w * NUM_SCOREBOARDS + r]:
                    sb[w * NUM_SCOREBOARDS + r] = lat
                sbl[w * NUM_SCOREBOARDS + r] = is_long[p]
            step_max = max(step_max, lat)
        if step_max > finish:
            finish = step_max
        if changed != 0:
            # barriers: a CTA whose unfinished warps all wait at one goes on next cycle
            for i in range(n_ch):
                flag[ch_w[i] // wpc] = 1
            for c in range(n_slots):
                if flag[c] == 0:
                    continue
                flag[c] = 0
                waiting = 0
                living = 0
                for j in range(wpc):
                    w = c * wpc + j
                    if at_bar[w] != 0:
                        waiting += 1
                    if cur[w] < end[w]:
                        living += 1
                if waiting > 0 and waiting == living:
                    for j in range(wpc):
                        w = c * wpc + j
                        if at_bar[w] != 0:
                            at_bar[w] = 0
                            bar_ready[w] = t + 1
                            if dirty[w] == 0:
                                dirty[w] = 1
                                dlist[n_dirty] = w
                                n_dirty += 1
                elif living == 0 and slot_cta_id[c] >= 0:
                    # retired: record it; the slot's next CTA starts after the launch cost
                    events[4 * n_events] = slot_cta_id[c]
                    events[4 * n_events + 1] = c // per_sm
                    events[4 * n_events + 2] = cta_start[c]
                    events[4 * n_events + 3] = t + 1
                    n_events += 1
                    slot_cta_id[c] = -1
                    todo[n_todo] = c
                    n_todo += 1
            when = t + 1 + launch_cycles
    out[_OUT_CYCLES] = max(finish, t + 1, math.ceil(dram_free), math.ceil(l2_free))
    out[_OUT_STARTED] = started
    out[_OUT_EVENTS] = n_events
    out[_OUT_OCCUPANCY] = occupancy


compiled = native(run)
""":func:`run` as native code."""


def time_streams(eng, python: bool = False) -> dict:
    """Run ``eng`` (an :class:`~.engine.Engine`) to the last retirement with :func:`run`
    (compiled, or as Python with ``python=True``); the same result as the array engine.
    Appends the CTAs' (CTA index, timed SM, start, retire) to ``eng.cta_events``."""
    tb, st, cfg = eng.tb, eng.st, eng.cfg
    N, wpc, per_sm, G, K = eng.N, eng.wpc, eng.per_sm, eng.n_sm * eng.SP, eng.K
    i64 = np.int64

    def ints(a) -> np.ndarray:  # read, never written
        return np.ascontiguousarray(a, i64).ravel()

    def zeros(n: int) -> np.ndarray:
        return np.zeros(max(n, 1), i64)

    n_total = st.pc.size
    n_slots = N // wpc
    # which CTAs each timed SM runs: its own queue when sampled, else the grid's one queue
    if eng.sampled:
        lists = [np.flatnonzero(st.cta_ids % cfg.num_sms == sm) for sm in eng.sms]
        q_of = np.arange(eng.n_sm)
    else:
        lists = [np.arange(st.cta_ids.size)]
        q_of = np.zeros(eng.n_sm, i64)
    sizes = np.array([q.size for q in lists], i64)
    qend = np.cumsum(sizes)
    qhead = qend - sizes
    queue = np.concatenate(lists)
    todo = zeros(n_slots)
    order = [k * per_sm + j for j in range(per_sm) for k in range(eng.n_sm)]
    todo[:len(order)] = order
    n_pipes = tb.interval.size
    arrays = {
        # the streams and their memory instructions
        "pcs": st.pc, "mems": st.mem, "occ": st.occupancy, "mlat": st.latency,
        "l2b": st.l2_bytes, "dramb": st.dram_bytes, "starts": st.warp_start,
        "ends": st.warp_end,
        # warp slots and scheduler groups; CTA queues
        "slot_g": eng.slot_sched, "slot_sm": eng.slot_sm, "pos": eng.pos,
        "groups": eng.groups, "queue": queue, "qhead": qhead, "qend": qend, "q_of": q_of,
        "todo": todo,
    }
    args = {name: ints(a) for name, a in arrays.items()}
    args.update(tb.as_ints)  # the program's tables, by PC
    for name in ("cur", "end", "ready", "bar_ready", "last_t", "at_bar", "age", "sbt_c",
                 "long_c", "pnext", "dirty", "dlist"):
        args[name] = zeros(N)
    args.update(
        sb=zeros(N * NUM_SCOREBOARDS), sbl=zeros(N * NUM_SCOREBOARDS),
        base=np.full(N, INF, i64), pipe_free=zeros(G * n_pipes),
        gmin=np.full(G, INF, i64), gdirty=zeros(G), last_pick=np.full(G, -1, i64),
        last_yield=zeros(G), lsu_free=zeros(eng.n_sm), slot_cta_id=np.full(n_slots, -1, i64),
        cta_start=zeros(n_slots), flag=zeros(n_slots), ch_w=zeros(G), ch_g=zeros(G),
        ch_p=zeros(G), ch_m=zeros(G), ch_lat=zeros(G),
        pc_reasons=zeros(_N_REASONS * tb.n), warp_span=zeros(2 * st.warp_start.size),
        events=zeros(4 * st.cta_ids.size), out=zeros(4),
        N=N, wpc=wpc, per_sm=per_sm, G=G, K=K, P=n_pipes, n_todo=len(order),
        n_total=n_total, read_latency=cfg.read_latency,
        launch_cycles=cfg.cta_launch_cycles, lrr=int(eng.lrr), l2_rate=eng.l2_per_cycle,
        dram_rate=eng.dram_per_cycle)
    if python:
        run(**args)
    else:
        compiled(**args)
    out, events = args["out"], args["events"]
    n_events = int(out[_OUT_EVENTS])
    eng.cta_events.extend(map(tuple, events[:4 * n_events].reshape(-1, 4).tolist()))
    return {"cycles": int(out[_OUT_CYCLES]),
            "pc_reasons": args["pc_reasons"].reshape(tb.n, _N_REASONS).T,
            "warp_span": args["warp_span"][:2 * st.warp_start.size].reshape(2, -1, order="F"),
            "occupancy_integral": float(out[_OUT_OCCUPANCY]),
            "ctas": int(out[_OUT_STARTED])}
