"""Single-precision arithmetic: FADD, FMUL, FFMA, FMNMX, FSETP, FSEL.

Register words are viewed as float32, never converted. Round-to-nearest FADD and FMUL
are numpy's own IEEE float32 operations. The directed modes (.RZ, .RM, .RP) get the
exact result as float64 first (products of float32 are exact in float64, sums carry their
TwoSum error) and round it once, through :mod:`.rounding`. FFMA to nearest adds the exact
product in float64 and rounds that sum to float32, which is one correct rounding except
when the float64 sum fell exactly on a float32 midpoint or in float32's subnormal range;
those threads (rare) are recomputed exactly. An exact zero sum is +0 except under .RM,
where it is -0 unless both addends are +0 (IEEE 754 6.3).

.FTZ flushes subnormal inputs and results (after rounding) to zero of the same sign;
.SAT clamps to [+0, 1] (NaN to +0). NaN results are the canonical ``0x7fffffff``.
FMNMX follows fminf/fmaxf with -0 < +0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .integer import constant_compare, select
from .operands import constant_pred, flag_transform, source_operands, with_transforms
from .predicate import setp
from .rounding import Value, bits32, f64_rounder, ftz32, pair_rounder, saturate, to_odd, two_sum

F32 = np.float32
F64 = np.float64
U32 = np.uint32
_NEG_ZERO = F32(-0.0)


def _f32(bits):
    return np.asarray(bits).view(F32)


def _f64(bits):
    return np.asarray(bits).view(F32).astype(F64)


def _add_rn(a, b):
    return np.add(_f32(a), _f32(b))


def _mul_rn(a, b):
    return np.multiply(_f32(a), _f32(b))


def _add_directed(mode: str) -> Callable:
    rnd = pair_rounder("f32", mode)
    if mode == "RM":
        def add(a, b):
            x, y = _f64(a), _f64(b)
            s, e = two_sum(x, y)
            exact_zero = (s == 0) & (np.signbit(x) | np.signbit(y))
            return np.where(exact_zero, _NEG_ZERO, rnd(s, e))
    else:
        def add(a, b):
            return rnd(*two_sum(_f64(a), _f64(b)))
    return add


def _mul_directed(mode: str) -> Callable:
    rnd = f64_rounder("f32", mode)

    def mul(a, b):
        return rnd(np.multiply(_f64(a), _f64(b)))
    return mul


_MID_MASK = np.int64(0x1FFFFFFF)      # float64 fraction bits below float32's
_MID = np.int64(0x10000000)           # ... holding exactly a float32 half-ulp
_EXP_MASK = np.int64(0x7FF0000000000000)
_NORMAL32 = np.int64((1023 - 126) << 52)  # float64 bits of 2**-126


def _fma_exact(a, b, c):
    """a*b + c rounded once to float32 (nearest even), through round-to-odd."""
    return to_odd(*two_sum(np.multiply(_f64(a), _f64(b)), _f64(c))).astype(F32)


def _fma_rn(a, b, c):
    """a*b + c rounded once to float32: the float64 sum, except where it could mislead.

    The float64 product is exact and the sum ``s`` is rounded once; rounding ``s`` again to
    float32 gives the right answer unless ``s`` landed exactly on a float32 midpoint (the
    low 29 fraction bits are 1 followed by zeros) or in float32's subnormal range, where
    midpoints sit elsewhere. Those rare threads are recomputed exactly.
    """
    s = np.add(np.multiply(_f64(a), _f32(b)), _f32(c))
    r = s.astype(F32)
    bits = s.view(np.int64)
    suspicious = np.equal(np.bitwise_and(bits, _MID_MASK), _MID)
    suspicious |= np.less(np.bitwise_and(bits, _EXP_MASK), _NORMAL32) & np.not_equal(s, 0)
    if r.ndim == 0:
        return _fma_exact(a, b, c) if suspicious else r
    lanes = np.flatnonzero(suspicious)
    if lanes.size:
        whole = [np.broadcast_to(v, r.shape).reshape(-1)[lanes] for v in (a, b, c)]
        r.reshape(-1)[lanes] = _fma_exact(*whole)
    return r


def _fma(mode: str) -> Callable:
    if mode == "RN":
        return _fma_rn
    rnd = pair_rounder("f32", mode)
    if mode == "RM":
        def fma(a, b, c):
            p, z = np.multiply(_f64(a), _f64(b)), _f64(c)
            s, e = two_sum(p, z)
            exact_zero = (s == 0) & (np.signbit(p) | np.signbit(z))
            return np.where(exact_zero, _NEG_ZERO, rnd(s, e))
    else:
        def fma(a, b, c):
            return rnd(*two_sum(np.multiply(_f64(a), _f64(b)), _f64(c)))
    return fma


def _finisher(ftz: bool, sat: bool) -> Callable:
    """float32 result -> uint32 bits: saturate, canonical NaN, flush."""
    if sat and ftz:
        return lambda r: ftz32(saturate(r).view(U32))
    if sat:
        return lambda r: saturate(r).view(U32)
    if ftz:
        return lambda r: ftz32(bits32(r))
    return bits32


def _arith(compute: Callable, nsrc: int, inst: Instruction, mods: Mapping[str, str]
           ) -> Callable:
    """An FADD/FMUL/FFMA function: flags, optional input flush, compute, finish."""
    ftz = mods.get("ftz") == "FTZ"
    finish = _finisher(ftz, mods.get("sat") == "SAT")
    if ftz:
        if nsrc == 2:
            def core(a, b):
                with np.errstate(all="ignore"):
                    return (finish(compute(ftz32(a), ftz32(b))),)
        else:
            def core(a, b, c):
                with np.errstate(all="ignore"):
                    return (finish(compute(ftz32(a), ftz32(b), ftz32(c))),)
    elif nsrc == 2:
        def core(a, b):
            with np.errstate(all="ignore"):
                return (finish(compute(a, b)),)
    else:
        def core(a, b, c):
            with np.errstate(all="ignore"):
                return (finish(compute(a, b, c)),)
    ops = source_operands(inst)[:nsrc]
    return with_transforms(core, [flag_transform(op, "f32") for op in ops])


def fadd(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FADD[.FTZ][.RM/.RP/.RZ][.SAT]: d = a + b, rounded once."""
    mode = mods.get("rnd", "RN")
    return _arith(_add_rn if mode == "RN" else _add_directed(mode), 2, inst, mods)


