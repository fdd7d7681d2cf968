"""Intrinsics: thread position, barriers, shared/local arrays, atomics, warp ops, math,
and @wf.func device functions."""

from __future__ import annotations

import pytest

from warpforge.compiler.ir import AddressSpace, ArrayType, verify, verify_function
from warpforge.compiler.ir import types as ir
from warpforge.compiler.passes.inline import inline
from warpforge.dsl.errors import CompileError
from warpforge.dsl.frontend import build_module

from .support import build, constant_value, names, ops, wf


def test_thread_position():
    def k(o):
        o[0] = wf.thread_idx.x + wf.thread_idx.y + wf.thread_idx.z
        o[1] = wf.block_idx.y + wf.block_dim.z + wf.grid_dim.x + wf.lane_id()

    f = build(k, o=wf.i32[:])
    got = [(op.name, op.attr("dim")) for op in ops(f) if op.info.category == "special"]
    assert got == [("thread_idx", "x"), ("thread_idx", "y"), ("thread_idx", "z"),
                   ("block_idx", "y"), ("block_dim", "z"), ("grid_dim", "x"),
                   ("lane_id", None)]


def test_shared_and_local_arrays_with_constexpr_shapes():
    def k(o, BM: wf.constexpr, BK: wf.constexpr):
        s = wf.shared((BM, BK + 1), wf.f32)
        r = wf.local(4, wf.i32)
        t = wf.thread_idx.x
        s[t, 0] = 1.0
        r[0] = t
        wf.syncthreads()
        o[t] = s[0, t] + r[0]

    f = build(k, {"BM": 16, "BK": 16}, o=wf.f32[:])
    (shared,) = ops(f, "shared_alloc")
    (local,) = ops(f, "local_alloc")
    assert shared.result.type == ArrayType.static(ir.f32, (16, 17), AddressSpace.SHARED)
    assert local.result.type == ArrayType.static(ir.i32, (4,), AddressSpace.LOCAL)
    assert "barrier" in names(f)


@pytest.mark.parametrize(("fn", "kind"), [
    ("atomic_add", "add"), ("atomic_min", "min"), ("atomic_max", "max"),
    ("atomic_exch", "exch"), ("atomic_and", "and"), ("atomic_or", "or"),
    ("atomic_xor", "xor")])
def test_atomics_return_the_old_value(fn, kind):
    atomic = getattr(wf, fn)

    def k(o, c):
        old = atomic(c, 0, 5)
        o[wf.thread_idx.x] = old

    f = build(k, o=wf.i32[:], c=wf.i32[:])
    (op,) = ops(f, "atomic")
    assert op.attr("kind") == kind and op.result.type == ir.i32
    assert ops(f, "store")[0].operands[-1] is op.result


def test_atomic_on_2d_array_and_cas_order():
    def k2(c, d, cmp, val):
        wf.atomic_add(c, (1, 2), 1)
        return_value = wf.atomic_cas(d, 0, cmp, val)
        d[1] = return_value

    f = build(k2, c=wf.f32[:, :], d=wf.u32[:], cmp=wf.u32, val=wf.u32)
    add, cas = ops(f, "atomic")
    assert len(add.operands) == 4 and add.operands[-1].type == ir.f32
    assert cas.attr("kind") == "cas"
    params = {p.name: p for p in f.params}
    assert cas.operands[2] is params["val"] and cas.operands[3] is params["cmp"]


def test_shuffles_and_votes():
    def k(o, v):
        a = wf.shfl_xor(v, 16) + wf.shfl_down(v, 1) + wf.shfl_up(v, 1) + wf.shfl_idx(v, 0)
        o[0] = a
        o[1] = wf.f32(wf.ballot(v > 0.0))
        if wf.vote_any(v > 1.0) and wf.vote_all(v < 9.0):
            o[2] = 1.0

    f = build(k, o=wf.f32[:], v=wf.f32)
    assert [op.attr("kind") for op in ops(f, "shfl")] == ["xor", "down", "up", "idx"]
    votes = ops(f, "vote")
    assert [(op.attr("kind"), op.result.type) for op in votes] == [
        ("ballot", ir.u32), ("any", ir.bool_), ("all", ir.bool_)]


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "rsqrt", "sin", "cos"])
def test_math_functions_cast_integers_to_f32(name):
    fn = getattr(wf, name)

    def k(o, a, d):
        o[0] = fn(a)
        o[1] = fn(d)

    f = build(k, o=wf.f64[:], a=wf.i32, d=wf.f64)
    first, second = ops(f, name)
    assert first.result.type == ir.f32 and first.operands[0].defining_op.name == "cast"
    assert second.result.type == ir.f64


