"""Hypothesis strategies for random *valid* instructions and programs, read from the opcode table.

Everything generated is in the canonical form the assembler produces: every operand slot
filled (optional ones with their default or another value), modifiers in table group order,
labels sorted by the index of the instruction they precede. The instruction invariants of
the ISA hold:

- registers R0..R254 or RZ; an operand covering 2 (4) registers starts at an even (multiple
  of 4) index, or is RZ; predicates P0..P6 or PT; destinations are never negated;
- RB slots hold a register, an immediate or a constant ``c[bank][offset]`` (bank 0..31,
  offset 0..0xffff, a multiple of 4); RL slots a register or a literal below ``2**bits``;
  LIT slots a literal below ``2**bits``; ADDR slots a 24-bit signed offset, with a ``.64``
  base exactly when the table says the base covers a register pair (global memory);
- at most one operand uses the 32-bit payload (an RB immediate or constant, an ADDR, a
  CADDR, a LABEL);
- source flags only where the slot allows them, spelled as the text can spell them
  (``-R``, ``~R``, ``|R|``, ``-|R|``); ``.reuse`` only on registers in the first four
  register-source slots (kinds RA, RB, RL);
- the declared register count covers the highest register used.

Public strategies: :func:`programs`, :func:`instructions`, :func:`controls`,
:func:`guards`, :func:`params`, :func:`label_names`, :func:`source_locs`,
:func:`modifiers_for`; :func:`registers_used` computes a program's minimum ``.registers``.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence

from hypothesis import strategies as st

from warpforge.isa.opcodes import OPCODES, Kind, OpcodeInfo, OperandSpec
from warpforge.isa.operands import (
    MAX_GPR,
    NUM_BARRIERS,
    PT_INDEX,
    RZ_INDEX,
    SPECIAL_REGISTERS,
    Addr,
    BarrierReg,
    Const,
    Imm,
    Label,
    Pred,
    Reg,
    SpecialReg,
)
from warpforge.isa.program import (
    MAX_STALL,
    NO_BARRIER,
    NUM_SCOREBOARDS,
    PARAM_SCALAR_TYPES,
    Control,
    Instruction,
    Param,
    Program,
    SourceLoc,
)

REGISTER_SOURCES = (Kind.RA, Kind.RB, Kind.RL)
"""Slot kinds whose register operands may carry ``.reuse`` (the first four such slots)."""
REUSE_SLOTS = 4
"""Register-source slots that have a reuse flag."""
FLAG_SPELLINGS = (frozenset(), frozenset({"neg"}), frozenset({"inv"}), frozenset({"abs"}),
                  frozenset({"neg", "abs"}))
"""Source-flag combinations the text can write: R, -R, ~R, |R|, -|R|."""
ADDR_OFFSET_LIMIT = 1 << 23
"""ADDR offsets are signed 24-bit."""
CONST_BANKS = 32
CONST_OFFSET_LIMIT = 0x10000

FLOAT_SPECIALS = (
    0x00000000, 0x80000000,  # +0, -0
    0x3F800000, 0xBF800000,  # 1, -1
    0x7F800000, 0xFF800000,  # +inf, -inf
    0x7FC00000, 0xFFC00000, 0x7FFFFFFF, 0x7F800001, 0xFFBFFFFF,  # NaNs, quiet and signalling
    0x00000001, 0x807FFFFF, 0x00800000,  # denormals, smallest normal
    0x7F7FFFFF, 0x3EAAAAAB, 0x3DCCCCCD,  # FLT_MAX, 1/3, 0.1
)
"""Float32 bit patterns worth hitting: signed zeros, infinities, NaNs, denormals."""

IDENT_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
IDENT_REST = IDENT_START + "0123456789"


def _word(first: st.SearchStrategy[str], rest: str, max_size: int, min_size: int = 0
          ) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, first, st.text(rest, min_size=min_size, max_size=max_size))


def _float_bits(value: float) -> int:
    return struct.unpack("<I", struct.pack("<f", value))[0]


@functools.cache
def int_immediates() -> st.SearchStrategy[int]:
    """32-bit patterns for int slots: small values, small negatives, anything."""
    return st.one_of(
        st.integers(0, 0x40),
        st.integers(-0x40, -1).map(lambda v: v & 0xFFFFFFFF),
        st.integers(0, 0xFFFFFFFF),
        st.sampled_from((0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)),
    )


@functools.cache
def float_immediates() -> st.SearchStrategy[int]:
    """32-bit patterns for float slots: ordinary floats, specials, and any pattern at all."""
    return st.one_of(
        st.sampled_from(FLOAT_SPECIALS),
        st.floats(width=32, allow_nan=False).map(_float_bits),
        st.integers(0, 0xFFFFFFFF),
    )


@st.composite
def _register_index_draw(draw, width: int) -> int:
    top = (MAX_GPR - width + 1) // width  # last aligned base whose range stays <= R254
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return RZ_INDEX
    return draw(st.integers(0, min(top, 7) if choice < 4 else top)) * width


@functools.cache
def register_indices(width: int) -> st.SearchStrategy[int]:
    """Register numbers valid for an operand covering ``width`` registers (RZ included)."""
    return _register_index_draw(width)


@functools.cache
def _pred(neg: bool) -> st.SearchStrategy[Pred]:
    index = st.one_of(st.integers(0, PT_INDEX), st.just(PT_INDEX))
    return st.builds(Pred, index, st.booleans() if neg else st.just(False))


@functools.cache
def _flags(allowed: frozenset[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.sampled_from([f for f in FLAG_SPELLINGS if f <= allowed])


def _make_reg(flags: frozenset[str], index: int, reuse: bool) -> Reg:
    return Reg(index, neg="neg" in flags, abs="abs" in flags, inv="inv" in flags, reuse=reuse)


@functools.cache
def _reg(width: int, allowed: frozenset[str] = frozenset(), reuse: bool = False
         ) -> st.SearchStrategy[Reg]:
    return st.builds(_make_reg, _flags(allowed), register_indices(width),
                     st.booleans() if reuse else st.just(False))


def _make_const(flags: frozenset[str], bank: int, word: int) -> Const:
    return Const(bank, word * 4, neg="neg" in flags, abs="abs" in flags)


@functools.cache
def _const_b(allowed: frozenset[str]) -> st.SearchStrategy[Const]:
    word = st.one_of(st.integers(0x160 // 4, 0x180 // 4),
                     st.integers(0, CONST_OFFSET_LIMIT // 4 - 1))
    return st.builds(_make_const, _flags(allowed & {"neg", "abs"}),
                     st.integers(0, CONST_BANKS - 1), word)


@functools.cache
def guards() -> st.SearchStrategy[Pred]:
    """Guard predicates: mostly PT, else any ``@P`` / ``@!P`` (``@!PT`` included)."""
    return st.one_of(st.just(Pred(PT_INDEX)), _pred(True))


@functools.cache
def controls() -> st.SearchStrategy[Control]:
    """Control codes: any wait mask, read/write scoreboard (or none), yield, stall."""
    barrier = st.one_of(st.just(NO_BARRIER), st.integers(0, NUM_SCOREBOARDS - 1))
    return st.builds(Control, st.integers(0, (1 << NUM_SCOREBOARDS) - 1), barrier, barrier,
                     st.booleans(), st.integers(0, MAX_STALL))


def _join(*options: str | None) -> tuple[str, ...]:
    return tuple(option for option in options if option is not None)


@functools.cache
def modifiers_for(info: OpcodeInfo) -> st.SearchStrategy[tuple[str, ...]]:
    """Modifiers for ``info``: per group, one option (or none when the group is optional)."""
    groups = [st.sampled_from([*g.options] + ([] if g.required else [None]))
              for g in info.groups]
    return st.builds(_join, *groups)


@functools.cache
def _operand(spec: OperandSpec, width: int, reuse: bool, payload: bool) -> st.SearchStrategy:
    """Operands for one slot (LABEL slots are drawn by the caller)."""
    kind = spec.kind
    if kind is Kind.RD:
        return _reg(width)
    if kind is Kind.PD:
        return _pred(False)
    if kind is Kind.RA or (kind is Kind.RB and not payload):
        return _reg(width, spec.flags, reuse)
    if kind is Kind.RB:
        immediates = float_immediates() if spec.type == "float" else int_immediates()
        return st.one_of(st.builds(Imm, immediates), _const_b(spec.flags))
    if kind is Kind.RL:
        return st.one_of(_reg(width, spec.flags, reuse),
                         st.builds(Imm, st.integers(0, (1 << spec.bits) - 1)))
    if kind is Kind.PS:
        return _pred(True)
    if kind is Kind.LIT:
        return st.builds(Imm, st.integers(0, (1 << spec.bits) - 1))
    if kind is Kind.ADDR:
        offset = st.one_of(st.integers(-0x100, 0x100),
                           st.integers(-ADDR_OFFSET_LIMIT, ADDR_OFFSET_LIMIT - 1))
        return st.builds(Addr, register_indices(width), offset, st.just(width == 2))
    if kind is Kind.CADDR:
        return st.builds(Const, st.integers(0, CONST_BANKS - 1),
                         st.integers(0, CONST_OFFSET_LIMIT - 1),
                         st.one_of(st.none(), st.integers(0, MAX_GPR)))
    if kind is Kind.SREG:
        return st.builds(SpecialReg, st.sampled_from(SPECIAL_REGISTERS))
    if kind is Kind.BAR:
        return st.builds(BarrierReg, st.integers(0, NUM_BARRIERS - 1))
    raise AssertionError(f"no strategy for operand kind {kind}")


@st.composite
def instructions(draw, opcode: str | None = None, labels: Sequence[str] = ()) -> Instruction:
    """A valid instruction, of ``opcode`` or of any opcode the label list allows.

    LABEL operands name one of ``labels``; without labels, opcodes with a LABEL slot are
    not drawn (and naming one raises ``ValueError``).
    """
    if opcode is None:
        opcode = draw(_opcode_names(bool(labels)))
    info = OPCODES[opcode]
    if not labels and any(s.kind is Kind.LABEL for s in info.operands):
        raise ValueError(f"{opcode} needs a label to branch to")
    mods = draw(modifiers_for(info))
    widths = info.widths(mods)
    fixed_payload = any(s.kind in (Kind.ADDR, Kind.CADDR, Kind.LABEL) for s in info.operands)
    rb_slots = [i for i, s in enumerate(info.operands) if s.kind is Kind.RB]
    # The 32-bit payload: taken by the ADDR/CADDR/LABEL slot, or by at most one RB slot.
    payload_rb = None
    if not fixed_payload and rb_slots:
        payload_rb = draw(st.sampled_from([None, *rb_slots]))
    source_ordinal = 0
    operands = []
    for i, spec in enumerate(info.operands):
        reuse = False
        if spec.kind in REGISTER_SOURCES:
            reuse = source_ordinal < REUSE_SLOTS
            source_ordinal += 1
        if spec.default is not None and draw(st.integers(0, 2)) == 0:
            operands.append(spec.default)
        elif spec.kind is Kind.LABEL:
            operands.append(Label(draw(st.sampled_from(list(labels)))))
        else:
            operands.append(draw(_operand(spec, widths[i], reuse, i == payload_rb)))
    return Instruction(opcode, mods, tuple(operands), draw(guards()), draw(controls()))


@functools.cache
def _opcode_names(with_labels: bool) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(
        name for name, row in OPCODES.items()
        if with_labels or all(s.kind is not Kind.LABEL for s in row.operands)))


@functools.cache
def label_names() -> st.SearchStrategy[str]:
    """Label names as a compiler writes them (``.L_x0``) and other identifiers."""
    return st.one_of(
        _word(st.just(".L_"), IDENT_REST, 6, min_size=1),
        _word(st.sampled_from("_abcdefghijklmnopqrstuvwxyz"), IDENT_REST + ".$", 8))


@functools.cache
def identifiers() -> st.SearchStrategy[str]:
    """Kernel and parameter names."""
    return _word(st.sampled_from(IDENT_START), IDENT_REST, 10)


@functools.cache
def params() -> st.SearchStrategy[Param]:
    """Kernel parameters of every scalar type and pointers to each."""
    types = sorted(PARAM_SCALAR_TYPES) + [t + "*" for t in sorted(PARAM_SCALAR_TYPES)]
    return st.builds(Param, identifiers(), st.sampled_from(types))


@functools.cache
def source_locs() -> st.SearchStrategy[SourceLoc]:
    """Source locations (file names that need no quoting)."""
    name = _word(st.sampled_from(IDENT_REST), IDENT_REST + "./-", 12)
    return st.builds(SourceLoc, name, st.integers(1, 100_000), st.integers(0, 300))


def registers_used(instructions_: Sequence[Instruction]) -> int:
    """Highest register index used + 1, counting pair/quad widths, ignoring RZ."""
    top = 0
    for inst in instructions_:
        widths = OPCODES[inst.opcode].widths(inst.modifiers)
        for operand, width in zip(inst.operands, widths, strict=True):
            if isinstance(operand, Reg) and not operand.is_rz:
                top = max(top, operand.index + width)
            elif isinstance(operand, Addr) and operand.reg != RZ_INDEX:
                top = max(top, operand.reg + (2 if operand.wide else 1))
            elif isinstance(operand, Const) and operand.reg is not None:
                top = max(top, operand.reg + 1)
    return top


@st.composite
def programs(draw, max_instructions: int = 12, locations: bool | None = None) -> Program:
    """A valid program: header, instructions of any opcode, labels, sometimes ``.loc`` info.

    ``locations`` forces source locations on (True) or off (False); by default some
    programs have them.
    """
    names = draw(st.lists(label_names(), unique=True, max_size=4))
    insts = draw(st.lists(instructions(labels=names), max_size=max_instructions))
    if locations is None:
        locations = draw(st.booleans())
    if locations:
        files = draw(st.lists(source_locs(), min_size=1, max_size=3))
        current = None
        located = []
        for inst in insts:
            # Runs of equal locations are common in compiler output; so are gaps.
            choice = draw(st.integers(0, 3))
            if choice == 0:
                current = None
            elif choice == 1:
                current = draw(st.sampled_from(files))
            located.append(Instruction(inst.opcode, inst.modifiers, inst.operands,
                                       inst.guard, inst.ctrl, current))
        insts = located
    where = [draw(st.integers(0, len(insts))) for _ in names]
    labels = tuple(sorted(zip(names, where, strict=True), key=lambda pair: pair[1]))
    params_ = draw(st.lists(params(), max_size=5, unique_by=lambda p: p.name))
    used = registers_used(insts)
    registers = draw(st.one_of(st.just(max(used, 1)), st.integers(max(used, 1), MAX_GPR + 1)))
    return Program(
        name=draw(identifiers()),
        params=tuple(params_),
        instructions=tuple(insts),
        labels=labels,
        registers=registers,
        shared_bytes=draw(st.one_of(st.just(0), st.integers(0, 0x29000))),
        local_bytes=draw(st.one_of(st.just(0), st.integers(0, 0x10000))),
    )
