"""Launch preparation and results: dimensions, resource checks, argument packing.

A launch names a grid and a block (an int or up to three ints each) and one argument per
kernel parameter. :func:`check_resources` rejects launches the device cannot run
(:class:`ResourceError`), :func:`occupancy` says how many CTAs fit on an SM at once, and
:func:`pack_arguments` writes constant bank 0 (launch dimensions, stack pointer and
parameters, laid out by ``isa.abi``) and stages numpy arrays in global memory.
:class:`LaunchResult` is what a launch returns.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..isa import abi, knobs
from ..isa.program import Param, Program, registers_used
from .arrays import DeviceArray
from .config import ArchConfig
from .errors import LaunchError, ResourceError
from .memory import Allocation, GlobalMemory

Dims = tuple[int, int, int]

NUMPY_TYPES: dict[str, np.dtype] = {
    name: np.dtype(code) for name, code in (
        ("i8", "i1"), ("u8", "u1"), ("i16", "<i2"), ("u16", "<u2"), ("f16", "<f2"),
        ("i32", "<i4"), ("u32", "<u4"), ("f32", "<f4"), ("i64", "<i8"), ("u64", "<u8"),
        ("f64", "<f8"),
    )
}
"""Parameter element type -> numpy dtype."""


def _seconds(s: float) -> str:
    """A duration with three significant digits in s, ms or us."""
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


@dataclass(repr=False)
class LaunchResult:
    """What a launch returns: the device, host wall time, cycles and statistics.

    ``stats`` holds at least ``instructions`` (warp-level instructions issued),
    ``thread_instructions`` (thread-instructions of the threads issuing them), ``waves``,
    ``ctas`` and ``threads``; on the timed simulator also the counters of
    :mod:`~.timing.profile`. ``cycles`` is None without a timing model (the CPU, or
    ``Simulator(timing=False)``), and so are ``sim_seconds``, ``ipc``, ``occupancy`` and
    ``profile``.
    """

    device: Any
    elapsed_s: float
    cycles: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    kernel: str = ""
    timing: Any = None
    """The timing model's :class:`~.timing.profile.Timing`, or None."""

    @property
    def sim_seconds(self) -> float | None:
        """Simulated time: cycles at the configured clock."""
        return None if self.timing is None else self.timing.sim_seconds

    @property
    def ipc(self) -> float | None:
        """Warp-instructions issued per cycle, over the whole device."""
        return None if self.timing is None else self.timing.ipc

    @property
    def occupancy(self) -> dict | None:
        """``achieved`` and ``theoretical`` (fractions of the SM's warp slots),
        ``limiter`` (the resource that bounds CTAs per SM), ``ctas_per_sm``,
        ``warps_per_sm`` and ``limits`` (CTAs per SM by each resource alone)."""
        return None if self.timing is None else self.timing.occupancy

    @property
    def profile(self):
        """Rows per instruction and per source line (:class:`~.timing.profile.Profile`)."""
        return None if self.timing is None else self.timing.profile

    def save_trace(self, path) -> None:
        """Write a Chrome/Perfetto trace (JSON) of CTAs and warps on SMs over cycles."""
        from .timing.report import save_trace
        save_trace(self, path)

    def roofline(self, path) -> None:
        """Plot the kernel on the configured device's roofline into a PNG (``plot``
        extra: matplotlib)."""
        from .timing.report import roofline
        roofline(self, path)

    def __repr__(self) -> str:
        s = self.stats
        parts = [f"kernel={self.kernel or '?'}", f"device={self.device}"]
        if "grid" in s:
            parts.append(f"grid={s['grid']} block={s['block']}")
        parts.append(f"elapsed={_seconds(self.elapsed_s)}")
        if self.cycles is not None:
            parts.append(f"cycles={self.cycles:,}")
        if "instructions" in s:
            parts.append(f"warp_instructions={s['instructions']:,}")
        return f"LaunchResult({', '.join(parts)})"

    def report(self) -> str:
        """A text profile of the launch; on the timed simulator, Nsight Compute-like
        sections (:func:`~.timing.report.report`)."""
        if self.timing is not None:
            from .timing.report import report
            return report(self)
        s = self.stats
        lines = [f"kernel {self.kernel or '?'} on {self.device}"]
        if "grid" in s:
            lines.append(f"  grid {s['grid']}  block {s['block']}  "
                         f"({s.get('ctas', 0)} CTAs, {s.get('threads', 0)} threads)")
        if "ctas_per_wave" in s:
            lines.append(f"  waves {s.get('waves', 0)}  ({s['ctas_per_wave']} CTAs a wave, "
                         f"{s.get('ctas_per_sm', '?')} per SM)")
        if "lanes" in s:  # native code: no instruction counts
            lines.append(f"  {s['lanes']} SIMD lanes a thread group, {s.get('workers', 1)} "
                         "worker threads")
            rate = s.get("threads", 0) / self.elapsed_s if self.elapsed_s > 0 else 0.0
            lines.append(f"  host time            {self.elapsed_s:>13.4f}s "
                         f"({rate / 1e6:,.1f} M threads/s)")
            return "\n".join(lines)
        inst = s.get("instructions", 0)
        tinst = s.get("thread_instructions", 0)
        lines.append(f"  warp instructions    {inst:>14,}")
        lines.append(f"  thread instructions  {tinst:>14,}")
        if inst:
            lines.append(f"  SIMT efficiency      {tinst / (32 * inst):>14.1%}")
        rate = tinst / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines.append(f"  host time            {self.elapsed_s:>13.4f}s "
                     f"({rate / 1e6:,.1f} M thread-instructions/s)")
        return "\n".join(lines)


