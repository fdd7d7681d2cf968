"""The entry function: its parameters, the loop over CTAs, and work sharing between the
workers.

Entry ABI (one native function per kernel; C signature)::

    int32_t entry(const uint64_t *params, uint8_t *arena, int64_t first_cta,
                  int64_t end_cta, int64_t *fault)

``params`` holds one 8-byte slot per ISA parameter (``compiler.abi.expand_params``
order; a scalar in the slot's low bytes), then the grid's x, y, z, then two slots for
work sharing: a counter and a chunk size (int64), then the cancel word: the host sets it
to stop the launch (Ctrl-C, a timeout), and the code returns 2 at its next loop back edge
or CTA; then the bytes of dynamic shared memory, which sit in the arena after everything
the plan laid out (64-byte aligned). ``arena`` is the calling worker's
scratch (:class:`~.plan.Plan`), 64-byte aligned. With ``first_cta >= 0`` the CTAs
``first_cta .. end_cta - 1`` run in order (linear id ``bx + gx * (by + gy * bz)``). With
``first_cta < 0`` the workers share the CTAs ``0 .. end_cta - 1``: each call takes the next
``chunk`` of them from the counter with an atomic add until none is left, so every worker
makes one call and the fast ones take more chunks. On an out-of-bounds access (checked
builds) the function fills ``fault`` (kind, site, CTA, thread, axis, index, extent), sets
the counter past the end (the other workers stop at their next chunk) and returns 1;
otherwise it returns 0.
"""

from __future__ import annotations

from llvmlite import ir

from ..abi import expand_params
from ..ir.core import Value
from ..ir.types import ArrayType
from .emitter import ArrayInfo, EmitterBase
from .types import (
    I8,
    I32,
    I64,
    PTR,
    scalar_type,
    zero,
)


