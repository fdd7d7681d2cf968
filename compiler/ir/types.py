"""The IR's types: scalar types (singletons) and array types, objects rather than strings.

Scalars: ``bool_`` (1 bit; stored as one byte in memory), the integers ``i8 u8 i16 u16 i32
u32 i64 u64`` and the floats ``f16 f32 f64``. Integers narrower than 32 bits are *storage
types*: they may be array elements, constants, casts' sources and targets, loaded, stored
and selected, but arithmetic needs 32 or 64 bits (the frontend casts, as C promotes).

An :class:`ArrayType` stands for a memref: a base pointer, a shape and strides. Global
arrays (kernel parameters) have a dynamic shape and any strides, known at launch; shared
and local arrays come from an allocation op and have a static ``shape``, row-major and
contiguous. Types compare and hash by value and print as ``f32``,
``array<f32, 2, global>`` or ``array<f32, [16, 17], shared>``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property

import numpy as np


class ScalarKind(enum.Enum):
    """What a scalar's bits mean."""

    BOOL = "bool"
    INT = "int"
    UINT = "uint"
    FLOAT = "float"


@dataclass(frozen=True)
class ScalarType:
    """A scalar type: name, width in bits, kind, and the numpy dtype name of its values."""

    name: str
    bits: int
    kind: ScalarKind
    dtype: str

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name

    @property
    def is_bool(self) -> bool:
        """True for ``bool_``."""
        return self.kind is ScalarKind.BOOL

    @property
    def is_int(self) -> bool:
        """True for signed and unsigned integers (not bool)."""
        return self.kind in (ScalarKind.INT, ScalarKind.UINT)

    @property
    def is_signed(self) -> bool:
        """True for signed integers and floats."""
        return self.kind in (ScalarKind.INT, ScalarKind.FLOAT)

    @property
    def is_float(self) -> bool:
        """True for ``f16``, ``f32``, ``f64``."""
        return self.kind is ScalarKind.FLOAT

    @property
    def is_storage_only(self) -> bool:
        """True for integers narrower than 32 bits: no arithmetic on them."""
        return self.is_int and self.bits < 32

    @property
    def is_arithmetic(self) -> bool:
        """True for types arithmetic ops accept: 32/64-bit integers and floats."""
        return self.is_float or (self.is_int and self.bits >= 32)

    @property
    def itemsize(self) -> int:
        """Bytes per element in memory (``bool_`` takes one byte)."""
        return max(self.bits // 8, 1)

    @cached_property
    def np_dtype(self) -> np.dtype:
        """The numpy dtype holding values of this type."""
        return np.dtype(self.dtype)

    @property
    def min(self) -> int:
        """Smallest value of an integer type (0 for bool)."""
        if self.kind is ScalarKind.INT:
            return -(1 << (self.bits - 1))
        return 0

    @property
    def max(self) -> int:
        """Largest value of an integer type (1 for bool)."""
        if self.kind is ScalarKind.INT:
            return (1 << (self.bits - 1)) - 1
        return (1 << self.bits) - 1


bool_ = ScalarType("bool", 1, ScalarKind.BOOL, "bool")
i8 = ScalarType("i8", 8, ScalarKind.INT, "int8")
u8 = ScalarType("u8", 8, ScalarKind.UINT, "uint8")
i16 = ScalarType("i16", 16, ScalarKind.INT, "int16")
u16 = ScalarType("u16", 16, ScalarKind.UINT, "uint16")
i32 = ScalarType("i32", 32, ScalarKind.INT, "int32")
u32 = ScalarType("u32", 32, ScalarKind.UINT, "uint32")
i64 = ScalarType("i64", 64, ScalarKind.INT, "int64")
u64 = ScalarType("u64", 64, ScalarKind.UINT, "uint64")
f16 = ScalarType("f16", 16, ScalarKind.FLOAT, "float16")
f32 = ScalarType("f32", 32, ScalarKind.FLOAT, "float32")
f64 = ScalarType("f64", 64, ScalarKind.FLOAT, "float64")

SCALAR_TYPES: dict[str, ScalarType] = {
    t.name: t for t in (bool_, i8, u8, i16, u16, i32, u32, i64, u64, f16, f32, f64)
}
"""Every scalar type by its printed name."""


class AddressSpace(enum.Enum):
    """Where an array lives: device memory, the CTA's shared memory, or per thread."""

    GLOBAL = "global"
    SHARED = "shared"
    LOCAL = "local"


@dataclass(frozen=True)
class ArrayType:
    """A memref-like array: element type, rank, address space, and a static shape if known.

    ``shape`` is ``None`` for arrays whose shape comes at run time (kernel parameters);
    allocations have a static shape of ``ndim`` positive extents.
    """

    elem: ScalarType
    ndim: int
    space: AddressSpace = AddressSpace.GLOBAL
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.elem, ScalarType):
            raise TypeError(f"array element must be a scalar type, not {self.elem!r}")
        if not isinstance(self.space, AddressSpace):
            raise TypeError(f"array space must be an AddressSpace, not {self.space!r}")
        if not isinstance(self.ndim, int) or self.ndim < 1:
            raise TypeError(f"array rank must be a positive int, not {self.ndim!r}")
        if self.shape is not None:
            shape = tuple(self.shape)
            if len(shape) != self.ndim or not all(
                    isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
                raise TypeError(f"static shape {shape!r} does not have {self.ndim} positive "
                                "extents")
            object.__setattr__(self, "shape", shape)

    @classmethod
    def static(cls, elem: ScalarType, shape: tuple[int, ...],
               space: AddressSpace) -> ArrayType:
        """An array of static ``shape`` (row-major, contiguous) in ``space``."""
        shape = tuple(shape)
        return cls(elem, len(shape), space, shape)

    @property
    def size(self) -> int | None:
        """Number of elements of a static shape, else None."""
        if self.shape is None:
            return None
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int | None:
        """Bytes of a static shape, else None."""
        size = self.size
        return None if size is None else size * self.elem.itemsize

    def __str__(self) -> str:
        dims = str(self.ndim) if self.shape is None else f"[{', '.join(map(str, self.shape))}]"
        return f"array<{self.elem}, {dims}, {self.space.value}>"

    def __repr__(self) -> str:
        return str(self)


Type = ScalarType | ArrayType
"""Any IR type."""


def scalar_type(name: str) -> ScalarType:
    """The scalar type printed as ``name``; KeyError if there is none."""
    return SCALAR_TYPES[name]
