"""Affinity analysis: is an integer value ``base + thread_idx.x * stride``, with ``base``
warp-uniform and ``stride`` a known constant?

What the CPU backend needs to turn per-lane indices into vector loads (stride 1), strided
accesses or scalar ones (stride 0), and gathers for the rest (simt-on-cpu.md §3 item 3).
The lattice per value is :class:`Affinity`: ``stride == 0`` is uniform (at least
warp-uniform, from :mod:`.uniformity`), ``stride = s`` is affine with constant stride
``s``, and :data:`VARYING_AFFINITY` (``stride is None``) is anything else.

The stride is in ``thread_idx.x``, not in the lane: consecutive lanes have consecutive
``thread_idx.x`` only when ``block_dim.x`` is a multiple of the warp size (the consumer
checks the launch shape; pass it to :func:`analyze_affinity` as ``block`` and ``thread_idx.y``
and ``.z`` become warp-uniform where they are, making ``ty * bx + tx`` affine).

Rules, on integer values (wrapping is ignored: indices are non-negative and in range in a
correct program, per the op registry):

- warp-uniform values have stride 0; ``thread_idx x`` has stride 1;
- ``add``/``sub`` add/subtract strides; ``neg`` negates; ``mul`` by a constant ``c`` (either
  side) multiplies the stride by ``c``; ``mul`` of an affine value by a uniform non-constant
  is varying (the stride is not a known constant); ``shl`` by a constant ``k`` multiplies
  by ``2**k``;
- integer-to-integer ``cast`` keeps the stride (no wrap-around, as above);
- ``for`` carried values and results, ``if`` and ``while`` results: the stride if every
  incoming value has the same one *and* the choice is uniform, else varying (solved to a
  fixed point by iterating until nothing changes);
- everything else that is not uniform is varying.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.core import Block, Op, Value
from ..ir.function import Function
from ..ir.types import ScalarType
from .uniformity import Uniformity, UniformityInfo, analyze_uniformity


@dataclass(frozen=True)
class Affinity:
    """``base + thread_idx.x * stride`` with a warp-uniform base; ``stride`` None: varying."""

    stride: int | None

    @property
    def is_uniform(self) -> bool:
        """Stride 0: the same for every lane."""
        return self.stride == 0

    @property
    def is_affine(self) -> bool:
        """A known stride (0 included)."""
        return self.stride is not None


VARYING_AFFINITY = Affinity(None)
"""Not affine in ``thread_idx.x`` with a known stride."""
_UNIFORM = Affinity(0)
_UNSEEN = object()


class AffinityInfo:
    """The analysis' answers for one function."""

    def __init__(self, strides: dict[Value, Affinity], uniformity: UniformityInfo) -> None:
        self._strides = strides
        self.uniformity = uniformity

    def of(self, value: Value) -> Affinity:
        """The affinity of ``value`` (varying for a value never seen)."""
        return self._strides.get(value, VARYING_AFFINITY)

    def stride(self, value: Value) -> int | None:
        """The stride of ``value`` in ``thread_idx.x``, or None when not affine."""
        return self.of(value).stride


def analyze_affinity(func: Function, uniformity: UniformityInfo | None = None,
                     block: tuple[int, ...] | None = None) -> AffinityInfo:
    """Solve the affinity of every value of ``func`` (reusing ``uniformity`` if given, else
    solving it for CTA shape ``block``)."""
    if uniformity is None:
        uniformity = analyze_uniformity(func, block)
    solver = _Solver(uniformity)
    for param in func.params:
        solver.strides[param] = _UNIFORM
    solver.changed = True
    while solver.changed:
        solver.changed = False
        solver.block(func.block)
    return AffinityInfo(solver.strides, uniformity)


def int_constant(value: Value) -> int | None:
    """The integer ``value`` is a ``constant`` op of, else None (bools are not)."""
    op = value.defining_op
    if op is not None and op.name == "constant":
        v = op.attr("value")
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def _merge(values: list[Affinity | object]) -> Affinity | object:
    seen = [v for v in values if v is not _UNSEEN]
    if not seen:
        return _UNSEEN
    first = seen[0]
    return first if all(v == first for v in seen) else VARYING_AFFINITY


