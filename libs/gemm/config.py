"""The SIMT template's configurations: the legal space and the default pick.

A configuration is a CTA tile ``BM x BN`` stepping ``BK`` along K, and a thread tile
``TM x TN``; the CTA has ``(BM / TM) * (BN / TN)`` threads. :func:`legal` keeps the
configurations a launch can run and the template can express:

* threads: a whole number of warps, from 32 to 1024;
* registers: the thread tile, its A and B fragments and about 24 for addresses and loop
  state, at most :data:`MAX_REGISTERS` (so no spills on the simulator);
* shared memory: ``(BM + BN) * BK`` floats within :data:`MAX_SHARED` bytes.

:func:`default_config` is the documented heuristic ``matmul`` uses when nothing was
tuned: the largest of 64x64 / 32x32 / 16x16 CTA tiles whose grid still gives every SM of
the device work (108 SMs on the simulated A100; on the CPU, as many CTAs as worker
threads times 4), with a 4x4 thread tile (2x2 below 32); BK is 8 on the simulator and 16
on the CPU (the best measured at N=1024 in ``benchmarks/gemm.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BMS = (16, 32, 64, 128)
BKS = (4, 8, 16)
TMS = (1, 2, 4, 8)
MAX_REGISTERS = 128
"""A thread's register estimate must stay within this (255 is the hardware's limit; the
rest is head room for the compiler)."""
MAX_SHARED = 48 * 1024
"""Static shared memory a CTA may use (CUDA's limit without opt-in)."""
BASE_REGISTERS = 24


@dataclass(frozen=True)
class GemmConfig:
    """One configuration of the SIMT template (see the module docstring)."""

    BM: int
    BN: int
    BK: int
    TM: int
    TN: int

    @property
    def threads(self) -> int:
        """Threads in a CTA."""
        return (self.BM // self.TM) * (self.BN // self.TN)

    @property
    def registers(self) -> int:
        """The register estimate the space is pruned by."""
        return self.TM * self.TN + self.TM + self.TN + BASE_REGISTERS

    @property
    def shared_bytes(self) -> int:
        """Shared memory of the two tiles."""
        return (self.BM + self.BN) * self.BK * 4

    def constexprs(self) -> dict[str, int]:
        """The template's tile constexprs."""
        return asdict(self)

    @property
    def block(self) -> tuple[int, int]:
        """The CTA's shape: x along C's columns, y along its rows."""
        return (self.BN // self.TN, self.BM // self.TM)

    def divides(self, m: int, n: int, k: int) -> bool:
        """Whether the tiles divide the problem (no edge tiles: no guards needed)."""
        return m % self.BM == 0 and n % self.BN == 0 and k % self.BK == 0

    def grid(self, m: int, n: int) -> tuple[int, int]:
        """CTAs covering an ``m x n`` C."""
        return (-(-n // self.BN), -(-m // self.BM))

    def why_illegal(self) -> str | None:
        """Why the template cannot run this configuration, or None."""
        if self.BM % self.TM or self.BN % self.TN:
            return "the thread tile does not divide the CTA tile"
        t = self.threads
        if t % 32 or not 32 <= t <= 1024:
            return f"{t} threads is not a whole number of warps from 32 to 1024"
        if self.registers > MAX_REGISTERS:
            return f"about {self.registers} registers a thread (at most {MAX_REGISTERS})"
        if self.shared_bytes > MAX_SHARED:
            return f"{self.shared_bytes} bytes of shared memory (at most {MAX_SHARED})"
        return None


def legal() -> list[GemmConfig]:
    """Every configuration the template can run, in a fixed order."""
    out = []
    for bm in BMS:
        for bn in BMS:
            for bk in BKS:
                for tm in TMS:
                    for tn in TMS:
                        cfg = GemmConfig(bm, bn, bk, tm, tn)
                        if cfg.why_illegal() is None:
                            out.append(cfg)
    return out


def default_config(m: int, n: int, workers: int, cpu: bool = False) -> GemmConfig:
    """The heuristic pick for an ``m x n`` C on a device with ``workers`` parallel units
    (SMs, or CPU threads times 4)."""
    for tile, thread in ((64, 4), (32, 4), (16, 2)):
        cfg = GemmConfig(tile, tile, 16 if cpu else 8, thread, thread)
        ctas = -(-m // tile) * -(-n // tile)
        if ctas >= workers or tile == 16:
            return cfg
    raise AssertionError("unreachable")
