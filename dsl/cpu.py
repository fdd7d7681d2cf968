"""The CPU device, ``wf.CPU``: kernels compiled to native code, CTAs run on every core.

A kernel for the CPU is compiled per block shape into one native entry that runs a range of
CTAs, the threads of each CTA as SIMD lanes (``compiler.llvm``). :meth:`CPU.launch` splits the
grid's CTAs into chunks that a persistent pool of OS threads takes in turn; each worker calls
the entry through ``ctypes``, which releases the GIL, with a scratch arena of its own.
Arguments pass without copies: numpy arrays by address with their real strides. A bounds
fault stops the kernel and becomes a :class:`NativeMemoryFault` (a ``wf.MemoryFault``) naming
the kernel, the source line, the thread and block, the access, the index and the extent.
"""

from __future__ import annotations

import math
import numbers
import os
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..compiler.llvm import LANE_WIDTHS
from ..isa import knobs
from ..isa.program import Param, SourceLoc
from ..simulator import (
    PRESETS,
    BarrierError,
    ConfigError,
    DeviceArray,
    KernelFault,
    LaunchError,
    LaunchResult,
    LaunchTimeout,
    MemoryFault,
)
from ..simulator.launch import (
    NUMPY_TYPES,
    check_dims,
    check_memory,
    launch_timeout,
    normalize_dims,
    scalar_bytes,
)

if TYPE_CHECKING:
    from ..compiler.llvm.jit import NativeFunction


LIMITS = PRESETS["ampere"]
"""The limits a CPU launch obeys (dimensions, threads, shared and local memory): the
simulated A100's, so that a launch runs on both devices or on neither."""

FAULT_WORDS = 8
"""int64 words of the fault record an entry fills: kind, site, CTA, thread, axis, index,
extent, one spare."""

CHUNKS_PER_WORKER = 32
"""Chunks of CTAs a worker takes on average from a shared grid: enough to even out
unequal CTAs, few enough that the atomic counter costs nothing."""

FAULT_OUT_OF_BOUNDS = 1
"""Fault kind: an index outside its array's extent."""
FAULT_DIVERGENT_BARRIER = 2
"""Fault kind: the threads of a CTA disagree on a condition around ``syncthreads()``
(``compiler.llvm.cta``)."""

_ARENA_ALIGN = 64


@dataclass(frozen=True)
class NativeKernel:
    """A kernel compiled for the CPU and loaded: what :meth:`CPU.launch` needs to run it.

    ``function`` is the loaded entry (``compiler.llvm.jit.NativeFunction``), ``params`` the
    ISA parameters in ABI order, ``block`` the block shape it was compiled for, ``lanes``
    its SIMD width, ``arena_bytes`` the scratch each worker needs; ``fault_sites``,
    ``fault_what`` and ``fault_space`` give each checked access's source location,
    description ("read of x") and address space; ``shares_grid`` says whether the
    workers can share the grid through the entry's atomic counter.
    """

    name: str
    function: NativeFunction
    params: tuple[Param, ...]
    block: tuple[int, int, int]
    lanes: int
    arena_bytes: int
    shared_bytes: int
    fault_sites: tuple[SourceLoc | None, ...] = ()
    fault_what: tuple[str, ...] = ()
    fault_space: tuple[str, ...] = ()
    shares_grid: bool = False
    """The entry takes CTAs from a shared counter when called with ``first_cta < 0`` (every
    kernel the LLVM backend lowers; see compiler/llvm/entry.py)."""
    written: tuple[str, ...] | None = None
    """The pointer parameters the kernel may write (None: any of them)."""
    local_bytes: int = 0
    """Bytes of ``wf.local`` arrays per thread."""


class NativeMemoryFault(MemoryFault):
    """An out-of-bounds access in native code on the CPU: a ``wf.MemoryFault``.

    Besides MemoryFault's fields (``address`` is 0: native code reports indices, not
    addresses), ``what`` describes the access (``"read of a"``), ``axis``, ``index``
    and ``extent`` say which index was outside ``0 .. extent-1``.
    """

    def __init__(self, *, what: str, axis: int, index: int, extent: int, space: str,
                 access: str, size: int, kernel: str, thread: tuple[int, int, int],
                 block: tuple[int, int, int], loc: SourceLoc | None) -> None:
        reason = f"index {index} on axis {axis} is outside 0..{extent - 1} (extent {extent})"
        super().__init__(reason, space=space, access=access, size=size, address=0,
                         kernel=kernel, pc=0, instruction=what, thread=thread, block=block,
                         loc=loc)
        self.what = what
        self.axis = axis
        self.index = index
        self.extent = extent
        lines = [f"Out-of-bounds {what} in kernel '{kernel}'"]
        if loc is not None:
            lines.append(f"    at {loc}")
        lines.append(f"    by thread ({','.join(map(str, thread))}) in block "
                     f"({','.join(map(str, block))})")
        lines.append(f"    {reason}")
        self.args = ("\n".join(lines),)


