"""Register spilling: kernels compiled with a small register budget keep what does not fit
in local memory (STL/LDL off R1 = c[0x0][0x28]) and compute exactly what the unspilled
compile and numpy compute (hazard checker on)."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf
from warpforge.compiler.errors import CompilerError
from warpforge.compiler.ir import parse_function
from warpforge.compiler.pipeline import optimize
from warpforge.compiler.sass import compile_function
from warpforge.compiler.sass.mir import MAddr, VReg, make
from warpforge.compiler.sass.regalloc import assign
from warpforge.compiler.sass.regs import access
from warpforge.dsl.frontend import build_function
from warpforge.isa import assemble
from warpforge.isa.abi import STACK_POINTER
from warpforge.isa.operands import Const, Imm, Reg
from warpforge.isa.program import Program

from .sass_support import fma32, run

THREADS = 64
RZ_REG = Reg(255)


def accumulators(count: int, *, elem: str = "f32", guarded: bool = False) -> str:
    """A kernel whose loop carries ``count`` accumulators, all live at once: thread ``t``
    adds ``x[t, j] * (k + 1.5)`` (f32) or ``x[t, j] + k`` (i64) into accumulator ``k``;
    ``guarded`` adds only the positive ``x`` (predicated ``if`` arms)."""
    f32 = elem == "f32"
    lines = [
        f"kernel @acc(%x: array<{elem}, 2, global>, %out: array<{elem}, 2, global>, "
        "%n: i32) {",
        "  %t = thread_idx x : i32",
        "  %z = constant 0 : i32",
        "  %one = constant 1 : i32",
        f"  %zero = constant {'0.0' if f32 else '0'} : {elem}",
    ]
    lines += [f"  %c{k} = constant {f'{k + 1}.5' if f32 else k} : {elem}"
              for k in range(count)]
    iters = ", ".join(f"%a{k} = %zero" for k in range(count))
    results = ", ".join(f"%r{k}" for k in range(count))
    lines.append(f"  {results} = for %j = %z to %n step %one iter({iters}) : "
                 f"{', '.join([elem] * count)} {{")
    lines.append(f"    %v = load %x[%t, %j] : {elem}")
    if guarded:
        lines.append("    %pos = cmp gt %v, %zero : bool")
    for k in range(count):
        lines.append(f"    %m{k} = {'mul' if f32 else 'add'} %v, %c{k} : {elem}")
        if guarded:
            lines += [f"    %b{k} = if %pos : {elem} {{",
                      f"      %s{k} = add %a{k}, %m{k} : {elem}",
                      f"      yield %s{k}",
                      "    } else {",
                      f"      yield %a{k}",
                      "    }"]
        else:
            lines.append(f"    %b{k} = add %a{k}, %m{k} : {elem}")
    lines.append("    yield " + ", ".join(f"%b{k}" for k in range(count)))
    lines.append("  }")
    for k in range(count):
        lines += [f"  %i{k} = constant {k} : i32", f"  store %out[%t, %i{k}], %r{k}"]
    lines += ["  return", "}"]
    return "\n".join(lines)


def reference(x: np.ndarray, count: int, *, guarded: bool = False) -> np.ndarray:
    """What :func:`accumulators` computes, in numpy (f32: one rounding per FFMA; the
    guarded form multiplies outside the ``if``, so it rounds the product first)."""
    out = np.zeros((x.shape[0], count), x.dtype)
    for k in range(count):
        for j in range(x.shape[1]):
            v = x[:, j]
            if x.dtype == np.float32 and guarded:
                new = v * np.float32(k + 1.5) + out[:, k]
            elif x.dtype == np.float32:
                new = fma32(v, np.float32(k + 1.5), out[:, k])
            else:
                new = out[:, k] + v + np.int64(k)
            out[:, k] = np.where(v > 0, new, out[:, k]) if guarded else new
    return out


def compile_text(text: str, max_registers: int = 255) -> Program:
    program = compile_function(parse_function(text), max_registers=max_registers)
    assert assemble(str(program)) == program
    return program


def spill_code(program: Program) -> list:
    return [inst for inst in program.instructions if inst.opcode in ("STL", "LDL")]


def execute(program: Program, x: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros((x.shape[0], count), x.dtype)
    run(program, 1, x.shape[0], x, out, np.int32(x.shape[1]))
    return out


def check_frame(program: Program) -> None:
    """R1 is set from the stack pointer first, and every spill access lies inside the
    thread's local memory (R1 = local_bytes at launch)."""
    first = program.instructions[0]
    assert (first.opcode, first.operands) == ("MOV", (Reg(1), Const(0, STACK_POINTER)))
    assert all("R1" not in dict(access(inst).writes) for inst in program.instructions[1:])
    spills = [inst for inst in spill_code(program) if _address(inst).reg == 1]
    assert spills
    for inst in spills:
        addr = _address(inst)
        size = 8 if "64" in inst.modifiers else 4
        at = program.local_bytes + addr.offset
        assert 0 <= at <= program.local_bytes - size and at % size == 0


