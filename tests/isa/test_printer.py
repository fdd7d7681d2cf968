"""The canonical printer: exact text for hand-built programs, instructions and operands.

The expected strings are written from the text format's definition (the canonical example
and rules in the ISA's design notes), not captured from the printer.
"""

from __future__ import annotations

import pytest

from warpforge.isa import (
    NOT_PT,
    OPCODES,
    PT,
    RZ,
    Addr,
    BarrierReg,
    Const,
    Control,
    Imm,
    Instruction,
    Label,
    Param,
    Pred,
    Program,
    Reg,
    SourceLoc,
    SpecialReg,
)
from warpforge.isa.printer import (
    format_control,
    format_instruction,
    format_operand,
    format_program,
)
from warpforge.isa.program import NO_BARRIER

CANONICAL = """\
.kernel saxpy
.param n i32
.param a f32
.param x f32*
.param y f32*
.shared 0
.local 0
.registers 10

        /*0000*/  [B------:R-:W-:-:S01]  MOV R1, c[0x0][0x28] ;
.loc "saxpy.py" 12 5
        /*0010*/  [B------:R-:W0:-:S01]  S2R R4, SR_CTAID.X ;
        /*0020*/  [B0-----:R-:W-:Y:S04]  IMAD R4, R4, c[0x0][0x0], R3 ;
        /*0030*/  [B------:R-:W-:-:S13]  ISETP.GE.AND P0, PT, R4, c[0x0][0x160], PT ;
        /*0040*/  [B------:R-:W-:-:S05]  @P0 EXIT ;
.L_loop:
        /*0050*/  [B------:R-:W-:-:S05]  @!P1 BRA `(.L_loop) ;
"""
"""The example of the canonical text format, verbatim."""


def canonical_program() -> Program:
    """The program that CANONICAL spells, built by hand."""
    here = SourceLoc("saxpy.py", 12, 5)
    s05 = Control(stall=5)
    insts = (
        Instruction("MOV", (), (Reg(1), Const(0, 0x28))),
        Instruction("S2R", (), (Reg(4), SpecialReg("SR_CTAID.X")), ctrl=Control(write=0),
                    loc=here),
        Instruction("IMAD", (), (Reg(4), Reg(4), Const(0, 0), Reg(3)),
                    ctrl=Control(wait=1, yield_=True, stall=4), loc=here),
        Instruction("ISETP", ("GE", "AND"), (Pred(0), PT, Reg(4), Const(0, 0x160), PT),
                    ctrl=Control(stall=13), loc=here),
        Instruction("EXIT", guard=Pred(0), ctrl=s05, loc=here),
        Instruction("BRA", (), (Label(".L_loop"),), Pred(1, neg=True), s05, here),
    )
    params = (Param("n", "i32"), Param("a", "f32"), Param("x", "f32*"), Param("y", "f32*"))
    return Program("saxpy", params, insts, ((".L_loop", 5),), registers=10)


def test_canonical_example():
    assert format_program(canonical_program()) == CANONICAL
    assert str(canonical_program()) == CANONICAL


@pytest.mark.parametrize("ctrl, text", [
    (Control(), "[B------:R-:W-:-:S01]"),
    (Control(0b010011, 0, 1, True, 4), "[B01--4-:R0:W1:Y:S04]"),  # gpu-facts.md's example
    (Control(0b111111, 5, 5, False, 15), "[B012345:R5:W5:-:S15]"),
    (Control(0b100000, NO_BARRIER, 2, True, 0), "[B-----5:R-:W2:Y:S00]"),
])
def test_control(ctrl, text):
    assert format_control(ctrl) == text


def test_instruction_text_has_no_offset_or_control():
    inst = Instruction("LDG", ("E",), (Reg(2), Addr(2, 0, True)), Pred(0),
                       Control(write=2, stall=4))
    assert format_instruction(inst) == "@P0 LDG.E R2, [R2.64]"
    assert format_instruction(Instruction("EXIT", guard=NOT_PT)) == "@!PT EXIT"
    assert format_instruction(Instruction("NOP")) == "NOP"


@pytest.mark.parametrize("operand, text", [
    (Reg(7), "R7"), (RZ, "RZ"), (Reg(7, neg=True), "-R7"), (Reg(7, inv=True), "~R7"),
    (Reg(7, abs=True), "|R7|"), (Reg(7, neg=True, abs=True), "-|R7|"),
    (Reg(7, reuse=True), "R7.reuse"), (Pred(0), "P0"), (PT, "PT"), (NOT_PT, "!PT"),
    (Pred(3, neg=True), "!P3"), (Const(0, 0x160), "c[0x0][0x160]"),
    (Const(0, 0x164, neg=True), "-c[0x0][0x164]"), (Const(0, 0x164, abs=True),
                                                    "|c[0x0][0x164]|"),
    (Const(3, 0x10, 2), "c[0x3][R2+0x10]"), (Const(3, 0, 2), "c[0x3][R2]"),
    (Addr(2, 0, True), "[R2.64]"), (Addr(2, 0x10, True), "[R2.64+0x10]"),
    (Addr(2, -0x10, True), "[R2.64-0x10]"), (Addr(3, 0x100), "[R3+0x100]"),
    (Addr(255, 0x100), "[RZ+0x100]"), (Addr(255, 0), "[RZ]"),
    (SpecialReg("SR_TID.X"), "SR_TID.X"), (Label(".L_loop"), "`(.L_loop)"),
    (BarrierReg(15), "B15"), (Imm(0x1F), "0x1f"), (Imm(0xFFFFFFFF), "-0x1"),
    (Imm(0x80000000), "-0x80000000"), (Imm(0x7FFFFFFF), "0x7fffffff"), (Imm(0), "0x0"),
])
def test_operands(operand, text):
    assert format_operand(operand) == text


