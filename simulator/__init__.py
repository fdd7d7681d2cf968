"""The GPU simulator: a device with global memory that runs ``isa.Program`` s.

``Simulator(arch="ampere", **overrides)`` is the device (configuration in
:class:`ArchConfig`); ``device.launch(program, grid, block, args)`` runs a kernel
functionally, one wave of resident CTAs at a time, vectorized over all their threads, and
returns a :class:`LaunchResult`; ``device.to_device(array)`` keeps a :class:`DeviceArray`
resident across launches. Kernel errors are located at an instruction, thread and block.
"""

from .arrays import DeviceArray
from .config import PRESETS, ArchConfig
from .device import Simulator
from .errors import (
    BarrierError,
    ConfigError,
    HazardError,
    KernelFault,
    LaunchError,
    LaunchTimeout,
    MemoryFault,
    RaceError,
    ResourceError,
    SimulatorError,
    UninitializedReadError,
    WarpError,
)
from .launch import LaunchResult

__all__ = [
    "PRESETS",
    "ArchConfig",
    "BarrierError",
    "ConfigError",
    "DeviceArray",
    "HazardError",
    "KernelFault",
    "LaunchError",
    "LaunchResult",
    "LaunchTimeout",
    "MemoryFault",
    "RaceError",
    "ResourceError",
    "Simulator",
    "SimulatorError",
    "UninitializedReadError",
    "WarpError",
]
