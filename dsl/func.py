"""The ``@wf.func`` decorator: marks a Python function as a device function.

A device function is compiled when a kernel calls it, once per tuple of argument types,
as a separate IR function that the kernel reaches through a ``call`` op (see
:mod:`warpforge.dsl.frontend`); the inliner pass inlines it. Called from plain Python, it
runs as the Python function it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

FUNC_MARK = "__wf_func__"
"""The attribute that marks a device function."""


def func(fn: F) -> F:
    """Mark ``fn`` as a device function callable from kernels; returns ``fn`` itself."""
    setattr(fn, FUNC_MARK, True)
    return fn


def is_device_function(obj: object) -> bool:
    """True for a function marked by :func:`func` (or carrying ``__wf_func__ = True``)."""
    return callable(obj) and getattr(obj, FUNC_MARK, False) is True
