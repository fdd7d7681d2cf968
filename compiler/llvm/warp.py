"""Thread and block indices, and the warp ops (``shfl``, ``vote``) across lanes.

Lane ``l`` of group ``g`` is linear thread ``t = g * lanes + l``; ``thread_idx`` is ``t``
split by the (specialized) block shape. When ``block.x`` is a multiple of the lane count
``thread_idx.y`` and ``.z`` are scalars and ``thread_idx.x`` is ``base + <0, 1, ...>``; in
a one-row block ``thread_idx.x`` is ``t`` itself.

A kernel with warp ops runs 32 lanes a group, so a group is a warp (simt-on-cpu.md §3
item 6). As PTX's ``shfl.sync``, the lane operand counts modulo 32 and a source lane
outside the warp gives the thread its own value. A shuffle by a constant is a
``shufflevector``, any other a lookup through a stack copy of the vector; a vote reduces
the mask of active lanes.
"""

from __future__ import annotations

from llvmlite import ir

from ..ir.core import Op
from .emitter import EmitterBase
from .types import (
    I32,
    I64,
    any_lane,
    call_intrinsic,
    iota,
    is_vector,
    mask_bits,
    splat,
    vector_of,
)

WARP = 32
"""Threads per warp."""


class Warp(EmitterBase):
    """Lowering of the special values and the warp ops."""

    def special(self, op: Op) -> ir.Value:
        """``thread_idx``/``block_idx``/``block_dim``/``grid_dim``/``lane_id``."""
        b = self.b
        name = op.name
        if name == "lane_id":
            if self.W == WARP:
                return iota(I32, WARP)
            return b.urem(self.tid, splat(b, ir.Constant(I32, WARP), self.W))
        dim = "xyz".index(str(op.attr("dim")))
        if name == "block_dim":
            return ir.Constant(I32, self.block_shape[dim])
        if name == "grid_dim":
            return self.grid[dim]
        if name == "block_idx":
            return self.block_idx["xyz"[dim]]
        return self.thread_index(dim)

    def thread_index(self, dim: int) -> ir.Value:
        """``thread_idx`` along ``dim`` for the current group."""
        b = self.b
        bx, by, _ = self.block_shape
        extent = self.block_shape[dim]
        if extent == 1:
            return ir.Constant(I32, 0)
        below = (1, bx, bx * by)[dim]
        if below % self.W == 0:  # the same for every lane of the group
            first = b.trunc(b.mul(self.group, ir.Constant(I64, self.W)), I32)
            return b.urem(b.udiv(first, ir.Constant(I32, below)), ir.Constant(I32, extent))
        if dim == 0 and by * self.block_shape[2] == 1:
            return self.tid  # one row: thread_idx.x is the linear thread id
        if dim == 0 and bx % self.W == 0:
            first = b.trunc(b.mul(self.group, ir.Constant(I64, self.W)), I32)
            base = b.urem(first, ir.Constant(I32, bx))
            return b.add(splat(b, base, self.W), iota(I32, self.W))
        t = self.tid
        if below > 1:
            t = b.udiv(t, splat(b, ir.Constant(I32, below), self.W))
        return b.urem(t, splat(b, ir.Constant(I32, extent), self.W))

    # --- warp ops ------------------------------------------------------------------------

    def op_shfl(self, op: Op) -> ir.Value:
        b = self.b
        kind = str(op.attr("kind"))
        value = self.get(op.operands[0])
        k = self.get(op.operands[1])
        if not is_vector(value):
            return value  # every lane holds the same value
        lane = iota(I32, WARP)
        if not is_vector(k) and isinstance(k, ir.Constant):
            c = int(k.constant) & (WARP - 1)
            source = [self._source_lane(kind, i, c) for i in range(WARP)]
            return b.shuffle_vector(value, value, ir.Constant(vector_of(I32, WARP), source))
        kv = b.and_(splat(b, k, WARP), splat(b, ir.Constant(I32, WARP - 1), WARP))
        src = {"xor": lambda: b.xor(lane, kv), "down": lambda: b.add(lane, kv),
               "up": lambda: b.sub(lane, kv), "idx": lambda: kv}[kind]()
        in_range = b.icmp_unsigned("<", src, splat(b, ir.Constant(I32, WARP), WARP))
        src = b.select(in_range, src, lane)
        slot = self.entry_alloca(value.type)
        b.store(value, slot)
        el = value.type.element
        ptrs = b.gep(splat(b, slot, WARP), [b.zext(src, vector_of(I64, WARP))],
                     source_etype=el)
        return call_intrinsic(b, "llvm.masked.gather",
                              [ptrs, self.ones_mask(), ir.Constant(value.type, None)],
                              ret=value.type, overloads=[value.type, ptrs.type])

    @staticmethod
    def _source_lane(kind: str, lane: int, k: int) -> int:
        src = {"xor": lane ^ k, "down": lane + k, "up": lane - k, "idx": k}[kind]
        return src if 0 <= src < WARP else lane

    def entry_alloca(self, t: ir.Type) -> ir.Value:
        """A stack slot allocated once, in the function's entry block."""
        entry = self.fn.entry_basic_block
        builder = ir.IRBuilder(entry)
        builder.position_before(entry.instructions[0])
        return builder.alloca(t)

    def op_mma(self, op: Op) -> None:
        """The warp's 16x8x16 MMA (module docstring): for each element of D a lane holds,
        the sixteen A and B values it needs are ``shufflevector`` s of the fragment words
        seen as f16 pairs; their products (exact in f64) are summed in f64, C added and the
        sum rounded once to f32."""
        b = self.b
        words = [self.get(v) for v in op.operands]
        words = [w if is_vector(w) else splat(b, w, WARP) for w in words]
        halves = vector_of(ir.HalfType(), 2 * WARP)
        wide = vector_of(ir.DoubleType(), WARP)
        a = [b.bitcast(w, halves) for w in words[0:4]]
        bw = [b.bitcast(w, halves) for w in words[4:6]]

        def pick(source: ir.Value, slots: list[int]) -> ir.Value:
            mask = ir.Constant(vector_of(I32, WARP), slots)
            return b.fpext(b.shuffle_vector(source, source, mask), wide)

        # A[g + 8h][k] for each lane (g = lane // 4): word (k % 8) // 2 of lane 4g + ...,
        # register h + 2 * (k >= 8), half k % 2
        rows = {(h, k): pick(a[h + 2 * (k >= 8)],
                             [2 * (4 * (lane >> 2) + (k % 8) // 2) + k % 2
                              for lane in range(WARP)])
                for h in range(2) for k in range(16)}
        # B[k][2t + p] for each lane (t = lane % 4): lane 4n + (k % 8) // 2 of register
        # k >= 8, half k % 2, with n = 2t + p
        cols = {(p, k): pick(bw[k >= 8],
                             [2 * (4 * (2 * (lane & 3) + p) + (k % 8) // 2) + k % 2
                              for lane in range(WARP)])
                for p in range(2) for k in range(16)}
        for j, result in enumerate(op.results):
            total = None
            for k in range(16):
                term = b.fmul(rows[j >> 1, k], cols[j & 1, k])
                total = term if total is None else b.fadd(total, term)
            c = b.fpext(words[6 + j], wide)
            self.define(result, b.fptrunc(b.fadd(total, c), vector_of(ir.FloatType(), WARP)))

    def op_vote(self, op: Op) -> ir.Value:
        b = self.b
        kind = str(op.attr("kind"))
        pred = self.get(op.operands[0])
        if kind == "ballot":
            on = b.and_(self.mask, splat(b, pred, self.W))
            bits = mask_bits(b, on)
            return bits if self.W == 32 else b.zext(bits, I32)
        if not is_vector(pred):
            return pred
        if kind == "any":
            return any_lane(b, b.and_(self.mask, pred))
        failing = b.and_(self.mask, b.not_(pred))
        return b.not_(any_lane(b, failing))
