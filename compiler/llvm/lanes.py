"""Structured control flow across the lanes of a group: masks, as ISPC and whole-function
vectorization do (simt-on-cpu.md §3 item 7).

The emitter keeps ``mask``, the lanes that run the code being emitted; code runs only
when some lane is on, so scalar (uniform) work is always wanted by a live lane.

- ``if`` on a scalar condition is a branch. On a vector condition both sides run, each
  under its part of the mask and skipped when that part is empty; the results are
  ``select``-ed by the condition.
- ``for`` with scalar bounds is a scalar loop. Otherwise, and for ``while`` whose decision
  the uniformity analysis calls varying, the loop runs while any lane still loops; lanes
  that leave keep their results, collected with ``select``.
- ``return`` turns the running lanes off; after any construct holding one, a group with
  no lane left jumps to its end.
"""

from __future__ import annotations

from llvmlite import ir

from ..analysis.uniformity import Uniformity
from ..ir.core import Block, Op, Value
from .emitter import EmitterBase
from .plan import has_return
from .types import any_lane, is_vector, scalar_type, splat, vector_of, zero


class LaneControl(EmitterBase):
    """The lane-level ``if``, ``for``, ``while`` and ``return``."""

    def emit_region(self, block: Block) -> list[ir.Value] | None:
        """Emit a lane-level region; its yielded values, or None if it returned.

        When every running lane has returned part-way, the rest of the region is skipped
        (its values are zeros and its mask empty: no lane needs them)."""
        outer_skip = self.skip_block
        self.skip_block = None
        self.region_depth += 1
        try:
            self.emit_lane_ops([op for op in block.ops if not op.info.terminator])
        finally:
            self.region_depth -= 1
        term = block.terminator
        skip, self.skip_block = self.skip_block, outer_skip
        if term is None or term.name == "return":
            values = None
            self.mask = self.zeros_mask()
        else:
            values = [self.get(v) for v in term.operands]
        if skip is None:
            return values
        b = self.b
        end = b.block
        join = self.block_named("region.join")
        b.branch(join)
        b.position_at_end(skip)
        b.branch(join)
        b.position_at_end(join)
        self.mask = self._phi([(self.mask, end), (self.zeros_mask(), skip)])
        if values is None:
            return None
        return [self._phi([(v, end), (zero(v.type), skip)]) for v in values]

    def lane_return(self, _op: Op) -> None:
        """``return`` nested in a lane-level region: those lanes stop."""
        self.mask = self.zeros_mask()

    # --- if ------------------------------------------------------------------------------

    def lane_if(self, op: Op) -> None:
        cond = self.get(op.operands[0])
        if is_vector(cond):
            self.varying_if(op, cond)
        else:
            self.uniform_if(op, cond)

    def _branch_values(self, op: Op, region_index: int) -> tuple[list | None, ir.Value,
                                                                 ir.Block]:
        values = self.emit_region(op.regions[region_index].block)
        return values, self.mask, self.b.block

    def _values_or_zero(self, values: list | None, op: Op) -> list:
        if values is not None:
            return values
        return [zero(self.result_llvm_type(r, False)) for r in op.results]

    def uniform_if(self, op: Op, cond: ir.Value) -> None:
        b = self.b
        entry_mask = self.mask
        then_bb, else_bb, merge = (self.block_named(f"if.{n}") for n in ("then", "else", "end"))
        b.cbranch(cond, then_bb, else_bb)
        ends = []
        for index, bb in enumerate((then_bb, else_bb)):
            b.position_at_end(bb)
            self.mask = entry_mask
            ends.append(self._branch_values(op, index))
        vector = [any(vals is not None and is_vector(vals[i]) for vals, _, _ in ends)
                  for i in range(len(op.results))]
        incoming = []
        for values, mask, block in ends:
            b.position_at_end(block)
            values = self._values_or_zero(values, op)
            incoming.append(([self.to_repr(v, vec) for v, vec in zip(values, vector,
                                                                        strict=True)],
                             mask, b.block))
            b.branch(merge)
        b.position_at_end(merge)
        self.mask = self._phi([(m, blk) for _, m, blk in incoming])
        for i, result in enumerate(op.results):
            self.define(result, self._phi([(vals[i], blk) for vals, _, blk in incoming]))

    def varying_if(self, op: Op, cond: ir.Value) -> None:
        b = self.b
        entry_mask = self.mask
        then_mask = b.and_(entry_mask, cond)
        else_mask = b.and_(entry_mask, b.not_(cond))
        t_vals, t_mask = self._masked_side(op, 0, then_mask)
        e_vals, e_mask = self._masked_side(op, 1, else_mask)
        self.mask = b.or_(t_mask, e_mask)
        for result, tv, ev in zip(op.results, t_vals, e_vals, strict=True):
            self.define(result, b.select(cond, splat(b, tv, self.W), splat(b, ev, self.W)))

    def _masked_side(self, op: Op, index: int, side_mask: ir.Value
                     ) -> tuple[list[ir.Value], ir.Value]:
        """Run region ``index`` of ``op`` under ``side_mask``, skipped when no lane is on;
        its values (zeros when skipped) and the lanes still running after it."""
        b = self.b
        skip_from = b.block
        body, after = (self.block_named(f"vif.{n}{index}") for n in ("side", "after"))
        b.cbranch(any_lane(b, side_mask), body, after)
        b.position_at_end(body)
        self.mask = side_mask
        values, mask, end = self._branch_values(op, index)
        values = self._values_or_zero(values, op)
        b.branch(after)
        b.position_at_end(after)
        mask = self._phi([(mask, end), (self.zeros_mask(), skip_from)])
        return [self._phi([(v, end), (zero(v.type), skip_from)]) for v in values], mask

    def _phi(self, incoming: list[tuple[ir.Value, ir.Block]]) -> ir.Value:
        first = incoming[0][0]
        if all(v is first for v, _ in incoming):
            return first
        phi = self.b.phi(first.type)
        for value, block in incoming:
            phi.add_incoming(value, block)
        return phi

    def result_llvm_type(self, value: Value, vector: bool) -> ir.Type:
        """The LLVM type of IR scalar ``value``, as a vector or a scalar."""
        t = scalar_type(value.type)
        return vector_of(t, self.W) if vector else t

    # --- loops ---------------------------------------------------------------------------

    def carried_vector(self, value: Value) -> bool:
        """Loop-carried values are vectors unless the analysis finds them uniform."""
        return self.uniformity.of(value) == Uniformity.VARYING

    def lane_for(self, op: Op) -> None:
        lb, ub, step = (self.get(v) for v in op.operands[:3])
        if any(is_vector(v) for v in (lb, ub, step)):
            self.varying_for(op, lb, ub, step)
        else:
            self.uniform_for(op, lb, ub, step)

    def uniform_for(self, op: Op, lb, ub, step) -> None:
        b = self.b
        body = op.regions[0].block
        inits = [self.to_repr(self.get(v), self.carried_vector(a))
                 for v, a in zip(op.operands[3:], body.args[1:], strict=True)]
        pre = b.block
        header, loop, exit_ = (self.block_named(f"for.{n}") for n in ("head", "body", "exit"))
        b.branch(header)
        b.position_at_end(header)
        iv = b.phi(lb.type)
        iv.add_incoming(lb, pre)
        mask = b.phi(self.mask.type)
        mask.add_incoming(self.mask, pre)
        carried = []
        for init in inits:
            phi = b.phi(init.type)
            phi.add_incoming(init, pre)
            carried.append(phi)
        go = self.for_condition(iv, ub, step, op)
        if has_return(op):  # stop once every lane has returned
            go = b.and_(go, any_lane(b, mask))
        b.cbranch(go, loop, exit_)
        b.position_at_end(loop)
        self.mask = mask
        values = self._loop_body(body, iv, carried)
        end = b.block
        if values is not None:
            self.poll_cancel()
            end = b.block
            self._carry(carried, values, end)
            mask.add_incoming(self.mask, end)
            iv.add_incoming(b.add(iv, step), end)
            b.branch(header)
            b.position_at_end(exit_)
            self.mask = mask
        else:  # the body always returns: the loop runs at most once
            b.branch(exit_)
            b.position_at_end(exit_)
            self.mask = self._phi([(mask, header), (self.zeros_mask(), end)])
        for result, phi in zip(op.results, carried, strict=True):
            self.define(result, phi)

    def varying_for(self, op: Op, lb, ub, step) -> None:
        b = self.b
        body = op.regions[0].block
        pre = b.block
        inits = [self.to_repr(self.get(v), self.carried_vector(a))
                 for v, a in zip(op.operands[3:], body.args[1:], strict=True)]
        lb, ub, step = (splat(b, v, self.W) for v in (lb, ub, step))
        header, loop, exit_ = (self.block_named(f"vfor.{n}") for n in ("head", "body", "exit"))
        b.branch(header)
        b.position_at_end(header)
        iv = self._loop_phi(lb, pre)
        live = self._loop_phi(self.mask, pre)
        done = self._loop_phi(self.zeros_mask(), pre)
        carried = [self._loop_phi(v, pre) for v in inits]
        results = [self._loop_phi(zero(splat(b, v, self.W).type), pre) for v in inits]
        cond = self.for_condition(iv, ub, step, op)
        stay = b.and_(live, cond)
        leave = b.and_(live, b.not_(cond))
        new_results = [b.select(leave, splat(b, c, self.W), r)
                       for c, r in zip(carried, results, strict=True)]
        new_done = b.or_(done, leave)
        b.cbranch(any_lane(b, stay), loop, exit_)
        b.position_at_end(loop)
        self.mask = stay
        values = self._loop_body(body, iv, carried)
        self.poll_cancel()
        latch = b.block
        self._carry(carried, values, latch)
        live.add_incoming(self.mask, latch)
        iv.add_incoming(b.add(iv, step), latch)
        done.add_incoming(new_done, latch)
        for phi, value in zip(results, new_results, strict=True):
            phi.add_incoming(value, latch)
        b.branch(header)
        b.position_at_end(exit_)
        self.mask = new_done
        for result, value in zip(op.results, new_results, strict=True):
            self.define(result, value)

    def _loop_body(self, body: Block, iv: ir.Value, carried: list[ir.Value]
                   ) -> list[ir.Value] | None:
        """Emit a ``for`` body with its induction variable and carried values bound."""
        self.define(body.args[0], iv)
        for arg, phi in zip(body.args[1:], carried, strict=True):
            self.define(arg, phi)
        return self.emit_region(body)

    def _carry(self, carried: list[ir.PhiInstr], values: list[ir.Value] | None,
               latch: ir.Block) -> None:
        """Feed a loop's next carried ``values`` (zeros after a return) to its phis."""
        if values is None:
            values = [zero(phi.type) for phi in carried]
        for phi, value in zip(carried, values, strict=True):
            phi.add_incoming(self.to_repr(value, is_vector(phi)), latch)

    def _loop_phi(self, value: ir.Value, pre: ir.Block) -> ir.PhiInstr:
        phi = self.b.phi(value.type)
        phi.add_incoming(value, pre)
        return phi

    def lane_while(self, op: Op) -> None:
        b = self.b
        before, after = (r.block for r in op.regions)
        varying = self.uniformity.decision(op) == Uniformity.VARYING
        pre = b.block
        inits = [self.to_repr(self.get(v), self.carried_vector(a))
                 for v, a in zip(op.operands, before.args, strict=True)]
        header, loop, exit_ = (self.block_named(f"while.{n}") for n in ("head", "do", "exit"))
        b.branch(header)
        b.position_at_end(header)
        carried = [self._loop_phi(v, pre) for v in inits]
        live = self._loop_phi(self.mask, pre)
        if varying:
            done = self._loop_phi(self.zeros_mask(), pre)
            vec_results = [self._loop_phi(zero(self.result_llvm_type(r, True)), pre)
                           for r in op.results]
        self.mask = live
        for arg, phi in zip(before.args, carried, strict=True):
            self.define(arg, phi)
        out = self.emit_region(before)
        if out is None:  # every path of the condition returns
            b.branch(exit_)
            b.position_at_end(exit_)
            self.mask = self.zeros_mask()
            for r in op.results:
                self.define(r, zero(self.result_llvm_type(r, False)))
            return
        cond, *fwd = out
        if varying:
            cond = splat(b, cond, self.W)
            stay = b.and_(self.mask, cond)
            leave = b.and_(self.mask, b.not_(cond))
            new_results = [b.select(leave, splat(b, v, self.W), r)
                           for v, r in zip(fwd, vec_results, strict=True)]
            new_done = b.or_(done, leave)
            b.cbranch(any_lane(b, stay), loop, exit_)
            loop_mask = stay
        else:
            cond = self.to_repr(cond, False)
            exit_mask = self.mask
            if has_return(op):  # stop once every lane has returned
                cond = b.and_(cond, any_lane(b, self.mask))
            b.cbranch(cond, loop, exit_)
            loop_mask = self.mask
        b.position_at_end(loop)
        self.mask = loop_mask
        for arg, value in zip(after.args, fwd, strict=True):
            self.define(arg, self.to_repr(value, self.carried_vector(arg)))
        values = self.emit_region(after)
        self.poll_cancel()
        latch = b.block
        self._carry(carried, values, latch)
        live.add_incoming(self.mask, latch)
        if varying:
            done.add_incoming(new_done, latch)
            for phi, value in zip(vec_results, new_results, strict=True):
                phi.add_incoming(value, latch)
        b.branch(header)
        b.position_at_end(exit_)
        if varying:
            self.mask = new_done
            for result, value in zip(op.results, new_results, strict=True):
                self.define(result, value)
        else:
            self.mask = exit_mask
            for result, value in zip(op.results, fwd, strict=True):
                self.define(result, value)
