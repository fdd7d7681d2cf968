"""The IR's text form: readable, deterministic, and read back by :mod:`.parser`.

::

    kernel @saxpy(%a: f32, %x: array<f32, 1, global>, %y: array<f32, 1, global>, %n: i32) {
      %0 = block_idx x : i32
      %1 = block_dim x : i32
      %2 = mul %0, %1 : i32
      %3 = thread_idx x : i32
      %4 = add %2, %3 : i32
      %5 = cmp lt %4, %n : bool
      if %5 {
        %6 = load %x[%4] : f32
        ...
        store %y[%4], %9
        yield
      }
      return
    }

Parameters print with their names; every other value is numbered ``%0, %1, ...`` in print
order, so equal IR prints equal text whatever its name hints. An op prints as
``results = name key operands {attrs} : result types loc(...)``, where the *key* is the
attribute the registry prints bare (``cmp lt``, ``constant 1.5``), an array operand with its
indices prints ``%x[%i, %j]``, attributes are sorted by name, and ``loc("file":line:col)``
appears only when asked for. ``if``, ``for`` and ``while`` have their own forms::

    %r = if %c : f32 { ... } else { ... }          (else omitted when empty, no results)
    %r = for %i = %lb to %ub step %s iter(%acc = %init) : f32 { ... }
    %r = while (%a = %init) : i32 { ... yield %cond, %a } do (%b) { ... yield %b }
"""

from __future__ import annotations

from collections.abc import Mapping

from ...isa.program import SourceLoc
from .core import Block, Op, Value
from .function import Function, Module
from .text import format_float, is_bare_word, quote
from .types import ArrayType, ScalarType

INDENT = "  "
"""One level of nesting."""


