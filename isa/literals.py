"""Number spellings shared by the printer and the assembler.

Integers print as hex (``0x1f``, negative 32-bit patterns as ``-0x1``) and read as hex or
decimal. Float immediates are float32 bit patterns; they print as the shortest decimal that
reads back to the same pattern (``1``, ``0.5``, ``1e-05``, ``-0``; positional for decimal
exponents -4..15, as Python's ``repr``), infinities as
``+INF``/``-INF`` and NaNs as their raw bits in hex, so every pattern round-trips. Reading
a decimal rounds it to float32 exactly once (round half to even), as a C compiler does.
Quoted strings (``.loc`` file names) use JSON's escapes.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import numpy as np

WORD_MASK = 0xFFFFFFFF
"""A 32-bit word."""
SIGN_BIT = 0x80000000
F32_INF = 0x7F800000
"""Bits of +infinity."""
F32_MANTISSA_BITS = 23
F32_MIN_EXPONENT = -126
F32_BIAS = 127

_HEX = re.compile(r"0[xX][0-9a-fA-F]+\Z")
_DECIMAL_INT = re.compile(r"[0-9]+\Z")
_DECIMAL = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_SCIENTIFIC_BELOW = -4
_SCIENTIFIC_FROM = 16
"""Decimal exponents (of the shortest digits) printed positionally, as Python's repr does."""


def is_hex(text: str) -> bool:
    """True for a hex spelling such as ``0x1f``."""
    return bool(_HEX.match(text))


def is_integer(text: str) -> bool:
    """True for a hex or decimal integer spelling (no sign)."""
    return bool(_HEX.match(text) or _DECIMAL_INT.match(text))


def is_decimal(text: str) -> bool:
    """True for a decimal spelling, integer or float (``3``, ``2.5``, ``1e-05``)."""
    return bool(_DECIMAL.match(text))


MAX_INTEGER_DIGITS = 40
"""Longer integer spellings are refused before conversion (Python itself refuses decimal
strings of over 4,300 digits, with a ValueError that names no line)."""


def parse_integer(text: str) -> int:
    """The value of an unsigned hex or decimal integer; ``ValueError`` if it is neither, or
    is spelled with more than :data:`MAX_INTEGER_DIGITS` digits."""
    if len(text) > MAX_INTEGER_DIGITS + 2:
        raise ValueError(f"'{text[:12]}...' is too large ({len(text)} characters)")
    if _HEX.match(text):
        return int(text, 16)
    if _DECIMAL_INT.match(text):
        return int(text, 10)
    raise ValueError(f"'{text}' is not an integer")


def format_hex(value: int) -> str:
    """``0x1f``; a negative value as ``-0x1f``."""
    return f"-0x{-value:x}" if value < 0 else f"0x{value:x}"


def format_signed_word(bits: int) -> str:
    """A 32-bit pattern as a signed hex integer: ``0x10``, ``0xffffffff`` as ``-0x1``."""
    return format_hex(bits - (1 << 32) if bits & SIGN_BIT else bits)


def f32_value(bits: int) -> np.float32:
    """The float32 whose bit pattern is ``bits``."""
    return np.array(bits, dtype=np.uint32).view(np.float32)[()]


def f32_bits(value: float | np.floating) -> int:
    """The bit pattern of ``value`` rounded to float32 (once, to nearest even)."""
    with np.errstate(over="ignore"):
        return int(np.array(value, dtype=np.float32).view(np.uint32))


def format_f32(bits: int) -> str:
    """The canonical spelling of a float32 immediate (see the module docstring)."""
    exponent = (bits >> F32_MANTISSA_BITS) & 0xFF
    negative = bool(bits & SIGN_BIT)
    if exponent == 0xFF:
        if bits & 0x7FFFFF:
            return f"0x{bits:08x}"
        return "-INF" if negative else "+INF"
    if bits & 0x7FFFFFFF == 0:
        return "-0" if negative else "0"
    value = f32_value(bits)
    scientific = np.format_float_scientific(value, unique=True, trim="-", exp_digits=2)
    exponent = int(scientific.partition("e")[2])
    if _SCIENTIFIC_BELOW <= exponent < _SCIENTIFIC_FROM:
        return np.format_float_positional(value, unique=True, trim="-")
    return scientific


def round_to_f32(value: Fraction) -> int:
    """Bits of the float32 nearest to a non-negative exact ``value`` (ties to even).

    Values past the largest float32 round to infinity, as IEEE 754 says.
    """
    if value < 0:
        raise ValueError("round_to_f32 takes a magnitude")
    if value == 0:
        return 0
    num, den = value.numerator, value.denominator
    exponent = num.bit_length() - den.bit_length()
    if (num << max(-exponent, 0)) < (den << max(exponent, 0)):
        exponent -= 1  # now 2**exponent <= value < 2**(exponent + 1)
    exponent = max(exponent, F32_MIN_EXPONENT)  # subnormals share the smallest exponent
    shift = F32_MANTISSA_BITS - exponent
    if shift >= 0:
        quotient, remainder = divmod(num << shift, den)
        scaled_den = den
    else:
        scaled_den = den << -shift
        quotient, remainder = divmod(num, scaled_den)
    if 2 * remainder > scaled_den or (2 * remainder == scaled_den and quotient & 1):
        quotient += 1
    if quotient == 1 << (F32_MANTISSA_BITS + 1):
        quotient >>= 1
        exponent += 1
    if quotient < 1 << F32_MANTISSA_BITS:  # subnormal: exponent field 0
        return quotient
    biased = exponent + F32_BIAS
    if biased >= 0xFF:
        return F32_INF
    return (biased << F32_MANTISSA_BITS) | (quotient - (1 << F32_MANTISSA_BITS))


def parse_f32(text: str, negative: bool = False) -> int:
    """Bits of the decimal ``text`` (``2.5``, ``1e-05``, ``INF``) read as float32.

    Raises ``ValueError`` for a spelling that is not a decimal number or infinity, and for
    a finite number too large for float32.
    """
    sign = SIGN_BIT if negative else 0
    if text == "INF":
        return sign | F32_INF
    if not _DECIMAL.match(text):
        raise ValueError(f"'{text}' is not a decimal number")
    bits = round_to_f32(Fraction(text))
    if bits == F32_INF:
        raise ValueError(f"{'-' if negative else ''}{text} is too large for a float32 "
                         "(write +INF or -INF for infinity)")
    return sign | bits


def quote(text: str) -> str:
    """``text`` as a double-quoted string with JSON escapes."""
    return json.dumps(text, ensure_ascii=False)


def unquote(token: str) -> str:
    """The string a double-quoted token spells; ``ValueError`` on a bad escape."""
    try:
        value = json.loads(token)
    except json.JSONDecodeError as err:
        raise ValueError(f"bad escape in string {token}: {err.msg}") from None
    if not isinstance(value, str):
        raise ValueError(f"{token} is not a string")
    return value
