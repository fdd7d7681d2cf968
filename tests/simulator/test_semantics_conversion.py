"""Conversions against exact references: I2F, F2I, F2F with every type and rounding mode.

The expected result of each conversion is the exact source value (a Python integer or a
``Fraction``) rounded by the integer IEEE 754 rounding of the test support, or, for F2I,
rounded to an integer by :mod:`fractions`/:mod:`math` and saturated; 64-bit values are
uint64 register pairs and f16 values the low half of a register.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from .semantics_support import (
    CANONICAL_NAN,
    exact,
    f32_bits,
    float_bits,
    flush,
    is_nan,
    lanes,
    round_exact,
    semantics,
    sign_of,
    u32_arrays,
    u64_arrays,
)

MODES = ("RN", "RZ", "RM", "RP")
EXAMPLES = settings(max_examples=15, deadline=None)
FMT = {"F16": "f16", "F32": "f32", "F64": "f64"}
SIGN = {"f16": 0x8000, "f32": 0x80000000, "f64": 1 << 63}
INF = {"f16": 0x7C00, "f32": 0x7F800000, "f64": 0x7FF0000000000000}


def int_value(raw: int, stype: str) -> int:
    """The integer a register holds for source type ``stype``."""
    bits = int(stype[1:])
    v = raw & ((1 << bits) - 1)
    if stype[0] == "S" and v >> (bits - 1):
        v -= 1 << bits
    return v


# --- I2F ------------------------------------------------------------------------------

@EXAMPLES
@given(u32_arrays(), u64_arrays(),
       st.sampled_from(("S32", "U32", "S64", "U64", "S16", "U16", "S8", "U8")))
def test_i2f(b32, b64, stype):
    b = b64 if stype.endswith("64") else b32
    for dtype in ("F16", "F32", "F64"):
        for mode in MODES:
            mods = tuple(m for m, on in ((dtype, dtype != "F32"), (stype, stype != "S32"),
                                         (mode, mode != "RN")) if on)
            (d,) = semantics("I2F", mods)(b)
            assert d.dtype == (np.uint64 if dtype == "F64" else np.uint32)
            for i in range(len(b)):
                v = int_value(int(b[i]), stype)
                assert int(d[i]) == round_exact(Fraction(v), FMT[dtype], mode), (mods, v)


def test_i2f_large_64_bit_values_round_once():
    # 2**60 + 2**36 + 1: a float32 tie in its upper bits, broken by the last bit.
    v = (1 << 60) + (1 << 36) + 1
    (d,) = semantics("I2F", ("U64",))(np.uint64(v))
    assert int(d) == round_exact(Fraction(v), "f32")
    assert int(d) != f32_bits(float(np.float32(float(v))))  # float64 first rounds wrong
    (e,) = semantics("I2F", ("F64", "S64", "RZ"))(np.uint64((1 << 64) - 3))  # -3
    assert struct.unpack("<d", struct.pack("<Q", int(e)))[0] == -3.0


# --- F2I ------------------------------------------------------------------------------

INT_RANGE = {"S32": (-(2**31), 2**31 - 1), "U32": (0, 2**32 - 1),
             "S64": (-(2**63), 2**63 - 1), "U64": (0, 2**64 - 1)}


def to_integer(x: Fraction, rnd: str) -> int:
    if rnd == "RN":
        return round(x)  # Fraction rounds half to even
    return {"TRUNC": math.trunc, "FLOOR": math.floor, "CEIL": math.ceil}[rnd](x)


def f2i_reference(bits: int, fmt: str, dtype: str, rnd: str) -> int:
    lo, hi = INT_RANGE[dtype]
    if is_nan(bits, fmt):
        return 0
    x = exact(bits, fmt)
    if x is None:  # infinities saturate
        return (lo if sign_of(bits, fmt) else hi) & ((1 << int(dtype[1:])) - 1)
    v = min(max(to_integer(x, rnd), lo), hi)
    return v & ((1 << int(dtype[1:])) - 1)


def doubles():
    element = st.one_of(
        st.floats(allow_nan=True).map(lambda x: struct.unpack("<Q", struct.pack("<d", x))[0]),
        st.sampled_from((0x7FF8000000000000, 1, 0x8000000000000001, 0x43E0000000000000,
                         0xC3E0000000000000, 0x43F0000000000000, 0x41DFFFFFFFC00000)),
        st.integers(0, 2**64 - 1))
    return lanes(np.uint64, element)


def halves():
    return lanes(np.uint32, st.integers(0, 0xFFFF) | st.sampled_from(
        (0x7C00, 0xFC00, 0x7E00, 0x0001, 0x8001, 0x7BFF, 0x3800, 0x3C00, 0xB800)))


@EXAMPLES
@given(st.sampled_from(("F32", "F64", "F16")), st.booleans(), st.sampled_from(("", "-", "|")),
       st.data())
def test_f2i(stype, ftz, flag, data):
    fmt = FMT[stype]
    b = data.draw({"F32": float_bits(), "F64": doubles(), "F16": halves()}[stype])
    for dtype in ("S32", "U32", "S64", "U64"):
        for rnd in ("RN", "TRUNC", "FLOOR", "CEIL"):
            mods = tuple(m for m, on in (("FTZ", ftz), (dtype, dtype != "S32"),
                                         (stype, stype != "F32"), (rnd, rnd != "RN")) if on)
            (d,) = semantics("F2I", mods, flags={"b": flag})(b)
            assert d.dtype == (np.uint64 if dtype.endswith("64") else np.uint32)
            for i in range(len(b)):
                bits = int(b[i]) & (0xFFFF if fmt == "f16" else (1 << 64) - 1)
                if "|" in flag:
                    bits &= ~SIGN[fmt]
                if "-" in flag:
                    bits ^= SIGN[fmt]
                if ftz and fmt == "f32":
                    bits = flush(bits)
                assert int(d[i]) == f2i_reference(bits, fmt, dtype, rnd), (hex(bits), mods)


def test_f2i_saturation_and_nan():
    run = lambda mods, x: int(semantics("F2I", mods)(np.uint32(f32_bits(x)))[0])  # noqa: E731
    assert run((), 3e9) == 0x7FFFFFFF and run((), -3e9) == 0x80000000
    assert run(("U32",), -5.0) == 0 and run(("U32",), 1e10) == 0xFFFFFFFF
    assert run((), float("nan")) == 0 and run(("U64",), float("nan")) == 0
    assert run(("S64",), float("inf")) == 2**63 - 1
    assert run(("S64",), -1e30) == 2**63 and run(("U64",), 1e30) == 2**64 - 1
    assert run((), 2.5) == 2 and run((), 3.5) == 4 and run((), -2.5) == (-2) & 0xFFFFFFFF
    assert run(("FLOOR",), -0.5) == 0xFFFFFFFF and run(("CEIL",), 0.25) == 1
    assert run(("CEIL",), 1e-40) == 1 and run(("FTZ", "U32", "CEIL"), 1e-40) == 0


# --- F2F ------------------------------------------------------------------------------

def f2f_reference(bits: int, sfmt: str, dfmt: str, mode: str, ftz: bool) -> int:
    if ftz and sfmt == "f32":
        bits = flush(bits, "f32")
    if is_nan(bits, sfmt):
        return CANONICAL_NAN[dfmt]
    x = exact(bits, sfmt)
    negative = sign_of(bits, sfmt)
    if x is None:
        r = INF[dfmt] | (SIGN[dfmt] if negative else 0)
    else:
        r = round_exact(x, dfmt, mode, zero_negative=negative)
    if ftz and dfmt == "f32":
        r = flush(r, "f32")
    return r


@EXAMPLES
@given(st.sampled_from(("F16", "F32", "F64")), st.booleans(), st.sampled_from(("", "-", "-|")),
       st.data())
def test_f2f(stype, ftz, flag, data):
    sfmt = FMT[stype]
    b = data.draw({"F32": float_bits(), "F64": doubles(), "F16": halves()}[stype])
    for dtype in ("F16", "F32", "F64"):
        for mode in MODES:
            dfmt = FMT[dtype]
            mods = tuple(m for m, on in (("FTZ", ftz), (dtype, True), (stype, True),
                                         (mode, mode != "RN")) if on)
            (d,) = semantics("F2F", mods, flags={"b": flag})(b)
            assert d.dtype == (np.uint64 if dfmt == "f64" else np.uint32)
            for i in range(len(b)):
                bits = int(b[i]) & (0xFFFF if sfmt == "f16" else (1 << 64) - 1)
                if "|" in flag:
                    bits &= ~SIGN[sfmt]
                if "-" in flag:
                    bits ^= SIGN[sfmt]
                expect = f2f_reference(bits, sfmt, dfmt, mode, ftz)
                assert int(d[i]) == expect, (hex(bits), mods)


def test_f2f_narrowing_overflow_and_underflow():
    big = np.uint64(struct.unpack("<Q", struct.pack("<d", 1e300))[0])
    tiny = np.uint64(struct.unpack("<Q", struct.pack("<d", 1e-300))[0])
    run = lambda mods, x: int(semantics("F2F", mods)(x)[0])  # noqa: E731
    assert run(("F32", "F64"), big) == 0x7F800000
    assert run(("F32", "F64", "RZ"), big) == 0x7F7FFFFF
    assert run(("F32", "F64", "RP"), tiny) == 0x00000001
    assert run(("F32", "F64"), tiny) == 0
    assert run(("F16", "F32"), np.uint32(f32_bits(65520.0))) == 0x7C00
    assert run(("F16", "F32", "RZ"), np.uint32(f32_bits(65520.0))) == 0x7BFF
    assert run(("F32", "F16"), np.uint32(0xFFFF7C00)) == 0x7F800000  # high half ignored
