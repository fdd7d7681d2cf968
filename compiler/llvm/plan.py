"""The CTA plan: where barriers split a kernel, and where values live across them.

A CTA runs on one core. Its code is cut at barriers (MCUDA's deep fission, Polygeist's
interchange; simt-on-cpu.md §3 items 4-5): a block's ops fall into *thread segments*
(maximal runs of ops that hold no barrier, each run as a loop over lane groups) and
*CTA-level ops* (a ``barrier``, or an ``if``/``for``/``while`` holding one, run once per
CTA as scalar control whose decision is CTA-uniform). Their regions are split the same
way, recursively.

A value that a later segment, a CTA-level op or a CTA-level ``yield`` reads from a
segment moves through the *arena*, the worker's scratch memory: CTA-uniform values in one
scalar slot, the others in one slot per thread (``lanes_padded`` elements, so a lane
group reads its lanes with one vector load). Block arguments and results of CTA-level
ops live in per-thread slots too (except a CTA-level ``for``'s induction variable, a
scalar). Values that are cheap to recompute are recomputed in each segment that uses them
instead (:func:`recomputable`): the leaf ops of :data:`RECOMPUTED` (constants, thread and
block indices, allocations, ``array_dim``) and pure integer expressions of them and of
block arguments, up to :data:`MAX_RECOMPUTED_OPS` ops. Index arithmetic hoisted out of a
loop that holds barriers thus keeps its shape (uniform, or ``base + thread_idx.x``) where
it is used, and accesses through it stay vector loads.

The arena also holds the CTA's shared arrays, each thread's ``local`` arrays (element
``e`` of thread ``t`` at ``e * lanes_padded + t``: consecutive threads, consecutive
addresses), and, when threads may ``return`` before a barrier, each lane group's mask of
threads still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis.uniformity import Uniformity, UniformityInfo
from ..ir.core import Block, Op, Value
from ..ir.function import Function
from ..ir.types import ScalarType

ALIGN = 64
"""Alignment of every arena region: one cache line, one zmm register."""

RECOMPUTED = frozenset({"constant", "thread_idx", "block_idx", "block_dim", "grid_dim",
                        "lane_id", "shared_alloc", "local_alloc", "dynamic_shared",
                        "array_dim"})
"""Ops recomputed wherever they are used rather than kept across barriers."""
MAX_RECOMPUTED_OPS = 32
"""The most ops an integer expression may have and still be recomputed in each segment
that uses it."""


@dataclass
class Segment:
    """A run of barrier-free ops of one block, run as one loop over lane groups."""

    block: Block
    ops: list[Op]


@dataclass(frozen=True)
class Home:
    """Where a value lives between segments: arena byte ``offset``; one element per
    thread when ``per_lane``, else one scalar."""

    offset: int
    type: ScalarType
    per_lane: bool


@dataclass
class Plan:
    """The split of a kernel into segments and CTA-level ops, and its arena layout."""

    lanes: int
    lanes_padded: int
    items: dict[Block, list[Segment | Op]] = field(default_factory=dict)
    homes: dict[Value, Home] = field(default_factory=dict)
    buffers: dict[Op, int] = field(default_factory=dict)
    """Arena offset of each ``shared_alloc`` and ``local_alloc`` op."""
    alive_offset: int | None = None
    """Arena offset of the per-group masks of running threads (None: not tracked)."""
    size: int = 0
    zeroed_bytes: int = 0
    """The arena's first bytes, shared and local arrays, which every CTA starts with zeroed
    (as the simulator does), so that no CTA sees what another one, or another launch,
    left there."""
    shared_bytes: int = 0

    def take(self, nbytes: int) -> int:
        """Reserve ``nbytes`` of the arena, aligned; returns the offset."""
        offset = -(-self.size // ALIGN) * ALIGN
        self.size = offset + max(int(nbytes), 1)
        return offset


def has_barrier(op: Op) -> bool:
    """True if ``op`` is a barrier or holds one."""
    return any(inner.name == "barrier" for inner in op.walk())


def has_return(op: Op) -> bool:
    """True if ``op`` is a ``return`` or holds one."""
    return any(inner.name == "return" for inner in op.walk())


def split(block: Block) -> list[Segment | Op]:
    """``block``'s ops (its terminator aside) as segments and CTA-level ops."""
    items: list[Segment | Op] = []
    run: list[Op] = []
    for op in block.ops:
        if op.info.terminator:
            break
        if has_barrier(op):
            if run:
                items.append(Segment(block, run))
                run = []
            if op.name != "barrier":
                items.append(op)
        else:
            run.append(op)
    if run:
        items.append(Segment(block, run))
    return items


