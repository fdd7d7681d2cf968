"""The IR's objects: values, ops, blocks and regions, with use-def chains.

Structured SSA in the style of MLIR's scf dialect:

- A :class:`Value` has a type and an optional name hint. It is either an op's result
  (:class:`OpResult`) or a block's argument (:class:`BlockArg`); each is defined exactly
  once, by construction. Every value knows its uses, as ``(op, operand index)`` pairs kept
  up to date by every operand change, so ``replace_all_uses_with`` is proportional to the
  number of uses.
- An :class:`Op` has a name from the op registry (:mod:`.ops`), operands, results,
  immutable attributes (ints, floats, bools, strings, types, tuples of those), regions, and
  the source location it came from (``loc``, an :class:`~warpforge.isa.program.SourceLoc`).
- A :class:`Region` holds exactly one :class:`Block`; a block holds arguments and a list of
  ops, and ends with a terminator (``yield`` or ``return``). ``if``, ``for`` and ``while``
  are ops with regions; values defined inside a region are invisible outside it. A
  region's parent is its op, or the :class:`~.function.Function` whose body it is.

Ops are created detached and then inserted into a block (by the builder, usually); they can
be erased, detached and moved. Changing ``block.ops`` or ``op.results`` directly bypasses
the bookkeeping: use the methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from ...isa.program import SourceLoc
from ..errors import IRError
from .ops import OPS, Effect, OpInfo
from .types import ArrayType, ScalarType, Type

if TYPE_CHECKING:
    from .function import Function

AttrValue = int | float | bool | str | ScalarType | ArrayType | tuple
"""What an attribute may hold (tuples of these, nested, included)."""


class Use(NamedTuple):
    """One use of a value: operand ``index`` of ``op``."""

    op: Op
    index: int


class Value:
    """A typed SSA value: an op's result or a block's argument."""

    __slots__ = ("_uses", "name", "type")

    def __init__(self, type: Type, name: str | None = None) -> None:
        self.type = type
        self.name = name
        self._uses: dict[Use, None] = {}

    @property
    def uses(self) -> list[Use]:
        """Every use, in the order they were made."""
        return list(self._uses)

    @property
    def users(self) -> list[Op]:
        """The ops using this value, each once, in order of first use."""
        return list(dict.fromkeys(use.op for use in self._uses))

    def has_uses(self) -> bool:
        """True if any op uses this value."""
        return bool(self._uses)

    @property
    def defining_op(self) -> Op | None:
        """The op this value is a result of, or None for a block argument."""
        return None

    def replace_all_uses_with(self, new: Value) -> None:
        """Make every use of this value use ``new`` (of the same type) instead."""
        self.replace_uses_where(new, lambda use: True)

    def replace_uses_where(self, new: Value, keep: Callable[[Use], bool]) -> None:
        """Make the uses for which ``keep(use)`` is true use ``new`` instead."""
        if new is self:
            return
        if new.type != self.type:
            raise IRError(f"cannot replace a {self.type} value with a {new.type} value")
        for use in list(self._uses):
            if keep(use):
                use.op.set_operand(use.index, new)

    def __repr__(self) -> str:
        hint = f" {self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{hint}: {self.type}>"


class OpResult(Value):
    """Result ``index`` of ``op``."""

    __slots__ = ("index", "op")

    def __init__(self, type: Type, op: Op, index: int, name: str | None = None) -> None:
        super().__init__(type, name)
        self.op = op
        self.index = index

    @property
    def defining_op(self) -> Op:
        """The op this value is a result of."""
        return self.op


class BlockArg(Value):
    """Argument ``index`` of ``block``."""

    __slots__ = ("block", "index")

    def __init__(self, type: Type, block: Block, index: int, name: str | None = None) -> None:
        super().__init__(type, name)
        self.block = block
        self.index = index


def check_attr(value: object) -> AttrValue:
    """``value`` if an attribute may hold it (immutable: see :data:`AttrValue`), else
    IRError."""
    if isinstance(value, tuple):
        for item in value:
            check_attr(item)
        return value
    if isinstance(value, (bool, int, float, str, ScalarType, ArrayType)):
        return value
    raise IRError(f"an attribute cannot hold {value!r} (a {type(value).__name__})")


class Op:
    """One operation: name, operands, results, attributes, regions, source location."""

    __slots__ = ("_attrs", "_operands", "info", "loc", "name", "parent", "regions", "results")

    def __init__(self, name: str, operands: Sequence[Value] = (),
                 result_types: Sequence[Type] = (),
                 attrs: Mapping[str, object] | None = None,
                 regions: Sequence[Region] | None = None,
                 loc: SourceLoc | None = None) -> None:
        info = OPS.get(name)
        if info is None:
            raise IRError(f"unknown op {name!r}", loc)
        self.name = name
        self.info: OpInfo = info
        self.loc = loc
        self.parent: Block | None = None
        self._operands: list[Value] = []
        for value in operands:
            self._attach(value)
        self.results: tuple[OpResult, ...] = tuple(
            OpResult(t, self, i) for i, t in enumerate(result_types))
        self._attrs = {key: check_attr(v) for key, v in (attrs or {}).items()}
        if regions is None:
            regions = [Region() for _ in info.regions]
        self.regions: tuple[Region, ...] = tuple(regions)
        for region in self.regions:
            if region.parent is not None:
                raise IRError("a region can belong to one op only", loc)
            region.parent = self

    # --- operands -------------------------------------------------------------------------

    def _attach(self, value: Value) -> None:
        if not isinstance(value, Value):
            raise IRError(f"{self.name}: operand {value!r} is not an IR value", self.loc)
        value._uses[Use(self, len(self._operands))] = None
        self._operands.append(value)

    @property
    def operands(self) -> tuple[Value, ...]:
        """The operands, in order."""
        return tuple(self._operands)

    @property
    def operand_types(self) -> tuple[Type, ...]:
        """The operands' types."""
        return tuple(v.type for v in self._operands)

    def set_operand(self, index: int, value: Value) -> None:
        """Make operand ``index`` be ``value``, keeping use lists right."""
        if not isinstance(value, Value):
            raise IRError(f"{self.name}: operand {value!r} is not an IR value", self.loc)
        old = self._operands[index]
        del old._uses[Use(self, index)]
        self._operands[index] = value
        value._uses[Use(self, index)] = None

    def set_operands(self, values: Sequence[Value]) -> None:
        """Replace all operands (their number may change)."""
        self._drop_operands()
        for value in values:
            self._attach(value)

    def _drop_operands(self) -> None:
        for index, value in enumerate(self._operands):
            value._uses.pop(Use(self, index), None)
        self._operands = []

    # --- results and attributes -----------------------------------------------------------

    @property
    def result(self) -> OpResult:
        """The single result; IRError if the op has not exactly one."""
        if len(self.results) != 1:
            raise IRError(f"{self.name} has {len(self.results)} results, not one", self.loc)
        return self.results[0]

    @property
    def result_types(self) -> tuple[Type, ...]:
        """The results' types."""
        return tuple(r.type for r in self.results)

    def set_result_types(self, types: Sequence[Type]) -> None:
        """Give the op new results (for builders finishing an op): no result may be used."""
        if any(r.has_uses() for r in self.results):
            raise IRError(f"cannot retype {self.name}: its results are used", self.loc)
        self.results = tuple(OpResult(t, self, i) for i, t in enumerate(types))

    def erase_result(self, index: int) -> None:
        """Remove result ``index``, which must be unused (the others keep their values and
        are renumbered)."""
        if self.results[index].has_uses():
            raise IRError(f"cannot erase result {index} of {self.name}: it is used", self.loc)
        self.results = self.results[:index] + self.results[index + 1:]
        for i, other in enumerate(self.results):
            other.index = i

    @property
    def attrs(self) -> Mapping[str, AttrValue]:
        """The attributes, read-only (change them with :meth:`set_attr`)."""
        return MappingProxyType(self._attrs)

    def attr(self, name: str, default: object = None) -> object:
        """Attribute ``name``, or ``default``."""
        return self._attrs.get(name, default)

    def set_attr(self, name: str, value: object) -> None:
        """Set attribute ``name`` (an immutable value)."""
        self._attrs[name] = check_attr(value)

    def del_attr(self, name: str) -> None:
        """Remove attribute ``name`` if present."""
        self._attrs.pop(name, None)

    # --- position -------------------------------------------------------------------------

    @property
    def block(self) -> Block | None:
        """The block holding this op, if inserted."""
        return self.parent

    @property
    def parent_op(self) -> Op | None:
        """The op whose region holds this op, or None at function level (or detached)."""
        if self.parent is None or self.parent.parent is None:
            return None
        owner = self.parent.parent.parent
        return owner if isinstance(owner, Op) else None

    @property
    def function(self) -> Function | None:
        """The function holding this op, if any."""
        block = self.parent
        while block is not None and block.parent is not None:
            owner = block.parent.parent
            if not isinstance(owner, Op):
                return owner  # a Function, or None for a detached region
            block = owner.parent
        return None

    def ancestors(self) -> Iterator[Op]:
        """The ops whose regions enclose this op, innermost first."""
        op = self.parent_op
        while op is not None:
            yield op
            op = op.parent_op

    def is_ancestor_of(self, other: Op) -> bool:
        """True if ``other`` sits (at any depth) inside one of this op's regions."""
        return any(a is self for a in other.ancestors())

    # --- structure changes ----------------------------------------------------------------

    def detach(self) -> Op:
        """Take this op out of its block (its operands and regions stay); returns it."""
        if self.parent is not None:
            self.parent.ops.remove(self)
            self.parent = None
        return self

    def erase(self) -> None:
        """Remove this op and everything in its regions; no result may still be used."""
        for result in self.results:
            if result.has_uses():
                raise IRError(f"cannot erase {self.name}: result {result.index} is still used "
                              f"by {', '.join(op.name for op in result.users)}", self.loc)
        self.detach()
        self._drop_references()

    def _drop_references(self) -> None:
        self._drop_operands()
        for region in self.regions:
            for op in region.block.ops:
                op._drop_references()

    def move_before(self, anchor: Op) -> None:
        """Move this op to just before ``anchor`` (in ``anchor``'s block)."""
        if anchor.parent is None:
            raise IRError("cannot move next to an op that is in no block", self.loc)
        self.detach()
        anchor.parent.insert_before(anchor, self)

    def move_after(self, anchor: Op) -> None:
        """Move this op to just after ``anchor`` (in ``anchor``'s block)."""
        if anchor.parent is None:
            raise IRError("cannot move next to an op that is in no block", self.loc)
        self.detach()
        anchor.parent.insert_after(anchor, self)

    # --- traversal and queries ------------------------------------------------------------

    def walk(self) -> Iterator[Op]:
        """This op, then every op in its regions, pre-order."""
        yield self
        for region in self.regions:
            yield from region.block.walk()

    def effects(self) -> Effect:
        """This op's effects together with those of every op in its regions."""
        effects = self.info.effects
        for region in self.regions:
            for op in region.block.walk():
                effects |= op.info.effects
        return effects

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    def __str__(self) -> str:
        from .printer import print_op

        return print_op(self)


