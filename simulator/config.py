"""The simulated device's configuration: SM count, per-SM limits, memory banks, clock.

:class:`ArchConfig` is a frozen dataclass; :data:`PRESETS` holds the named ones. The
``"ampere"`` preset is an A100-like GPU with the figures of ``reference/gpu-facts.md``
("An SM (Ampere-like, A100)") and the CUDA C++ Programming Guide's table of technical
specifications for compute capability 8.0 (the per-block and grid limits). ``"test"`` is
the same SM with only two of them, so that tests run many waves on small grids.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from .errors import ConfigError

KIB = 1024


@dataclass(frozen=True)
class ArchConfig:
    """Limits and sizes of a simulated GPU. Each field names where its default comes from."""

    name: str = "ampere"
    """Preset name, for reports."""
    num_sms: int = 108
    """Streaming multiprocessors (gpu-facts.md: 108 SMs)."""
    sub_partitions: int = 4
    """Warp schedulers per SM, one warp-instruction a cycle each (gpu-facts.md)."""
    warp_size: int = 32
    """Threads per warp (CUDA guide, all compute capabilities)."""
    max_warps_per_sm: int = 64
    """Resident warps per SM (gpu-facts.md: 64 warps)."""
    max_ctas_per_sm: int = 32
    """Resident thread blocks per SM (gpu-facts.md: 32 CTAs)."""
    max_threads_per_sm: int = 2048
    """Resident threads per SM (gpu-facts.md: 2048 threads)."""
    registers_per_sm: int = 65536
    """32-bit registers per SM (gpu-facts.md: 65536 registers)."""
    max_registers_per_thread: int = 255
    """Registers a thread may use (gpu-facts.md: 255 a thread)."""
    max_registers_per_block: int = 65536
    """Registers a thread block may use (CUDA guide, cc 8.0: 64 K)."""
    shared_per_sm: int = 164 * KIB
    """Shared memory per SM (gpu-facts.md: up to 164 KiB)."""
    max_shared_per_block: int = 163 * KIB
    """Shared memory a block may use (CUDA guide, cc 8.0: 163 KB with opt-in)."""
    max_threads_per_block: int = 1024
    """Threads per block (CUDA guide: 1024)."""
    max_block_dims: tuple[int, int, int] = (1024, 1024, 64)
    """Largest blockDim.x/y/z (CUDA guide: 1024, 1024, 64)."""
    max_grid_dims: tuple[int, int, int] = (2**31 - 1, 65535, 65535)
    """Largest gridDim.x/y/z (CUDA guide: 2^31-1, 65535, 65535)."""
    max_local_per_thread: int = 512 * KIB
    """Local memory a thread may use (CUDA guide: 512 KB)."""
    shared_banks: int = 32
    """Shared memory banks of 4 bytes (gpu-facts.md: 32 banks, 128 B a cycle)."""
    clock_hz: float = 1.41e9
    """SM clock (gpu-facts.md: 1.41 GHz)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("name", "clock_hz", "max_block_dims", "max_grid_dims"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"ArchConfig.{f.name} must be a positive int, got {value!r}")
        if self.warp_size != 32:
            raise ConfigError("ArchConfig.warp_size must be 32 (SASS lane masks are 32 bits)")
        if not self.clock_hz > 0:
            raise ConfigError(f"ArchConfig.clock_hz must be positive, got {self.clock_hz!r}")

    def replace(self, **overrides: object) -> ArchConfig:
        """A copy with some fields changed; an unknown field is a ``TypeError`` naming the
        valid ones."""
        valid = [f.name for f in fields(self)]
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ConfigError(
                f"unknown ArchConfig field(s) {', '.join(unknown)}; valid fields: "
                + ", ".join(valid)
            )
        return dataclasses.replace(self, **overrides)


PRESETS: dict[str, ArchConfig] = {
    "ampere": ArchConfig(),
    "test": ArchConfig(name="test", num_sms=2),
}
"""Named configurations: ``"ampere"`` (A100-like) and ``"test"`` (two such SMs)."""


def arch_config(arch: str | ArchConfig = "ampere", **overrides: object) -> ArchConfig:
    """The configuration named ``arch`` (or given), with ``overrides`` applied."""
    if isinstance(arch, ArchConfig):
        base = arch
    else:
        try:
            base = PRESETS[arch]
        except (KeyError, TypeError):
            raise ConfigError(
                f"unknown arch {arch!r}; valid archs: {', '.join(sorted(PRESETS))}"
            ) from None
    return base.replace(**overrides) if overrides else base
