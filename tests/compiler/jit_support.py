"""Hand-built LLVM modules that follow the CPU entry ABI, for testing the JIT and the CPU
device without the lowering.

Entry: ``i32 entry(ptr params, ptr arena, i64 first_cta, i64 end_cta, ptr fault)``; one
8-byte parameter slot per ISA parameter, then grid x, y, z.
"""

from __future__ import annotations

import llvmlite.ir as ir

from warpforge.isa.program import Param

I1, I32, I64, F32 = ir.IntType(1), ir.IntType(32), ir.IntType(64), ir.FloatType()
PTR = ir.PointerType()

SAXPY_PARAMS = (Param("a", "f32"), Param("x", "f32*"), Param("x_shape0", "i32"),
                Param("x_stride0", "i32"), Param("y", "f32*"), Param("y_shape0", "i32"),
                Param("y_stride0", "i32"), Param("n", "i32"))
"""The ISA parameters of :func:`saxpy_module`'s kernel,
``saxpy(a: f32, x: f32[:], y: f32[:], n: i32)``."""


def _entry(module: ir.Module, name: str) -> tuple[ir.Function, ir.IRBuilder]:
    fnty = ir.FunctionType(I32, [PTR, PTR, I64, I64, PTR])
    fn = ir.Function(module, fnty, name)
    for arg, arg_name in zip(fn.args, ("params", "arena", "first", "end", "fault"),
                             strict=True):
        arg.name = arg_name
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _slot(b: ir.IRBuilder, params: ir.Value, k: int, ty: ir.Type) -> ir.Value:
    """Load slot ``k``'s low bytes as ``ty``."""
    return b.load(b.gep(params, [ir.Constant(I64, k)], source_etype=I64), typ=ty)


def _counted_loop(b: ir.IRBuilder, start: ir.Value, end: ir.Value, name: str):
    """Open ``for i in range(start, end)``; returns (i, close) where close() ends it."""
    pre = b.block
    head = b.append_basic_block(f"{name}.head")
    body = b.append_basic_block(f"{name}.body")
    done = b.append_basic_block(f"{name}.done")
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(start.type, name=name)
    i.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", i, end), body, done)
    b.position_at_end(body)

    def close() -> None:
        i.add_incoming(b.add(i, ir.Constant(start.type, 1)), b.block)
        b.branch(head)
        b.position_at_end(done)
    return i, close


def _bounds_check(b: ir.IRBuilder, fault: ir.Value, site: int, cta: ir.Value,
                  tid: ir.Value, index: ir.Value, extent: ir.Value) -> None:
    """Write a fault record and return 1 unless ``0 <= index < extent``."""
    bad = b.append_basic_block(f"oob{site}")
    ok = b.append_basic_block(f"ok{site}")
    b.cbranch(b.icmp_unsigned(">=", index, extent), bad, ok)
    b.position_at_end(bad)
    words = (ir.Constant(I64, 1), ir.Constant(I64, site), cta, b.sext(tid, I64),
             ir.Constant(I64, 0), b.sext(index, I64), b.sext(extent, I64))
    for k, word in enumerate(words):
        b.store(word, b.gep(fault, [ir.Constant(I64, k)], source_etype=I64))
    b.ret(ir.Constant(I32, 1))
    b.position_at_end(ok)


def saxpy_module(block: int = 64, name: str = "saxpy_ctas") -> ir.Module:
    """``y[i] = a * x[i] + y[i]`` for ``i = cta * block + t < n``, bounds-checked (site 0
    the read of x, site 1 the read of y), strides honoured, one thread at a time."""
    module = ir.Module(name="saxpy")
    fn, b = _entry(module, name)
    params, _arena, first, end, fault = fn.args
    a = _slot(b, params, 0, F32)
    x, xn, xs = (_slot(b, params, k, t) for k, t in ((1, PTR), (2, I32), (3, I32)))
    y, yn, ys = (_slot(b, params, k, t) for k, t in ((4, PTR), (5, I32), (6, I32)))
    n = _slot(b, params, 7, I32)
    cta, close_cta = _counted_loop(b, first, end, "cta")
    t, close_t = _counted_loop(b, ir.Constant(I32, 0), ir.Constant(I32, block), "t")
    i = b.add(b.mul(b.trunc(cta, I32), ir.Constant(I32, block)), t)
    inside = b.append_basic_block("inside")
    skip = b.append_basic_block("skip")
    b.cbranch(b.icmp_signed("<", i, n), inside, skip)
    b.position_at_end(inside)
    _bounds_check(b, fault, 0, cta, t, i, xn)
    xv = b.load(b.gep(x, [b.sext(b.mul(i, xs), I64)], source_etype=F32), typ=F32)
    _bounds_check(b, fault, 1, cta, t, i, yn)
    yp = b.gep(y, [b.sext(b.mul(i, ys), I64)], source_etype=F32)
    b.store(b.fadd(b.fmul(a, xv), b.load(yp, typ=F32)), yp)
    b.branch(skip)
    b.position_at_end(skip)
    close_t()
    close_cta()
    b.ret(ir.Constant(I32, 0))
    return module


def echo_module(slots: int, name: str = "echo_ctas") -> ir.Module:
    """Copies parameter slots 1 .. ``slots``-1 (the grid's three included when counted)
    into the u64 array whose address is in slot 0: ``out[k] = slot[k]``, once (CTA 0)."""
    module = ir.Module(name="echo")
    fn, b = _entry(module, name)
    params, _arena, first, _end, _fault = fn.args
    out = _slot(b, params, 0, PTR)
    first_cta = b.append_basic_block("first_cta")
    done = b.append_basic_block("done")
    b.cbranch(b.icmp_signed("==", first, ir.Constant(I64, 0)), first_cta, done)
    b.position_at_end(first_cta)
    for k in range(1, slots):
        b.store(_slot(b, params, k, I64), b.gep(out, [ir.Constant(I64, k)],
                                                 source_etype=I64))
    b.branch(done)
    b.position_at_end(done)
    b.ret(ir.Constant(I32, 0))
    return module


def expf_module(name: str = "call_expf") -> ir.Module:
    """``float call_expf(float)`` calling libm's ``expf`` (a symbol of the process)."""
    module = ir.Module(name="expf")
    expf = ir.Function(module, ir.FunctionType(F32, [F32]), "expf")
    fn = ir.Function(module, ir.FunctionType(F32, [F32]), name)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.ret(b.call(expf, [fn.args[0]]))
    return module
