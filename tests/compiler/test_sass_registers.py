"""Register economy: results written in place into operands that die there
(``compiler/sass/inplace.py``) and scheduling that stops hoisting loads when too many
registers are live (``compiler/sass/schedule.py``)."""

from __future__ import annotations

import re

import numpy as np

import warpforge as wf
from warpforge.compiler.ir import parse_function
from warpforge.compiler.sass.emit import lower
from warpforge.compiler.sass.inplace import update_in_place
from warpforge.compiler.sass.mir import VReg, make
from warpforge.compiler.sass.regalloc import assign
from warpforge.compiler.sass.schedule import schedule
from warpforge.isa.operands import RZ, Imm

from .sass_support import build, run

PTXAS_SGEMM_REGISTERS = 119
"""ptxas's registers for the 128x128x8 SIMT sgemm (``reference/ptxas-sm80.md``)."""


@wf.kernel
def dot4(a: wf.f32[:, :], b: wf.f32[:], out: wf.f32[:], n: wf.i32):
    """Four running sums carried around a runtime loop, as a GEMM's accumulators are."""
    t = wf.thread_idx.x
    acc = wf.local((4,), wf.f32)
    for j in wf.static_range(4):
        acc[j] = 0.0
    for k in range(n):
        x = b[k]
        for j in wf.static_range(4):
            acc[j] += a[4 * t + j, k] * x
    for j in wf.static_range(4):
        out[4 * t + j] = acc[j]


def test_carried_sums_accumulate_in_place():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 37)).astype(np.float32)
    b = rng.standard_normal(37).astype(np.float32)
    out = np.zeros(128, np.float32)
    with wf.device(wf.Simulator(check_hazards=True)):
        dot4[1, 32](a, b, out, 37)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)
    asm = dot4.compile(a, b, out, 37, target="sim").asm
    ffma = re.findall(r"FFMA (R\d+), (R\d+), (R\d+), (R\d+) ;", asm)
    assert len(ffma) == 4 and all(d == c for d, _, _, c in ffma)  # FFMA R4, .., .., R4


def test_a_result_takes_the_register_of_an_operand_only_where_that_operand_dies():
    a, b, t, u = VReg(1), VReg(2), VReg(3), VReg(4)
    code = [
        make("IADD3", d=t, a=a, b=Imm(1), c=RZ),   # a is read again next: t keeps its own
        make("IADD3", d=u, a=t, b=a, c=RZ),        # a's next mention is its write: u takes a
        make("IADD3", d=a, a=u, b=b, c=RZ),
    ]
    assert [inst.operands[0] for inst in update_in_place(code)] == [t, a, a]
    chained = [
        make("IADD3", d=t, a=a, b=Imm(1), c=RZ),
        make("IADD3", d=u, a=t, b=Imm(2), c=RZ),
        make("IADD3", d=a, a=u, b=b, c=RZ),
    ]
    renamed = update_in_place(chained)
    assert [inst.operands[0] for inst in renamed] == [a, a, a]
    assert [inst.operands[3] for inst in renamed] == [a, a, a]  # slot a: read in place


def _loads_then_chain(n: int) -> str:
    """``n`` loads, then their sum in a chain: hoisting every load keeps ``n`` values
    live; interleaving keeps a few."""
    lines = ["kernel @k(%x: array<f32, 1, global>, %o: array<f32, 1, global>) {",
             "  %t = thread_idx x : i32"]
    for j in range(n):
        lines += [f"  %c{j} = constant {3 * j} : i32", f"  %i{j} = add %t, %c{j} : i32",
                  f"  %v{j} = load %x[%i{j}] : f32"]
    lines.append("  %a0 = add %v0, %v1 : f32")
    for j in range(2, n):
        lines.append(f"  %a{j - 1} = add %a{j - 2}, %v{j} : f32")
    lines += [f"  store %o[%t], %a{n - 2}", "  return", "}"]
    return "\n".join(lines)


def test_scheduling_keeps_registers_near_the_limit():
    text = _loads_then_chain(40)
    code = lower(parse_function(text)).code
    free = assign(schedule(code, limit=10**6)).registers
    tight = assign(schedule(code, limit=8)).registers
    assert free > tight and tight <= 12
    x = np.random.default_rng(1).standard_normal(32 + 3 * 40).astype(np.float32)
    o = np.zeros(32, np.float32)  # and the program (default limit) still computes the sum
    run(build(text), 1, 32, x, o)
    want = sum(x[np.arange(32) + 3 * j].astype(np.float64) for j in range(40))
    np.testing.assert_allclose(o, want, rtol=1e-5, atol=1e-4)


def test_the_128x128x8_sgemm_fits_ptxas_registers():
    """CUTLASS's SIMT config with its fragments in runs of 4: within 1.1x ptxas's count,
    and within 128 a thread, so two CTAs of 256 threads share an SM."""
    from warpforge.libs.gemm.config import GemmConfig
    from warpforge.libs.gemm.simt import gemm_simt
    cfg = GemmConfig(128, 128, 8, 8, 8, PAD=4, VEC=4)
    A = np.ones((256, 256), np.float32)
    ck = gemm_simt.compile(A, A, A, np.zeros(1, np.float32), 256, 256, 256, 1.0, 0.0,
                           target="sim", BETA=0, HAS_BIAS=0, ACT=0, EVEN=1,
                           **cfg.constexprs())
    assert ck.registers <= min(1.1 * PTXAS_SGEMM_REGISTERS, 128)
    assert ck.program.local_bytes == 0  # no spills


def test_the_pressure_limit_sits_under_an_occupancy_step():
    from warpforge.compiler.sass.schedule import (
        MAX_ROOM,
        MIN_ROOM,
        OCCUPANCY_STEPS,
        STEP_SLACK,
        pressure_limit,
    )
    # 65,536 registers an SM over 256-thread CTAs: 8 CTAs at 32 a thread ... 2 at 128
    assert [65536 // (256 * s) for s in OCCUPANCY_STEPS[:-1]] == [8, 6, 5, 4, 3, 2]
    assert pressure_limit(10) == 32 - STEP_SLACK       # a small kernel: eight CTAs
    assert pressure_limit(107) == 128 - STEP_SLACK     # a GEMM's accumulators: two
    assert pressure_limit(117) == 117 + MIN_ROOM       # still two, with less slack
    assert pressure_limit(85) == 85 + MAX_ROOM         # two, with no more in flight
    assert pressure_limit(200) == 200 + MAX_ROOM       # one CTA: loads in flight, bounded
    assert pressure_limit(240) == 253                  # never past the ISA's 255
    for floor in range(0, 250):  # always room for what must be live, and a few more
        assert pressure_limit(floor) >= floor + MIN_ROOM
