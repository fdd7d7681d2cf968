"""Type rules of the IR's ops: operand types and attributes in, result types out.

A rule is called as ``rule(operand_types, attrs, given)``. ``given`` is the result types the
op declares (the verifier, the parser) or ``None`` (the builder, inferring them). A rule
raises :class:`IRError` with a message naming the types at fault, and returns the result
types the op must have. Ops whose result type cannot be inferred (``constant``, ``cast``,
allocations, ``if``, ``call``) need ``given``. Operand *counts* are checked before the rule
runs (the op registry's arity), so rules may index operands freely.

The rules are factories (``binary("add")``) so each op's row in :mod:`.ops` names its rule
and the verb its messages use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..errors import IRError
from .types import AddressSpace, ArrayType, ScalarType, Type, bool_, f32, i32, u32

Types = tuple[Type, ...]
TypeRule = Callable[[Types, Mapping[str, object], "Types | None"], Types]
"""``rule(operand_types, attrs, given_result_types_or_None) -> result_types``."""

INDEX_BITS = (32, 64)
"""Widths an array index may have (signed or unsigned)."""


def _names(types: Sequence[Type]) -> str:
    return ", ".join(map(str, types)) or "nothing"


def _need_given(what: str, given: Types | None, count: int = 1) -> Types:
    if given is None:
        raise IRError(f"{what} needs its result type{'s' if count != 1 else ''} stated")
    if count >= 0 and len(given) != count:
        raise IRError(f"{what} has {count} result{'s' if count != 1 else ''}, "
                      f"not {len(given)}")
    return tuple(given)


def _scalar(t: Type, what: str) -> ScalarType:
    if not isinstance(t, ScalarType):
        raise IRError(f"{what} must be a scalar, not {t}")
    return t


def binary(verb: str, accepts: Callable[[ScalarType], bool],
           needs: str) -> TypeRule:
    """Two operands of one type that ``accepts`` allows; the result has that type.

    Messages: "cannot add i32 and f32", "cannot add bool values (needs int or float)".
    """

    def rule(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
        a, b = types
        if a != b:
            raise IRError(f"cannot {verb} {a} and {b}")
        if not isinstance(a, ScalarType) or not accepts(a):
            raise IRError(f"cannot {verb} {a} values (needs {needs})")
        return (a,)

    return rule


def unary(verb: str, accepts: Callable[[ScalarType], bool], needs: str) -> TypeRule:
    """One operand of a type ``accepts`` allows; the result has its type."""

    def rule(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
        (a,) = types
        if not isinstance(a, ScalarType) or not accepts(a):
            raise IRError(f"cannot {verb} {a} (needs {needs})")
        return (a,)

    return rule


def arithmetic(t: ScalarType) -> bool:
    """32/64-bit integers and floats."""
    return t.is_arithmetic


def integer(t: ScalarType) -> bool:
    """32/64-bit integers."""
    return t.is_int and t.is_arithmetic


def integer_or_bool(t: ScalarType) -> bool:
    """32/64-bit integers and bool (bitwise ops are logical ops on bool)."""
    return integer(t) or t.is_bool


def signed_arithmetic(t: ScalarType) -> bool:
    """Signed 32/64-bit integers and floats (negation, abs)."""
    return t.is_arithmetic and t.is_signed


def transcendental(t: ScalarType) -> bool:
    """``f32`` and ``f64``: the types the math ops (exp, sin, ...) take."""
    return t.is_float and t.bits in (32, 64)


def fma(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``fma(a, b, c)``: three operands of one float type."""
    a, b, c = types
    if not (a == b == c):
        raise IRError(f"cannot fma {a}, {b} and {c} (operands must have one type)")
    if not isinstance(a, ScalarType) or not a.is_float:
        raise IRError(f"cannot fma {a} values (needs a float type)")
    return (a,)


