"""Instructions, kernels' headers and whole programs, all compared by value.

A :class:`Program` is what the assembler produces, the printer prints, the encoder encodes
and the simulator runs. It carries its kernel header (name, typed parameters, shared and
local bytes, register count), its instructions with control codes, its labels, and
optionally a source location per instruction (``.loc`` lines in the text), so that tools
below the compiler can name the user's source line without knowing the compiler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .operands import PT, Operand, Pred

NO_BARRIER = 7
"""Value of a read or write scoreboard field that sets no scoreboard."""
NUM_SCOREBOARDS = 6
"""Scoreboards SB0..SB5 per warp."""
MAX_STALL = 15
"""Largest stall count a control code can hold."""


@dataclass(frozen=True)
class Control:
    """The scheduling half of an instruction: CuAssembler's ``[B------:R-:W-:-:S01]``.

    ``wait`` is a 6-bit mask of scoreboards waited on before issue, ``read`` and ``write``
    the scoreboard released once operands are read / the result is written (``NO_BARRIER``
    for none), ``yield_`` the yield hint (printed ``Y``), ``stall`` the cycles to wait before
    the warp issues its next instruction. Reuse flags live on the register operands.
    """

    wait: int = 0
    read: int = NO_BARRIER
    write: int = NO_BARRIER
    yield_: bool = False
    stall: int = 1


@dataclass(frozen=True)
class SourceLoc:
    """Where an instruction came from in the user's source: file, line, column."""

    file: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Instruction:
    """One instruction: guard, opcode, modifiers, operands, control code, source location.

    ``modifiers`` are the dot-suffixes after the opcode name in canonical order (the order of
    the opcode's modifier groups in the table), e.g. ``("WIDE", "U32")`` for
    ``IMAD.WIDE.U32``. ``operands`` hold every operand of the opcode's signature, optional
    ones filled with their defaults, so two spellings of one instruction compare equal.
    """

    opcode: str
    modifiers: tuple[str, ...] = ()
    operands: tuple[Operand, ...] = ()
    guard: Pred = PT
    ctrl: Control = field(default_factory=Control)
    loc: SourceLoc | None = None

    @property
    def mnemonic(self) -> str:
        """The opcode with its modifiers, e.g. ``IMAD.WIDE.U32``."""
        return ".".join((self.opcode, *self.modifiers))


PARAM_SCALAR_TYPES: dict[str, int] = {
    "i8": 1,
    "u8": 1,
    "i16": 2,
    "u16": 2,
    "f16": 2,
    "i32": 4,
    "u32": 4,
    "f32": 4,
    "i64": 8,
    "u64": 8,
    "f64": 8,
}
"""Scalar parameter types and their sizes in bytes. A pointer is ``<scalar>*`` (8 bytes)."""


@dataclass(frozen=True)
class Param:
    """A kernel parameter: name and type (``"f32"``, ``"i32"``, or a pointer ``"f32*"``)."""

    name: str
    type: str

    @property
    def is_pointer(self) -> bool:
        """True for pointer parameters (``"f32*"``)."""
        return self.type.endswith("*")

    @property
    def element_type(self) -> str:
        """The pointee type of a pointer, or the type itself for a scalar."""
        return self.type.rstrip("*")

    @property
    def size(self) -> int:
        """Size in bytes in the constant bank."""
        return 8 if self.is_pointer else PARAM_SCALAR_TYPES[self.type]


@dataclass(frozen=True)
class Program:
    """A kernel: header, instructions and labels.

    ``labels`` maps a label name to the index of the instruction it precedes (an index equal
    to ``len(instructions)`` marks the end). ``registers`` is the declared per-thread register
    count; ``shared_bytes`` the static shared memory per CTA; ``local_bytes`` the per-thread
    local memory (stack) size.
    """

    name: str
    params: tuple[Param, ...] = ()
    instructions: tuple[Instruction, ...] = ()
    labels: tuple[tuple[str, int], ...] = ()
    registers: int = 0
    shared_bytes: int = 0
    local_bytes: int = 0

    @property
    def label_map(self) -> Mapping[str, int]:
        """Label name -> instruction index."""
        return dict(self.labels)

    def encode(self) -> bytes:
        """The binary form of this program (see :mod:`warpforge.isa.encoding`)."""
        from .encoding import encode_program

        return encode_program(self)

    def __str__(self) -> str:
        from .printer import format_program

        return format_program(self)

    def __len__(self) -> int:
        return len(self.instructions)


def registers_used(program: Program) -> int:
    """One more than the highest register any instruction reads or writes (RZ excluded)."""
    from .opcodes import OPCODES
    from .operands import RZ_INDEX, Addr, Const, Reg

    top = 0
    for inst in program.instructions:
        widths = OPCODES[inst.opcode].widths(inst.modifiers)
        for op, width in zip(inst.operands, widths, strict=True):
            if isinstance(op, Reg) and op.index != RZ_INDEX:
                top = max(top, op.index + width)
            elif isinstance(op, Addr) and op.reg != RZ_INDEX:
                top = max(top, op.reg + (2 if op.wide else 1))
            elif isinstance(op, Const) and op.reg is not None and op.reg != RZ_INDEX:
                top = max(top, op.reg + 1)
    return top


PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
"""A parameter's name."""
PARAM_TYPES = (*PARAM_SCALAR_TYPES, *(t + "*" for t in PARAM_SCALAR_TYPES))
"""Every parameter type: a scalar type or a pointer to one."""
WORD = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.$]*\Z")
"""A kernel or label name as the assembler's lexer reads it."""
MAX_REGISTERS_DECLARED = 255
"""The most registers a thread may declare (R0..R254)."""
MAX_HEADER_VALUE = 2**32 - 1
"""The largest ``.shared``/``.local`` size and ``.loc`` line or column."""


def header_problem(program: Program) -> str | None:
    """Why ``program``'s header is one the assembler would refuse, or None: the same rules
    the assembler applies (the decoder checks what it decoded with them)."""
    if not WORD.match(program.name) or program.name.startswith("."):
        return f"bad kernel name {program.name!r}"
    seen: set[str] = set()
    for p in program.params:
        if not PARAM_NAME.match(p.name) or p.name in seen:
            return f"bad or duplicate parameter name {p.name!r}"
        if p.type not in PARAM_TYPES:
            return f"unknown parameter type {p.type!r}"
        seen.add(p.name)
    names: set[str] = set()
    for name, index in program.labels:
        if not WORD.match(name) or name in names or not 0 <= index <= len(
                program.instructions):
            return f"bad or duplicate label {name!r}"
        names.add(name)
    if not 0 <= program.registers <= MAX_REGISTERS_DECLARED:
        return f"bad register count {program.registers}"
    if not (0 <= program.shared_bytes <= MAX_HEADER_VALUE
            and 0 <= program.local_bytes <= MAX_HEADER_VALUE):
        return "a shared or local size out of range"
    for inst in program.instructions:
        loc = inst.loc
        if loc is not None and not (0 <= loc.line <= MAX_HEADER_VALUE
                                    and 0 <= loc.col <= MAX_HEADER_VALUE):
            return f"a .loc line or column out of range ({loc.line}, {loc.col})"
    used = registers_used(program)
    if used > program.registers:
        return f".registers {program.registers} is too few: the instructions use {used}"
    return None
