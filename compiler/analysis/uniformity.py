"""Uniformity (divergence) analysis: for every value, is it the same for every thread of
the CTA, for every thread of a warp, or may it differ from thread to thread?

The lattice is ``CTA < WARP < VARYING`` (:class:`Uniformity`); a value's level is the join
(max) of what it depends on. "The same" means the same among the threads that compute it
together: a value computed inside a branch or loop body is uniform when its inputs are,
even if only some threads run that region. Where threads may have taken different paths,
the *merged* values are not: the results of an ``if`` whose condition is varying, of a
``for`` whose trip count (``lb``, ``ub``, ``step``) is varying, or of a ``while`` whose
condition is varying, are varying even when every yielded value is uniform. Loop-carried
values are solved to a fixed point (optimistic start at ``CTA``, raised until stable).

Sources (sass-codegen.md §4, simt-on-cpu.md §3):

- ``CTA``: parameters (scalars and arrays), constants, ``block_idx``, ``block_dim``,
  ``grid_dim``, ``array_dim``, allocations (the array itself, not its contents).
- ``VARYING``: ``thread_idx``, ``lane_id``, ``atomic`` and ``shfl`` results, ``call``
  results (inline first). When the CTA shape is known (``block`` given, the kernel being
  specialized per launch shape), ``thread_idx`` along a dimension of extent 1 is ``CTA``
  (always 0), and along ``y`` (``z``) it is ``WARP`` when ``block.x`` (``block.x *
  block.y``) is a multiple of the warp size, since warps are consecutive linear thread
  ids.
- ``vote any/all`` of a CTA-uniform predicate is that predicate (``CTA``), otherwise
  ``WARP``; ``vote ballot`` is ``WARP`` (the active mask differs between warps).
- ``load``: conservative. A load is as uniform as its indices only when it reads a
  *global* array and the function writes no global memory at all (no global ``store`` or
  ``atomic``, no ``call``): kernel arrays may alias, and a write by any thread could make
  two threads read different values. Every ``shared`` or ``local`` load is ``VARYING``
  (other threads write shared memory; local contents are per thread).
- Every other op without regions: the join of its operands.

:meth:`UniformityInfo.decision` gives the level of a structured op's choice (an ``if``'s
condition, a ``for``'s trip count, a ``while``'s condition); :meth:`UniformityInfo.control`
the join of the decisions of every op enclosing an op, i.e. whether the threads that reach
it may be a data-dependent subset (what a barrier must not be under). Threads that leave
early by ``return`` are not tracked: a value after a divergent ``return`` is uniform among
the threads still running.
"""

from __future__ import annotations

import enum

from ..ir.core import Block, Op, Value
from ..ir.function import Function
from ..ir.types import AddressSpace, ArrayType


class Uniformity(enum.IntEnum):
    """How widely a value is shared: ordered, so ``max`` is the lattice's join."""

    CTA = 0
    """The same for every thread of the CTA."""
    WARP = 1
    """The same for every thread of a warp (may differ between warps)."""
    VARYING = 2
    """May differ from thread to thread."""


CTA_SOURCES = frozenset({"constant", "block_idx", "block_dim", "grid_dim", "shared_alloc",
                         "dynamic_shared",
                         "local_alloc"})
"""Ops whose result is CTA-uniform whatever their operands."""
VARYING_SOURCES = frozenset({"thread_idx", "lane_id", "atomic", "shfl", "mma",
                             "call"})
"""Ops whose results are varying whatever their operands."""


class UniformityInfo:
    """The analysis' answers for one function (valid until the function changes)."""

    def __init__(self, levels: dict[Value, Uniformity],
                 decisions: dict[Op, Uniformity]) -> None:
        self._levels = levels
        self._decisions = decisions

    def of(self, value: Value) -> Uniformity:
        """The level of ``value`` (VARYING for a value the analysis never saw)."""
        return self._levels.get(value, Uniformity.VARYING)

    def is_uniform(self, value: Value, scope: Uniformity = Uniformity.WARP) -> bool:
        """True if ``value`` is the same across ``scope`` (WARP: at least warp-uniform)."""
        return self.of(value) <= scope

    def decision(self, op: Op) -> Uniformity:
        """The level of an ``if``/``for``/``while`` op's choice (CTA for other ops)."""
        return self._decisions.get(op, Uniformity.CTA)

    def control(self, op: Op) -> Uniformity:
        """The join of the decisions of the ops enclosing ``op``: CTA when every thread of
        the CTA that got this far reaches ``op`` together."""
        level = Uniformity.CTA
        for outer in op.ancestors():
            level = max(level, self.decision(outer))
        return level


WARP_SIZE = 32
"""Threads per warp."""


def analyze_uniformity(func: Function, block: tuple[int, ...] | None = None,
                       warp_size: int = WARP_SIZE) -> UniformityInfo:
    """Solve the uniformity of every value of ``func``; ``block`` is the CTA shape
    ``(x, y, z)`` (missing dimensions 1) when the kernel is specialized for one.

    ``warp_size`` is the number of consecutive threads that run together: 32 on the GPU;
    the CPU backend passes its lane-group width (which equals 32 whenever the kernel
    has warp ops), so ``WARP`` then means "the same across a lane group"."""
    solver = _Solver(func, tuple(block) + (1,) * (3 - len(block)) if block else None,
                     warp_size)
    solver.solve()
    return UniformityInfo(solver.levels, solver.decisions)