class CPU:
    """The host CPU as a device (``wf.CPU(threads=None, checked=None, lanes=None)``).

    ``threads``: OS threads running CTAs (default: every core). ``checked``: compile bounds
    checks into every array access and raise ``wf.MemoryFault`` on a bad index, leaving the
    arrays the kernel writes as they were (default: the ``WARPFORGE_CPU_CHECKED`` knob).
    ``lanes``: SIMD lanes per thread group, 8, 16 or 32 (default: the host's natural width,
    16 with AVX-512, else 8; kernels with warp operations use 32).
    """

    def __init__(self, threads: int | None = None, checked: bool | None = None,
                 lanes: int | None = None) -> None:
        if threads is None:
            threads = os.cpu_count() or 1
        if not isinstance(threads, numbers.Integral) or isinstance(threads, bool) \
                or threads < 1:
            raise ConfigError(f"CPU(threads=...) must be a positive int, got {threads!r}")
        if lanes is None:
            from ..compiler.llvm.jit import host_lanes
            lanes = host_lanes()
        if lanes not in LANE_WIDTHS:
            raise ConfigError(f"CPU(lanes=...) must be one of {LANE_WIDTHS}, got {lanes!r}")
        self.threads = int(threads)
        self.lanes = int(lanes)
        self.checked = bool(knobs.get("WARPFORGE_CPU_CHECKED") if checked is None
                            else checked)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._arenas = threading.local()

    def __repr__(self) -> str:
        return f"CPU(threads={self.threads}, lanes={self.lanes}, checked={self.checked})"

    __str__ = __repr__

    def to_device(self, array: np.ndarray) -> np.ndarray:
        """``array`` itself, as a numpy array: host memory is this device's memory, so
        nothing is copied and launches update the array in place."""
        return np.asarray(array)

    # --- running ------------------------------------------------------------------------

    def launch(self, kernel: NativeKernel, grid: int | Sequence[int],
               block: int | Sequence[int], args: Sequence[object] = (),
               timeout: float | None = None, shared_bytes: int = 0) -> LaunchResult:
        """Run ``kernel`` on ``grid`` CTAs of ``block`` threads with ISA-level ``args``
        (``compiler.abi`` order: numpy arrays or addresses for pointers, numbers for
        scalars, shapes and strides).

        Raises LaunchError for a block other than the one compiled for, bad dimensions or
        arguments (a simulator ``DeviceArray`` included), :class:`NativeMemoryFault` when a
        checked access is out of bounds, ``wf.BarrierError`` when the threads of a CTA
        disagree on a condition around ``syncthreads()``, ``wf.LaunchTimeout`` past
        ``timeout`` seconds (default ``WARPFORGE_LAUNCH_TIMEOUT``; 0 or None: no limit), and
        KeyboardInterrupt on Ctrl-C, within a loop iteration or a CTA of the kernel. A
        checked launch that stops for any of these leaves the arrays as they were.
        ``shared_bytes`` of dynamic shared memory follow the kernel's own in each worker's
        arena.
        """
        grid = normalize_dims(grid, "grid")
        block = normalize_dims(block, "block")
        _check_dims(kernel, grid, block)
        limit = launch_timeout(timeout)
        _check_shared(kernel, shared_bytes)
        slots, arrays = pack_parameters(kernel, args, grid)
        slots[-1] = shared_bytes
        snapshots = ([(a, a.copy()) for name, a in arrays
                      if a.flags.writeable and (kernel.written is None or name in kernel.written)]
                     if self.checked else [])
        ctas = grid[0] * grid[1] * grid[2]
        workers = min(self.threads, ctas)
        start = time.perf_counter()
        try:
            fault = self._run(kernel, slots, ctas, workers, limit)
        except BaseException:
            for array, saved in snapshots:
                array[...] = saved
            raise
        elapsed = time.perf_counter() - start
        if fault is not None:
            for array, saved in snapshots:
                array[...] = saved
            raise _fault_error(kernel, fault, grid, block)
        threads = block[0] * block[1] * block[2]
        stats = {"grid": grid, "block": block, "ctas": ctas, "threads": ctas * threads,
                 "lanes": kernel.lanes, "workers": workers}
        return LaunchResult(device=self, elapsed_s=elapsed, cycles=None, stats=stats,
                            kernel=kernel.name)

    def _run(self, kernel: NativeKernel, slots: np.ndarray, ctas: int,
             workers: int, limit: float) -> np.ndarray | None:
        """Run every CTA; the fault record of the lowest faulting CTA seen, or None.

        Every worker makes one native call on the pool. A kernel that shares the grid takes
        chunks of CTAs from the entry's atomic counter until none is left, so a slow worker
        simply takes fewer; any other entry gets a contiguous share. This thread waits,
        so that Ctrl-C and the timeout reach it: either sets the cancel word, which the
        native code reads at every loop back edge and CTA, and the launch ends once every
        worker has returned."""
        if kernel.shares_grid and workers > 1:
            slots[-4] = 0
            slots[-3] = max(1, ctas // (workers * CHUNKS_PER_WORKER))
            ranges = [(-1, ctas)] * workers
        else:
            share = math.ceil(ctas / workers)
            ranges = [(k * share, min(ctas, (k + 1) * share)) for k in range(workers)]
        params = slots.ctypes.data
        arena = -(-kernel.arena_bytes // _ARENA_ALIGN) * _ARENA_ALIGN + int(slots[-1])
        pool = self._executor()
        futures = [pool.submit(self._run_range, kernel, params, first, end, arena)
                   for first, end in ranges]
        deadline = time.monotonic() + limit if limit > 0 else None
        try:
            pending = wait(futures, timeout=limit if limit > 0 else None).not_done
            while pending and (deadline is None or time.monotonic() < deadline):
                pending = wait(pending, timeout=None if deadline is None
                               else max(0.0, deadline - time.monotonic())).not_done
        except BaseException:  # Ctrl-C: stop the workers before the arrays are restored
            slots[-2] = 1
            wait(futures)
            raise
        if pending:
            slots[-2] = 1
            wait(futures)
            raise LaunchTimeout(f"kernel '{kernel.name}' ran past its timeout of {limit:g} s "
                                "and was stopped")
        faults = [f for f in (fut.result() for fut in futures) if f is not None]
        return min(faults, key=lambda f: int(f[2])) if faults else None

    def _run_range(self, kernel: NativeKernel, params: int, first: int,
                   end: int, arena_bytes: int) -> np.ndarray | None:
        fault = np.zeros(FAULT_WORDS, np.int64)
        arena = self._arena(arena_bytes)
        if kernel.function(params, arena, first, end, fault.ctypes.data) == 1:
            return fault
        return None

    def _arena(self, nbytes: int) -> int:
        """The address of this OS thread's scratch arena, at least ``nbytes``, aligned."""
        buf = getattr(self._arenas, "buf", None)
        if buf is None or buf.size < nbytes + _ARENA_ALIGN:
            buf = np.empty(max(nbytes, 1) + _ARENA_ALIGN, np.uint8)
            self._arenas.buf = buf
        return -buf.ctypes.data % _ARENA_ALIGN + buf.ctypes.data

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="warpforge-cpu")
                weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool


def _check_shared(kernel: NativeKernel, shared_bytes: object) -> None:
    """LaunchError unless ``shared_bytes`` is a size the kernel's shared memory fits in;
    ResourceError past the limits of shared and local memory (the simulated GPU's)."""
    if isinstance(shared_bytes, bool) or not isinstance(shared_bytes, numbers.Integral) \
            or shared_bytes < 0:
        raise LaunchError(f"kernel '{kernel.name}': shared_bytes must be a non-negative int, "
                          f"not {shared_bytes!r}")
    check_memory(kernel.name, kernel.shared_bytes + int(shared_bytes), kernel.local_bytes,
                 LIMITS)


def _check_dims(kernel: NativeKernel, grid: tuple[int, int, int],
                block: tuple[int, int, int]) -> None:
    """The simulated GPU's limits (one set for both devices), and the block compiled for."""
    check_dims(kernel.name, grid, block, LIMITS)
    if block != kernel.block:
        raise LaunchError(f"kernel '{kernel.name}' was compiled for block {kernel.block}, "
                          f"launched with block {block}")


def pack_parameters(kernel: NativeKernel, args: Sequence[object],
                    grid: tuple[int, int, int]
                    ) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """The entry's parameter block (one 8-byte slot per ISA parameter, then grid x, y, z,
    then the work-sharing counter and chunk, the cancel word and the dynamic shared bytes,
    zero here) and the numpy arrays passed by address, with their parameters' names. A
    scalar sits in the low bytes of its slot; a pointer slot holds the array's address; no
    array is copied. A read-only array passed where the kernel writes is a LaunchError."""
    params = kernel.params
    name = kernel.name
    if len(args) != len(params):
        raise LaunchError(f"kernel '{name}' takes {len(params)} ISA arguments "
                          f"({', '.join(p.name for p in params)}), got {len(args)}")
    slots = np.zeros(len(params) + 7, np.uint64)
    arrays: list[tuple[str, np.ndarray]] = []
    for k, (param, value) in enumerate(zip(params, args, strict=True)):
        if param.is_pointer:
            where = f"kernel '{name}': parameter '{param.name}' ({param.type})"
            if isinstance(value, np.ndarray) and not value.flags.writeable and (
                    kernel.written is None or param.name in kernel.written):
                raise LaunchError(f"{where}: the kernel writes this array, but the array "
                                  "passed is read-only")
            slots[k] = _address(param, value, where, arrays)
        else:
            _store_scalar(slots, k, param, value, name)
    slots.view(np.int64)[len(params):len(params) + 3] = grid  # then counter, chunk, cancel
    return slots, arrays


def _address(param: Param, value: object, where: str,
             arrays: list[tuple[str, np.ndarray]]) -> int:
    if isinstance(value, DeviceArray):
        raise LaunchError(f"{where}: a simulator DeviceArray cannot run on the CPU; pass a "
                          f"numpy array (DeviceArray.copy_to_host() gives one)")
    if isinstance(value, np.ndarray):
        want = NUMPY_TYPES[param.element_type]
        if value.dtype != want and not (want == np.uint8 and value.dtype == np.bool_):
            raise LaunchError(f"{where} needs an array of {want}, got {value.dtype}")
        if not any(a is value for _, a in arrays):
            arrays.append((param.name, value))
        return value.ctypes.data
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
            value, (bool, np.bool_)) and 0 <= int(value) < 2**64:
        return int(value)
    raise LaunchError(f"{where} takes a numpy array or an address, got "
                      f"{type(value).__name__}")


