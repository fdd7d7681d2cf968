"""The SIMT template's configurations: the legal space and the default pick.

A configuration is a CTA tile ``BM x BN`` stepping ``BK`` along K, and a thread tile
``TM x TN``; the CTA has ``(BM / TM) * (BN / TN)`` threads. :func:`legal` keeps the
configurations a launch can run and the template can express:

* threads: a whole number of warps, from 32 to 1024;
* registers: what the compiler gives the template for the thread tile and BK
  (:data:`REGISTERS`, a measured upper bound) plus :data:`REGISTER_MARGIN`, at most 255
  a thread and 65,536 a CTA (the SM's register file);
* shared memory: ``(BM + BN) * BK`` floats within :data:`MAX_SHARED` bytes.

:func:`default_config` is the documented heuristic ``matmul`` uses when nothing was
tuned. It takes the largest square CTA tile, at most twice C's smaller side, whose grid,
with K split, keeps the device's CTA slots busy: on the simulator at least
:data:`MIN_BUSY` of them over the waves, on the CPU every one once.

- On the simulator the tiles are 128x128 with 8x8 a thread, 64x64 and 32x32 with 4x4,
  and 16x16 with 2x2 (:data:`SIM_TILES`), all with BK=8, two stages (STAGES=2) and, for
  4x4 and larger thread tiles, 128-bit fragment loads (VEC=4, A's rows padded by 4 words
  to keep them 16-byte aligned; PAD=1 for 2x2). A slot is one of the CTAs an SM holds at
  the registers the compiler gives that tile (108 SMs on the simulated A100), so a tile
  needing more registers (128x128 with edge guards) fills fewer; a tile holding one CTA an
  SM, which leaves the pipes idle at every barrier, is passed over. K is split into the
  fewest slices, of at least :data:`SPLIT_STEPS` BK steps and at most
  :data:`MAX_SPLIT`, that keep within :data:`SPLIT_SLACK` (a share) of the most slots busy
  over the waves (:func:`wave_efficiency`): at N=1024, 10 slices turn 64 tiles of 128x128 into 640
  CTAs, 99% of 3 waves of 216 slots. The slices add into C atomically (ATOMIC=1: the
  simulator's atomics land in a fixed order, so results repeat exactly), which measured
  far faster than writing a workspace for an in-order reduction (82.9% against 69.5% of
  the FP32 peak at N=1024); with an activation, which the atomic form cannot apply, they
  are reduced in order (ATOMIC=0).
- On the CPU the tiles are 64x64 and 32x32 with 4x4, and 16x16 with 2x2 (:data:`TILES`),
  BK=16, two stages where the tiles divide the problem (the best measured at N=1024 in
  ``benchmarks/gemm.py``: 64x64x16/4x4 with two stages 218.0 GFLOP/s, with one 157.6,
  numpy 203.7; one barrier a K step instead of two, so a thread's accumulators are
  loaded and stored half as often) and one where edge tiles need guards (at 1000^3 two
  stages measured 115.2 and 121.7 GFLOP/s, one 160.7 and 167.3), a slot per worker
  thread times 4, and K is split (in order) only to give idle workers work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

BMS = (16, 32, 64, 128)
BKS = (4, 8, 16)
TMS = (1, 2, 4, 8)
SPLIT_STEPS = 12
"""The fewest BK steps a K slice of the heuristic's split-K takes."""
MIN_BUSY = 0.5
"""On the simulator, the share of CTA slots a tile's waves must keep busy to be taken (at
N=512, 64x64 tiles in 5 slices keep 74% of 432 busy and ran 68.8% of the FP32 peak, the
16x16 tiles a stricter 0.75 left, 31.0%)."""
SPLIT_SLACK = 0.05
"""On the simulator, the fewest K slices whose wave efficiency is within this share of the
best (each slice adds a partial tile of C to write and reduce)."""
GROUPS = (1, 4, 8)
PADS = (0, 1, 4)
MAX_SPLIT = 16
"""The most K slices a configuration may take."""
SPLITS = tuple(range(1, MAX_SPLIT + 1))
"""The K slices the heuristic chooses from."""
MAX_REGISTERS = 255
"""A thread's registers (the ISA's limit)."""
CTA_REGISTERS = 65536
"""A CTA's registers (the SM's register file, gpu-facts.md)."""
REGISTERS = {  # (TM, TN): registers with BK = 4, 8, 16
    (1, 1): (24, 32, 45), (1, 2): (30, 42, 47), (1, 4): (42, 61, 61),
    (1, 8): (66, 101, 104), (2, 1): (30, 42, 48), (2, 2): (37, 53, 53),
    (2, 4): (52, 77, 77), (2, 8): (84, 125, 128), (4, 1): (42, 61, 61),
    (4, 2): (52, 77, 77), (4, 4): (76, 109, 109), (4, 8): (136, 173, 176),
    (8, 1): (66, 101, 104), (8, 2): (84, 125, 128), (8, 4): (134, 173, 176),
    (8, 8): (189, 189, 192),
}
"""The register budget by thread tile and BK: what the compiler gave the template on the
simulator (the most over every CTA tile, with EVEN=1) before it updated accumulators in
place and bounded the registers its scheduler keeps live. Today's compiler gives far fewer
almost everywhere (8x8: 128 to 140; 4x4: 62) and at most 2 more (1x1 with BK=4: 26,
within :data:`REGISTER_MARGIN`), so the table stays until the recorded tuning tables
(``benchmarks/tables``), which cover exactly this space, are measured again. A test
compiles the configs nearest the limits and holds the table to the compiler."""
REGISTER_MARGIN = 8
"""Head room over :data:`REGISTERS` for edge-tile guards (EVEN=0) and compiler drift."""
MAX_SHARED = 48 * 1024
"""Static shared memory a CTA may use (CUDA's limit without opt-in)."""


