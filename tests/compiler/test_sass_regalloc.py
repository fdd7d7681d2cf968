"""Register allocation: live intervals over loops, aligned pairs, no clashes, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.compiler.errors import CompilerError
from warpforge.compiler.sass.mir import MAddr, MInst, VPred, VReg, accesses, make
from warpforge.compiler.sass.regalloc import RESERVED_REGISTERS, allocate, intervals
from warpforge.isa import assemble
from warpforge.isa.operands import PT, RZ, Imm, Label, Pred

from .sass_support import build
from .test_sass_e2e import COLLATZ, TREE


def label(name: str) -> MInst:
    return MInst("LABEL", operands=(name,))


def test_values_live_into_a_loop_survive_to_its_back_edge():
    a, b, c = VReg(1), VReg(2), VReg(3)
    code = [
        make("MOV", d=a, b=Imm(1)),                       # 0: a, used in the loop only
        make("MOV", d=c, b=Imm(0)),                       # 1
        label(".L_loop"),                                 # 2
        make("IADD3", d=c, a=c, b=a, c=RZ),               # 3: last use of a
        make("MOV", d=b, b=Imm(7)),                       # 4: b lives inside only
        make("IADD3", d=c, a=c, b=b, c=RZ),               # 5
        make("BRA", target=Label(".L_loop")),             # 6: back edge
        make("EXIT"),
    ]
    regs, _ = intervals(code)
    assert regs[1] == [1, 13]  # extended from its last use (6) to the branch
    assert regs[2] == [9, 10]  # not live at the loop head: not extended
    insts, labels, count = allocate(code)
    assert labels == [(".L_loop", 2)]
    by_reg = {op.index for i in insts for op in i.operands if hasattr(op, "index")
              and not getattr(op, "is_rz", True)}
    # a stays live across the loop, so b cannot take its register
    mov_b = insts[3]
    assert mov_b.operands[0].index != insts[0].operands[0].index
    assert count == max(by_reg) + 1 + RESERVED_REGISTERS


def test_pairs_are_even_aligned():
    # x takes R0 first; the pair written while x is still live must start at R2, not R1.
    x, y, p = VReg(1), VReg(2), VReg(3, width=2)
    code = [make("MOV", d=x, b=Imm(3)),
            make("MOV", d=y, b=Imm(4)),
            make("IMAD", ("WIDE",), d=p, a=y, b=y, c=RZ),
            make("STG", ("E",), addr=MAddr(p, 0, True), v=x),
            make("EXIT")]
    insts, _, count = allocate(code)
    assert insts[0].operands[0].index == 0
    assert insts[2].operands[0].index == 2 and insts[3].operands[0].reg == 2
    assert count == 4 + RESERVED_REGISTERS


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.booleans()),
                min_size=1, max_size=60))
def test_simultaneously_live_values_get_distinct_registers(ops):
    # Random straight-line code: each instruction defines a new value from two earlier ones.
    code = [make("MOV", d=VReg(0), b=Imm(1))]
    for k, (i, j, wide) in enumerate(ops, start=1):
        a, b = VReg(min(i, k - 1)), VReg(min(j, k - 1))
        if wide:
            code.append(make("IMAD", ("WIDE",), d=VReg(1000 + k, 2), a=a, b=b, c=RZ))
            code.append(make("IADD3", d=VReg(k), a=VReg(1000 + k, 2).hi(), b=a, c=RZ))
        else:
            code.append(make("IADD3", d=VReg(k), a=a, b=b, c=RZ))
    code.append(make("EXIT"))
    regs, _ = intervals(code)
    insts, _, _ = allocate(code)
    assign: dict[int, set[int]] = {}
    for m, inst in zip(code, insts, strict=True):
        for mop, op in zip(m.operands, inst.operands, strict=True):
            if isinstance(mop, VReg):
                base = op.index - (mop.half or 0)
                assign.setdefault(mop.id, set()).update(range(base, base + mop.width))
    ids = list(assign)
    for x in ids:
        for y in ids:
            if x < y and not (regs[x][1] < regs[y][0] or regs[y][1] < regs[x][0]):
                assert not assign[x] & assign[y], (x, y)
    for rs in assign.values():
        if len(rs) == 2:
            assert min(rs) % 2 == 0


def test_self_copies_disappear():
    a, b = VReg(1), VReg(2)
    code = [make("MOV", d=a, b=Imm(4)), make("MOV", d=b, b=a),
            make("STS", addr=MAddr(None, 0), v=b),
            make("EXIT")]
    insts, _, _ = allocate(code)
    assert [i.opcode for i in insts] == ["MOV", "STS", "EXIT"]


def test_running_out_of_registers_is_a_clear_error():
    values = [VReg(k) for k in range(300)]
    code = [make("MOV", d=v, b=Imm(k)) for k, v in enumerate(values)]
    acc = VReg(1000)
    code.append(make("MOV", d=acc, b=RZ))
    code += [make("IADD3", d=acc, a=acc, b=v, c=RZ) for v in values]
    code.append(make("EXIT"))
    with pytest.raises(CompilerError, match="more than 255 registers"):
        allocate(code)


def test_accesses_name_reads_writes_and_guards():
    p = VPred(9)
    inst = make("IADD3", guard=p, d=VReg(1), a=VReg(2), b=VReg(3), c=RZ, pu=VPred(4))
    assert accesses(inst) == ([2, 3], [1], [9], [4])
    assert accesses(make("EXIT", guard=Pred(0))) == ([], [], [], [])
    assert make("EXIT").guard == PT


@pytest.mark.parametrize("text", [TREE, COLLATZ], ids=["tree", "collatz"])
def test_compiled_kernels_report_registers_as_ptxas_counts(text):
    program = build(text)
    # Without a .registers line the assembler counts the highest register used (pairs
    # included) plus one.
    bare = "\n".join(line for line in str(program).splitlines()
                     if not line.startswith(".registers"))
    assert program.registers == assemble(bare).registers + RESERVED_REGISTERS
