"""Copying IR: ops with their regions, whole functions, and a region's body in place of
its op (what unrolling, inlining and folding an ``if`` on a constant need).

Every copy takes a ``mapping`` from old values to new ones: operands found in it are
replaced, others are kept (values defined outside what is copied), and every result and
block argument copied is added to it, so one mapping can thread through several copies.
Copies keep source locations, attributes and name hints.
"""

from __future__ import annotations

from ..errors import IRError
from .core import Block, Op, Region, Value
from .function import Function


def clone_op(op: Op, mapping: dict[Value, Value] | None = None) -> Op:
    """A detached deep copy of ``op``, operands remapped through ``mapping``."""
    mapping = {} if mapping is None else mapping
    regions = [clone_region(region, mapping) for region in op.regions]
    new = Op(op.name, [mapping.get(v, v) for v in op.operands], op.result_types,
             op.attrs, regions, op.loc)
    for old, result in zip(op.results, new.results, strict=True):
        result.name = old.name
        mapping[old] = result
    return new


def clone_region(region: Region, mapping: dict[Value, Value] | None = None) -> Region:
    """A detached deep copy of ``region`` (its block's arguments get fresh values)."""
    mapping = {} if mapping is None else mapping
    old = region.block
    block = Block(old.arg_types, [a.name for a in old.args])
    mapping.update(zip(old.args, block.args, strict=True))
    for op in old.ops:
        block.append(clone_op(op, mapping))
    return Region(block)


def clone_function(func: Function, name: str | None = None) -> Function:
    """A deep copy of ``func`` (renamed to ``name`` if given)."""
    new = Function(name or func.name, [(a.name, a.type) for a in func.params],
                   func.result_types, is_kernel=func.is_kernel, attrs=func.attrs, loc=func.loc)
    mapping: dict[Value, Value] = dict(zip(func.params, new.params, strict=True))
    for op in func.block.ops:
        new.block.append(clone_op(op, mapping))
    return new


def inline_region_before(region: Region, anchor: Op,
                         mapping: dict[Value, Value] | None = None) -> tuple[Value, ...] | None:
    """Copy the ops of ``region``'s block before ``anchor``, all but a final ``yield``.

    Bind the block's arguments in ``mapping`` first. Returns the values the ``yield``
    would pass (remapped), or None when the block ends with ``return`` (copied too: the
    thread ends there, and ``anchor`` and what follows it are unreachable).
    """
    if anchor.parent is None:
        raise IRError("cannot inline before an op that is in no block", anchor.loc)
    mapping = {} if mapping is None else mapping
    block = anchor.parent
    for op in region.block.ops:
        if op.name == "yield" and op is region.block.ops[-1]:
            return tuple(mapping.get(v, v) for v in op.operands)
        block.insert_before(anchor, clone_op(op, mapping))
    return None
