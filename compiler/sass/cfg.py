"""Basic blocks of a program, as the control-code passes see them.

A block starts at instruction 0, at every instruction a label operand names (the target of
a BRA, or the convergence point of a BSSY: a thread may arrive there from elsewhere), and
after every BRA and every unconditional EXIT. A block's successors are the block that
follows it in layout order, unless it ends with an unconditional BRA or EXIT, and the
target of its closing BRA. Threads have their own PCs (``reference/gpu-facts.md``,
"Divergence"), so every path through these edges is one thread's path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.operands import Label
from ...isa.program import Program
from .regs import is_unconditional


@dataclass(frozen=True)
class Block:
    """Instructions ``start`` to ``end`` (exclusive) and the indices of the successor blocks.

    ``falls_through`` is True when the block following it in layout order is a successor.
    """

    start: int
    end: int
    succs: tuple[int, ...]
    falls_through: bool


def targets(program: Program) -> frozenset[int]:
    """Indices of the instructions a label operand names (BRA targets, BSSY join points)."""
    labels = program.label_map
    n = len(program.instructions)
    found = {labels[op.name] for inst in program.instructions for op in inst.operands
             if isinstance(op, Label)}
    return frozenset(i for i in found if i < n)


def blocks(program: Program) -> list[Block]:
    """The basic blocks of ``program`` in layout order (see the module docstring)."""
    insts = program.instructions
    n = len(insts)
    if n == 0:
        return []
    leaders = {0} | targets(program)
    for i, inst in enumerate(insts):
        if inst.opcode == "BRA" or (inst.opcode == "EXIT" and is_unconditional(inst)):
            leaders.add(i + 1)
    starts = sorted(i for i in leaders if i < n)
    block_of = {start: k for k, start in enumerate(starts)}
    labels = program.label_map
    result = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else n
        last = insts[end - 1]
        succs: list[int] = []
        falls = end < n and not (last.opcode in ("BRA", "EXIT") and is_unconditional(last))
        if falls:
            succs.append(k + 1)
        if last.opcode == "BRA":
            target = next(op for op in last.operands if isinstance(op, Label))
            index = labels[target.name]
            if index < n and block_of[index] not in succs:
                succs.append(block_of[index])
        result.append(Block(start, end, tuple(succs), falls))
    return result
