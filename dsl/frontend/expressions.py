"""Expressions: names, literals, operators with Python's semantics, comparisons, boolean
logic, conditional expressions, subscripts (loads) and attributes.

Operators follow :mod:`.promotion`'s typing rules; ``//`` and ``%`` are Python's
(``floordiv``/``mod`` ops, rounding toward -inf), ``/`` is true division, comparisons
chain; two compile-time numbers combine in Python, at compile time. ``and``/``or`` take
bools (numbers are tested ``!= 0``) and give a bool; both sides are evaluated unless a
later operand reads memory or calls anything: then the later operands run only when the
earlier ones do not decide, as in Python (``i < n and x[i] > 0`` is a bounds guard).
``x if c else y`` is a ``select`` (both evaluated) when neither branch reads memory or
calls anything, else an ``if`` op that evaluates only the branch taken, as Python does
(``x[i] if i < n else 0`` must not load out of bounds).
"""

from __future__ import annotations

import ast
import builtins
import operator
import types

import numpy as np

from ...compiler.ir.core import Value
from ...compiler.ir.types import ArrayType, ScalarType, bool_, i32
from ..intrinsics import Dim3, SpecialValue
from ..types import from_dtype
from .base import FrontendBase, Undefined, constant_of, describe, is_weak
from .promotion import (
    arithmetic,
    common_type,
    describe_operand,
    literal_type,
    true_div_type,
    weak_type,
)

ARITH_OPS = {
    ast.Add: ("add", "add {a} and {b}"),
    ast.Sub: ("sub", "subtract {b} from {a}"),
    ast.Mult: ("mul", "multiply {a} by {b}"),
    ast.Div: ("div", "divide {a} by {b}"),
    ast.FloorDiv: ("floordiv", "floor-divide {a} by {b}"),
    ast.Mod: ("mod", "take {a} modulo {b}"),
}
BIT_OPS = {
    ast.BitAnd: ("and", "and {a} with {b}"),
    ast.BitOr: ("or", "or {a} with {b}"),
    ast.BitXor: ("xor", "xor {a} with {b}"),
    ast.LShift: ("shl", "shift {a} by {b}"),
    ast.RShift: ("shr", "shift {a} by {b}"),
}
PYTHON_OPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
"""Operators evaluated in Python when both operands are compile-time numbers (``**`` is
handled by :meth:`Expressions.power`)."""
OP_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
              ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
              ast.LShift: "<<", ast.RShift: ">>"}
COMPARE_OPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
               ast.GtE: "ge"}
UNSUPPORTED_EXPRS = {
    ast.Lambda: "'lambda' is not supported in kernels",
    ast.List: "list literals are not supported in kernels",
    ast.ListComp: "list comprehensions are not supported in kernels",
    ast.SetComp: "set comprehensions are not supported in kernels",
    ast.DictComp: "dict comprehensions are not supported in kernels",
    ast.GeneratorExp: "generator expressions are not supported in kernels",
    ast.Dict: "dict literals are not supported in kernels",
    ast.Set: "set literals are not supported in kernels",
    ast.JoinedStr: "strings are not supported in kernels",
    ast.Await: "'await' is not supported in kernels",
    ast.Yield: "'yield' is not supported in kernels",
    ast.YieldFrom: "'yield from' is not supported in kernels",
    ast.Starred: "starred expressions are not supported in kernels",
    ast.NamedExpr: "the walrus operator ':=' is not supported in kernels",
    ast.Slice: "slices are not supported in kernels",
}


def may_fault(node: ast.expr) -> bool:
    """True if evaluating ``node`` may read memory or call a function (so a conditional
    expression must not evaluate it unless its branch is taken)."""
    return any(isinstance(n, (ast.Subscript, ast.Call)) for n in ast.walk(node))


def index_count_message(ndim: int, given: int) -> str:
    """The error for indexing an ``ndim``-d array with ``given`` indices."""
    return f"a {ndim}-d array needs {ndim} ind{'ex' if ndim == 1 else 'ices'}, not {given}"


