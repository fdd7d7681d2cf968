"""Common subexpression elimination: an op that computes what an earlier op already
computed, where the earlier one dominates it, is replaced by the earlier one's results.

Two ops are the same when they have the same name, attributes (float constants compared
by their bits, so ``0.0`` and ``-0.0`` stay apart), result types and operands (as SSA
values; the operands of commutative ops ``add mul min max and or xor`` and of
``cmp eq``/``cmp ne`` are compared as a set).

Which ops merge:

- pure ops (:attr:`~warpforge.compiler.ir.ops.OpInfo.is_pure`: no effects, no regions).
  Dominance in structured IR is lexical: an op sees the ops before it in its own block
  and in every enclosing block, so the table is scoped per region and an op in one branch
  never merges with one in a sibling branch or after the region;
- warp-collective ops (``shfl``, ``vote``: CONVERGENT) only with an identical op earlier in
  the *same* block with no op that may end threads (``return``, at any depth) between
  them, since their result depends on which threads run them together;
- never loads, stores, atomics, allocations, barriers, calls or region ops.

One forward walk: replacements happen before later ops are compared, so chains merge in
one run and a second run changes nothing.
"""

from __future__ import annotations

import struct

from ..ir.core import Block, Op
from ..ir.function import Function
from ..ir.ops import Effect

COMMUTATIVE = frozenset({"add", "mul", "min", "max", "and", "or", "xor"})
"""Binary ops whose operands may be swapped."""


def cse(func: Function) -> Function:
    """Merge common subexpressions of ``func`` in place; returns it."""
    _block(func.block, [])
    return func


def _attr_key(value: object) -> object:
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, tuple):
        return tuple(_attr_key(v) for v in value)
    return (type(value).__name__, value)


def _key(op: Op) -> tuple:
    operands = tuple(id(v) for v in op.operands)
    if op.name in COMMUTATIVE or (op.name == "cmp" and op.attr("pred") in ("eq", "ne")):
        operands = tuple(sorted(operands))
    attrs = tuple(sorted((k, _attr_key(v)) for k, v in op.attrs.items()))
    return (op.name, attrs, op.result_types, operands)


def _lookup(scopes: list[dict[tuple, Op]], key: tuple) -> Op | None:
    for scope in reversed(scopes):
        found = scope.get(key)
        if found is not None:
            return found
    return None


def _block(block: Block, scopes: list[dict[tuple, Op]]) -> None:
    scopes.append({})
    convergent: dict[tuple, Op] = {}
    for op in block:
        if op.info.is_pure or op.info.effects == Effect.CONVERGENT:
            key = _key(op)
            table = scopes[-1] if op.info.is_pure else convergent
            found = _lookup(scopes, key) if op.info.is_pure else convergent.get(key)
            if found is not None:
                for old, new in zip(op.results, found.results, strict=True):
                    old.replace_all_uses_with(new)
                op.erase()
            else:
                table[key] = op
            continue
        for region in op.regions:
            _block(region.block, scopes)
        if op.effects() & Effect.EXIT:
            convergent.clear()
    scopes.pop()
