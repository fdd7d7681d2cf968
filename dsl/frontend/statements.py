"""Statements: assignments, ``if``, ``for``, ``while``, ``break``, ``continue``, ``return``.

SSA construction: variables map names to values. An ``if`` yields every variable either
branch changed (converted to their common type); one assigned in a single branch only is
"may be undefined" afterwards. A compile-time-constant ``if`` condition builds only the
branch taken. Loops carry the variables their body assigns that exist before the loop; a
variable first assigned inside a loop is undefined after it; a carried variable must keep
its type.

``break``/``continue`` lowering: each loop has two flag variables, ``$break<depth>``
(carried) and ``$continue<depth>`` (reset to false at the top of each iteration). A
``break``/``continue`` sets its flag and ends its statement list; the statements after a
statement that may jump run under ``if not (break or continue)``. A ``for`` loop without
``break`` stays a ``for`` op; one with ``break`` becomes a ``while`` op carrying the
induction variable and the break flag (condition ``iv < ub and not break``; the increment
runs after the guarded body, so ``continue`` still advances). A ``while`` loop with
``break`` adds ``not break`` to its condition. In kernels, ``return`` becomes the IR's
``return`` op wherever it stands.

Device functions return once, at the end of their body (what the inliner needs): a
``return`` inside an ``if`` sets ``$return`` and the pending results ``$result<i>``
(branches that do not return give them false/zero so they merge), the statements after
it run under ``if not $return``, and the function ends with ``return $result...``. A
``return`` inside a loop of a device function is a CompileError.
"""

from __future__ import annotations

import ast

from ...compiler.ir.core import Value
from ...compiler.ir.types import ArrayType, ScalarType, bool_
from ..types import ScalarDType
from .base import Undefined, constant_of, describe, is_weak
from .calls import Calls
from .promotion import common_type, type_name

RETURN = "return"
JUMP = "jump"

UNSUPPORTED_STMTS = {
    ast.With: "'with' statements", ast.AsyncWith: "'async with' statements",
    ast.Try: "'try' statements", ast.Raise: "'raise' statements",
    ast.Assert: "'assert' statements", ast.Import: "imports", ast.ImportFrom: "imports",
    ast.Global: "'global' declarations", ast.Nonlocal: "'nonlocal' declarations",
    ast.FunctionDef: "nested function definitions",
    ast.AsyncFunctionDef: "nested function definitions",
    ast.ClassDef: "class definitions", ast.Delete: "'del' statements",
    ast.AsyncFor: "'async for' loops",
}
if hasattr(ast, "Match"):
    UNSUPPORTED_STMTS[ast.Match] = "'match' statements"
if hasattr(ast, "TryStar"):
    UNSUPPORTED_STMTS[ast.TryStar] = "'try' statements"


def assigned_names(body: list[ast.stmt]) -> list[str]:
    """Names a statement list assigns (at any depth), in first-assignment order."""
    names: dict[str, None] = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names[node.id] = None
    return list(names)


class NeedResultTypes(Exception):
    """A device function returns from inside a loop before any return fixed its result
    types: it is translated again with them known (its pending results must exist before
    the loop to be carried through it)."""

    def __init__(self, types: tuple) -> None:
        super().__init__(types)
        self.types = types


def may_jump(stmt: ast.stmt, loops: bool, returns: bool) -> bool:
    """True if ``stmt`` holds a break/continue of the enclosing loop (not of inner ones)
    when ``loops``, or a nested return when ``returns`` (also inside a nested loop)."""
    if isinstance(stmt, (ast.Break, ast.Continue)):
        return loops
    if isinstance(stmt, ast.Return):
        return returns
    if isinstance(stmt, (ast.For, ast.While)):
        return returns and has_return(stmt.body)
    if isinstance(stmt, ast.If):
        return any(may_jump(s, loops, returns) for s in stmt.body + stmt.orelse)
    return False


def has_return(body: list[ast.stmt]) -> bool:
    """True if a statement list holds a return at any depth."""
    return any(isinstance(node, ast.Return) for stmt in body for node in ast.walk(stmt))


def has_break(body: list[ast.stmt], kind: type = ast.Break) -> bool:
    """True if a statement list holds a break (or ``kind``) of its own loop."""
    for stmt in body:
        if isinstance(stmt, kind):
            return True
        if isinstance(stmt, ast.If) and has_break(stmt.body + stmt.orelse, kind):
            return True
    return False


