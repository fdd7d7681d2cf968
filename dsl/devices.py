"""The current device: which device a launch or ``to_device`` uses when none is named.

The devices are the GPU simulator (``"sim"``, the default) and the host CPU (``"cpu"``):
``WARPFORGE_DEVICE`` chooses the default (see ``isa.knobs``); change it for the whole
program with :func:`set_device` or for a block with ``with device(...)``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

from ..isa import knobs
from ..simulator import DeviceArray, LaunchError, Simulator
from .cpu import CPU

Device = Simulator | CPU
"""Any device a kernel can run on."""

DEVICE_NAMES = ("sim", "cpu")
"""The names :func:`set_device`, :func:`device` and ``WARPFORGE_DEVICE`` accept."""

_state = threading.local()
_default: Device | None = None


def _named(name: str) -> Device:
    if name == "sim":
        return Simulator()
    if name == "cpu":
        return CPU()
    raise LaunchError(f"unknown device {name!r}; the devices available are: "
                     f"{', '.join(repr(n) for n in DEVICE_NAMES)}")


_by_name: dict[str, Device] = {}
_by_name_lock = threading.Lock()


def resolve_device(dev: str | Device) -> Device:
    """``dev`` itself, or for a name (``"sim"``, ``"cpu"``) one device of that kind shared
    by every launch that names it."""
    if not isinstance(dev, str):
        if not isinstance(dev, (Simulator, CPU)):
            raise LaunchError(f"device must be 'sim', 'cpu', a wf.Simulator or a wf.CPU, "
                              f"not {dev!r}")
        return dev
    with _by_name_lock:
        if dev not in _by_name:
            _by_name[dev] = _named(dev)
        return _by_name[dev]


def get_device() -> Device:
    """The device launches use when none is given (made once, whichever thread asks
    first)."""
    global _default
    current = getattr(_state, "device", None)
    if current is not None:
        return current
    if _default is None:
        with _by_name_lock:
            if _default is None:
                _default = _named(str(knobs.get("WARPFORGE_DEVICE")))
    return _default


def set_device(dev: str | Device) -> Device:
    """Make ``dev`` (a device or its name, ``"sim"`` or ``"cpu"``) the current device;
    returns it."""
    global _default
    chosen = _named(dev) if isinstance(dev, str) else resolve_device(dev)
    if getattr(_state, "device", None) is not None:
        _state.device = chosen
    else:
        _default = chosen
    return chosen


@contextlib.contextmanager
def device(dev: str | Device) -> Iterator[Device]:
    """Use ``dev`` as the current device inside a ``with`` block (per thread)."""
    chosen = _named(dev) if isinstance(dev, str) else resolve_device(dev)
    previous = getattr(_state, "device", None)
    _state.device = chosen
    try:
        yield chosen
    finally:
        _state.device = previous


def to_device(array: np.ndarray, device: Device | None = None) -> DeviceArray | np.ndarray:
    """Copy ``array`` to ``device`` (default: the current one) and keep it resident there
    (on the CPU, whose memory is the host's, the numpy array itself)."""
    return (device or get_device()).to_device(np.asarray(array))
