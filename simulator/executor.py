"""The functional executor: waves of resident CTAs, run vectorized over all their threads.

:func:`execute` splits the grid into waves (as many CTAs as the occupancy limits let the
device hold at once), builds a :class:`~.machine.Machine` for the wave size, decodes the
program into handlers once, and runs each wave to completion.

Scheduling, per wave. Each step picks one PC and executes it for every runnable thread at
that PC: the **smallest PC among runnable threads**. Threads that took the fall-through of
a branch therefore wait while the taken side runs (forward branches) or until the loop's
other threads leave it (backward branches), and meet again where their PCs become equal;
BSSY/BSYNC and BAR.SYNC block threads explicitly (:mod:`.control`).

Two loops implement the rule. While every live thread of the wave is at one PC and none
waits (the common case), the *converged* loop keeps a scalar PC and calls handlers with no
mask at all (or the live mask once some threads exited); trivially uniform control flow
(an unguarded or uniformly taken branch, an unguarded BSSY/BSYNC/BAR) stays there. The
first non-uniform outcome switches to the *diverged* loop, which keeps a PC per thread
(:class:`~.control.ControlState`) and returns to the converged loop as soon as all live
threads share a PC again with none waiting.

When hazard checking is on, every handler is wrapped to call the hazard checker before it
runs; otherwise the handlers are called directly (no cost).
"""

from __future__ import annotations

import time

import numpy as np

from ..isa.operands import PT_INDEX, BarrierReg, Label
from ..isa.program import Program
from . import memops, warpops
from .config import ArchConfig
from .control import BLOCKED, ControlState
from .decode import Guard, guard_of, noop_handler, pure_handler
from .errors import HazardError, LaunchTimeout, SimulatorError
from .hazards import HazardChecker
from .launch import occupancy
from .machine import WARP, Machine, warp_any
from .memory import GlobalMemory
from .sanitize import Sanitizer
from .semantics import SEMANTICS

PLAIN, BRA, EXIT, BSSY, BSYNC, BAR, END = range(7)
CONTROL_KINDS = {"BRA": BRA, "EXIT": EXIT, "BSSY": BSSY, "BSYNC": BSYNC, "BAR": BAR}
HANDLERS = {
    "LDG": memops.load_handler, "LDS": memops.load_handler, "LDL": memops.load_handler,
    "STG": memops.store_handler, "STS": memops.store_handler, "STL": memops.store_handler,
    "LDC": memops.ldc_handler, "ATOMG": memops.atomic_handler,
    "ATOMS": memops.atomic_handler, "RED": memops.atomic_handler,
    "S2R": warpops.s2r_handler, "CS2R": warpops.s2r_handler,
    "SHFL": warpops.shfl_handler, "VOTE": warpops.vote_handler,
    "HMMA": warpops.hmma_handler,
    "BRA": noop_handler, "EXIT": noop_handler, "BSSY": noop_handler,
    "BSYNC": noop_handler, "BAR": noop_handler, "NOP": noop_handler,
    "WARPSYNC": warpops.warpsync_handler,
}
"""Opcodes the executor implements itself (the others are pure: ``SEMANTICS``)."""
SPARSE = 16
"""Handlers get thread indices when fewer than 1/SPARSE of the wave's threads execute."""
LOCAL_BUDGET = 1 << 28
"""Bytes of local memory a wave may hold; waves shrink to fit (results do not change)."""


