"""Inlining: every ``call @f`` op is replaced by a copy of device function ``@f``'s body.

The IR keeps device functions beside the kernel in a :class:`~warpforge.compiler.ir.Module`
(``call`` names its callee by symbol), so the pass takes the module: use
:func:`make_inline` to get a ``Function -> Function`` pass bound to one. The callee's
parameters are bound to the call's arguments, its ops are copied before the call (keeping
their source locations), and the call's results become the values of the callee's final
``return``. Calls in the copied body are inlined in turn; a chain deeper than
:data:`MAX_DEPTH` is taken for recursion, an :class:`IRError`.

Limit: the callee must return only at the end of its body. A ``return`` nested in one of
its regions ends the *call*, which structured IR cannot express once inlined; such a
callee is an :class:`IRError` (the frontend must structure early returns into ``if``
results first).
"""

from __future__ import annotations

from ..errors import IRError
from ..ir.clone import clone_op
from ..ir.core import Op, Value
from ..ir.function import Function, Module

MAX_DEPTH = 64
"""The deepest chain of calls inlined before it is taken for recursion."""


def inline(func: Function, module: Module | None = None) -> Function:
    """Inline every call in ``func`` (callees from ``module``) in place; returns it."""
    depth: dict[Op, int] = {}
    while True:
        call = next((op for op in func.walk() if op.name == "call"), None)
        if call is None:
            return func
        level = depth.pop(call, 0)
        if level >= MAX_DEPTH:
            raise IRError(f"calls nest deeper than {MAX_DEPTH}: is @{call.attr('callee')} "
                          "recursive?", call.loc, call)
        for new in _inline_call(call, module):
            depth[new] = level + 1


def make_inline(module: Module | None):
    """An ``inline`` pass bound to ``module`` (for :func:`~.run_pipeline`)."""

    def bound(func: Function) -> Function:
        return inline(func, module)

    bound.pass_name = "inline"  # type: ignore[attr-defined]
    bound.__name__ = "inline"
    return bound


def _inline_call(call: Op, module: Module | None) -> list[Op]:
    name = str(call.attr("callee"))
    callee = module.get(name) if module is not None else None
    if callee is None:
        raise IRError(f"call to @{name}, which is not in the module", call.loc, call)
    ops = callee.block.ops
    for op in ops[:-1]:
        if any(inner.name == "return" for inner in op.walk()):
            raise IRError(f"@{name} returns early (inside a region): inlining needs the "
                          "return at the end of the body", _inner_loc(op), call)
    mapping: dict[Value, Value] = dict(zip(callee.params, call.operands, strict=True))
    block = call.parent
    new_calls: list[Op] = []
    for op in ops[:-1]:
        copy = clone_op(op, mapping)
        block.insert_before(call, copy)
        new_calls.extend(inner for inner in copy.walk() if inner.name == "call")
    ret = ops[-1]
    values = [mapping.get(v, v) for v in ret.operands]
    for result, value in zip(call.results, values, strict=True):
        result.replace_all_uses_with(value)
    call.erase()
    return new_calls


def _inner_loc(op: Op):
    """The location of the first ``return`` inside ``op`` (or ``op``'s own)."""
    for inner in op.walk():
        if inner.name == "return":
            return inner.loc or op.loc
    return op.loc
