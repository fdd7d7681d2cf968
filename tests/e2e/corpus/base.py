"""The corpus's case record, its registry and the helpers its cases share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    """One corpus kernel: ``args(rng)`` gives the launch arguments (arrays are updated in
    place), ``expect(args)`` the arrays they must hold afterwards (by argument index);
    ``rtol``/``atol`` bound float differences."""

    name: str
    kernel: object
    grid: object
    block: object
    args: Callable[[np.random.Generator], list]
    expect: Callable[[list], dict[int, np.ndarray]]
    rtol: float = 1e-6
    atol: float = 1e-6
    constexprs: dict = field(default_factory=dict)
    unordered: tuple[int, ...] = ()
    """Arguments whose elements' order depends on atomics' order: compared sorted."""
    agree: float = 1.0
    """The fraction of elements that must be within tolerance of numpy (1: all; less for
    chaotic kernels such as Mandelbrot, whose float32 rounding steers the iteration)."""


CASES: list[Case] = []


def case(*args, **kwargs) -> None:
    """Register a corpus case."""
    CASES.append(Case(*args, **kwargs))


def f32(rng, n, scale=1.0):
    return (rng.standard_normal(n) * scale).astype(np.float32)