class Statements(Calls):
    """Translates statements; a statement list returns how control left it."""

    returns_in_loops = False
    """A device function with a ``return`` inside a loop: ``$return`` and the pending
    results are carried through its loops, and a return there also breaks out."""

    def preset_results(self, node: ast.AST, types: tuple) -> None:
        """Start a device function with no pending return and zero results of ``types``
        (so that loops can carry them)."""
        self.result_types = types
        self.func.result_types = types
        self.env["$return"] = self.constant(node, False, bool_)
        for i, t in enumerate(types):
            self.env[f"$result{i}"] = self.constant(node, 0 if not t.is_bool else False, t)

    def loop_returned(self, node: ast.stmt) -> None:
        """After a loop that may return, inside another loop: that loop breaks too."""
        if not (self.returns_in_loops and self.loop_depth
                and isinstance(node, (ast.For, ast.While)) and has_return(node.body)):
            return
        flag = self.flag("break")
        current = self.env.get(flag)
        ret = self.env.get("$return")
        if isinstance(current, Value) and isinstance(ret, Value):
            self.env[flag] = self.op(node, "or", (current, ret))

    def stmts(self, body: list[ast.stmt]) -> str | None:
        """Translate ``body``; returns None (falls through), "return" or "jump"."""
        for index, stmt in enumerate(body):
            status = self.stmt(stmt)
            if status is not None:
                return status
            self.loop_returned(stmt)
            rest = body[index + 1:]
            if rest and may_jump(stmt, self.loop_depth > 0, not self.func.is_kernel):
                return self.guarded(rest)
        return None

    def stmt(self, node: ast.stmt) -> str | None:
        """Translate one statement."""
        method = getattr(self, f"stmt_{type(node).__name__}", None)
        if method is None:
            what = UNSUPPORTED_STMTS.get(type(node), f"{type(node).__name__!r} statements")
            raise self.error(node, f"{what} are not supported in kernels")
        return method(node)

    # --- simple statements ----------------------------------------------------------------

    def stmt_Pass(self, node: ast.Pass) -> None:
        return None

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a docstring or a comment-like string
        self.expr(node.value)
        return None

    def stmt_Assign(self, node: ast.Assign) -> None:
        value = self.expr(node.value)
        for target in node.targets:
            self.assign(target, value, node.value)
        return None

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            raise self.error(node, "a declaration without a value is not supported in "
                                   "kernels")
        t = self.expr(node.annotation)
        if not isinstance(t, ScalarDType):
            raise self.error(node.annotation, "a variable's annotation must be a wf scalar "
                                              f"type such as wf.f32, not {describe(t)}")
        value = self.expr(node.value)
        if not is_weak(value):
            value = self.scalar(node.value, value)
        self.assign(node.target, self.value(node.value, value, t.ir), node.value)
        return None

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        rhs = self.expr(node.value)
        if isinstance(target, ast.Name):
            current = self.expr(ast.Name(target.id, ast.Load(), lineno=target.lineno,
                                         col_offset=target.col_offset))
            self.assign(target, self.binary(node, type(node.op), current, rhs), node)
        elif isinstance(target, ast.Subscript):
            array, indices = self.target_access(target)
            old = self.op(target, "load", (array, *indices))
            new = self.binary(node, type(node.op), old, rhs)
            self.store(node, array, indices, new)
        else:
            raise self.error(target, "only variables and array elements can be updated")
        return None

    def assign(self, target: ast.expr, value: object, value_node: ast.AST) -> None:
        """Bind ``target`` (a name, an array element, or a tuple of targets) to ``value``."""
        if isinstance(target, ast.Name):
            if value is None:
                raise self.error(value_node, "this expression has no value to assign")
            if isinstance(value, str):
                raise self.error(value_node, "strings are not supported in kernels")
            if is_weak(value):
                value = self.value(value_node, value)
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, tuple):
                raise self.error(value_node, f"cannot unpack {describe(value)}")
            if len(value) != len(target.elts):
                raise self.error(value_node, f"cannot unpack {len(value)} values into "
                                             f"{len(target.elts)} targets")
            for elt, item in zip(target.elts, value, strict=True):
                self.assign(elt, item, value_node)
        elif isinstance(target, ast.Subscript):
            array, indices = self.target_access(target)
            self.store(target, array, indices, value, value_node)
        elif isinstance(target, ast.Attribute):
            raise self.error(target, "assigning to attributes is not supported in kernels")
        else:
            raise self.error(target, "this assignment target is not supported in kernels")

    def target_access(self, target: ast.Subscript) -> tuple[Value, list[Value]]:
        """The array and indices an assignment to ``a[i, j]`` or ``a[i][j]`` writes."""
        chained = self.chained_access(target)
        if chained is not None:
            return chained
        array = self.array_of(target.value, self.expr(target.value))
        return array, self.indices(target, array)

    def store(self, node: ast.AST, array: Value, indices: list[Value], value: object,
              value_node: ast.AST | None = None) -> None:
        """array[indices] = value, converted to the element type (errors about the value
        point at ``value_node``)."""
        value_node = value_node if value_node is not None else node
        if isinstance(value, Value) and isinstance(value.type, ArrayType):
            raise self.error(value_node, f"type error: cannot store {type_name(value.type)} "
                                         f"into an element of {type_name(array.type)}")
        v = self.value(value_node, value, array.type.elem)
        self.b.create("store", (array, *indices, v), loc=self.loc(node))

    def stmt_Return(self, node: ast.Return) -> str:
        if self.func.is_kernel:
            if node.value is not None:
                raise self.error(node.value, "kernels cannot return a value (write results "
                                             "into an array)")
            self.b.create("return", (), loc=self.loc(node))
            return RETURN
        value = self.expr(node.value) if node.value is not None else ()
        items = value if isinstance(value, tuple) else (value,)
        values = tuple(self.scalar(node.value, x) for x in items)
        if self.loop_depth:
            if "$result0" not in self.env and values:
                raise NeedResultTypes(tuple(v.type for v in values))
            status = self.deferred_return(node, values)
            self.env[self.flag("break")] = self.constant(node, True, bool_)
            return status
        if self.nesting:
            return self.deferred_return(node, values)
        types = tuple(v.type for v in values)
        if self.result_types is None:
            self.result_types = types
            self.func.result_types = types
        elif types != self.result_types:
            values = self.convert_results(node, values)
        self.b.create("return", values, loc=self.loc(node))
        return RETURN

    def deferred_return(self, node: ast.Return, values: tuple[Value, ...]) -> str:
        """A return inside an if of a device function: set ``$return`` and the pending
        results ``$result<i>``; the function returns them at its end."""
        types = tuple(v.type for v in values)
        if self.result_types is None:
            self.result_types = types
            self.func.result_types = types
        elif types != self.result_types:
            values = self.convert_results(node, values)
        self.env["$return"] = self.constant(node, True, bool_)
        for i, v in enumerate(values):
            self.env[f"$result{i}"] = v
        return JUMP

    def convert_results(self, node: ast.Return, values: tuple[Value, ...]
                        ) -> tuple[Value, ...]:
        """Return values converted to the function's result types, where safe."""
        expected = self.result_types
        if len(values) != len(expected):
            raise self.error(node, f"this return gives {len(values)} values but an earlier "
                                   f"one gives {len(expected)}")
        out = []
        for v, t in zip(values, expected, strict=True):
            if common_type(v.type, t) != t:
                raise self.error(node, f"type error: this return gives {v.type} but an "
                                       f"earlier one gives {t}")
            out.append(self.cast(node, v, t))
        return tuple(out)

    def stmt_Break(self, node: ast.Break) -> str:
        if not self.loop_depth:
            raise self.error(node, "'break' outside a loop")
        if self.env.get(self.flag("break")) is None:
            raise self.error(node, "'break' is not supported in wf.static_range loops")
        self.env[self.flag("break")] = self.constant(node, True, bool_)
        return JUMP

    def stmt_Continue(self, node: ast.Continue) -> str:
        if not self.loop_depth:
            raise self.error(node, "'continue' outside a loop")
        self.env[self.flag("continue")] = self.constant(node, True, bool_)
        return JUMP

    def flag(self, kind: str) -> str:
        """The name of the current loop's break or continue flag."""
        return f"${kind}{self.loop_depth}"

    def guarded(self, rest: list[ast.stmt]) -> str | None:
        """Translate ``rest`` under ``if not (break or continue)``."""
        node = rest[0]
        flags = [self.env[f] for f in (self.flag("break"), self.flag("continue"), "$return")
                 if isinstance(self.env.get(f), Value)]
        jumped = flags[0]
        for other in flags[1:]:
            jumped = self.op(node, "or", (jumped, other))
        go = self.op(node, "not", (jumped,))
        return self.build_if(node, go, rest, [])

    # --- if ---------------------------------------------------------------------------------

    def stmt_If(self, node: ast.If) -> str | None:
        cond = self.to_bool(node.test, self.expr(node.test))
        known = constant_of(cond)
        if known is not None:
            return self.stmts(node.body if known else node.orelse)
        return self.build_if(node, cond, node.body, node.orelse)

    def build_if(self, node: ast.AST, cond: Value, then_body: list[ast.stmt],
                 else_body: list[ast.stmt]) -> str | None:
        """An ``if`` op running ``then_body`` or ``else_body``, merging the variables."""
        before = self.env
        self.nesting += 1
        with self.b.if_(cond, loc=self.loc(node)) as br:
            branches = []
            for enter, body in ((br.then_, then_body), (br.else_, else_body)):
                with enter():
                    self.env = dict(before)
                    status = self.stmts(body)
                    branches.append((enter, self.env, status))
            live = [(enter, env) for enter, env, status in branches if status != RETURN]
            merged, yielded = self.merge(node, before, live)
        self.nesting -= 1
        for result, (name, _) in zip(br.results, yielded, strict=True):
            merged[name] = result
        self.env = merged
        statuses = [status for _, _, status in branches]
        if None in statuses:
            return None
        return JUMP if JUMP in statuses else RETURN

    def fill_flags(self, node: ast.AST, name: str, live: list, values: list[object]
                   ) -> list[object]:
        """Give a lowering variable (a flag or a pending return value) that some branches
        do not set its neutral value there (false, zero), so that it merges."""
        t = next(v.type for v in values if isinstance(v, Value))
        out = []
        for (enter, env), v in zip(live, values, strict=True):
            if not isinstance(v, Value):
                with enter():
                    v = env[name] = self.constant(node, 0 if not t.is_bool else False, t)
            out.append(v)
        return out

    def merge(self, node: ast.AST, before: dict[str, object],
              live: list[tuple[object, dict[str, object]]]
              ) -> tuple[dict[str, object], list[tuple[str, ScalarType]]]:
        """The environment after an if, and the variables the live branches yield (in
        yield order); the caller binds those to the if's results."""
        if not live:
            return dict(before), []
        merged: dict[str, object] = {}
        yielded: list[tuple[str, ScalarType]] = []
        names = dict.fromkeys(name for _, env in live for name in env)
        for name in names:
            values = [env.get(name) for _, env in live]
            first = values[0]
            if all(v is first for v in values) and (
                    first is before.get(name) or not isinstance(first, Value)
                    or any(first is v for v in before.values())):
                merged[name] = first
                continue
            if name.startswith("$") and any(isinstance(v, Value) for v in values):
                values = self.fill_flags(node, name, live, values)
            if any(v is None or isinstance(v, Undefined) for v in values):
                merged[name] = Undefined(name, f"it is assigned only in some branches of the "
                                               f"if at line {self.loc(node).line}")
                continue
            if not all(isinstance(v, Value) and isinstance(v.type, ScalarType)
                       for v in values):
                raise self.error(node, f"{name!r} is bound to "
                                       f"{'an array' if _any_array(values) else 'an object'} "
                                       "in a branch of this if; only scalar variables can "
                                       "change under control flow")
            t = values[0].type
            for v in values[1:]:
                t = common_type(t, v.type) if v.type != t else t
            yielded.append((name, t))
        for enter, env in live:
            with enter():
                vals = [self.cast(node, env[name], t) for name, t in yielded]
                self.b.create("yield", vals, loc=self.loc(node))
        return merged, yielded


def _any_array(values: list[object]) -> bool:
    return any(isinstance(v, Value) and isinstance(v.type, ArrayType) for v in values)
