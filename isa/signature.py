"""Operands as written, matched to an opcode's signature and checked against its invariants.

The assembler parses an operand into a :class:`Written` (a register, predicate, constant,
address, ... or a still-unconverted :class:`Number`, with its column) and hands the list
to :func:`match`, which assigns them to the slots of the opcode's row in order (an optional
slot takes the next operand only when it is of a kind the slot accepts, else it gets its
default), converts numbers by the slot's type, and checks every invariant of a valid
instruction. Problems raise :class:`OperandProblem` with the column to point at; the
assembler adds the line. Nothing here knows the text format beyond single operands.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .literals import format_hex, is_hex, is_integer, parse_f32, parse_integer
from .opcodes import Kind, OpcodeInfo
from .operands import (
    MAX_GPR,
    NUM_BARRIERS,
    PT_INDEX,
    RZ_INDEX,
    SPECIAL_REGISTERS,
    Addr,
    BarrierReg,
    Const,
    Imm,
    Label,
    Operand,
    Pred,
    Reg,
    SpecialReg,
)

REGISTER_SOURCES = (Kind.RA, Kind.RB, Kind.RL)
"""Slot kinds whose registers may carry ``.reuse`` (in the first :data:`REUSE_SLOTS`)."""
REUSE_SLOTS = 4
"""Register-source slots with an operand-reuse flag in the control code."""
PAYLOAD_KINDS = (Kind.ADDR, Kind.CADDR, Kind.LABEL)
"""Slot kinds that always use the instruction's one 32-bit payload field."""
CONST_BANKS = 32
"""Constant banks c[0x0]..c[0x1f]."""
CONST_OFFSET_LIMIT = 0x10000
"""Constant offsets are 16-bit."""
ADDR_OFFSET_LIMIT = 1 << 23
"""Memory address offsets are signed 24-bit: -ADDR_OFFSET_LIMIT <= offset < ADDR_OFFSET_LIMIT."""
WORD_MIN = -(1 << 31)
WORD_LIMIT = 1 << 32

_REGISTER = re.compile(r"R[0-9]+\Z")
_PREDICATE = re.compile(r"P([0-9]+)\Z")
_BARRIER = re.compile(r"B([0-9]+)\Z")
_FLAG_SPELLING = {"neg": "'-' (negation)", "abs": "'|...|' (absolute value)",
                  "inv": "'~' (bitwise not)"}
_FOUND = {Reg: "register", Pred: "predicate", Const: "constant", Addr: "address",
          SpecialReg: "special register", Label: "label", BarrierReg: "barrier register"}


