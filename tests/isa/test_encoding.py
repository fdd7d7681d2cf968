"""The binary encoding: exact round trips, the documented bit positions, and clear errors."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.isa.strategies import instructions, programs
from warpforge.isa import AssemblyError, decode
from warpforge.isa.encoding import decode_instruction, encode_instruction
from warpforge.isa.opcodes import BY_CODE, OPCODES, Kind, OpcodeInfo
from warpforge.isa.operands import (
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
from warpforge.isa.program import Control, Instruction, Param, Program, SourceLoc

# Control-code positions from reference/gpu-facts.md ("In the 128-bit Volta+ encoding these
# sit at bits 105-125"), written out here so the test does not read them from the encoder.
STALL, YIELD, WRITE, READ, WAIT, REUSE = (105, 4), (109, 1), (110, 3), (113, 3), (116, 6), (122, 4)


def word_of(inst: Instruction, labels: dict[str, int] | None = None) -> int:
    return int.from_bytes(encode_instruction(inst, labels), "little")


def field(word: int, where: tuple[int, int]) -> int:
    shift, width = where
    return (word >> shift) & ((1 << width) - 1)


def set_bits(word: int, low: int, high: int) -> set[int]:
    return {b for b in range(low, high + 1) if word >> b & 1}


def ffma(ctrl: Control, *, reuse_a: bool = False, reuse_b: bool = False) -> Instruction:
    return Instruction("FFMA", (), (Reg(1), Reg(66, reuse=reuse_a), Reg(72, reuse=reuse_b),
                                    Reg(1)), ctrl=ctrl)


# --- round trips ------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(programs())
def test_program_round_trip(program):
    data = program.encode()
    assert decode(data) == program
    assert decode(bytearray(data)) == program


@pytest.mark.parametrize("name", sorted(OPCODES))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_opcode_round_trips(name, data):
    inst = data.draw(instructions(opcode=name, labels=[".L_a", ".L_b"]))
    program = Program("k", instructions=(inst, inst), labels=((".L_a", 0), (".L_b", 2)),
                      registers=255)
    assert decode(program.encode()) == program
    word = word_of(inst, {".L_a": 0, ".L_b": 2})
    assert field(word, (0, 12)) == OPCODES[name].code


def widest(info: OpcodeInfo) -> Instruction:
    """An instruction of ``info`` with every field at its largest value."""
    mods = tuple(group.options[-1] for group in info.groups)
    widths = info.widths(mods)
    has_payload = any(s.kind in (Kind.ADDR, Kind.CADDR, Kind.LABEL) for s in info.operands)
    every_flag = {"neg": True, "abs": True, "inv": True}
    operands = []
    for spec, width in zip(info.operands, widths, strict=True):
        flags = {f: v for f, v in every_flag.items() if f in spec.flags}
        kind = spec.kind
        if kind is Kind.RD:
            operands.append(Reg(RZ_INDEX))
        elif kind is Kind.RL:  # the literal form: form bit set, the value field all ones
            operands.append(Imm((1 << spec.bits) - 1))
        elif kind is Kind.RA or (kind is Kind.RB and has_payload):
            operands.append(Reg(RZ_INDEX, reuse=True, **flags))
        elif kind is Kind.RB:  # the payload's user: constant form (the largest form tag)
            has_payload = True
            operands.append(Const(31, 0xFFFC, neg="neg" in flags, abs="abs" in flags))
        elif kind is Kind.PD:
            operands.append(Pred(7))
        elif kind is Kind.PS:
            operands.append(Pred(7, neg=True))
        elif kind is Kind.LIT:
            operands.append(Imm((1 << spec.bits) - 1))
        elif kind is Kind.ADDR:
            operands.append(Addr(RZ_INDEX, -1, wide=width == 2))
        elif kind is Kind.CADDR:
            operands.append(Const(31, 0xFFFF, RZ_INDEX))
        elif kind is Kind.SREG:
            operands.append(SpecialReg(SPECIAL_REGISTERS[-1]))
        elif kind is Kind.LABEL:
            operands.append(Label("end"))
        elif kind is Kind.BAR:
            operands.append(BarrierReg(NUM_BARRIERS - 1))
    # Reuse exists only for the first four register-source slots.
    sources = [i for i, s in enumerate(info.operands) if s.kind in (Kind.RA, Kind.RB, Kind.RL)]
    for i in sources[4:]:
        if isinstance(operands[i], Reg):
            operands[i] = Reg(operands[i].index, operands[i].neg, operands[i].abs,
                              operands[i].inv, reuse=False)
    return Instruction(info.name, mods, tuple(operands), Pred(7, neg=True),
                       Control(wait=0, read=0, write=0, yield_=False, stall=0))


@pytest.mark.parametrize("name", sorted(OPCODES))
def test_widest_form_of_every_row_fits(name):
    """All fields at their maximum still leave bits 105-121 (control) untouched."""
    inst = widest(OPCODES[name])
    word = word_of(inst, {"end": 0xFFFFFFFF})
    assert word < 1 << 128
    assert set_bits(word, 105, 121) == set()
    assert decode_instruction(encode_instruction(inst, {"end": 0xFFFFFFFF}),
                              lambda index: "end") == inst
    # The same instruction with the control code all ones: nothing else changes.
    full = Instruction(inst.opcode, inst.modifiers, inst.operands, inst.guard,
                       Control(wait=63, read=5, write=5, yield_=True, stall=15))
    full_word = word_of(full, {"end": 0xFFFFFFFF})
    control_bits = {b for b in range(105, 122)} - {111, 114}  # 5 = 0b101 in both fields
    assert full_word ^ word == sum(1 << b for b in control_bits)


# --- control bits at the documented positions -----------------------------------------

def test_control_bits_match_cuassembler_example():
    """gpu-facts.md: ``[B01--4-:R0:W1:Y:S04]`` waits on SB0, SB1, SB4; read SB0; write SB1;
    yield; stall 4."""
    ctrl = Control(wait=0b010011, read=0, write=1, yield_=True, stall=4)
    word = word_of(ffma(ctrl))
    assert field(word, STALL) == 4
    assert field(word, YIELD) == 1
    assert field(word, WRITE) == 1
    assert field(word, READ) == 0
    assert field(word, WAIT) == 0b010011
    assert field(word, REUSE) == 0
    assert set_bits(word, 105, 125) == {107, 109, 110, 116, 117, 120}


def test_no_barrier_is_seven_in_both_fields():
    word = word_of(ffma(Control(read=7, write=7, stall=0)))
    assert set_bits(word, 105, 125) == {110, 111, 112, 113, 114, 115}


def test_reuse_bits_follow_register_source_slots():
    """sass-codegen.md: ``FFMA R1, R66.reuse, R72.reuse, R1`` sets the A and B reuse flags."""
    word = word_of(ffma(Control(stall=0, read=0, write=0), reuse_a=True, reuse_b=True))
    assert set_bits(word, 105, 125) == {122, 123}
    only_b = word_of(ffma(Control(stall=0, read=0, write=0), reuse_b=True))
    assert set_bits(only_b, 105, 125) == {123}


def test_reuse_slot_counts_only_register_source_kinds():
    """ISETP pu, pv, a, b, pp: a is register source 0 and b source 1, predicates not counted."""
    inst = Instruction("ISETP", ("LT", "AND"),
                       (Pred(0), Pred(7), Reg(2), Reg(3, reuse=True), Pred(7)),
                       ctrl=Control(stall=0, read=0, write=0))
    assert set_bits(word_of(inst), 105, 125) == {123}


def test_guard_and_opcode_fields():
    inst = Instruction("EXIT", guard=Pred(3, neg=True), ctrl=Control(stall=0, read=0, write=0))
    word = word_of(inst)
    assert field(word, (0, 12)) == OPCODES["EXIT"].code
    assert field(word, (12, 3)) == 3
    assert field(word, (15, 1)) == 1


def test_immediate_payload_holds_raw_bits():
    inst = Instruction("MOV", (), (Reg(0), Imm(0x7FC00001)))
    assert field(word_of(inst), (16, 32)) == 0x7FC00001


def test_branch_payload_is_instruction_index():
    inst = Instruction("BRA", (), (Label(".L_x"),))
    assert field(word_of(inst, {".L_x": 1234}), (16, 32)) == 1234


def test_shared_label_index_round_trips_each_name():
    """Two labels at one index: each branch keeps the name it was written with."""
    bra = [Instruction("BRA", (), (Label(n),)) for n in (".L_a", ".L_b", ".L_a")]
    program = Program("k", instructions=tuple(bra), labels=((".L_a", 3), (".L_b", 3)))
    assert decode(program.encode()) == program


def test_header_round_trip_with_locations_and_params():
    loc_a, loc_b = SourceLoc("a.py", 3, 1), SourceLoc("dir/b.py", 70000, 0)
    insts = tuple(Instruction("NOP", loc=loc) for loc in (None, loc_a, loc_a, loc_b, None,
                                                          loc_a))
    params = tuple(Param(f"p{i}", t) for i, t in enumerate(("i8", "f64", "u16*", "f32*")))
    program = Program("kernel_e", params, insts, (("end", 6),), registers=200,
                      shared_bytes=49152, local_bytes=16)
    assert decode(program.encode()) == program


# --- decode errors ----------------------------------------------------------------------

SAMPLE = Program(
    "k", (Param("n", "i32"),),
    (Instruction("MOV", (), (Reg(0), Imm(5))),
     Instruction("IADD3", (), (Reg(1), Pred(7), Pred(7), Reg(0), Reg(0), Reg(RZ_INDEX),
                               Pred(7, True), Pred(7, True))),
     Instruction("BRA", (), (Label(".L_top"),), loc=SourceLoc("k.py", 4, 2)),
     Instruction("EXIT")),
    ((".L_top", 0),), registers=2)
WORDS_AT = len(SAMPLE.encode()) - 16 * len(SAMPLE.instructions)


def with_word(data: bytes, index: int, change) -> bytes:
    at = WORDS_AT + 16 * index
    word = change(int.from_bytes(data[at:at + 16], "little"))
    return data[:at] + word.to_bytes(16, "little") + data[at + 16:]


def decode_error(data: bytes) -> str:
    with pytest.raises(AssemblyError) as info:
        decode(data)
    return str(info.value)


def test_sample_decodes():
    assert decode(SAMPLE.encode()) == SAMPLE


def test_bad_magic():
    data = SAMPLE.encode()
    assert "bad magic" in decode_error(b"XXXX" + data[4:])


def test_bad_version():
    data = SAMPLE.encode()
    assert "version 9" in decode_error(data[:4] + (9).to_bytes(2, "little") + data[6:])


def test_every_truncation_is_reported():
    data = SAMPLE.encode()
    for cut in range(len(data)):
        message = decode_error(data[:cut])
        assert "truncated" in message or "bad binary" in message or "magic" in message


def test_trailing_bytes():
    assert "instructions need" in decode_error(SAMPLE.encode() + b"\0")


def test_unknown_opcode_number_names_the_instruction():
    unused = next(code for code in range(1 << 12) if code not in BY_CODE)
    data = with_word(SAMPLE.encode(), 1, lambda w: w & ~0xFFF | unused)
    message = decode_error(data)
    assert "instruction 1" in message
    assert f"unknown opcode number {unused:#x}" in message


def test_bad_scoreboard_value():
    data = with_word(SAMPLE.encode(), 3, lambda w: w & ~(7 << 113) | 6 << 113)
    message = decode_error(data)
    assert "instruction 3" in message and "read scoreboard 6" in message


def test_bad_operand_form():
    # MOV's b slot is RB: its form is the 2 bits after the 8-bit destination register.
    data = with_word(SAMPLE.encode(), 0, lambda w: w | 3 << (48 + 8))
    message = decode_error(data)
    assert "instruction 0" in message and "bad form 3" in message


RED = Program("k", instructions=(Instruction("RED", ("E", "ADD"), (Addr(2, wide=True), Reg(4))),))
RED_OP_SHIFT = 48 + 8 + 8 + 1
"""RED's stream: addr register (8), b (8), .E (1 bit), then op (4 bits: 10 options + none)."""