class Decoded:
    """A program decoded for one machine: handler, control kind, target, barrier, guard."""

    def __init__(self, m: Machine, program: Program) -> None:
        labels = program.label_map
        self.handlers = []
        self.kinds = []
        self.targets = []
        self.barriers = []
        self.guards: list[Guard] = []
        for pc, inst in enumerate(program.instructions):
            op = inst.opcode
            if op in HANDLERS:
                handler = HANDLERS[op](m, inst, pc)
            elif op in SEMANTICS:
                handler = pure_handler(m, inst, pc, SEMANTICS[op])
            else:
                raise SimulatorError(f"the simulator has no semantics for {op}")
            self.handlers.append(handler)
            self.kinds.append(CONTROL_KINDS.get(op, PLAIN))
            target, barrier = 0, 0
            for operand in inst.operands:
                if isinstance(operand, Label):
                    target = labels[operand.name]
                elif isinstance(operand, BarrierReg):
                    barrier = operand.index
            self.targets.append(target)
            self.barriers.append(barrier)
            self.guards.append(guard_of(m, inst))
        # Falling off the end of the program ends the thread (not counted as issued).
        self.handlers.append(noop_handler(m, None, len(program.instructions)))
        self.kinds.append(END)
        self.targets.append(0)
        self.barriers.append(0)
        self.guards.append(Guard(PT_INDEX, False, m.prow[PT_INDEX]))

    def check_hazards(self, m: Machine, holder: list) -> None:
        """Wrap every handler to run the hazard checker in ``holder[0]`` first."""
        every = np.ones(m.T, bool)
        for pc, handler in enumerate(self.handlers[:-1]):
            self.handlers[pc] = _checked(handler, pc, holder, m, every)


def _checked(handler, pc: int, holder: list, m: Machine, every: np.ndarray):
    def checked(mask, idx):
        found = holder[0].issue(pc, every if mask is None else mask)
        if found is not None:
            t, message = found
            raise m.fault(HazardError, "control codes do not protect a register dependence",
                          pc, t, detail=message)
        handler(mask, idx)
    return checked


def _warps(mask: np.ndarray, idx: np.ndarray | None) -> int:
    if idx is not None:
        if idx.size == 0:
            return 0
        w = idx >> 5
        return 1 + int(np.count_nonzero(w[1:] != w[:-1]))
    return int(np.count_nonzero(warp_any(mask)))


REUSE_ENTRIES = 4
"""Decoded machines a device keeps for later launches of the same program and shape."""
REUSE_BYTES = 4 << 20
"""... when a full wave's registers take no more than this: a small launch's overhead is what
reuse saves. A big one's machines would hold memory for little gain, and were measured to
run saxpy over 2^24 elements three times slower when kept from a process's first launch
(fresh ones are not: page placement, it seems)."""
POLL_STEPS = 4096
"""Steps between two looks at the clock for a launch with a timeout."""


