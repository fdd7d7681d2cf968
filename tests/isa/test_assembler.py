"""The assembler, construct by construct: header, operands, control codes, labels, .loc.

Expected values are written out from the text format's definition (and, for saxpy, from
the ptxas listing in reference/ptxas-sm80.md), never taken from the assembler's output.
"""

from __future__ import annotations

import numpy as np
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
    Reg,
    SourceLoc,
    SpecialReg,
    assemble,
)
from warpforge.isa.abi import NTID_X, STACK_POINTER, param_offsets
from warpforge.isa.opcodes import Kind
from warpforge.isa.program import NO_BARRIER
from warpforge.isa.signature import accepts

HEADER = ".kernel k\n"


def one(line: str) -> Instruction:
    """The single instruction of a one-line body."""
    program = assemble(HEADER + line + "\n")
    assert len(program.instructions) == 1
    return program.instructions[0]


# --- header -----------------------------------------------------------------------------

def test_header_fields():
    program = assemble(".kernel saxpy\n.param n i32\n.param a f32\n.param x f32*\n"
                       ".shared 1024\n.local 0x10\n.registers 12\n")
    assert program.name == "saxpy"
    assert program.params == (Param("n", "i32"), Param("a", "f32"), Param("x", "f32*"))
    assert (program.shared_bytes, program.local_bytes, program.registers) == (1024, 16, 12)
    assert program.instructions == () and program.labels == ()


def test_header_defaults():
    program = assemble(".kernel k\n")
    assert (program.shared_bytes, program.local_bytes) == (0, 0)
    assert program.registers == 1  # no register used: the minimum


@pytest.mark.parametrize("line, expected", [
    ("MOV R7, R2", 8),                        # highest register + 1
    ("MOV RZ, RZ", 1),                        # RZ is not a register of the thread
    ("IMAD.WIDE R10, R2, R3, R4", 12),        # a pair destination covers R10, R11
    ("LDG.E.128 R8, [R2.64]", 12),            # a quad
    ("LDG.E R0, [R20.64]", 22),               # a 64-bit address base is a pair
    ("LDS R0, [R20]", 21),                    # a 32-bit one is not
    ("LDC R0, c[0x0][R30+0x4]", 31),          # LDC's index register counts
    ("HMMA.16816.F32 R0, R4, R8, R12", 16),   # F32 accumulators are quads
])
def test_default_register_count(line, expected):
    assert assemble(HEADER + line + "\n").registers == expected


def test_declared_registers_may_exceed_use():
    assert assemble(HEADER + ".registers 40\nMOV R1, R2\n").registers == 40


def test_every_param_type():
    scalars = ("i8", "u8", "i16", "u16", "f16", "i32", "u32", "f32", "i64", "u64", "f64")
    text = HEADER + "".join(f".param p{t} {t}\n.param q{t} {t}*\n" for t in scalars)
    types = [p.type for p in assemble(text).params]
    assert types == [t for s in scalars for t in (s, s + "*")]


# --- instruction lines ------------------------------------------------------------------

def test_offsets_control_and_semicolon_are_optional():
    plain = one("MOV R1, R2")
    assert plain == Instruction("MOV", (), (Reg(1), Reg(2)))
    assert plain.ctrl == Control(wait=0, read=NO_BARRIER, write=NO_BARRIER, yield_=False,
                                 stall=1)
    full = one("        /*0a10*/  [B------:R-:W-:-:S01]  MOV R1, R2 ;")
    assert full == plain


@pytest.mark.parametrize("text, ctrl", [
    ("[B01--4-:R0:W1:Y:S04]", Control(0b010011, 0, 1, True, 4)),  # gpu-facts.md's example
    ("[B------:R-:W-:-:S15]", Control(0, NO_BARRIER, NO_BARRIER, False, 15)),
    ("[B012345:R5:W5:-:S00]", Control(0b111111, 5, 5, False, 0)),
    ("[B-----5:R-:W2:Y:S1]", Control(0b100000, NO_BARRIER, 2, True, 1)),
])
def test_control_codes(text, ctrl):
    assert one(f"{text} EXIT").ctrl == ctrl


@pytest.mark.parametrize("text, guard", [
    ("@P0 EXIT", Pred(0)), ("@!P3 EXIT", Pred(3, neg=True)), ("@PT EXIT", PT),
    ("@!PT EXIT", NOT_PT), ("EXIT", PT),
])
def test_guards(text, guard):
    assert one(text).guard == guard


