"""Numba's typing rules under ``warpforge.cuda`` (not the language's): literals are int64
and float64 and promote like typed values, ``/`` of integers is float64, Python scalars
pass as int64/float64; and Numba's API that warpforge lacks is a clear error naming it."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf
from warpforge import cuda
from warpforge.compiler.ir import types as ir


@cuda.jit
def accumulate(x, out):
    acc = 0.0
    for i in range(x.size):
        acc += x[i]
    out[0] = acc


@cuda.jit
def literal_types(x, out_f, out_i):
    i = cuda.grid(1)
    if i == 0:
        out_f[0] = x[0] * 0.1
        out_f[1] = 7 / 2
        out_i[0] = 2**40 + 5
        out_i[1] = (2**33) * 3 // 5


def ir_of(kernel, *args) -> str:
    values = [np.float64(a) if isinstance(a, float) else a for a in args]
    return kernel.kernel.compile(*values).ir


def test_float_accumulator_of_float32_elements_is_float64():
    x = np.full(10_000, 0.1, np.float32)
    out = np.zeros(1)
    with wf.device("cpu"):
        accumulate[1, 1](x, out)
    assert out[0] == x.astype(np.float64).sum()  # float32 accumulation would differ
    text = ir_of(accumulate, x, out)
    assert "add" in text and ": f64" in text and "iter(" in text


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_literals_are_int64_and_float64(dev):
    x = np.array([3.0], np.float32)
    out_f, out_i = np.zeros(2), np.zeros(2, np.int64)
    with wf.device(dev):
        literal_types[1, 32](x, out_f, out_i)
    assert out_f[0] == np.float64(np.float32(3.0)) * 0.1  # in float64, not float32
    assert out_f[1] == 3.5
    assert out_i.tolist() == [2**40 + 5, (2**33) * 3 // 5]


def test_the_dialect_is_numba_and_the_language_keeps_its_own():
    from warpforge.dsl.frontend.promotion import NUMBA, WARPFORGE
    assert accumulate.kernel.dialect is NUMBA
    assert NUMBA.int_literal is ir.i64 and NUMBA.float_literal is ir.f64
    assert WARPFORGE.float_literal is ir.f32

    @wf.kernel
    def native(x: wf.f32[:], out: wf.f32[:]):
        out[0] = x[0] * 0.1
    assert "f64" not in native.ir(np.zeros(1, np.float32), np.zeros(1, np.float32))


@cuda.jit
def loop_counters(x, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        acc = 0
        for j in range(16):                  # int64 by Numba's rules, counted in 32 bits
            acc += x[j] * (j << 36)          # ... the variable itself still int64
        for k in range(2**31 - 2, 2**31 + 2):  # past int32: stays a 64-bit counter
            acc += k
        out[i] = acc


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_small_constant_ranges_count_in_32_bits_with_int64_values(dev):
    x = np.arange(1, 17, dtype=np.int64)
    out = np.zeros(40, np.int64)
    with wf.device(dev):
        loop_counters[2, 32](x, out)
    expected = sum(int(x[j]) * (j << 36) for j in range(16)) + sum(range(2**31 - 2, 2**31 + 2))
    assert out.tolist() == [expected] * 40
    if dev == "sim":
        loops = [text[:text.index("BRA")]
                 for text in loop_counters.kernel.asm(x, out).split("\n.L_loop")[1:]]
        assert len(loops) == 2
        assert loops[0].count("ISETP") == 1 and "ISETP.LT.AND" in loops[0]  # 32-bit test
        assert loops[1].count("ISETP") == 3 and "ISETP.EQ.U32" in loops[1]  # 64-bit test


def test_python_scalars_pass_as_int64_and_float64():
    @cuda.jit
    def store(a, b, out):
        out[0] = a
        out[1] = b
    out = np.zeros(2)
    with wf.device("cpu"):
        store[1, 1](2**40, 0.1, out)
    assert out.tolist() == [2.0**40, 0.1]


def test_unsupported_host_api_names_the_feature():
    with pytest.raises(cuda.NumbaFeatureError, match=r"numba\.cuda\.mapped_array_like"):
        _ = cuda.mapped_array_like
    assert not hasattr(cuda, "gpus")
    with pytest.raises(wf.WarpforgeError, match="link"):
        cuda.jit(link=["kernel.ptx"])(lambda: None)


def test_unsupported_kernel_api_is_a_compile_error_naming_it():
    @cuda.jit
    def uses_cooperative_groups(x):
        g = cuda.cg.this_grid()
        g.sync()
    with pytest.raises(wf.CompileError, match="cg"):
        uses_cooperative_groups[1, 1](np.zeros(1))


def test_launch_without_configuration_says_how():
    with pytest.raises(wf.LaunchError, match=r"accumulate\[blocks, threads\]"):
        accumulate(np.zeros(1), np.zeros(1))
