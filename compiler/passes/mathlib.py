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
  below 1.5e-7, 3e-7 with f32's rounding); ``erfc = 1 - erf`` below 0.5, else 7.1.26's
  ``poly(t) * exp(-x*x)``.
- ``cbrt``: ``exp2(log2|x| / 3)`` and one Newton step; ``hypot = m * sqrt(1 + (n/m)^2)``
  with ``m = max(|x|, |y|)``; ``copysign`` by comparing with zero (``-0.0`` seen through
  ``1/y``); float ``rem`` (C's fmod) ``= x - trunc(x / y) * y``.

In f64 (the simulator's FP64 pipe): ``exp`` by ``x = n ln2 + r`` and a degree-13 Taylor
polynomial times ``2**n`` built from its bits, ``log`` by the exponent and mantissa and an
``atanh`` series, ``sin``/``cos`` by Cody and Waite's reduction to ``|r| <= pi/4`` and
Taylor polynomials, ``tanh``/``sinh`` through an ``expm1`` without cancellation, ``atan``
with a degree-33 series on the same reduction as f32's; ``tan atan2 asin acos pow hypot
cbrt log2 log10 exp2`` as in f32 from those. Each is within a few ulp of numpy's over the
ranges the tests draw (1e-14 relative). ``erf``/``erfc`` of f64 have no sequence yet:
the instruction selector names them in its error (the CPU runs them).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..ir.builder import Builder
from ..ir.core import Op, Value
from ..ir.function import Function
from ..ir.ops import ops_in
from ..ir.types import ScalarType, f16, f32, f64, i32, i64, u64

NATIVE = frozenset({"exp", "log", "sqrt", "rsqrt", "sin", "cos", "exp2", "log2", "floor",
                    "ceil", "trunc", "round"})
"""Math ops the SASS backend selects directly."""


class _E:
    """A tiny expression helper over a builder: constants of the float type ``t``."""

    def __init__(self, b: Builder, t: ScalarType = f32) -> None:
        self.b = b
        self.t = t

    def k(self, value: float) -> Value:
        return self.b.constant(value, self.t)

    def ik(self, value: int, t: ScalarType) -> Value:
        return self.b.constant(value, t)

    def cast(self, a, t): return self.b.cast(a, t)

    def bitcast(self, a, t):
        return self.b.create("bitcast", (a,), result_types=(t,)).result

    def shl(self, a, b): return self.b.create("shl", (a, b)).result
    def shr(self, a, b): return self.b.create("shr", (a, b)).result
    def band(self, a, b): return self.b.create("and", (a, b)).result
    def bor(self, a, b): return self.b.create("or", (a, b)).result

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
_ATAN64 = [(-1) ** k / (2 * k + 1) for k in range(17)]
"""atan's odd Taylor series to r**33: under 2e-19 for |r| <= tan(pi/12)."""


def _atan_positive(e: _E, a):
    """atan of a >= 0."""
    inverted = e.cmp("gt", a, e.k(1.0))
    r = e.sel(inverted, e.div(e.k(1.0), a), a)  # now in [0, 1]
    tan15 = 2.0 - math.sqrt(3.0)
    rotate = e.cmp("gt", r, e.k(tan15))
    s3 = e.k(math.sqrt(3.0))
    rr = e.sel(rotate, e.div(e.fma(r, s3, e.k(-1.0)), e.add(r, s3)), r)
    series = _ATAN64 if e.t == f64 else _ATAN
    base = e.add(e.odd(rr, series), e.sel(rotate, e.k(math.pi / 6), e.k(0.0)))
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


# --- f64: sin, cos, tan, tanh, sinh, cosh ------------------------------------------------

_PIO2 = (1.57079632673412561417e+00, 6.07710050630396597660e-11, 2.02226624871116645580e-21)
"""pi/2 in three parts (fdlibm's), for Cody and Waite's argument reduction."""
_SIN64 = [(-1) ** k / math.factorial(2 * k + 1) for k in range(9)]
_COS64 = [(-1) ** k / math.factorial(2 * k) for k in range(10)]
_EXPM1 = [1.0 / math.factorial(k + 1) for k in range(18)]


def _sincos64(e: _E, x, cosine: bool):
    """sin or cos in f64: x = k pi/2 + r (|r| <= pi/4, the reduction exact to 1e-16 for
    |x| < 1e9), Taylor polynomials to r**17 and r**18 (error under 1e-16), the quadrant k
    mod 4 picks and signs the result."""
    k = e.fn("round", e.mul(x, e.k(2.0 / math.pi)))
    r = x
    for part in _PIO2:
        r = e.fma(e.neg(k), e.k(part), r)
    s = e.odd(r, _SIN64)
    c = e.poly(e.mul(r, r), _COS64)
    q = e.sub(k, e.mul(e.fn("floor", e.mul(k, e.k(0.25))), e.k(4.0)))  # k mod 4
    if cosine:
        q = e.add(q, e.k(1.0))
        q = e.sel(e.cmp("ge", q, e.k(4.0)), e.sub(q, e.k(4.0)), q)
    odd = e.or_(e.cmp("eq", q, e.k(1.0)), e.cmp("eq", q, e.k(3.0)))
    value = e.sel(odd, c, s)
    return e.sel(e.cmp("ge", q, e.k(2.0)), e.neg(value), value)


def _expm1_64(e: _E, y):
    """e**y - 1 in f64 without cancellation: a Taylor polynomial below 1 in magnitude."""
    small = e.mul(y, e.poly(y, _EXPM1))
    big = e.sub(_exp64(e, y), e.k(1.0))
    return e.sel(e.cmp("lt", e.abs(y), e.k(1.0)), small, big)


def _tanh64(e: _E, x):
    a = e.abs(x)
    t = _expm1_64(e, e.mul(a, e.k(2.0)))
    value = e.sel(e.cmp("gt", a, e.k(22.0)), e.k(1.0), e.div(t, e.add(t, e.k(2.0))))
    return e.with_sign(value, x)


def _sinh64(e: _E, x):
    a = e.abs(x)
    t = _expm1_64(e, a)
    near = e.mul(e.add(t, e.div(t, e.add(t, e.k(1.0)))), e.k(0.5))
    half = _exp64(e, e.mul(a, e.k(0.5)))
    far = e.mul(e.mul(half, e.k(0.5)), half)  # exp(a)/2 without overflowing early
    return e.with_sign(e.sel(e.cmp("lt", a, e.k(22.0)), near, far), x)


def _cosh64(e: _E, x):
    a = e.abs(x)
    half = _exp64(e, e.mul(a, e.k(0.5)))
    p = e.mul(half, half)
    return e.sel(e.cmp("lt", a, e.k(22.0)), e.mul(e.add(p, e.div(e.k(1.0), p)), e.k(0.5)),
                 e.mul(e.mul(half, e.k(0.5)), half))


EXPANSIONS64: dict[str, Callable] = {
    "sin": lambda e, x: _sincos64(e, x, False), "cos": lambda e, x: _sincos64(e, x, True),
    "tan": lambda e, x: e.div(_sincos64(e, x, False), _sincos64(e, x, True)),
    "tanh": _tanh64, "sinh": _sinh64, "cosh": _cosh64,
    "atan": lambda e, x: _atan(e, x), "atan2": lambda e, y, x: _atan2(e, y, x),
    "asin": lambda e, x: _asin(e, x), "acos": lambda e, x: _acos(e, x),
    "hypot": lambda e, x, y: _hypot(e, x, y), "pow": lambda e, x, y: _pow(e, x, y),
    "cbrt": lambda e, x: _cbrt(e, x),
}
"""The f64 math functions the simulator computes by sequences (``erf``/``erfc`` of f64
have none yet: the CPU runs them)."""


# --- f64 exp and log -------------------------------------------------------------------

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_TAYLOR = [1.0 / math.factorial(k) for k in range(14)]


def _pow2(e: _E, n):
    """2.0 ** n for an f64 integer value n in [-1022, 1023], built from its bits."""
    k = e.cast(n, i64)
    bits = e.shl(e.cast(e.add(k, e.ik(1023, i64)), u64), e.ik(52, u64))
    return e.bitcast(bits, f64)


def _exp64(e: _E, x):
    """e ** x in f64: x = n ln2 + r, |r| <= ln2/2, a degree-13 Taylor polynomial (error
    under 1e-17), times 2**n as two halves (so results down to the subnormals)."""
    x = e.b.create("max", (e.b.create("min", (x, e.k(710.0))).result, e.k(-746.0))).result
    n = e.fn("round", e.mul(x, e.k(1.0 / math.log(2.0))))
    r = e.fma(e.neg(n), e.k(_LN2_HI), x)
    r = e.fma(e.neg(n), e.k(_LN2_LO), r)
    p = e.poly(r, _EXP_TAYLOR)
    half = e.fn("trunc", e.mul(n, e.k(0.5)))
    return e.mul(e.mul(p, _pow2(e, half)), _pow2(e, e.sub(n, half)))


def _log64(e: _E, x):
    """The natural log in f64: x = m 2**k with m in [sqrt(2)/2, sqrt(2)), log m =
    2 atanh(s), s = (m-1)/(m+1), an odd series in s to s**21 (error under 1e-17); zero,
    negative, infinite and NaN inputs give IEEE's results."""
    tiny = e.cmp("lt", e.abs(x), e.k(2.0 ** -1022))
    scaled = e.sel(tiny, e.mul(x, e.k(2.0 ** 54)), x)
    bits = e.bitcast(scaled, u64)
    exponent = e.sub(e.cast(e.band(e.shr(bits, e.ik(52, u64)), e.ik(0x7FF, u64)), f64),
                     e.sel(tiny, e.k(1023.0 + 54.0), e.k(1023.0)))
    mantissa = e.bitcast(e.bor(e.band(bits, e.ik((1 << 52) - 1, u64)),
                               e.ik(1023 << 52, u64)), f64)
    big = e.cmp("gt", mantissa, e.k(math.sqrt(2.0)))
    mantissa = e.sel(big, e.mul(mantissa, e.k(0.5)), mantissa)
    exponent = e.sel(big, e.add(exponent, e.k(1.0)), exponent)
    s = e.div(e.sub(mantissa, e.k(1.0)), e.add(mantissa, e.k(1.0)))
    series = e.odd(s, [2.0 / (2 * k + 1) for k in range(11)])
    result = e.fma(exponent, e.k(_LN2_HI), e.fma(exponent, e.k(_LN2_LO), series))
    zero, inf = e.k(0.0), e.k(float("inf"))
    result = e.sel(e.cmp("eq", x, zero), e.neg(inf), result)
    result = e.sel(e.cmp("lt", x, zero), e.div(zero, zero), result)
    return e.sel(e.cmp("eq", x, inf), x, e.sel(e.cmp("ne", x, x), x, result))


# --- Python's float // and % (numpy's algorithm, as the CPU backend computes them) ----

def _py_divmod(e: _E, a, b):
    """(a // b, a % b) for floats, as numpy's ``divmod``."""
    zero, one = e.k(0.0), e.k(1.0)
    mod = e.fn("trunc", e.div(a, b))
    mod = e.fma(e.neg(mod), b, a)  # fmod
    div = e.div(e.sub(a, mod), b)
    fix = e.and_(e.cmp("ne", mod, zero), e.cmp("ne", e.cmp("lt", b, zero),
                                                 e.cmp("lt", mod, zero)))
    mod = e.sel(fix, e.add(mod, b), mod)
    div = e.sel(fix, e.sub(div, one), div)
    mod = e.sel(e.cmp("eq", mod, zero), e.fn("copysign", zero, b), mod)
    floor = e.fn("floor", div)
    floor = e.sel(e.cmp("gt", e.sub(div, floor), e.k(0.5)), e.add(floor, one), floor)
    floor = e.sel(e.cmp("eq", div, zero), e.fn("copysign", zero, e.div(a, b)), floor)
    by_zero = e.cmp("eq", b, zero)  # a // 0 is a / 0 (inf or NaN); a % 0 is NaN
    return (e.sel(by_zero, e.div(a, b), floor), e.sel(by_zero, e.div(zero, zero), mod))


# --- 64-bit integer division ---------------------------------------------------------------

def _udivmod64(e: _E, n, d):
    """(n // d, n % d) of u64 values: 64 steps of binary long division in a loop."""
    zero = e.ik(0, u64)
    one = e.ik(1, u64)
    b = e.b
    with b.for_(b.constant(63, i32), b.constant(-1, i32), b.constant(-1, i32),
                init=[zero, zero]) as loop:
        i = e.cast(loop.iv, u64)
        q, r = loop.carried
        r = e.bor(e.shl(r, one), e.band(e.shr(n, i), one))
        ge = e.cmp("ge", r, d)
        r = e.sel(ge, e.sub(r, d), r)
        q = e.bor(q, e.sel(ge, e.shl(one, i), zero))
        b.create("yield", (q, r))
    return loop.results[0], loop.results[1]


def _int64_division(e: _E, op: Op):
    """``div rem floordiv mod`` of i64/u64 through :func:`_udivmod64` and sign fixes."""
    a, b = op.operands
    t = op.result.type
    if not t.is_signed:
        q, r = _udivmod64(e, a, b)
        return q if op.name in ("div", "floordiv") else r
    zero = e.ik(0, i64)
    neg_a, neg_b = e.cmp("lt", a, zero), e.cmp("lt", b, zero)
    ua = e.cast(e.sel(neg_a, e.sub(zero, a), a), u64)
    ub = e.cast(e.sel(neg_b, e.sub(zero, b), b), u64)
    uq, ur = _udivmod64(e, ua, ub)
    q, r = e.cast(uq, i64), e.cast(ur, i64)
    q = e.sel(e.cmp("ne", neg_a, neg_b), e.sub(zero, q), q)
    r = e.sel(neg_a, e.sub(zero, r), r)
    if op.name == "div":
        return q
    if op.name == "rem":
        return r
    adjust = e.and_(e.cmp("ne", r, zero), e.cmp("ne", neg_a, neg_b))
    if op.name == "floordiv":
        return e.sel(adjust, e.sub(q, e.ik(1, i64)), q)
    return e.sel(adjust, e.add(r, b), r)


# --- f16: computed in f32 ------------------------------------------------------------------

_F16_PROMOTED = frozenset({"add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max",
                           "neg", "abs", "fma", "cmp", *ops_in("math")})


def _promote_f16(e: _E, op: Op):
    """An f16 op computed in f32 and rounded back: for + - * / and sqrt that is exactly
    f16's own correctly rounded result (f32 has more than 2 * 11 + 2 bits)."""
    args = [e.cast(v, f32) if v.type == f16 else v for v in op.operands]
    result_type = f32 if op.results[0].type == f16 else op.results[0].type
    new = e.b.create(op.name, args, dict(op.attrs), (result_type,)).result
    return e.cast(new, f16) if op.results[0].type == f16 else new


def _rewrite(op: Op) -> Callable | None:
    """How to rewrite ``op`` for the SASS backend, or None to keep it."""
    if not op.results or len(op.results) != 1:
        return None
    t = op.results[0].type
    operand_types = op.operand_types
    if op.name in _F16_PROMOTED and (t == f16 or f16 in operand_types):
        return _promote_f16
    if op.name in ("div", "rem", "floordiv", "mod") and isinstance(t, ScalarType) \
            and t.is_int and t.bits == 64:
        return _int64_division
    if op.name in ("floordiv", "mod") and t in (f32, f64):
        return lambda e, op: _py_divmod(e, *op.operands)[op.name == "mod"]
    if op.name == "rem" and t in (f32, f64):
        return lambda e, op: _fmod(e, *op.operands)
    if t == f64 and op.name in ("exp", "log"):
        return lambda e, op: (_exp64 if op.name == "exp" else _log64)(e, op.operands[0])
    if t == f64 and op.name == "log2":
        return lambda e, op: e.mul(_log64(e, op.operands[0]), e.k(1.0 / math.log(2.0)))
    if t == f64 and op.name == "log10":
        return lambda e, op: e.mul(_log64(e, op.operands[0]), e.k(1.0 / math.log(10.0)))
    if t == f64 and op.name == "exp2":
        return lambda e, op: _exp64(e, e.mul(op.operands[0], e.k(math.log(2.0))))
    if t == f64 and op.name == "copysign":
        return lambda e, op: _copysign(e, *op.operands)
    if t == f64 and op.name in EXPANSIONS64:
        return lambda e, op: EXPANSIONS64[op.name](e, *op.operands)
    if t == f32 and op.name in EXPANSIONS:
        return lambda e, op: EXPANSIONS[op.name](e, *op.operands)
    return None


def expand_math(func: Function) -> Function:
    """Rewrite, in place, what the SASS backend has no instructions for (see the module
    docstring): f16 arithmetic, 64-bit integer division, Python's float ``//`` and ``%``,
    float ``rem``, the f32 math functions outside :data:`NATIVE`, and f64 ``exp``/``log``.
    Rewrites may produce ops that are rewritten in turn."""
    for _ in range(4):
        changed = False
        for op in list(func.walk()):
            if op.parent is None:
                continue
            rewrite = _rewrite(op)
            if rewrite is None:
                continue
            t = op.results[0].type
            float_type = t if t in (f32, f64) else f32
            if op.name == "cmp" or t == f16:
                float_type = f32
            b = Builder.before_op(op, op.loc)
            result = rewrite(_E(b, float_type), op)
            op.results[0].replace_all_uses_with(result)
            op.erase()
            changed = True
        if not changed:
            break
    return func