class WaveRunner:
    """Runs one wave on a machine with decoded handlers, counting instructions; with a
    ``deadline`` (``time.monotonic()`` seconds), raises LaunchTimeout past it."""

    def __init__(self, m: Machine, code: Decoded, deadline: float | None = None,
                 max_steps: int | None = None) -> None:
        self.m = m
        self.code = code
        self.instructions = 0
        self.thread_instructions = 0
        self.deadline = deadline
        self.max_steps = max_steps
        """Issue steps this wave may take (the simulator's ``max_instructions``)."""
        self.watched = deadline is not None or max_steps is not None

    def poll(self) -> None:
        """LaunchTimeout past the step budget, or (every POLL_STEPS steps) the deadline."""
        clock = self.m.clock
        if self.max_steps is not None and clock > self.max_steps:
            raise LaunchTimeout(f"kernel '{self.m.program.name}' ran past its instruction "
                                "limit and was stopped", instructions=True)
        if self.deadline is not None and clock % POLL_STEPS == 0 \
                and time.monotonic() > self.deadline:
            raise LaunchTimeout(f"kernel '{self.m.program.name}' ran past its timeout and "
                                "was stopped")

    def run(self) -> None:
        """Run the loaded wave until every thread exited."""
        st = ControlState(self.m)
        pc: int | None = 0
        while pc is not None:
            if self._converged(st, pc):
                return
            pc = self._diverged(st)

    def _converged(self, st: ControlState, pc: int) -> bool:
        """Run while converged; True when the wave is done, False when it diverged."""
        m, code = self.m, self.code
        handlers, kinds, guards = code.handlers, code.kinds, code.guards
        T = m.T
        live = None if st.n_live == T else ~st.exited
        idx = None if live is None or st.n_live * SPARSE >= T else np.flatnonzero(live)
        warps = m.W if live is None else _warps(live, idx)
        n_live = st.n_live
        steps = 0
        poll = self.poll if self.watched else None
        rec = m.recorder
        if rec is not None:
            warpset = rec.converged(live, m)
        try:
            while True:
                kind = kinds[pc]
                if kind == END:
                    st.exited[...] = True
                    st.n_live = 0
                    return True
                if rec is not None:
                    rec.step(pc, warpset)
                handlers[pc](live, idx)
                steps += 1
                m.clock += 1
                if kind == PLAIN:
                    if poll is not None:
                        poll()
                    pc += 1
                    continue
                g = guards[pc]
                if kind == BRA:
                    if g.always:
                        pc = code.targets[pc]
                        continue
                    eff = g.dense(live)
                    count = int(np.count_nonzero(eff))
                    if count == 0:
                        pc += 1
                    elif count == n_live:
                        pc = code.targets[pc]
                    else:
                        st.diverge_at(pc)
                        st.bra(pc, ~st.exited, g, code.targets[pc])
                        return False
                elif kind == EXIT:
                    eff = None if g.always else g.dense(live)
                    count = n_live if eff is None else int(np.count_nonzero(eff))
                    if count == 0:
                        pc += 1
                        continue
                    if eff is None or count == n_live:
                        st.exited[...] = True
                        st.n_live = 0
                        return True
                    self._count(steps, warps, n_live)
                    steps = 0
                    st.exited |= eff
                    st.n_live = n_live = n_live - count
                    live = ~st.exited
                    idx = np.flatnonzero(live) if n_live * SPARSE < T else None
                    warps = _warps(live, idx)
                    if rec is not None:
                        warpset = rec.converged(live, m)
                    pc += 1
                elif g.always:  # BSSY, BSYNC, BAR with every live thread here
                    if kind == BSSY:
                        st.record_all(code.barriers[pc])
                    elif kind == BAR and m.sanitizer is not None:
                        m.sanitizer.barrier(None)
                    pc += 1
                else:
                    st.diverge_at(pc)
                    self._control(st, kind, pc, ~st.exited)
                    return False
        finally:
            self._count(steps, warps, n_live)

    def _count(self, steps: int, warps: int, threads: int) -> None:
        self.instructions += steps * warps
        self.thread_instructions += steps * threads

    def _control(self, st: ControlState, kind: int, p: int, mask: np.ndarray) -> None:
        code = self.code
        g = code.guards[p]
        if kind == BRA:
            st.bra(p, mask, g, code.targets[p])
        elif kind == EXIT:
            st.exit(p, mask, g)
        elif kind == BSSY:
            st.bssy(p, mask, g, code.barriers[p])
        elif kind == BSYNC:
            st.bsync(p, mask, g, code.barriers[p])
        else:
            st.bar(p, mask, g)

    def _diverged(self, st: ControlState) -> int | None:
        """Run while diverged; the PC to continue converged at, or None when done."""
        m, code = self.m, self.code
        handlers, kinds = code.handlers, code.kinds
        spc = st.spc
        T = m.T
        while True:
            p = int(spc.min())
            if p == BLOCKED:
                if st.n_live == 0:
                    return None
                raise st.deadlock()
            mask = spc == p
            n = int(np.count_nonzero(mask))
            if n == st.n_live and st.n_waiting == 0:
                return p
            if kinds[p] == END:
                st.exit(p, mask, code.guards[p])
                continue
            idx = np.flatnonzero(mask) if n * SPARSE < T else None
            if m.recorder is not None:
                m.recorder.step(p, m.recorder.diverged(mask, idx))
            handlers[p](mask, idx)
            m.clock += 1
            if self.watched:
                self.poll()
            self.instructions += _warps(mask, idx)
            self.thread_instructions += n
            kind = kinds[p]
            if kind == PLAIN:
                if idx is None:
                    np.copyto(spc, p + 1, where=mask)
                else:
                    spc[idx] = p + 1
            else:
                self._control(st, kind, p, mask)