class _Solver:
    def __init__(self, uniformity: UniformityInfo) -> None:
        self.uniformity = uniformity
        self.strides: dict[Value, Affinity] = {}
        self.changed = False

    def get(self, value: Value) -> Affinity | object:
        if self.uniformity.is_uniform(value):
            return _UNIFORM
        return self.strides.get(value, _UNSEEN)

    def set(self, value: Value, aff: Affinity | object) -> None:
        if aff is _UNSEEN:
            return
        if self.uniformity.is_uniform(value):
            aff = _UNIFORM
        old = self.strides.get(value)
        new = aff if old is None or old == aff else VARYING_AFFINITY
        if new != old:
            self.strides[value] = new
            self.changed = True

    def block(self, block: Block) -> None:
        for op in block.ops:
            if op.name == "if":
                self.if_(op)
            elif op.name == "for":
                self.for_(op)
            elif op.name == "while":
                self.while_(op)
            elif op.results:
                for result in op.results:
                    self.set(result, self.transfer(op))

    def transfer(self, op: Op) -> Affinity | object:
        t = op.results[0].type
        if len(op.results) != 1 or not (isinstance(t, ScalarType) and t.is_int):
            return VARYING_AFFINITY
        if op.name == "thread_idx":
            return Affinity(1) if op.attr("dim") == "x" else VARYING_AFFINITY
        args = [self.get(v) for v in op.operands]
        if any(a is _UNSEEN for a in args):
            return _UNSEEN
        strides = [a.stride for a in args]
        if op.name in ("add", "sub") and None not in strides:
            a, b = strides
            return Affinity(a + b if op.name == "add" else a - b)
        if op.name == "neg" and strides[0] is not None:
            return Affinity(-strides[0])
        if op.name == "cast" and strides[0] is not None:
            src = op.operands[0].type
            return Affinity(strides[0]) if src.is_int else VARYING_AFFINITY
        if op.name == "mul" and None not in strides:
            ca, cb = (int_constant(v) for v in op.operands)
            if cb is not None:
                return Affinity(strides[0] * cb)
            if ca is not None:
                return Affinity(strides[1] * ca)
            return _UNIFORM if strides == [0, 0] else VARYING_AFFINITY
        if op.name == "shl" and None not in strides and strides[1] == 0:
            k = int_constant(op.operands[1])
            if k is not None and 0 <= k < t.bits:
                return Affinity(strides[0] << k)
        return VARYING_AFFINITY

    def merge_into(self, target: Value, incoming: list[Value], uniform_choice: bool) -> None:
        aff = _merge([self.get(v) for v in incoming])
        if aff is not _UNSEEN and not uniform_choice:
            aff = VARYING_AFFINITY
        self.set(target, aff)

    @staticmethod
    def yielded(block: Block) -> tuple[Value, ...] | None:
        term = block.terminator
        return term.operands if term is not None and term.name == "yield" else None

    def if_(self, op: Op) -> None:
        for region in op.regions:
            self.block(region.block)
        uniform = self.uniformity.decision(op) <= Uniformity.WARP
        for i, result in enumerate(op.results):
            incoming = [vals[i] for r in op.regions
                        if (vals := self.yielded(r.block)) is not None]
            self.merge_into(result, incoming, uniform)

    def for_(self, op: Op) -> None:
        body = op.regions[0].block
        self.set(body.args[0], _merge([self.get(op.operands[0])]))
        if self.get(op.operands[2]) != _UNIFORM:
            self.set(body.args[0], VARYING_AFFINITY)
        looped = self.yielded(body)
        for i, arg in enumerate(body.args[1:]):
            incoming = [op.operands[3 + i]] + ([looped[i]] if looped is not None else [])
            self.merge_into(arg, incoming, True)
        self.block(body)
        uniform = self.uniformity.decision(op) <= Uniformity.WARP
        for i, result in enumerate(op.results):
            self.merge_into(result, [body.args[1 + i]], uniform)

    def while_(self, op: Op) -> None:
        before, after = (region.block for region in op.regions)
        looped = self.yielded(after)
        for i, arg in enumerate(before.args):
            incoming = [op.operands[i]] + ([looped[i]] if looped is not None else [])
            self.merge_into(arg, incoming, True)
        self.block(before)
        cond = self.yielded(before)
        if cond is not None:
            for arg, value in zip(after.args, cond[1:], strict=True):
                self.merge_into(arg, [value], True)
        self.block(after)
        uniform = self.uniformity.decision(op) <= Uniformity.WARP
        for i, result in enumerate(op.results):
            self.merge_into(result, [cond[1 + i]] if cond is not None else [], uniform)