FFMA_B = OPCODES["FFMA"].operands[2]
LOP3_LUT = OPCODES["LOP3"].operands[5]


@pytest.mark.parametrize("bits, text", [
    (0x3F800000, "1"), (0x3F000000, "0.5"), (0xC0200000, "-2.5"), (0x3727C5AC, "1e-05"),
    (0x3DCCCCCD, "0.1"),                       # float32(0.1): shortest is "0.1"
    (0x7F800000, "+INF"), (0xFF800000, "-INF"), (0x00000000, "0"), (0x80000000, "-0"),
    (0x7FFFFFFF, "0x7fffffff"), (0x7FC00000, "0x7fc00000"), (0xFF800001, "0xff800001"),
    (0x00000001, "1e-45"),                     # the smallest denormal, 2**-149
    (0x7F7FFFFF, "3.4028235e+38"),             # FLT_MAX
    (0x4B800000, "16777216"),                  # 2**24, below the exponent threshold
    (0x5A0E1BCA, "1e+16"),                     # float32 nearest 1e16: scientific from here
    (0x38D1B717, "0.0001"),                    # ... and down to 1e-4
])
def test_float_immediates(bits, text):
    assert format_operand(Imm(bits), FFMA_B) == text


def test_literals_print_unsigned_hex():
    assert format_operand(Imm(0xC0), LOP3_LUT) == "0xc0"
    shfl_c = OPCODES["SHFL"].operands[4]
    assert format_operand(Imm(0x1F1F), shfl_c) == "0x1f1f"


@pytest.mark.parametrize("pu, pv, pp, pq, text", [
    (PT, PT, NOT_PT, NOT_PT, "IADD3 R0, R2, R3, RZ"),
    (Pred(1), PT, NOT_PT, NOT_PT, "IADD3 R0, P1, R2, R3, RZ"),
    (PT, Pred(1), NOT_PT, NOT_PT, "IADD3 R0, PT, P1, R2, R3, RZ"),  # the rule's example
    (PT, PT, Pred(0), NOT_PT, "IADD3 R0, R2, R3, RZ, P0"),
    (PT, PT, NOT_PT, Pred(1), "IADD3 R0, R2, R3, RZ, !PT, P1"),
])
def test_optional_runs(pu, pv, pp, pq, text):
    inst = Instruction("IADD3", (), (Reg(0), pu, pv, Reg(2), Reg(3), RZ, pp, pq))
    assert format_instruction(inst) == text


def test_optional_register_slots():
    lea = Instruction("LEA", (), (Reg(0), PT, Reg(1), Reg(2), RZ, Imm(2), NOT_PT))
    assert format_instruction(lea) == "LEA R0, R1, R2, 0x2"
    lea_hi = Instruction("LEA", ("HI",), (Reg(0), PT, Reg(1), Reg(2), Reg(3), Imm(2), NOT_PT))
    assert format_instruction(lea_hi) == "LEA.HI R0, R1, R2, R3, 0x2"
    atom = Instruction("ATOMG", ("E", "ADD"), (Reg(0), Addr(2, 0, True), Reg(4), RZ))
    assert format_instruction(atom) == "ATOMG.E.ADD R0, [R2.64], R4"
    # RZ with a reuse flag is not the default RZ: it is written.
    atom = Instruction("ATOMG", ("E", "CAS"),
                       (Reg(0), Addr(2, 0, True), Reg(4), Reg(255, reuse=True)))
    assert format_instruction(atom) == "ATOMG.E.CAS R0, [R2.64], R4, RZ.reuse"


def test_locations_print_where_they_change():
    a, b = SourceLoc("a.py", 1, 0), SourceLoc("b \"x\".py", 2, 3)
    insts = tuple(Instruction("NOP", loc=loc) for loc in (None, a, a, b, None, None, a))
    text = format_program(Program("k", instructions=insts, registers=1))
    body = text.split("\n\n", 1)[1].splitlines()
    expected_marks = ['.loc "a.py" 1 0', '.loc "b \\"x\\".py" 2 3', ".noloc",
                      '.loc "a.py" 1 0']
    assert [line for line in body if line.startswith(".")] == expected_marks
    assert body[0].startswith("        /*0000*/  ")


def test_labels_at_the_same_index_and_at_the_end():
    insts = (Instruction("NOP"), Instruction("EXIT"))
    program = Program("k", instructions=insts, labels=(("a", 0), ("b", 0), ("end", 2)),
                      registers=1)
    assert format_program(program) == (
        ".kernel k\n.shared 0\n.local 0\n.registers 1\n\n"
        "a:\nb:\n"
        "        /*0000*/  [B------:R-:W-:-:S01]  NOP ;\n"
        "        /*0010*/  [B------:R-:W-:-:S01]  EXIT ;\n"
        "end:\n")


def test_offsets_count_sixteen_bytes():
    insts = tuple(Instruction("NOP") for _ in range(0x101))
    last = format_program(Program("k", instructions=insts, registers=1)).splitlines()[-1]
    assert last.startswith("        /*1000*/  ")


def test_malformed_instruction_still_prints():
    # The simulator names faulting instructions with format_instruction; a wrong operand
    # count must not make the message itself fail.
    inst = Instruction("MOV", (), (Reg(1),))
    assert format_instruction(inst) == "MOV R1"