def wave_size(program: Program, block: tuple[int, int, int], total: int,
              cfg: ArchConfig) -> tuple[int, int]:
    """(CTAs per SM, CTAs per wave) for this launch."""
    threads = block[0] * block[1] * block[2]
    per_sm = occupancy(program, threads, cfg)
    per_wave = min(per_sm * cfg.num_sms, total)
    if program.local_bytes:
        padded = -(-threads // WARP) * WARP
        per_wave = max(1, min(per_wave, LOCAL_BUDGET // (program.local_bytes * padded)))
    return per_sm, per_wave


def execute(program: Program, grid: tuple[int, int, int], block: tuple[int, int, int],
            bank0: np.ndarray, memory: GlobalMemory, cfg: ArchConfig,
            check_hazards: bool, deadline: float | None = None,
            max_instructions: int | None = None, reuse: dict | None = None,
            recorder=None, sanitize: frozenset[str] = frozenset()) -> dict:
    """Run every CTA of the grid; return the statistics. Past ``deadline``
    (``time.monotonic()`` seconds), or past ``max_instructions`` issue steps in all,
    LaunchTimeout. ``reuse`` (the device's, keyed by program and geometry) keeps decoded
    machines across launches: a launch of the same program and shape only reloads bank 0.
    ``recorder`` (a :class:`~.timing.record.Recorder`) keeps what the timing model needs;
    ``sanitize`` names the sanitizers on (:mod:`.sanitize`)."""
    total = grid[0] * grid[1] * grid[2]
    per_sm, per_wave = wave_size(program, block, total, cfg)
    waves = -(-total // per_wave)
    machines: dict[int, tuple[Machine, Decoded]] = {}
    holder: list = [None]
    hazards = check_hazards
    key = (id(program), grid, block, per_wave, hazards, cfg.num_sms, sanitize)
    padded = -(-(block[0] * block[1] * block[2]) // WARP) * WARP
    keep = reuse is not None and \
        4 * max(program.registers, 1) * per_wave * padded <= REUSE_BYTES
    if keep and key in reuse and reuse[key][0] is program:
        _, machines, holder = reuse[key]
        for m, _code in machines.values():
            m.reload(bank0)
    stats = {"instructions": 0, "thread_instructions": 0, "steps": 0}
    try:
        with np.errstate(all="ignore"):
            for w in range(waves):
                first = w * per_wave
                count = min(per_wave, total - first)
                if count not in machines:
                    m = Machine(program, grid, block, count, bank0, memory, cfg.num_sms)
                    code = Decoded(m, program)
                    if hazards:
                        code.check_hazards(m, holder)
                    if sanitize & {"racecheck", "initcheck"}:
                        m.sanitizer = Sanitizer(m, sanitize)
                    if not keep:
                        machines.clear()  # one wave's machine alive at a time
                    machines[count] = (m, code)
                m, code = machines[count]
                m.start_wave(first, count)
                if m.sanitizer is not None:
                    m.sanitizer.start_wave()
                if recorder is not None:
                    recorder.start_wave(first, count, m.C)
                m.recorder = recorder
                if hazards:
                    holder[0] = HazardChecker(program, m.T)
                budget = None
                if max_instructions is not None:
                    budget = max_instructions - stats["steps"]
                runner = WaveRunner(m, code, deadline, budget)
                runner.run()
                stats["instructions"] += runner.instructions
                stats["thread_instructions"] += runner.thread_instructions
                stats["steps"] += m.clock
    finally:
        for m, _code in machines.values():
            m.recorder = None
    if keep:
        if len(reuse) >= REUSE_ENTRIES and key not in reuse:
            reuse.pop(next(iter(reuse)))
        reuse[key] = (program, machines, holder)
    threads = block[0] * block[1] * block[2]
    stats.update(waves=waves, ctas=total, threads=total * threads, ctas_per_sm=per_sm,
                 ctas_per_wave=per_wave, grid=grid, block=block,
                 registers=program.registers, shared_bytes=program.shared_bytes,
                 hazards_checked=hazards)
    return stats
