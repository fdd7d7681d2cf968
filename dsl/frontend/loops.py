"""Loops: ``for`` over ``range``/``wf.static_range`` and ``while``, with carried variables
and the ``break``/``continue`` lowering described in :mod:`.statements`."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Sequence

from ...compiler.ir.core import Value
from ...compiler.ir.types import ScalarType, bool_, i32, i64
from ...dsl import intrinsics as wi
from .base import Undefined, constant_of, is_weak
from .promotion import arithmetic, common_type
from .statements import RETURN, Statements, assigned_names, has_break, has_return


class Widen(Exception):
    """A loop's body gives carried variable ``name`` the wider type ``type``: the loop is
    translated again with the variable widened before it."""

    def __init__(self, name: str, type: ScalarType) -> None:
        super().__init__(name)
        self.name = name
        self.type = type


MAX_WIDENINGS = 8
"""Retranslations of one loop before giving up (each widens one variable at least)."""
NARROW_LIMIT = 1 << 30
"""A 64-bit ``range`` whose constant bounds and step lie within this counts in 32 bits
(no value of the counter, nor the one past the end, can overflow them)."""


class Loops(Statements):
    """Translates ``for`` and ``while`` loops.

    A variable the loop carries takes the type its body leaves it with when that is wider
    (``acc = 0`` then ``acc += x[i]`` of floats makes ``acc`` a float from the start, as
    Numba types it): the loop is translated again with the variable converted before it.
    A narrower type converts back at the end of each iteration, as an assignment to a
    typed variable does; types with no common type are a CompileError."""

    def widening(self, node: ast.For | ast.While, translate) -> str | None:
        """Run ``translate(node)`` until no carried variable widens (see the class doc)."""
        for _ in range(MAX_WIDENINGS):
            block, before = self.b.block, self.b.before
            mark = len(block.ops) if before is None else block.index(before)
            env = dict(self.env)
            try:
                return translate(node)
            except Widen as widen:
                end = len(block.ops) if before is None else block.index(before)
                for op in reversed(block.ops[mark:end]):
                    op.erase()
                self.b.set_insertion_point(block, before)
                self.env = env
                self.env[widen.name] = self.cast(node, self.env[widen.name], widen.type)
        raise self.error(node, "the types of this loop's variables do not settle")

    def breaks(self, body: list[ast.stmt]) -> bool:
        """True when a loop over ``body`` may be left early: a ``break`` of its own, or a
        device function's ``return`` at any depth (which breaks out of every loop)."""
        return has_break(body) or (self.returns_in_loops and has_return(body))

    def no_return_in_loop(self, node: ast.For | ast.While) -> None:
        """A device function returning from a loop must have ``$return`` to carry."""
        if not self.func.is_kernel and has_return(node.body) and "$return" not in self.env:
            self.env["$return"] = self.constant(node, False, bool_)

    def carried(self, node: ast.AST, body: list[ast.stmt], exclude: Sequence[str] = ()
                ) -> list[str]:
        """The variables a loop carries: those its body assigns that exist before it."""
        names = []
        extra = []
        if self.returns_in_loops and has_return(body):
            extra = ["$return", *(f"$result{i}" for i in range(len(self.result_types or ())))]
        for name in [*assigned_names(body), *extra]:
            if name in exclude or name not in self.env:
                continue
            value = self.env[name]
            if isinstance(value, Undefined):
                continue
            if is_weak(value):
                self.env[name] = self.value(node, value)
                value = self.env[name]
            if not (isinstance(value, Value) and isinstance(value.type, ScalarType)):
                what = "an array" if isinstance(value, Value) else "a compile-time object"
                raise self.error(node, f"{name!r} holds {what} and cannot be reassigned in a "
                                       "loop; only scalar variables can change in loops")
            names.append(name)
        return names

    def after_loop(self, node: ast.AST, before: dict[str, object], body: list[ast.stmt],
                   carried: list[str], results: Sequence[Value], target: str | None) -> None:
        """The environment after a loop: carried variables take the loop's results; those
        first assigned in the loop are undefined after it."""
        env = dict(before)
        line = self.loc(node).line
        for name in assigned_names(body):
            if name not in env:
                env[name] = Undefined(name, f"it is assigned only inside the loop at line "
                                            f"{line}, which may run zero times")
        if target is not None:
            env[target] = Undefined(target, f"the loop variable of the loop at line {line} "
                                            "is not available after it")
        for name, value in zip(carried, results, strict=True):
            env[name] = value
        self.env = env

    def yield_carried(self, node: ast.AST, carried: list[str], init: Sequence[Value],
                      extra: Sequence[Value] = ()) -> None:
        """Yield the carried variables (which must keep their types) after ``extra``."""
        values = list(extra)
        for name, start in zip(carried, init, strict=True):
            value = self.env.get(name)
            if isinstance(value, Undefined) or value is None:
                raise self.error(node, f"the variable {name!r} may be undefined at the end "
                                       f"of the loop: {value.why if value else ''}")
            if is_weak(value):
                value = self.value(node, value, start.type)
            if value.type != start.type:
                if isinstance(value.type, ScalarType) and \
                        common_type(value.type, start.type) == value.type:
                    raise Widen(name, value.type)
                if not isinstance(value.type, ScalarType) or \
                        common_type(value.type, start.type) != start.type:
                    raise self.error(node, f"the loop changes the type of {name!r} from "
                                           f"{start.type} to {value.type}: give it its final "
                                           f"type before the loop (e.g. {name} = "
                                           f"wf.{value.type}(...))")
                value = self.cast(node, value, start.type)
            values.append(value)
        self.b.create("yield", values, loc=self.loc(node))

    # --- for ------------------------------------------------------------------------------

    def range_args(self, node: ast.For
                   ) -> tuple[bool, Value, Value, int | Value, ScalarType]:
        """``(static, lb, ub, step, type)`` of ``range(...)`` or ``wf.static_range(...)``; the
        step is a nonzero int when known at compile time, else a value (a run-time step
        of either sign, as grid-stride loops have).

        A 64-bit loop (Numba types ``range(16)`` as int64) with small constant bounds
        counts in 32 bits; ``type`` is the loop variable's (the counter is widened to it for
        the body), and
        the 32-bit address arithmetic that uses it folds the widening away. The same
        values, half the instructions for the loop's control on the simulator."""
        it = node.iter
        target = self.expr(it.func) if isinstance(it, ast.Call) else None
        if target is not builtins.range and target is not wi.static_range:
            raise self.error(it, "for loops must iterate over range(...) or "
                                 "wf.static_range(...)")
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.error(it, "range() takes 1 to 3 positional arguments")
        static = target is wi.static_range
        args = [self.expr(a) for a in it.args]
        if len(args) == 1:
            args = [0, *args]
        step: int | Value = 1
        if len(args) == 3:
            known = args[2] if is_weak(args[2]) else constant_of(args[2])
            if known is not None or static:
                step = self.constant_int(it.args[2], args[2], "a range's step")
                if step == 0:
                    raise self.error(it.args[2], "a range's step must not be zero")
            else:
                step = self.scalar(it.args[2], args[2])
                if not step.type.is_int:
                    raise self.error(it.args[2], "type error: range() needs integers, not "
                                                 f"{step.type}")
        if static:
            for arg in args[:2]:
                self.constant_int(it, arg, "a wf.static_range bound")
        t = self.common(it, args[0], args[1], "loop from {a} to {b}")
        if isinstance(step, Value):
            t = common_type(t, arithmetic(step.type))
        if not t.is_int:
            raise self.error(it, f"type error: range() needs integers, not {t}")
        if not t.is_signed:  # the IR's loops count in signed types; i64 holds every u32
            t = i64
        var_type = t
        if t == i64 and isinstance(step, int) and abs(step) < NARROW_LIMIT:
            known = [a if is_weak(a) else constant_of(a) for a in args[:2]]
            if all(isinstance(k, int) and -NARROW_LIMIT <= k <= NARROW_LIMIT for k in known):
                t = i32
        lb, ub = self.value(it, args[0], t), self.value(it, args[1], t)
        if isinstance(step, Value):
            step = self.cast(it.args[2], step, t)
        return static, lb, ub, step, var_type

    def stmt_For(self, node: ast.For) -> str | None:
        return self.widening(node, self.translate_for)

    def translate_for(self, node: ast.For) -> str | None:
        """A ``for`` loop (see :mod:`.statements` for ``break``/``continue``)."""
        if node.orelse:
            raise self.error(node, "'for ... else' is not supported in kernels")
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "a for loop's target must be a single name")
        self.no_return_in_loop(node)
        static, lb, ub, step, var_type = self.range_args(node)
        if static and has_break(node.body):
            raise self.error(node, "'break' is not supported in wf.static_range loops")
        if static and self.breaks(node.body):
            raise self.error(node, "'return' inside a wf.static_range loop of a @wf.func is "
                                   "not supported: use range()")
        target = node.target.id
        carried = self.carried(node, node.body, exclude=(target,))
        before = self.env
        init = [before[name] for name in carried]
        step_value = step if isinstance(step, Value) else self.constant(node.iter, step,
                                                                         lb.type)
        self.loop_depth += 1
        self.nesting += 1
        try:
            if self.breaks(node.body):
                results = self.for_as_while(node, lb, ub, step, step_value, carried, init,
                                            var_type)
            else:
                loc = self.loc(node)
                with self.b.for_(lb, ub, step_value, init=init,
                                 unroll=True if static else None, loc=loc) as loop:
                    self.enter_body(node, before, carried, loop.carried)
                    self.env[target] = self.cast(node, loop.iv, var_type)
                    if self.stmts(node.body) != RETURN:
                        self.yield_carried(node, carried, init)
                results = loop.results
        finally:
            self.loop_depth -= 1
            self.nesting -= 1
        self.after_loop(node, before, node.body, carried, results, target)
        return None

    def enter_body(self, node: ast.For | ast.While, before: dict[str, object],
                   carried: list[str], args: Sequence[Value]) -> None:
        """A loop body's environment: the carried variables are the region's arguments;
        the continue flag starts false if the body continues."""
        self.env = dict(before)
        for name, arg in zip(carried, args, strict=True):
            self.env[name] = arg
        if has_break(node.body, ast.Continue):
            self.env[self.flag("continue")] = self.constant(node, False, bool_)
        self.env.setdefault(self.flag("break"), None)

    def for_as_while(self, node: ast.For, lb: Value, ub: Value, step: int | Value,
                     step_value: Value, carried: list[str], init: list[Value],
                     var_type: ScalarType) -> tuple[Value, ...]:
        """A ``for`` with ``break`` as a ``while`` carrying (iv, break flag, carried...)."""
        loc = self.loc(node)
        false = self.constant(node, False, bool_)
        before = self.env
        with self.b.while_(init=[lb, false, *init], loc=loc) as w:
            with w.before() as args:
                iv, broke = args[0], args[1]
                if isinstance(step, Value):  # a run-time step: its sign picks the test
                    up = self.op(node, "cmp", (step, self.constant(node, 0, step.type)),
                                 {"pred": "gt"})
                    more = self.op(node, "select", (
                        up, self.op(node, "cmp", (iv, ub), {"pred": "lt"}),
                        self.op(node, "cmp", (iv, ub), {"pred": "gt"})))
                else:
                    more = self.op(node, "cmp", (iv, ub),
                                   {"pred": "lt" if step > 0 else "gt"})
                go = self.op(node, "and", (more, self.op(node, "not", (broke,))))
                w.condition(go)
            with w.after() as args:
                iv, broke = args[0], args[1]
                self.enter_body(node, before, carried, args[2:])
                self.env[self.flag("break")] = broke
                self.env[node.target.id] = self.cast(node, iv, var_type)
                if self.stmts(node.body) != RETURN:
                    following = self.op(node, "add", (iv, step_value))
                    self.yield_carried(node, carried, init,
                                       extra=(following, self.env[self.flag("break")]))
        return w.results[2:]

    # --- while ----------------------------------------------------------------------------

    def stmt_While(self, node: ast.While) -> str | None:
        return self.widening(node, self.translate_while)

    def translate_while(self, node: ast.While) -> str | None:
        """A ``while`` loop, its condition evaluated before each iteration."""
        if node.orelse:
            raise self.error(node, "'while ... else' is not supported in kernels")
        self.no_return_in_loop(node)
        carried = self.carried(node, node.body)
        before = self.env
        init = [before[name] for name in carried]
        breaks = self.breaks(node.body)
        extra = [self.constant(node, False, bool_)] if breaks else []
        self.loop_depth += 1
        self.nesting += 1
        try:
            with self.b.while_(init=[*extra, *init], loc=self.loc(node)) as w:
                with w.before() as args:
                    self.enter_body(node, before, carried, args[len(extra):])
                    cond = self.to_bool(node.test, self.expr(node.test))
                    if breaks:
                        cond = self.op(node, "and", (self.op(node, "not", (args[0],)), cond))
                    w.condition(cond)
                with w.after() as args:
                    self.enter_body(node, before, carried, args[len(extra):])
                    if breaks:
                        self.env[self.flag("break")] = args[0]
                    if self.stmts(node.body) != RETURN:
                        flags = [self.env[self.flag("break")]] if breaks else []
                        self.yield_carried(node, carried, init, extra=flags)
            results = w.results[len(extra):]
        finally:
            self.loop_depth -= 1
            self.nesting -= 1
        self.after_loop(node, before, node.body, carried, results, None)
        return None