def fmul(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FMUL[.FTZ][.RM/.RP/.RZ][.SAT]: d = a * b, rounded once."""
    mode = mods.get("rnd", "RN")
    return _arith(_mul_rn if mode == "RN" else _mul_directed(mode), 2, inst, mods)


def ffma(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FFMA[.FTZ][.RM/.RP/.RZ][.SAT]: d = a * b + c with a single rounding."""
    return _arith(_fma(mods.get("rnd", "RN")), 3, inst, mods)


# --- FMNMX ----------------------------------------------------------------------------

F32_NAN = U32(0x7FFFFFFF)


def fminf(a: Value, b: Value) -> Value:
    """fminf on float32 bit patterns: a NaN loses, two NaNs give 0x7fffffff, -0 < +0.

    ``np.fmin`` already lets a NaN lose; equal values differ at most in the sign of a
    zero, and OR-ing their bits picks -0.
    """
    a, b = np.asarray(a), np.asarray(b)
    x, y = a.view(F32), b.view(F32)
    with np.errstate(invalid="ignore"):
        r = np.fmin(x, y)
        bits = np.where(np.equal(x, y), np.bitwise_or(a, b), r.view(U32))
    return np.where(np.isnan(r), F32_NAN, bits)


def fmaxf(a: Value, b: Value) -> Value:
    """fmaxf on float32 bit patterns: a NaN loses, two NaNs give 0x7fffffff, +0 > -0."""
    a, b = np.asarray(a), np.asarray(b)
    x, y = a.view(F32), b.view(F32)
    with np.errstate(invalid="ignore"):
        r = np.fmax(x, y)
        bits = np.where(np.equal(x, y), np.bitwise_and(a, b), r.view(U32))
    return np.where(np.isnan(r), F32_NAN, bits)


def fmnmx(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FMNMX[.FTZ]: fminf(a, b) when pp, else fmaxf(a, b)."""
    ops = source_operands(inst)
    pick = constant_pred(ops[2])
    if pick is None:
        def choose(a, b, pp):
            return np.where(pp, fminf(a, b), fmaxf(a, b))
    else:
        op = fminf if pick else fmaxf

        def choose(a, b, pp):
            return op(a, b)
    if mods.get("ftz") == "FTZ":
        def core(a, b, pp):
            return (choose(ftz32(a), ftz32(b), pp),)
    else:
        def core(a, b, pp):
            return (choose(a, b, pp),)
    return with_transforms(core, [flag_transform(op, "f32") for op in ops[:2]])


# --- FSETP, FSEL ----------------------------------------------------------------------

def _not(f: Callable) -> Callable:
    return lambda x, y: np.logical_not(f(x, y))


def _ordered_ne(x, y):
    return np.logical_or(np.less(x, y), np.greater(x, y))


def _num(x, y):
    return np.logical_and(np.equal(x, x), np.equal(y, y))


FLOAT_COMPARES: dict[str, Callable] = {
    "LT": np.less, "EQ": np.equal, "LE": np.less_equal, "GT": np.greater,
    "NE": _ordered_ne, "GE": np.greater_equal, "NUM": _num, "NAN": _not(_num),
    "LTU": _not(np.greater_equal), "EQU": _not(_ordered_ne), "LEU": _not(np.greater),
    "GTU": _not(np.less_equal), "NEU": np.not_equal, "GEU": _not(np.less),
}
"""FSETP conditions other than F and T on float32 values; ordered ones are false on NaN,
the ...U forms true."""


def float_setp(inst: Instruction, mods: Mapping[str, str], view: Callable, fmt: str
               ) -> Callable:
    """FSETP and DSETP: pu = (a cmp b) bop pp; pv = !(a cmp b) bop pp, the operands read as
    floats by ``view`` (register values -> numpy floats) after the ``fmt`` operand flags."""
    cmp = mods["cmp"]
    if cmp in ("F", "T"):
        compare = constant_compare(cmp == "T")
    else:
        base = FLOAT_COMPARES[cmp]

        def compare(a, b):
            with np.errstate(invalid="ignore"):
                return base(view(a), view(b))
    fn = setp(compare, inst, mods)
    return with_transforms(fn, [flag_transform(op, fmt) for op in source_operands(inst)[:2]])


def fsetp(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FSETP[.FTZ]: :func:`float_setp` on float32 values (flushed first when .FTZ)."""
    if mods.get("ftz") == "FTZ":
        return float_setp(inst, mods, lambda v: _f32(ftz32(v)), "f32")
    return float_setp(inst, mods, _f32, "f32")


def fsel(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FSEL[.FTZ]: pp ? a : b (flushed when .FTZ)."""
    pick = select(source_operands(inst)[2])
    if mods.get("ftz") == "FTZ":
        return lambda a, b, pp: (ftz32(pick(a, b, pp)[0]),)
    return pick


FACTORIES: dict[str, Callable] = {
    "FADD": fadd, "FMUL": fmul, "FFMA": ffma, "FMNMX": fmnmx, "FSETP": fsetp, "FSEL": fsel,
}
"""Semantics factories of this module, by opcode."""
