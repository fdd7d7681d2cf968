"""LLVM types and small value helpers for the CPU backend.

A kernel value lives either as a *scalar* (the same for every lane of a lane group) or as
a *vector* ``<lanes x T>`` (one element per lane). Booleans are ``i1`` in registers and
bytes in memory. These helpers convert between the two forms and build the constants and
masks the lowering needs.
"""

from __future__ import annotations

from llvmlite import ir

from ..ir.types import ScalarType

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
PTR = ir.PointerType()
"""The opaque pointer type, ``ptr``."""

_FLOATS = {16: ir.HalfType(), 32: ir.FloatType(), 64: ir.DoubleType()}


def scalar_type(t: ScalarType) -> ir.Type:
    """The LLVM register type of IR scalar type ``t``."""
    if t.is_bool:
        return I1
    if t.is_float:
        return _FLOATS[t.bits]
    return ir.IntType(t.bits)


def memory_type(t: ScalarType) -> ir.Type:
    """The LLVM type of an element of type ``t`` in memory (bool is a byte)."""
    return I8 if t.is_bool else scalar_type(t)


def is_vector(value: ir.Value) -> bool:
    """True when ``value`` holds one element per lane."""
    return isinstance(value.type, ir.VectorType)


def vector_of(t: ir.Type, lanes: int) -> ir.VectorType:
    """``<lanes x t>``."""
    return ir.VectorType(t, lanes)


def splat(b: ir.IRBuilder, value: ir.Value, lanes: int) -> ir.Value:
    """``value`` broadcast to every lane (vectors pass through)."""
    if is_vector(value):
        return value
    vt = vector_of(value.type, lanes)
    if isinstance(value, ir.Constant):
        return ir.Constant(vt, [value.constant] * lanes)
    one = b.insert_element(ir.Constant(vt, None), value, ir.Constant(I32, 0))
    return b.shuffle_vector(one, ir.Constant(vt, None),
                            ir.Constant(vector_of(I32, lanes), [0] * lanes))


def iota(t: ir.IntType, lanes: int) -> ir.Constant:
    """The vector ``<0, 1, ..., lanes-1>`` of integer type ``t``."""
    return ir.Constant(vector_of(t, lanes), list(range(lanes)))


def const(t: ir.Type, value: object) -> ir.Constant:
    """An LLVM constant of scalar type ``t``."""
    if isinstance(t, ir.IntType):
        if t.width == 1:
            return ir.Constant(t, int(bool(value)))
        v = int(value) & ((1 << t.width) - 1)
        return ir.Constant(t, v)
    return ir.Constant(t, float(value))


def like(b: ir.IRBuilder, t: ir.Type, value: object, shape_of: ir.Value,
         lanes: int) -> ir.Value:
    """Constant ``value`` of scalar type ``t``, a vector when ``shape_of`` is one."""
    c = const(t, value)
    return splat(b, c, lanes) if is_vector(shape_of) else c


def zero(t: ir.Type) -> ir.Constant:
    """The zero of LLVM type ``t`` (vectors included)."""
    return ir.Constant(t, None)


def mask_bits(b: ir.IRBuilder, mask: ir.Value) -> ir.Value:
    """The ``<lanes x i1>`` mask as an integer of ``lanes`` bits (lane 0 the lowest)."""
    return b.bitcast(mask, ir.IntType(mask.type.count))


def any_lane(b: ir.IRBuilder, mask: ir.Value) -> ir.Value:
    """``i1``: some lane of ``mask`` is on (a scalar mask is itself)."""
    if not is_vector(mask):
        return mask
    bits = mask_bits(b, mask)
    return b.icmp_unsigned("!=", bits, zero(bits.type))


def suffix(t: ir.Type) -> str:
    """The overload suffix of an intrinsic for type ``t`` (``f32``, ``v16i32``, ``p0``)."""
    if isinstance(t, ir.VectorType):
        return f"v{t.count}{suffix(t.element)}"
    if isinstance(t, ir.PointerType):
        return "p0"
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    return {ir.HalfType: "f16", ir.FloatType: "f32", ir.DoubleType: "f64"}[type(t)]


def intrinsic(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type],
              overloads: list[ir.Type] | None = None) -> ir.Function:
    """Declare (once) intrinsic ``name`` with its overload suffixes appended: of
    ``overloads`` when given, else of ``ret``."""
    full = ".".join([name, *(suffix(t) for t in (overloads if overloads is not None
                                                  else [ret]))])
    try:
        return module.get_global(full)
    except KeyError:
        return ir.Function(module, ir.FunctionType(ret, args), full)


def call_intrinsic(b: ir.IRBuilder, name: str, args: list[ir.Value],
                   ret: ir.Type | None = None,
                   overloads: list[ir.Type] | None = None) -> ir.Value:
    """Call intrinsic ``name`` on ``args`` (result type ``ret``, default the first
    argument's)."""
    ret = args[0].type if ret is None else ret
    fn = intrinsic(b.module, name, ret, [a.type for a in args], overloads)
    return b.call(fn, args)


def first_lane(b: ir.IRBuilder, mask: ir.Value) -> ir.Value:
    """``i32``: the index of the lowest lane on in ``mask`` (lanes if none)."""
    bits = mask_bits(b, mask)
    n = call_intrinsic(b, "llvm.cttz", [bits, ir.Constant(I1, 0)])
    return b.zext(n, I32) if bits.type.width < 32 else b.trunc(n, I32) \
        if bits.type.width > 32 else n


def lane_value(b: ir.IRBuilder, value: ir.Value, mask: ir.Value) -> ir.Value:
    """A scalar: ``value`` itself, or the element of its first active lane."""
    if not is_vector(value):
        return value
    return b.extract_element(value, first_lane(b, mask))
