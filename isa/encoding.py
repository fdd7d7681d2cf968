"""The binary form of programs: 128-bit instruction words inside a small file container.

Instruction words
=================

Each instruction is one 128-bit little-endian word (bit 0 is the lowest bit of byte 0).
The layout is the same for every opcode and is driven entirely by the opcode table:

=========  ===============================================================================
bits       field
=========  ===============================================================================
0-11       opcode number (``OpcodeInfo.code``)
12-14      guard predicate number (7 = PT)
15         guard negated (``@!P``)
16-47      the 32-bit payload, used by at most one operand (see below), else 0
48-104     operand stream, bits 0-56
105-108    stall (0-15)
109        yield (1 = ``Y``; the flag as written, NAK's polarity)
110-112    write scoreboard (0-5, 7 = none)
113-115    read scoreboard (0-5, 7 = none)
116-121    wait mask (bit i = wait on SBi)
122-125    reuse: bit 122+i = ``.reuse`` on the i-th register-source slot (kinds RA, RB,
           RL, in signature order; only the first four such slots have a bit)
126-127    operand stream, bits 57-58
=========  ===============================================================================

Bits 105-125 are the Volta+ control code as in ``reference/gpu-facts.md``.

**Operand stream.** A 59-bit field string, filled from its bit 0 upward: first one field
group per operand slot in signature order, then one field per modifier group in table
order. The fields a slot takes depend only on its table entry (kind, ``flags``, ``bits``),
never on the operand it holds, so each row has one fixed layout; unused fields are 0.
Flag bits exist only for the flags the slot allows, in the order neg, abs, inv.

=======  ========================================================================
kind     fields, low to high
=======  ========================================================================
RD       register (8 bits; 255 = RZ)
PD       predicate (3 bits; never negated)
RA       register (8), flag bits
RB       form (2: 0 register, 1 immediate, 2 constant), register (8, 0 unless the
         register form), flag bits (neg/abs apply to registers and constants)
RL       form (1: 0 register, 1 literal), value (max(8, ``bits``): register or
         literal), flag bits
PS       predicate (3), negated (1)
LIT      literal (``bits``)
ADDR     base register (8); ``.64`` is not stored: it is set exactly when the table's
         width for the slot is 2 (global memory)
CADDR    nothing (all in the payload)
SREG     index into ``SPECIAL_REGISTERS`` (5)
LABEL    nothing (the payload)
BAR      barrier register (4)
group    0 = no option written, i + 1 = ``options[i]`` (bit length of ``len(options)``)
=======  ========================================================================

**Payload** (bits 16-47), used by the one operand that needs 32 bits: an RB immediate (its
raw bits); an RB constant (offset in payload bits 0-15, bank in 16-20); an ADDR (the
offset as 24-bit two's complement in bits 0-23); a CADDR (offset 0-15, bank 16-20,
bit 21 set when indexed by a register, the register in 22-29); a LABEL (the index of the
target instruction). Every row fits: ``tests/isa/test_encoding.py`` checks each row's
widest layout against the 59 stream bits.

Container
=========

All integers below are unsigned LEB128 varints unless stated; *sint* is a zigzag-coded
signed varint; a *string* is a varint byte length followed by UTF-8.

1.  magic ``7f 57 46 4b`` (``\\x7fWFK``), then the version as 16-bit little-endian (1)
2.  kernel name (string); registers; shared bytes; local bytes
3.  parameter count, then per parameter its name and type (strings, e.g. ``f32*``)
4.  label count, then per label its name (string) and instruction index, in program order
5.  file table: count, then the file names (strings)
6.  source locations, run-length coded: run count, then per run the first instruction,
    run length, file number, line (sint), column (sint); instructions outside every run
    have no location
7.  label references: count, then (instruction index, label number) for each branch whose
    target index carries more than one label and whose label is not the first of them (a
    label number is a position in the label list of item 4)
8.  instruction count, zero padding to a multiple of 16 bytes from the file start, then
    the 16-byte instruction words; nothing follows.

Decoding checks every field (magic, version, lengths, opcode numbers, forms, scoreboard
values, modifier indices, label targets) and that each word is exactly the word its
decoded instruction encodes to; bad data raises :class:`AssemblyError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import container
from .errors import AssemblyError
from .opcodes import BY_CODE, OPCODES, Kind, ModGroup, OpcodeInfo, OperandSpec
from .operands import (
    MAX_GPR,
    NUM_BARRIERS,
    RZ_INDEX,
    SPECIAL_REGISTERS,
    Addr,
    BarrierReg,
    Const,
    Imm,
    Label,
    Pred,
    Reg,
    SpecialReg,
)
from .printer import format_instruction
from .program import (
    NO_BARRIER,
    NUM_SCOREBOARDS,
    Control,
    Instruction,
    Program,
    header_problem,
)

OPCODE_BITS = 12
GUARD_SHIFT = 12
PAYLOAD_SHIFT = 16
PAYLOAD_BITS = 32
STREAM_LOW_SHIFT, STREAM_LOW_BITS = 48, 57
STREAM_HIGH_SHIFT, STREAM_HIGH_BITS = 126, 2
STREAM_BITS = STREAM_LOW_BITS + STREAM_HIGH_BITS
"""Bits of the operand stream (bits 48-104 and 126-127)."""
STALL_SHIFT, YIELD_SHIFT, WRITE_SHIFT, READ_SHIFT, WAIT_SHIFT, REUSE_SHIFT = (
    105, 109, 110, 113, 116, 122)
REUSE_SLOTS = 4
"""Register-source slots with a reuse flag."""
REGISTER_SOURCES = (Kind.RA, Kind.RB, Kind.RL)
"""Slot kinds counted for reuse flags."""
PAYLOAD_KINDS = (Kind.ADDR, Kind.CADDR, Kind.LABEL)
"""Slot kinds that always use the payload (an RB slot does when it holds Imm or Const)."""
REG_BITS = 8
PRED_BITS = 3
SREG_BITS = (len(SPECIAL_REGISTERS) - 1).bit_length()
BAR_BITS = (NUM_BARRIERS - 1).bit_length()
FLAG_ORDER = ("neg", "abs", "inv")
RB_REG, RB_IMM, RB_CONST = 0, 1, 2
CONST_BANK_BITS, CONST_OFFSET_BITS = 5, 16
ADDR_OFFSET_BITS = 24
WORD_BYTES = container.WORD_BYTES


def slot_bits(spec: OperandSpec) -> int:
    """Operand-stream bits of one slot (its widest form)."""
    flags = sum(flag in spec.flags for flag in FLAG_ORDER)
    return {
        Kind.RD: REG_BITS,
        Kind.PD: PRED_BITS,
        Kind.RA: REG_BITS + flags,
        Kind.RB: 2 + REG_BITS + flags,
        Kind.RL: 1 + max(REG_BITS, spec.bits) + flags,
        Kind.PS: PRED_BITS + 1,
        Kind.LIT: spec.bits,
        Kind.ADDR: REG_BITS,
        Kind.CADDR: 0,
        Kind.SREG: SREG_BITS,
        Kind.LABEL: 0,
        Kind.BAR: BAR_BITS,
    }[spec.kind]


def group_bits(group: ModGroup) -> int:
    """Operand-stream bits of a modifier group: 0 for none, else option index + 1."""
    return len(group.options).bit_length()


def row_bits(info: OpcodeInfo) -> int:
    """Operand-stream bits a row needs (must be at most :data:`STREAM_BITS`)."""
    return sum(map(slot_bits, info.operands)) + sum(map(group_bits, info.groups))


class _Bits:
    """A little-endian bit string written or read field by field."""

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.pos = 0

    def put(self, field: int, width: int) -> None:
        self.value |= field << self.pos
        self.pos += width

    def take(self, width: int) -> int:
        field = (self.value >> self.pos) & ((1 << width) - 1)
        self.pos += width
        return field


class _Problem(Exception):
    """A value that cannot be encoded or decoded; wrapped into AssemblyError with context."""


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise _Problem(message)


def _check(value: object, width: int, what: str) -> int:
    _need(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << width,
          f"{what} {value!r} does not fit {width} bits")
    return value  # type: ignore[return-value]


def _expect(operand: object, kind: type, spec: OperandSpec) -> None:
    _need(isinstance(operand, kind),
          f"slot {spec.name!r} ({spec.kind.name}) cannot hold {operand!r}")


def _put_flags(bits: _Bits, spec: OperandSpec, operand: object) -> None:
    for flag in FLAG_ORDER:
        value = bool(getattr(operand, flag, False))
        if flag in spec.flags:
            bits.put(int(value), 1)
        else:
            _need(not value, f"slot {spec.name!r} does not allow the {flag} flag")


def _take_flags(bits: _Bits, spec: OperandSpec) -> dict[str, bool]:
    return {flag: bool(bits.take(1)) for flag in FLAG_ORDER if flag in spec.flags}


def _encode_operand(spec: OperandSpec, operand: object, width: int, bits: _Bits,
                    labels: Mapping[str, int]) -> int | None:
    """Append the slot's fields to ``bits``; return the payload value if it uses it."""
    kind = spec.kind
    if kind in (Kind.RD, Kind.RA, Kind.RB, Kind.RL) and isinstance(operand, Reg):
        if kind is Kind.RD:
            _need(not (operand.neg or operand.abs or operand.inv or operand.reuse),
                  "a destination register takes no flags")
        if kind is Kind.RB:
            bits.put(RB_REG, 2)
        elif kind is Kind.RL:
            bits.put(0, 1)
        _check(operand.index, REG_BITS, "register")
        bits.put(operand.index, max(REG_BITS, spec.bits) if kind is Kind.RL else REG_BITS)
        if kind is not Kind.RD:
            _put_flags(bits, spec, operand)
        return None
    if kind is Kind.RB and isinstance(operand, Imm):
        bits.put(RB_IMM, 2)
        bits.pos += REG_BITS
        _put_flags(bits, spec, operand)
        return _check(operand.bits, PAYLOAD_BITS, "immediate")
    if kind is Kind.RB and isinstance(operand, Const):
        _need(operand.reg is None, "a constant source cannot be register-indexed")
        bits.put(RB_CONST, 2)
        bits.pos += REG_BITS
        _put_flags(bits, spec, operand)
        return _const_payload(operand)
    if kind is Kind.RL and isinstance(operand, Imm):
        bits.put(1, 1)
        value_bits = max(REG_BITS, spec.bits)
        bits.put(_check(operand.bits, spec.bits, "literal"), value_bits)
        _put_flags(bits, spec, operand)
        return None
    if kind in (Kind.PD, Kind.PS):
        _expect(operand, Pred, spec)
        bits.put(_check(operand.index, PRED_BITS, "predicate"), PRED_BITS)
        if kind is Kind.PS:
            bits.put(int(operand.neg), 1)
        else:
            _need(not operand.neg, "a destination predicate cannot be negated")
        return None
    if kind is Kind.LIT:
        _expect(operand, Imm, spec)
        bits.put(_check(operand.bits, spec.bits, "literal"), spec.bits)
        return None
    if kind is Kind.ADDR:
        _expect(operand, Addr, spec)
        _need(operand.wide == (width == 2),
              "this address needs a .64 base" if width == 2 else "this address takes no .64")
        bits.put(_check(operand.reg, REG_BITS, "address register"), REG_BITS)
        limit = 1 << (ADDR_OFFSET_BITS - 1)
        _need(isinstance(operand.offset, int) and -limit <= operand.offset < limit,
              f"address offset {operand.offset!r} does not fit 24 signed bits")
        return operand.offset & ((1 << ADDR_OFFSET_BITS) - 1)
    if kind is Kind.CADDR:
        _expect(operand, Const, spec)
        _need(not (operand.neg or operand.abs), "a constant address takes no flags")
        payload = _const_payload(operand)
        if operand.reg is not None:
            payload |= (1 | _check(operand.reg, REG_BITS, "index register") << 1) << 21
        return payload
    if kind is Kind.SREG:
        _expect(operand, SpecialReg, spec)
        _need(operand.name in SPECIAL_REGISTERS, f"unknown special register {operand.name!r}")
        bits.put(SPECIAL_REGISTERS.index(operand.name), SREG_BITS)
        return None
    if kind is Kind.LABEL:
        _expect(operand, Label, spec)
        _need(operand.name in labels, f"undefined label {operand.name!r}")
        return _check(labels[operand.name], PAYLOAD_BITS, "label index")
    if kind is Kind.BAR:
        _expect(operand, BarrierReg, spec)
        bits.put(_check(operand.index, BAR_BITS, "barrier register"), BAR_BITS)
        return None
    raise _Problem(f"slot {spec.name!r} ({kind.name}) cannot hold {operand!r}")