def test_bad_modifier_number():
    data = RED.encode()
    at = len(data) - 16
    word = int.from_bytes(data[at:], "little")
    assert (word >> RED_OP_SHIFT) & 0xF == 1  # .ADD is option 0 of op, stored as 1
    bad = (word | 0xF << RED_OP_SHIFT).to_bytes(16, "little")
    message = decode_error(data[:at] + bad)
    assert "instruction 0" in message and "no option number 15" in message
    missing = (word & ~(0xF << RED_OP_SHIFT)).to_bytes(16, "little")
    assert "needs one of" in decode_error(data[:at] + missing)


def test_unused_bits_are_rejected():
    data = with_word(SAMPLE.encode(), 3, lambda w: w | 1 << 100)
    message = decode_error(data)
    assert "instruction 3" in message and "unused bits" in message


def test_branch_to_unlabelled_index():
    data = with_word(SAMPLE.encode(), 2, lambda w: w & ~(0xFFFFFFFF << 16) | 2 << 16)
    message = decode_error(data)
    assert "instruction 2" in message and "branch target 2 has no label" in message


def test_duplicate_label_names():
    program = Program("k", instructions=(Instruction("NOP"),), labels=(("a", 0), ("b", 1)))
    data = program.encode()
    assert data.count(b"\x01b\x01") == 1  # name "b" (length 1) then its index 1
    assert "twice" in decode_error(data.replace(b"\x01b\x01", b"\x01a\x01"))


