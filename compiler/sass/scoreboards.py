"""Pass 1 of the control codes: scoreboards (wait masks, read and write scoreboards).

Mesa NAK's ``assign_barriers`` (``calc_instr_deps.rs``), as ``reference/sass-codegen.md`` §1
describes it, in two walks over the instructions in layout order:

1. **Dependences.** Each variable-latency instruction (``OpcodeInfo.latency.variable``) has
   a *read dep*, done once its register sources are read, and a *write dep*, done once its
   results land. A per-register tracker holds, for each register, either the write dep of
   the variable-latency instruction that last wrote it or the read deps of those that read
   it since. A reader of the register (its guard included) waits on the write dep (RAW); a
   writer waits on the write dep (WAW) or the read deps (WAR), except on its own read dep
   (a source it overwrites is protected by its own write). A dep is *active* from its
   instruction on while it has something to protect (register sources for the read dep,
   results for the write dep); only the first wait on an active dep counts, and a wait on a
   write dep also completes the same instruction's read dep, as the hazard checker does.
   Every BRA, every EXIT and every instruction a label operand names waits on all active
   deps, so no dep is outstanding where threads join or leave, and back edges need no
   analysis.
2. **Allocation.** A dep gets a scoreboard only if something waits on it. Walking again,
   each instruction's waits release the scoreboards of its deps; then its read dep and its
   write dep take the first free scoreboard of SB0-SB5, or, when all six are busy, the one
   holding the oldest dep, which the instruction then waits on itself (no DEPBAR). A later
   wait on an evicted dep needs nothing.

Layout order is a sound order for the walk: every block boundary either waits on all deps
(branches, EXIT, label targets) or is the fall-through from the block just walked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS, Control, Program
from .cfg import targets
from .regs import Access


@dataclass(frozen=True)
class Scoreboards:
    """The scoreboard half of each instruction's control code: wait mask, read and write
    scoreboards (``NO_BARRIER`` for none)."""

    wait: tuple[int, ...]
    read: tuple[int, ...]
    write: tuple[int, ...]

    def control(self, i: int, stall: int, yield_: bool) -> Control:
        """Instruction ``i``'s control code with this stall and yield."""
        return Control(self.wait[i], self.read[i], self.write[i], yield_, stall)


def _read_dep(i: int) -> int:
    return 2 * i


def _write_dep(i: int) -> int:
    return 2 * i + 1


def waits_on_all(program: Program) -> frozenset[int]:
    """Instructions that wait on every outstanding scoreboard: BRA, EXIT, label targets."""
    insts = program.instructions
    return targets(program) | {i for i, inst in enumerate(insts)
                               if inst.opcode in ("BRA", "EXIT")}


def dependences(program: Program, accesses: list[Access]) -> list[list[int]]:
    """Walk 1: per instruction, the deps it is the first to wait on (oldest first).

    Deps are numbered in creation order: instruction ``i``'s read dep ``2i``, its write dep
    ``2i + 1``.
    """
    wait_all = waits_on_all(program)
    # Per register: ("W", write dep) or ("R", [read deps]).
    uses: dict[str, tuple[str, list[int]]] = {}
    active: set[int] = set()
    waited: set[int] = set()
    first_waits: list[list[int]] = []

    def first(waits: list[int]) -> list[int]:
        for dep in waits:
            if dep % 2 == 1:  # waiting on a write also completes the read
                active.discard(dep - 1)
        chosen = sorted({dep for dep in waits if dep in active and dep not in waited})
        active.difference_update(chosen)
        waited.update(chosen)
        return chosen

    def take_write(name: str) -> list[int]:
        kind, deps = uses.get(name, ("R", []))
        if kind == "W":
            del uses[name]
            return deps
        return []

    for i, acc in enumerate(accesses):
        waits: list[int] = []
        if i in wait_all:
            waits.extend(active)
        if acc.guard is not None:
            waits.extend(take_write(acc.guard))
        if not acc.variable:
            for name in acc.sources:
                waits.extend(take_write(name))
            for name, _ in acc.writes:
                waits.extend(uses.pop(name, ("R", []))[1])
        else:
            rd, wr = _read_dep(i), _write_dep(i)
            for name in acc.sources:
                active.add(rd)
                kind, deps = uses.get(name, ("R", []))
                if kind == "W":
                    waits.extend(deps)
                    uses[name] = ("R", [rd])
                elif rd not in deps:
                    uses[name] = ("R", [*deps, rd])
            for name, _ in acc.writes:
                active.add(wr)
                _, deps = uses.get(name, ("R", []))
                waits.extend(dep for dep in deps if dep != rd)
                uses[name] = ("W", [wr])
        first_waits.append(first(waits))
    return first_waits


def allocate(accesses: list[Access], first_waits: list[list[int]]) -> Scoreboards:
    """Walk 2: scoreboards for the deps something waits on, first free or oldest evicted."""
    waited_later = {dep for waits in first_waits for dep in waits}
    holder: list[int | None] = [None] * NUM_SCOREBOARDS
    wait, read, write = [], [], []
    for i, acc in enumerate(accesses):
        mask = 0
        for dep in first_waits[i]:
            if dep in holder:
                sb = holder.index(dep)
                mask |= 1 << sb
                holder[sb] = None
        sbs = [NO_BARRIER, NO_BARRIER]
        if acc.variable:
            for k, dep in enumerate((_read_dep(i), _write_dep(i))):
                if dep not in waited_later:
                    continue
                if None in holder:
                    sb = holder.index(None)
                else:  # evict the oldest dep and wait for it here
                    sb = min(range(NUM_SCOREBOARDS), key=lambda b: holder[b])
                    mask |= 1 << sb
                holder[sb] = dep
                sbs[k] = sb
        wait.append(mask)
        read.append(sbs[0])
        write.append(sbs[1])
    return Scoreboards(tuple(wait), tuple(read), tuple(write))


def assign_scoreboards(program: Program, accesses: list[Access]) -> Scoreboards:
    """Wait masks and read/write scoreboards for ``program`` (see the module docstring)."""
    return allocate(accesses, dependences(program, accesses))
