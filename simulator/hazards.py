"""The hazard checker: do a program's control codes protect every register dependence?

The hardware does not check fixed-latency dependences, so a stall count that is too short
gives wrong results silently; variable-latency results are only safe once their scoreboard
has been waited on (``reference/gpu-facts.md``, "Control codes"; Huerta et al. 2025,
arXiv 2503.20481 §4; ``reference/sass-codegen.md`` §1). The executor runs kernels
functionally and never sees these timing errors, so :class:`HazardChecker` replays the
timing the control codes promise and reports the first read or write they do not protect.
The compiler's control-code pass is verified against it.

The model, per thread (a thread's issues follow its own PC, so divergent threads keep
separate clocks):

* **Clock.** Each thread has a clock, the issue time of its next instruction, starting at
  0. Issuing an instruction at clock ``t`` moves the clock to ``t + max(stall, 1)`` (a stall
  of 0 behaves like 1). Waiting on scoreboards or barriers, yields and the issues of other
  threads of the warp take unknown extra time; the checker assumes none, the least time
  the hardware could take, so every check is conservative.
* **Fixed-latency results** (rows whose ``latency.variable`` is False): each destination
  register or predicate records the producer and its issue clock. A consumer issuing at
  ``t`` may read it when ``t - t_issue >= isa.latency.raw_latency(producer, consumer, ...)``:
  4 within the ALU or FMA class, 5 across, IMAD.WIDE's low half 3 and high half 5, 13 for
  a predicate read as the guard.
* **Variable-latency results** are *pending* on the producer's write scoreboard until the
  thread issues an instruction whose wait mask holds it. Reading (RAW) or overwriting
  (WAW) a pending register is a violation. Without a write scoreboard (``W-``) the result
  is never known to be ready, so any later read or overwrite is a violation.
* **Operands still being read** (WAR): a variable-latency instruction that sets a read
  scoreboard keeps its source registers (not its guard, which is read at issue) "being
  read" until that scoreboard -- or its write scoreboard, since an instruction reads its
  operands before its result lands -- is waited on. Overwriting such a register first is a
  violation. A source the instruction also overwrites is protected by its own write.
* **Scoreboard visibility.** An increment lands one cycle after issue, so waiting on SBk
  at clock ``t`` when this thread's last setter of SBk issued at ``t - 1`` is a violation
  (the setter needs stall >= 2).
* A wait mask takes effect before the instruction's reads and writes are checked. RZ and
  PT are never pending. Register pairs and quads follow ``OpcodeInfo.widths``; an address
  reads its base register (a pair when ``.64``), LDC its index register; constants,
  immediates and special registers read none. Threads that never ran a producer have
  nothing pending.

Threads issuing an instruction with a false guard count as executing it (they still
set scoreboards, and a compiler cannot know guards statically), so their "writes" are
recorded too (predicated-off instructions still set and release scoreboards: maxas, cited
in sass-codegen.md §1). :meth:`HazardChecker.issue` is vectorized over the issuing threads;
the per-instruction facts (registers read and written, latency vectors, scoreboards) are
computed once, by :mod:`warpforge.simulator.hazard_facts`.

Not modelled (no published figure to check against): the order in which two fixed-latency
writes of one register land (the later write is taken as the one a reader waits for), a
variable-latency instruction without a read scoreboard reading its sources late (only read
scoreboards protect sources), ``DEPBAR`` counts, and the yield bit.
"""

from __future__ import annotations

import numpy as np

from ..isa.program import NUM_SCOREBOARDS, Program
from .hazard_facts import (
    NEVER,
    Facts,
    ProgramFacts,
    Read,
    Write,
    label,
    record_bit,
    record_read_sbs,
)

SB_VISIBLE = 2
"""Cycles from a scoreboard setter's issue until a wait on that scoreboard is effective."""
_FAR_PAST = -(1 << 40)
"""Clock of a scoreboard that was never set."""


