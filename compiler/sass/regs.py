"""Which registers and predicates an instruction reads and writes, and how late they land.

The control-code passes (:mod:`.scoreboards`, :mod:`.delays`) see an instruction as the
registers it reads (its guard marked: a guard is read at issue) and writes (each register of
an IMAD.WIDE result marked with its half, which lands at its own time). Widths follow the
opcode table (``OpcodeInfo.widths``): pairs and quads cover 2 and 4 registers; an address
reads its base register (a pair when ``.64``), LDC's constant address its index register;
immediates, constants and special registers read nothing; RZ and PT are neither read nor
written. This is the register model the hazard checker states in
``simulator/hazards.py``; names are spelled ``"R4"`` and ``"P0"``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ...isa.latency import GUARD, has_split_result, raw_latency
from ...isa.opcodes import OPCODES, Kind, OpcodeInfo
from ...isa.operands import PT, PT_INDEX, RZ_INDEX, Addr, Const, Pred, Reg
from ...isa.program import Instruction

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
    """The registers ``inst`` reads and writes (see the module docstring)."""
    info = OPCODES[inst.opcode]
    widths = info.widths(inst.modifiers)
    split = has_split_result(info, info.resolve(inst.modifiers))
    reads: list[tuple[str, bool]] = []
    writes: list[tuple[str, int | None]] = []
    if not inst.guard.is_pt:
        reads.append((f"P{inst.guard.index}", True))
    for spec, op, width in zip(info.operands, inst.operands, widths, strict=True):
        if spec.is_dest:
            for half, name in enumerate(_names(op, width)):
                writes.append((name, half if split else None))
        elif spec.kind is Kind.ADDR and isinstance(op, Addr):
            reads.extend((name, False) for name in _names(Reg(op.reg), 2 if op.wide else 1))
        elif spec.kind is Kind.CADDR and isinstance(op, Const) and op.reg is not None:
            reads.extend((name, False) for name in _names(Reg(op.reg), 1))
        elif spec.kind in (Kind.RA, Kind.RB, Kind.RL, Kind.PS):
            reads.extend((name, False) for name in _names(op, width))
    return Access(info, tuple(dict.fromkeys(reads)), tuple(writes))


def _names(op: object, width: int) -> list[str]:
    if isinstance(op, Reg):
        if op.is_rz:
            return []
        return [f"R{op.index + k}" for k in range(width) if op.index + k < RZ_INDEX]
    if isinstance(op, Pred):
        return [] if op.index == PT_INDEX else [f"P{op.index}"]
    return []


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
