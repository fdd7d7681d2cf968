"""The simulated GPU: a configuration, global memory, and launches of ``isa.Program`` s."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from ..isa import knobs
from ..isa.abi import DYNAMIC_SHARED_BYTES
from ..isa.program import Program
from .arrays import DeviceArray
from .config import ArchConfig, arch_config
from .errors import ConfigError, LaunchError, LaunchTimeout
from .executor import execute, wave_size
from .launch import (
    LaunchResult,
    check_resources,
    copy_back,
    launch_timeout,
    normalize_dims,
    pack_arguments,
    release,
    with_dynamic_shared,
)
from .memory import GlobalMemory
from .sanitize import parse_tools
from .timing import SCHEDULERS, plan, recorder_for, time_launch


class Simulator:
    """A simulated GPU (``wf.Simulator``): ``Simulator(arch="ampere", **overrides)``.

    ``arch`` names a preset of :data:`~.config.PRESETS` (``"ampere"``, ``"test"``) or is an
    :class:`ArchConfig`; keyword overrides replace its fields (``Simulator(num_sms=4)``).
    ``timing`` (default on) runs the cycle model after the functional run (``False``:
    functional only, ``LaunchResult.cycles`` is None); ``scheduler`` is ``"gto"``
    (greedy-then-oldest) or ``"lrr"`` (loose round robin); ``sample="auto"`` times a few
    SMs in detail when a grid keeps more than ``sample_sms`` SMs busy, ``None`` times all.
    ``sanitize`` is a comma list of ``racecheck`` and ``initcheck`` (:mod:`.sanitize`;
    ``memcheck`` and ``synccheck`` are always on); None reads ``WARPFORGE_SANITIZE``.
    ``check_hazards`` turns the hazard checker on or off; None reads
    ``WARPFORGE_CHECK_HAZARDS``.
    """

    def __init__(self, arch: str | ArchConfig = "ampere", *, timing: bool = True,
                 scheduler: str = "gto", sample: str | None = "auto",
                 sanitize: str | None = None, check_hazards: bool | None = None,
                 max_instructions: int | None = None, **overrides: object) -> None:
        self.config = arch_config(arch, **overrides)
        if not isinstance(timing, bool):
            raise ConfigError(f"Simulator(timing=...) must be True or False, got {timing!r}")
        if scheduler not in SCHEDULERS:
            raise ConfigError(f"Simulator(scheduler=...) must be one of "
                              f"{', '.join(map(repr, SCHEDULERS))}, got {scheduler!r}")
        if sample not in ("auto", None):
            raise ConfigError(f"Simulator(sample=...) must be 'auto' or None, got {sample!r}")
        self.timing = timing
        self.scheduler = scheduler
        self.sample = sample
        if sanitize is None:
            sanitize = knobs.get("WARPFORGE_SANITIZE") or None
        self.sanitize = parse_tools(sanitize)
        """The sanitizers on besides memcheck and synccheck (always on)."""
        if max_instructions is not None and (
                isinstance(max_instructions, bool) or not isinstance(max_instructions, int)
                or max_instructions < 1):
            raise ConfigError(f"Simulator(max_instructions=...) must be a positive int, got "
                              f"{max_instructions!r}")
        self.max_instructions = max_instructions
        """Issue steps (an instruction executed by every thread at one PC of a wave) a
        launch may take before LaunchTimeout: a deterministic stop for runaway kernels."""
        if check_hazards is None:
            check_hazards = bool(knobs.get("WARPFORGE_CHECK_HAZARDS"))
        self.check_hazards = check_hazards
        self.memory = GlobalMemory()
        self._lock = threading.RLock()
        """Held by each launch and allocation: threads may share a device; its launches run
        one at a time (they hold the GIL while they run anyway)."""
        self._machines: dict = {}
        """Decoded machines of recent launches, reused by the next launch of the same
        program and geometry (:func:`~.executor.execute`)."""

    def __repr__(self) -> str:
        return f"Simulator(arch={self.config.name!r})"

    __str__ = __repr__

    def to_device(self, array: np.ndarray) -> DeviceArray:
        """Copy ``array`` into this device's global memory and keep it resident there."""
        array = np.asarray(array)
        if array.dtype.hasobject:
            raise LaunchError("cannot copy an object array to the device")
        data = np.ascontiguousarray(array)
        with self._lock:
            alloc = self.memory.alloc(data.nbytes)
        alloc.buf[: data.nbytes] = data.reshape(-1).view(np.uint8)
        return DeviceArray(self, alloc, array.shape, array.dtype)

    def empty(self, shape: int | Sequence[int], dtype: object = np.float32) -> DeviceArray:
        """A new zero-filled device array."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = np.dtype(dtype)
        with self._lock:
            alloc = self.memory.alloc(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
        return DeviceArray(self, alloc, shape, dtype)

    def launch(self, program: Program, grid: int | Sequence[int], block: int | Sequence[int],
               args: Sequence[object] = (), timeout: float | None = None,
               shared_bytes: int = 0) -> LaunchResult:
        """Run ``program`` on a ``grid`` of ``block`` threads with ``args``.

        Numpy arrays are copied in and, after a launch that completes, copied back into the
        same arrays; a faulting launch leaves them untouched. DeviceArrays pass their
        address. Raises LaunchError/ResourceError before running and MemoryFault,
        BarrierError, WarpError or HazardError from inside the kernel; LaunchTimeout past
        ``timeout`` seconds (default ``WARPFORGE_LAUNCH_TIMEOUT``, 0: none). Those, and
        Ctrl-C, leave numpy arrays as they were. ``shared_bytes`` of dynamic shared memory
        follow the program's static shared memory (16-byte aligned); the kernel reads the
        size at ``c[0x0][0x30]``.
        """
        with self._lock:
            return self._launch(program, grid, block, args, timeout, shared_bytes)

    def _launch(self, program: Program, grid, block, args, timeout, shared_bytes
                ) -> LaunchResult:
        start = time.perf_counter()
        grid3 = normalize_dims(grid, "grid")
        block3 = normalize_dims(block, "block")
        program = with_dynamic_shared(program, shared_bytes)
        check_resources(program, grid3, block3, self.config)
        limit = launch_timeout(timeout)
        deadline = time.monotonic() + limit if limit > 0 else None
        if isinstance(args, (np.ndarray, DeviceArray)) or not isinstance(args, Sequence):
            raise LaunchError(f"kernel '{program.name}': args must be a sequence with one "
                              f"argument per parameter")
        bank0, staged = pack_arguments(program, list(args), grid3, block3, self.memory, self)
        bank0.view(np.uint32)[DYNAMIC_SHARED_BYTES >> 2] = shared_bytes
        rec = None
        if self.timing:
            total = grid3[0] * grid3[1] * grid3[2]
            per_sm, _ = wave_size(program, block3, total, self.config)
            sms, sampled = plan(total, self.config, self.sample)
            rec = recorder_for(block3[0] * block3[1] * block3[2], sms, sampled,
                               self.config)
        try:
            try:
                stats = execute(program, grid3, block3, bank0, self.memory, self.config,
                                self.check_hazards, deadline, self.max_instructions,
                                self._machines, rec, self.sanitize)
            except LaunchTimeout as err:
                what = (f"its limit of {self.max_instructions:,} instructions"
                        if err.instructions else f"its timeout of {limit:g} s")
                raise LaunchTimeout(f"kernel '{program.name}' ran past {what} and was "
                                    "stopped", err.instructions) from None
            copy_back(staged)
        finally:
            release(staged, self.memory)
        timing = None
        if rec is not None:
            timing = time_launch(program, rec, self.config, per_sm, total, sms, sampled,
                                 self.scheduler, stats["instructions"])
            stats.update(timing.stats)
        return LaunchResult(device=self, elapsed_s=time.perf_counter() - start,
                            cycles=None if timing is None else timing.cycles,
                            stats=stats, kernel=program.name, timing=timing)