def _address(inst):
    return inst.operands[0] if inst.opcode == "STL" else inst.operands[1]


@pytest.mark.parametrize("budget", [12, 16, 24, 40])
def test_float_accumulators_spill_and_compute_the_same(budget):
    count = 24
    text = accumulators(count)
    rng = np.random.default_rng(budget)
    x = rng.standard_normal((THREADS, 5)).astype(np.float32)
    full = compile_text(text)
    assert full.registers > 40 and not spill_code(full) and full.local_bytes == 0
    small = compile_text(text, budget)
    assert small.registers <= budget
    assert {"STL", "LDL"} <= {inst.opcode for inst in spill_code(small)}
    assert small.local_bytes > 0
    check_frame(small)
    want = reference(x, count)
    np.testing.assert_array_equal(execute(full, x, count), want)
    np.testing.assert_array_equal(execute(small, x, count), want)


def test_sixty_four_bit_accumulators_spill_as_aligned_pairs():
    count = 12
    text = accumulators(count, elem="i64")
    small = compile_text(text, 16)
    assert small.registers <= 16
    wide = [inst for inst in spill_code(small) if "64" in inst.modifiers]
    assert {inst.opcode for inst in wide} == {"STL", "LDL"}
    check_frame(small)
    rng = np.random.default_rng(5)
    x = rng.integers(-2**40, 2**40, (THREADS, 4)).astype(np.int64)
    want = reference(x, count)
    np.testing.assert_array_equal(execute(compile_text(text), x, count), want)
    np.testing.assert_array_equal(execute(small, x, count), want)


def test_guarded_definitions_keep_the_old_value_where_predicated_off():
    # Each accumulator is written by @P / @!P copies: a spilled one must be reloaded
    # before a guarded write so the store after it keeps the old value in the off lanes.
    count = 20
    text = accumulators(count, guarded=True)
    small = compile_text(text, 16)
    assert small.registers <= 16 and spill_code(small)
    check_frame(small)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((THREADS, 6)).astype(np.float32)
    want = reference(x, count, guarded=True)
    np.testing.assert_array_equal(execute(compile_text(text), x, count), want)
    np.testing.assert_array_equal(execute(small, x, count), want)


def test_spill_frame_sits_above_the_kernels_local_arrays():
    # A local array at offset 0 and spill slots at the top: neither overwrites the other.
    text = accumulators(16).replace(
        "  %t = thread_idx x : i32",
        "  %t = thread_idx x : i32\n  %loc = local_alloc : array<f32, [3], local>")
    text = text.replace("  return\n}", "  %w = load %loc[%one] : f32\n"
                        "  store %out[%t, %z], %w\n  return\n}")
    text = text.replace("    %v = load %x[%t, %j] : f32",
                        "    %v = load %x[%t, %j] : f32\n    store %loc[%one], %v")
    small = compile_text(text, 12)
    assert spill_code(small)
    check_frame(small)
    slots = [small.local_bytes + i.operands[0].offset for i in spill_code(small)
             if i.opcode == "STL" and i.operands[0].reg == 1]
    assert min(slots) >= 12  # above the three floats of the array
    rng = np.random.default_rng(3)
    x = rng.standard_normal((THREADS, 4)).astype(np.float32)
    want = reference(x, 16)
    want[:, 0] = x[:, -1]  # the local array holds the last element loaded
    np.testing.assert_array_equal(execute(compile_text(text), x, 16), want)
    np.testing.assert_array_equal(execute(small, x, 16), want)


