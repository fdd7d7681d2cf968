"""Promotion of per-thread ``local_alloc`` arrays to SSA values (``wf.local`` kept in
registers).

An array qualifies when every use of it is a ``load`` or ``store`` whose indices are all
compile-time constants within its shape (constants or foldable ops of constants: run
:mod:`.unroll` first so ``static_range`` indices are constants), none of them sits in a
``while`` loop, and the allocation itself is in no loop (it is one buffer whatever its
position, so in a loop its contents would carry over from one iteration to the next).
Its elements then become SSA values, renamed in one walk over the structured IR from the
allocation on:

- a ``store`` makes the stored value the element's current value; a ``load`` is replaced by
  the current value (an element read before any store reads an undefined value: a zero of
  the element type, made after the allocation);
- a ``for`` whose body stores elements carries them: the loop gets one carried value per
  stored element (its current value going in, its value at the end of the body yielded),
  and its results are the elements' values after the loop;
- an ``if`` whose branches store elements gets one result per stored element, each branch
  yielding its own value (a branch ending in ``return`` yields nothing).

The loads, stores and the allocation are removed. Arrays that do not qualify are left
alone (their loads and stores stay memory operations).
"""

from __future__ import annotations

from ..ir.core import Block, Op, Value
from ..ir.function import Function
from ..ir.types import ArrayType, ScalarType
from .structured import extend_for, extend_if, extend_yield
from .unroll import static_value

Key = tuple[int, ...]


def promote(func: Function) -> Function:
    """Promote every qualifying local array of ``func`` in place; returns it."""
    for op in list(func.walk()):
        if op.name == "local_alloc" and op.parent is not None:
            keys = _qualifies(op)
            if keys is not None:
                _Promoter(op, keys).run()
    return func


def _qualifies(alloc: Op) -> dict[Op, Key] | None:
    array = alloc.results[0]
    shape = array.type.shape if isinstance(array.type, ArrayType) else None
    if shape is None or any(outer.name in ("for", "while") for outer in alloc.ancestors()):
        return None
    keys: dict[Op, Key] = {}
    for use in array.uses:
        op = use.op
        if op.name not in ("load", "store") or use.index != 0:
            return None
        if any(outer.name == "while" for outer in op.ancestors()):
            return None
        indices = op.operands[1:1 + len(shape)]
        values = [static_value(v) for v in indices]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n
                   for v, n in zip(values, shape, strict=True)):
            return None
        keys[op] = tuple(values)
    return keys


class _Promoter:
    def __init__(self, alloc: Op, keys: dict[Op, Key]) -> None:
        self.alloc = alloc
        self.keys = keys
        self.inside: set[Op] = set()
        self.stores_in: dict[Op, list[Key]] = {}
        for op, key in keys.items():
            for outer in op.ancestors():
                self.inside.add(outer)
                if op.name == "store":
                    stored = self.stores_in.setdefault(outer, [])
                    if key not in stored:
                        stored.append(key)
        self.zero: Value | None = None

    def undefined(self) -> Value:
        if self.zero is None:
            elem: ScalarType = self.alloc.results[0].type.elem
            value = False if elem.is_bool else 0 if elem.is_int else 0.0
            op = Op("constant", (), (elem,), {"value": value}, loc=self.alloc.loc)
            self.alloc.parent.insert_after(self.alloc, op)
            self.zero = op.results[0]
        return self.zero

    def run(self) -> None:
        block = self.alloc.parent
        start = block.index(self.alloc) + 1
        self.walk(block, {}, start)
        self.alloc.erase()

    def current(self, values: dict[Key, Value], key: Key) -> Value:
        found = values.get(key)
        return found if found is not None else self.undefined()

    def walk(self, block: Block, values: dict[Key, Value], start: int = 0) -> None:
        for op in block.ops[start:]:
            if op in self.keys:
                key = self.keys[op]
                if op.name == "store":
                    values[key] = op.operands[-1]
                else:
                    op.results[0].replace_all_uses_with(self.current(values, key))
                op.erase()
            elif op in self.inside:
                stored = self.stores_in.get(op, [])
                if op.name == "for":
                    self.for_(op, values, stored)
                elif op.name == "if":
                    self.if_(op, values, stored)

    def for_(self, loop: Op, values: dict[Key, Value], stored: list[Key]) -> None:
        if stored:
            loop, added = extend_for(loop, [self.current(values, k) for k in stored])
        else:
            added = []
        inner = dict(values)
        inner.update(zip(stored, added, strict=True))
        body = loop.regions[0].block
        self.walk(body, inner)
        term = body.terminator
        if term is not None and term.name == "yield" and stored:
            keep = len(term.operands) - len(stored)
            term.set_operands([*term.operands[:keep], *(inner[k] for k in stored)])
        count = len(loop.results) - len(stored)
        values.update(zip(stored, loop.results[count:], strict=True))

    def if_(self, op: Op, values: dict[Key, Value], stored: list[Key]) -> None:
        if stored:
            types = [self.current(values, k).type for k in stored]
            op = extend_if(op, types)
        for region in op.regions:
            inner = dict(values)
            self.walk(region.block, inner)
            if stored:
                extend_yield(region.block, [self.current(inner, k) for k in stored])
        count = len(op.results) - len(stored)
        values.update(zip(stored, op.results[count:], strict=True))
