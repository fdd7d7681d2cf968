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
_SIXTEEN = U32(16)


def _lanes(x):
    """uint32 -> (low, high) lanes as uint16 bits."""
    x = np.asarray(x)
    return x.astype(U16), np.right_shift(x, _SIXTEEN).astype(U16)


def _join(lo, hi):
    """uint16 lane bits -> uint32 register."""
    return np.bitwise_or(np.left_shift(np.asarray(hi).astype(U32), _SIXTEEN),
                         np.asarray(lo).astype(U32))


def _lane_op(op: Callable, nsrc: int, ftz: bool) -> Callable:
    """Apply ``op`` (float16 lanes -> float16) to both lanes of ``nsrc`` registers."""
    flush = ftz16 if ftz else (lambda bits: bits)

    def lane(*bits):
        return flush(bits16(op(*(np.asarray(flush(b)).view(F16) for b in bits))))

    def fn(*regs):
        split = [_lanes(r) for r in regs[:nsrc]]
        with np.errstate(all="ignore"):
            lo = lane(*(s[0] for s in split))
            hi = lane(*(s[1] for s in split))
        return (_join(lo, hi),)

    return fn


def _add(a, b):
    return np.add(a.astype(F32), b.astype(F32)).astype(F16)


_fma_round = pair_rounder("f16", "RN")


def _fma(a, b, c):
    return _fma_round(*two_sum(np.multiply(a.astype(F64), b.astype(F64)), c.astype(F64)))


def hadd2(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """HADD2[.FTZ]: per lane d = a + b."""
    ops = source_operands(inst)
    fn = _lane_op(_add, 2, mods.get("ftz") == "FTZ")
    return with_transforms(fn, [flag_transform(op, "f16x2") for op in ops[:2]])


def hfma2(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """HFMA2[.MMA]: per lane d = a * b + c, fused."""
    ops = source_operands(inst)
    fn = _lane_op(_fma, 3, False)
    return with_transforms(fn, [flag_transform(op, "f16x2") for op in ops[:3]])


FACTORIES: dict[str, Callable] = {"HADD2": hadd2, "HFMA2": hfma2}
"""Semantics factories of this module, by opcode."""
