"""Control-flow emission, scheduling and the program's header and locations."""

from __future__ import annotations

import numpy as np

from warpforge.compiler.ir import ArrayType, Builder, Function, f32, i32
from warpforge.compiler.ir.types import AddressSpace
from warpforge.compiler.sass import compile_function
from warpforge.compiler.sass.mir import MAddr, VPred, VReg, make
from warpforge.compiler.sass.schedule import schedule
from warpforge.isa.operands import PT, RZ, BarrierReg, Imm, Label
from warpforge.isa.program import SourceLoc

from .sass_support import build, run
from .test_sass_e2e import COLLATZ, FOR_LOOP, IF_ELSE, SAXPY


def opcodes(program) -> list[str]:
    return [i.opcode for i in program.instructions]


def test_bounds_check_return_is_a_guarded_exit_without_bssy():
    program = build(SAXPY)
    names = opcodes(program)
    assert "BSSY" not in names and "BRA" not in names
    exits = [i for i in program.instructions if i.opcode == "EXIT"]
    assert len(exits) == 2 and not exits[0].guard.is_pt and exits[1].guard.is_pt


NESTED = """
kernel @nest(%x: array<i32, 1, global>) {
  %i = thread_idx x : i32
  %v = load %x[%i] : i32
  %z = constant 0 : i32
  %ten = constant 10 : i32
  %three = constant 3 : i32
  %c = cmp gt %v, %z : bool
  if %c {
    %d = cmp gt %v, %ten : bool
    if %d {
      %w = while (%a = %v) : i32 {
        %cc = cmp gt %a, %ten : bool
        yield %cc, %a
      } do (%b) {
        %b1 = sub %b, %three : i32
        yield %b1
      }
      store %x[%i], %w
      yield
    }
    yield
  }
  return
}
"""


def test_nested_divergent_regions_use_nested_barriers_that_meet_at_their_labels():
    program = build(NESTED)
    labels = program.label_map
    bssy = [i for i in program.instructions if i.opcode == "BSSY"]
    assert [i.operands[0] for i in bssy] == [BarrierReg(0), BarrierReg(1), BarrierReg(2)]
    for inst in bssy:
        join = labels[inst.operands[1].name]
        assert program.instructions[join].opcode == "BSYNC"
        assert program.instructions[join].operands[0] == inst.operands[0]
    x = np.arange(-5, 59, dtype=np.int32)
    expected = x.copy()
    while (expected > 10).any():
        expected = np.where(expected > 10, expected - 3, expected)
    run(program, 1, 64, x)
    np.testing.assert_array_equal(x, expected)


def test_short_arms_run_predicated():
    program = build(IF_ELSE)
    # the inner if's arms (one FMUL, one FADD and the copies) are predicated, the outer
    # if (which holds them) branches
    guarded = {i.opcode for i in program.instructions if not i.guard.is_pt}
    assert {"FMUL", "FADD"} <= guarded
    assert opcodes(program).count("BSSY") == 1


def _back_edges(program) -> list[int]:
    labels = program.label_map
    return [k for k, i in enumerate(program.instructions)
            if i.opcode == "BRA" and labels[i.operands[0].name] <= k]


def test_divergent_loops_branch_back_inside_a_convergence_region():
    program = build(COLLATZ)  # the trip count depends on the thread's data
    back = _back_edges(program)
    assert len(back) == 1
    names = opcodes(program)
    assert names.index("BSSY") < back[0] < names.index("BSYNC")
    assert names[-1] == "EXIT"


def test_uniform_loops_need_no_convergence_barrier():
    program = build(FOR_LOOP)  # bounds and step come from parameters: warp-uniform
    assert len(_back_edges(program)) == 1
    assert "BSSY" not in opcodes(program) and "BSYNC" not in opcodes(program)


def test_constant_conditions_keep_one_arm():
    program = build("""
kernel @k(%o: array<i32, 1, global>) {
  %i = thread_idx x : i32
  %t = constant true : bool
  %r = if %t : i32 {
    %a = constant 7 : i32
    yield %a
  } else {
    %b = constant 9 : i32
    yield %b
  }
  store %o[%i], %r
  return
}""")
    assert "BSSY" not in opcodes(program) and "BRA" not in opcodes(program)
    o = np.zeros(4, np.int32)
    run(program, 1, 4, o)
    assert o.tolist() == [7] * 4


