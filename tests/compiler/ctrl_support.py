"""Shared helpers of the control-code tests: stripping codes, walking a program's paths
through the hazard checker, and random programs over a small register pool."""

from __future__ import annotations

import random
import textwrap
from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from warpforge.isa import Control, Label, Program, assemble
from warpforge.isa.operands import PT
from warpforge.simulator.hazards import HazardChecker

ONE = np.ones(1, bool)


def kernel(body: str, header: str = "") -> Program:
    """A kernel from assembly lines (control codes optional)."""
    return assemble(".kernel k\n" + header + textwrap.dedent(body))


def stripped(program: Program) -> Program:
    """``program`` with every control code reset to the default ``[B------:R-:W-:-:S01]``."""
    return replace(program, instructions=tuple(replace(inst, ctrl=Control())
                                               for inst in program.instructions))


def total_stall(program: Program) -> int:
    """The sum of the stall counts: the cycles one pass through the program takes at least."""
    return sum(max(inst.ctrl.stall, 1) for inst in program.instructions)


def walk(program: Program, choices: random.Random | None = None, max_steps: int = 120):
    """Issue one thread's path through ``program`` in a fresh :class:`HazardChecker`.

    A guarded BRA or EXIT is taken or not as ``choices`` decides (with None, never: the
    straight path); a guard is not evaluated, so every path through the control-flow graph
    is a possible path. Returns ``(path, None)`` or ``(path, (pc, message))`` at the first
    violation; ``path`` lists the issued PCs.
    """
    checker = HazardChecker(program, 1)
    labels = program.label_map
    n = len(program.instructions)
    pc, path = 0, []
    while pc < n and len(path) < max_steps:
        found = checker.issue(pc, ONE)
        path.append(pc)
        if found is not None:
            return path, (pc, found[1])
        inst = program.instructions[pc]
        if inst.opcode in ("BRA", "EXIT"):
            taken = inst.guard == PT or (choices is not None and choices.random() < 0.5)
            if taken and inst.opcode == "EXIT":
                break
            if taken:
                target = next(op for op in inst.operands if isinstance(op, Label))
                pc = labels[target.name]
                continue
        pc += 1
    return path, None


def first_violation(program: Program, seed: int = 0, walks: int = 8):
    """The first violation on the straight path or on ``walks`` random paths, or None."""
    rng = random.Random(seed)
    for k in range(walks + 1):
        _, found = walk(program, None if k == 0 else rng)
        if found is not None:
            return found
    return None


# --- random programs over R0-R7 and P0-P2 ---------------------------------------------------

R = st.integers(0, 7).map(lambda i: f"R{i}")
R_PAIR = st.integers(0, 3).map(lambda i: f"R{2 * i}")
P = st.integers(0, 2).map(lambda i: f"P{i}")
GUARD = st.sampled_from(["", "", "", "@P0 ", "@!P1 ", "@P2 "])
SREG = st.sampled_from(["SR_TID.X", "SR_LANEID", "SR_CTAID.X"])
SHARED = st.integers(0, 15).map(lambda w: f"[RZ+{4 * w:#x}]")
SHARED64 = st.integers(0, 7).map(lambda w: f"[RZ+{8 * w:#x}]")
"""Shared-memory addresses that are valid in any thread (a 64-byte window), aligned for 4-
and 8-byte accesses."""


