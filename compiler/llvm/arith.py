"""Pure ops: arithmetic, comparisons, casts and math, with the IR's semantics (the op
registry's docstring, :mod:`warpforge.compiler.ir.ops`) on scalars and on lane vectors.

The undefined cases never trap: a divisor of zero, or ``MIN / -1``, is replaced by 1
(x86 would raise SIGFPE; inactive lanes compute too), and shift amounts are taken modulo
the width. A float ``mul`` is fused into its ``add``/``sub`` user exactly where the SASS
backend forms FFMA (:mod:`~warpforge.compiler.analysis.contraction`), so both devices
round alike; nowhere else is anything contracted. ``exp``/``log``/``sin``/``cos`` of lane
vectors go through glibc's vector math library when the runtime has it (:mod:`.vmath`).
"""

from __future__ import annotations

from llvmlite import ir

from ..analysis.contraction import contracts_into_user, is_f32
from ..ir.core import Op
from ..ir.types import ScalarType
from .emitter import EmitterBase
from .types import I1, call_intrinsic, const, is_vector, like, scalar_type, splat, zero
from .vmath import vector_call

INT_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
"""IR comparison predicates as llvmlite's operators."""
FLOAT_CMP = {"eq": ("==", True), "ne": ("!=", False), "lt": ("<", True),
             "le": ("<=", True), "gt": (">", True), "ge": (">=", True)}
"""Float predicates: (operator, ordered); ``ne`` is unordered (true on NaN)."""
MATH = {"exp": "llvm.exp", "log": "llvm.log", "sqrt": "llvm.sqrt", "sin": "llvm.sin",
        "cos": "llvm.cos", "exp2": "llvm.exp2", "log2": "llvm.log2", "log10": "llvm.log10",
        "floor": "llvm.floor", "ceil": "llvm.ceil", "trunc": "llvm.trunc",
        "round": "llvm.roundeven", "pow": "llvm.pow", "copysign": "llvm.copysign"}
"""Math ops with an LLVM intrinsic of their own."""
LIBM = ("tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "erf", "erfc", "cbrt",
        "atan2", "hypot")
"""Math ops called in the C library by name (``tanhf`` for f32, ``tanh`` for f64), one
lane at a time."""


def t_llvm(value: ir.Value) -> ir.Type:
    """The element type of a scalar or vector LLVM value."""
    return value.type.element if is_vector(value) else value.type


