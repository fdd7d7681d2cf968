"""Pre-decoding: every instruction becomes a handler closure once per launch.

A handler is called as ``handler(mask, idx)`` for the threads executing the instruction:
``mask`` is None (every thread of the wave) or a bool array over the wave's threads, and
``idx``, when not None, lists the same threads as indices (the scheduler passes it when
few threads execute, so that the handler works on gathered values instead of whole
registers). The guard is applied inside the handler; results land only in the threads
whose guard holds.

Operand fetchers return register rows (uint32), register pairs as uint64, immediates and
constants as numpy scalars (constants are read from the launch's bank once, here), RZ as
0, PT as True; writes to RZ and PT are dropped. Pure opcodes call
``semantics.SEMANTICS[op](inst, mods)``; memory, warp and control opcodes come from
:mod:`.memops`, :mod:`.warpops` and :mod:`.control`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..isa.opcodes import OPCODES, Kind
from ..isa.operands import PT_INDEX, RZ_INDEX, Const, Imm, Pred, Reg
from ..isa.program import Instruction
from .errors import MemoryFault, SimulatorError
from .machine import Machine

Handler = Callable[[np.ndarray | None, np.ndarray | None], None]
Fetch = Callable[[np.ndarray | None], object]

U32_ZERO = np.uint32(0)
U64_ZERO = np.uint64(0)
SOURCE_KINDS = (Kind.RA, Kind.RB, Kind.RL, Kind.PS, Kind.LIT)
DEST_KINDS = (Kind.RD, Kind.PD)


def pair(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Two uint32 words as one uint64 (``lo`` in the low half).

    Interleaves the words through a uint32 view of the result (one pass each, no
    temporaries): the simulated machine, like the host it runs on, is little-endian.
    """
    out = np.empty(lo.shape, np.uint64)
    words = out.view(np.uint32).reshape(*lo.shape, 2)
    words[..., 0] = lo
    words[..., 1] = hi
    return out


def halves(value) -> tuple:
    """A uint64 value (array or scalar) as its (low, high) uint32 words."""
    value = np.asarray(value, np.uint64)
    if value.ndim == 0:
        return value.astype(np.uint32), (value >> np.uint64(32)).astype(np.uint32)
    words = np.ascontiguousarray(value).view(np.uint32).reshape(*value.shape, 2)
    return words[..., 0], words[..., 1]


def _row_fetch(row: np.ndarray) -> Fetch:
    def fetch(idx):
        return row if idx is None else row[idx]
    return fetch


def _const_fetch(value) -> Fetch:
    def fetch(idx):
        return value
    return fetch


def reg_fetch(m: Machine, index: int, width: int) -> Fetch:
    """Fetch register ``index`` (1 register: uint32 row; 2: uint64 pair)."""
    if index == RZ_INDEX:
        return _const_fetch(U32_ZERO if width == 1 else U64_ZERO)
    if width == 1:
        return _row_fetch(m.rows[index])
    if width == 2:
        lo, hi = m.rows[index], m.rows[index + 1]

        def fetch2(idx):
            if idx is None:
                return pair(lo, hi)
            return pair(lo[idx], hi[idx])
        return fetch2
    raise SimulatorError(f"no {width}-register operand fetch outside HMMA")


def const_value(m: Machine, c: Const, width: int, pc: int):
    """The value of a constant operand, read once from the launch's bank."""
    nbytes = 4 * width
    if c.offset + nbytes > len(m.bank(c.bank)) or c.offset % 4:
        raise MemoryFault("is out of bounds" if c.offset % 4 == 0 else "is misaligned",
                          space="constant", access="read", size=nbytes, address=c.offset,
                          **m.location(pc, 0))
    raw = m.bank(c.bank)[c.offset: c.offset + nbytes]
    return raw.view(np.uint32)[0] if width == 1 else raw.view(np.uint64)[0]


def source(m: Machine, op, width: int, pc: int) -> Fetch:
    """A fetcher for one source operand (register, immediate, constant, predicate, literal)."""
    if isinstance(op, Reg):
        return reg_fetch(m, op.index, width)
    if isinstance(op, Imm):
        if width == 2:  # a 32-bit immediate in a 64-bit slot is sign-extended
            return _const_fetch(np.uint64(np.int64(np.int32(np.uint32(op.bits))).view(
                np.uint64)))
        return _const_fetch(np.uint32(op.bits))
    if isinstance(op, Const):
        cell = [const_value(m, op, width, pc)]
        m.const_cells.append((cell, op, width, pc))  # refreshed when the machine is reused

        def fetch_const(idx):
            return cell[0]
        return fetch_const
    if isinstance(op, Pred):
        if op.index == PT_INDEX:
            return _const_fetch(np.bool_(not op.neg))
        row = m.prow[op.index]
        if op.neg:
            def fetch_not(idx):
                return ~row if idx is None else ~row[idx]
            return fetch_not
        return _row_fetch(row)
    raise SimulatorError(f"cannot fetch operand {op!r}")


