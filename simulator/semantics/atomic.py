"""Value semantics of the atomics (ATOMG, ATOMS, RED): the new memory word from the old.

``atomic_function(op, type)`` builds ``fn(old, b, c) -> new`` once per instruction;
``atomic_combine`` is the one-call form. The executor orders conflicting threads and
applies the function element-wise; this module only says what one update computes.

Types: U32 (implied), S32, F32 on uint32 words; U64, S64, F64 on uint64 (F64: IEEE
add, fmin/fmax). Per PTX ``atom``:
ADD wraps (F32: IEEE add, round to nearest, subnormal inputs and result flushed to zero,
as PTX states for ``atom.add.f32``); MIN/MAX compare signed, unsigned, or as fminf/fmaxf
for F32; EXCH gives b; CAS gives ``c`` where ``old == b``, else ``old``; AND/OR/XOR are
bitwise; INC gives ``old >= b ? 0 : old + 1`` and DEC ``(old == 0 or old > b) ? b : old - 1``
(unsigned, ``atom.inc/.dec.u32``, here also U64). Combinations PTX does not define
(INC/DEC on signed or float types; bitwise ops on F32) raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from .floating import fmaxf, fminf
from .rounding import Value, bits32, ftz32

_WIDTH = {"U32": np.uint32, "S32": np.uint32, "F32": np.uint32,
          "U64": np.uint64, "S64": np.uint64, "F64": np.uint64}
_SIGNED = {"S32": np.int32, "S64": np.int64}


def _float_add(old, b):
    with np.errstate(all="ignore"):
        r = np.add(np.asarray(ftz32(old)).view(np.float32),
                   np.asarray(ftz32(b)).view(np.float32))
    return ftz32(bits32(r))


def _f64(bits):
    return np.asarray(bits, np.uint64).view(np.float64)


def _double_add(old, b):
    with np.errstate(all="ignore"):
        return np.asarray(np.add(_f64(old), _f64(b)), np.float64).view(np.uint64)


def _double_minmax(op: str) -> Callable:
    pick = np.fmin if op == "MIN" else np.fmax  # a NaN operand loses, as fmin/fmax

    def fn(old, b):
        with np.errstate(all="ignore"):
            return np.asarray(pick(_f64(old), _f64(b)), np.float64).view(np.uint64)
    return fn


def _minmax(op: str, type_: str) -> Callable:
    if type_ == "F32":
        return fminf if op == "MIN" else fmaxf
    if type_ == "F64":
        return _double_minmax(op)
    ufunc = np.minimum if op == "MIN" else np.maximum
    if type_ in _SIGNED:
        signed, unsigned = _SIGNED[type_], _WIDTH[type_]
        return lambda old, b: ufunc(np.asarray(old).view(signed),
                                    np.asarray(b).view(signed)).view(unsigned)
    return ufunc


@cache
def atomic_function(op: str, type: str | None = "U32") -> Callable:
    """``fn(old, b, c) -> new`` for atomic ``op`` on ``type`` (None or "" means U32)."""
    type_ = type or "U32"
    if type_ not in _WIDTH:
        raise ValueError(f"unknown atomic type {type_!r}")
    word = _WIDTH[type_]
    one = word(1)
    if op in ("INC", "DEC") and type_ not in ("U32", "U64"):
        raise ValueError(f"ATOM.{op} is defined for unsigned types only, not .{type_}")
    if op in ("AND", "OR", "XOR") and type_ in ("F32", "F64"):
        raise ValueError(f"ATOM.{op} is a bitwise operation; it has no .{type_} form")

    if op == "ADD":
        if type_ == "F32":
            return lambda old, b, c=None: _float_add(old, b)
        if type_ == "F64":
            return lambda old, b, c=None: _double_add(old, b)
        return lambda old, b, c=None: np.add(old, b)
    if op in ("MIN", "MAX"):
        pick = _minmax(op, type_)
        return lambda old, b, c=None: pick(old, b)
    if op == "EXCH":
        return lambda old, b, c=None: np.broadcast_to(
            b, np.broadcast_shapes(np.shape(old), np.shape(b)))
    if op == "CAS":
        return lambda old, b, c: np.where(np.equal(old, b), c, old)
    if op == "AND":
        return lambda old, b, c=None: np.bitwise_and(old, b)
    if op == "OR":
        return lambda old, b, c=None: np.bitwise_or(old, b)
    if op == "XOR":
        return lambda old, b, c=None: np.bitwise_xor(old, b)
    if op == "INC":
        return lambda old, b, c=None: np.where(np.greater_equal(old, b), word(0),
                                                np.add(old, one))
    if op == "DEC":
        return lambda old, b, c=None: np.where(
            np.logical_or(np.equal(old, 0), np.greater(old, b)), b, np.subtract(old, one))
    raise ValueError(f"unknown atomic operation {op!r}")


def atomic_combine(op: str, type: str | None, old: Value, b: Value,
                   c: Value | None = None) -> Value:
    """The new memory value of atomic ``op`` on ``type`` from ``old``, ``b`` (and ``c``)."""
    return atomic_function(op, type)(old, b, c)
