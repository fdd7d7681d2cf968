"""Memory ops on lanes: ``load``, ``store``, ``atomic``, ``array_dim`` and the arrays
themselves (simt-on-cpu.md §3 items 7, 9, 10).

An access's element offset is ``sum(index_k * stride_k)``; a per-thread ``local`` array
puts element ``e`` of thread ``t`` at ``e * lanes_padded + t``. By the shape of the offset:

- a scalar offset (every index uniform) is one scalar access (a store from a vector keeps
  the last active lane's value, as a scatter does);
- consecutive lanes (the last index is ``base + thread_idx.x`` by the affinity analysis,
  the others uniform, and the last stride 1) are one masked vector load or store;
- anything else is a masked gather or scatter.

Atomics run lane by lane, each an ``atomicrmw``/``cmpxchg`` (monotonic), so they stay
exact when CTAs on several cores hit one address; an integer ``add`` to one address from
every lane is summed in the vector first and done once (the simt-on-cpu.md §3 item 10
reduction). Checked builds compare every index
with its extent first and report the first bad lane through the fault record.
"""

from __future__ import annotations

from llvmlite import ir

from ..ir.core import Op, Value
from ..ir.types import AddressSpace, ArrayType
from .emitter import ArrayInfo, EmitterBase
from .types import (
    I32,
    I64,
    any_lane,
    call_intrinsic,
    first_lane,
    is_vector,
    memory_type,
    scalar_type,
    splat,
    vector_of,
    zero,
)

RMW = {"add": ("add", "add", "fadd"), "min": ("min", "umin", "fmin"),
       "max": ("max", "umax", "fmax"), "and": ("and", "and", None), "or": ("or", "or", None),
       "xor": ("xor", "xor", None), "exch": ("xchg", "xchg", "xchg"),
       "inc": (None, "uinc_wrap", None), "dec": (None, "udec_wrap", None)}
"""IR atomic kind -> LLVM atomicrmw operation for (signed, unsigned, float) elements."""


DYNAMIC_ALIGN = 64
"""Alignment of the dynamic shared array in the arena (the host's arena is 64-aligned)."""