@dataclass(frozen=True)
class Guard:
    """An instruction's guard predicate, applied to the executing threads."""

    index: int
    neg: bool
    row: np.ndarray

    @property
    def always(self) -> bool:
        """True for PT."""
        return self.index == PT_INDEX and not self.neg

    @property
    def never(self) -> bool:
        """True for !PT."""
        return self.index == PT_INDEX and self.neg

    def dense(self, mask: np.ndarray | None) -> np.ndarray | None:
        """Threads (bool over the wave, None = all) that execute and pass the guard."""
        if self.index == PT_INDEX:
            if not self.neg:
                return mask
            return np.zeros(self.row.shape, bool)
        g = ~self.row if self.neg else self.row
        return g if mask is None else mask & g

    def sparse(self, idx: np.ndarray) -> np.ndarray | None:
        """Which of the threads ``idx`` pass the guard (None = all of them)."""
        if self.index == PT_INDEX:
            return None if not self.neg else np.zeros(idx.shape, bool)
        g = self.row[idx]
        return ~g if self.neg else g

    def active(self, mask: np.ndarray | None, idx: np.ndarray | None
               ) -> np.ndarray | None:
        """Indices of the executing threads whose guard holds (None = every thread)."""
        if idx is not None:
            sub = self.sparse(idx)
            return idx if sub is None else idx[sub]
        eff = self.dense(mask)
        return None if eff is None else np.flatnonzero(eff)


def guard_of(m: Machine, inst: Instruction) -> Guard:
    """The :class:`Guard` of an instruction."""
    return Guard(inst.guard.index, inst.guard.neg, m.prow[inst.guard.index])


class Writer:
    """Writes one destination (register, pair, predicate) under a mask."""

    def __init__(self, rows: list[np.ndarray], pred: bool = False) -> None:
        self.rows = rows
        self.pred = pred

    def split(self, value):
        """The value as one array (or scalar) per row."""
        if len(self.rows) == 1:
            return (value,)
        return halves(value)

    def dense(self, value, eff: np.ndarray | None) -> None:
        """Write ``value`` (over the wave) into the threads of ``eff`` (None = all)."""
        for row, v in zip(self.rows, self.split(value), strict=True):
            if eff is None:
                row[...] = v
            else:
                np.copyto(row, v, where=eff, casting="unsafe")

    def sparse(self, value, idx: np.ndarray, sub: np.ndarray | None) -> None:
        """Write ``value`` (over ``idx``) into threads ``idx[sub]``."""
        target = idx if sub is None else idx[sub]
        for row, v in zip(self.rows, self.split(value), strict=True):
            if sub is not None and np.ndim(v):
                v = v[sub]
            row[target] = v

    def at(self, value, tid: np.ndarray | None) -> None:
        """Write ``value`` (one per thread of ``tid``; None = every thread) into ``tid``."""
        for row, v in zip(self.rows, self.split(value), strict=True):
            if tid is None:
                row[...] = v
            else:
                row[tid] = v


def writer(m: Machine, op, width: int) -> Writer | None:
    """The writer of a destination operand; None for RZ and PT (writes dropped)."""
    if isinstance(op, Pred):
        return None if op.index == PT_INDEX else Writer([m.prow[op.index]], pred=True)
    if op.index == RZ_INDEX:
        return None
    return Writer([m.rows[op.index + k] for k in range(width)])


def _noop(mask, idx) -> None:
    return None


def pure_handler(m: Machine, inst: Instruction, pc: int, factory) -> Handler:
    """The handler of a pure opcode: fetch sources, call the semantics, write results."""
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    widths = info.widths(inst.modifiers)
    fn = factory(inst, mods)
    fetchers: list[Fetch] = []
    writers: list[Writer | None] = []
    for spec, op, width in zip(info.operands, inst.operands, widths, strict=True):
        if spec.kind in DEST_KINDS:
            writers.append(writer(m, op, width))
        elif spec.kind == Kind.LIT:
            fetchers.append(_const_fetch(int(op.bits)))
        else:
            fetchers.append(source(m, op, width, pc))
    guard = guard_of(m, inst)
    if guard.never or not any(writers):
        return _noop
    outs = [(i, w) for i, w in enumerate(writers) if w is not None]
    if len(outs) == 1 and outs[0][0] == 0 and len(outs[0][1].rows) == 1:
        return _one_row_handler(fn, fetchers, guard, outs[0][1])

    def handler(mask, idx):
        results = fn(*[f(idx) for f in fetchers])
        if idx is None:
            eff = guard.dense(mask)
            for i, w in outs:
                w.dense(results[i], eff)
        else:
            sub = guard.sparse(idx)
            for i, w in outs:
                w.sparse(results[i], idx, sub)

    return handler


def _one_row_handler(fn, fetchers: list, guard: Guard, out: Writer) -> Handler:
    """The common case of :func:`pure_handler`: one result into one register or
    predicate row, with the fetches unrolled (a step of the executor is mostly this)."""
    row = out.rows[0]
    always = guard.always

    def write(value, mask, idx):
        if idx is None:
            eff = mask if always else guard.dense(mask)
            if eff is None:
                row[...] = value
            else:
                np.copyto(row, value, where=eff, casting="unsafe")
        else:
            out.sparse(value, idx, guard.sparse(idx))

    if len(fetchers) == 1:
        (f0,) = fetchers

        def handler(mask, idx):
            write(fn(f0(idx))[0], mask, idx)
    elif len(fetchers) == 2:
        f0, f1 = fetchers

        def handler(mask, idx):
            write(fn(f0(idx), f1(idx))[0], mask, idx)
    elif len(fetchers) == 3:
        f0, f1, f2 = fetchers

        def handler(mask, idx):
            write(fn(f0(idx), f1(idx), f2(idx))[0], mask, idx)
    else:
        def handler(mask, idx):
            write(fn(*[f(idx) for f in fetchers])[0], mask, idx)
    return handler


def noop_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """A handler that does nothing (NOP, and control opcodes whose effect the scheduler
    applies)."""
    return _noop