def test_modifiers_stay_in_table_order():
    inst = one("IMAD.WIDE.U32 R2, R4, R5, R6")
    assert (inst.opcode, inst.modifiers) == ("IMAD", ("WIDE", "U32"))
    inst = one("F2F.F64.F32 R2, R5")
    assert (inst.opcode, inst.modifiers) == ("F2F", ("F64", "F32"))
    assert inst.operands == (Reg(2), Reg(5))


def test_comments_and_blank_lines():
    text = ("# a comment\n.kernel k // trailing\n\n   \n"
            "MOV R1, R2 ; /* 0x000fe40000000f00 */\n// MOV R3, R4\n")
    program = assemble(text)
    assert program.instructions == (Instruction("MOV", (), (Reg(1), Reg(2))),)


def test_crlf_line_ends():
    program = assemble(".kernel k\r\nMOV R1, R2 ;\r\n")
    assert program.instructions[0].operands == (Reg(1), Reg(2))


# --- operands ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, operand", [
    ("R7", Reg(7)), ("RZ", RZ), ("-R7", Reg(7, neg=True)), ("~R7", Reg(7, inv=True)),
    ("R7.reuse", Reg(7, reuse=True)), ("-RZ", Reg(255, neg=True)),
    ("0x1f", Imm(0x1F)), ("31", Imm(31)), ("-0x1", Imm(0xFFFFFFFF)), ("-1", Imm(0xFFFFFFFF)),
    ("0xffffffff", Imm(0xFFFFFFFF)), ("-0x80000000", Imm(0x80000000)), ("+5", Imm(5)),
    ("c[0x0][0x160]", Const(0, 0x160)), ("c[31][16]", Const(31, 16)),
    ("-c[0x0][0x164]", Const(0, 0x164, neg=True)),
])
def test_register_immediate_constant_sources(text, operand):
    inst = one(f"IADD3 R0, R1, {text}, R2")
    assert inst.operands == (Reg(0), PT, PT, Reg(1), operand, Reg(2), NOT_PT, NOT_PT)


@pytest.mark.parametrize("text, operand", [
    ("|R1|", Reg(1, abs=True)), ("-|R1|", Reg(1, neg=True, abs=True)),
    ("|c[0x0][0x8]|", Const(0, 8, abs=True)), ("-|c[0x0][0x8]|", Const(0, 8, neg=True, abs=True)),
])
def test_absolute_values(text, operand):
    assert one(f"FADD R0, R2, {text}").operands[2] == operand


@pytest.mark.parametrize("text, value", [
    ("1", 1.0), ("0.5", 0.5), ("-2.5", -2.5), ("1e-05", 1e-05), ("1.5E3", 1500.0),
    ("3.4028235e+38", 3.4028235e38), ("1e-45", 1e-45), ("0.1", 0.1), ("7", 7.0),
])
def test_float_immediates_round_to_float32(text, value):
    bits = one(f"FFMA R0, R1, {text}, R2").operands[2].bits
    assert bits == int(np.array(value, np.float32).view(np.uint32))


@pytest.mark.parametrize("text, bits", [
    ("+INF", 0x7F800000), ("INF", 0x7F800000), ("-INF", 0xFF800000), ("-0", 0x80000000),
    ("0", 0), ("0x7fffffff", 0x7FFFFFFF), ("0xFFC00000", 0xFFC00000), ("0x3f800000", 0x3F800000),
])
def test_float_slot_specials_and_raw_bits(text, bits):
    assert one(f"FMUL R0, R1, {text}").operands[2] == Imm(bits)


def test_float_decimal_ties_round_to_even():
    # 1 + 2**-24 lies halfway between 1 and the next float32 (1 + 2**-23): ties go to the
    # even one, 1; a hair above goes up. Decimal spellings are exact.
    assert one("FMUL R0, R1, 1.000000059604644775390625").operands[2] == Imm(0x3F800000)
    assert one("FMUL R0, R1, 1.0000000596046447753906251").operands[2] == Imm(0x3F800001)


@pytest.mark.parametrize("text, addr", [
    ("[R2.64]", Addr(2, 0, True)), ("[R2.64+0x10]", Addr(2, 0x10, True)),
    ("[R2.64-0x10]", Addr(2, -0x10, True)), ("[RZ.64+0x100]", Addr(255, 0x100, True)),
])
def test_global_addresses(text, addr):
    assert one(f"LDG.E R0, {text}").operands[1] == addr


@pytest.mark.parametrize("text, addr", [
    ("[R3+0x100]", Addr(3, 0x100)), ("[RZ+0x100]", Addr(255, 0x100)),
    ("[0x100]", Addr(255, 0x100)), ("[R3]", Addr(3)), ("[R3+16]", Addr(3, 16)),
    ("[-0x8]", Addr(255, -8)),
])
def test_shared_addresses(text, addr):
    assert one(f"STS {text}, R1").operands == (addr, Reg(1))


