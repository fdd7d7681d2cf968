"""Register allocation: linear scan over the linearized program.

Positions: instruction ``i`` reads at ``2i`` and writes at ``2i + 1``, so a register whose
last read is at ``i`` can be written by ``i`` itself, while two results of one instruction
never share. Each virtual register's interval runs from its first to its last mention; for
every back edge (a ``BRA`` to an earlier label) an interval that is live into the loop
(starting before the label, reaching into the loop) is extended to the branch, to a fixed
point, so values carried around a loop survive it. Intervals are exact enough here because
the IR is structured: a value defined in one arm of an ``if`` is dead in the other.

Assignment is lowest-free-first: general registers (pairs even-aligned) within the budget
``max_registers`` (at most 255, the count below included) and predicates P0..P6. When no
general register is free, :func:`assign` with ``spill=True`` spills the live value whose
interval ends furthest (the one being placed included) to local memory (:mod:`.spill`;
R1 becomes the stack pointer) and allocates again. Without spilling, or with nothing left
to spill, a kernel that needs more raises :class:`CompilerError` ("needs more than 255
registers"). Predicates that do not fit P0..P6 live in general registers as 0/1
(:func:`.spill.spill_predicate`), chosen the same way, before general registers are
assigned.

Copies that allocation turns into no-ops (``MOV R3, R3``) are dropped.

The reported count (``Program.registers``) is the highest register used plus one, plus
:data:`RESERVED_REGISTERS`, as ptxas counts (Volta and later reserve two registers per
thread, ``reference/sass-codegen.md`` §2), so counts compare with ptxas's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.operands import MAX_GPR, PT, PT_INDEX, RZ, Addr, Pred, Reg
from ...isa.program import Instruction
from ..errors import CompilerError
from .mir import MAddr, MInst, VPred, VReg, accesses
from .spill import STACK_REGISTER, SpillFrame, spill_predicate

RESERVED_REGISTERS = 2
"""Registers added to the count, as ptxas does."""
MAX_REGISTERS = 255
"""The largest register budget (the count, reserved registers included)."""
MIN_REGISTERS = 8
"""The smallest budget accepted (room for the stack pointer and an instruction's operands)."""


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`assign`."""

    instructions: list[Instruction]
    labels: list[tuple[str, int]]
    """``(name, index)`` of each label."""
    registers: int
    """The register count, as ptxas reports it (see the module docstring)."""
    frame_bytes: int
    """Bytes of local memory the spill slots take (0 when nothing was spilled)."""


class _OutOfRegisters(Exception):
    """No register is free for an interval: ``live`` are the intervals holding one then,
    the one being placed included, as ``(end, id)``."""

    def __init__(self, live: list[tuple[int, int]]) -> None:
        super().__init__()
        self.live = live


def intervals(code: list[MInst]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Live intervals ``[start, end]`` of virtual registers and predicates, by id."""
    regs: dict[int, list[int]] = {}
    preds: dict[int, list[int]] = {}
    labels: dict[str, int] = {}
    back_edges: list[tuple[int, int]] = []
    for i, inst in enumerate(code):
        if inst.opcode == "LABEL":
            labels[inst.operands[0]] = i
    for i, inst in enumerate(code):
        rr, rw, pr, pw = accesses(inst)
        for table, ids, pos in ((regs, rr, 2 * i), (regs, rw, 2 * i + 1),
                                (preds, pr, 2 * i), (preds, pw, 2 * i + 1)):
            for v in ids:
                iv = table.setdefault(v, [pos, pos])
                iv[0] = min(iv[0], pos)
                iv[1] = max(iv[1], pos)
        if inst.opcode == "BRA":
            target = labels.get(inst.operands[0].name)  # None: out of this code
            if target is not None and target <= i:
                back_edges.append((2 * target, 2 * i + 1))
    changed = True
    while changed:
        changed = False
        for head, tail in back_edges:
            for table in (regs, preds):
                for iv in table.values():
                    if iv[0] < head <= iv[1] < tail:
                        iv[1] = tail
                        changed = True
    return regs, preds


def register_widths(code: list[MInst]) -> dict[int, int]:
    """Each virtual register's width (1, 2 or 4 registers), by id."""
    widths: dict[int, int] = {}
    for inst in code:
        for op in inst.operands:
            base = op.base if isinstance(op, MAddr) else op
            if isinstance(base, VReg):
                widths[base.id] = max(widths.get(base.id, 1), base.width)
    return widths


def _scan(table: dict[int, list[int]], widths: dict[int, int], limit: int,
          reserved: frozenset[int] = frozenset()) -> dict[int, int]:
    """Lowest-free-first assignment of registers ``0..limit-1`` except ``reserved``;
    raises :class:`_OutOfRegisters`."""
    order = sorted(table, key=lambda v: (table[v][0], v))
    free = [r not in reserved for r in range(limit)]
    active: list[tuple[int, int]] = []  # (end, id)
    where: dict[int, int] = {}
    for v in order:
        start, end = table[v]
        still = []
        for e, w in active:
            if e < start:
                for k in range(widths.get(w, 1)):
                    free[where[w] + k] = True
            else:
                still.append((e, w))
        active = still
        width = widths.get(v, 1)
        for r in range(0, limit - width + 1, width):
            if all(free[r:r + width]):
                break
        else:
            raise _OutOfRegisters([*active, (end, v)])
        for k in range(width):
            free[r + k] = False
        where[v] = r
        active.append((end, v))
    return where


def allocate(code: list[MInst], *, max_registers: int = MAX_REGISTERS,
             ) -> tuple[list[Instruction], list[tuple[str, int]], int]:
    """Physical instructions, labels ``(name, index)`` and the register count for
    ``code``, without spilling (see the module docstring)."""
    result = assign(code, max_registers=max_registers)
    return result.instructions, result.labels, result.registers


def assign(code: list[MInst], *, max_registers: int = MAX_REGISTERS,
           spill: bool = False) -> Allocation:
    """Allocate registers for ``code`` within ``max_registers``, spilling general registers
    to local memory when ``spill`` and they do not fit (see the module docstring)."""
    if not MIN_REGISTERS <= max_registers <= MAX_REGISTERS:
        raise CompilerError(f"a register budget must be {MIN_REGISTERS} to "
                            f"{MAX_REGISTERS}, not {max_registers}")
    limit = min(MAX_GPR + 1, max_registers - RESERVED_REGISTERS)
    frame: SpillFrame | None = None
    while True:  # predicates that do not fit P0-P6 move to general registers first
        _, preds = intervals(code)
        try:
            pmap = _scan(preds, {}, PT_INDEX)
            break
        except _OutOfRegisters as err:
            code = spill_predicate(code, max(err.live)[1])
    while True:
        regs, preds = intervals(code)
        widths = register_widths(code)
        reserved: frozenset[int] = frozenset()
        if frame is not None:
            del regs[frame.sp.id]
            reserved = frozenset({STACK_REGISTER})
        try:
            rmap = _scan(regs, widths, limit, reserved)
            break
        except _OutOfRegisters as err:
            victim = None
            if spill:
                if frame is None:
                    frame, code = SpillFrame.open(code)
                victim = max(((end, v) for end, v in err.live if v not in frame.temps),
                             default=None)
            if victim is None:
                raise CompilerError(f"the kernel needs more than {max_registers} registers "
                                    "at once" + (" even with spilling" if spill else "")
                                    ) from None
            code = frame.spill(code, victim[1], widths.get(victim[1], 1))
    pmap = _scan(preds, {}, PT_INDEX)
    if frame is not None:
        rmap[frame.sp.id] = STACK_REGISTER

    def reg(v: VReg) -> Reg:
        return Reg(rmap[v.id] + (v.half or 0), v.neg, v.abs, v.inv)

    def convert(op: object) -> object:
        if isinstance(op, VReg):
            return reg(op)
        if isinstance(op, VPred):
            return Pred(pmap[op.id], op.neg)
        if isinstance(op, MAddr):
            if op.base is None:
                return Addr(RZ.index, op.offset, op.wide)
            offset = op.offset
            if frame is not None and op.base.id == frame.sp.id:
                offset = frame.address(offset)
            return Addr(reg(op.base).index, offset, op.wide)
        return op

    out: list[Instruction] = []
    labels: list[tuple[str, int]] = []
    for inst in code:
        if inst.opcode == "LABEL":
            labels.append((inst.operands[0], len(out)))
            continue
        phys = Instruction(inst.opcode, inst.modifiers,
                           tuple(convert(op) for op in inst.operands),
                           convert(inst.guard), loc=inst.loc)
        if not _is_self_copy(phys):
            out.append(phys)
    used = [rmap[v] + widths.get(v, 1) for v in rmap]
    count = max(used, default=0) + RESERVED_REGISTERS
    return Allocation(out, labels, count, 0 if frame is None else frame.size)


def _is_self_copy(inst: Instruction) -> bool:
    """A copy that allocation made a no-op: ``MOV Rx, Rx`` or a predicate copied to itself."""
    ops = inst.operands
    if inst.opcode == "MOV":
        return ops[0] == ops[1]
    if inst.opcode == "PLOP3":
        pu, pv, a, b, c, lut, _ = ops
        return pv == PT and b == PT and c == PT and lut.bits == 0xF0 and pu == a
    return False