def normalize_dims(value: object, what: str) -> Dims:
    """An int or a tuple of up to 3 ints as (x, y, z); LaunchError otherwise."""
    items = (value,) if isinstance(value, numbers.Integral) else value
    if (not isinstance(items, (tuple, list)) or not 1 <= len(items) <= 3
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in items)):
        raise LaunchError(f"{what} must be an int or a tuple of 1 to 3 ints, got {value!r}")
    dims = [int(v) for v in items] + [1] * (3 - len(items))
    return dims[0], dims[1], dims[2]


def with_dynamic_shared(program: Program, shared_bytes: int) -> Program:
    """``program`` with ``shared_bytes`` of dynamic shared memory after its static shared
    memory (16-byte aligned); LaunchError for a size that is not a non-negative int."""
    if isinstance(shared_bytes, bool) or not isinstance(shared_bytes, numbers.Integral) \
            or shared_bytes < 0:
        raise LaunchError(f"kernel '{program.name}': shared_bytes must be a non-negative "
                          f"int, not {shared_bytes!r}")
    if not shared_bytes:
        return program
    static = -(-program.shared_bytes // abi.SHARED_ALIGN) * abi.SHARED_ALIGN
    return dataclasses.replace(program, shared_bytes=static + int(shared_bytes))


def check_dims(name: str, grid: Dims, block: Dims, cfg: ArchConfig) -> None:
    """:class:`ResourceError` for grid or block dimensions outside ``cfg``'s limits (both
    devices apply the same limits, the configured GPU's)."""
    for dims, what, limits in ((block, "block", cfg.max_block_dims),
                               (grid, "grid", cfg.max_grid_dims)):
        for axis, v, lim in zip("xyz", dims, limits, strict=True):
            if v < 1:
                raise ResourceError(f"kernel '{name}': {what} dimension {axis} is {v}; "
                                    f"every dimension must be at least 1")
            if v > lim:
                raise ResourceError(f"kernel '{name}': {what} dimension {axis} is {v}, "
                                    f"above the limit of {lim}")
    threads = block[0] * block[1] * block[2]
    if threads > cfg.max_threads_per_block:
        raise ResourceError(f"kernel '{name}': {threads} threads per block, above the limit "
                            f"of {cfg.max_threads_per_block}")


def check_memory(name: str, shared_bytes: int, local_bytes: int, cfg: ArchConfig) -> None:
    """:class:`ResourceError` for more shared memory per block or local memory per thread
    than ``cfg`` allows."""
    if shared_bytes > cfg.max_shared_per_block:
        raise ResourceError(f"kernel '{name}' uses {shared_bytes} bytes of shared "
                            f"memory per block, above the limit of {cfg.max_shared_per_block}")
    if local_bytes > cfg.max_local_per_thread:
        raise ResourceError(f"kernel '{name}' uses {local_bytes} bytes of local "
                            f"memory per thread, above the limit of "
                            f"{cfg.max_local_per_thread}")


_USED: dict[int, tuple[Program, int]] = {}


def _registers_used(program: Program) -> int:
    """:func:`registers_used`, remembered per program object (launches repeat)."""
    found = _USED.get(id(program))
    if found is None or found[0] is not program:
        if len(_USED) > 256:
            _USED.clear()
        found = _USED[id(program)] = (program, registers_used(program))
    return found[1]


def check_resources(program: Program, grid: Dims, block: Dims, cfg: ArchConfig) -> None:
    """Raise :class:`ResourceError` when the device cannot run this launch."""
    name = program.name
    check_dims(name, grid, block, cfg)
    threads = block[0] * block[1] * block[2]
    regs = program.registers
    used = _registers_used(program)
    if regs < used:
        raise ResourceError(f"kernel '{name}' declares {regs} registers but its instructions "
                            f"use {used}")
    if regs > cfg.max_registers_per_thread:
        raise ResourceError(f"kernel '{name}' uses {regs} registers per thread, above the "
                            f"limit of {cfg.max_registers_per_thread}")
    if regs * threads > cfg.max_registers_per_block:
        raise ResourceError(f"kernel '{name}': {regs} registers x {threads} threads = "
                            f"{regs * threads} registers per block, above the limit of "
                            f"{cfg.max_registers_per_block}")
    check_memory(name, program.shared_bytes, program.local_bytes, cfg)
    if program.shared_bytes < 0 or program.local_bytes < 0:
        raise ResourceError(f"kernel '{name}' has a negative shared or local size")


def occupancy_limits(program: Program, block_threads: int, cfg: ArchConfig
                     ) -> dict[str, int]:
    """CTAs an SM could hold by each resource alone: ``ctas``, ``warps``, ``registers``
    and ``shared``, with the CUDA occupancy calculator's allocation rules (registers per
    warp in units of ``register_alloc_unit``, shared memory per CTA in units of
    ``shared_alloc_unit`` plus ``shared_reserved_per_block``)."""
    warps = -(-block_threads // cfg.warp_size)
    limits = {"ctas": cfg.max_ctas_per_sm,
              "warps": min(cfg.max_warps_per_sm // warps,
                           cfg.max_threads_per_sm // (warps * cfg.warp_size))}
    if program.registers:
        unit = cfg.register_alloc_unit
        per_warp = -(-program.registers * cfg.warp_size // unit) * unit
        limits["registers"] = (cfg.registers_per_sm // per_warp) // warps
    if program.shared_bytes:
        unit = cfg.shared_alloc_unit
        per_cta = -(-(program.shared_bytes + cfg.shared_reserved_per_block) // unit) * unit
        limits["shared"] = cfg.shared_per_sm // per_cta
    return limits


def occupancy(program: Program, block_threads: int, cfg: ArchConfig) -> int:
    """CTAs resident on one SM: the minimum of :func:`occupancy_limits` (at least one)."""
    return max(1, min(occupancy_limits(program, block_threads, cfg).values()))


@dataclass
class Staged:
    """A numpy argument copied into global memory for one launch."""

    array: np.ndarray
    allocation: Allocation


@functools.cache
def _int_range(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def scalar_bytes(param: Param, value: object, kernel: str) -> bytes:
    """Pack a scalar argument by the parameter's declared type; LaunchError when it is of the
    wrong kind or does not fit."""
    t = param.type
    dtype = NUMPY_TYPES[t]
    if type(value) is int and dtype.kind in "iu":  # the common case, checked cheaply
        low, high = _int_range(dtype)
        if low <= value <= high:
            return value.to_bytes(dtype.itemsize, "little", signed=dtype.kind == "i")
    where = f"kernel '{kernel}': parameter '{param.name}' ({t})"
    if isinstance(value, (np.ndarray, DeviceArray, list, tuple)):
        raise LaunchError(f"{where} takes a scalar, got {type(value).__name__}")
    if dtype.kind in "iu":
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if not isinstance(value, (numbers.Integral, np.integer)):
            raise LaunchError(f"{where} takes an integer, got {type(value).__name__} "
                              f"{value!r}")
        info = np.iinfo(dtype)
        if not info.min <= int(value) <= info.max:
            raise LaunchError(f"{where}: {value} does not fit ({info.min}..{info.max})")
        return np.array(int(value), dtype).tobytes()
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, np.floating, np.integer)):
        raise LaunchError(f"{where} takes a number, got {type(value).__name__} {value!r}")
    with np.errstate(over="ignore"):
        packed = np.array(value, dtype)
    if np.isinf(packed) and np.isfinite(float(value)):
        raise LaunchError(f"{where}: {value!r} overflows {t}")
    return packed.tobytes()


def _pointer(param: Param, value: object, memory: GlobalMemory, device, kernel: str,
             staged: list[Staged]) -> int:
    """The address a pointer argument passes, staging numpy arrays in global memory."""
    want = NUMPY_TYPES[param.element_type]
    where = f"kernel '{kernel}': parameter '{param.name}' ({param.type})"
    if isinstance(value, DeviceArray):
        if value.device is not device:
            raise LaunchError(f"{where}: the DeviceArray belongs to another device")
        if value.freed:
            raise LaunchError(f"{where}: the DeviceArray was freed")
        if value.dtype != want:
            raise LaunchError(f"{where} needs {want} elements, got a DeviceArray of "
                              f"{value.dtype}")
        return value.ptr
    if isinstance(value, np.ndarray):
        if value.dtype != want:
            raise LaunchError(f"{where} needs an array of {want}, got {value.dtype}")
        for s in staged:
            if s.array is value:  # one array passed twice is one allocation
                return s.allocation.ptr
            if np.shares_memory(s.array, value):
                raise LaunchError(f"{where}: the array overlaps another array argument; pass "
                                  f"one array, or DeviceArrays")
        data = np.ascontiguousarray(value)
        a = memory.alloc(data.nbytes)
        a.buf[: data.nbytes] = data.reshape(-1).view(np.uint8)
        staged.append(Staged(value, a))
        return a.ptr
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
            value, (bool, np.bool_)):
        if not 0 <= int(value) < 2**64:
            raise LaunchError(f"{where}: address {value} is not a 64-bit address")
        return int(value)
    raise LaunchError(f"{where} takes a numpy array, a DeviceArray or an address, got "
                      f"{type(value).__name__}")


def pack_arguments(program: Program, args: tuple | list, grid: Dims, block: Dims,
                   memory: GlobalMemory, device) -> tuple[np.ndarray, list[Staged]]:
    """Constant bank 0 for this launch, and the numpy arrays staged in global memory.

    Bank 0 holds blockDim at 0x0, gridDim at 0xc, the initial stack pointer at 0x28 (the top
    of the thread's local memory, ``program.local_bytes``: stack frames grow down from it)
    and the parameters at ``isa.abi.param_offsets``. On a LaunchError the staged arrays are
    freed again.
    """
    params = program.params
    name = program.name
    if len(args) != len(params):
        if len(args) < len(params):
            missing = ", ".join(f"'{p.name}'" for p in params[len(args):])
            raise LaunchError(f"kernel '{name}' takes {len(params)} arguments, got "
                              f"{len(args)}: missing {missing}")
        raise LaunchError(f"kernel '{name}' takes {len(params)} arguments "
                          f"({', '.join(p.name for p in params)}), got {len(args)}: "
                          f"{len(args) - len(params)} extra")
    bank = np.zeros(abi.CONST_BANK_BYTES, np.uint8)
    words = bank.view(np.uint32)
    for i, v in enumerate((*block, *grid)):
        words[(abi.NTID_X >> 2) + i] = v
    words[abi.STACK_POINTER >> 2] = program.local_bytes
    offsets = abi.param_offsets(params)
    if params and offsets[-1] + params[-1].size - abi.PARAM_BASE > abi.MAX_PARAM_BYTES:
        raise LaunchError(f"kernel '{name}': parameters take more than "
                          f"{abi.MAX_PARAM_BYTES} bytes")
    staged: list[Staged] = []
    try:
        for param, value, off in zip(params, args, offsets, strict=True):
            if param.is_pointer:
                ptr = _pointer(param, value, memory, device, name, staged)
                raw = np.array(ptr, np.uint64).tobytes()
            else:
                raw = scalar_bytes(param, value, name)
            bank[off: off + len(raw)] = np.frombuffer(raw, np.uint8)
    except BaseException:
        release(staged, memory)
        raise
    return bank, staged


def copy_back(staged: list[Staged]) -> None:
    """Copy staged arrays' device contents back into the caller's (writable) arrays."""
    for s in staged:
        if not s.array.flags.writeable or s.array.size == 0:
            continue
        data = s.allocation.buf[: s.array.nbytes].view(s.array.dtype)
        s.array[...] = data.reshape(s.array.shape)


def release(staged: list[Staged], memory: GlobalMemory) -> None:
    """Free the staged arrays' allocations."""
    for s in staged:
        memory.free(s.allocation.ptr)
    staged.clear()


def launch_timeout(timeout: float | None) -> float:
    """Seconds a launch may run (``timeout``, else ``WARPFORGE_LAUNCH_TIMEOUT``; 0: no
    limit); LaunchError for a negative or non-numeric value."""
    value = knobs.get("WARPFORGE_LAUNCH_TIMEOUT") if timeout is None else timeout
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0 \
            or value != value:
        raise LaunchError(f"timeout must be a non-negative number of seconds, got {value!r}")
    return float(value)
