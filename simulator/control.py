"""Control flow of a diverged wave: per-thread PCs, convergence barriers, CTA barriers.

:class:`ControlState` holds, per thread, the PC it runs next (``spc``; ``BLOCKED`` while it
waits or after it exits) and what it waits for. The scheduler (:mod:`.executor`) picks the
smallest PC among runnable threads and applies the instruction's control effect here:

* **BRA** sends the threads whose guard holds to the target, the others to the next PC.
* **EXIT** ends the threads whose guard holds. An exited thread leaves every barrier: it no
  longer counts as missing at a BSYNC or a BAR.
* **BSSY Bn** records, for each warp executing it, the threads executing it with a true
  guard as the members of Bn (replacing that warp's earlier members).
* **BSYNC Bn** blocks each thread (guard true) until every member of Bn in its warp has
  arrived at a BSYNC on Bn or exited; then all those waiting threads continue, each after
  its own BSYNC. With no BSSY on Bn yet, a BSYNC waits for nobody.
* **BAR.SYNC** blocks each thread (guard true) until every live thread of its CTA is blocked
  at a BAR. If they are all at the same BAR instruction, they continue after it. If they
  are at different BAR instructions, that is a :class:`BarrierError`.
* **Deadlock.** When no thread of the wave can run but some are live, every live thread
  is waiting at a BAR or a BSYNC that cannot complete (releases are checked on every
  arrival and exit). A CTA with threads at a BAR reports "barrier reached by some but not
  all of the CTA's live threads" (naming an arrived thread and one that is elsewhere, e.g.
  at a BSYNC); otherwise the BSYNC reports that its convergence barrier can never
  complete, naming a waiting thread and a member that does not arrive.
"""

from __future__ import annotations

import numpy as np

from .decode import Guard
from .errors import BarrierError
from .machine import WARP, Machine, warp_any

BLOCKED = np.iinfo(np.int32).max
"""``spc`` of a thread that cannot run (waiting or exited)."""
NUM_BARRIERS = 16
ALL = "all"
"""Members of a barrier recorded while the wave was converged: every live thread."""


