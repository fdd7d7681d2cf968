"""The assembler: canonical (or hand-written) assembly text to a :class:`Program`.

``grammar.lark`` gives the shape of each line; an LALR parser with a contextual lexer reads
the text once, and the callbacks below turn each statement into header fields, labels and
instructions as it is reduced, so the first problem in the text is the one reported. The
opcode table decides everything about instructions: operands are matched to the row's
signature and checked by :mod:`.signature`. Every problem is an :class:`AssemblyError`
with the line, the column, the source line and what was expected.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
from dataclasses import dataclass
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import AssemblyError
from .literals import is_integer, parse_integer, unquote
from .opcodes import OPCODES
from .operands import PT, RZ_INDEX, Addr, Const, Label, Pred
from .program import (
    MAX_HEADER_VALUE,
    MAX_REGISTERS_DECLARED,
    MAX_STALL,
    NO_BARRIER,
    NUM_SCOREBOARDS,
    PARAM_NAME,
    PARAM_SCALAR_TYPES,
    PARAM_TYPES,
    Control,
    Instruction,
    Param,
    Program,
    SourceLoc,
)
from .signature import (
    Form,
    Number,
    OperandProblem,
    Written,
    classify_word,
    match,
    register_index,
    registers_touched,
    with_prefixes,
)
from .syntax_errors import describe_syntax_error

DIRECTIVES = (".kernel", ".param", ".shared", ".local", ".registers", ".loc", ".noloc")
"""Every directive the text may use."""
HEADER_DIRECTIVES = (".param", ".shared", ".local", ".registers")
"""Directives that belong before the first instruction."""
MAX_REGISTERS = MAX_REGISTERS_DECLARED
"""A thread can have R0..R254."""

"""Every parameter type: the scalars and a pointer to each."""
_CONTROL = re.compile(r"\[B(?P<wait>[^:\]]*):R(?P<read>[^:\]]*):W(?P<write>[^:\]]*):"
                      r"(?P<yield_>[^:\]]*):S(?P<stall>[^:\]]*)\]\Z")
_CONTROL_EXAMPLE = "a control code like [B------:R-:W-:-:S01]"
_QUOTED_MODIFIER = re.compile(r"'\.([A-Za-z0-9_]+)'")


def assemble(text: str, filename: str = "<assembly>") -> Program:
    """Assemble ``text`` into a :class:`Program`; ``filename`` names it in error messages.

    Raises :class:`AssemblyError` (line, column, the line itself, what was expected) on
    any problem.
    """
    parser, builder = _parser()
    assembly = _Assembly(text, filename)
    with _LOCK:
        builder.assembly = assembly
        try:
            parser.parse(text + "\n")
        except UnexpectedInput as err:
            raise assembly.syntax_error(err) from None
        except AssemblyError as err:  # raised in a callback: hide the parser's frames
            raise err.with_traceback(None) from None
        finally:
            builder.assembly = None
    return assembly.finish()


_LOCK = threading.Lock()
"""The parser's callbacks write into one assembly at a time."""


@functools.cache
def _parser() -> tuple[Lark, _Builder]:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text()
    builder = _Builder()
    parser = Lark(grammar, parser="lalr", lexer="contextual", transformer=builder,
                  maybe_placeholders=False)
    return parser, builder


@functools.cache
def _form(mnemonic: str) -> Form:
    opcode, *modifiers = mnemonic.split(".")
    return Form.of(OPCODES[opcode], tuple(modifiers))


@dataclass(frozen=True)
class _Arg:
    """A directive argument: ``word``, ``number``, ``string`` or ``negative``."""

    kind: str
    text: str
    line: int
    column: int


@dataclass(frozen=True)
class _Atom:
    """A bracketed operand (constant, address, label) before its prefixes are applied."""

    value: object
    line: int
    column: int
    end_column: int