def _ops(with_shared_addresses: bool) -> st.SearchStrategy[str]:
    """One instruction of the pool: ALU, FMA, FP16, MUFU, conversions, S2R, shared memory,
    SHFL, VOTE and predicate logic, reading and writing R0-R7 and P0-P2."""
    addr = SHARED if with_shared_addresses else R.map(lambda r: f"[{r}+0x10]")
    addr64 = SHARED64 if with_shared_addresses else addr
    fmt = st.builds
    return st.one_of(
        fmt("IADD3 {}, {}, {}, {}".format, R, R, R, R),
        fmt("LOP3.LUT {}, {}, {}, {}, 0x96".format, R, R, R, R),
        fmt("MOV {}, {}".format, R, R),
        fmt("SEL {}, {}, {}, {}".format, R, R, R, P),
        fmt("SHF.L.U32 {}, {}, 0x3, {}".format, R, R, R),
        fmt("ISETP.LT.AND {}, PT, {}, {}, PT".format, P, R, R),
        fmt("FSETP.GT.AND {}, PT, {}, {}, {}".format, P, R, R, P),
        fmt("PLOP3.LUT {}, PT, {}, {}, PT, 0x80, 0x0".format, P, P, P),
        fmt("FFMA {}, {}, {}, {}".format, R, R, R, R),
        fmt("FADD {}, {}, {}".format, R, R, R),
        fmt("IMAD {}, {}, {}, {}".format, R, R, R, R),
        fmt("IMAD.WIDE {}, {}, {}, {}".format, R_PAIR, R, R, R_PAIR),
        fmt("HADD2 {}, {}, {}".format, R, R, R),
        fmt("MUFU.{} {}, {}".format, st.sampled_from(["RCP", "EX2", "SQRT"]), R, R),
        fmt("I2F {}, {}".format, R, R),
        fmt("F2I.TRUNC {}, {}".format, R, R),
        fmt("I2F.F64 {}, {}".format, R_PAIR, R),
        fmt("POPC {}, {}".format, R, R),
        fmt("S2R {}, {}".format, R, SREG),
        fmt("LDS {}, {}".format, R, addr),
        fmt("LDS.64 {}, {}".format, R_PAIR, addr64),
        fmt("STS {}, {}".format, addr, R),
        fmt("SHFL.BFLY PT, {}, {}, 0x1, 0x1f".format, R, R),
        fmt("SHFL.DOWN {}, {}, {}, 0x2, 0x1f".format, P, R, R),
        fmt("VOTE.ANY {}, PT, {}".format, R, P),
    )


@st.composite
def straight_line(draw, max_size: int = 16, with_shared_addresses: bool = False,
                  guarded_exits: bool = True) -> Program:
    """A random block of pool instructions, some guarded, sometimes a guarded EXIT among
    them, ending with EXIT."""
    lines = []
    for _ in range(draw(st.integers(1, max_size))):
        if guarded_exits and draw(st.integers(0, 12)) == 0:
            lines.append(draw(st.sampled_from(["@P0 EXIT", "@!P2 EXIT"])))
        else:
            lines.append(draw(GUARD) + draw(_ops(with_shared_addresses)))
    lines.append("EXIT")
    header = ".shared 64\n" if with_shared_addresses else ""
    return kernel("\n".join(f"{line} ;" for line in lines) + "\n", header)


@st.composite
def branchy(draw, max_size: int = 24) -> Program:
    """Random pool instructions with labels, forward and backward branches (guarded or
    not), guarded EXITs and BSSY/BSYNC, ending with EXIT."""
    n = draw(st.integers(2, max_size))
    labels = [f".L{k}" for k in range(draw(st.integers(1, 4)))]
    lines: list[list[str]] = [[] for _ in range(n + 1)]
    for name in labels:
        lines[draw(st.integers(0, n))].append(f"{name}:")
    for k in range(n):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            guard = draw(st.sampled_from(["", "@P0 ", "@!P1 ", "@P2 "]))
            lines[k].append(f"{guard}BRA `({draw(st.sampled_from(labels))}) ;")
        elif choice == 1:
            lines[k].append(draw(st.sampled_from(["@P1 EXIT ;", "@!P0 EXIT ;"])))
        elif choice == 2:
            lines[k].append(f"BSSY B0, `({draw(st.sampled_from(labels))}) ;")
        elif choice == 3:
            lines[k].append(draw(st.sampled_from(["BSYNC B0 ;", "BAR.SYNC 0x0 ;"])))
        else:
            lines[k].append(draw(GUARD) + draw(_ops(False)) + " ;")
    lines[n].append("EXIT ;")
    return kernel("\n".join(line for group in lines for line in group) + "\n")


@st.composite
def many_outstanding(draw) -> Program:
    """More variable-latency results in flight than there are scoreboards (7-10), read
    back in a random order, some of their sources overwritten first: scoreboards must be
    evicted and reused."""
    k = draw(st.integers(7, 10))
    producers = st.sampled_from(["S2R R{d}, SR_TID.X", "MUFU.RCP R{d}, R{s}",
                                 "LDS R{d}, [R{s}]", "I2F R{d}, R{s}", "POPC R{d}, R{s}"])
    lines = [draw(producers).format(d=d, s=draw(st.integers(12, 15))) for d in range(k)]
    later = [f"IADD3 R{16 + n}, R{d}, R{d}, RZ" for n, d in enumerate(draw(st.permutations(
        range(k))))]
    later += [f"MOV R{s}, 0x1" for s in draw(st.lists(st.integers(12, 15), max_size=2))]
    order = draw(st.permutations(range(len(later))))
    lines += [later[n] for n in order]
    lines.append("EXIT")
    return kernel("\n".join(f"{line} ;" for line in lines) + "\n")
