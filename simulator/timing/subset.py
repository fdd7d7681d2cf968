"""A small typed subset of Python and its translation to LLVM IR (:mod:`.jit` compiles it).

The cycle engine's rules are written once, as a plain Python function of 64-bit integer and
float scalars and one-dimensional ``int64``/``float64`` arrays (:mod:`.native`). Run as
Python it is the readable reference; compiled, it is what the simulator calls. The subset
is what such a loop needs:

- parameters annotated ``int``, ``float``, :data:`Ints` or :data:`Floats`; locals take the
  type of their first assignment (``x: float = 0`` declares one), and a float is never
  assigned to an int local; module-level ``int``/``float``/``bool`` constants are read
  as they are when the function is compiled;
- ``if``/``elif``/``else``, ``while``, ``for i in range(...)`` (a constant step),
  ``break``, ``continue``, a bare ``return``, ``pass``;
- ``+ - * / // % & | ^ << >>`` with Python's floor division and modulo, comparisons
  (chained too), ``and``/``or``/``not`` (as booleans), ``x if c else y``, subscripts of
  array parameters, ``min``, ``max``, ``abs``, ``int``, ``float`` and ``math.ceil``/
  ``math.floor``.

Where it differs from Python (each case where Python would grow an integer or raise):

- integers are 64-bit and wrap;
- a shift by a negative count or by 64 or more, and ``int``/``math.ceil``/``math.floor`` of
  a NaN, an infinity or a float past int64, give an unspecified integer;
- a local read on a path where it was never assigned reads 0.

Everything else behaves as in Python, and what Python would raise is raised: an index
outside an array (negative ones included: there is no wraparound) is an ``IndexError``,
a division by zero a ``ZeroDivisionError``, both naming the source line. Anything outside
the subset is a :class:`JitError` at its line when the function is compiled.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable

import numpy as np
from llvmlite import ir

Ints = np.ndarray
"""Annotation of a one-dimensional, C-contiguous ``int64`` array parameter."""
Floats = np.ndarray
"""Annotation of a one-dimensional, C-contiguous ``float64`` array parameter."""

_I64 = ir.IntType(64)
_F64 = ir.DoubleType()
_I1 = ir.IntType(1)
SCALARS = {"int": ("i", _I64), "float": ("f", _F64)}
"""Scalar annotations: (kind, LLVM type)."""
ARRAYS = {"Ints": ("i", _I64, np.int64), "Floats": ("f", _F64, np.float64)}
"""Array annotations: (element kind, LLVM element type, numpy dtype)."""
INDEX_ERROR, ZERO_DIVISION = 1, 2
"""What a compiled function's nonzero result ``line << 2 | error`` says went wrong."""


class JitError(SyntaxError):
    """Source outside the compiled subset, at its file and line."""


class _Value:
    """A compiled expression: its LLVM value and kind, ``i`` (int64), ``f`` (double) or
    ``b`` (a comparison's i1)."""

    __slots__ = ("kind", "v")

    def __init__(self, kind: str, v: ir.Value) -> None:
        self.kind, self.v = kind, v


