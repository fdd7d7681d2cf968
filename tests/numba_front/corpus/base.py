"""The corpus's case record, its registry and the helpers its cases share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    """A Numba-style kernel, its launch and numpy's answer: ``run(rng)`` launches and
    returns ``(got, want)`` pairs of arrays."""

    name: str
    run: Callable[[np.random.Generator], list[tuple[np.ndarray, np.ndarray]]]
    rtol: float = 1e-6
    atol: float = 1e-6


CASES: list[Case] = []


def case(name: str, rtol: float = 1e-6, atol: float = 1e-6):
    def register(run):
        CASES.append(Case(name, run, rtol, atol))
        return run
    return register


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


