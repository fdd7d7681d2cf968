"""Instruction scheduling: list scheduling within straight-line stretches of machine code.

Stretches end at labels, branches, ``BSSY``/``BSYNC``, ``BAR`` and unconditional ``EXIT``
(fences: nothing moves across them). A guarded ``EXIT`` (a bounds check) is ordered like a
memory operation instead, so pure arithmetic may move across it and hide its guard's
latency (threads that leave just compute a value nobody reads).

Within a stretch, a dependence graph over virtual registers and predicates (read after
write with the producer's latency from the opcode table; write after read and write after
write keep their order) plus an order on every memory and warp operation (loads, stores,
atomics, ``SHFL``, ``VOTE``, ``WARPSYNC`` keep their relative order: simple and safe) is
scheduled
top-down: each cycle issues the ready instruction with the longest
latency-weighted path to the stretch's end (ties keep source order), or, when none is
ready, the one ready soonest. So loads float up, ahead of the arithmetic that does not
need them, and their latency overlaps independent work
(``reference/sass-codegen.md`` §3).
"""

from __future__ import annotations

from ...isa.opcodes import OPCODES
from ...isa.operands import PT
from .mir import MInst, accesses

FENCES = frozenset({"LABEL", "BRA", "BSSY", "BSYNC", "BAR", "EXIT"})
"""Opcodes that end a stretch."""
ORDERED = frozenset({"LDG", "STG", "LDS", "STS", "LDL", "STL", "ATOMG", "ATOMS", "RED",
                     "SHFL", "VOTE", "WARPSYNC"})
"""Opcodes kept in their relative order."""


def schedule(code: list[MInst]) -> list[MInst]:
    """``code`` with each straight-line stretch list-scheduled (see the module docstring)."""
    out: list[MInst] = []
    stretch: list[MInst] = []
    for inst in code:
        if inst.opcode in FENCES and not (inst.opcode == "EXIT" and inst.guard != PT):
            out.extend(schedule_stretch(stretch))
            stretch = []
            out.append(inst)
        else:
            stretch.append(inst)
    out.extend(schedule_stretch(stretch))
    return out


def _latency(inst: MInst) -> int:
    return OPCODES[inst.opcode].latency.cycles


def schedule_stretch(insts: list[MInst]) -> list[MInst]:
    """One stretch, reordered."""
    n = len(insts)
    if n <= 1:
        return list(insts)
    succs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    npreds = [0] * n
    last_write: dict[tuple[str, int], int] = {}
    reads_since: dict[tuple[str, int], list[int]] = {}
    last_ordered = -1

    def edge(a: int, b: int, lat: int) -> None:
        succs[a].append((b, lat))
        npreds[b] += 1

    for i, inst in enumerate(insts):
        rr, rw, pr, pw = accesses(inst)
        reads = [("r", v) for v in rr] + [("p", v) for v in pr]
        writes = [("r", v) for v in rw] + [("p", v) for v in pw]
        for key in reads:
            if key in last_write:
                edge(last_write[key], i, _latency(insts[last_write[key]]))
        for key in writes:
            for r in reads_since.get(key, []):
                if r != i:
                    edge(r, i, 0)
            if key in last_write:
                edge(last_write[key], i, 1)
        for key in reads:
            reads_since.setdefault(key, []).append(i)
        for key in writes:
            last_write[key] = i
            reads_since[key] = []
        if inst.opcode in ORDERED or inst.opcode == "EXIT":
            if last_ordered >= 0:
                edge(last_ordered, i, 0)
            last_ordered = i
    height = [0] * n
    for i in range(n - 1, -1, -1):
        own = _latency(insts[i]) if any(accesses(insts[i])[1::2]) else 1
        height[i] = max([lat + height[j] for j, lat in succs[i]] + [own])
    ready_at = [0] * n
    waiting = list(npreds)
    candidates = [i for i in range(n) if waiting[i] == 0]
    order: list[int] = []
    cycle = 0
    while candidates:
        now = [i for i in candidates if ready_at[i] <= cycle]
        if now:
            pick = max(now, key=lambda i: (height[i], -i))
        else:
            pick = min(candidates, key=lambda i: (ready_at[i], -height[i], i))
            cycle = ready_at[pick]
        candidates.remove(pick)
        order.append(pick)
        for j, lat in succs[pick]:
            ready_at[j] = max(ready_at[j], cycle + lat)
            waiting[j] -= 1
            if waiting[j] == 0:
                candidates.append(j)
        cycle += 1
    return [insts[i] for i in order]
