"""Special registers and warp-wide instructions: S2R, CS2R, SHFL, VOTE, HMMA.

References: SHFL follows the pseudo-code of PTX ``shfl.sync`` (re-implemented here lane by
lane), VOTE ``vote.sync``/``__ballot_sync``, HMMA the fragment layout of PTX
``mma.m16n8k16.row.col`` f16 (re-written here from the PTX ISA's formulas).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.simulator import WarpError

from .sim_support import device, kernel

GID = """\
            {V}  S2R R0, SR_TID.X ;
            {WV}  S2R R1, SR_CTAID.X ;
            {W}  IMAD R0, R1, c[0x0][0x0], R0 ;
            {A}  MOV R20, 0x4 ;
"""


def shfl_reference(mode: str, a: np.ndarray, b: np.ndarray, c: np.ndarray):
    """PTX shfl.sync for every lane of full warps: (d, p)."""
    d = np.empty_like(a)
    p = np.zeros(a.size, bool)
    for t in range(a.size):
        lane = t % 32
        bval, cval = int(b[t]) & 31, int(c[t]) & 31
        segmask = (int(c[t]) >> 8) & 31
        max_lane = (lane & segmask) | (cval & ~segmask)
        min_lane = lane & segmask
        if mode == "UP":
            j, ok = lane - bval, lane - bval >= max_lane
        elif mode == "DOWN":
            j, ok = lane + bval, lane + bval <= max_lane
        elif mode == "BFLY":
            j, ok = lane ^ bval, (lane ^ bval) <= max_lane
        else:
            j = min_lane | (bval & ~segmask)
            ok = j <= max_lane
        if not ok:
            j = lane
        d[t] = a[t - lane + j]
        p[t] = ok
    return d, p


def shfl_kernel(mode: str, b: str = "R5", c: str = "R6"):
    return kernel(f"""\
        .kernel shfl
        .param vals u32*
        .param bs u32*
        .param cs u32*
        .param out u32*
        .param ok u32*
        {GID}
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{V}}  LDG.E R4, [R2.64] ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x168] ;
                {{WV}}  LDG.E R5, [R2.64] ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x170] ;
                {{WV}}  LDG.E R6, [R2.64] ;
                {{W}}  MOV R9, 0x1 ;
                {{V}}  SHFL.{mode} P0, R7, R4, {b}, {c} ;
                {{W}}  SEL R8, R9, RZ, P0 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x178] ;
                {{A}}  STG.E [R2.64], R7 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x180] ;
                {{A}}  STG.E [R2.64], R8 ;
                {{A}}  EXIT ;
        """)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["IDX", "UP", "DOWN", "BFLY"]), st.data())
def test_shfl_matches_ptx_for_random_lanes_and_segments(mode, data):
    n = 64
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    b = rng.integers(0, 40, n).astype(np.uint32)
    segmask = data.draw(st.sampled_from([0, 0x18, 0x1C, 0x1E, 0x10]))
    clamp = rng.integers(0, 32, n).astype(np.uint32)
    c = (np.uint32(segmask << 8) | clamp).astype(np.uint32)
    out, ok = np.zeros(n, np.uint32), np.zeros(n, np.uint32)
    device().launch(shfl_kernel(mode), 2, 32, [a, b, c, out, ok])
    d_ref, p_ref = shfl_reference(mode, a, b, c)
    np.testing.assert_array_equal(out, d_ref)
    np.testing.assert_array_equal(ok, p_ref.astype(np.uint32))


@pytest.mark.parametrize("mode, b, c", [("BFLY", "0x1", "0x1f"), ("DOWN", "0x4", "0x1f"),
                                        ("UP", "0x3", "RZ"), ("IDX", "0x7", "0x81f")])
def test_shfl_with_immediate_lane_and_clamp(mode, b, c):
    n = 96
    a = np.arange(n, dtype=np.uint32) * 10
    out, ok = np.zeros(n, np.uint32), np.zeros(n, np.uint32)
    device().launch(shfl_kernel(mode, b, c), 1, n, [a, a, a, out, ok])
    bv = np.full(n, int(b, 16), np.uint32)
    cv = np.full(n, 0 if c == "RZ" else int(c, 16), np.uint32)
    d_ref, p_ref = shfl_reference(mode, a, bv, cv)
    np.testing.assert_array_equal(out, d_ref)
    np.testing.assert_array_equal(ok, p_ref.astype(np.uint32))


def test_butterfly_warp_sum():
    steps = "".join(f"""\
                {{V}}  SHFL.BFLY PT, R5, R4, {k:#x}, 0x1f ;
                {{W}}  IADD3 R4, R4, R5, RZ ;
    """ for k in (16, 8, 4, 2, 1))
    prog = kernel(f"""\
        .kernel warpsum
        .param vals i32*
        .param out i32*
        {GID}
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{V}}  LDG.E R4, [R2.64] ;
                {{A}}  NOP ;
        {steps.replace("{V}  SHFL.BFLY PT, R5, R4, 0x10", "{WV}  SHFL.BFLY PT, R5, R4, 0x10")}
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x168] ;
                {{A}}  STG.E [R2.64], R4 ;
                {{A}}  EXIT ;
        """)
    vals = np.random.default_rng(13).integers(-1000, 1000, 128).astype(np.int32)
    out = np.zeros(128, np.int32)
    device().launch(prog, 2, 64, [vals, out])
    np.testing.assert_array_equal(out, np.repeat(vals.reshape(4, 32).sum(axis=1), 32))


def test_shfl_from_an_inactive_lane_returns_its_register():
    prog = kernel(f"""\
        .kernel partial
        .param out u32*
        {GID}
                {{A}}  IMAD R4, R0, 0x3, RZ ;
                {{A}}  LOP3.LUT R6, R0, 0x1, RZ, 0xc0, !PT ;
                {{G}}  ISETP.NE.AND P0, PT, R6, RZ, PT ;
                {{A}}  MOV R7, 0xffff ;
                {{A}}  BSSY B0, `(.L_join) ;
                {{A}}  @P0 BRA `(.L_join) ;
                {{V}}  SHFL.IDX PT, R7, R4, 0x1, 0x1f ;
        .L_join:
                {{W}}  BSYNC B0 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{A}}  STG.E [R2.64], R7 ;
                {{A}}  EXIT ;
        """)
    out = np.zeros(64, np.uint32)
    device().launch(prog, 1, 64, [out])
    tid = np.arange(64)
    lane1 = (tid // 32) * 32 + 1  # lane 1 of the thread's warp: odd, so not executing
    np.testing.assert_array_equal(out, np.where(tid % 2, 0xFFFF, lane1 * 3))


def vote_kernel(mode: str, exit_from: int = 1 << 20):
    return kernel(f"""\
        .kernel vote
        .param vals u32*
        .param ballots u32*
        .param flags u32*
        {GID}
                {{G}}  ISETP.GE.AND P3, PT, R0, {exit_from:#x}, PT ;
                {{A}}  @P3 EXIT ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{V}}  LDG.E R4, [R2.64] ;
                {{W}}  ISETP.NE.AND P1, PT, R4, RZ, PT ;
                {{A}}  VOTE.{mode} R7, P2, P1 ;
                {{A}}  MOV R9, 0x1 ;
                {{A}}  SEL R8, R9, RZ, P2 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x168] ;
                {{A}}  STG.E [R2.64], R7 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x170] ;
                {{A}}  STG.E [R2.64], R8 ;
                {{A}}  EXIT ;
        """)


@pytest.mark.parametrize("mode", ["ANY", "ALL", "EQ"])
@pytest.mark.parametrize("active", [128, 80])
def test_vote_ballot_over_active_threads(mode, active):
    rng = np.random.default_rng(14)
    vals = (rng.random(128) < 0.5).astype(np.uint32)
    vals[32:64] = 1  # warp 1: all true
    vals[64:96] = 0  # warp 2: all false
    ballots = np.full(128, 7, np.uint32)
    flags = np.full(128, 7, np.uint32)
    device().launch(vote_kernel(mode, active), 1, 128, [vals, ballots, flags])
    for w in range(4):
        lanes = np.arange(w * 32, min((w + 1) * 32, active))
        if lanes.size == 0:
            continue
        bits = sum(1 << int(t % 32) for t in lanes if vals[t])
        present = [bool(vals[t]) for t in lanes]
        want = {"ANY": any(present), "ALL": all(present),
                "EQ": all(present) or not any(present)}[mode]
        np.testing.assert_array_equal(ballots[lanes], bits)
        np.testing.assert_array_equal(flags[lanes], int(want))
    np.testing.assert_array_equal(ballots[active:], 7)


def test_special_registers_of_a_2d_block():
    names = ["SR_LANEID", "SR_WARPID", "SR_EQMASK", "SR_LTMASK", "SR_LEMASK", "SR_GTMASK",
             "SR_GEMASK", "SR_SMID"]
    loads = "".join(f"{{WV}}  S2R R{4 + i}, {n} ;\n" for i, n in enumerate(names))
    prog = kernel(f"""\
        .kernel sregs
        .param out u32*
                {{V}}  S2R R0, SR_TID.X ;
                {{WV}}  S2R R1, SR_TID.Y ;
                {{WV}}  S2R R2, SR_CTAID.X ;
        {loads}
                {{W}}  IMAD R1, R1, c[0x0][0x0], R0 ;
                {{A}}  IMAD R2, R2, 0x60, R1 ;
                {{A}}  MOV R20, 0x20 ;
                {{A}}  IMAD.WIDE.U32 R14, R2, R20, c[0x0][0x160] ;
                {{A}}  STG.E.128 [R14.64], R4 ;
                {{A}}  STG.E.128 [R14.64+0x10], R8 ;
                {{A}}  EXIT ;
        """)
    ctas, block = 5, (48, 2)
    out = np.zeros((ctas * 96, 8), np.uint32)
    device().launch(prog, ctas, block, [out])
    linear = np.tile(np.arange(96), ctas)
    lane = linear % 32
    lt = (1 << lane) - 1
    expected = np.stack([lane, linear // 32, 1 << lane, lt, lt | (1 << lane),
                         ~(lt | (1 << lane)) & 0xFFFFFFFF, ~lt & 0xFFFFFFFF,
                         np.repeat(np.arange(ctas) % 2, 96)], axis=1)
    np.testing.assert_array_equal(out, expected.astype(np.uint32))


def test_cs2r_zeroes_a_pair_and_reads_a_growing_clock():
    prog = kernel(f"""\
        .kernel clocks
        .param out u32*
        {GID}
                {{A}}  MOV R4, 0x5 ;
                {{A}}  MOV R5, 0x6 ;
                {{A}}  MOV R6, 0x7 ;
                {{A}}  MOV R7, 0x8 ;
                {{A}}  CS2R R4, SRZ ;
                {{A}}  CS2R.32 R6, SRZ ;
                {{V}}  S2R R8, SR_CLOCKLO ;
                {{A}}  NOP ;
                {{A}}  NOP ;
                {{WV}}  S2R R9, SR_CLOCKLO ;
                {{W}}  CS2R R10, SR_CLOCKLO ;
                {{A}}  MOV R20, 0x20 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{A}}  STG.E.128 [R2.64], R4 ;
                {{A}}  STG.E.128 [R2.64+0x10], R8 ;
                {{A}}  EXIT ;
        """)
    out = np.zeros((64, 8), np.uint32)
    device().launch(prog, 2, 32, [out])
    np.testing.assert_array_equal(out[:, :4], [[0, 0, 0, 8]] * 64)
    assert np.all(out[:, 5] > out[:, 4])  # later reads see a larger clock
    clock64 = out[:, 6].astype(np.uint64) | (out[:, 7].astype(np.uint64) << np.uint64(32))
    assert np.all(clock64 > out[:, 5])


# --- HMMA ---------------------------------------------------------------------------


def a_layout():
    """(lane, register, half) -> (row, col) of A, from the PTX ISA's formulas."""
    out = {}
    for lane in range(32):
        g, t = lane >> 2, lane % 4
        for i in range(8):
            row = g if (i < 2 or 4 <= i < 6) else g + 8
            col = t * 2 + (i & 1) + (8 if i >= 4 else 0)
            out[lane, i // 2, i % 2] = (row, col)
    return out


def b_layout():
    out = {}
    for lane in range(32):
        g, t = lane >> 2, lane % 4
        for i in range(4):
            out[lane, i // 2, i % 2] = (t * 2 + (i & 1) + (8 if i >= 2 else 0), g)
    return out


def c_layout():
    """C/D element i (0..3) of each lane."""
    out = {}
    for lane in range(32):
        g, t = lane >> 2, lane % 4
        for i in range(4):
            out[lane, i] = (g if i < 2 else g + 8, t * 2 + (i & 1))
    return out


def pack_halves(matrix_by_slot: dict, matrix: np.ndarray, regs: int) -> np.ndarray:
    """Per lane, ``regs`` uint32 words of f16 pairs taken from ``matrix``."""
    words = np.zeros((32, regs), np.uint32)
    for (lane, r, h), (row, col) in matrix_by_slot.items():
        bits = int(np.float16(matrix[row, col]).view(np.uint16))
        words[lane, r] |= np.uint32(bits << (16 * h))
    return words


def hmma_kernel(acc: str, guard_half: bool = False):
    nacc = 4 if acc == "F32" else 2
    load_c = ".128" if acc == "F32" else ".64"
    skip = """\
                {WG}  ISETP.GE.AND P0, PT, R0, 0x10, PT ;
                {A}  BSSY B0, `(.L_join) ;
                {A}  @P0 BRA `(.L_join) ;
    """ if guard_half else "{W}  NOP ;\n"
    join = ".L_join:\n{A}  BSYNC B0 ;\n" if guard_half else ""
    return kernel(f"""\
        .kernel mma
        .param a u32*
        .param b u32*
        .param c u32*
        .param d u32*
                {{V}}  S2R R0, SR_TID.X ;
                {{A}}  MOV R20, 0x10 ;
                {{W}}  IMAD.WIDE.U32 R2, R0, R20, c[0x0][0x160] ;
                {{V}}  LDG.E.128 R4, [R2.64] ;
                {{A}}  MOV R21, 0x8 ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R21, c[0x0][0x168] ;
                {{WV}}  LDG.E.64 R8, [R2.64] ;
                {{A}}  MOV R22, {4 * nacc:#x} ;
                {{A}}  IMAD.WIDE.U32 R2, R0, R22, c[0x0][0x170] ;
                {{WV}}  LDG.E{load_c} R12, [R2.64] ;
        {skip}
                {{V}}  HMMA.16816.{acc} R16, R4, R8, R12 ;
        {join}
                {{A}}  IMAD.WIDE.U32 R2, R0, R22, c[0x0][0x178] ;
                {{W}}  STG.E{load_c} [R2.64], R16 ;
                {{A}}  EXIT ;
        """)


@pytest.mark.parametrize("acc", ["F32", "F16"])
def test_hmma_16816_matches_numpy(acc):
    rng = np.random.default_rng(15)
    A = rng.integers(-4, 5, (16, 16)).astype(np.float16) / np.float16(4)
    B = rng.integers(-4, 5, (16, 8)).astype(np.float16) / np.float16(2)
    C = rng.integers(-8, 9, (16, 8)).astype(np.float32) / 8
    a = pack_halves(a_layout(), A, 4)
    b = pack_halves(b_layout(), B, 2)
    if acc == "F32":
        c = np.zeros((32, 4), np.uint32)
        for (lane, i), (row, col) in c_layout().items():
            c[lane, i] = np.float32(C[row, col]).view(np.uint32)
    else:
        slots = {(lane, i // 2, i % 2): rc for (lane, i), rc in c_layout().items()}
        c = pack_halves(slots, C, 2)
    d = np.zeros_like(c)
    device().launch(hmma_kernel(acc), 1, 32, [a, b, c, d])
    expected = A.astype(np.float64) @ B.astype(np.float64) + C  # exact for these values
    for (lane, i), (row, col) in c_layout().items():
        if acc == "F32":
            got = d[lane, i].view(np.float32)
        else:
            got = np.uint16((int(d[lane, i // 2]) >> (16 * (i % 2))) & 0xFFFF).view(
                np.float16)
        assert got == expected[row, col], (lane, i)


def test_hmma_in_a_diverged_warp_is_a_warp_error():
    a = np.zeros((32, 4), np.uint32)
    b = np.zeros((32, 2), np.uint32)
    c = np.zeros((32, 4), np.uint32)
    with pytest.raises(WarpError) as err:
        device().launch(hmma_kernel("F32", guard_half=True), 1, 32, [a, b, c, c.copy()])
    text = str(err.value)
    assert "HMMA executed by a warp that is not converged" in text
    assert err.value.thread == (0, 0, 0)
    assert "thread (16,0,0) does not" in text
