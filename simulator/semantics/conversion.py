"""Conversions: I2F, F2I, F2F, with every type and rounding modifier.

Register layout: 64-bit values (S64/U64/F64) are uint64 pairs; F16 values sit in the low
16 bits of a 32-bit register (the high bits read as zero when written, ignored when read);
8- and 16-bit integer sources are the low bits of the register.

Exactness: every integer of 32 bits or fewer and every float16/float32 value is exact in
float64, so those conversions round once (:func:`.rounding.f64_rounder`). A 64-bit integer
is split into ``hi * 2**32 + lo``, both exact, and TwoSum gives the exact pair, rounded
once with :func:`.rounding.pair_rounder`. F2I rounds to an integer in float64 (exact), then
saturates to the destination's range; NaN gives 0. ``.FTZ`` flushes float32 subnormal
inputs (and F2F's float32 results); ``.NTZ`` is accepted and has no effect here. F2F
between equal types passes the value through (flags and ``.FTZ`` applied; no rounding to
an integer, which real SASS spells FRND). NaN results are canonical (see
:mod:`.rounding`), infinities convert to infinities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .operands import flag_transform, source_operands, with_transforms
from .rounding import (
    bits16,
    bits32,
    bits64,
    f64_rounder,
    ftz32,
    pair_rounder,
    two_sum,
)

F64 = np.float64
U16 = np.uint16
U32 = np.uint32
U64 = np.uint64
_TWO32 = F64(2.0**32)
_LOW32 = U64(0xFFFFFFFF)


def _arr(x):
    return np.asarray(x)


# --- I2F ------------------------------------------------------------------------------

SMALL_INT_SOURCES: dict[str, Callable] = {
    "S32": lambda b: _arr(b).view(np.int32).astype(F64),
    "U32": lambda b: _arr(b).astype(F64),
    "S16": lambda b: _arr(b).astype(U16).view(np.int16).astype(F64),
    "U16": lambda b: _arr(b).astype(U16).astype(F64),
    "S8": lambda b: _arr(b).astype(np.uint8).view(np.int8).astype(F64),
    "U8": lambda b: _arr(b).astype(np.uint8).astype(F64),
}
"""Integer source types of at most 32 bits: register value -> exact float64."""


def _split64(signed: bool) -> Callable:
    """uint64 register pair -> exact (hi * 2**32, lo) float64 pair."""
    if signed:
        def split(b):
            hi = np.right_shift(_arr(b).view(np.int64), 32).astype(F64)
            return np.multiply(hi, _TWO32), np.bitwise_and(b, _LOW32).astype(F64)
    else:
        def split(b):
            hi = np.right_shift(b, U64(32)).astype(F64)
            return np.multiply(hi, _TWO32), np.bitwise_and(b, _LOW32).astype(F64)
    return split


def _pack(fmt: str) -> Callable:
    """Float result of format ``fmt`` -> register value (f16 in the low half)."""
    if fmt == "f16":
        return lambda r: bits16(r).astype(U32)
    if fmt == "f32":
        return bits32
    return bits64


def i2f(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """I2F[.F16/.F64][.stype][.rnd]: d = float(b), rounded once."""
    fmt = {"F16": "f16", "F64": "f64"}.get(mods.get("dtype", ""), "f32")
    stype, mode = mods.get("stype", "S32"), mods.get("rnd", "RN")
    pack = _pack(fmt)
    if stype in ("S64", "U64"):
        split, rnd = _split64(stype == "S64"), pair_rounder(fmt, mode)

        def fn(b):
            with np.errstate(all="ignore"):
                return (pack(rnd(*two_sum(*split(b)))),)
    else:
        value = SMALL_INT_SOURCES[stype]
        if fmt == "f64":
            def fn(b):
                return (pack(value(b)),)
        else:
            rnd = f64_rounder(fmt, mode)

            def fn(b):
                with np.errstate(all="ignore"):
                    return (pack(rnd(value(b))),)
    return fn


# --- float sources --------------------------------------------------------------------

def _float_source(stype: str, ftz: bool) -> Callable:
    """Register value of float type ``stype`` -> its value as a numpy float array."""
    if stype == "F64":
        return lambda b: _arr(b).view(F64)
    if stype == "F16":
        return lambda b: _arr(b).astype(U16).view(np.float16)
    if ftz:
        return lambda b: _arr(ftz32(b)).view(np.float32)
    return lambda b: _arr(b).view(np.float32)


def _flag_format(stype: str) -> str:
    return {"F64": "f64", "F16": "f16"}.get(stype, "f32")


# --- F2I ------------------------------------------------------------------------------

INTEGER_ROUNDING: dict[str, Callable] = {
    "RN": np.rint, "TRUNC": np.trunc, "FLOOR": np.floor, "CEIL": np.ceil,
}
"""F2I rounding to an integral float64 (RN: nearest, ties to even)."""


def _saturate_s32(r):
    return np.clip(r, -(2.0**31), 2.0**31 - 1).astype(np.int32).view(U32)


def _saturate_u32(r):
    return np.clip(r, 0.0, 2.0**32 - 1).astype(U32)


def _saturate_s64(r):
    # 2**63 - 1 is not a float64; the largest float64 below 2**63 is 2**63 - 1024.
    v = np.clip(r, -(2.0**63), 2.0**63 - 1024).astype(np.int64)
    return np.where(r >= 2.0**63, np.int64(2**63 - 1), v).view(U64)


def _saturate_u64(r):
    v = np.clip(r, 0.0, 2.0**64 - 2048).astype(U64)
    return np.where(r >= 2.0**64, U64(2**64 - 1), v)


SATURATE: dict[str, Callable] = {
    "S32": _saturate_s32, "U32": _saturate_u32, "S64": _saturate_s64, "U64": _saturate_u64,
}
"""F2I destination types: integral float64 (NaN already zeroed) -> saturated register."""


def f2i(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """F2I[.FTZ][.dtype][.stype][.rnd]: d = integer(b), rounded, saturating; NaN -> 0."""
    stype = mods.get("stype", "F32")
    value = _float_source(stype, mods.get("ftz") == "FTZ")
    rounding = INTEGER_ROUNDING[mods.get("rnd", "RN")]
    saturate = SATURATE[mods.get("dtype", "S32")]

    def core(b):
        with np.errstate(all="ignore"):
            r = rounding(value(b).astype(F64))
            return (saturate(np.where(r == r, r, 0.0)),)

    return with_transforms(core, [flag_transform(source_operands(inst)[0],
                                                 _flag_format(stype))])


# --- F2F ------------------------------------------------------------------------------

_RANK = {"F16": 0, "F32": 1, "F64": 2}


def f2f(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """F2F[.FTZ].dtype.stype[.rnd]: b converted between f16, f32 and f64, rounded once."""
    dtype, stype = mods["dtype"], mods["stype"]
    ftz = mods.get("ftz") == "FTZ"
    value = _float_source(stype, ftz)
    fmt = _flag_format(dtype)
    pack = _pack(fmt)
    if fmt == "f32" and ftz:
        pack = lambda r: ftz32(bits32(r))  # noqa: E731 - a flushed variant of pack
    if _RANK[dtype] > _RANK[stype]:
        target = {"f32": np.float32, "f64": F64}[fmt]

        def convert(b):
            return value(b).astype(target)
    elif dtype == stype:
        convert = value
    else:
        rnd = f64_rounder(fmt, mods.get("rnd", "RN"))

        def convert(b):
            return rnd(value(b).astype(F64))

    def core(b):
        with np.errstate(all="ignore"):
            return (pack(convert(b)),)

    return with_transforms(core, [flag_transform(source_operands(inst)[0],
                                                 _flag_format(stype))])


def frnd(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FRND[.FTZ][.F64][.rnd]: b rounded to an integer value, in its own float type (exact:
    no rounding error is possible)."""
    stype = mods.get("type", "F32")
    value = _float_source(stype, mods.get("ftz") == "FTZ")
    rounding = INTEGER_ROUNDING[mods.get("rnd", "RN")]
    fmt = _flag_format(stype)
    pack = _pack(fmt)

    def core(b):
        with np.errstate(all="ignore"):
            return (pack(rounding(value(b))),)

    return with_transforms(core, [flag_transform(source_operands(inst)[0], fmt)])


FACTORIES: dict[str, Callable] = {"I2F": i2f, "F2I": f2i, "F2F": f2f, "FRND": frnd}
"""Semantics factories of this module, by opcode."""
