"""The program generator keeps the ISA's invariants, so other tests can trust what it draws.

The invariants are checked here from the brief's statement of them, independently of the
strategy code that builds the operands.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.isa.strategies import instructions, modifiers_for, programs, registers_used
from warpforge.isa.opcodes import OPCODES, Kind
from warpforge.isa.operands import (
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
from warpforge.isa.program import Instruction

LABEL_NAME = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.$]*")
ACCEPTS = {
    Kind.RD: (Reg,), Kind.PD: (Pred,), Kind.RA: (Reg,), Kind.RB: (Reg, Imm, Const),
    Kind.RL: (Reg, Imm), Kind.PS: (Pred,), Kind.LIT: (Imm,), Kind.ADDR: (Addr,),
    Kind.CADDR: (Const,), Kind.SREG: (SpecialReg,), Kind.LABEL: (Label,),
    Kind.BAR: (BarrierReg,),
}


def check_instruction(inst, labels: set[str]) -> None:
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    assert tuple(inst.modifiers) == tuple(
        mods[g.name] for g in info.groups if g.name in mods), "canonical group order"
    assert len(inst.operands) == len(info.operands)
    payload = 0
    source = 0
    for spec, op in zip(info.operands, inst.operands, strict=True):
        width = spec.width_for(mods)
        assert isinstance(op, ACCEPTS[spec.kind]), (inst, spec.name)
        if isinstance(op, Reg):
            assert op.is_rz or (op.index >= 0 and op.index + width - 1 <= 254
                                and op.index % width == 0)
            flags = {f for f in ("neg", "abs", "inv") if getattr(op, f)}
            assert flags <= spec.flags and not {"neg", "inv"} <= flags
        if isinstance(op, Pred):
            assert 0 <= op.index <= 7
            assert not (spec.kind is Kind.PD and op.neg)
        if spec.kind in (Kind.RA, Kind.RB, Kind.RL):
            assert not (isinstance(op, Reg) and op.reuse and source >= 4)
            source += 1
        elif isinstance(op, Reg):
            assert not op.reuse
        if (spec.kind is Kind.RB and isinstance(op, Imm | Const)) or spec.kind in (
                Kind.ADDR, Kind.CADDR, Kind.LABEL):
            payload += 1
        if isinstance(op, Imm):
            limit = 32 if spec.kind is Kind.RB else spec.bits
            assert 0 <= op.bits < 1 << limit
        if isinstance(op, Const):
            assert 0 <= op.bank < 32 and 0 <= op.offset <= 0xFFFF
            if spec.kind is Kind.RB:
                assert op.reg is None and op.offset % 4 == 0
            else:
                assert not (op.neg or op.abs)
        if isinstance(op, Addr):
            assert -(1 << 23) <= op.offset < 1 << 23
            assert op.wide == (inst.opcode in ("LDG", "STG", "ATOMG", "RED"))
            assert op.reg == 255 or (op.reg <= 254 and op.reg % (2 if op.wide else 1) == 0)
        if isinstance(op, SpecialReg):
            assert op.name in SPECIAL_REGISTERS
        if isinstance(op, Label):
            assert op.name in labels
    assert payload <= 1, inst
    ctrl = inst.ctrl
    assert 0 <= ctrl.stall <= 15 and 0 <= ctrl.wait < 64
    assert ctrl.read in (0, 1, 2, 3, 4, 5, 7) and ctrl.write in (0, 1, 2, 3, 4, 5, 7)


@settings(max_examples=40, deadline=None)
@given(programs())
def test_programs_are_valid(program):
    names = [name for name, _ in program.labels]
    assert len(set(names)) == len(names)
    assert all(LABEL_NAME.fullmatch(name) for name in names)
    indices = [index for _, index in program.labels]
    assert indices == sorted(indices) and all(0 <= i <= len(program) for i in indices)
    for inst in program.instructions:
        check_instruction(inst, set(names))
    assert program.registers >= max(registers_used(program.instructions), 1)
    assert len({p.name for p in program.params}) == len(program.params)


@pytest.mark.parametrize("name", sorted(OPCODES))
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_instructions_of_every_opcode_are_valid(name, data):
    check_instruction(data.draw(instructions(opcode=name, labels=["x"])), {"x"})


def test_registers_used_counts_widths():
    """IMAD.WIDE R4 writes R4:R5; LDG.E.128 from [R8.64] reads R8:R9, writes R12..R15."""
    insts = [Instruction("IMAD", ("WIDE",), (Reg(4), Reg(1), Reg(2), Reg(6))),
             Instruction("LDG", ("E", "128"), (Reg(12), Addr(8, wide=True)))]
    assert registers_used(insts[:1]) == 8  # R6:R7 as the wide addend
    assert registers_used(insts) == 16


@pytest.mark.parametrize("name", sorted(n for n, row in OPCODES.items() if row.groups))
def test_every_modifier_option_is_reachable(name):
    """Each option of each group shows up in a modest number of (deterministic) draws."""
    info = OPCODES[name]
    wanted = {(g.name, o) for g in info.groups for o in g.options}
    seen: set[tuple[str, str]] = set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(modifiers_for(info))
    def collect(mods):
        seen.update(info.resolve(mods).items())

    collect()
    assert seen == wanted
