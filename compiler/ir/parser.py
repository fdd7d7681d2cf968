"""Reads the printer's text back into IR: ``print(parse(print(f))) == print(f)``.

``grammar.lark`` gives the shape of the text (LALR(1), contextual lexer); this module turns
the tree into ops, checking what the grammar cannot: op names against the registry, value
names (each defined once; a use must see its definition earlier in its own or an enclosing
block), key words, types, and counts (names against types, ``do`` arguments against the
carried values). Ops are created as written, without type rules, so ill-typed text still
parses; :func:`parse_module` then runs the verifier unless told not to. Every problem is an
:class:`IRSyntaxError` with line, column and the line itself (verifier errors included,
placed at the op at fault). Value names other than parameters are free (``%sum``, ``%7``):
the printer renumbers them.
"""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ...isa.program import SourceLoc
from ..errors import IRError, IRSyntaxError
from .core import Block, Op, Value
from .function import Function, Module
from .ops import OPS, OpInfo
from .semantics import constant_value
from .text import parse_number, unquote
from .types import SCALAR_TYPES, AddressSpace, ArrayType, ScalarType, Type
from .verifier import verify_function

TOKEN_WORDS = {
    "_NL": "end of line", "$END": "end of text", "VALUE": "a value like %x",
    "GLOBAL": "a function name like @f", "WORD": "a name", "NUMBER": "a number",
    "STRING": "a quoted string", "KIND": "'kernel' or 'func'",
}
"""Named terminals of the grammar, in words."""


@functools.cache
def _parser() -> tuple[Lark, dict[str, str]]:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text()
    parser = Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=True)
    words = dict(TOKEN_WORDS)
    for term in parser.terminals:
        if term.name not in words and term.pattern.type == "str":
            words[term.name] = f"'{term.pattern.value}'"
    return parser, words


def parse_module(text: str, verify: bool = True) -> Module:
    """Parse IR text holding any number of functions; verify them unless ``verify`` is
    False. Raises :class:`IRSyntaxError`."""
    parser, words = _parser()
    reader = _Reader(text)
    try:
        tree = parser.parse(text + "\n")
    except UnexpectedInput as err:
        raise reader.lark_error(err, words) from None
    module = Module()
    for node in tree.children:
        func = reader.function(node)
        if func.name in module:
            raise reader.error(f"function @{func.name} is defined twice", node.children[1])
        module.add(func)
    if verify:
        for func in module:
            try:
                verify_function(func, module)
            except IRError as err:
                raise reader.at_op(err) from None
    return module


def parse_function(text: str, verify: bool = True) -> Function:
    """Parse IR text holding exactly one function (see :func:`parse_module`)."""
    module = parse_module(text, verify)
    if len(module) != 1:
        raise IRSyntaxError(f"expected one function, found {len(module)}")
    return next(iter(module))


def _first_token(node: Tree | Token) -> Token | None:
    if isinstance(node, Token):
        return node
    for child in node.children:
        if child is not None:
            found = _first_token(child)
            if found is not None:
                return found
    return None


