"""Launching: dimensions, argument packing into constant bank 0, argument errors.

The bank layout is the sm_80 ABI of ``reference/ptxas-sm80.md``: blockDim at 0x0, gridDim
at 0xc, the stack pointer at 0x28, parameters from 0x160, each aligned to its own size. The
expected bytes are built here with ``struct`` from that rule, not from ``isa.abi``.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.simulator import DeviceArray, LaunchError

from .sim_support import device, kernel

FORMATS = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "f16": "e", "i32": "i",
           "u32": "I", "f32": "f", "i64": "q", "u64": "Q", "f64": "d"}
PARAM_BASE = 0x160


def layout(types: list[str]) -> list[int]:
    """Offsets of parameters of these types: from 0x160, each aligned to its size."""
    offsets, cursor = [], PARAM_BASE
    for t in types:
        size = 8 if t.endswith("*") else struct.calcsize(FORMATS[t])
        cursor = -(-cursor // size) * size
        offsets.append(cursor)
        cursor += size
    return offsets


def dump_kernel(types: list[str], local: int = 0):
    """A kernel whose thread i copies word i of constant bank 0 into ``out[i]``; its
    parameters are ``types`` followed by ``out``."""
    out_offset = layout([*types, "u32*"])[-1]
    params = "".join(f".param p{i} {t}\n" for i, t in enumerate(types))
    return kernel(f"""\
        .kernel dump
        {params}.param out u32*
        .local {local}
                {{V}}  S2R R0, SR_TID.X ;
                {{W}}  SHF.L.U32 R1, R0, 0x2, RZ ;
                {{V}}  LDC R4, c[0x0][R1] ;
                {{A}}  MOV R5, 0x4 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R5, c[0x0][{out_offset:#x}] ;
                {{W}}  STG.E [R2.64], R4 ;
                {{A}}  EXIT ;
        """)


def dump(types: list[str], values: list, grid=1, block=None, local: int = 0) -> bytes:
    """Constant bank 0 as the kernel saw it, up to the end of the parameters."""
    end = layout([*types, "u32*"])[-1] + 8
    words = end // 4
    out = np.zeros(words, np.uint32)
    sim = device()
    sim.launch(dump_kernel(types, local), grid, block or words, [*values, out])
    return out.tobytes()


def test_header_holds_block_and_grid_dims_and_stack_pointer():
    types = ["i32"]
    end = layout([*types, "u32*"])[-1] + 8
    words = end // 4
    bank = dump(types, [7], grid=(3, 2, 1), block=(words, 1, 1), local=48)
    assert struct.unpack_from("<6I", bank, 0) == (words, 1, 1, 3, 2, 1)
    assert struct.unpack_from("<I", bank, 0x28) == (48,)


ALL_SCALARS = [("i8", -5), ("u8", 250), ("i16", -30000), ("u16", 65000), ("f16", 1.5),
               ("i32", -123456789), ("u32", 4000000000), ("f32", -2.75),
               ("i64", -(2**40) - 3), ("u64", 2**63 + 11), ("f64", 3.141592653589793)]


def test_every_scalar_type_is_packed_at_its_aligned_offset():
    types = [t for t, _ in ALL_SCALARS]
    values = [v for _, v in ALL_SCALARS]
    bank = dump(types, values)
    for (t, v), off in zip(ALL_SCALARS, layout(types), strict=True):
        assert struct.unpack_from("<" + FORMATS[t], bank, off) == (v,), t


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(sorted(FORMATS)), min_size=1, max_size=6), st.data())
def test_any_parameter_list_packs_like_the_abi(types, data):
    values = []
    for t in types:
        if t.startswith("f"):
            values.append(data.draw(st.sampled_from([0.0, -1.0, 0.5, 1000.0, -0.25])))
        else:
            bits = int(t[1:])
            lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if t[0] == "i" else (
                0, 2**bits - 1)
            values.append(data.draw(st.integers(lo, hi)))
    bank = dump(types, values)
    for t, v, off in zip(types, values, layout(types), strict=True):
        assert struct.unpack_from("<" + FORMATS[t], bank, off) == (v,)


def test_numpy_scalars_and_bools_are_accepted():
    types = ["i32", "f32", "u8", "f64"]
    values = [np.int16(-7), np.float32(0.25), True, np.float32(1.5)]
    bank = dump(types, values)
    offs = layout(types)
    assert struct.unpack_from("<i", bank, offs[0]) == (-7,)
    assert struct.unpack_from("<f", bank, offs[1]) == (0.25,)
    assert struct.unpack_from("<B", bank, offs[2]) == (1,)
    assert struct.unpack_from("<d", bank, offs[3]) == (1.5,)


def test_pointer_params_pass_device_addresses_of_distinct_allocations():
    sim = device()
    a = sim.to_device(np.zeros(4, np.float32))
    b = sim.to_device(np.zeros(4, np.float32))
    types = ["f32*", "f32*"]
    words = (layout([*types, "u32*"])[-1] + 8) // 4
    out = np.zeros(words, np.uint32)
    sim.launch(dump_kernel(types), 1, words, [a, b, out])
    offs = layout(types)
    bank = out.tobytes()
    assert struct.unpack_from("<Q", bank, offs[0]) == (a.ptr,)
    assert struct.unpack_from("<Q", bank, offs[1]) == (b.ptr,)
    assert a.ptr % 256 == 0 and b.ptr % 256 == 0 and a.ptr != b.ptr


INCREMENT = """\
    .kernel inc
    .param n i32
    .param x f32*
            {V}  S2R R0, SR_TID.X ;
            {WV}  S2R R4, SR_CTAID.X ;
            {W}  IMAD R0, R4, c[0x0][0x0], R0 ;
            {G}  ISETP.GE.AND P0, PT, R0, c[0x0][0x160], PT ;
            {A}  @P0 EXIT ;
            {A}  MOV R5, 0x4 ;
            {A}  IMAD.WIDE R2, R0, R5, c[0x0][0x168] ;
            {V}  LDG.E R4, [R2.64] ;
            {W}  FADD R4, R4, 1 ;
            {A}  STG.E [R2.64], R4 ;
            {A}  EXIT ;
    """


def test_arrays_are_copied_back_into_the_same_array():
    x = np.arange(100, dtype=np.float32)
    before = x.copy()
    ident = id(x)
    device().launch(kernel(INCREMENT), 4, 32, [100, x])
    assert id(x) == ident
    np.testing.assert_array_equal(x, before + 1)


def test_non_contiguous_arrays_are_updated_in_place():
    base = np.arange(200, dtype=np.float32).reshape(10, 20)
    view = base[:, ::2]  # strided view: 10 x 10
    expected = base.copy()
    expected[:, ::2] += 1
    device().launch(kernel(INCREMENT), 4, 32, [100, view])
    np.testing.assert_array_equal(base, expected)


def test_fortran_ordered_arrays_are_seen_in_row_major_order():
    x = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    expected = x + np.float32(1)
    device().launch(kernel(INCREMENT), 1, 12, [6, x])  # first 6 of the C-order elements
    flat = np.ascontiguousarray(expected).reshape(-1)
    flat[6:] -= 1
    np.testing.assert_array_equal(x, flat.reshape(3, 4))


def test_device_array_is_resident_across_launches_and_host_copy_is_separate():
    sim = device()
    host = np.arange(64, dtype=np.float32)
    x = sim.to_device(host)
    prog = kernel(INCREMENT)
    sim.launch(prog, 2, 32, [64, x])
    sim.launch(prog, 2, 32, [64, x])
    np.testing.assert_array_equal(x.copy_to_host(), np.arange(64, dtype=np.float32) + 2)
    np.testing.assert_array_equal(host, np.arange(64, dtype=np.float32))


@pytest.mark.parametrize("grid, expected", [
    (5, (5, 1, 1)), ((5,), (5, 1, 1)), ((2, 3), (2, 3, 1)), ((2, 3, 4), (2, 3, 4)),
    (np.int64(2), (2, 1, 1)),
])
def test_grid_forms(grid, expected):
    res = device().launch(kernel(".kernel k\n        {A}  EXIT ;\n"), grid, 32, [])
    assert res.stats["grid"] == expected
    assert res.stats["ctas"] == int(np.prod(expected))


@pytest.mark.parametrize("bad", [(1, 2, 3, 4), (), 2.0, "4", (2, 1.5), None, (True,)])
def test_bad_dimension_forms_are_launch_errors(bad):
    prog = kernel(".kernel k\n        {A}  EXIT ;\n")
    with pytest.raises(LaunchError, match="grid must be an int or a tuple of 1 to 3 ints"):
        device().launch(prog, bad, 32, [])
    with pytest.raises(LaunchError, match="block must be"):
        device().launch(prog, 1, bad, [])


TWO = kernel("""\
    .kernel two
    .param n i32
    .param x f32*
            {A}  EXIT ;
    """)


def test_missing_argument_is_named():
    with pytest.raises(LaunchError, match=r"takes 2 arguments, got 1: missing 'x'"):
        device().launch(TWO, 1, 1, [3])


def test_extra_argument_is_reported():
    with pytest.raises(LaunchError, match=r"takes 2 arguments \(n, x\), got 3: 1 extra"):
        device().launch(TWO, 1, 1, [3, np.zeros(1, np.float32), 4])


def test_array_dtype_mismatch_names_parameter_and_both_types():
    with pytest.raises(LaunchError) as err:
        device().launch(TWO, 1, 1, [3, np.zeros(4, np.float64)])
    text = str(err.value)
    assert "'x'" in text and "f32*" in text and "float32" in text and "float64" in text


@pytest.mark.parametrize("value, words", [
    (2.5, "takes an integer, got float"),
    (np.zeros(3, np.int32), "takes a scalar, got ndarray"),
    (2**31, "does not fit"),
    (-(2**31) - 1, "does not fit"),
    ("3", "takes an integer, got str"),
    (None, "takes an integer, got NoneType"),
])
def test_bad_scalar_for_i32_is_named(value, words):
    with pytest.raises(LaunchError, match=words) as err:
        device().launch(TWO, 1, 1, [value, np.zeros(1, np.float32)])
    assert "'n' (i32)" in str(err.value)


@pytest.mark.parametrize("t, value, words", [
    ("u8", 256, "does not fit"), ("u32", -1, "does not fit"), ("i8", -129, "does not fit"),
    ("f16", 1e6, "overflows f16"), ("f32", 1e39, "overflows f32"),
    ("f32", "x", "takes a number"), ("f64", True, "takes a number"),
    ("u64", 2**64, "does not fit"),
])
def test_scalar_range_and_kind_errors(t, value, words):
    prog = kernel(f".kernel k\n.param v {t}\n        {{A}}  EXIT ;\n")
    with pytest.raises(LaunchError, match=words):
        device().launch(prog, 1, 1, [value])


def test_device_array_of_wrong_dtype_or_freed_or_foreign_is_rejected():
    sim = device()
    wrong = sim.to_device(np.zeros(4, np.int32))
    with pytest.raises(LaunchError, match="DeviceArray of int32"):
        sim.launch(TWO, 1, 1, [1, wrong])
    freed = sim.to_device(np.zeros(4, np.float32))
    freed.free()
    with pytest.raises(LaunchError, match="freed"):
        sim.launch(TWO, 1, 1, [1, freed])
    other = device().to_device(np.zeros(4, np.float32))
    with pytest.raises(LaunchError, match="another device"):
        sim.launch(TWO, 1, 1, [1, other])
    assert isinstance(other, DeviceArray)


def test_pointer_param_rejects_lists_and_strings():
    with pytest.raises(LaunchError, match=r"'x'.*takes a numpy array"):
        device().launch(TWO, 1, 1, [1, [1.0, 2.0]])


def test_failed_packing_frees_the_staged_arrays():
    sim = device()
    before = len(sim.memory.allocations)
    prog = kernel(".kernel k\n.param x f32*\n.param n i32\n        {A}  EXIT ;\n")
    with pytest.raises(LaunchError):
        sim.launch(prog, 1, 1, [np.zeros(4, np.float32), 1.5])
    assert len(sim.memory.allocations) == before


def test_launch_frees_staged_arrays_after_success():
    sim = device()
    sim.launch(kernel(INCREMENT), 1, 32, [4, np.zeros(4, np.float32)])
    assert sim.memory.allocations == []


SHIFTED = """\
    .kernel shifted
    .param x f32*
    .param y f32*
            {V}  S2R R0, SR_TID.X ;
            {A}  MOV R5, 0x4 ;
            {W}  IMAD.WIDE R2, R0, R5, c[0x0][0x160] ;
            {A}  IMAD.WIDE R6, R0, R5, c[0x0][0x168] ;
            {V}  LDG.E R4, [R2.64] ;
            {W}  FADD R4, R4, 1 ;
            {A}  STG.E [R6.64], R4 ;
            {A}  EXIT ;
    """


def test_one_array_passed_twice_is_one_allocation():
    x = np.arange(32, dtype=np.float32)
    device().launch(kernel(SHIFTED), 1, 32, [x, x])
    np.testing.assert_array_equal(x, np.arange(32, dtype=np.float32) + 1)


def test_overlapping_distinct_arrays_are_rejected():
    x = np.arange(64, dtype=np.float32)
    with pytest.raises(LaunchError, match=r"'y'.*overlaps another array argument"):
        device().launch(kernel(SHIFTED), 1, 32, [x[:40], x[32:]])
    device().launch(kernel(SHIFTED), 1, 32, [x[::2], x[1::2]])  # interleaved: disjoint
    np.testing.assert_array_equal(x[1::2], np.arange(0, 64, 2, dtype=np.float32) + 1)