def make_plan(func: Function, uniformity: UniformityInfo, lanes: int,
              threads: int) -> Plan:
    """Split ``func`` and lay out its arena for a CTA of ``threads`` threads run
    ``lanes`` at a time."""
    padded = -(-threads // lanes) * lanes
    plan = Plan(lanes, padded)
    for op in func.walk():
        if op.name == "shared_alloc":
            plan.buffers[op] = plan.take(op.results[0].type.nbytes)
            plan.shared_bytes += -(-op.results[0].type.nbytes // ALIGN) * ALIGN
    for op in func.walk():
        if op.name == "local_alloc":
            plan.buffers[op] = plan.take(op.results[0].type.nbytes * padded)
    plan.zeroed_bytes = plan.size
    _split_blocks(plan, func.block)
    segments = [s for items in plan.items.values() for s in items if isinstance(s, Segment)]
    if len(segments) > 1 and any(has_return(op) for s in segments for op in s.ops):
        plan.alive_offset = plan.take(4 * (padded // lanes))
    for items in plan.items.values():
        for item in items:
            if isinstance(item, Op):
                _home_cta_op(plan, item)
    for items in plan.items.values():
        for item in items:
            if isinstance(item, Segment):
                _home_segment_values(plan, item, uniformity)
    return plan


def _split_blocks(plan: Plan, block: Block) -> None:
    items = split(block)
    plan.items[block] = items
    for item in items:
        if isinstance(item, Op):
            for region in item.regions:
                _split_blocks(plan, region.block)


def _lane_home(plan: Plan, value: Value) -> Home:
    t = value.type
    if not isinstance(t, ScalarType):
        raise TypeError(f"an array value cannot live across a barrier: {value!r}")
    return Home(plan.take(t.itemsize * plan.lanes_padded), t, True)


def _home_cta_op(plan: Plan, op: Op) -> None:
    """Per-thread slots for the block arguments and results of a CTA-level op."""
    if op.name == "for":
        body = op.regions[0].block
        yielded = body.terminator.operands if body.terminator.name == "yield" else ()
        last = plan.items[body][-1] if plan.items[body] else None
        for i, (arg, result) in enumerate(zip(body.args[1:], op.results, strict=True)):
            plan.homes[arg] = plan.homes[result] = _lane_home(plan, arg)
            # not when the yield also reads this slot to carry it on as another value
            # (front, back = back, BK - back): the in-place store would overwrite it first
            if i < len(yielded) and arg not in yielded \
                    and _updates_in_place(yielded[i], last, plan):
                plan.homes[yielded[i]] = plan.homes[arg]
    elif op.name == "while":
        before, after = (r.block for r in op.regions)
        for arg in before.args:
            plan.homes[arg] = _lane_home(plan, arg)
        for arg, result in zip(after.args, op.results, strict=True):
            plan.homes[arg] = plan.homes[result] = _lane_home(plan, arg)
    elif op.name == "if":
        for result in op.results:
            plan.homes[result] = _lane_home(plan, result)


def _updates_in_place(value: Value, last: Segment | Op | None, plan: Plan) -> bool:
    """True when a CTA-level loop's next carried ``value`` may be stored straight into
    the carried value's slot: it is computed in the body's last segment and used only by
    the ``yield``. A group reads every slot it needs when it starts a segment, so its
    lanes have read the old value before they store the new one, and no later segment of
    the iteration reads the slot; the caller also keeps the slot when the ``yield`` reads
    it as another carried value (a swap). Not for the result of an ``if`` or a loop: stored in
    place, it gave wrong values (a loop of ``w = w + v; syncthreads(); if w > 0: v = v &
    7`` took the branch on the CPU where it should not; the regression test is in
    tests/e2e/test_regressions.py)."""
    op = value.defining_op
    return (isinstance(last, Segment) and op is not None and op in last.ops
            and not op.regions and len(value.uses) == 1 and value not in plan.homes
            and isinstance(value.type, ScalarType))


def recomputable(value: Value, sizes: dict[Value, int] | None = None) -> bool:
    """True when ``value`` can be recomputed wherever it is used: a leaf op of
    :data:`RECOMPUTED`, or a pure op on integers and bools whose operands are block
    arguments or recomputable, at most :data:`MAX_RECOMPUTED_OPS` ops in all."""
    return _recompute_size(value, {} if sizes is None else sizes) <= MAX_RECOMPUTED_OPS


def _recompute_size(value: Value, sizes: dict[Value, int]) -> int:
    op = value.defining_op
    if op is None:
        return 0
    if value in sizes:
        return sizes[value]
    too_big = MAX_RECOMPUTED_OPS + 1
    if op.name in RECOMPUTED:
        size = 1
    elif (not op.info.is_pure or len(op.results) != 1
          or not all(_is_integer(v) for v in (*op.operands, *op.results))):
        size = too_big
    else:
        size = min(too_big, 1 + sum(_recompute_size(v, sizes) for v in op.operands))
    sizes[value] = size
    return size


def _is_integer(value: Value) -> bool:
    t = value.type
    return isinstance(t, ScalarType) and (t.is_int or t.is_bool)


def _home_segment_values(plan: Plan, segment: Segment, uniformity: UniformityInfo) -> None:
    members = set(segment.ops)
    sizes: dict[Value, int] = {}
    for op in segment.ops:
        if op.name in RECOMPUTED:
            continue
        for value in op.results:
            if value in plan.homes or recomputable(value, sizes):
                continue
            if not any(_top_op(use.op, segment.block) not in members for use in value.uses):
                continue
            t = value.type
            if not isinstance(t, ScalarType):
                raise TypeError(f"an array value cannot live across a barrier: {value!r}")
            if uniformity.of(value) == Uniformity.CTA:
                plan.homes[value] = Home(plan.take(t.itemsize), t, False)
            else:
                plan.homes[value] = _lane_home(plan, value)


def _top_op(op: Op, block: Block) -> Op | None:
    """The op of ``block`` that is ``op`` or holds it (None if outside ``block``)."""
    current: Op | None = op
    while current is not None and current.parent is not block:
        current = current.parent_op
    return current
