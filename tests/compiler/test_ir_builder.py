"""The builder: typed op creation, errors naming both types, structured control flow,
insertion points, locations, use-def bookkeeping, cloning."""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.compiler.errors import CompilerError, IRError
from warpforge.compiler.ir import (
    AddressSpace,
    ArrayType,
    Builder,
    Effect,
    Function,
    Op,
    bool_,
    clone_function,
    clone_op,
    f16,
    f32,
    f64,
    i8,
    i32,
    i64,
    inline_region_before,
    print_function,
    u32,
    verify,
)
from warpforge.isa.errors import WarpforgeError
from warpforge.isa.program import SourceLoc

LOC = SourceLoc("k.py", 3, 4)
X1 = ArrayType(f32, 1)


def kernel(*params):
    """A kernel with ``params`` and a builder at the end of its body."""
    func = Function("k", params)
    return func, Builder.for_function(func)


def saxpy() -> Function:
    func, b = kernel(("a", f32), ("x", X1), ("y", X1), ("n", i32))
    a, x, y, n = func.params
    i = b.add(b.mul(b.block_idx("x"), b.block_dim("x")), b.thread_idx("x"))
    with b.if_(b.cmp("lt", i, n)) as br, br.then_():
        b.store(y, [i], b.fma(a, b.load(x, [i]), b.load(y, [i])))
    b.return_()
    return func


SAXPY = """\
kernel @k(%a: f32, %x: array<f32, 1, global>, %y: array<f32, 1, global>, %n: i32) {
  %0 = block_idx x : i32
  %1 = block_dim x : i32
  %2 = mul %0, %1 : i32
  %3 = thread_idx x : i32
  %4 = add %2, %3 : i32
  %5 = cmp lt %4, %n : bool
  if %5 {
    %6 = load %x[%4] : f32
    %7 = load %y[%4] : f32
    %8 = fma %a, %6, %7 : f32
    store %y[%4], %8
    yield
  }
  return
}
"""


def test_saxpy_builds_and_prints():
    func = saxpy()
    verify(func)
    assert print_function(func) == SAXPY


# --- type errors --------------------------------------------------------------------------

def _scalars():
    func, b = kernel(("i", i32), ("f", f32), ("p", bool_), ("u", u32), ("c", i8),
                     ("x", X1), ("d", f64))
    return b, dict(zip("ifpucxd", func.params, strict=True))