def format_attr(value: object, t: ScalarType | None = None) -> str:
    """An attribute value as text (floats shortest for type ``t`` if given)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, t if isinstance(t, ScalarType) and t.is_float else None)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(format_attr(v) for v in value) + "]"
    return str(value)


def format_attrs(attrs: Mapping[str, object]) -> str:
    """`` {a = 1, b = "x"}`` sorted by name, or nothing when empty."""
    if not attrs:
        return ""
    items = (f"{k if is_bare_word(k) else quote(k)} = {format_attr(attrs[k])}"
             for k in sorted(attrs))
    return " {" + ", ".join(items) + "}"


def format_loc(loc: SourceLoc) -> str:
    """``loc("file":line:col)``"""
    return f"loc({quote(loc.file)}:{loc.line}:{loc.col})"


class _Printer:
    """Prints ops into lines, numbering values as they are defined."""

    def __init__(self, locs: bool) -> None:
        self.locs = locs
        self.lines: list[str] = []
        self.names: dict[Value, str] = {}
        self.spans: dict[Op, tuple[int, int]] = {}
        self.counter = 0

    # --- names ----------------------------------------------------------------------------

    def define(self, value: Value) -> str:
        name = f"%{self.counter}"
        self.counter += 1
        self.names[value] = name
        return name

    def ref(self, value: Value) -> str:
        # A value used before any definition was printed (outside the printed text, or
        # invalid IR) gets the next number, so printing never fails.
        return self.names.get(value) or self.define(value)

    def refs(self, values: tuple[Value, ...] | list[Value]) -> str:
        return ", ".join(self.ref(v) for v in values)

    # --- pieces ---------------------------------------------------------------------------

    def lhs(self, op: Op) -> str:
        if not op.results:
            return ""
        return ", ".join(self.define(r) for r in op.results) + " = "

    def tail(self, op: Op, attrs: Mapping[str, object]) -> str:
        text = format_attrs(attrs)
        if op.results:
            text += " : " + ", ".join(str(r.type) for r in op.results)
        if self.locs and op.loc is not None:
            text += " " + format_loc(op.loc)
        return text

    def key(self, op: Op, value: object) -> str:
        spec = op.info.attr_spec(op.info.key or "")
        if spec is not None and spec.kind == "symbol" and isinstance(value, str):
            return "@" + value
        if spec is not None and spec.kind == "str" and is_bare_word(value):
            return str(value)
        result_type = op.results[0].type if op.results else None
        return format_attr(value, result_type if isinstance(result_type, ScalarType) else None)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(INDENT * depth + text)

    # --- structure ------------------------------------------------------------------------

    def function(self, func: Function) -> None:
        used: set[str] = set()
        params = []
        for i, arg in enumerate(func.params):
            name = arg.name if is_bare_word(arg.name) and arg.name not in used else f"arg{i}"
            while name in used:
                name += "_"
            used.add(name)
            self.names[arg] = "%" + name
            params.append(f"%{name}: {arg.type}")
        head = f"{'kernel' if func.is_kernel else 'func'} @{func.name}({', '.join(params)})"
        if func.result_types:
            head += " -> " + ", ".join(map(str, func.result_types))
        if func.attrs:
            head += " attributes" + format_attrs(func.attrs)
        if self.locs and func.loc is not None:
            head += " " + format_loc(func.loc)
        self.emit(0, head + " {")
        self.block(func.block, 1)
        self.emit(0, "}")

    def block(self, block: Block, depth: int) -> None:
        for op in block.ops:
            self.op(op, depth)

    def body(self, op: Op, index: int, depth: int) -> None:
        if index < len(op.regions):
            self.block(op.regions[index].block, depth)

    def op(self, op: Op, depth: int) -> None:
        start = len(self.lines)
        syntax = op.info.syntax
        if syntax == "if":
            self.if_op(op, depth)
        elif syntax == "for":
            self.for_op(op, depth)
        elif syntax == "while":
            self.while_op(op, depth)
        else:
            self.emit(depth, self.generic(op))
        self.spans[op] = (start, len(self.lines))

    def generic(self, op: Op) -> str:
        info = op.info
        text = self.lhs(op) + op.name
        attrs = dict(op.attrs)
        if info.key is not None and info.key in attrs:
            text += " " + self.key(op, attrs.pop(info.key))
        operands = list(op.operands)
        parts = []
        if info.indexed and operands and isinstance(operands[0].type, ArrayType):
            ndim = operands[0].type.ndim
            if len(operands) > ndim:
                parts.append(f"{self.ref(operands[0])}[{self.refs(operands[1:ndim + 1])}]")
                operands = operands[ndim + 1:]
        parts += [self.ref(v) for v in operands]
        if parts:
            text += " " + ", ".join(parts)
        return text + self.tail(op, attrs)

    def if_op(self, op: Op, depth: int) -> None:
        lhs = self.lhs(op)
        self.emit(depth, f"{lhs}if {self.refs(op.operands)}{self.tail(op, op.attrs)} {{")
        self.body(op, 0, depth + 1)
        if _needs_else(op):
            self.emit(depth, "} else {")
            self.body(op, 1, depth + 1)
        self.emit(depth, "}")

    def for_op(self, op: Op, depth: int) -> None:
        lhs = self.lhs(op)
        args = op.regions[0].block.args if op.regions else []
        bounds = [self.ref(v) for v in op.operands[:3]]
        iv = self.define(args[0]) if args else "%?"
        text = f"{lhs}for {iv} = {bounds[0]} to {bounds[1]} step {bounds[2]}"
        pairs = [f"{self.define(a)} = {self.ref(v)}"
                 for a, v in zip(args[1:], op.operands[3:], strict=False)]
        if pairs:
            text += f" iter({', '.join(pairs)})"
        self.emit(depth, f"{text}{self.tail(op, op.attrs)} {{")
        self.body(op, 0, depth + 1)
        self.emit(depth, "}")

    def while_op(self, op: Op, depth: int) -> None:
        text = self.lhs(op) + "while"
        before = op.regions[0].block.args if op.regions else []
        pairs = [f"{self.define(a)} = {self.ref(v)}"
                 for a, v in zip(before, op.operands, strict=False)]
        if pairs:
            text += f" ({', '.join(pairs)})"
        self.emit(depth, f"{text}{self.tail(op, op.attrs)} {{")
        self.body(op, 0, depth + 1)
        after = op.regions[1].block.args if len(op.regions) > 1 else []
        names = ", ".join(self.define(a) for a in after)
        self.emit(depth, f"}} do ({names}) {{" if names else "} do {")
        self.body(op, 1, depth + 1)
        self.emit(depth, "}")


def _needs_else(op: Op) -> bool:
    """An if's else prints unless it is just an empty yield and the if has no results."""
    if len(op.regions) < 2:
        return False
    ops = op.regions[1].block.ops
    empty = len(ops) == 1 and ops[0].name == "yield" and not ops[0].operands
    return bool(op.results) or not empty


def print_function(func: Function, locs: bool = False) -> str:
    """The text of ``func``; with ``locs``, each op's source location as ``loc(...)``."""
    printer = _Printer(locs)
    printer.function(func)
    return "\n".join(printer.lines) + "\n"


def print_module(module: Module, locs: bool = False) -> str:
    """The text of every function of ``module``, separated by blank lines."""
    return "\n".join(print_function(f, locs) for f in module)


def print_op(op: Op, locs: bool = False) -> str:
    """The text of one op (with its regions), numbered as in its function's text."""
    printer = _Printer(locs)
    func = op.function
    if func is not None:
        printer.function(func)
    else:
        printer.op(op, 0)
    start, end = printer.spans[op]
    lines = printer.lines[start:end]
    margin = len(lines[0]) - len(lines[0].lstrip(" "))
    return "\n".join(line[margin:] for line in lines)


def op_header(op: Op) -> str:
    """The first line of an op's text (the whole op, for ops without regions)."""
    return print_op(op).split("\n", 1)[0]

