"""Integer arithmetic: IADD3, IMAD, LEA, ISETP, IMNMX, IABS, SEL, MOV.

Values are uint32 words (uint64 for the pairs of IMAD.WIDE); arithmetic wraps modulo
2**32 (2**64). Signed forms view the words as int32. Operations are numpy ufunc calls,
which wrap silently on numpy scalars as on arrays.

Carries (IADD3, LEA) follow the hardware's literal two's complement: a negated source
``-x`` contributes ``~x + 1`` to the 34-bit sum, so ``a + -b`` carries exactly when there
is no borrow (``a >= b``, unsigned), which is what a multi-word subtraction's ``.X`` chain
needs. IADD3 sets ``pu`` when the sum is at least 2**32 and ``pv`` when at least 2**33, so
``pu + pv`` is the carry (0, 1 or 2) a following ``IADD3.X`` adds back through ``pp, pq``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.operands import Pred
from ...isa.program import Instruction
from .operands import (
    constant_pred,
    dest_operands,
    discarded,
    flag_transform,
    flags_of,
    literal,
    source_operands,
    with_transforms,
)
from .predicate import setp

U32 = np.uint32
U64 = np.uint64
_TWO32 = np.uint64(1 << 32)
_TWO33 = np.uint64(1 << 33)
_ONE64 = np.uint64(1)


def _wide_source(operand) -> Callable:
    """uint32 source -> its uint64 contribution to a carry-producing sum (flags applied)."""
    flags = flags_of(operand)
    if "neg" in flags and "inv" not in flags:
        return lambda x: np.add(np.invert(x).astype(U64), _ONE64)
    if "inv" in flags and "neg" not in flags:
        return lambda x: np.invert(x).astype(U64)
    if "inv" in flags:  # -(~x) == x + 1, literally ~~x + 1
        return lambda x: np.add(np.asarray(x).astype(U64), _ONE64)
    return lambda x: np.asarray(x).astype(U64)


def iadd3(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """IADD3: d = a + b + c (+ pp + pq with .X); pu, pv = carry >= 1, >= 2."""
    a_op, b_op, c_op = source_operands(inst)[:3]
    _, pu_op, pv_op = dest_operands(inst)
    extended = mods.get("x") == "X"
    if discarded(pu_op) and discarded(pv_op):
        # Only the low word is wanted: wrapping 32-bit adds are the same modulo 2**32.
        if extended:
            def core(a, b, c, pp, pq):
                return (np.add(np.add(np.add(np.add(a, b), c), pp), pq).astype(U32),
                        np.False_, np.False_)
        else:
            def core(a, b, c, pp, pq):
                return np.add(np.add(a, b), c), np.False_, np.False_
        return with_transforms(core, [flag_transform(op, "i32") for op in (a_op, b_op, c_op)])

    pv_used = not discarded(pv_op)
    if not extended and not any(flags_of(op) for op in (a_op, b_op, c_op)):
        # Two 32-bit adds; each carries out exactly when its sum wrapped below an addend.
        def fn(a, b, c, pp, pq):
            s = np.add(a, b)
            first = np.less(s, a)
            d = np.add(s, c)
            second = np.less(d, s)
            pv = np.logical_and(first, second) if pv_used else np.False_
            return d, np.logical_or(first, second), pv
        return fn

    wa, wb, wc = (_wide_source(op) for op in (a_op, b_op, c_op))

    if extended:
        def total_of(a, b, c, pp, pq):
            return np.add(np.add(np.add(np.add(wa(a), wb(b)), wc(c)), pp), pq)
    else:
        def total_of(a, b, c, pp, pq):
            return np.add(np.add(wa(a), wb(b)), wc(c))

    if pv_used:
        def fn(a, b, c, pp, pq):
            total = total_of(a, b, c, pp, pq)
            return (total.astype(U32), np.greater_equal(total, _TWO32),
                    np.greater_equal(total, _TWO33))
    else:
        def fn(a, b, c, pp, pq):
            total = total_of(a, b, c, pp, pq)
            return total.astype(U32), np.greater_equal(total, _TWO32), np.False_
    return fn


def imad(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """IMAD: low word of a*b + c; .HI: high word of a*b, plus c; .WIDE: 64-bit a*b + c."""
    ops = source_operands(inst)
    mode = mods.get("mode", "")
    signed = mods.get("type") != "U32"
    tb = flag_transform(ops[1], "i32")
    tc = flag_transform(ops[2], "i64" if mode == "WIDE" else "i32")

    if mode == "WIDE":
        if signed:
            def core(a, b, c):
                # the ufunc widens while it multiplies: no int64 temporaries of a and b
                p = np.multiply(np.asarray(a).view(np.int32), np.asarray(b).view(np.int32),
                                dtype=np.int64)
                return (np.add(p.view(U64), c),)
        else:
            def core(a, b, c):
                return (np.add(np.multiply(a, b, dtype=U64), c),)
    elif mode == "HI":
        if signed:
            def core(a, b, c):
                p = np.multiply(np.asarray(a).view(np.int32).astype(np.int64),
                                np.asarray(b).view(np.int32).astype(np.int64))
                return (np.add(np.right_shift(p, 32).astype(U32), c),)
        else:
            def core(a, b, c):
                p = np.multiply(np.asarray(a).astype(U64), np.asarray(b).astype(U64))
                return (np.add(np.right_shift(p, 32).astype(U32), c),)
    else:
        def core(a, b, c):
            return (np.add(np.multiply(a, b), c),)
    return with_transforms(core, [None, tb, tc])


def lea(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """LEA: d = (a << shift) + b; .HI: high word of ({c:a} << shift) + b; .X adds pp."""
    ops = source_operands(inst)
    shift = literal(ops[3])
    hi, extended, sx = mods.get("hi") == "HI", mods.get("x") == "X", mods.get("sx") == "SX32"
    pu_used = not discarded(dest_operands(inst)[1])
    ta = flag_transform(ops[0], "i32")

    if hi:
        if sx:
            def shifted(a, c):
                v = np.asarray(a).view(np.int32).astype(np.int64).view(U64)
                return np.right_shift(np.left_shift(v, U64(shift)), U64(32)).astype(U32)
        else:
            def shifted(a, c):
                v = np.bitwise_or(np.left_shift(np.asarray(c).astype(U64), U64(32)),
                                  np.asarray(a).astype(U64))
                return np.right_shift(np.left_shift(v, U64(shift)), U64(32)).astype(U32)
    else:
        def shifted(a, c):
            return np.left_shift(a, U32(shift))

    if pu_used and extended:
        def core(a, b, c, _shift, pp):
            total = np.add(np.add(shifted(a, c).astype(U64), np.asarray(b).astype(U64)), pp)
            return total.astype(U32), np.greater_equal(total, _TWO32)
    elif pu_used:
        def core(a, b, c, _shift, pp):
            total = np.add(shifted(a, c).astype(U64), np.asarray(b).astype(U64))
            return total.astype(U32), np.greater_equal(total, _TWO32)
    elif extended:
        def core(a, b, c, _shift, pp):
            return np.add(np.add(shifted(a, c), b), pp).astype(U32), np.False_
    else:
        def core(a, b, c, _shift, pp):
            return np.add(shifted(a, c), b), np.False_
    return with_transforms(core, [ta])


def _signed(x):
    return np.asarray(x).view(np.int32)


def _shape(*values) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(v) for v in values))


def constant_compare(value: bool) -> Callable:
    """A comparison that is always ``value`` (the F and T conditions), shaped like its inputs."""
    fill = np.ones if value else np.zeros
    return lambda x, y: fill(_shape(x, y), dtype=bool)


INT_COMPARES: dict[str, Callable] = {
    "LT": np.less, "EQ": np.equal, "LE": np.less_equal,
    "GT": np.greater, "NE": np.not_equal, "GE": np.greater_equal,
}
"""ISETP conditions other than F and T, as numpy comparisons."""


def isetp(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """ISETP: pu = (a cmp b) bop pp; pv = !(a cmp b) bop pp; signed unless .U32."""
    cmp = mods["cmp"]
    if cmp in ("F", "T"):
        compare = constant_compare(cmp == "T")
    elif mods.get("type") == "U32":
        compare = INT_COMPARES[cmp]
    else:
        base = INT_COMPARES[cmp]

        def compare(a, b):
            return base(_signed(a), _signed(b))
    return setp(compare, inst, mods)


def imnmx(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """IMNMX: min(a, b) when pp, else max(a, b); signed unless .U32."""
    pick = constant_pred(source_operands(inst)[2])
    if mods.get("type") == "U32":
        lo, hi = np.minimum, np.maximum
    else:
        def lo(a, b):
            return np.minimum(_signed(a), _signed(b)).view(U32)

        def hi(a, b):
            return np.maximum(_signed(a), _signed(b)).view(U32)

    if pick is True:
        return lambda a, b, pp: (lo(a, b),)
    if pick is False:
        return lambda a, b, pp: (hi(a, b),)
    return lambda a, b, pp: (np.where(pp, lo(a, b), hi(a, b)),)


def iabs(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """IABS: |b| in two's complement (|INT_MIN| = INT_MIN)."""

    def fn(b):
        m = np.right_shift(_signed(b), 31).view(U32)
        return (np.subtract(np.bitwise_xor(b, m), m),)

    return fn


def sel(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """SEL (and FSEL without FTZ): pp ? a : b."""
    return select(source_operands(inst)[2])


def select(pp: Pred) -> Callable:
    """``fn(a, b, pp) -> (pp ? a : b,)``, fixed at build time when pp is PT or !PT."""
    pick = constant_pred(pp)
    if pick is True:
        return lambda a, b, pp: (a,)
    if pick is False:
        return lambda a, b, pp: (b,)
    return lambda a, b, pp: (np.where(pp, a, b),)


def mov(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """MOV: d = b."""
    return lambda b: (b,)


FACTORIES: dict[str, Callable] = {
    "IADD3": iadd3, "IMAD": imad, "LEA": lea, "ISETP": isetp, "IMNMX": imnmx,
    "IABS": iabs, "SEL": sel, "MOV": mov,
}
"""Semantics factories of this module, by opcode."""
