"""Loads and stores of every width in global, shared, local and constant memory.

Expected values come from numpy views of the same bytes: a U8/U16 load zero-extends, an
S8/S16 load sign-extends (PTX ``ld.s8``), 64- and 128-bit accesses move 2 and 4 registers,
lowest register = lowest address (little-endian).
"""

from __future__ import annotations

import numpy as np
import pytest

from .sim_support import device, kernel

SIZES = {"U8": 1, "S8": 1, "U16": 2, "S16": 2, "32": 4, "64": 8, "128": 16}
SENTINEL = 0xDEADBEEF


def _mod(width: str) -> str:
    return "" if width == "32" else "." + width


def expected_words(data: bytes, width: str, threads: int) -> np.ndarray:
    """Registers R4..R7 after thread i loads element i of ``data`` with ``width``."""
    out = np.full((threads, 4), SENTINEL, np.uint32)
    raw = np.frombuffer(data, np.uint8)
    if width in ("U8", "S8", "U16", "S16"):
        dtype = {"U8": np.uint8, "S8": np.int8, "U16": np.uint16, "S16": np.int16}[width]
        values = raw.view(dtype)[:threads]
        out[:, 0] = values.astype(np.int64).astype(np.uint32)  # extends by dtype's sign
    else:
        words = raw.view(np.uint32).reshape(-1, SIZES[width] // 4)[:threads]
        out[:, : words.shape[1]] = words
    return out


def load_kernel(width: str):
    return kernel(f"""\
        .kernel ld
        .param src u8*
        .param out u32*
                {{V}}  S2R R0, SR_TID.X ;
                {{A}}  MOV R4, {SENTINEL:#x} ;
                {{A}}  MOV R5, {SENTINEL:#x} ;
                {{A}}  MOV R6, {SENTINEL:#x} ;
                {{A}}  MOV R7, {SENTINEL:#x} ;
                {{W}}  MOV R1, {SIZES[width]:#x} ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R1, c[0x0][0x160] ;
                {{V}}  LDG.E{_mod(width)} R4, [R2.64] ;
                {{A}}  MOV R9, 0x10 ;
                {{A}}  IMAD.WIDE.U32 R10, R0, R9, c[0x0][0x168] ;
                {{W}}  STG.E.128 [R10.64], R4 ;
                {{A}}  EXIT ;
        """)


@pytest.mark.parametrize("width", list(SIZES))
def test_global_load_of_every_width(width):
    rng = np.random.default_rng(1)
    threads = 64
    data = rng.integers(0, 256, threads * 16, dtype=np.uint8)
    data[:8] = [0x80, 0xFF, 0x7F, 0x01, 0xFF, 0xFF, 0x00, 0x80]  # sign-bit cases first
    out = np.zeros((threads, 4), np.uint32)
    device().launch(load_kernel(width), 1, threads, [data, out])
    np.testing.assert_array_equal(out, expected_words(data.tobytes(), width, threads))


def store_kernel(width: str):
    return kernel(f"""\
        .kernel st
        .param src u32*
        .param dst u8*
                {{V}}  S2R R0, SR_TID.X ;
                {{A}}  MOV R9, 0x10 ;
                {{W}}  IMAD.WIDE.U32 R10, R0, R9, c[0x0][0x160] ;
                {{V}}  LDG.E.128 R4, [R10.64] ;
                {{A}}  MOV R1, {SIZES[width]:#x} ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R1, c[0x0][0x168] ;
                {{W}}  STG.E{_mod(width)} [R2.64], R4 ;
                {{A}}  EXIT ;
        """)


@pytest.mark.parametrize("width", list(SIZES))
def test_global_store_of_every_width(width):
    rng = np.random.default_rng(2)
    threads = 64
    src = rng.integers(0, 2**32, (threads, 4), dtype=np.uint32)
    dst = np.zeros(threads * SIZES[width] + 8, np.uint8)
    device().launch(store_kernel(width), 1, threads, [src, dst])
    size = SIZES[width]
    expected = np.zeros_like(dst)
    expected[: threads * size] = src.view(np.uint8).reshape(threads, 16)[:, :size].reshape(-1)
    np.testing.assert_array_equal(dst, expected)


def test_positive_and_negative_address_offsets():
    prog = kernel("""\
        .kernel shifts
        .param src i32*
        .param out i32*
                {V}  S2R R0, SR_TID.X ;
                {A}  MOV R1, 0x4 ;
                {W}  IMAD.WIDE.U32 R2, R0, R1, c[0x0][0x160] ;
                {V}  LDG.E R4, [R2.64+0x8] ;
                {WV}  LDG.E R5, [R2.64-0x4] ;
                {A}  MOV R9, 0x8 ;
                {A}  IMAD.WIDE.U32 R10, R0, R9, c[0x0][0x168] ;
                {W}  STG.E.64 [R10.64], R4 ;
                {A}  EXIT ;
        """)
    src = np.arange(100, 140, dtype=np.int32)
    out = np.zeros((30, 2), np.int32)
    # Pass src + 1 element: thread i reads src[i + 3] and src[i].
    sim = device()
    base = sim.to_device(src)
    ptr = base.ptr + 4
    sim.launch(prog, 1, 30, [ptr, out])
    np.testing.assert_array_equal(out[:, 0], src[3:33])
    np.testing.assert_array_equal(out[:, 1], src[:30])


def shared_kernel(width: str, threads: int):
    size = SIZES[width]
    return kernel(f"""\
        .kernel sh
        .param src u32*
        .param out u32*
        .shared {threads * size}
                {{V}}  S2R R0, SR_TID.X ;
                {{WV}}  S2R R12, SR_CTAID.X ;
                {{A}}  MOV R9, 0x10 ;
                {{W}}  IMAD R12, R12, c[0x0][0x0], R0 ;
                {{A}}  IMAD.WIDE.U32 R10, R12, R9, c[0x0][0x160] ;
                {{V}}  LDG.E.128 R4, [R10.64] ;
                {{A}}  IMAD R1, R0, {size:#x}, RZ ;
                {{W}}  STS{_mod(width)} [R1], R4 ;
                {{A}}  BAR.SYNC 0x0 ;
                {{A}}  MOV R4, {SENTINEL:#x} ;
                {{A}}  MOV R5, {SENTINEL:#x} ;
                {{A}}  MOV R6, {SENTINEL:#x} ;
                {{A}}  MOV R7, {SENTINEL:#x} ;
                {{A}}  IADD3 R3, -R0, {threads - 1:#x}, RZ ;
                {{A}}  IMAD R3, R3, {size:#x}, RZ ;
                {{V}}  LDS{_mod(width)} R4, [R3] ;
                {{A}}  IMAD.WIDE.U32 R10, R12, R9, c[0x0][0x168] ;
                {{W}}  STG.E.128 [R10.64], R4 ;
                {{A}}  EXIT ;
        """)


@pytest.mark.parametrize("width", list(SIZES))
def test_shared_store_then_load_of_every_width_reversed_across_threads(width):
    rng = np.random.default_rng(3)
    threads = 64
    src = rng.integers(0, 2**32, (2 * threads, 4), dtype=np.uint32)
    src[:4, 0] = [0x80, 0xFF80, 0x7F, 0x8001]
    out = np.zeros((2 * threads, 4), np.uint32)
    device().launch(shared_kernel(width, threads), 2, threads, [src, out])
    size = SIZES[width]
    for cta in range(2):
        rows = src[cta * threads:(cta + 1) * threads]
        stored = rows.view(np.uint8).reshape(threads, 16)[:, :size].tobytes()
        expect = expected_words(stored, width, threads)[::-1]
        np.testing.assert_array_equal(out[cta * threads:(cta + 1) * threads], expect)


@pytest.mark.parametrize("width", list(SIZES))
def test_local_memory_is_private_per_thread(width):
    size = SIZES[width]
    prog = kernel(f"""\
        .kernel loc
        .param out u32*
        .local 64
                {{A}}  MOV R1, c[0x0][0x28] ;
                {{V}}  S2R R0, SR_TID.X ;
                {{W}}  IMAD R4, R0, 0x1010101, RZ ;
                {{A}}  IADD3 R5, R4, 0x1, RZ ;
                {{A}}  IADD3 R6, R4, 0x2, RZ ;
                {{A}}  IADD3 R7, R4, 0x3, RZ ;
                {{A}}  IADD3 R1, R1, -0x20, RZ ;
                {{A}}  STL{_mod(width)} [R1+0x10], R4 ;
                {{A}}  MOV R4, {SENTINEL:#x} ;
                {{A}}  MOV R5, {SENTINEL:#x} ;
                {{A}}  MOV R6, {SENTINEL:#x} ;
                {{A}}  MOV R7, {SENTINEL:#x} ;
                {{V}}  LDL{_mod(width)} R4, [R1+0x10] ;
                {{A}}  MOV R9, 0x10 ;
                {{A}}  IMAD.WIDE.U32 R10, R0, R9, c[0x0][0x160] ;
                {{W}}  STG.E.128 [R10.64], R4 ;
                {{A}}  EXIT ;
        """)
    threads = 96
    out = np.zeros((threads, 4), np.uint32)
    device().launch(prog, 1, threads, [out])
    tid = np.arange(threads, dtype=np.uint32)
    regs = (tid * np.uint32(0x1010101))[:, None] + np.arange(4, dtype=np.uint32)
    stored = regs.view(np.uint8).reshape(threads, 16)[:, :size]
    expect = np.stack([expected_words(stored[t].tobytes(), width, 1)[0]
                       for t in range(threads)])
    np.testing.assert_array_equal(out, expect)


def test_ldc_widths_and_register_index():
    prog = kernel("""\
        .kernel cst
        .param a i8
        .param b i16
        .param c i64
        .param out u32*
                {A}  MOV R0, 0x8 ;
                {V}  LDC.S8 R4, c[0x0][0x160] ;
                {WV}  LDC.U8 R5, c[0x0][0x160] ;
                {WV}  LDC.S16 R6, c[0x0][0x162] ;
                {WV}  LDC.64 R8, c[0x0][R0+0x160] ;
                {WV}  LDC R7, c[0x0][0x0] ;
                {W}  MOV R2, c[0x0][0x170] ;
                {A}  MOV R3, c[0x0][0x174] ;
                {A}  STG.E.128 [R2.64], R4 ;
                {A}  STG.E.64 [R2.64+0x10], R8 ;
                {A}  EXIT ;
        """)
    out = np.zeros(6, np.uint32)
    device().launch(prog, 1, 7, [-5, -300, -(2**40) - 9, out])
    c = np.array([-(2**40) - 9], np.int64).view(np.uint32)
    expected = [np.uint32(2**32 - 5), 0xFB, np.uint32(2**32 - 300), 7, c[0], c[1]]
    np.testing.assert_array_equal(out, np.array(expected, np.uint32))


def test_loads_through_two_allocations_in_one_instruction():
    prog = kernel("""\
        .kernel pick
        .param a i32*
        .param b i32*
        .param out i32*
                {V}  S2R R0, SR_TID.X ;
                {W}  LOP3.LUT R1, R0, 0x1, RZ, 0xc0, !PT ;
                {A}  ISETP.NE.AND P0, PT, R1, RZ, PT ;
                {A}  MOV R4, 0x4 ;
                {A}  IMAD.WIDE.U32 R2, R0, R4, c[0x0][0x160] ;
                {A}  IMAD.WIDE.U32 R6, R0, R4, c[0x0][0x168] ;
                {A}  SEL R2, R6, R2, P0 ;
                {A}  SEL R3, R7, R3, P0 ;
                {V}  LDG.E R5, [R2.64] ;
                {A}  IMAD.WIDE.U32 R8, R0, R4, c[0x0][0x170] ;
                {W}  STG.E [R8.64], R5 ;
                {A}  EXIT ;
        """)
    a = np.arange(64, dtype=np.int32)
    b = -np.arange(64, dtype=np.int32) - 1000
    out = np.zeros(64, np.int32)
    device().launch(prog, 1, 64, [a, b, out])
    np.testing.assert_array_equal(out, np.where(np.arange(64) % 2, b, a))
