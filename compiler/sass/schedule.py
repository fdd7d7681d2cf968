"""Instruction scheduling: list scheduling within straight-line stretches of machine code.

Stretches end at labels, branches, ``BSSY``/``BSYNC``, ``BAR`` and unconditional ``EXIT``
(fences: nothing moves across them). A guarded ``EXIT`` (a bounds check) is ordered like a
memory operation instead, so pure arithmetic may move across it and hide its guard's
latency (threads that leave just compute a value nobody reads).

Within a stretch, a dependence graph over virtual registers and predicates (read after
write with the producer's latency from the opcode table; write after read and write after
write keep their order) plus an order on every memory and warp operation (loads, stores,
atomics, ``SHFL``, ``VOTE``, ``WARPSYNC`` keep their relative order: simple and safe) is
scheduled
top-down: each cycle issues the ready instruction with the longest
latency-weighted path to the stretch's end (ties keep source order), or, when none is
ready, the one ready soonest. So loads float up, ahead of the arithmetic that does not
need them, and their latency overlaps independent work
(``reference/sass-codegen.md`` §3).

Floating loads up costs registers: every loaded value is live until its use. So the
scheduler counts the registers live (those read in the stretch and defined before it,
those it defines, and those live across it untouched), and once they reach the kernel's
limit it picks the candidate that frees the most (waiting for it if need be) instead of
the critical path. The limit (:func:`pressure_limit`) sits just under the occupancy step
the kernel's unavoidable pressure allows, as occupancy only changes at those steps.
"""

from __future__ import annotations

from ...isa.operands import PT
from .mir import MInst, accesses, reg_ids, stretches
from .regalloc import RESERVED_REGISTERS, intervals, register_widths
from .regs import planned_latency

FENCES = frozenset({"LABEL", "BRA", "BSSY", "BSYNC", "BAR", "EXIT"})
"""Opcodes that end a stretch."""
ORDERED = frozenset({"LDG", "STG", "LDS", "STS", "LDL", "STL", "ATOMG", "ATOMS", "RED",
                     "SHFL", "VOTE", "WARPSYNC"})
"""Opcodes kept in their relative order."""


def is_fence(inst: MInst) -> bool:
    """Whether ``inst`` ends a stretch: a fence opcode, but not a guarded ``EXIT``."""
    return inst.opcode in FENCES and not (inst.opcode == "EXIT" and inst.guard != PT)


DEFAULT_THREADS = 256
"""The CTA size registers are planned for when a kernel declares no ``wf.launch_bounds``."""
REGISTERS_PER_SM = 65536
"""32-bit registers an SM has (gpu-facts.md)."""
REGISTER_ALLOC_UNIT = 256
"""Registers are allocated per warp in units of 256 (CUDA occupancy calculator, cc 8.0)."""
MAX_CTAS_PER_SM = 32
"""Resident CTAs an SM holds at most (gpu-facts.md)."""
MAX_WARPS_PER_SM = 64
"""Resident warps an SM holds at most (gpu-facts.md)."""
MAX_THREAD_REGISTERS = 255
"""Registers a thread may use (gpu-facts.md)."""