class HazardChecker:
    """Checks, instruction by instruction, that control codes protect every dependence.

    The executor calls :meth:`issue` before each instruction, for the threads issuing it.
    State is kept per thread as arrays of shape ``[rows, num_threads]``, one row per
    register or predicate the program touches (see :class:`ProgramFacts`).
    """

    def __init__(self, program: Program, num_threads: int) -> None:
        self.program = program
        self.num_threads = num_threads
        self._program_facts = facts = ProgramFacts(program)
        rows, tracked, t = len(facts.rows), facts.num_tracked, num_threads
        self._tracked = tracked
        self._read_tracked = read_tracked = facts.num_read_tracked
        self.clock = np.zeros(t, np.int64)
        """Issue time of each thread's next instruction."""
        # Last write of each row: when (the far past when the result is variable-latency,
        # whose readiness the scoreboards decide), by which kind of producer
        # (ProgramFacts.keys), by which instruction.
        self._written_at = np.full((rows, t), _FAR_PAST, np.int64)
        self._key = np.zeros((rows, t), np.int16)
        self._writer = np.full((rows, t), -1, np.int32)
        # Scoreboard-guarded rows: pending write bits; reader records and the last reader.
        self._pending = np.zeros((tracked, t), np.uint8)
        self._records = np.zeros((read_tracked, t), np.uint64)
        self._reader = np.full((read_tracked, t), -1, np.int32)
        # Per scoreboard: when and by which instruction each thread last set it.
        self._sb_set_at = np.full((NUM_SCOREBOARDS, t), _FAR_PAST, np.int64)
        self._sb_setter = np.full((NUM_SCOREBOARDS, t), -1, np.int32)

    def issue(self, pc: int, mask: np.ndarray) -> tuple[int, str] | None:
        """Check and record instruction ``pc`` issued by the threads in ``mask``.

        Called before the instruction executes; ``mask`` (bool, ``[num_threads]``) holds the
        issuing threads, those whose guard is false included. Returns None when the control
        codes protect every dependence, else ``(thread, message)`` for the lowest-numbered
        offending thread (the first violated rule, in check order, for that thread); the
        message names the register, both instructions and the cycles or scoreboard that
        were missing. A violating issue is not recorded.
        """
        cols = np.flatnonzero(mask)
        if cols.size == 0:
            return None
        sel: slice | np.ndarray = slice(None) if cols.size == self.num_threads else cols
        facts = self._program_facts.facts[pc]
        t = self.clock[sel].copy()
        found: list[tuple[int, str]] = []

        def report(bad: np.ndarray, message) -> None:
            if bad.any():
                i = int(np.argmax(bad))
                found.append((int(cols[i]), message(i)))

        for sb in facts.wait_sbs:
            gap = t - self._sb_set_at[sb, sel]
            report(gap < SB_VISIBLE,
                   lambda i, sb=sb, gap=gap: self._too_soon(facts, sb, int(gap[i]), sel, i))
        for read in facts.reads:
            self._check_read(facts, read, t, sel, report)
        for write in facts.writes:
            self._check_write(facts, write, sel, report)
        if found:
            return min(found, key=lambda item: item[0])
        self._record(pc, facts, t, sel)
        return None

    def _check_read(self, facts: Facts, read: Read, t, sel, report) -> None:
        row = read.row
        if row < self._tracked:
            pending = self._pending[row, sel] & facts.pending_keep
            report(pending != 0, lambda i: self._pending_message(
                facts, read.name, "reads", int(pending[i]), int(self._writer[row, sel][i])))
        if read.need is None:
            return
        gap = t - self._written_at[row, sel]
        # One number when all writers of the row agree, else looked up per thread.
        need = read.need if isinstance(read.need, int) else read.need[self._key[row, sel]]
        report(gap < need, lambda i: self._latency_message(
            facts, read, int(gap[i]), int(np.broadcast_to(need, gap.shape)[i]),
            int(self._writer[row, sel][i]), int(self._key[row, sel][i])))

    def _check_write(self, facts: Facts, write: Write, sel, report) -> None:
        row = write.row
        if row >= self._tracked:
            return
        pending = self._pending[row, sel] & facts.pending_keep
        report(pending != 0, lambda i: self._pending_message(
            facts, write.name, "overwrites", int(pending[i]), int(self._writer[row, sel][i])))
        if row >= self._read_tracked:
            return
        records = self._records[row, sel] & facts.records_keep
        report(records != 0, lambda i: self._war_message(
            facts, write.name, int(records[i]), int(self._reader[row, sel][i])))

    def _record(self, pc: int, facts: Facts, t: np.ndarray, sel) -> None:
        if facts.wait_sbs:
            self._pending[:, sel] &= facts.pending_keep
            if self._read_tracked:
                self._records[:, sel] &= facts.records_keep
        for row in facts.being_read:
            self._records[row, sel] |= np.uint64(facts.record)
            self._reader[row, sel] = pc
        for write in facts.writes:
            self._written_at[write.row, sel] = t if write.key else _FAR_PAST
            self._key[write.row, sel] = write.key
            self._writer[write.row, sel] = pc
            if write.row < self._tracked:
                self._pending[write.row, sel] = facts.pending
        for sb in facts.sets:
            self._sb_set_at[sb, sel] = t
            self._sb_setter[sb, sel] = pc
        self.clock[sel] = t + facts.advance

    # --- messages ------------------------------------------------------------------------

    def _name(self, pc: int) -> str:
        return label(pc, self.program.instructions[pc])

    def _too_soon(self, facts: Facts, sb: int, gap: int, sel, i: int) -> str:
        setter = int(self._sb_setter[sb, sel][i])
        return (f"{facts.label} waits on SB{sb} {_cycles(gap)} after {self._name(setter)} sets "
                f"it, before the increment is visible; the "
                f"{self.program.instructions[setter].opcode} needs stall >= {SB_VISIBLE}")

    def _latency_message(self, facts: Facts, read: Read, gap: int, need: int, writer: int,
                         key: int) -> str:
        half = self._program_facts.keys[key][1]
        what = {None: "", 0: " (low half of its 64-bit result)",
                1: " (high half of its 64-bit result)"}[half]
        how = "as its guard " if read.guard else ""
        return (f"{facts.label} reads {read.name} {how}{_cycles(gap)} after "
                f"{self._name(writer)} wrote it{what}; needs {need} "
                f"(stall counts too short by {need - gap})")

    def _pending_message(self, facts: Facts, name: str, verb: str, pending: int,
                         writer: int) -> str:
        producer = self._name(writer)
        if pending & NEVER:
            return (f"{facts.label} {verb} {name}, but {producer} sets no write scoreboard, "
                    f"so its result is never known to be written (give it a write scoreboard "
                    f"and wait on it)")
        sb = pending.bit_length() - 1
        return (f"{facts.label} {verb} {name} before {producer} has written it; "
                f"wait on SB{sb} (its write scoreboard) first")

    def _war_message(self, facts: Facts, name: str, records: int, reader: int) -> str:
        by = "an earlier instruction"
        if reader >= 0:
            ctrl = self.program.instructions[reader].ctrl
            if records & record_bit(ctrl.read, ctrl.write):
                by = self._name(reader)
        sbs = record_read_sbs(records)
        waits = ", ".join(f"SB{sb}" for sb in sbs)
        whose = "its read scoreboard" if len(sbs) == 1 else "the readers' read scoreboards"
        return (f"{facts.label} overwrites {name} while {by} may still be reading it; "
                f"wait on {waits} ({whose}) first")


def _cycles(n: int) -> str:
    return f"{n} cycle" if n == 1 else f"{n} cycles"
