"""Lane groups: each thread segment runs as a loop over the CTA's groups of ``lanes``
consecutive threads, with the group's mask of running lanes; threads that ``return`` leave
the mask, and across barriers the mask lives in the arena (:mod:`.plan`)."""

from __future__ import annotations

from collections.abc import Callable

from llvmlite import ir

from ..ir.core import Op
from .emitter import EmitterBase
from .plan import Segment, has_return
from .types import (
    I1,
    I8,
    I32,
    I64,
    any_lane,
    iota,
    mask_bits,
    splat,
    vector_of,
)


class LaneGroups(EmitterBase):
    """Loops over lane groups and the ops of a segment."""

    def init_alive(self) -> None:
        """At the start of a CTA every thread of every group runs."""
        for g in range(self.groups):
            live = min(self.W, self.threads - g * self.W)
            bits = (1 << live) - 1
            self.b.store(ir.Constant(I32, bits), self.arena_ptr(self.plan.alive_offset + 4 * g))

    def emit_segment(self, segment: Segment) -> None:
        """Run a segment's ops once per lane group."""
        self.group_loop(lambda: self.emit_lane_ops(segment.ops))

    def group_loop(self, emit_body: Callable[[], None]) -> None:
        """``for g in range(groups)``: set up the group's lanes and mask, emit the body."""
        b = self.b
        pre = b.block
        header, gentry, start, dead, latch, exit_ = (
            self.block_named(f"g.{n}") for n in ("head", "entry", "start", "dead", "latch",
                                                  "exit"))
        b.branch(header)
        b.position_at_end(header)
        g = b.phi(I64, "g")
        g.add_incoming(ir.Constant(I64, 0), pre)
        b.cbranch(b.icmp_unsigned("<", g, ir.Constant(I64, self.groups)), gentry, exit_)
        b.position_at_end(gentry)
        self.group = g
        self.group_local = {}
        self.dead_block = dead
        tracked = self.plan.alive_offset is not None
        lane = iota(I32, self.W)
        g32 = b.trunc(g, I32)
        base = b.mul(g32, ir.Constant(I32, self.W))
        self.tid = b.add(splat(b, base, self.W), lane)
        if self.threads % self.W:
            mask = b.icmp_unsigned("<", self.tid, splat(b, ir.Constant(I32, self.threads),
                                                        self.W))
        else:
            mask = self.ones_mask()
        if tracked:
            ptr = b.gep(self.arena, [b.add(b.mul(g, ir.Constant(I64, 4)),
                                           ir.Constant(I64, self.plan.alive_offset))],
                        source_etype=I8)
            bits = b.load(ptr, typ=I32)
            if self.W < 32:
                bits = b.trunc(bits, ir.IntType(self.W))
            mask = b.and_(mask, b.bitcast(bits, vector_of(I1, self.W)))
            b.cbranch(any_lane(b, mask), start, latch)
        else:
            b.branch(start)
        self.entry_b = ir.IRBuilder(gentry)
        self.entry_b.position_before(gentry.instructions[-1])
        b.position_at_end(start)
        self.mask = mask
        emit_body()
        if tracked:
            self.store_alive(self.mask)
        b.branch(latch)
        b.position_at_end(dead)
        if tracked:
            self.store_alive(self.zeros_mask())
        b.branch(latch)
        b.position_at_end(latch)
        g.add_incoming(b.add(g, ir.Constant(I64, 1)), latch)
        b.branch(header)
        b.position_at_end(exit_)
        self.group = self.tid = self.entry_b = self.mask = self.dead_block = None
        self.group_local = {}

    def store_alive(self, mask: ir.Value) -> None:
        """Remember which of the group's threads still run."""
        b = self.b
        bits = mask_bits(b, mask)
        if self.W < 32:
            bits = b.zext(bits, I32)
        ptr = b.gep(self.arena, [b.add(b.mul(self.group, ir.Constant(I64, 4)),
                                       ir.Constant(I64, self.plan.alive_offset))],
                    source_etype=I8)
        b.store(bits, ptr)

    def leave_if_all_returned(self) -> None:
        """After code that may ``return``: when no running lane is left, stop the group
        (at a segment's top level, where the mask is every live lane) or skip to the end
        of the region being emitted."""
        b = self.b
        if self.skip_block is None and self.region_depth > 0:
            self.skip_block = self.block_named("region.skip")
        target = self.skip_block if self.region_depth > 0 else self.dead_block
        cont = self.block_named("live")
        b.cbranch(any_lane(b, self.mask), cont, target)
        b.position_at_end(cont)

    def emit_lane_ops(self, ops: list[Op]) -> None:
        """Emit ops for the current lane group; results defined, homes stored."""
        for op in ops:
            self.emit_lane_op(op)
            if op.name != "return" and has_return(op):
                self.leave_if_all_returned()
            for result in op.results:
                home = self.plan.homes.get(result)
                if home is not None:
                    self.store_home(home, self.get(result))

    def emit_lane_op(self, op: Op) -> None:
        """Overridden by the parts that know each op."""
        raise NotImplementedError
