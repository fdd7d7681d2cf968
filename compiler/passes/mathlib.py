"""``expand_math``: the math ops a backend has no instruction for, rewritten into ops it has.

The SASS backend runs ``exp log sqrt rsqrt sin cos exp2 log2`` on the MUFU unit and
``floor ceil trunc round`` on FRND; every other math op of f32 becomes a short sequence of
those and of plain arithmetic, selects and compares (the CPU calls its C library instead).
The sequences, with their accuracy on f32 (measured against numpy in float64 by
``tests/e2e/test_math_functions.py``):

- ``log10(x) = log2(x) * log10(2)``; ``pow(x, y) = exp2(y * log2|x|)``, negated for a
  negative x and an odd integer y, NaN for a negative x and a non-integer y, 1 for y = 0.
- ``tanh`` and ``sinh``: odd Taylor polynomials below 0.5 (truncation error under 1e-9),
  else from ``exp``; ``cosh`` from ``exp``.
- ``atan``: reduced to [0, tan(pi/12)] by ``1/x`` and the pi/6 rotation, then a degree-13
  odd Taylor polynomial; ``atan2`` from it by quadrant; ``asin(x) = atan2(x, sqrt((1-x)
  (1+x)))``, ``acos`` likewise; ``tan = sin / cos``.
- ``erf``: a Taylor polynomial below 0.5, else Abramowitz and Stegun 7.1.26 (absolute error
  below 1.5e-7); ``erfc = 1 - erf`` below 0.5, else 7.1.26's ``poly(t) * exp(-x*x)``.
- ``cbrt``: ``exp2(log2|x| / 3)`` and one Newton step; ``hypot = m * sqrt(1 + (n/m)^2)``
  with ``m = max(|x|, |y|)``; ``copysign`` by comparing with zero (``-0.0`` seen through
  ``1/y``); float ``rem`` (C's fmod) ``= x - trunc(x / y) * y``.

f64 math has no SASS sequence yet: those ops are left as they are, and the instruction
selector names them in its error.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ...compiler.ir.builder import Builder
from ...compiler.ir.core import Op, Value
from ...compiler.ir.function import Function
from ...compiler.ir.types import f32

NATIVE = frozenset({"exp", "log", "sqrt", "rsqrt", "sin", "cos", "exp2", "log2", "floor",
                    "ceil", "trunc", "round"})
"""Math ops the SASS backend selects directly."""


class _E:
    """A tiny expression helper over a builder: constants typed like the op's operands."""

    def __init__(self, b: Builder) -> None:
        self.b = b

    def k(self, value: float) -> Value:
        return self.b.constant(value, f32)

    def add(self, a, b): return self.b.add(a, b)
    def sub(self, a, b): return self.b.sub(a, b)
    def mul(self, a, b): return self.b.mul(a, b)
    def div(self, a, b): return self.b.div(a, b)
    def fn(self, name, *args): return self.b.math(name, *args)
    def neg(self, a): return self.b.create("neg", (a,)).result
    def abs(self, a): return self.b.create("abs", (a,)).result
    def fma(self, a, b, c): return self.b.create("fma", (a, b, c)).result

    def cmp(self, pred, a, b):
        return self.b.create("cmp", (a, b), {"pred": pred}).result

    def sel(self, c, a, b):
        return self.b.create("select", (c, a, b)).result

    def and_(self, a, b): return self.b.create("and", (a, b)).result
    def or_(self, a, b): return self.b.create("or", (a, b)).result

    def poly(self, x, coeffs: list[float]) -> Value:
        """coeffs[0] + coeffs[1] x + ... by Horner's rule with fused multiply-adds."""
        acc = self.k(coeffs[-1])
        for c in reversed(coeffs[:-1]):
            acc = self.fma(acc, x, self.k(c))
        return acc

    def odd(self, x, coeffs: list[float]) -> Value:
        """x * (c0 + c1 x^2 + c2 x^4 + ...)."""
        return self.mul(x, self.poly(self.mul(x, x), coeffs))

    def with_sign(self, magnitude, of):
        """``magnitude`` (>= 0) negated where ``of`` is negative."""
        return self.sel(self.cmp("lt", of, self.k(0.0)), self.neg(magnitude), magnitude)