def _const_payload(operand: Const) -> int:
    return (_check(operand.bank, CONST_BANK_BITS, "constant bank") << CONST_OFFSET_BITS
            | _check(operand.offset, CONST_OFFSET_BITS, "constant offset"))


def _describe(inst: Instruction, index: int) -> str:
    try:
        text = format_instruction(inst)
    except Exception:  # the instruction is already known to be bad; show its fields instead
        text = repr(inst)
    return f"instruction {index} ({text})"


def encode_instruction(inst: Instruction, labels: Mapping[str, int] | None = None,
                       index: int = 0) -> bytes:
    """The 16-byte word of ``inst``; ``labels`` maps label names to instruction indices.

    Raises :class:`AssemblyError` naming instruction ``index`` when a value cannot be
    encoded (wrong operand count or kind, out-of-range field, flag the slot does not
    allow, more than one payload operand, reuse beyond the first four register sources).
    """
    try:
        return _encode(inst, labels or {}).to_bytes(WORD_BYTES, "little")
    except _Problem as exc:
        raise AssemblyError(f"cannot encode {_describe(inst, index)}: {exc}") from None


def _encode(inst: Instruction, labels: Mapping[str, int]) -> int:
    info = OPCODES.get(inst.opcode) if isinstance(inst.opcode, str) else None
    _need(info is not None, f"unknown opcode {inst.opcode!r}")
    try:
        resolved = info.resolve(tuple(inst.modifiers))
    except ValueError as exc:
        raise _Problem(str(exc)) from None
    _need(len(inst.operands) == len(info.operands),
          f"{info.name} takes {len(info.operands)} operands, got {len(inst.operands)}")
    widths = tuple(spec.width_for(resolved) for spec in info.operands)
    stream = _Bits()
    payload: int | None = None
    reuse = ordinal = 0
    for spec, operand, width in zip(info.operands, inst.operands, widths, strict=True):
        value = _encode_operand(spec, operand, width, stream, labels)
        if value is not None:
            _need(payload is None, "more than one operand needs the 32-bit payload "
                  "(immediate, constant, address or label)")
            payload = value
        if spec.kind in REGISTER_SOURCES:
            if isinstance(operand, Reg) and operand.reuse:
                _need(ordinal < REUSE_SLOTS, f"slot {spec.name!r} has no reuse flag "
                      f"(only the first {REUSE_SLOTS} register sources do)")
                reuse |= 1 << ordinal
            ordinal += 1
        elif getattr(operand, "reuse", False):
            raise _Problem(f"slot {spec.name!r} ({spec.kind.name}) takes no .reuse")
    for group in info.groups:
        option = resolved.get(group.name)
        stream.put(0 if option is None else group.options.index(option) + 1, group_bits(group))
    _need(stream.pos <= STREAM_BITS, f"{info.name}'s fields need {stream.pos} bits, "
          f"more than the {STREAM_BITS} available")
    guard, ctrl = inst.guard, inst.ctrl
    _need(isinstance(guard, Pred), f"guard {guard!r} is not a predicate")
    _need(isinstance(ctrl, Control), f"control {ctrl!r} is not a Control")
    for name, value in (("read", ctrl.read), ("write", ctrl.write)):
        _need(value == NO_BARRIER or (isinstance(value, int) and 0 <= value < NUM_SCOREBOARDS),
              f"{name} scoreboard {value!r} is not 0-{NUM_SCOREBOARDS - 1} or {NO_BARRIER}")
    low = stream.value & ((1 << STREAM_LOW_BITS) - 1)
    high = stream.value >> STREAM_LOW_BITS
    return (info.code
            | _check(guard.index, PRED_BITS, "guard predicate") << GUARD_SHIFT
            | int(guard.neg) << GUARD_SHIFT + PRED_BITS
            | (payload or 0) << PAYLOAD_SHIFT
            | low << STREAM_LOW_SHIFT
            | _check(ctrl.stall, 4, "stall") << STALL_SHIFT
            | int(bool(ctrl.yield_)) << YIELD_SHIFT
            | ctrl.write << WRITE_SHIFT
            | ctrl.read << READ_SHIFT
            | _check(ctrl.wait, NUM_SCOREBOARDS, "wait mask") << WAIT_SHIFT
            | reuse << REUSE_SHIFT
            | high << STREAM_HIGH_SHIFT)