@pytest.mark.parametrize("text, const", [
    ("c[0x3][R2+0x10]", Const(3, 0x10, 2)), ("c[0x3][R2]", Const(3, 0, 2)),
    ("c[0x3][0x11]", Const(3, 0x11)), ("c[0x0][RZ+0x4]", Const(0, 4, 255)),
])
def test_ldc_addresses(text, const):
    assert one(f"LDC.U8 R0, {text}").operands[1] == const


def test_special_registers_barriers_and_literals():
    assert one("S2R R4, SR_CTAID.X").operands == (Reg(4), SpecialReg("SR_CTAID.X"))
    assert one("CS2R R4, SRZ").operands == (Reg(4), SpecialReg("SRZ"))
    assert one("BSYNC B15").operands == (BarrierReg(15),)
    assert one("BAR.SYNC 0x3").operands == (Imm(3),)
    assert one("SHFL.BFLY PT, R0, R1, 0x10, 0x1f").operands == (
        PT, Reg(0), Reg(1), Imm(0x10), Imm(0x1F))
    assert one("SHFL.IDX P1, R0, R1, R2, R3").operands == (
        Pred(1), Reg(0), Reg(1), Reg(2), Reg(3))


# --- optional slots ---------------------------------------------------------------------

@pytest.mark.parametrize("line, operands", [
    ("IADD3 R0, R2, R3, RZ", (Reg(0), PT, PT, Reg(2), Reg(3), RZ, NOT_PT, NOT_PT)),
    ("IADD3 R0, P1, R2, R3, RZ", (Reg(0), Pred(1), PT, Reg(2), Reg(3), RZ, NOT_PT, NOT_PT)),
    ("IADD3 R0, PT, P1, R2, R3, RZ", (Reg(0), PT, Pred(1), Reg(2), Reg(3), RZ, NOT_PT,
                                      NOT_PT)),
    ("IADD3.X R0, R2, R3, RZ, P0", (Reg(0), PT, PT, Reg(2), Reg(3), RZ, Pred(0), NOT_PT)),
    ("IADD3.X R0, R2, R3, RZ, !PT, !P1", (Reg(0), PT, PT, Reg(2), Reg(3), RZ, NOT_PT,
                                          Pred(1, neg=True))),
    ("LEA R0, R1, R2, 0x2", (Reg(0), PT, Reg(1), Reg(2), RZ, Imm(2), NOT_PT)),
    ("LEA.HI R0, P2, R1, R2, R3, 0x2, P1", (Reg(0), Pred(2), Reg(1), Reg(2), Reg(3), Imm(2),
                                           Pred(1))),
    ("LOP3.LUT R0, R1, R2, R3, 0xc0", (PT, Reg(0), Reg(1), Reg(2), Reg(3), Imm(0xC0),
                                       NOT_PT)),
    ("LOP3.LUT P0, R0, R1, R2, R3, 0xc0, !PT", (Pred(0), Reg(0), Reg(1), Reg(2), Reg(3),
                                               Imm(0xC0), NOT_PT)),
    ("ATOMG.E.ADD R0, [R2.64], R4", (Reg(0), Addr(2, 0, True), Reg(4), RZ)),
    ("ATOMG.E.CAS R0, [R2.64], R4, R5", (Reg(0), Addr(2, 0, True), Reg(4), Reg(5))),
])
def test_optional_slots_fill_in_order(line, operands):
    assert one(line).operands == operands


def test_optional_runs_are_never_followed_by_a_slot_of_the_same_kind():
    """The printer leaves trailing defaults of a run out; the assembler fills optional slots
    greedily. That round-trips only when no required slot right after a run accepts the
    same operands as the run's slots (else the greedy match would steal its operand)."""
    samples = {Kind.RD: Reg(0), Kind.RA: Reg(0), Kind.RB: Reg(0), Kind.RL: Reg(0),
               Kind.PD: Pred(0), Kind.PS: Pred(0)}
    for info in OPCODES.values():
        specs = info.operands
        for i, spec in enumerate(specs[:-1]):
            after = specs[i + 1]
            if spec.optional and not after.optional and spec.kind in samples:
                assert not accepts(after.kind, samples[spec.kind]), (info.name, spec.name)


# --- labels and locations ---------------------------------------------------------------

def test_labels_bare_and_quoted():
    program = assemble(HEADER + ".L_top:\nloop:\n  BRA `(.L_top)\n  @P0 BRA loop\n"
                       "  BSSY B0, .L_end\n.L_end:\n")
    assert program.labels == ((".L_top", 0), ("loop", 0), (".L_end", 3))
    targets = [inst.operands for inst in program.instructions]
    assert targets == [(Label(".L_top"),), (Label("loop"),), (BarrierReg(0), Label(".L_end"))]
    assert program.label_map == {".L_top": 0, "loop": 0, ".L_end": 3}


