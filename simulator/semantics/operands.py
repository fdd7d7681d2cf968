"""Reading an instruction's operands for its semantics: source slots, flags, literals.

The executor hands a semantics function the *values* of the source slots; what a factory
needs up front comes from the instruction itself: which flags (``-``, ``|x|``, ``~``) a
source carries, the literals (LUTs, shift counts), and which predicate sources or
destinations are the constant ``PT``. This module reads those facts from the operands
and turns flags into small bit-level functions that the factories compose.

Flags apply with the format the factory names: ``"i32"``/``"i64"`` (``neg`` is two's
complement, ``inv`` bitwise not), ``"f16"``/``"f32"``/``"f64"`` (``abs`` clears and ``neg``
flips the sign bit; ``-|x|`` sets it), ``"f16x2"`` (the sign bits of both halves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import Const, Imm, Operand, Pred, Reg
from ...isa.program import Instruction

SOURCE_KINDS = (Kind.RA, Kind.RB, Kind.RL, Kind.PS, Kind.LIT)
"""Slot kinds whose values the executor passes to a semantics function, in table order."""
DEST_KINDS = (Kind.RD, Kind.PD)
"""Slot kinds a semantics function returns one result for, in table order."""

Transform = Callable[[np.ndarray], np.ndarray]
"""A function applied to one source value before the operation (a flag)."""

SIGN_BITS: dict[str, np.unsignedinteger] = {
    "f16": np.uint32(0x8000),
    "f16x2": np.uint32(0x80008000),
    "f32": np.uint32(0x80000000),
    "f64": np.uint64(1 << 63),
}
"""The sign bit(s) of each float format, as held in a register value."""


def source_operands(inst: Instruction) -> list[Operand]:
    """The operands of ``inst``'s source slots (RA, RB, RL, PS, LIT), in table order."""
    info = OPCODES[inst.opcode]
    return [op for spec, op in zip(info.operands, inst.operands, strict=True)
            if spec.kind in SOURCE_KINDS]


def dest_operands(inst: Instruction) -> list[Operand]:
    """The operands of ``inst``'s destination slots (RD, PD), in table order."""
    info = OPCODES[inst.opcode]
    return [op for spec, op in zip(info.operands, inst.operands, strict=True)
            if spec.kind in DEST_KINDS]


def discarded(operand: Operand) -> bool:
    """True for a destination whose writes are dropped: ``PT`` or ``RZ``."""
    return (isinstance(operand, Pred) and operand.is_pt) or (
        isinstance(operand, Reg) and operand.is_rz)


def constant_pred(operand: Operand) -> bool | None:
    """The value of a predicate source that is ``PT`` or ``!PT``; None for P0..P6."""
    if isinstance(operand, Pred) and operand.is_pt:
        return not operand.neg
    return None


def literal(operand: Operand) -> int:
    """The value of a literal (LIT) operand."""
    if not isinstance(operand, Imm):
        raise ValueError(f"expected a literal, found {operand!r}")
    return operand.bits


def flags_of(operand: Operand) -> frozenset[str]:
    """The source flags written on an operand (``neg``, ``abs``, ``inv``)."""
    if isinstance(operand, Reg):
        names = ("neg", "abs", "inv")
    elif isinstance(operand, Const):
        names = ("neg", "abs")
    else:
        return frozenset()
    return frozenset(n for n in names if getattr(operand, n))


def flag_transform(operand: Operand, fmt: str) -> Transform | None:
    """The function applying ``operand``'s flags in format ``fmt``; None without flags.

    Integer formats: ``inv`` first, then ``neg`` (two's complement, wrapping). Float
    formats: ``abs`` first, then ``neg``, both on the sign bit only (NaN payloads kept).
    """
    flags = flags_of(operand)
    if not flags:
        return None
    if fmt in ("i32", "i64"):
        inv, neg = "inv" in flags, "neg" in flags
        if inv and neg:
            return lambda x: np.negative(np.invert(x))
        return np.invert if inv else np.negative
    sign = SIGN_BITS[fmt]
    if "abs" in flags and "neg" in flags:
        return lambda x: np.bitwise_or(x, sign)
    if "abs" in flags:
        keep = ~sign
        return lambda x: np.bitwise_and(x, keep)
    return lambda x: np.bitwise_xor(x, sign)


def with_transforms(core: Callable[..., tuple], transforms: Sequence[Transform | None]
                    ) -> Callable[..., tuple]:
    """``core`` with ``transforms[i]`` applied to source ``i`` first (None: untouched)."""
    active = [(i, t) for i, t in enumerate(transforms) if t is not None]
    if not active:
        return core

    def fn(*sources):
        values = list(sources)
        for i, t in active:
            values[i] = t(values[i])
        return core(*values)

    return fn