class Expressions(FrontendBase):
    """Translates expressions to IR values (or compile-time objects)."""

    def expr(self, node: ast.expr) -> object:
        """The value of expression ``node``."""
        method = getattr(self, f"expr_{type(node).__name__}", None)
        if method is None:
            message = UNSUPPORTED_EXPRS.get(type(node))
            raise self.error(node, message or f"the expression {type(node).__name__!r} is "
                                              "not supported in kernels")
        return method(node)

    # --- leaves ---------------------------------------------------------------------------

    def expr_Constant(self, node: ast.Constant) -> object:
        value = node.value
        if isinstance(value, (str, bytes)):
            raise self.error(node, "strings are not supported in kernels")
        if value is None or value is Ellipsis or isinstance(value, complex):
            raise self.error(node, f"{value!r} is not supported in kernels")
        if literal_type(value) is None:
            raise self.error(node, f"the integer {value} does not fit in 64 bits")
        return value

    def expr_Name(self, node: ast.Name) -> object:
        name = node.id
        if name in self.env:
            value = self.env[name]
            if isinstance(value, Undefined):
                raise self.error(node, f"the variable {name!r} may be undefined here: "
                                       f"{value.why}")
            return value
        return self.lookup_global(node, name)

    def lookup_global(self, node: ast.AST, name: str) -> object:
        """A global, closure or builtin name, as a compile-time object."""
        if name in self.globals:
            value = self.globals[name]
        elif hasattr(builtins, name):
            value = getattr(builtins, name)
        else:
            raise self.error(node, f"reading the undefined variable {name!r}")
        if isinstance(value, np.generic) and not isinstance(value, np.bool_):
            try:
                t = from_dtype(value.dtype).ir
            except TypeError as err:
                raise self.error(node, str(err)) from None
            return self.constant(node, value.item(), t)
        if isinstance(value, np.bool_):
            return bool(value)
        return value

    def expr_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.expr(elt) for elt in node.elts)

    # --- operators ------------------------------------------------------------------------

    def operand_type(self, node: ast.AST, x: object) -> ScalarType | None:
        """The scalar type of ``x``, None for weak numbers; errors for other objects."""
        if is_weak(x):
            return None
        if isinstance(x, Value) and isinstance(x.type, ScalarType):
            return x.type
        return None

    def type_error(self, node: ast.AST, template: str, a: object, b: object,
                   extra: str = "") -> Exception:
        """A type error naming both operands."""
        return self.error(node, "type error: cannot "
                          + template.format(a=self.name_of(a), b=self.name_of(b)) + extra)

    def name_of(self, x: object) -> str:
        """How an operand is named in a type error."""
        if isinstance(x, Value):
            return describe_operand(x.type)
        if is_weak(x):
            return str(literal_type(x, self.state.dialect))
        return describe(x)

    def common(self, node: ast.AST, a: object, b: object, template: str) -> ScalarType:
        """The type two operands convert to (see :mod:`.promotion`)."""
        dialect = self.state.dialect
        ta, tb = self.operand_type(node, a), self.operand_type(node, b)
        for x, t in ((a, ta), (b, tb)):
            if t is None and not is_weak(x):
                raise self.type_error(node, template, a, b)
        if dialect.strong_literals:  # Numba: a literal is a typed value like any other
            ta = ta if ta is not None else literal_type(a, dialect)
            tb = tb if tb is not None else literal_type(b, dialect)
            if ta is None or tb is None:
                raise self.type_error(node, template, a, b)
            if ta.is_bool and tb.is_bool:
                return ta
        if ta is None and tb is None:
            return common_type(literal_type(a, dialect), literal_type(b, dialect))
        if ta is None:
            return common_type(weak_type(a, tb), tb)
        if tb is None:
            return common_type(ta, weak_type(b, ta))
        return common_type(ta, tb)

    def promote(self, node: ast.AST, a: object, b: object, template: str
                ) -> tuple[Value, Value]:
        """Both operands converted to their common type."""
        t = self.common(node, a, b, template)
        return self.value(node, a, t), self.value(node, b, t)

    def binary(self, node: ast.AST, op: type, a: object, b: object) -> object:
        """``a op b`` for a Python binary operator class ``op``; two compile-time numbers
        give the compile-time number Python computes (``2.0 * math.pi`` keeps double
        precision until it meets a typed value)."""
        if is_weak(a) and is_weak(b) and op in PYTHON_OPS:
            try:
                value = PYTHON_OPS[op](a, b)
            except (ZeroDivisionError, OverflowError, ValueError, TypeError) as err:
                raise self.error(node, f"{a!r} {OP_SYMBOLS[op]} {b!r}: {err}") from None
            if isinstance(value, int) and not isinstance(value, bool) and \
                    literal_type(value) is None:
                raise self.error(node, f"the integer {value} does not fit in 64 bits")
            return value
        if op in ARITH_OPS:
            name, template = ARITH_OPS[op]
            x, y = self.promote(node, a, b, template)
            if name == "div" and not x.type.is_float:
                t = true_div_type(x.type, y.type, self.state.dialect)
                x, y = self.cast(node, x, t), self.cast(node, y, t)
            return self.op(node, name, (x, y))
        if op in BIT_OPS:
            name, template = BIT_OPS[op]
            return self.bitwise(node, name, template, a, b)
        if op is ast.Pow:
            return self.power(node, a, b)
        raise self.error(node, "the '@' operator is not supported in kernels")

    def power(self, node: ast.AST, a: object, b: object) -> object:
        """``a ** b``: a small constant integer exponent as multiplies (square and
        multiply; a negative one as the reciprocal, in floats), ``0.5`` as a square root,
        anything else as ``pow`` in floats."""
        if is_weak(a) and is_weak(b):
            try:
                return a ** b
            except (ZeroDivisionError, OverflowError) as err:
                raise self.error(node, f"{a!r} ** {b!r}: {err}") from None
        k = b if is_weak(b) else constant_of(b) if isinstance(b, Value) else None
        ta = self.operand_type(node, a)
        if ta is None and not is_weak(a):
            raise self.type_error(node, "raise {a} to the power {b}", a, b)
        if isinstance(k, int) and not isinstance(k, bool) and abs(k) <= 64:
            t = self.common(node, a, k, "raise {a} to the power {b}")
            if k < 0 and not t.is_float:
                t = true_div_type(t, t, self.state.dialect)
            x = self.value(node, a, t)
            result = self.constant(node, 1, t) if k == 0 else None
            square, n = x, abs(k)
            while n:
                if n & 1:
                    result = square if result is None else self.op(node, "mul", (result, square))
                n >>= 1
                if n:
                    square = self.op(node, "mul", (square, square))
            if k < 0:
                result = self.op(node, "div", (self.constant(node, 1, t), result))
            return result
        t = self.common(node, a, b, "raise {a} to the power {b}")
        if not t.is_float:
            t = true_div_type(t, t, self.state.dialect)
        x = self.value(node, a, t)
        if isinstance(k, float) and k == 0.5:
            return self.op(node, "sqrt", (x,))
        return self.math_call(node, "pow", [x, self.value(node, b, t)])

    def math_call(self, node: ast.AST, name: str, args: list[Value]) -> Value:
        """A math library function (overridden where calls are known)."""
        raise NotImplementedError

    def bitwise(self, node: ast.AST, name: str, template: str, a: object, b: object
                ) -> Value:
        """Bitwise ops (logical on two bools) and shifts; integers only."""
        ta, tb = self.operand_type(node, a), self.operand_type(node, b)
        bools = all((t is not None and t.is_bool) or isinstance(x, bool)
                    for x, t in ((a, ta), (b, tb)))
        if bools and name in ("and", "or", "xor"):
            return self.op(node, name, (self.to_bool(node, a), self.to_bool(node, b)))
        for x, t in ((a, ta), (b, tb)):
            if (t is None and not isinstance(x, int)) or (t is not None and t.is_float):
                raise self.type_error(node, template, a, b, " (needs integers)")
        if name in ("shl", "shr"):
            left = arithmetic(ta) if ta is not None else (
                arithmetic(tb) if tb is not None else literal_type(a, self.state.dialect))
            return self.op(node, name, (self.value(node, a, left),
                                        self.value(node, b, left)))
        x, y = self.promote(node, a, b, template)
        return self.op(node, name, (x, y))

    def expr_BinOp(self, node: ast.BinOp) -> object:
        a, b = self.expr(node.left), self.expr(node.right)
        return self.binary(node, type(node.op), a, b)

    def expr_UnaryOp(self, node: ast.UnaryOp) -> object:
        x = self.expr(node.operand)
        op = type(node.op)
        if is_weak(x):
            if op is ast.Not:
                return not x
            if op is ast.Invert and isinstance(x, float):
                raise self.error(node, "type error: cannot invert f32 (needs integers)")
            return {ast.USub: lambda v: -v, ast.UAdd: lambda v: +v,
                    ast.Invert: lambda v: ~v}[op](x)
        if op is ast.Not:
            return self.op(node, "not", (self.to_bool(node, x),))
        v = self.scalar(node, x)
        t = arithmetic(v.type)
        v = self.cast(node, v, t)
        if op is ast.UAdd:
            return v
        if op is ast.USub:
            if t.is_signed:
                return self.op(node, "neg", (v,))
            return self.op(node, "sub", (self.constant(node, 0, t), v))
        if t.is_float:
            raise self.error(node, f"type error: cannot invert {t} (needs integers)")
        return self.op(node, "not", (v,))

    def compare(self, node: ast.AST, op: type, a: object, b: object) -> Value:
        """``a op b`` for one comparison operator class."""
        if op not in COMPARE_OPS:
            what = {ast.Is: "'is'", ast.IsNot: "'is not'", ast.In: "'in'",
                    ast.NotIn: "'not in'"}[op]
            raise self.error(node, f"{what} is not supported in kernels")
        pred = COMPARE_OPS[op]
        ta, tb = self.operand_type(node, a), self.operand_type(node, b)
        both_bool = all((t is not None and t.is_bool) or isinstance(x, bool)
                        for x, t in ((a, ta), (b, tb)))
        if both_bool and pred in ("eq", "ne"):
            return self.op(node, "cmp", (self.to_bool(node, a), self.to_bool(node, b)),
                           {"pred": pred})
        x, y = self.promote(node, a, b, "compare {a} with {b}")
        return self.op(node, "cmp", (x, y), {"pred": pred})

    def expr_Compare(self, node: ast.Compare) -> object:
        left = self.expr(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node)
            c = self.compare(node, type(op), left, right)
            result = c if result is None else self.op(node, "and", (result, c))
            left = right
        return result

    def expr_BoolOp(self, node: ast.BoolOp) -> object:
        name = "and" if isinstance(node.op, ast.And) else "or"
        result = self.to_bool(node.values[0], self.expr(node.values[0]))
        for k, value in enumerate(node.values[1:], start=1):
            if any(may_fault(v) for v in node.values[k:]):
                return self.short_circuit(node, name, result, node.values[k:])
            result = self.op(node, name, (result, self.to_bool(value, self.expr(value))))
        return result

    def short_circuit(self, node: ast.BoolOp, name: str, first: Value,
                      rest: list[ast.expr]) -> Value:
        """``first and rest...`` (or ``or``) evaluating ``rest`` only when ``first`` does not
        decide, as Python does: ``i < n and x[i] > 0`` never reads ``x[n]``."""
        known = constant_of(first)
        if known is not None:
            if bool(known) == (name == "or"):
                return first
            if len(rest) == 1:
                return self.to_bool(rest[0], self.expr(rest[0]))
            return self.expr_BoolOp(ast.BoolOp(node.op, rest, lineno=node.lineno,
                                               col_offset=node.col_offset))
        decide = first if name == "or" else self.op(node, "not", (first,))
        with self.b.if_(decide, loc=self.loc(node)) as br:
            with br.then_():
                self.b.create("yield", (self.constant(node, name == "or", bool_),),
                              loc=self.loc(node))
            with br.else_():
                if len(rest) == 1:
                    value = self.to_bool(rest[0], self.expr(rest[0]))
                else:
                    value = self.expr_BoolOp(ast.BoolOp(node.op, rest, lineno=node.lineno,
                                                        col_offset=node.col_offset))
                self.b.create("yield", (value,), loc=self.loc(node))
        return br.results[0]

    def expr_IfExp(self, node: ast.IfExp) -> object:
        cond = self.to_bool(node.test, self.expr(node.test))
        known = constant_of(cond)
        if known is not None:
            return self.expr(node.body if known else node.orelse)
        if not (may_fault(node.body) or may_fault(node.orelse)):
            a, b = self.expr(node.body), self.expr(node.orelse)
            x, y = self.promote(node, a, b, "choose between {a} and {b}")
            return self.op(node, "select", (cond, x, y))
        # A branch reads memory or calls: evaluate only the branch taken, as Python does.
        with self.b.if_(cond, loc=self.loc(node)) as br:
            with br.then_():
                a = self.expr(node.body)
            with br.else_():
                b = self.expr(node.orelse)
            t = self.common(node, a, b, "choose between {a} and {b}")
            for enter, x, sub in ((br.then_, a, node.body), (br.else_, b, node.orelse)):
                with enter():
                    self.b.create("yield", (self.value(sub, x, t),), loc=self.loc(node))
        return br.results[0]

    # --- subscripts and attributes --------------------------------------------------------

    def indices(self, node: ast.Subscript, array: Value) -> list[Value]:
        """The index values of ``array[...]``, one per dimension."""
        t = array.type
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(item, ast.Slice) for item in items):
            raise self.error(node, "slices are not supported in kernels")
        if len(items) != t.ndim:
            raise self.error(node, index_count_message(t.ndim, len(items)))
        return [self.index(item, array, axis) for axis, item in enumerate(items)]

    def index(self, item: ast.expr, array: Value, axis: int, x: object = None) -> Value:
        """One index of ``array`` along ``axis``: an integer value; a negative constant
        counts from the end, as in Python (``a[-1]`` is the last element)."""
        x = self.expr(item) if x is None else x
        known = x if is_weak(x) else constant_of(x) if isinstance(x, Value) else None
        if isinstance(known, int) and not isinstance(known, bool) and known < 0:
            if isinstance(x, Value) and not x.type.is_signed:
                known = None
            else:
                size = self.extent(item, array, axis)
                return self.op(item, "add", (size, self.value(item, known, i32)))
        if is_weak(x) and not isinstance(x, bool) and isinstance(x, int):
            return self.value(item, x, i32)
        v = self.scalar(item, x)
        if not v.type.is_int or v.type.is_storage_only:
            raise self.error(item, "type error: an array index must be an integer, "
                                   f"not {describe_operand(v.type)}")
        return v

    def array_of(self, node: ast.AST, x: object) -> Value:
        """``x`` as an array value, else an error."""
        if isinstance(x, Value) and isinstance(x.type, ArrayType):
            return x
        raise self.error(node, f"type error: cannot index {self.name_of(x)} "
                               "(only arrays can be indexed)")

    def expr_Subscript(self, node: ast.Subscript) -> object:
        chained = self.chained_access(node)
        if chained is not None:
            array, indices = chained
            return self.op(node, "load", (array, *indices))
        base = self.expr(node.value)
        if isinstance(base, tuple):
            index = self.constant_int(node.slice, self.expr(node.slice), "a tuple index")
            if not -len(base) <= index < len(base):
                raise self.error(node.slice, f"index {index} is out of range for a tuple of "
                                             f"{len(base)}")
            return base[index]
        array = self.array_of(node.value, base)
        return self.op(node, "load", (array, *self.indices(node, array)))

    def chained_access(self, node: ast.Subscript) -> tuple[Value, list[Value]] | None:
        """``a[i][j]`` on a 2-D array (any depth): the array and its indices, else None."""
        items: list[ast.expr] = []
        inner: ast.expr = node
        while isinstance(inner, ast.Subscript):
            s = inner.slice
            items[:0] = s.elts if isinstance(s, ast.Tuple) else [s]
            inner = inner.value
        if inner is node.value:
            return None
        base = self.expr(inner)
        if not (isinstance(base, Value) and isinstance(base.type, ArrayType)):
            return None
        if len(items) != base.type.ndim:
            raise self.error(node, index_count_message(base.type.ndim, len(items)))
        return base, [self.index(item, base, axis) for axis, item in enumerate(items)]

    def shape_of(self, node: ast.AST, array: Value) -> tuple[Value, ...]:
        """The extents of ``array`` as i32 values (constants for static arrays)."""
        t = array.type
        if t.shape is not None:
            return tuple(self.constant(node, n, i32) for n in t.shape)
        return tuple(self.op(node, "array_dim", (array,), {"axis": axis})
                     for axis in range(t.ndim))

    def extent(self, node: ast.AST, array: Value, axis: int) -> Value:
        """The extent of ``array`` along ``axis`` as an i32 value."""
        t = array.type
        if t.shape is not None:
            return self.constant(node, t.shape[axis], i32)
        return self.op(node, "array_dim", (array,), {"axis": axis})

    def expr_Attribute(self, node: ast.Attribute) -> object:
        base = self.expr(node.value)
        attr = node.attr
        if isinstance(base, Dim3):
            if attr not in ("x", "y", "z"):
                raise self.error(node, f"wf.{base.name} has no attribute {attr!r} (use .x, "
                                       ".y or .z)")
            return self.op(node, base.name, (), {"dim": attr})
        if isinstance(base, Value):
            if isinstance(base.type, ArrayType) and attr == "shape":
                return self.shape_of(node, base)
            if isinstance(base.type, ArrayType) and attr == "ndim":
                return base.type.ndim
            if isinstance(base.type, ArrayType) and attr == "size":
                dims = self.shape_of(node, base)
                size = dims[0]
                for d in dims[1:]:
                    size = self.op(node, "mul", (size, d))
                return size
            raise self.error(node, f"attribute {attr!r} of {describe(base)} is not "
                                   "supported in kernels")
        if isinstance(base, (types.ModuleType, type)) or hasattr(base, "__dict__"):
            try:
                value = getattr(base, attr)
            except AttributeError:
                raise self.error(node, f"{describe(base)} has no attribute {attr!r}") from None
            if isinstance(value, np.generic):
                return value.item()
            if isinstance(value, SpecialValue):
                return self.op(node, value.op, ())
            return value
        raise self.error(node, f"attribute {attr!r} of {describe(base)} is not supported "
                               "in kernels")
