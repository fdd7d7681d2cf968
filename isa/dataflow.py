"""Which registers and predicates an instruction reads and writes.

One model, used by the simulator's hazard checker and by the compiler's control-code
passes alike: the guard predicate is read (at issue); each destination slot writes the
registers its width covers (pairs and quads per ``OpcodeInfo.widths``), each register of
an IMAD.WIDE result marked with its half (it lands at its own time); a register, flexible
or predicate source reads what it covers; an address reads its base register (a pair when
``.64``), LDC's constant address its index register; immediates, constants and special
registers read nothing; RZ and PT are neither read nor written. Names are ``"R4"``,
``"P0"``.
"""

from __future__ import annotations

from .latency import has_split_result
from .opcodes import OPCODES, Kind
from .operands import PT_INDEX, RZ_INDEX, Addr, Const, Pred, Reg
from .program import Instruction

Reads = tuple[tuple[str, bool], ...]
"""Registers read, as ``(name, is_guard)``, each once, in operand order (guard first)."""
Writes = tuple[tuple[str, int | None], ...]
"""Registers written, as ``(name, half)``: 0 or 1 for IMAD.WIDE's low and high register,
None otherwise."""


def accesses(inst: Instruction) -> tuple[Reads, Writes]:
    """The registers and predicates ``inst`` reads and writes (see the module docstring)."""
    info = OPCODES[inst.opcode]
    widths = info.widths(inst.modifiers)
    split = has_split_result(info, info.resolve(inst.modifiers))
    reads: list[tuple[str, bool]] = []
    writes: list[tuple[str, int | None]] = []
    if not inst.guard.is_pt:
        reads.append((f"P{inst.guard.index}", True))
    for spec, op, width in zip(info.operands, inst.operands, widths, strict=True):
        if spec.is_dest:
            for half, name in enumerate(covered(op, width)):
                writes.append((name, half if split else None))
        else:
            reads.extend((name, False) for name in _source_names(spec.kind, op, width))
    return tuple(dict.fromkeys(reads)), tuple(writes)


def covered(op: object, width: int) -> list[str]:
    """Registers or predicates a register or predicate operand covers (none for RZ, PT)."""
    if isinstance(op, Reg):
        if op.is_rz:
            return []
        return [f"R{op.index + k}" for k in range(width) if op.index + k < RZ_INDEX]
    if isinstance(op, Pred):
        return [] if op.index == PT_INDEX else [f"P{op.index}"]
    return []


def _source_names(kind: Kind, op: object, width: int) -> list[str]:
    if kind is Kind.ADDR and isinstance(op, Addr):
        return covered(Reg(op.reg), 2 if op.wide else 1)
    if kind is Kind.CADDR and isinstance(op, Const):
        return [] if op.reg is None else covered(Reg(op.reg), 1)
    if kind in (Kind.RA, Kind.RB, Kind.RL, Kind.PS):
        return covered(op, width)
    return []
