"""Full unrolling of ``for`` loops marked ``unroll = true`` (``wf.static_range``).

A marked loop whose ``lb``, ``ub`` and ``step`` are compile-time constants — constants, or
pure foldable ops of constants, evaluated here with the IR's exact semantics without
changing the IR — is replaced by one copy of its body per trip, in order: the copy's
induction variable is a new ``constant`` (the loop's index type), its carried arguments
are the previous copy's yielded values (the loop's ``init`` for the first), and the
loop's results become the last copy's yielded values (``init`` when it runs zero times).
A body ending in ``return`` stops the unrolling after its first copy (what follows it in
the block is unreachable and goes).

Loops are unrolled outermost first, so an inner loop whose bounds depend on the outer
induction variable (``static_range(i)``) becomes constant once its outer loop is copied.
A marked loop whose bounds are still not constant, whose step is 0, or that would make
more than :data:`MAX_TRIPS` copies is an :class:`IRError` at its location (static_range
promises a compile-time trip count). ``unroll = N`` (partial unrolling) is left alone.
"""

from __future__ import annotations

from ..errors import IRError
from ..ir.clone import inline_region_before
from ..ir.core import Op, Value
from ..ir.function import Function
from ..ir.semantics import Scalar, evaluate
from .fold import FOLDABLE

MAX_TRIPS = 4096
"""The most copies of a body one loop may unroll into."""


def unroll(func: Function) -> Function:
    """Fully unroll every ``for`` marked ``unroll = true`` in ``func``; returns it."""
    while True:
        pending = [op for op in func.walk() if _marked(op)]
        if not pending:
            return func
        ready = next((op for op in pending if _bounds(op) is not None), None)
        if ready is None:
            loop = pending[0]
            raise IRError("a static_range loop needs compile-time constant bounds",
                          loop.loc, loop)
        _unroll(ready, _bounds(ready))


def _marked(op: Op) -> bool:
    return op.name == "for" and op.attr("unroll") is True


def static_value(value: Value, depth: int = 0) -> Scalar | None:
    """The constant ``value`` always has, if pure foldable ops of constants define it."""
    op = value.defining_op
    if op is None or depth > 32:
        return None
    if op.name == "constant":
        return op.attr("value")
    if op.name not in FOLDABLE:
        return None
    operands = [static_value(v, depth + 1) for v in op.operands]
    if any(v is None for v in operands):
        return None
    return evaluate(op.name, op.attrs, op.operand_types, operands, op.results[0].type)


def _bounds(loop: Op) -> tuple[int, int, int] | None:
    values = [static_value(v) for v in loop.operands[:3]]
    if any(not isinstance(v, int) or isinstance(v, bool) for v in values):
        return None
    return values[0], values[1], values[2]


def _unroll(loop: Op, bounds: tuple[int, int, int]) -> None:
    lb, ub, step = bounds
    if step == 0:
        raise IRError("a static_range loop has step 0", loop.loc, loop)
    trips = range(lb, ub, step)
    if len(trips) > MAX_TRIPS:
        raise IRError(f"a static_range loop of {len(trips)} trips is more than the "
                      f"{MAX_TRIPS} that unroll fully", loop.loc, loop)
    body = loop.regions[0]
    iv_type = loop.operands[0].type
    carried: tuple[Value, ...] = tuple(loop.operands[3:])
    block = loop.parent
    for trip in trips:
        iv = Op("constant", (), (iv_type,), {"value": trip}, loc=loop.loc)
        block.insert_before(loop, iv)
        mapping: dict[Value, Value] = {body.block.args[0]: iv.results[0]}
        mapping.update(zip(body.block.args[1:], carried, strict=True))
        out = inline_region_before(body, loop, mapping)
        if out is None:
            _erase_from(loop)
            return
        carried = out
    for result, value in zip(loop.results, carried, strict=True):
        result.replace_all_uses_with(value)
    loop.erase()


def _erase_from(op: Op) -> None:
    """Erase ``op`` and everything after it in its block, last first."""
    block = op.parent
    for later in reversed(block.ops[block.index(op):]):
        later.erase()