@pytest.mark.parametrize("build, message", [
    (lambda b, v: b.add(v["i"], v["f"]), "cannot add i32 and f32"),
    (lambda b, v: b.sub(v["f"], v["d"]), "cannot subtract f32 and f64"),
    (lambda b, v: b.mul(v["i"], v["u"]), "cannot multiply i32 and u32"),
    (lambda b, v: b.add(v["p"], v["p"]), "cannot add bool values (needs 32/64-bit int or float)"),
    (lambda b, v: b.add(v["c"], v["c"]), "cannot add i8 values"),
    (lambda b, v: b.shl(v["f"], v["f"]), "cannot shift f32 values (needs 32/64-bit int)"),
    (lambda b, v: b.and_(v["f"], v["f"]), "cannot and f32 values (needs int or bool)"),
    (lambda b, v: b.neg(v["u"]), "cannot negate u32 (needs a signed type)"),
    (lambda b, v: b.math("exp", v["i"]), "cannot take exp of i32 (needs f32 or f64)"),
    (lambda b, v: b.fma(v["f"], v["f"], v["d"]), "cannot fma f32, f32 and f64"),
    (lambda b, v: b.cmp("lt", v["i"], v["f"]), "cannot compare i32 and f32"),
    (lambda b, v: b.cmp("lt", v["p"], v["p"]), "cannot compare bool values with lt"),
    (lambda b, v: b.cmp("less", v["i"], v["i"]), "cmp pred must be one of eq, ne, lt, le, gt"),
    (lambda b, v: b.select(v["i"], v["f"], v["f"]), "select condition must be bool, not i32"),
    (lambda b, v: b.select(v["p"], v["i"], v["f"]), "cannot select between i32 and f32"),
    (lambda b, v: b.cast(v["x"], f32), "a cast's operand must be a scalar"),
    (lambda b, v: b.load(v["x"], [v["i"], v["i"]]), "load of a 1-d array needs 1 index, not 2"),
    (lambda b, v: b.load(v["x"], [v["f"]]), "array index must be a 32- or 64-bit integer, not f32"),
    (lambda b, v: b.load(v["i"], [v["i"]]), "load needs an array, not i32"),
    (lambda b, v: b.store(v["x"], [v["i"]], v["i"]),
     "cannot store i32 into array<f32, 1, global>"),
    (lambda b, v: b.atomic("inc", v["x"], [v["i"]], v["f"]),
     "atomic inc does not support f32 elements"),
    (lambda b, v: b.atomic("add", b.local_alloc([4], f32), [v["i"]], v["f"]),
     "atomic add needs a global or shared array"),
    (lambda b, v: b.atomic("add", v["x"], [v["i"]], v["d"]),
     "atomic add on array<f32, 1, global> needs f32 operands, not f64"),
    (lambda b, v: b.shfl("xor", v["p"], v["i"]), "cannot shuffle bool"),
    (lambda b, v: b.shfl("xor", v["f"], v["u"]), "shuffle lane or offset must be i32, not u32"),
    (lambda b, v: b.vote("any", v["i"]), "vote needs a bool predicate, not i32"),
    (lambda b, v: b.array_dim(v["x"], 1), "axis 1 is out of range for array<f32, 1, global>"),
    (lambda b, v: b.constant(2**31, i32), "constant 2147483648 does not fit i32"),
    (lambda b, v: b.constant(1.5, i32), "1.5 is not a i32 constant"),
    (lambda b, v: b.constant(2, bool_), "2 is not a bool constant"),
    (lambda b, v: b.shared_alloc([0], f32), "positive extents"),
    (lambda b, v: b.thread_idx("w"), "thread_idx dim must be one of x, y, z, not 'w'"),
    (lambda b, v: b.create("add", [v["i"]]), "add takes 2 operands, not 1"),
    (lambda b, v: b.create("frobnicate"), "unknown op 'frobnicate'"),
    (lambda b, v: b.create("add", [v["i"], 3]), "operand 3 is not an IR value"),
    (lambda b, v: b.create("add", [v["i"], v["i"]], result_types=[f32]),
     "add results would be (i32), not (f32)"),
    (lambda b, v: b.create("cast", [v["i"]]), "cast needs its result type stated"),
    (lambda b, v: b.create("cmp", [v["i"], v["i"]]), "cmp needs attribute 'pred'"),
    (lambda b, v: b.for_(v["f"], v["f"], v["f"]), "for bounds must be i32 or i64, not f32"),
    (lambda b, v: b.call("f", [v["i"]], [X1]), "a call's result must be a scalar"),
    (lambda b, v: b.for_(v["i"], v["i"], b.constant(1, i64)),
     "for bounds must have one type, not i32, i32 and i64"),
    (lambda b, v: b.for_(v["i"], v["i"], v["i"], init=[v["x"]]),
     "a loop-carried value must be a scalar"),
    (lambda b, v: b.if_(v["i"]), "if condition must be bool, not i32"),
])
def test_type_errors_name_the_types(build, message):
    b, values = _scalars()
    with pytest.raises(IRError) as info, b.location(LOC):
        build(b, values)
    assert message in str(info.value)
    assert info.value.loc == LOC
    assert str(info.value).startswith("k.py:3:4: ")


def test_ir_errors_are_warpforge_errors():
    assert issubclass(IRError, CompilerError) and issubclass(CompilerError, WarpforgeError)


def test_vote_ballot_is_u32_and_any_is_bool():
    func, b = kernel(("p", bool_))
    assert b.vote("ballot", func.params[0]).type == u32
    assert b.vote("any", func.params[0]).type == bool_


def test_constants_are_normalized_to_their_type():
    _, b = kernel()
    assert b.constant(0.1, f32).defining_op.attr("value") == float(np.float32(0.1))
    assert b.constant(3, f64).defining_op.attr("value") == 3.0
    assert isinstance(b.constant(3, f64).defining_op.attr("value"), float)
    assert b.constant(1e6, f16).defining_op.attr("value") == float("inf")
    assert b.constant(1, bool_).defining_op.attr("value") is True
    assert b.constant(np.int32(-5), i32).defining_op.attr("value") == -5


def test_cast_to_the_same_type_is_the_value_itself():
    func, b = kernel(("i", i32))
    assert b.cast(func.params[0], i32) is func.params[0]
    assert len(func.block.ops) == 0


# --- structured control flow --------------------------------------------------------------

def test_if_results_come_from_the_yields_added_last():
    func, b = kernel(("p", bool_), ("i", i32))
    p, i = func.params
    with b.if_(p) as br:
        with br.then_():
            one = b.constant(1, i32)
        with br.else_():
            two = b.add(i, i)
        with br.then_():
            b.yield_(one)
        with br.else_():
            b.yield_(two)
    assert [r.type for r in br.results] == [i32]
    b.return_()
    verify(func)


