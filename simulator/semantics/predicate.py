"""Predicate logic: LOP3-style truth tables, PLOP3, and the compare-then-combine of SETPs.

A LUT is the 8-bit truth table of a function of three inputs, indexed by
``(a << 2) | (b << 1) | c``; equivalently the function's value on the constants
``a = 0xF0, b = 0xCC, c = 0xAA`` (AND ``0xc0``, OR ``0xfc``, XOR ``0x3c``). :func:`compile_lut`
turns a table into a short expression of ``&``, ``|``, ``^`` and ``~`` (Shannon expansion on
the inputs the table depends on, with the common shapes special-cased), so evaluating it is
a handful of numpy operations on uint32 words (LOP3) or bool arrays (PLOP3) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.program import Instruction
from .operands import dest_operands, discarded, literal, source_operands

Lut = Callable[[object, object, object], object]
"""A compiled truth table: ``f(a, b, c)`` evaluated bitwise."""

_VARS = 3


def _cofactors(table: int, var: int, nvars: int) -> tuple[int, int]:
    """(table with input ``var`` = 0, with ``var`` = 1) over the remaining inputs."""
    lo = hi = 0
    rest = [v for v in range(nvars) if v != var]
    for sub in range(1 << (nvars - 1)):
        index0 = 0
        for pos, v in enumerate(rest):
            if (sub >> (len(rest) - 1 - pos)) & 1:
                index0 |= 1 << (nvars - 1 - v)
        index1 = index0 | (1 << (nvars - 1 - var))
        lo |= ((table >> index0) & 1) << sub
        hi |= ((table >> index1) & 1) << sub
    return lo, hi


def _build(table: int, inputs: list[Callable]) -> Callable:
    """Expression for ``table`` over ``inputs`` (getters of the call's arguments)."""
    n = len(inputs)
    full = (1 << (1 << n)) - 1
    if table == 0:
        return lambda args: args[0] ^ args[0]
    if table == full:
        return lambda args: ~(args[0] ^ args[0])
    x = inputs[0]
    f0, f1 = _cofactors(table, 0, n)
    if f0 == f1:
        return _build(f0, inputs[1:])
    if n == 1:  # f0 != f1 over no further inputs: x or ~x
        return x if f1 else (lambda args: ~x(args))
    rest = inputs[1:]
    sub_full = (1 << (1 << (n - 1))) - 1
    if f0 == 0:
        g = _build(f1, rest)
        return lambda args: x(args) & g(args)
    if f1 == 0:
        g = _build(f0, rest)
        return lambda args: g(args) & ~x(args)
    if f1 == sub_full:
        g = _build(f0, rest)
        return lambda args: x(args) | g(args)
    if f0 == sub_full:
        g = _build(f1, rest)
        return lambda args: g(args) | ~x(args)
    if f0 ^ f1 == sub_full:
        g = _build(f0, rest)
        return lambda args: x(args) ^ g(args)
    g0, g1 = _build(f0, rest), _build(f1, rest)
    return lambda args: (lambda v0: v0 ^ (x(args) & (v0 ^ g1(args))))(g0(args))


def _arg(i: int) -> Callable:
    return lambda args: args[i]


def compile_lut(table: int) -> Lut:
    """``f(a, b, c)`` computing the 8-bit truth table ``table`` bitwise."""
    if not 0 <= table <= 0xFF:
        raise ValueError(f"LUT must be 0..0xff, found {table:#x}")
    expr = _build(table, [_arg(i) for i in range(_VARS)])
    return lambda a, b, c: expr((a, b, c))


BOOL_OPS: dict[str, Callable] = {
    "AND": np.logical_and,
    "OR": np.logical_or,
    "XOR": np.logical_xor,
}
"""The ``bop`` that combines a comparison with the predicate ``pp``."""


def setp(compare: Callable, inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """``fn(a, b, pp) -> (pu, pv)`` for ISETP/FSETP: pu = cmp bop pp, pv = !cmp bop pp.

    ``pv`` is not computed when the instruction writes it to ``PT`` (a cheap False stands in).
    """
    bop = BOOL_OPS[mods["bop"]]
    pv_used = not discarded(dest_operands(inst)[1])

    if pv_used:
        def fn(a, b, pp):
            cmp = compare(a, b)
            return bop(cmp, pp), bop(np.logical_not(cmp), pp)
    else:
        def fn(a, b, pp):
            return bop(compare(a, b), pp), np.False_
    return fn


def plop3(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """PLOP3: ``pu = LUT(a, b, c)``, ``pv = LUT2(a, b, c)`` on predicates."""
    ops = source_operands(inst)
    lut, lut2 = compile_lut(literal(ops[3])), compile_lut(literal(ops[4]))

    def fn(a, b, c, _lut=None, _lut2=None):
        a, b, c = np.asarray(a, bool), np.asarray(b, bool), np.asarray(c, bool)
        return lut(a, b, c), lut2(a, b, c)

    return fn
