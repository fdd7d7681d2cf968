"""Global loads merged into LDG.E.128 and shared stores into STS.128, on what launches
guarantee of arrays (``compiler.abi.ArrayFacts``, ``dsl.kernel.sim_facts``).

The simulator faults on a misaligned vector access, so every launch here also checks the
alignment proof; results are compared with numpy.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.compiler.analysis.alignment import KnownPow2
from warpforge.compiler.ir import parse_function
from warpforge.compiler.sass import compile_function
from warpforge.compiler.sass.mir import MAddr, VReg, make
from warpforge.compiler.sass.vectorize import vectorize_loads
from warpforge.isa.operands import RZ, Imm


@wf.kernel
def weighted_rows(x: wf.f32[:, :], out: wf.f32[:], k: wf.i32, n: wf.i32,
                  GUARD: wf.constexpr):
    """Thread t sums row t's first ``k`` words (a multiple of 4) weighted 1, 2, 3, 4, 1,
    ...; with ``GUARD`` only threads below ``n`` read."""
    t = wf.thread_idx.x
    s = 0.0
    for k0 in range(0, k, 4):
        for j in wf.static_range(4):
            if GUARD == 0 or t < n:
                s += x[t, k0 + j] * (j + 1.0)
    out[t] = s


def weighted(x: np.ndarray, k: int, rows: int) -> np.ndarray:
    w = np.tile(np.arange(1, 5, dtype=np.float32), k // 4)
    want = (x[:, :k] * w).sum(axis=1)
    want[rows:] = 0
    return want


def loads(asm: str) -> list[str]:
    return re.findall(r"\bLDG\.E(?:\.\d+)? ", asm)


def run_rows(x: np.ndarray, k: int, guard: int = 0, n: int = 32) -> list[str]:
    out = np.zeros(32, np.float32)
    with wf.device(wf.Simulator()):
        weighted_rows[1, 32](x, out, k, n, GUARD=guard)
    np.testing.assert_allclose(out, weighted(np.ascontiguousarray(x)[:32], k,
                                             n if guard else 32),
                               rtol=1e-5, atol=1e-5)
    return loads(weighted_rows.compile(x, out, k, n, GUARD=guard, target="sim").asm)


@pytest.mark.parametrize("cols", [8, 12, 20])
def test_rows_of_16_byte_multiples_are_read_with_128_bit_loads(cols):
    x = np.random.default_rng(cols).standard_normal((32, cols), dtype=np.float32)
    assert run_rows(x, 8) == ["LDG.E.128 "]


@pytest.mark.parametrize("cols", [6, 9, 10])
def test_rows_of_other_sizes_keep_scalar_loads(cols):
    # the build is specialized on the stride: these rows start only 4- or 8-byte aligned
    x = np.random.default_rng(cols).standard_normal((32, cols), dtype=np.float32)
    assert run_rows(x, 4) == ["LDG.E "] * 4


def test_a_strided_view_is_passed_contiguous_and_vectorized():
    base = np.random.default_rng(1).standard_normal((32, 16), dtype=np.float32)
    assert run_rows(base[:, ::2], 8) == ["LDG.E.128 "]


def test_loads_under_one_guard_merge_under_it():
    x = np.random.default_rng(2).standard_normal((32, 8), dtype=np.float32)
    asm_loads = run_rows(x, 8, guard=1, n=13)
    assert asm_loads == ["LDG.E.128 "]
    asm = weighted_rows.compile(x, np.zeros(32, np.float32), 8, 13, GUARD=1,
                                target="sim").asm
    assert re.search(r"@!?P\d LDG\.E\.128 ", asm)


def test_without_facts_about_the_array_loads_stay_scalar():
    # compile_function on its own knows nothing of the pointer or the strides
    x = np.zeros((32, 8), np.float32)
    ir = weighted_rows.compile(x, np.zeros(32, np.float32), 8, 32, GUARD=0).ir
    program = compile_function(parse_function(ir))
    assert "LDG.E.128" not in str(program) and "LDG.E " in str(program)


@wf.kernel
def rotate_rows(x: wf.f32[:, :], out: wf.f32[:, :]):
    """out[t] = x[(t + 1) % 32] through shared memory, 4 words a row."""
    sh = wf.shared((32, 4), wf.f32)
    t = wf.thread_idx.x
    for j in wf.static_range(4):
        sh[t, j] = x[t, j]
    wf.syncthreads()
    for j in wf.static_range(4):
        out[t, j] = sh[(t + 1) % 32, j]


def test_a_quad_loaded_from_global_is_stored_to_shared_with_sts_128():
    x = np.random.default_rng(3).standard_normal((32, 4), dtype=np.float32)
    out = np.zeros_like(x)
    with wf.device(wf.Simulator()):
        rotate_rows[1, 32](x, out)
    np.testing.assert_array_equal(out, np.roll(x, -1, axis=0))
    asm = rotate_rows.compile(x, out, target="sim").asm
    assert re.findall(r"\b(?:LDG\.E|STS)(?:\.\d+)? ", asm) == ["LDG.E.128 ", "STS.128 "]
    assert "LDS.128" in asm


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 24), k=st.sampled_from([0, 4, 8]),
       n=st.integers(0, 32), guard=st.integers(0, 1))
def test_random_shapes_agree_with_numpy_and_never_misalign(rows, cols, k, n, guard):
    k = min(k, cols // 4 * 4)
    x = np.random.default_rng(rows * 100 + cols).standard_normal((max(rows, 32), cols),
                                                                  dtype=np.float32)
    run_rows(x, k, guard=guard, n=n)


def test_a_loop_counter_has_its_bounds_and_steps_power_of_two():
    func = parse_function("""
kernel @k(%n: i32, %lb: i32) {
  %c0 = constant 0 : i32
  %c8 = constant 8 : i32
  %c6 = constant 6 : i32
  for %i = %c0 to %n step %c8 {
    yield
  }
  for %j = %c0 to %n step %c6 {
    yield
  }
  for %m = %lb to %n step %c8 {
    yield
  }
  return
}""")
    known = KnownPow2()
    ivs = [op.regions[0].block.args[0] for op in func.walk() if op.name == "for"]
    assert [known(iv) for iv in ivs] == [3, 1, 0]


def _quad_stores(middle: bool) -> list:
    base, quad, p = VReg(1), VReg(2, 4), VReg(3, 2)
    code = [make("IMAD", d=base, a=VReg(4), b=Imm(16), c=RZ),
            make("LDG", ("E", "128"), d=quad, addr=MAddr(p, 0, True))]
    for k in range(4):
        code.append(make("STS", addr=MAddr(base, 4 * k), v=VReg(2, 4, half=k)))
        if middle and k == 1:
            code.append(make("STS", addr=MAddr(base, 8), v=VReg(5)))  # word 2 again
    return vectorize_loads(code, {base.id: 4})


def test_a_quads_words_stored_in_order_become_one_sts_128_unless_a_store_intervenes():
    merged = _quad_stores(middle=False)
    assert [(i.opcode, i.modifiers) for i in merged[2:]] == [("STS", ("128",))]
    assert merged[2].operands[1] == VReg(2, 4)
    kept = _quad_stores(middle=True)
    assert [i.opcode for i in kept].count("STS") == 5  # word 2's order must stay
