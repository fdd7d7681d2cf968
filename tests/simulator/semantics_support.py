"""Helpers for the semantics tests: build instructions, run them, draw value arrays.

:func:`semantics` builds the function of an instruction spelled by opcode, modifiers and
per-slot overrides, with every source a register (``R10``, ``R12``, ... so pairs stay
aligned) unless told otherwise and every destination live (``R0``, ``P0``, ``P1``). The
references the tests compare against are written independently in the test modules:
Python integers, :class:`fractions.Fraction`, :mod:`math`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from warpforge.isa.opcodes import OPCODES, Kind
from warpforge.isa.operands import Imm, Pred, Reg
from warpforge.isa.program import Instruction
from warpforge.simulator.semantics import SEMANTICS

LANES = 48
"""Values per array in a hypothesis example: each example tests this many threads."""


def instruction(opcode: str, mods: tuple[str, ...] = (), *, flags: Mapping[str, str] = {},
                lits: Mapping[str, int] = {}, ops: Mapping[str, object] = {}) -> Instruction:
    """An instruction of ``opcode`` with live destinations and register sources.

    ``flags`` maps a source slot name to its spelling ("-", "|", "-|", "~"); ``lits`` gives
    literal values; ``ops`` replaces any slot's operand outright.
    """
    info = OPCODES[opcode]
    operands = []
    preds_out, preds_in, regs = 0, 2, 10
    for spec in info.operands:
        if spec.name in ops:
            operands.append(ops[spec.name])
        elif spec.kind is Kind.RD:
            operands.append(Reg(0))
        elif spec.kind is Kind.PD:
            operands.append(Pred(preds_out))
            preds_out += 1
        elif spec.kind in (Kind.RA, Kind.RB, Kind.RL):
            f = flags.get(spec.name, "")
            operands.append(Reg(regs, neg="-" in f, abs="|" in f, inv="~" in f))
            regs += 4
        elif spec.kind is Kind.PS:
            operands.append(Pred(preds_in))
            preds_in += 1
        elif spec.kind is Kind.LIT:
            operands.append(Imm(lits.get(spec.name, 0)))
        else:
            raise AssertionError(f"{opcode}: no default for slot {spec.name}")
    return Instruction(opcode, tuple(mods), tuple(operands))


def build(inst: Instruction):
    """The semantics function of ``inst``."""
    info = OPCODES[inst.opcode]
    return SEMANTICS[inst.opcode](inst, info.resolve(inst.modifiers))


def semantics(opcode: str, mods: tuple[str, ...] = (), **kwargs):
    """The semantics function of :func:`instruction` ``(opcode, mods, **kwargs)``."""
    return build(instruction(opcode, mods, **kwargs))


# --- values ---------------------------------------------------------------------------

INT_EDGES = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
             0x80000001, 0xFFFFFFFE, 0xFFFFFFFF)
FLOAT_EDGES = (
    0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
    0x7FC00000, 0xFFC00000, 0x7FFFFFFF, 0x7F800001, 0xFFBFFFFF,
    0x00000001, 0x807FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF,
    0x3EAAAAAB, 0x3DCCCCCD, 0x4B000000, 0x4B000001, 0x3F000000, 0x4F000000, 0xCF000000,
    0x5F000000, 0xDF000000, 0x3F7FFFFF, 0x34000000, 0x33800000, 0x00400000,
)


def lanes(dtype, element, n: int = LANES):
    """Arrays of ``n`` values, each drawn from ``element`` (no repeated fill value)."""
    return hnp.arrays(dtype, n, elements=element, fill=st.nothing())


def u32_arrays(edges=INT_EDGES, n: int = LANES):
    """uint32 arrays of ``n`` values: edge cases, small values and anything."""
    element = st.one_of(st.sampled_from(edges), st.integers(0, 64),
                        st.integers(0, 0xFFFFFFFF))
    return lanes(np.uint32, element, n)


def u64_arrays(n: int = LANES):
    """uint64 arrays: 64-bit edges, 32-bit-sized values and anything."""
    edges = (0, 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1)
    element = st.one_of(st.sampled_from(edges), st.integers(0, 2**32),
                        st.integers(0, 2**64 - 1), st.integers(2**64 - 2**40, 2**64 - 1))
    return lanes(np.uint64, element, n)


def float_bits(n: int = LANES):
    """uint32 arrays of float32 patterns: specials, ordinary floats, any pattern."""
    element = st.one_of(st.sampled_from(FLOAT_EDGES),
                        st.floats(width=32, allow_nan=False).map(f32_bits),
                        st.integers(0, 0xFFFFFFFF))
    return lanes(np.uint32, element, n)


def bool_arrays(n: int = LANES):
    """bool arrays of ``n`` values."""
    return lanes(np.bool_, st.booleans(), n)


# --- float bits and exact values ------------------------------------------------------

def f32_bits(value: float) -> int:
    """The float32 bit pattern of a Python float (rounded to float32)."""
    return struct.unpack("<I", struct.pack("<f", value))[0]


def f32_value(bits: int) -> float:
    """The value of a float32 bit pattern, as a Python float (exact)."""
    return struct.unpack("<f", struct.pack("<I", int(bits)))[0]


def f16_value(bits: int) -> float:
    """The value of a float16 bit pattern, as a Python float (exact)."""
    return float(np.array([bits & 0xFFFF], np.uint16).view(np.float16)[0])


def f64_value(bits: int) -> float:
    """The value of a float64 bit pattern."""
    return struct.unpack("<d", struct.pack("<Q", int(bits)))[0]


FORMATS = {"f16": (10, 5), "f32": (23, 8), "f64": (52, 11)}
"""Float formats: (fraction bits, exponent bits)."""
CANONICAL_NAN = {"f16": 0x7FFF, "f32": 0x7FFFFFFF, "f64": 0x7FFFFFFFFFFFFFFF}


def encode(fmt: str, negative: bool, magnitude: Fraction | None) -> int:
    """Bits of a representable value (``None`` magnitude: infinity)."""
    frac_bits, exp_bits = FORMATS[fmt]
    sign = (1 << (frac_bits + exp_bits)) if negative else 0
    if magnitude is None:
        return sign | (((1 << exp_bits) - 1) << frac_bits)
    if magnitude == 0:
        return sign
    bias = (1 << (exp_bits - 1)) - 1
    e = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** e > magnitude:
        e -= 1
    if e < 1 - bias:  # subnormal
        m = magnitude / Fraction(2) ** (1 - bias - frac_bits)
        assert m.denominator == 1
        return sign | int(m)
    m = magnitude / Fraction(2) ** (e - frac_bits)
    assert m.denominator == 1
    return sign | ((e + bias) << frac_bits) | (int(m) - (1 << frac_bits))


def round_exact(value: Fraction, fmt: str, mode: str = "RN", *,
                zero_negative: bool = False) -> int:
    """Bits of the exact ``value`` correctly rounded to ``fmt`` in ``mode``.

    ``zero_negative`` gives the sign of an exact zero. Written from the IEEE 754
    definitions on integers, independently of the code under test.
    """
    frac_bits, exp_bits = FORMATS[fmt]
    bias = (1 << (exp_bits - 1)) - 1
    negative = value < 0 or (value == 0 and zero_negative)
    m = abs(value)
    if m == 0:
        return encode(fmt, negative, Fraction(0))
    e = m.numerator.bit_length() - m.denominator.bit_length()
    if Fraction(2) ** e > m:
        e -= 1
    quantum = Fraction(2) ** (max(e, 1 - bias) - frac_bits)
    scaled = m / quantum
    n, rest = divmod(scaled.numerator, scaled.denominator)
    rest = Fraction(rest, scaled.denominator)
    up = {
        "RN": rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1),
        "RZ": False,
        "RP": rest > 0 and not negative,
        "RM": rest > 0 and negative,
    }[mode]
    rounded = (n + up) * quantum
    largest = (2 - Fraction(2) ** -frac_bits) * Fraction(2) ** bias
    if rounded > largest:
        to_inf = mode == "RN" or (mode == "RP" and not negative) or (
            mode == "RM" and negative)
        return encode(fmt, negative, None if to_inf else largest)
    return encode(fmt, negative, rounded)


def exact(bits: int, fmt: str = "f32") -> Fraction | None:
    """The exact value of finite float bits; None for infinities and NaN."""
    value = {"f16": f16_value, "f32": f32_value, "f64": f64_value}[fmt](bits)
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return Fraction(value)


def is_nan(bits: int, fmt: str = "f32") -> bool:
    """True when ``bits`` is a NaN of ``fmt``."""
    frac_bits, exp_bits = FORMATS[fmt]
    exp_mask = ((1 << exp_bits) - 1) << frac_bits
    return (bits & exp_mask) == exp_mask and (bits & ((1 << frac_bits) - 1)) != 0


def sign_of(bits: int, fmt: str = "f32") -> bool:
    """True when the sign bit of ``bits`` is set."""
    frac_bits, exp_bits = FORMATS[fmt]
    return bool(bits >> (frac_bits + exp_bits) & 1)


def flush(bits: int, fmt: str = "f32") -> int:
    """``bits`` with a subnormal flushed to zero of the same sign."""
    frac_bits, exp_bits = FORMATS[fmt]
    if (bits >> frac_bits) & ((1 << exp_bits) - 1) == 0:
        return bits & (1 << (frac_bits + exp_bits))
    return bits
