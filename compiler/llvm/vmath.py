"""Vector math: ``exp``, ``log``, ``sin``, ``cos`` on whole lane vectors.

LLVM turns ``llvm.exp.v16f32`` into sixteen scalar ``expf`` calls (simt-on-cpu.md §3 item
12). glibc ships vector versions in libmvec, named by the x86-64 vector function ABI:
``_ZGV`` + ISA (``b`` SSE, ``d`` AVX2, ``e`` AVX-512) + ``N`` (unmasked) + lanes + ``v``
(one vector argument) + the scalar name, e.g. ``_ZGVeN16v_expf`` (16 floats in a zmm
register), within 4 ulp of the correct result. When the runtime says libmvec is loaded
(:func:`~.jit.vector_isas`), a lane vector is split into chunks of the widest width the
host has and each chunk goes through one such call; otherwise, and for scalars, the LLVM
intrinsic (libm) is used.
"""

from __future__ import annotations

from llvmlite import ir

from .types import I32, vector_of

FUNCTIONS = ("exp", "log", "sin", "cos")
"""The math ops libmvec provides."""
WIDTHS = {32: {"e": 16, "d": 8, "b": 4}, 64: {"e": 8, "d": 4, "b": 2}}
"""Per element width in bits: lanes of one call for each ISA letter."""


def vector_call(b: ir.IRBuilder, name: str, value: ir.Value,
                isas: tuple[str, ...]) -> ir.Value | None:
    """``name`` (one of :data:`FUNCTIONS`) of lane vector ``value`` through libmvec, or
    None when no variant fits (the caller then uses the LLVM intrinsic)."""
    el = value.type.element
    bits = 32 if isinstance(el, ir.FloatType) else 64 if isinstance(el, ir.DoubleType) else 0
    if name not in FUNCTIONS or bits == 0:
        return None
    lanes = value.type.count
    choices = [(WIDTHS[bits][isa], isa) for isa in isas if isa in WIDTHS[bits]]
    fitting = [(width, isa) for width, isa in choices if lanes % width == 0]
    if not fitting:
        return None
    width, isa = max(fitting)
    symbol = f"_ZGV{isa}N{width}v_{name}{'f' if bits == 32 else ''}"
    chunk_type = vector_of(el, width)
    try:
        fn = b.module.get_global(symbol)
    except KeyError:
        fn = ir.Function(b.module, ir.FunctionType(chunk_type, [chunk_type]), symbol)
    if width == lanes:
        return b.call(fn, [value])
    parts = []
    for start in range(0, lanes, width):
        part = b.shuffle_vector(value, ir.Constant(value.type, None),
                                ir.Constant(vector_of(I32, width),
                                            list(range(start, start + width))))
        parts.append(b.call(fn, [part]))
    while len(parts) > 1:  # concatenate pairwise
        merged = []
        for left, right in zip(parts[::2], parts[1::2], strict=True):
            n = left.type.count
            merged.append(b.shuffle_vector(left, right, ir.Constant(
                vector_of(I32, 2 * n), list(range(2 * n)))))
        parts = merged
    return parts[0]