def test_source_locations_follow_the_ir():
    out = ArrayType(f32, 1, AddressSpace.GLOBAL)
    func = Function("k", [("x", f32), ("o", out)], loc=SourceLoc("k.py", 1, 0))
    b = Builder.for_function(func)
    y = b.add(func.params[0], func.params[0], loc=SourceLoc("k.py", 3, 4))
    z = b.mul(y, y, loc=SourceLoc("k.py", 4, 4))
    b.store(func.params[1], [b.constant(0, i32)], z)
    b.return_(loc=SourceLoc("k.py", 5, 4))
    program = compile_function(func)
    locs = {i.opcode: i.loc for i in program.instructions}
    assert locs["FADD"] == SourceLoc("k.py", 3, 4)
    assert locs["FMUL"] == SourceLoc("k.py", 4, 4)
    assert locs["EXIT"] == SourceLoc("k.py", 5, 4)
    assert '.loc "k.py" 3 4' in str(program)


def test_scheduling_floats_loads_up_and_keeps_memory_order():
    a, b, c, d, e, f = (VReg(k) for k in range(1, 7))
    p = VReg(10, 2)
    code = [
        make("IADD3", d=a, a=c, b=Imm(1), c=RZ),
        make("IADD3", d=b, a=a, b=Imm(2), c=RZ),
        make("LDG", ("E",), d=d, addr=MAddr(p, 0, True)),
        make("IADD3", d=e, a=d, b=b, c=RZ),
        make("STG", ("E",), addr=MAddr(p, 4, True), v=e),
        make("LDG", ("E",), d=f, addr=MAddr(p, 8, True)),
        make("BRA", target=Label(".L_x")),
        make("IADD3", d=a, a=f, b=e, c=RZ),
    ]
    out = schedule(code)
    assert out[0] is code[2]  # the load goes first, ahead of the ALU chain
    assert out.index(code[0]) < out.index(code[1]) < out.index(code[3])
    # memory operations keep their order; nothing crosses the branch
    assert out.index(code[2]) < out.index(code[4]) < out.index(code[5])
    assert out[6:] == code[6:]


def _many_conditions_kernel(k: int) -> str:
    lines = ["kernel @k(%o: array<i32, 1, global>) {", "  %t = thread_idx x : i32",
             "  %one = constant 1 : i32"]
    for j in range(k):
        lines += [f"  %c{j} = constant {j} : i32", f"  %p{j} = cmp gt %t, %c{j} : bool"]
    for _ in range(2):  # every condition is used twice, far apart (as after CSE of loops)
        for j in range(k):
            lines += [f"  if %p{j} {{", "    %v = load %o[%t] : i32",
                      "    %w = add %v, %one : i32", "    store %o[%t], %w", "    yield",
                      "  }", "  barrier"]
    return "\n".join([*lines, "  return", "}"])


def test_comparisons_are_emitted_where_used_so_predicates_do_not_run_out():
    program = build(_many_conditions_kernel(10))  # 10 conditions > 7 predicates
    o = np.zeros(16, np.int32)
    run(program, 1, 16, o)
    assert o.tolist() == [2 * min(t, 10) for t in range(16)]


def test_arithmetic_may_cross_a_guarded_exit_but_memory_may_not():
    a, b, d = VReg(1), VReg(2), VReg(3)
    p, q = VPred(5), VReg(10, 2)
    code = [
        make("ISETP", ("GE", "AND"), pu=p, pv=PT, a=a, b=Imm(3), pp=PT),
        make("EXIT", guard=p),
        make("IADD3", d=b, a=a, b=Imm(1), c=RZ),
        make("LDG", ("E",), d=d, addr=MAddr(q, 0, True)),
    ]
    out = schedule(code)
    assert out.index(code[2]) < out.index(code[1]) < out.index(code[3])


def test_a_returning_arm_becomes_a_guarded_exit_and_the_other_runs_inline():
    program = build("""
kernel @k(%x: array<i32, 1, global>) {
  %t = thread_idx x : i32
  %v = load %x[%t] : i32
  %z = constant 0 : i32
  %neg = cmp lt %v, %z : bool
  %r = if %neg : i32 {
    return
  } else {
    %w = add %v, %v : i32
    yield %w
  }
  %r2 = add %r, %t : i32
  store %x[%t], %r2
  return
}""")
    names = opcodes(program)
    assert "BSSY" not in names and "BRA" not in names and names.count("EXIT") == 2
    x = np.arange(-8, 8, dtype=np.int32)
    expected = np.where(x < 0, x, 2 * x + np.arange(16)).astype(np.int32)
    run(program, 1, 16, x)
    np.testing.assert_array_equal(x, expected)
