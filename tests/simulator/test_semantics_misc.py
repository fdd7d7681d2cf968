"""PLOP3, HADD2/HFMA2, atomic updates, and properties every semantics function must have.

- every opcode of the table has semantics here or is one the executor implements itself;
- for random valid instructions (the ISA's own strategies), a function returns one value
  per destination slot with the right dtype, gives the same per-thread values on arrays
  as on numpy scalars, and raises no floating-point warnings;
- packed half-precision lanes against exact ``Fraction`` arithmetic rounded to float16;
- atomics against Python integer references (PTX ``atom`` semantics).
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa.opcodes import OPCODES, Kind
from warpforge.isa.operands import PT, Const, Imm
from warpforge.simulator.semantics import (
    EXECUTOR_OPCODES,
    SEMANTICS,
    atomic_combine,
    atomic_function,
)

from ..isa.strategies import instructions
from .semantics_support import (
    CANONICAL_NAN,
    FLOAT_EDGES,
    bool_arrays,
    build,
    exact,
    f16_value,
    float_bits,
    flush,
    is_nan,
    lanes,
    round_exact,
    semantics,
    sign_of,
    u32_arrays,
    u64_arrays,
)

EXAMPLES = settings(max_examples=20, deadline=None)
M32 = (1 << 32) - 1
M64 = (1 << 64) - 1


def test_every_opcode_has_semantics_or_is_the_executors():
    assert set(SEMANTICS) | EXECUTOR_OPCODES == set(OPCODES)
    assert not set(SEMANTICS) & EXECUTOR_OPCODES


# --- every semantics function: shapes, dtypes, scalars vs arrays ----------------------

def source_values(inst, draw_arrays):
    """Values for ``inst``'s sources as the executor passes them, plus per-lane scalars."""
    info = OPCODES[inst.opcode]
    widths = info.widths(inst.modifiers)
    values = []
    for spec, op, width in zip(info.operands, inst.operands, widths, strict=True):
        if spec.kind in (Kind.RA, Kind.RB, Kind.RL):
            dtype = np.uint64 if width == 2 else np.uint32
            if isinstance(op, Imm):
                values.append(dtype(op.bits))
            elif isinstance(op, Const):
                values.append(draw_arrays(dtype)[0])  # one value for every thread
            else:
                values.append(draw_arrays(dtype))
        elif spec.kind is Kind.PS:
            values.append(draw_arrays(np.bool_))
        elif spec.kind is Kind.LIT:
            values.append(op.bits)
    return values


