"""Simulated memories: global allocations with bounds, per-CTA and per-thread windows.

Every access is a vector of addresses (one per active thread, in thread order) and one access
size; it is bounds- and alignment-checked (natural alignment of the size), then turned into
element indices of a numpy view so that the load or store is one fancy-index operation.

* :class:`GlobalMemory` holds allocations at 64-bit addresses. They start at a high base
  (so null and small pointers fault), are aligned to 256 bytes and separated by gaps (so
  running off the end of an array faults instead of reading its neighbour), and are never
  reused after :meth:`GlobalMemory.free`. The common case, every address inside one
  allocation, costs a subtraction, a max and an OR-reduction; otherwise a ``searchsorted``
  over the allocation starts splits the access by allocation.
* :class:`WindowMemory` is an array of equal windows (a CTA's shared memory, a thread's
  local memory, a constant bank) addressed by a 32-bit offset within the caller's window.

A bad access raises :class:`AccessFault`, carrying the position of the first bad address
in the vector; the executor turns it into a :class:`~.errors.MemoryFault` naming the
thread, block and instruction.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from ..isa.abi import GLOBAL_ALIGN
from ..isa.errors import UsageError

GLOBAL_BASE = 0x7F00_0000_0000
"""Address of the first global allocation."""
GAP = 0x10000
"""Unmapped bytes left after each allocation."""
PADDING = 16
"""Backing buffers are a multiple of this, so every access size has a view."""
SHIFTS = {1: 0, 2: 1, 4: 2, 8: 3, 16: 4}
"""log2 of each access size."""
_U64 = np.uint64


class AccessFault(Exception):
    """A bad access: ``position`` in the address vector, the ``address`` and the ``reason``
    (completing "Address 0x... <reason>")."""

    def __init__(self, position: int, address: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.address = address
        self.reason = reason


def make_views(buf: np.ndarray) -> dict[int, np.ndarray]:
    """Views of a byte buffer indexed by element for each access size.

    Sizes 1, 2 and 4 are 1-D views of uint8, uint16 and uint32; 8 and 16 are uint32 views
    of shape [n, 2] and [n, 4] (registers are 32-bit words), so a load yields one row per
    address.
    """
    u32 = buf.view(np.uint32)
    return {1: buf, 2: buf.view(np.uint16), 4: u32, 8: u32.reshape(-1, 2),
            16: u32.reshape(-1, 4)}


def atomic_view(buf: np.ndarray, size: int) -> np.ndarray:
    """The flat uint32 or uint64 view atomics of ``size`` bytes operate on."""
    return buf.view(np.uint32 if size == 4 else np.uint64)


def _misaligned(size: int) -> str:
    return f"is misaligned ({size}-byte access)"


@dataclass
class Allocation:
    """One global allocation: device address, size and backing bytes."""

    ptr: int
    nbytes: int
    buf: np.ndarray
    views: dict[int, np.ndarray] = field(repr=False)

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.ptr + self.nbytes


class GlobalMemory:
    """The device's global memory: allocations with bounds at 64-bit addresses."""

    def __init__(self) -> None:
        self._next = GLOBAL_BASE
        self._starts: list[int] = []
        self._allocs: list[Allocation] = []
        self._freed: list[tuple[int, int]] = []
        self._table: tuple[np.ndarray, np.ndarray] | None = None

    # --- allocation -------------------------------------------------------------------

    def alloc(self, nbytes: int) -> Allocation:
        """A new zeroed allocation of ``nbytes`` bytes."""
        if nbytes < 0:
            raise UsageError(f"cannot allocate {nbytes} bytes")
        ptr = self._next
        size = -(-max(nbytes, 1) // PADDING) * PADDING
        buf = np.zeros(size, np.uint8)
        a = Allocation(ptr, nbytes, buf, make_views(buf))
        self._starts.append(ptr)
        self._allocs.append(a)
        self._next = -(-(ptr + max(nbytes, 1) + GAP) // GLOBAL_ALIGN) * GLOBAL_ALIGN
        self._table = None
        return a

    def free(self, ptr: int) -> None:
        """Release the allocation at ``ptr``; its addresses fault from now on."""
        i = bisect.bisect_left(self._starts, ptr)
        if i == len(self._starts) or self._starts[i] != ptr:
            raise UsageError(f"0x{ptr:x} is not the start of a live allocation")
        a = self._allocs.pop(i)
        self._starts.pop(i)
        self._freed.append((a.ptr, a.nbytes))
        self._table = None

    def find(self, address: int) -> Allocation | None:
        """The live allocation holding ``address``, or None."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            a = self._allocs[i]
            if address < a.ptr + a.nbytes:
                return a
        return None

    @property
    def allocations(self) -> list[Allocation]:
        """Live allocations in address order."""
        return list(self._allocs)

    # --- access -----------------------------------------------------------------------

    def segments(self, addr: np.ndarray, size: int
                 ) -> list[tuple[Allocation, np.ndarray, np.ndarray | None]]:
        """Split an access into (allocation, element indices, positions or None for all).

        ``addr`` is a uint64 vector; the element indices index ``allocation.views[size]``.
        Raises :class:`AccessFault` for the first out-of-bounds or misaligned address.
        """
        if addr.size == 0:
            return []
        i = bisect.bisect_right(self._starts, int(addr[0])) - 1
        if i >= 0:
            a = self._allocs[i]
            off = addr - _U64(a.ptr)  # wraps to huge values below the allocation
            if a.nbytes >= size and int(off.max()) <= a.nbytes - size:
                if size > 1 and int(np.bitwise_or.reduce(off)) & (size - 1):
                    self._raise(addr, size)
                if size > 1:
                    off = off >> _U64(SHIFTS[size])
                return [(a, off.view(np.int64), None)]
        return self._general(addr, size)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._table is None:
            self._table = (np.array(self._starts, dtype=np.uint64),
                           np.array([a.nbytes for a in self._allocs], dtype=np.uint64))
        return self._table

    def _general(self, addr: np.ndarray, size: int):
        starts, sizes = self._arrays()
        k = np.searchsorted(starts, addr, side="right").astype(np.int64) - 1
        kk = np.maximum(k, 0)
        if starts.size == 0:
            self._raise(addr, size)
        off = addr - starts[kk]
        limit = np.where(sizes[kk] >= size, sizes[kk] - _U64(size), _U64(0))
        ok = (k >= 0) & (off <= limit) & (sizes[kk] >= size)
        if size > 1:
            ok &= (addr & _U64(size - 1)) == 0
        if not ok.all():
            self._raise(addr, size)
        out = []
        shift = _U64(SHIFTS[size])
        for j in np.unique(k):
            pos = np.flatnonzero(k == j)
            out.append((self._allocs[int(j)], (off[pos] >> shift).view(np.int64), pos))
        return out

    def _raise(self, addr: np.ndarray, size: int):
        """Find the first bad address of an access and raise its fault."""
        starts, sizes = self._arrays()
        ok = np.zeros(addr.size, bool)
        if starts.size:
            k = np.searchsorted(starts, addr, side="right").astype(np.int64) - 1
            kk = np.maximum(k, 0)
            off = addr - starts[kk]
            ok = (k >= 0) & (sizes[kk] >= size) & (off <= sizes[kk] - np.minimum(
                sizes[kk], _U64(size)))
        misaligned = (addr & _U64(size - 1)) != 0
        p = int(np.argmax(misaligned | ~ok))
        address = int(addr[p])
        if misaligned[p]:
            raise AccessFault(p, address, _misaligned(size))
        raise AccessFault(p, address, "is out of bounds" + self.describe(address))

    def describe(self, address: int) -> str:
        """Where ``address`` lies relative to the allocations, for fault messages."""
        if address < 0x1000:
            return " (null pointer)"
        for ptr, nbytes in self._freed:
            if ptr <= address < ptr + max(nbytes, 1):
                return f" (inside the freed {nbytes}-byte allocation at 0x{ptr:x})"
        if not self._allocs:
            return " (no allocations)"
        best = min(self._allocs, key=lambda a: min(abs(address - a.ptr),
                                                   abs(address - a.end)))
        if address >= best.end:
            where = f"{address - best.end} bytes after the end of"
        elif address >= best.ptr:
            where = f"at offset {address - best.ptr} of"
        else:
            where = f"{best.ptr - address} bytes before"
        return f" ({where} the nearest allocation, {best.nbytes} bytes at 0x{best.ptr:x})"


class WindowMemory:
    """Equal windows of ``window_bytes`` (per CTA or per thread) in one buffer.

    ``bases`` gives, per thread, the byte offset of that thread's window in the buffer.
    Addresses are uint32 offsets within the window; an access must lie inside it.
    """

    def __init__(self, windows: int, window_bytes: int, bases: np.ndarray, space: str,
                 what: str) -> None:
        self.window_bytes = window_bytes
        self.stride = -(-max(window_bytes, 1) // PADDING) * PADDING
        self.buf = np.zeros(windows * self.stride, np.uint8)
        self.views = make_views(self.buf)
        self.bases = bases
        self.space = space
        self.what = what

    def clear(self) -> None:
        """Zero every window (a new wave starts with clean memory)."""
        self.buf.fill(0)

    def index(self, addr: np.ndarray, tid: np.ndarray | None, size: int) -> np.ndarray:
        """Element indices of ``views[size]`` for offsets ``addr`` of threads ``tid``
        (None: every thread, in order). Raises :class:`AccessFault`."""
        if addr.size == 0:
            return addr.astype(np.int64)
        hi = int(addr.max())
        bad_align = size > 1 and int(np.bitwise_or.reduce(addr)) & (size - 1)
        if hi > self.window_bytes - size or bad_align:
            self._raise(addr, size)
        bases = self.bases if tid is None else self.bases[tid]
        flat = bases + addr
        return flat >> SHIFTS[size] if size > 1 else flat

    def _raise(self, addr: np.ndarray, size: int):
        misaligned = (addr & np.uint32(size - 1)) != 0
        oob = addr.astype(np.int64) > self.window_bytes - size
        p = int(np.argmax(misaligned | oob))
        address = int(addr[p])
        if misaligned[p]:
            raise AccessFault(p, address, _misaligned(size))
        raise AccessFault(p, address, f"is out of bounds ({self.what} {self.window_bytes} "
                                      f"bytes of {self.space} memory)")
