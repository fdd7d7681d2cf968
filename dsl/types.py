"""The kernel language's types: scalars (``wf.f32`` ...), global arrays (``wf.f32[:]``,
``wf.f32[:, :]``) and the ``wf.constexpr`` marker.

Each DSL scalar type wraps an IR scalar type (:mod:`warpforge.compiler.ir.types`);
:func:`to_ir` is the one mapping from DSL types to IR types. In a kernel, calling a type
is a cast (``wf.f32(i)``); in plain Python it converts a number to the numpy scalar of
that type. :func:`from_value` infers the type of a launch argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.ir import types as ir
from ..isa.errors import UsageError


@dataclass(frozen=True)
class ScalarDType:
    """A scalar type of the kernel language, wrapping IR type ``ir``."""

    ir: ir.ScalarType

    @property
    def name(self) -> str:
        """The type's name (``f32``, ``bool``...)."""
        return self.ir.name

    def __getitem__(self, dims: object) -> ArrayDType:
        """``f32[:]`` or ``f32[:, :]``: a global array of this element type."""
        items = dims if isinstance(dims, tuple) else (dims,)
        if not items or not all(isinstance(d, slice) and d == slice(None) for d in items):
            raise UsageError(f"write an array type as {self.name}[:] or {self.name}[:, :], "
                            f"not {self.name}[{dims!r}]")
        return ArrayDType(self, len(items))

    def __call__(self, value: object) -> np.generic:
        """Outside kernels: ``value`` as a numpy scalar of this type."""
        try:
            return self.ir.np_dtype.type(value)
        except (TypeError, ValueError, OverflowError) as err:
            raise UsageError(f"wf.{self.name}({value!r}): {err}") from None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"wf.{self.name if self.name != 'bool' else 'bool_'}"


@dataclass(frozen=True)
class ArrayDType:
    """A global array type: element type and rank (row-major, any strides at launch)."""

    elem: ScalarDType
    ndim: int

    @property
    def ir(self) -> ir.ArrayType:
        """The IR type: an array in global memory with a dynamic shape."""
        return ir.ArrayType(self.elem.ir, self.ndim, ir.AddressSpace.GLOBAL)

    def __str__(self) -> str:
        return f"{self.elem}[{', '.join([':'] * self.ndim)}]"

    def __repr__(self) -> str:
        return f"{self.elem!r}[{', '.join([':'] * self.ndim)}]"


class _Constexpr:
    """The ``wf.constexpr`` annotation: a parameter whose value is known at compile time."""

    def __repr__(self) -> str:
        return "wf.constexpr"


constexpr = _Constexpr()
"""Annotation marking a compile-time parameter (``BM: wf.constexpr``)."""

f16 = ScalarDType(ir.f16)
f32 = ScalarDType(ir.f32)
f64 = ScalarDType(ir.f64)
i32 = ScalarDType(ir.i32)
u32 = ScalarDType(ir.u32)
i64 = ScalarDType(ir.i64)
bool_ = ScalarDType(ir.bool_)
u64 = ScalarDType(ir.u64)
i8 = ScalarDType(ir.i8)
u8 = ScalarDType(ir.u8)
i16 = ScalarDType(ir.i16)
u16 = ScalarDType(ir.u16)

SCALARS: dict[str, ScalarDType] = {t.name: t for t in (f16, f32, f64, i32, u32, i64, bool_,
                                                       u64, i8, u8, i16, u16)}
"""Every DSL scalar type by name."""

DType = ScalarDType | ArrayDType


def to_ir(t: DType | ir.ScalarType | ir.ArrayType) -> ir.ScalarType | ir.ArrayType:
    """The IR type of DSL type ``t`` (IR types are returned as they are)."""
    if isinstance(t, (ScalarDType, ArrayDType)):
        return t.ir
    if isinstance(t, (ir.ScalarType, ir.ArrayType)):
        return t
    raise UsageError(f"{t!r} is not a warpforge type")


def from_ir(t: ir.ScalarType) -> ScalarDType | None:
    """The DSL scalar type wrapping IR type ``t``, or None if the DSL has none."""
    return SCALARS.get(t.name)


_BY_DTYPE: dict[np.dtype, ScalarDType] = {t.ir.np_dtype: t for t in SCALARS.values()}


def from_dtype(dtype: object) -> ScalarDType:
    """The DSL scalar type of numpy ``dtype``; TypeError naming it if there is none."""
    dt = np.dtype(dtype)
    found = _BY_DTYPE.get(dt)
    if found is None:
        names = ", ".join(str(t.ir.np_dtype) for t in SCALARS.values())
        raise UsageError(f"unsupported dtype {dt} (kernels take {names})")
    return found


def from_value(value: object) -> DType:
    """The type of launch argument ``value``: a numpy (or device) array gives an array type
    of its dtype and rank; Python ``bool``/``int``/``float`` give ``bool_``/``i32``/``f32``;
    numpy scalars give their dtype's type. TypeError for anything else."""
    if isinstance(value, np.generic):
        return from_dtype(value.dtype)
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return i32
    if isinstance(value, float):
        return f32
    dtype, ndim = getattr(value, "dtype", None), getattr(value, "ndim", None)
    if dtype is not None and isinstance(ndim, int):
        if ndim < 1:
            return from_dtype(dtype)
        return ArrayDType(from_dtype(dtype), ndim)
    raise UsageError(f"cannot pass a {type(value).__name__} to a kernel "
                    "(pass numpy arrays, numbers or bools)")
