"""Per-instruction facts the cycle engine reads, as numpy arrays indexed by PC.

Everything comes from the program's control codes and the opcode table: the pipe that runs
each instruction and its initiation interval (from :class:`~..config.ArchConfig`), the
stall count, yield bit, scoreboards waited on, read and set, and the latency of a
variable-latency result that is not a memory access (MUFU, conversions, S2R, shuffles,
HMMA). Memory latencies depend on what the access touched and come from :mod:`.caches`.
"""

from __future__ import annotations

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


class Tables:
    """Static per-PC arrays for one program (one row past the end, for finished warps)."""

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
