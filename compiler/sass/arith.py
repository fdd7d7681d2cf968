"""Instruction selection for arithmetic, comparisons, selects, casts and math functions.

:class:`ArithSelector` adds the ``op_*`` handlers of the IR's ``binary``, ``unary`` and
``math`` ops, ``fma``, ``cmp``, ``select`` and ``cast`` to :class:`~.isel.Selector` (whose
docstring states the operand conventions). Integer and float division: :mod:`.divide`.

Bool ops are predicate logic (``PLOP3``, LUTs as LOP3's); integer bitwise ops are
``LOP3.LUT``; shifts ``SHF``; min/max ``IMNMX``/``FMNMX``; f32 negation and abs are
``FADD -x, -RZ`` and ``FADD |x|, -RZ`` (exact, sign of zero kept, as ptxas);
``exp(x) = EX2(x * log2 e)``, ``log(x) = LG2(x) * ln 2``, ``sin``/``cos`` scale by 1/2pi
first (the MUFU row takes turns). Their accuracy is MUFU's plus one f32 rounding of the
scaling (a few ulp; for large arguments of exp, sin and cos, the relative error of the
rounded product grows with the argument's magnitude).
"""

from __future__ import annotations

import math

from ...isa.operands import NOT_PT, PT, RZ, RZ_INDEX, Imm, Pred, Reg
from ..analysis.contraction import contracts_into_user, is_f32, is_i32
from ..ir import Op
from .divide import float_divide, int_divide
from .isel import FLOAT_CMP, INT_CMP, LUT, MIRROR, Konst, LazyCmp, Selector, is_wide
from .mir import VPred, VReg
from .wide import (
    ONE,
    f64_binary,
    f64_divide,
    f64_fma,
    f64_minmax,
    f64_sqrt,
    f64_unary,
    int64_abs,
    int64_minmax,
    int64_mul,
    int64_negate,
    int64_not,
    int64_shift,
    is_f64,
    is_int64,
    pair_const,
    wide_cmp,
)

NEG_RZ = Reg(RZ_INDEX, neg=True)
"""``-RZ``: adding it keeps the sign of a zero (``x + -0 = x``)."""
LOG2E = Imm(0x3FB8AA3B)
"""float32(log2(e))."""
LN2 = Imm(0x3F317218)
"""float32(ln 2)."""
INV_2PI = Imm(0x3E22F983)
"""float32(1 / (2 pi))."""
assert abs(__import__("struct").unpack("<f", LOG2E.bits.to_bytes(4, "little"))[0]
           - math.log2(math.e)) < 1e-6


