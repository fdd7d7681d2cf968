"""Control flow: thread geometry, divergence and reconvergence, loops, EXIT, barriers.

Every kernel computes something per thread that numpy (or Python) computes independently.
Kernels start with a prologue putting the global thread id in R0 (``blockIdx.x *
blockDim.x + threadIdx.x``) and end with an epilogue storing R2 to ``out[R0]``.
"""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.simulator import BarrierError

from .sim_support import device, kernel

PROLOGUE = """\
            {V}  S2R R0, SR_TID.X ;
            {WV}  S2R R4, SR_CTAID.X ;
            {W}  IMAD R0, R4, c[0x0][0x0], R0 ;
"""
EPILOGUE = """\
            {A}  MOV R8, 0x4 ;
            {A}  IMAD.WIDE.U32 R8, R0, R8, c[0x0][0x160] ;
            {A}  STG.E [R8.64], R2 ;
            {A}  EXIT ;
"""


def per_thread(body: str, threads: int = 64, block: int | None = None, init: int = -1,
               registers: int | None = None):
    """Run PROLOGUE + body + EPILOGUE over ``threads`` threads; return (out, result)."""
    regs = f".registers {registers}\n" if registers else ""
    prog = kernel(".kernel k\n.param out i32*\n" + regs + PROLOGUE + body + EPILOGUE)
    block = block or threads
    out = np.full(threads, init, np.int32)
    res = device().launch(prog, -(-threads // block), block, [out])
    return out, res


def test_thread_and_block_indices_in_3d():
    prog = kernel("""\
        .kernel ids
        .param out u32*
                {V}  S2R R0, SR_TID.X ;
                {WV}  S2R R1, SR_TID.Y ;
                {WV}  S2R R2, SR_TID.Z ;
                {WV}  S2R R3, SR_CTAID.X ;
                {WV}  S2R R4, SR_CTAID.Y ;
                {WV}  S2R R5, SR_CTAID.Z ;
                {W}  IMAD R6, R2, c[0x0][0x4], R1 ;
                {A}  IMAD R6, R6, c[0x0][0x0], R0 ;
                {A}  IMAD R7, R5, c[0x0][0x10], R4 ;
                {A}  IMAD R7, R7, c[0x0][0xc], R3 ;
                {A}  MOV R8, c[0x0][0x0] ;
                {A}  IMAD R8, R8, c[0x0][0x4], RZ ;
                {A}  IMAD R8, R8, c[0x0][0x8], RZ ;
                {A}  IMAD R7, R7, R8, R6 ;
                {A}  MOV R9, 0x18 ;
                {A}  IMAD.WIDE.U32 R10, R7, R9, c[0x0][0x160] ;
                {A}  STG.E [R10.64], R0 ;
                {A}  STG.E [R10.64+0x4], R1 ;
                {A}  STG.E [R10.64+0x8], R2 ;
                {A}  STG.E [R10.64+0xc], R3 ;
                {A}  STG.E [R10.64+0x10], R4 ;
                {A}  STG.E [R10.64+0x14], R5 ;
                {A}  EXIT ;
        """)
    grid, block = (3, 2, 2), (5, 3, 2)
    nthreads = int(np.prod(grid) * np.prod(block))
    out = np.zeros((nthreads, 6), np.uint32)
    res = device().launch(prog, grid, block, [out])
    # Linear ids: x fastest, then y, then z (CUDA's numbering), blocks likewise.
    cz, cy, cx, tz, ty, tx = np.meshgrid(*(np.arange(n) for n in (*grid[::-1], *block[::-1])),
                                         indexing="ij")
    expected = np.stack([tx, ty, tz, cx, cy, cz], axis=-1).reshape(-1, 6)
    np.testing.assert_array_equal(out, expected)
    assert res.stats["threads"] == nthreads and res.stats["ctas"] == 12


def test_2d_grid_of_2d_blocks():
    prog = kernel("""\
        .kernel ids2
        .param out u32*
                {V}  S2R R0, SR_TID.X ;
                {WV}  S2R R1, SR_TID.Y ;
                {WV}  S2R R3, SR_CTAID.X ;
                {WV}  S2R R4, SR_CTAID.Y ;
                {W}  IMAD R5, R4, c[0x0][0x4], R1 ;
                {A}  IMAD R6, R3, c[0x0][0x0], R0 ;
                {A}  MOV R7, c[0x0][0x0] ;
                {A}  IMAD R7, R7, c[0x0][0xc], RZ ;
                {A}  IMAD R6, R5, R7, R6 ;
                {A}  IMAD R2, R5, 0x3e8, R6 ;
                {A}  MOV R9, 0x4 ;
                {A}  IMAD.WIDE.U32 R10, R6, R9, c[0x0][0x160] ;
                {A}  STG.E [R10.64], R2 ;
                {A}  EXIT ;
        """)
    grid, block = (3, 4), (8, 2)
    width, height = grid[0] * block[0], grid[1] * block[1]
    out = np.zeros((height, width), np.uint32)
    device().launch(prog, grid, block, [out])
    row, col = np.mgrid[0:height, 0:width]
    np.testing.assert_array_equal(out, row * 1000 + row * width + col)


IF_ELSE = """\
            {A}  LOP3.LUT R1, R0, 0x1, RZ, 0xc0, !PT ;
            {G}  ISETP.NE.AND P0, PT, R1, RZ, PT ;
            {A}  BSSY B0, `(.L_join) ;
            {A}  @P0 BRA `(.L_odd) ;
            {A}  IMAD R2, R0, 0x3, RZ ;
            {A}  BRA `(.L_join) ;
        .L_odd:
            {A}  IADD3 R2, R0, 0x3e8, RZ ;
        .L_join:
            {A}  BSYNC B0 ;
            {A}  IADD3 R2, R2, 0x1, RZ ;
"""


def test_divergent_if_else_reconverges():
    out, res = per_thread(IF_ELSE, threads=64)
    tid = np.arange(64)
    np.testing.assert_array_equal(out, np.where(tid % 2, tid + 1000, tid * 3) + 1)
    # 3 prologue + 4 up to the branch; then-side 2 and else-side 1 instruction
    # with 32 threads each; BSYNC, IADD3 and the 4-instruction epilogue with all 64.
    assert res.stats["thread_instructions"] == 64 * 7 + 32 * 2 + 32 * 1 + 64 * 6
    # Both warps hold even and odd threads, so each side is issued by both warps.
    assert res.stats["instructions"] == 2 * (7 + 2 + 1 + 6)


def test_if_else_without_convergence_barrier_also_meets_at_the_join():
    body = IF_ELSE.replace("BSSY B0, `(.L_join)", "NOP").replace("BSYNC B0", "NOP")
    out, res = per_thread(body, threads=64)
    tid = np.arange(64)
    np.testing.assert_array_equal(out, np.where(tid % 2, tid + 1000, tid * 3) + 1)
    assert res.stats["thread_instructions"] == 64 * 7 + 32 * 3 + 64 * 6


LOOP = """\
            {A}  MOV R2, RZ ;
            {A}  MOV R3, RZ ;
            {A}  BSSY B0, `(.L_done) ;
        .L_loop:
            {G}  ISETP.GE.AND P0, PT, R3, R0, PT ;
            {A}  @P0 BRA `(.L_done) ;
            {A}  IADD3 R2, R2, R3, RZ ;
            {A}  IADD3 R3, R3, 0x1, RZ ;
            {A}  BRA `(.L_loop) ;
        .L_done:
            {A}  BSYNC B0 ;
"""


@pytest.mark.parametrize("barrier", [True, False])
def test_loops_with_a_different_trip_count_per_thread(barrier):
    body = LOOP if barrier else LOOP.replace("BSSY B0, `(.L_done)", "NOP").replace(
        "BSYNC B0", "NOP")
    out, res = per_thread(body, threads=384, block=128)
    tid = np.arange(384)
    np.testing.assert_array_equal(out, tid * (tid - 1) // 2)
    # Thread t runs the 5-instruction body t times, then ISETP and BRA once more.
    loop = int(np.sum(5 * tid + 2))
    expected = 384 * (3 + 3) + loop + 384 * 1 + 384 * 4
    assert res.stats["thread_instructions"] == expected


NESTED = """\
            {A}  LOP3.LUT R1, R0, 0x1, RZ, 0xc0, !PT ;
            {A}  LOP3.LUT R5, R0, 0x2, RZ, 0xc0, !PT ;
            {A}  ISETP.NE.AND P1, PT, R5, RZ, PT ;
            {G}  ISETP.NE.AND P0, PT, R1, RZ, PT ;
            {A}  BSSY B0, `(.L_end0) ;
            {A}  @P0 BRA `(.L_else0) ;
            {A}  BSSY B1, `(.L_end1) ;
            {A}  @P1 BRA `(.L_else1) ;
            {A}  MOV R2, 0x1 ;
            {A}  BRA `(.L_end1) ;
        .L_else1:
            {A}  MOV R2, 0x2 ;
        .L_end1:
            {A}  BSYNC B1 ;
            {A}  IADD3 R2, R2, 0xa, RZ ;
            {A}  BRA `(.L_end0) ;
        .L_else0:
            {A}  IADD3 R2, R0, 0x64, RZ ;
        .L_end0:
            {A}  BSYNC B0 ;
"""


def test_nested_divergence():
    out, _ = per_thread(NESTED, threads=96, block=96)
    tid = np.arange(96)
    expected = np.where(tid % 2, tid + 100, np.where(tid & 2, 12, 11))
    np.testing.assert_array_equal(out, expected)


EXIT_INSIDE = """\
            {A}  LOP3.LUT R1, R0, 0x1, RZ, 0xc0, !PT ;
            {A}  LOP3.LUT R5, R0, 0x3, RZ, 0xc0, !PT ;
            {A}  ISETP.EQ.AND P1, PT, R5, RZ, PT ;
            {G}  ISETP.NE.AND P0, PT, R1, RZ, PT ;
            {A}  MOV R2, 0x7 ;
            {A}  BSSY B0, `(.L_join) ;
            {A}  @P0 BRA `(.L_join) ;
            {A}  @P1 EXIT ;
            {A}  MOV R2, 0x5 ;
        .L_join:
            {A}  BSYNC B0 ;
            {A}  IADD3 R2, R2, R0, RZ ;
"""


def test_exit_in_divergent_code_releases_the_convergence_barrier():
    out, _ = per_thread(EXIT_INSIDE, threads=64)
    tid = np.arange(64)
    expected = np.where(tid % 4 == 0, -1, np.where(tid % 2, 7, 5) + tid)
    np.testing.assert_array_equal(out, expected)


def test_exit_of_some_threads_while_converged():
    body = """\
            {G}  ISETP.GE.AND P0, PT, R0, 0x28, PT ;
            {A}  @P0 EXIT ;
            {A}  IADD3 R2, R0, 0x1, RZ ;
    """
    out, res = per_thread(body, threads=64)
    tid = np.arange(64)
    np.testing.assert_array_equal(out, np.where(tid >= 40, -1, tid + 1))
    assert res.stats["thread_instructions"] == 64 * 5 + 40 * 5


def test_falling_off_the_end_ends_the_threads():
    prog = kernel(".kernel k\n.param out i32*\n" + PROLOGUE + EPILOGUE.replace(
        "{A}  EXIT ;\n", ""))
    out = np.zeros(40, np.int32)
    res = device().launch(prog, 1, 40, [out])
    assert res.stats["thread_instructions"] == 40 * 6


REVERSE = """\
        .kernel reverse
        .param out i32*
        .shared 512
                {V}  S2R R0, SR_TID.X ;
                {WV}  S2R R4, SR_CTAID.X ;
                {W}  SHF.L.U32 R1, R0, 0x2, RZ ;
                {A}  IMAD R5, R4, 0x3e8, R0 ;
                {A}  STS [R1], R5 ;
                {A}  BAR.SYNC 0x0 ;
                {A}  IADD3 R3, -R0, c[0x0][0x0], RZ ;
                {A}  SHF.L.U32 R3, R3, 0x2, RZ ;
                {V}  LDS R2, [R3-0x4] ;
                {A}  IMAD R0, R4, c[0x0][0x0], R0 ;
    """ + EPILOGUE.replace("{A}  MOV R8", "{W}  MOV R8")


def test_bar_sync_orders_shared_memory_within_each_cta():
    out = np.zeros(4 * 128, np.int32)
    device().launch(kernel(REVERSE), 4, 128, [out])
    cta, tid = np.divmod(np.arange(4 * 128), 128)
    np.testing.assert_array_equal(out, cta * 1000 + (127 - tid))


def test_bar_sync_waits_only_for_live_threads():
    prog = kernel(REVERSE.replace(
        "{A}  STS [R1], R5 ;",
        "{A}  STS [R1], R5 ;\n{G}  ISETP.GE.AND P0, PT, R0, 0x60, PT ;\n{A}  @P0 EXIT ;"))
    out = np.full(2 * 128, -1, np.int32)
    device().launch(prog, 2, 128, [out])
    cta, tid = np.divmod(np.arange(2 * 128), 128)
    np.testing.assert_array_equal(out, np.where(tid >= 96, -1, cta * 1000 + 127 - tid))


def test_bar_sync_after_a_diverged_region_reconverges():
    prog = kernel(REVERSE.replace("{A}  BAR.SYNC 0x0 ;", LOOP.replace("R0, PT", "R1, PT")
                                  .replace("R2", "R6") + "{A}  BAR.SYNC 0x0 ;"))
    out = np.zeros(64, np.int32)
    device().launch(prog, 1, 64, [out])
    np.testing.assert_array_equal(out, 63 - np.arange(64))


def _misuse(body: str, threads: int = 64):
    prog = kernel(".kernel bad\n" + """\
                {V}  S2R R0, SR_TID.X ;
                {W}  LOP3.LUT R1, R0, 0x1, RZ, 0xc0, !PT ;
                {G}  ISETP.NE.AND P0, PT, R1, RZ, PT ;
    """ + body)
    with pytest.raises(BarrierError) as err:
        device().launch(prog, 2, threads, [])
    return err.value


def test_threads_at_different_bar_instructions_is_an_error():
    err = _misuse("""\
                {A}  @P0 BRA `(.L_other) ;
                {A}  BAR.SYNC 0x0 ;
                {A}  BRA `(.L_end) ;
        .L_other:
                {A}  BAR.SYNC 0x0 ;
        .L_end:
                {A}  EXIT ;
    """)
    text = str(err)
    assert "barrier reached by some but not all of the CTA's live threads" in text
    assert "in kernel 'bad'" in text
    assert err.pc == 4 and err.instruction == "BAR.SYNC 0x0"
    assert err.thread == (0, 0, 0) and err.block == (0, 0, 0)
    assert "thread (0,0,0) arrived; thread (1,0,0) is waiting at /*0060*/ BAR.SYNC 0x0" in text


def test_bar_inside_a_convergence_region_with_others_at_bsync_is_an_error():
    err = _misuse("""\
                {A}  BSSY B0, `(.L_join) ;
                {A}  @P0 BRA `(.L_join) ;
                {A}  BAR.SYNC 0x0 ;
        .L_join:
                {A}  BSYNC B0 ;
                {A}  EXIT ;
    """)
    assert "barrier reached by some but not all" in str(err)
    assert err.pc == 5 and err.thread == (0, 0, 0)
    assert "thread (1,0,0) is waiting at /*0060*/ BSYNC B0 instead" in str(err)


def test_bsync_that_can_never_complete_is_an_error():
    err = _misuse("""\
                {A}  BSSY B0, `(.L_a) ;
                {A}  BSSY B1, `(.L_b) ;
                {A}  @P0 BRA `(.L_x) ;
        .L_a:
                {A}  BSYNC B0 ;
                {A}  EXIT ;
        .L_x:
        .L_b:
                {A}  BSYNC B1 ;
                {A}  EXIT ;
    """)
    assert "convergence barrier B0 can never complete" in str(err)
    assert err.pc == 6 and err.thread == (0, 0, 0) and err.instruction == "BSYNC B0"
    assert "thread (1,0,0) is waiting at /*0080*/ BSYNC B1" in str(err)


def test_bsync_without_bssy_waits_for_nobody():
    out, _ = per_thread("""\
            {A}  MOV R2, 0x3 ;
            {A}  BSYNC B3 ;
    """, threads=32)
    np.testing.assert_array_equal(out, 3)


def test_many_waves_give_the_same_result_as_one():
    body = "{A}  IMAD R2, R0, 0x2, RZ ;\n{A}  IADD3 R2, R2, 0x1, RZ ;\n"
    out, res = per_thread(body, threads=200 * 64, block=64)
    np.testing.assert_array_equal(out, 2 * np.arange(200 * 64) + 1)
    # test arch: 2 SMs x 32 CTAs (2048 threads / 64) = 64 CTAs a wave.
    assert res.stats["ctas_per_wave"] == 64 and res.stats["waves"] == 4


def test_partial_last_warp_threads_do_not_run():
    out, res = per_thread("{A}  MOV R2, 0x9 ;\n", threads=50, block=50)
    np.testing.assert_array_equal(out, 9)
    assert res.stats["thread_instructions"] == 50 * 8
    assert res.stats["instructions"] == 2 * 8
