"""Bit manipulation: LOP3, SHF, POPC, BREV, FLO, PRMT.

SHF shifts the 64-bit funnel ``{c:a}`` by ``b`` taken as unsigned and clamped (to 32 for
the 32-bit types, 64 for the 64-bit ones), in two half steps so that no single numpy
shift reaches the word width. PRMT implements the default mode and the six special
modes of PTX ``prmt`` (the special modes read a fixed selector from ``b & 3``: f4e
``3210 4321 5432 6543``, b4e ``5670 6701 7012 0123``, rc8 ``0000 1111 2222 3333``,
ecl ``3210 3211 3222 3333``, ecr ``0000 1110 2210 3210``, rc16 ``1010 3232 1010 3232``,
nibble i giving the source byte of result byte i; PTX ISA, "prmt").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ...isa.operands import Imm
from ...isa.program import Instruction
from .operands import (
    dest_operands,
    discarded,
    flag_transform,
    literal,
    source_operands,
    with_transforms,
)
from .predicate import compile_lut

U32 = np.uint32
U64 = np.uint64


def lop3(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """LOP3.LUT: d = LUT(a, b, c) bitwise; pu = (d != 0) | pq. Results (pu, d)."""
    ops = source_operands(inst)
    lut = compile_lut(literal(ops[3]))
    if discarded(dest_operands(inst)[0]):
        def fn(a, b, c, _lut, pq):
            return np.False_, lut(a, b, c)
    else:
        def fn(a, b, c, _lut, pq):
            d = lut(a, b, c)
            return np.logical_or(np.not_equal(d, 0), pq), d
    return fn


def _funnel(a, c):
    return np.bitwise_or(np.left_shift(np.asarray(c).astype(U64), U64(32)),
                         np.asarray(a).astype(U64))


def _zeros(a, c):
    return np.zeros(np.broadcast_shapes(np.shape(a), np.shape(c)), U32)


def _signed(x):
    return np.asarray(x).view(np.int32)


def _sar(x, n: int):
    return np.right_shift(_signed(x), np.int32(n)).view(U32)


def _funnel_words(lo, hi, n: int):
    """Low word of {hi:lo} >> n, for 0 < n < 32."""
    return np.bitwise_or(np.right_shift(lo, U32(n)), np.left_shift(hi, U32(32 - n)))


def _shf_const(left: bool, arithmetic: bool, hi: bool, s: int) -> Callable:
    """``fn(a, c)`` for SHF by a shift count known at build time (already clamped).

    The 64-bit funnel reduces to one or two 32-bit shifts of a and c.
    """
    if s == 0:
        return (lambda a, c: c) if hi else (lambda a, c: a)
    if left:
        if not hi:
            return ((lambda a, c: np.left_shift(a, U32(s))) if s < 32 else _zeros)
        if s < 32:
            return lambda a, c: _funnel_words(a, c, 32 - s)
        if s == 32:
            return lambda a, c: a
        return (lambda a, c: np.left_shift(a, U32(s - 32))) if s < 64 else _zeros
    if hi:
        if s < 32:
            return ((lambda a, c: _sar(c, s)) if arithmetic
                    else (lambda a, c: np.right_shift(c, U32(s))))
        return (lambda a, c: _sar(c, 31)) if arithmetic else _zeros
    if s < 32:
        return lambda a, c: _funnel_words(a, c, s)
    if s == 32:
        return lambda a, c: c
    if arithmetic:
        return lambda a, c: _sar(c, min(s - 32, 31))
    return (lambda a, c: np.right_shift(c, U32(s - 32))) if s < 64 else _zeros


def shf(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """SHF.{L,R}.{S32,U32,S64,U64}[.HI]: funnel shift of {c:a} by b, clamped."""
    type_ = mods["type"]
    limit = 64 if type_.endswith("64") else 32
    left, arithmetic = mods["dir"] == "L", type_.startswith("S")
    hi = mods.get("hi") == "HI"
    count = source_operands(inst)[1]
    if isinstance(count, Imm):
        shift = _shf_const(left, arithmetic, hi, min(count.bits, limit))
        return lambda a, b, c: (shift(a, c),)

    if left:
        def shifted(v, s1, s2):
            return np.left_shift(np.left_shift(v, s1), s2)
    elif arithmetic:
        def shifted(v, s1, s2):
            signed = np.asarray(v).view(np.int64)
            return np.right_shift(np.right_shift(signed, s1.astype(np.int64)),
                                  s2.astype(np.int64)).view(U64)
    else:
        def shifted(v, s1, s2):
            return np.right_shift(np.right_shift(v, s1), s2)

    if hi:
        def word(r):
            return np.right_shift(r, U64(32)).astype(U32)
    else:
        def word(r):
            return r.astype(U32)

    bound = U32(limit)

    def fn(a, b, c):
        s = np.minimum(b, bound).astype(U64)
        s1 = np.right_shift(s, U64(1))
        return (word(shifted(_funnel(a, c), s1, np.subtract(s, s1))),)

    return fn


def popc(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """POPC: the number of set bits of b (after ``~``)."""

    def core(b):
        return (np.bitwise_count(b).astype(U32),)

    return with_transforms(core, [flag_transform(source_operands(inst)[0], "i32")])


_BYTE_REVERSED = np.array([int(f"{v:08b}"[::-1], 2) for v in range(256)], np.uint32)


def brev(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """BREV: b's 32 bits in reverse order (each byte reversed through a table, the bytes
    swapped)."""

    def core(b):
        b = np.asarray(b, U32)
        out = np.zeros_like(b)
        for k in range(4):
            byte = (b >> U32(8 * k)) & U32(0xFF)
            out |= _BYTE_REVERSED[byte] << U32(8 * (3 - k))
        return (out,)

    return with_transforms(core, [])


def flo(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """FLO.{U32,S32}[.SH]: position of the leading 1 (non-sign bit), 0xffffffff if none.

    The position comes from the float64 exponent of the (exactly converted) value: frexp
    gives ``2**(e-1) <= x < 2**e``, so the leading one is bit ``e - 1`` (-1 for zero).
    """
    signed, sh = mods["type"] == "S32", mods.get("sh") == "SH"

    def unsigned_position(b):
        return np.subtract(np.frexp(np.asarray(b).astype(np.float64))[1], 1).astype(np.int32)

    if signed:
        def position(b):
            sign = np.right_shift(np.asarray(b).view(np.int32), 31).view(U32)
            return unsigned_position(np.bitwise_xor(b, sign))
    else:
        position = unsigned_position

    if sh:
        def core(b):
            pos = position(b)
            return (np.where(pos < 0, pos, np.subtract(31, pos)).astype(np.int32).view(U32),)
    else:
        def core(b):
            return (position(b).view(U32),)
    return with_transforms(core, [flag_transform(source_operands(inst)[0], "i32")])


PRMT_MODES: dict[str, tuple[int, int, int, int]] = {
    "F4E": (0x3210, 0x4321, 0x5432, 0x6543),
    "B4E": (0x5670, 0x6701, 0x7012, 0x0123),
    "RC8": (0x0000, 0x1111, 0x2222, 0x3333),
    "ECL": (0x3210, 0x3211, 0x3222, 0x3333),
    "ECR": (0x0000, 0x1110, 0x2210, 0x3210),
    "RC16": (0x1010, 0x3232, 0x1010, 0x3232),
}
"""Default-mode selectors equivalent to each special PRMT mode, indexed by ``b & 3``."""


def _sign_byte(word: int, bit: int, dst: int) -> Callable:
    """A byte filled with bit ``bit`` of source word ``word``, placed at byte ``dst``."""
    up, mask = U32(31 - bit), U32(0xFF << (8 * dst))

    def term(words):
        spread = np.right_shift(np.left_shift(words[word], up).view(np.int32), 31)
        return np.bitwise_and(spread.view(U32), mask)
    return term


def _moved_bytes(word: int, delta: int, mask: int) -> Callable:
    """The bytes of source word ``word`` under ``mask`` after moving them ``delta`` bits up."""
    if delta == 0 and mask == 0xFFFFFFFF:
        return lambda words: words[word]
    shift, m = U32(abs(delta)), U32(mask)
    move = np.left_shift if delta > 0 else np.right_shift
    if delta == 0:
        return lambda words: np.bitwise_and(words[word], m)
    return lambda words: np.bitwise_and(move(words[word], shift), m)


def _permute_const(selector: int) -> Callable:
    """``fn(a, c)`` permuting the bytes of {c:a} by a selector known at build time.

    Bytes that move by the same distance from the same word are moved together, so the
    common selectors (identity, byte swaps, half-word packs) are one to four operations.
    """
    moves: dict[tuple[int, int], int] = {}
    terms = []
    for i in range(4):
        nibble = (selector >> (4 * i)) & 0xF
        word, byte = (nibble & 7) // 4, (nibble & 7) % 4
        if nibble & 8:
            terms.append(_sign_byte(word, 8 * byte + 7, i))
        else:
            key = (word, 8 * (i - byte))
            moves[key] = moves.get(key, 0) | (0xFF << (8 * i))
    terms += [_moved_bytes(w, d, m) for (w, d), m in moves.items()]
    first, rest = terms[0], terms[1:]

    def fn(a, c):
        words = (np.asarray(a, dtype=U32), np.asarray(c, dtype=U32))
        out = first(words)
        for term in rest:
            out = np.bitwise_or(out, term(words))
        return out

    return fn


def _permute(v, sel):
    """Permute the 8-byte ``v`` (uint64) by per-thread default-mode selectors ``sel``."""
    out = None
    for i in range(4):
        nibble = np.bitwise_and(np.right_shift(sel, U32(4 * i)), U32(0xF)).astype(U64)
        src = np.left_shift(np.bitwise_and(nibble, U64(7)), U64(3))
        byte = np.bitwise_and(np.right_shift(v, src), U64(0xFF))
        sign = np.multiply(np.right_shift(byte, U64(7)), U64(0xFF))
        byte = np.where(np.bitwise_and(nibble, U64(8)) != 0, sign, byte)
        byte = np.left_shift(byte, U64(8 * i))
        out = byte if out is None else np.bitwise_or(out, byte)
    return out.astype(U32)


def prmt(inst: Instruction, mods: Mapping[str, str]) -> Callable:
    """PRMT[.mode]: byte permute of {c:a} (bytes 0-3 from a, 4-7 from c) by selector b."""
    selector_op = source_operands(inst)[1]
    mode = mods.get("mode")
    if isinstance(selector_op, Imm):
        bits = selector_op.bits
        permute = _permute_const(PRMT_MODES[mode][bits & 3] if mode else bits)
        return lambda a, b, c: (permute(a, c),)
    if mode:
        table = np.array(PRMT_MODES[mode], dtype=U32)
        return lambda a, b, c: (_permute(_funnel(a, c), table[np.bitwise_and(b, U32(3))]),)
    return lambda a, b, c: (_permute(_funnel(a, c), b),)


FACTORIES: dict[str, Callable] = {
    "LOP3": lop3, "SHF": shf, "POPC": popc, "BREV": brev, "FLO": flo, "PRMT": prmt,
}
"""Semantics factories of this module, by opcode."""
