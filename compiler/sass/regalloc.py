"""Register allocation: linear scan over the linearized program.

Positions: instruction ``i`` reads at ``2i`` and writes at ``2i + 1``, so a register whose
last read is at ``i`` can be written by ``i`` itself, while two results of one instruction
never share. Each virtual register's interval runs from its first to its last mention; for
every back edge (a ``BRA`` to an earlier label) an interval that is live into the loop
(starting before the label, reaching into the loop) is extended to the branch, to a fixed
point, so values carried around a loop survive it. Intervals are exact enough here because
the IR is structured: a value defined in one arm of an ``if`` is dead in the other.

Assignment is lowest-free-first: general registers R0..R254 (pairs even-aligned) and
predicates P0..P6. There is no spilling yet: a kernel that needs more raises
:class:`CompilerError` ("needs more than 255 registers" / "more than 7 predicates").

Copies that allocation turns into no-ops (``MOV R3, R3``) are dropped.

The reported count (``Program.registers``) is the highest register used plus one, plus
:data:`RESERVED_REGISTERS`, as ptxas counts (Volta and later reserve two registers per
thread, ``reference/sass-codegen.md`` §2), so counts compare with ptxas's.
"""

from __future__ import annotations

from ...compiler.errors import CompilerError
from ...isa.operands import MAX_GPR, PT, PT_INDEX, RZ, Addr, Pred, Reg
from ...isa.program import Instruction
from .mir import MAddr, MInst, VPred, VReg, accesses

RESERVED_REGISTERS = 2
"""Registers added to the count, as ptxas does."""


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
            target = labels[inst.operands[0].name]
            if target <= i:
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


def _widths(code: list[MInst]) -> dict[int, int]:
    widths: dict[int, int] = {}
    for inst in code:
        for op in inst.operands:
            base = op.base if isinstance(op, MAddr) else op
            if isinstance(base, VReg):
                widths[base.id] = max(widths.get(base.id, 1), base.width)
    return widths


def _scan(table: dict[int, list[int]], widths: dict[int, int], limit: int,
          what: str) -> dict[int, int]:
    order = sorted(table, key=lambda v: (table[v][0], v))
    free = [True] * limit
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
            raise CompilerError(f"the kernel needs more than {what} at once (spilling "
                                "is not implemented)")
        for k in range(width):
            free[r + k] = False
        where[v] = r
        active.append((end, v))
    return where


def allocate(code: list[MInst]) -> tuple[list[Instruction], list[tuple[str, int]], int]:
    """Physical instructions, labels ``(name, index)`` and the register count for
    ``code`` (see the module docstring)."""
    regs, preds = intervals(code)
    widths = _widths(code)
    rmap = _scan(regs, widths, MAX_GPR + 1, "255 registers")
    pmap = _scan(preds, {}, PT_INDEX, "7 predicates")

    def reg(v: VReg) -> Reg:
        return Reg(rmap[v.id] + (v.half or 0), v.neg, v.abs, v.inv)

    def convert(op: object) -> object:
        if isinstance(op, VReg):
            return reg(op)
        if isinstance(op, VPred):
            return Pred(pmap[op.id], op.neg)
        if isinstance(op, MAddr):
            return Addr(RZ.index if op.base is None else reg(op.base).index, op.offset,
                        op.wide)
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
    return out, labels, count



def _is_self_copy(inst: Instruction) -> bool:
    """A copy that allocation made a no-op: ``MOV Rx, Rx`` or a predicate copied to itself."""
    ops = inst.operands
    if inst.opcode == "MOV":
        return ops[0] == ops[1]
    if inst.opcode == "PLOP3":
        pu, pv, a, b, c, lut, _ = ops
        return pv == PT and b == PT and c == PT and lut.bits == 0xF0 and pu == a
    return False
