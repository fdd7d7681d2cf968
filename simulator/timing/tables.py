"""Per-instruction facts the cycle engine reads, as numpy arrays indexed by PC.

Everything comes from the program's control codes and the opcode table: the pipe that runs
each instruction and its initiation interval (from :class:`~..config.ArchConfig`), the
stall count, yield bit, scoreboards waited on, read and set, and the latency of a
variable-latency result that is not a memory access (MUFU, conversions, S2R, shuffles,
HMMA). Memory latencies depend on what the access touched and come from :mod:`.caches`.
"""

from __future__ import annotations

import weakref

import numpy as np

from ...isa.opcodes import OPCODES, Unit
from ...isa.program import NO_BARRIER, NUM_SCOREBOARDS, Program
from ..config import ArchConfig

PIPES = (Unit.FMA, Unit.ALU, Unit.FP16, Unit.FP64, Unit.SFU, Unit.LSU, Unit.CBU,
         Unit.TENSOR)
"""Pipe numbering of the engine."""
PIPE_NAMES = tuple(u.value for u in PIPES)
MEMORY_OPS = frozenset({"LDG", "STG", "LDS", "STS", "LDL", "STL", "ATOMG", "ATOMS", "RED"})
"""Opcodes whose latency the recorded memory access decides."""
LONG_OPS = frozenset({"LDG", "STG", "LDL", "STL", "ATOMG", "RED"})
"""Opcodes through L1TEX to the memory hierarchy: their scoreboards are "long"."""


def pipe_intervals(cfg: ArchConfig) -> np.ndarray:
    """Cycles a sub-partition's pipe is busy per warp-instruction, in :data:`PIPES` order."""
    return np.array([cfg.fma_interval, cfg.alu_interval, cfg.fp16_interval,
                     cfg.fp64_interval, cfg.sfu_interval, cfg.lsu_interval,
                     cfg.branch_interval, cfg.tensor_interval], np.int64)


_CACHE: dict[int, tuple[weakref.ref, ArchConfig, Tables]] = {}
_CACHE_SIZE = 64


class Tables:
    """Static per-PC arrays for one program (one row past the end, for finished warps)."""

    @classmethod
    def of(cls, program: Program, cfg: ArchConfig) -> Tables:
        """The tables of ``program`` under ``cfg``, made once per program object (the
        kernel cache hands out the same one every launch)."""
        hit = _CACHE.get(id(program))
        if hit is not None and hit[0]() is program and hit[1] == cfg:
            return hit[2]
        tables = cls(program, cfg)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(program)] = (weakref.ref(program), cfg, tables)
        return tables

    def __init__(self, program: Program, cfg: ArchConfig) -> None:
        insts = program.instructions
        n = len(insts) + 1
        self.n = n
        self.pipe = np.zeros(n, np.int64)
        self.stall = np.ones(n, np.int64)
        self.yield_ = np.zeros(n, bool)
        self.wait = np.zeros((n, NUM_SCOREBOARDS), bool)
        self.read_sb = np.full(n, NO_BARRIER, np.int64)
        self.write_sb = np.full(n, NO_BARRIER, np.int64)
        self.latency = np.zeros(n, np.int64)
        self.memory = np.zeros(n, bool)
        self.long = np.zeros(n, bool)
        self.bar = np.zeros(n, bool)
        units = {u: i for i, u in enumerate(PIPES)}
        for pc, inst in enumerate(insts):
            info = OPCODES[inst.opcode]
            c = inst.ctrl
            self.pipe[pc] = units[info.unit]
            self.stall[pc] = max(c.stall, 1)
            self.yield_[pc] = c.yield_
            for b in range(NUM_SCOREBOARDS):
                self.wait[pc, b] = bool(c.wait >> b & 1)
            self.read_sb[pc] = c.read
            self.write_sb[pc] = c.write
            self.latency[pc] = cfg.sfu_latency if inst.opcode == "MUFU" \
                else info.latency.cycles
            self.memory[pc] = inst.opcode in MEMORY_OPS
            self.long[pc] = inst.opcode in LONG_OPS
            self.bar[pc] = inst.opcode == "BAR"
        self.interval = pipe_intervals(cfg)
        self.wait_mask = (self.wait.astype(np.int64)
                          << np.arange(NUM_SCOREBOARDS)).sum(axis=1)
        """The scoreboards each PC waits on, as a bit mask."""
        self.as_ints = {name: np.ascontiguousarray(a, np.int64) for name, a in (
            ("pipe", self.pipe), ("stall", self.stall), ("yld", self.yield_),
            ("waitmask", self.wait_mask), ("rsb", self.read_sb), ("wsb", self.write_sb),
            ("fixed_lat", self.latency), ("is_mem", self.memory), ("is_long", self.long),
            ("is_bar", self.bar), ("interval", self.interval))}
        """The arrays the native engine reads (:mod:`.native`), by its parameter names."""