def test_not_bytes():
    with pytest.raises(AssemblyError, match="bytes"):
        decode("not bytes")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_bytes_never_crash(data):
    """Any single-byte change either still decodes or raises AssemblyError, nothing else."""
    blob = bytearray(SAMPLE.encode())
    at = data.draw(st.integers(0, len(blob) - 1))
    blob[at] = data.draw(st.integers(0, 255))
    try:
        decoded = decode(bytes(blob))
    except AssemblyError:
        return
    assert decode(decoded.encode()) == decoded


# --- encode errors ----------------------------------------------------------------------

def encode_error(inst: Instruction, index: int = 2, labels=(("a", 0),)) -> str:
    nops = (Instruction("NOP"),) * index
    program = Program("k", instructions=(*nops, inst), labels=labels, registers=8)
    with pytest.raises(AssemblyError) as info:
        program.encode()
    return str(info.value)


@pytest.mark.parametrize(("inst", "expected"), [
    (Instruction("IADD3", (), (Reg(0), Pred(7), Pred(7), Reg(1), Imm(1), Imm(2),
                               Pred(7, True), Pred(7, True))), "more than one operand"),
    (Instruction("FADD", (), (Reg(0), Reg(1, inv=True), Reg(2))), "inv flag"),
    (Instruction("MOV", (), (Reg(0, reuse=True), Reg(1))), "destination register"),
    (Instruction("MOV", (), (Reg(256), Reg(1))), "register 256"),
    (Instruction("MOV", (), (Reg(0), Imm(1 << 32))), "immediate"),
    (Instruction("MOV", (), (Reg(0),)), "takes 2 operands"),
    (Instruction("MOV", (), (Reg(0), Pred(1))), "cannot hold"),
    (Instruction("MOV", (), (Reg(0), Const(0, 0x160, reg=2))), "register-indexed"),
    (Instruction("ISETP", ("LT", "AND"), (Pred(0, neg=True), Pred(7), Reg(1), Reg(2),
                                         Pred(7))), "cannot be negated"),
    (Instruction("LDG", ("E",), (Reg(0), Addr(2, 0, wide=False))), ".64"),
    (Instruction("LDS", (), (Reg(0), Addr(2, 0, wide=True))), ".64"),
    (Instruction("LDS", (), (Reg(0), Addr(2, 1 << 23))), "24 signed bits"),
    (Instruction("BRA", (), (Label("nowhere"),)), "undefined label 'nowhere'"),
    (Instruction("ISETP", ("AND",), (Pred(0), Pred(7), Reg(1), Reg(2), Pred(7))), "needs one"),
    (Instruction("FOO"), "unknown opcode"),
    (Instruction("S2R", (), (Reg(0), SpecialReg("SR_NOPE"))), "SR_NOPE"),
    (Instruction("LOP3", ("LUT",), (Pred(7), Reg(0), Reg(1), Reg(2), Reg(3), Imm(256),
                                    Pred(7, True))), "literal 256"),
    (Instruction("NOP", ctrl=Control(read=6)), "read scoreboard 6"),
    (Instruction("NOP", ctrl=Control(stall=16)), "stall 16"),
])
def test_encode_errors_name_the_instruction(inst, expected):
    message = encode_error(inst)
    assert "instruction 2" in message and inst.opcode in message
    assert expected in message


