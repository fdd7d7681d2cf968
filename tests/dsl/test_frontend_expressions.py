"""Expressions: operators with Python's semantics, promotion, literals, folding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from warpforge.compiler.ir import types as ir
from warpforge.compiler.ir import verify_function

from .support import build, constant_value, load_source, names, ops, wf


def stored(func):
    """The value operand of the kernel's last store."""
    return ops(func, "store")[-1].operands[-1]


def test_saxpy_structure_and_locations():
    def saxpy(a, x, y, n):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < n:
            y[i] = a * x[i] + y[i]

    f = build(saxpy, a=wf.f32, x=wf.f32[:], y=wf.f32[:], n=wf.i32)
    verify_function(f)
    assert names(f) == ["block_idx", "block_dim", "mul", "thread_idx", "add", "cmp", "if",
                        "load", "mul", "load", "add", "store", "yield", "yield", "return"]
    first_line = saxpy.__code__.co_firstlineno
    store = ops(f, "store")[0]
    assert (store.loc.line, store.loc.col) == (first_line + 3, 13)
    assert store.loc.file == __file__
    mul = ops(f, "mul")[0]
    assert (mul.loc.line, mul.loc.col) == (first_line + 1, 13)


@pytest.mark.parametrize(("op", "name"), [
    ("+", "add"), ("-", "sub"), ("*", "mul"), ("//", "floordiv"), ("%", "mod"),
    ("&", "and"), ("|", "or"), ("^", "xor"), ("<<", "shl"), (">>", "shr")])
def test_integer_binary_operators(op, name):
    k, _ = load_source(f"""
        def k(o, a, b):
            o[0] = a {op} b
    """, "k")
    f = build(k, o=wf.i32[:], a=wf.i32, b=wf.i32)
    assert stored(f).defining_op.name == name


def test_true_division_of_integers_is_f32():
    def k(o, a, b):
        o[0] = a / b

    f = build(k, o=wf.f32[:], a=wf.i32, b=wf.i32)
    div = ops(f, "div")[0]
    assert div.result.type == ir.f32
    assert [op.name for op in ops(f) if op.name == "cast"] == ["cast", "cast"]


@pytest.mark.parametrize(("ta", "tb", "expected"), [
    (wf.i32, wf.f32, ir.f32), (wf.i32, wf.i64, ir.i64), (wf.i32, wf.u32, ir.u32),
    (wf.f32, wf.f64, ir.f64), (wf.bool_, wf.i32, ir.i32), (wf.bool_, wf.bool_, ir.i32),
    (wf.u32, wf.i64, ir.i64), (wf.f16, wf.i32, ir.f16)])
def test_promotion(ta, tb, expected):
    def k(o, a, b):
        o[0] = a + b

    f = build(k, o=wf.f64[:], a=ta, b=tb)
    assert ops(f, "add")[0].result.type == expected


@pytest.mark.parametrize(("t", "literal", "expected"), [
    (wf.f64, "2", ir.f64), (wf.f64, "2.5", ir.f64), (wf.u32, "1", ir.u32),
    (wf.i64, "1", ir.i64), (wf.i32, "2.5", ir.f32), (wf.f16, "1.0", ir.f16)])
def test_literals_are_weak(t, literal, expected):
    k, _ = load_source(f"""
        def k(o, a):
            o[0] = a * {literal}
    """, "k")
    f = build(k, o=wf.f64[:], a=t)
    assert ops(f, "mul")[0].result.type == expected


def test_literal_types_on_their_own():
    def k(o):
        a = 3
        b = 3000000000
        c = 1.5
        d = True
        o[0] = a + b + c + d
        o[1] = True

    f = build(k, o=wf.f64[:])
    types = [op.result.type for op in ops(f, "constant")]
    assert types[:4] == [ir.i32, ir.i64, ir.f32, ir.bool_]
    assert constant_value(stored(f)) == 1.0


def test_unary_operators():
    def k(o, a, u, p):
        o[0] = -a
        o[1] = ~a
        o[2] = -u
        o[3] = not p
        o[4] = +p

    f = build(k, o=wf.f64[:], a=wf.i32, u=wf.u32, p=wf.bool_)
    got = [op.name for op in ops(f) if op.name in ("neg", "not", "sub", "cast")]
    assert got[:3] == ["neg", "cast", "not"]
    assert "sub" in got  # -u on unsigned is 0 - u
    not_ops = ops(f, "not")
    assert not_ops[-1].result.type == ir.bool_


def test_chained_comparison_is_a_conjunction():
    def k(o, a, b, c):
        o[0] = a < b <= c

    f = build(k, o=wf.i32[:], a=wf.i32, b=wf.f32, c=wf.i32)
    cmps = ops(f, "cmp")
    assert [c.attr("pred") for c in cmps] == ["lt", "le"]
    assert cmps[0].operands[0].type == ir.f32
    assert stored(f).defining_op.name == "cast"
    assert stored(f).defining_op.operands[0].defining_op.name == "and"


def test_boolean_operators_take_truth_values():
    def k(o, a, b, p):
        o[0] = (a and p) or not b

    f = build(k, o=wf.bool_[:], a=wf.i32, b=wf.f32, p=wf.bool_)
    assert [c.attr("pred") for c in ops(f, "cmp")] == ["ne", "ne"]
    assert [op.name for op in ops(f) if op.name in ("and", "or", "not")] == ["and", "not",
                                                                              "or"]


def test_conditional_expression_is_a_select():
    def k(o, a, b):
        o[0] = a if a > b else b * 2.0

    f = build(k, o=wf.f32[:], a=wf.i32, b=wf.i32)
    sel = stored(f).defining_op
    assert sel.name == "select" and sel.result.type == ir.f32


