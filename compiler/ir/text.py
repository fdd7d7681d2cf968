"""Lexical facts the IR printer and parser share: keywords, names, numbers, strings.

Float constants print as the shortest decimal that reads back (through a Python float,
then rounding to the constant's type) as exactly the same value, so ``0.1`` of type
``f32`` prints as ``0.1``; non-finite values print as ``inf``, ``-inf`` and ``nan`` (NaN
payloads are not kept). Strings print as JSON strings.
"""

from __future__ import annotations

import json
import math
import re

from .semantics import round_float
from .types import ScalarType

KEYWORDS = frozenset({
    "kernel", "func", "attributes", "loc", "if", "else", "for", "to", "step", "iter",
    "while", "do", "array", "true", "false",
})
"""Words the grammar reserves; attribute names spelled like one are quoted."""
IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")
"""A name that prints bare (parameter names, attribute names, key words)."""


def is_bare_word(text: object) -> bool:
    """True if ``text`` can print unquoted: an identifier that is not a keyword."""
    return isinstance(text, str) and bool(IDENTIFIER.match(text)) and text not in KEYWORDS


def quote(text: str) -> str:
    """``text`` as a double-quoted string literal."""
    return json.dumps(text, ensure_ascii=False)


def unquote(literal: str) -> str:
    """The string a double-quoted literal stands for."""
    return json.loads(literal)


def _same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def format_float(value: float, t: ScalarType | None = None) -> str:
    """``value`` as the shortest text that reads back exactly (in type ``t``, if given)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if t is not None and t.bits < 64:
        for digits in range(1, 18):
            candidate = f"{value:.{digits}g}"
            if _same_float(round_float(float(candidate), t), value):
                text = candidate
                break
    if not any(c in text for c in ".en"):
        text += ".0"
    return text


def parse_number(text: str) -> int | float:
    """An int for integer text (decimal or ``0x`` hex), a float otherwise."""
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        value = int(body, 16)
        return -value if text.startswith("-") else value
    if any(c in body for c in ".eEn"):
        return float(text)
    return int(text)
