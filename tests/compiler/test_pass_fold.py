"""Constant folding: printed IR in and out, and folded values checked against numpy."""

from __future__ import annotations

import math
from textwrap import dedent

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from warpforge.compiler.ir import (
    Builder,
    Function,
    ScalarType,
    bool_,
    f16,
    f32,
    f64,
    i8,
    i32,
    i64,
    parse_function,
    print_function,
    u8,
    u32,
    u64,
    verify,
)
from warpforge.compiler.passes import dce, fold, run_pipeline

from .ir_strategies import functions, scalar_values

INTS = (i32, u32, i64, u64)
FLOATS = (f16, f32, f64)
ALL = (bool_, i8, u8, *INTS, *FLOATS)


def run(text: str, passes=(fold, dce)) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), list(passes)))


def folded(name, types, values, result_type=None, attrs=None):
    """The value ``name`` folds to on constant operands, or None if it does not fold."""
    func = Function("k")
    b = Builder.for_function(func)
    consts = [b.constant(v, t) for v, t in zip(values, types, strict=True)]
    given_types = [result_type] if result_type is not None else None
    result = b.create(name, consts, attrs, given_types).result
    out = b.shared_alloc([1], result.type)
    b.store(out, [b.constant(0, i32)], result)
    b.return_()
    fold(func)
    verify(func)
    stored = func.block.ops[-2].operands[-1].defining_op
    return stored.attr("value") if stored.name == "constant" else None


def same(a, b) -> bool:
    """Equal values, NaN equal to NaN, zeros told apart by sign."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b and type(a) is type(b)


def numpy_binary(name: str, t: ScalarType, a, b):
    x, y = np.array([a], t.dtype), np.array([b], t.dtype)
    with np.errstate(all="ignore"):
        if name == "div" and t.is_int:
            q = np.floor_divide(x, y)
            r = q + ((np.remainder(x, y) != 0) & ((x < 0) != (y < 0)))
        else:
            r = {
                "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "floordiv": np.floor_divide, "mod": np.remainder, "rem": np.fmod,
                "min": np.fmin if t.is_float else np.minimum,
                "max": np.fmax if t.is_float else np.maximum,
                "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
                "shl": np.left_shift, "shr": np.right_shift,
            }[name](x, y)
    return r.astype(t.dtype)[0].item()


# --- printed IR in, printed IR out --------------------------------------------------------

def test_integer_constants_fold_and_wrap():
    assert run("""
        kernel @k(%x: array<i32, 1, global>) {
          %a = constant 2147483647 : i32
          %b = constant 1 : i32
          %c = add %a, %b : i32            // wraps
          %d = constant -7 : i32
          %e = constant 2 : i32
          %q = div %d, %e : i32            // -3 (C)
          %f = floordiv %d, %e : i32       // -4 (Python)
          %r = rem %d, %e : i32            // -1 (C)
          %m = mod %d, %e : i32            // 1 (Python)
          store %x[%c], %q
          store %x[%f], %r
          store %x[%m], %m
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>) {
          %0 = constant -2147483648 : i32
          %1 = constant -3 : i32
          %2 = constant -4 : i32
          %3 = constant -1 : i32
          %4 = constant 1 : i32
          store %x[%0], %1
          store %x[%2], %3
          store %x[%4], %4
          return
        }
        """)


def test_integer_identities():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %a = add %n, %zero : i32
          %b = mul %one, %a : i32
          %c = sub %b, %zero : i32
          %d = div %c, %one : i32
          %e = floordiv %d, %one : i32
          %f = add %zero, %e : i32
          %g = mul %f, %one : i32
          store %x[%g], %g
          %h = mul %n, %zero : i32
          %i = sub %n, %n : i32
          store %x[%h], %i
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          store %x[%n], %n
          %0 = constant 0 : i32
          %1 = constant 0 : i32
          store %x[%0], %1
          return
        }
        """)


def test_widening_round_trips_and_widened_indices_fold():
    assert run("""
        kernel @k(%x: array<i64, 1, global>, %n: i32, %m: u32, %w: i64) {
          %a = cast %n : i64
          %b = cast %a : i32
          %c = cast %m : i64
          %d = cast %c : u32
          %e = cast %w : i32
          %f = cast %e : i64
          %g = cast %n : u64
          %h = cast %g : i32
          store %x[%a], %f
          store %x[%c], %a
          %v = load %x[%a] : i64
          store %x[%b], %v
          store %x[%d], %v
          store %x[%h], %v
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i64, 1, global>, %n: i32, %m: u32, %w: i64) {
          %0 = cast %n : i64
          %1 = cast %m : i64
          %2 = cast %w : i32
          %3 = cast %2 : i64
          store %x[%n], %3
          store %x[%1], %0
          %4 = load %x[%n] : i64
          store %x[%n], %4
          store %x[%m], %4
          store %x[%n], %4
          return
        }
        """)


