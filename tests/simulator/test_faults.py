"""Memory faults: what is reported (modelled on compute-sanitizer's report lines,
gpu-facts.md) and that a faulting launch leaves the caller's arrays untouched."""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.simulator import MemoryFault, SimulatorError

from .sim_support import device, kernel

COPY = """\
    .kernel copy
    .param n i32
    .param x f32*
    .param y f32*
            {V}  S2R R0, SR_TID.X ;
            {WV}  S2R R1, SR_CTAID.X ;
            {W}  IMAD R0, R1, c[0x0][0x0], R0 ;
            {G}  ISETP.GE.AND P0, PT, R0, c[0x0][0x160], PT ;
            {A}  @P0 EXIT ;
            {A}  MOV R5, 0x4 ;
            {A}  IMAD.WIDE R2, R0, R5, c[0x0][0x168] ;
            {A}  IMAD.WIDE R6, R0, R5, c[0x0][0x170] ;
            {V}  LDG.E R4, [R2.64] ;
            {W}  STG.E [R6.64], R4 ;
            {A}  EXIT ;
    """


def test_out_of_bounds_read_names_everything():
    sim = device()
    x = sim.to_device(np.zeros(100, np.float32))
    y = np.zeros(128, np.float32)
    with pytest.raises(MemoryFault) as info:
        sim.launch(kernel(COPY), 2, 64, [128, x, y])
    err = info.value
    assert err.kernel == "copy" and err.pc == 8 and err.offset == 0x80
    assert err.instruction == "LDG.E R4, [R2.64]"
    # The first faulting thread is global thread 100: thread 36 of block 1.
    assert err.thread == (36, 0, 0) and err.block == (1, 0, 0)
    assert err.address == x.ptr + 400
    assert (err.space, err.access, err.size) == ("global", "read", 4)
    assert str(err) == (
        "Invalid __global__ read of size 4 bytes in kernel 'copy'\n"
        "    at /*0080*/ LDG.E R4, [R2.64]\n"
        "    by thread (36,0,0) in block (1,0,0)\n"
        f"    Address 0x{x.ptr + 400:x} is out of bounds (0 bytes after the end of the "
        f"nearest allocation, 400 bytes at 0x{x.ptr:x})")


def test_out_of_bounds_write_and_caller_arrays_are_left_as_they_were():
    x = np.arange(128, dtype=np.float32)
    y = np.full(100, -1.0, np.float32)
    with pytest.raises(MemoryFault) as info:
        device().launch(kernel(COPY), 2, 64, [128, x, y])
    err = info.value
    assert (err.access, err.pc, err.thread, err.block) == ("write", 9, (36, 0, 0), (1, 0, 0))
    assert "Invalid __global__ write of size 4 bytes" in str(err)
    np.testing.assert_array_equal(y, -1.0)  # threads 0..99 stored, but nothing came back
    np.testing.assert_array_equal(x, np.arange(128, dtype=np.float32))


