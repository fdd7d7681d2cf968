"""The state of one function's translation: source positions, errors, the variable
environment, and op creation with on-the-fly constant folding.

Expression results are IR values (typed) or compile-time Python objects: weak numbers
(literals, constexpr values, module constants), types, intrinsics, modules, tuples.
Variables map names to IR values; :class:`Undefined` marks a name that is assigned on
some paths only.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...compiler.errors import IRError
from ...compiler.ir.builder import Builder
from ...compiler.ir.core import Value
from ...compiler.ir.function import Function, Module
from ...compiler.ir.semantics import evaluate
from ...compiler.ir.types import ArrayType, ScalarType, Type
from ...compiler.passes.fold import FOLDABLE
from ...isa.program import SourceLoc
from ..errors import CompileError
from .promotion import WARPFORGE, Dialect, Weak, describe_operand, literal_type


@dataclass(frozen=True)
class Source:
    """Where a function's source came from: file, first line, removed indentation, lines."""

    filename: str
    first_line: int
    indent: int
    lines: Sequence[str]

    def loc(self, node: ast.AST) -> SourceLoc:
        """The user's file position of ``node`` (1-based line and column)."""
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        return SourceLoc(self.filename, self.first_line + line - 1, col + self.indent + 1)

    def error(self, node: ast.AST, message: str) -> CompileError:
        """A :class:`CompileError` at ``node``, showing its line with a caret."""
        loc = self.loc(node)
        index = getattr(node, "lineno", 1) - 1
        text = self.lines[index] if 0 <= index < len(self.lines) else ""
        return CompileError(message, loc.file, loc.line, loc.col, text)


@dataclass
class ModuleState:
    """What the functions of one kernel share: the module and the device-function cache."""

    module: Module = field(default_factory=Module)
    callees: dict[tuple, Function] = field(default_factory=dict)
    building: set[object] = field(default_factory=set)
    dialect: Dialect = WARPFORGE
    """The typing rules of the kernel (and so of every device function it calls)."""


class Undefined:
    """A variable assigned on some paths only: reading it is an error."""

    __slots__ = ("name", "why")

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why


class FrontendBase:
    """Shared state and helpers of the function translator."""

    def __init__(self, source: Source, builder: Builder, func: Function,
                 globals_: dict[str, object], state: ModuleState) -> None:
        self.source = source
        self.b = builder
        self.func = func
        self.globals = globals_
        self.state = state
        self.env: dict[str, object] = {}
        self.loop_depth = 0
        self.nesting = 0

    # --- errors and locations -------------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> CompileError:
        """A CompileError at ``node`` (raise it)."""
        return self.source.error(node, message)

    def loc(self, node: ast.AST) -> SourceLoc:
        """The source location of ``node``."""
        return self.source.loc(node)

    # --- op creation ----------------------------------------------------------------------

    def op(self, node: ast.AST, name: str, operands: Sequence[Value],
           attrs: dict | None = None, result_type: Type | None = None) -> Value:
        """Create op ``name`` at ``node`` and return its result, folded to a constant when
        every operand is a constant and the IR's semantics define the result."""
        loc = self.loc(node)
        types = (result_type,) if result_type is not None else None
        try:
            op = self.b.create(name, operands, attrs, types, loc=loc)
        except IRError as err:
            raise self.error(node, f"type error: {err.message}") from None
        if name in FOLDABLE:
            values = [constant_of(v) for v in operands]
            if all(v is not None for v in values):
                folded = evaluate(name, op.attrs, op.operand_types, values, op.result.type)
                if folded is not None:
                    t = op.result.type
                    op.erase()
                    return self.b.constant(folded, t, loc=loc)
        return op.result

    def constant(self, node: ast.AST, value: Weak, t: ScalarType) -> Value:
        """A constant of type ``t`` (CompileError if the value does not fit)."""
        try:
            return self.b.constant(value, t, loc=self.loc(node))
        except IRError as err:
            raise self.error(node, err.message) from None

    def cast(self, node: ast.AST, value: Value, t: ScalarType) -> Value:
        """``value`` converted to ``t`` (itself if it has that type)."""
        if value.type == t:
            return value
        return self.op(node, "cast", (value,), result_type=t)

    def value(self, node: ast.AST, x: object, t: ScalarType | None = None) -> Value:
        """``x`` as an IR value: weak numbers become constants (of type ``t`` if given),
        values are converted to ``t`` if given; anything else is an error."""
        if isinstance(x, Value):
            if t is not None:
                if not isinstance(x.type, ScalarType):
                    raise self.error(node, f"type error: expected {t}, got "
                                           f"{describe_operand(x.type)}")
                return self.cast(node, x, t)
            return x
        if is_weak(x):
            own = literal_type(x, self.state.dialect)
            if own is None:
                raise self.error(node, f"the integer {x} does not fit in 64 bits")
            if t is None:
                return self.constant(node, x, own)
            if t.is_int and isinstance(x, float):
                return self.cast(node, self.constant(node, x, own), t)
            if t.is_bool and not isinstance(x, bool):
                return self.constant(node, x != 0, t)
            if isinstance(x, bool) and not t.is_bool:
                return self.constant(node, int(x), t)
            if isinstance(x, int) and t.is_int and not (t.min <= x <= t.max):
                return self.cast(node, self.constant(node, x, own), t)
            return self.constant(node, x, t)
        raise self.error(node, f"{describe(x)} cannot be used as a value in a kernel")

    def scalar(self, node: ast.AST, x: object) -> Value:
        """``x`` as a scalar IR value (arrays and other objects are errors)."""
        v = self.value(node, x)
        if isinstance(v.type, ArrayType):
            raise self.error(node, f"type error: expected a scalar, got "
                                   f"{describe_operand(v.type)}")
        return v

    def to_bool(self, node: ast.AST, x: object) -> Value:
        """``x`` as a bool: bools as they are, numbers ``!= 0`` (Python's truth)."""
        v = self.scalar(node, x)
        if v.type.is_bool:
            return v
        return self.op(node, "cmp", (v, self.constant(node, 0, v.type)), {"pred": "ne"})

    def constant_int(self, node: ast.AST, x: object, what: str) -> int:
        """``x`` as a compile-time integer (a weak int or a constant value), else an error
        saying ``what`` needs one."""
        value = x if is_weak(x) else constant_of(x) if isinstance(x, Value) else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, f"{what} must be a compile-time integer constant")
        return value


def constant_of(value: object) -> Weak | None:
    """The constant ``value`` holds (a constant op's result), else None."""
    op = value.defining_op if isinstance(value, Value) else None
    if op is not None and op.name == "constant":
        return op.attr("value")
    return None


def is_weak(x: object) -> bool:
    """True for compile-time numbers (Python and numpy scalars are handled by callers)."""
    return isinstance(x, (bool, int, float))


def describe(x: object) -> str:
    """A compile-time object in words, for messages."""
    if isinstance(x, Value):
        return f"a {describe_operand(x.type)} value"
    if isinstance(x, str):
        return "a string"
    if x is None:
        return "None"
    if isinstance(x, tuple):
        return "a tuple"
    name = getattr(x, "__name__", None)
    if isinstance(name, str):
        return f"'{name}'"
    if type(x).__repr__ is not object.__repr__ and len(repr(x)) <= 40:
        return repr(x)
    return f"a {type(x).__name__}"
