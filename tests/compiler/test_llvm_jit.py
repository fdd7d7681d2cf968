"""The native JIT: optimizing, emitting and loading LLVM modules for the host CPU, checked
on hand-built modules that follow the CPU entry ABI (no lowering involved)."""

from __future__ import annotations

import ctypes
import sys
import threading

import llvmlite
import llvmlite.binding as llvm
import llvmlite.ir as ir
import numpy as np
import pytest

from warpforge.compiler.errors import CompilerError
from warpforge.compiler.llvm import jit

from .jit_support import I32, expf_module, saxpy_module


def _run_saxpy(fn: jit.NativeFunction, a: float, x: np.ndarray, y: np.ndarray,
               block: int = 64) -> int:
    """Call a saxpy entry over every CTA of the grid; returns its status."""
    n = len(x)
    ctas = (n + block - 1) // block
    slots = np.zeros(11, np.uint64)
    slots.view(np.float32)[0] = a
    slots[1], slots[4] = x.ctypes.data, y.ctypes.data
    ints = slots.view(np.int32)
    ints[2 * 2], ints[2 * 3] = n, x.strides[0] // x.itemsize
    ints[2 * 5], ints[2 * 6] = len(y), y.strides[0] // y.itemsize
    ints[2 * 7] = n
    slots.view(np.int64)[8:] = (ctas, 1, 1)
    fault = np.zeros(8, np.int64)
    arena = np.zeros(64, np.uint8)
    return fn(slots.ctypes.data, arena.ctypes.data, 0, ctas, fault.ctypes.data)


def test_host_signature_names_the_cpu_llvmlite_and_the_vector_math_library():
    cpu, features, version, vector_math = jit.host_signature().split(";")
    assert cpu == llvm.get_host_cpu_name()
    assert features == llvm.get_host_cpu_features().flatten()
    assert version == f"llvmlite {llvmlite.__version__}"
    assert vector_math == f"libmvec {','.join(jit.vector_isas()) or 'none'}"


def test_vector_math_variants_need_the_matching_instruction_set():
    features = set(jit.host_signature().split(";")[1].split(","))
    needs = {"e": "+avx512f", "d": "+avx2", "b": "+sse2"}
    assert all(needs[isa] in features for isa in jit.vector_isas())


def test_host_lanes_follow_avx512():
    features = jit.host_signature().split(";")[1].split(",")
    assert jit.host_lanes() == (16 if "+avx512f" in features else 8)


def test_optimize_sets_the_host_triple_and_layout_and_keeps_the_entry():
    text = jit.optimize(saxpy_module())
    tm = jit.target_machine()
    assert f'target triple = "{tm.triple}"' in text
    assert f'target datalayout = "{tm.target_data}"' in text
    assert "define" in text and "@saxpy_ctas" in text


def test_optimize_accepts_text_and_folds_constants():
    module = ir.Module()
    fn = ir.Function(module, ir.FunctionType(I32, [I32]), "f")
    b = ir.IRBuilder(fn.append_basic_block())
    doubled = b.add(fn.args[0], fn.args[0])
    b.ret(b.sub(b.mul(doubled, ir.Constant(I32, 3)), b.mul(fn.args[0], ir.Constant(I32, 6))))
    text = jit.optimize(str(module))
    body = text[text.index("define"):]
    assert "ret i32 0" in body  # 2x*3 - 6x folded away
    assert "mul" not in body


def test_invalid_ir_text_is_a_compiler_error():
    with pytest.raises(CompilerError, match="invalid LLVM IR"):
        jit.optimize("define i32 @f() {\n  ret i64 0\n}\n")


def test_unverifiable_module_is_a_compiler_error():
    module = ir.Module()
    fn = ir.Function(module, ir.FunctionType(I32, []), "f")
    fn.append_basic_block("no_terminator")  # a block must end with a terminator
    with pytest.raises(CompilerError):
        jit.optimize(module)
    with pytest.raises(CompilerError):
        jit.emit_object(str(module))


def test_emit_object_and_assembly():
    text = jit.optimize(saxpy_module())
    data = jit.emit_object(text)
    assert isinstance(data, bytes) and len(data) > 100
    if sys.platform.startswith("linux"):
        assert data[:4] == b"\x7fELF"
    asm = jit.emit_assembly(text)
    assert "saxpy_ctas" in asm


def test_load_and_call_saxpy_matches_numpy():
    fn = jit.load(jit.emit_object(jit.optimize(saxpy_module())), "saxpy_ctas")
    assert fn.address != 0 and fn.name == "saxpy_ctas"
    x = np.arange(1000, dtype=np.float32)
    y = np.linspace(-1, 1, 1000).astype(np.float32)
    expect = np.float32(2.5) * x + y
    assert _run_saxpy(fn, 2.5, x, y) == 0
    np.testing.assert_array_equal(y, expect)


def test_loaded_entry_releases_the_gil():
    fn = jit.load(jit.emit_object(jit.optimize(saxpy_module())), "saxpy_ctas")
    # PYFUNCTYPE prototypes carry the Python-API flag and keep the GIL; CFUNCTYPE's do not.
    assert not fn.call._flags_ & ctypes._FUNCFLAG_PYTHONAPI


def test_one_object_loads_twice_independently():
    data = jit.emit_object(jit.optimize(saxpy_module(name="twice")))
    first, second = jit.load(data, "twice"), jit.load(data, "twice")
    assert first.address != second.address
    x = np.ones(100, np.float32)
    y1, y2 = np.zeros(100, np.float32), np.full(100, 3, np.float32)
    assert _run_saxpy(first, 2.0, x, y1) == 0
    del first  # unloading one library leaves the other working
    assert _run_saxpy(second, 2.0, x, y2) == 0
    np.testing.assert_array_equal(y1, 2.0)
    np.testing.assert_array_equal(y2, 5.0)


def test_libm_symbols_resolve_from_the_process():
    fn = jit.load(jit.emit_object(jit.optimize(expf_module())), "call_expf")
    call = ctypes.CFUNCTYPE(ctypes.c_float, ctypes.c_float)(fn.address)
    for v in (0.0, 1.0, -3.5, 10.0):
        assert call(v) == pytest.approx(float(np.exp(np.float32(v))), rel=1e-6)


def test_missing_entry_is_a_compiler_error():
    data = jit.emit_object(jit.optimize(saxpy_module()))
    with pytest.raises(CompilerError, match="no_such_symbol"):
        jit.load(data, "no_such_symbol")


def test_compiling_from_several_threads_is_safe():
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def build(k: int) -> None:
        try:
            fn = jit.load(jit.emit_object(jit.optimize(saxpy_module(name=f"t{k}"))), f"t{k}")
            x = np.arange(300, dtype=np.float32)
            y = np.full(300, k, np.float32)
            _run_saxpy(fn, float(k), x, y)
            results[k] = y
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=build, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, y in results.items():
        np.testing.assert_array_equal(y, np.float32(k) * np.arange(300, dtype=np.float32) + k)
    assert sorted(results) == [0, 1, 2, 3]
