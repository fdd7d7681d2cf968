"""Repeated machine instructions in straight-line code, computed once.

Instruction selection caches what it derives (addresses, constants) per structured scope,
so each arm of an ``if`` computes its own copy: four guarded loads ``if t < n: s +=
x[t, k + j]`` each rebuild ``x + t * stride`` in their own arm, and, with the arms
predicated into one straight line, the four loads no longer share a base that
:mod:`.vectorize` could merge them on. This pass removes the repeats:

- within a straight-line stretch (no label, branch or barrier in between),
- an instruction of :data:`~.dce.PURE` opcode (not a special-register read: the clock
  changes) that writes one virtual register (a single register or a pair) defined nowhere
  else,
- that repeats an earlier one exactly (opcode, modifiers, sources and guard), with no
  instruction between them writing a source or the guard's predicate,

is dropped and its result read from the earlier one's: both computed the same value, and
the earlier one's register, written nowhere else, keeps it wherever the later one's was
read (the later one dominates those reads, and the earlier one dominates it).
"""

from __future__ import annotations

from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import PT, RZ
from .dce import PURE
from .mir import MInst, VPred, VReg, accesses, def_counts, renamed, stretches

VOLATILE = frozenset({"S2R", "CS2R"})
"""Pure opcodes that may read a different value each time (the clock): never merged."""
FENCES = frozenset({"LABEL", "BRA", "BSSY", "BSYNC", "BAR", "EXIT", "WARPSYNC", "CALL",
                    "RET"})
"""Opcodes that end a stretch."""


def eliminate_repeats(code: list[MInst]) -> list[MInst]:
    """``code`` without repeated pure instructions (see the module docstring)."""
    defs = def_counts(code)
    drop: set[int] = set()
    mapping: dict[int, VReg] = {}
    for start, end in stretches(code, lambda inst: inst.opcode in FENCES):
        seen: dict[tuple, tuple[int, VReg]] = {}  # key -> (index, destination)
        for i in range(start, end):
            inst = renamed(code[i], mapping)
            key_dest = _key(inst, defs)
            if key_dest is None:
                continue
            key, dest = key_dest
            first = seen.get(key)
            if first is not None and _unchanged(code, first[0], i, key):
                mapping[dest.id] = VReg(first[1].id)
                drop.add(i)
            else:
                seen[key] = (i, dest)
    if not drop:
        return code
    return [renamed(inst, mapping) for i, inst in enumerate(code) if i not in drop]


def _key(inst: MInst, defs: dict[int, int]):
    """(what identifies ``inst``'s value, its destination), or None when it may not be
    merged: the key is (opcode, modifiers, sources, guard, width)."""
    if inst.opcode not in PURE or inst.opcode in VOLATILE:
        return None
    dests, sources = [], []
    for spec, op in zip(OPCODES[inst.opcode].operands, inst.operands, strict=True):
        if spec.kind in (Kind.RD, Kind.PD):
            if op not in (RZ, PT):
                dests.append(op)
        else:
            sources.append(op)
    if len(dests) != 1 or not isinstance(dests[0], VReg) or dests[0].half is not None:
        return None
    dest = dests[0]
    if defs.get(dest.id) != 1:
        return None
    return (inst.opcode, inst.modifiers, tuple(sources), inst.guard, dest.width), dest


def _unchanged(code: list[MInst], lo: int, hi: int, key: tuple) -> bool:
    """Whether nothing strictly between ``lo`` and ``hi`` writes a register or predicate
    that the instructions keyed ``key`` read."""
    _, _, sources, guard, _ = key
    regs = {op.id for op in sources if isinstance(op, VReg)}
    preds = {op.id for op in sources if isinstance(op, VPred)}
    if isinstance(guard, VPred):
        preds.add(guard.id)
    for i in range(lo + 1, hi):
        _, rw, _, pw = accesses(code[i])
        if regs.intersection(rw) or preds.intersection(pw):
            return False
    return True