def _field(word: int, shift: int, width: int) -> int:
    return (word >> shift) & ((1 << width) - 1)


def decode_instruction(word: bytes, label_for: Callable[[int], str] | None = None,
                       index: int = 0) -> Instruction:
    """The instruction a 16-byte word encodes (without a source location).

    ``label_for`` names the label at a branch target index. Raises
    :class:`AssemblyError` naming instruction ``index`` on an unknown opcode number, an
    invalid field, or any bit that the decoded instruction would not set.
    """
    value = int.from_bytes(word, "little")
    code = _field(value, 0, OPCODE_BITS)
    info = BY_CODE.get(code)
    if info is None:
        raise container.binary_error(f"instruction {index}: unknown opcode number {code:#x}")
    try:
        inst = _decode(value, info, label_for)
    except _Problem as exc:
        raise container.binary_error(f"instruction {index} ({info.name}): {exc}") from None
    names: dict[str, int] = {}
    for spec, operand in zip(info.operands, inst.operands, strict=True):
        if spec.kind is Kind.LABEL:
            names[operand.name] = _field(value, PAYLOAD_SHIFT, PAYLOAD_BITS)
    try:
        canonical = _encode(inst, names)
    except _Problem as exc:
        raise container.binary_error(f"instruction {index} ({info.name}): {exc}") from None
    if canonical != value:
        raise container.binary_error(
            f"instruction {index} ({info.name}): unused bits set "
            f"({canonical ^ value:#034x} differ from the canonical word)")
    return inst


