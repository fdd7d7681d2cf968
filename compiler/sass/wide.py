"""64-bit arithmetic on register pairs: f64 on the FP64 pipe, i64/u64 on the integer ALU.

f64: ``add sub mul fma`` are DADD/DMUL/DFMA (never contracted: the contraction rule is
f32's, shared with the CPU); ``neg``/``abs`` are DADD with a ``-RZ`` addend (exact, the
sign of zero kept); comparisons are DSETP; ``min``/``max`` pick with DSETP and SEL (a NaN
operand loses, as minNum says). Division and square root follow ptxas's Newton sequences
(``reference/sass-codegen.md`` §5, in double precision):

- ``a / b``: ``y0 = MUFU.RCP64H(b)`` (about 20 bits, over f64's whole range), then
  ``e = 1 - b*y0``, ``y1 = y0 + y0*(e + e*e)``, ``y2 = y1 + y1*(1 - b*y1)``, ``q = a*y2``
  and ``q + y2*(a - b*q)``, every step one DFMA. Where ``b`` is zero or infinite or ``a``
  is not finite, the result is ``a * y0`` (IEEE's infinities, zeros and NaN). Cost: 8
  FP64 instructions and one MUFU.
- ``sqrt(x)``: ``y = MUFU.RSQ64H(x)``, two Newton steps ``y += y*(0.5 - (x/2)*y*y)``, then
  ``s = x*y`` and ``s + (y/2)*(x - s*s)``; ``x`` zero or infinite gives ``x``. ``rsqrt`` is
  ``1 / sqrt``.

Both are correctly rounded except, rarely, by one ulp; subnormal operands and results may
be further off (ptxas's slow path handles them; none here).

i64/u64: ``mul`` is IMAD.WIDE.U32 on the low words plus two IMADs for the cross terms;
shifts are 64-bit funnel shifts (SHF .U64/.S64, the low and the high word); comparisons
combine a signed or unsigned high-word compare with an unsigned low-word one (three
ISETPs); ``neg``, ``abs``, ``min``, ``max`` and ``not`` follow from those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...isa.operands import NOT_PT, PT, RZ, RZ_INDEX, Imm, Reg
from .isel import INT_CMP, Konst, LazyCmp
from .mir import VPred, VReg

if TYPE_CHECKING:
    from ..ir import Op
    from .isel import Selector

NEG_RZ = Reg(RZ_INDEX, neg=True)
ONE = 0x3FF0000000000000
"""f64 1.0."""
HALF = 0x3FE0000000000000
"""f64 0.5."""
INF = 0x7FF0000000000000
"""f64 +inf."""


def is_f64(t) -> bool:
    """True for f64."""
    return t.is_float and t.bits == 64


def is_int64(t) -> bool:
    """True for i64 and u64."""
    return t.is_int and t.bits == 64


def pair_const(sel: Selector, bits: int) -> VReg:
    """A register pair holding the 64-bit pattern ``bits`` (made once per kernel)."""
    from ..ir import f64
    return sel.reg(Konst(_as_float(bits), f64))


def _as_float(bits: int) -> float:
    import struct
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _d(sel: Selector, opcode: str, mods=(), **slots) -> VReg:
    d = sel.vreg(2)
    sel.emit(opcode, mods, d=d, **slots)
    return d


# --- f64 ------------------------------------------------------------------------------------

def f64_binary(sel: Selector, op: Op) -> VReg:
    """``add``, ``sub``, ``mul`` of f64."""
    a, b = (sel.reg(v) for v in op.operands)
    if op.name == "add":
        return _d(sel, "DADD", a=a, b=b)
    if op.name == "sub":
        return _d(sel, "DADD", a=a, b=b.negated())
    return _d(sel, "DMUL", a=a, b=b)


def f64_fma(sel: Selector, op: Op) -> VReg:
    """``fma`` of f64: one DFMA."""
    a, b, c = (sel.reg(v) for v in op.operands)
    return _d(sel, "DFMA", a=a, b=b, c=c)


def f64_unary(sel: Selector, op: Op) -> VReg:
    """``neg`` and ``abs`` of f64: DADD with -RZ keeps every bit but the sign."""
    from dataclasses import replace
    a = sel.reg(op.operands[0])
    src = a.negated() if op.name == "neg" else replace(a, abs=True)
    return _d(sel, "DADD", a=src, b=NEG_RZ)


def f64_setp(sel: Selector, cond: str, a, b, bop: str = "AND", pp=PT) -> VPred:
    """A predicate = (a cond b) bop pp on f64 pairs."""
    p = sel.vpred()
    sel.emit("DSETP", (cond, bop), pu=p, pv=PT, a=a, b=b, pp=pp)
    return p


def select_pair(sel: Selector, p, x: VReg, y: VReg) -> VReg:
    """p ? x : y on register pairs."""
    d = sel.vreg(2)
    sel.emit("SEL", d=d.lo(), a=x.lo(), b=y.lo(), pp=p)
    sel.emit("SEL", d=d.hi(), a=x.hi(), b=y.hi(), pp=p)
    return d


def f64_minmax(sel: Selector, op: Op) -> VReg:
    """``min``/``max`` of f64: the first operand where it is smaller (larger) or the
    second is NaN, else the second."""
    a, b = (sel.reg(v) for v in op.operands)
    nan_b = f64_setp(sel, "NAN", b, b)
    pick_a = f64_setp(sel, "LT" if op.name == "min" else "GT", a, b, "OR", nan_b)
    return select_pair(sel, pick_a, a, b)


def _finite_nonzero(sel: Selector, x: VReg) -> VPred:
    """A predicate: 0 < |x| < inf."""
    from dataclasses import replace
    inf = pair_const(sel, INF)
    nonzero = f64_setp(sel, "NE", x, RZ)
    return f64_setp(sel, "LT", replace(x, abs=True), inf, "AND", nonzero)


def f64_divide(sel: Selector, a: VReg, b: VReg) -> VReg:
    """``a / b`` on f64 pairs (see the module docstring)."""
    from dataclasses import replace
    one = pair_const(sel, ONE)
    y0 = sel.vreg(2)
    sel.emit("MUFU", ("RCP64H",), d=y0.hi(), b=b.hi())
    sel.emit("MOV", d=y0.lo(), b=RZ)
    e = _d(sel, "DFMA", a=b.negated(), b=y0, c=one)
    e2 = _d(sel, "DFMA", a=e, b=e, c=e)
    y1 = _d(sel, "DFMA", a=y0, b=e2, c=y0)
    e3 = _d(sel, "DFMA", a=b.negated(), b=y1, c=one)
    y2 = _d(sel, "DFMA", a=y1, b=e3, c=y1)
    q = _d(sel, "DMUL", a=a, b=y2)
    r = _d(sel, "DFMA", a=b.negated(), b=q, c=a)
    q2 = _d(sel, "DFMA", a=y2, b=r, c=q)
    fallback = _d(sel, "DMUL", a=a, b=y0)
    inf = pair_const(sel, INF)
    regular = f64_setp(sel, "LT", replace(a, abs=True), inf, "AND", _finite_nonzero(sel, b))
    return select_pair(sel, regular, q2, fallback)


def f64_sqrt(sel: Selector, x: VReg) -> VReg:
    """``sqrt(x)`` on an f64 pair (see the module docstring)."""
    half = pair_const(sel, HALF)
    y = sel.vreg(2)
    sel.emit("MUFU", ("RSQ64H",), d=y.hi(), b=x.hi())
    sel.emit("MOV", d=y.lo(), b=RZ)
    h = _d(sel, "DMUL", a=x, b=half)
    for _ in range(2):
        t = _d(sel, "DMUL", a=y, b=y)
        e = _d(sel, "DFMA", a=h.negated(), b=t, c=half)
        y = _d(sel, "DFMA", a=y, b=e, c=y)
    s = _d(sel, "DMUL", a=x, b=y)
    r = _d(sel, "DFMA", a=s.negated(), b=s, c=x)
    hy = _d(sel, "DMUL", a=y, b=half)
    s2 = _d(sel, "DFMA", a=r, b=hy, c=s)
    return select_pair(sel, _finite_nonzero(sel, x), s2, x)


# --- i64 / u64 ---------------------------------------------------------------------------

def int64_mul(sel: Selector, op: Op) -> VReg:
    """``mul`` of 64-bit integers (the low 64 bits of the product)."""
    a, b = (sel.reg(v) for v in op.operands)
    low = sel.vreg(2)
    sel.emit("IMAD", ("WIDE", "U32"), d=low, a=a.lo(), b=b.lo(), c=RZ)
    cross = sel.vreg()
    sel.emit("IMAD", d=cross, a=a.lo(), b=b.hi(), c=low.hi())
    d = sel.vreg(2)
    sel.emit("MOV", d=d.lo(), b=low.lo())
    sel.emit("IMAD", d=d.hi(), a=a.hi(), b=b.lo(), c=cross)
    return d


def int64_shift(sel: Selector, op: Op) -> VReg:
    """``shl``/``shr`` of 64-bit integers by the low word of the amount."""
    t = op.result.type
    a = sel.reg(op.operands[0])
    n = sel.reg(op.operands[1]).lo()
    d = sel.vreg(2)
    if op.name == "shl":
        sel.emit("SHF", ("L", "U64"), d=d.lo(), a=a.lo(), b=n, c=a.hi())
        sel.emit("SHF", ("L", "U64", "HI"), d=d.hi(), a=a.lo(), b=n, c=a.hi())
    else:
        kind = "S64" if t.is_signed else "U64"  # the low word too: n >= 32 shifts in sign
        sel.emit("SHF", ("R", kind), d=d.lo(), a=a.lo(), b=n, c=a.hi())
        sel.emit("SHF", ("R", kind, "HI"), d=d.hi(), a=a.lo(), b=n, c=a.hi())
    return d


def int64_not(sel: Selector, op: Op) -> VReg:
    """Bitwise not of a 64-bit integer."""
    a = sel.reg(op.operands[0])
    d = sel.vreg(2)
    for part in (VReg.lo, VReg.hi):
        sel.emit("LOP3", ("LUT",), d=part(d), a=part(a), b=RZ, c=RZ, lut=Imm(0x0F))
    return d


def int64_negate(sel: Selector, a: VReg) -> VReg:
    """0 - a on a pair."""
    d = sel.vreg(2)
    carry = sel.vpred()
    sel.emit("IADD3", d=d.lo(), pu=carry, a=a.lo().negated(), b=RZ, c=RZ)
    sel.emit("IADD3", ("X",), d=d.hi(), a=VReg(a.id, 2, inv=True, half=1), b=RZ, c=RZ,
             pp=carry, pq=NOT_PT)
    return d


def int64_compare(sel: Selector, pred: str, x: VReg, y: VReg, signed: bool) -> VPred:
    """A predicate = x pred y on 64-bit integer pairs: the high words decide unless they
    are equal, then the low words (unsigned)."""
    u32 = ("U32",)
    hi_mods = () if signed else u32
    if pred in ("eq", "ne"):
        low = sel.vpred()
        sel.emit("ISETP", (INT_CMP[pred], "U32", "AND"), pu=low, pv=PT, a=x.lo(), b=y.lo(),
                 pp=PT)
        d = sel.vpred()
        sel.emit("ISETP", (INT_CMP[pred], "U32", "AND" if pred == "eq" else "OR"), pu=d,
                 pv=PT, a=x.hi(), b=y.hi(), pp=low)
        return d
    low = sel.vpred()
    sel.emit("ISETP", (INT_CMP[pred], "U32", "AND"), pu=low, pv=PT, a=x.lo(), b=y.lo(), pp=PT)
    tie = sel.vpred()
    sel.emit("ISETP", ("EQ", "U32", "AND"), pu=tie, pv=PT, a=x.hi(), b=y.hi(), pp=low)
    strict = {"le": "LT", "lt": "LT", "ge": "GT", "gt": "GT"}[pred]
    d = sel.vpred()
    sel.emit("ISETP", (strict, *hi_mods, "OR"), pu=d, pv=PT, a=x.hi(), b=y.hi(), pp=tie)
    return d


def int64_minmax(sel: Selector, op: Op) -> VReg:
    """``min``/``max`` of 64-bit integers."""
    a, b = (sel.reg(v) for v in op.operands)
    p = int64_compare(sel, "lt" if op.name == "min" else "gt", a, b, op.result.type.is_signed)
    return select_pair(sel, p, a, b)


def int64_abs(sel: Selector, op: Op) -> VReg:
    """``abs`` of i64 (abs(MIN) wraps to MIN)."""
    a = sel.reg(op.operands[0])
    negative = sel.vpred()
    sel.emit("ISETP", ("LT", "AND"), pu=negative, pv=PT, a=a.hi(), b=RZ, pp=PT)
    return select_pair(sel, negative, int64_negate(sel, a), a)


def wide_cmp(sel: Selector, lazy: LazyCmp) -> VPred:
    """The predicate of a 64-bit comparison (f64 or integer)."""
    from .isel import FLOAT_CMP
    x, y = sel.reg(lazy.x), sel.reg(lazy.y)
    if lazy.type.is_float:
        return f64_setp(sel, FLOAT_CMP[lazy.pred], x, y)
    return int64_compare(sel, lazy.pred, x, y, lazy.type.is_signed)
