"""Which registers and predicates an instruction reads and writes, and how late they land.

The control-code passes (:mod:`.scoreboards`, :mod:`.delays`) see an instruction as the
registers it reads (its guard marked: a guard is read at issue) and writes (each register of
an IMAD.WIDE result marked with its half, which lands at its own time): the model of
:mod:`warpforge.isa.dataflow`, which the simulator's hazard checker uses too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ...isa.dataflow import accesses
from ...isa.latency import GUARD, raw_latency
from ...isa.opcodes import OPCODES, OpcodeInfo
from ...isa.operands import PT
from ...isa.program import Instruction

GLOBAL_LOAD_LATENCY = 200
"""The latency a global load's result is planned with (by the scheduler, and by the
scoreboard allocator choosing what to evict): an L2 hit's (gpu-facts.md: about 200-226
cycles), not the opcode table's L1 hit, as ptxas plans them long. With the table's 32,
the tensor-core GEMM's prefetch of the next tile sank below half of a K step's MMAs and
its stores waited on DRAM; and an MMA short of scoreboards evicted the one holding the
prefetch (expected to land first), waiting on DRAM in the middle of the math."""


def planned_latency(opcode: str) -> int:
    """Cycles from issue to result the compiler plans ``opcode`` with: the opcode table's,
    except :data:`GLOBAL_LOAD_LATENCY` for global loads."""
    if opcode == "LDG":
        return GLOBAL_LOAD_LATENCY
    return OPCODES[opcode].latency.cycles


VARIABLE_LANDING = 1
"""Earliest cycle after issue at which a variable-latency result may land: we assume the
least, as nothing bounds a scoreboarded operation from below."""


@dataclass(frozen=True)
class Access:
    """The registers one instruction reads and writes.

    ``reads`` are ``(name, is_guard)``; ``writes`` are ``(name, half)`` with ``half`` 0 or 1
    for the low and high register of an IMAD.WIDE result and None otherwise.
    """

    info: OpcodeInfo
    reads: tuple[tuple[str, bool], ...]
    writes: tuple[tuple[str, int | None], ...]

    @property
    def variable(self) -> bool:
        """True when the results are waited for with a scoreboard, not stall counts."""
        return self.info.latency.variable

    @property
    def sources(self) -> tuple[str, ...]:
        """Registers read as operands (not the guard)."""
        return tuple(name for name, guard in self.reads if not guard)

    @property
    def guard(self) -> str | None:
        """The guard predicate's name, or None for PT."""
        return next((name for name, guard in self.reads if guard), None)


def access(inst: Instruction) -> Access:
    """The registers ``inst`` reads and writes (``isa.dataflow``'s model)."""
    reads, writes = accesses(inst)
    return Access(OPCODES[inst.opcode], reads, writes)


def is_unconditional(inst: Instruction) -> bool:
    """True when the guard is PT, so every thread that issues it takes it."""
    return inst.guard == PT


@functools.cache
def landing(producer: str, half: int | None, predicate: bool) -> int:
    """The latest a fixed-latency result of ``producer`` may take to land, in cycles after
    issue: the largest :func:`isa.latency.raw_latency` any consumer needs (for a predicate,
    the guard rule's :data:`isa.latency.GUARD`). Used to keep two writes of one register in
    order (WAW), so that a later write that is predicated off cannot leave a reader with
    an earlier result still in flight."""
    if predicate:
        return GUARD
    info = OPCODES[producer]
    return max(raw_latency(info, consumer, wide_half=half) for consumer in OPCODES.values())
