"""Number and string spellings: exact float32 rounding, shortest float text, hex, quoting."""

from __future__ import annotations

import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from warpforge.isa.literals import (
    F32_INF,
    format_f32,
    format_hex,
    format_signed_word,
    parse_f32,
    parse_integer,
    quote,
    round_to_f32,
    unquote,
)

FLT_MAX = 3.4028234663852886e38


def numpy_f32_bits(value: float) -> int:
    """float64 -> float32 in numpy: one IEEE rounding, to nearest even."""
    return int(np.array(value, np.float64).astype(np.float32).view(np.uint32))


def read_back(text: str) -> int:
    """Bits a printed float immediate stands for (the assembler's reading of it)."""
    negative = text.startswith("-")
    body = text.lstrip("+-")
    return int(body, 16) if body.startswith("0x") else parse_f32(body, negative)


@given(st.floats(min_value=0, max_value=FLT_MAX, allow_nan=False))
def test_exact_rounding_matches_numpy_on_doubles(value):
    # A double converts to a Fraction exactly; numpy rounds it to float32 once.
    assert round_to_f32(Fraction(value)) == numpy_f32_bits(value)


@given(st.integers(0, 0xFFFFFFFF))
def test_every_float32_pattern_reads_back(bits):
    assert read_back(format_f32(bits)) == bits


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_finite_spelling_is_shortest(value):
    """No spelling with fewer significant digits reads back to the same float32."""
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    text = format_f32(bits)
    digits = len(text.lstrip("-").split("e")[0].replace(".", "").strip("0")) or 1
    if digits > 1:
        shorter = f"{abs(value):.{digits - 2}e}"  # one significant digit fewer
        assert round_to_f32(Fraction(shorter)) != bits & 0x7FFFFFFF


def test_ties_round_to_even_without_double_rounding():
    # 1 + 2**-24 + 2**-60 is just above the halfway point between 1 and 1 + 2**-23.
    # Rounded to double first it lands exactly on the halfway point, and then to 1.
    value = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 2**60)
    assert float(value) == 1 + 2**-24
    assert round_to_f32(value) == 0x3F800001
    assert round_to_f32(Fraction(1) + Fraction(1, 2**24)) == 0x3F800000  # a true tie: even


@pytest.mark.parametrize("value, bits", [
    (Fraction(1, 2**149), 0x00000001),          # the smallest denormal
    (Fraction(1, 2**150), 0x00000000),          # half of it: a tie, to even (zero)
    (Fraction(3, 2**151), 0x00000001),          # three quarters of it: up
    (Fraction(2**24 - 1, 2**150), 0x00800000),  # rounds up into the smallest normal
    (Fraction(2**128 - 2**104), 0x7F7FFFFF),    # FLT_MAX
    (Fraction(2**128 - 2**103), F32_INF),       # halfway to 2**128: even is infinity
])
def test_rounding_edges(value, bits):
    assert round_to_f32(value) == bits


def test_parse_f32_errors():
    with pytest.raises(ValueError, match="too large"):
        parse_f32("3.5e38")
    with pytest.raises(ValueError, match="not a decimal"):
        parse_f32("0x1p3")
    assert parse_f32("INF", negative=True) == 0xFF800000
    assert parse_f32("0", negative=True) == 0x80000000


def test_integers():
    assert parse_integer("0x1F") == 31 and parse_integer("31") == 31
    with pytest.raises(ValueError):
        parse_integer("1.5")
    assert format_hex(255) == "0xff" and format_hex(-16) == "-0x10"
    assert format_signed_word(0xFFFFFFF0) == "-0x10"
    assert format_signed_word(0x7FFFFFFF) == "0x7fffffff"


@given(st.text())
def test_strings_round_trip(text):
    assert unquote(quote(text)) == text
    assert "\n" not in quote(text)  # a .loc line stays one line


def test_bad_escape():
    with pytest.raises(ValueError, match="escape"):
        unquote('"a\\q"')