def lane(value, i):
    return value[i] if isinstance(value, np.ndarray) else value


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(SEMANTICS)), st.data())
def test_functions_are_consistent_on_arrays_and_scalars(opcode, data):
    inst = data.draw(instructions(opcode))
    info = OPCODES[inst.opcode]

    def draw_arrays(dtype):
        if dtype is np.bool_:
            return data.draw(bool_arrays(8))
        if dtype is np.uint64:
            return data.draw(u64_arrays(8))
        source = float_bits(8) if data.draw(st.booleans()) else u32_arrays(n=8)
        return data.draw(source)

    values = source_values(inst, draw_arrays)
    fn = build(inst)
    dests = [(spec, op, w) for spec, op, w in zip(
        info.operands, inst.operands, info.widths(inst.modifiers), strict=True)
        if spec.kind in (Kind.RD, Kind.PD)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = fn(*values)
        assert isinstance(results, tuple) and len(results) == len(dests)
        for i in (0, 3, 7):
            scalar_results = fn(*(lane(v, i) for v in values))
            for (spec, op, _), r, s in zip(dests, results, scalar_results, strict=True):
                if spec.kind is Kind.PD and op.is_pt:
                    continue  # a dropped write may be a placeholder
                assert np.broadcast_to(r, (8,))[i] == s, (inst.mnemonic, spec.name)
    for (spec, op, width), r in zip(dests, results, strict=True):
        if spec.kind is Kind.PD:
            if not op.is_pt:
                assert np.asarray(r).dtype == np.bool_
        else:
            assert np.asarray(r).dtype == (np.uint64 if width == 2 else np.uint32)


def test_scalar_inputs_wrap_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = np.uint32(M32)
        assert int(semantics("IADD3")(m, m, m, np.True_, np.True_)[0]) == (3 * M32) & M32
        assert int(semantics("IMAD")(m, m, m)[0]) == (M32 * M32 + M32) & M32
        assert int(semantics("IMAD", flags={"b": "-"})(m, np.uint32(0), m)[0]) == M32


# --- PLOP3 ----------------------------------------------------------------------------

@EXAMPLES
@given(bool_arrays(), bool_arrays(), bool_arrays(), st.integers(0, 255), st.integers(0, 255))
def test_plop3(a, b, c, lut, lut2):
    pu, pv = semantics("PLOP3", ("LUT",), lits={"lut": lut, "lut2": lut2})(a, b, c, lut, lut2)
    for i in range(len(a)):
        index = int(a[i]) << 2 | int(b[i]) << 1 | int(c[i])
        assert bool(pu[i]) == bool(lut >> index & 1)
        assert bool(pv[i]) == bool(lut2 >> index & 1)


# --- HADD2, HFMA2 ---------------------------------------------------------------------

HALF_EDGES = (0x0000, 0x8000, 0x3C00, 0xBC00, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01,
              0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3555, 0x1400, 0x0200)


def packed_halves():
    half = st.one_of(st.sampled_from(HALF_EDGES), st.integers(0, 0xFFFF))
    return lanes(np.uint32, st.tuples(half, half).map(lambda t: t[0] | t[1] << 16))


def half_lane(parts, ftz, compute_exact, compute_float):
    """Reference for one f16 lane of packed arithmetic on lane bit patterns ``parts``."""
    if ftz:
        parts = [flush(p, "f16") for p in parts]
    if any(is_nan(p, "f16") for p in parts):
        return CANONICAL_NAN["f16"]
    values = [exact(p, "f16") for p in parts]
    if any(v is None for v in values):
        r = compute_float(*(f16_value(p) for p in parts))
        if r != r:
            return CANONICAL_NAN["f16"]
        return 0x7C00 | (0x8000 if r < 0 else 0)
    total, zero_negative = compute_exact(values, [sign_of(p, "f16") for p in parts])
    r = round_exact(total, "f16", "RN", zero_negative=zero_negative)
    return flush(r, "f16") if ftz else r


def add_exact(values, signs):
    x, y = values
    both_negative_zeros = x == 0 and y == 0 and signs[0] and signs[1]
    return x + y, both_negative_zeros


def fma_exact(values, signs):
    x, y, z = values
    p_negative = signs[0] != signs[1]
    total = x * y + z
    return total, x * y == 0 and z == 0 and p_negative and signs[2]


def lane_flags(bits: int, spell: str) -> int:
    if "|" in spell:
        bits &= 0x7FFF7FFF
    if "-" in spell:
        bits ^= 0x80008000
    return bits


@EXAMPLES
@given(packed_halves(), packed_halves(), st.booleans(), st.sampled_from(("", "-", "|", "-|")))
def test_hadd2(a, b, ftz, fa):
    (d,) = semantics("HADD2", ("FTZ",) if ftz else (), flags={"a": fa})(a, b)
    for i in range(len(a)):
        x, y = lane_flags(int(a[i]), fa), int(b[i])
        for shift in (0, 16):
            parts = [x >> shift & 0xFFFF, y >> shift & 0xFFFF]
            expect = half_lane(parts, ftz, add_exact, lambda p, q: p + q)
            assert int(d[i]) >> shift & 0xFFFF == expect, [hex(p) for p in parts]


@EXAMPLES
@given(packed_halves(), packed_halves(), packed_halves(), st.booleans(),
       st.sampled_from(("", "-")))
def test_hfma2_is_fused(a, b, c, mma, fc):
    (d,) = semantics("HFMA2", ("MMA",) if mma else (), flags={"c": fc})(a, b, c)
    for i in range(len(a)):
        x, y, z = int(a[i]), int(b[i]), lane_flags(int(c[i]), fc)
        for shift in (0, 16):
            parts = [v >> shift & 0xFFFF for v in (x, y, z)]
            expect = half_lane(parts, False, fma_exact, lambda p, q, r: p * q + r)
            assert int(d[i]) >> shift & 0xFFFF == expect, [hex(p) for p in parts]


def test_hfma2_single_rounding():
    """(1 + 2**-5)(1 + 2**-6) is a float16 tie; c = +-2**-24 decides it (float32 would not)."""
    a, b = np.uint32(0x3C20), np.uint32(0x3C10)
    tiny = int(np.array([2.0**-24], np.float16).view(np.uint16)[0])  # smallest subnormal
    results = {}
    for c in (tiny, tiny | 0x8000, 0):
        (d,) = semantics("HFMA2")(a, b, np.uint32(c))
        results[c] = int(d) & 0xFFFF
        expect = round_exact(Fraction(33, 32) * Fraction(65, 64) + exact(c, "f16"), "f16")
        assert results[c] == expect
    assert results == {tiny: 0x3C31, tiny | 0x8000: 0x3C30, 0: 0x3C30}
    product = np.float32(f16_value(0x3C20)) * np.float32(f16_value(0x3C10))
    in_float32 = np.float16(product + np.float32(2.0**-24))
    assert int(np.array([in_float32]).view(np.uint16)[0]) == 0x3C30  # rounded twice


# --- atomics --------------------------------------------------------------------------

def atomic_reference(op, type_, old, b, c):
    bits = 64 if type_.endswith("64") else 32
    mask = (1 << bits) - 1

    def signed(v):
        return v - (1 << bits) if v >> (bits - 1) else v

    key = signed if type_.startswith("S") else (lambda v: v)
    return {
        "ADD": lambda: (old + b) & mask,
        "MIN": lambda: min(old, b, key=key),
        "MAX": lambda: max(old, b, key=key),
        "EXCH": lambda: b,
        "CAS": lambda: c if old == b else old,
        "AND": lambda: old & b,
        "OR": lambda: old | b,
        "XOR": lambda: old ^ b,
        "INC": lambda: 0 if old >= b else old + 1,
        "DEC": lambda: b if old == 0 or old > b else old - 1,
    }[op]()


INT_ATOMICS = [(op, t) for t in ("U32", "S32", "U64", "S64")
               for op in ("ADD", "MIN", "MAX", "EXCH", "CAS", "AND", "OR", "XOR", "INC", "DEC")
               if not (op in ("INC", "DEC") and t.startswith("S"))]


@EXAMPLES
@given(st.sampled_from(INT_ATOMICS), st.data())
def test_integer_atomics(op_type, data):
    op, type_ = op_type
    arrays = u64_arrays() if type_.endswith("64") else u32_arrays()
    old, b, c = data.draw(arrays), data.draw(arrays), data.draw(arrays)
    if op == "CAS":
        b = np.where(data.draw(bool_arrays()), old, b)  # make some compares succeed
    new = np.broadcast_to(atomic_combine(op, type_, old, b, c), old.shape)
    assert new.dtype == old.dtype
    for i in range(len(old)):
        assert int(new[i]) == atomic_reference(op, type_, int(old[i]), int(b[i]), int(c[i]))


def test_inc_dec_wrap_like_ptx():
    old = np.array([0, 5, 9, 10, 11, M32], np.uint32)
    b = np.uint32(10)
    assert atomic_combine("INC", "U32", old, b).tolist() == [1, 6, 10, 0, 0, 0]
    assert atomic_combine("DEC", "U32", old, b).tolist() == [10, 4, 8, 9, 10, 10]
    assert atomic_combine("ADD", None, np.uint32(M32), np.uint32(2)) == 1  # U32 implied


@EXAMPLES
@given(float_bits(), float_bits())
def test_float_atomics(old, b):
    add = atomic_combine("ADD", "F32", old, b)
    low = atomic_combine("MIN", "F32", old, b)
    high = atomic_combine("MAX", "F32", old, b)
    fmin = semantics("FMNMX", ops={"pp": PT})
    assert np.array_equal(low, fmin(old, b, np.True_)[0])
    assert np.array_equal(atomic_combine("EXCH", "F32", old, b), b)
    for i in range(len(old)):
        x, y = flush(int(old[i])), flush(int(b[i]))
        if is_nan(x) or is_nan(y):
            assert int(add[i]) == CANONICAL_NAN["f32"]
        elif exact(x) is not None and exact(y) is not None:
            zero_negative = exact(x) + exact(y) == 0 and sign_of(x) and sign_of(y)
            expect = round_exact(exact(x) + exact(y), "f32", zero_negative=zero_negative)
            assert int(add[i]) == flush(expect)
        assert not (is_nan(int(high[i])) and not (is_nan(x) and is_nan(y)))


def test_float_atomic_add_flushes_subnormals():
    tiny = np.uint32(1)  # the smallest subnormal
    assert int(atomic_combine("ADD", "F32", tiny, tiny)) == 0
    assert int(atomic_combine("ADD", "F32", np.uint32(FLOAT_EDGES[2]), tiny)) == 0x3F800000


@pytest.mark.parametrize(("op", "type_"), [("INC", "S32"), ("DEC", "F32"), ("AND", "F32"),
                                           ("ADD", "U16"), ("SWAP", "U32")])
def test_undefined_atomics_are_rejected(op, type_):
    with pytest.raises(ValueError, match=r"ATOM|atomic"):
        atomic_function(op, type_)
