"""The tensor-core template's configurations: the legal space and the default pick.

A configuration is a CTA tile ``BM x BN`` stepping ``BK`` (16, 32 or 64 f16) along K and a
warp tile ``WM x WN`` (multiples of 16 and 8, ``wf.mma_sync``'s D); the CTA has
``(BM / WM) * (BN / WN)`` warps. :func:`legal_tensorop` keeps what a launch can run:

* threads: 1 to 32 warps;
* registers: :meth:`TensorOpConfig.registers`, an estimate from what the template holds
  (the accumulators, two K steps' fragments, the staged copy) plus
  :data:`ADDRESS_REGISTERS`, at most 255 a thread and 65,536 a CTA;
* shared memory: ``(BM + BN) * BK`` f16 (the tiles in fragment order, unpadded) times the
  stages within :data:`TC_MAX_SHARED`.

:func:`default_tensorop_config` is the heuristic ``matmul`` uses for f16 operands: on the
simulator the first of :data:`TC_TILES` (at most twice C's smaller side) whose grid alone
keeps at least half the CTA slots busy (at 2048^3, 1,024 CTAs of 64x64 in 2.4 waves
measured 40.6% of the HMMA peak, split in two 37.9%, before the operands went into
fragment order), else the smallest with K split as
the SIMT heuristic splits it; two stages, BK=32. On the CPU 64x64 tiles of 32x32 warps,
one stage (the MMA's emulation is the cost there, not the tile).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .config import (
    CTA_REGISTERS,
    MIN_BUSY,
    _split,
    grid_fields_illegal,
    resources_illegal,
    wave_efficiency,
)
from .tensorop import A_BLOCK, B_BLOCK

BMS = (16, 32, 64, 128, 256)
BKS = (16, 32, 64)
WMS = (16, 32, 64)
WNS = (8, 16, 32, 64)
TC_MAX_SHARED = 160 * 1024
"""Shared memory a CTA of this template may use: what an A100 SM gives one CTA that opts
in (163 KiB, less the 1 KiB reserved, rounded down; CUDA's default is 48 KiB, which
:data:`~.config.MAX_SHARED` keeps for the SIMT template)."""
ADDRESS_REGISTERS = 24
"""Registers the estimate adds for indices, addresses and loop counters."""
SM_THREADS = 2048
"""Threads an SM holds (A100, gpu-facts.md)."""
TC_TILES = ((128, 64, 64, 32), (64, 64, 32, 32), (32, 32, 16, 16))
"""The simulator heuristic's (BM, BN, WM, WN), largest first, as measured on the A100
config (``benchmarks/gemm.py``; two stages, BK=32). At 2048^3, 128x64 tiles of two 64x32
warps (166 registers: three CTAs an SM) ran 57.4% of the HMMA peak (64.1% at 4096^3),
64x64 tiles of four 32x32 warps 43.8%, 128x128 of eight 64x32 38.7%: a 64x32 warp tile
reads 1.5 shared-memory wavefronts an HMMA, a 32x32 one 2. At 1024^3, where 128 CTAs of
128x64 keep too few of the slots busy, 64x64 tiles (94 registers) ran 34.2% (128x64
30.5%). (Earlier, with the operands row-major and a skewed shared layout: 46.0%, 40.6%
and 30.7%; at 512^3 then, 32x32 tiles 12.9%, 16x16 10.6%, 64x64 9.1%.)"""


@dataclass(frozen=True)
class TensorOpConfig:
    """One configuration of the tensor-core template (see the module docstring)."""

    BM: int
    BN: int
    BK: int
    WM: int
    WN: int
    GROUP: int = 1
    """Rasterization, as :attr:`GemmConfig.GROUP`."""
    SPLIT_K: int = 1
    """K slices, as :attr:`GemmConfig.SPLIT_K`."""
    ATOMIC: int = 0
    """With SPLIT_K > 1: 1 adds the slices into C atomically, 0 reduces them in order."""
    STAGES: int = 1
    """2: double-buffered shared memory, the next tile in registers during the math."""

    @property
    def threads(self) -> int:
        """Threads in a CTA."""
        return (self.BM // self.WM) * (self.BN // self.WN) * 32

    @property
    def block(self) -> tuple[int]:
        """The CTA's shape: one row of warps."""
        return (self.threads,)

    @property
    def registers(self) -> int:
        """The estimated registers a thread needs (see the module docstring)."""
        mt, nt = self.WM // 16, self.WN // 8
        staged = 0
        if self.STAGES == 2:
            # a round of 16-byte chunks a thread, each tile's rounds apart
            staged = 4 * sum(-(-rows * self.BK // 8 // self.threads)
                             for rows in (self.BM, self.BN))
        return 4 * mt * nt + 2 * (4 * mt + 2 * nt) + staged + ADDRESS_REGISTERS

    @property
    def shared_bytes(self) -> int:
        """Shared memory of the two tiles in fragment order (:mod:`.tensorop`), times the
        stages."""
        steps = self.BK // 16
        words = (self.BM // 16) * steps * A_BLOCK + (self.BN // 8) * steps * B_BLOCK
        return 4 * words * self.STAGES

    def constexprs(self) -> dict[str, int]:
        """The template's tile constexprs."""
        return asdict(self)

    def divides(self, m: int, n: int, k: int) -> bool:
        """Whether the tiles divide the problem (no guards): M and N by the CTA tile, K's
        16-deep steps by BK's, every K slice at least one BK step."""
        kb, steps = -(-k // 16), self.BK // 16
        per = -(-kb // (steps * self.SPLIT_K)) * steps
        return (m % self.BM == 0 and n % self.BN == 0 and kb % steps == 0
                and (self.SPLIT_K - 1) * per < kb)

    def grid(self, m: int, n: int) -> tuple[int, int, int]:
        """CTAs covering an ``m x n`` C, times the K slices."""
        return (-(-n // self.BN), -(-m // self.BM), self.SPLIT_K)

    def why_illegal(self) -> str | None:
        """Why the template cannot run this configuration, or None."""
        if self.BK not in BKS:
            return f"BK is one of {', '.join(map(str, BKS))} (f16 elements), not {self.BK}"
        if self.WM % 16 or self.WN % 8 or self.WM <= 0 or self.WN <= 0:
            return f"a warp tile is a multiple of 16x8, not {self.WM}x{self.WN}"
        if self.BM % self.WM or self.BN % self.WN:
            return "the warp tile does not divide the CTA tile"
        t = self.threads
        if not 32 <= t <= 1024:
            return f"{t} threads is not 1 to 32 warps"
        why = grid_fields_illegal(self)
        if why is not None:
            return why
        if self.STAGES not in (1, 2):
            return f"STAGES is 1 or 2, not {self.STAGES}"
        return resources_illegal(self.registers, t, self.shared_bytes, TC_MAX_SHARED)


def legal_tensorop() -> list[TensorOpConfig]:
    """Every configuration the template can run (one stage and two), in a fixed order."""
    out = []
    for bm in BMS:
        for bn in BMS:
            for bk in BKS:
                for wm in WMS:
                    for wn in WNS:
                        for stages in (1, 2):
                            cfg = TensorOpConfig(bm, bn, bk, wm, wn, STAGES=stages)
                            if cfg.why_illegal() is None:
                                out.append(cfg)
    return out


def default_tensorop_config(m: int, n: int, workers: int, cpu: bool = False,
                            k: int | None = None, atomic: bool = True) -> TensorOpConfig:
    """The heuristic pick for an ``m x n`` C, K deep, on a device with ``workers``
    parallel units (see the module docstring)."""
    if cpu:
        return TensorOpConfig(64, 64, 32, 32, 32)
    bk = 32
    fits = [t for t in TC_TILES if max(t[0], t[1]) <= 2 * min(m, n)] or [TC_TILES[-1]]
    for bm, bn, wm, wn in fits:
        cfg = TensorOpConfig(bm, bn, bk, wm, wn, STAGES=2)
        slots = workers * _per_sm(cfg)
        ctas = -(-m // bm) * -(-n // bn)
        if wave_efficiency(ctas, slots) >= MIN_BUSY:
            return cfg
    # no tile keeps the slots busy: the smallest, with K split where it is deep enough
    split = _split(ctas, slots, k, bk, False)
    return replace(cfg, SPLIT_K=split, ATOMIC=int(split > 1 and atomic))


def _per_sm(cfg: TensorOpConfig) -> int:
    """CTAs of ``cfg`` an SM holds, by the register estimate and the threads."""
    return max(1, min(CTA_REGISTERS // (cfg.registers * cfg.threads),
                      SM_THREADS // cfg.threads))
