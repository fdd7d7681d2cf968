"""Dead code elimination: remove ops whose results nobody uses and that do nothing else.

An op goes when none of its results is used and the registry says it may
(:attr:`~warpforge.compiler.ir.ops.OpInfo.removable_if_unused`: pure ops, loads,
allocations, warp votes and shuffles; never stores, atomics, barriers, returns or calls).
An ``if`` or ``for`` goes when its results are unused and everything inside may go too;
``while`` loops stay (removing one could remove an infinite loop). Blocks are swept last
op first, inner regions before their op, so a chain of dead ops goes in one sweep.
Unused carried values of ``for``/``if`` stay (a later pass may prune them).
"""

from __future__ import annotations

from ..ir.core import Block, Op
from ..ir.function import Function


def dce(func: Function) -> Function:
    """Remove dead ops from ``func`` in place; returns it."""
    _sweep(func.block)
    return func


def _sweep(block: Block) -> None:
    for op in reversed(tuple(block.ops)):
        for region in op.regions:
            _sweep(region.block)
        if _removable(op) and not any(r.has_uses() for r in op.results):
            op.erase()


def _removable(op: Op) -> bool:
    if not op.info.removable_if_unused or op.name == "while":
        return False
    return all(inner.name == "yield" or _removable(inner)
               for region in op.regions for inner in region.block.ops)