class _Builder(Transformer):
    """Parser callbacks: build operands, hand statements to the current assembly."""

    assembly: _Assembly | None = None

    def start(self, children):
        return None

    def directive(self, children):
        self.assembly.directive(children[0], children[1:])

    def dir_arg(self, children):
        first = children[0]
        if first.type == "MINUS":
            return _Arg("negative", children[1].value, first.line, first.column)
        kind = {"WORD": "word", "NUMBER": "number", "STRING": "string"}[first.type]
        text = "".join(child.value for child in children)
        return _Arg(kind, text, first.line, first.column)

    def label_def(self, children):
        self.assembly.label(children[0])

    def instruction(self, children):
        self.assembly.instruction(children)

    def guard(self, children):
        word = children[-1]
        value = self.assembly.word(word)
        if not isinstance(value, Pred):
            raise self.assembly.error(f"a guard must be a predicate; found '{word.value}'",
                                      word.line, word.column)
        return Pred(value.index, len(children) == 3), children[0]

    def operands(self, children):
        return children

    def operand(self, children):
        return self.assembly.operand(children)

    def label_ref(self, children):
        tick, word, close = children
        return _Atom(Label(word.value), tick.line, tick.column, close.end_column)

    def addr_body(self, children):
        return children

    def address(self, children):
        bracket, body, close = children
        reg, wide, offset = self.assembly.address_body(body, constant=False)
        return _Atom(Addr(RZ_INDEX if reg is None else reg, offset, wide), bracket.line,
                     bracket.column, close.end_column)

    def const(self, children):
        opening, bank, _, _, body, close = children
        bank_value = self.assembly.integer(bank, "constant bank")
        reg, _, offset = self.assembly.address_body(body, constant=True)
        return _Atom(Const(bank_value, offset, reg), opening.line, opening.column,
                     close.end_column)


