"""Instruction selection: straight-line IR ops to machine instructions on virtual registers.

:class:`Selector` keeps, for each IR value, how the machine code sees it: a virtual
register (:class:`~.mir.VReg`; 64-bit types in an even-aligned pair), a virtual predicate
(:class:`~.mir.VPred`: every ``bool`` lives in a predicate; it becomes 0/1 in a register
only when stored or cast; a comparison is a :class:`LazyCmp` until first used), a
:class:`Konst` (an IR constant, folded into the instruction that uses it as an immediate
when the slot allows, else moved into a register) or a constant-bank word (a scalar
parameter, ``c[0x0][off]``, folded likewise).
Constants and parameters moved into registers, and arrays' byte strides, are computed once,
in the kernel's prologue (pure, so hoisting them is safe; it is loop-invariant code motion
for what the backend itself introduces); other derived values (addresses) are cached per
structured scope, so one computation serves every later use that it dominates.

Idioms (``reference/sass-codegen.md`` §5): only one of an instruction's B/C slots may hold
an immediate or constant; slot A is always a register; commutative operations put the
non-register in B. ``mul`` of f32 whose only use is an ``add``/``sub`` in the same block
becomes FFMA (contraction, ptxas's default ``--fmad=true``; results then differ from
separately rounded ``a*b + c`` by the missing rounding), and an i32 ``mul`` feeding one
``add`` becomes IMAD. Global addresses are one ``IMAD.WIDE`` per index of
``index * (stride * itemsize) + base`` (the byte stride computed once; an immediate for a
unit innermost stride, whose constant index terms become the address's offset); shared and
local arrays sit at static offsets (from 0, in IR order) and use 32-bit addresses with the
offset folded into the address. Division and math functions: :mod:`.divide`.

The supported types are the 32-bit integers and f32 for arithmetic, every scalar type for
loads, stores and casts (f16 and f64 through F2F, 64-bit integers as pairs), and bool in
predicates. Other combinations raise :class:`CompilerError` naming the op.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...isa.abi import NCTAID_X, NTID_X
from ...isa.operands import NOT_PT, PT, RZ, Const, Imm, Pred, SpecialReg
from ..abi import ArrayFacts, ParamSlot
from ..analysis.alignment import KnownPow2
from ..errors import CompilerError
from ..ir import ArrayType, Op, ScalarType, Value, i32
from .mir import MInst, VPred, VReg, make

DIM_INDEX = {"x": 0, "y": 1, "z": 2}
INT_CMP = {"eq": "EQ", "ne": "NE", "lt": "LT", "le": "LE", "gt": "GT", "ge": "GE"}
FLOAT_CMP = {"eq": "EQ", "ne": "NEU", "lt": "LT", "le": "LE", "gt": "GT", "ge": "GE"}
MIRROR = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
LUT = {"and": 0xC0, "or": 0xFC, "xor": 0x3C}
MEM_WIDTH = {1: ("U8", "S8"), 2: ("U16", "S16"), 4: (None, None), 8: ("64", "64")}


@dataclass(frozen=True)
class Konst:
    """An IR constant not yet in a register: its raw bits (low, high) and type."""

    value: object
    type: ScalarType

    @property
    def bits(self) -> int:
        """The 64-bit (or 32-bit) raw pattern."""
        t = self.type
        if t.is_bool:
            return int(bool(self.value))
        if t.is_float:
            if t.bits == 32:
                return struct.unpack("<I", struct.pack("<f", float(self.value)))[0]
            if t.bits == 64:
                return struct.unpack("<Q", struct.pack("<d", float(self.value)))[0]
            return struct.unpack("<H", struct.pack("<e", float(self.value)))[0]
        return int(self.value) & ((1 << max(t.bits, 32)) - 1)

    def imm(self) -> Imm:
        """The low 32 bits as an immediate."""
        return Imm(self.bits & 0xFFFFFFFF)


@dataclass(frozen=True)
class LazyCmp:
    """A comparison of two lowered values, emitted where the predicate is first needed
    (and cached in that scope): predicates are few (P0-P6), so a ``cmp`` computed early
    and used late -- common after code motion -- would otherwise hold one throughout."""

    pred: str
    x: object
    y: object
    type: ScalarType


@dataclass(frozen=True)
class ParamWord:
    """A scalar kernel parameter at ``c[0x0][offset]`` (a pair of words when 64-bit)."""

    offset: int
    type: ScalarType


NO_FACTS = ArrayFacts()
"""Nothing known of an array parameter."""


@dataclass(frozen=True)
class ArrayDesc:
    """What the backend knows of an array value: space, element type and where it lives.

    Global arrays come from a parameter (``slot``); shared and local ones have a static
    ``shape`` and byte ``base`` offset in their space.
    """

    type: ArrayType
    slot: ParamSlot | None = None
    base: int = 0
    facts: ArrayFacts = NO_FACTS
    """What every launch guarantees of a parameter array's pointer and strides."""