class _Solver:
    def __init__(self, func: Function, block: tuple[int, ...] | None,
                 warp_size: int) -> None:
        self.func = func
        self.block_shape = block
        self.warp_size = warp_size
        self.levels: dict[Value, Uniformity] = {}
        self.decisions: dict[Op, Uniformity] = {}
        self.changed = False
        self.global_writes = any(_writes_global(op) for op in func.walk())

    def solve(self) -> None:
        for param in self.func.params:
            self.levels[param] = Uniformity.CTA
        self.changed = True
        while self.changed:
            self.changed = False
            self.block(self.func.block)

    def get(self, value: Value) -> Uniformity:
        return self.levels.get(value, Uniformity.CTA)

    def join(self, values) -> Uniformity:
        return max((self.get(v) for v in values), default=Uniformity.CTA)

    def raise_(self, value: Value, level: Uniformity) -> None:
        old = self.levels.get(value)
        if old is None or level > old:
            self.levels[value] = level if old is None else max(old, level)
            self.changed = True

    def decide(self, op: Op, level: Uniformity) -> None:
        old = self.decisions.get(op)
        if old is None or level > old:
            self.decisions[op] = level if old is None else max(old, level)
            self.changed = True

    def block(self, block: Block) -> None:
        for op in block.ops:
            handler = getattr(self, "op_" + op.name, None)
            if handler is not None:
                handler(op)
            else:
                level = self.simple(op)
                for result in op.results:
                    self.raise_(result, level)

    def simple(self, op: Op) -> Uniformity:
        name = op.name
        if name in CTA_SOURCES:
            return Uniformity.CTA
        if name == "thread_idx" and self.block_shape is not None:
            return self.thread_idx(str(op.attr("dim")))
        if name in VARYING_SOURCES:
            return Uniformity.VARYING
        if name == "vote":
            pred = self.get(op.operands[0])
            if op.attr("kind") != "ballot" and pred == Uniformity.CTA:
                return Uniformity.CTA
            return Uniformity.WARP
        if name == "load":
            array = op.operands[0].type
            if (isinstance(array, ArrayType) and array.space is AddressSpace.GLOBAL
                    and not self.global_writes):
                return self.join(op.operands)
            return Uniformity.VARYING
        return self.join(op.operands)

    def thread_idx(self, dim: str) -> Uniformity:
        x, y, z = self.block_shape
        extent, below = {"x": (x, 1), "y": (y, x), "z": (z, x * y)}[dim]
        if extent == 1:
            return Uniformity.CTA
        return Uniformity.WARP if below % self.warp_size == 0 else Uniformity.VARYING

    @staticmethod
    def yielded(block: Block) -> tuple[Value, ...] | None:
        term = block.terminator
        return term.operands if term is not None and term.name == "yield" else None

    def op_if(self, op: Op) -> None:
        decision = self.get(op.operands[0])
        self.decide(op, decision)
        for region in op.regions:
            self.block(region.block)
        for i, result in enumerate(op.results):
            level = decision
            for region in op.regions:
                values = self.yielded(region.block)
                if values is not None:
                    level = max(level, self.get(values[i]))
            self.raise_(result, level)

    def op_for(self, op: Op) -> None:
        lb, ub, step, *init = op.operands
        decision = self.join((lb, ub, step))
        self.decide(op, decision)
        body = op.regions[0].block
        self.raise_(body.args[0], self.join((lb, step)))
        values = self.yielded(body)
        for i, arg in enumerate(body.args[1:]):
            level = self.get(init[i])
            if values is not None:
                level = max(level, self.get(values[i]))
            self.raise_(arg, level)
        self.block(body)
        for i, result in enumerate(op.results):
            self.raise_(result, max(decision, self.get(body.args[1 + i])))

    def op_while(self, op: Op) -> None:
        before, after = (region.block for region in op.regions)
        looped = self.yielded(after)
        for i, arg in enumerate(before.args):
            level = self.get(op.operands[i])
            if looped is not None:
                level = max(level, self.get(looped[i]))
            self.raise_(arg, level)
        self.block(before)
        cond = self.yielded(before)
        decision = self.get(cond[0]) if cond is not None else Uniformity.CTA
        self.decide(op, decision)
        if cond is not None:
            for arg, value in zip(after.args, cond[1:], strict=True):
                self.raise_(arg, self.get(value))
        self.block(after)
        for i, result in enumerate(op.results):
            level = decision
            if cond is not None:
                level = max(level, self.get(cond[1 + i]))
            self.raise_(result, level)


def _writes_global(op: Op) -> bool:
    if op.name == "call":
        return True
    if op.name in ("store", "atomic"):
        array = op.operands[0].type
        return isinstance(array, ArrayType) and array.space is AddressSpace.GLOBAL
    return False