class ArithSelector(Selector):
    """Arithmetic handlers (see the module docstring)."""

    # --- helpers --------------------------------------------------------------------------

    def _ab(self, op: Op, commutative: bool) -> tuple[VReg, object, bool]:
        """Operands (A register, B slot) of a binary op; ``swapped`` when reordered."""
        a, b = op.operands
        if commutative and not self.is_reg(a) and self.is_reg(b):
            return self.reg(b), self.rb(a), True
        return self.reg(a), self.rb(b), False

    def _need(self, op: Op, ok: bool, why: str = "") -> None:
        if not ok:
            raise self.fail(op, why)

    def _bool_binary(self, op: Op, lut: int) -> VPred:
        d = self.vpred()
        a, b = (self.pred(v) for v in op.operands)
        self.emit("PLOP3", ("LUT",), pu=d, pv=PT, a=a, b=b, c=PT, lut=Imm(lut), lut2=Imm(0))
        return d

    # --- binary ---------------------------------------------------------------------------

    def op_add(self, op: Op):
        t = op.result.type
        if is_f32(t):
            fused = self._try_ffma(op, negate_addend=False)
            if fused is not None:
                return fused
            a, b, _ = self._ab(op, True)
            d = self.vreg()
            self.emit("FADD", d=d, a=a, b=b)
            return d
        if is_i32(t):
            fused = self._try_imad(op)
            if fused is not None:
                return fused
            a, b, _ = self._ab(op, True)
            d = self.vreg()
            self.emit("IADD3", d=d, a=a, b=b, c=RZ)
            return d
        if t.is_int and is_wide(t):
            return self._add64(op, negate=False)
        if is_f64(t):
            return f64_binary(self, op)
        raise self.fail(op)

    def op_sub(self, op: Op):
        t = op.result.type
        x, y = op.operands
        if is_f32(t):
            fused = self._try_ffma(op, negate_addend=True)
            if fused is not None:
                return fused
            d = self.vreg()
            if not self.is_reg(x) and self.is_reg(y):
                self.emit("FADD", d=d, a=self.reg(y).negated(), b=self.rb(x))
            else:
                self.emit("FADD", d=d, a=self.reg(x), b=self._neg_b(y, float_=True))
            return d
        if is_i32(t):
            d = self.vreg()
            if not self.is_reg(x) and self.is_reg(y):
                self.emit("IADD3", d=d, a=self.reg(y).negated(), b=self.rb(x), c=RZ)
            else:
                self.emit("IADD3", d=d, a=self.reg(x), b=self._neg_b(y, float_=False), c=RZ)
            return d
        if t.is_int and is_wide(t):
            return self._add64(op, negate=True)
        if is_f64(t):
            return f64_binary(self, op)
        raise self.fail(op)

    def _neg_b(self, v, float_: bool):
        """``-v`` for a B slot."""
        x = self.rb(v)
        if isinstance(x, Imm):
            return Imm(x.bits ^ 0x80000000) if float_ else Imm((-x.bits) & 0xFFFFFFFF)
        if isinstance(x, VReg):
            return x.negated()
        if x == RZ:
            return RZ
        from dataclasses import replace
        return replace(x, neg=True)

    def _add64(self, op: Op, negate: bool) -> VReg:
        a, b = (self.reg(v) for v in op.operands)
        d = self.vreg(2)
        carry = self.vpred()
        if negate:
            self.emit("IADD3", d=d.lo(), pu=carry, a=a.lo(), b=b.lo().negated(), c=RZ)
            self.emit("IADD3", ("X",), d=d.hi(), a=a.hi(), b=VReg(b.id, 2, inv=True, half=1),
                      c=RZ, pp=carry, pq=NOT_PT)
        else:
            self.emit("IADD3", d=d.lo(), pu=carry, a=a.lo(), b=b.lo(), c=RZ)
            self.emit("IADD3", ("X",), d=d.hi(), a=a.hi(), b=b.hi(), c=RZ, pp=carry,
                      pq=NOT_PT)
        return d

    def _try_ffma(self, op: Op, negate_addend: bool) -> VReg | None:
        """FFMA for ``add(mul(a, b), c)`` / ``sub(mul(a, b), c)`` / ``sub(c, mul(a, b))``
        when the mul's only use is this op (contraction, as ptxas's default)."""
        x, y = op.operands
        for k, m in enumerate((x, y)):
            mop = m.defining_op
            if (mop is None or mop.name != "mul" or len(m.uses) != 1 or mop not in self.fused):
                continue
            other = (y, x)[k]
            ma, mb = mop.operands
            if not self.is_reg(ma) and self.is_reg(mb):
                ma, mb = mb, ma
            a = self.reg(ma)
            if negate_addend and k == 1:
                a = a.negated()  # c - a*b = (-a)*b + c
            d = self.vreg()
            bval = self.rb(mb)
            cval = self._neg_b(other, float_=True) if negate_addend and k == 0 else self.rb(other)
            if not isinstance(bval, VReg) and not isinstance(cval, VReg):
                cval = self.reg(other).negated() if negate_addend and k == 0 else \
                    self.reg(other)
            self.emit("FFMA", d=d, a=a, b=bval, c=cval)
            return d
        return None

    def _try_imad(self, op: Op) -> VReg | None:
        """IMAD for ``add(mul(a, b), c)`` when the i32 mul's only use is this add."""
        x, y = op.operands
        for k, m in enumerate((x, y)):
            mop = m.defining_op
            if mop is None or mop not in self.fused:
                continue
            other = (y, x)[k]
            ma, mb = mop.operands
            if not self.is_reg(ma) and self.is_reg(mb):
                ma, mb = mb, ma
            a, bval, cval = self.reg(ma), self.rb(mb), self.rb(other)
            if not isinstance(bval, VReg) and not isinstance(cval, VReg):
                cval = self.reg(other)
            d = self.vreg()
            self.emit("IMAD", d=d, a=a, b=bval, c=cval)
            return d
        return None

    def fusable_mul(self, op: Op) -> bool:
        """True when ``mul`` ``op`` will be contracted into its single user (the rule both
        backends share: :func:`~warpforge.compiler.analysis.contraction.contracts_into_user`)."""
        return contracts_into_user(op)

    def op_mul(self, op: Op):
        t = op.result.type
        if is_f64(t):
            return f64_binary(self, op)
        if is_int64(t):
            return int64_mul(self, op)
        a, b, _ = self._ab(op, True)
        d = self.vreg()
        if is_f32(t):
            self.emit("FMUL", d=d, a=a, b=b)
        elif is_i32(t):
            self.emit("IMAD", d=d, a=a, b=b, c=RZ)
        else:
            raise self.fail(op)
        return d

    def op_fma(self, op: Op):
        if is_f64(op.result.type):
            return f64_fma(self, op)
        self._need(op, is_f32(op.result.type))
        a, b, c = op.operands
        if not self.is_reg(a) and self.is_reg(b):
            a, b = b, a
        ra, rb_, rc = self.reg(a), self.rb(b), self.rb(c)
        if not isinstance(rb_, VReg) and not isinstance(rc, VReg):
            rc = self.reg(c)
        d = self.vreg()
        self.emit("FFMA", d=d, a=ra, b=rb_, c=rc)
        return d

    def op_div(self, op: Op):
        t = op.result.type
        if is_f32(t):
            return float_divide(self, op)
        if is_f64(t):
            return f64_divide(self, *(self.reg(v) for v in op.operands))
        return int_divide(self, op, "div")

    def op_rem(self, op: Op):
        return int_divide(self, op, "rem")

    def op_floordiv(self, op: Op):
        return int_divide(self, op, "floordiv")

    def op_mod(self, op: Op):
        return int_divide(self, op, "mod")

    def _minmax(self, op: Op, is_min: bool):
        t = op.result.type
        if is_f64(t):
            return f64_minmax(self, op)
        if is_int64(t):
            return int64_minmax(self, op)
        a, b, _ = self._ab(op, True)
        d = self.vreg()
        pp = PT if is_min else NOT_PT
        if is_f32(t):
            self.emit("FMNMX", d=d, a=a, b=b, pp=pp)
        elif is_i32(t):
            self.emit("IMNMX", () if t.is_signed else ("U32",), d=d, a=a, b=b, pp=pp)
        else:
            raise self.fail(op)
        return d

    def op_min(self, op: Op):
        return self._minmax(op, True)

    def op_max(self, op: Op):
        return self._minmax(op, False)

    def _logic(self, op: Op, name: str):
        t = op.result.type
        if t.is_bool:
            return self._bool_binary(op, LUT[name])
        if is_i32(t):
            a, b, _ = self._ab(op, True)
            d = self.vreg()
            self.emit("LOP3", ("LUT",), d=d, a=a, b=b, c=RZ, lut=Imm(LUT[name]))
            return d
        if t.is_int and is_wide(t):
            a, b = (self.reg(v) for v in op.operands)
            d = self.vreg(2)
            for half in (0, 1):
                part = (VReg.lo, VReg.hi)[half]
                self.emit("LOP3", ("LUT",), d=part(d), a=part(a), b=part(b), c=RZ,
                          lut=Imm(LUT[name]))
            return d
        raise self.fail(op)

    def op_and(self, op: Op):
        return self._logic(op, "and")

    def op_or(self, op: Op):
        return self._logic(op, "or")

    def op_xor(self, op: Op):
        return self._logic(op, "xor")

    def op_shl(self, op: Op):
        if is_int64(op.result.type):
            return int64_shift(self, op)
        self._need(op, is_i32(op.result.type))
        d = self.vreg()
        self.emit("SHF", ("L", "U32"), d=d, a=self.reg(op.operands[0]),
                  b=self.rb(op.operands[1]), c=RZ)
        return d

    def op_shr(self, op: Op):
        t = op.result.type
        if is_int64(t):
            return int64_shift(self, op)
        self._need(op, is_i32(t))
        d = self.vreg()
        self.emit("SHF", ("R", "S32" if t.is_signed else "U32", "HI"), d=d, a=RZ,
                  b=self.rb(op.operands[1]), c=self.reg(op.operands[0]))
        return d

    # --- unary ----------------------------------------------------------------------------

    def op_neg(self, op: Op):
        t = op.result.type
        if is_f64(t):
            return f64_unary(self, op)
        if is_int64(t):
            return int64_negate(self, self.reg(op.operands[0]))
        a = self.reg(op.operands[0])
        d = self.vreg()
        if is_f32(t):
            self.emit("FADD", d=d, a=a.negated(), b=NEG_RZ)
        elif is_i32(t):
            self.emit("IADD3", d=d, a=a.negated(), b=RZ, c=RZ)
        else:
            raise self.fail(op)
        return d

    def op_abs(self, op: Op):
        t = op.result.type
        if is_f64(t):
            return f64_unary(self, op)
        if is_int64(t):
            return int64_abs(self, op)
        a = self.reg(op.operands[0])
        d = self.vreg()
        if is_f32(t):
            from dataclasses import replace
            self.emit("FADD", d=d, a=replace(a, abs=True), b=NEG_RZ)
        elif is_i32(t):
            self.emit("IABS", d=d, b=a)
        else:
            raise self.fail(op)
        return d

    def op_not(self, op: Op):
        t = op.result.type
        if t.is_bool:
            p = self.pred(op.operands[0])
            if isinstance(p, Pred):
                return Konst(p.neg, t)
            return p.negated()
        if is_int64(t):
            return int64_not(self, op)
        self._need(op, is_i32(t))
        d = self.vreg()
        self.emit("LOP3", ("LUT",), d=d, a=self.reg(op.operands[0]), b=RZ, c=RZ,
                  lut=Imm(0x0F))
        return d

    # --- bits -----------------------------------------------------------------------------

    def _int32_arg(self, op: Op) -> VReg:
        self._need(op, is_i32(op.result.type), "only 32-bit integers")
        return self.reg(op.operands[0])

    def op_popc(self, op: Op):
        d = self.vreg()
        self.emit("POPC", d=d, b=self._int32_arg(op))
        return d

    def _clz(self, a) -> VReg:
        top = self.vreg()  # the top set bit's index, -1 for zero: 31 - it is clz (32 for 0)
        self.emit("FLO", ("U32",), d=top, b=a)
        d = self.vreg()
        self.emit("IADD3", d=d, a=top.negated(), b=Imm(31), c=RZ)
        return d

    def op_clz(self, op: Op):
        return self._clz(self._int32_arg(op))

    def op_brev(self, op: Op):
        d = self.vreg()
        self.emit("BREV", d=d, b=self._int32_arg(op))
        return d

    def op_ffs(self, op: Op):
        a = self._int32_arg(op)
        low = self.vreg()  # a & -a: the lowest set bit alone; 32 - clz of it is ffs
        neg = self.vreg()
        self.emit("IADD3", d=neg, a=a.negated(), b=RZ, c=RZ)
        self.emit("LOP3", ("LUT",), d=low, a=a, b=neg, c=RZ, lut=Imm(LUT["and"]))
        d = self.vreg()
        self.emit("IADD3", d=d, a=self._clz(low).negated(), b=Imm(32), c=RZ)
        return d

    # --- compare and select ---------------------------------------------------------------

    def op_cmp(self, op: Op):
        pred = op.attr("pred")
        x, y = op.operands
        t = x.type
        if t.is_bool:
            lut = 0x3C if pred == "ne" else 0xC3
            self._need(op, pred in ("eq", "ne"))
            d = self.vpred()
            self.emit("PLOP3", ("LUT",), pu=d, pv=PT, a=self.pred(x), b=self.pred(y), c=PT,
                      lut=Imm(lut), lut2=Imm(0))
            return d
        if not (is_f32(t) or is_i32(t) or is_f64(t) or is_int64(t)):
            raise self.fail(op)
        return LazyCmp(pred, self.lowered(x), self.lowered(y), t)

    def emit_cmp(self, lazy: LazyCmp) -> VPred:
        """The ISETP/FSETP of a comparison, emitted here (see :class:`LazyCmp`)."""
        pred, x, y, t = lazy.pred, lazy.x, lazy.y, lazy.type
        if is_wide(t):
            return wide_cmp(self, lazy)
        if not isinstance(x, (VReg, VPred)) and isinstance(y, (VReg, VPred)):
            x, y, pred = y, x, MIRROR[pred]
        d = self.vpred()
        if is_f32(t):
            self.emit("FSETP", (FLOAT_CMP[pred], "AND"), pu=d, pv=PT, a=self.reg(x),
                      b=self.rb(y), pp=PT)
        else:
            mods = (INT_CMP[pred],) + (() if t.is_signed else ("U32",)) + ("AND",)
            self.emit("ISETP", mods, pu=d, pv=PT, a=self.reg(x), b=self.rb(y), pp=PT)
        return d

    def op_select(self, op: Op):
        c, x, y = op.operands
        t = op.result.type
        p = self.pred(c)
        if isinstance(p, Pred):  # constant condition
            return self.values[x] if not p.neg else self.values[y]
        if t.is_bool:
            d = self.vpred()
            self.emit("PLOP3", ("LUT",), pu=d, pv=PT, a=p, b=self.pred(x), c=self.pred(y),
                      lut=Imm(0xCA), lut2=Imm(0))
            return d
        if is_wide(t):
            a, b = self.reg(x), self.reg(y)
            d = self.vreg(2)
            self.emit("SEL", d=d.lo(), a=a.lo(), b=b.lo(), pp=p)
            self.emit("SEL", d=d.hi(), a=a.hi(), b=b.hi(), pp=p)
            return d
        if not self.is_reg(x) and self.is_reg(y):
            x, y, p = y, x, p.negated()
        opcode = "FSEL" if is_f32(t) else "SEL"
        d = self.vreg()
        self.emit(opcode, d=d, a=self.reg(x), b=self.rb(y), pp=p)
        return d

    # --- math -----------------------------------------------------------------------------

    def _mufu(self, fn: str, src) -> VReg:
        d = self.vreg()
        self.emit("MUFU", (fn,), d=d, b=src)
        return d

    def _fmul(self, a: VReg, b) -> VReg:
        d = self.vreg()
        self.emit("FMUL", d=d, a=a, b=b)
        return d

    def _math_arg(self, op: Op) -> VReg:
        self._need(op, is_f32(op.result.type), "only f32 math functions")
        return self.reg(op.operands[0])

    def op_exp(self, op: Op):
        return self._mufu("EX2", self._fmul(self._math_arg(op), LOG2E))

    def op_log(self, op: Op):
        return self._fmul(self._mufu("LG2", self._math_arg(op)), LN2)

    def op_sqrt(self, op: Op):
        if is_f64(op.result.type):
            return f64_sqrt(self, self.reg(op.operands[0]))
        return self._mufu("SQRT", self._math_arg(op))

    def op_rsqrt(self, op: Op):
        if is_f64(op.result.type):
            root = f64_sqrt(self, self.reg(op.operands[0]))
            return f64_divide(self, pair_const(self, ONE), root)
        return self._mufu("RSQ", self._math_arg(op))

    def op_sin(self, op: Op):
        return self._mufu("SIN", self._fmul(self._math_arg(op), INV_2PI))

    def op_cos(self, op: Op):
        return self._mufu("COS", self._fmul(self._math_arg(op), INV_2PI))

    def op_exp2(self, op: Op):
        return self._mufu("EX2", self._math_arg(op))

    def op_log2(self, op: Op):
        return self._mufu("LG2", self._math_arg(op))

    def _frnd(self, op: Op, mode: tuple[str, ...]) -> VReg:
        if is_f64(op.result.type):
            d = self.vreg(2)
            self.emit("FRND", ("F64", *mode), d=d, b=self.reg(op.operands[0]))
            return d
        d = self.vreg()
        self.emit("FRND", mode, d=d, b=self._math_arg(op))
        return d

    def op_floor(self, op: Op):
        return self._frnd(op, ("FLOOR",))

    def op_ceil(self, op: Op):
        return self._frnd(op, ("CEIL",))

    def op_trunc(self, op: Op):
        return self._frnd(op, ("TRUNC",))

    def op_round(self, op: Op):
        return self._frnd(op, ())
