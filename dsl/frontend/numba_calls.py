"""The Numba front's intrinsics with signatures of their own (``cuda.grid``,
``cuda.shared.array``, the ``*_sync`` warp functions...), translated into the language's
ops; the names Numba shares with the language are the language's own objects
(:mod:`warpforge.dsl.numba_front`). Warp masks are accepted and must cover the warp's
running lanes, as the language's warp operations assume."""

from __future__ import annotations

import ast

from ...compiler.ir.core import Value
from ...compiler.ir.types import AddressSpace, ArrayType, i32
from ..types import ScalarDType, from_dtype
from .calls import Calls


class NumbaCalls(Calls):
    """Handlers ``call_<name>`` for :data:`~warpforge.dsl.numba_front.NUMBA_INTRINSICS`."""

    def _axes(self, node: ast.Call) -> int:
        ndim = self.constant_int(node.args[0], self.expr(node.args[0]), "cuda.grid's ndim")
        if ndim not in (1, 2, 3):
            raise self.error(node.args[0], f"ndim must be 1, 2 or 3, not {ndim}")
        return ndim

    def call_grid(self, node: ast.Call) -> object:
        out = []
        for d in "xyz"[:self._axes(node)]:
            start = self.op(node, "mul", (self.op(node, "block_idx", (), {"dim": d}),
                                          self.op(node, "block_dim", (), {"dim": d})))
            out.append(self.op(node, "add", (start, self.op(node, "thread_idx", (),
                                                              {"dim": d}))))
        return out[0] if len(out) == 1 else tuple(out)

    def call_gridsize(self, node: ast.Call) -> object:
        out = [self.op(node, "mul", (self.op(node, "block_dim", (), {"dim": d}),
                                     self.op(node, "grid_dim", (), {"dim": d})))
               for d in "xyz"[:self._axes(node)]]
        return out[0] if len(out) == 1 else tuple(out)

    def numba_dtype(self, node: ast.AST) -> ScalarDType:
        """An element type written the Numba way: ``float32``, ``numba.int32``,
        ``np.float32``, ``np.dtype('f4')``."""
        dtype = self.expr(node)
        if isinstance(dtype, ScalarDType):
            return dtype
        try:
            return from_dtype(dtype)
        except TypeError:
            raise self.error(node, f"{dtype!r} is not an element type warpforge knows "
                                   "(use float32, int32, float64, ...)") from None

    def call_shared_array(self, node: ast.Call) -> Value:
        dtype = self.numba_dtype(node.args[1])
        shape = self.expr(node.args[0])
        if shape == 0 or shape == (0,):
            return self.op(node, "dynamic_shared", (),
                           result_type=ArrayType(dtype.ir, 1, AddressSpace.SHARED))
        return self._array(node, shape, dtype, "shared_alloc")

    def call_local_array(self, node: ast.Call) -> Value:
        return self._array(node, self.expr(node.args[0]), self.numba_dtype(node.args[1]),
                           "local_alloc")

    def _array(self, node: ast.Call, shape_arg: object, dtype: ScalarDType,
               op: str) -> Value:
        items = shape_arg if isinstance(shape_arg, tuple) else (shape_arg,)
        shape = tuple(self.constant_int(node.args[0], s, "an array's shape") for s in items)
        if not shape or any(n <= 0 for n in shape):
            raise self.error(node.args[0], f"an array's shape must be positive, not {shape}")
        space = AddressSpace.SHARED if op == "shared_alloc" else AddressSpace.LOCAL
        return self.op(node, op, (), result_type=ArrayType.static(dtype.ir, shape, space))

    def call_const_array_like(self, node: ast.Call) -> Value:
        return self.array_of(node.args[0], self.expr(node.args[0]))

    def call_syncwarp_mask(self, node: ast.Call) -> None:
        for arg in node.args:
            self.expr(arg)
        self.b.create("syncwarp", loc=self.loc(node))
        return None

    def call_compare_and_swap(self, node: ast.Call) -> Value:
        array = self.array_of(node.args[0], self.expr(node.args[0]))
        elem = array.type.elem
        old = self.value(node.args[1], self.expr(node.args[1]), elem)
        new = self.value(node.args[2], self.expr(node.args[2]), elem)
        zero = [self.constant(node, 0, i32)] * array.type.ndim
        return self.op(node, "atomic", (array, *zero, new, old), {"kind": "cas"})

    def _shuffle(self, node: ast.Call, kind: str) -> Value:
        self.expr(node.args[0])  # the mask: the warp's running lanes
        v = self.scalar(node.args[1], self.expr(node.args[1]))
        lane = self.value(node.args[2], self.expr(node.args[2]), i32)
        return self.op(node, "shfl", (v, lane), {"kind": kind})

    def call_shfl_sync(self, node: ast.Call) -> Value:
        return self._shuffle(node, "idx")

    def call_shfl_up_sync(self, node: ast.Call) -> Value:
        return self._shuffle(node, "up")

    def call_shfl_down_sync(self, node: ast.Call) -> Value:
        return self._shuffle(node, "down")

    def call_shfl_xor_sync(self, node: ast.Call) -> Value:
        return self._shuffle(node, "xor")

    def _vote(self, node: ast.Call, kind: str) -> Value:
        self.expr(node.args[0])
        p = self.to_bool(node.args[1], self.expr(node.args[1]))
        return self.op(node, "vote", (p,), {"kind": kind})

    def call_all_sync(self, node: ast.Call) -> Value:
        return self._vote(node, "all")

    def call_any_sync(self, node: ast.Call) -> Value:
        return self._vote(node, "any")

    def call_ballot_sync(self, node: ast.Call) -> Value:
        return self._vote(node, "ballot")

    def call_eq_sync(self, node: ast.Call) -> Value:
        """Every running lane holds lane 0's value (a warp whose lane 0 runs)."""
        self.expr(node.args[0])
        v = self.scalar(node.args[1], self.expr(node.args[1]))
        first = self.op(node, "shfl", (v, self.constant(node, 0, i32)), {"kind": "idx"})
        same = self.op(node, "cmp", (v, first), {"pred": "eq"})
        return self.op(node, "vote", (same,), {"kind": "all"})