class ControlState:
    """Per-thread PCs and waits of a diverged wave (see the module docstring)."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        T = m.T
        self.spc = np.full(T, BLOCKED, np.int32)
        self.exited = ~m.live_at_start()
        self.n_live = int(T - np.count_nonzero(self.exited))
        self.at_bar = np.zeros(T, bool)
        self.sync_on = np.full(T, -1, np.int8)
        self.wait_pc = np.zeros(T, np.int32)
        self.n_waiting = 0
        self.members: list[object] = [None] * NUM_BARRIERS

    # --- moving between converged and diverged -----------------------------------------

    def live(self) -> np.ndarray:
        """Live (not exited) threads."""
        return ~self.exited

    def diverge_at(self, pc: int) -> None:
        """Every live thread is at ``pc`` (the converged wave becomes a diverged one)."""
        self.spc[...] = np.where(self.exited, BLOCKED, pc)

    # --- instruction effects ----------------------------------------------------------

    def bra(self, p: int, mask: np.ndarray, guard: Guard, target: int) -> None:
        """BRA executed at ``p`` by the threads of ``mask``."""
        eff = guard.dense(mask)
        np.copyto(self.spc, p + 1, where=mask)
        np.copyto(self.spc, target, where=eff)

    def exit(self, p: int, mask: np.ndarray, guard: Guard) -> None:
        """EXIT executed at ``p``."""
        eff = guard.dense(mask)
        np.copyto(self.spc, p + 1, where=mask)
        count = int(np.count_nonzero(eff))
        if not count:
            return
        np.copyto(self.spc, BLOCKED, where=eff)
        self.exited |= eff
        self.n_live -= count
        if self.n_waiting:
            for n in np.unique(self.sync_on[self.sync_on >= 0]):
                self.release_sync(int(n))
            self.release_bars()

    def bssy(self, p: int, mask: np.ndarray, guard: Guard, n: int) -> None:
        """BSSY Bn at ``p``: per warp executing it, its members become the executing
        threads with a true guard."""
        eff = guard.dense(mask)
        cur = self.members[n]
        if cur is None:
            cur = np.zeros(self.m.T, bool)
        elif isinstance(cur, str):
            cur = np.ones(self.m.T, bool)
        rows = cur.reshape(-1, WARP)
        touched = warp_any(mask)
        rows[touched] = eff.reshape(-1, WARP)[touched]
        self.members[n] = cur
        np.copyto(self.spc, p + 1, where=mask)

    def record_all(self, n: int) -> None:
        """BSSY Bn executed by every live thread of a converged wave."""
        self.members[n] = ALL

    def bsync(self, p: int, mask: np.ndarray, guard: Guard, n: int) -> None:
        """BSYNC Bn at ``p``."""
        eff = guard.dense(mask)
        np.copyto(self.spc, p + 1, where=mask)
        self._block(eff, p)
        self.sync_on[eff] = n
        self.release_sync(n)

    def bar(self, p: int, mask: np.ndarray, guard: Guard) -> None:
        """BAR.SYNC at ``p``."""
        eff = guard.dense(mask)
        np.copyto(self.spc, p + 1, where=mask)
        self._block(eff, p)
        self.at_bar[eff] = True
        self.release_bars()

    def _block(self, eff: np.ndarray, p: int) -> None:
        np.copyto(self.spc, BLOCKED, where=eff)
        self.wait_pc[eff] = p
        self.n_waiting += int(np.count_nonzero(eff))

    def _unblock(self, release: np.ndarray) -> None:
        self.spc[release] = self.wait_pc[release] + 1
        self.n_waiting -= int(np.count_nonzero(release))

    # --- releases -----------------------------------------------------------------------

    def _missing(self, n: int, waiters: np.ndarray) -> np.ndarray:
        """Members of Bn that have neither arrived at a BSYNC on Bn nor exited."""
        members = self.members[n]
        if members is None:
            return np.zeros(self.m.T, bool)
        need = ~self.exited & ~waiters
        return need if isinstance(members, str) else need & members

    def release_sync(self, n: int) -> None:
        """Release the threads waiting on Bn in warps whose members have all arrived."""
        waiters = self.sync_on == n
        if not waiters.any():
            return
        blocked = warp_any(self._missing(n, waiters))
        release = waiters & ~np.repeat(blocked, WARP)
        if release.any():
            self.sync_on[release] = -1
            self._unblock(release)

    def release_bars(self) -> None:
        """Release CTAs whose live threads are all at one BAR; error for several BARs."""
        m = self.m
        at = self.at_bar.reshape(m.C, m.P)
        if not at.any():
            return
        done = (at | self.exited.reshape(m.C, m.P)).all(axis=1) & at.any(axis=1)
        if not done.any():
            return
        pcs = self.wait_pc.reshape(m.C, m.P)
        low = np.where(at, pcs, BLOCKED).min(axis=1)
        high = np.where(at, pcs, -1).max(axis=1)
        split = done & (low != high)
        if split.any():
            c = int(np.argmax(split))
            first = c * m.P + int(np.argmax(at[c] & (pcs[c] == low[c])))
            other = c * m.P + int(np.argmax(at[c] & (pcs[c] != low[c])))
            raise self._bar_error(first, other)
        release = (at & done[:, None]).reshape(-1)
        self.at_bar[release] = False
        self._unblock(release)
        if m.sanitizer is not None:
            m.sanitizer.barrier(np.flatnonzero(done))

    # --- errors -----------------------------------------------------------------------

    def _where(self, t: int) -> str:
        """Where thread ``t`` is stuck, for messages."""
        m = self.m
        thread, _ = m.where(t)
        name = f"thread ({','.join(map(str, thread))})"
        pc = int(self.wait_pc[t])
        if self.at_bar[t] or self.sync_on[t] >= 0:
            return f"{name} is waiting at /*{pc * 16:04x}*/ {m.text(pc)}"
        if self.exited[t]:
            return f"{name} has exited"
        return f"{name} is running at /*{int(self.spc[t]) * 16:04x}*/"

    def _bar_error(self, arrived: int, missing: int) -> BarrierError:
        pc = int(self.wait_pc[arrived])
        thread, _ = self.m.where(arrived)
        return self.m.fault(
            BarrierError, "barrier reached by some but not all of the CTA's live threads",
            pc, arrived,
            detail=f"thread ({','.join(map(str, thread))}) arrived; "
                   f"{self._where(missing)} instead")

    def deadlock(self) -> BarrierError:
        """The error for a wave whose live threads are all waiting for each other."""
        m = self.m
        live = ~self.exited
        c = int(np.argmax(live.reshape(m.C, m.P).any(axis=1)))
        cta = slice(c * m.P, (c + 1) * m.P)
        at = self.at_bar[cta]
        if at.any():
            arrived = c * m.P + int(np.argmax(at))
            pc = self.wait_pc[arrived]
            elsewhere = live[cta] & ~(at & (self.wait_pc[cta] == pc))
            return self._bar_error(arrived, c * m.P + int(np.argmax(elsewhere)))
        waiting = c * m.P + int(np.argmax(self.sync_on[cta] >= 0))
        n = int(self.sync_on[waiting])
        missing = self._missing(n, self.sync_on == n)
        w = waiting // WARP
        lane = int(np.argmax(missing[w * WARP:(w + 1) * WARP]))
        thread, _ = m.where(waiting)
        return m.fault(
            BarrierError, f"convergence barrier B{n} can never complete",
            int(self.wait_pc[waiting]), waiting,
            detail=f"thread ({','.join(map(str, thread))}) waits for the threads BSSY "
                   f"recorded; {self._where(w * WARP + lane)}")