class Arith(EmitterBase):
    """Lowering of the pure ops."""

    def operands(self, op: Op) -> list[ir.Value]:
        """The op's operands, all scalars or (if any is a vector) all vectors."""
        values = [self.get(v) for v in op.operands]
        if any(is_vector(v) for v in values):
            values = [splat(self.b, v, self.W) for v in values]
        return values

    # --- arithmetic ----------------------------------------------------------------------

    def op_constant(self, op: Op) -> ir.Value:
        return const(scalar_type(op.results[0].type), op.attr("value"))

    def op_binary(self, op: Op) -> ir.Value | None:
        t: ScalarType = op.results[0].type
        if op.name == "mul" and is_f32(t) and contracts_into_user(op) \
                and op.results[0] not in self.plan.homes:
            self.pending_mul[op.results[0]] = op
            return None
        if op.name in ("add", "sub") and is_f32(t):
            fused = self.try_fma(op)
            if fused is not None:
                return fused
        a, c = self.operands(op)
        return self.binary(op.name, t, a, c)

    def try_fma(self, op: Op) -> ir.Value | None:
        """``fma`` for ``add``/``sub`` of a contracted ``mul`` (the SASS backend's FFMA)."""
        for k, value in enumerate(op.operands):
            mul = self.pending_mul.pop(value, None)
            if mul is None:
                continue
            args = [*(self.get(v) for v in mul.operands), self.get(op.operands[1 - k])]
            if any(is_vector(v) for v in args):
                args = [splat(self.b, v, self.W) for v in args]
            if op.name == "sub":  # a*b - c = fma(a, b, -c); c - a*b = fma(-a, b, c)
                i = 2 if k == 0 else 0
                args[i] = self.b.fneg(args[i])
            return call_intrinsic(self.b, "llvm.fma", args)
        return None

    def binary(self, name: str, t: ScalarType, a: ir.Value, c: ir.Value) -> ir.Value:
        """``a <name> c`` for values of IR type ``t``."""
        b = self.b
        if t.is_float:
            return self.float_binary(name, a, c)
        signed = t.is_signed
        if name in ("add", "sub", "mul"):
            return {"add": b.add, "sub": b.sub, "mul": b.mul}[name](a, c)
        if name in ("and", "or", "xor"):
            return {"and": b.and_, "or": b.or_, "xor": b.xor}[name](a, c)
        if name in ("min", "max"):
            fn = ("llvm.s" if signed else "llvm.u") + name
            return call_intrinsic(b, fn, [a, c])
        if name in ("shl", "shr"):
            amount = b.and_(c, like(b, c.type.element if is_vector(c) else c.type,
                                    t.bits - 1, c, self.W))
            if name == "shl":
                return b.shl(a, amount)
            return b.ashr(a, amount) if signed else b.lshr(a, amount)
        if name in ("div", "rem", "floordiv", "mod"):
            return self.int_division(name, signed, a, c, t)
        raise AssertionError(name)

    def float_binary(self, name: str, a: ir.Value, c: ir.Value) -> ir.Value:
        """A binary op on floats."""
        b = self.b
        simple = {"add": b.fadd, "sub": b.fsub, "mul": b.fmul, "div": b.fdiv, "rem": b.frem}
        if name in simple:
            return simple[name](a, c)
        if name in ("min", "max"):
            return call_intrinsic(b, f"llvm.{name}imumnum", [a, c])
        if name in ("floordiv", "mod"):
            return self.float_floor_division(name, a, c)
        raise AssertionError(name)

    def int_division(self, name: str, signed: bool, a: ir.Value, c: ir.Value,
                     t: ScalarType) -> ir.Value:
        """Integer ``div``/``rem`` (C) and ``floordiv``/``mod`` (Python), never trapping."""
        b = self.b
        ty = a.type

        def k(v: int) -> ir.Value:
            return like(b, ty.element if is_vector(a) else ty, v, a, self.W)

        bad = b.icmp_unsigned("==", c, k(0))
        if signed:
            overflow = b.and_(b.icmp_signed("==", a, k(-(1 << (t.bits - 1)))),
                              b.icmp_signed("==", c, k(-1)))
            bad = b.or_(bad, overflow)
        d = b.select(bad, k(1), c)
        if not signed:
            return b.udiv(a, d) if name in ("div", "floordiv") else b.urem(a, d)
        q = b.sdiv(a, d)
        r = b.srem(a, d)
        if name == "div":
            return q
        if name == "rem":
            return r
        # Python floors: adjust when the remainder is non-zero and its sign differs from d's.
        adjust = b.and_(b.icmp_signed("!=", r, k(0)),
                        b.icmp_signed("<", b.xor(r, d), k(0)))
        if name == "floordiv":
            return b.sub(q, b.zext(adjust, ty))
        return b.select(adjust, b.add(r, d), r)

    def float_floor_division(self, name: str, a: ir.Value, c: ir.Value) -> ir.Value:
        """Python's float ``//`` and ``%`` (numpy's ``floor_divide``/``remainder``)."""
        b = self.b
        ty = a.type
        el = ty.element if is_vector(a) else ty

        def k(v: float) -> ir.Value:
            return like(b, el, v, a, self.W)

        mod = b.frem(a, c)
        div = b.fdiv(b.fsub(a, mod), c)
        nonzero = b.fcmp_unordered("!=", mod, k(0.0))
        signs_differ = b.xor(b.fcmp_ordered("<", c, k(0.0)), b.fcmp_ordered("<", mod, k(0.0)))
        fix = b.and_(b.fcmp_ordered("!=", mod, k(0.0)), signs_differ)
        mod_fixed = b.select(fix, b.fadd(mod, c), mod)
        if name == "mod":
            # a zero remainder takes the divisor's sign
            signed_zero = call_intrinsic(b, "llvm.copysign", [k(0.0), c])
            return b.select(nonzero, mod_fixed, signed_zero)
        div = b.select(fix, b.fsub(div, k(1.0)), div)
        floor = call_intrinsic(b, "llvm.floor", [div])
        floor = b.select(b.fcmp_ordered(">", b.fsub(div, floor), k(0.5)),
                         b.fadd(floor, k(1.0)), floor)
        quotient = b.fdiv(a, c)
        signed_zero = call_intrinsic(b, "llvm.copysign", [k(0.0), quotient])
        exact = b.select(b.fcmp_ordered("!=", div, k(0.0)), floor, signed_zero)
        return b.select(b.fcmp_ordered("==", c, k(0.0)), quotient, exact)

    def op_unary(self, op: Op) -> ir.Value:
        b = self.b
        t: ScalarType = op.results[0].type
        (a,) = self.operands(op)
        if op.name == "neg":
            return b.fneg(a) if t.is_float else b.neg(a)
        if op.name == "not":
            return b.not_(a)
        if op.name == "popc":
            return call_intrinsic(b, "llvm.ctpop", [a])
        if op.name == "clz":
            return call_intrinsic(b, "llvm.ctlz", [a, ir.Constant(I1, 0)],
                                  overloads=[a.type])
        if op.name == "brev":
            return call_intrinsic(b, "llvm.bitreverse", [a])
        if op.name == "ffs":
            tz = call_intrinsic(b, "llvm.cttz", [a, ir.Constant(I1, 0)], overloads=[a.type])
            zero_ = zero(a.type)
            return b.select(b.icmp_unsigned("==", a, zero_), zero_,
                            b.add(tz, like(b, t_llvm(a), 1, a, self.W)))
        if op.name == "abs":
            if t.is_float:
                return call_intrinsic(b, "llvm.fabs", [a])
            return call_intrinsic(b, "llvm.abs", [a, ir.Constant(I1, 0)],
                                  overloads=[a.type])
        raise AssertionError(op.name)

    def op_fma(self, op: Op) -> ir.Value:
        return call_intrinsic(self.b, "llvm.fma", self.operands(op))

    def op_math(self, op: Op) -> ir.Value:
        b = self.b
        args = self.operands(op)
        a = args[0]
        if op.name == "rsqrt":
            one = like(b, a.type.element if is_vector(a) else a.type, 1.0, a, self.W)
            return b.fdiv(one, call_intrinsic(b, "llvm.sqrt", [a]))
        if is_vector(a) and self.vector_isas and len(args) == 1:
            fast = vector_call(b, op.name, a, self.vector_isas)
            if fast is not None:
                return fast
        if op.name in LIBM:
            return self.libm_call(op.name, args)
        return call_intrinsic(b, MATH[op.name], args)

    def libm_call(self, name: str, args: list[ir.Value]) -> ir.Value:
        """C library function ``name`` (f32: ``namef``) of scalars, or lane by lane."""
        b = self.b
        vector = is_vector(args[0])
        el = args[0].type.element if vector else args[0].type
        symbol = name + ("f" if isinstance(el, ir.FloatType) else "")
        try:
            fn = b.module.get_global(symbol)
        except KeyError:
            fn = ir.Function(b.module, ir.FunctionType(el, [el] * len(args)), symbol)
        if not vector:
            return b.call(fn, args)
        out = ir.Constant(args[0].type, None)
        for lane in range(args[0].type.count):
            k = ir.Constant(ir.IntType(32), lane)
            out = b.insert_element(out, b.call(fn, [b.extract_element(v, k) for v in args]),
                                   k)
        return out

    def op_cmp(self, op: Op) -> ir.Value:
        b = self.b
        a, c = self.operands(op)
        t: ScalarType = op.operands[0].type
        pred = str(op.attr("pred"))
        if t.is_float:
            symbol, ordered = FLOAT_CMP[pred]
            return (b.fcmp_ordered if ordered else b.fcmp_unordered)(symbol, a, c)
        if t.is_signed and not t.is_bool:
            return b.icmp_signed(INT_CMP[pred], a, c)
        return b.icmp_unsigned(INT_CMP[pred], a, c)

    def op_select(self, op: Op) -> ir.Value:
        cond, a, c = (self.get(v) for v in op.operands)
        if any(is_vector(v) for v in (cond, a, c)):
            cond, a, c = (splat(self.b, v, self.W) for v in (cond, a, c))
        return self.b.select(cond, a, c)

    def op_bitcast(self, op: Op) -> ir.Value:
        (a,) = self.operands(op)
        to = scalar_type(op.results[0].type)
        return self.b.bitcast(a, ir.VectorType(to, self.W) if is_vector(a) else to)

    def op_cast(self, op: Op) -> ir.Value:
        (a,) = self.operands(op)
        return self.cast(a, op.operands[0].type, op.results[0].type)

    def cast(self, a: ir.Value, src: ScalarType, dst: ScalarType) -> ir.Value:
        """Convert ``a`` of IR type ``src`` to ``dst`` as the IR's ``cast`` does."""
        b = self.b
        vec = is_vector(a)
        to = scalar_type(dst)
        to_v = ir.VectorType(to, self.W) if vec else to
        if src == dst:
            return a
        if dst.is_bool:
            if src.is_float:
                return b.fcmp_unordered("!=", a, zero(a.type))
            return b.icmp_unsigned("!=", a, zero(a.type))
        if src.is_bool:
            return b.uitofp(a, to_v) if dst.is_float else b.zext(a, to_v)
        if src.is_float and dst.is_float:
            if src.bits == dst.bits:
                return a
            return b.fpext(a, to_v) if dst.bits > src.bits else b.fptrunc(a, to_v)
        if src.is_float:
            name = "llvm.fptosi.sat" if dst.is_signed else "llvm.fptoui.sat"
            return call_intrinsic(b, name, [a], ret=to_v, overloads=[to_v, a.type])
        if dst.is_float:
            return b.sitofp(a, to_v) if src.is_signed else b.uitofp(a, to_v)
        if dst.bits == src.bits:
            return a
        if dst.bits < src.bits:
            return b.trunc(a, to_v)
        return b.sext(a, to_v) if src.is_signed else b.zext(a, to_v)
