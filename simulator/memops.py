"""Memory instructions: LDG/STG, LDS/STS, LDL/STL, LDC, ATOMG/ATOMS/RED.

Each handler takes the executing threads whose guard holds (``tid``: indices, or None for
every thread of the wave), computes their addresses, checks and indexes them through
:mod:`.memory` (one fancy-index gather or scatter per access) and writes loaded words into
the destination registers. Widths: U8/S8/U16/S16 load one register, zero- or
sign-extended; 32 (no modifier) one; 64 a pair; 128 a quad. A store of a narrow width
stores the low bytes of its register. Stores to one address by several threads of one
instruction leave one of the stored values (numpy keeps the last, the highest thread).

Global addresses are the 64-bit pair ``Rn:Rn+1`` plus the signed offset (wrapping);
shared and local addresses the 32-bit ``Rn`` plus the offset, within the CTA's shared
memory (``program.shared_bytes``) or the thread's local memory (``program.local_bytes``).
LDC reads constant bank ``c[bank][Rn+offset]``, each bank 64 KiB.
"""

from __future__ import annotations

import numpy as np

from ..isa.abi import CONST_BANK_BYTES
from ..isa.opcodes import OPCODES
from ..isa.operands import RZ_INDEX, Addr, Const, Reg
from ..isa.program import Instruction
from . import atomics
from .decode import Handler, guard_of, pair, reg_fetch
from .machine import Machine
from .memory import SHIFTS, AccessFault, atomic_view, make_views

RECORD_KINDS = {"global": 0, "local": 1, "shared": 2}
"""Memory spaces as the timing recorder's kinds (``timing.record``: GLOBAL, LOCAL,
SHARED; global atomics are 3, shared ones 4)."""

WIDTHS = {"U8": (1, np.uint8, False), "S8": (1, np.int8, True),
          "U16": (2, np.uint16, False), "S16": (2, np.int16, True),
          "32": (4, None, False), "64": (8, None, False), "128": (16, None, False)}
"""Width modifier -> (bytes, narrow dtype, sign-extends)."""


def _width(mods: dict[str, str]) -> tuple[int, type | None, bool]:
    return WIDTHS[mods.get("width", "32")]


def _extend(values: np.ndarray, dtype, signed: bool) -> np.ndarray:
    """Zero- or sign-extend narrow loaded values to uint32 register words."""
    if signed:
        return values.view(dtype).astype(np.int32).view(np.uint32)
    return values.astype(np.uint32)


def address_fn(m: Machine, addr: Addr):
    """A function ``tid -> addresses`` (uint64 for ``.64`` bases, else uint32)."""
    if addr.wide:
        off = np.uint64(addr.offset & (2**64 - 1))
        if addr.reg == RZ_INDEX:
            return lambda tid: np.full(m.T if tid is None else tid.size, off, np.uint64)
        lo, hi = m.rows[addr.reg], m.rows[addr.reg + 1]

        def wide(tid):
            base = pair(lo, hi) if tid is None else pair(lo[tid], hi[tid])
            return base + off if addr.offset else base
        return wide
    off32 = np.uint32(addr.offset & 0xFFFFFFFF)
    if addr.reg == RZ_INDEX:
        return lambda tid: np.full(m.T if tid is None else tid.size, off32, np.uint32)
    row = m.rows[addr.reg]

    def narrow(tid):
        base = row if tid is None else row[tid]
        return base + off32 if addr.offset else base.copy()
    return narrow


def _write_loaded(m: Machine, dest: int, values: np.ndarray, tid) -> None:
    """Write loaded words (shape [n] or [n, k]) into registers dest.. of threads ``tid``."""
    if dest == RZ_INDEX:
        return
    cols = [values] if values.ndim == 1 else [values[:, j] for j in range(values.shape[1])]
    for j, col in enumerate(cols):
        if tid is None:
            m.rows[dest + j][...] = col
        else:
            m.rows[dest + j][tid] = col


