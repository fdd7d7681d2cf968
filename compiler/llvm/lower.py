"""Lowering a kernel to an LLVM module: :func:`lower_kernel` and its result,
:class:`LoweredKernel` (the package docstring, :mod:`warpforge.compiler.llvm`, gives the
design)."""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from ...isa.program import Param, SourceLoc
from ..analysis.affinity import analyze_affinity
from ..analysis.uniformity import analyze_uniformity
from ..errors import CompilerError
from ..ir.core import Op
from ..ir.function import Function
from ..ir.ops import ops_in
from . import LANE_WIDTHS
from .arith import Arith
from .cta import CtaLevel
from .entry import EntryFunction
from .groups import LaneGroups
from .lanes import LaneControl
from .memory import Memory
from .plan import make_plan
from .warp import WARP, Warp

WARP_OPS = frozenset({"shfl", "vote", "syncwarp", "mma"})
"""Ops that need a group to be a whole warp (32 lanes)."""

_BINARY = frozenset({"add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max",
                     "and", "or", "xor", "shl", "shr"})
_MATH = frozenset(ops_in("math"))
_SPECIAL = frozenset({"thread_idx", "block_idx", "block_dim", "grid_dim", "lane_id"})


@dataclass
class LoweredKernel:
    """A kernel lowered to an (unoptimized) LLVM module, and what running it needs."""

    module: ir.Module
    entry: str
    arena_bytes: int
    lanes: int
    shared_bytes: int
    params: tuple[Param, ...]
    fault_sites: tuple[SourceLoc | None, ...]
    fault_what: tuple[str, ...]
    fault_space: tuple[str, ...]
    """Per fault site: the array's address space ("global", "shared" or "local")."""
    local_bytes: int = 0
    """Bytes of ``local`` arrays per thread."""


class Lowering(EntryFunction, CtaLevel, LaneGroups, LaneControl, Arith, Memory, Warp):
    """The whole lowering: dispatches each op to the part that knows it."""

    def emit_lane_op(self, op: Op) -> None:
        name = op.name
        if name in ("if", "for", "while"):
            getattr(self, "lane_" + name)(op)
            return
        if name == "return":
            self.lane_return(op)
            return
        if name in ("barrier", "call"):
            raise self.fail(op, "a barrier under control flow that differs between "
                            "threads" if name == "barrier" else "a call (inline it first)")
        if name in _BINARY:
            value = self.op_binary(op)
        elif name in ("neg", "abs", "not", "popc", "clz", "brev", "ffs"):
            value = self.op_unary(op)
        elif name == "syncwarp":  # a warp is one lane group here: its lanes run together
            value = None
        elif name == "fence":
            self.b.fence("seq_cst")
            value = None
        elif name in _MATH:
            value = self.op_math(op)
        elif name == "mma":
            value = self.op_mma(op)
        elif name in ("load", "store", "atomic", "array_dim", "fma", "cmp", "select", "cast",
                      "bitcast",
                      "shfl", "vote", "constant"):
            value = getattr(self, "op_" + name)(op)
        elif name in _SPECIAL or name in ("shared_alloc", "local_alloc", "dynamic_shared"):
            value = self.recompute(op)
        else:
            raise self.fail(op, f"op {name!r}")
        if value is not None and op.results:
            self.define(op.results[0], value)

    def emit_recomputed(self, op: Op) -> object:
        if op.name == "constant":
            return self.op_constant(op)
        if op.name in ("shared_alloc", "local_alloc", "dynamic_shared"):
            return self.alloc_array(op)
        if op.name == "array_dim":
            return self.op_array_dim(op)
        if op.name in _SPECIAL:
            return self.special(op)
        self.emit_lane_op(op)  # a pure integer op (plan.recomputable)
        return self.get(op.results[0])


def lane_width(func: Function, lanes: int) -> int:
    """The lane width a kernel runs with: ``lanes``, or 32 when it uses warp ops."""
    if lanes not in LANE_WIDTHS:
        raise ValueError(f"lanes must be one of {', '.join(map(str, LANE_WIDTHS))}, "
                         f"not {lanes!r}")
    if any(op.name in WARP_OPS for op in func.walk()):
        return WARP
    return lanes


def lower_kernel(func: Function, *, name: str, block: tuple[int, int, int], lanes: int,
                 contiguous: tuple[bool, ...], checked: bool,
                 vector_isas: tuple[str, ...] = ()) -> LoweredKernel:
    """Lower optimized kernel ``func`` for CTAs of shape ``block``, ``lanes`` threads at
    a time; ``contiguous[k]`` says the k-th array parameter has innermost stride 1;
    ``checked`` adds bounds checks; ``vector_isas`` names the libmvec variants the code may
    call (:func:`~.jit.vector_isas`; none: math calls libm once per lane)."""
    block = tuple(block) + (1,) * (3 - len(block))
    width = lane_width(func, lanes)
    uniformity = analyze_uniformity(func, block, warp_size=width)
    # Lanes are consecutive threads; their thread_idx.x are consecutive too when a group
    # never wraps to the next row of the block: rows a multiple of the group, or one row.
    rows = block[1] * block[2]
    consecutive = block[0] % width == 0 or rows == 1
    affinity = analyze_affinity(func, uniformity) if consecutive else None
    threads = block[0] * block[1] * block[2]
    try:
        plan = make_plan(func, uniformity, width, threads)
    except TypeError as err:
        raise CompilerError(f"the CPU backend cannot compile {func.name}: {err}") from None
    lowering = Lowering(func, name=name, block=block, lanes=width, contiguous=contiguous,
                        checked=checked, plan=plan, uniformity=uniformity, affinity=affinity,
                        vector_isas=tuple(vector_isas))
    lowering.build()
    return LoweredKernel(lowering.module, lowering.entry_name, plan.size, width,
                         plan.shared_bytes, lowering.isa_params,
                         tuple(loc for loc, _, _ in lowering.fault_sites),
                         tuple(what for _, what, _ in lowering.fault_sites),
                         tuple(space for _, _, space in lowering.fault_sites),
                         sum(op.results[0].type.nbytes for op in func.walk()
                             if op.name == "local_alloc"))
