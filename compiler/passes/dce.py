"""Dead code elimination: remove ops whose results nobody uses and that do nothing else.

An op goes when none of its results is used and the registry says it may
(:attr:`~warpforge.compiler.ir.ops.OpInfo.removable_if_unused`: pure ops, loads,
allocations, warp votes and shuffles; never stores, atomics, barriers, returns or calls).
An ``if`` or ``for`` goes when its results are unused and everything inside may go too;
``while`` loops stay (removing one could remove an infinite loop). Blocks are swept last
op first, inner regions before their op, so a chain of dead ops goes in one sweep.

Dead values carried by structured ops go too: an ``if`` result nobody uses (both arms
stop yielding it), and a ``for`` carried value whose result nobody uses and whose block
argument the body never reads (its initial value, the body's yield of it and its result
go; what computed the yield may then die in the same sweep). A local array promoted to
registers and rewritten each step before it is read (a GEMM's fragments) would otherwise
be carried around its loop: copies on the GPU, stores to the thread's state on the CPU.
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
        if op.name in ("if", "for"):
            _prune_carried(op)
        for region in op.regions:
            _sweep(region.block)
        # the sweep may have removed the last reads of carried values: prune and sweep
        # again until nothing changes
        while op.name in ("if", "for") and _prune_carried(op):
            for region in op.regions:
                _sweep(region.block)
        if _removable(op) and not any(r.has_uses() for r in op.results):
            op.erase()


def _prune_carried(op: Op) -> bool:
    """Drop ``op``'s dead results and carried values (see the module docstring); whether
    any went."""
    body = op.regions[0].block if op.name == "for" else None
    pruned = False
    for i in reversed(range(len(op.results))):
        if op.results[i].has_uses() or (body is not None and body.args[1 + i].has_uses()):
            continue
        for region in op.regions:
            term = region.block.terminator
            if term is not None and term.name == "yield":
                term.set_operands([v for k, v in enumerate(term.operands) if k != i])
        op.erase_result(i)
        if body is not None:
            body.erase_arg(1 + i)
            op.set_operands([v for k, v in enumerate(op.operands) if k != 3 + i])
        pruned = True
    return pruned


def _removable(op: Op) -> bool:
    if not op.info.removable_if_unused or op.name == "while":
        return False
    return all(inner.name == "yield" or _removable(inner)
               for region in op.regions for inner in region.block.ops)