def test_fault_in_a_later_wave_leaves_arrays_untouched():
    n = 64 * 64 * 3  # three waves on the test device
    x = np.ones(n, np.float32)
    y = np.zeros(n - 1, np.float32)
    with pytest.raises(MemoryFault) as info:
        device().launch(kernel(COPY), n // 64, 64, [n, x, y])
    assert info.value.block == (n // 64 - 1, 0, 0) and info.value.thread == (63, 0, 0)
    np.testing.assert_array_equal(y, 0)


def test_misaligned_address():
    sim = device()
    raw = sim.to_device(np.zeros(200, np.uint8))
    y = np.zeros(16, np.float32)
    with pytest.raises(MemoryFault) as info:
        sim.launch(kernel(COPY), 1, 16, [16, raw.ptr + 2, y])
    err = info.value
    assert err.thread == (0, 0, 0) and err.address == raw.ptr + 2
    assert f"Address 0x{raw.ptr + 2:x} is misaligned (4-byte access)" in str(err)
    # The parameter is f32*, the allocation u8: passing an address skips the type check.


def test_null_pointer():
    y = np.zeros(8, np.float32)
    with pytest.raises(MemoryFault) as info:
        device().launch(kernel(COPY), 1, 8, [8, 0, y])
    assert info.value.address == 0
    assert "Address 0x0 is out of bounds (null pointer)" in str(info.value)


def test_freed_device_array():
    sim = device()
    x = sim.to_device(np.zeros(8, np.float32))
    ptr = x.ptr
    x.free()
    with pytest.raises(MemoryFault, match="inside the freed 32-byte allocation"):
        sim.launch(kernel(COPY), 1, 8, [8, ptr, np.zeros(8, np.float32)])


def test_fault_inside_divergent_code_names_the_executing_thread():
    prog = kernel(COPY.replace(
        "{A}  @P0 EXIT ;",
        "{A}  @P0 EXIT ;\n{G}  ISETP.NE.AND P1, PT, R0, 0x25, PT ;\n{A}  @P1 EXIT ;")
        .replace("[R2.64]", "[R2.64+0x400]"))
    sim = device()
    x = sim.to_device(np.zeros(64, np.float32))
    with pytest.raises(MemoryFault) as info:
        sim.launch(prog, 2, 64, [128, x, np.zeros(128, np.float32)])
    assert info.value.thread == (37, 0, 0) and info.value.block == (0, 0, 0)
    assert info.value.address == x.ptr + 0x400 + 37 * 4


SHARED = """\
    .kernel sh
    .shared 64
            {V}  S2R R0, SR_TID.X ;
            {W}  SHF.L.U32 R1, R0, 0x2, RZ ;
            {A}  STS [R1], R0 ;
            {A}  EXIT ;
    """


def test_shared_memory_out_of_bounds():
    with pytest.raises(MemoryFault) as info:
        device().launch(kernel(SHARED), 3, 32, [])
    err = info.value
    assert err.thread == (16, 0, 0) and err.block == (0, 0, 0)
    assert (err.space, err.access, err.size, err.address) == ("shared", "write", 4, 64)
    assert str(err).endswith(
        "Address 0x40 is out of bounds (the CTA has 64 bytes of shared memory)")
    assert "Invalid __shared__ write of size 4 bytes in kernel 'sh'" in str(err)


def test_shared_access_without_shared_memory():
    with pytest.raises(MemoryFault, match="the CTA has 0 bytes of shared memory"):
        device().launch(kernel(SHARED.replace(".shared 64", "")), 1, 32, [])


def test_local_memory_out_of_bounds_and_misaligned():
    prog = kernel("""\
        .kernel loc
        .local 16
                {A}  MOV R1, c[0x0][0x28] ;
                {A}  STL [R1-0x4], RZ ;
                {A}  STL.64 [R1-0xc], RZ ;
                {A}  EXIT ;
        """)
    with pytest.raises(MemoryFault) as info:
        device().launch(prog, 1, 4, [])
    err = info.value
    assert (err.space, err.size, err.address, err.pc) == ("local", 8, 4, 2)
    assert "Address 0x4 is misaligned (8-byte access)" in str(err)
    prog = kernel("""\
        .kernel loc
        .local 16
                {A}  MOV R1, c[0x0][0x28] ;
                {A}  LDL R2, [R1] ;
                {A}  EXIT ;
        """)
    with pytest.raises(MemoryFault, match="Address 0x10 is out of bounds \\(each thread has "
                                          "16 bytes of local memory\\)"):
        device().launch(prog, 1, 4, [])


def test_constant_bank_read_out_of_bounds():
    prog = kernel("""\
        .kernel cst
                {V}  S2R R0, SR_TID.X ;
                {W}  SHF.L.U32 R1, R0, 0xe, RZ ;
                {V}  LDC R2, c[0x0][R1+0xfffc] ;
                {W}  EXIT ;
        """)
    with pytest.raises(MemoryFault) as info:
        device().launch(prog, 1, 8, [])
    err = info.value
    assert (err.space, err.thread, err.address) == ("constant", (1, 0, 0), 0x13FFC)
    assert "is out of bounds (constant banks are 64 KiB)" in str(err)


def test_atomic_fault_is_reported_as_atomic():
    prog = kernel("""\
        .kernel atom
        .param p u32*
                {A}  MOV R2, c[0x0][0x160] ;
                {A}  MOV R3, c[0x0][0x164] ;
                {A}  MOV R4, 0x1 ;
                {V}  ATOMG.E.ADD R5, [R2.64+0x10], R4 ;
                {W}  EXIT ;
        """)
    with pytest.raises(MemoryFault) as info:
        device().launch(prog, 1, 4, [np.zeros(4, np.uint32)])
    assert info.value.access == "atomic" and "Invalid __global__ atomic" in str(info.value)


def test_source_location_is_named():
    prog = kernel(COPY.replace("{V}  LDG.E", '.loc "saxpy.py" 12 5\n{V}  LDG.E'))
    sim = device()
    x = sim.to_device(np.zeros(10, np.float32))
    with pytest.raises(MemoryFault) as info:
        sim.launch(prog, 1, 16, [16, x, np.zeros(16, np.float32)])
    assert str(info.value.loc) == "saxpy.py:12:5"
    assert "    at /*0080*/ LDG.E R4, [R2.64] (saxpy.py:12:5)" in str(info.value)


def test_faults_are_simulator_errors():
    assert issubclass(MemoryFault, SimulatorError)
