"""MUFU, the special-function unit: EX2, LG2, RCP, RSQ, SQRT, SIN, COS on float32.

Accuracy (tested against float64 references):

- RCP and SQRT are correctly rounded (IEEE float32 division and square root).
- RSQ, EX2, LG2, SIN, COS are computed in float64 and rounded once to float32, so they are
  within 1 ulp of the exact value (0.5 ulp plus the float64 error, about 2**-28 ulp).
- SIN and COS take their argument in turns (``sin(2*pi*b)``), as the row says. The
  argument is reduced exactly, to the nearest quarter turn ``n/4`` and a remainder
  ``|f| <= 1/8`` (``b - n/4`` is exact in float64), so the bound holds for every finite
  input, and whole and half turns give exact zeros.

This is more accurate than the hardware (whose MUFU is specified to about 1-2 ulp, SIN/COS
to an absolute error near 2**-21): programs see the exact function, rounded.

Special values follow IEEE: ``EX2(-inf) = +0``; ``LG2(+-0) = -inf``, ``LG2(x < 0) = NaN``;
``RCP(+-0) = +-inf``, ``RCP(+-inf) = +-0``; ``RSQ(+0) = +inf``, ``RSQ(-0) = -inf``,
``RSQ(x < 0) = NaN``; ``SQRT(-0) = -0``, ``SQRT(x < 0) = NaN``; SIN/COS of inf = NaN. NaN
results are the canonical ``0x7fffffff``. Subnormal inputs and results are kept (no FTZ).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .operands import flag_transform, source_operands, with_transforms
from .rounding import bits32

F32 = np.float32
F64 = np.float64
_TAU = F64(2 * np.pi)


def _f32(bits):
    return np.asarray(bits).view(F32)


def _f64(bits):
    return _f32(bits).astype(F64)


def _quarter_turns(x):
    """(q, theta): x turns = q quarter turns (q in 0..3) plus theta radians, |theta| <= pi/4."""
    n = np.rint(np.multiply(x, 4.0))
    f = np.where(n == 0, x, np.subtract(x, np.multiply(n, 0.25)))
    return np.mod(n, 4.0), np.multiply(f, _TAU)


def _sin_turns(x):
    q, theta = _quarter_turns(x)
    s, c = np.sin(theta), np.cos(theta)
    base = np.where((q == 0) | (q == 2), s, c)
    return np.where(q >= 2, np.negative(base), base)


def _cos_turns(x):
    q, theta = _quarter_turns(x)
    s, c = np.sin(theta), np.cos(theta)
    base = np.where((q == 0) | (q == 2), c, s)
    return np.where((q == 1) | (q == 2), np.negative(base), base)


FUNCTIONS: dict[str, Callable] = {
    "RCP": lambda b: np.divide(F32(1), _f32(b)),
    "SQRT": lambda b: np.sqrt(_f32(b)),
    "RSQ": lambda b: np.divide(1.0, np.sqrt(_f64(b))).astype(F32),
    "EX2": lambda b: np.exp2(_f64(b)).astype(F32),
    "LG2": lambda b: np.log2(_f64(b)).astype(F32),
    "SIN": lambda b: _sin_turns(_f64(b)).astype(F32),
    "COS": lambda b: _cos_turns(_f64(b)).astype(F32),
}
"""Each MUFU function: uint32 bits -> float32 result."""


def _high_word(fn: Callable) -> Callable:
    """RCP64H/RSQ64H: ``fn`` of the f64 whose high word is b (low word 0), truncated to
    its high word: about 20 correct bits, over f64's whole exponent range."""

    def core(b):
        x = (np.asarray(b, np.uint64) << np.uint64(32)).view(F64)
        with np.errstate(all="ignore"):
            r = np.asarray(fn(x), F64)
        return ((r.view(np.uint64) >> np.uint64(32)).astype(np.uint32),)
    return core


HIGH_WORD: dict[str, Callable] = {
    "RCP64H": _high_word(lambda x: np.divide(1.0, x)),
    "RSQ64H": _high_word(lambda x: np.divide(1.0, np.sqrt(x))),
}
"""The MUFU functions on the high word of an f64 (uint32 in, uint32 out)."""


def mufu(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """MUFU.fn: special function of b (flags applied), see the module's accuracy notes."""
    if mods["fn"] in HIGH_WORD:
        return with_transforms(HIGH_WORD[mods["fn"]],
                               [flag_transform(source_operands(inst)[0], "f32")])
    func = FUNCTIONS[mods["fn"]]

    def core(b):
        with np.errstate(all="ignore"):
            return (bits32(func(b)),)

    return with_transforms(core, [flag_transform(source_operands(inst)[0], "f32")])


FACTORIES: dict[str, Callable] = {"MUFU": mufu}
"""Semantics factories of this module, by opcode."""
