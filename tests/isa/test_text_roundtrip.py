"""Text round trips: ``assemble(str(p)) == p`` for valid programs, and canonical text is a
fixed point of assemble-then-print."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa import (
    OPCODES,
    Control,
    Imm,
    Instruction,
    Kind,
    Program,
    Reg,
    assemble,
)

from .strategies import instructions, programs


def check_round_trip(program: Program) -> None:
    text = str(program)
    again = assemble(text)
    assert again == program
    assert str(again) == text  # printing is idempotent


@settings(max_examples=100, deadline=None)
@given(programs())
def test_programs_round_trip(program):
    check_round_trip(program)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(programs(max_instructions=40))
def test_many_programs_round_trip(program):
    check_round_trip(program)


@pytest.mark.parametrize("opcode", sorted(OPCODES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_opcode_round_trips(opcode, data):
    labels = (".L_a", "b$1")
    needs_label = any(s.kind is Kind.LABEL for s in OPCODES[opcode].operands)
    inst = data.draw(instructions(opcode, labels=labels if needs_label else ()))
    program = Program("k", instructions=(inst,),
                      labels=((".L_a", 0), ("b$1", 1)) if needs_label else (),
                      registers=255)
    assert assemble(str(program)) == program


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_every_float_immediate_round_trips(bits):
    inst = Instruction("FFMA", (), (Reg(0), Reg(2), Imm(bits), Reg(3)))
    program = Program("k", instructions=(inst,), registers=4)
    assert assemble(str(program)).instructions[0].operands[2] == Imm(bits)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 63), st.sampled_from([0, 1, 2, 3, 4, 5, 7]),
       st.sampled_from([0, 1, 2, 3, 4, 5, 7]), st.booleans(), st.integers(0, 15))
def test_every_control_code_round_trips(wait, read, write, yield_, stall):
    ctrl = Control(wait, read, write, yield_, stall)
    program = Program("k", instructions=(Instruction("NOP", ctrl=ctrl),), registers=1)
    assert assemble(str(program)).instructions[0].ctrl == ctrl


LOOSE = """\
# hand-written: decimal numbers, no control codes or offsets, bare labels, no ';'
.kernel k
.param out f32*
top:
  @!P0 IADD3 R0, R1, 16, RZ
  FFMA R2, R2, 2.50, R5
  FMUL R3, R3, -0.0
  FADD R3, R3, 0.1
  LDS R4, [0x20]
  STG.E [R6.64+-0], R4 ;
  BRA top
"""
CANONICAL = """\
.kernel k
.param out f32*
.shared 0
.local 0
.registers 8

top:
        /*0000*/  [B------:R-:W-:-:S01]  @!P0 IADD3 R0, R1, 0x10, RZ ;
        /*0010*/  [B------:R-:W-:-:S01]  FFMA R2, R2, 2.5, R5 ;
        /*0020*/  [B------:R-:W-:-:S01]  FMUL R3, R3, -0 ;
        /*0030*/  [B------:R-:W-:-:S01]  FADD R3, R3, 0.1 ;
        /*0040*/  [B------:R-:W-:-:S01]  LDS R4, [RZ+0x20] ;
        /*0050*/  [B------:R-:W-:-:S01]  STG.E [R6.64], R4 ;
        /*0060*/  [B------:R-:W-:-:S01]  BRA `(top) ;
"""


def test_loose_text_prints_canonically():
    program = assemble(LOOSE.replace("[R6.64+-0]", "[R6.64]"))
    assert str(program) == CANONICAL
    assert assemble(CANONICAL) == program
