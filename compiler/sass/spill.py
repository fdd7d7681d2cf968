"""Spilling general registers to the thread's local memory (``reference/sass-codegen.md`` §2).

When linear scan (:mod:`.regalloc`) finds no free register, one virtual register is
*spilled everywhere*: it gets a slot in a stack frame in local memory and each instruction
that mentions it is rewritten to use a fresh, short-lived temporary instead:

- ``LDL t, [R1+slot]`` before it when it reads the value, and also when it writes it only
  in part (a guarded definition, or a write of one half of a pair), so that the store
  after it writes back the old value where the write did not happen;
- ``STL [R1+slot], t`` after it when it writes the value.

The temporaries live from the load to the instruction, or from the instruction to the
store, so they fit where the spilled value did not; allocation then runs again. They are
never chosen for spilling themselves.

As ptxas does, ``R1`` holds the stack pointer: ``MOV R1, c[0x0][0x28]`` at the kernel's
entry. The launch sets ``c[0x0][0x28]`` to the top of the thread's local memory
(``Program.local_bytes``), so the frame is the top :attr:`SpillFrame.size` bytes and slots
are addressed below R1, ``[R1 - size + offset]`` (:meth:`SpillFrame.address`), above any
local arrays the kernel has. A slot is 4 bytes, 8 (8-aligned) for a pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...isa.abi import STACK_POINTER
from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import PT, RZ, Const, Imm
from .mir import MAddr, MInst, VPred, VReg, accesses, make, reg_ids, renamed

STACK_REGISTER = 1
"""The physical register that holds the stack pointer (R1, as ptxas uses it)."""
FRAME_ALIGN = 8
"""Alignment of the frame's size (and of its 8-byte slots)."""


@dataclass
class SpillFrame:
    """The spill slots of one kernel and the virtual registers the rewrite introduced."""

    sp: VReg
    """The stack pointer's virtual register (always assigned R1)."""
    next_id: int
    slots: dict[int, int] = field(default_factory=dict)
    """Spilled virtual register id -> byte offset of its slot in the frame."""
    temps: set[int] = field(default_factory=set)
    """Temporaries made by the rewrite (never spilled)."""
    end: int = 0

    @classmethod
    def open(cls, code: list[MInst]) -> tuple[SpillFrame, list[MInst]]:
        """A frame for ``code`` and the code with the stack pointer set at its entry."""
        top = max((v for inst in code for v in reg_ids(inst)), default=0)
        frame = cls(VReg(top + 1), top + 2)
        entry = code[0].loc if code else None
        setup = make("MOV", loc=entry, d=frame.sp, b=Const(0, STACK_POINTER))
        return frame, [setup, *code]

    @property
    def size(self) -> int:
        """The frame's size in bytes (a multiple of :data:`FRAME_ALIGN`; 0 when empty)."""
        return -(-self.end // FRAME_ALIGN) * FRAME_ALIGN

    def address(self, offset: int) -> int:
        """The offset from R1 of frame byte ``offset`` (R1 points at the frame's top)."""
        return offset - self.size

    def spill(self, code: list[MInst], victim: int, width: int) -> list[MInst]:
        """``code`` with virtual register ``victim`` (``width`` registers) kept in a new
        slot of the frame (see the module docstring)."""
        size = 4 * width
        start = -(-self.end // size) * size
        self.slots[victim] = start
        self.end = start + size
        addr = MAddr(self.sp, start)
        mods = {2: ("64",), 4: ("128",)}.get(width, ())
        out: list[MInst] = []
        for inst in code:
            if inst.opcode == "LABEL":
                out.append(inst)
                continue
            reads, writes, _, _ = accesses(inst)
            if victim not in reads and victim not in writes:
                out.append(inst)
                continue
            temp = self.temp(width)
            if victim in reads or (victim in writes and _partial_write(inst, victim)):
                out.append(make("LDL", mods, loc=inst.loc, d=temp, addr=addr))
            out.append(renamed(inst, {victim: temp}))
            if victim in writes:
                out.append(make("STL", mods, loc=inst.loc, addr=addr, v=temp))
        return out

    def temp(self, width: int) -> VReg:
        """A fresh temporary of ``width`` registers."""
        reg = VReg(self.next_id, width)
        self.next_id += 1
        self.temps.add(reg.id)
        return reg


def _partial_write(inst: MInst, victim: int) -> bool:
    """True when ``inst`` may leave part of ``victim`` as it was: it is guarded, or it
    writes one half of the pair."""
    if inst.guard != PT:
        return True
    return any(spec.kind is Kind.RD and isinstance(op, VReg) and op.id == victim
               and op.half is not None
               for spec, op in zip(OPCODES[inst.opcode].operands, inst.operands,
                                   strict=True))


def spill_predicate(code: list[MInst], victim: int) -> list[MInst]:
    """``code`` with virtual predicate ``victim`` kept in a general register as 0 or 1, as
    ptxas spills predicates when P0-P6 run out: each instruction that writes it writes a
    fresh short-lived predicate and ``SEL`` stores that as 0/1 (loading the old value first
    when the write is guarded); each that reads it gets the value back with
    ``ISETP.NE`` just before. The register is allocated (or spilled) like any other."""
    top = max((v for inst in code for ids in accesses(inst) for v in ids), default=0)
    home = VReg(top + 1)
    next_id = top + 2
    out: list[MInst] = []
    for inst in code:
        if inst.opcode == "LABEL":
            out.append(inst)
            continue
        _, _, reads, writes = accesses(inst)
        if victim not in reads and victim not in writes:
            out.append(inst)
            continue
        temp = VPred(next_id)
        next_id += 1
        if victim in reads or inst.guard != PT:
            out.append(make("ISETP", ("NE", "U32", "AND"), loc=inst.loc, pu=temp, pv=PT,
                            a=home, b=RZ, pp=PT))
        guard = inst.guard
        if isinstance(guard, VPred) and guard.id == victim:
            guard = VPred(temp.id, guard.neg)
        out.append(MInst(inst.opcode, inst.modifiers,
                         tuple(VPred(temp.id, op.neg) if isinstance(op, VPred)
                               and op.id == victim else op for op in inst.operands),
                         guard, inst.loc))
        if victim in writes:
            out.append(make("SEL", loc=inst.loc, d=home, a=_one_register(out, home, inst),
                            b=RZ, pp=temp))
    return out


def _one_register(out: list[MInst], home: VReg, inst: MInst) -> object:
    """The constant 1 for a SEL's register slot: an immediate is not allowed there, so a
    MOV of 1 into a fresh register goes just before (the SEL is appended next)."""
    one = VReg(home.id + 100000 + len(out))
    out.append(make("MOV", loc=inst.loc, d=one, b=Imm(1)))
    return one
