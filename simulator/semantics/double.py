"""Double-precision arithmetic: DADD, DMUL, DFMA, DSETP on register pairs.

Pair values arrive as uint64 words and are viewed as float64, never converted. DADD and
DMUL to nearest are numpy's IEEE float64 operations; the directed modes step the rounded
result by one ulp where its exact error (TwoSum, or the Dekker product error) points past
it. DFMA rounds ``a*b + c`` once: the product is split exactly (Dekker's TwoProduct with
Veltkamp's split), the low parts are summed with round-to-odd, and the final addition
rounds to nearest, which gives the correctly rounded result (Boldo and Melquiond,
"Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd",
IEEE TC 2008); where the product overflows or an operand is not finite, the plain
``a*b + c`` (whose special values are the FMA's) is used. DSETP takes FSETP's conditions.
NaN results are numpy's (quiet) NaNs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .floating import float_setp
from .operands import flag_transform, source_operands, with_transforms
from .rounding import to_odd, two_sum

F64 = np.float64
U64 = np.uint64
_SPLIT = F64(134217729.0)  # 2**27 + 1, Veltkamp's constant for float64


def _f(bits):
    return np.asarray(bits, U64).view(F64)


def _bits(x):
    return np.asarray(x, F64).view(U64)


def two_product(a, b):
    """``(p, e)`` with ``p = fl(a*b)`` and ``p + e == a*b`` exactly (no overflow)."""
    p = a * b
    ca = _SPLIT * a
    ah = ca - (ca - a)
    al = a - ah
    cb = _SPLIT * b
    bh = cb - (cb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def fma64(a, b, c):
    """``a*b + c`` rounded once to nearest even, on float64 arrays."""
    with np.errstate(all="ignore"):
        p, e = two_product(a, b)
        s, t = two_sum(p, c)
        u, v = two_sum(t, e)
        r = s + to_odd(u, v)
        plain = a * b + c
        ok = np.isfinite(p) & np.isfinite(e) & np.isfinite(c) & np.isfinite(r) & (
            np.abs(p) < F64(2.0) ** 1000)
        return np.where(ok, r, plain)


def _step(r, toward):
    """``r`` moved one ulp toward the sign of ``toward`` where ``toward`` is nonzero."""
    up = np.nextafter(r, np.inf)
    down = np.nextafter(r, -np.inf)
    return np.where(toward > 0, up, np.where(toward < 0, down, r))


def _directed(exact: Callable, mode: str) -> Callable:
    """A directed rounding of an operation given as ``exact(...) -> (rounded, error)``."""
    def fn(*args):
        r, e = exact(*args)
        e = np.where(np.isfinite(e), e, 0.0)
        if mode == "RZ":
            toward = np.where(np.signbit(r) != np.signbit(e), e, 0.0)
            toward = np.where(r == 0, 0.0, toward)
        elif mode == "RP":
            toward = np.where(e > 0, 1.0, 0.0)
        else:  # RM
            toward = np.where(e < 0, -1.0, 0.0)
        return _step(r, toward)
    return fn


def _arith(exact: Callable, nsrc: int, inst: Instruction, mods: Mapping[str, str],
           nearest: Callable) -> Callable:
    mode = mods.get("rnd", "RN")
    compute = nearest if mode == "RN" else _directed(exact, mode)

    def core(*words):
        with np.errstate(all="ignore"):
            return (_bits(compute(*(_f(w) for w in words))),)

    ops = source_operands(inst)[:nsrc]
    return with_transforms(core, [flag_transform(op, "f64") for op in ops])


def dadd(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """DADD[.rnd]: d = a + b on f64 pairs, rounded once."""
    return _arith(two_sum, 2, inst, mods, np.add)


def dmul(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """DMUL[.rnd]: d = a * b on f64 pairs, rounded once."""
    return _arith(two_product, 2, inst, mods, np.multiply)


def dfma(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """DFMA[.rnd]: d = a * b + c on f64 pairs with one rounding (directed modes: the
    nearest result stepped by the sign of the remaining error)."""
    def exact(a, b, c):
        r = fma64(a, b, c)
        p, e = two_product(a, b)
        s, t = two_sum(p, c)
        return r, (s - r) + (t + e)
    return _arith(exact, 3, inst, mods, fma64)


def dsetp(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """DSETP: :func:`~.floating.float_setp` on f64 register pairs."""
    return float_setp(inst, mods, _f, "f64")


FACTORIES: dict[str, Callable] = {"DADD": dadd, "DMUL": dmul, "DFMA": dfma, "DSETP": dsetp}
"""Semantics factories of this module, by opcode."""
