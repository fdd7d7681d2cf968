"""The current device: which device a launch or ``to_device`` uses when none is named.

The default is a simulator (``WARPFORGE_DEVICE`` chooses, see ``isa.knobs``); change it for
the whole program with :func:`set_device` or for a block with ``with device(...)``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

from ..isa import knobs
from ..simulator import DeviceArray, Simulator

_state = threading.local()
_default: Simulator | None = None


def _named(name: str) -> Simulator:
    if name == "sim":
        return Simulator()
    raise ValueError(f"unknown device {name!r}; the devices available are: 'sim'")


def get_device() -> Simulator:
    """The device launches use when none is given."""
    global _default
    current = getattr(_state, "device", None)
    if current is not None:
        return current
    if _default is None:
        _default = _named(str(knobs.get("WARPFORGE_DEVICE")))
    return _default


def set_device(dev: str | Simulator) -> Simulator:
    """Make ``dev`` (a device or its name, ``"sim"``) the current device; returns it."""
    global _default
    chosen = _named(dev) if isinstance(dev, str) else dev
    if getattr(_state, "device", None) is not None:
        _state.device = chosen
    else:
        _default = chosen
    return chosen


@contextlib.contextmanager
def device(dev: str | Simulator) -> Iterator[Simulator]:
    """Use ``dev`` as the current device inside a ``with`` block (per thread)."""
    chosen = _named(dev) if isinstance(dev, str) else dev
    previous = getattr(_state, "device", None)
    _state.device = chosen
    try:
        yield chosen
    finally:
        _state.device = previous


def to_device(array: np.ndarray, device: Simulator | None = None) -> DeviceArray:
    """Copy ``array`` to ``device`` (default: the current one) and keep it resident there."""
    return (device or get_device()).to_device(np.asarray(array))
