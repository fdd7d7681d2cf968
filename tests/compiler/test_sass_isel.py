"""Instruction selection: the idioms the SASS backend picks, read from compiled programs."""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.compiler.abi import kernel_params
from warpforge.compiler.errors import CompilerError
from warpforge.compiler.ir import parse_function
from warpforge.compiler.sass import compile_function
from warpforge.isa.abi import PARAM_BASE
from warpforge.isa.operands import Const, Imm, Reg

from .sass_support import build, run
from .test_sass_e2e import SAXPY


def mnemonics(program) -> list[str]:
    return [inst.mnemonic for inst in program.instructions]


def test_saxpy_uses_the_ptxas_idioms():
    program = build(SAXPY)
    names = mnemonics(program)
    assert names.count("IMAD.WIDE") == 2  # one per array; the y address serves load and store
    assert names.count("S2R") == 2
    assert names.count("LDG.E") == 2 and names.count("STG.E") == 1
    assert "FFMA" in names and "FMUL" not in names and "FADD" not in names
    # the bounds check is a guarded EXIT, and the FFMA reads `a` from the constant bank
    assert any(i.opcode == "EXIT" and not i.guard.is_pt for i in program.instructions)
    ffma = next(i for i in program.instructions if i.opcode == "FFMA")
    assert Const(0, PARAM_BASE + 4) in ffma.operands
    # i = blockIdx * blockDim + tid is one IMAD with blockDim from c[0x0][0x0]
    assert any(i.mnemonic == "IMAD" and Const(0, 0) in i.operands
               for i in program.instructions)
    assert program.instructions[-1].opcode == "EXIT"


def test_kernel_abi_expands_arrays():
    func = parse_function("kernel @k(%n: i32, %x: array<f32, 2, global>, %b: bool, "
                          "%m: array<bool, 1, global>) {\n  return\n}")
    params, slots = kernel_params(func)
    assert [(p.name, p.type) for p in params] == [
        ("n", "i32"), ("x", "f32*"), ("x_shape0", "i32"), ("x_shape1", "i32"),
        ("x_stride0", "i32"), ("x_stride1", "i32"), ("b", "i32"), ("m", "u8*"),
        ("m_shape0", "i32"), ("m_stride0", "i32")]
    # natural alignment from 0x160: the pointer after an i32 lands on 0x168
    assert slots[1].offset == 0x168 and slots[1].shapes == (0x170, 0x174)
    assert slots[1].strides == (0x178, 0x17C) and slots[2].offset == 0x180


def test_immediates_fold_into_b_and_one_operand_is_materialized():
    program = build("""
kernel @k(%o: array<i32, 1, global>, %f: array<f32, 1, global>) {
  %i = thread_idx x : i32
  %c = constant 5 : i32
  %x = add %i, %c : i32
  %y = add %c, %x : i32
  store %o[%i], %y
  %v = load %f[%i] : f32
  %h = constant 0.5 : f32
  %t = constant 2.0 : f32
  %r = fma %v, %h, %t : f32
  store %f[%i], %r
  return
}""")
    adds = [i for i in program.instructions if i.opcode == "IADD3"]
    assert len(adds) == 2 and all(Imm(5) in i.operands for i in adds)
    ffma = next(i for i in program.instructions if i.opcode == "FFMA")
    # FFMA takes one immediate; the other is moved into a register first
    assert sum(isinstance(op, Imm) for op in ffma.operands) == 1
    o = np.zeros(8, np.int32)
    f = np.arange(8, dtype=np.float32)
    run(program, 1, 8, o, f)
    assert o.tolist() == [i + 10 for i in range(8)]
    np.testing.assert_array_equal(f, np.arange(8, dtype=np.float32) * 0.5 + 2)


def test_mul_with_two_uses_is_not_contracted():
    program = build("""
kernel @k(%f: array<f32, 1, global>) {
  %i = thread_idx x : i32
  %v = load %f[%i] : f32
  %m = mul %v, %v : f32
  %a = add %m, %v : f32
  %b = add %a, %m : f32
  store %f[%i], %b
  return
}""")
    names = mnemonics(program)
    assert "FFMA" not in names and names.count("FMUL") == 1
    f = np.linspace(-2, 2, 16).astype(np.float32)
    m = f * f
    expected = (m + f) + m
    run(program, 1, 16, f)
    np.testing.assert_array_equal(f, expected)


ATOMIC = """
kernel @k(%c: array<i32, 1, global>, %o: array<i32, 1, global>) {
  %i = thread_idx x : i32
  %z = constant 0 : i32
  %one = constant 1 : i32
  %a = atomic add %c[%z], %one : i32
  %b = atomic add %c[%one], %one : i32
  store %o[%i], %b
  return
}
"""


def test_unused_atomic_results_become_red():
    program = build(ATOMIC)
    names = mnemonics(program)
    assert names.count("RED.E.ADD") == 1 and names.count("ATOMG.E.ADD") == 1
    c = np.zeros(2, np.int32)
    o = np.zeros(32, np.int32)
    run(program, 1, 32, c, o)
    assert c.tolist() == [32, 32] and sorted(o.tolist()) == list(range(32))


def test_shared_arrays_get_static_offsets_and_constant_indices_fold():
    program = build("""
kernel @k(%o: array<f32, 1, global>) {
  %a = shared_alloc : array<f32, [3], shared>
  %b = shared_alloc : array<f32, [2, 4], shared>
  %i = thread_idx x : i32
  %one = constant 1 : i32
  %two = constant 2 : i32
  %v = cast %i : f32
  store %b[%one, %two], %v
  %w = load %b[%one, %two] : f32
  store %o[%i], %w
  return
}""")
    assert program.shared_bytes == 16 + 32  # each allocation aligned to 16 bytes
    sts = next(i for i in program.instructions if i.opcode == "STS")
    assert sts.operands[0].offset == 16 + (1 * 4 + 2) * 4
    assert sts.operands[0].reg == Reg(255).index
    o = np.zeros(1, np.float32)
    run(program, 1, 1, o)
    assert o[0] == 0.0


def test_bools_live_in_predicates_and_store_as_bytes():
    program = build("""
kernel @k(%x: array<i32, 1, global>, %o: array<bool, 1, global>) {
  %i = thread_idx x : i32
  %v = load %x[%i] : i32
  %z = constant 0 : i32
  %p = cmp lt %v, %z : bool
  %q = cmp eq %v, %z : bool
  %r = or %p, %q : bool
  store %o[%i], %r
  return
}""")
    names = mnemonics(program)
    assert names.count("ISETP.LT.AND") == 1 and "PLOP3.LUT" in names
    assert "SEL" in names and "STG.E.U8" in names
    x = np.array([-3, 0, 4, -1], np.int32)
    o = np.zeros(4, np.uint8)
    run(program, 1, 4, x, o)
    assert o.tolist() == [1, 1, 0, 1]


@pytest.mark.parametrize("text", [
    "  %y = erf %x : f64",    # the float64 error functions have no SASS expansion yet
    "  %y = erfc %x : f64",
])
def test_unsupported_ops_raise_compiler_errors(text):
    func = parse_function("kernel @k(%x: f64, %o: array<f64, 1, global>) {\n" + text
                          + "\n  %z = constant 0 : i32\n  store %o[%z], %y\n  return\n}")
    with pytest.raises(CompilerError, match="cannot lower"):
        compile_function(func)