def _tanh(e: _E, x):
    a = e.abs(x)
    small = e.odd(x, [1.0, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925])
    t = e.fn("exp", e.mul(a, e.k(-2.0)))
    big = e.with_sign(e.div(e.sub(e.k(1.0), t), e.add(e.k(1.0), t)), x)
    return e.sel(e.cmp("lt", a, e.k(0.5)), small, big)


def _sinh(e: _E, x):
    a = e.abs(x)
    small = e.odd(x, [1.0, 1 / 6, 1 / 120, 1 / 5040, 1 / 362880, 1 / 39916800])
    p = e.fn("exp", a)
    big = e.with_sign(e.mul(e.sub(p, e.div(e.k(1.0), p)), e.k(0.5)), x)
    return e.sel(e.cmp("lt", a, e.k(0.5)), small, big)


def _cosh(e: _E, x):
    p = e.fn("exp", e.abs(x))
    return e.mul(e.add(p, e.div(e.k(1.0), p)), e.k(0.5))


_ATAN = [1.0, -1 / 3, 1 / 5, -1 / 7, 1 / 9, -1 / 11, 1 / 13]


def _atan_positive(e: _E, a):
    """atan of a >= 0."""
    inverted = e.cmp("gt", a, e.k(1.0))
    r = e.sel(inverted, e.div(e.k(1.0), a), a)  # now in [0, 1]
    tan15 = 2.0 - math.sqrt(3.0)
    rotate = e.cmp("gt", r, e.k(tan15))
    s3 = e.k(math.sqrt(3.0))
    rr = e.sel(rotate, e.div(e.fma(r, s3, e.k(-1.0)), e.add(r, s3)), r)
    base = e.add(e.odd(rr, _ATAN), e.sel(rotate, e.k(math.pi / 6), e.k(0.0)))
    return e.sel(inverted, e.sub(e.k(math.pi / 2), base), base)


def _atan(e: _E, x):
    return e.with_sign(_atan_positive(e, e.abs(x)), x)


def _atan2(e: _E, y, x):
    zero = e.k(0.0)
    ax, ay = e.abs(x), e.abs(y)
    both_zero = e.and_(e.cmp("eq", ax, zero), e.cmp("eq", ay, zero))
    ratio = e.div(ay, e.sel(both_zero, e.k(1.0), ax))
    angle = _atan_positive(e, ratio)  # in [0, pi/2] for the first quadrant
    left = e.cmp("lt", x, zero)
    # x = -0.0 counts as negative, as in C: seen through 1/x
    left = e.or_(left, e.and_(e.cmp("eq", x, zero),
                               e.cmp("lt", e.div(e.k(1.0), x), zero)))
    angle = e.sel(left, e.sub(e.k(math.pi), angle), angle)
    angle = e.sel(both_zero, e.sel(left, e.k(math.pi), zero), angle)
    negative = e.or_(e.cmp("lt", y, zero),
                     e.and_(e.cmp("eq", y, zero), e.cmp("lt", e.div(e.k(1.0), y), zero)))
    return e.sel(negative, e.neg(angle), angle)


def _asin(e: _E, x):
    c = e.fn("sqrt", e.mul(e.sub(e.k(1.0), x), e.add(e.k(1.0), x)))
    return _atan2(e, x, c)


def _acos(e: _E, x):
    s = e.fn("sqrt", e.mul(e.sub(e.k(1.0), x), e.add(e.k(1.0), x)))
    return _atan2(e, s, x)


def _tan(e: _E, x):
    return e.div(e.fn("sin", x), e.fn("cos", x))


_ERF_TAYLOR = [2 / math.sqrt(math.pi) * c for c in
               (1.0, -1 / 3, 1 / 10, -1 / 42, 1 / 216, -1 / 1320, 1 / 9360)]
_AS_P = 0.3275911
_AS_A = [0.0, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429]


def _erfc_tail(e: _E, a):
    """erfc(a) for a >= 0 by Abramowitz and Stegun 7.1.26."""
    t = e.div(e.k(1.0), e.fma(a, e.k(_AS_P), e.k(1.0)))
    return e.mul(e.poly(t, _AS_A), e.fn("exp", e.neg(e.mul(a, a))))