def test_if_branches_yielding_different_types_are_an_error():
    func, b = kernel(("p", bool_), ("i", i32), ("f", f32))
    p, i, f = func.params
    with pytest.raises(IRError, match=r"then yields \(i32\), else yields \(f32\)"), \
            b.if_(p) as br:
        with br.then_():
            b.yield_(i)
        with br.else_():
            b.yield_(f)


def test_if_branch_without_yield_gets_an_empty_one_and_mismatch_is_caught():
    func, b = kernel(("p", bool_), ("i", i32))
    with pytest.raises(IRError, match=r"then yields \(i32\), else yields \(nothing\)"), \
            b.if_(func.params[0]) as br, br.then_():
        b.yield_(func.params[1])


def test_if_with_early_return_takes_results_from_the_other_branch():
    func, b = kernel(("p", bool_), ("i", i32))
    with b.if_(func.params[0]) as br:
        with br.then_():
            b.return_()
        with br.else_():
            b.yield_(func.params[1])
    assert br.results[0].type == i32
    b.return_()
    verify(func)


def test_for_loop_carries_values():
    func, b = kernel(("x", X1), ("n", i32))
    x, n = func.params
    zero = b.constant(0.0, f32)
    with b.for_(b.constant(0, i32), n, b.constant(1, i32), init=[zero]) as loop:
        assert loop.iv.type == i32 and [v.type for v in loop.carried] == [f32]
        b.yield_(b.add(loop.carried[0], b.load(x, [loop.iv])))
    total = loop.results[0]
    b.store(x, [b.constant(0, i32)], total)
    b.return_()
    verify(func)
    assert loop.op.parent is func.block and func.block.ops[-2].operands[2] is total


def test_for_body_must_yield_its_carried_values():
    func, b = kernel(("n", i32), ("f", f32))
    n, f = func.params
    with pytest.raises(IRError, match=r"for body must end with a yield of \(f32\)"), \
            b.for_(n, n, n, init=[f]):
        pass
    func, b = kernel(("n", i32), ("f", f32))
    n, f = func.params
    with pytest.raises(IRError, match=r"for body yields \(i32\) but must yield \(f32\)"), \
            b.for_(n, n, n, init=[f]):
        b.yield_(n)


def test_for_without_carried_values_closes_itself_and_returns_the_insertion_point():
    func, b = kernel(("n", i32))
    n = func.params[0]
    with b.for_(n, n, n, unroll=True) as loop:
        b.barrier()
    after = b.barrier()
    assert [op.name for op in loop.body.ops] == ["barrier", "yield"]
    assert func.block.ops[-1] is after and loop.op.attr("unroll") is True


def test_while_loop():
    func, b = kernel(("n", i32))
    n = func.params[0]
    zero, one = b.constant(0, i32), b.constant(1, i32)
    with b.while_([n]) as w:
        with w.before() as (k,):
            w.condition(b.cmp("gt", k, zero))
        with w.after() as (k,):
            b.yield_(b.shr(k, one))
    assert [r.type for r in w.results] == [i32]
    assert w.before_block.ops[-1].operands[1] is w.before_block.args[0]
    b.return_()
    verify(func)


def test_while_needs_a_condition_and_typed_yields():
    func, b = kernel(("n", i32))
    with pytest.raises(IRError, match="while needs a condition"), b.while_([func.params[0]]):
        pass
    func, b = kernel(("n", i32), ("p", bool_))
    n, p = func.params
    with pytest.raises(IRError, match=r"while condition yields \(bool\) but must yield "
                                      r"\(bool, i32\)"), b.while_([n]) as w:
        with w.before():
            b.yield_(p)
        with w.after() as (k,):
            b.yield_(k)


def test_return_must_give_the_function_results():
    func = Function("f", [("a", f32)], [f32], is_kernel=False)
    b = Builder.for_function(func)
    with pytest.raises(IRError, match=r"return gives \(nothing\) but @f returns \(f32\)"):
        b.return_()
    with b.if_(b.constant(True, bool_)) as br, br.then_():
        b.return_(func.params[0])
    b.return_(func.params[0])
    verify(func)


def test_nothing_can_follow_a_return():
    _, b = kernel()
    b.return_()
    with pytest.raises(IRError, match="cannot add barrier after return"):
        b.barrier()


# --- insertion points and locations -------------------------------------------------------

def test_insertion_points():
    func, b = kernel(("i", i32))
    i = func.params[0]
    first = b.add(i, i).defining_op
    last = b.return_()
    b.set_insertion_point(func.block, last)
    middle = b.mul(i, i).defining_op
    b.set_insertion_point_after(first)
    second = b.sub(i, i).defining_op
    with b.insertion_point(func.block, first):
        zeroth = b.neg(i).defining_op
    third = b.abs(i).defining_op
    assert func.block.ops == [zeroth, first, second, third, middle, last]
    assert Builder.before_op(last).add(i, i).defining_op is func.block.ops[-2]


