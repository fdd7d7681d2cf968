"""Binding a launch's arguments to a kernel's parameters, and the specialization they pick.

A kernel is compiled once per *specialization*: the types of its runtime arguments (from
the annotations, or inferred from the values when a parameter has none) and the values of
its ``wf.constexpr`` parameters, which may be bound by keyword or positionally, or left
out where the signature gives them a default (``BLOCK: wf.constexpr = 128``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..isa.errors import UsageError
from ..simulator import DeviceArray, LaunchError
from .types import SCALARS, ArrayDType, DType, ScalarDType, constexpr, from_value

NO_DEFAULT = inspect.Parameter.empty
"""The default of a parameter that has none."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a kernel: its name, annotation (a DSL type, ``constexpr`` or
    None when absent), and for a constexpr its default value (:data:`NO_DEFAULT`: none)."""

    name: str
    annotation: object
    default: object = NO_DEFAULT

    @property
    def is_constexpr(self) -> bool:
        """True for a ``wf.constexpr`` parameter."""
        return self.annotation is constexpr


def parameters(fn) -> list[Parameter]:
    """The parameters of kernel function ``fn``; UsageError for ``*args``/``**kwargs`` or
    a default value on a runtime parameter (a constexpr's default is used when a launch
    does not give one)."""
    out = []
    try:  # annotations may be strings (``from __future__ import annotations``)
        signature = inspect.signature(fn, eval_str=True)
    except Exception as err:  # any error evaluating the user's annotation text
        raise UsageError(f"kernel {fn.__name__}: cannot evaluate its annotations: {err}") \
            from None
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise UsageError(f"kernel {fn.__name__}: *args and **kwargs are not supported")
        ann = None if p.annotation is inspect.Parameter.empty else p.annotation
        if ann is not None and ann is not constexpr and not isinstance(
                ann, (ScalarDType, ArrayDType)):
            raise UsageError(f"kernel {fn.__name__}: parameter {p.name!r} is annotated "
                            f"{ann!r}; use a warpforge type (wf.f32, wf.f32[:], ...) or "
                            "wf.constexpr")
        if p.default is not NO_DEFAULT and ann is not constexpr:
            raise UsageError(f"kernel {fn.__name__}: parameter {p.name!r} has a default "
                             "value; only wf.constexpr parameters may have one")
        out.append(Parameter(p.name, ann, p.default))
    return out


@dataclass(frozen=True)
class Bound:
    """A launch's arguments bound to parameters: runtime values with their types, and
    constexpr values."""

    values: dict[str, object]
    types: dict[str, DType]
    constexprs: dict[str, object]

    def key(self) -> tuple:
        """The specialization: runtime types in order, and the constexpr values."""
        return (tuple((n, str(t)) for n, t in self.types.items()),
                tuple((n, type(v).__name__, repr(v)) for n, v in sorted(self.constexprs.items())))


def _type_of(name: str, value: object, annotation: object, kernel: str) -> DType:
    try:
        inferred = from_value(value)
    except TypeError as err:
        raise LaunchError(f"kernel {kernel}: parameter {name!r}: {err}") from None
    if annotation is None:
        return inferred
    if isinstance(annotation, ArrayDType):
        if inferred != annotation:
            raise LaunchError(f"kernel {kernel}: parameter {name!r} is {annotation} but the "
                              f"argument is {_describe(value, inferred)}")
        return annotation
    if isinstance(inferred, ArrayDType):
        raise LaunchError(f"kernel {kernel}: parameter {name!r} is the scalar {annotation} "
                          f"but the argument is {_describe(value, inferred)}")
    if annotation.ir.is_int and isinstance(value, (float, np.floating)):
        raise LaunchError(f"kernel {kernel}: parameter {name!r} is {annotation} but the "
                          f"argument is the float {value!r}")
    return annotation


def _describe(value: object, inferred: DType) -> str:
    if isinstance(value, (np.ndarray, DeviceArray)):
        return f"an array of {value.dtype} with {value.ndim} dimension(s) ({inferred})"
    return f"{value!r} ({inferred})"


def bind(kernel: str, params: Sequence[Parameter], args: Sequence[object],
         kwargs: Mapping[str, object]) -> Bound:
    """Bind ``args`` (positional, every parameter in order) and ``kwargs`` (any parameter by
    name; constexprs usually) to ``params``. LaunchError names a missing, extra or
    ill-typed argument."""
    if len(args) > len(params):
        raise LaunchError(f"kernel {kernel} takes {len(params)} arguments "
                          f"({', '.join(p.name for p in params)}) but {len(args)} were given")
    given: dict[str, object] = {}
    for p, a in zip(params, args, strict=False):
        given[p.name] = a
    names = {p.name for p in params}
    for name, value in kwargs.items():
        if name not in names:
            raise LaunchError(f"kernel {kernel} has no parameter {name!r} "
                              f"(its parameters: {', '.join(p.name for p in params)})")
        if name in given:
            raise LaunchError(f"kernel {kernel}: parameter {name!r} given twice")
        given[name] = value
    for p in params:
        if p.name not in given and p.default is not NO_DEFAULT:
            given[p.name] = p.default
    missing = [p.name for p in params if p.name not in given]
    if missing:
        raise LaunchError(f"kernel {kernel}: missing argument(s) for {', '.join(missing)}")
    values, types, constexprs = {}, {}, {}
    for p in params:
        value = given[p.name]
        if p.is_constexpr:
            if not isinstance(value, (bool, int, float, np.generic)):
                raise LaunchError(f"kernel {kernel}: constexpr parameter {p.name!r} must be "
                                  f"a number or bool, not {type(value).__name__}")
            constexprs[p.name] = value.item() if isinstance(value, np.generic) else value
        else:
            values[p.name] = value
            types[p.name] = _type_of(p.name, value, p.annotation, kernel)
    return Bound(values, types, constexprs)


def parse_type(text: str) -> DType:
    """A type from its spelling: ``f32``, ``i32``, ``bool``, ``f32[:]``, ``f32[:, :]``."""
    spelled = text.replace(" ", "")
    base, _, dims = spelled.partition("[")
    scalar = SCALARS.get("bool" if base == "bool_" else base)
    if scalar is None:
        raise UsageError(f"unknown type {text!r}; types: {', '.join(SCALARS)} and arrays "
                         "like f32[:] or f32[:, :]")
    if not dims:
        return scalar
    if not dims.endswith("]") or set(dims[:-1].split(",")) != {":"}:
        raise UsageError(f"write an array type as {base}[:] or {base}[:, :], not {text!r}")
    return ArrayDType(scalar, len(dims[:-1].split(",")))


def split_types(text: str) -> list[str]:
    """A comma-separated list of type spellings, split at its top level (commas inside
    ``[...]`` or ``(...)`` belong to one type): ``"f32,f32[:, :],i32"``."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"[": 1, "]": -1, "(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


def bind_types(kernel: str, params: Sequence[Parameter], types: Sequence[DType],
               constexprs: Mapping[str, object]) -> Bound:
    """A specialization from types alone (no values): one type per runtime parameter, in
    order (none for a kernel whose runtime parameters are all annotated), and every
    constexpr's value."""
    runtime = [p for p in params if not p.is_constexpr]
    if not types and runtime and all(p.annotation is not None for p in runtime):
        types = [p.annotation for p in runtime]  # an annotated kernel needs no types given
    if len(types) != len(runtime):
        raise LaunchError(f"kernel {kernel} has {len(runtime)} runtime parameters "
                          f"({', '.join(p.name for p in runtime)}) but {len(types)} types "
                          "were given")
    constexprs = {**{p.name: p.default for p in params
                     if p.is_constexpr and p.default is not NO_DEFAULT}, **constexprs}
    missing = [p.name for p in params if p.is_constexpr and p.name not in constexprs]
    if missing:
        raise LaunchError(f"kernel {kernel}: give a value for constexpr {', '.join(missing)}")
    bound_types = {}
    for p, t in zip(runtime, types, strict=True):
        if p.annotation is not None and p.annotation != t:
            raise LaunchError(f"kernel {kernel}: parameter {p.name!r} is {p.annotation}, "
                              f"not {t}")
        bound_types[p.name] = t
    return Bound({}, bound_types, dict(constexprs))
