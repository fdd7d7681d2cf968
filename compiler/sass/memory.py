"""Instruction selection for memory, conversions and warp ops.

:class:`MemorySelector` adds to :class:`~.arith.ArithSelector` the handlers of ``load``,
``store``, ``atomic``, ``array_dim``, the allocations, ``cast``, ``shfl``, ``vote`` and
``barrier``.

Addresses (``reference/sass-codegen.md`` §5, the saxpy idiom): a global element address is
one ``IMAD.WIDE`` per index, ``index * byte_stride + base`` with the base the pointer in
``c[0x0][..]`` (then the previous pair), and ``byte_stride = stride * itemsize`` computed
once per scope; shared and local arrays are laid out at static byte offsets from 0 (each
aligned to 16) and addressed with 32-bit ``IMAD``s of the index by the static byte stride,
constant indices and the base folded into the address offset. Sub-word elements load
zero- or sign-extended (``.U8``/``.S8``/``.U16``/``.S16``), so narrow integers live in
registers as their extended 32-bit value; bools are stored as bytes 0/1.

Atomics are ``ATOMG``/``ATOMS``, or ``RED`` for a global atomic whose result is unused.
Shuffles are ``SHFL`` over the full warp (c = 0x1f; 0 for ``up``, as PTX); votes ``VOTE``;
``barrier`` is ``BAR.SYNC 0x0``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.abi import DYNAMIC_SHARED_BYTES, SHARED_ALIGN
from ...isa.operands import NOT_PT, PT, RZ, Const, Imm
from ..analysis.alignment import MAX_POW2, trailing_zeros
from ..ir import ArrayType, Op, ScalarType, Value
from ..ir.types import AddressSpace
from .arith import ArithSelector
from .isel import ArrayDesc, Konst, ParamWord, is_wide
from .mir import MAddr, VReg, whole_group

ATOM_OPS = {"add": "ADD", "min": "MIN", "max": "MAX", "and": "AND", "or": "OR",
            "xor": "XOR", "exch": "EXCH", "cas": "CAS", "inc": "INC", "dec": "DEC"}
SHFL_MODES = {"xor": "BFLY", "down": "DOWN", "up": "UP", "idx": "IDX"}
ALIGN = 16
"""Alignment of each shared and local allocation."""
ADDRESS_OFFSET_LIMIT = 2**23
"""Addresses' constant offsets are signed 24-bit (the ISA's ADDR operand)."""


def _width_mod(t: ScalarType) -> tuple[str, ...]:
    size = t.itemsize
    if size == 1:
        return ("S8",) if t.is_int and t.is_signed else ("U8",)
    if size == 2:
        return ("S16",) if t.is_int and t.is_signed else ("U16",)
    if size == 8:
        return ("64",)
    return ()


@dataclass(frozen=True)
class Deferred:
    """An ``i32`` ``x + c`` (``c`` a constant) whose every use is a memory index or another
    such sum: addresses take ``x`` and ``c`` apart (``c`` becomes the address offset), so
    it is computed only where an address needs it whole."""

    op: Op


def _constant_operand(op: Op) -> bool:
    return any(v.defining_op is not None and v.defining_op.name == "constant"
               for v in op.operands)


def address_only(value) -> bool:
    """Whether every use of ``value`` is an index of a load or store, or a
    :class:`Deferred`-able sum (one with a constant operand) that is itself one."""
    for use in value.uses:
        user, i = use.op, use.index
        if user.name == "load" and i >= 1:
            continue
        if user.name == "store" and 1 <= i < len(user.operands) - 1:
            continue
        if (user.name == "add" and str(user.result.type) == "i32"
                and _constant_operand(user) and address_only(user.result)):
            continue
        return False
    return bool(value.uses)


class MemorySelector(ArithSelector):
    """Memory, conversion and warp handlers (see the module docstring)."""

    def op_add(self, op: Op):
        """An index sum only addresses use stays :class:`Deferred`; any other add is
        arithmetic's."""
        if str(op.result.type) == "i32" and _constant_operand(op) and address_only(op.result):
            return Deferred(op)
        return super().op_add(op)

    def reg(self, v) -> VReg:
        """As the selector's, computing a :class:`Deferred` sum here (once per scope)."""
        x = self.values[v] if isinstance(v, Value) else v
        if isinstance(x, Deferred):
            return self.cached(("deferred", x.op), lambda: super(MemorySelector, self)
                               .op_add(x.op))
        return super().reg(v)

    # --- arrays ---------------------------------------------------------------------------

    def _alloc(self, op: Op, space: AddressSpace) -> ArrayDesc:
        t: ArrayType = op.result.type
        if space is AddressSpace.SHARED:
            base = -(-self.shared_bytes // ALIGN) * ALIGN
            self.shared_bytes = base + t.nbytes
        else:
            base = -(-self.local_bytes // ALIGN) * ALIGN
            self.local_bytes = base + t.nbytes
        return ArrayDesc(t, None, base)

    def op_shared_alloc(self, op: Op):
        return self._alloc(op, AddressSpace.SHARED)

    def op_local_alloc(self, op: Op):
        return self._alloc(op, AddressSpace.LOCAL)

    def op_dynamic_shared(self, op: Op):
        """The dynamic shared array: after every static one (all of them, wherever they
        are in the kernel), 16-byte aligned."""
        static = 0
        for other in self.func.walk():
            if other.name == "shared_alloc":
                static = -(-static // ALIGN) * ALIGN + other.results[0].type.nbytes
        base = -(-static // SHARED_ALIGN) * SHARED_ALIGN
        return ArrayDesc(op.result.type, None, base)

    def op_array_dim(self, op: Op):
        desc: ArrayDesc = self.lowered(op.operands[0])
        axis = op.attr("axis")
        if desc.slot is not None:
            return ParamWord(desc.slot.shapes[axis], op.result.type)
        if desc.type.shape is None:  # dynamic shared memory: its bytes / the element size
            shift = desc.type.elem.itemsize.bit_length() - 1
            nbytes = ParamWord(DYNAMIC_SHARED_BYTES, op.result.type)
            if shift == 0:
                return nbytes
            d = self.vreg()
            self.emit("SHF", ("R", "U32", "HI"), d=d, a=RZ, b=Imm(shift), c=self.reg(nbytes))
            return d
        return Konst(desc.type.shape[axis], op.result.type)

    def _index_reg(self, v) -> VReg:
        r = self.reg(v)
        return r.lo() if r.width == 2 else r

    def _byte_stride(self, desc: ArrayDesc, k: int) -> VReg:
        size = desc.type.elem.itemsize
        off = desc.slot.strides[k]

        def make():
            d = self.vreg()
            if size == 1:
                self.emit("MOV", d=d, b=Const(0, off))
            else:
                self.emit("IMAD", d=d, a=self.const_reg(size), b=Const(0, off), c=RZ)
            return d

        return self.cached(("bs", off), make, hoist=True)

    def address(self, desc: ArrayDesc, indices) -> MAddr:
        """The address of element ``indices`` of ``desc`` (computed once per scope)."""
        key = ("addr", desc, *indices)
        return self.cached(key, lambda: self._address(desc, indices))

    def _address(self, desc: ArrayDesc, indices) -> MAddr:
        t = desc.type
        if desc.slot is not None:
            return self._global_address(desc, indices)
        size = t.elem.itemsize
        strides = [1] * t.ndim
        for k in range(t.ndim - 2, -1, -1):
            strides[k] = strides[k + 1] * t.shape[k + 1]
        offset = desc.base
        terms: list[tuple[object, int]] = []
        for idx, stride in zip(indices, strides, strict=True):
            var, const = self._split_constant(idx)
            offset += const * stride * size
            if var is not None:
                terms.append((var, stride * size))
        acc: VReg | None = None
        if terms:  # one base register for every access with the same variable parts
            acc = self.cached(("sbase", tuple(terms)), lambda: self._scaled_sum(terms))
            self.base_align[acc.id] = min(
                min(self.known_pow2(var) + trailing_zeros(scale), MAX_POW2)
                for var, scale in terms)
        if not -ADDRESS_OFFSET_LIMIT <= offset < ADDRESS_OFFSET_LIMIT:
            # too far for the address's signed 24-bit offset: add it into the base
            d = self.vreg()
            self.emit("IADD3", d=d, a=acc if acc is not None else RZ,
                      b=Imm(offset & 0xFFFFFFFF), c=RZ)
            acc, offset = d, 0
        return MAddr(acc, offset)

    def _global_address(self, desc: ArrayDesc, indices) -> MAddr:
        """A global element's address: one ``IMAD.WIDE`` per index that is not 0 onto the
        pointer, in index order, each partial sum shared by every address with the same
        leading terms; with a unit innermost stride
        (:class:`~warpforge.compiler.abi.ArrayFacts`) that index's multiplier is the
        immediate itemsize and its constant part the address's offset. The base's proven
        alignment goes to ``base_align``."""
        facts = desc.facts
        size = desc.type.elem.itemsize
        offset = 0
        terms: list[tuple[object, int]] = []  # (index, axis)
        for k, idx in enumerate(indices):
            var = idx
            if k == len(indices) - 1 and facts.unit_inner:
                var, const = self._split_constant(idx)
                if -ADDRESS_OFFSET_LIMIT <= const * size < ADDRESS_OFFSET_LIMIT:
                    offset = const * size
                else:
                    var = idx
            if var is None:
                continue
            x = self.lowered(var)
            if not (isinstance(x, Konst) and int(x.value) == 0):
                terms.append((var, k))
        cur = None
        align = facts.base_pow2
        for n, (var, k) in enumerate(terms):
            inner = k == desc.type.ndim - 1 and facts.unit_inner
            align = min(align, self.known_pow2(var)
                        + (trailing_zeros(size) if inner else facts.stride_pow2))
            cur = self.cached(("gaddr", desc, tuple(terms[:n + 1])),
                              lambda var=var, k=k, inner=inner, prev=cur: self._wide_step(
                                  desc, var, k, inner, prev))
        if cur is None:  # every index is 0: the base pointer itself
            cur = self.cached(("gaddr", desc, ()), lambda: self._wide_step(desc, None, 0,
                                                                          False, None))
        self.base_align[cur.id] = min(align, MAX_POW2)
        return MAddr(cur, offset, wide=True)

    def _wide_step(self, desc: ArrayDesc, var, k: int, inner: bool, prev) -> VReg:
        """``var * byte_stride[k] + prev`` (``prev`` None: the pointer) in a new pair."""
        d = self.vreg(2)
        c = Const(0, desc.slot.offset) if prev is None else prev
        if var is None:
            self.emit("IMAD", ("WIDE",), d=d, a=RZ, b=RZ, c=c)
        else:
            size = desc.type.elem.itemsize
            if not inner:
                b = self._byte_stride(desc, k)
            else:  # one immediate or constant per instruction: the pointer takes c's
                b = Imm(size) if prev is not None else self.const_reg(size)
            self.emit("IMAD", ("WIDE",), d=d, a=self._index_reg(var), b=b, c=c)
        return d

    def _split_constant(self, idx) -> tuple[object | None, int]:
        """An index as (variable part or None, constant part): ``x + c`` and ``c + x``
        split, nested ones too (``(x + c1) + c2``), so that accesses differing by
        constants share a base register and carry the difference as the address's
        immediate offset (32-bit addresses wrap as the i32 index does)."""
        x = self.lowered(idx)
        if isinstance(x, Konst):
            return None, int(x.value)
        op = idx.defining_op
        if op is not None and op.name == "add" and str(idx.type) == "i32":
            a, b = op.operands
            for var, c in ((a, b), (b, a)):
                k, v = self.values.get(c), self.values.get(var)
                if isinstance(k, Konst) and v is not None and not isinstance(v, Konst):
                    inner, more = self._split_constant(var)
                    return inner, int(k.value) + more
        return idx, 0

    def _scaled_sum(self, terms: list[tuple[object, int]]) -> VReg:
        """``sum(var * scale)``, the terms defined in outer scopes first: the partial sum
        of a loop's invariant terms is then an instruction :mod:`.hoist` can move out."""
        acc = None
        for var, scale in sorted(terms, key=lambda term: _depth(term[0])):
            d = self.vreg()
            self.emit("IMAD", d=d, a=self._index_reg(var), b=Imm(scale),
                      c=acc if acc is not None else RZ)
            acc = d
        return acc

    def _space_ops(self, desc: ArrayDesc) -> tuple[str, str, tuple[str, ...]]:
        space = desc.type.space
        if space is AddressSpace.GLOBAL:
            return "LDG", "STG", ("E",)
        if space is AddressSpace.SHARED:
            return "LDS", "STS", ()
        return "LDL", "STL", ()

    def op_load(self, op: Op):
        desc: ArrayDesc = self.lowered(op.operands[0])
        addr = self.address(desc, op.operands[1:])
        elem = desc.type.elem
        opcode, _, e = self._space_ops(desc)
        d = self.vreg(2 if is_wide(elem) else 1)
        self.emit(opcode, e + _width_mod(elem), d=d, addr=addr)
        if elem.is_bool:
            return self.reg_to_pred(d)
        return d

    def op_store(self, op: Op):
        array, *indices, value = op.operands
        desc: ArrayDesc = self.lowered(array)
        addr = self.address(desc, indices)
        elem = desc.type.elem
        _, opcode, e = self._space_ops(desc)
        v = self.reg(value)
        mods = _width_mod(elem)
        mods = tuple("U8" if m == "S8" else "U16" if m == "S16" else m for m in mods)
        self.emit(opcode, e + mods, addr=addr, v=v)

    def op_atomic(self, op: Op):
        kind = op.attr("kind")
        array = op.operands[0]
        desc: ArrayDesc = self.lowered(array)
        extra = 2 if kind == "cas" else 1
        indices = op.operands[1:len(op.operands) - extra]
        addr = self.address(desc, indices)
        elem = desc.type.elem
        tmod = {"f32": ("F32",), "f64": ("F64",), "i64": ("S64",),
                "u64": ("U64",)}.get(elem.name, ())
        if elem.name == "i32" and kind in ("min", "max"):
            tmod = ("S32",)
        mods = (ATOM_OPS[kind], *tmod)
        value = self.reg(op.operands[-extra])
        glob = desc.type.space is AddressSpace.GLOBAL
        if kind == "cas":
            compare = self.reg(op.operands[-1])
            d = self.vreg(value.width)
            self.emit("ATOMG" if glob else "ATOMS", (("E",) if glob else ()) + mods, d=d,
                      addr=addr, b=compare, c=value)
            return d
        if glob and not op.result.has_uses():
            self.emit("RED", ("E", *mods), addr=addr, b=value)
            return None
        d = self.vreg(value.width)
        self.emit("ATOMG" if glob else "ATOMS", (("E",) if glob else ()) + mods, d=d,
                  addr=addr, b=value)
        return d

    # --- warp -----------------------------------------------------------------------------

    def op_barrier(self, op: Op):
        self.emit("BAR", ("SYNC",), id=Imm(0))

    def op_syncwarp(self, op: Op):
        """``WARPSYNC 0xffffffff``: the simulator runs a warp's converged lanes together, so
        their accesses are ordered already; racecheck reads it as the point that orders
        the warp's shared-memory accesses before and after it."""
        self.emit("WARPSYNC", (), mask=Imm(0xFFFFFFFF))

    def op_fence(self, op: Op):
        """Nothing to emit: the simulator's memory is sequentially consistent."""
        return None

    def op_shfl(self, op: Op):
        kind = op.attr("kind")
        value, lane = op.operands
        x = self.lowered(lane)
        lane_op = (Imm(int(x.value)) if isinstance(x, Konst) and 0 <= int(x.value) <= 255
                   else self.reg(lane))
        c = Imm(0 if kind == "up" else 0x1F)
        v = self.reg(value)
        if v.width == 2:
            d = self.vreg(2)
            for part in (VReg.lo, VReg.hi):
                self.emit("SHFL", (SHFL_MODES[kind],), pu=PT, d=part(d), a=part(v),
                          b=lane_op, c=c)
            return d
        d = self.vreg()
        self.emit("SHFL", (SHFL_MODES[kind],), pu=PT, d=d, a=v, b=lane_op, c=c)
        return d

    def op_mma(self, op: Op):
        """``HMMA.16816.F32 d, a, b, c``: A's four words, B's two and C's four each in one
        aligned register group; D's four results are the halves of a new quad."""
        values = op.operands
        a = self.register_group(values[0:4])
        b = self.register_group(values[4:6])
        c = self.register_group(values[6:10])
        d = self.vreg(4)
        self.emit("HMMA", ("16816", "F32"), d=d, a=a, b=b, c=c)
        return [VReg(d.id, 4, half=k) for k in range(4)]

    def register_group(self, values) -> VReg:
        """``values`` (2 or 4) in consecutive registers: the group they already are (the
        results of an earlier HMMA, or loop-carried halves), else copies into a new one
        (made once per scope for the same values)."""
        width = len(values)
        whole = whole_group([self.lowered(v) for v in values])
        if whole is not None:
            return whole

        def copies() -> VReg:
            group = self.vreg(width)
            for k, v in enumerate(values):
                self.emit("MOV", d=VReg(group.id, width, half=k), b=self.rb(v))
            return group

        return self.cached(("group", tuple(values)), copies)

    def op_vote(self, op: Op):
        kind = op.attr("kind")
        p = self.pred(op.operands[0])
        if kind == "ballot":
            d = self.vreg()
            self.emit("VOTE", ("ANY",), d=d, pu=PT, pp=p)
            return d
        q = self.vpred()
        self.emit("VOTE", (kind.upper(),), d=RZ, pu=q, pp=p)
        return q

    # --- casts ----------------------------------------------------------------------------

    def op_bitcast(self, op: Op):
        """The same registers, seen as another type of the same width."""
        x = self.lowered(op.operands[0])
        if isinstance(x, Konst):
            import struct
            t = op.result.type
            bits = x.bits
            if t.is_float:
                fmt = {64: ("<Q", "<d"), 32: ("<I", "<f"), 16: ("<H", "<e")}[t.bits]
                return Konst(struct.unpack(fmt[1], struct.pack(fmt[0], bits))[0], t)
            if t.is_signed and bits >= 1 << (t.bits - 1):
                bits -= 1 << t.bits
            return Konst(bits, t)
        return self.reg(op.operands[0])

    def op_cast(self, op: Op):
        (src,) = op.operands
        s, t = src.type, op.result.type
        if s == t:
            return self.lowered(src)
        if t.is_bool:
            if s.is_int and is_wide(s):
                r = self.reg(src)
                o = self.vreg()
                self.emit("LOP3", ("LUT",), d=o, a=r.lo(), b=r.hi(), c=RZ, lut=Imm(0xFC))
                return self.reg_to_pred(o)
            if s.is_float and s.bits != 32:
                raise self.fail(op)
            return self.reg_to_pred(self.reg(src), float_src=s.is_float)
        if s.is_bool:
            p = self.pred(src)
            one = Konst(1, t).bits
            if is_wide(t):
                d = self.vreg(2)
                self.emit("SEL", d=d.lo(), a=self.const_reg(one & 0xFFFFFFFF), b=RZ, pp=p)
                self.emit("SEL", d=d.hi(), a=self.const_reg(one >> 32), b=RZ, pp=p)
                return d
            return self.bool_to_reg(p, one)
        if isinstance(self.lowered(src), Konst) and s.is_int and t.is_int and \
                not is_wide(s) and not is_wide(t) and not t.is_storage_only:
            return Konst(int(self.lowered(src).value) & 0xFFFFFFFF if not t.is_signed
                         else _wrap32(int(self.lowered(src).value)), t)
        x = self.lowered(src)
        if isinstance(x, ParamWord) and s.is_int and t.is_int and s.bits == t.bits == 32:
            return ParamWord(x.offset, t)
        a = self.reg(src)
        if s.is_int and t.is_int:
            return self._int_cast(a, s, t)
        if s.is_int and t.is_float:
            stype = {64: "S64" if s.is_signed else "U64"}.get(
                s.bits, "S32" if s.is_signed else "U32")
            dtype = {32: (), 64: ("F64",), 16: ("F16",)}[t.bits]
            d = self.vreg(2 if is_wide(t) else 1)
            mods = dtype + (() if stype == "S32" else (stype,))
            self.emit("I2F", mods, d=d, b=a)
            return d
        if s.is_float and t.is_int:
            stype = {32: (), 64: ("F64",), 16: ("F16",)}[s.bits]
            if is_wide(t):
                dtype = ("S64",) if t.is_signed else ("U64",)
            else:
                dtype = () if t.is_signed else ("U32",)
            d = self.vreg(2 if is_wide(t) else 1)
            self.emit("F2I", dtype + stype + ("TRUNC", "NTZ"), d=d, b=a)
            if t.is_storage_only:
                lo, hi = t.min, t.max
                c = self.vreg()
                self.emit("IMNMX", () if t.is_signed else ("U32",), d=c, a=d,
                          b=Imm(hi & 0xFFFFFFFF), pp=PT)
                if t.is_signed:
                    c2 = self.vreg()
                    self.emit("IMNMX", d=c2, a=c, b=Imm(lo & 0xFFFFFFFF), pp=NOT_PT)
                    return c2
                return c
            return d
        if s.is_float and t.is_float:
            names = {16: "F16", 32: "F32", 64: "F64"}
            d = self.vreg(2 if is_wide(t) else 1)
            self.emit("F2F", (names[t.bits], names[s.bits]), d=d, b=a)
            return d
        raise self.fail(op)

    def _int_cast(self, a: VReg, s: ScalarType, t: ScalarType) -> VReg:
        if is_wide(t):
            d = self.vreg(2)
            if is_wide(s):
                return a
            self.emit("MOV", d=d.lo(), b=a)
            if s.is_signed:
                self.emit("SHF", ("R", "S32", "HI"), d=d.hi(), a=RZ, b=Imm(31), c=a)
            else:
                self.emit("MOV", d=d.hi(), b=RZ)
            return d
        lo = a.lo() if is_wide(s) else a
        if t.is_storage_only:
            d = self.vreg()
            if t.is_signed:
                up = self.vreg()
                self.emit("SHF", ("L", "U32"), d=up, a=lo, b=Imm(32 - t.bits), c=RZ)
                self.emit("SHF", ("R", "S32", "HI"), d=d, a=RZ, b=Imm(32 - t.bits), c=up)
            else:
                self.emit("LOP3", ("LUT",), d=d, a=lo, b=Imm((1 << t.bits) - 1), c=RZ,
                          lut=Imm(0xC0))
            return d
        if is_wide(s):
            d = self.vreg()
            self.emit("MOV", d=d, b=lo)
            return d
        return a


def _wrap32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _depth(value) -> int:
    """How many structured ops enclose ``value``'s definition."""
    op = value.defining_op
    if op is None:  # a block argument: its block's op encloses it
        op = value.block.parent_op
        return 0 if op is None else 1 + sum(1 for _ in op.ancestors())
    return sum(1 for _ in op.ancestors())