def test_locations_come_from_the_call_or_the_builder():
    func, b = kernel(("i", i32))
    i = func.params[0]
    other = SourceLoc("other.py", 9, 1)
    with b.location(LOC):
        stamped = b.add(i, i).defining_op
        explicit = b.add(i, i, loc=other).defining_op
    plain = b.add(i, i).defining_op
    assert (stamped.loc, explicit.loc, plain.loc) == (LOC, other, None)


# --- use-def and structure changes --------------------------------------------------------

def test_uses_follow_operand_changes():
    func, b = kernel(("i", i32), ("j", i32))
    i, j = func.params
    s = b.add(i, i)
    op = s.defining_op
    assert [(u.op, u.index) for u in i.uses] == [(op, 0), (op, 1)]
    op.set_operand(1, j)
    assert [u.index for u in i.uses] == [0] and [u.index for u in j.uses] == [1]
    i.replace_all_uses_with(j)
    assert not i.has_uses() and op.operands == (j, j) and j.users == [op]


def test_replace_uses_where_and_type_check():
    func, b = kernel(("i", i32), ("j", i32), ("f", f32))
    i, j, f = func.params
    first, second = b.add(i, i).defining_op, b.mul(i, i).defining_op
    i.replace_uses_where(j, lambda use: use.op is second)
    assert first.operands == (i, i) and second.operands == (j, j)
    with pytest.raises(IRError, match="cannot replace a i32 value with a f32 value"):
        i.replace_all_uses_with(f)


def test_erase_checks_uses_and_drops_nested_uses():
    func, b = kernel(("p", bool_), ("i", i32))
    p, i = func.params
    s = b.add(i, i)
    with pytest.raises(IRError, match="cannot erase add: result 0 is still used by mul"):
        b.mul(s, s)
        s.defining_op.erase()
    with b.if_(p) as br, br.then_():
        b.add(i, i)
    br.op.erase()
    assert br.op.parent is None and [u.op.name for u in i.uses] == ["add", "add"]
    assert not p.has_uses()


def test_move_and_detach():
    func, b = kernel(("i", i32))
    i = func.params[0]
    a, m = b.add(i, i).defining_op, b.mul(i, i).defining_op
    a.move_after(m)
    assert func.block.ops == [m, a]
    a.move_before(m)
    assert func.block.ops == [a, m]
    m.detach()
    assert func.block.ops == [a] and m.parent is None and i.users == [a, m]


def test_effects_include_nested_ops():
    func, b = kernel(("p", bool_), ("x", X1), ("i", i32))
    p, x, i = func.params
    with b.if_(p) as br, br.then_():
        b.store(x, [i], b.load(x, [i]))
    assert br.op.effects() == Effect.READ | Effect.WRITE
    assert br.op.info.effects == Effect.NONE
    assert b.add(i, i).defining_op.effects() == Effect.NONE


# --- cloning ------------------------------------------------------------------------------

def test_clone_function_prints_the_same_and_shares_nothing():
    func = saxpy()
    copy = clone_function(func, "k")
    assert print_function(copy) == print_function(func)
    originals = {id(op) for op in func.walk()} | {id(v) for v in func.params}
    assert not originals & ({id(op) for op in copy.walk()} | {id(v) for v in copy.params})
    verify(copy)


def test_clone_op_remaps_operands():
    func, b = kernel(("i", i32), ("j", i32))
    i, j = func.params
    op = b.add(i, i).defining_op
    copy = clone_op(op, {i: j})
    assert copy.operands == (j, j) and copy.parent is None and copy.result is not op.result


def test_inline_region_before_copies_the_body_and_gives_the_yield():
    func, b = kernel(("n", i32))
    n = func.params[0]
    with b.for_(n, n, n, init=[n]) as loop:
        b.yield_(b.add(loop.iv, loop.carried[0]))
    anchor = b.return_()
    mapping = {loop.iv: n, loop.carried[0]: n}
    results = inline_region_before(loop.op.regions[0], anchor, mapping)
    added = func.block.ops[-2]
    assert added.name == "add" and added.operands == (n, n) and results == (added.result,)


def test_op_without_registry_row_is_refused():
    with pytest.raises(IRError, match="unknown op 'nope'"):
        Op("nope")


def test_local_alloc_makes_a_static_local_array():
    _, b = kernel()
    arr = b.local_alloc((2, 3), f32)
    assert arr.type == ArrayType.static(f32, (2, 3), AddressSpace.LOCAL)
    assert arr.defining_op.info.effects == Effect.ALLOC