class Block:
    """A list of ops with arguments; the only block of its :class:`Region`."""

    __slots__ = ("args", "ops", "parent")

    def __init__(self, arg_types: Sequence[Type] = (),
                 arg_names: Sequence[str | None] | None = None) -> None:
        names = list(arg_names) if arg_names is not None else [None] * len(arg_types)
        self.args: list[BlockArg] = [BlockArg(t, self, i, n)
                                     for i, (t, n) in enumerate(zip(arg_types, names, strict=True))]
        self.ops: list[Op] = []
        self.parent: Region | None = None

    def add_arg(self, type: Type, name: str | None = None) -> BlockArg:
        """Append an argument."""
        arg = BlockArg(type, self, len(self.args), name)
        self.args.append(arg)
        return arg

    def erase_arg(self, index: int) -> None:
        """Remove argument ``index``, which must be unused."""
        arg = self.args[index]
        if arg.has_uses():
            raise IRError(f"cannot erase block argument {index}: it is still used")
        del self.args[index]
        for i, other in enumerate(self.args):
            other.index = i

    @property
    def arg_types(self) -> tuple[Type, ...]:
        """The arguments' types."""
        return tuple(a.type for a in self.args)

    def _adopt(self, op: Op) -> Op:
        if op.parent is not None:
            raise IRError(f"{op.name} is already in a block; detach it first", op.loc)
        op.parent = self
        return op

    def append(self, op: Op) -> Op:
        """Insert ``op`` at the end; returns it."""
        self.ops.append(self._adopt(op))
        return op

    def insert(self, index: int, op: Op) -> Op:
        """Insert ``op`` at position ``index``; returns it."""
        self.ops.insert(index, self._adopt(op))
        return op

    def index(self, op: Op) -> int:
        """Position of ``op`` in this block."""
        if op.parent is not self:
            raise IRError(f"{op.name} is not in this block", op.loc)
        return self.ops.index(op)

    def insert_before(self, anchor: Op, op: Op) -> Op:
        """Insert ``op`` just before ``anchor``; returns it."""
        return self.insert(self.index(anchor), op)

    def insert_after(self, anchor: Op, op: Op) -> Op:
        """Insert ``op`` just after ``anchor``; returns it."""
        return self.insert(self.index(anchor) + 1, op)

    @property
    def terminator(self) -> Op | None:
        """The last op if it is a terminator (``yield``, ``return``), else None."""
        if self.ops and self.ops[-1].info.terminator:
            return self.ops[-1]
        return None

    @property
    def parent_op(self) -> Op | None:
        """The op whose region this block is, or None for a function's body."""
        owner = self.parent.parent if self.parent is not None else None
        return owner if isinstance(owner, Op) else None

    def walk(self) -> Iterator[Op]:
        """Every op in this block and in their regions, pre-order (safe to mutate the
        block while walking: each block's op list is copied when its walk begins)."""
        for op in tuple(self.ops):
            yield op
            for region in op.regions:
                yield from region.block.walk()

    def __iter__(self) -> Iterator[Op]:
        return iter(tuple(self.ops))

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"<Block ({len(self.args)} args, {len(self.ops)} ops)>"


class Region:
    """A region of an op (or a function's body): exactly one block."""

    __slots__ = ("block", "parent")

    def __init__(self, block: Block | None = None) -> None:
        self.parent: Op | Function | None = None
        self.block = block if block is not None else Block()
        if self.block.parent is not None:
            raise IRError("a block can belong to one region only")
        self.block.parent = self

    def __repr__(self) -> str:
        return f"<Region {self.block!r}>"
