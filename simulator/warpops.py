"""Special registers and warp-wide instructions: S2R, CS2R, SHFL, VOTE, HMMA.

Warp-wide values are computed by reshaping the wave's threads to ``[warps, 32]``.

* ``SR_CLOCKLO``/``SR_CLOCKHI`` read the wave's issue counter (instructions issued so far in
  this wave, by any warp): monotonic, not cycles. ``SR_WARPID`` is the warp's index within
  its CTA; ``SR_SMID`` the SM a CTA was given (round-robin by linear CTA id).
* SHFL and VOTE use the *active* threads: those executing the instruction with a true
  guard. A warp whose other lanes are elsewhere (diverged) or exited executes them like
  ``__shfl_sync``/``__ballot_sync`` with a partial mask: VOTE's ballot has only the active
  lanes, and a SHFL reading an inactive lane gets that lane's current register (undefined
  on hardware).
* SHFL follows PTX ``shfl.sync``: ``c = (segmask << 8) | clamp``; lane j from
  ``.IDX``/``.UP``/``.DOWN``/``.BFLY``; out of range gives the thread's own value and
  ``pu = false``.
* HMMA.16816 needs all 32 lanes of each warp executing it (else :class:`WarpError`).
  Fragments are those of PTX ``mma.sync.m16n8k16.row.col`` with f16 A and B, where
  ``g = lane >> 2`` and ``t = lane & 3``:

  - A (16x16, row-major), registers a0..a3, each two f16 (low half first): a0 holds
    A[g][2t..2t+1], a1 A[g+8][2t..2t+1], a2 A[g][2t+8..2t+9], a3 A[g+8][2t+8..2t+9].
  - B (16x8, K x N), registers b0, b1: b0 holds B[2t..2t+1][g], b1 B[2t+8..2t+9][g].
  - C and D (16x8) in f32, registers c0..c3: C[g][2t], C[g][2t+1], C[g+8][2t],
    C[g+8][2t+1]; in f16, registers c0, c1: C[g][2t..2t+1], C[g+8][2t..2t+1].

  D = A x B + C is computed with exact f16 products summed in float64 and rounded once to
  the accumulator type (tensor cores truncate differently; results agree within an ulp).
"""

from __future__ import annotations

import numpy as np

from ..isa.opcodes import OPCODES
from ..isa.operands import RZ_INDEX, Imm, Reg, SpecialReg
from ..isa.program import Instruction
from .decode import Handler, Writer, guard_of, source, writer
from .errors import WarpError
from .machine import WARP, Machine, warp_any


def special_fetch(m: Machine, name: str):
    """A function ``tid -> uint32 values`` of special register ``name``."""
    if name in ("SR_CLOCKLO", "SR_CLOCKHI"):
        shift = 0 if name == "SR_CLOCKLO" else 32
        return lambda tid: np.uint32((m.clock >> shift) & 0xFFFFFFFF)
    if name == "SRZ":
        return lambda tid: np.uint32(0)
    row = m.special[name]
    return lambda tid: row if tid is None else row[tid]


def _broadcast(value, n: int) -> np.ndarray:
    return np.broadcast_to(value, (n,))


def s2r_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """S2R and CS2R: a special register into a register (CS2R: a pair unless ``.32``)."""
    info = OPCODES[inst.opcode]
    widths = info.widths(inst.modifiers)
    dest, sr = inst.operands
    assert isinstance(sr, SpecialReg)
    out = writer(m, dest, widths[0])
    guard = guard_of(m, inst)
    pair = widths[0] == 2
    fetch = special_fetch(m, sr.name)

    def handler(mask, idx):
        if out is None:
            return
        tid = guard.active(mask, idx)
        n = m.T if tid is None else tid.size
        if n == 0:
            return
        if pair and sr.name == "SR_CLOCKLO":
            value = np.uint64(m.clock)
        elif pair:
            value = np.asarray(fetch(tid)).astype(np.uint64)
        else:
            value = fetch(tid)
        out.at(_broadcast(value, n), tid)

    return handler


def _fetch_small(m: Machine, op, pc: int):
    if isinstance(op, Imm):
        value = np.int64(op.bits)
        return lambda tid: value
    fetch = source(m, op, 1, pc)
    return lambda tid: np.asarray(fetch(tid)).astype(np.int64)


