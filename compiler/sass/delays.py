"""Pass 2 of the control codes: stall counts, per basic block, walking backwards.

Mesa NAK's ``calc_delays`` (``calc_instr_deps.rs``) as ``reference/sass-codegen.md`` §1
describes it. Within a block, cycles are counted backwards from the block's end ``E`` (the
issue time of whatever runs next): instruction ``i`` issues ``s[i]`` cycles before ``E``,
the largest of

* ``s[i+1] + 1`` (one issue per cycle; the last instruction: 1);
* for each result of a fixed-latency ``i``, every later reader ``j`` in the block before
  the next write of that register: ``s[j] + raw_latency(i, j)``
  (:func:`isa.latency.raw_latency`: ALU/FMA 4 within a class, 5 across, IMAD.WIDE halves
  3 and 5, a predicate read as a guard 13 -- ``reference/gpu-facts.md``, "Latencies");
* for the next write ``j`` of that register: ``s[j] + landing(i) - landing(j) + 1``, so
  that the two writes land in order (WAW; :func:`.regs.landing`), which also keeps a
  reader safe when the later write is predicated off;
* for a result no later instruction of the block overwrites: what the successor blocks
  demand of it (below);
* when ``i`` sets a scoreboard, ``s[j] + 2`` for the next instruction ``j`` that waits on
  it (an increment is visible one cycle after issue: gpu-facts.md, "Control codes"). An
  SB still outstanding at the block's end is waited on by the first instruction of the
  next block (a label target, which waits on all): ``2``.

The stall of ``i`` is ``s[i] - s[i+1]`` (of the last instruction, ``s[i]``). Variable
latency results and the operands of variable-latency instructions are protected by the
scoreboards of :mod:`.scoreboards`, not by stalls.

**Across blocks** (NAK requires any result unused in its block to be ready at the block's
end, at its worst-case latency; this is the same rule made precise). Threads follow their
own paths, so a block's entry *demand* joins those of all its successors: for each register,
each kind of access -- a read by opcode X (as a guard or not) or a write landing after L
cycles -- and the fewest instructions ``d`` that any path runs from the block's entry
before that access, with no write of the register in between. An instruction takes at
least one cycle, so that access happens at least ``d`` cycles after ``E``; a result issued
``s`` cycles before ``E`` is safe when ``s + d >= latency``. Demands are solved backwards
to a fixed point over the control-flow graph; distances of 13 cycles (the longest latency)
or more are dropped, so the iteration ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.latency import GUARD, raw_latency
from ...isa.opcodes import OPCODES
from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS
from .cfg import Block
from .regs import VARIABLE_LANDING, Access, landing
from .scoreboards import Scoreboards

Key = tuple[str, object, object]
"""An access a result must be ready for: ``("r", consumer opcode, as_guard)`` or
``("w", landing of the later write, None)``."""
Demand = dict[str, dict[Key, int]]
"""Register -> access kind -> fewest instructions from a block's entry to that access."""

SB_VISIBLE = 2
"""Cycles from a scoreboard setter's issue to an effective wait on it (gpu-facts.md)."""
HORIZON = GUARD
"""No access kind needs more cycles than this after its producer's issue."""


@dataclass(frozen=True)
class Delays:
    """Per instruction: its issue time in cycles before its block's end, its stall, and
    why its issue is held back that far: ``"order"`` (one issue per cycle), ``"raw"``,
    ``"waw"``, ``"sb"`` (a scoreboard wait in the block or at the next block's entry) or
    ``"demand"`` (a successor block's access)."""

    before_end: tuple[int, ...]
    stalls: tuple[int, ...]
    reasons: tuple[str, ...]


def _need(acc: Access, half: int | None, name: str, key: Key) -> int:
    """Cycles after a fixed-latency producer's issue until access ``key`` of ``name`` is
    safe."""
    kind, what, guard = key
    if kind == "r":
        return raw_latency(acc.info, OPCODES[what], wide_half=half, as_guard=bool(guard))
    return landing(acc.info.name, half, name.startswith("P")) - what + 1


def _write_landing(acc: Access, half: int | None, name: str) -> int:
    if acc.variable:
        return VARIABLE_LANDING
    return landing(acc.info.name, half, name.startswith("P"))


def _add(demand: Demand, name: str, key: Key, d: int) -> None:
    if d >= HORIZON:
        return
    kinds = demand.setdefault(name, {})
    if d < kinds.get(key, HORIZON):
        kinds[key] = d