def test_float_identities_that_do_not_hold_for_every_float_stay():
    text = """\
        kernel @k(%x: array<f32, 1, global>, %a: f32, %i: i32) {
          %0 = constant 0.0 : f32
          %1 = add %a, %0 : f32
          %2 = mul %a, %0 : f32
          %3 = sub %a, %a : f32
          store %x[%i], %1
          store %x[%i], %2
          store %x[%i], %3
          return
        }
        """
    assert run(text) == dedent(text)


def test_undefined_cases_are_not_folded():
    text = """\
        kernel @k(%x: array<i32, 1, global>) {
          %0 = constant 5 : i32
          %1 = constant 0 : i32
          %2 = div %0, %1 : i32
          %3 = constant -2147483648 : i32
          %4 = constant -1 : i32
          %5 = rem %3, %4 : i32
          %6 = constant 32 : i32
          %7 = shl %0, %6 : i32
          %8 = shr %0, %4 : i32
          store %x[%1], %2
          store %x[%1], %5
          store %x[%1], %7
          store %x[%1], %8
          return
        }
        """
    assert run(text) == dedent(text)


def test_math_functions_are_never_folded():
    text = """\
        kernel @k(%x: array<f32, 1, global>, %i: i32) {
          %0 = constant 1.0 : f32
          %1 = exp %0 : f32
          %2 = sqrt %0 : f32
          store %x[%i], %1
          store %x[%i], %2
          return
        }
        """
    assert run(text) == dedent(text)


def test_folding_reaches_into_regions_and_select():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          %two = constant 2 : i32
          %three = constant 3 : i32
          %lt = cmp lt %two, %three : bool
          %pick = select %lt, %two, %three : i32
          %same = select %p, %n, %n : i32
          %known = select %p, %two, %two : i32
          if %p {
            %s = mul %pick, %three : i32
            %f = cast %s : f32
            store %x[%same], %f
            yield
          }
          %v = select %lt, %n, %two : i32
          %kf = cast %known : f32
          store %x[%v], %kf
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          if %p {
            %0 = constant 6.0 : f32
            store %x[%n], %0
            yield
          }
          %1 = constant 2.0 : f32
          store %x[%n], %1
          return
        }
        """)


def test_bool_identities_and_absorbing_constants():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %t = constant true : bool
          %f = constant false : bool
          %zero = constant 0 : i32
          %p = cmp lt %n, %zero : bool
          %a = or %t, %p : bool
          %b = and %p, %f : bool
          %c = or %p, %f : bool
          %d = and %t, %c : bool
          %ai = cast %a : i32
          %bi = cast %b : i32
          %di = cast %d : i32
          store %x[%ai], %bi
          store %x[%n], %di
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = cmp lt %n, %0 : bool
          %2 = constant 1 : i32
          %3 = constant 0 : i32
          %4 = cast %1 : i32
          store %x[%2], %3
          store %x[%n], %4
          return
        }
        """)