def test_label_named_like_a_directive():
    program = assemble(HEADER + ".loop:\nBRA `(.loop)\n")
    assert program.labels == ((".loop", 0),)


def test_loc_and_noloc():
    text = (HEADER + "EXIT\n.loc \"k.py\" 12 5\nEXIT\nEXIT\n.loc \"dir/\\\"q\\\".py\" 3\n"
            "EXIT\n.noloc\nEXIT\n")
    locs = [inst.loc for inst in assemble(text).instructions]
    assert locs == [None, SourceLoc("k.py", 12, 5), SourceLoc("k.py", 12, 5),
                    SourceLoc('dir/"q".py', 3, 0), None]


def test_loc_file_may_hold_comment_marks():
    inst = assemble(HEADER + '.loc "a//b#c.py" 1 2\nEXIT\n').instructions[0]
    assert inst.loc == SourceLoc("a//b#c.py", 1, 2)


# --- the reference listing --------------------------------------------------------------

SAXPY = """\
.kernel saxpy
.param n i32
.param a f32
.param x f32*
.param y f32*
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   S2R R4, SR_CTAID.X ;
        /*0020*/                   S2R R3, SR_TID.X ;
        /*0030*/                   IMAD R4, R4, c[0x0][0x0], R3 ;
        /*0040*/                   ISETP.GE.AND P0, PT, R4, c[0x0][0x160], PT ;
        /*0050*/               @P0 EXIT ;
        /*0060*/                   MOV R5, 0x4 ;
        /*0080*/                   IMAD.WIDE R2, R4, R5, c[0x0][0x168] ;
        /*0090*/                   IMAD.WIDE R4, R4, R5, c[0x0][0x170] ;
        /*00a0*/                   LDG.E.CONSTANT R2, [R2.64] ;
        /*00b0*/                   LDG.E R7, [R4.64] ;
        /*00c0*/                   FFMA R7, R2, c[0x0][0x164], R7 ;
        /*00d0*/                   STG.E [R4.64], R7 ;
        /*00e0*/                   EXIT ;
"""
"""The saxpy listing of reference/ptxas-sm80.md in our syntax: the header written from
saxpy(int n, float a, const float* x, float* y); ``HFMA2.MMA R5, -RZ, RZ, 0, 2.38e-07``
(which packs the f16 pair (2**-22, 0) = 0x00000004) spelled ``MOV R5, 0x4``; the uniform
``ULDC.64`` left out (not in this ISA)."""


def test_saxpy_listing():
    program = assemble(SAXPY, "saxpy.sass")
    insts = program.instructions
    assert [i.mnemonic for i in insts] == [
        "MOV", "S2R", "S2R", "IMAD", "ISETP.GE.AND", "EXIT", "MOV", "IMAD.WIDE", "IMAD.WIDE",
        "LDG.E.CONSTANT", "LDG.E", "FFMA", "STG.E", "EXIT"]
    n, a, x, y = param_offsets(program.params)
    assert (n, a, x, y) == (0x160, 0x164, 0x168, 0x170)  # the listing's parameter offsets
    assert insts[0].operands == (Reg(1), Const(0, STACK_POINTER))
    assert insts[1].operands == (Reg(4), SpecialReg("SR_CTAID.X"))
    assert insts[3].operands == (Reg(4), Reg(4), Const(0, NTID_X), Reg(3))
    assert insts[4].operands == (Pred(0), PT, Reg(4), Const(0, n), PT)
    assert insts[5].guard == Pred(0) and insts[5].operands == ()
    element = int(np.array([2.384185791015625e-07], np.float16).view(np.uint16)[0])
    assert insts[6].operands == (Reg(5), Imm(element)) and element == 4
    assert insts[7].operands == (Reg(2), Reg(4), Reg(5), Const(0, x))
    assert insts[8].operands == (Reg(4), Reg(4), Reg(5), Const(0, y))
    assert insts[9].operands == (Reg(2), Addr(2, 0, wide=True))
    assert insts[10].operands == (Reg(7), Addr(4, 0, wide=True))
    assert insts[11].operands == (Reg(7), Reg(2), Const(0, a), Reg(7))
    assert insts[12].operands == (Addr(4, 0, wide=True), Reg(7))
    assert program.registers == 8  # R7 is the highest; ptxas declared 10
    assert assemble(SAXPY.replace(".param y f32*\n", ".param y f32*\n.registers 10\n")
                    ).registers == 10