def _entry_demand(block: Block, accesses: list[Access], exit_demand: Demand) -> Demand:
    demand: Demand = {}
    written: set[str] = set()
    for d, acc in enumerate(accesses[block.start:block.end]):
        for name, guard in acc.reads:
            if name not in written:
                _add(demand, name, ("r", acc.info.name, guard), d)
        for name, half in acc.writes:
            if name not in written:
                _add(demand, name, ("w", _write_landing(acc, half, name), None), d)
                written.add(name)
    length = block.end - block.start
    for name, kinds in exit_demand.items():
        if name not in written:
            for key, d in kinds.items():
                _add(demand, name, key, d + length)
    return demand


def _join(demands: list[Demand]) -> Demand:
    joined: Demand = {}
    for demand in demands:
        for name, kinds in demand.items():
            for key, d in kinds.items():
                _add(joined, name, key, d)
    return joined


def exit_demands(blocks: list[Block], accesses: list[Access]) -> list[Demand]:
    """What each block's successors demand of the registers live at its end."""
    entry: list[Demand] = [{} for _ in blocks]
    changed = True
    while changed:
        changed = False
        for k in reversed(range(len(blocks))):
            exit_ = _join([entry[s] for s in blocks[k].succs])
            new = _entry_demand(blocks[k], accesses, exit_)
            if new != entry[k]:
                entry[k] = new
                changed = True
    return [_join([entry[s] for s in block.succs]) for block in blocks]


def block_delays(block: Block, accesses: list[Access], sbs: Scoreboards,
                 exit_demand: Demand, next_waits: int) -> tuple[list[int], list[str]]:
    """Issue times (cycles before the block's end) and their reasons for one block.

    ``next_waits`` is the wait mask of the first instruction run after the block's end
    (the next block in layout order, when the block falls through), else 0.
    """
    size = block.end - block.start
    before = [0] * size
    reasons = ["order"] * size
    later_reads: dict[str, list[tuple[int, Key]]] = {}
    next_write: dict[str, tuple[int, int]] = {}
    waited_at: list[int | None] = [0 if next_waits >> sb & 1 else None
                                   for sb in range(NUM_SCOREBOARDS)]
    for k in reversed(range(size)):
        i = block.start + k
        acc = accesses[i]
        s = before[k + 1] + 1 if k + 1 < size else 1
        why = "order"

        def hold(cycles: int, reason: str) -> None:
            nonlocal s, why
            if cycles > s:
                s, why = cycles, reason

        for sb in {sbs.read[i], sbs.write[i]} - {NO_BARRIER}:
            if waited_at[sb] is not None:
                hold(waited_at[sb] + SB_VISIBLE, "sb")
        if not acc.variable:
            for name, half in acc.writes:
                for j, key in later_reads.get(name, ()):
                    hold(before[j] + _need(acc, half, name, key), "raw")
                if name in next_write:
                    j, lands = next_write[name]
                    hold(before[j] + _need(acc, half, name, ("w", lands, None)), "waw")
                else:
                    for key, d in exit_demand.get(name, {}).items():
                        hold(_need(acc, half, name, key) - d, "demand")
        before[k], reasons[k] = s, why
        for name, half in acc.writes:
            later_reads[name] = []
            next_write[name] = (k, _write_landing(acc, half, name))
        for name, guard in acc.reads:
            later_reads.setdefault(name, []).append((k, ("r", acc.info.name, guard)))
        for sb in range(NUM_SCOREBOARDS):
            if sbs.wait[i] >> sb & 1:
                waited_at[sb] = s
    return before, reasons


def assign_delays(blocks: list[Block], accesses: list[Access], sbs: Scoreboards) -> Delays:
    """Stall counts for every instruction (see the module docstring); stalls may exceed
    15 here, the caller splits them with NOPs."""
    exits = exit_demands(blocks, accesses)
    before: list[int] = []
    reasons: list[str] = []
    stalls: list[int] = []
    for block, exit_demand in zip(blocks, exits, strict=True):
        next_waits = sbs.wait[block.end] if block.falls_through else 0
        cycles, why = block_delays(block, accesses, sbs, exit_demand, next_waits)
        before.extend(cycles)
        reasons.extend(why)
        stalls.extend(a - b for a, b in zip(cycles, [*cycles[1:], 0], strict=True))
    return Delays(tuple(before), tuple(stalls), tuple(reasons))
