"""The kernel language's typing rules: literals, implicit promotion, type names.

- Literals: a Python ``int`` is ``i32`` when it fits (else ``i64``), a ``float`` is
  ``f32``, a ``bool`` is ``bool_``; numpy scalars keep their dtype.
- Compile-time numbers (literals, constexpr values, module constants) are *weak*: combined
  with a typed value they take its type (``x_f64 * 2`` is f64, ``u + 1`` is u32; a weak
  float meeting an integer gives f32). Variables are always strongly typed.
- Promotion of two typed operands (``common_type``): bool counts as i32 in arithmetic;
  int with float gives the float type; two floats give the wider; two integers of
  different widths give the wider (with its signedness); a signed and an unsigned integer
  of one width give the unsigned one, as in C. Integers narrower than 32 bits (loaded
  from arrays of such elements) promote to i32 first, as in C.
- Python's true division ``/`` of two integers divides in f32 (f64 when either is 64-bit).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...compiler.ir.types import ArrayType, ScalarType, Type, bool_, f32, f64, i32, i64

Weak = bool | int | float
"""A compile-time number."""


@dataclass(frozen=True)
class Dialect:
    """The typing rules a kernel is written under: the language's own (weak literals,
    ``i32``/``f32``), or Numba's (``warpforge.cuda``: literals are typed ``int64`` and
    ``float64`` like any value, and ``/`` of integers divides in ``float64``)."""

    name: str
    int_literal: ScalarType
    float_literal: ScalarType
    strong_literals: bool
    """Literals keep their own type when they meet a typed value (Numba), instead of
    taking the value's type (the language's weak literals)."""


WARPFORGE = Dialect("warpforge", i32, f32, strong_literals=False)
"""The kernel language's rules (see the module docstring)."""
NUMBA = Dialect("numba", i64, f64, strong_literals=True)
"""Numba's rules: an integer literal is int64, a float literal float64, and they promote
like any typed value (``x_f32 * 2.0`` is float64), as in Numba's CUDA target."""


def literal_type(value: Weak, dialect: Dialect = WARPFORGE) -> ScalarType | None:
    """The type a compile-time number has on its own, or None if it fits none."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        if dialect.int_literal == i32 and i32.min <= value <= i32.max:
            return i32
        if i64.min <= value <= i64.max:
            return i64
        return None
    return dialect.float_literal


def arithmetic(t: ScalarType) -> ScalarType:
    """``t`` as arithmetic sees it: bool and narrow integers become i32."""
    if t.is_bool or t.is_storage_only:
        return i32
    return t


def common_type(a: ScalarType, b: ScalarType) -> ScalarType:
    """The type both operands of an arithmetic op convert to (see the module docs)."""
    a, b = arithmetic(a), arithmetic(b)
    if a == b:
        return a
    if a.is_float and b.is_float:
        return a if a.bits >= b.bits else b
    if a.is_float or b.is_float:
        return a if a.is_float else b
    if a.bits != b.bits:
        return a if a.bits > b.bits else b
    return a if not a.is_signed else b


def weak_type(value: Weak, other: ScalarType) -> ScalarType:
    """The type a weak number takes next to a typed operand of type ``other``."""
    other = arithmetic(other) if not isinstance(value, bool) else other
    if isinstance(value, bool):
        return other if other.is_bool else arithmetic(other)
    if isinstance(value, int):
        return other
    return other if other.is_float else f32


def true_div_type(a: ScalarType, b: ScalarType, dialect: Dialect = WARPFORGE) -> ScalarType:
    """The type ``a / b`` computes in: floats as promoted; integers in f32 (f64 if wide;
    always f64 under Numba's rules)."""
    t = common_type(a, b)
    if t.is_float:
        return t
    return f64 if t.bits == 64 or dialect.float_literal == f64 else f32


def type_name(t: Type) -> str:
    """A type as kernel writers write it: ``f32``, ``f32[:]``, ``f32[16, 16] (shared)``."""
    if isinstance(t, ArrayType):
        if t.shape is None:
            return f"{t.elem}[{', '.join([':'] * t.ndim)}]"
        return f"{t.elem}[{', '.join(map(str, t.shape))}] ({t.space.value})"
    return str(t)


def describe_operand(t: Type) -> str:
    """A type for an error message, saying "(array)" after global arrays."""
    name = type_name(t)
    if isinstance(t, ArrayType) and t.shape is None:
        return f"{name} (array)"
    return name
