"""The LLVM backend: compiler IR -> LLVM IR (llvmlite) for the CPU device.

Each kernel becomes one native function that runs a range of CTAs (:mod:`.entry` gives
its ABI). Barriers split the kernel into thread segments (:mod:`.plan`); control holding
a barrier runs once per CTA (:mod:`.cta`); each segment runs as a loop over *lane groups*
(:mod:`.groups`), the threads of a group as SIMD lanes (:mod:`.lanes`, :mod:`.arith`,
:mod:`.memory`, :mod:`.warp`, :mod:`.vmath`), on the shared state of :mod:`.emitter`.
:func:`lower_kernel` (:mod:`.lower`) builds the module; :mod:`.jit` optimizes, compiles
and loads it.

The lowering is imported on first use only: loading a cached kernel needs :mod:`.jit`
alone, and a process that only runs cached kernels never pays for the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lower import LoweredKernel, lane_width, lower_kernel

LANE_WIDTHS = (8, 16, 32)
"""The lane-group widths the backend supports (threads run as SIMD lanes, so many)."""

__all__ = ["LANE_WIDTHS", "LoweredKernel", "lane_width", "lower_kernel"]
_LAZY = ("LoweredKernel", "lane_width", "lower_kernel")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import lower
        return getattr(lower, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