def occupancy_steps(threads: int = DEFAULT_THREADS) -> tuple[int, ...]:
    """Registers a thread at which a CTA of ``threads`` fits one more time on an SM
    (ascending; the last is the most one CTA may have, 255 at most): between two steps,
    more registers cost no occupancy. For 256 threads: 32, 40, 48, 64, 80, 128, 255 (8,
    6, 5, 4, 3, 2 and 1 CTAs); for 128: ..., 128, 168, 255 (4, 3, 2 and 1); for 1024: 32,
    64 (2 and 1)."""
    warps = -(-threads // 32)
    steps: list[int] = []
    for ctas in range(min(MAX_CTAS_PER_SM, MAX_WARPS_PER_SM // warps), 0, -1):
        per_warp = REGISTERS_PER_SM // (ctas * warps)
        step = min(per_warp // REGISTER_ALLOC_UNIT * REGISTER_ALLOC_UNIT // 32,
                   MAX_THREAD_REGISTERS)
        if step > (steps[-1] if steps else 0):
            steps.append(step)
    return tuple(steps)


OCCUPANCY_STEPS = occupancy_steps()
"""The steps of a CTA of :data:`DEFAULT_THREADS` (``gpu-facts.md``)."""
STEP_SLACK = 12
"""Registers kept free under a step: the 2 reserved, and room for the alignment of pairs
and quads and for the allocator's order."""
MIN_ROOM = 4
"""Registers beyond the values that must be live (the floor) the schedule needs at least
for loads in flight."""
MAX_ROOM = 24
"""Registers beyond the floor the schedule keeps for loads in flight at most, even under a
higher step (six 128-bit loads ahead: a 128x128 GEMM whose floor is 85 ran 189,400 cycles
at N=1024 with 108 live, 196,852 with 116)."""


def pressure_limit(floor: int, steps: tuple[int, ...] = OCCUPANCY_STEPS) -> int:
    """The registers live at once the scheduler aims under, for a kernel whose stretches
    need ``floor`` at least: under the lowest occupancy step with room for ``floor`` and
    :data:`MIN_ROOM` more, by :data:`STEP_SLACK` where the floor allows, and at most
    :data:`MAX_ROOM` above the floor (a GEMM with 64 accumulators: 116 or a little more,
    two CTAs of 256 threads an SM; a 16x16 tiled matmul: 20, eight); past the last step
    but one, ``floor + MAX_ROOM``. ``steps``: :func:`occupancy_steps` of the kernel's CTA
    size."""
    for step in steps[:-1]:
        if floor + MIN_ROOM <= step - RESERVED_REGISTERS:
            return max(min(step - STEP_SLACK, floor + MAX_ROOM), floor + MIN_ROOM)
    # one CTA an SM whatever the count: room for loads in flight as under a step,
    # but bounded, as fewer registers live also meant fewer cycles where measured (a
    # 128x128 GEMM with two stages: 142 registers, 353,635 cycles at N=1024; unbounded,
    # 230 and 467,723); the tensor-core GEMM's double-buffered fragments need the room
    # (128x128x32 with 64x64 warps at 2048^3: floor 179, 121,440 cycles at floor + 4,
    # 116,438 at floor + 24)
    return min(floor + MAX_ROOM, steps[-1] - RESERVED_REGISTERS)


def step_of(registers: int, steps: tuple[int, ...]) -> int:
    """The occupancy step ``registers`` a thread fall under (the last if past them all)."""
    return next((s for s in steps if registers <= s), steps[-1])


def reaim(registers: int, limit: int, steps: tuple[int, ...]) -> int | None:
    """A higher limit to schedule again with, or None. When the registers allocated under
    ``limit`` overshot the step it aimed under and landed under a higher step that is not
    the last, the room up to that step costs no occupancy: aim just under it (less
    :data:`STEP_SLACK`). Measured on the tensor-core GEMM (128x64x32 tiles of two 64x32
    warps, 128 threads, at 2048^3): aimed at 116, 158 registers, 3 CTAs an SM and 170,388
    cycles; again at 156, 3 CTAs and 143,916."""
    step = step_of(registers, steps)
    if step == steps[-1] or step == step_of(limit + RESERVED_REGISTERS, steps) \
            or step - STEP_SLACK <= limit:
        return None
    return step - STEP_SLACK


def kernel_floor(code: list[MInst]) -> int:
    """The registers the kernel's most crowded stretch needs live at least (what
    :func:`pressure_limit` plans from)."""
    spans, _ = intervals(code)
    widths = register_widths(code)
    return max((_Pressure(spans, widths, lo, hi, code).floor
                for lo, hi in stretches(code, is_fence)), default=0)


def schedule(code: list[MInst], limit: int | None = None) -> list[MInst]:
    """``code`` with each straight-line stretch list-scheduled (see the module docstring),
    keeping the registers live at once under ``limit`` (default :func:`pressure_limit` of
    the kernel) where the source order does."""
    spans, _ = intervals(code)
    widths = register_widths(code)
    runs = stretches(code, is_fence)
    pressures = [_Pressure(spans, widths, lo, hi, code) for lo, hi in runs]
    if limit is None:
        limit = pressure_limit(max((p.floor for p in pressures), default=0))
    out: list[MInst] = []
    for (lo, hi), pressure in zip(runs, pressures, strict=True):
        pressure.limit = limit - pressure.through
        out.extend(schedule_stretch(code[lo:hi], pressure))
        if hi < len(code):
            out.append(code[hi])
    return out


class _Pressure:
    """What the scheduler knows of register pressure in ``code[lo:hi]``: each register's
    width, whether it is live after the stretch, and the registers live across it that
    it does not mention (the floor under everything it does)."""

    def __init__(self, spans: dict[int, list[int]], widths: dict[int, int], lo: int,
                 hi: int, code: list[MInst]) -> None:
        mentioned = {v for inst in code[lo:hi] for v in reg_ids(inst)}
        self.widths = widths
        self.live_out = {v for v in mentioned if spans[v][1] > 2 * hi - 1}
        self.live_in = {v for v in mentioned if spans[v][0] < 2 * lo}
        self.through = sum(widths.get(v, 1) for v, (a, b) in spans.items()
                           if a < 2 * lo and b > 2 * hi - 1 and v not in mentioned)
        self.floor = self.through + sum(widths.get(v, 1)
                                        for v in self.live_in | self.live_out)
        """What is live at every point of the stretch or at its ends, at least."""
        self.limit = 0
        """The most registers the stretch's own values may take (set by :func:`schedule`)."""


def _latency(inst: MInst) -> int:
    return planned_latency(inst.opcode)


def schedule_stretch(insts: list[MInst], pressure: _Pressure | None = None) -> list[MInst]:
    """One stretch, reordered (with ``pressure``, kept within its limit where it can)."""
    n = len(insts)
    if n <= 1:
        return list(insts)
    succs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    npreds = [0] * n
    last_write: dict[tuple[str, int], int] = {}
    reads_since: dict[tuple[str, int], list[int]] = {}
    last_ordered = -1

    def edge(a: int, b: int, lat: int) -> None:
        succs[a].append((b, lat))
        npreds[b] += 1

    for i, inst in enumerate(insts):
        rr, rw, pr, pw = accesses(inst)
        reads = [("r", v) for v in rr] + [("p", v) for v in pr]
        writes = [("r", v) for v in rw] + [("p", v) for v in pw]
        for key in reads:
            if key in last_write:
                edge(last_write[key], i, _latency(insts[last_write[key]]))
        for key in writes:
            for r in reads_since.get(key, []):
                if r != i:
                    edge(r, i, 0)
            if key in last_write:
                edge(last_write[key], i, 1)
        for key in reads:
            reads_since.setdefault(key, []).append(i)
        for key in writes:
            last_write[key] = i
            reads_since[key] = []
        if inst.opcode in ORDERED or inst.opcode == "EXIT":
            if last_ordered >= 0:
                edge(last_ordered, i, 0)
            last_ordered = i
    height = [0] * n
    for i in range(n - 1, -1, -1):
        own = _latency(insts[i]) if any(accesses(insts[i])[1::2]) else 1
        height[i] = max([lat + height[j] for j, lat in succs[i]] + [own])
    ready_at = [0] * n
    waiting = list(npreds)
    candidates = [i for i in range(n) if waiting[i] == 0]
    order: list[int] = []
    cycle = 0
    track = _Tracker(insts, pressure) if pressure is not None else None
    while candidates:
        now = [i for i in candidates if ready_at[i] <= cycle]
        if track is not None and track.live >= pressure.limit:
            # too many registers live: what frees the most first (waiting for it if need
            # be), then what is ready soonest, then the critical path
            pick = min(candidates,
                       key=lambda i: (track.delta(i), ready_at[i], -height[i], i))
            cycle = max(cycle, ready_at[pick])
        elif now:
            pick = max(now, key=lambda i: (height[i], -i))
        else:
            pick = min(candidates, key=lambda i: (ready_at[i], -height[i], i))
            cycle = ready_at[pick]
        if track is not None:
            track.take(pick)
        candidates.remove(pick)
        order.append(pick)
        for j, lat in succs[pick]:
            ready_at[j] = max(ready_at[j], cycle + lat)
            waiting[j] -= 1
            if waiting[j] == 0:
                candidates.append(j)
        cycle += 1
    return [insts[i] for i in order]


class _Tracker:
    """Registers live while a stretch is scheduled: those read in it and defined before
    (until their last reader here, unless live after), and those it defines (from their
    definition)."""

    def __init__(self, insts: list[MInst], pressure: _Pressure) -> None:
        self.p = pressure
        found = [accesses(inst) for inst in insts]
        self.reads = [rr for rr, _, _, _ in found]
        self.writes = [rw for _, rw, _, _ in found]
        self.readers: dict[int, int] = {}
        for rr in self.reads:
            for v in set(rr):
                self.readers[v] = self.readers.get(v, 0) + 1
        self.alive = set(pressure.live_in)
        self.live = sum(pressure.widths.get(v, 1) for v in self.alive)

    def _width(self, v: int) -> int:
        return self.p.widths.get(v, 1)

    def delta(self, i: int) -> int:
        """Registers live after scheduling ``i`` less before."""
        grow = sum(self._width(v) for v in set(self.writes[i]) if v not in self.alive)
        free = sum(self._width(v) for v in set(self.reads[i])
                   if self.readers[v] == 1 and v not in self.p.live_out
                   and v not in self.writes[i])
        return grow - free

    def take(self, i: int) -> None:
        """Account for scheduling ``i`` now."""
        for v in set(self.writes[i]):
            if v not in self.alive:
                self.alive.add(v)
                self.live += self._width(v)
        for v in set(self.reads[i]):
            self.readers[v] -= 1
            if self.readers[v] == 0 and v not in self.p.live_out and v in self.alive \
                    and v not in self.writes[i]:
                self.alive.discard(v)
                self.live -= self._width(v)
