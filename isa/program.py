"""Instructions, kernels' headers and whole programs, all compared by value.

A :class:`Program` is what the assembler produces, the printer prints, the encoder encodes
and the simulator runs. It carries its kernel header (name, typed parameters, shared and
local bytes, register count), its instructions with control codes, its labels, and
optionally a source location per instruction (``.loc`` lines in the text), so that tools
below the compiler can name the user's source line without knowing the compiler.
"""

from __future__ import annotations

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