class _Assembly:
    """The state of one assembly: header so far, instructions, labels, current ``.loc``."""

    def __init__(self, text: str, filename: str) -> None:
        self.lines = text.split("\n")
        self.filename = filename
        self.name: str | None = None
        self.kernel_line = 0
        self.params: list[Param] = []
        self.param_lines: dict[str, int] = {}
        self.header: dict[str, tuple[int, int, int]] = {}  # directive -> (value, line, col)
        self.instructions: list[Instruction] = []
        self.labels: list[tuple[str, int]] = []
        self.label_lines: dict[str, int] = {}
        self.label_refs: list[tuple[str, int, int]] = []
        self.loc: SourceLoc | None = None
        self.body_started = False
        self.used = 0
        self.used_line = 0

    # --- errors ----------------------------------------------------------------------

    def error(self, message: str, line: int, column: int, expected: str = "") -> AssemblyError:
        """An :class:`AssemblyError` pointing at ``line``:``column`` of the text."""
        source = self.lines[line - 1].rstrip("\r") if 0 < line <= len(self.lines) else ""
        source = source.replace("\t", " ")  # one column per character, so the caret lines up
        return AssemblyError(message, line, column, source, expected, self.filename)

    def syntax_error(self, err: UnexpectedInput) -> AssemblyError:
        """The :class:`AssemblyError` for a lark parse error, told in words."""
        line, column = err.line, err.column
        if isinstance(err, UnexpectedCharacters):
            found = self.lines[line - 1][column - 1] if line <= len(self.lines) else ""
            message, expected = describe_syntax_error(None, found, err.allowed)
        elif isinstance(err, UnexpectedToken):
            message, expected = describe_syntax_error(err.token, "", err.expected)
            if err.token.type == "$END":
                line, column = len(self.lines), len(self.lines[-1]) + 1
        else:
            message, expected = "unexpected input", ""
        return self.error(message, max(line, 1), max(column, 1), expected)

    # --- pieces of operands ----------------------------------------------------------

    def word(self, token: Token):
        """A bare word classified as an operand (see :func:`.signature.classify_word`)."""
        try:
            return classify_word(token.value, token.column)
        except OperandProblem as problem:
            raise self.error(problem.message, token.line, problem.column,
                             problem.expected) from None

    def integer(self, token: Token, what: str) -> int:
        """An unsigned hex or decimal integer token."""
        if not is_integer(token.value):
            raise self.error(f"bad {what} '{token.value}': expected a hex or decimal integer",
                             token.line, token.column)
        return parse_integer(token.value)

    def address_body(self, body: list[Token], constant: bool) -> tuple[int | None, bool, int]:
        """``R2.64+0x10``, ``RZ``, ``-0x10``... as (register or None, wide, offset)."""
        reg: int | None = None
        wide = False
        offset = 0
        rest = body
        if body[0].type == "WORD":
            word = body[0]
            base, dot, suffix = word.value.partition(".")
            if base != "RZ" and not re.fullmatch(r"R[0-9]+", base):
                raise self.error(f"'{word.value}' is not a register: an address is "
                                 "[Rn+offset], [Rn.64+offset] or [offset]", word.line,
                                 word.column)
            try:
                reg = register_index(base, word.column)
            except OperandProblem as problem:
                raise self.error(problem.message, word.line, word.column) from None
            if dot and (suffix != "64" or constant):
                allowed = "" if constant else ": only '.64' (a 64-bit base pair) is allowed"
                raise self.error(f"unexpected suffix '.{suffix}' on an address register"
                                 f"{allowed}", word.line, word.column)
            wide = bool(dot)
            rest = body[1:]
        if rest:
            number = rest[-1]
            offset = self.integer(number, "offset")
            if rest[0].type == "MINUS":
                offset = -offset
            if constant and offset < 0:
                raise self.error("constant offsets cannot be negative", rest[0].line,
                                 rest[0].column)
        return reg, wide, offset

    def operand(self, children: list) -> Written:
        """One operand: prefixes (``-``, ``~``, ``!``, ``+``), bars, and its atom."""
        prefixes = []
        absolute = False
        atom = None
        for child in children:
            if isinstance(child, _Atom):
                atom = child
            elif child.type == "VBAR":
                absolute = True
            elif child.type in ("WORD", "NUMBER"):
                value = (self.word(child) if child.type == "WORD"
                         else Number(child.value))
                atom = _Atom(value, child.line, child.column, child.end_column)
            else:
                prefixes.append((child.value, child.column))
        column = children[0].column  # tokens and atoms both know where they sit
        text = self.lines[atom.line - 1][column - 1:children[-1].end_column - 1]
        try:
            value = with_prefixes(atom.value, prefixes, absolute, column)
        except OperandProblem as problem:
            raise self.error(problem.message, atom.line, problem.column) from None
        return Written(value, column, text)

    # --- statements ------------------------------------------------------------------

    def _require_kernel(self, line: int, column: int) -> None:
        if self.name is None:
            raise self.error("missing .kernel: a program starts with '.kernel NAME'",
                             line, column)

    def directive(self, token: Token, args: list[_Arg]) -> None:
        """A ``.kernel``, ``.param``, ``.shared``, ``.local``, ``.registers``, ``.loc``..."""
        name, line, column = token.value, token.line, token.column
        if name not in DIRECTIVES:
            close = difflib.get_close_matches(name, DIRECTIVES, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.error(f"unknown directive '{name}'{hint}", line, column,
                             "one of " + ", ".join(DIRECTIVES))
        if name == ".kernel":
            self._kernel(token, args)
            return
        self._require_kernel(line, column)
        if name in HEADER_DIRECTIVES and self.body_started:
            raise self.error(f"'{name}' belongs to the header, before the first instruction "
                             "or label", line, column)
        if name == ".param":
            self._param(token, args)
        elif name in (".shared", ".local", ".registers"):
            self._size(token, args)
        elif name == ".loc":
            self._loc(token, args)
        else:
            self._arguments(token, args, ())
            self.loc = None

    def _arguments(self, token: Token, args: list[_Arg], kinds: tuple[str, ...],
                   optional: int = 0, usage: str = "") -> None:
        """Check that ``args`` have the ``kinds`` given (the last ``optional`` may be left out)."""
        usage = usage or token.value
        for arg, kind in zip(args, kinds, strict=False):
            if arg.kind != kind:
                raise self.error(f"bad argument '{arg.text}' for {token.value}", arg.line,
                                 arg.column, usage)
        if not len(kinds) - optional <= len(args) <= len(kinds):
            where = args[len(kinds)] if len(args) > len(kinds) else None
            line, column = ((where.line, where.column) if where
                            else (token.line, token.end_column))
            raise self.error(f"wrong number of arguments for {token.value}", line, column,
                             usage)

    def _kernel(self, token: Token, args: list[_Arg]) -> None:
        if self.name is not None:
            raise self.error(f"duplicate .kernel: this text already declares kernel "
                             f"'{self.name}' (line {self.kernel_line}); one kernel per text",
                             token.line, token.column)
        self._arguments(token, args, ("word",), usage=".kernel NAME")
        self.name = args[0].text
        self.kernel_line = token.line

    def _param(self, token: Token, args: list[_Arg]) -> None:
        self._arguments(token, args, ("word", "word"), usage=".param NAME TYPE, e.g. "
                        ".param x f32*")
        name, type_ = args
        if not PARAM_NAME.match(name.text):
            raise self.error(f"bad parameter name '{name.text}'", name.line, name.column,
                             "an identifier")
        if name.text in self.param_lines:
            raise self.error(f"duplicate parameter '{name.text}' (first declared on line "
                             f"{self.param_lines[name.text]})", name.line, name.column)
        if type_.text not in PARAM_TYPES:
            close = difflib.get_close_matches(type_.text, PARAM_TYPES, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.error(f"unknown parameter type '{type_.text}'{hint}", type_.line,
                             type_.column, "one of " + ", ".join(PARAM_SCALAR_TYPES) +
                             ", or a pointer such as f32*")
        self.param_lines[name.text] = name.line
        self.params.append(Param(name.text, type_.text))

    def _size(self, token: Token, args: list[_Arg]) -> None:
        name = token.value
        self._arguments(token, args, ("number",), usage=f"{name} N, a byte or register count")
        if name in self.header:
            raise self.error(f"duplicate {name} (first on line {self.header[name][1]})",
                             token.line, token.column)
        arg = args[0]
        if not is_integer(arg.text):
            raise self.error(f"bad count '{arg.text}' for {name}", arg.line, arg.column,
                             "a hex or decimal integer")
        try:
            value = parse_integer(arg.text)
        except ValueError as err:
            raise self.error(str(err), arg.line, arg.column) from None
        if value > MAX_HEADER_VALUE:
            raise self.error(f"{name} {arg.text} is too large (at most {MAX_HEADER_VALUE})",
                             arg.line, arg.column)
        if name == ".registers" and value > MAX_REGISTERS:
            raise self.error(f".registers {value} is too many: a thread has at most "
                             f"{MAX_REGISTERS} (R0..R{MAX_REGISTERS - 1})", arg.line,
                             arg.column)
        self.header[name] = (value, arg.line, arg.column)

    def _loc(self, token: Token, args: list[_Arg]) -> None:
        self._arguments(token, args, ("string", "number", "number"), optional=1,
                        usage='.loc "FILE" LINE COLUMN')
        try:
            file = unquote(args[0].text)
        except ValueError as err:
            raise self.error(str(err), args[0].line, args[0].column) from None
        numbers = []
        for arg in args[1:]:
            if not is_integer(arg.text):
                raise self.error(f"bad number '{arg.text}' in .loc", arg.line, arg.column,
                                 "a decimal integer")
            try:
                value = parse_integer(arg.text)
            except ValueError as err:
                raise self.error(str(err), arg.line, arg.column) from None
            if value > MAX_HEADER_VALUE:
                raise self.error(f"{arg.text} is too large for a .loc line or column",
                                 arg.line, arg.column)
            numbers.append(value)
        self.loc = SourceLoc(file, *numbers)

    def label(self, token: Token) -> None:
        """A label definition: it names the next instruction (or the end)."""
        name = token.value
        self._require_kernel(token.line, token.column)
        if name in self.label_lines:
            raise self.error(f"duplicate label '{name}' (first defined on line "
                             f"{self.label_lines[name]})", token.line, token.column)
        self.body_started = True
        self.label_lines[name] = token.line
        self.labels.append((name, len(self.instructions)))

    def instruction(self, children: list) -> None:
        """An instruction line: control code, guard, mnemonic, operands."""
        ctrl = Control()
        guard = PT
        operands: list[Written] = []
        mnemonic = None
        end = 0
        for child in children:
            if isinstance(child, tuple):
                guard = child[0]
            elif isinstance(child, list):
                operands = child
            elif child.type == "CTRL":
                ctrl = self.control(child)
            elif child.type == "WORD":
                mnemonic = child
                end = child.end_column
        line = mnemonic.line
        first = children[0]
        self._require_kernel(line, first[1].column if isinstance(first, tuple)
                             else first.column)
        self.body_started = True
        form = self.form(mnemonic)
        if operands:
            end = operands[-1].column + len(operands[-1].text)
        try:
            values = match(form, operands, end)
        except OperandProblem as problem:
            raise self.error(problem.message, line, problem.column, problem.expected) from None
        for written in operands:
            if isinstance(written.value, Label):
                self.label_refs.append((written.value.name, line, written.column))
        used = registers_touched(values, form.widths)
        if used > self.used:
            self.used, self.used_line = used, line
        self.instructions.append(Instruction(form.info.name, form.modifiers, values, guard,
                                             ctrl, self.loc))

    def form(self, token: Token) -> Form:
        """The opcode and modifiers of a mnemonic token, checked against the table."""
        text = token.value
        opcode, *modifiers = text.split(".")
        if opcode not in OPCODES:
            if text.startswith("."):
                raise self.error(f"unknown opcode '{text}' (a label definition ends with "
                                 "':')", token.line, token.column)
            close = difflib.get_close_matches(opcode.upper(), OPCODES, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise self.error(f"unknown opcode '{opcode}'{hint}", token.line, token.column)
        if "" in modifiers:
            raise self.error(f"empty modifier in '{text}'", token.line, token.column)
        try:
            return _form(text)
        except ValueError as err:
            column = token.column
            quoted = _QUOTED_MODIFIER.search(str(err))
            if quoted and f".{quoted.group(1)}" in text:
                column += text.index(f".{quoted.group(1)}")
            raise self.error(str(err), token.line, column) from None

    def control(self, token: Token) -> Control:
        """A control code ``[B------:R-:W-:-:S01]``, each field checked."""
        found = _CONTROL.match(token.value)
        if not found:
            raise self.error(f"malformed control code '{token.value}'", token.line,
                             token.column, _CONTROL_EXAMPLE)

        def fail(field: str, message: str, at: int = 0):
            return self.error(message, token.line, token.column + found.start(field) + at,
                              _CONTROL_EXAMPLE)

        wait_text = found.group("wait")
        if len(wait_text) != NUM_SCOREBOARDS:
            raise fail("wait", f"the wait mask has {NUM_SCOREBOARDS} positions (SB0..SB5); "
                               f"found {len(wait_text)}")
        wait = 0
        for i, char in enumerate(wait_text):
            if char == str(i):
                wait |= 1 << i
            elif char != "-":
                why = (f"scoreboard SB{char} does not exist (SB0..SB5)"
                       if char.isdigit() and int(char) >= NUM_SCOREBOARDS
                       else f"position {i} of the wait mask holds '{i}' or '-', not "
                            f"'{char}'")
                raise fail("wait", why, i)
        barriers = []
        for field in ("read", "write"):
            text = found.group(field)
            if text == "-":
                barriers.append(NO_BARRIER)
            elif len(text) == 1 and text.isdigit() and int(text) < NUM_SCOREBOARDS:
                barriers.append(int(text))
            else:
                raise fail(field, f"bad {field} scoreboard '{text}': scoreboards are "
                                  "SB0..SB5, '-' for none")
        yield_text = found.group("yield_")
        if yield_text not in ("Y", "-"):
            raise fail("yield_", f"the yield field is 'Y' or '-', not '{yield_text}'")
        stall_text = found.group("stall")
        if not stall_text.isdigit() or int(stall_text) > MAX_STALL:
            raise fail("stall", f"stall '{stall_text}' is out of range 0..{MAX_STALL}")
        return Control(wait, barriers[0], barriers[1], yield_text == "Y", int(stall_text))

    # --- the end ---------------------------------------------------------------------

    def finish(self) -> Program:
        """Resolve labels, settle the register count, and build the program."""
        if self.name is None:
            raise self.error("missing .kernel: a program starts with '.kernel NAME'", 1, 1)
        for name, line, column in self.label_refs:
            if name not in self.label_lines:
                close = difflib.get_close_matches(name, self.label_lines, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise self.error(f"undefined label '{name}'{hint}", line, column)
        registers = max(self.used, 1)
        if ".registers" in self.header:
            registers, line, column = self.header[".registers"]
            if registers < self.used:
                raise self.error(
                    f".registers {registers} is too few: line {self.used_line} uses "
                    f"R{self.used - 1}, so at least {self.used} are needed", line, column)
        return Program(
            name=self.name,
            params=tuple(self.params),
            instructions=tuple(self.instructions),
            labels=tuple(self.labels),
            registers=registers,
            shared_bytes=self.header.get(".shared", (0,))[0],
            local_bytes=self.header.get(".local", (0,))[0],
        )

