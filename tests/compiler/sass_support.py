"""Helpers for the SASS backend's tests: compile IR text, check the text round trip, and
launch with the kernel ABI (arrays expand to pointer, shapes, strides)."""

from __future__ import annotations

import numpy as np

from warpforge.compiler.ir import parse_function
from warpforge.compiler.sass import compile_function
from warpforge.isa import assemble
from warpforge.isa.program import Program
from warpforge.simulator import Simulator


def build(text: str) -> Program:
    """Compile kernel IR text; checks that the program's text assembles back to it."""
    program = compile_function(parse_function(text))
    assert assemble(str(program)) == program
    return program


def expand(*args: object) -> list[object]:
    """Kernel arguments in ABI order: a numpy array becomes itself, its shape and its
    strides in elements; a ``(buffer, shape, strides)`` tuple passes a strided view of a
    contiguous buffer; scalars stay."""
    out: list[object] = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(a)
            out.extend(np.int32(n) for n in a.shape)
            out.extend(np.int32(s // a.itemsize) for s in a.strides)
        elif isinstance(a, tuple):
            buf, shape, strides = a
            out.append(buf)
            out.extend(np.int32(n) for n in shape)
            out.extend(np.int32(s) for s in strides)
        else:
            out.append(a)
    return out


def run(program: Program, grid, block, *args: object) -> None:
    """Launch ``program`` on the test simulator with the hazard checker on."""
    Simulator(arch="test", check_hazards=True).launch(program, grid, block, expand(*args))


def fma32(a, b, c) -> np.ndarray:
    """float32 a*b + c rounded once (the product is exact in float64)."""
    return (np.float64(a) * np.asarray(b, np.float64) + np.asarray(c, np.float64)).astype(
        np.float32)
