"""racecheck and initcheck, in the spirit of compute-sanitizer's tools of those names.

``Simulator(sanitize="racecheck,initcheck")`` (or ``WARPFORGE_SANITIZE``) turns them on;
memcheck (bounds and alignment) and synccheck (barriers under divergence) are always on.

**racecheck.** Shared memory is divided into cells of the narrowest width the program
accesses it with. Per cell it remembers, since the CTA's last barrier, the last thread that
wrote it and up to two threads that read it (the first and the last), with their
instruction and their warp's count of warp-synchronizing instructions (``WARPSYNC``,
``SHFL``, ``VOTE``) at the time. An access conflicts with an earlier one by another thread
when at least one of the two writes, unless both threads are in one warp and that warp
synchronized in between. A conflict raises :class:`~.errors.RaceError` naming both
instructions (and source lines), both threads and the address. A ``BAR.SYNC`` that
completes starts a new epoch for its CTA. Accesses by several threads within one
instruction are not compared with each other, and atomics are not tracked (they do not
race with each other).

**initcheck.** One bit per byte of shared memory (per CTA) and of local memory (per
thread) says whether any thread of the CTA (the thread) wrote it; a load or atomic that
reads a byte never written raises :class:`~.errors.UninitializedReadError` at the load.
The simulator zeroes both memories when a CTA starts, but CUDA does not promise it.
"""

from __future__ import annotations

import numpy as np

from ..isa.opcodes import OPCODES
from ..isa.program import Program
from .errors import ConfigError, RaceError, UninitializedReadError

TOOLS = ("memcheck", "synccheck", "racecheck", "initcheck")
"""Sanitizer names: the first two are always on."""
SHARED_OPS = ("LDS", "STS", "ATOMS")


def parse_tools(spec: str | None) -> frozenset[str]:
    """The set of tools a ``sanitize=`` value names; ConfigError for unknown ones."""
    if spec is None:
        return frozenset()
    if not isinstance(spec, str):
        raise ConfigError(f"Simulator(sanitize=...) must be a comma list of "
                          f"{', '.join(TOOLS)}, got {spec!r}")
    names = frozenset(p.strip() for p in spec.split(",") if p.strip())
    unknown = sorted(names - set(TOOLS))
    if unknown:
        raise ConfigError(f"unknown sanitizer(s) {', '.join(unknown)}; valid: "
                          f"{', '.join(TOOLS)}")
    return names


def cell_bytes(program: Program) -> int:
    """The narrowest width (1, 2 or 4 bytes) the program accesses shared memory with."""
    width = 4
    for inst in program.instructions:
        if inst.opcode in SHARED_OPS:
            mods = OPCODES[inst.opcode].resolve(inst.modifiers)
            w = {"U8": 1, "S8": 1, "U16": 2, "S16": 2}.get(mods.get("width", ""), 4)
            width = min(width, w)
    return width


