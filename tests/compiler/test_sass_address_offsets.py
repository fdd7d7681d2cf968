"""Constant array offsets beyond an address's signed 24-bit field go into the base
register, so the program stays valid (found by the random-IR property test)."""

from __future__ import annotations

import pytest

from warpforge.compiler.ir import parse_function
from warpforge.compiler.sass import compile_function
from warpforge.isa import assemble
from warpforge.isa.operands import Imm

KERNEL = """
kernel @far(%o: array<f32, 1, global>) {
  %s = shared_alloc : array<f32, [3000000], shared>
  %i = constant INDEX : i32
  %v = load %s[%i] : f32
  %z = constant 0 : i32
  store %o[%z], %v
  return
}
"""


@pytest.mark.parametrize("index", [5, 2_500_000])
def test_constant_offsets_fit_the_address_field(index):
    program = compile_function(parse_function(KERNEL.replace("INDEX", str(index))))
    assert assemble(str(program)) == program
    (load,) = [inst for inst in program.instructions if inst.opcode == "LDS"]
    addr = load.operands[1]
    assert -2**23 <= addr.offset < 2**23
    if index * 4 < 2**23:
        assert (addr.reg, addr.offset) == (255, index * 4)  # [RZ+offset]
    else:
        (add,) = [inst for inst in program.instructions
                  if inst.opcode == "IADD3" and inst.operands[0].index == addr.reg]
        assert Imm(index * 4) in add.operands and addr.offset == 0
