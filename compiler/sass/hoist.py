"""Loop-invariant machine code hoisted out of loops.

The IR's loop-invariant code motion (:mod:`warpforge.compiler.passes.licm`) moves IR
values, but instruction selection derives more: a shared-memory address base is
``IMAD``s of loop-invariant indices by constant strides, emitted where the address is
first used, inside the loop. A GEMM's K loop recomputed six such bases every step.

A loop is a ``BRA`` back to an earlier label; its body runs from the label to the branch.
An instruction in the body moves to just before the label when

- it is an unguarded integer ALU instruction (``IMAD``, ``IADD3``, ``LOP3``, ``SHF``,
  ``MOV``, ``LEA``) without predicate operands: it cannot fault, so running it where the
  loop may not have run it (in an arm not taken, or in a loop that runs no time) changes
  nothing but a register nobody reads;
- its one result is a single 32-bit register defined nowhere else (64-bit pairs stay: two
  registers live across the loop for one instruction a step is a poor trade);
- no register it reads is written in the body (or it was written by an instruction
  hoisted before it).

Inner loops go first, so an invariant of two nested loops leaves both. Hoisted
instructions that repeat one hoisted before them (the same sources) are dropped, their
results read from the first's.
"""

from __future__ import annotations

from ...isa.operands import PT, Label
from .mir import MInst, VPred, VReg, accesses, def_counts, renamed

PURE = frozenset({"IMAD", "IADD3", "LOP3", "SHF", "MOV", "LEA"})
"""Opcodes that may move: integer ALU, no memory, no faults."""


def hoist_invariants(code: list[MInst]) -> list[MInst]:
    """``code`` with loop-invariant ALU instructions before their loops (see the module
    docstring)."""
    code = list(code)
    defs = def_counts(code)
    done: set[str] = set()
    while True:
        loop = _next_loop(code, done)
        if loop is None:
            return code
        head, back, name = loop
        done.add(name)
        moved = _invariants(code, head, back, defs)
        if moved:
            keep = [inst for k, inst in enumerate(code) if k not in moved]
            at = keep.index(code[head])
            hoisted, same = _unique([code[k] for k in sorted(moved)])
            code = keep[:at] + hoisted + keep[at:]
            if same:
                code = [renamed(inst, same) for inst in code]


def _next_loop(code: list[MInst], done: set[str]) -> tuple[int, int, str] | None:
    """The smallest loop whose label is not yet visited: (the label's index, the back
    branch's, the label's name)."""
    labels = {inst.operands[0]: k for k, inst in enumerate(code) if inst.opcode == "LABEL"}
    best = None
    for k, inst in enumerate(code):
        if inst.opcode != "BRA" or not isinstance(inst.operands[0], Label):
            continue
        h = labels.get(inst.operands[0].name)
        if h is None or h >= k or inst.operands[0].name in done:
            continue
        if best is None or k - h < best[1] - best[0]:
            best = (h, k, inst.operands[0].name)
    return best


def _invariants(code: list[MInst], head: int, back: int, defs: dict[int, int]) -> set[int]:
    """Indices of the body's instructions that may move before the loop."""
    written = {v for k in range(head + 1, back + 1) for v in accesses(code[k])[1]}
    moved: set[int] = set()
    for k in range(head + 1, back):
        inst = code[k]
        if inst.opcode not in PURE or inst.guard != PT:
            continue
        if any(isinstance(op, VPred) for op in inst.operands):
            continue
        reads, writes, _, _ = accesses(inst)
        if len(writes) != 1 or defs.get(writes[0]) != 1:
            continue
        dest = next(op for op in inst.operands if isinstance(op, VReg) and op.id == writes[0])
        if dest.width != 1 or any(r in written for r in reads):
            continue
        moved.add(k)
        written.discard(writes[0])
    return moved


def _unique(insts: list[MInst]) -> tuple[list[MInst], dict[int, VReg]]:
    """``insts`` without repeats of an instruction already among them (the same opcode,
    modifiers and sources), and the repeats' results renamed to the first's."""
    seen: dict[tuple, VReg] = {}
    same: dict[int, VReg] = {}
    out = []
    for inst in insts:
        inst = renamed(inst, same)
        dest = inst.operands[0]
        key = (inst.opcode, inst.modifiers, inst.operands[1:])
        if isinstance(dest, VReg) and key in seen:
            same[dest.id] = seen[key]
            continue
        if isinstance(dest, VReg):
            seen[key] = dest
        out.append(inst)
    return out, same

