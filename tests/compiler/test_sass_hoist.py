"""Loop-invariant machine code moves before its loop (``compiler/sass/hoist.py``)."""

from __future__ import annotations

import numpy as np

import warpforge as wf
from warpforge.compiler.sass.hoist import hoist_invariants
from warpforge.compiler.sass.mir import MInst, VPred, VReg, make
from warpforge.isa.operands import RZ, Imm, Label


@wf.kernel
def rows_sum(x: wf.f32[:, :], out: wf.f32[:], n: wf.i32):
    """Each thread sums column ``t`` of ``x`` through a shared row buffer."""
    sh = wf.shared((2, 32), wf.f32)
    t = wf.thread_idx.x
    s = 0.0
    for k in range(n):
        sh[k % 2, t] = x[k, t]
        wf.syncthreads()
        s += sh[k % 2, t]
    out[t] = s


def _loop_body(asm: str) -> list[str]:
    lines = asm.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(".L_loop"))
    end = next(i for i in range(start, len(lines)) if "BRA" in lines[i] and ".L_loop" in lines[i])
    return lines[start:end + 1]


def test_a_shared_address_base_leaves_the_loop_and_results_hold():
    x = np.random.default_rng(0).standard_normal((9, 32)).astype(np.float32)
    out = np.zeros(32, np.float32)
    with wf.device(wf.Simulator(check_hazards=True)):
        rows_sum[1, 32](x, out, 9)
    np.testing.assert_allclose(out, x.sum(0), rtol=1e-5, atol=1e-5)
    body = _loop_body(rows_sum.compile(x, out, 9, target="sim").asm)
    # t * 4 (the column's byte offset) is computed once, before the loop
    assert not any("IMAD" in line and "0x4, RZ" in line for line in body)


def test_only_pure_unguarded_32_bit_invariants_move_and_repeats_merge():
    t, n, a, b, c, d, w = (VReg(k) for k in range(1, 8))
    p = VPred(9)
    code = [
        make("MOV", d=n, b=Imm(5)),
        MInst("LABEL", operands=(".L_loop1",)),
        make("IMAD", d=a, a=t, b=Imm(4), c=RZ),           # invariant: moves
        make("IMAD", d=b, a=t, b=Imm(4), c=RZ),           # the same again: merged into a
        make("IADD3", d=c, a=t, b=b, c=RZ),               # invariant once b has moved
        make("IMAD", ("WIDE",), d=VReg(20, 2), a=t, b=Imm(4), c=RZ),  # a pair: stays
        make("IADD3", d=d, a=a, b=Imm(1), c=RZ, guard=p),  # guarded: stays
        make("IADD3", d=n, a=n, b=c, c=RZ),               # writes n: n is not invariant
        make("IADD3", d=w, a=n, b=Imm(1), c=RZ),          # reads n: stays
        make("BRA", target=Label(".L_loop1"), guard=p),
    ]
    out = hoist_invariants(code)
    head = next(i for i, inst in enumerate(out) if inst.opcode == "LABEL")
    before = out[:head]
    assert [inst.opcode for inst in before] == ["MOV", "IMAD", "IADD3"]
    assert before[2].operands[4] == a  # b's reader now reads a
    body = out[head + 1:]
    assert [inst.opcode for inst in body] == ["IMAD", "IADD3", "IADD3", "IADD3", "BRA"]
