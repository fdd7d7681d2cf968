"""The stand-in ``numba`` package that ``warpforge numba SCRIPT.py`` serves, the way
``NUMBA_ENABLE_CUDASIM=1`` serves Numba's simulator: ``import numba``, ``from numba import
cuda, float32``, ``import numba.cuda`` and ``from numba.cuda import ...`` all reach
:mod:`warpforge.cuda`. Numba itself need not be installed.

Host-side ``@numba.njit``/``@numba.jit`` functions run as the plain Python they are (the
script's answers do not change; only their speed); ``numba.prange`` is ``range``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

from . import cuda

_MODULE_NAMES = ("numba", "numba.cuda", "numba.types", "numba.core", "numba.core.types")


def _host_jit(fn: Callable | None = None, *args, **kwargs):
    """``@numba.njit`` / ``@numba.jit`` on host code: the function itself."""
    if callable(fn):
        return fn
    return lambda f: f


def make_module() -> types.ModuleType:
    """The stand-in ``numba`` module."""
    numba = types.ModuleType("numba", "warpforge's stand-in for numba (warpforge numba).")
    numba.cuda = cuda
    numba.njit = numba.jit = numba.generated_jit = _host_jit
    numba.prange = range
    numba.__version__ = "0.0+warpforge"
    type_names = types.ModuleType("numba.types", "Numba's scalar types (warpforge's).")
    for name, t in cuda.TYPES.items():
        setattr(numba, name, t)
        setattr(type_names, name, t)
    type_names.void = None
    numba.void = None
    numba.types = type_names
    core = types.ModuleType("numba.core")
    core.types = type_names
    numba.core = core
    return numba


def install() -> dict[str, object]:
    """Serve ``numba`` from warpforge in this process; returns what it replaced (for
    :func:`uninstall`)."""
    saved = {name: sys.modules.get(name) for name in _MODULE_NAMES}
    numba = make_module()
    sys.modules["numba"] = numba
    sys.modules["numba.cuda"] = cuda
    sys.modules["numba.types"] = numba.types
    sys.modules["numba.core"] = numba.core
    sys.modules["numba.core.types"] = numba.types
    return saved


def uninstall(saved: dict[str, object]) -> None:
    """Put back the modules :func:`install` replaced."""
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