def is_wide(t: ScalarType) -> bool:
    """True for types held in a register pair."""
    return t.bits == 64


class Selector:
    """Lowers straight-line IR ops into ``self.code`` (see the module docstring)."""

    def __init__(self) -> None:
        self.code: list[MInst] = []
        self.prologue: list[MInst] = []
        self.entry_loc = None
        self.values: dict[Value, object] = {}
        self.next_id = 0
        self.scopes: list[dict] = [{}]
        self.loc = None
        self.shared_bytes = 0
        self.local_bytes = 0
        self.fused: set[Op] = set()
        self.known_pow2 = KnownPow2()
        self.base_align: dict[int, int] = {}
        """Per virtual register holding a shared or local address base: ``k`` such that it
        is a multiple of ``2**k`` bytes (what :mod:`.vectorize` needs to merge loads)."""

    # --- virtual registers and emission -------------------------------------------------

    def vreg(self, width: int = 1) -> VReg:
        """A fresh virtual register (a pair when ``width`` is 2)."""
        self.next_id += 1
        return VReg(self.next_id, width)

    def vpred(self) -> VPred:
        """A fresh virtual predicate."""
        self.next_id += 1
        return VPred(self.next_id)

    def emit(self, opcode: str, mods: tuple[str, ...] = (), guard=PT, **slots) -> MInst:
        """Append one instruction (operands by slot name, see :func:`.mir.make`)."""
        inst = make(opcode, mods, guard, self.loc, **slots)
        self.code.append(inst)
        return inst

    def fail(self, op: Op, why: str = "") -> CompilerError:
        """A CompilerError for an op this backend cannot lower."""
        types = ", ".join(str(t) for t in op.operand_types)
        return CompilerError(f"the simulator's compiler (SASS backend) cannot lower "
                             f"{op.name} of ({types})" + (f": {why}" if why else ""), op.loc)

    def cached(self, key: object, make_value, hoist: bool = False):
        """The value cached under ``key`` in this or an enclosing scope, else
        ``make_value()`` emitted now and cached in the current scope; or, with ``hoist``
        (pure values computed from constants only), emitted into the kernel's prologue
        and cached for the whole kernel."""
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        if not hoist:
            value = make_value()
            self.scopes[-1][key] = value
            return value
        saved, self.code = self.code, self.prologue
        saved_loc, self.loc = self.loc, self.entry_loc
        try:
            value = make_value()
        finally:
            self.code, self.loc = saved, saved_loc
        self.scopes[0][key] = value
        return value

    # --- operands --------------------------------------------------------------------------

    def lowered(self, v: Value) -> object:
        """The machine view of IR value ``v``."""
        return self.values[v]

    def reg(self, v: Value | object) -> VReg:
        """``v`` in a (virtual) register, moving a constant or parameter in if needed."""
        x = self.values[v] if isinstance(v, Value) else v
        if isinstance(x, VReg):
            return x
        if isinstance(x, (VPred, LazyCmp)):
            return self.bool_to_reg(self.pred(x))
        if isinstance(x, Konst):
            if x.type.is_bool:
                return self.const_reg(x.bits)
            if is_wide(x.type):
                return self.cached(("k64", x.bits), lambda: self.move_pair(
                    Imm(x.bits & 0xFFFFFFFF), Imm(x.bits >> 32)), hoist=True)
            return self.const_reg(x.bits)
        if isinstance(x, ParamWord):
            if is_wide(x.type):
                return self.cached(("p64", x.offset), lambda: self.move_pair(
                    Const(0, x.offset), Const(0, x.offset + 4)), hoist=True)
            return self.cached(("p", x.offset), lambda: self.move(Const(0, x.offset)),
                               hoist=True)
        raise CompilerError(f"internal: cannot put {x!r} in a register")

    def const_reg(self, bits: int) -> VReg:
        """A register holding the 32-bit pattern ``bits`` (cached per scope)."""
        if bits == 0:
            return self.cached(("k", 0), lambda: self.move(RZ), hoist=True)
        return self.cached(("k", bits), lambda: self.move(Imm(bits)), hoist=True)

    def move(self, src) -> VReg:
        """A fresh register = ``src``."""
        d = self.vreg()
        self.emit("MOV", d=d, b=src)
        return d

    def move_pair(self, lo, hi) -> VReg:
        """A fresh pair = (``lo``, ``hi``)."""
        d = self.vreg(2)
        self.emit("MOV", d=d.lo(), b=lo)
        self.emit("MOV", d=d.hi(), b=hi)
        return d

    def rb(self, v: Value | object):
        """``v`` for a B/C slot: a register, an immediate or a constant-bank word."""
        x = self.values[v] if isinstance(v, Value) else v
        if isinstance(x, Konst) and not is_wide(x.type) and not x.type.is_bool:
            return x.imm() if x.bits else RZ
        if isinstance(x, ParamWord) and not is_wide(x.type) and not x.type.is_bool:
            return Const(0, x.offset)
        return self.reg(x)

    def is_reg(self, v: Value) -> bool:
        """True when ``v`` already lives in a register."""
        return isinstance(self.values[v], (VReg, VPred, LazyCmp))

    def pred(self, v: Value | object) -> VPred | Pred:
        """A bool value as a predicate (PT/!PT for constants)."""
        x = self.values[v] if isinstance(v, Value) else v
        if isinstance(x, VPred):
            return x
        if isinstance(x, LazyCmp):
            return self.cached(x, lambda: self.emit_cmp(x))
        if isinstance(x, Konst):
            return PT if x.value else NOT_PT
        if isinstance(x, ParamWord):
            def load():
                p = self.vpred()
                self.emit("ISETP", ("NE", "U32", "AND"), pu=p, pv=PT,
                          a=self.reg(ParamWord(x.offset, i32)), b=RZ, pp=PT)
                return p
            return self.cached(("pb", x.offset), load)
        raise CompilerError(f"internal: {x!r} is not a bool")

    def emit_cmp(self, lazy: LazyCmp) -> VPred:
        """Emit a comparison (:mod:`.arith`)."""
        raise NotImplementedError

    def bool_to_reg(self, p: VPred | Pred, one: int = 1) -> VReg:
        """0 or ``one`` in a register from a predicate."""
        d = self.vreg()
        self.emit("SEL", d=d, a=self.const_reg(one), b=RZ, pp=p)
        return d

    def reg_to_pred(self, r, float_src: bool = False) -> VPred:
        """A predicate = (r != 0) (unordered for floats: NaN is true)."""
        p = self.vpred()
        if float_src:
            self.emit("FSETP", ("NEU", "AND"), pu=p, pv=PT, a=r, b=RZ, pp=PT)
        else:
            self.emit("ISETP", ("NE", "U32", "AND"), pu=p, pv=PT, a=r, b=RZ, pp=PT)
        return p

    # --- special values -------------------------------------------------------------------

    def special(self, name: str) -> VReg:
        """``S2R`` of special register ``name``, once per kernel (at the entry scope)."""
        key = ("sr", name)
        if key in self.scopes[0]:
            return self.scopes[0][key]
        d = self.vreg()
        self.emit("S2R", d=d, sr=SpecialReg(name))
        self.scopes[0][key] = d
        return d

    def op_thread_idx(self, op: Op) -> object:
        return self.special("SR_TID." + op.attr("dim").upper())

    def op_block_idx(self, op: Op) -> object:
        return self.special("SR_CTAID." + op.attr("dim").upper())

    def op_lane_id(self, op: Op) -> object:
        return self.special("SR_LANEID")

    def op_block_dim(self, op: Op) -> object:
        return ParamWord(NTID_X + 4 * DIM_INDEX[op.attr("dim")], op.result.type)

    def op_grid_dim(self, op: Op) -> object:
        return ParamWord(NCTAID_X + 4 * DIM_INDEX[op.attr("dim")], op.result.type)

    def op_constant(self, op: Op) -> object:
        return Konst(op.attr("value"), op.result.type)

    # --- dispatch -------------------------------------------------------------------------

    def select_op(self, op: Op) -> None:
        """Lower one non-control op, recording its result's machine view."""
        self.loc = op.loc or self.loc
        if op in self.fused:
            return
        handler = getattr(self, "op_" + op.name, None)
        if handler is None:
            raise self.fail(op)
        result = handler(op)
        if len(op.results) > 1:
            for r, value in zip(op.results, result, strict=True):
                self.values[r] = value
        elif op.results:
            self.values[op.result] = result