def test_without_spilling_running_out_is_an_error_and_budgets_are_checked():
    a, b = VReg(1), VReg(2)
    code = [make("MOV", d=a, b=Imm(1)), make("MOV", d=b, b=Imm(2)),
            make("IADD3", d=a, a=a, b=b, c=RZ_REG), make("STS", addr=MAddr(None, 0), v=a),
            make("EXIT")]
    assert assign(code, max_registers=8).frame_bytes == 0
    with pytest.raises(CompilerError, match="budget"):
        assign(code, max_registers=4)
    with pytest.raises(CompilerError, match="budget"):
        compile_function(parse_function(accumulators(2)), max_registers=256)


def test_straight_line_values_beyond_the_register_file_spill():
    # 300 values live at once: an error without spilling, slots in local memory with it.
    values = [VReg(k) for k in range(1, 301)]
    acc = VReg(1000)
    code = [make("MOV", d=v, b=Imm(k)) for k, v in enumerate(values)]
    code.append(make("MOV", d=acc, b=RZ_REG))
    code += [make("IADD3", d=acc, a=acc, b=v, c=RZ_REG) for v in values]
    code += [make("STS", addr=MAddr(None, 0), v=acc), make("EXIT")]
    with pytest.raises(CompilerError, match="more than 255 registers"):
        assign(code)
    result = assign(code, spill=True)
    assert result.registers <= 255
    stores = [i for i in result.instructions if i.opcode == "STL"]
    loads = [i for i in result.instructions if i.opcode == "LDL"]
    # at least the 300 - 253 values that cannot stay in registers go to memory, each
    # stored once and loaded once, in slots of their own
    assert len(stores) == len(loads) >= 300 - 253
    offsets = [i.operands[0].offset for i in stores]
    assert len(set(offsets)) == len(offsets)
    assert result.frame_bytes == 4 * len(stores) + (4 * len(stores)) % 8


ROWS = 24


@wf.kernel
def horner(x: wf.f32[:], out: wf.f32[:, :], n: wf.i32):
    t = wf.thread_idx.x
    acc = wf.local(24, wf.f32)
    for k in wf.static_range(24):
        acc[k] = 0.0
    for j in range(n):
        v = x[t * n + j]
        for k in wf.static_range(24):
            acc[k] = acc[k] * v + (k + 1.0)
    for k in wf.static_range(24):
        out[t, k] = acc[k]


def test_dsl_local_array_promoted_to_registers_spills_under_a_budget():
    func = build_function(horner.fn, {"x": wf.f32[:], "out": wf.f32[:, :], "n": wf.i32}, {})
    optimize(func, module=getattr(func, "module", None))
    assert not any(op.name == "local_alloc" for op in func.walk())  # promoted
    full = compile_function(func)
    small = compile_function(func, max_registers=16)
    assert assemble(str(small)) == small
    assert not spill_code(full) and full.local_bytes == 0
    assert small.registers <= 16 and small.local_bytes > 0
    check_frame(small)
    n = 3
    rng = np.random.default_rng(2)
    x = rng.standard_normal(THREADS * n).astype(np.float32)
    want = np.zeros((THREADS, ROWS), np.float32)
    for j in range(n):
        v = x[np.arange(THREADS) * n + j]
        for k in range(ROWS):
            want[:, k] = fma32(want[:, k], v, np.float32(k + 1.0))
    for program in (full, small):
        out = np.zeros((THREADS, ROWS), np.float32)
        run(program, 1, THREADS, x, out, np.int32(n))
        np.testing.assert_array_equal(out, want)


def test_default_budget_does_not_spill_the_examples():
    from ..e2e.test_golden import CASES, assembly

    for name in sorted(CASES):
        text = assembly(name)
        assert "STL" not in text and "LDL" not in text, name
        assert assemble(text).local_bytes == 0, name
