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

    # --- occupancy (the CUDA occupancy calculator's allocation rules, cc 8.0) -------------
    register_alloc_unit: int = 256
    """Registers are allocated per warp in units of 256 (CUDA occupancy calculator, cc 8.0)."""
    shared_alloc_unit: int = 128
    """Shared memory is allocated per CTA in units of 128 bytes (occupancy calculator)."""
    shared_reserved_per_block: int = 1 * KIB
    """Shared memory the system reserves per CTA (CUDA guide, cc 8.x: 1 KB)."""

    # --- timing: latencies in cycles (gpu-facts.md, "A100 measured") ---------------------
    shared_latency: int = 23
    """LDS/STS to a dependent use (gpu-facts.md: A100 shared load 23)."""
    l1_latency: int = 33
    """Global load that hits L1 (gpu-facts.md: A100 L1 hit 33)."""
    l2_latency: int = 200
    """Global load that hits L2 (gpu-facts.md: A100 L2 hit 200)."""
    dram_latency: int = 290
    """Global load from DRAM with no queueing (gpu-facts.md: A100 global 290)."""
    sfu_latency: int = 21
    """MUFU to a dependent use (gpu-facts.md: ~21, Accel-Sim microbenchmarks)."""
    atomic_latency: int = 200
    """A global atomic returns from L2, where it is performed (as an L2 hit)."""
    read_latency: int = 2
    """Cycles after issue at which a variable-latency instruction has read its sources
    (its read scoreboard is released): operands are read at dispatch."""

    # --- timing: pipes (initiation interval per sub-partition, cycles a warp-instruction) -
    fma_interval: int = 2
    """FP32 pipe: 16 lanes a sub-partition, a warp every 2 cycles (gpu-facts.md)."""
    alu_interval: int = 2
    """INT32 pipe: 16 lanes a sub-partition (gpu-facts.md)."""
    fp16_interval: int = 2
    """Packed half pipe: same width as FP32 in 32-bit words (A100 whitepaper)."""
    fp64_interval: int = 4
    """FP64 pipe: 8 lanes a sub-partition on A100, half the FP32 rate (A100 whitepaper:
    9.7 FP64 TFLOP/s against 19.5 FP32)."""
    sfu_interval: int = 8
    """SFU: 4 lanes a sub-partition, a warp every 8 cycles (gpu-facts.md)."""
    lsu_interval: int = 4
    """LD/ST units: 8 a sub-partition (A100 whitepaper SM diagram), a warp every 4 cycles."""
    branch_interval: int = 1
    """Branch unit: one warp-instruction a cycle."""
    tensor_interval: int = 8
    """Tensor core: 256 FP16 FMA a cycle a sub-partition (A100 whitepaper: 1024 a cycle an
    SM); an HMMA.16816 is 2048 FMA, so 8 cycles."""

    # --- timing: memory system ------------------------------------------------------------
    sector_bytes: int = 32
    """Global memory moves in 32-byte sectors (gpu-facts.md)."""
    l1_shared_bytes: int = 192 * KIB
    """L1 and shared memory share 192 KiB an SM; L1 is what shared memory leaves (A100
    whitepaper)."""
    l1_sectors_per_cycle: int = 4
    """L1 returns 128 B a cycle an SM (gpu-facts.md: 128 B a cycle)."""
    l2_bytes: int = 40 * KIB * KIB
    """L2 size (A100 whitepaper: 40 MB)."""
    l2_bytes_per_cycle: int = 47
    """L2 bandwidth a cycle per SM, shared by all SMs (gpu-facts.md: about 47 B)."""
    dram_bytes_per_second: float = 1555e9
    """DRAM bandwidth shared by all SMs (gpu-facts.md: 1555 GB/s)."""
    cta_launch_cycles: int = 0
    """Cycles between a CTA retiring and the next starting on its SM."""
    sample_sms: int = 4
    """SMs timed in detail when ``sample="auto"`` samples a grid of many waves."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("name", "clock_hz", "max_block_dims", "max_grid_dims",
                          "dram_bytes_per_second", "cta_launch_cycles"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"ArchConfig.{f.name} must be a positive int, got {value!r}")
        if self.warp_size != 32:
            raise ConfigError("ArchConfig.warp_size must be 32 (SASS lane masks are 32 bits)")
        for name in ("clock_hz", "dram_bytes_per_second"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not value > 0:
                raise ConfigError(f"ArchConfig.{name} must be positive, got {value!r}")
        if isinstance(self.cta_launch_cycles, bool) or not isinstance(
                self.cta_launch_cycles, int) or self.cta_launch_cycles < 0:
            raise ConfigError("ArchConfig.cta_launch_cycles must be an int >= 0, got "
                              f"{self.cta_launch_cycles!r}")
        if self.sector_bytes & (self.sector_bytes - 1):
            raise ConfigError(f"ArchConfig.sector_bytes must be a power of two, got "
                              f"{self.sector_bytes!r}")

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
