"""DSL types, launch-argument type inference, intrinsics outside kernels, @wf.func."""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.compiler.ir import types as ir
from warpforge.dsl import types as wt
from warpforge.dsl.errors import OutsideKernelError
from warpforge.dsl.func import is_device_function

from .support import wf


@pytest.mark.parametrize(("dsl", "irt"), [
    (wt.f32, ir.f32), (wt.f16, ir.f16), (wt.f64, ir.f64), (wt.i32, ir.i32),
    (wt.u32, ir.u32), (wt.i64, ir.i64), (wt.bool_, ir.bool_)])
def test_scalar_types_wrap_ir_types(dsl, irt):
    assert wt.to_ir(dsl) is irt
    assert wt.from_ir(irt) is dsl


def test_array_types():
    assert wt.to_ir(wt.f32[:]) == ir.ArrayType(ir.f32, 1, ir.AddressSpace.GLOBAL)
    assert wt.to_ir(wt.i32[:, :]) == ir.ArrayType(ir.i32, 2)
    assert str(wt.f32[:, :]) == "f32[:, :]"
    with pytest.raises(TypeError, match=r"f32\[:\]"):
        wt.f32[3]


def test_calling_a_type_outside_a_kernel_converts():
    value = wt.f32(1.1)
    assert isinstance(value, np.float32) and value == np.float32(1.1)
    assert isinstance(wt.i32(-5), np.int32) and wt.i32(-5) == -5
    assert isinstance(wt.u32(7), np.uint32)


@pytest.mark.parametrize(("value", "expected"), [
    (np.zeros(3, np.float32), wt.f32[:]), (np.zeros((2, 3), np.int32), wt.i32[:, :]),
    (np.zeros(3, np.float64), wt.f64[:]), (np.zeros(3, np.bool_), wt.bool_[:]),
    (np.zeros(3, np.uint32), wt.u32[:]), (np.zeros(3, np.int64), wt.i64[:]),
    (np.zeros(3, np.float16), wt.f16[:]),
    (3, wt.i32), (2.5, wt.f32), (True, wt.bool_),
    (np.float64(1), wt.f64), (np.int64(1), wt.i64), (np.uint32(1), wt.u32)])
def test_from_value(value, expected):
    assert wt.from_value(value) == expected


def test_from_value_rejects_unsupported_dtypes_by_name():
    with pytest.raises(TypeError, match="complex128"):
        wt.from_value(np.zeros(2, np.complex128))
    with pytest.raises(TypeError, match=r"float128|longdouble"):
        wt.from_value(np.zeros(2, np.longdouble))
    with pytest.raises(TypeError, match="str"):
        wt.from_value("hello")


@pytest.mark.parametrize("call", [
    lambda: wf.syncthreads(), lambda: wf.lane_id(), lambda: wf.thread_idx.x,
    lambda: wf.block_dim.y, lambda: wf.exp(1.0), lambda: wf.atomic_add(None, 0, 1)])
def test_intrinsics_outside_kernels_raise(call):
    with pytest.raises(OutsideKernelError, match=r"inside a @wf\.kernel"):
        call()


def test_dim3_rejects_other_attributes():
    with pytest.raises(AttributeError, match=r"x, \.y or \.z"):
        wf.thread_idx.w  # noqa: B018


def test_func_marks_and_keeps_the_function():
    @wf.func
    def twice(x):
        return 2 * x

    assert is_device_function(twice)
    assert twice(3) == 6
    assert not is_device_function(lambda x: x)
