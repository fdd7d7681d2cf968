"""Liveness on structured SSA: which values are live (defined, and used later) at each op.

:meth:`LivenessInfo.live_after` gives the values still needed after an op and
:meth:`LivenessInfo.live_before` those needed when it starts: what a register allocator
counts, and what the CPU backend must keep in per-thread storage across a barrier
(``live_after(barrier)``). Array values are included like scalars (filter by type).

Rules: backward over each block, ``live_before(op) = (live_after(op) - results) | uses``,
where a region op's uses include every value its regions use from outside. A value live
after an ``if`` and defined before it is live through both branches. For loops, a value
defined outside the loop that any iteration uses is live through the *whole* body (the
next iteration needs it), as is anything live after the loop and a ``for``'s ``ub`` and
``step`` (not its ``lb`` and initial values); ``while`` regions feed each other, solved to
a fixed point. After ``return`` nothing is live.
"""

from __future__ import annotations

from ..ir.core import Block, Op, Value
from ..ir.function import Function


class LivenessInfo:
    """Live values around each op of one function (valid until the function changes)."""

    def __init__(self, after: dict[Op, frozenset[Value]],
                 before: dict[Op, frozenset[Value]]) -> None:
        self._after = after
        self._before = before

    def live_after(self, op: Op) -> frozenset[Value]:
        """The values defined before or by ``op`` that something after it uses."""
        return self._after[op]

    def live_before(self, op: Op) -> frozenset[Value]:
        """The values defined before ``op`` that ``op`` or something after it uses."""
        return self._before[op]

    def max_pressure(self) -> int:
        """The most values live after any one op."""
        return max((len(v) for v in self._after.values()), default=0)


def analyze_liveness(func: Function) -> LivenessInfo:
    """Compute the live values around every op of ``func``."""
    solver = _Solver()
    solver.block(func.block, frozenset())
    return LivenessInfo(solver.after, solver.before)


class _Solver:
    def __init__(self) -> None:
        self.after: dict[Op, frozenset[Value]] = {}
        self.before: dict[Op, frozenset[Value]] = {}

    def block(self, block: Block, out: frozenset[Value]) -> frozenset[Value]:
        """Live-in of ``block`` (its own arguments included when used)."""
        live = set(out)
        for op in reversed(block.ops):
            if op.name == "return":
                live = set()
            self.after[op] = frozenset(live)
            live.difference_update(op.results)
            if op.name == "for":
                live.update(op.operands[1:3])  # ub and step: compared and added each trip
            if op.regions:
                live.update(self.regions(op, frozenset(live)))
            live.update(op.operands)
            self.before[op] = frozenset(live)
        return frozenset(live)

    def regions(self, op: Op, through: frozenset[Value]) -> set[Value]:
        """Values from outside that ``op``'s regions need, given the values ``through``
        that must survive the op."""
        blocks = [region.block for region in op.regions]
        if op.name not in ("for", "while"):
            needed: set[Value] = set()
            for block in blocks:
                needed |= self.block(block, through) - set(block.args)
            return needed
        outer: frozenset[Value] = frozenset()
        while True:
            needed = set()
            for block in blocks:
                needed |= self.block(block, through | outer) - set(block.args)
            if needed <= outer:
                return needed
            outer = outer | needed
