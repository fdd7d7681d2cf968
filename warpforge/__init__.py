"""warpforge: a GPU software stack in miniature.

SASS-like assembly (``warpforge.isa``) runs on a functional SIMT simulator
(``warpforge.simulator``). See README.md for a tour.
"""

from . import isa, simulator
from .dsl.devices import device, get_device, set_device, to_device
from .isa import AssemblyError, WarpforgeError
from .simulator import (
    BarrierError,
    DeviceArray,
    HazardError,
    LaunchError,
    LaunchResult,
    MemoryFault,
    ResourceError,
    Simulator,
)

__version__ = "0.1.0"

__all__ = [
    "AssemblyError",
    "BarrierError",
    "DeviceArray",
    "HazardError",
    "LaunchError",
    "LaunchResult",
    "MemoryFault",
    "ResourceError",
    "Simulator",
    "WarpforgeError",
    "__version__",
    "device",
    "get_device",
    "isa",
    "set_device",
    "simulator",
    "to_device",
]
