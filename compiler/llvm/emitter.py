"""The lowering's shared state: the module, the builder, the plan, the LLVM value of each
IR value, the lane group being emitted, and the arena homes values live in between
segments. The parts build on it: :mod:`.entry` (the entry function and the loop over
CTAs), :mod:`.cta` (control that holds barriers), :mod:`.groups` (loops over lane
groups), :mod:`.lanes`, :mod:`.arith`, :mod:`.memory`, :mod:`.warp`."""

from __future__ import annotations

from llvmlite import ir

from ..analysis.affinity import AffinityInfo
from ..analysis.uniformity import Uniformity, UniformityInfo
from ..errors import CompilerError
from ..ir.core import Op, Value
from ..ir.function import Function
from ..ir.types import ArrayType, ScalarType
from .plan import Home, Plan, recomputable
from .types import (
    I1,
    I8,
    I64,
    is_vector,
    lane_value,
    memory_type,
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

    def write_fault(self, record: list[ir.Value]) -> None:
        """Fill the fault record (kind, site, CTA, then the kind's words), stop the other
        workers sharing the grid at their next chunk, and return 1 from the entry."""
        b = self.b
        for slot, value in enumerate(record):
            ptr = b.gep(self.fault_ptr, [ir.Constant(I64, 8 * slot)], source_etype=I8)
            b.store(value, ptr)
        b.atomic_rmw("xchg", self.counter_ptr, ir.Constant(I64, 1 << 62), "monotonic")
        b.ret(ir.Constant(ir.IntType(32), 1))

    def poll_cancel(self) -> None:
        """At a loop's back edge: return 2 from the entry when the host asked the launch to
        stop (Ctrl-C or a timeout set the parameter block's cancel word)."""
        b = self.b
        flag = b.load_atomic(self.cancel_ptr, "monotonic", 8, typ=I64)
        stop = self.block_named("cancelled")
        go_on = self.block_named("not.cancelled")
        b.cbranch(b.icmp_unsigned("!=", flag, zero(I64)), stop, go_on)
        b.position_at_end(stop)
        b.ret(ir.Constant(ir.IntType(32), 2))
        b.position_at_end(go_on)

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
