"""Calls in kernels: intrinsics (recognized by identity), casts (calling a type), the
builtins ``min max abs int float bool``, and ``@wf.func`` device functions.

Stores and atomics convert their value to the array's element type, as C's assignment
does. ``wf.atomic_cas(arr, idx, compare, value)`` follows CUDA's ``atomicCAS`` order.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math

import numpy as np

from ...compiler.errors import IRError
from ...compiler.ir.core import Value
from ...compiler.ir.typerules import MMA_SHAPE
from ...compiler.ir.types import AddressSpace, ArrayType, bool_, f32, i32, u32
from .. import intrinsics as wi
from ..errors import CompileError
from ..func import is_device_function
from ..types import ArrayDType, ScalarDType, from_dtype
from .base import describe, is_weak
from .expressions import Expressions
from .promotion import arithmetic, common_type

MATH = ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "exp2", "log2", "log10", "tan", "tanh",
        "sinh", "cosh", "asin", "acos", "atan", "erf", "erfc", "cbrt", "floor", "ceil",
        "trunc", "round")
MATH2 = ("pow", "atan2", "hypot", "copysign", "fmod")
FLOAT_TESTS = ("isnan", "isinf", "isfinite")
BITS = ("popc", "clz", "brev", "ffs")
ATOMICS = {"atomic_add": "add", "atomic_sub": "sub", "atomic_min": "min",
           "atomic_max": "max", "atomic_exch": "exch", "atomic_cas": "cas",
           "atomic_and": "and", "atomic_or": "or", "atomic_xor": "xor",
           "atomic_inc": "inc", "atomic_dec": "dec"}
MAX_BLOCK_THREADS = 1024
"""Threads a block may have (CUDA guide, every compute capability since 2.0)."""
SHUFFLES = {"shfl_xor": "xor", "shfl_down": "down", "shfl_up": "up", "shfl_idx": "idx"}
VOTES = {"vote_any": "any", "vote_all": "all", "ballot": "ballot"}
CTA_VOTES = {"syncthreads_count": "count", "syncthreads_and": "and",
             "syncthreads_or": "or"}
ARITY = {"lane_id": 0, "launch_bounds": 1, "syncthreads": 0, "syncwarp": 0,
         "threadfence": 0, "shared": 2, "local": 2, "mma_sync": (3, 4), "dynamic_shared": 1,
         "fma": 3, "select": 3, "abs": 1,
         **dict.fromkeys(MATH, 1), **dict.fromkeys(MATH2, 2),
         **dict.fromkeys(FLOAT_TESTS, 1), **dict.fromkeys(BITS, 1),
         **dict.fromkeys(SHUFFLES, 2), **dict.fromkeys(VOTES, 1),
         **dict.fromkeys(CTA_VOTES, 1), **dict.fromkeys(ATOMICS, 3), "atomic_cas": 4,
         # the Numba front's own (warpforge.cuda)
         "grid": 1, "gridsize": 1, "shared_array": 2, "local_array": 2,
         "const_array_like": 1, "syncwarp_mask": (0, 1), "compare_and_swap": 3,
         **dict.fromkeys(("shfl_sync", "shfl_up_sync", "shfl_down_sync", "shfl_xor_sync"), 3),
         **dict.fromkeys(("all_sync", "any_sync", "eq_sync", "ballot_sync"), 2)}
PYTHON_MATH = {getattr(math, name): name for name in (
    "exp", "log", "sqrt", "sin", "cos", "exp2", "log2", "log10", "tan", "tanh", "sinh",
    "cosh", "asin", "acos", "atan", "erf", "erfc", "cbrt", "pow", "atan2", "hypot",
    "copysign", "fmod", "isnan", "isinf", "isfinite", "fabs") if hasattr(math, name)}
"""Python's ``math`` functions a kernel may call, by the intrinsic each means (``fabs``
is ``abs``); ``math.floor``/``ceil``/``trunc`` and the builtin ``round`` give ints, as
in Python."""
COMPILE_TIME_MATH = {
    **{name: getattr(math, name) for name in (
        "exp", "log", "sqrt", "sin", "cos", "exp2", "log2", "log10", "tan", "tanh", "sinh",
        "cosh", "asin", "acos", "atan", "erf", "erfc", "cbrt", "floor", "ceil", "trunc",
        "pow", "atan2", "hypot", "copysign", "fmod", "isnan", "isinf", "isfinite")
       if hasattr(math, name)},
    "rsqrt": lambda x: 1.0 / math.sqrt(x), "round": lambda x: float(round(x)),
}
"""Math of compile-time numbers, evaluated in Python (double precision) at compile time;
``floor``/``ceil``/``trunc`` give floats here, as the ``wf.`` functions do."""
for _name in ("floor", "ceil", "trunc"):
    COMPILE_TIME_MATH[_name] = (lambda f: lambda x: float(f(x)))(getattr(math, _name))
PYTHON_MATH_TO_INT = {math.floor: "floor", math.ceil: "ceil", math.trunc: "trunc",
                      builtins.round: "round"}


class Calls(Expressions):
    """Translates calls."""

    def expr_Call(self, node: ast.Call) -> object:
        target = self.expr(node.func)
        if is_device_function(target):
            return self.call_device_function(node, target)
        if node.keywords and not isinstance(target, wi.Intrinsic):
            raise self.error(node, f"keyword arguments are not supported in calls to "
                                   f"{describe(target)}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, "starred arguments are not supported in kernels")
        if isinstance(target, wi.Intrinsic):
            if target is wi.static_range:
                raise self.error(node, "wf.static_range() can only be a for loop's iterable")
            if node.keywords:
                node = self.positional(node, target)
            expected = ARITY.get(target.name)
            if isinstance(expected, tuple):
                ok = expected[0] <= len(node.args) <= expected[1]
                expected_text = f"{expected[0]} to {expected[1]}"
            else:
                ok = expected is None or len(node.args) == expected
                expected_text = str(expected)
            if not ok:
                raise self.error(node, f"{target.spelled}() takes {expected_text} argument"
                                       f"{'s' if expected != 1 else ''}, not {len(node.args)}")
            handler = getattr(self, f"call_{target.name}", None)
            return handler(node) if handler is not None else self.intrinsic(node, target.name)
        args = [self.expr(a) for a in node.args]
        if isinstance(target, type) and issubclass(target, np.generic) and \
                target is not np.generic:  # np.float32(x): a cast, as in Numba kernels
            try:
                target = from_dtype(target)
            except TypeError as err:
                raise self.error(node, str(err)) from None
        if isinstance(target, ScalarDType):
            if len(args) != 1:
                raise self.error(node, f"wf.{target.name}() takes 1 argument")
            if is_weak(args[0]) and not (isinstance(args[0], float) and target.ir.is_int):
                return self.value(node, args[0], target.ir)  # wf.f64(0.1) is f64's 0.1
            return self.value(node, self.scalar(node.args[0], args[0]), target.ir)
        if isinstance(target, ArrayDType):
            raise self.error(node, "array types cannot be called in kernels")
        if target is builtins.range:
            raise self.error(node, "range() can only be a for loop's iterable")
        if target in (builtins.min, builtins.max):
            return self.minmax(node, target.__name__, args)
        if target is builtins.abs:
            return self.absolute(node, args)
        if target in (builtins.int, builtins.float, builtins.bool):
            if len(args) != 1:
                raise self.error(node, f"{target.__name__}() takes 1 argument in kernels")
            dialect = self.state.dialect
            t = {builtins.int: dialect.int_literal, builtins.float: dialect.float_literal,
                 builtins.bool: bool_}[target]
            if t is bool_:
                return self.to_bool(node, args[0])
            return self.value(node, self.scalar(node.args[0], args[0]), t)
        if target in PYTHON_MATH_TO_INT and not (target is builtins.round and len(args) != 1):
            if len(args) != 1:
                raise self.error(node, f"{target.__name__}() takes 1 argument in kernels")
            x = self.float_arg(node.args[0], args[0])
            return self.cast(node, self.op(node, PYTHON_MATH_TO_INT[target], (x,)), i32)
        if PYTHON_MATH.get(target) is not None:
            name = PYTHON_MATH[target]
            name = "abs" if name == "fabs" else name
            expected = ARITY[name]
            if len(args) != expected:
                raise self.error(node, f"math.{target.__name__}() takes {expected} "
                                       f"argument{'s' if expected != 1 else ''}")
            if name == "abs":
                return self.absolute(node, [self.float_arg(node.args[0], args[0])])
            return self.math_values(node, name, args)
        if target is builtins.len:
            if len(args) != 1 or not (isinstance(args[0], Value)
                                      and isinstance(args[0].type, ArrayType)):
                raise self.error(node, "len() takes one array in kernels")
            return self.op(node, "array_dim", (args[0],), {"axis": 0})
        if callable(target):
            name = getattr(target, "__name__", repr(target))
            raise self.error(node, f"calling a Python function that is not @wf.func: "
                                   f"{name!r}")
        raise self.error(node, f"{describe(target)} is not callable")

    def positional(self, node: ast.Call, target: wi.Intrinsic) -> ast.Call:
        """``node`` with its keyword arguments moved into place by ``target.params``."""
        params = target.params
        if not params:
            raise self.error(node, f"keyword arguments are not supported in calls to "
                                   f"{target.spelled}")
        args: list[ast.expr | None] = list(node.args) + [None] * (len(params) - len(node.args))
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in params:
                raise self.error(kw.value if kw.arg else node,
                                 f"{target.spelled}() has no parameter {kw.arg!r} "
                                 f"(its parameters: {', '.join(params)})")
            k = params.index(kw.arg)
            if k < len(node.args) or args[k] is not None:
                raise self.error(kw.value, f"{target.spelled}() got {kw.arg!r} twice")
            args[k] = kw.value
        while args and args[-1] is None:
            args.pop()
        if any(a is None for a in args):
            missing = params[args.index(None)]
            raise self.error(node, f"{target.spelled}() is missing {missing!r}")
        return ast.Call(node.func, args, [], lineno=node.lineno, col_offset=node.col_offset,
                        end_lineno=getattr(node, "end_lineno", None),
                        end_col_offset=getattr(node, "end_col_offset", None))

    def intrinsic(self, node: ast.Call, name: str) -> object:
        """Intrinsics whose translation is table-driven."""
        if name in MATH or name in MATH2 or name in FLOAT_TESTS:
            return self.math_values(node, name, [self.expr(a) for a in node.args])
        if name in BITS:
            v = self.scalar(node.args[0], self.expr(node.args[0]))
            if not (v.type.is_int or v.type.is_bool):
                raise self.error(node.args[0], f"type error: wf.{name}() needs an integer, "
                                               f"not {v.type}")
            return self.op(node, name, (self.cast(node, v, arithmetic(v.type)),))
        if name in CTA_VOTES:
            return self.cta_vote(node, CTA_VOTES[name])
        if name in ATOMICS:
            return self.atomic(node, ATOMICS[name])
        if name in SHUFFLES:
            v = self.scalar(node.args[0], self.expr(node.args[0]))
            v = self.cast(node, v, arithmetic(v.type))
            k = self.value(node.args[1], self.expr(node.args[1]), i32)
            return self.op(node, "shfl", (v, k), {"kind": SHUFFLES[name]})
        if name in VOTES:
            p = self.to_bool(node.args[0], self.expr(node.args[0]))
            return self.op(node, "vote", (p,), {"kind": VOTES[name]})
        if name in ("min", "max"):
            return self.minmax(node, name, [self.expr(a) for a in node.args])
        if name == "abs":
            return self.absolute(node, [self.expr(a) for a in node.args])
        raise self.error(node, f"wf.{name}() is not supported yet")

    # --- thread position, barriers, allocation --------------------------------------------

    def call_lane_id(self, node: ast.Call) -> Value:
        return self.op(node, "lane_id", ())

    def call_launch_bounds(self, node: ast.Call) -> object:
        """``wf.launch_bounds(max_threads)``: recorded as the kernel's ``max_threads``
        attribute (once; a compile-time integer 1..1024)."""
        if not self.func.is_kernel:
            raise self.error(node, "wf.launch_bounds() belongs in a kernel, not a @wf.func")
        n = self.constant_int(node.args[0], self.expr(node.args[0]),
                              "wf.launch_bounds()'s max_threads")
        if not 1 <= n <= MAX_BLOCK_THREADS:
            raise self.error(node.args[0], f"wf.launch_bounds()'s max_threads must be 1.."
                                           f"{MAX_BLOCK_THREADS}, not {n}")
        known = self.func.attrs.get("max_threads")
        if known is not None and known != n:
            raise self.error(node, f"wf.launch_bounds({n}) contradicts the kernel's earlier "
                                   f"wf.launch_bounds({known})")
        self.func.attrs["max_threads"] = n
        return None

    def call_syncthreads(self, node: ast.Call) -> object:
        self.b.create("barrier", loc=self.loc(node))
        return None

    def call_syncwarp(self, node: ast.Call) -> object:
        self.b.create("syncwarp", loc=self.loc(node))
        return None

    def call_threadfence(self, node: ast.Call) -> object:
        self.b.create("fence", loc=self.loc(node))
        return None

    def cta_vote(self, node: ast.Call, kind: str) -> Value:
        """``syncthreads_count/and/or(pred)``: a barrier that also counts the CTA's
        threads whose pred holds, through a shared counter of its own: reset by thread 0,
        barrier, an atomic add per true pred, barrier, read, barrier (so that a next
        round's reset cannot overtake a slow reader)."""
        pred = self.to_bool(node.args[0], self.expr(node.args[0]))
        loc = self.loc(node)
        counter = self.op(node, "shared_alloc", (),
                          result_type=ArrayType.static(i32, (1,), AddressSpace.SHARED))
        zero = self.constant(node, 0, i32)
        first = None
        for d in ("x", "y", "z"):
            at_zero = self.op(node, "cmp", (self.op(node, "thread_idx", (), {"dim": d}), zero),
                              {"pred": "eq"})
            first = at_zero if first is None else self.op(node, "and", (first, at_zero))
        with self.b.if_(first, loc=loc) as br, br.then_():
            self.b.create("store", (counter, zero, zero), loc=loc)
        self.b.create("barrier", loc=loc)
        with self.b.if_(pred, loc=loc) as br, br.then_():
            self.b.create("atomic", (counter, zero, self.constant(node, 1, i32)),
                          {"kind": "add"}, loc=loc)
        self.b.create("barrier", loc=loc)
        count = self.op(node, "load", (counter, zero))
        self.b.create("barrier", loc=loc)
        if kind == "count":
            return count
        if kind == "or":
            return self.op(node, "cmp", (count, zero), {"pred": "gt"})
        threads = self.op(node, "mul", (
            self.op(node, "mul", (self.op(node, "block_dim", (), {"dim": "x"}),
                                  self.op(node, "block_dim", (), {"dim": "y"}))),
            self.op(node, "block_dim", (), {"dim": "z"})))
        return self.op(node, "cmp", (count, threads), {"pred": "eq"})

    def call_shared(self, node: ast.Call) -> Value:
        return self.alloc(node, "shared_alloc")

    def call_dynamic_shared(self, node: ast.Call) -> Value:
        """``wf.dynamic_shared(dtype)``: the launch's dynamic shared memory as a 1-d array."""
        dtype = self.expr(node.args[0])
        if not isinstance(dtype, ScalarDType) or dtype.ir.is_bool:
            raise self.error(node.args[0], "wf.dynamic_shared() takes an element type such "
                                           f"as wf.f32, not {describe(dtype)}")
        t = ArrayType(dtype.ir, 1, AddressSpace.SHARED)
        return self.op(node, "dynamic_shared", (), result_type=t)

    def call_local(self, node: ast.Call) -> Value:
        return self.alloc(node, "local_alloc")

    def alloc(self, node: ast.Call, name: str) -> Value:
        """``wf.shared(shape, dtype)`` / ``wf.local(shape, dtype)``: a static shape."""
        shape_arg = self.expr(node.args[0])
        items = shape_arg if isinstance(shape_arg, tuple) else (shape_arg,)
        hint = (" (for shared memory sized at launch, use wf.dynamic_shared(dtype) and "
                "launch with k[grid, block, shared_bytes])" if name == "shared_alloc" else "")
        try:
            shape = tuple(self.constant_int(node.args[0], s, "an array's shape")
                          for s in items)
        except CompileError as err:
            raise self.error(node.args[0], err.message + hint) from None
        if not shape or any(n <= 0 for n in shape):
            raise self.error(node.args[0], f"an array's shape must be positive, not "
                                           f"{shape}{hint}")
        dtype = self.expr(node.args[1])
        if not isinstance(dtype, ScalarDType):
            raise self.error(node.args[1], f"an array's element type must be a wf scalar "
                                           f"type such as wf.f32, not {describe(dtype)}")
        space = AddressSpace.SHARED if name == "shared_alloc" else AddressSpace.LOCAL
        t = ArrayType.static(dtype.ir, shape, space)
        return self.op(node, name, (), result_type=t)

    # --- memory and warp ops --------------------------------------------------------------

    def atomic(self, node: ast.Call, kind: str) -> Value:
        """``wf.atomic_<kind>(arr, idx, value)`` (cas: ``arr, idx, compare, value``)."""
        array = self.array_of(node.args[0], self.expr(node.args[0]))
        index = self.expr(node.args[1])
        items = index if isinstance(index, tuple) else (index,)
        if len(items) != array.type.ndim:
            raise self.error(node.args[1], f"a {array.type.ndim}-d array needs "
                                           f"{array.type.ndim} indices, not {len(items)}")
        indices = [self.index(node.args[1], array, axis, x)
                   for axis, x in enumerate(items)]
        elem = array.type.elem
        values = [self.value(a, self.expr(a), elem) for a in node.args[2:]]
        if kind == "cas":
            values = [values[1], values[0]]
        if kind == "sub":  # a - v is a + (-v), wrapping for integers as the subtraction does
            kind = "add"
            values = [self.op(node, "sub", (self.constant(node, 0, elem), values[0]))
                      if not elem.is_float else self.op(node, "neg", (values[0],))]
        if kind in ("inc", "dec") and not (elem.is_int and not elem.is_signed):
            raise self.error(node.args[0], f"wf.atomic_{kind}() needs an array of unsigned "
                                           f"integers (u32), not {elem}")
        return self.op(node, "atomic", (array, *indices, *values), {"kind": kind})

    def call_mma_sync(self, node: ast.Call) -> tuple:
        """``wf.mma_sync(a, b, c)`` -> D's four f32; ``wf.mma_sync(d, a, b, c)`` also
        stores them into the fragment ``d`` (which may be ``c``). A fragment is a tuple of
        values, a 1-d array of that length, or a row ``x[i]`` / ``x[i, j]`` of an array
        whose last extent is that length (checked when static; a parameter's rows are
        bounds-checked as any load)."""
        args = node.args
        target = args[0] if len(args) == 4 else None
        a_node, b_node, c_node = args[-3:]
        na, nb, nc = MMA_SHAPE
        a = self.fragment(a_node, na, u32, "A")
        b = self.fragment(b_node, nb, u32, "B")
        c = self.fragment(c_node, nc, f32, "C")
        loc = self.loc(node)
        try:
            op = self.b.create("mma", (*a, *b, *c), loc=loc)
        except IRError as err:
            raise self.error(node, f"type error: {err.message}") from None
        d = tuple(op.results)
        if target is not None:
            array, prefix = self.fragment_place(target, nc, "D")
            if array.type.elem != f32:
                raise self.error(target, f"wf.mma_sync()'s D fragment must hold f32, not "
                                         f"{array.type.elem}")
            for k, value in enumerate(d):
                self.b.create("store", (array, *prefix, self.constant(node, k, i32), value),
                              loc=loc)
        return d

    def fragment_place(self, node: ast.AST, n: int, what: str) -> tuple[Value, list[Value]]:
        """The array and leading indices of a fragment given as an array or an array's
        row (``x[i]``), checking its last extent is ``n``."""
        base, items = node, []
        if isinstance(node, ast.Subscript):
            base = node.value
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        x = self.expr(base)
        if not (isinstance(x, Value) and isinstance(x.type, ArrayType)):
            raise self.error(node, f"wf.mma_sync()'s {what} fragment must be {n} values (a "
                                   f"tuple, an array, or an array's row), not "
                                   f"{self.name_of(x)}")
        t = x.type
        if len(items) != t.ndim - 1 or (t.shape is not None and t.shape[-1] != n):
            shape = "?" if t.shape is None else "x".join(map(str, t.shape))
            raise self.error(node, f"wf.mma_sync()'s {what} fragment must have {n} elements "
                                   f"along its last axis, with every other axis indexed "
                                   f"(an array of shape {shape} indexed by {len(items)})")
        return x, [self.index(item, x, axis) for axis, item in enumerate(items)]

    def fragment(self, node: ast.AST, n: int, elem, what: str) -> list[Value]:
        """A fragment's ``n`` values of type ``elem`` (see :meth:`call_mma_sync`)."""
        x = None if isinstance(node, ast.Subscript) else self.expr(node)
        if isinstance(x, tuple):
            if len(x) != n:
                raise self.error(node, f"wf.mma_sync()'s {what} fragment needs {n} values, "
                                       f"not {len(x)}")
            return [self.fragment_value(node, v, elem, what) for v in x]
        array, prefix = self.fragment_place(node, n, what)
        if array.type.elem != elem:
            raise self.error(node, f"wf.mma_sync()'s {what} fragment must hold {elem}, not "
                                   f"{array.type.elem}")
        return [self.op(node, "load", (array, *prefix, self.constant(node, k, i32)))
                for k in range(n)]

    def fragment_value(self, node: ast.AST, x: object, elem, what: str) -> Value:
        """One value of a fragment given as a tuple: ``elem`` exactly (A and B are u32
        words, each two f16; a weak number converts)."""
        if is_weak(x):
            return self.value(node, x, elem)
        v = self.scalar(node, x)
        if v.type != elem:
            raise self.error(node, f"wf.mma_sync()'s {what} fragment must hold {elem}, not "
                                   f"{v.type}")
        return v

    # --- math -----------------------------------------------------------------------------

    def float_arg(self, node: ast.AST, x: object) -> Value:
        """A math function's argument as a float value (integers and weak numbers as the
        dialect's float: f32, or f64 under Numba's rules; f16 computes in f32)."""
        default = self.state.dialect.float_literal
        v = self.scalar(node, x) if not is_weak(x) else self.value(node, float(x), default)
        t = (v.type if v.type.bits >= 32 else f32) if v.type.is_float else default
        return self.cast(node, v, t)

    def math_values(self, node: ast.Call, name: str, args: list[object]) -> object:
        """Math function ``name`` of evaluated ``args`` (one or two floats of one type);
        of compile-time numbers, the compile-time number Python computes."""
        if all(is_weak(a) for a in args) and name in COMPILE_TIME_MATH:
            try:
                return COMPILE_TIME_MATH[name](*(float(a) for a in args))
            except (ValueError, OverflowError) as err:
                raise self.error(node, f"{name}{tuple(args)}: {err}") from None
        if len(args) == 1:
            x = self.float_arg(node.args[0], args[0])
            if name == "isnan":
                return self.op(node, "cmp", (x, x), {"pred": "ne"})
            if name in ("isinf", "isfinite"):
                zero = self.constant(node, 0.0, x.type)
                finite = self.op(node, "cmp", (self.op(node, "sub", (x, x)), zero),
                                 {"pred": "eq"})
                if name == "isfinite":
                    return finite
                number = self.op(node, "cmp", (x, x), {"pred": "eq"})
                return self.op(node, "and", (number, self.op(node, "not", (finite,))))
            return self.op(node, name, (x,))
        a, b = args
        ta, tb = self.operand_type(node, a), self.operand_type(node, b)
        t = self.state.dialect.float_literal if (ta is None and tb is None) or not any(
            x is not None and x.is_float for x in (ta, tb)) else f32
        for other in (ta, tb):
            if other is not None and other.is_float and other.bits > t.bits:
                t = other
        x, y = self.value(node.args[0], a, t), self.value(node.args[1], b, t)
        return self.math_call(node, "rem" if name == "fmod" else name, [x, y])

    def math_call(self, node: ast.AST, name: str, args: list[Value]) -> Value:
        return self.op(node, name, tuple(args))

    def minmax(self, node: ast.Call, name: str, args: list[object]) -> object:
        """``min``/``max`` of two or more values."""
        if len(args) < 2:
            raise self.error(node, f"{name}() takes at least 2 arguments in kernels")
        result = args[0]
        for arg in args[1:]:
            x, y = self.promote(node, result, arg, f"take the {name} of {{a}} and {{b}}")
            result = self.op(node, name, (x, y))
        return result

    def absolute(self, node: ast.Call, args: list[object]) -> object:
        """``abs(x)``: unsigned values are their own absolute value."""
        if len(args) != 1:
            raise self.error(node, "abs() takes 1 argument")
        if is_weak(args[0]):
            return builtins.abs(args[0])
        v = self.scalar(node, args[0])
        v = self.cast(node, v, arithmetic(v.type))
        return v if not v.type.is_signed else self.op(node, "abs", (v,))

    def call_fma(self, node: ast.Call) -> Value:
        a, b, c = (self.expr(x) for x in node.args)
        types = [t for t in (self.operand_type(node, x) for x in (a, b, c)) if t is not None]
        t = f32
        for other in types:
            t = common_type(t, other)
        if not t.is_float or not types:
            t = self.state.dialect.float_literal
        return self.op(node, "fma", tuple(self.value(node, x, t) for x in (a, b, c)))

    def call_select(self, node: ast.Call) -> Value:
        cond = self.to_bool(node.args[0], self.expr(node.args[0]))
        a, b = self.expr(node.args[1]), self.expr(node.args[2])
        x, y = self.promote(node, a, b, "select between {a} and {b}")
        return self.op(node, "select", (cond, x, y))

    # --- device functions -----------------------------------------------------------------

    def call_device_function(self, node: ast.Call, target: object) -> object:
        """A ``call`` op to the device function built for these arguments: positional and
        keyword arguments bind as in Python, missing ones take their defaults; values are
        runtime arguments (their types pick the build), anything else (a type, another
        ``@wf.func``, a tuple, a string) is a compile-time argument of the build."""
        from . import build_device_function

        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise self.error(node, "*args and **kwargs are not supported in kernels")
        try:
            signature = inspect.signature(target)
            bound = signature.bind(*node.args, **{k.arg: k.value for k in node.keywords})
        except (TypeError, ValueError) as err:
            raise self.error(node, f"@wf.func {target.__name__!r}: {err}") from None
        runtime: list[Value] = []
        names: list[str] = []
        static: dict[str, object] = {}
        for name, param in signature.parameters.items():
            if name in bound.arguments:
                arg_node = bound.arguments[name]
                x = self.expr(arg_node)
            elif param.default is not inspect.Parameter.empty:
                arg_node, x = node, param.default
            else:  # bind() has checked that every parameter without a default is given
                continue
            if isinstance(x, Value) or is_weak(x):
                runtime.append(self.value(arg_node, x))
                names.append(name)
            else:
                static[name] = x
        types = tuple(v.type for v in runtime)
        callee = build_device_function(target, tuple(zip(names, types, strict=True)), static,
                                       self.state, self.error, node)
        op = self.b.create("call", runtime, {"callee": callee.name}, callee.result_types,
                           loc=self.loc(node))
        if not op.results:
            return None
        if len(op.results) == 1:
            return op.results[0]
        return tuple(op.results)
