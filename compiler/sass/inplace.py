"""Updates in place: a result written into the register of an operand that dies there.

Machine code from SSA names every result afresh. An accumulation carried around a loop,
``acc = acc + a[k] * b[k]`` unrolled, becomes ``t1 = FFMA(a0, b0, acc)``, ``t2 = FFMA(a1,
b1, t1)``, ... and at last ``acc = FFMA(a7, b7, t7)``: the carried register ``acc`` is live
from the loop's top to its back edge (linear scan sees one interval), so each chain holds a
second register for its temporaries. With a GEMM's 64 accumulators that is 64 registers
more than ptxas, which writes ``FFMA R4, R10, R20, R4``.

Within a straight-line stretch (no label, branch, barrier or ``EXIT`` between), a result
``t`` of an unguarded instruction ``D`` that reads ``v`` is renamed ``v`` when

- ``t`` is one whole register, 32-bit or a quad (an HMMA's accumulators: ``HMMA R8, R20,
  R24, R8``), defined only by ``D``, and read only later in the stretch;
- ``v`` is as wide, and the next mention of ``v`` after ``D`` is an unguarded write of all
  of it, at or after ``t``'s last read (so the value ``D`` read is dead after ``D``, and
  ``t`` is dead when ``v`` is written again).

Then ``t`` and ``v`` never hold values live at once, and one register serves both. Chains
collapse one link at a time, in order.
"""

from __future__ import annotations

import bisect

from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import PT
from .mir import MAddr, MInst, VReg, accesses, def_counts, reg_ids, renamed, stretches
from .schedule import FENCES


def update_in_place(code: list[MInst]) -> list[MInst]:
    """``code`` with results renamed into dying operands (see the module docstring)."""
    code = list(code)
    mentions: dict[int, list[int]] = {}  # register -> indices of the instructions naming it
    for k, inst in enumerate(code):
        for v in dict.fromkeys(reg_ids(inst)):
            mentions.setdefault(v, []).append(k)
    defs = def_counts(code)
    for start, end in stretches(code, lambda inst: inst.opcode in FENCES):
        for k in range(start, end):
            _try(code, mentions, defs, k, end)
    return code


def _try(code: list[MInst], mentions: dict[int, list[int]], defs: dict[int, int], i: int,
         hi: int) -> None:
    """Rename the result of ``code[i]`` into an operand that dies there, if one does."""
    d = code[i]
    t = _dest(d) if d.guard == PT else None
    if t is None or defs.get(t.id) != 1:
        return
    uses = mentions[t.id]
    if uses[0] != i:
        return  # read before its definition (around a loop)
    reads, writes, _, _ = accesses(d)
    for v in dict.fromkeys(reads):
        if v == t.id or v in writes or not _whole(d, v, t.width):
            continue
        later = mentions[v]
        n = bisect.bisect_right(later, i)
        if n == len(later) or later[n] >= hi:
            continue  # not written again in this stretch
        j = later[n]
        rj, wj, _, _ = accesses(code[j])
        if code[j].guard != PT or v in rj or v not in wj or not _whole(code[j], v, t.width):
            continue
        if uses[-1] > j:
            continue  # t is still read after v is written again
        for k in uses:
            code[k] = renamed(code[k], {t.id: VReg(v, t.width)})
            if k not in later:
                bisect.insort(later, k)
        del mentions[t.id]
        return


def _dest(inst: MInst) -> VReg | None:
    """The instruction's one register result, whole (32-bit, or an HMMA's quad), or
    None."""
    if inst.opcode == "LABEL":
        return None
    found = [op for spec, op in zip(OPCODES[inst.opcode].operands, inst.operands, strict=True)
             if spec.kind is Kind.RD and isinstance(op, VReg)]
    if len(found) != 1 or found[0].half is not None or found[0].width == 2:
        return None
    return found[0]


def _whole(inst: MInst, v: int, width: int) -> bool:
    """Every mention of ``v`` in ``inst`` is the whole register, ``width`` wide."""
    for op in inst.operands:
        base = op.base if isinstance(op, MAddr) else op
        if isinstance(base, VReg) and base.id == v and (base.width != width
                                                         or base.half is not None):
            return False
    return True

