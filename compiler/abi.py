"""The kernel ABI: how a kernel's IR parameters become ISA parameters (``.param``).

The one place where the compiler's backends and the launcher agree on argument layout:

- a scalar parameter ``n: T`` becomes ISA param ``n`` of type ``T`` (``bool`` becomes an
  ``i32`` holding 0 or 1);
- an array parameter ``x: array<T, d, global>`` becomes, in order, ``x`` (``T*``; ``bool``
  elements are bytes, ``u8*``), then ``x_shape0`` .. ``x_shape{d-1}`` and ``x_stride0`` ..
  ``x_stride{d-1}`` (``i32`` each; strides in *elements*, so a row-major array has
  ``stride{d-1} = 1``). (The names use ``_``: ISA parameter names are identifiers, so the
  ``x.shape0`` spelling cannot be assembled.) Element ``(i, j)`` lives at
  ``x + (i*stride0 + j*stride1) *
  itemsize``; ``array_dim`` axis ``k`` reads ``x_shape{k}``.

Parameters keep the kernel's order, each array expanded in place. Offsets in constant bank
0 follow :func:`warpforge.isa.abi.param_offsets`.

A build may be specialized on what every launch guarantees of an array
(:class:`ArrayFacts`, as Triton specializes on pointer and stride divisibility by 16): the
DSL's simulator launches pass every array C-contiguous at the start of an allocation, so
their builds take the innermost stride as 1 (the parameter is still passed) and know the
pointer's alignment and whether the outer strides are multiples of 16 bytes. Address
arithmetic then folds constant offsets and proves the alignment vector accesses need.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..isa.abi import param_offsets
from ..isa.program import Param
from .errors import CompilerError
from .ir import ArrayType, Function, ScalarType


@dataclass(frozen=True)
class ArrayFacts:
    """What every launch of a build guarantees of one global array parameter (the default:
    nothing)."""

    unit_inner: bool = False
    """The innermost stride is 1 element."""
    base_pow2: int = 0
    """The pointer is a multiple of ``2**base_pow2`` bytes."""
    stride_pow2: int = 0
    """Every outer stride, in bytes, is a multiple of ``2**stride_pow2``."""


def scalar_param_type(t: ScalarType) -> str:
    """The ISA parameter type of a scalar IR parameter type."""
    return "i32" if t.is_bool else t.name


def element_param_type(t: ScalarType) -> str:
    """The ISA pointee type for array elements of type ``t``."""
    return "u8" if t.is_bool else t.name


@dataclass(frozen=True)
class ParamSlot:
    """Where one IR parameter lives in constant bank 0.

    For a scalar, ``offset`` is its offset; for an array, ``offset`` is the pointer's, and
    ``shapes``/``strides`` the offsets of its ``i32`` extents and strides.
    """

    name: str
    type: ScalarType | ArrayType
    offset: int
    shapes: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()


def expand_params(params: list[tuple[str, ScalarType | ArrayType]]) -> list[Param]:
    """The ISA parameters for IR parameters ``(name, type)``, in ABI order."""
    out: list[Param] = []
    for name, t in params:
        if isinstance(t, ArrayType):
            out.append(Param(name, element_param_type(t.elem) + "*"))
            out.extend(Param(f"{name}_shape{k}", "i32") for k in range(t.ndim))
            out.extend(Param(f"{name}_stride{k}", "i32") for k in range(t.ndim))
        else:
            out.append(Param(name, scalar_param_type(t)))
    return out


def array_arguments(pointer: object, shape: tuple[int, ...] | list[int],
                    strides: tuple[int, ...] | list[int]) -> list[object]:
    """The launch values of one array parameter, in :func:`expand_params`'s order: the
    pointer, then each extent, then each stride in elements."""
    return [pointer, *(int(n) for n in shape), *(int(s) for s in strides)]


def param_names(func: Function) -> list[str]:
    """Each parameter's name (``argN`` for an unnamed one)."""
    return [p.name or f"arg{i}" for i, p in enumerate(func.params)]


def kernel_params(func: Function) -> tuple[tuple[Param, ...], list[ParamSlot]]:
    """The ISA parameters of kernel ``func`` and, per IR parameter, its :class:`ParamSlot`."""
    irparams = list(zip(param_names(func), func.param_types, strict=True))
    for name, t in irparams:
        if isinstance(t, ArrayType) and t.space.value != "global":
            raise CompilerError(f"kernel parameter {name!r}: only global arrays may be "
                                f"parameters, not {t}")
    params = expand_params(irparams)
    offsets = param_offsets(params)
    slots: list[ParamSlot] = []
    k = 0
    for name, t in irparams:
        if isinstance(t, ArrayType):
            d = t.ndim
            slots.append(ParamSlot(name, t, offsets[k], tuple(offsets[k + 1:k + 1 + d]),
                                   tuple(offsets[k + 1 + d:k + 1 + 2 * d])))
            k += 1 + 2 * d
        else:
            slots.append(ParamSlot(name, t, offsets[k]))
            k += 1
    return tuple(params), slots
