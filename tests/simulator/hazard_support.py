"""Shared helpers of the hazard-checker tests: kernels from assembly, control codes, and
issuing a program in order. Latencies as ``reference/gpu-facts.md`` gives them."""

from __future__ import annotations

import textwrap

import numpy as np

from warpforge.isa import assemble
from warpforge.isa.program import Program
from warpforge.simulator.hazards import HazardChecker

ALU_ALU = 4
FMA_FMA = 4
CROSS = 5
WIDE_LOW = 3
WIDE_HIGH = 5
GUARD = 13
"""Latencies from gpu-facts.md ("Latencies") and sass-codegen.md §1."""

T = 8
ALL = np.ones(T, bool)


def kernel(body: str) -> Program:
    """A kernel from assembly lines."""
    return assemble(".kernel k\n" + textwrap.dedent(body))


def cc(stall: int = 1, wait: str = "", read: str = "-", write: str = "-") -> str:
    """A control code: ``cc(4, wait="0")`` is ``[B0-----:R-:W-:-:S04]``."""
    mask = "".join(str(sb) if str(sb) in wait else "-" for sb in range(6))
    return f"[B{mask}:R{read}:W{write}:-:S{stall:02d}]"


def run(prog: Program, mask: np.ndarray = ALL):
    """Issue every instruction in order for ``mask``; the first violation as
    ``(pc, thread, message)``, or None."""
    checker = HazardChecker(prog, T)
    for pc in range(len(prog)):
        found = checker.issue(pc, mask)
        if found is not None:
            return pc, *found
    return None


def message(prog: Program) -> str:
    found = run(prog)
    assert found is not None, "expected a violation"
    return found[2]
