"""Control flow: if/elif/else with merged variables, for/while with carried variables,
break/continue lowering, early return."""

from __future__ import annotations

import pytest

from warpforge.compiler.ir import types as ir
from warpforge.compiler.ir import verify_function
from warpforge.dsl.errors import CompileError

from .support import build, constant_value, names, ops, wf


def test_if_else_yields_changed_variables_with_common_type():
    def k(o, a):
        x = 0
        y = 1.0
        if a > 0:
            x = a
            y = 2.0
        else:
            x = 1.5
        o[0] = x + y

    f = build(k, o=wf.f32[:], a=wf.i32)
    verify_function(f)
    (if_op,) = ops(f, "if")
    assert if_op.result_types == (ir.f32, ir.f32)  # x promoted to f32, y f32
    then_yield = if_op.regions[0].block.ops[-1]
    assert then_yield.operands[0].defining_op.name == "cast"  # a (i32) -> f32
    add = ops(f, "add")[-1]
    assert set(add.operands) == set(if_op.results)


def test_unchanged_variables_are_not_yielded():
    def k(o, a):
        x = a
        if a > 0:
            o[0] = x
        o[1] = x

    f = build(k, o=wf.i32[:], a=wf.i32)
    assert ops(f, "if")[0].result_types == ()


def test_elif_chains_nest():
    def k(o, a):
        if a < 0:
            r = -1
        elif a == 0:
            r = 0
        else:
            r = 1
        o[0] = r

    f = build(k, o=wf.i32[:], a=wf.i32)
    outer, inner = ops(f, "if")
    assert inner.parent_op is outer
    assert outer.result_types == (ir.i32,) and inner.result_types == (ir.i32,)
    assert ops(f, "store")[0].operands[-1] is outer.results[0]


def test_constant_condition_builds_only_the_taken_branch():
    def k(o, a, FAST: wf.constexpr):
        if FAST:
            o[0] = a * 2
        else:
            o[0] = wf.sqrt(wf.f32(a))

    f = build(k, {"FAST": True}, o=wf.f32[:], a=wf.i32)
    assert "if" not in names(f) and "sqrt" not in names(f) and "mul" in names(f)


def test_variable_defined_in_both_branches_is_defined_after():
    def k(o, a):
        if a > 0:  # noqa: SIM108 - the if statement is what is tested
            t = a
        else:
            t = -a
        o[0] = t

    f = build(k, o=wf.i32[:], a=wf.i32)
    assert ops(f, "if")[0].result_types == (ir.i32,)


def test_early_return_in_a_branch_does_not_merge():
    def k(o, a, n):
        x = a
        if a >= n:
            return
        else:
            x = a + 1
        o[0] = x

    f = build(k, o=wf.i32[:], a=wf.i32, n=wf.i32)
    verify_function(f)
    (if_op,) = ops(f, "if")
    assert if_op.regions[0].block.ops[-1].name == "return"
    assert if_op.result_types == (ir.i32,)
    assert ops(f, "store")[0].operands[-1] is if_op.results[0]


@pytest.mark.parametrize(("call", "bounds"), [
    ("range(n)", (0, "n", 1)), ("range(2, n)", (2, "n", 1)),
    ("range(n, 0, -2)", ("n", 0, -2))])
def test_for_range_forms(call, bounds):
    from .support import load_source

    k, _ = load_source(f"""
        def k(o, n):
            acc = 0
            for i in {call}:
                acc += i
            o[0] = acc
    """, "k")
    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    (loop,) = ops(f, "for")
    got = []
    for v in loop.operands[:3]:
        op = v.defining_op
        got.append("n" if op is None else op.attr("value"))
    assert tuple(got) == bounds
    assert loop.result_types == (ir.i32,)
    assert ops(f, "store")[0].operands[-1] is loop.results[0]


def test_static_range_sets_unroll():
    def k(o):
        acc = 0.0
        for i in wf.static_range(4):
            acc += o[i]
        o[0] = acc

    f = build(k, o=wf.f32[:])
    (loop,) = ops(f, "for")
    assert loop.attr("unroll") is True
    assert constant_value(loop.operands[1]) == 4


def test_while_carries_assigned_variables():
    def k(o, n):
        k = n
        steps = 0
        while k > 1:
            k = k // 2
            steps += 1
        o[0] = steps

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    (loop,) = ops(f, "while")
    assert loop.result_types == (ir.i32, ir.i32)
    assert ops(f, "store")[0].operands[-1] is loop.results[1]


def test_for_with_break_becomes_a_while_with_a_flag():
    def k(o, n):
        found = -1
        for i in range(n):
            if o[i] == 0:
                found = i
                break
        o[0] = found

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    assert "for" not in names(f)
    (loop,) = ops(f, "while")
    assert loop.result_types == (ir.i32, ir.bool_, ir.i32)  # iv, break flag, found
    cond_block = loop.regions[0].block
    assert [op.name for op in cond_block.ops] == ["cmp", "not", "and", "yield"]
    body = loop.regions[1].block
    assert body.ops[-2].name == "add" and body.ops[-2].operands[0] is body.args[0]
    assert ops(f, "store")[-1].operands[-1] is loop.results[2]


