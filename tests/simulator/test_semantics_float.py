"""Float semantics against exact references: FADD, FMUL, FFMA, FMNMX, FSETP, FSEL, MUFU.

Arithmetic results are compared bit for bit with the exact result (``fractions.Fraction``)
rounded by an independent integer implementation of IEEE 754 rounding, in every rounding
mode, with and without FTZ and SAT, on edge patterns (zeros, subnormals, infinities, NaNs,
extremes) and random ones. FFMA also gets inputs built so that rounding the float64 sum
to float32 would round twice the wrong way. MUFU is checked against :mod:`math` within
the bounds its module states.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa.operands import NOT_PT, PT

from .semantics_support import (
    CANONICAL_NAN,
    LANES,
    bool_arrays,
    exact,
    f32_bits,
    f32_value,
    float_bits,
    flush,
    is_nan,
    lanes,
    round_exact,
    semantics,
    sign_of,
)

NAN = CANONICAL_NAN["f32"]
MODES = ("RN", "RZ", "RM", "RP")
EXAMPLES = settings(max_examples=15, deadline=None)
ONE = 0x3F800000


def mods_for(mode: str, ftz: bool = False, sat: bool = False) -> tuple[str, ...]:
    return tuple(m for m, on in (("FTZ", ftz), (mode, mode != "RN"), ("SAT", sat)) if on)


def apply_flags(bits: int, spell: str) -> int:
    if "|" in spell:
        bits &= 0x7FFFFFFF
    if "-" in spell:
        bits ^= 0x80000000
    return bits


def finish(bits: int, ftz: bool, sat: bool) -> int:
    """SAT and FTZ on a rounded result."""
    if sat:
        if is_nan(bits) or sign_of(bits) or bits == 0:
            return 0
        bits = min(bits, ONE)  # positive floats order like their bits
    return flush(bits) if ftz else bits


def special(values: list[int], compute) -> int | None:
    """NaN/inf inputs: the result from Python float arithmetic, or None when all finite."""
    if any(is_nan(v) for v in values):
        return NAN
    if all(exact(v) is not None for v in values):
        return None
    r = compute(*(f32_value(v) for v in values))
    return NAN if r != r else f32_bits(r)


def ref_add(a: int, b: int, mode: str) -> int:
    s = special([a, b], lambda x, y: x + y)
    if s is not None:
        return s
    x, y = exact(a), exact(b)
    total = x + y
    if total == 0 and x == 0 and y == 0 and sign_of(a) == sign_of(b):
        negative = sign_of(a)
    else:
        negative = mode == "RM"
    return round_exact(total, "f32", mode, zero_negative=negative)


def ref_mul(a: int, b: int, mode: str) -> int:
    s = special([a, b], lambda x, y: x * y)
    if s is not None:
        return s
    return round_exact(exact(a) * exact(b), "f32", mode,
                       zero_negative=sign_of(a) != sign_of(b))


def ref_fma(a: int, b: int, c: int, mode: str) -> int:
    s = special([a, b, c], lambda x, y, z: x * y + z)
    if s is not None:
        return s
    p, z = exact(a) * exact(b), exact(c)
    p_negative = sign_of(a) != sign_of(b)
    total = p + z
    if total == 0 and p == 0 and z == 0 and p_negative == sign_of(c):
        negative = p_negative
    else:
        negative = mode == "RM"
    return round_exact(total, "f32", mode, zero_negative=negative)


REFERENCES = {"FADD": ref_add, "FMUL": ref_mul, "FFMA": ref_fma}
FLAG_SPELLINGS = {"FADD": ("", "-", "|", "-|"), "FMUL": ("", "-", "|", "-|"),
                  "FFMA": ("", "-")}


def check_arith(opcode, modes, ftz, sat, spells, *arrays):
    """``opcode`` in each of ``modes`` against the exact reference, lane by lane."""
    flags = dict(zip("abc", spells, strict=False))
    for mode in modes:
        (d,) = semantics(opcode, mods_for(mode, ftz, sat), flags=flags)(*arrays)
        assert d.dtype == np.uint32
        for i in range(len(arrays[0])):
            inputs = [apply_flags(int(x[i]), f) for x, f in zip(arrays, spells, strict=True)]
            if ftz:
                inputs = [flush(v) for v in inputs]
            expect = finish(REFERENCES[opcode](*inputs, mode), ftz, sat)
            assert int(d[i]) == expect, (opcode, mode, ftz, sat, [hex(v) for v in inputs])


@EXAMPLES
@given(float_bits(), float_bits(), st.booleans(), st.booleans(),
       st.sampled_from(FLAG_SPELLINGS["FADD"]), st.sampled_from(FLAG_SPELLINGS["FADD"]))
def test_fadd(a, b, ftz, sat, fa, fb):
    check_arith("FADD", MODES, ftz, sat, (fa, fb), a, b)


@EXAMPLES
@given(float_bits(), float_bits(), st.booleans(), st.booleans(),
       st.sampled_from(FLAG_SPELLINGS["FMUL"]), st.sampled_from(FLAG_SPELLINGS["FMUL"]))
def test_fmul(a, b, ftz, sat, fa, fb):
    check_arith("FMUL", MODES, ftz, sat, (fa, fb), a, b)


@EXAMPLES
@given(float_bits(), float_bits(), float_bits(), st.booleans(), st.booleans(),
       st.tuples(*[st.sampled_from(FLAG_SPELLINGS["FFMA"])] * 3))
def test_ffma(a, b, c, ftz, sat, spells):
    check_arith("FFMA", MODES, ftz, sat, spells, a, b, c)


def nearby_floats():
    """float32 values with few significant bits, so sums and products cancel and tie."""
    return st.builds(lambda m, e, neg: f32_bits((-1) ** neg * m * 2.0**e),
                     st.integers(1, 1 << 13), st.integers(-30, 30), st.booleans())


@st.composite
def fma_hard_cases(draw):
    """(a, b, c) whose exact a*b + c lies just off a float32 rounding boundary.

    a and b are odd 13-bit integers scaled by powers of two, so a*b needs 25-26 bits: a
    float32 midpoint or near one. c is a far smaller power of two (the sticky bits
    float64 rounding would drop), or minus the product's rounding (its exact error).
    """
    a, b, c = [], [], []
    for _ in range(LANES):
        x = draw(st.integers(1 << 12, (1 << 13) - 1)) | 1
        y = draw(st.integers(1 << 12, (1 << 13) - 1)) | 1
        ex, ey = draw(st.integers(-40, 40)), draw(st.integers(-40, 40))
        sign = -1 if draw(st.booleans()) else 1
        av, bv = sign * x * 2.0**ex, y * 2.0**ey
        kind = draw(st.integers(0, 2))
        p = av * bv
        if kind == 0:
            cv = (-1) ** draw(st.booleans()) * abs(p) * 2.0 ** -draw(st.integers(30, 90))
        elif kind == 1:
            cv = -float(np.float32(p))
        else:
            cv = draw(st.floats(width=32, allow_nan=False, allow_infinity=False))
        a.append(f32_bits(av))
        b.append(f32_bits(bv))
        c.append(f32_bits(cv))
    return [np.array(v, np.uint32) for v in (a, b, c)]


@settings(max_examples=25, deadline=None)
@given(fma_hard_cases())
def test_ffma_single_rounding_on_hard_cases(abc):
    check_arith("FFMA", MODES, False, False, ("", "", ""), *abc)


def test_ffma_is_not_float64_double_rounding():
    """(1 + 2**-12)**2 + 2**-80: the float64 sum is a float32 tie that rounds down."""
    a = np.uint32(f32_bits(1 + 2.0**-12))
    c = np.uint32(f32_bits(2.0**-80))
    (d,) = semantics("FFMA")(a, a, c)
    assert f32_value(int(d)) == 1 + 2.0**-11 + 2.0**-23
    naive = np.float32(np.float64(f32_value(int(a))) ** 2 + 2.0**-80)
    assert float(naive) == 1 + 2.0**-11  # what double rounding would give


def test_ffma_single_rounding_in_the_subnormal_range():
    """3(1 - 2**-36) 2**-150 + 2**-127 sits 3*2**-186 below a subnormal float32 tie;
    float64 rounds it onto the tie (its ulp there is 2**-179)."""
    a = np.uint32(f32_bits(3 * (1 + 2.0**-18) * 2.0**-75))
    b = np.uint32(f32_bits((1 - 2.0**-18) * 2.0**-75))
    c = np.uint32(f32_bits(2.0**-127))
    expect = round_exact(exact(int(a)) * exact(int(b)) + exact(int(c)), "f32")
    assert expect == 0x00400001  # 2**-127 + 2**-149, rounded down
    for args in ((a, b, c), (np.full(3, a), b, np.full(3, c))):
        (d,) = semantics("FFMA")(*args)
        assert np.all(d == expect)


@EXAMPLES
@given(lanes(np.uint32, nearby_floats()), lanes(np.uint32, nearby_floats()))
def test_fadd_cancellation_and_zero_signs(a, b):
    check_arith("FADD", MODES, False, False, ("", ""), a, b)
    check_arith("FADD", MODES, False, False, ("", "-"), a, a)  # x - x


def test_fadd_exact_zero_signs():
    pz, nz, one = np.uint32(0), np.uint32(0x80000000), np.uint32(ONE)
    for mode, expect in (("RN", 0), ("RZ", 0), ("RP", 0), ("RM", 0x80000000)):
        f = semantics("FADD", mods_for(mode))
        assert int(f(one, one ^ np.uint32(0x80000000))[0]) == expect
        assert int(f(pz, nz)[0]) == expect
        assert int(f(nz, nz)[0]) == 0x80000000
        assert int(f(pz, pz)[0]) == 0


def test_overflow_per_mode():
    big = np.uint32(0x7F7FFFFF)  # FLT_MAX
    expect = {"RN": 0x7F800000, "RZ": 0x7F7FFFFF, "RM": 0x7F7FFFFF, "RP": 0x7F800000}
    for mode, bits in expect.items():
        assert int(semantics("FADD", mods_for(mode))(big, big)[0]) == bits
        assert int(semantics("FMUL", mods_for(mode))(big, big)[0]) == bits
        neg = int(semantics("FMUL", mods_for(mode), flags={"a": "-"})(big, big)[0])
        mirrored = {"RM": "RP", "RP": "RM"}.get(mode, mode)
        assert neg == expect[mirrored] | 0x80000000


# --- FMNMX ----------------------------------------------------------------------------

def fminmax_reference(a: int, b: int, minimum: bool) -> int:
    if is_nan(a) and is_nan(b):
        return NAN
    if is_nan(a):
        return b
    if is_nan(b):
        return a

    def key(bits):  # value order with -0 < +0
        v = f32_value(bits)
        return (v, 1 if not sign_of(bits) else 0)

    pick = min if minimum else max
    return pick((a, b), key=key)


@EXAMPLES
@given(float_bits(), float_bits(), bool_arrays(), st.booleans(),
       st.sampled_from(("", "-", "|", "-|")))
def test_fmnmx(a, b, pp, ftz, fb):
    mods = ("FTZ",) if ftz else ()
    (d,) = semantics("FMNMX", mods, flags={"b": fb})(a, b, pp)
    (lo,) = semantics("FMNMX", mods, flags={"b": fb}, ops={"pp": PT})(a, b, pp)
    (hi,) = semantics("FMNMX", mods, flags={"b": fb}, ops={"pp": NOT_PT})(a, b, pp)
    for i in range(len(a)):
        x, y = int(a[i]), apply_flags(int(b[i]), fb)
        if ftz:
            x, y = flush(x), flush(y)
        assert int(lo[i]) == fminmax_reference(x, y, True)
        assert int(hi[i]) == fminmax_reference(x, y, False)
        assert int(d[i]) == (int(lo[i]) if pp[i] else int(hi[i]))


def test_fmnmx_zeros_and_nans():
    pz, nz, qnan = np.uint32(0), np.uint32(0x80000000), np.uint32(0x7FC00000)
    one = np.uint32(ONE)
    fmin = semantics("FMNMX", ops={"pp": PT})
    fmax = semantics("FMNMX", ops={"pp": NOT_PT})
    assert int(fmin(pz, nz, True)[0]) == 0x80000000
    assert int(fmin(nz, pz, True)[0]) == 0x80000000
    assert int(fmax(nz, pz, True)[0]) == 0
    assert int(fmin(qnan, one, True)[0]) == ONE
    assert int(fmax(one, np.uint32(0xFFC00001), True)[0]) == ONE
    assert int(fmin(qnan, np.uint32(0xFFC00000), True)[0]) == NAN
    assert int(fmax(qnan, np.uint32(0xFFC00000), True)[0]) == NAN


# --- FSETP, FSEL ----------------------------------------------------------------------

ORDERED = {"LT": lambda x, y: x < y, "EQ": lambda x, y: x == y, "LE": lambda x, y: x <= y,
           "GT": lambda x, y: x > y, "NE": lambda x, y: x != y, "GE": lambda x, y: x >= y}
BOP = {"AND": lambda p, q: p and q, "OR": lambda p, q: p or q, "XOR": lambda p, q: p != q}


def fsetp_reference(cmp: str, x: float, y: float) -> bool:
    unordered = x != x or y != y
    if cmp in ("F", "T"):
        return cmp == "T"
    if cmp == "NUM":
        return not unordered
    if cmp == "NAN":
        return unordered
    if cmp.endswith("U"):
        return unordered or ORDERED[cmp[:-1]](x, y)
    return not unordered and ORDERED[cmp](x, y)


FSETP_CMPS = ("F", "LT", "EQ", "LE", "GT", "NE", "GE", "NUM", "NAN",
              "LTU", "EQU", "LEU", "GTU", "NEU", "GEU", "T")


@settings(max_examples=12, deadline=None)
@given(float_bits(), float_bits(), bool_arrays(), st.sampled_from(sorted(BOP)),
       st.booleans(), st.sampled_from(("", "-", "|")))
def test_fsetp_every_condition(a, b, pp, bop, ftz, fa):
    for cmp in FSETP_CMPS:
        mods = (cmp, bop) + (("FTZ",) if ftz else ())
        pu, pv = semantics("FSETP", mods, flags={"a": fa})(a, b, pp)
        for i in range(len(a)):
            x, y = apply_flags(int(a[i]), fa), int(b[i])
            if ftz:
                x, y = flush(x), flush(y)
            r = fsetp_reference(cmp, f32_value(x), f32_value(y))
            assert bool(pu[i]) == BOP[bop](r, bool(pp[i])), (cmp, hex(x), hex(y))
            assert bool(pv[i]) == BOP[bop](not r, bool(pp[i]))


@pytest.mark.parametrize("cmp", FSETP_CMPS)
def test_fsetp_nan_and_infinity(cmp):
    values = [0x7FC00000, 0x7F800000, 0xFF800000, 0, 0x80000000, ONE, 0x00000001]
    a = np.array([x for x in values for _ in values], np.uint32)
    b = np.array([y for _ in values for y in values], np.uint32)
    pu, _ = semantics("FSETP", (cmp, "AND"))(a, b, np.True_)
    for i in range(len(a)):
        x, y = f32_value(int(a[i])), f32_value(int(b[i]))
        assert bool(pu[i]) == fsetp_reference(cmp, x, y)
        if x != x:
            assert bool(pu[i]) == (cmp in ("T", "NAN") or cmp.endswith("U"))


def test_fsetp_ftz_makes_subnormals_equal_zero():
    tiny, zero = np.uint32(1), np.uint32(0x80000000)
    assert not semantics("FSETP", ("EQ", "AND"))(tiny, zero, np.True_)[0]
    assert semantics("FSETP", ("EQ", "AND", "FTZ"))(tiny, zero, np.True_)[0]


@EXAMPLES
@given(float_bits(), float_bits(), bool_arrays())
def test_fsel(a, b, pp):
    assert np.array_equal(semantics("FSEL")(a, b, pp)[0], np.where(pp, a, b))
    (d,) = semantics("FSEL", ("FTZ",))(a, b, pp)
    for i in range(len(a)):
        assert int(d[i]) == flush(int(a[i]) if pp[i] else int(b[i]))


# --- MUFU -----------------------------------------------------------------------------

def ulp32(y: float) -> float:
    """The float32 ulp at magnitude ``|y|`` (subnormal spacing below 2**-126)."""
    e = math.frexp(abs(y))[1]
    return max(2.0 ** (e - 24), 2.0**-149)


def within(got: int, ref: float, ulps: float = 1.0, absolute: float = 0.0) -> bool:
    """``got`` (float32 bits) is within ``ulps`` ulp (+ ``absolute``) of ``ref``."""
    if ref != ref:
        return got == NAN
    g = f32_value(got)
    if math.isinf(ref):
        return g == ref
    if math.isinf(g):
        return abs(ref) >= float(np.finfo(np.float32).max) and (g > 0) == (ref > 0)
    return abs(g - ref) <= ulps * ulp32(ref) + absolute


def ex2_ref(x: float) -> float:
    if x != x:
        return x
    if x > 200:
        return math.inf
    if x < -200:
        return 0.0
    return 2.0**x


def lg2_ref(x: float) -> float:
    if x != x or x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    return math.log2(x)


def rsq_ref(x: float) -> float:
    if x != x or x < 0:
        return math.nan
    if x == 0:
        return math.copysign(math.inf, x)
    return 1 / math.sqrt(x)


def turns(f):
    def ref(x: float) -> float:
        if x != x or math.isinf(x):
            return math.nan
        return f(2 * math.pi * math.remainder(x, 1.0))
    return ref


MUFU_REFERENCES = {"EX2": ex2_ref, "LG2": lg2_ref, "RSQ": rsq_ref,
                   "SIN": turns(math.sin), "COS": turns(math.cos)}


def moderate_floats(low: float, high: float):
    element = st.floats(low, high, width=32).map(f32_bits)
    return lanes(np.uint32, st.one_of(element, st.sampled_from(
        (0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 1, 0x80000001, 0x007FFFFF))))


@EXAMPLES
@given(st.sampled_from(sorted(MUFU_REFERENCES)), st.data())
def test_mufu_within_one_ulp(fn, data):
    ranges = {"EX2": (-160, 140), "LG2": (-10, 2.0**100), "RSQ": (-1, 2.0**100),
              "SIN": (-1e3, 1e3), "COS": (-1e3, 1e3)}
    b = data.draw(st.one_of(float_bits(), moderate_floats(*ranges[fn])))
    (d,) = semantics("MUFU", (fn,))(b)
    # SIN/COS: the reference's own error near a zero of the function is ~2**-51.
    absolute = 2.0**-48 if fn in ("SIN", "COS") else 0.0
    for i in range(len(b)):
        ref = MUFU_REFERENCES[fn](f32_value(int(b[i])))
        assert within(int(d[i]), ref, 1.0, absolute), (fn, hex(int(b[i])), ref)


@EXAMPLES
@given(st.one_of(float_bits(), moderate_floats(-(2.0**100), 2.0**100)),
       st.sampled_from(("", "-", "|")))
def test_mufu_rcp_and_sqrt_are_correctly_rounded(b, fb):
    (rcp,) = semantics("MUFU", ("RCP",), flags={"b": fb})(b)
    (sqrt,) = semantics("MUFU", ("SQRT",), flags={"b": fb})(b)
    for i in range(len(b)):
        x = apply_flags(int(b[i]), fb)
        xv = exact(x)
        if is_nan(x) or (xv is not None and xv < 0):
            assert int(sqrt[i]) == NAN
        if is_nan(x):
            assert int(rcp[i]) == NAN
            continue
        if xv is None:  # infinities
            assert f32_value(int(rcp[i])) == 1 / f32_value(x)
            continue
        if xv == 0:
            assert int(rcp[i]) == (0x7F800000 | (x & 0x80000000))
            assert int(sqrt[i]) == x
            continue
        assert int(rcp[i]) == round_exact(1 / xv, "f32")
        if xv > 0:
            r = exact(int(sqrt[i]))
            lo = exact(int(sqrt[i]) - 1) if r > 0 else Fraction(0)
            hi = exact(int(sqrt[i]) + 1)
            # r is the float32 nearest sqrt(x): sqrt(x) within half the gaps around r.
            assert ((r + lo) / 2) ** 2 <= xv <= ((r + hi) / 2) ** 2


def test_mufu_special_values():
    def run(fn, value):
        return int(semantics("MUFU", (fn,))(np.uint32(f32_bits(value)))[0])

    inf, nan = 0x7F800000, NAN
    assert run("RCP", 0.0) == inf and run("RCP", -0.0) == 0xFF800000
    assert run("RCP", math.inf) == 0 and run("RCP", -math.inf) == 0x80000000
    assert run("RSQ", 0.0) == inf and run("RSQ", -0.0) == 0xFF800000
    assert run("RSQ", -1.0) == nan and run("RSQ", math.inf) == 0
    assert run("SQRT", -0.0) == 0x80000000 and run("SQRT", -1e-30) == nan
    assert run("LG2", 0.0) == 0xFF800000 and run("LG2", -0.0) == 0xFF800000
    assert run("LG2", -2.0) == nan and run("LG2", math.inf) == inf
    assert run("LG2", 1.0) == 0 and run("LG2", 8.0) == f32_bits(3.0)
    assert run("EX2", -math.inf) == 0 and run("EX2", math.inf) == inf
    assert run("EX2", 3.0) == f32_bits(8.0) and run("EX2", -149.0) == 1
    assert run("EX2", 128.0) == inf
    for fn in ("SIN", "COS"):
        assert run(fn, math.inf) == nan and run(fn, math.nan) == nan
    # Exact turns: sin/cos of quarter turns are exactly 0 or +-1.
    for k in range(-8, 9):
        assert f32_value(run("SIN", k / 4)) == [0.0, 1.0, 0.0, -1.0][k % 4]
        assert f32_value(run("COS", k / 4)) == [1.0, 0.0, -1.0, 0.0][k % 4]
    assert f32_value(run("SIN", 1e20)) == 0.0 and f32_value(run("COS", 1e20)) == 1.0
    assert run("SIN", -0.0) == 0x80000000
