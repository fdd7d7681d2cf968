"""warpforge: a GPU software stack in miniature.

``@wf.kernel`` Python functions compile through the IR (``warpforge.compiler``) to a
SASS-like assembly (``warpforge.isa``) that runs on a SIMT simulator
(``warpforge.simulator``), or to native code for the host CPU (``wf.CPU``). See README.md
for a tour.
"""

from importlib import metadata as _metadata

from . import isa, simulator
from .dsl.cpu import CPU
from .dsl.devices import device, get_device, set_device, to_device
from .dsl.errors import CompileError
from .dsl.func import func
from .dsl.intrinsics import (
    abs,
    atomic_add,
    atomic_and,
    atomic_cas,
    atomic_exch,
    atomic_max,
    atomic_min,
    atomic_or,
    atomic_xor,
    ballot,
    block_dim,
    block_idx,
    cos,
    exp,
    fma,
    grid_dim,
    lane_id,
    local,
    log,
    max,
    min,
    rsqrt,
    select,
    shared,
    shfl_down,
    shfl_idx,
    shfl_up,
    shfl_xor,
    sin,
    sqrt,
    static_range,
    syncthreads,
    thread_idx,
    vote_all,
    vote_any,
    warp_size,
)
from .dsl.kernel import CompiledKernel, Kernel, kernel
from .dsl.types import bool_, constexpr, f16, f32, f64, i32, i64, u32
from .isa import AssemblyError, WarpforgeError
from .simulator import (
    BarrierError,
    DeviceArray,
    HazardError,
    LaunchError,
    LaunchResult,
    LaunchTimeout,
    MemoryFault,
    ResourceError,
    Simulator,
)

try:  # the version lives in pyproject.toml alone
    __version__ = _metadata.version("warpforge")
except _metadata.PackageNotFoundError:
    __version__ = "unknown"

__all__ = [
    "CPU",
    "AssemblyError",
    "BarrierError",
    "CompileError",
    "CompiledKernel",
    "DeviceArray",
    "HazardError",
    "Kernel",
    "LaunchError",
    "LaunchResult",
    "LaunchTimeout",
    "MemoryFault",
    "ResourceError",
    "Simulator",
    "WarpforgeError",
    "__version__",
    "abs",
    "atomic_add",
    "atomic_and",
    "atomic_cas",
    "atomic_exch",
    "atomic_max",
    "atomic_min",
    "atomic_or",
    "atomic_xor",
    "ballot",
    "block_dim",
    "block_idx",
    "bool_",
    "constexpr",
    "cos",
    "device",
    "exp",
    "f16",
    "f32",
    "f64",
    "fma",
    "func",
    "get_device",
    "grid_dim",
    "i32",
    "i64",
    "isa",
    "kernel",
    "lane_id",
    "local",
    "log",
    "max",
    "min",
    "rsqrt",
    "select",
    "set_device",
    "shared",
    "shfl_down",
    "shfl_idx",
    "shfl_up",
    "shfl_xor",
    "simulator",
    "sin",
    "sqrt",
    "static_range",
    "syncthreads",
    "thread_idx",
    "to_device",
    "u32",
    "vote_all",
    "vote_any",
    "warp_size",
]