class Translator:
    """Turns one function's AST into one LLVM function."""

    def __init__(self, fn: Callable) -> None:
        source = textwrap.dedent(inspect.getsource(fn))
        self.file = inspect.getsourcefile(fn) or "<native>"
        self.first = fn.__code__.co_firstlineno - 1
        self.globals = fn.__globals__
        fdef = ast.parse(source).body[0]
        if not isinstance(fdef, ast.FunctionDef):
            raise JitError("native() takes a plain function", (self.file, self.first + 1,
                                                               0, None))
        self.fdef = fdef
        extra = fdef.args
        if (extra.vararg or extra.kwarg or extra.kwonlyargs or extra.posonlyargs
                or extra.defaults):
            self.fail(fdef, "a compiled function takes plain positional parameters (no "
                            "defaults, *args or keyword-only ones)")
        self.params: list[tuple[str, str]] = []
        for a in fdef.args.args:
            ann = a.annotation
            name = ann.id if isinstance(ann, ast.Name) else None
            if name not in SCALARS and name not in ARRAYS:
                self.fail(a, f"parameter {a.arg!r} needs an annotation: int, float, Ints "
                             "or Floats")
            self.params.append((a.arg, name))
        self.module = ir.Module(name=fn.__name__)
        types = []
        for _, ann in self.params:
            types += [ARRAYS[ann][1].as_pointer(), _I64] if ann in ARRAYS \
                else [SCALARS[ann][1]]
        self.func = ir.Function(self.module, ir.FunctionType(_I64, types), fn.__name__)
        self.entry = self.func.append_basic_block("entry")
        self.b = ir.IRBuilder(self.func.append_basic_block("body"))
        self.alloca = ir.IRBuilder(self.entry)
        self.locals: dict[str, tuple[str, ir.Value]] = {}
        self.arrays: dict[str, tuple[str, ir.Value, ir.Value]] = {}
        self.loops: list[tuple[ir.Block, ir.Block]] = []
        args = iter(self.func.args)
        for name, ann in self.params:
            if ann in ARRAYS:
                self.arrays[name] = (ARRAYS[ann][0], next(args), next(args))
            else:
                kind = SCALARS[ann][0]
                self.store(name, _Value(kind, next(args)), fdef)
        self.intrinsics = {op: self.module.declare_intrinsic(f"llvm.{op}", [_F64])
                           for op in ("ceil", "floor", "fabs")}

    def fail(self, node: ast.AST, message: str):
        line = self.first + getattr(node, "lineno", 1)
        raise JitError(message, (self.file, line, getattr(node, "col_offset", 0), None))

    def line(self, node: ast.AST) -> int:
        return self.first + node.lineno

    def translate(self) -> str:
        body = self.fdef.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        self.block(body)
        if not self.b.block.is_terminated:
            self.b.ret(_I64(0))
        self.alloca.branch(self.func.blocks[1])
        return str(self.module)

    # --- statements ---------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            if self.b.block.is_terminated:  # code after break/continue/return
                self.b.position_at_end(self.func.append_basic_block("dead"))
            self.stmt(s)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                self.fail(s, "one target an assignment")
            self.assign(s.targets[0], self.expr(s.value))
        elif isinstance(s, ast.AnnAssign):
            ann = s.annotation.id if isinstance(s.annotation, ast.Name) else None
            if ann not in SCALARS or not isinstance(s.target, ast.Name) or s.value is None:
                self.fail(s, "declare a local as 'name: int = value' or 'name: float = value'")
            if s.target.id in self.locals:
                self.fail(s, f"{s.target.id!r} is declared twice")
            self.declare(s.target.id, SCALARS[ann][0])
            self.assign(s.target, self.expr(s.value))
        elif isinstance(s, ast.AugAssign):
            self.augassign(s)
        elif isinstance(s, ast.If):
            self.if_(s)
        elif isinstance(s, ast.While):
            self.while_(s)
        elif isinstance(s, ast.For):
            self.for_(s)
        elif isinstance(s, ast.Break | ast.Continue):
            if not self.loops:
                self.fail(s, "break or continue outside a loop")
            self.b.branch(self.loops[-1][isinstance(s, ast.Break)])
        elif isinstance(s, ast.Return):
            if s.value is not None:
                self.fail(s, "a compiled function returns nothing: write results to arrays")
            self.b.ret(_I64(0))
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            pass  # a string as a comment
        else:
            self.fail(s, f"{type(s).__name__} is outside the compiled subset")

    def declare(self, name: str, kind: str) -> ir.Value:
        ty = _F64 if kind == "f" else _I64
        ptr = self.alloca.alloca(ty, name=name)
        self.alloca.store(ty(0), ptr)
        self.locals[name] = (kind, ptr)
        return ptr

    def store(self, name: str, value: _Value, node: ast.AST) -> None:
        if name in self.arrays:
            self.fail(node, f"array parameter {name!r} cannot be rebound")
        if name not in self.locals:
            self.declare(name, "f" if value.kind == "f" else "i")
        kind, ptr = self.locals[name]
        self.b.store(self.convert(value, kind, node), ptr)

    def assign(self, target: ast.expr, value: _Value) -> None:
        if isinstance(target, ast.Name):
            self.store(target.id, value, target)
        elif isinstance(target, ast.Subscript):
            kind, ptr = self.element(target)
            self.b.store(self.convert(value, kind, target), ptr)
        else:
            self.fail(target, "assign to a name or an array element")

    def augassign(self, s: ast.AugAssign) -> None:
        if isinstance(s.target, ast.Name):
            current = self.load_name(s.target)
            self.store(s.target.id, self.binop(s.op, current, self.expr(s.value), s), s)
        elif isinstance(s.target, ast.Subscript):
            kind, ptr = self.element(s.target)
            current = _Value(kind, self.b.load(ptr))
            self.b.store(self.convert(self.binop(s.op, current, self.expr(s.value), s),
                                      kind, s), ptr)
        else:
            self.fail(s, "assign to a name or an array element")

    def if_(self, s: ast.If) -> None:
        cond = self.truth(self.expr(s.test))
        then = self.func.append_basic_block("then")
        other = self.func.append_basic_block("else") if s.orelse else None
        after = self.func.append_basic_block("endif")
        self.b.cbranch(cond, then, other or after)
        self.b.position_at_end(then)
        self.block(s.body)
        if not self.b.block.is_terminated:
            self.b.branch(after)
        if other is not None:
            self.b.position_at_end(other)
            self.block(s.orelse)
            if not self.b.block.is_terminated:
                self.b.branch(after)
        self.b.position_at_end(after)

    def while_(self, s: ast.While) -> None:
        if s.orelse:
            self.fail(s, "a loop's else is outside the compiled subset")
        head = self.func.append_basic_block("while")
        body = self.func.append_basic_block("do")
        after = self.func.append_basic_block("done")
        self.b.branch(head)
        self.b.position_at_end(head)
        self.b.cbranch(self.truth(self.expr(s.test)), body, after)
        self.loop(body, head, after, s.body)

    def loop(self, body: ir.Block, cont: ir.Block, after: ir.Block, stmts) -> None:
        self.b.position_at_end(body)
        self.loops.append((cont, after))
        self.block(stmts)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(cont)
        self.b.position_at_end(after)

    def for_(self, s: ast.For) -> None:
        it = s.iter
        if (s.orelse or not isinstance(s.target, ast.Name) or not isinstance(it, ast.Call)
                or not isinstance(it.func, ast.Name) or it.func.id != "range"
                or not 1 <= len(it.args) <= 3 or it.keywords):
            self.fail(s, "loop with 'for name in range(...)' (no else)")
        args = it.args
        step = 1
        if len(args) == 3:
            c = args[2]
            if isinstance(c, ast.UnaryOp) and isinstance(c.op, ast.USub):
                c = c.operand
                step = -1
            if not isinstance(c, ast.Constant) or type(c.value) is not int or c.value == 0:
                self.fail(s, "a range's step must be a nonzero integer constant")
            step *= c.value
        ends = [self.convert(self.expr(a), "i", a) for a in args[:2]]
        lo, hi = (_I64(0), ends[0]) if len(args) == 1 else ends
        counter = self.alloca.alloca(_I64, name="counter")
        self.b.store(lo, counter)
        head = self.func.append_basic_block("for")
        body = self.func.append_basic_block("body")
        latch = self.func.append_basic_block("next")
        after = self.func.append_basic_block("done")
        self.b.branch(head)
        self.b.position_at_end(head)
        i = self.b.load(counter)
        self.b.cbranch(self.b.icmp_signed("<" if step > 0 else ">", i, hi), body, after)
        self.b.position_at_end(latch)
        self.b.store(self.b.add(self.b.load(counter), _I64(step)), counter)
        self.b.branch(head)
        self.b.position_at_end(body)
        self.store(s.target.id, _Value("i", self.b.load(counter)), s)
        self.loop(body, latch, after, s.body)

    # --- expressions --------------------------------------------------------------------
    def expr(self, e: ast.expr) -> _Value:
        if isinstance(e, ast.Constant):
            v = e.value
            if isinstance(v, bool):
                return _Value("b", _I1(int(v)))
            if isinstance(v, int):
                return _Value("i", _I64(v))
            if isinstance(v, float):
                return _Value("f", _F64(v))
            self.fail(e, f"constant {v!r} is outside the compiled subset")
        if isinstance(e, ast.Name):
            return self.load_name(e)
        if isinstance(e, ast.Subscript):
            kind, ptr = self.element(e)
            return _Value(kind, self.b.load(ptr))
        if isinstance(e, ast.BinOp):
            return self.binop(e.op, self.expr(e.left), self.expr(e.right), e)
        if isinstance(e, ast.UnaryOp):
            return self.unary(e)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        if isinstance(e, ast.BoolOp):
            return self.boolop(e)
        if isinstance(e, ast.IfExp):
            return self.ifexp(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        self.fail(e, f"{type(e).__name__} is outside the compiled subset")

    def load_name(self, e: ast.Name) -> _Value:
        if e.id not in self.locals:
            value = self.globals.get(e.id)
            if type(value) in (int, float, bool):  # a module constant, as it is now
                return self.expr(ast.copy_location(ast.Constant(value), e))
            self.fail(e, f"{e.id!r} is used before it is assigned (or is not a scalar)")
        kind, ptr = self.locals[e.id]
        return _Value(kind, self.b.load(ptr))

    def element(self, e: ast.Subscript) -> tuple[str, ir.Value]:
        """(kind, pointer) of ``array[index]``, with the bounds check."""
        if not isinstance(e.value, ast.Name) or e.value.id not in self.arrays:
            self.fail(e, "only array parameters can be indexed")
        kind, base, length = self.arrays[e.value.id]
        index = self.convert(self.expr(e.slice), "i", e)
        self.check(self.b.icmp_unsigned("<", index, length), INDEX_ERROR, e)
        return kind, self.b.gep(base, [index])

    def check(self, ok: ir.Value, error: int, node: ast.AST) -> None:
        """Leave with ``error`` at ``node``'s line unless ``ok``."""
        bad = self.func.append_basic_block("raise")
        good = self.func.append_basic_block("ok")
        self.b.cbranch(ok, good, bad)
        with self.b.goto_block(bad):
            self.b.ret(_I64(self.line(node) << 2 | error))
        self.b.position_at_end(good)

    def convert(self, v: _Value, kind: str, node: ast.AST) -> ir.Value:
        if v.kind == kind:
            return v.v
        if kind == "f":
            return self.b.sitofp(self.convert(v, "i", node), _F64)
        if kind == "i":
            if v.kind == "b":
                return self.b.zext(v.v, _I64)
            self.fail(node, "a float where an int is wanted: use int() or declare "
                            "'name: float = ...'")
        return self.truth(v)

    def truth(self, v: _Value) -> ir.Value:
        if v.kind == "b":
            return v.v
        if v.kind == "i":
            return self.b.icmp_signed("!=", v.v, _I64(0))
        return self.b.fcmp_unordered("!=", v.v, _F64(0))

    def binop(self, op: ast.operator, x: _Value, y: _Value, node: ast.AST) -> _Value:
        b = self.b
        if isinstance(op, ast.Div) or "f" in (x.kind, y.kind):
            xf, yf = self.convert(x, "f", node), self.convert(y, "f", node)
            if isinstance(op, ast.Add):
                return _Value("f", b.fadd(xf, yf))
            if isinstance(op, ast.Sub):
                return _Value("f", b.fsub(xf, yf))
            if isinstance(op, ast.Mult):
                return _Value("f", b.fmul(xf, yf))
            if isinstance(op, ast.Div):
                self.check(b.fcmp_unordered("!=", yf, _F64(0)), ZERO_DIVISION, node)
                return _Value("f", b.fdiv(xf, yf))
            self.fail(node, f"{type(op).__name__} on floats is outside the compiled subset")
        xi, yi = self.convert(x, "i", node), self.convert(y, "i", node)
        simple = {ast.Add: b.add, ast.Sub: b.sub, ast.Mult: b.mul, ast.BitAnd: b.and_,
                  ast.BitOr: b.or_, ast.BitXor: b.xor, ast.LShift: b.shl,
                  ast.RShift: b.ashr}
        if type(op) in simple:
            return _Value("i", simple[type(op)](xi, yi))
        if isinstance(op, ast.FloorDiv | ast.Mod):
            self.check(b.icmp_signed("!=", yi, _I64(0)), ZERO_DIVISION, node)
            q, r = b.sdiv(xi, yi), b.srem(xi, yi)
            # Python rounds toward minus infinity: adjust when the signs differ
            fix = b.and_(b.icmp_signed("!=", r, _I64(0)),
                         b.icmp_signed("!=", b.icmp_signed("<", r, _I64(0)),
                                       b.icmp_signed("<", yi, _I64(0))))
            if isinstance(op, ast.FloorDiv):
                return _Value("i", b.select(fix, b.sub(q, _I64(1)), q))
            return _Value("i", b.select(fix, b.add(r, yi), r))
        self.fail(node, f"{type(op).__name__} is outside the compiled subset")

    def unary(self, e: ast.UnaryOp) -> _Value:
        v = self.expr(e.operand)
        if isinstance(e.op, ast.Not):
            return _Value("b", self.b.not_(self.truth(v)))
        if isinstance(e.op, ast.USub):
            if v.kind == "f":
                return _Value("f", self.b.fneg(v.v))
            return _Value("i", self.b.neg(self.convert(v, "i", e)))
        if isinstance(e.op, ast.Invert):
            return _Value("i", self.b.not_(self.convert(v, "i", e)))
        return v  # unary plus

    def compare(self, e: ast.Compare) -> _Value:
        ops = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
               ast.NotEq: "!="}
        result = None
        left = self.expr(e.left)
        for op, right_e in zip(e.ops, e.comparators, strict=True):
            if type(op) not in ops:
                self.fail(e, f"{type(op).__name__} is outside the compiled subset")
            right = self.expr(right_e)
            if "f" in (left.kind, right.kind):
                c = self.b.fcmp_ordered(ops[type(op)], self.convert(left, "f", e),
                                        self.convert(right, "f", e))
            else:
                c = self.b.icmp_signed(ops[type(op)], self.convert(left, "i", e),
                                       self.convert(right, "i", e))
            result = c if result is None else self.b.and_(result, c)
            left = right
        return _Value("b", result)

    def boolop(self, e: ast.BoolOp) -> _Value:
        is_and = isinstance(e.op, ast.And)
        after = self.func.append_basic_block("endbool")
        incoming = []
        for value in e.values[:-1]:
            c = self.truth(self.expr(value))
            nxt = self.func.append_basic_block("bool")
            incoming.append((c, self.b.block))
            self.b.cbranch(c, nxt, after) if is_and else self.b.cbranch(c, after, nxt)
            self.b.position_at_end(nxt)
        last = self.truth(self.expr(e.values[-1]))
        incoming.append((last, self.b.block))
        self.b.branch(after)
        self.b.position_at_end(after)
        phi = self.b.phi(_I1)
        for v, blk in incoming:
            phi.add_incoming(v, blk)
        return _Value("b", phi)

    def ifexp(self, e: ast.IfExp) -> _Value:
        cond = self.truth(self.expr(e.test))
        yes = self.func.append_basic_block("yes")
        no = self.func.append_basic_block("no")
        after = self.func.append_basic_block("endif")
        self.b.cbranch(cond, yes, no)
        values, ends = [], []
        for blk, branch in ((yes, e.body), (no, e.orelse)):
            self.b.position_at_end(blk)
            values.append(self.expr(branch))
            ends.append(self.b.block)  # a branch may have made blocks of its own
        kinds = {v.kind for v in values}
        kind = "f" if "f" in kinds else ("b" if kinds == {"b"} else "i")
        incoming = []
        for v, blk in zip(values, ends, strict=True):
            self.b.position_at_end(blk)
            incoming.append((self.convert(v, kind, e), blk))
            self.b.branch(after)
        self.b.position_at_end(after)
        phi = self.b.phi({"f": _F64, "i": _I64, "b": _I1}[kind])
        for v, blk in incoming:
            phi.add_incoming(v, blk)
        return _Value(kind, phi)

    def call(self, e: ast.Call) -> _Value:
        f = e.func
        name = f.id if isinstance(f, ast.Name) else (
            f.attr if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
            and f.value.id == "math" else None)
        if e.keywords or name is None:
            self.fail(e, "call min, max, abs, int, float or math.ceil/floor")
        args = [self.expr(a) for a in e.args]
        if name in ("min", "max") and len(args) >= 2:
            kind = "f" if any(a.kind == "f" for a in args) else "i"
            best = self.convert(args[0], kind, e)
            for a in args[1:]:
                v = self.convert(a, kind, e)
                op = "<" if name == "min" else ">"
                better = (self.b.fcmp_ordered(op, v, best) if kind == "f"
                          else self.b.icmp_signed(op, v, best))
                best = self.b.select(better, v, best)
            return _Value(kind, best)
        if len(args) != 1:
            self.fail(e, f"{name}() with these arguments is outside the compiled subset")
        (a,) = args
        if name == "abs":
            if a.kind == "f":
                return _Value("f", self.b.call(self.intrinsics["fabs"], [a.v]))
            v = self.convert(a, "i", e)
            return _Value("i", self.b.select(self.b.icmp_signed("<", v, _I64(0)),
                                             self.b.neg(v), v))
        if name == "float":
            return _Value("f", self.convert(a, "f", e))
        if name == "int":
            return _Value("i", self.b.fptosi(a.v, _I64) if a.kind == "f"
                          else self.convert(a, "i", e))
        if name in ("ceil", "floor"):
            v = self.convert(a, "f", e)
            return _Value("i", self.b.fptosi(self.b.call(self.intrinsics[name], [v]), _I64))
        self.fail(e, f"{name}() is outside the compiled subset")
