"""The CTA level: a ``for``, ``while`` or ``if`` that holds a barrier runs once per CTA as
scalar control (its decision is CTA-uniform), its regions split into segments again, and
its block arguments and results move through per-thread arena homes (:mod:`.plan`)."""

from __future__ import annotations

from llvmlite import ir

from ..analysis.uniformity import Uniformity
from ..errors import CompilerError
from ..ir.core import Block, Op, Value
from .emitter import EmitterBase
from .plan import Home, Segment
from .types import (
    I1,
    I8,
    I32,
    I64,
    any_lane,
    call_intrinsic,
    first_lane,
    is_vector,
    memory_type,
    splat,
    zero,
)

FAULT_DIVERGENT_BARRIER = 2
"""Fault kind: threads of a CTA disagree on whether to run a region holding a barrier."""


class CtaLevel(EmitterBase):
    """CTA-level blocks and control ops."""

    def emit_cta_block(self, block: Block) -> Op | None:
        """Emit ``block``'s segments and CTA-level ops; returns its terminator (a
        ``return`` has already branched to the end of the CTA)."""
        for item in self.plan.items[block]:
            if isinstance(item, Segment):
                self.emit_segment(item)
            else:
                self.emit_cta_op(item)
        term = block.terminator
        if term is not None and term.name == "return":
            self.b.branch(self.cta_latch)
            self.b.position_at_end(self.block_named("after.return"))
            return None
        return term

    def close(self, term: Op | None, target: ir.Block) -> None:
        """End the current block: to ``target``, or ``unreachable`` after a return."""
        if term is None:
            self.b.unreachable()
        else:
            self.b.branch(target)

    def cta_scalar(self, value: Value, op: Op) -> ir.Value:
        """A CTA-uniform value read at the CTA level (a loop bound, a condition)."""
        if self.uniformity.of(value) != Uniformity.CTA:
            raise CompilerError("a barrier sits under control flow that differs between "
                                "threads of a CTA", op.loc)
        saved = self.scope
        self.scope = dict(saved)  # what is recomputed here stays here: this block may not
        try:                      # dominate later uses
            return self.get(value)
        finally:
            self.scope = saved

    def cta_load_home(self, home: Home) -> ir.Value:
        """A CTA-uniform value's home read at the CTA level: a per-thread home gives the
        copy of the first thread still running (threads that returned stop updating
        theirs)."""
        b = self.b
        if not home.per_lane:
            return self.load_home(home, b)
        thread = self.first_live_thread()
        offset = b.add(b.mul(thread, ir.Constant(I64, home.type.itemsize)),
                       ir.Constant(I64, home.offset))
        value = b.load(self.arena_ptr(offset), typ=memory_type(home.type))
        if home.type.is_bool:
            value = b.icmp_unsigned("!=", value, zero(value.type))
        return value

    def first_live_thread(self) -> ir.Value:
        """i64: the lowest thread of the CTA that has not returned (0 when threads never
        return early; the last thread when none is left, whose copy nobody needs)."""
        if self.plan.alive_offset is None:
            return ir.Constant(I64, 0)
        b = self.b
        pre = b.block
        loop, done = self.block_named("live.scan"), self.block_named("live.found")
        b.branch(loop)
        b.position_at_end(loop)
        g = b.phi(I64)
        g.add_incoming(ir.Constant(I64, 0), pre)
        ptr = b.gep(self.arena, [b.add(b.mul(g, ir.Constant(I64, 4)),
                                       ir.Constant(I64, self.plan.alive_offset))],
                    source_etype=I8)
        bits = b.load(ptr, typ=I32)
        nxt = b.add(g, ir.Constant(I64, 1))
        g.add_incoming(nxt, loop)
        last = b.icmp_unsigned("==", nxt, ir.Constant(I64, self.groups))
        b.cbranch(b.or_(b.icmp_unsigned("!=", bits, ir.Constant(I32, 0)), last), done, loop)
        b.position_at_end(done)
        lane = call_intrinsic(b, "llvm.cttz", [bits, ir.Constant(I1, 0)])
        lane = b.select(b.icmp_unsigned("<", lane, ir.Constant(I32, self.W)), lane,
                        ir.Constant(I32, self.W - 1))
        return b.add(b.mul(g, ir.Constant(I64, self.W)), b.zext(lane, I64))

    def emit_cta_op(self, op: Op) -> None:
        """A ``for``/``while``/``if`` holding a barrier, run as scalar control."""
        handler = {"for": self.cta_for, "while": self.cta_while, "if": self.cta_if}.get(op.name)
        if handler is None:
            raise self.fail(op, f"a barrier inside {op.name}")
        handler(op)

    def copy_into(self, pairs: list[tuple[Value | None, Value, Home]]) -> None:
        """A loop over lane groups copying values into homes: ``(source value or None
        for ``target`` itself, target value, target home)``; reads all, then writes."""
        pairs = [(src, target, home) for src, target, home in pairs
                 if src is None or self.plan.homes.get(src) is not home]
        if not pairs:
            return

        def body() -> None:
            loaded = [self.get(src) for src, _, _ in pairs]
            for value, (_, _, home) in zip(loaded, pairs, strict=True):
                self.store_home(home, value)
        self.group_loop(body)

    def cta_for(self, op: Op) -> None:
        b = self.b
        lb, ub, step = (self.cta_scalar(v, op) for v in op.operands[:3])
        body = op.regions[0].block
        carried = body.args[1:]
        self.copy_into([(init, arg, self.plan.homes[arg])
                        for init, arg in zip(op.operands[3:], carried, strict=True)])
        pre = self.b.block
        header, loop, exit_ = (self.block_named(f"cfor.{n}") for n in ("head", "body", "exit"))
        b.branch(header)
        b.position_at_end(header)
        iv = b.phi(lb.type, "iv")
        iv.add_incoming(lb, pre)
        b.cbranch(self.for_condition(iv, ub, step, op), loop, exit_)
        b.position_at_end(loop)
        self.scope[body.args[0]] = iv
        self.check_cta_alive(exit_)
        term = self.emit_cta_block(body)
        if term is not None:
            self.copy_into([(v, arg, self.plan.homes[arg])
                            for v, arg in zip(term.operands, carried, strict=True)])
            self.poll_cancel()
            iv.add_incoming(self.b.add(iv, step), self.b.block)
        self.close(term, header)
        self.b.position_at_end(exit_)

    def cta_while(self, op: Op) -> None:
        before, after = (r.block for r in op.regions)
        self.copy_into([(init, arg, self.plan.homes[arg])
                        for init, arg in zip(op.operands, before.args, strict=True)])
        header, loop, exit_ = (self.block_named(f"cwhile.{n}") for n in ("head", "do", "exit"))
        self.b.branch(header)
        self.b.position_at_end(header)
        self.check_cta_alive(exit_)
        cond_op = self.emit_cta_block(before)
        if cond_op is None:
            self.close(None, exit_)
            self.b.position_at_end(exit_)
            return
        cond, *fwd = cond_op.operands
        self.copy_into([(v, arg, self.plan.homes[arg])
                        for v, arg in zip(fwd, after.args, strict=True)])
        self.b.cbranch(self.cta_scalar(cond, op), loop, exit_)
        self.b.position_at_end(loop)
        term = self.emit_cta_block(after)
        if term is not None:
            self.copy_into([(v, arg, self.plan.homes[arg])
                            for v, arg in zip(term.operands, before.args, strict=True)])
            self.poll_cancel()
        self.close(term, header)
        self.b.position_at_end(exit_)

    def cta_if(self, op: Op) -> None:
        if self.uniformity.of(op.operands[0]) != Uniformity.CTA:
            cond = self.agreed_condition(op)
        else:
            cond = self.cta_scalar(op.operands[0], op)
        then_bb, else_bb, merge = (self.block_named(f"cif.{n}") for n in ("then", "else", "end"))
        self.b.cbranch(cond, then_bb, else_bb)
        for region, bb in zip(op.regions, (then_bb, else_bb), strict=True):
            self.b.position_at_end(bb)
            term = self.emit_cta_block(region.block)
            if term is not None:
                self.copy_into([(v, r, self.plan.homes[r])
                                for v, r in zip(term.operands, op.results, strict=True)])
            self.close(term, merge)
        self.b.position_at_end(merge)

    def agreed_condition(self, op: Op) -> ir.Value:
        """The condition of an ``if`` holding a barrier that the compiler cannot prove
        CTA-uniform, checked at run time as CUDA allows: every live thread evaluates it;
        when they disagree, the launch stops with a divergent-barrier fault (kind 2) naming
        the barrier, the CTA and one thread on each side; else the common value."""
        b = self.b
        at_entry = ir.IRBuilder(self.fn.entry_basic_block)
        at_entry.position_at_start(self.fn.entry_basic_block)
        first = [at_entry.alloca(I64, name=f"first.{side}") for side in ("true", "false")]
        for slot in first:
            b.store(ir.Constant(I64, -1), slot)

        def body() -> None:
            c = self.get(op.operands[0])
            c = splat(self.b, c, self.W) if not is_vector(c) else c
            for slot, side in zip(first, (c, self.b.not_(c)), strict=True):
                lanes = self.b.and_(self.mask, side)
                lane = self.b.zext(first_lane(self.b, lanes), I64)
                seen = self.b.load(slot)
                thread = self.b.add(self.b.mul(self.group, ir.Constant(I64, self.W)), lane)
                take = self.b.and_(any_lane(self.b, lanes),
                                   self.b.icmp_signed("<", seen, ir.Constant(I64, 0)))
                self.b.store(self.b.select(take, thread, seen), slot)
        self.group_loop(body)
        b = self.b
        t_thread, f_thread = (b.load(slot) for slot in first)
        negative = ir.Constant(I64, 0)
        split = b.and_(b.icmp_signed(">=", t_thread, negative),
                       b.icmp_signed(">=", f_thread, negative))
        fault_bb, agreed = self.block_named("divergent.barrier"), self.block_named("agreed")
        b.cbranch(split, fault_bb, agreed)
        b.position_at_end(fault_bb)
        barrier = next((inner for inner in op.walk() if inner.name == "barrier"), op)
        site = len(self.fault_sites)
        self.fault_sites.append((barrier.loc, "barrier", "shared"))
        self.write_fault([ir.Constant(I64, FAULT_DIVERGENT_BARRIER), ir.Constant(I64, site),
                          self.cta, t_thread, f_thread])
        b.position_at_end(agreed)
        return b.icmp_signed(">=", t_thread, negative)

    def check_cta_alive(self, exit_: ir.Block) -> None:
        """When threads may have returned, leave a CTA-level loop once none is left
        (its condition would otherwise be read from threads that no longer run)."""
        if self.plan.alive_offset is None:
            return
        b = self.b
        acc = ir.Constant(I32, 0)
        for g in range(self.groups):
            ptr = self.arena_ptr(self.plan.alive_offset + 4 * g)
            acc = b.or_(acc, b.load(ptr, typ=I32))
        go = self.block_named("alive")
        b.cbranch(b.icmp_unsigned("!=", acc, ir.Constant(I32, 0)), go, exit_)
        b.position_at_end(go)

    def for_condition(self, iv: ir.Value, ub: ir.Value, step: ir.Value, op: Op) -> ir.Value:
        """``iv < ub`` for a positive step, ``iv > ub`` for a negative one."""
        b = self.b
        t = op.operands[0].type
        cmp = b.icmp_signed if t.is_signed else b.icmp_unsigned
        if isinstance(step, ir.Constant) and not is_vector(step):
            value = int(step.constant)  # constants may hold the unsigned bit pattern
            if value >= 1 << (step.type.width - 1):
                value -= 1 << step.type.width
            return cmp("<", iv, ub) if value > 0 or not t.is_signed else cmp(">", iv, ub)
        up = cmp("<", iv, ub)
        if not t.is_signed:
            return up
        positive = b.icmp_signed(">", step, zero(step.type))
        return b.select(positive, up, cmp(">", iv, ub))
