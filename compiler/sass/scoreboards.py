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
2. **Allocation.** A dep gets a scoreboard only if something waits on it. A scoreboard is a
   counter, so several deps may share one, and a wait on it waits for all of them.
   Walking again, each instruction's waits release the scoreboards of its deps (and so
   every dep sharing them); then its read dep and its write dep each

   - a global load's write dep *shares* a busy scoreboard holding only global loads'
     write deps when neither they nor the new dep is first waited on within
     :data:`SHARE_DISTANCE` instructions: a GEMM's loads of the next tile, all waited on
     by the stores at the end of its K step, complete about together (hundreds of cycles
     after issue), so one wait serves them all, and the other scoreboards stay free for
     what the math waits on soon (with a scoreboard each, six loads in flight took all
     six, and the first shared load of the math evicted one, waiting for global memory);
   - else take the first free scoreboard of SB0-SB5;
   - else, when all six are busy, share one holding only write deps of the same opcode
     (the one first waited on latest): a wait on it then waits for the newcomer too, a
     little early, where an eviction would make the newcomer wait for a whole latency
     before it issues (a warp's fragment loads evicting each other waited out each
     load's latency in turn; its MMAs' accumulators share one);
   - else take the one whose deps are expected to complete first (issue order plus the
     latency the scheduler plans: a shared load before a global one), which the
     instruction then waits on itself (no DEPBAR).

   A later wait on a dep already waited for (evicted or shared) needs nothing.

Layout order is a sound order for the walk: every block boundary either waits on all deps
(branches, EXIT, label targets) or is the fall-through from the block just walked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS, Control, Program
from .cfg import targets
from .regs import Access, planned_latency

SHARE_DISTANCE = 8
"""Instructions between a dep and the first wait on it (or on a dep it would share a
scoreboard with) at least, for the two to share one."""
SHARED_OPCODES = frozenset({"LDG"})
"""Opcodes whose write deps may share a scoreboard (global loads: long, and waited on
late)."""


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
    """Walk 2: scoreboards for the deps something waits on: shared, free, or the one
    expected to complete first evicted (see the module docstring)."""
    first_wait = {dep: i for i, waits in enumerate(first_waits) for dep in waits}
    holder: list[list[int]] = [[] for _ in range(NUM_SCOREBOARDS)]
    wait, read, write = [], [], []

    def kind(dep: int) -> tuple[int, str]:
        return dep % 2, accesses[dep // 2].info.name

    def done_by(dep: int) -> int:
        lat = planned_latency(accesses[dep // 2].info.name) if dep % 2 else 2
        return dep // 2 + lat

    for i, acc in enumerate(accesses):
        mask = 0
        for dep in first_waits[i]:
            for sb, deps in enumerate(holder):
                if dep in deps:
                    mask |= 1 << sb
                    holder[sb] = []
        sbs = [NO_BARRIER, NO_BARRIER]
        if acc.variable:
            for k, dep in enumerate((_read_dep(i), _write_dep(i))):
                if dep not in first_wait:
                    continue
                sb = _shared(holder, dep, i, first_wait, kind)
                if sb is None and [] in holder:
                    sb = holder.index([])
                elif sb is None:
                    sb = _alike(holder, dep, first_wait, kind)
                if sb is None:  # evict what should complete first and wait for it here
                    older = [b for b in range(NUM_SCOREBOARDS)
                             if all(d // 2 < i for d in holder[b])]  # not this one's own
                    sb = min(older, key=lambda b: max(done_by(d) for d in holder[b]))
                    mask |= 1 << sb
                    holder[sb] = []
                holder[sb].append(dep)
                sbs[k] = sb
        wait.append(mask)
        read.append(sbs[0])
        write.append(sbs[1])
    return Scoreboards(tuple(wait), tuple(read), tuple(write))


SHARED_KINDS = frozenset((1, name) for name in SHARED_OPCODES)


def _shared(holder: list[list[int]], dep: int, i: int, first_wait: dict[int, int],
            kind) -> int | None:
    """A busy scoreboard ``dep`` (of instruction ``i``) may share, or None."""
    if first_wait[dep] < i + SHARE_DISTANCE or kind(dep) not in SHARED_KINDS:
        return None
    for sb, deps in enumerate(holder):
        if deps and all(kind(d) == kind(dep) and first_wait[d] >= i + SHARE_DISTANCE
                        for d in deps):
            return sb
    return None


def _alike(holder: list[list[int]], dep: int, first_wait: dict[int, int], kind
           ) -> int | None:
    """With every scoreboard busy, one holding only deps of ``dep``'s kind (write deps of
    the same opcode) for it to share, the one first waited on latest; or None."""
    alike = [sb for sb, deps in enumerate(holder)
             if deps and all(kind(d) == kind(dep) for d in deps)]
    if not alike:
        return None
    return max(alike, key=lambda sb: min(first_wait[d] for d in holder[sb]))


def assign_scoreboards(program: Program, accesses: list[Access]) -> Scoreboards:
    """Wait masks and read/write scoreboards for ``program`` (see the module docstring)."""
    return allocate(accesses, dependences(program, accesses))
