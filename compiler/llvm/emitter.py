"""The entry function and the CTA level: the loop over CTAs, CTA-level control, and the
loops over lane groups that run each thread segment (see :mod:`.plan`).

Entry ABI (one native function per kernel; C signature)::

    int32_t entry(const uint64_t *params, uint8_t *arena, int64_t first_cta,
                  int64_t end_cta, int64_t *fault)

``params`` holds one 8-byte slot per ISA parameter (``compiler.abi.expand_params``
order; a scalar in the slot's low bytes), then the grid's x, y, z, then two slots for
work sharing: a counter and a chunk size (int64). ``arena`` is the calling worker's
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

from collections.abc import Callable

from llvmlite import ir

from ...compiler.abi import expand_params
from ...compiler.analysis.affinity import AffinityInfo
from ...compiler.analysis.uniformity import Uniformity, UniformityInfo
from ...compiler.errors import CompilerError
from ...compiler.ir.core import Block, Op, Value
from ...compiler.ir.function import Function
from ...compiler.ir.types import ArrayType, ScalarType
from .plan import Home, Plan, Segment, has_return, recomputable
from .types import (
    I1,
    I8,
    I32,
    I64,
    PTR,
    any_lane,
    call_intrinsic,
    iota,
    is_vector,
    lane_value,
    mask_bits,
    memory_type,
    scalar_type,
    splat,
    vector_of,
    zero,
)


class EmitterBase:
    """State shared by the lowering's parts: the module, the builder, the plan, the values
    of the kernel's IR values, and the lane group being emitted."""

    def __init__(self, func: Function, *, name: str, block: tuple[int, int, int],
                 lanes: int, contiguous: tuple[bool, ...], checked: bool,
                 plan: Plan, uniformity: UniformityInfo, affinity: AffinityInfo | None,
                 vector_isas: tuple[str, ...] = ()) -> None:
        self.func = func
        self.name = name
        self.block_shape = block
        self.W = lanes
        self.threads = block[0] * block[1] * block[2]
        self.groups = plan.lanes_padded // lanes
        self.contiguous = contiguous
        self.checked = checked
        self.plan = plan
        self.uniformity = uniformity
        self.affinity = affinity
        """Affinity in thread_idx.x, or None when lanes are not consecutive threads."""
        self.vector_isas = vector_isas
        """ISA letters of the libmvec variants the runtime can call (see :mod:`.vmath`)."""
        self.module = ir.Module(name=name)
        self.entry_name = f"{name}_ctas"
        self.fault_sites: list[tuple[object, str, str]] = []
        """Per checked access: (source location, description, address space)."""
        self.scope: dict[Value, object] = {}
        self.b: ir.IRBuilder = ir.IRBuilder()
        # lane-group state, valid while a segment is emitted
        self.mask: ir.Value | None = None
        self.group: ir.Value | None = None
        self.tid: ir.Value | None = None
        self.entry_b: ir.IRBuilder | None = None
        self.group_local: dict[Value, object] = {}
        self.dead_block: ir.Block | None = None
        self.skip_block: ir.Block | None = None
        """Where a nested region goes when its lanes have all returned (made on demand)."""
        self.region_depth = 0
        """How deep in lane-level regions the emitter is (0: a segment's top level)."""
        self.recompute_sizes: dict[Value, int] = {}
        """Memo of :func:`~.plan.recomputable`."""
        self.pending_mul: dict[Value, Op] = {}
        """f32 multiplies waiting to be fused into their add/sub user."""

    # --- helpers ---------------------------------------------------------------------------

    def fail(self, op: Op, what: str) -> CompilerError:
        """A CompilerError at ``op``'s source line."""
        return CompilerError(f"the CPU backend cannot compile {what}", op.loc)

    def block_named(self, name: str) -> ir.Block:
        """A new basic block in the entry function."""
        return self.fn.append_basic_block(name)

    def zeros_mask(self) -> ir.Constant:
        """A mask with every lane off."""
        return zero(vector_of(I1, self.W))

    def ones_mask(self) -> ir.Constant:
        """A mask with every lane on."""
        return ir.Constant(vector_of(I1, self.W), [1] * self.W)

    def arena_ptr(self, offset: int | ir.Value, b: ir.IRBuilder | None = None) -> ir.Value:
        """A pointer ``offset`` bytes into the arena."""
        b = b or self.b
        off = ir.Constant(I64, offset) if isinstance(offset, int) else offset
        return b.gep(self.arena, [off], source_etype=I8)

    # --- values ----------------------------------------------------------------------------

    def get(self, value: Value) -> ir.Value:
        """The LLVM value (scalar or vector) of IR ``value`` here."""
        found = self.group_local.get(value)
        if found is None:
            found = self.scope.get(value)
        if found is not None:
            return found
        op = value.defining_op
        home = self.plan.homes.get(value)
        if op is not None and home is None and recomputable(value, self.recompute_sizes):
            return self.recompute(op)
        if home is not None and self.entry_b is not None:
            uniform = self.uniformity.of(value) == Uniformity.CTA
            loaded = self.load_home(home, self.entry_b, scalar=uniform)
            self.group_local[value] = loaded
            return loaded
        if home is not None and self.group is None:  # at the CTA level
            return self.cta_load_home(home)
        raise CompilerError(f"internal error: {value!r} has no value in the CPU lowering",
                            op.loc if op is not None else None)

    def vec(self, value: Value) -> ir.Value:
        """IR ``value`` as a vector."""
        return splat(self.b, self.get(value), self.W)

    def define(self, value: Value, llvm_value: ir.Value) -> None:
        """Bind IR ``value`` to ``llvm_value`` in the current segment."""
        if self.entry_b is not None:
            self.group_local[value] = llvm_value
        else:
            self.scope[value] = llvm_value

    def recompute(self, op: Op) -> object:
        """The value of a recomputed op (:func:`~.plan.recomputable`), emitted at the start
        of the lane group so that it dominates every use there."""
        b = self.entry_b or self.b
        saved = self.b
        self.b = b
        try:
            value = self.emit_recomputed(op)
        finally:
            self.b = saved
        if self.entry_b is not None:
            self.group_local[op.results[0]] = value
        return value

    def emit_recomputed(self, op: Op) -> object:
        """Overridden by the parts that know these ops."""
        raise NotImplementedError

    def to_repr(self, value: ir.Value, vector: bool, b: ir.IRBuilder | None = None
                ) -> ir.Value:
        """``value`` as a vector (``vector``) or as a scalar (the first active lane)."""
        b = b or self.b
        if vector:
            return splat(b, value, self.W)
        return lane_value(b, value, self.mask) if is_vector(value) else value

    def is_varying(self, value: Value) -> bool:
        """True when the analysis says ``value`` may differ between a group's lanes."""
        return self.uniformity.of(value) == Uniformity.VARYING

    # --- homes -------------------------------------------------------------------------

    def load_home(self, home: Home, b: ir.IRBuilder, scalar: bool = False) -> ir.Value:
        """Load a value from its arena home: its lanes for the current group, or (for a
        CTA-uniform value, ``scalar``) one of them: stores write every lane of a group."""
        mt = memory_type(home.type)
        if home.per_lane and scalar:
            value = b.load(self.group_slot(home, b), typ=mt)
        elif home.per_lane:
            value = b.load(self.group_slot(home, b), typ=vector_of(mt, self.W),
                           align=min(64, home.type.itemsize * self.W))
        else:
            value = b.load(self.arena_ptr(home.offset, b), typ=mt)
        if home.type.is_bool:
            value = b.icmp_unsigned("!=", value, zero(value.type))
        return value

    def store_home(self, home: Home, value: ir.Value) -> None:
        """Store ``value`` into its arena home (its lanes for the current group)."""
        b = self.b
        if home.per_lane:
            value = splat(b, value, self.W)
            if home.type.is_bool:
                value = b.zext(value, vector_of(I8, self.W))
            b.store(value, self.group_slot(home, b), align=min(64, home.type.itemsize * self.W))
        else:
            value = lane_value(b, value, self.mask)
            if home.type.is_bool:
                value = b.zext(value, I8)
            b.store(value, self.arena_ptr(home.offset))

    def group_slot(self, home: Home, b: ir.IRBuilder) -> ir.Value:
        """The address of the current group's lanes in a per-thread home."""
        base = b.mul(self.group, ir.Constant(I64, self.W * home.type.itemsize))
        return b.gep(self.arena, [b.add(base, ir.Constant(I64, home.offset))],
                     source_etype=I8)

    # --- the entry function ----------------------------------------------------------------

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
        if self.plan.alive_offset is not None:
            self.init_alive()
        self.close(self.emit_cta_block(self.func.block), self.cta_latch)
        self.b.position_at_end(self.cta_latch)
        nxt = self.b.add(cta, ir.Constant(I64, 1))
        cta.add_incoming(nxt, self.cta_latch)
        for phi, value in zip(index, self.next_block_index(index), strict=True):
            phi.add_incoming(value, self.b.block)
        self.b.branch(header)
        self.b.position_at_end(done)
        self.b.ret(ir.Constant(I32, 0))

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

    # --- the CTA level ---------------------------------------------------------------------

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
        found = self.scope.get(value)
        if found is not None:
            return found
        producer = value.defining_op
        home = self.plan.homes.get(value)
        if producer is not None and home is None and recomputable(value,
                                                                   self.recompute_sizes):
            saved = self.scope
            self.scope = dict(saved)  # recomputed here only: this block may not dominate
            try:
                return self.get(value)
            finally:
                self.scope = saved
        if home is None:
            raise CompilerError(f"internal error: no home for {value!r}", op.loc)
        return self.cta_load_home(home)

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
        self.close(term, header)
        self.b.position_at_end(exit_)

    def cta_if(self, op: Op) -> None:
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
            return cmp("<", iv, ub) if int(step.constant) > 0 or not t.is_signed \
                else cmp(">", iv, ub)
        up = cmp("<", iv, ub)
        if not t.is_signed:
            return up
        positive = b.icmp_signed(">", step, zero(step.type))
        return b.select(positive, up, cmp(">", iv, ub))

    # --- lane groups -------------------------------------------------------------------

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


class ArrayInfo:
    """An array as the lowering sees it: element type, base pointer, extents and strides
    (in elements, i64), the name to show in faults, and for per-thread ``local`` arrays
    the slot layout of :mod:`.plan`."""

    def __init__(self, type: ArrayType, base: ir.Value, shape: list[ir.Value],
                 strides: list[ir.Value], name: str, per_thread: bool = False) -> None:
        self.type = type
        self.base = base
        self.shape = shape
        self.strides = strides
        self.name = name
        self.per_thread = per_thread

    @property
    def elem(self) -> ScalarType:
        """The element type."""
        return self.type.elem