@dataclass(frozen=True)
class GemmConfig:
    """One configuration of the SIMT template (see the module docstring)."""

    BM: int
    BN: int
    BK: int
    TM: int
    TN: int
    GROUP: int = 1
    """Rasterization: CTAs walk this many rows of tiles at a time (1: row by row)."""
    SPLIT_K: int = 1
    """K slices, each a CTA of the grid's z dimension (1: no split)."""
    ATOMIC: int = 0
    """With SPLIT_K > 1: 1 adds the slices into C atomically, 0 reduces them in order."""
    STAGES: int = 1
    """2: double-buffered shared memory, the next tile loaded into registers during the
    math (one barrier a K step instead of two)."""
    PAD: int = 0
    """Words added to each row of A's shared tile against bank conflicts on its
    transposed store."""
    VEC: int = 1
    """4: each thread's rows and columns come in runs of 4 (its fragments of the shared
    tiles are read with 128-bit loads); 1: single rows and columns, strided."""
    WM: int = 0
    """With VEC=4, the warp tile's rows: each warp computes a ``WM x WN`` block of the CTA
    tile, its 32 lanes ``WM/TM`` down by ``WN/TN`` across (0: no warp tiles, the lanes
    of a warp run along the CTA's rows of threads)."""
    WN: int = 0
    """The warp tile's columns (0 with ``WM`` 0)."""

    @property
    def threads(self) -> int:
        """Threads in a CTA."""
        return (self.BM // self.TM) * (self.BN // self.TN)

    @property
    def registers(self) -> int:
        """The registers a thread is budgeted (the measured count plus the margin)."""
        return (REGISTERS[(self.TM, self.TN)][BKS.index(self.BK)] + REGISTER_MARGIN
                + self.prefetch_registers())

    @property
    def shared_bytes(self) -> int:
        """Shared memory of the two tiles, times the stages."""
        return (self.BM + self.PAD + self.BN) * self.BK * 4 * self.STAGES

    def prefetch_registers(self) -> int:
        """The registers STAGES=2 adds (0 with one stage): twice the next tile's elements
        a thread holds, plus 16 for the stage addresses (measured: 64x128x8/4x4 takes
        138 registers with two stages, 109 with one)."""
        if self.STAGES == 1:
            return 0
        per_x, per_y = self.BN // self.TN, self.BM // self.TM
        held = (self.TM * -(-self.BK // per_x)) + (self.TN * -(-self.BK // per_y))
        return 2 * held + 16

    def _warp_tile_fits(self) -> bool:
        wm, wn = self.WM, self.WN
        return (self.VEC == 4 and wm > 0 and wn > 0 and wm % self.TM == 0
                and wn % self.TN == 0 and (wm // self.TM) * (wn // self.TN) == 32
                and self.BM % wm == 0 and self.BN % wn == 0)

    def constexprs(self) -> dict[str, int]:
        """The template's tile constexprs."""
        return asdict(self)

    @property
    def block(self) -> tuple[int, int]:
        """The CTA's shape: x along C's columns, y along its rows."""
        return (self.BN // self.TN, self.BM // self.TM)

    def divides(self, m: int, n: int, k: int) -> bool:
        """Whether the tiles divide the problem (no edge tiles: no guards needed): M and N
        by the CTA tile, K by BK, and every K slice holds at least one BK step."""
        per = -(-k // (self.BK * self.SPLIT_K)) * self.BK  # the template's k_per
        return (m % self.BM == 0 and n % self.BN == 0 and k % self.BK == 0
                and (self.SPLIT_K - 1) * per < k)

    def grid(self, m: int, n: int) -> tuple[int, int, int]:
        """CTAs covering an ``m x n`` C, times the K slices."""
        return (-(-n // self.BN), -(-m // self.BM), self.SPLIT_K)

    def why_illegal(self) -> str | None:
        """Why the template cannot run this configuration, or None."""
        if self.BM % self.TM or self.BN % self.TN:
            return "the thread tile does not divide the CTA tile"
        t = self.threads
        if t % 32 or not 32 <= t <= 1024:
            return f"{t} threads is not a whole number of warps from 32 to 1024"
        why = grid_fields_illegal(self)
        if why is not None:
            return why
        if self.STAGES not in (1, 2) or self.PAD not in PADS:
            return (f"STAGES is 1 or 2 and PAD one of {PADS}, not {self.STAGES} and "
                    f"{self.PAD}")
        if self.VEC not in (1, 4) or (self.VEC == 4 and (self.TM % 4 or self.TN % 4)):
            return f"VEC is 1, or 4 with thread tiles of multiples of 4, not {self.VEC}"
        if (self.WM or self.WN) and not self._warp_tile_fits():
            return (f"a WM x WN warp tile needs VEC=4, lanes (WM/TM) x (WN/TN) = 32 and "
                    f"warp tiles dividing the CTA tile, not {self.WM}x{self.WN}")
        if self.TM not in TMS or self.TN not in TMS or self.BK not in BKS:
            return (f"thread tiles are {', '.join(map(str, TMS))} a side and BK one of "
                    f"{', '.join(map(str, BKS))}")
        return resources_illegal(self.registers, t, self.shared_bytes, MAX_SHARED)


def grid_fields_illegal(cfg) -> str | None:
    """Why a config's ``GROUP``, ``SPLIT_K`` and ``ATOMIC`` cannot run, or None (both
    templates)."""
    if (cfg.GROUP not in GROUPS or not 1 <= cfg.SPLIT_K <= MAX_SPLIT
            or cfg.ATOMIC not in (0, 1)):
        return (f"GROUP is one of {GROUPS}, SPLIT_K from 1 to {MAX_SPLIT} and ATOMIC 0 "
                f"or 1, not {cfg.GROUP}, {cfg.SPLIT_K}, {cfg.ATOMIC}")
    if cfg.ATOMIC and cfg.SPLIT_K == 1:
        return "ATOMIC=1 needs SPLIT_K > 1"
    return None


def resources_illegal(registers: int, threads: int, shared_bytes: int,
                      max_shared: int) -> str | None:
    """Why a CTA of ``threads`` needing ``registers`` a thread and ``shared_bytes`` does
    not fit, or None (both templates)."""
    if registers > MAX_REGISTERS:
        return f"about {registers} registers a thread (at most {MAX_REGISTERS})"
    if registers * threads > CTA_REGISTERS:
        return (f"about {registers} registers x {threads} threads = "
                f"{registers * threads} a CTA (at most {CTA_REGISTERS})")
    if shared_bytes > max_shared:
        return f"{shared_bytes} bytes of shared memory (at most {max_shared})"
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


TILES = ((64, 4), (32, 4), (16, 2))
"""The CPU heuristic's (CTA tile, thread tile), largest first."""
SIM_TILES = ((128, 8, 2, 1), (64, 4, 4, 3), (32, 4, 16, 16), (16, 2, 32, 25))
"""The simulator heuristic's (CTA tile, thread tile, CTAs an SM when the tiles divide the
problem, CTAs an SM with edge guards), largest first: what the A100 config's 65,536
registers, 64 warps and 32 CTAs an SM allow at the registers the compiler gives each (two
stages, BK=8: 114, 62, 58 and 32 a thread when the tiles divide; 178, 66, 62 and 33 with
edge guards)."""


def wave_efficiency(units: int, workers: int) -> float:
    """The share of ``workers`` busy over the waves ``units`` equal CTAs take."""
    return units / (-(-units // workers) * workers)


def default_config(m: int, n: int, workers: int, cpu: bool = False,
                   k: int | None = None, atomic: bool = True) -> GemmConfig:
    """The heuristic pick for an ``m x n`` C (K deep) on a device with ``workers``
    parallel units (SMs, or CPU threads times 4); ``atomic=False`` keeps split-K's
    in-order reduction (an activation needs it). See the module docstring."""
    if cpu:
        for tile, thread in TILES:  # noqa: B007 (used below)
            if tile > 2 * min(m, n) and tile > 16:
                continue  # most of the tile would be outside C
            ctas = -(-m // tile) * -(-n // tile)
            if ctas >= workers or tile == 16:
                break
        cfg = GemmConfig(tile, tile, 16, thread, thread,
                         SPLIT_K=_split(ctas, workers, k, 16, cpu))
        if cfg.divides(m, n, k if k is not None else 16):
            cfg = replace(cfg, STAGES=2)  # slower with edge guards (1000^3: 122 vs 167)
        return cfg
    bk = 8
    for tile, thread, whole, edged in SIM_TILES:
        even = GemmConfig(tile, tile, bk, thread, thread).divides(m, n, k or bk)
        per_sm = whole if even else edged
        if (tile > 2 * min(m, n) and tile > 16) or (per_sm < 2 and tile > 16):
            continue  # most of the tile outside C, or one CTA an SM
        ctas = -(-m // tile) * -(-n // tile)
        split = _split(ctas, workers * per_sm, k, bk, cpu)
        if wave_efficiency(ctas * split, workers * per_sm) >= MIN_BUSY or tile == 16:
            break
    vec = 4 if thread % 4 == 0 else 1
    return GemmConfig(tile, tile, bk, thread, thread, SPLIT_K=split,
                      ATOMIC=int(split > 1 and atomic), STAGES=2,
                      PAD=4 if vec == 4 else 1, VEC=vec)


def _split(ctas: int, slots: int, k: int | None, bk: int, cpu: bool) -> int:
    """The heuristic's K slices (see the module docstring)."""
    if k is None:
        return 1
    allowed = [s for s in SPLITS if s == 1 or k >= s * bk * SPLIT_STEPS]
    if cpu:  # only to give idle workers work
        return max(s for s in allowed if s == 1 or ctas * s <= slots)
    best = max(wave_efficiency(ctas * s, slots) for s in allowed)
    return min(s for s in allowed
               if wave_efficiency(ctas * s, slots) >= best * (1 - SPLIT_SLACK))
