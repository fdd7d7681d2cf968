"""What the hazard checker needs to know about each instruction, computed once per program.

For every instruction: the registers and predicates it reads (the guard marked) and
writes, per register the latency it needs after each kind of fixed-latency producer
(``isa.latency.raw_latency``), the scoreboards it waits on and sets, and what it leaves
behind (pending results, sources still being read). Registers follow the opcode table's
operand widths (``OpcodeInfo.widths``); RZ and PT are never read or written here. See
:mod:`warpforge.simulator.hazards` for the model these facts feed.

Each register or predicate the program touches gets a *row* of the checker's state.
Rows that a scoreboard can guard come first, so that the scoreboard state covers only
them: first the sources of variable-latency instructions with a read scoreboard (which can
be "being read"), then the other results of variable-latency instructions (which can be
pending).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..isa.dataflow import accesses
from ..isa.latency import raw_latency
from ..isa.opcodes import OPCODES, OpcodeInfo
from ..isa.program import NO_BARRIER, NUM_SCOREBOARDS, Instruction, Program

NEVER = 0x80
"""Pending bit of a result whose producer sets no write scoreboard: never known ready.
(Bits 0-5 are the scoreboards; no wait mask clears bit 7.)"""

_NO_SB = NUM_SCOREBOARDS
"""Stands for "no write scoreboard" in a reader record's (read, write) pair."""


def label(pc: int, inst: Instruction) -> str:
    """How messages name an instruction: ``LDG.E at /*0040*/``."""
    return f"{inst.mnemonic} at /*{pc * 16:04x}*/"


# --- reader records ----------------------------------------------------------------------
# A source of a variable-latency instruction with a read scoreboard stays "being read" until
# its read or its write scoreboard is waited on. A register may be read by several such
# instructions, so its state is a set of records, one bit per (read SB, write SB) pair:
# 6 x 7 = 42 bits of a uint64.

def record_bit(read_sb: int, write_sb: int) -> int:
    """The bit of "read by an instruction with these read and write scoreboards"."""
    write = _NO_SB if write_sb == NO_BARRIER else write_sb
    return 1 << (read_sb * (NUM_SCOREBOARDS + 1) + write)