def test_fma_and_select():
    def k(o, a, b, p):
        o[0] = wf.fma(a, b, 1)
        o[1] = wf.select(p, a, 2)

    f = build(k, o=wf.f32[:], a=wf.f32, b=wf.f32, p=wf.bool_)
    (fma,) = ops(f, "fma")
    assert fma.result.type == ir.f32
    (sel,) = ops(f, "select")
    assert sel.operands[0].type == ir.bool_ and constant_value(sel.operands[2]) == 2.0


@wf.func
def _axpy(a, x, y):
    return a * x + y


@wf.func
def _store_twice(arr, i, v):
    arr[i] = v
    arr[i + 1] = v


@wf.func
def _uses_axpy(a, x):
    return _axpy(a, x, 1.0)


def test_device_functions_become_calls_with_callees_in_the_module():
    def k(o, a, x, n):
        o[0] = _axpy(a, x, 2.0)
        o[1] = _axpy(n, n, n)
        o[2] = _axpy(a, x, 3.0)
        _store_twice(o, 3, a)

    f = build(k, o=wf.f32[:], a=wf.f32, x=wf.f32, n=wf.i32)
    calls = ops(f, "call")
    assert [c.attr("callee") for c in calls] == ["_axpy", "_axpy_1", "_axpy", "_store_twice"]
    module = f.module
    assert list(module.functions) == ["k", "_axpy", "_axpy_1", "_store_twice"]
    assert module["_axpy"].result_types == (ir.f32,)
    assert module["_axpy_1"].param_types == (ir.i32, ir.i32, ir.i32)
    assert module["_store_twice"].result_types == ()
    assert not module["_axpy"].is_kernel
    verify(module)


def test_nested_device_functions_and_build_module():
    def k(o, a):
        o[0] = _uses_axpy(a, a)

    module = build_module(k, {"o": wf.f32[:], "a": wf.f32}, {})
    assert list(module.functions) == ["k", "_uses_axpy", "_axpy"]
    verify(module)


@wf.func
def _recursive(n):
    return _recursive(n - 1)


def test_recursion_is_rejected():
    def k(o):
        o[0] = _recursive(3)

    with pytest.raises(CompileError, match=r"recursive @wf\.func"):
        build(k, o=wf.i32[:])


@wf.func
def _sign(x):
    if x < 0:
        return -1
    return 1


def test_device_function_early_returns_are_structured():
    def k(o, a):
        o[0] = _sign(a)

    f = build(k, o=wf.i32[:], a=wf.f32)
    callee = f.module["_sign"]
    assert callee.result_types == (ir.i32,)
    returns = [op for op in callee.walk() if op.name == "return"]
    assert len(returns) == 1 and returns[0].parent is callee.block
    assert callee.block.ops[-1] is returns[0]
    # the returned value merges the early return's -1 with the final 1
    (result,) = returns[0].operands
    assert result.defining_op.name == "if"
    inline(f, f.module)
    assert "call" not in names(f)
    verify_function(f)


@wf.func
def _clamp_store(arr, i, v):
    if v < 0:
        arr[i] = 0
        return
    arr[i] = v


def test_void_device_function_with_early_return_guards_the_rest():
    def k(o, a):
        _clamp_store(o, 0, a)

    f = build(k, o=wf.i32[:], a=wf.i32)
    callee = f.module["_clamp_store"]
    assert callee.result_types == ()
    ifs = [op for op in callee.walk() if op.name == "if"]
    assert len(ifs) == 2
    guard = ifs[1]
    assert guard.operands[0].defining_op.name == "not"
    assert [op.name for op in guard.regions[0].block.ops] == ["store", "yield"]


@wf.func
def _find(arr, n):
    for i in range(n):
        if arr[i] == 0:
            return i
    return -1


def test_return_inside_a_loop_of_a_device_function_breaks_out_and_returns_at_the_end():
    def k(o, n):
        o[0] = _find(o, n)

    f = build(k, o=wf.i32[:], n=wf.i32)
    helper = f.module[ops(f, "call")[0].attr("callee")]
    returns = [op for op in helper.walk() if op.name == "return"]
    assert len(returns) == 1 and returns[0] is helper.block.ops[-1]
    assert any(op.name == "while" for op in helper.walk())  # the loop can stop early


@wf.func
def _divmod(a, b):
    return a // b, a % b


def test_device_function_returning_a_tuple():
    def k(o, a, b):
        q, r = _divmod(a, b)
        o[0] = q
        o[1] = r

    f = build(k, o=wf.i32[:], a=wf.i32, b=wf.i32)
    (call,) = ops(f, "call")
    assert call.result_types == (ir.i32, ir.i32)
    stores = ops(f, "store")
    assert [s.operands[-1] for s in stores] == list(call.results)
    assert f.module["_divmod"].result_types == (ir.i32, ir.i32)