def shfl_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """SHFL.IDX/UP/DOWN/BFLY, as PTX shfl.sync."""
    mode = OPCODES["SHFL"].resolve(inst.modifiers)["mode"]
    pu, d, a, b, c = inst.operands
    out_d = writer(m, d, 1)
    out_p = writer(m, pu, 1)
    a_row = None if a.index == RZ_INDEX else m.rows[a.index]
    fetch_b = _fetch_small(m, b, pc)
    fetch_c = _fetch_small(m, c, pc)
    guard = guard_of(m, inst)

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        if tid is not None and tid.size == 0:
            return
        if m.sanitizer is not None:
            m.sanitizer.warp_sync(tid)
        lane = (m.lane if tid is None else m.lane[tid]).astype(np.int64)
        bval = fetch_b(tid) & 0x1F
        cval = fetch_c(tid)
        segmask = (cval >> 8) & 0x1F
        maxl = (lane & segmask) | (cval & 0x1F & ~segmask)
        if mode == "IDX":
            j = (lane & segmask) | (bval & ~segmask)
            ok = j <= maxl
        elif mode == "UP":
            j = lane - bval
            ok = j >= maxl
        elif mode == "DOWN":
            j = lane + bval
            ok = j <= maxl
        else:
            j = lane ^ bval
            ok = j <= maxl
        j = np.where(ok, j, lane)
        base = m.warp_base if tid is None else m.warp_base[tid]
        value = a_row[base + j] if a_row is not None else np.zeros(lane.size, np.uint32)
        if out_d is not None:
            out_d.at(value, tid)
        if out_p is not None:
            out_p.at(_broadcast(ok, lane.size), tid)

    return handler


def _active(m: Machine, tid) -> np.ndarray:
    if tid is None:
        return np.ones(m.T, bool)
    act = np.zeros(m.T, bool)
    act[tid] = True
    return act


def ballot(bits: np.ndarray) -> np.ndarray:
    """Per warp, the uint32 lane mask of a bool array over the wave's threads."""
    packed = np.packbits(bits.reshape(-1, WARP), axis=1, bitorder="little")
    return packed.view("<u4").reshape(-1)


def vote_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """VOTE.ANY/ALL/EQ: ballot of the predicate over the warp's active threads."""
    mode = OPCODES["VOTE"].resolve(inst.modifiers)["mode"]
    d, pu, pp = inst.operands
    out_d = writer(m, d, 1)
    out_p = writer(m, pu, 1)
    fetch_p = source(m, pp, 1, pc)
    guard = guard_of(m, inst)

    def handler(mask, idx):
        tid = guard.active(mask, idx)
        if tid is not None and tid.size == 0:
            return
        if m.sanitizer is not None:
            m.sanitizer.warp_sync(tid)
        act = _active(m, tid)
        votes = ballot(act & fetch_p(None))
        actmask = ballot(act)
        if mode == "ANY":
            result = votes != 0
        elif mode == "ALL":
            result = votes == actmask
        else:
            result = (votes == 0) | (votes == actmask)
        warp = m.tids // WARP if tid is None else tid // WARP
        if out_d is not None:
            out_d.at(votes[warp], tid)
        if out_p is not None:
            out_p.at(result[warp], tid)

    return handler


def _fragment_maps():
    """(row, col) of every (lane, register, half) of the A, B, C/D fragments."""
    lane = np.arange(WARP)
    g, t = lane >> 2, lane & 3
    a_rows = np.empty((WARP, 4, 2), np.int64)
    a_cols = np.empty((WARP, 4, 2), np.int64)
    for r in range(4):
        for h in range(2):
            a_rows[:, r, h] = g + 8 * (r & 1)
            a_cols[:, r, h] = 2 * t + h + 8 * (r >> 1)
    b_rows = np.empty((WARP, 2, 2), np.int64)
    b_cols = np.empty((WARP, 2, 2), np.int64)
    for r in range(2):
        for h in range(2):
            b_rows[:, r, h] = 2 * t + h + 8 * r
            b_cols[:, r, h] = g
    c32_rows = np.stack([g + 8 * (r >> 1) for r in range(4)], axis=1)
    c32_cols = np.stack([2 * t + (r & 1) for r in range(4)], axis=1)
    c16_rows = np.empty((WARP, 2, 2), np.int64)
    c16_cols = np.empty((WARP, 2, 2), np.int64)
    for r in range(2):
        for h in range(2):
            c16_rows[:, r, h] = g + 8 * r
            c16_cols[:, r, h] = 2 * t + h
    return ((a_rows, a_cols), (b_rows, b_cols), (c32_rows, c32_cols),
            (c16_rows, c16_cols))