def _decode(value: int, info: OpcodeInfo, label_for: Callable[[int], str] | None
            ) -> Instruction:
    low = _field(value, STREAM_LOW_SHIFT, STREAM_LOW_BITS)
    high = _field(value, STREAM_HIGH_SHIFT, STREAM_HIGH_BITS)
    stream = _Bits(low | high << STREAM_LOW_BITS)
    payload = _field(value, PAYLOAD_SHIFT, PAYLOAD_BITS)
    # Modifier groups follow the operand fields; read them first to know the widths.
    stream.pos = sum(map(slot_bits, info.operands))
    modifiers = []
    for group in info.groups:
        option = stream.take(group_bits(group))
        _need(option <= len(group.options), f"modifier group {group.name!r} has no option "
              f"number {option} (it has {len(group.options)})")
        if option:
            modifiers.append(group.options[option - 1])
    try:
        widths = info.widths(tuple(modifiers))
    except ValueError as exc:
        raise _Problem(str(exc)) from None
    stream.pos = 0
    reuse = _field(value, REUSE_SHIFT, REUSE_SLOTS)
    operands = []
    ordinal = 0
    for spec, width in zip(info.operands, widths, strict=True):
        reused = False
        if spec.kind in REGISTER_SOURCES:
            reused = ordinal < REUSE_SLOTS and bool(reuse >> ordinal & 1)
            ordinal += 1
        operand = _decode_operand(spec, width, stream, payload, reused, label_for)
        if width > 1 and isinstance(operand, Reg) and operand.index != RZ_INDEX:
            _need(operand.index % width == 0 and operand.index + width - 1 <= MAX_GPR,
                  f"R{operand.index} cannot start a group of {width} registers (the "
                  "assembler refuses it)")
        if isinstance(operand, Addr) and operand.wide and operand.reg != RZ_INDEX:
            _need(operand.reg % 2 == 0 and operand.reg + 1 <= MAX_GPR,
                  f"R{operand.reg} cannot be a 64-bit address base (an even register pair)")
        operands.append(operand)
    read, write = _field(value, READ_SHIFT, 3), _field(value, WRITE_SHIFT, 3)
    for name, barrier in (("read", read), ("write", write)):
        _need(barrier < NUM_SCOREBOARDS or barrier == NO_BARRIER,
              f"{name} scoreboard {barrier} is not 0-{NUM_SCOREBOARDS - 1} or {NO_BARRIER}")
    ctrl = Control(wait=_field(value, WAIT_SHIFT, NUM_SCOREBOARDS), read=read, write=write,
                   yield_=bool(_field(value, YIELD_SHIFT, 1)),
                   stall=_field(value, STALL_SHIFT, 4))
    guard = Pred(_field(value, GUARD_SHIFT, PRED_BITS),
                 bool(_field(value, GUARD_SHIFT + PRED_BITS, 1)))
    return Instruction(info.name, tuple(modifiers), tuple(operands), guard, ctrl)