class OperandProblem(Exception):
    """An operand that does not fit: the message and the 1-based column to point at."""

    def __init__(self, message: str, column: int = 0, expected: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.expected = expected


@dataclass(frozen=True)
class Number:
    """A number as written, converted once its slot's type is known.

    ``text`` has no sign; ``negative`` records a ``-`` before it, ``plus`` a ``+``.
    ``INF`` is a number too.
    """

    text: str
    negative: bool = False
    plus: bool = False

    def __str__(self) -> str:
        return ("-" if self.negative else "+" if self.plus else "") + self.text


@dataclass(frozen=True)
class Written:
    """One operand as written: its value (an operand, or a :class:`Number`), column, text."""

    value: Operand | Number
    column: int
    text: str

    def describe(self) -> str:
        """What the operand is, for messages: ``predicate P0``, ``immediate 0x10``."""
        kind = "immediate" if isinstance(self.value, Number) else _FOUND[type(self.value)]
        return f"{kind} {self.text}"


# --- single words --------------------------------------------------------------------

def register_index(text: str, column: int) -> int:
    """The index of ``R<n>`` or ``RZ``; :class:`OperandProblem` past R254."""
    if text == "RZ":
        return RZ_INDEX
    index = int(text[1:])
    if index > MAX_GPR:
        hint = ", and R255 is written RZ (the zero register)" if index == RZ_INDEX else ""
        raise OperandProblem(f"register {text} does not exist: general registers are "
                             f"R0..R{MAX_GPR}{hint}", column)
    return index


def classify_word(text: str, column: int) -> Operand | Number:
    """A bare word as an operand: register, predicate, special or barrier register, label.

    ``R2.reuse`` sets the reuse flag; ``INF`` is a number; any other name is a label.
    """
    head, dot, suffix = text.partition(".")
    if head == "RZ" or _REGISTER.match(head):
        reg = Reg(register_index(head, column))
        if not dot:
            return reg
        if suffix == "reuse":
            return Reg(reg.index, reuse=True)
        if suffix == "64":
            raise OperandProblem(f"'{text}': '.64' marks a 64-bit address base and belongs "
                                 f"inside brackets, as [{text}]", column)
        raise OperandProblem(f"unknown register suffix '.{suffix}' in '{text}'", column,
                             "'.reuse'")
    if text == "PT":
        return Pred(PT_INDEX)
    if text == "INF":
        return Number(text)
    found = _PREDICATE.match(text)
    if found:
        index = int(found.group(1))
        if index >= PT_INDEX:
            hint = ", and P7 is written PT (always true)" if index == PT_INDEX else ""
            raise OperandProblem(f"predicate {text} does not exist: predicates are "
                                 f"P0..P{PT_INDEX - 1}{hint}", column)
        return Pred(index)
    found = _BARRIER.match(text)
    if found:
        index = int(found.group(1))
        if index >= NUM_BARRIERS:
            raise OperandProblem(f"barrier register {text} does not exist: convergence "
                                 f"barriers are B0..B{NUM_BARRIERS - 1}", column)
        return BarrierReg(index)
    if text.startswith("SR_") or text == "SRZ":
        if text not in SPECIAL_REGISTERS:
            close = difflib.get_close_matches(text, SPECIAL_REGISTERS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise OperandProblem(f"unknown special register '{text}'{hint}", column,
                                 "one of " + ", ".join(SPECIAL_REGISTERS))
        return SpecialReg(text)
    return Label(text)


_PREFIXES_ALLOWED = {Reg: "-~|", Pred: "!", Number: "-+", Const: "-|"}


def with_prefixes(value: Operand | Number, prefixes: list[tuple[str, int]], absolute: bool,
                  column: int) -> Operand | Number:
    """Apply the ``-``, ``+``, ``~``, ``!`` and ``|...|`` written around an operand.

    ``prefixes`` are (sign, column) pairs. Raises :class:`OperandProblem` for a combination
    no slot accepts (``!R1``, ``~P0``, ``|0x1|``, ``-+1``, a sign written twice).
    """
    signs: dict[str, int] = {}
    for sign, col in prefixes:
        if sign in signs:
            raise OperandProblem(f"'{sign}' written twice", col)
        signs[sign] = col
    if absolute:
        signs["|"] = column
    allowed = _PREFIXES_ALLOWED.get(type(value), "")
    for sign, col in signs.items():
        if sign not in allowed:
            what = "an immediate" if isinstance(value, Number) else "a " + _FOUND[type(value)]
            hint = ""
            if isinstance(value, Pred):
                hint = "; negate a predicate with '!'"
            elif sign == "!":
                hint = "; '!' negates predicates"
            raise OperandProblem(f"'{sign}' cannot be applied to {what}{hint}", col)
    if "-" in signs and "+" in signs:
        raise OperandProblem("'-' and '+' written together", signs["+"])
    neg = "-" in signs
    if isinstance(value, Reg):
        return Reg(value.index, neg, absolute, "~" in signs, value.reuse)
    if isinstance(value, Pred):
        return Pred(value.index, "!" in signs)
    if isinstance(value, Number):
        return Number(value.text, neg, "+" in signs)
    if isinstance(value, Const):
        return Const(value.bank, value.offset, value.reg, neg, absolute)
    return value


# --- one instruction form --------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """An opcode with resolved modifiers: what :func:`match` needs, computed once."""

    info: OpcodeInfo
    modifiers: tuple[str, ...]
    widths: tuple[int, ...]
    reuse_ok: tuple[bool, ...]

    @classmethod
    def of(cls, info: OpcodeInfo, modifiers: tuple[str, ...]) -> Form:
        """The form of ``info`` with ``modifiers``; ``ValueError`` from ``info.resolve``."""
        resolved = info.resolve(modifiers)
        widths = tuple(spec.width_for(resolved) for spec in info.operands)
        reuse_ok = []
        sources = 0
        for spec in info.operands:
            is_source = spec.kind in REGISTER_SOURCES
            reuse_ok.append(is_source and sources < REUSE_SLOTS)
            sources += is_source
        return cls(info, modifiers, widths, tuple(reuse_ok))

    def signature(self) -> str:
        """``IADD3 d, [pu], [pv], a, b, c, [pp], [pq]``: the operands, optional in brackets."""
        names = [f"[{s.name}]" if s.optional else s.name for s in self.info.operands]
        return " ".join((self.info.name, ", ".join(names))).strip()


def accepts(kind: Kind, value: Operand | Number) -> bool:
    """Whether a slot of ``kind`` takes an operand like ``value`` at all."""
    if kind in (Kind.RD, Kind.RA):
        return isinstance(value, Reg)
    if kind in (Kind.PD, Kind.PS):
        return isinstance(value, Pred)
    if kind is Kind.RB:
        return isinstance(value, (Reg, Number, Const))
    if kind is Kind.RL:
        return isinstance(value, (Reg, Number))
    return isinstance(value, {Kind.LIT: Number, Kind.ADDR: Addr, Kind.CADDR: Const,
                              Kind.SREG: SpecialReg, Kind.LABEL: Label,
                              Kind.BAR: BarrierReg}[kind])


def match(form: Form, written: list[Written], end_column: int) -> tuple[Operand, ...]:
    """The operand tuple of an instruction: written operands in slot order, defaults filled.

    ``end_column`` is where a missing operand would go. Raises :class:`OperandProblem`.
    """
    info = form.info
    operands: list[Operand] = []
    payload: tuple[int, Written] | None = None
    taken = 0
    for slot, spec in enumerate(info.operands):
        here = written[taken] if taken < len(written) else None
        if here is None or (spec.optional and not accepts(spec.kind, here.value)):
            if spec.optional:
                operands.append(spec.default)
                continue
            raise OperandProblem(
                f"too few operands for {info.name}: missing {spec.name} "
                f"(a {spec.kind.value})", end_column, form.signature())
        taken += 1
        operand = _convert(form, slot, here, taken)
        if _uses_payload(spec.kind, operand):
            if payload is not None:
                raise OperandProblem(
                    f"only one operand of an instruction may be an immediate, constant, "
                    f"address or label (they share one 32-bit field): operand {taken} "
                    f"({here.text}) is a second one after operand {payload[0]} "
                    f"({payload[1].text})", here.column)
            payload = (taken, here)
        operands.append(operand)
    if taken < len(written):
        extra = written[taken]
        most = f"at most {len(info.operands)}" if info.operands else "none"
        raise OperandProblem(f"too many operands for {info.name}: it takes {most}",
                             extra.column, form.signature())
    return tuple(operands)


def _uses_payload(kind: Kind, operand: Operand) -> bool:
    return kind in PAYLOAD_KINDS or (kind is Kind.RB and isinstance(operand, (Imm, Const)))


def _convert(form: Form, slot: int, w: Written, position: int) -> Operand:
    """Check written operand number ``position`` against slot ``slot`` and convert it."""
    info = form.info
    spec = info.operands[slot]
    value = w.value
    where = f"operand {position} of {info.name} ({spec.name})"
    if not accepts(spec.kind, value):
        raise OperandProblem(f"{where} must be a {spec.kind.value}; found {w.describe()}",
                             w.column)
    width = form.widths[slot]
    if isinstance(value, Reg):
        _check_register(form, slot, value, w, where, width)
        return value
    if isinstance(value, Pred):
        if spec.kind is Kind.PD and value.neg:
            raise OperandProblem(f"{where} is a predicate destination and cannot be negated "
                                 f"('{w.text}')", w.column)
        return value
    if isinstance(value, Number):
        return _immediate(spec, value, w, where)
    if isinstance(value, Const):
        return _constant(spec, value, w, where)
    if isinstance(value, Addr):
        return _address(info, value, w, width)
    return value


def _check_register(form: Form, slot: int, reg: Reg, w: Written, where: str,
                    width: int) -> None:
    spec = form.info.operands[slot]
    written_flags = [f for f in ("neg", "abs", "inv") if getattr(reg, f)]
    for flag in written_flags:
        if flag not in spec.flags:
            allowed = ", ".join(_FLAG_SPELLING[f] for f in _FLAG_SPELLING if f in spec.flags)
            takes = f"it accepts {allowed}" if allowed else "it takes none"
            if spec.is_dest:
                takes = "a destination takes no source modifiers"
            raise OperandProblem(f"{where} does not take {_FLAG_SPELLING[flag]}; {takes}",
                                 w.column)
    if reg.reuse and not form.reuse_ok[slot]:
        why = ("only the first four register sources have reuse flags"
               if spec.kind in REGISTER_SOURCES else "only source registers can be reused")
        raise OperandProblem(f"{where} cannot take '.reuse': {why}", w.column)
    if width > 1 and not reg.is_rz:
        name = {2: "pair", 4: "quad"}.get(width, f"group of {width}")
        if reg.index % width:
            start = "an even register" if width == 2 else f"a multiple of {width}"
            raise OperandProblem(f"{where} is a register {name} and must start at {start}; "
                                 f"found R{reg.index}", w.column)
        if reg.index + width - 1 > MAX_GPR:
            raise OperandProblem(f"{where} is a register {name}: R{reg.index} would run "
                                 f"past R{MAX_GPR}", w.column)


def _immediate(spec, number: Number, w: Written, where: str) -> Imm:
    text = number.text
    if text[:2] in ("0x", "0X") and not is_hex(text):
        raise OperandProblem(f"bad hex number '{text}'", w.column)
    if spec.kind in (Kind.LIT, Kind.RL):
        limit = 1 << spec.bits
        if not is_integer(text):
            raise OperandProblem(f"{where} is a {spec.bits}-bit literal; '{w.text}' is not "
                                 "an integer", w.column)
        value = parse_integer(text)
        if number.negative and value:
            value = -value
        if not 0 <= value < limit:
            raise OperandProblem(f"literal {w.text} is out of range for {where}: "
                                 f"{spec.bits} bits hold 0x0..{format_hex(limit - 1)}",
                                 w.column)
        return Imm(value)
    if spec.type == "float":
        if is_hex(text):
            if number.negative:
                raise OperandProblem(f"a hex immediate in a float slot is a raw bit pattern "
                                     f"and cannot be negated ('{w.text}' in {where}); write "
                                     "the pattern with its sign bit set", w.column)
            value = parse_integer(text)
            if value >= WORD_LIMIT:
                raise OperandProblem(f"immediate {w.text} does not fit in 32 bits", w.column)
            return Imm(value)
        try:
            return Imm(parse_f32(text, number.negative))
        except ValueError as err:
            raise OperandProblem(f"bad float immediate for {where}: {err}", w.column) from None
    if not is_integer(text):
        raise OperandProblem(f"{where} takes integers; '{w.text}' is not one (write a "
                             "float's bit pattern in hex)", w.column)
    value = parse_integer(text)
    if number.negative:
        value = -value
    if not WORD_MIN <= value < WORD_LIMIT:
        raise OperandProblem(f"immediate {w.text} does not fit in 32 bits (-0x80000000.."
                             "0xffffffff)", w.column)
    return Imm(value & (WORD_LIMIT - 1))


def _constant(spec, const: Const, w: Written, where: str) -> Const:
    if not 0 <= const.bank < CONST_BANKS:
        raise OperandProblem(f"constant bank {format_hex(const.bank)} does not exist: banks "
                             f"are 0x0..{format_hex(CONST_BANKS - 1)}", w.column)
    if not 0 <= const.offset < CONST_OFFSET_LIMIT:
        raise OperandProblem(f"constant offset {format_hex(const.offset)} is out of range "
                             f"0x0..{format_hex(CONST_OFFSET_LIMIT - 1)}", w.column)
    if spec.kind is Kind.CADDR:
        if const.neg or const.abs:
            raise OperandProblem(f"{where} is a constant address and takes no source "
                                 "modifiers", w.column)
        return const
    if const.reg is not None:
        raise OperandProblem(f"{where}: an indexed constant c[bank][Rn+offset] can only be "
                             "loaded with LDC", w.column)
    if const.offset % 4:
        raise OperandProblem(f"constant offset {format_hex(const.offset)} in {where} must be "
                             "a multiple of 4", w.column)
    for flag in ("neg", "abs"):
        if getattr(const, flag) and flag not in spec.flags:
            raise OperandProblem(f"{where} does not take {_FLAG_SPELLING[flag]}", w.column)
    return const


def _address(info: OpcodeInfo, addr: Addr, w: Written, width: int) -> Addr:
    if width == 2 and not addr.wide:
        base = "RZ" if addr.reg == RZ_INDEX else f"R{addr.reg}"
        raise OperandProblem(f"{info.name} addresses global memory through a 64-bit "
                             f"register pair: write [{base}.64...], not {w.text}", w.column)
    if width == 1 and addr.wide:
        raise OperandProblem(f"{info.name} takes a 32-bit address register: write "
                             f"{w.text.replace('.64', '')}, not {w.text}", w.column)
    if addr.wide and addr.reg != RZ_INDEX and addr.reg % 2:
        raise OperandProblem(f"a 64-bit address base is a register pair and must start at an "
                             f"even register; found R{addr.reg}", w.column)
    if not -ADDR_OFFSET_LIMIT <= addr.offset < ADDR_OFFSET_LIMIT:
        raise OperandProblem(f"address offset {format_hex(addr.offset)} is out of range: "
                             f"offsets are signed 24-bit ({format_hex(-ADDR_OFFSET_LIMIT)}.."
                             f"{format_hex(ADDR_OFFSET_LIMIT - 1)})", w.column)
    return addr


def registers_touched(operands: tuple[Operand, ...], widths: tuple[int, ...]) -> int:
    """Highest register index an instruction uses + 1 (pairs and quads counted, RZ not)."""
    top = 0
    for operand, width in zip(operands, widths, strict=True):
        if isinstance(operand, Reg):
            if operand.index != RZ_INDEX:
                top = max(top, operand.index + width)
        elif isinstance(operand, Addr):
            if operand.reg != RZ_INDEX:
                top = max(top, operand.reg + (2 if operand.wide else 1))
        elif isinstance(operand, Const) and operand.reg is not None and \
                operand.reg != RZ_INDEX:
            top = max(top, operand.reg + 1)
    return top
