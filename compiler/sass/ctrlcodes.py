"""Control codes by construction: stall counts, yield, scoreboards and wait masks.

The last step of the SASS backend (``DESIGN.md``, "compiler/"): given an
:class:`isa.Program` whose control codes are missing or arbitrary, compute codes that
protect every register dependence, for every path any thread can take. This follows Mesa
NAK's ``calc_instr_deps.rs`` as ``reference/sass-codegen.md`` §1 ("NAK's algorithm",
"What to do here") describes it; the hardware contract is that of gpu-facts.md, "Control
codes" (Huerta et al. 2025): fixed-latency results are not checked by the hardware and must
be waited for with stall counts; variable-latency results release a scoreboard (SB0-SB5)
that a later instruction's wait mask blocks on; an increment is visible one cycle after
issue.

1. **Scoreboards** (:mod:`.scoreboards`): in layout order, a per-register tracker finds
   what waits on what; a variable-latency producer gets a write scoreboard only if
   something later waits on its result, and one that must keep its sources from being
   overwritten (a store, a load whose address register is reused) gets a read scoreboard.
   The first free scoreboard is taken, or the oldest is evicted (and waited on by the new
   producer itself). Every BRA, every EXIT and every instruction a label operand names
   waits on all outstanding scoreboards, so none is outstanding across a join or a back
   edge. BAR and BSYNC wait on nothing of their own: they order threads, not registers, and
   a BSYNC sits at a BSSY's label, which already waits on all.
2. **Delays** (:mod:`.delays`): per basic block (:mod:`.cfg`), walking backwards, each
   instruction issues as late before the block's end as its consumers' RAW latencies
   (:func:`isa.latency.raw_latency`, IMAD.WIDE halves and the 13-cycle guard rule
   included), its next write of the same register (WAW) and its scoreboard waiters (2
   cycles) require; results live into other blocks are ready by the time any successor
   path can read them. The stall is the gap to the next instruction, at least 1.
3. **Here**: stalls above 15 are split over NOPs inserted after the instruction (labels
   move with the instructions they name); the yield bit is set when the stall is 4 or
   more, as ptxas does, and on BAR and BSYNC, as NAK does.

Whatever NOPs the input holds are dropped first (a NOP does nothing; labels naming one move
to the next instruction), so that the pass is idempotent. Everything else of the program
-- operands, reuse flags, source locations, header -- is kept.

Not done (later, per sass-codegen.md §1): sharing one scoreboard among in-order loads,
``DEPBAR.LE`` counts, and letting scoreboards stay outstanding across branches.
"""

from __future__ import annotations

from dataclasses import replace

from ...isa.program import MAX_STALL, Control, Instruction, Program
from .cfg import blocks
from .delays import Delays, assign_delays
from .regs import access
from .scoreboards import Scoreboards, assign_scoreboards

YIELD_STALL = 4
"""Stalls from which the yield bit is set (ptxas, sass-codegen.md §1)."""
YIELD_OPCODES = frozenset({"BAR", "BSYNC"})
"""Opcodes that always yield (NAK)."""


def assign_control_codes(program: Program) -> Program:
    """A copy of ``program`` with correct control codes computed for every instruction.

    Input control codes are ignored. NOPs in the input are dropped and new ones inserted
    where a stall exceeds 15; labels are moved accordingly. See the module docstring.
    """
    program, sbs, delays = analyze(program)
    out: list[Instruction] = []
    new_index: list[int] = []
    for i, inst in enumerate(program.instructions):
        new_index.append(len(out))
        stall = delays.stalls[i]
        first = min(stall, MAX_STALL)
        out.append(replace(inst, ctrl=sbs.control(i, first, _yields(inst.opcode, first))))
        stall -= first
        while stall > 0:
            part = min(stall, MAX_STALL)
            nop = Control(stall=part, yield_=_yields("NOP", part))
            out.append(Instruction("NOP", ctrl=nop, loc=inst.loc))
            stall -= part
    new_index.append(len(out))
    labels = tuple((name, new_index[index]) for name, index in program.labels)
    return replace(program, instructions=tuple(out), labels=labels)


def analyze(program: Program) -> tuple[Program, Scoreboards, Delays]:
    """The pass's intermediate results: ``program`` without NOPs, its scoreboards, and its
    delays (stalls before NOPs are inserted, and why each issue is held back)."""
    program = strip_nops(program)
    accesses = [access(inst) for inst in program.instructions]
    sbs = assign_scoreboards(program, accesses)
    return program, sbs, assign_delays(blocks(program), accesses, sbs)


def _yields(opcode: str, stall: int) -> bool:
    return stall >= YIELD_STALL or opcode in YIELD_OPCODES


def strip_nops(program: Program) -> Program:
    """``program`` without its NOPs; a label naming a NOP names the next instruction."""
    kept: list[Instruction] = []
    new_index: list[int] = []
    for inst in program.instructions:
        new_index.append(len(kept))
        if inst.opcode != "NOP":
            kept.append(inst)
    new_index.append(len(kept))
    if len(kept) == len(program.instructions):
        return program
    labels = tuple((name, new_index[index]) for name, index in program.labels)
    return replace(program, instructions=tuple(kept), labels=labels)
