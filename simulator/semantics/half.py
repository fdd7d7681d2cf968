"""Packed half precision: HADD2 and HFMA2 on the two float16 lanes of a register.

Lane 0 is the low 16 bits, lane 1 the high 16 bits. Source flags act per lane on the
sign bits (15 and 31): the table's HADD2/HFMA2 slots are typed "int" so that immediates
print as raw hex, but ``-`` and ``|x|`` are float flags there.

Rounding: a float16 sum computed in float32 and rounded to float16 is correctly rounded
(24 >= 2*11 + 2, so double rounding is innocuous for addition: Figueroa, "When is double
rounding innocuous?", 1995). HFMA2 is fused: the float16 product is exact in float64, the
sum is folded to round-to-odd and rounded once to float16 (see :mod:`.rounding`).
``.FTZ`` flushes float16 subnormal inputs and results; NaN results are ``0x7fff``.
HFMA2's ``.MMA`` is a scheduling variant with the same value semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .operands import flag_transform, source_operands, with_transforms
from .rounding import bits16, ftz16, pair_rounder, two_sum

F16 = np.float16
F32 = np.float32
F64 = np.float64
U16 = np.uint16
U32 = np.uint32


def _lanes(x):
    """uint32 register value(s) -> float16 array of shape (n, 2), one row per register.

    A view, not a copy, for contiguous arrays. Which column is the low half depends on the
    machine's byte order, but every operation here is lane-wise and :func:`_registers`
    undoes the same view, so each result half lands where its operands came from.
    """
    return np.ascontiguousarray(x, dtype=U32).reshape(-1).view(F16).reshape(-1, 2)


def _registers(bits16, shape):
    """(n, 2) uint16 lane results -> uint32 registers of ``shape``."""
    return np.ascontiguousarray(bits16).view(U32).reshape(shape)


def _lane_op(op: Callable, ftz: bool) -> Callable:
    """Apply ``op`` (float16 lane arrays -> float16) to both lanes of the registers."""
    if ftz:
        def lanes(x):
            return ftz16(_lanes(x).view(U16)).view(F16)

        def finish(r):
            return ftz16(bits16(r))
    else:
        lanes, finish = _lanes, bits16

    def fn(*regs):
        shape = np.broadcast_shapes(*(np.shape(r) for r in regs))
        with np.errstate(all="ignore"):
            return (_registers(finish(op(*(lanes(r) for r in regs))), shape),)

    return fn


def _add(a, b):
    return np.add(a.astype(F32), b.astype(F32)).astype(F16)


_fma_round = pair_rounder("f16", "RN")


def _fma(a, b, c):
    return _fma_round(*two_sum(np.multiply(a.astype(F64), b), c.astype(F64)))


def hadd2(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """HADD2[.FTZ]: per lane d = a + b."""
    ops = source_operands(inst)
    fn = _lane_op(_add, mods.get("ftz") == "FTZ")
    return with_transforms(fn, [flag_transform(op, "f16x2") for op in ops[:2]])


def hfma2(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """HFMA2[.MMA]: per lane d = a * b + c, fused."""
    ops = source_operands(inst)
    fn = _lane_op(_fma, False)
    return with_transforms(fn, [flag_transform(op, "f16x2") for op in ops[:3]])


FACTORIES: dict[str, Callable] = {"HADD2": hadd2, "HFMA2": hfma2}
"""Semantics factories of this module, by opcode."""
