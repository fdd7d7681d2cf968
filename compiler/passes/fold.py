"""Constant folding and a few exact algebraic identities.

An arithmetic, bitwise, ``cmp``, ``select`` or ``cast`` op whose operands are all
constants becomes a ``constant`` op (inserted where the op was, with its location), by the
exact semantics of :mod:`warpforge.compiler.ir.semantics`: integers wrap, floats compute
in their own precision, and undefined cases (integer division by zero, ``MIN / -1``,
shifts out of range) stay unfolded. Math functions are never folded: the backends may
implement them approximately.

Identities that hold for every value, NaN and signed zeros included, so only on
integers and bools: ``x + 0``, ``0 + x``, ``x - 0``, ``x * 1``, ``1 * x``, ``x / 1``,
``x // 1`` give ``x``; ``x * 0``, ``0 * x``, ``x - x`` give 0; ``true and x`` and ``false or
x`` give ``x``, ``false and x`` false and ``true or x`` true (either order). On any type:
``select(true, a, b)`` is ``a``, ``select(false, a, b)`` is ``b``, ``select(c, a, a)`` is
``a``. An integer widened and narrowed back to its own type, ``cast(cast(x: A -> B) ->
A)`` with ``B`` no narrower than ``A``, is ``x`` (the low bits survive a widening of either
signedness). An array index
that is a signed ``i32`` widened to ``i64`` is the ``i32`` itself (the same number: a 64-bit
language such as Numba's widens every index, and the 32-bit address arithmetic is cheaper).

An ``if`` whose condition is a constant becomes the ops of the arm it takes (what a
device function's flag argument leaves once inlined), unless that arm returns.

Replaced ops are erased; the constants they used stay for :mod:`.dce` to remove.
"""

from __future__ import annotations

from ..ir.core import Op, Value
from ..ir.function import Function
from ..ir.semantics import Scalar, evaluate
from ..ir.types import ScalarType, i32, i64

FOLDABLE = frozenset({
    "add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max", "and", "or", "xor",
    "shl", "shr", "neg", "abs", "not", "cmp", "select", "cast",
})
"""Ops with constant semantics."""
INDEXED = {"load": 1, "store": 2}
"""Ops whose operands past the array are indices, and how many operands end them."""


def fold(func: Function) -> Function:
    """Fold constants and simplify identities in ``func`` in place; returns it."""
    for op in func.walk():
        if op.name in INDEXED and op.parent is not None:
            _narrow_indices(op)
        if op.parent is None or op.name not in FOLDABLE:
            continue
        values = [_constant(v) for v in op.operands]
        if all(v is not None for v in values):
            result = evaluate(op.name, op.attrs, op.operand_types, values,
                              op.results[0].type)
            if result is not None:
                _replace(op, _make_constant(op, result))
                continue
        simpler = _identity(op, values)
        if simpler is not None:
            _replace(op, simpler)
    while _fold_an_if(func):
        pass
    return func


def _fold_an_if(func: Function) -> bool:
    """Replace one ``if`` on a constant condition by the arm it takes; False if none."""
    for op in func.walk():
        if op.name != "if" or op.parent is None:
            continue
        cond = _constant(op.operands[0])
        if cond is None or len(op.regions) < (1 if cond else 2):
            continue
        block = op.regions[0 if cond else 1].block
        term = block.terminator
        if (term is not None and term.name != "yield") or (term is None and op.results):
            continue  # an arm that returns stays an if
        for inner in [o for o in block.ops if o is not term]:
            inner.move_before(op)
        for result, value in zip(op.results, term.operands if term else (), strict=True):
            result.replace_all_uses_with(value)
        op.erase()
        return True
    return False


def _constant(value: Value) -> Scalar | None:
    op = value.defining_op
    if op is not None and op.name == "constant":
        return op.attr("value")
    return None


def _make_constant(op: Op, value: Scalar) -> Value:
    new = Op("constant", (), (op.results[0].type,), {"value": value}, loc=op.loc)
    op.parent.insert_before(op, new)
    return new.results[0]


def _replace(op: Op, value: Value) -> None:
    op.results[0].replace_all_uses_with(value)
    op.erase()


def _is(value: Scalar | None, number: int) -> bool:
    return value is not None and not isinstance(value, bool) and value == number


RIGHT_IDENTITY = {"add": 0, "sub": 0, "mul": 1, "div": 1, "floordiv": 1}
"""``x op c`` is ``x`` for integers when ``c`` is this constant."""
LEFT_IDENTITY = {"add": 0, "mul": 1}
"""``c op x`` is ``x`` for integers when ``c`` is this constant."""


def _identity(op: Op, values: list[Scalar | None]) -> Value | None:
    """A value ``op`` always equals, by an identity, or None."""
    operands = op.operands
    if op.name == "select":
        if operands[1] is operands[2]:
            return operands[1]
        if values[0] is not None:
            return operands[1] if values[0] else operands[2]
        return None
    t = op.results[0].type
    if op.name == "cast":
        return _round_trip(operands[0], t)
    if op.name in ("and", "or") and isinstance(t, ScalarType) and t.is_bool:
        for known, other in ((values[0], operands[1]), (values[1], operands[0])):
            if known is not None:  # true and x, false or x: x; false and x, true or x
                absorbing = op.name == "or"
                return _make_constant(op, absorbing) if bool(known) == absorbing else other
        return None
    if not (isinstance(t, ScalarType) and t.is_int) or len(operands) != 2:
        return None
    (x, y), (cx, cy) = operands, values
    name = op.name
    if name in RIGHT_IDENTITY and _is(cy, RIGHT_IDENTITY[name]):
        return x
    if name in LEFT_IDENTITY and _is(cx, LEFT_IDENTITY[name]):
        return y
    if (name == "mul" and (_is(cx, 0) or _is(cy, 0))) or (name == "sub" and x is y):
        return _make_constant(op, 0)
    return None


def _round_trip(value: Value, t: object) -> Value | None:
    """``x`` when ``value`` is ``cast(x)`` from integer type ``t`` to one no narrower."""
    inner = value.defining_op
    if inner is None or inner.name != "cast":
        return None
    x = inner.operands[0]
    wide = value.type
    if x.type == t and isinstance(t, ScalarType) and t.is_int and \
            isinstance(wide, ScalarType) and wide.is_int and wide.bits >= t.bits:
        return x
    return None


def _narrow_indices(op: Op) -> None:
    """Index operands ``cast(x: i32 -> i64)`` become ``x``."""
    operands = op.operands
    for i in range(1, len(operands) - INDEXED[op.name] + 1):
        inner = operands[i].defining_op
        if inner is None or inner.name != "cast":
            continue
        x = inner.operands[0]
        if x.type == i32 and operands[i].type == i64:
            op.set_operand(i, x)
