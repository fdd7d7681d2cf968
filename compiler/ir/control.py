"""Builders for the structured control-flow ops ``if``, ``for`` and ``while``.

Each is a context manager made by :class:`~.builder.Builder` (``b.if_``, ``b.for_``,
``b.while_``). The op is inserted when the builder is made; the regions are filled inside
the ``with``; leaving it checks the regions' terminators and yields against the op and
returns the insertion point to just after the op. A region left without a terminator gets
an empty ``yield`` when it carries nothing, and is an error otherwise.

``if`` results are decided by the yields, so a frontend may fill both branches first and
add their yields last (``then_()`` and ``else_()`` may be entered again)::

    with b.if_(cond) as br:
        with br.then_():
            x1 = ...
        with br.else_():
            x2 = ...
        with br.then_():
            b.yield_(x1)
        with br.else_():
            b.yield_(x2)
    x = br.results[0]

``for`` and ``while`` take their carried values up front (the frontend knows which
variables a loop assigns before it walks the body)::

    with b.for_(lb, ub, step, init=[acc0]) as loop:     # loop.iv, loop.carried
        b.yield_(b.add(loop.carried[0], loop.iv))

    with b.while_(init=[n]) as w:
        with w.before() as (k,):
            w.condition(b.cmp("gt", k, zero))            # forwards (k,)
        with w.after() as (k,):
            b.yield_(b.shr(k, one))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from ...isa.program import SourceLoc
from ..errors import IRError
from .core import Block, BlockArg, Op, OpResult, Value
from .typerules import describe
from .types import Type, bool_

if TYPE_CHECKING:
    from .builder import Builder


def _close(block: Block, carried: Sequence[Type], what: str, loc: SourceLoc | None) -> None:
    """Give ``block`` an empty yield if it has no terminator and carries nothing; check
    that a yield it ends with passes ``carried``."""
    term = block.terminator
    if term is None:
        if carried:
            raise IRError(f"{what} must end with a yield of ({describe(carried)})", loc)
        block.append(Op("yield", loc=loc))
    elif term.name == "yield" and term.operand_types != tuple(carried):
        raise IRError(f"{what} yields ({describe(term.operand_types)}) but must yield "
                      f"({describe(carried)})", term.loc or loc)


class _Structured:
    """Common part: the op, the builder, and leaving the ``with``."""

    def __init__(self, builder: Builder, op: Op) -> None:
        self.builder = builder
        self.op = op

    @property
    def results(self) -> tuple[OpResult, ...]:
        """The op's results (final once the ``with`` is left)."""
        return self.op.results

    @contextmanager
    def _inside(self, block: Block) -> Iterator[tuple[BlockArg, ...]]:
        with self.builder.insertion_point(block):
            yield tuple(block.args)

    def finish(self) -> None:
        """Check the regions (called on leaving the ``with``)."""

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()


class IfBuilder(_Structured):
    """Builds ``if cond {then} else {else}``; results come from the yields."""

    def __init__(self, builder: Builder, cond: Value, loc: SourceLoc | None) -> None:
        super().__init__(builder, builder.create("if", (cond,), result_types=(), loc=loc))

    def __enter__(self) -> IfBuilder:
        return self

    @property
    def then_block(self) -> Block:
        """The then region's block."""
        return self.op.regions[0].block

    @property
    def else_block(self) -> Block:
        """The else region's block."""
        return self.op.regions[1].block

    def then_(self) -> AbstractContextManager[tuple[BlockArg, ...]]:
        """Insert into the then branch (may be entered again to add the yield)."""
        return self._inside(self.then_block)

    def else_(self) -> AbstractContextManager[tuple[BlockArg, ...]]:
        """Insert into the else branch (may be entered again to add the yield)."""
        return self._inside(self.else_block)

    def finish(self) -> None:
        """Terminate open branches with an empty yield and type the op by its yields."""
        loc = self.op.loc
        yielded: list[tuple[str, tuple[Type, ...]]] = []
        for name, block in (("then", self.then_block), ("else", self.else_block)):
            if block.terminator is None:
                block.append(Op("yield", loc=loc))
            if block.terminator.name == "yield":
                yielded.append((name, block.terminator.operand_types))
        if len({types for _, types in yielded}) > 1:
            raise IRError("if branches yield different types: " + ", ".join(
                f"{name} yields ({describe(types)})" for name, types in yielded), loc)
        types = yielded[0][1] if yielded else ()
        try:
            self.op.info.rule(self.op.operand_types, self.op.attrs, types)
        except IRError as err:
            raise IRError(err.message, loc) from None
        self.op.set_result_types(types)


