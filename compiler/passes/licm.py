"""Loop-invariant code motion: ops of a ``for`` or ``while`` body that compute the same
thing on every iteration move to just before the loop.

An op is *invariant* when each operand is defined outside the loop (or by an op already
moved out). Which invariant ops move, from the top-level block of a ``for`` body or of a
``while``'s ``before``/``do`` regions (ops nested in an ``if`` inside the loop stay):

- pure ops that cannot fault, even if the loop runs zero times (they are *speculated*):
  every pure op except integer ``div rem floordiv mod`` whose divisor is not a constant
  other than 0 and -1 (a CPU traps on those);
- ``load`` only when the loop certainly runs its region at least once (a ``for`` with
  constant bounds and at least one trip, or a ``while``'s ``before`` region), and nothing in
  the loop, at any depth, writes memory, waits at a barrier, calls, or may end the thread
  (so the load reads the same value on every iteration and would have run anyway);
- never stores, atomics, allocations (each is one buffer wherever it sits, but moving it
  gains nothing), barriers, warp-collective ops (``shfl``, ``vote``: moving them changes
  which threads run them together), calls, or region ops.

Loops are processed innermost first, so an op can leave several loops in one run.
"""

from __future__ import annotations

from ..ir.core import Block, Op, Value
from ..ir.function import Function
from ..ir.ops import Effect
from ..ir.types import ScalarType
from .structured import defined_outside

DIVISIONS = frozenset({"div", "rem", "floordiv", "mod"})
"""Integer ops that may fault on some operands."""
LOOPS = frozenset({"for", "while"})


def licm(func: Function) -> Function:
    """Hoist loop-invariant ops of ``func`` in place; returns it."""
    _block(func.block)
    return func


def _block(block: Block) -> None:
    for op in block:
        for region in op.regions:
            _block(region.block)
        if op.name in LOOPS:
            _hoist(op)


def _constant(value: Value) -> object:
    op = value.defining_op
    return op.attr("value") if op is not None and op.name == "constant" else None


def _speculatable(op: Op) -> bool:
    if not op.info.is_pure:
        return False
    t = op.results[0].type if op.results else None
    if op.name in DIVISIONS and isinstance(t, ScalarType) and t.is_int:
        divisor = _constant(op.operands[1])
        return isinstance(divisor, int) and not isinstance(divisor, bool) and divisor not in (
            0, -1)
    return True


def _runs_once(loop: Op, block: Block) -> bool:
    if loop.name == "while":
        return block is loop.regions[0].block
    lb, ub, step = (_constant(v) for v in loop.operands[:3])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lb, ub, step)):
        return False
    return (step > 0 and lb < ub) or (step < 0 and lb > ub)


def _hoist(loop: Op) -> None:
    effects = Effect.NONE
    for region in loop.regions:
        for inner in region.block.walk():
            effects |= inner.info.effects
    quiet = not effects & (Effect.WRITE | Effect.BARRIER | Effect.EXIT)
    for region in loop.regions:
        block = region.block
        loads_ok = quiet and _runs_once(loop, block)
        for op in block:
            movable = _speculatable(op) or (op.name == "load" and loads_ok)
            if movable and all(defined_outside(v, loop) for v in op.operands):
                op.move_before(loop)