def _erf(e: _E, x):
    a = e.abs(x)
    small = e.odd(x, _ERF_TAYLOR)
    big = e.with_sign(e.sub(e.k(1.0), _erfc_tail(e, a)), x)
    return e.sel(e.cmp("lt", a, e.k(0.5)), small, big)


def _erfc(e: _E, x):
    a = e.abs(x)
    near = e.sub(e.k(1.0), e.odd(x, _ERF_TAYLOR))
    tail = _erfc_tail(e, a)
    far = e.sel(e.cmp("lt", x, e.k(0.0)), e.sub(e.k(2.0), tail), tail)
    return e.sel(e.cmp("lt", a, e.k(0.5)), near, far)


def _cbrt(e: _E, x):
    a = e.abs(x)
    y = e.fn("exp2", e.mul(e.fn("log2", a), e.k(1 / 3)))
    safe = e.sel(e.cmp("eq", y, e.k(0.0)), e.k(1.0), y)
    step = e.div(e.sub(e.mul(e.mul(y, y), y), a), e.mul(e.mul(safe, safe), e.k(3.0)))
    y = e.sel(e.cmp("eq", y, e.k(0.0)), y, e.sub(y, step))
    return e.with_sign(y, x)


def _hypot(e: _E, x, y):
    ax, ay = e.abs(x), e.abs(y)
    m = e.b.create("max", (ax, ay)).result
    n = e.b.create("min", (ax, ay)).result
    safe = e.sel(e.cmp("eq", m, e.k(0.0)), e.k(1.0), m)
    r = e.div(n, safe)
    return e.mul(m, e.fn("sqrt", e.fma(r, r, e.k(1.0))))


def _copysign(e: _E, x, y):
    a = e.abs(x)
    negative = e.or_(e.cmp("lt", y, e.k(0.0)),
                     e.and_(e.cmp("eq", y, e.k(0.0)), e.cmp("lt", e.div(e.k(1.0), y), e.k(0.0))))
    return e.sel(negative, e.neg(a), a)


def _log10(e: _E, x):
    return e.mul(e.fn("log2", x), e.k(math.log10(2.0)))


def _pow(e: _E, x, y):
    zero, one = e.k(0.0), e.k(1.0)
    r = e.fn("exp2", e.mul(y, e.fn("log2", e.abs(x))))
    integer = e.cmp("eq", e.fn("floor", y), y)
    half = e.mul(y, e.k(0.5))
    odd = e.and_(integer, e.cmp("ne", e.fn("floor", half), half))
    negative = e.cmp("lt", x, zero)
    signed = e.sel(odd, e.neg(r), r)
    r = e.sel(negative, e.sel(integer, signed, e.div(zero, zero)), r)
    return e.sel(e.or_(e.cmp("eq", y, zero), e.cmp("eq", x, one)), one, r)


def _fmod(e: _E, x, y):
    q = e.fn("trunc", e.div(x, y))
    return e.fma(e.neg(q), y, x)


EXPANSIONS: dict[str, Callable] = {
    "tanh": _tanh, "sinh": _sinh, "cosh": _cosh, "atan": _atan, "atan2": _atan2,
    "asin": _asin, "acos": _acos, "tan": _tan, "erf": _erf, "erfc": _erfc, "cbrt": _cbrt,
    "hypot": _hypot, "copysign": _copysign, "log10": _log10, "pow": _pow,
}
"""Each expanded op's sequence (``rem`` of floats is :func:`_fmod`)."""


def _expandable(op: Op) -> Callable | None:
    if not op.results or op.results[0].type != f32:
        return None
    if op.name == "rem":
        return _fmod
    return EXPANSIONS.get(op.name)


def expand_math(func: Function) -> Function:
    """Rewrite the f32 math ops outside :data:`NATIVE` (and float ``rem``) in place."""
    for op in list(func.walk()):
        expansion = _expandable(op)
        if expansion is None or op.parent is None:
            continue
        b = Builder.before_op(op, op.loc)
        result = expansion(_E(b), *op.operands)
        op.results[0].replace_all_uses_with(result)
        op.erase()
    return func