class Memory(EmitterBase):
    """Lowering of arrays and memory ops."""

    def array(self, value: Value) -> ArrayInfo:
        """The :class:`ArrayInfo` of an array value (a parameter or an allocation)."""
        found = self.arrays.get(value)
        return found if found is not None else self.get(value)

    def alloc_array(self, op: Op) -> ArrayInfo:
        """A ``shared_alloc`` or ``local_alloc``: a static array in the arena; or the
        ``dynamic_shared`` array, after the plan's arena, its length from the launch."""
        t: ArrayType = op.results[0].type
        if op.name == "dynamic_shared":
            b = self.entry_b or self.b
            start = -(-self.plan.size // DYNAMIC_ALIGN) * DYNAMIC_ALIGN
            length = b.udiv(self.dynamic_shared_bytes, ir.Constant(I64, t.elem.itemsize))
            return ArrayInfo(t, self.arena_ptr(start, b), [length], [ir.Constant(I64, 1)],
                             op.results[0].name or "dynamic shared")
        strides, step = [], 1
        for n in reversed(t.shape):
            strides.append(ir.Constant(I64, step))
            step *= n
        base = self.arena_ptr(self.plan.buffers[op])
        return ArrayInfo(t, base, [ir.Constant(I64, n) for n in t.shape], strides[::-1],
                         op.results[0].name or t.space.value,
                         per_thread=t.space is AddressSpace.LOCAL)

    def op_array_dim(self, op: Op) -> ir.Value:
        arr = self.array(op.operands[0])
        return self.b.trunc(arr.shape[int(op.attr("axis"))], I32)

    # --- addresses ---------------------------------------------------------------------

    def index64(self, value: Value) -> ir.Value:
        """An index as i64 (sign- or zero-extended by its type)."""
        return self.widen(self.get(value), value.type.is_signed)

    def element_offset(self, arr: ArrayInfo, indices: tuple[Value, ...],
                       lanes: bool = False) -> tuple[ir.Value, bool]:
        """(offset in elements, whether the lanes' offsets are consecutive). A consecutive
        access gets lane 0's offset, a scalar computed from scalars (no vector index
        arithmetic), unless ``lanes`` asks for every lane's offset."""
        b = self.b
        values = [self.get(v) for v in indices]
        if arr.per_thread:
            consecutive = not any(is_vector(v) for v in values)
        else:
            consecutive = (any(is_vector(v) for v in values) and self.affinity is not None
                           and isinstance(arr.strides[-1], ir.Constant)
                           and arr.strides[-1].constant == 1
                           and self.affinity.stride(indices[-1]) == 1
                           and not any(is_vector(v) for v in values[:-1]))
        if consecutive and not lanes and not arr.per_thread:
            values[-1] = b.extract_element(values[-1], ir.Constant(I32, 0))
        offset = None
        for value, index, stride in zip(values, indices, arr.strides, strict=True):
            term = self.widen(value, index.type.is_signed)
            if not (isinstance(stride, ir.Constant) and stride.constant == 1):
                term = b.mul(term, splat(b, stride, self.W) if is_vector(term) else stride)
            if offset is None:
                offset = term
            else:
                if is_vector(term) or is_vector(offset):
                    term, offset = splat(b, term, self.W), splat(b, offset, self.W)
                offset = b.add(offset, term)
        if arr.per_thread:  # element e of thread t at e * lanes_padded + t
            padded = ir.Constant(I64, self.plan.lanes_padded)
            scaled = b.mul(offset, splat(b, padded, self.W) if is_vector(offset) else padded)
            first = b.mul(self.group, ir.Constant(I64, self.W))
            if consecutive and not lanes:
                return b.add(scaled, first), True
            tid = b.zext(self.tid, vector_of(I64, self.W))
            return b.add(splat(b, scaled, self.W), tid), consecutive
        return offset, consecutive

    def widen(self, value: ir.Value, signed: bool) -> ir.Value:
        """An index (scalar or vector) as i64, sign- or zero-extended."""
        width = (value.type.element if is_vector(value) else value.type).width
        if width == 64:
            return value
        to = vector_of(I64, self.W) if is_vector(value) else I64
        return self.b.sext(value, to) if signed else self.b.zext(value, to)

    def check_bounds(self, op: Op, arr: ArrayInfo, indices: tuple[Value, ...],
                     access: str) -> None:
        """Checked builds: fault unless every active lane's indices are within extents."""
        if not self.checked:
            return
        b = self.b
        idx = [self.index64(v) for v in indices]
        site = len(self.fault_sites)
        self.fault_sites.append((op.loc, f"{access} of {arr.name}", arr.type.space.value))
        for axis, (i, extent) in enumerate(zip(idx, arr.shape, strict=True)):
            ok = b.icmp_unsigned("<", i, splat(b, extent, self.W) if is_vector(i) else extent)
            if is_vector(ok):
                bad = b.and_(self.mask, b.not_(ok))
                hit = any_lane(b, bad)
            else:
                bad = None
                hit = b.and_(b.not_(ok), any_lane(b, self.mask))
            fault_bb = self.block_named("oob")
            cont = self.block_named("inbounds")
            b.cbranch(hit, fault_bb, cont)
            b.position_at_end(fault_bb)
            lane = first_lane(b, bad if bad is not None else self.mask)
            index = b.extract_element(i, lane) if is_vector(i) else i
            thread = b.add(b.mul(self.group, ir.Constant(I64, self.W)), b.zext(lane, I64))
            self.write_fault([ir.Constant(I64, 1), ir.Constant(I64, site), self.cta, thread,
                              ir.Constant(I64, axis), index, extent])
            b.position_at_end(cont)

    def pointers(self, arr: ArrayInfo, offset: ir.Value) -> ir.Value:
        """The element addresses (a vector of pointers for a vector offset)."""
        mt = memory_type(arr.elem)
        if is_vector(offset):
            return self.b.gep(splat(self.b, arr.base, self.W), [offset], source_etype=mt)
        return self.b.gep(arr.base, [offset], source_etype=mt)

    def _aligned(self, call: ir.CallInstr, arg: int, align: int) -> None:
        attrs = ir.values.ArgumentAttributes()
        attrs.align = align
        call.arg_attributes[arg] = attrs

    # --- loads and stores ----------------------------------------------------------------

    def op_load(self, op: Op) -> ir.Value:
        b = self.b
        arr = self.array(op.operands[0])
        self.check_bounds(op, arr, op.operands[1:], "read")
        offset, consecutive = self.element_offset(arr, op.operands[1:])
        mt = memory_type(arr.elem)
        size = arr.elem.itemsize
        if consecutive:
            vt = vector_of(mt, self.W)
            ptr = self.pointers(arr, offset)
            value = call_intrinsic(b, "llvm.masked.load", [ptr, self.mask, zero(vt)], ret=vt,
                                   overloads=[vt, ptr.type])
            self._aligned(value, 0, size)
        elif not is_vector(offset):
            value = b.load(self.pointers(arr, offset), typ=mt, align=size)
        else:
            vt = vector_of(mt, self.W)
            ptrs = self.pointers(arr, offset)
            value = call_intrinsic(b, "llvm.masked.gather", [ptrs, self.mask, zero(vt)],
                                   ret=vt, overloads=[vt, ptrs.type])
            self._aligned(value, 0, size)
        if arr.elem.is_bool:
            value = b.icmp_unsigned("!=", value, zero(value.type))
        return value

    def op_store(self, op: Op) -> None:
        b = self.b
        arr = self.array(op.operands[0])
        self.check_bounds(op, arr, op.operands[1:-1], "write")
        offset, consecutive = self.element_offset(arr, op.operands[1:-1])
        value = self.get(op.operands[-1])
        if arr.elem.is_bool:
            value = b.zext(value, vector_of(ir.IntType(8), self.W) if is_vector(value)
                           else ir.IntType(8))
        size = arr.elem.itemsize
        if not consecutive and not is_vector(offset) and not is_vector(value):
            b.store(value, self.pointers(arr, offset), align=size)
            return
        value = splat(b, value, self.W)
        if consecutive:
            ptr = self.pointers(arr, offset)
            call = call_intrinsic(b, "llvm.masked.store", [value, ptr, self.mask],
                                  ret=ir.VoidType(), overloads=[value.type, ptr.type])
        else:
            ptrs = self.pointers(arr, splat(b, offset, self.W))
            call = call_intrinsic(b, "llvm.masked.scatter", [value, ptrs, self.mask],
                                  ret=ir.VoidType(), overloads=[value.type, ptrs.type])
        self._aligned(call, 1, size)

    # --- atomics -------------------------------------------------------------------------

    def uniform_atomic_add(self, ptr: ir.Value, value: ir.Value) -> ir.Value:
        """Integer ``atomic add`` of every active lane to one address: the lanes' sum in
        one ``atomicrmw``, each lane getting the old value plus the sum of the lanes below
        it (as if the lanes had gone one after another, in lane order)."""
        b = self.b
        v = splat(b, value, self.W)
        vt = v.type
        x = b.select(self.mask, v, zero(vt))
        inclusive = x
        d = 1
        while d < self.W:  # Hillis-Steele scan: lane l adds lane l - d
            picks = [lane - d if lane >= d else self.W + lane for lane in range(self.W)]
            shifted = b.shuffle_vector(inclusive, zero(vt),
                                       ir.Constant(vector_of(I32, self.W), picks))
            inclusive = b.add(inclusive, shifted)
            d *= 2
        total = b.extract_element(inclusive, ir.Constant(I32, self.W - 1))
        old = b.atomic_rmw("add", ptr, total, "monotonic")
        return b.add(splat(b, old, self.W), b.sub(inclusive, x))

    def op_atomic(self, op: Op) -> ir.Value:
        b = self.b
        kind = str(op.attr("kind"))
        arr = self.array(op.operands[0])
        extra = 2 if kind == "cas" else 1
        indices = op.operands[1:len(op.operands) - extra]
        self.check_bounds(op, arr, indices, "atomic")
        offset, _ = self.element_offset(arr, indices, lanes=True)
        operands = [self.get(v) for v in op.operands[len(op.operands) - extra:]]
        ptrs = self.pointers(arr, offset)
        if kind == "add" and arr.elem.is_int and not is_vector(offset):
            return self.uniform_atomic_add(ptrs, operands[0])
        et = scalar_type(arr.elem)
        pre = b.block
        loop, do, latch, exit_ = (self.block_named(f"atomic.{n}")
                                  for n in ("lane", "do", "next", "exit"))
        vt = vector_of(et, self.W)
        b.branch(loop)
        b.position_at_end(loop)
        lane = b.phi(I32)
        lane.add_incoming(ir.Constant(I32, 0), pre)
        acc = b.phi(vt)
        acc.add_incoming(zero(vt), pre)
        b.cbranch(b.extract_element(self.mask, lane), do, latch)
        b.position_at_end(do)

        def at(v: ir.Value) -> ir.Value:
            return b.extract_element(v, lane) if is_vector(v) else v

        ptr = at(ptrs)
        if kind == "cas":
            value, compare = (at(v) for v in operands)
            pair = b.cmpxchg(ptr, compare, value, "monotonic", "monotonic")
            old = b.extract_value(pair, 0)
        else:
            signed_op, unsigned_op, float_op = RMW[kind]
            name = float_op if arr.elem.is_float else \
                signed_op if arr.elem.is_signed else unsigned_op
            old = b.atomic_rmw(name, ptr, at(operands[0]), "monotonic")
        updated = b.insert_element(acc, old, lane)
        b.branch(latch)
        b.position_at_end(latch)
        result = b.phi(vt)
        result.add_incoming(updated, do)
        result.add_incoming(acc, loop)
        nxt = b.add(lane, ir.Constant(I32, 1))
        lane.add_incoming(nxt, latch)
        acc.add_incoming(result, latch)
        b.cbranch(b.icmp_unsigned("<", nxt, ir.Constant(I32, self.W)), loop, exit_)
        b.position_at_end(exit_)
        return result
