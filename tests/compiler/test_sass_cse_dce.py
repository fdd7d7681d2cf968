"""Machine-code clean-ups: dead pure instructions removed (``compiler/sass/dce``), repeated
ones computed once (``compiler/sass/cse``), and index sums only addresses use never
computed (``memory.Deferred``)."""

from __future__ import annotations

import re

import numpy as np

import warpforge as wf
from warpforge.compiler.sass.cse import eliminate_repeats
from warpforge.compiler.sass.dce import PURE, remove_dead
from warpforge.compiler.sass.mir import MAddr, MInst, VPred, VReg, make
from warpforge.isa.opcodes import OPCODES
from warpforge.isa.operands import PT, RZ, Imm, Label, SpecialReg


def test_pure_opcodes_are_opcodes():
    assert set(OPCODES) >= PURE


def test_dead_chains_go_and_what_is_read_or_stored_stays():
    a, b, c, d, n = (VReg(k) for k in range(1, 6))
    p = VReg(10, 2)
    code = [
        make("IADD3", d=a, a=n, b=Imm(1), c=RZ),        # read by b only: dies with b
        make("IADD3", d=b, a=a, b=Imm(2), c=RZ),        # read by nobody
        make("IADD3", d=c, a=n, b=Imm(3), c=RZ),        # stored
        make("STG", ("E",), addr=MAddr(p, 0, True), v=c),
        MInst("LABEL", operands=(".L_loop1",)),
        make("IADD3", d=d, a=n, b=Imm(1), c=RZ),        # read by n's update
        make("IADD3", d=n, a=d, b=Imm(1), c=RZ),        # carried: read before written
        make("BRA", target=Label(".L_loop1")),
    ]
    out = remove_dead(code)
    assert out == [code[2], code[3], *code[4:]]


def test_a_predicate_result_nobody_reads_is_dead_too():
    q = VPred(3)
    code = [make("ISETP", ("LT", "AND"), pu=q, pv=PT, a=VReg(1), b=Imm(4), pp=PT),
            make("EXIT")]
    assert remove_dead(code) == [code[1]]


def test_repeats_in_a_stretch_are_computed_once():
    t, k = VReg(1), VReg(2)
    x, y, z = VReg(3, 2), VReg(4, 2), VReg(5, 2)
    g = VPred(7)
    code = [
        make("IMAD", ("WIDE",), d=x, a=t, b=Imm(4), c=RZ, guard=g),
        make("IMAD", ("WIDE",), d=y, a=t, b=Imm(4), c=RZ, guard=g),   # repeat of x
        make("LDG", ("E",), d=VReg(6), addr=MAddr(y, 0, True), guard=g),
        make("IMAD", ("WIDE",), d=z, a=t, b=Imm(4), c=RZ),            # other guard
        make("IADD3", d=t, a=t, b=Imm(1), c=RZ),                      # t changes
        make("IMAD", ("WIDE",), d=VReg(8, 2), a=t, b=Imm(4), c=RZ),   # not a repeat
        make("LDG", ("E",), d=k, addr=MAddr(VReg(8, 2), 0, True)),
        make("LDG", ("E",), d=VReg(9), addr=MAddr(z, 0, True)),
    ]
    out = eliminate_repeats(code)
    assert len(out) == len(code) - 1
    assert out[1].operands[1] == MAddr(x, 0, True)   # the load reads x's register
    assert out[2] is code[3] and out[4] is code[5]


def test_clock_reads_are_never_merged():
    code = [make("S2R", d=VReg(1), sr=SpecialReg("SR_CLOCKLO")),
            make("S2R", d=VReg(2), sr=SpecialReg("SR_CLOCKLO"))]
    assert eliminate_repeats(code) == code


def test_repeats_across_a_branch_stay():
    t = VReg(1)
    code = [make("IMAD", d=VReg(2), a=t, b=Imm(4), c=RZ),
            MInst("LABEL", operands=(".L_x1",)),
            make("IMAD", d=VReg(3), a=t, b=Imm(4), c=RZ)]
    assert eliminate_repeats(code) == code


@wf.kernel
def guarded_column(x: wf.f32[:, :], out: wf.f32[:], n: wf.i32, c: wf.i32):
    """Row t's four words from column c summed, each read under its own ``if``."""
    t = wf.thread_idx.x
    s = 0.0
    for j in wf.static_range(4):
        if t < n:
            s += x[t, c + j]
    out[t] = s


def test_guarded_reads_share_one_address_and_no_dead_sum_is_left():
    x = np.random.default_rng(0).standard_normal((32, 5), dtype=np.float32)
    out = np.zeros(32, np.float32)
    with wf.device(wf.Simulator()):
        guarded_column[1, 32](x, out, 20, 1)
    want = x[:, 1:].sum(axis=1)
    want[20:] = 0
    np.testing.assert_allclose(out, want, rtol=1e-5)
    asm = guarded_column.compile(x, out, 20, 1, target="sim").asm
    # one address for the four loads, their offsets immediates; no IADD3 of c + j
    assert len(re.findall(r"IMAD\.WIDE", asm)) == 3  # x's row, x's column, out's element
    assert re.findall(r"LDG\.E R\d+, \[R\d+\.64\+?(0x[0-9a-f]+)?\]", asm) == [
        "", "0x4", "0x8", "0xc"]
    assert "IADD3" not in asm
