"""warpforge: a GPU software stack in miniature.

``@wf.kernel`` Python functions compile through the IR (``warpforge.compiler``) to a
SASS-like assembly (``warpforge.isa``) that runs on a SIMT simulator
(``warpforge.simulator``), or to native code for the host CPU (``wf.CPU``). See README.md
for a tour.
"""

from importlib import metadata as _metadata

from . import cuda, isa, simulator
from .dsl.autotune import Config, autotune
from .dsl.cpu import CPU
from .dsl.devices import device, get_device, set_device, to_device
from .dsl.errors import CompileError
from .dsl.func import func
from .dsl.intrinsics import DIM3S as _DIM3S
from .dsl.intrinsics import INTRINSICS as _INTRINSICS
from .dsl.intrinsics import warp_size
from .dsl.kernel import CompiledKernel, Kernel, kernel
from .dsl.types import bool_, constexpr, f16, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64
from .isa import AssemblyError, WarpforgeError
from .isa.errors import UsageError
from .simulator import (
    BarrierError,
    ConfigError,
    DeviceArray,
    HazardError,
    LaunchError,
    LaunchResult,
    LaunchTimeout,
    MemoryFault,
    RaceError,
    ResourceError,
    Simulator,
    UninitializedReadError,
)

try:  # the version lives in pyproject.toml alone
    __version__ = _metadata.version("warpforge")
except _metadata.PackageNotFoundError:
    __version__ = "unknown"

globals().update(_INTRINSICS)  # wf.syncthreads, wf.atomic_add, wf.tanh, ... (see help())
globals().update(_DIM3S)  # wf.thread_idx, wf.block_idx, wf.block_dim, wf.grid_dim

__all__ = [
    "CPU",
    "Config",
    "autotune",
    "AssemblyError",
    "BarrierError",
    "ConfigError",
    "UsageError",
    "CompileError",
    "CompiledKernel",
    "DeviceArray",
    "HazardError",
    "Kernel",
    "LaunchError",
    "LaunchResult",
    "LaunchTimeout",
    "MemoryFault",
    "RaceError",
    "ResourceError",
    "Simulator",
    "UninitializedReadError",
    "WarpforgeError",
    "__version__",
    "bool_",
    "constexpr",
    "cuda",
    "device",
    "f16",
    "f32",
    "f64",
    "func",
    "get_device",
    "i32",
    "i64",
    "i8",
    "i16",
    "u8",
    "u16",
    "u64",
    "isa",
    "kernel",
    "set_device",
    "simulator",
    "to_device",
    "u32",
    "warp_size",
    *_INTRINSICS,
    *_DIM3S,
]
