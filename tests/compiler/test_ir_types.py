"""IR types: scalar singletons, array types, equality, hashing, printing, validation."""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.compiler.ir import (
    SCALAR_TYPES,
    AddressSpace,
    ArrayType,
    ScalarKind,
    ScalarType,
    bool_,
    f16,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
)

SHARED = AddressSpace.SHARED


def test_every_scalar_is_listed_by_its_name():
    assert list(SCALAR_TYPES) == ["bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64",
                                  "f16", "f32", "f64"]
    for name, t in SCALAR_TYPES.items():
        assert t.name == name and str(t) == name


@pytest.mark.parametrize("t", [t for t in SCALAR_TYPES.values() if not t.is_bool])
def test_numpy_dtype_matches_bits_and_kind(t):
    dtype = t.np_dtype
    assert dtype.itemsize * 8 == t.bits == t.itemsize * 8
    expected_kind = {"i": ScalarKind.INT, "u": ScalarKind.UINT, "f": ScalarKind.FLOAT}
    assert expected_kind[dtype.kind] is t.kind


def test_bool_is_one_bit_stored_in_a_byte():
    assert (bool_.bits, bool_.itemsize, bool_.np_dtype) == (1, 1, np.dtype(bool))
    assert bool_.is_bool and not bool_.is_int and not bool_.is_arithmetic


def test_integer_ranges():
    assert (i32.min, i32.max) == (-(2**31), 2**31 - 1)
    assert (u32.min, u32.max) == (0, 2**32 - 1)
    assert (i64.min, u64.max) == (-(2**63), 2**64 - 1)
    assert (i8.min, u8.max) == (-128, 255)


def test_kind_predicates():
    assert i32.is_signed and not u32.is_signed and f32.is_signed
    assert f16.is_float and not i32.is_float
    assert all(t.is_storage_only for t in (i8, u8, i16, u16))
    assert not any(t.is_storage_only for t in (i32, u64, f16, bool_))
    assert all(t.is_arithmetic for t in (i32, u32, i64, u64, f16, f32, f64))
    assert not any(t.is_arithmetic for t in (i8, u16, bool_))


def test_scalars_compare_and_hash_by_value():
    twin = ScalarType("f32", 32, ScalarKind.FLOAT, "float32")
    assert twin == f32 and hash(twin) == hash(f32)
    assert f32 != i32 and {f32, twin, i32} == {f32, i32}


def test_array_types_print():
    assert str(ArrayType(f32, 1)) == "array<f32, 1, global>"
    assert str(ArrayType(i32, 2)) == "array<i32, 2, global>"
    assert str(ArrayType.static(f16, (16, 17), SHARED)) == "array<f16, [16, 17], shared>"
    assert str(ArrayType.static(u8, (4,), AddressSpace.LOCAL)) == "array<u8, [4], local>"


def test_array_types_compare_and_hash_by_value():
    a = ArrayType(f32, 2)
    assert a == ArrayType(f32, 2, AddressSpace.GLOBAL) and hash(a) == hash(ArrayType(f32, 2))
    assert a != ArrayType(f32, 1)
    assert a != ArrayType(f32, 2, SHARED)
    assert a != ArrayType(i32, 2)
    assert ArrayType.static(f32, (2, 3), SHARED) != ArrayType(f32, 2, SHARED)
    assert ArrayType(f32, 2, SHARED, [2, 3]) == ArrayType.static(f32, (2, 3), SHARED)


def test_static_array_sizes():
    t = ArrayType.static(f64, (8, 3), SHARED)
    assert (t.ndim, t.shape, t.size, t.nbytes) == (2, (8, 3), 24, 192)
    assert ArrayType(f32, 1).size is None and ArrayType(f32, 1).nbytes is None


@pytest.mark.parametrize("make, message", [
    (lambda: ArrayType(f32, 0), "positive int"),
    (lambda: ArrayType(f32, 2, SHARED, (4,)), "does not have 2 positive extents"),
    (lambda: ArrayType(f32, 1, SHARED, (0,)), "positive extents"),
    (lambda: ArrayType(ArrayType(f32, 1), 1), "must be a scalar type"),
    (lambda: ArrayType(f32, 1, "global"), "AddressSpace"),
])
def test_bad_array_types_are_refused(make, message):
    with pytest.raises(TypeError, match=message):
        make()