@pytest.mark.parametrize("program", [
    Program("k", registers=-1),
    Program("k", labels=(("a", 0), ("a", 0))),
    Program("k", labels=(("a", 1),)),
    Program("k", params=(Param("n", 4),)),  # type: ignore[arg-type]
    Program("k", instructions=(Instruction("NOP", loc="a.py:3"),)),  # type: ignore[arg-type]
])
def test_header_errors(program):
    with pytest.raises(AssemblyError):
        program.encode()


def test_every_control_code_round_trips():
    nops = tuple(Instruction("NOP", ctrl=Control(wait, read, write, bool(y), stall))
                 for wait, read, write, y, stall in itertools.product(
                     range(64), (0, 5, 7), (0, 3, 7), (0, 1), (0, 1, 15)))
    program = Program("k", instructions=nops)
    assert decode(program.encode()) == program


def test_a_header_the_assembler_refuses_does_not_decode():
    """Whatever decodes must print as text that assembles: a name the assembler's lexer
    refuses, a bad parameter type or too few registers never decode."""
    for program in (Program("kernel_é"), Program("k", (Param("x", "w32*"),)),
                    Program("k", (), (Instruction("MOV", (), (Reg(9), Imm(1))),),
                            registers=3)):
        with pytest.raises(AssemblyError, match="bad binary"):
            decode(program.encode())
