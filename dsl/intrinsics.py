"""The names kernels call: thread and block indices, barriers, arrays, atomics, warp
shuffles and votes, math.

These are plain Python objects that the frontend recognizes by identity
(:mod:`warpforge.dsl.frontend.calls` maps each to the IR it builds); used from plain
Python they raise :class:`~warpforge.dsl.errors.OutsideKernelError`.
"""

from __future__ import annotations

from .errors import OutsideKernelError

warp_size = 32
"""Threads per warp (a constant in kernels)."""


def _outside(what: str) -> OutsideKernelError:
    return OutsideKernelError(f"{what} can only be used inside a @wf.kernel or @wf.func")


class Intrinsic:
    """A function only kernels may call; ``name`` is how it is written (``wf.name``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: object, **kwargs: object) -> object:
        raise _outside(f"wf.{self.name}()")

    def __repr__(self) -> str:
        return f"wf.{self.name}"


class Dim3:
    """``wf.thread_idx`` and friends: ``.x``, ``.y``, ``.z`` read the component in kernels."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> object:
        if attr in ("x", "y", "z"):
            raise _outside(f"wf.{self.name}.{attr}")
        raise AttributeError(f"wf.{self.name} has no attribute {attr!r} (use .x, .y or .z)")

    def __repr__(self) -> str:
        return f"wf.{self.name}"


thread_idx = Dim3("thread_idx")
block_idx = Dim3("block_idx")
block_dim = Dim3("block_dim")
grid_dim = Dim3("grid_dim")

lane_id = Intrinsic("lane_id")
syncthreads = Intrinsic("syncthreads")
shared = Intrinsic("shared")
local = Intrinsic("local")
static_range = Intrinsic("static_range")
atomic_add = Intrinsic("atomic_add")
atomic_min = Intrinsic("atomic_min")
atomic_max = Intrinsic("atomic_max")
atomic_exch = Intrinsic("atomic_exch")
atomic_cas = Intrinsic("atomic_cas")
atomic_and = Intrinsic("atomic_and")
atomic_or = Intrinsic("atomic_or")
atomic_xor = Intrinsic("atomic_xor")
shfl_xor = Intrinsic("shfl_xor")
shfl_down = Intrinsic("shfl_down")
shfl_up = Intrinsic("shfl_up")
shfl_idx = Intrinsic("shfl_idx")
vote_any = Intrinsic("vote_any")
vote_all = Intrinsic("vote_all")
ballot = Intrinsic("ballot")
exp = Intrinsic("exp")
log = Intrinsic("log")
sqrt = Intrinsic("sqrt")
rsqrt = Intrinsic("rsqrt")
sin = Intrinsic("sin")
cos = Intrinsic("cos")
fma = Intrinsic("fma")
abs = Intrinsic("abs")
min = Intrinsic("min")
max = Intrinsic("max")
select = Intrinsic("select")

INTRINSICS: dict[str, Intrinsic] = {
    obj.name: obj for obj in globals().values() if isinstance(obj, Intrinsic)}
"""Every intrinsic function by name."""
DIM3S: dict[str, Dim3] = {d.name: d for d in (thread_idx, block_idx, block_dim, grid_dim)}
"""The index triples by name."""