def test_continue_guards_the_rest_of_the_body():
    def k(o, n):
        acc = 0
        for i in range(n):
            if i % 2 == 0:
                continue
            acc += i
        o[0] = acc

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    (loop,) = ops(f, "for")
    body_ops = [op.name for op in loop.regions[0].block.ops]
    assert body_ops.count("if") == 2  # the continue's if, then the guard
    guard = [op for op in loop.regions[0].block.ops if op.name == "if"][1]
    assert guard.operands[0].defining_op.name == "not"
    assert guard.result_types == (ir.i32,)


def test_while_with_break_adds_the_flag_to_the_condition():
    def k(o, n):
        i = 0
        while i < n:
            if o[i] < 0:
                break
            i += 1
        o[0] = i

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    (loop,) = ops(f, "while")
    assert loop.result_types == (ir.bool_, ir.i32)
    cond_ops = [op.name for op in loop.regions[0].block.ops]
    assert cond_ops == ["cmp", "not", "and", "yield"]


def test_nested_loops_have_their_own_flags():
    def k(o, n):
        total = 0
        for i in range(n):
            for j in range(n):
                if j > i:
                    break
                total += j
            if total > 100:
                continue
            total += 1
        o[0] = total

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    outer = ops(f, "for")[0]
    inner = ops(f, "while")[0]
    assert inner.parent_op is outer


def test_return_inside_a_loop():
    def k(o, n):
        for i in range(n):
            if o[i] < 0:
                return
            o[i] = 0

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    assert names(f).count("return") == 2


def test_loop_variable_assigned_only_inside_the_loop_is_undefined_after():
    def k(o, n):
        for i in range(n):
            last = i
        o[0] = last

    with pytest.raises(CompileError, match="'last' may be undefined"):
        build(k, o=wf.i32[:], n=wf.i32)


def test_loop_widens_a_variable_its_body_makes_wider():
    def k(o, n):
        acc = 0
        for _i in range(n):
            acc = acc + 0.5
        o[0] = acc

    f = build(k, o=wf.f32[:], n=wf.i32)
    loop = ops(f, "for")[0]
    assert loop.results[0].type == ir.f32  # carried as f32 from the start, never narrowed
    assert not any(op.name == "cast" and op.result.type == ir.i32 for op in f.walk())


def test_loop_keeps_a_variable_its_body_makes_narrower():
    def k(o, x, n):
        acc = 0.0
        for i in range(n):
            acc = x[i]
        o[0] = acc

    f = build(k, o=wf.f64[:], x=wf.i32[:], n=wf.i32)
    assert ops(f, "for")[0].results[0].type == ir.f32


def test_unsigned_range_bounds_count_in_i64():
    def k(o, n):
        for i in range(n):
            o[i] = 1

    f = build(k, o=wf.i32[:], n=wf.u32)
    (loop,) = ops(f, "for")
    assert loop.operands[0].type == ir.i64
    assert loop.operands[1].defining_op.name == "cast"


def test_conditional_expression_reading_memory_evaluates_one_branch():
    def k(o, x, n):
        i = wf.thread_idx.x
        v = x[i] if i < n else 0.0
        o[i] = v

    f = build(k, o=wf.f32[:], x=wf.f32[:], n=wf.i32)
    verify_function(f)
    assert "select" not in names(f)
    (if_op,) = ops(f, "if")
    assert if_op.result_types == (ir.f32,)
    assert [op.name for op in if_op.regions[0].block.ops] == ["load", "yield"]
    assert [op.name for op in if_op.regions[1].block.ops] == ["constant", "yield"]
    assert ops(f, "store")[0].operands[-1] is if_op.results[0]


def test_while_true_with_break():
    def k(o, n):
        i = 0
        while True:
            i += 1
            if i * i > n:
                break
        o[0] = i

    f = build(k, o=wf.i32[:], n=wf.i32)
    verify_function(f)
    (loop,) = ops(f, "while")
    assert loop.result_types == (ir.bool_, ir.i32)


def test_array_aliases_merge_when_both_branches_agree():
    def k(o, x, a):
        if a > 0:  # noqa: SIM108 - the if statement is what is tested
            y = x
        else:
            y = x
        y[0] = 1.0

    f = build(k, o=wf.f32[:], x=wf.f32[:], a=wf.i32)
    assert ops(f, "if")[0].result_types == ()
    assert ops(f, "store")[0].operands[0] is f.params[1]


def test_array_bound_differently_in_branches_is_an_error():
    def k(o, x, a):
        if a > 0:  # noqa: SIM108 - the if statement is what is tested
            y = x
        else:
            y = o
        y[0] = 1.0

    with pytest.raises(CompileError, match="'y' is bound to an array in a branch"):
        build(k, o=wf.f32[:], x=wf.f32[:], a=wf.i32)
