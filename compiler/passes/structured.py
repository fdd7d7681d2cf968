"""Rebuilding structured ops with more carried values or results, for the passes that
turn values into loop-carried ones (:mod:`.strength`, :mod:`.promote`).

An op's result list is fixed once its results are used, so adding one means a new op:
these helpers make it, move the old regions' ops into it, rewire every use and erase the
old op. They return the new op and its new block arguments; the caller then sets what the
regions yield for them (initially each ``for`` body yields its new arguments unchanged,
and ``if`` branches yield nothing more: the caller must extend their yields).
:func:`defined_outside` says whether a value is invariant with respect to an op.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ir.core import Block, BlockArg, Op, Value
from ..ir.types import Type


def defined_outside(value: Value, op: Op) -> bool:
    """True if ``value`` is defined outside ``op`` (not by it, nor in its regions)."""
    owner = value.defining_op
    if owner is None:
        owner = value.block.parent_op
        if owner is None:
            return True
    return owner is not op and not op.is_ancestor_of(owner)


def _move_ops(old: Block, new: Block) -> None:
    for arg, new_arg in zip(old.args, new.args, strict=False):
        arg.replace_all_uses_with(new_arg)
    for op in old:
        op.detach()
        new.append(op)


def _replace(old: Op, new: Op) -> None:
    old.parent.insert_before(old, new)
    for result, new_result in zip(old.results, new.results, strict=False):
        new_result.name = result.name
        result.replace_all_uses_with(new_result)
    old.erase()


def extend_for(loop: Op, inits: Sequence[Value]) -> tuple[Op, list[BlockArg]]:
    """A copy of ``for`` op ``loop`` carrying ``inits`` too (after its own carried values);
    the body yields the new arguments unchanged until the caller says otherwise."""
    new = Op("for", [*loop.operands, *inits],
             [*loop.result_types, *(v.type for v in inits)], loop.attrs, None, loop.loc)
    body, new_body = loop.regions[0].block, new.regions[0].block
    for arg in body.args:
        new_body.add_arg(arg.type, arg.name)
    added = [new_body.add_arg(v.type, v.name) for v in inits]
    _move_ops(body, new_body)
    term = new_body.terminator
    if term is not None and term.name == "yield":
        term.set_operands([*term.operands, *added])
    _replace(loop, new)
    return new, added


def extend_if(op: Op, types: Sequence[Type]) -> Op:
    """A copy of ``if`` op ``op`` with results of ``types`` added after its own; the caller
    appends the branches' yielded values for them (:func:`extend_yield`)."""
    new = Op("if", op.operands, [*op.result_types, *types], op.attrs, None, op.loc)
    for region, new_region in zip(op.regions, new.regions, strict=True):
        _move_ops(region.block, new_region.block)
    _replace(op, new)
    return new


def extend_yield(block: Block, values: Sequence[Value]) -> None:
    """Append ``values`` to what ``block``'s ``yield`` passes (nothing if it returns)."""
    term = block.terminator
    if term is not None and term.name == "yield":
        term.set_operands([*term.operands, *values])