class EntryFunction(EmitterBase):
    """The entry function around the kernel's CTA code."""

    def build(self) -> None:
        """Emit the whole entry function."""
        fnty = ir.FunctionType(I32, [PTR, PTR, I64, I64, PTR])
        self.fn = ir.Function(self.module, fnty, self.entry_name)
        for arg, nm in zip(self.fn.args, ("params", "arena", "first", "end", "fault"),
                           strict=True):
            arg.name = nm
        self.fn.args[0].add_attribute("noalias")
        self.fn.args[1].add_attribute("noalias")
        self.fn.args[4].add_attribute("noalias")
        self.params_ptr, self.arena, first, end, self.fault_ptr = self.fn.args
        entry = self.block_named("entry")
        self.b = ir.IRBuilder(entry)
        self.load_params()
        header = self.block_named("cta.header")
        body = self.block_named("cta.body")
        self.cta_latch = self.block_named("cta.latch")
        done = self.block_named("done")
        b = self.b
        pre = b.block
        shared = b.icmp_signed("<", first, ir.Constant(I64, 0))
        grab, ranged, range_done = (self.block_named(n) for n in ("grab", "range",
                                                                   "range.done"))
        b.cbranch(shared, grab, ranged)
        b.position_at_end(grab)  # take the next chunk of the shared range
        start = b.atomic_rmw("add", self.counter_ptr, self.chunk, "monotonic")
        stop = b.select(b.icmp_signed("<", b.add(start, self.chunk), end),
                        b.add(start, self.chunk), end)
        b.cbranch(b.icmp_signed("<", start, end), ranged, done)
        b.position_at_end(ranged)
        range_first = b.phi(I64, "range.first")
        range_first.add_incoming(first, pre)
        range_first.add_incoming(start, grab)
        range_end = b.phi(I64, "range.end")
        range_end.add_incoming(end, pre)
        range_end.add_incoming(stop, grab)
        first_index = self.block_index(range_first)
        b.branch(header)
        b.position_at_end(header)
        cta = b.phi(I64, "cta")
        cta.add_incoming(range_first, ranged)
        index = [b.phi(I32, f"block_idx.{d}") for d in "xyz"]
        for phi, value in zip(index, first_index, strict=True):
            phi.add_incoming(value, ranged)
        b.cbranch(b.icmp_signed("<", cta, range_end), body, range_done)
        b.position_at_end(range_done)
        b.cbranch(shared, grab, done)
        self.b.position_at_end(body)
        self.cta = cta
        self.block_idx = dict(zip("xyz", index, strict=True))
        self.zero_arrays()
        if self.plan.alive_offset is not None:
            self.init_alive()
        self.close(self.emit_cta_block(self.func.block), self.cta_latch)
        self.b.position_at_end(self.cta_latch)
        self.poll_cancel()
        nxt = self.b.add(cta, ir.Constant(I64, 1))
        cta.add_incoming(nxt, self.b.block)
        for phi, value in zip(index, self.next_block_index(index), strict=True):
            phi.add_incoming(value, self.b.block)
        self.b.branch(header)
        self.b.position_at_end(done)
        self.b.ret(ir.Constant(I32, 0))

    def zero_arrays(self) -> None:
        """Zero the CTA's shared and local arrays and its dynamic shared memory (if the
        kernel reads any: a call per CTA costs saxpy 8% over 2^24 elements)."""
        b = self.b
        ptr_t = self.arena.type
        memset = self.module.declare_intrinsic("llvm.memset", [ptr_t, I64])
        false = ir.Constant(ir.IntType(1), 0)
        if self.plan.zeroed_bytes:
            b.call(memset, [self.arena, ir.Constant(I8, 0),
                            ir.Constant(I64, self.plan.zeroed_bytes), false])
        if not any(op.name == "dynamic_shared" for op in self.func.walk()):
            return
        start = -(-self.plan.size // 64) * 64
        b.call(memset, [self.arena_ptr(start), ir.Constant(I8, 0), self.dynamic_shared_bytes,
                        false])

    def load_params(self) -> None:
        """Read every parameter slot into a scalar (arrays: pointer, shape, strides)."""
        b = self.b
        irparams = list(zip(self.func.params, self.func.param_types, strict=True))
        isa = expand_params([(p.name or f"arg{i}", t) for i, (p, t) in enumerate(irparams)])
        self.isa_params = tuple(isa)
        slot = 0

        def read(t: ir.Type) -> ir.Value:
            nonlocal slot
            ptr = b.gep(self.params_ptr, [ir.Constant(I64, 8 * slot)], source_etype=I8)
            slot += 1
            return b.load(ptr, typ=t, align=8)

        self.arrays: dict[Value, ArrayInfo] = {}
        contiguous = iter(self.contiguous)
        for value, t in irparams:
            if isinstance(t, ArrayType):
                base = read(PTR)
                shape = [b.sext(read(I32), I64) for _ in range(t.ndim)]
                strides: list[ir.Value] = [b.sext(read(I32), I64) for _ in range(t.ndim)]
                if next(contiguous, False):
                    strides[-1] = ir.Constant(I64, 1)
                self.arrays[value] = ArrayInfo(t, base, shape, strides, value.name or "array")
            else:
                raw = read(I32 if t.is_bool else scalar_type(t))
                self.scope[value] = b.icmp_unsigned("!=", raw, zero(I32)) if t.is_bool \
                    else raw
        self.grid = [b.trunc(read(I64), I32) for _ in range(3)]
        self.counter_ptr = b.gep(self.params_ptr, [ir.Constant(I64, 8 * slot)],
                                 source_etype=I8)
        slot += 1
        self.chunk = read(I64)
        self.cancel_ptr = b.gep(self.params_ptr, [ir.Constant(I64, 8 * slot)],
                                source_etype=I8)
        slot += 1
        self.dynamic_shared_bytes = read(I64)

    def block_index(self, cta: ir.Value) -> list[ir.Value]:
        """block_idx x, y, z of linear CTA id ``cta`` (divisions: once per call of the
        entry; :meth:`next_block_index` steps from CTA to CTA)."""
        b = self.b
        gx, gy = (b.zext(g, I64) for g in self.grid[:2])
        x = b.urem(cta, gx)
        rest = b.udiv(cta, gx)
        y = b.urem(rest, gy)
        z = b.udiv(rest, gy)
        return [b.trunc(v, I32) for v in (x, y, z)]

    def next_block_index(self, index: list[ir.Value]) -> list[ir.Value]:
        """block_idx of the next linear CTA: x + 1, carrying into y and then z."""
        b = self.b
        x, y, z = index
        one, zero32 = ir.Constant(I32, 1), ir.Constant(I32, 0)
        x1 = b.add(x, one)
        wrap_x = b.icmp_unsigned(">=", x1, self.grid[0])
        y1 = b.select(wrap_x, b.add(y, one), y)
        wrap_y = b.icmp_unsigned(">=", y1, self.grid[1])
        return [b.select(wrap_x, zero32, x1), b.select(wrap_y, zero32, y1),
                b.select(wrap_y, b.add(z, one), z)]