class _Reader:
    """Builds IR from the parse tree, with scoped value names."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.scopes: list[dict[str, Value]] = []
        self.op_tokens: dict[Op, Token] = {}

    # --- errors ---------------------------------------------------------------------------

    def error(self, message: str, node: Tree | Token | None) -> IRSyntaxError:
        token = _first_token(node) if node is not None else None
        if token is None or token.line is None:
            return IRSyntaxError(message)
        return self._at(message, token.line, token.column)

    def _at(self, message: str, line: int, column: int) -> IRSyntaxError:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return IRSyntaxError(message, line, column, source)

    def lark_error(self, err: UnexpectedInput, words: dict[str, str]) -> IRSyntaxError:
        if isinstance(err, UnexpectedCharacters):
            char = self.lines[err.line - 1][err.column - 1] if err.line <= len(self.lines) \
                else ""
            return self._at(f"unexpected character {char!r}", err.line, err.column)
        if isinstance(err, UnexpectedToken):
            token = err.token
            found = words.get(token.type, f"'{token}'")
            if token.type in ("VALUE", "GLOBAL", "WORD", "NUMBER", "STRING"):
                found = f"'{token}'"
            names = err.accepts or err.expected
            expected = sorted(words.get(name, name) for name in names)
            if len(expected) > 10:
                expected = [*expected[:10], "..."]
            listing = ", ".join(expected[:-1]) + " or " + expected[-1] if len(expected) > 1 \
                else "".join(expected)
            line, column = (token.line, token.column) if token.line else (
                len(self.lines), len(self.lines[-1]) + 1 if self.lines else 1)
            return self._at(f"unexpected {found}; expected {listing}", line, column)
        return IRSyntaxError(str(err))

    def at_op(self, err: IRError) -> IRSyntaxError:
        token = self.op_tokens.get(err.op) if err.op is not None else None
        message = err.message.split("\n", 1)[0]
        return self.error(message, token) if token is not None else IRSyntaxError(err.message)

    # --- names ----------------------------------------------------------------------------

    def define(self, token: Token, value: Value) -> None:
        name = str(token)
        if any(name in scope for scope in self.scopes):
            raise self.error(f"value {name} is already defined", token)
        self.scopes[-1][name] = value
        hint = name[1:]
        if not hint.isdigit() and value.name is None:
            value.name = hint

    def lookup(self, token: Token) -> Value:
        for scope in reversed(self.scopes):
            if str(token) in scope:
                return scope[str(token)]
        raise self.error(f"undefined value {token}", token)

    # --- functions and blocks -------------------------------------------------------------

    def function(self, node: Tree) -> Function:
        kind, name = node.children[0], node.children[1]
        params: list[tuple[Token, Type]] = []
        results: list[Type] = []
        attrs: dict[str, object] = {}
        loc = None
        ops: list[Tree] = []
        for child in node.children[2:]:
            if not isinstance(child, Tree):
                continue
            if child.data == "param":
                params.append((child.children[0], self.type(child.children[1])))
            elif child.data == "func_results":
                results = [self.type(t) for t in child.children]
            elif child.data == "func_attrs":
                attrs = self.attr_dict(child.children[0])
            elif child.data == "loc":
                loc = self.loc(child)
            else:
                ops.append(child)
        func = Function(str(name)[1:], [(None, t) for _, t in params], results,
                        is_kernel=str(kind) == "kernel", attrs=attrs, loc=loc)
        self.scopes = [{}]
        for (token, _), arg in zip(params, func.params, strict=True):
            self.define(token, arg)
        self.ops(ops, func.block)
        return func

    def ops(self, nodes: list[Tree], block: Block) -> None:
        for node in nodes:
            {"generic_op": self.generic_op, "if_op": self.if_op, "for_op": self.for_op,
             "while_op": self.while_op}[node.data](node, block)

    def region(self, node: Tree, block: Block, args: list[tuple[Token, Value]]) -> None:
        self.scopes.append({})
        for token, value in args:
            self.define(token, value)
        self.ops([c for c in node.children if isinstance(c, Tree)], block)
        self.scopes.pop()

    def add(self, block: Block, op: Op, token: Token, lhs: Tree | None) -> None:
        block.append(op)
        self.op_tokens[op] = token
        names = lhs.children if lhs is not None else []
        if len(names) != len(op.results):
            raise self.error(f"{len(names)} result name{'s' if len(names) != 1 else ''} "
                             f"but {len(op.results)} result type"
                             f"{'s' if len(op.results) != 1 else ''}", lhs or token)
        for name, result in zip(names, op.results, strict=True):
            self.define(name, result)

    # --- ops ------------------------------------------------------------------------------

    def generic_op(self, node: Tree, block: Block) -> None:
        lhs, name, key, operands, attrs, types, loc = node.children
        info = OPS.get(str(name))
        if info is None:
            raise self.error(f"unknown op '{name}'", name)
        if info.syntax != "generic":
            raise self.error(f"'{name}' has its own syntax", name)
        attr_values = self.attr_dict(attrs)
        result_types = self.types(types)
        if key is not None:
            if info.key is None:
                raise self.error(f"{name} takes no key word", key)
            attr_values[info.key] = self.key(info, key, result_types)
        values = self.operands(operands)
        op = Op(str(name), values, result_types, attr_values, loc=self.loc(loc))
        self.add(block, op, name, lhs)

    def if_op(self, node: Tree, block: Block) -> None:
        lhs, cond, attrs, types, loc, then, orelse = node.children
        op = Op("if", [self.lookup(cond)], self.types(types), self.attr_dict(attrs),
                loc=self.loc(loc))
        self.region(then, op.regions[0].block, [])
        if orelse is not None:
            self.region(orelse.children[0], op.regions[1].block, [])
        else:
            op.regions[1].block.append(Op("yield"))
        self.add(block, op, _first_token(node), lhs)

    def for_op(self, node: Tree, block: Block) -> None:
        lhs, iv, lb, ub, step, iters, attrs, types, loc, body = node.children
        pairs = [(b.children[0], self.lookup(b.children[1]))
                 for b in (iters.children if iters is not None else [])]
        bounds = [self.lookup(t) for t in (lb, ub, step)]
        op = Op("for", [*bounds, *(v for _, v in pairs)], self.types(types),
                self.attr_dict(attrs), loc=self.loc(loc))
        inner = op.regions[0].block
        args = [(iv, inner.add_arg(bounds[0].type))]
        args += [(token, inner.add_arg(value.type)) for token, value in pairs]
        self.region(body, inner, args)
        self.add(block, op, _first_token(node), lhs)

    def while_op(self, node: Tree, block: Block) -> None:
        lhs, binds, attrs, types, loc, before, after_args, after = node.children
        pairs = [(b.children[0], self.lookup(b.children[1]))
                 for b in (binds.children if binds is not None else [])]
        result_types = self.types(types)
        op = Op("while", [v for _, v in pairs], result_types, self.attr_dict(attrs),
                loc=self.loc(loc))
        first = op.regions[0].block
        self.region(before, first, [(t, first.add_arg(v.type)) for t, v in pairs])
        names = after_args.children if after_args is not None else []
        if len(names) != len(result_types):
            raise self.error(f"the do region names {len(names)} values but the loop has "
                             f"{len(result_types)} result types", after_args or node)
        second = op.regions[1].block
        self.region(after, second, [(t, second.add_arg(ty)) for t, ty in
                                    zip(names, result_types, strict=True)])
        self.add(block, op, _first_token(node), lhs)

    def operands(self, node: Tree | None) -> list[Value]:
        values: list[Value] = []
        for item in node.children if node is not None else []:
            values += [self.lookup(t) for t in item.children]
        return values

    def key(self, info: OpInfo, node: Tree, result_types: list[Type]) -> object:
        token = node.children[0]
        spec = info.attr_spec(info.key or "")
        kind = spec.kind if spec is not None else "str"
        if kind == "number" and token.type in ("NUMBER", "TRUE", "FALSE"):
            value = parse_number(token) if token.type == "NUMBER" else token.type == "TRUE"
            if info.name == "constant" and len(result_types) == 1:
                try:
                    value = constant_value(value, result_types[0])
                except IRError as err:
                    raise self.error(err.message, token) from None
            return value
        if kind == "symbol" and token.type == "GLOBAL":
            return str(token)[1:]
        if kind == "str" and token.type in ("WORD", "STRING"):
            return unquote(token) if token.type == "STRING" else str(token)
        expected = {"number": "a number", "symbol": "a function name like @f"}.get(kind, "a word")
        raise self.error(f"{info.name} needs {expected} here, not '{token}'", token)

    # --- types, attributes, locations -----------------------------------------------------

    def types(self, node: Tree | None) -> list[Type]:
        return [self.type(t) for t in node.children] if node is not None else []

    def type(self, node: Tree) -> Type:
        if node.data == "scalar_type":
            return self.scalar(node.children[0])
        elem, *dims, space = node.children
        spaces = {s.value: s for s in AddressSpace}
        if str(space) not in spaces:
            raise self.error(f"unknown address space '{space}' (global, shared or local)",
                             space)
        numbers = [self.int(t) for t in dims]
        try:
            if node.data == "array_type":
                return ArrayType(self.scalar(elem), numbers[0], spaces[str(space)])
            return ArrayType.static(self.scalar(elem), tuple(numbers), spaces[str(space)])
        except TypeError as err:
            raise self.error(str(err), dims[0]) from None

    def scalar(self, token: Token) -> ScalarType:
        if str(token) not in SCALAR_TYPES:
            raise self.error(f"unknown type '{token}'", token)
        return SCALAR_TYPES[str(token)]

    def int(self, token: Token) -> int:
        value = parse_number(token)
        if not isinstance(value, int):
            raise self.error(f"expected an integer, not '{token}'", token)
        return value

    def attr_dict(self, node: Tree | None) -> dict[str, object]:
        attrs: dict[str, object] = {}
        for attr in node.children if node is not None else []:
            name_token, value = attr.children
            name = unquote(name_token) if name_token.type == "STRING" else str(name_token)
            if name in attrs:
                raise self.error(f"attribute {name} is given twice", name_token)
            attrs[name] = self.attr_value(value)
        return attrs

    def attr_value(self, node: Tree) -> object:
        kind = node.data
        if kind == "number":
            return parse_number(node.children[0])
        if kind == "string":
            return unquote(node.children[0])
        if kind in ("true", "false"):
            return kind == "true"
        if kind == "tuple":
            return tuple(self.attr_value(c) for c in node.children if c is not None)
        return self.type(node)

    def loc(self, node: Tree | None) -> SourceLoc | None:
        if node is None:
            return None
        file, line, col = node.children
        return SourceLoc(unquote(file), self.int(line), self.int(col))