def _decode_operand(spec: OperandSpec, width: int, bits: _Bits, payload: int, reused: bool,
                    label_for: Callable[[int], str] | None):
    kind = spec.kind
    if kind is Kind.RD:
        return Reg(bits.take(REG_BITS))
    if kind is Kind.PD:
        return Pred(bits.take(PRED_BITS))
    if kind is Kind.PS:
        index = bits.take(PRED_BITS)
        return Pred(index, bool(bits.take(1)))
    if kind is Kind.LIT:
        return Imm(bits.take(spec.bits))
    if kind in (Kind.RA, Kind.RB, Kind.RL):
        form = RB_REG
        if kind is Kind.RB:
            form = bits.take(2)
            _need(form in (RB_REG, RB_IMM, RB_CONST), f"slot {spec.name!r} has bad form {form}")
        elif kind is Kind.RL:
            form = RB_IMM if bits.take(1) else RB_REG
        field = bits.take(max(REG_BITS, spec.bits) if kind is Kind.RL else REG_BITS)
        flags = _take_flags(bits, spec)
        if form == RB_REG:
            return Reg(field, reuse=reused, **flags)
        if kind is Kind.RL:
            return Imm(field)
        if form == RB_IMM:
            return Imm(payload)
        offset = _field(payload, 0, CONST_OFFSET_BITS)
        _need(offset % 4 == 0, f"constant offset 0x{offset:x} is not a multiple of 4 (the "
                               "assembler refuses it)")
        return Const(_field(payload, CONST_OFFSET_BITS, CONST_BANK_BITS), offset,
                     neg=flags.get("neg", False), abs=flags.get("abs", False))
    if kind is Kind.ADDR:
        offset = _field(payload, 0, ADDR_OFFSET_BITS)
        offset -= (offset >> (ADDR_OFFSET_BITS - 1)) << ADDR_OFFSET_BITS
        return Addr(bits.take(REG_BITS), offset, wide=width == 2)
    if kind is Kind.CADDR:
        indexed = _field(payload, 21, 1)
        return Const(_field(payload, CONST_OFFSET_BITS, CONST_BANK_BITS),
                     _field(payload, 0, CONST_OFFSET_BITS),
                     _field(payload, 22, REG_BITS) if indexed else None)
    if kind is Kind.SREG:
        number = bits.take(SREG_BITS)
        _need(number < len(SPECIAL_REGISTERS), f"no special register number {number}")
        return SpecialReg(SPECIAL_REGISTERS[number])
    if kind is Kind.LABEL:
        _need(label_for is not None, "a branch target needs the program's labels")
        return Label(label_for(payload))
    if kind is Kind.BAR:
        return BarrierReg(bits.take(BAR_BITS))
    raise _Problem(f"no decoder for slot kind {kind.name}")


