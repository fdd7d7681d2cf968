"""Integer and bit semantics against Python integer references.

IADD3, IMAD, LEA, SHF, LOP3, ISETP, IMNMX, IABS, POPC, FLO, SEL, MOV, PRMT: each opcode's
results on arrays of edge and random values are compared with the row's ``doc`` written
out in unbounded Python integers, and the multi-word idioms the compiler relies on
(64-bit add and subtract through carries, 64-bit address arithmetic with LEA) are checked
against 64-bit arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa.operands import NOT_PT, PT, Imm

from .semantics_support import bool_arrays, semantics, u32_arrays, u64_arrays

M32 = (1 << 32) - 1
M64 = (1 << 64) - 1
SHIFTS = (0, 1, 31, 32, 33, 63, 64, 65, 100, 0x7FFFFFFF, 0xFFFFFFFF)
EXAMPLES = settings(max_examples=30, deadline=None)


def s32(x: int) -> int:
    x = int(x) & M32
    return x - (1 << 32) if x >> 31 else x


def s64(x: int) -> int:
    x = int(x) & M64
    return x - (1 << 64) if x >> 63 else x


# --- IADD3 ----------------------------------------------------------------------------

def contribution(x: int, flag: str) -> int:
    """A source's term of IADD3's sum: ``-x`` is literally ``~x + 1``."""
    if flag == "-":
        return (~x & M32) + 1
    if flag == "~":
        return ~x & M32
    return x


@EXAMPLES
@given(u32_arrays(), u32_arrays(), u32_arrays(), bool_arrays(), bool_arrays(),
       st.tuples(*[st.sampled_from(("", "-", "~"))] * 3), st.booleans())
def test_iadd3_sum_and_carries(a, b, c, pp, pq, spells, extended):
    for spell, ext in {(spells, extended), (("", "", ""), False)}:
        mods = ("X",) if ext else ()
        flags = dict(zip("abc", spell, strict=True))
        d, pu, pv = semantics("IADD3", mods, flags=flags)(a, b, c, pp, pq)
        for i in range(len(a)):
            total = sum(contribution(int(x[i]), f) for x, f in zip((a, b, c), spell, strict=True))
            total += (int(pp[i]) + int(pq[i])) if ext else 0
            assert int(d[i]) == total & M32
            assert bool(pu[i]) == (total >= 1 << 32)
            assert bool(pv[i]) == (total >= 2 << 32)
        # Without live carries the same low word comes out of the 32-bit fast path.
        fast = semantics("IADD3", mods, flags=flags, ops={"pu": PT, "pv": PT})
        assert np.array_equal(fast(a, b, c, pp, pq)[0], d)


@EXAMPLES
@given(u64_arrays(), u64_arrays(), u64_arrays())
def test_iadd3_chains_do_64_bit_add_and_subtract(x, y, z):
    lo = lambda v: (v & np.uint64(M32)).astype(np.uint32)  # noqa: E731
    hi = lambda v: (v >> np.uint64(32)).astype(np.uint32)  # noqa: E731
    none = np.zeros(len(x), bool)
    # x + y + z: two carries from the low words feed the high words.
    d_lo, c1, c2 = semantics("IADD3")(lo(x), lo(y), lo(z), none, none)
    d_hi = semantics("IADD3", ("X",))(hi(x), hi(y), hi(z), c1, c2)[0]
    # x - y: IADD3 lo, P0, x, -y, RZ ; IADD3.X hi, x, ~y, RZ, P0, !PT
    zero = np.zeros(len(x), np.uint32)
    s_lo, borrow, _ = semantics("IADD3", flags={"b": "-"})(lo(x), lo(y), zero, none, none)
    s_hi = semantics("IADD3", ("X",), flags={"b": "~"})(hi(x), hi(y), zero, borrow, none)[0]
    for i in range(len(x)):
        total = (int(x[i]) + int(y[i]) + int(z[i])) & M64
        assert (int(d_hi[i]) << 32 | int(d_lo[i])) == total
        assert (int(s_hi[i]) << 32 | int(s_lo[i])) == (int(x[i]) - int(y[i])) & M64


# --- IMAD -----------------------------------------------------------------------------

@EXAMPLES
@given(u32_arrays(), u32_arrays(), u32_arrays(), u64_arrays(),
       st.sampled_from(("", "WIDE", "HI", "SHL", "MOV", "IADD")), st.booleans(),
       st.sampled_from(("", "-")), st.sampled_from(("", "-")))
def test_imad(a, b, c32, c64, mode, unsigned, neg_b, neg_c):
    mods = tuple(m for m in (mode, "U32" if unsigned else "") if m)
    c = c64 if mode == "WIDE" else c32
    (d,) = semantics("IMAD", mods, flags={"b": neg_b, "c": neg_c})(a, b, c)
    conv = (lambda v: int(v) & M32) if unsigned else s32
    for i in range(len(a)):
        bv = (-int(b[i]) & M32) if neg_b else int(b[i])
        if mode == "WIDE":
            cv = (-int(c[i]) & M64) if neg_c else int(c[i])
            assert int(d[i]) == (conv(a[i]) * conv(bv) + cv) & M64
            assert d.dtype == np.uint64
        else:
            cv = (-int(c[i]) & M32) if neg_c else int(c[i])
            product = conv(a[i]) * conv(bv)
            expect = (product >> 32) + cv if mode == "HI" else product + cv
            assert int(d[i]) == expect & M32
            assert d.dtype == np.uint32


def test_imad_hi_signed_extremes():
    a = np.array([0x80000000, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFF], np.uint32)
    b = np.array([0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FFFFFFF], np.uint32)
    zero = np.zeros(4, np.uint32)
    signed = semantics("IMAD", ("HI",))(a, b, zero)[0]
    unsigned = semantics("IMAD", ("HI", "U32"))(a, b, zero)[0]
    # (-2**31)**2 = 2**62; -2**31 * (2**31-1); (-1)*(-1) = 1; (2**31-1)**2
    assert signed.tolist() == [0x40000000, 0xC0000000, 0, 0x3FFFFFFF]
    assert unsigned.tolist() == [0x40000000, 0x3FFFFFFF, 0xFFFFFFFE, 0x3FFFFFFF]


# --- LEA ------------------------------------------------------------------------------

@EXAMPLES
@given(u32_arrays(), u32_arrays(), u32_arrays(), bool_arrays(), st.integers(0, 31),
       st.booleans(), st.booleans(), st.booleans(), st.sampled_from(("", "-")))
def test_lea(a, b, c, pp, shift, hi, extended, sx, neg_a):
    mods = tuple(m for m, on in (("HI", hi), ("X", extended), ("SX32", sx)) if on)
    d, pu = semantics("LEA", mods, flags={"a": neg_a}, lits={"shift": shift})(
        a, b, c, shift, pp)
    for i in range(len(a)):
        av = (-int(a[i]) & M32) if neg_a else int(a[i])
        if hi:
            top = (M32 if av >> 31 else 0) if sx else int(c[i])
            part = (((top << 32 | av) << shift) >> 32) & M32
        else:
            part = (av << shift) & M32
        total = part + int(b[i]) + (int(pp[i]) if extended else 0)
        assert int(d[i]) == total & M32
        assert bool(pu[i]) == (total >> 32 != 0)


@EXAMPLES
@given(u64_arrays(), u32_arrays(), st.integers(0, 4))
def test_lea_pair_computes_a_64_bit_address(base, index, shift):
    """LEA lo, P0, idx, base_lo, s ; LEA.HI.X.SX32 hi, idx, base_hi, RZ, s, P0."""
    lo = (base & np.uint64(M32)).astype(np.uint32)
    hi = (base >> np.uint64(32)).astype(np.uint32)
    rz = np.zeros(len(index), np.uint32)
    none = np.zeros(len(index), bool)
    d_lo, carry = semantics("LEA", lits={"shift": shift})(index, lo, rz, shift, none)
    d_hi, _ = semantics("LEA", ("HI", "X", "SX32"), lits={"shift": shift})(
        index, hi, rz, shift, carry)
    for i in range(len(index)):
        expect = (int(base[i]) + (s32(index[i]) << shift)) & M64
        assert (int(d_hi[i]) << 32 | int(d_lo[i])) == expect


# --- SHF ------------------------------------------------------------------------------

def shf_reference(a: int, s: int, c: int, direction: str, type_: str, hi: bool) -> int:
    v = c << 32 | a
    s = min(s, 64 if type_.endswith("64") else 32)
    if direction == "L":
        r = (v << s) & M64
    elif type_.startswith("S"):
        r = (s64(v) >> s) & M64
    else:
        r = v >> s
    return (r >> 32) if hi else r & M32


@EXAMPLES
@given(u32_arrays(), u32_arrays(edges=SHIFTS), u32_arrays(),
       st.sampled_from("LR"), st.sampled_from(("S32", "U32", "S64", "U64")), st.booleans())
def test_shf(a, b, c, direction, type_, hi):
    mods = (direction, type_) + (("HI",) if hi else ())
    (d,) = semantics("SHF", mods)(a, b, c)
    for i in range(len(a)):
        assert int(d[i]) == shf_reference(int(a[i]), int(b[i]), int(c[i]), direction,
                                          type_, hi)


@settings(max_examples=10, deadline=None)
@given(u32_arrays(), u32_arrays(), st.integers(0, M32))
def test_shf_immediate_counts(a, c, count):
    """An immediate count takes a specialized 32-bit path; it must agree with the funnel."""
    for shift in (*SHIFTS, 5, 40, count):
        for direction in "LR":
            for type_ in ("S32", "U32", "S64", "U64"):
                for hi in (False, True):
                    mods = (direction, type_) + (("HI",) if hi else ())
                    fn = semantics("SHF", mods, ops={"b": Imm(shift)})
                    d = np.broadcast_to(fn(a, np.uint32(shift), c)[0], a.shape)
                    for i in range(0, len(a), 5):
                        expect = shf_reference(int(a[i]), shift, int(c[i]), direction, type_, hi)
                        assert int(d[i]) == expect, (mods, shift)


@pytest.mark.parametrize("shift", SHIFTS)
def test_shf_edge_shifts_match_ptx_shift_rules(shift):
    """32-bit SHF spellings of shl/shr: counts past 31 give 0 (logical) or the sign."""
    x = np.array([0x80000001, 0x7FFFFFFF, 0xFFFFFFFF, 0x12345678], np.uint32)
    rz = np.zeros(4, np.uint32)
    b = np.uint32(shift)
    shl = semantics("SHF", ("L", "U32"))(x, b, rz)[0]
    shr = semantics("SHF", ("R", "U32", "HI"))(rz, b, x)[0]
    sar = semantics("SHF", ("R", "S32", "HI"))(rz, b, x)[0]
    for i, v in enumerate(x.tolist()):
        assert int(shl[i]) == ((v << shift) & M32 if shift < 32 else 0)
        assert int(shr[i]) == (v >> shift if shift < 32 else 0)
        assert int(sar[i]) == (s32(v) >> min(shift, 31)) & M32


# --- LOP3 -----------------------------------------------------------------------------

@settings(max_examples=10, deadline=None)
@given(u32_arrays(), u32_arrays(), u32_arrays(), bool_arrays())
def test_lop3_every_lut(a, b, c, pq):
    for lut in range(256):
        pu, d = semantics("LOP3", ("LUT",), lits={"lut": lut})(a, b, c, lut, pq)
        for i in range(0, len(a), 7):
            expect = 0
            for bit in range(32):
                index = ((int(a[i]) >> bit & 1) << 2 | (int(b[i]) >> bit & 1) << 1
                         | (int(c[i]) >> bit & 1))
                expect |= ((lut >> index) & 1) << bit
            assert int(d[i]) == expect, hex(lut)
            assert bool(pu[i]) == (expect != 0 or bool(pq[i]))
        assert d.dtype == np.uint32


def test_lop3_convention_constants():
    a, b, c = np.uint32(0xF0), np.uint32(0xCC), np.uint32(0xAA)
    for lut in (0x00, 0xC0, 0xFC, 0x3C, 0x96, 0xE8, 0xFF, 0x0F, 0x55):
        _, d = semantics("LOP3", ("LUT",), lits={"lut": lut}, ops={"pu": PT})(
            a, b, c, lut, np.False_)
        assert int(d) & 0xFF == lut
    x, y = np.uint32(0x12345678), np.uint32(0x0F0F0F0F)
    run = lambda lut: semantics("LOP3", ("LUT",), lits={"lut": lut})(  # noqa: E731
        x, y, np.uint32(0), lut, np.False_)[1]
    assert int(run(0xC0)) == 0x12345678 & 0x0F0F0F0F
    assert int(run(0xFC)) == 0x12345678 | 0x0F0F0F0F
    assert int(run(0x3C)) == 0x12345678 ^ 0x0F0F0F0F


# --- ISETP, IMNMX, IABS, SEL, MOV -----------------------------------------------------

CMP = {"F": lambda x, y: False, "T": lambda x, y: True, "LT": lambda x, y: x < y,
       "EQ": lambda x, y: x == y, "LE": lambda x, y: x <= y, "GT": lambda x, y: x > y,
       "NE": lambda x, y: x != y, "GE": lambda x, y: x >= y}
BOP = {"AND": lambda p, q: p and q, "OR": lambda p, q: p or q, "XOR": lambda p, q: p != q}


@EXAMPLES
@given(u32_arrays(), u32_arrays(), bool_arrays(), st.sampled_from(sorted(CMP)),
       st.booleans(), st.sampled_from(sorted(BOP)))
def test_isetp(a, b, pp, cmp, unsigned, bop):
    mods = (cmp,) + (("U32",) if unsigned else ()) + (bop,)
    pu, pv = semantics("ISETP", mods)(a, b, pp)
    conv = int if unsigned else s32
    for i in range(len(a)):
        r = CMP[cmp](conv(a[i]), conv(b[i]))
        assert bool(pu[i]) == BOP[bop](r, bool(pp[i]))
        assert bool(pv[i]) == BOP[bop](not r, bool(pp[i]))


@EXAMPLES
@given(u32_arrays(), u32_arrays(), bool_arrays(), st.booleans())
def test_imnmx(a, b, pp, unsigned):
    mods = ("U32",) if unsigned else ()
    conv = int if unsigned else s32
    (d,) = semantics("IMNMX", mods)(a, b, pp)
    (lo,) = semantics("IMNMX", mods, ops={"pp": PT})(a, b, pp)
    (hi,) = semantics("IMNMX", mods, ops={"pp": NOT_PT})(a, b, pp)
    for i in range(len(a)):
        pair = sorted((int(a[i]), int(b[i])), key=conv)
        assert int(lo[i]) == pair[0] and int(hi[i]) == pair[1]
        assert int(d[i]) == pair[0 if pp[i] else 1]


@EXAMPLES
@given(u32_arrays())
def test_iabs_popc_flo(b):
    (d,) = semantics("IABS")(b)
    (count,) = semantics("POPC")(b)
    (inv_count,) = semantics("POPC", flags={"b": "~"})(b)
    for i in range(len(b)):
        assert int(d[i]) == abs(s32(b[i])) & M32
        assert int(count[i]) == bin(int(b[i])).count("1")
        assert int(inv_count[i]) == 32 - int(count[i])
    for type_ in ("U32", "S32"):
        for sh in (False, True):
            mods = (type_,) + (("SH",) if sh else ())
            (pos,) = semantics("FLO", mods)(b)
            for i in range(len(b)):
                v = int(b[i])
                if type_ == "S32" and v >> 31:
                    v = ~v & M32
                expect = v.bit_length() - 1
                if expect >= 0 and sh:
                    expect = 31 - expect
                assert int(pos[i]) == expect & M32


def test_iabs_int_min_and_flo_none():
    assert int(semantics("IABS")(np.uint32(0x80000000))[0]) == 0x80000000
    for mods in (("U32",), ("S32",), ("S32", "SH")):
        none = np.uint32(0xFFFFFFFF if mods[0] == "S32" else 0)
        assert int(semantics("FLO", mods)(none)[0]) == 0xFFFFFFFF
    assert int(semantics("FLO", ("U32",))(np.uint32(1))[0]) == 0
    assert int(semantics("FLO", ("U32", "SH"))(np.uint32(1))[0]) == 31
    assert int(semantics("FLO", ("S32",))(np.uint32(0xFFFFFFFE))[0]) == 0


@EXAMPLES
@given(u32_arrays(), u32_arrays(), bool_arrays())
def test_sel_and_mov(a, b, pp):
    (d,) = semantics("SEL")(a, b, pp)
    assert np.array_equal(d, np.where(pp, a, b))
    assert np.array_equal(semantics("SEL", ops={"pp": PT})(a, b, pp)[0], a)
    assert np.array_equal(semantics("SEL", ops={"pp": NOT_PT})(a, b, pp)[0], b)
    assert np.array_equal(semantics("MOV")(a)[0], a)


# --- PRMT -----------------------------------------------------------------------------

PTX_MODE_BYTES = {  # PTX ISA prmt: result bytes (b0, b1, b2, b3) per selector c[1:0]
    "F4E": ((0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 6)),
    "B4E": ((0, 7, 6, 5), (1, 0, 7, 6), (2, 1, 0, 7), (3, 2, 1, 0)),
    "RC8": ((0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3)),
    "ECL": ((0, 1, 2, 3), (1, 1, 2, 3), (2, 2, 2, 3), (3, 3, 3, 3)),
    "ECR": ((0, 0, 0, 0), (0, 1, 1, 1), (0, 1, 2, 2), (0, 1, 2, 3)),
    "RC16": ((0, 1, 0, 1), (2, 3, 2, 3), (0, 1, 0, 1), (2, 3, 2, 3)),
}


def prmt_reference(a: int, sel: int, c: int, mode: str | None) -> int:
    source = [(a >> 8 * i) & 0xFF for i in range(4)] + [(c >> 8 * i) & 0xFF for i in range(4)]
    out = 0
    for i in range(4):
        if mode:
            byte = source[PTX_MODE_BYTES[mode][sel & 3][i]]
        else:
            nibble = (sel >> 4 * i) & 0xF
            byte = source[nibble & 7]
            if nibble & 8:
                byte = 0xFF if byte & 0x80 else 0
        out |= byte << 8 * i
    return out


@EXAMPLES
@given(u32_arrays(), u32_arrays(), u32_arrays(),
       st.sampled_from((None, *PTX_MODE_BYTES)), st.integers(0, M32))
def test_prmt(a, sel, c, mode, imm):
    mods = (mode,) if mode else ()
    (d,) = semantics("PRMT", mods)(a, sel, c)
    (k,) = semantics("PRMT", mods, ops={"b": Imm(imm)})(a, np.uint32(imm), c)
    for i in range(len(a)):
        assert int(d[i]) == prmt_reference(int(a[i]), int(sel[i]), int(c[i]), mode)
        assert int(k[i]) == prmt_reference(int(a[i]), imm, int(c[i]), mode)


def test_prmt_identity_and_byte_swap():
    a, c = np.uint32(0x44332211), np.uint32(0x88776655)
    run = lambda s: int(semantics("PRMT", ops={"b": Imm(s)})(a, np.uint32(s), c)[0])  # noqa: E731
    assert run(0x3210) == 0x44332211
    assert run(0x0123) == 0x11223344
    assert run(0x7654) == 0x88776655
    assert run(0xFFFF) == 0xFFFFFFFF  # sign of byte 7 (0x88) everywhere
    assert run(0x8F8F) == 0x00FF00FF  # sign of byte 0 (0x11) and of byte 7