def test_min_max_abs_and_casts():
    def k(o, a, b, c):
        o[0] = min(a, b, c)
        o[1] = max(a, 0)
        o[2] = abs(c)
        o[3] = wf.f32(a)
        o[4] = int(c)
        o[5] = float(a)
        o[6] = wf.min(a, c) + wf.max(b, 1) + wf.abs(a)

    f = build(k, o=wf.f32[:], a=wf.i32, b=wf.i32, c=wf.f32)
    assert len(ops(f, "min")) == 3 and len(ops(f, "max")) == 2
    assert len(ops(f, "abs")) == 2
    assert any(op.name == "cast" and op.result.type == ir.i32 for op in ops(f))
    verify_function(f)


def test_shape_and_len():
    def k(o, x):
        o[0] = x.shape[0] + x.shape[1] + len(x)

    f = build(k, o=wf.i32[:], x=wf.f32[:, :])
    assert {op.attr("axis") for op in ops(f, "array_dim")} == {0, 1}


def test_two_d_indexing_and_augmented_store():
    def k(a, i, j):
        a[i, j] += 1.0
        a[i, j + 1] = a[i, j] * 2

    f = build(k, a=wf.f32[:, :], i=wf.i32, j=wf.i32)
    assert names(f).count("load") == 2 and names(f).count("store") == 2
    first_store = ops(f, "store")[0]
    load = ops(f, "load")[0]
    assert first_store.operands[1:3] == load.operands[1:3]  # indices evaluated once


def test_tuple_unpacking_and_annotated_assignment():
    def k(o, a):
        b, c = a + 1, 2.5
        d: wf.f64 = b
        o[0] = d + c

    f = build(k, o=wf.f64[:], a=wf.i32)
    add = ops(f, "add")[-1]
    assert add.result.type == ir.f64


def test_global_and_closure_constants():
    scale = 3

    def k(o, a):
        o[0] = a * scale + MODULE_CONSTANT + wf.warp_size

    f = build(k, o=wf.i32[:], a=wf.i32)
    values = [constant_value(op.result) for op in ops(f, "constant")]
    assert 3 in values and 7 in values and 32 in values


MODULE_CONSTANT = 7


def test_constexprs_fold():
    def k(o, BM: wf.constexpr, BK: wf.constexpr):
        o[0] = BM * BK // 3 - BM % 5

    f = build(k, {"BM": 64, "BK": 8}, o=wf.i32[:])
    assert constant_value(stored(f)) == 64 * 8 // 3 - 64 % 5


def test_numpy_scalar_constexprs_keep_their_type():
    def k(o, a, S: wf.constexpr):
        o[0] = a * S

    f = build(k, {"S": np.float64(0.1)}, o=wf.f64[:], a=wf.f32)
    mul = ops(f, "mul")[0]
    assert mul.result.type == ir.f64
    assert constant_value(mul.operands[1]) == 0.1


# --- property: the frontend's typed constant folding equals numpy's typed arithmetic -----

INT_OPS = ["+", "-", "*", "//", "%", "&", "|", "^"]
MIXED_OPS = ["+", "-", "*", "/"]


def _int_exprs():
    leaf = st.sampled_from(["a", "b", "3", "(-7)", "1"])
    return st.recursive(leaf, lambda sub: st.tuples(sub, st.sampled_from(INT_OPS), sub).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"), max_leaves=8)


def _mixed_exprs():
    leaf = st.sampled_from(["a", "b", "x", "2", "0.5"])
    return st.recursive(leaf, lambda sub: st.tuples(sub, st.sampled_from(MIXED_OPS), sub).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"), max_leaves=6)


def _compile_fold(expr: str, env: dict):
    k, _ = load_source(f"""
        def k(o, a: wf.constexpr, b: wf.constexpr, x: wf.constexpr):
            o[0] = {expr}
    """, "k")
    f = build(k, env, o=wf.f64[:])
    verify_function(f)
    value = stored(f)
    op = value.defining_op
    return op.attr("value") if op.name == "constant" else None


@settings(max_examples=60, deadline=None)
@given(_int_exprs(), st.integers(-2**31, 2**31 - 1), st.integers(-2**31, 2**31 - 1))
def test_integer_folding_matches_python_arithmetic(expr, a, b):
    """Compile-time numbers combine as Python's do (exact integers), and the result takes
    the type where it is used (here an f64 element)."""
    env = {"a": a, "b": b, "x": 0.0}
    expected = _python_reference(expr, env)
    assume(expected is not None)
    got = _compile_fold(expr, env)
    assert got == expected, expr


@settings(max_examples=60, deadline=None)
@given(_mixed_exprs(), st.integers(-1000, 1000), st.integers(-1000, 1000),
       st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_mixed_folding_matches_python_arithmetic(expr, a, b, x):
    """Compile-time floats combine in double precision, as Python's do."""
    env = {"a": a, "b": b, "x": x}
    expected = _python_reference(expr, env)
    assume(expected is not None)
    got = _compile_fold(expr, env)
    assert got is not None
    assert got == expected or (math.isnan(got) and math.isnan(expected)), expr


def _python_reference(expr: str, env: dict) -> float | None:
    """``expr`` in plain Python, as an f64 store would hold it; None where Python raises or
    an integer leaves 64 bits (the kernel is then a CompileError, tested elsewhere)."""
    try:
        value = eval(expr, {}, dict(env))
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    if isinstance(value, int) and not -2**63 <= value < 2**63:
        return None
    try:
        return float(value)
    except OverflowError:
        return None
