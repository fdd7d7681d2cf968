"""The one API that builds IR: an insertion point, typed op creation, structured helpers.

The frontend and the passes create ops only through a :class:`Builder`. It inserts at its
insertion point (the end of a block, or before an op), stamps each op with a source
location (given per call or the builder's current ``loc``), and type-checks with the op
registry's rules as it goes: a bad combination raises :class:`IRError` naming both types
("cannot add i32 and f32") at the op's location. ``create`` is the generic entry point; the
named helpers (``add``, ``load``, ``cmp``...) return the new value. ``if_``, ``for_`` and
``while_`` return context managers from :mod:`.control` that build structured ops::

    b = Builder.at_end(func.block)
    with b.for_(lb, ub, step, init=[zero]) as loop:
        acc = b.add(loop.carried[0], b.load(x, [loop.iv]))
        b.yield_(acc)
    total = loop.results[0]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from ...isa.program import SourceLoc
from ..errors import IRError
from .control import ForBuilder, IfBuilder, WhileBuilder
from .core import Block, Op, OpResult, Region, Value
from .function import Function
from .ops import OPS, check_attrs
from .semantics import constant_value
from .typerules import describe
from .types import AddressSpace, ArrayType, ScalarType, Type


class Builder:
    """Creates ops at an insertion point: the end of ``block``, or just before ``before``."""

    def __init__(self, block: Block | None = None, before: Op | None = None,
                 loc: SourceLoc | None = None) -> None:
        self.block = block if before is None else before.parent
        self.before = before
        self.loc = loc

    # --- insertion point and location -----------------------------------------------------

    @classmethod
    def at_end(cls, block: Block, loc: SourceLoc | None = None) -> Builder:
        """A builder appending to ``block``."""
        return cls(block, loc=loc)

    @classmethod
    def before_op(cls, op: Op, loc: SourceLoc | None = None) -> Builder:
        """A builder inserting just before ``op``."""
        return cls(op.parent, op, loc=loc)

    @classmethod
    def for_function(cls, func: Function, loc: SourceLoc | None = None) -> Builder:
        """A builder appending to ``func``'s body."""
        return cls(func.block, loc=loc if loc is not None else func.loc)

    def set_insertion_point(self, block: Block, before: Op | None = None) -> None:
        """Insert from now on at the end of ``block``, or before ``before`` in it."""
        if before is not None and before.parent is not block:
            raise IRError(f"{before.name} is not in the block given", before.loc)
        self.block, self.before = block, before

    def set_insertion_point_after(self, op: Op) -> None:
        """Insert from now on just after ``op``."""
        block = op.parent
        if block is None:
            raise IRError(f"{op.name} is in no block", op.loc)
        index = block.index(op)
        self.set_insertion_point(block, block.ops[index + 1] if index + 1 < len(block) else None)

    @contextmanager
    def insertion_point(self, block: Block, before: Op | None = None) -> Iterator[Builder]:
        """Temporarily insert at the end of ``block`` (or before ``before``)."""
        saved = (self.block, self.before)
        self.set_insertion_point(block, before)
        try:
            yield self
        finally:
            self.block, self.before = saved

    @contextmanager
    def location(self, loc: SourceLoc | None) -> Iterator[Builder]:
        """Temporarily stamp new ops with ``loc``."""
        saved = self.loc
        self.loc = loc
        try:
            yield self
        finally:
            self.loc = saved

    def insert(self, op: Op) -> Op:
        """Insert a detached ``op`` at the insertion point; returns it."""
        if self.block is None:
            raise IRError("the builder has no insertion point", op.loc)
        if self.before is not None:
            return self.block.insert_before(self.before, op)
        term = self.block.terminator
        if term is not None:
            raise IRError(f"cannot add {op.name} after {term.name}: the block already ends",
                          op.loc)
        return self.block.append(op)

    # --- generic creation -----------------------------------------------------------------

    def create(self, name: str, operands: Sequence[Value] = (),
               attrs: Mapping[str, object] | None = None,
               result_types: Sequence[Type] | None = None,
               regions: Sequence[Region] | None = None,
               loc: SourceLoc | None = None) -> Op:
        """Create op ``name``, type-check it, insert it and return it.

        ``result_types`` may be left out where the registry's rule infers them; when given,
        they must agree with the rule.
        """
        loc = loc if loc is not None else self.loc
        info = OPS.get(name)
        if info is None:
            raise IRError(f"unknown op {name!r}", loc)
        operands = tuple(operands)
        for value in operands:
            if not isinstance(value, Value):
                raise IRError(f"{name}: operand {value!r} is not an IR value", loc)
        low, high = info.operands
        if len(operands) < low or (high is not None and len(operands) > high):
            count = str(low) if low == high else f"{low}+" if high is None else f"{low}-{high}"
            raise IRError(f"{name} takes {count} operands, not {len(operands)}", loc)
        attrs = dict(attrs or {})
        given = tuple(result_types) if result_types is not None else None
        try:
            check_attrs(info, attrs)
            types = info.rule(tuple(v.type for v in operands), attrs, given)
        except IRError as err:
            raise IRError(err.message, loc) from None
        if given is not None and given != types:
            raise IRError(f"{name} results would be ({describe(types)}), not "
                          f"({describe(given)})", loc)
        return self.insert(Op(name, operands, types, attrs, regions, loc))

    def _value(self, name: str, operands: Sequence[Value], loc: SourceLoc | None,
               attrs: Mapping[str, object] | None = None,
               result_types: Sequence[Type] | None = None) -> OpResult:
        return self.create(name, operands, attrs, result_types, loc=loc).result

    # --- scalars --------------------------------------------------------------------------

    def constant(self, value: object, type: ScalarType,
                 loc: SourceLoc | None = None) -> OpResult:
        """A constant of ``type`` (ints must fit; floats are rounded to the type)."""
        try:
            value = constant_value(value, type)
        except IRError as err:
            raise IRError(err.message, loc if loc is not None else self.loc) from None
        return self._value("constant", (), loc, {"value": value}, (type,))

    def add(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a + b"""
        return self._value("add", (a, b), loc)

    def sub(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a - b"""
        return self._value("sub", (a, b), loc)

    def mul(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a * b"""
        return self._value("mul", (a, b), loc)

    def div(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a / b (integers truncate toward zero)."""
        return self._value("div", (a, b), loc)

    def floordiv(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """Python's a // b."""
        return self._value("floordiv", (a, b), loc)

    def mod(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """Python's a % b."""
        return self._value("mod", (a, b), loc)

    def rem(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """C's a % b (fmod for floats)."""
        return self._value("rem", (a, b), loc)

    def min(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """The smaller of a and b."""
        return self._value("min", (a, b), loc)

    def max(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """The larger of a and b."""
        return self._value("max", (a, b), loc)

    def and_(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a & b (logical and on bool)."""
        return self._value("and", (a, b), loc)

    def or_(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a | b (logical or on bool)."""
        return self._value("or", (a, b), loc)

    def xor(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a ^ b"""
        return self._value("xor", (a, b), loc)

    def shl(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a << b"""
        return self._value("shl", (a, b), loc)

    def shr(self, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a >> b (arithmetic if signed)."""
        return self._value("shr", (a, b), loc)

    def neg(self, a: Value, loc: SourceLoc | None = None) -> OpResult:
        """-a"""
        return self._value("neg", (a,), loc)

    def abs(self, a: Value, loc: SourceLoc | None = None) -> OpResult:
        """|a|"""
        return self._value("abs", (a,), loc)

    def not_(self, a: Value, loc: SourceLoc | None = None) -> OpResult:
        """~a (logical not on bool)."""
        return self._value("not", (a,), loc)

    def fma(self, a: Value, b: Value, c: Value, loc: SourceLoc | None = None) -> OpResult:
        """a * b + c, rounded once."""
        return self._value("fma", (a, b, c), loc)

    def cmp(self, pred: str, a: Value, b: Value, loc: SourceLoc | None = None) -> OpResult:
        """a <pred> b for pred in eq ne lt le gt ge; a bool."""
        return self._value("cmp", (a, b), loc, {"pred": pred})

    def select(self, cond: Value, a: Value, b: Value,
               loc: SourceLoc | None = None) -> OpResult:
        """cond ? a : b"""
        return self._value("select", (cond, a, b), loc)

    def cast(self, a: Value, type: ScalarType, loc: SourceLoc | None = None) -> Value:
        """``a`` converted to ``type``; ``a`` itself if it has that type already."""
        if a.type == type:
            return a
        return self._value("cast", (a,), loc, result_types=(type,))

    def math(self, name: str, *args: Value, loc: SourceLoc | None = None) -> OpResult:
        """Math function ``name`` (``exp``, ``sqrt``, ``pow``...: the ops of category
        ``math``) of ``args``."""
        if OPS.get(name) is None or OPS[name].category != "math":
            raise IRError(f"{name!r} is not a math function", loc or self.loc)
        return self._value(name, args, loc)

    # --- thread position ------------------------------------------------------------------

    def thread_idx(self, dim: str, loc: SourceLoc | None = None) -> OpResult:
        """This thread's index in its CTA along ``dim`` (x, y, z)."""
        return self._value("thread_idx", (), loc, {"dim": dim})

    def block_idx(self, dim: str, loc: SourceLoc | None = None) -> OpResult:
        """This CTA's index in the grid along ``dim``."""
        return self._value("block_idx", (), loc, {"dim": dim})

    def block_dim(self, dim: str, loc: SourceLoc | None = None) -> OpResult:
        """Threads per CTA along ``dim``."""
        return self._value("block_dim", (), loc, {"dim": dim})

    def grid_dim(self, dim: str, loc: SourceLoc | None = None) -> OpResult:
        """CTAs in the grid along ``dim``."""
        return self._value("grid_dim", (), loc, {"dim": dim})

    def lane_id(self, loc: SourceLoc | None = None) -> OpResult:
        """This thread's lane in its warp."""
        return self._value("lane_id", (), loc)

    # --- memory ---------------------------------------------------------------------------

    def load(self, array: Value, indices: Sequence[Value],
             loc: SourceLoc | None = None) -> OpResult:
        """array[indices]"""
        return self._value("load", (array, *indices), loc)

    def store(self, array: Value, indices: Sequence[Value], value: Value,
              loc: SourceLoc | None = None) -> Op:
        """array[indices] = value"""
        return self.create("store", (array, *indices, value), loc=loc)

    def array_dim(self, array: Value, axis: int, loc: SourceLoc | None = None) -> OpResult:
        """The extent of ``array`` along ``axis`` (i32)."""
        return self._value("array_dim", (array,), loc, {"axis": axis})

    def shared_alloc(self, shape: Sequence[int], elem: ScalarType,
                     loc: SourceLoc | None = None) -> OpResult:
        """A CTA-wide shared array of static ``shape``."""
        return self._alloc(AddressSpace.SHARED, shape, elem, loc)

    def local_alloc(self, shape: Sequence[int], elem: ScalarType,
                    loc: SourceLoc | None = None) -> OpResult:
        """A per-thread array of static ``shape``."""
        return self._alloc(AddressSpace.LOCAL, shape, elem, loc)

    def _alloc(self, space: AddressSpace, shape: Sequence[int], elem: ScalarType,
               loc: SourceLoc | None) -> OpResult:
        try:
            t = ArrayType.static(elem, tuple(shape), space)
        except TypeError as err:
            raise IRError(str(err), loc if loc is not None else self.loc) from None
        return self._value(f"{space.value}_alloc", (), loc, result_types=(t,))

    def atomic(self, kind: str, array: Value, indices: Sequence[Value], value: Value,
               compare: Value | None = None, loc: SourceLoc | None = None) -> OpResult:
        """Atomic ``kind`` on array[indices]; returns the old value. ``cas`` needs
        ``compare``: memory becomes ``value`` where it equalled ``compare``."""
        extra = (compare,) if compare is not None else ()
        return self._value("atomic", (array, *indices, value, *extra), loc, {"kind": kind})

    # --- warp and CTA ---------------------------------------------------------------------

    def barrier(self, loc: SourceLoc | None = None) -> Op:
        """syncthreads()"""
        return self.create("barrier", loc=loc)

    def shfl(self, kind: str, value: Value, lane: Value,
             loc: SourceLoc | None = None) -> OpResult:
        """Warp shuffle ``kind`` (xor down up idx) of ``value`` by ``lane``."""
        return self._value("shfl", (value, lane), loc, {"kind": kind})

    def vote(self, kind: str, pred: Value, loc: SourceLoc | None = None) -> OpResult:
        """Warp vote ``kind`` (any all ballot) of ``pred``."""
        return self._value("vote", (pred,), loc, {"kind": kind})

    # --- control --------------------------------------------------------------------------

    def yield_(self, *values: Value, loc: SourceLoc | None = None) -> Op:
        """End the current if/for/while region, passing ``values`` to its op."""
        return self.create("yield", values, loc=loc)

    def return_(self, *values: Value, loc: SourceLoc | None = None) -> Op:
        """End the thread (or the device function, returning ``values``, which must have
        the function's result types)."""
        func = self._function()
        if func is not None:
            types = tuple(v.type for v in values)
            if types != func.result_types:
                raise IRError(f"return gives ({describe(types)}) but @{func.name} returns "
                              f"({describe(func.result_types)})",
                              loc if loc is not None else self.loc)
        return self.create("return", values, loc=loc)

    def _function(self) -> Function | None:
        block = self.block
        while block is not None and block.parent is not None:
            owner = block.parent.parent
            if isinstance(owner, Function):
                return owner
            block = owner.parent if owner is not None else None
        return None

    def call(self, callee: str, args: Sequence[Value], result_types: Sequence[Type] = (),
             loc: SourceLoc | None = None) -> Op:
        """Call device function ``@callee``."""
        return self.create("call", args, {"callee": callee}, tuple(result_types), loc=loc)

    def if_(self, cond: Value, loc: SourceLoc | None = None) -> IfBuilder:
        """Build an ``if``: ``with b.if_(c) as br: with br.then_(): ...`` (see
        :class:`~.control.IfBuilder`)."""
        return IfBuilder(self, cond, loc if loc is not None else self.loc)

    def for_(self, lb: Value, ub: Value, step: Value, init: Sequence[Value] = (),
             unroll: bool | int | None = None, loc: SourceLoc | None = None) -> ForBuilder:
        """Build a ``for`` over range(lb, ub, step) carrying ``init``: ``with b.for_(...)
        as loop:`` inserts into the body (see :class:`~.control.ForBuilder`)."""
        return ForBuilder(self, lb, ub, step, init, unroll, loc if loc is not None else self.loc)

    def while_(self, init: Sequence[Value] = (), loc: SourceLoc | None = None) -> WhileBuilder:
        """Build a ``while`` carrying ``init`` (see :class:`~.control.WhileBuilder`)."""
        return WhileBuilder(self, init, loc if loc is not None else self.loc)