FRAGMENTS = _fragment_maps()
"""Fragment layouts of mma.m16n8k16: A, B, C/D f32, C/D f16 as (rows, cols) per lane."""


def _halves(words: np.ndarray) -> np.ndarray:
    """uint32 words [..., k] -> float64 of their f16 halves [..., k, 2] (low first)."""
    h = np.stack([words & 0xFFFF, words >> 16], axis=-1).astype(np.uint16)
    return h.view(np.float16).astype(np.float64)


def _gather_regs(m: Machine, reg: Reg, count: int, warps: np.ndarray) -> np.ndarray:
    """Registers reg..reg+count-1 of the given warps' lanes: uint32 [w, 32, count]."""
    cols = np.arange(WARP)
    t = (warps[:, None] * WARP + cols[None, :])
    if reg.index == RZ_INDEX:
        return np.zeros((warps.size, WARP, count), np.uint32)
    return np.stack([m.rows[reg.index + k][t] for k in range(count)], axis=-1)


def hmma_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """HMMA.16816.F32/.F16: warp-wide D = A x B + C (see the module docstring)."""
    mods = OPCODES["HMMA"].resolve(inst.modifiers)
    f32 = mods["acc"] == "F32"
    d, a, b, c = inst.operands
    nacc = 4 if f32 else 2
    out = None if d.index == RZ_INDEX else Writer([m.rows[d.index + k] for k in range(nacc)])
    (ar, ac), (br, bc), c32, c16 = FRAGMENTS
    cr, cc = c32 if f32 else c16
    guard = guard_of(m, inst)

    def handler(mask, idx):
        executing = np.ones(m.T, bool) if mask is None else mask
        per_warp = executing.reshape(-1, WARP)
        touched = warp_any(executing)
        partial = touched & ~per_warp.all(axis=1)
        if partial.any():
            w = int(np.argmax(partial))
            missing = w * WARP + int(np.argmin(per_warp[w]))
            present = w * WARP + int(np.argmax(per_warp[w]))
            thread, _ = m.where(missing)
            raise m.fault(WarpError, "HMMA executed by a warp that is not converged", pc,
                          present, detail=f"all 32 lanes must execute it; thread "
                          f"({','.join(map(str, thread))}) does not")
        warps = np.flatnonzero(touched)
        if warps.size == 0:
            return
        nw = warps.size
        wi = np.arange(nw)[:, None, None, None]
        A = np.zeros((nw, 16, 16))
        A[wi, ar[None], ac[None]] = _halves(_gather_regs(m, a, 4, warps))
        B = np.zeros((nw, 16, 8))
        B[wi, br[None], bc[None]] = _halves(_gather_regs(m, b, 2, warps))
        C = np.zeros((nw, 16, 8))
        craw = _gather_regs(m, c, nacc, warps)
        if f32:
            C[wi[..., 0], cr[None], cc[None]] = craw.view(np.float32)
        else:
            C[wi, cr[None], cc[None]] = _halves(craw)
        D = A @ B + C
        if f32:
            words = D[wi[..., 0], cr[None], cc[None]].astype(np.float32).view(np.uint32)
        else:
            h = D[wi, cr[None], cc[None]].astype(np.float16).view(np.uint16).astype(
                np.uint32)
            words = h[..., 0] | (h[..., 1] << 16)
        if out is None:
            return
        t = (warps[:, None] * WARP + np.arange(WARP)[None, :]).reshape(-1)
        words = words.reshape(-1, nacc)
        sub = guard.sparse(t)
        if sub is not None:
            t, words = t[sub], words[sub]
        for k, row in enumerate(out.rows):
            row[t] = words[:, k]

    return handler


def warpsync_handler(m: Machine, inst: Instruction, pc: int) -> Handler:
    """WARPSYNC: nothing to compute (a converged warp's lanes run together); racecheck
    counts it as the warp synchronizing."""
    guard = guard_of(m, inst)

    def handler(mask, idx):
        if m.sanitizer is not None:
            tid = guard.active(mask, idx)
            if tid is None or tid.size:
                m.sanitizer.warp_sync(tid)

    return handler