def record_read_sbs(bits: int) -> list[int]:
    """The read scoreboards of the records in ``bits``."""
    return sorted({i // (NUM_SCOREBOARDS + 1) for i in range(64) if bits >> i & 1})


def records_cleared_by(wait: int) -> int:
    """The records a wait on the scoreboards in the mask ``wait`` clears."""
    bits = 0
    for read_sb in range(NUM_SCOREBOARDS):
        for write_sb in (*range(NUM_SCOREBOARDS), NO_BARRIER):
            if wait >> read_sb & 1 or (write_sb != NO_BARRIER and wait >> write_sb & 1):
                bits |= record_bit(read_sb, write_sb)
    return bits


# --- per-instruction facts -----------------------------------------------------------------

@dataclass(frozen=True)
class Read:
    """One register or predicate an instruction reads."""

    row: int
    name: str
    guard: bool
    need: int | np.ndarray | None
    """Cycles needed after the producer's issue: a number when every fixed-latency writer
    of this row in the program gives the same, else an array indexed by producer key;
    None when no fixed-latency instruction writes this row."""


@dataclass(frozen=True)
class Write:
    """One register or predicate an instruction writes."""

    row: int
    name: str
    key: int
    """Producer key of a fixed-latency result (its opcode, and its IMAD.WIDE half); 0 for
    a variable-latency one, whose readiness the scoreboards decide."""


@dataclass(frozen=True)
class Facts:
    """What the checker needs to know about one instruction."""

    label: str
    reads: tuple[Read, ...]
    writes: tuple[Write, ...]
    wait_sbs: tuple[int, ...]
    pending_keep: np.uint8
    """Pending bits that survive this instruction's wait mask."""
    records_keep: np.uint64
    """Reader records that survive this instruction's wait mask."""
    sets: tuple[int, ...]
    """Scoreboards this instruction increments at issue (its read and write scoreboards)."""
    pending: int
    """Pending bits of its results: 0 (fixed latency), ``1 << write SB``, or NEVER."""
    record: int
    """Reader record it leaves on ``being_read`` (0 when it sets no read scoreboard)."""
    being_read: tuple[int, ...]
    """Rows of its sources that stay being read (not the guard, not rows it writes)."""
    advance: int
    """Cycles to the thread's next issue: ``max(stall, 1)``."""


class ProgramFacts:
    """The facts of every instruction of ``program``, and the row of each register.

    ``keys`` lists the producer keys, ``(opcode, IMAD.WIDE half or None)``; key 0 stands for
    "ready", a result nothing has to wait for. ``rows`` maps ``"R4"``/``"P0"`` to rows;
    rows below ``num_tracked`` are the ones scoreboards can guard, and rows below
    ``num_read_tracked`` the ones that can be being read.
    """

    def __init__(self, program: Program) -> None:
        self.keys: list[tuple[str, int | None]] = [("", None)] + [
            (name, half) for name, info in OPCODES.items() if not info.latency.variable
            for half in (None, 0, 1)
        ]
        self._key_ids = {key: i for i, key in enumerate(self.keys)}
        operands = [_operands(inst) for inst in program.instructions]
        read_tracked: set[str] = set()
        write_tracked: set[str] = set()
        fixed_written: dict[str, set[int]] = {}
        for inst, (reads, writes) in zip(program.instructions, operands, strict=True):
            if OPCODES[inst.opcode].latency.variable:
                write_tracked.update(name for name, _ in writes)
                if inst.ctrl.read != NO_BARRIER:
                    read_tracked.update(name for name, guard in reads if not guard)
            else:
                for name, half in writes:
                    fixed_written.setdefault(name, set()).add(self._key_ids[inst.opcode, half])
        used = {name for reads, writes in operands for name, _ in (*reads, *writes)}
        tracked = read_tracked | write_tracked
        order = [*sorted(read_tracked, key=_reg_order),
                 *sorted(write_tracked - read_tracked, key=_reg_order),
                 *sorted(used - tracked, key=_reg_order)]
        self.rows = {name: row for row, name in enumerate(order)}
        self.num_tracked = len(tracked)
        self.num_read_tracked = len(read_tracked)
        self._fixed_written = fixed_written
        self._needs: dict[tuple[str, bool], np.ndarray] = {}
        self.facts = tuple(
            self._facts_of(pc, inst, *ops)
            for pc, (inst, ops) in enumerate(zip(program.instructions, operands, strict=True))
        )

    def _facts_of(self, pc: int, inst: Instruction, reads, writes) -> Facts:
        info = OPCODES[inst.opcode]
        variable = info.latency.variable
        ctrl = inst.ctrl
        written = {name for name, _ in writes}
        being_read: tuple[int, ...] = ()
        record = 0
        if variable and ctrl.read != NO_BARRIER:
            record = record_bit(ctrl.read, ctrl.write)
            being_read = tuple(self.rows[name] for name, guard in reads
                               if not guard and name not in written)
        pending = 0
        if variable:
            pending = NEVER if ctrl.write == NO_BARRIER else 1 << ctrl.write
        return Facts(
            label=label(pc, inst),
            reads=tuple(
                Read(self.rows[name], name, guard, self._need(info, guard, name))
                for name, guard in reads
            ),
            writes=tuple(
                Write(self.rows[name], name, 0 if variable else self._key_ids[inst.opcode, half])
                for name, half in writes
            ),
            wait_sbs=tuple(sb for sb in range(NUM_SCOREBOARDS) if ctrl.wait >> sb & 1),
            pending_keep=np.uint8(~ctrl.wait & 0xFF),
            records_keep=np.uint64(~records_cleared_by(ctrl.wait) & (1 << 64) - 1),
            sets=tuple(sorted({sb for sb in (ctrl.read, ctrl.write) if sb != NO_BARRIER})),
            pending=pending,
            record=record,
            being_read=being_read,
            advance=max(ctrl.stall, 1),
        )

    def _need(self, consumer: OpcodeInfo, guard: bool, name: str) -> int | np.ndarray | None:
        """Cycles ``consumer`` needs after the issue of the fixed-latency writers of ``name``
        (see :attr:`Read.need`)."""
        if name not in self._fixed_written:
            return None
        if (consumer.name, guard) not in self._needs:
            need = np.zeros(len(self.keys), np.int64)
            for key, (producer, half) in enumerate(self.keys[1:], start=1):
                need[key] = raw_latency(OPCODES[producer], consumer, wide_half=half,
                                        as_guard=guard)
            self._needs[consumer.name, guard] = need
        need = self._needs[consumer.name, guard]
        distinct = {int(need[key]) for key in self._fixed_written[name]}
        return distinct.pop() if len(distinct) == 1 else need


# --- operands ------------------------------------------------------------------------------

def _operands(inst: Instruction):
    """Registers read, as (name, is_guard), and written, as (name, IMAD.WIDE half or None)
    (``isa.dataflow``'s model, shared with the compiler's control-code passes)."""
    reads, writes = accesses(inst)
    return list(reads), list(writes)


def _reg_order(name: str) -> tuple[str, int]:
    return name[0], int(name[1:])