def test_an_if_on_a_constant_becomes_the_arm_it_takes_unless_that_arm_returns():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %t = constant true : bool
          %one = constant 1 : i32
          %two = constant 2 : i32
          %c = cmp eq %one, %two : bool
          %r = if %c : i32 {
            %s = add %n, %one : i32
            yield %s
          } else {
            %u = if %t : i32 {
              %w = mul %n, %two : i32
              yield %w
            } else {
              yield %n
            }
            yield %u
          }
          %f = cast %r : f32
          if %c {
            return
          }
          store %x[%r], %f
          if %t {
            return
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %0 = constant true : bool
          %1 = constant 2 : i32
          %2 = mul %n, %1 : i32
          %3 = cast %2 : f32
          store %x[%2], %3
          if %0 {
            return
          }
          return
        }
        """)


def test_folded_constants_keep_the_location():
    func = parse_function('kernel @k(%x: array<i32, 1, global>) {\n'
                          '  %0 = constant 1 : i32\n'
                          '  %1 = add %0, %0 : i32 loc("k.py":4:8)\n'
                          '  store %x[%0], %1\n  return\n}\n')
    fold(func)
    assert "%1 = constant 2 : i32 loc(\"k.py\":4:8)" in print_function(func, locs=True)


# --- exact semantics, against numpy -------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max",
                        "and", "or", "xor", "shl", "shr"]), st.sampled_from(INTS), st.data())
def test_integer_folding_matches_numpy(name, t, data):
    a = data.draw(scalar_values(t))
    b = data.draw(st.integers(-2, t.bits + 1).filter(lambda v: t.min <= v)
                  if name in ("shl", "shr") else scalar_values(t))
    result = folded(name, [t, t], [a, b])
    undefined = (name in ("div", "floordiv", "mod", "rem") and
                 (b == 0 or (t.is_signed and a == t.min and b == -1))) or (
        name in ("shl", "shr") and not 0 <= b < t.bits)
    if undefined:
        assert result is None
    else:
        assert result == numpy_binary(name, t, a, b)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max"]),
       st.sampled_from(FLOATS), st.data())
def test_float_folding_matches_numpy(name, t, data):
    a, b = data.draw(scalar_values(t)), data.draw(scalar_values(t))
    assume(not (name in ("min", "max") and a == b == 0.0))
    result = folded(name, [t, t], [a, b])
    # a zero divisor included: float floordiv/mod are defined there (inf or NaN, ops.py)
    assert same(result, numpy_binary(name, t, a, b))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["neg", "abs", "not"]), st.sampled_from((i32, i64, u32, *FLOATS)),
       st.data())
def test_unary_folding_matches_numpy(name, t, data):
    assume(not (name == "not" and t.is_float) and not (name != "not" and not t.is_signed))
    a = data.draw(scalar_values(t))
    ref = {"neg": np.negative, "abs": np.abs, "not": np.invert}[name]
    assert same(folded(name, [t], [a]), ref(np.array([a], t.dtype))[0].item())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
       st.sampled_from((*INTS, *FLOATS)), st.data())
def test_cmp_folding_matches_numpy(pred, t, data):
    a, b = data.draw(scalar_values(t)), data.draw(scalar_values(t))
    ref = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
           "gt": np.greater, "ge": np.greater_equal}[pred]
    expected = bool(ref(np.array([a], t.dtype), np.array([b], t.dtype))[0])
    assert folded("cmp", [t, t], [a, b], attrs={"pred": pred}) is expected


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ALL), st.sampled_from(ALL), st.data())
def test_cast_folding_matches_numpy_where_numpy_is_defined(src, dst, data):
    value = data.draw(scalar_values(src))
    if src.is_float and dst.is_int:
        assume(math.isfinite(value) and dst.min <= math.trunc(value) <= dst.max)
    result = folded("cast", [src], [value], dst)
    with np.errstate(all="ignore"):
        expected = np.array([value], src.dtype).astype(dst.dtype)[0].item()
    assert same(result, expected)


@pytest.mark.parametrize("value, src, dst, expected", [
    (float("nan"), f32, i32, 0),
    (1e10, f32, i32, 2**31 - 1),
    (float("-inf"), f64, i64, -(2**63)),
    (-1.5, f32, u32, 0),
    (3.9, f32, i32, 3),
    (-3.9, f64, i32, -3),
    (1e30, f32, u64, 2**64 - 1),
    (-1, i32, u32, 2**32 - 1),
    (2**40 + 5, i64, i32, 5),
    (2**32 - 1, u32, f32, 4294967296.0),
    (2**53 + 1, i64, f64, 2.0**53),
    (16777217, i32, f32, 16777216.0),
    (65520, i32, f16, float("inf")),
    (65519, i32, f16, 65504.0),
    (True, bool_, f32, 1.0),
    (float("nan"), f32, bool_, True),
    (-0.0, f32, bool_, False),
    (255, i32, i8, -1),
    (-1, i8, u8, 255),
])
def test_cast_edge_cases(value, src, dst, expected):
    assert same(folded("cast", [src], [value], dst), expected)


@pytest.mark.parametrize("name, a, b, expected", [
    ("min", -0.0, 0.0, -0.0),
    ("min", 0.0, -0.0, -0.0),
    ("max", -0.0, 0.0, 0.0),
    ("min", float("nan"), 1.0, 1.0),
    ("max", 2.0, float("nan"), 2.0),
])
def test_float_min_max_ignore_nan_and_order_zeros(name, a, b, expected):
    assert same(folded(name, [f32, f32], [a, b]), expected)


def test_float_compare_with_nan_is_ordered_except_ne():
    nan = float("nan")
    assert folded("cmp", [f32, f32], [nan, nan], attrs={"pred": "ne"}) is True
    for pred in ("eq", "lt", "le", "gt", "ge"):
        assert folded("cmp", [f32, f32], [nan, 1.0], attrs={"pred": pred}) is False


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_fold_then_dce_on_random_functions_verifies_and_settles(func):
    once = print_function(dce(fold(func)))
    verify(func)
    assert print_function(dce(fold(func))) == once
