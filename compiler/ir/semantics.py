"""Exact semantics of the IR's scalar ops on constants, for folding (and, later, an
interpreter).

Values are Python objects: ``bool`` for ``bool_``, ``int`` (the value itself, within the
type's range) for integers, ``float`` (exactly representable in the type) for floats.
:func:`evaluate` computes an op's result as the op registry defines it (:mod:`.ops`):
integers wrap; floats compute in their own precision through numpy (``f16`` through
``float16``: numpy rounds its f32 intermediate once more, which is exact for + - * /);
integer division by zero, ``MIN / -1`` and out-of-range shifts are undefined and give
``None`` (not folded), as do ops without constant semantics (math, memory, warp ops).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import IRError
from .types import ScalarType, Type

Scalar = bool | int | float
"""A constant's value."""


def wrap(value: int, t: ScalarType) -> int:
    """``value`` wrapped (two's complement) into integer type ``t``'s range."""
    value &= (1 << t.bits) - 1
    if t.is_signed and value > t.max:
        value -= 1 << t.bits
    return value


def round_float(value: float, t: ScalarType) -> float:
    """``value`` (a Python float) rounded to float type ``t`` (to nearest even)."""
    with np.errstate(over="ignore"):
        return float(t.np_dtype.type(value))


def _round_int(n: int, bits: int) -> int:
    """``n`` rounded to ``bits`` significant bits, to nearest even."""
    m = abs(n)
    shift = m.bit_length() - bits
    if shift <= 0:
        return n
    q, r = divmod(m, 1 << shift)
    half = 1 << (shift - 1)
    if r > half or (r == half and q & 1):
        q += 1
    return (q << shift) if n >= 0 else -(q << shift)


MANTISSA_BITS = {16: 11, 32: 24, 64: 53}
"""Significant bits of each float width."""


def int_to_float(n: int, t: ScalarType) -> float:
    """Integer ``n`` converted to float type ``t``, rounded once to nearest even."""
    return round_float(float(_round_int(n, MANTISSA_BITS[t.bits])), t)


def constant_value(value: object, t: Type) -> Scalar:
    """``value`` as a constant of scalar type ``t``: bools and 0/1 for bool, integers in
    range for integer types, numbers rounded to the type for floats; IRError otherwise."""
    if not isinstance(t, ScalarType):
        raise IRError(f"a constant must have a scalar type, not {t}")
    if isinstance(value, np.generic):
        value = value.item()
    if t.is_bool:
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
    elif t.is_int:
        if isinstance(value, int) and not isinstance(value, bool) and t.min <= value <= t.max:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            raise IRError(f"constant {value} does not fit {t}")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return int_to_float(value, t) if isinstance(value, int) else round_float(value, t)
    raise IRError(f"{value!r} is not a {t} constant")


_INT_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "min": min, "max": max,
}


_DIVISIONS_AND_SHIFTS = ("div", "rem", "floordiv", "mod", "shl", "shr")


def _int_binary(name: str, a: int, b: int, t: ScalarType) -> int | None:
    if name in _INT_BINARY:
        return wrap(_INT_BINARY[name](a, b), t)
    if name in ("div", "rem", "floordiv", "mod"):
        if b == 0 or (t.is_signed and a == t.min and b == -1):
            return None
        if name == "floordiv":
            return a // b
        if name == "mod":
            return a % b
        q = abs(a) // abs(b)
        q = q if (a < 0) == (b < 0) else -q
        return q if name == "div" else a - b * q
    if name in ("shl", "shr"):
        if not 0 <= b < t.bits:
            return None
        return wrap(a << b, t) if name == "shl" else a >> b
    return None


def _float_minmax(name: str, a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    if a == b == 0.0:
        neg_a, neg_b = math.copysign(1, a) < 0, math.copysign(1, b) < 0
        pick_neg = (neg_a or neg_b) if name == "min" else (neg_a and neg_b)
        return -0.0 if pick_neg else 0.0
    return min(a, b) if name == "min" else max(a, b)


def _float_binary(name: str, a: float, b: float, t: ScalarType) -> float | None:
    if name in ("min", "max"):
        return _float_minmax(name, a, b)
    x, y = t.np_dtype.type(a), t.np_dtype.type(b)
    with np.errstate(all="ignore"):
        if name == "add":
            r = x + y
        elif name == "sub":
            r = x - y
        elif name == "mul":
            r = x * y
        elif name == "div":
            r = x / y
        elif name == "rem":
            r = np.fmod(x, y)
        elif name in ("floordiv", "mod"):
            # defined for a zero divisor too (inf or NaN), as float division is
            r = np.floor_divide(x, y) if name == "floordiv" else np.remainder(x, y)
        else:
            return None
    return float(r)


def _compare(pred: str, a: Scalar, b: Scalar) -> bool:
    # Python's float comparisons are the IR's: ordered, except != (unordered).
    return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b,
            "ge": a >= b}[pred]


def cast(value: Scalar, src: ScalarType, dst: ScalarType) -> Scalar:
    """``value`` of type ``src`` converted to ``dst`` (see :mod:`.ops` for the rules)."""
    if dst.is_bool:
        return value != 0
    if src.is_bool:
        value = int(value)
    if isinstance(value, int):
        return wrap(value, dst) if dst.is_int else int_to_float(value, dst)
    if dst.is_float:
        return round_float(value, dst)
    if math.isnan(value):
        return 0
    if math.isinf(value):
        return dst.max if value > 0 else dst.min
    return min(max(math.trunc(value), dst.min), dst.max)


def evaluate(name: str, attrs: Mapping[str, object], types: Sequence[Type],
             values: Sequence[Scalar], result_type: Type) -> Scalar | None:
    """The result of op ``name`` on constant operands, or None when it is undefined or
    the op has no constant semantics."""
    if not all(isinstance(t, ScalarType) for t in types):
        return None
    t = types[0] if types else result_type
    if name == "cast":
        return cast(values[0], types[0], result_type)
    if name == "select":
        return values[1] if values[0] else values[2]
    if name == "cmp":
        return _compare(str(attrs.get("pred")), values[0], values[1])
    if name in _INT_BINARY or name in _DIVISIONS_AND_SHIFTS:
        a, b = values
        if t.is_bool:
            return _INT_BINARY[name](a, b) if name in ("and", "or", "xor") else None
        return _int_binary(name, a, b, t) if t.is_int else _float_binary(name, a, b, t)
    if name in ("neg", "abs", "not"):
        (a,) = values
        if t.is_bool:
            return (not a) if name == "not" else None
        if t.is_int:
            return wrap({"neg": -a, "abs": abs(a), "not": ~a}[name], t)
        return {"neg": -a, "abs": abs(a)}.get(name)
    return None