def encode_program(program: Program) -> bytes:
    """The binary form of ``program`` (layout in this module's docstring).

    Raises :class:`AssemblyError` when a header value or an instruction cannot be encoded.
    """
    labels: dict[str, int] = {}
    first_at: dict[int, str] = {}
    number: dict[str, int] = {}
    for i, (name, index) in enumerate(program.labels):
        if name in labels:
            raise AssemblyError(f"cannot encode: label {name!r} is defined twice")
        if not (isinstance(index, int) and 0 <= index <= len(program.instructions)):
            raise AssemblyError(f"cannot encode: label {name!r} at instruction {index!r}, "
                                f"outside 0..{len(program.instructions)}")
        labels[name], number[name] = index, i
        first_at.setdefault(index, name)
    words = []
    label_refs: dict[int, int] = {}
    for i, inst in enumerate(program.instructions):
        words.append(encode_instruction(inst, labels, i))
        for operand in inst.operands:
            if isinstance(operand, Label) and first_at[labels[operand.name]] != operand.name:
                label_refs[i] = number[operand.name]
    return container.pack(program, label_refs, words)


def decode(data: bytes) -> Program:
    """The program ``data`` encodes: ``decode(program.encode()) == program``.

    Raises :class:`AssemblyError` on anything that is not a valid encoding.
    """
    header, words = container.unpack(data)
    labels = header.program.labels
    first_at: dict[int, str] = {}
    for name, target in labels:
        first_at.setdefault(target, name)
    instructions = []
    for i, word in enumerate(words):
        def label_for(target: int, i: int = i) -> str:
            if i in header.label_refs:
                name, at = labels[header.label_refs[i]]
                _need(at == target, f"label reference {name!r} is at instruction {at}, "
                      f"not the branch target {target}")
                return name
            _need(target in first_at, f"branch target {target} has no label")
            return first_at[target]

        inst = decode_instruction(word, label_for, i)
        if i in header.label_refs and not any(isinstance(o, Label) for o in inst.operands):
            raise container.binary_error(f"instruction {i} ({inst.opcode}) has a label "
                                         "reference but no label operand")
        loc = header.locs[i]
        if loc is not None:
            inst = Instruction(inst.opcode, inst.modifiers, inst.operands, inst.guard,
                               inst.ctrl, loc)
        instructions.append(inst)
    for i in header.label_refs:
        if i >= len(words):
            raise container.binary_error(f"label reference for instruction {i}, past the end")
    p = header.program
    program = Program(p.name, p.params, tuple(instructions), p.labels, p.registers,
                      p.shared_bytes, p.local_bytes)
    problem = header_problem(program)  # what the assembler would refuse, the decoder refuses
    if problem is not None:
        raise container.binary_error(f"bad binary: {problem}")
    return program
