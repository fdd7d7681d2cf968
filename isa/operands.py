"""Operands of SASS-like instructions.

Every operand is a small frozen dataclass, so instructions and programs compare by value.
Register and predicate numbering follows Volta+ SASS: R0..R254 with RZ = 255 (reads zero,
writes are dropped), P0..P6 with PT = 7 (reads true, writes are dropped), convergence
barrier registers B0..B15.
"""

from __future__ import annotations

from dataclasses import dataclass

RZ_INDEX = 255
"""Register number of RZ, the zero register."""
PT_INDEX = 7
"""Predicate number of PT, the always-true predicate."""
MAX_GPR = 254
"""Highest allocatable general-purpose register (R254)."""
NUM_BARRIERS = 16
"""Convergence barrier registers B0..B15."""

SPECIAL_REGISTERS: tuple[str, ...] = (
    "SR_TID.X",
    "SR_TID.Y",
    "SR_TID.Z",
    "SR_CTAID.X",
    "SR_CTAID.Y",
    "SR_CTAID.Z",
    "SR_LANEID",
    "SR_WARPID",
    "SR_SMID",
    "SR_CLOCKLO",
    "SR_CLOCKHI",
    "SR_EQMASK",
    "SR_LTMASK",
    "SR_LEMASK",
    "SR_GTMASK",
    "SR_GEMASK",
    "SRZ",
)
"""Special registers readable with S2R/CS2R; the index in this tuple is the encoding."""


@dataclass(frozen=True)
class Reg:
    """A general-purpose register ``R<index>`` (255 is RZ), with source modifiers.

    ``neg`` prints as ``-R1`` (arithmetic negation), ``abs`` as ``|R1|``, ``inv`` as ``~R1``
    (bitwise complement). ``reuse`` prints as ``R1.reuse`` and sets the operand-reuse flag of
    the control code. Which modifiers an operand slot accepts is stated in the opcode table.
    """

    index: int
    neg: bool = False
    abs: bool = False
    inv: bool = False
    reuse: bool = False

    @property
    def is_rz(self) -> bool:
        """True for RZ."""
        return self.index == RZ_INDEX


@dataclass(frozen=True)
class Pred:
    """A predicate ``P<index>`` (7 is PT), optionally negated (``!P0``)."""

    index: int
    neg: bool = False

    @property
    def is_pt(self) -> bool:
        """True for PT and !PT."""
        return self.index == PT_INDEX


PT = Pred(PT_INDEX)
"""The always-true predicate, the default guard."""
NOT_PT = Pred(PT_INDEX, neg=True)
"""The always-false predicate ``!PT``."""
RZ = Reg(RZ_INDEX)
"""The zero register."""


@dataclass(frozen=True)
class Imm:
    """A 32-bit immediate, stored as its raw bit pattern ``bits`` (0 <= bits < 2**32).

    Whether it prints as an integer or a float is decided by the operand slot's type in the
    opcode table, so equality never depends on float formatting (NaN payloads included).
    Small literal slots (LUTs, shift counts, barrier ids) also hold an ``Imm``.
    """

    bits: int


@dataclass(frozen=True)
class Const:
    """A constant-bank operand ``c[bank][offset]`` or, for LDC, ``c[bank][Rn+offset]``.

    ``reg`` is the index register (``None`` when the address is absolute). ``neg`` and
    ``abs`` are source modifiers, as on :class:`Reg`.
    """

    bank: int
    offset: int
    reg: int | None = None
    neg: bool = False
    abs: bool = False


@dataclass(frozen=True)
class Addr:
    """A memory address ``[Rn+offset]`` or, when ``wide``, ``[Rn.64+offset]``.

    ``wide`` means the base is the 64-bit register pair Rn:Rn+1 (global memory); otherwise
    the base is one 32-bit register (shared and local memory). ``offset`` is a signed 24-bit
    byte offset.
    """

    reg: int
    offset: int = 0
    wide: bool = False


@dataclass(frozen=True)
class SpecialReg:
    """A special register such as ``SR_TID.X`` (see :data:`SPECIAL_REGISTERS`)."""

    name: str


@dataclass(frozen=True)
class Label:
    """A branch target, written ``\\`(.L_name)`` in canonical text."""

    name: str


@dataclass(frozen=True)
class BarrierReg:
    """A convergence barrier register ``B<index>`` used by BSSY/BSYNC."""

    index: int


Operand = Reg | Pred | Imm | Const | Addr | SpecialReg | Label | BarrierReg
"""Any instruction operand."""
