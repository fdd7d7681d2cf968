"""The check that loops around ``syncthreads()`` run the same number of times in every
thread of a CTA.

Whether a loop's trip count is CTA-uniform is the shared analysis' answer
(:mod:`warpforge.compiler.analysis.uniformity`); this module only finds, for the error
message, the thread-dependent value the trip count derives from (``thread_idx.x``, a
load, ...) by walking the dependences back from the loop's decision.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...compiler.analysis.uniformity import Uniformity, UniformityInfo, analyze_uniformity
from ...compiler.ir.core import BlockArg, Op, OpResult, Value
from ...compiler.ir.function import Function, Module

SOURCES = {
    "thread_idx": lambda op: f"thread_idx.{op.attr('dim')}",
    "lane_id": lambda op: "lane_id()",
    "load": lambda op: "a value loaded from memory",
    "atomic": lambda op: "the result of an atomic",
    "shfl": lambda op: "a warp shuffle",
    "vote": lambda op: "a warp vote",
    "mma": lambda op: "a warp MMA",
    "call": lambda op: f"the result of @{op.attr('callee')}",
}
"""How messages name the ops thread-dependent values come from."""


def _last(op: Op, region: int) -> Op | None:
    ops = op.regions[region].block.ops
    return ops[-1] if ops else None


def _yielded(term: Op | None, index: int) -> list[Value]:
    if term is None or term.name != "yield" or index >= len(term.operands):
        return []
    return [term.operands[index]]


def decision_values(op: Op) -> list[Value]:
    """The values an ``if``/``for``/``while`` op's choice depends on directly."""
    if op.name == "for":
        return list(op.operands[:3])
    if op.name == "while":
        return _yielded(_last(op, 0), 0)
    return list(op.operands[:1])


def _inputs(value: Value) -> Iterator[Value]:
    """The values ``value`` is computed or merged from."""
    if isinstance(value, OpResult):
        op, i = value.op, value.index
        if op.name == "if":
            yield op.operands[0]
            for r in range(2):
                yield from _yielded(_last(op, r), i)
        elif op.name == "for":
            yield from op.operands[:3]
            yield op.operands[3 + i]
            yield from _yielded(_last(op, 0), i)
        elif op.name == "while":
            yield from decision_values(op)
            yield from _yielded(_last(op, 0), 1 + i)
        else:
            yield from op.operands
    elif isinstance(value, BlockArg):
        owner = value.block.parent_op
        if owner is None:
            return
        i = value.index
        if owner.name == "for":
            yield from owner.operands[:3]
            if i > 0:
                yield owner.operands[2 + i]
                yield from _yielded(_last(owner, 0), i - 1)
        elif owner.name == "while":
            if value.block is owner.regions[0].block:
                yield owner.operands[i]
                yield from _yielded(_last(owner, 1), i)
            else:
                yield from decision_values(owner)
                yield from _yielded(_last(owner, 0), 1 + i)


def explain(info: UniformityInfo, roots: list[Value]) -> str:
    """The thread-dependent source the varying ``roots`` derive from, in words."""
    seen: set[Value] = set()
    stack = [v for v in reversed(roots) if not info.is_uniform(v, Uniformity.CTA)]
    while stack:
        value = stack.pop()
        if value in seen:
            continue
        seen.add(value)
        op = value.defining_op
        if op is not None and op.name in SOURCES:
            return SOURCES[op.name](op)
        stack.extend(v for v in reversed(list(_inputs(value)))
                     if not info.is_uniform(v, Uniformity.CTA))
    return "a value that differs between threads"


def contains_barrier(op: Op, module: Module | None) -> bool:
    """True if ``op``'s regions hold a barrier, directly or through a called function."""
    for inner in op.walk():
        if inner.name == "barrier":
            return True
        if inner.name == "call" and module is not None:
            callee = module.get(str(inner.attr("callee")))
            if callee is not None and any(contains_barrier(o, module)
                                          for o in callee.block.ops):
                return True
    return False


def divergent_barrier_loops(func: Function, module: Module | None
                            ) -> list[tuple[Op, str]]:
    """The loops holding a barrier whose trip count may differ between the threads of a
    CTA, each with the thread-dependent value its trip count derives from."""
    info = analyze_uniformity(func)
    found = []
    for op in func.walk():
        if op.name not in ("for", "while") or info.decision(op) == Uniformity.CTA:
            continue
        if contains_barrier(op, module):
            found.append((op, explain(info, decision_values(op))))
    return found