def _store_values(m: Machine, src: int, words: int, tid, narrow) -> np.ndarray:
    """The values a store writes: [n], or [n, words] for 64/128-bit stores."""
    n = m.T if tid is None else tid.size
    if src == RZ_INDEX:
        cols = [np.zeros(n, np.uint32)] * words
    else:
        cols = [m.rows[src + j] if tid is None else m.rows[src + j][tid]
                for j in range(words)]
    if words > 1:
        return np.stack(cols, axis=1)
    return cols[0].astype(narrow) if narrow is not None else cols[0]


def _global_load(segs: list, a: np.ndarray, size: int) -> np.ndarray:
    if len(segs) == 1 and segs[0][2] is None:
        alloc, ix, _ = segs[0]
        return alloc.views[size][ix]
    shape = (a.size,) if size <= 4 else (a.size, size // 4)
    dtype = np.uint32 if size >= 4 else (np.uint8 if size == 1 else np.uint16)
    out = np.empty(shape, dtype)
    for alloc, ix, pos in segs:
        out[pos] = alloc.views[size][ix]
    return out


def _global_store(segs: list, size: int, values: np.ndarray) -> None:
    for alloc, ix, pos in segs:
        alloc.views[size][ix] = values if pos is None else values[pos]


SPACES = {"LDG": "global", "STG": "global", "LDS": "shared", "STS": "shared",
          "LDL": "local", "STL": "local"}
"""The memory space each load and store opcode addresses."""


def _space(m: Machine, inst: Instruction):
    """(space name, window or None for global memory, the owner phrase for messages)."""
    space = SPACES[inst.opcode]
    window = {"shared": m.shared, "local": m.localmem}.get(space)
    return space, window, "the CTA has" if space == "shared" else "each thread has"


def _empty_window(space: str, what: str, a: np.ndarray) -> AccessFault:
    return AccessFault(0, int(a[0]), f"is out of bounds ({what} 0 bytes of {space} memory)")


def load_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """LDG, LDS, LDL."""
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    size, narrow, signed = _width(mods)
    dest, addr = inst.operands
    space, window, what = _space(m, inst)
    kind = RECORD_KINDS[space]
    addresses = address_fn(m, addr)
    guard = guard_of(m, inst)

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        if tid is not None and tid.size == 0:
            return
        a = addresses(tid)
        segs = None
        try:
            if space == "global":
                segs = m.memory.segments(a, size)
                values = _global_load(segs, a, size)
            elif window is None:
                raise _empty_window(space, what, a)
            else:
                values = window.views[size][window.index(a, tid, size)]
        except AccessFault as err:
            raise m.memory_fault(err, tid, pc, space, "read", size) from None
        if m.recorder is not None:
            m.recorder.access(kind, False, tid, a, size, m.T, segs)
        if m.sanitizer is not None and window is not None:
            m.sanitizer.access(space, pc, tid, a, size, False, True)
        if narrow is not None:
            values = _extend(values, narrow, signed)
        _write_loaded(m, dest.index, values, tid)

    return handler


def store_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """STG, STS, STL."""
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    size, narrow, _ = _width(mods)
    addr, src = inst.operands
    space, window, what = _space(m, inst)
    kind = RECORD_KINDS[space]
    addresses = address_fn(m, addr)
    guard = guard_of(m, inst)
    words = max(size // 4, 1)

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        if tid is not None and tid.size == 0:
            return
        a = addresses(tid)
        values = _store_values(m, src.index, words, tid, narrow)
        segs = None
        try:
            if space == "global":
                segs = m.memory.segments(a, size)
                _global_store(segs, size, values)
            elif window is None:
                raise _empty_window(space, what, a)
            else:
                window.views[size][window.index(a, tid, size)] = values
        except AccessFault as err:
            raise m.memory_fault(err, tid, pc, space, "write", size) from None
        if m.recorder is not None:
            m.recorder.access(kind, True, tid, a, size, m.T, segs)
        if m.sanitizer is not None and window is not None:
            m.sanitizer.access(space, pc, tid, a, size, True, False)

    return handler


def ldc_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """LDC: constant bank words at a constant or register-indexed address."""
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    size, narrow, signed = _width(mods)
    dest, c = inst.operands
    assert isinstance(dest, Reg) and isinstance(c, Const)
    views = make_views(m.bank(c.bank))
    index = None if c.reg is None or c.reg == RZ_INDEX else m.rows[c.reg]
    guard = guard_of(m, inst)
    off = np.uint32(c.offset)

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        n = m.T if tid is None else tid.size
        if n == 0:
            return
        if index is None:
            a = np.full(n, off, np.uint32)
        else:
            a = (index if tid is None else index[tid]) + off
        bad = (a.astype(np.int64) > CONST_BANK_BYTES - size) | ((a & np.uint32(size - 1))
                                                                 != 0)
        if bad.any():
            p = int(np.argmax(bad))
            reason = (f"is misaligned ({size}-byte access)" if int(a[p]) % size
                      else "is out of bounds (constant banks are 64 KiB)")
            raise m.memory_fault(AccessFault(p, int(a[p]), reason), tid, pc, "constant",
                                 "read", size)
        values = views[size][a >> SHIFTS[size] if size > 1 else a]
        if narrow is not None:
            values = _extend(values, narrow, signed)
        _write_loaded(m, dest.index, values, tid)

    return handler


def atomic_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """ATOMG, ATOMS (returning the old value) and RED (no result)."""
    info = OPCODES[inst.opcode]
    mods = info.resolve(inst.modifiers)
    widths = info.widths(inst.modifiers)
    op, typ = mods["op"], mods.get("type", "U32")
    size = 8 if typ in ("U64", "S64", "F64") else 4
    if inst.opcode == "RED":
        dest, (addr, b) = None, inst.operands
        c = None
        wb = widths[1]
    else:
        dest, addr, b, c = inst.operands
        wb = widths[2]
    space = "shared" if inst.opcode == "ATOMS" else "global"
    addresses = address_fn(m, addr)
    fetch_b = reg_fetch(m, b.index, wb)
    fetch_c = reg_fetch(m, c.index, wb) if c is not None else None
    guard = guard_of(m, inst)
    shared = m.shared

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        n = m.T if tid is None else tid.size
        if n == 0:
            return
        a = addresses(tid)
        bv = np.broadcast_to(fetch_b(tid), (n,))
        cv = np.broadcast_to(fetch_c(tid), (n,)) if fetch_c is not None else np.zeros(
            n, bv.dtype)
        want = dest is not None and dest.index != RZ_INDEX
        old = np.zeros(n, np.uint32 if size == 4 else np.uint64) if want else None
        segs = None
        try:
            if space == "global":
                segs = m.memory.segments(a, size)
                views = [(atomic_view(al.buf, size), ix, pos) for al, ix, pos in segs]
            else:
                if shared is None:
                    raise AccessFault(0, int(a[0]), "is out of bounds (the CTA has 0 bytes "
                                                    "of shared memory)")
                flat = shared.index(a, tid, size)
                views = [(atomic_view(shared.buf, size), flat, None)]
        except AccessFault as err:
            raise m.memory_fault(err, tid, pc, space, "atomic", size) from None
        if m.recorder is not None:
            m.recorder.access(3 if space == "global" else 4, True, tid, a, size, m.T, segs)
        if m.sanitizer is not None and space == "shared":
            m.sanitizer.access(space, pc, tid, a, size, True, True)
        for view, ix, pos in views:
            sub_b = bv if pos is None else bv[pos]
            sub_c = cv if pos is None else cv[pos]
            got = atomics.apply(view, ix, op, typ, sub_b, sub_c, want_old=want)
            if want:
                if pos is None:
                    old[...] = got
                else:
                    old[pos] = got
        if want:
            if size == 8:
                _write_loaded(m, dest.index, np.stack(
                    [old.astype(np.uint32), (old >> np.uint64(32)).astype(np.uint32)],
                    axis=1), tid)
            else:
                _write_loaded(m, dest.index, old, tid)

    return handler