class ForBuilder(_Structured):
    """Builds ``for iv = lb to ub step s iter(carried = init) {body}``.

    Inside the ``with``, the builder inserts into the body; ``iv`` and ``carried`` are the
    body's arguments; the body must end with ``yield`` of the next carried values.
    """

    def __init__(self, builder: Builder, lb: Value, ub: Value, step: Value,
                 init: Sequence[Value], unroll: bool | int | None,
                 loc: SourceLoc | None) -> None:
        attrs = {"unroll": unroll} if unroll is not None else {}
        op = builder.create("for", (lb, ub, step, *init), attrs, loc=loc)
        super().__init__(builder, op)
        body = op.regions[0].block
        body.add_arg(lb.type)
        for value in init:
            body.add_arg(value.type, value.name)
        self._scope = self._inside(body)

    @property
    def body(self) -> Block:
        """The body's block."""
        return self.op.regions[0].block

    @property
    def iv(self) -> BlockArg:
        """The induction variable."""
        return self.body.args[0]

    @property
    def carried(self) -> tuple[BlockArg, ...]:
        """The carried values, as the body sees them."""
        return tuple(self.body.args[1:])

    def __enter__(self) -> ForBuilder:
        self._scope.__enter__()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._scope.__exit__(exc_type, exc, tb)
        super().__exit__(exc_type, exc, tb)

    def finish(self) -> None:
        """Check the body's yield against the carried types."""
        _close(self.body, self.op.result_types, "for body", self.op.loc)


class WhileBuilder(_Structured):
    """Builds ``while (carried = init) {before} do (carried') {after}``.

    ``before()`` and ``after()`` are context managers giving the region's arguments; the
    before region ends with :meth:`condition`, the after region with a yield of the next
    carried values.
    """

    def __init__(self, builder: Builder, init: Sequence[Value], loc: SourceLoc | None) -> None:
        super().__init__(builder, builder.create("while", tuple(init), loc=loc))
        for region in self.op.regions:
            for value in init:
                region.block.add_arg(value.type, value.name)

    def __enter__(self) -> WhileBuilder:
        return self

    @property
    def before_block(self) -> Block:
        """The block computing the condition."""
        return self.op.regions[0].block

    @property
    def after_block(self) -> Block:
        """The loop body's block."""
        return self.op.regions[1].block

    def before(self) -> AbstractContextManager[tuple[BlockArg, ...]]:
        """Insert into the condition region; gives its arguments."""
        return self._inside(self.before_block)

    def after(self) -> AbstractContextManager[tuple[BlockArg, ...]]:
        """Insert into the body region; gives its arguments."""
        return self._inside(self.after_block)

    def condition(self, cond: Value, *forwarded: Value, loc: SourceLoc | None = None) -> Op:
        """End the before region: loop on while ``cond``, forwarding ``forwarded`` (the
        before region's arguments if none are given)."""
        values = forwarded if forwarded else tuple(self.before_block.args)
        return self.builder.yield_(cond, *values, loc=loc)

    def finish(self) -> None:
        """Check both regions' yields against the carried types."""
        carried = self.op.result_types
        term = self.before_block.terminator
        if term is None:
            raise IRError("while needs a condition: end its before region with "
                          "condition(...)", self.op.loc)
        _close(self.before_block, (bool_, *carried), "while condition", self.op.loc)
        _close(self.after_block, carried, "while body", self.op.loc)
