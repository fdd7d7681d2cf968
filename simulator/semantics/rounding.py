"""Exact IEEE rounding on numpy arrays: round-to-odd, directed modes, FTZ, NaN, SAT.

numpy computes in round-to-nearest-even only. To round a result correctly in any mode,
the operations here first get it *exactly* as a float64 pair ``s + e`` (a product of two
float32 is exact in float64; a sum's error ``e`` comes from TwoSum), then fold the pair into
one float64 rounded to odd (the last bit set when inexact), and finally round that to the
narrow format in the wanted mode. Rounding to odd at 53 bits and then to ``p <= 51`` bits
gives the correctly rounded result in every mode (Boldo & Melquiond, "When double rounding
is odd", 2005), which is why FFMA is fused with one rounding here.

Conventions: NaN results are the canonical NaN of their format (f32 ``0x7fffffff``, f16
``0x7fff``, f64 ``0x7fffffffffffffff``), as NVIDIA GPUs produce; FTZ flushes subnormals to
zero of the same sign; SAT clamps to [+0, 1] and maps NaN (and -0) to +0, as PTX ``.sat``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

F32_NAN = np.uint32(0x7FFFFFFF)
"""The canonical float32 NaN NVIDIA GPUs produce."""
F16_NAN = np.uint16(0x7FFF)
"""The canonical float16 NaN."""
F64_NAN = np.uint64(0x7FFFFFFFFFFFFFFF)
"""The canonical float64 NaN used for f64 results."""
F32_EXP = np.uint32(0x7F800000)
F32_SIGN = np.uint32(0x80000000)
F16_EXP = np.uint16(0x7C00)
F16_SIGN = np.uint16(0x8000)
_F16_ABS = np.uint16(0x7FFF)
MODES = ("RN", "RZ", "RM", "RP")
"""Rounding modes: nearest even, toward zero, toward -inf, toward +inf."""
NARROW = {"f32": np.float32, "f16": np.float16}

_INF = np.float64(np.inf)

Value = np.ndarray | np.generic
"""An array of per-thread values, or one numpy scalar for all threads."""


def two_sum(x: Value, y: Value) -> tuple[Value, Value]:
    """``(s, e)`` with ``s = fl(x + y)`` and ``s + e == x + y`` exactly (Knuth's TwoSum).

    ``e`` is NaN when ``s`` is infinite or NaN; callers treat that as exact.
    """
    s = x + y
    yv = s - x
    e = (x - (s - yv)) + (y - yv)
    return s, e


def to_odd(s: Value, e: Value) -> Value:
    """Fold the exact float64 pair ``s + e`` (``s`` its RN rounding) into round-to-odd.

    Truncate toward zero (step ``s`` one ulp toward zero when ``e`` points that way), then
    set the last bit when inexact. A NaN ``e`` (infinite ``s``) counts as exact.
    """
    inexact = (e > 0) | (e < 0)
    toward_zero = inexact & (np.signbit(e) != np.signbit(s))
    bits = np.asarray(s).view(np.int64)
    bits = (bits - toward_zero) | inexact
    return bits.view(np.float64)


def f64_rounder(fmt: str, mode: str) -> Callable:
    """``fn(x)`` rounding float64 ``x`` (exact, or rounded to odd) to ``fmt`` in ``mode``.

    ``fmt`` is "f32" or "f16". numpy's cast rounds to nearest even; a directed mode steps
    that result one ulp when it lies on the wrong side of ``x`` (which also turns an RN
    overflow to inf into the largest finite value where the mode asks for it). Call the
    result inside ``np.errstate(all="ignore")``.
    """
    dtype = NARROW[fmt]
    if mode == "RN":
        return lambda x: np.asarray(x).astype(dtype)
    if mode == "RZ":
        target = dtype(0)

        def wrong(back, x):
            return np.abs(back) > np.abs(x)
    elif mode == "RM":
        target = dtype(-np.inf)
        wrong = np.greater
    else:
        target = dtype(np.inf)
        wrong = np.less

    def rnd(x):
        r = np.asarray(x).astype(dtype)
        return np.where(wrong(r.astype(np.float64), x), np.nextafter(r, target), r)

    return rnd


def pair_rounder(fmt: str, mode: str) -> Callable:
    """``fn(s, e)`` rounding the exact float64 pair ``s + e`` (``s`` = RN of the sum) to
    ``fmt`` ("f16", "f32" or "f64") in ``mode``."""
    if fmt != "f64":
        narrow = f64_rounder(fmt, mode)
        return lambda s, e: narrow(to_odd(s, e))
    if mode == "RN":
        return lambda s, e: s
    if mode == "RZ":
        def rnd(s, e):
            step = ((e > 0) | (e < 0)) & (np.signbit(e) != np.signbit(s))
            return np.where(step, np.nextafter(s, 0.0), s)
        return rnd
    if mode == "RM":
        return lambda s, e: np.where(e < 0, np.nextafter(s, -_INF), s)
    return lambda s, e: np.where(e > 0, np.nextafter(s, _INF), s)


def ftz32(bits: Value) -> Value:
    """Flush float32 subnormals (given as uint32 bits) to zero of the same sign."""
    return np.where(np.bitwise_and(bits, F32_EXP) == 0, np.bitwise_and(bits, F32_SIGN), bits)


def ftz16(bits: Value) -> Value:
    """Flush float16 subnormals (given as uint16 bits) to zero of the same sign."""
    return np.where(np.bitwise_and(bits, F16_EXP) == 0, np.bitwise_and(bits, F16_SIGN), bits)


def bits32(r: Value) -> Value:
    """float32 result -> uint32 bits, NaN made canonical."""
    r = np.asarray(r)
    return np.where(r != r, F32_NAN, r.view(np.uint32))


def bits16(r: Value) -> Value:
    """float16 result -> uint16 bits, NaN made canonical (tested on the bits: numpy's
    float16 arithmetic is slow)."""
    bits = np.asarray(r).view(np.uint16)
    return np.where(np.bitwise_and(bits, _F16_ABS) > F16_EXP, F16_NAN, bits)


def bits64(r: Value) -> Value:
    """float64 result -> uint64 bits, NaN made canonical."""
    r = np.asarray(r)
    return np.where(r != r, F64_NAN, r.view(np.uint64))


def saturate(r: Value) -> Value:
    """Clamp a float result to [+0, 1]; NaN and -0 give +0 (PTX ``.sat``)."""
    one = r.dtype.type(1)
    return np.where(r > 0, np.minimum(r, one), r.dtype.type(0))