def _store_scalar(slots: np.ndarray, k: int, param: Param, value: object,
                  kernel: str) -> None:
    """Write scalar ``value`` of ``param``'s type into the low bytes of slot ``k``, checked
    and packed exactly as the simulator packs it."""
    raw = np.frombuffer(scalar_bytes(param, value, kernel), np.uint8)
    slots.view(np.uint8)[8 * k:8 * k + raw.size] = raw


def _fault_error(kernel: NativeKernel, fault: np.ndarray, grid: tuple[int, int, int],
                 block: tuple[int, int, int]) -> KernelFault:
    kind, site, cta, tid, axis, index, extent = (int(v) for v in fault[:7])
    block_idx = (cta % grid[0], cta // grid[0] % grid[1], cta // (grid[0] * grid[1]))
    thread = (tid % block[0], tid // block[0] % block[1], tid // (block[0] * block[1]))
    known = 0 <= site < len(kernel.fault_sites)
    loc = kernel.fault_sites[site] if known else None
    what = kernel.fault_what[site] if 0 <= site < len(kernel.fault_what) else "access"
    if kind == FAULT_DIVERGENT_BARRIER:
        def thread_of(t: int) -> str:
            return f"({t % block[0]},{t // block[0] % block[1]},{t // (block[0] * block[1])})"
        return BarrierError(
            "barrier reached by some but not all of the CTA's live threads",
            kernel=kernel.name, pc=0, instruction="syncthreads()", thread=thread,
            block=block_idx, loc=loc,
            detail=f"thread {thread_of(tid)} takes the side with the barrier; thread "
                   f"{thread_of(axis)} does not")
    if kind != FAULT_OUT_OF_BOUNDS:
        return KernelFault(f"Native fault of kind {kind}", kernel=kernel.name, pc=0,
                           instruction=what, thread=thread, block=block_idx, loc=loc)
    access = what.split(" ", 1)[0]
    access = access if access in ("read", "write", "atomic") else "read"
    array = what.split(" of ", 1)[-1].split("[", 1)[0].strip()
    pointer = next((p for p in kernel.params if p.is_pointer and p.name == array), None)
    size = NUMPY_TYPES[pointer.element_type].itemsize if pointer is not None else 0
    space = kernel.fault_space[site] if 0 <= site < len(kernel.fault_space) else "global"
    return NativeMemoryFault(what=what, axis=axis, index=index, extent=extent,
                             space=space,
                             access=access, size=size, kernel=kernel.name, thread=thread,
                             block=block_idx, loc=loc)