def cmp(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """Two operands of one arithmetic type (or bool, for ``eq``/``ne``); the result is bool."""
    a, b = types
    pred = attrs.get("pred")
    if a != b:
        raise IRError(f"cannot compare {a} and {b}")
    if not isinstance(a, ScalarType) or not (
            a.is_arithmetic or (a.is_bool and pred in ("eq", "ne"))):
        raise IRError(f"cannot compare {a} values with {pred}")
    return (bool_,)


def select(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``select(cond, a, b)``: cond is bool, a and b scalars of one type."""
    c, a, b = types
    if c != bool_:
        raise IRError(f"select condition must be bool, not {c}")
    if a != b:
        raise IRError(f"cannot select between {a} and {b}")
    _scalar(a, "a selected value")
    return (a,)


def cast(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """Any scalar to any scalar type; the target is the stated result type."""
    _scalar(types[0], "a cast's operand")
    (target,) = _need_given("cast", given)
    _scalar(target, "a cast's target")
    return (target,)


def bitcast(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """A scalar to a scalar type of the same width (not bool): the same bits."""
    src = _scalar(types[0], "a bitcast's operand")
    (target,) = _need_given("bitcast", given)
    target = _scalar(target, "a bitcast's target")
    if src.is_bool or target.is_bool or src.bits != target.bits:
        raise IRError(f"cannot bitcast {src} to {target} (same width, not bool)")
    return (target,)


def constant(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """No operands; the stated scalar type, which the ``value`` attribute must fit."""
    (t,) = _need_given("constant", given)
    t = _scalar(t, "a constant")
    value = attrs.get("value")
    if t.is_bool:
        ok = isinstance(value, bool)
    elif t.is_int:
        ok = isinstance(value, int) and not isinstance(value, bool) and t.min <= value <= t.max
    else:
        ok = isinstance(value, float) and (value != value or _fits_float(value, t))
    if not ok:
        raise IRError(f"constant value {value!r} is not a {t} value")
    return (t,)


def _fits_float(value: float, t: ScalarType) -> bool:
    with np.errstate(over="ignore"):
        return float(t.np_dtype.type(value)) == value


def special(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """Thread, block and lane indices: no operands, an ``i32`` result."""
    return (i32,)


def _array(t: Type, what: str) -> ArrayType:
    if not isinstance(t, ArrayType):
        raise IRError(f"{what} needs an array, not {t}")
    return t


def _indices(array: ArrayType, indices: Types, what: str) -> None:
    if len(indices) != array.ndim:
        raise IRError(f"{what} of a {array.ndim}-d array needs {array.ndim} "
                      f"ind{'ex' if array.ndim == 1 else 'ices'}, not {len(indices)}")
    for t in indices:
        if not (isinstance(t, ScalarType) and t.is_int and t.bits in INDEX_BITS):
            raise IRError(f"array index must be a 32- or 64-bit integer, not {t}")


def load(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``load(array, *indices)``: one index per dimension; the result is the element."""
    array = _array(types[0], "load")
    _indices(array, types[1:], "load")
    return (array.elem,)


def store(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``store(array, *indices, value)``: the value has the element type; no result."""
    array = _array(types[0], "store")
    _indices(array, types[1:-1], "store")
    if types[-1] != array.elem:
        raise IRError(f"cannot store {types[-1]} into {array}")
    return ()


def array_dim(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``array_dim(array) {axis}``: the extent along ``axis`` as ``i32``."""
    array = _array(types[0], "array_dim")
    axis = attrs.get("axis")
    if not isinstance(axis, int) or not 0 <= axis < array.ndim:
        raise IRError(f"axis {axis!r} is out of range for {array}")
    return (i32,)


def alloc(space: AddressSpace) -> TypeRule:
    """An allocation in ``space``: the stated result is an array of static shape there."""

    def rule(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
        what = f"{space.value}_alloc"
        (t,) = _need_given(what, given)
        if not isinstance(t, ArrayType) or t.space is not space or t.shape is None:
            raise IRError(f"{what} makes a {space.value} array of static shape, not {t}")
        return (t,)

    return rule


def dynamic_shared(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """The launch's dynamic shared memory: the stated result is a 1-d shared array of
    dynamic length."""
    (t,) = _need_given("dynamic_shared", given)
    if not isinstance(t, ArrayType) or t.space is not AddressSpace.SHARED or \
            t.shape is not None or t.ndim != 1:
        raise IRError(f"dynamic_shared makes a 1-d shared array of dynamic length, not {t}")
    return (t,)


ATOMIC_TYPES: dict[str, tuple[str, ...]] = {
    "add": ("i32", "u32", "i64", "u64", "f32", "f64"),
    "min": ("i32", "u32", "i64", "u64", "f32", "f64"),
    "max": ("i32", "u32", "i64", "u64", "f32", "f64"),
    "inc": ("u32", "u64"),
    "dec": ("u32", "u64"),
    "and": ("i32", "u32", "i64", "u64"),
    "or": ("i32", "u32", "i64", "u64"),
    "xor": ("i32", "u32", "i64", "u64"),
    "exch": ("i32", "u32", "i64", "u64", "f32", "f64"),
    "cas": ("i32", "u32", "i64", "u64"),
}
"""Element types each atomic kind accepts (what ATOMG/ATOMS implement)."""


def atomic(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``atomic(array, *indices, value[, compare])``: returns the old element value.

    ``cas`` takes a compare operand after the value (memory becomes ``value`` where it
    equalled ``compare``); the other kinds take none. Global and shared arrays only.
    """
    kind = attrs.get("kind")
    array = _array(types[0], f"atomic {kind}")
    extra = 2 if kind == "cas" else 1
    _indices(array, types[1:len(types) - extra], f"atomic {kind}")
    if array.space is AddressSpace.LOCAL:
        raise IRError(f"atomic {kind} needs a global or shared array, not {array}")
    if array.elem.name not in ATOMIC_TYPES.get(str(kind), ()):
        raise IRError(f"atomic {kind} does not support {array.elem} elements")
    for t in types[len(types) - extra:]:
        if t != array.elem:
            raise IRError(f"atomic {kind} on {array} needs {array.elem} operands, not {t}")
    return (array.elem,)


def shfl(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``shfl(value, lane_or_offset)``: a 32/64-bit value and an ``i32``; same type back."""
    value, lane = types
    if not isinstance(value, ScalarType) or not value.is_arithmetic or value.bits < 32:
        raise IRError(f"cannot shuffle {value} (needs a 32- or 64-bit int or float)")
    if lane != i32:
        raise IRError(f"shuffle lane or offset must be i32, not {lane}")
    return (value,)


def vote(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``vote(pred)``: ``any``/``all`` give bool, ``ballot`` gives the ``u32`` lane mask."""
    if types[0] != bool_:
        raise IRError(f"vote needs a bool predicate, not {types[0]}")
    return (u32,) if attrs.get("kind") == "ballot" else (bool_,)


MMA_SHAPE = (4, 2, 4)
"""``mma`` operand counts: A's four ``u32`` words, B's two, C's four ``f32``."""


def mma(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``mma(a0..a3, b0, b1, c0..c3)``: the warp's 16x8x16 MMA fragments of one lane (A
    and B as ``u32`` words of two f16, C in ``f32``); D's four ``f32`` back."""
    na, nb, nc = MMA_SHAPE
    if len(types) != na + nb + nc:
        raise IRError(f"mma takes {na + nb + nc} operands, not {len(types)}")
    for k, t in enumerate(types):
        want = u32 if k < na + nb else f32
        if t != want:
            part = "a" if k < na else "b" if k < na + nb else "c"
            raise IRError(f"mma's {part} fragment must be {want} words, not {t}")
    return (f32,) * nc


def no_results(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """Any operands, no results (barrier, yield, return: their operands are checked by
    the verifier against the enclosing region)."""
    return ()


def if_(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``if(cond)``: a bool condition; the results are the stated (scalar) types."""
    if types[0] != bool_:
        raise IRError(f"if condition must be bool, not {types[0]}")
    results = _need_given("if", given, -1)
    for t in results:
        _scalar(t, "a value an if yields")
    return results


def for_(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``for(lb, ub, step, *init)``: bounds of one signed 32/64-bit integer type; the
    results have the carried values' (scalar) types."""
    lb, ub, step = types[:3]
    if not (lb == ub == step):
        raise IRError(f"for bounds must have one type, not {lb}, {ub} and {step}")
    if not (isinstance(lb, ScalarType) and lb.is_int and lb.is_signed and lb.bits >= 32):
        raise IRError(f"for bounds must be i32 or i64, not {lb}")
    for t in types[3:]:
        _scalar(t, "a loop-carried value")
    return tuple(types[3:])


def while_(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``while(*init)``: scalar carried values; the results have their types."""
    for t in types:
        _scalar(t, "a loop-carried value")
    return tuple(types)


def call(types: Types, attrs: Mapping[str, object], given: Types | None) -> Types:
    """``call @callee(*args)``: the stated results (checked against the callee by the
    verifier when it knows the module); results are scalars."""
    results = _need_given("call", given, -1)
    for t in results:
        _scalar(t, "a call's result")
    return results


def describe(types: Sequence[Type]) -> str:
    """Types as a readable list, for messages: "i32, f32" (or "nothing")."""
    return _names(types)
