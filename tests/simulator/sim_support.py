"""Helpers for the simulator tests: assemble a kernel, make a small device.

Kernels are written as assembly with their control codes. The conventions the tests follow
(so that the hazard checker, on for the test session, accepts them): a fixed-latency
instruction stalls 5 cycles (ALU/FMA results are ready after 4 within a class and 5 across,
gpu-facts.md "Latencies"), 13 when its predicate guards a following instruction; a
variable-latency one (loads, S2R, SHFL, atomics, LDC) sets write scoreboard 0 with stall 2
and its consumer waits on SB0 (``B0-----``).
"""

from __future__ import annotations

import textwrap

from warpforge.isa import assemble
from warpforge.isa.program import Program
from warpforge.simulator import Simulator

A = "[B------:R-:W-:-:S05]"
"""Fixed-latency instruction: result ready for the next one."""
G = "[B------:R-:W-:-:S13]"
"""Fixed-latency instruction whose predicate guards the next one."""
V = "[B------:R-:W0:-:S02]"
"""Variable-latency instruction: sets SB0."""
W = "[B0-----:R-:W-:-:S05]"
"""Waits on SB0 (the consumer of a variable-latency result)."""
WV = "[B0-----:R-:W0:-:S02]"
"""Waits on SB0 and sets it again (a variable-latency consumer of one)."""
WG = "[B0-----:R-:W-:-:S13]"
"""Waits on SB0; its predicate guards the next instruction."""


def kernel(text: str) -> Program:
    """Assemble kernel text (indentation removed; the control-code names above expanded)."""
    text = textwrap.dedent(text)
    for name, code in (("{A}", A), ("{G}", G), ("{V}", V), ("{WV}", WV), ("{WG}", WG), ("{W}", W)):
        text = text.replace(name, code)
    return assemble(text)


def device(**overrides) -> Simulator:
    """A small simulated GPU (2 SMs), hazard checking as the session says."""
    return Simulator("test", **overrides)
