"""Division macros: integer ``div``/``rem``/``floordiv``/``mod`` and f32 division.

Integers (32-bit; exact for every dividend and every nonzero divisor; ``MIN / -1`` wraps):

- a power-of-two constant divisor ``2**k`` becomes shifts and masks: unsigned ``>> k`` and
  ``& (2**k - 1)``; signed floor ``>> k`` (arithmetic) and ``& (2**k - 1)``; signed
  truncation adds ``2**k - 1`` to negative dividends before shifting.
- any other divisor uses the unsigned division of ``reference/sass-codegen.md`` §5
  (``I2F.U32.RP``, ``MUFU.RCP``, ``+0x0ffffffe``, ``F2I.U32.TRUNC``, one Newton step with
  ``IMAD.HI``, then two conditional corrections); signed operations divide absolute values
  and fix the signs; floor variants adjust a nonzero remainder whose sign differs from the
  divisor's (Python semantics).

f32 ``div``: ``r = RCP(b)``, ``r' = r + r(1 - b r)``, ``q = a r'``, ``q' = q + r'(a - q b)``
(sass-codegen.md §5, without ptxas's FCHK slow path). Where that refinement gives NaN
(zero or infinite divisors, infinite dividends, overflowing quotients), and when ``a`` is
zero (the refinement would lose the sign of ``-0 / b``), the result is ``a * r`` instead.
So the quotient is correctly rounded whenever ``1/b``, ``a/b`` and the residuals stay in
the normal range, and zeros, infinities and NaN give IEEE's results (both tested); when a
reciprocal or quotient is subnormal it may be off by an ulp or more (ptxas takes a slow
path there). Cost: 10 instructions, one MUFU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...isa.operands import PT, RZ, Imm
from .mir import VReg

if TYPE_CHECKING:
    from ..ir import Op
    from .isel import Selector


def _konst_int(sel: Selector, v) -> int | None:
    from .isel import Konst
    x = sel.lowered(v)
    return int(x.value) if isinstance(x, Konst) else None


def int_divide(sel: Selector, op: Op, kind: str) -> VReg:
    """``kind`` (div, rem, floordiv, mod) of two 32-bit integers."""
    t = op.result.type
    if not (t.is_int and t.bits == 32):
        raise sel.fail(op, "only 32-bit integer division (float rem/floordiv/mod are not "
                       "supported)")
    signed = t.is_signed
    if not signed:
        kind = {"floordiv": "div", "mod": "rem"}.get(kind, kind)
    a = sel.reg(op.operands[0])
    c = _konst_int(sel, op.operands[1])
    if c is not None and c > 0 and c & (c - 1) == 0:
        return _pow2(sel, a, c.bit_length() - 1, kind, signed)
    b = sel.reg(op.operands[1])
    if not signed:
        q, r = udivmod(sel, a, b)
        return q if kind == "div" else r
    aa, ab = sel.vreg(), sel.vreg()
    sel.emit("IABS", d=aa, b=a)
    sel.emit("IABS", d=ab, b=b)
    uq, ur = udivmod(sel, aa, ab)
    if kind in ("div", "floordiv"):
        # q = (a ^ b) < 0 ? -uq : uq
        sign = sel.vreg()
        sel.emit("LOP3", ("LUT",), d=sign, a=a, b=b, c=RZ, lut=Imm(0x3C))
        neg = sel.vpred()
        sel.emit("ISETP", ("LT", "AND"), pu=neg, pv=PT, a=sign, b=RZ, pp=PT)
        q = sel.vreg()
        sel.emit("IADD3", d=q, a=uq, b=RZ, c=RZ)
        sel.emit("IADD3", guard=neg, d=q, a=uq.negated(), b=RZ, c=RZ)
        if kind == "div":
            return q
        # floor: subtract 1 when the remainder is nonzero and the signs differ
        adjust = sel.vpred()
        sel.emit("ISETP", ("NE", "U32", "AND"), pu=adjust, pv=PT, a=ur, b=RZ, pp=neg)
        sel.emit("IADD3", guard=adjust, d=q, a=q, b=Imm(0xFFFFFFFF), c=RZ)
        return q
    # r = a < 0 ? -ur : ur
    aneg = sel.vpred()
    sel.emit("ISETP", ("LT", "AND"), pu=aneg, pv=PT, a=a, b=RZ, pp=PT)
    r = sel.vreg()
    sel.emit("IADD3", d=r, a=ur, b=RZ, c=RZ)
    sel.emit("IADD3", guard=aneg, d=r, a=ur.negated(), b=RZ, c=RZ)
    if kind == "rem":
        return r
    # mod: add b when r != 0 and sign(r) != sign(b)
    x = sel.vreg()
    sel.emit("LOP3", ("LUT",), d=x, a=r, b=b, c=RZ, lut=Imm(0x3C))
    differ = sel.vpred()
    sel.emit("ISETP", ("LT", "AND"), pu=differ, pv=PT, a=x, b=RZ, pp=PT)
    adjust = sel.vpred()
    sel.emit("ISETP", ("NE", "U32", "AND"), pu=adjust, pv=PT, a=r, b=RZ, pp=differ)
    m = sel.vreg()
    sel.emit("IADD3", d=m, a=r, b=RZ, c=RZ)
    sel.emit("IADD3", guard=adjust, d=m, a=r, b=b, c=RZ)
    return m


def _pow2(sel: Selector, a: VReg, k: int, kind: str, signed: bool) -> VReg:
    d = sel.vreg()
    mask = Imm((1 << k) - 1)
    if k == 0:
        sel.emit("MOV", d=d, b=RZ if kind in ("rem", "mod") else a)
        return d
    if kind in ("rem", "mod") and (not signed or kind == "mod"):
        sel.emit("LOP3", ("LUT",), d=d, a=a, b=mask, c=RZ, lut=Imm(0xC0))
        return d
    if kind in ("div", "floordiv") and (not signed or kind == "floordiv"):
        sel.emit("SHF", ("R", "S32" if signed else "U32", "HI"), d=d, a=RZ, b=Imm(k), c=a)
        return d
    # signed truncation: bias negative dividends by 2**k - 1
    sign = sel.vreg()
    sel.emit("SHF", ("R", "S32", "HI"), d=sign, a=RZ, b=Imm(31), c=a)
    bias = sel.vreg()
    sel.emit("SHF", ("R", "U32", "HI"), d=bias, a=RZ, b=Imm(32 - k), c=sign)
    biased = sel.vreg()
    sel.emit("IADD3", d=biased, a=a, b=bias, c=RZ)
    if kind == "div":
        sel.emit("SHF", ("R", "S32", "HI"), d=d, a=RZ, b=Imm(k), c=biased)
        return d
    # rem = a - (biased & ~mask)
    low = sel.vreg()
    sel.emit("LOP3", ("LUT",), d=low, a=biased, b=Imm(~((1 << k) - 1) & 0xFFFFFFFF), c=RZ,
             lut=Imm(0xC0))
    sel.emit("IADD3", d=d, a=a, b=low.negated(), c=RZ)
    return d


def udivmod(sel: Selector, a: VReg, b: VReg) -> tuple[VReg, VReg]:
    """Unsigned 32-bit quotient and remainder of ``a / b`` (``b != 0``)."""
    f = sel.vreg()
    sel.emit("I2F", ("U32", "RP"), d=f, b=b)
    rcp = sel.vreg()
    sel.emit("MUFU", ("RCP",), d=rcp, b=f)
    g = sel.vreg()
    sel.emit("IADD3", d=g, a=rcp, b=Imm(0x0FFFFFFE), c=RZ)
    r0 = sel.vreg()
    sel.emit("F2I", ("FTZ", "U32", "TRUNC", "NTZ"), d=r0, b=g)
    nb = sel.vreg()
    sel.emit("IADD3", d=nb, a=RZ, b=b.negated(), c=RZ)
    e = sel.vreg()
    sel.emit("IMAD", d=e, a=nb, b=r0, c=RZ)
    r1 = sel.vreg()
    sel.emit("IMAD", ("HI", "U32"), d=r1, a=r0, b=e, c=r0)
    q = sel.vreg()
    sel.emit("IMAD", ("HI", "U32"), d=q, a=r1, b=a, c=RZ)
    rem = sel.vreg()
    sel.emit("IMAD", d=rem, a=nb, b=q, c=a)
    for _ in range(2):
        p = sel.vpred()
        sel.emit("ISETP", ("GE", "U32", "AND"), pu=p, pv=PT, a=rem, b=b, pp=PT)
        sel.emit("IADD3", guard=p, d=rem, a=rem, b=b.negated(), c=RZ)
        sel.emit("IADD3", guard=p, d=q, a=q, b=Imm(1), c=RZ)
    return q, rem


def float_divide(sel: Selector, op: Op) -> VReg:
    """f32 ``a / b`` (see the module docstring for its accuracy)."""
    x, y = op.operands
    b = sel.reg(y)
    r = sel.vreg()
    sel.emit("MUFU", ("RCP",), d=r, b=b)
    e = sel.vreg()
    sel.emit("FFMA", d=e, a=b.negated(), b=r, c=Imm(0x3F800000))
    r1 = sel.vreg()
    sel.emit("FFMA", d=r1, a=r, b=e, c=r)
    a = sel.reg(x)
    q = sel.vreg()
    sel.emit("FMUL", d=q, a=a, b=r1)
    res = sel.vreg()
    sel.emit("FFMA", d=res, a=b.negated(), b=q, c=a)
    out = sel.vreg()
    sel.emit("FFMA", d=out, a=r1, b=res, c=q)
    # Infinities, zeros and overflow make the refinement NaN where a * (1/b) is right
    # (x/0, x/inf, inf/x, overflowing quotients): fall back to that product there.
    q0 = sel.vreg()
    sel.emit("FMUL", d=q0, a=a, b=r)
    nan = sel.vpred()
    sel.emit("FSETP", ("NAN", "AND"), pu=nan, pv=PT, a=out, b=out, pp=PT)
    bad = sel.vpred()  # also a zero dividend: the refinement loses the sign of -0 / b
    sel.emit("FSETP", ("EQ", "OR"), pu=bad, pv=PT, a=a, b=RZ, pp=nan)
    final = sel.vreg()
    sel.emit("FSEL", d=final, a=q0, b=out, pp=bad)
    return final
