"""Every ``WARPFORGE_*`` environment variable, with its type, default and meaning.

The registry sits in the bottom layer so that every layer reads its settings from one
place. Read a knob with :func:`get`; nothing else in warpforge looks at ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import UsageError


@dataclass(frozen=True)
class Knob:
    """One environment variable: its name, type, default and what it does."""

    name: str
    type: type
    default: object
    doc: str


KNOBS: dict[str, Knob] = {
    knob.name: knob
    for knob in (
        Knob("WARPFORGE_CHECK_HAZARDS", bool, False,
             "Check every simulated instruction's register reads against the control codes "
             "(stall counts and scoreboards) and raise HazardError on a violation."),
        Knob("WARPFORGE_SANITIZE", str, "",
             "Sanitizers the simulator runs besides memcheck and synccheck: a comma list of "
             "racecheck and initcheck (wf.Simulator(sanitize=...) overrides it)."),
        Knob("WARPFORGE_AUTOTUNE", bool, True,
             "Measure configs of @wf.autotune kernels (0: use the best cached config, "
             "else the first, and never measure)."),
        Knob("WARPFORGE_DEVICE", str, "sim",
             "The default device: 'sim' (the GPU simulator) or 'cpu' (native code on the "
             "host's cores)."),
        Knob("WARPFORGE_CPU_CHECKED", bool, False,
             "Default of wf.CPU(checked=...): compile bounds checks into every array access "
             "of CPU kernels and raise MemoryFault on a bad index."),
        Knob("WARPFORGE_DUMP", str, "",
             "A folder: every compiled kernel writes its IR after each pass and its "
             "assembly there (on cache hits too)."),
        Knob("WARPFORGE_CACHE", bool, True,
             "Keep compiled kernels on disk and reuse them across processes."),
        Knob("WARPFORGE_CACHE_DIR", str, "~/.cache/warpforge",
             "Where the on-disk kernel cache lives."),
        Knob("WARPFORGE_LAUNCH_TIMEOUT", float, 0.0,
             "Seconds a launch may run before it stops with wf.LaunchTimeout, the arrays as "
             "before it (0: no limit). k.launch(..., timeout=...) overrides it."),
    )
}
"""Name -> knob."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def get(name: str) -> object:
    """The value of knob ``name`` from the environment, or its default when unset."""
    knob = KNOBS[name]
    raw = os.environ.get(name)
    if raw is None:
        return knob.default
    if knob.type is bool:
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise UsageError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")
    return knob.type(raw)