class Sanitizer:
    """The state of racecheck and initcheck for one machine (a wave of CTAs)."""

    def __init__(self, m, tools: frozenset[str]) -> None:
        self.m = m
        self.race = "racecheck" in tools and m.shared is not None
        self.init = "initcheck" in tools
        self.wsync = np.zeros(m.W, np.int32)
        if self.race:
            self.g = cell_bytes(m.program)
            cells = m.shared.buf.size // self.g
            self.cells_per_cta = m.shared.stride // self.g
            self.w_tid = np.full(cells, -1, np.int64)
            self.w_pc = np.zeros(cells, np.int32)
            self.w_sync = np.zeros(cells, np.int32)
            self.r_tid = np.full((2, cells), -1, np.int64)
            self.r_pc = np.zeros((2, cells), np.int32)
            self.r_sync = np.zeros((2, cells), np.int32)
        if self.init:
            self.shared_init = None if m.shared is None else np.zeros(m.shared.buf.size, bool)
            self.local_init = None if m.localmem is None else np.zeros(
                m.localmem.buf.size, bool)

    def start_wave(self) -> None:
        """Every cell unwritten and unread, every warp's count zero."""
        self.wsync[:] = 0
        if self.race:
            self.w_tid[:] = -1
            self.r_tid[:] = -1
        if self.init:
            for shadow in (self.shared_init, self.local_init):
                if shadow is not None:
                    shadow[:] = False

    # --- events ---------------------------------------------------------------------------

    def warp_sync(self, tid: np.ndarray | None) -> None:
        """The warps of threads ``tid`` (None: all) executed a warp-synchronizing
        instruction."""
        if tid is None:
            self.wsync += 1
        else:
            self.wsync[np.unique(tid >> 5)] += 1

    def barrier(self, ctas: np.ndarray | None) -> None:
        """A BAR.SYNC completed in CTA slots ``ctas`` (None: all): a new epoch there."""
        if not self.race:
            return
        per = self.cells_per_cta
        if ctas is None:
            self.w_tid[:] = -1
            self.r_tid[:] = -1
            return
        for c in np.asarray(ctas).tolist():
            self.w_tid[c * per:(c + 1) * per] = -1
            self.r_tid[:, c * per:(c + 1) * per] = -1

    def access(self, space: str, pc: int, tid: np.ndarray | None, a: np.ndarray, size: int,
               write: bool, read: bool) -> None:
        """A load (``read``), store (``write``) or atomic (both) of ``size`` bytes at window
        offsets ``a`` by threads ``tid``."""
        m = self.m
        if tid is None:
            tid = np.arange(m.T, dtype=np.int64)
        window = m.shared if space == "shared" else m.localmem
        flat = window.bases[tid] + a.astype(np.int64)
        if self.init:
            shadow = self.shared_init if space == "shared" else self.local_init
            span = flat[:, None] + np.arange(size)
            if read:
                unset = ~shadow[span].all(axis=1)
                if unset.any():
                    p = int(np.argmax(unset))
                    raise m.fault(
                        UninitializedReadError,
                        f"{space} memory read before any thread wrote it", pc, int(tid[p]),
                        detail=f"{size}-byte read at offset {int(a[p]):#x} of the "
                               f"{'CTA' if space == 'shared' else 'thread'}'s {space} memory")
            if write:
                shadow[span.reshape(-1)] = True
        if self.race and space == "shared" and write != read:
            self._race(pc, tid, flat, a, size, write)

    def _race(self, pc: int, tid: np.ndarray, flat: np.ndarray, a: np.ndarray, size: int,
              write: bool) -> None:
        g = self.g
        span = max(size // g, 1)
        cell = ((flat // g)[:, None] + np.arange(span)).reshape(-1)
        t = np.repeat(tid, span)
        offset = np.repeat(a.astype(np.int64), span) + np.tile(np.arange(span) * g, tid.size)
        now = self.wsync[t >> 5]

        def conflicts(other: np.ndarray, other_sync: np.ndarray) -> np.ndarray:
            mine = (other >= 0) & (other != t)
            synced = ((other >> 5) == (t >> 5)) & (other_sync < now)
            return mine & ~synced

        checks = [("write", self.w_tid[cell], self.w_pc[cell], self.w_sync[cell])]
        if write:
            checks += [("read", self.r_tid[k, cell], self.r_pc[k, cell], self.r_sync[k, cell])
                       for k in range(2)]
        for what, other, other_pc, other_sync in checks:
            bad = conflicts(other, other_sync)
            if bad.any():
                p = int(np.argmax(bad))
                self._report(pc, int(t[p]), write, what, int(other[p]), int(other_pc[p]),
                             int(offset[p]))
        if write:
            self.w_tid[cell] = t
            self.w_pc[cell] = pc
            self.w_sync[cell] = now
        else:
            first = self.r_tid[0, cell] < 0
            c0 = cell[first]
            self.r_tid[0, c0] = t[first]
            self.r_pc[0, c0] = pc
            self.r_sync[0, c0] = now[first]
            self.r_tid[1, cell] = t
            self.r_pc[1, cell] = pc
            self.r_sync[1, cell] = now

    def _report(self, pc: int, t: int, write: bool, other_what: str, other: int,
                other_pc: int, offset: int) -> None:
        m = self.m
        thread, _ = m.where(other)
        inst = m.program.instructions[other_pc]
        where = f"/*{other_pc * 16:04x}*/ {m.text(other_pc)}"
        if inst.loc is not None:
            where += f" ({inst.loc.file}:{inst.loc.line})"
        mine = "write" if write else "read"
        raise m.fault(
            RaceError, f"shared-memory race: a {mine} after another thread's {other_what} "
                       "with no barrier between", pc, t,
            detail=f"conflicts with the {other_what} at {where} by thread "
                   f"({','.join(map(str, thread))}), at shared offset {offset:#x}")
