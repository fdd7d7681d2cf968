"""User-facing errors of the kernel language.

:class:`CompileError` says a kernel's source is outside the supported subset or ill-typed:
its text names the file, line and column and shows the line with a caret under the
column, as Python's own syntax errors do. :func:`hide_compiler_frames` trims the
compiler's frames from an error's traceback so that only the user's frames remain.
:class:`OutsideKernelError` is raised when an intrinsic is called from plain Python.
"""

from __future__ import annotations

import itertools
import linecache
import os
from types import TracebackType

from ..isa.errors import WarpforgeError


class CompileError(WarpforgeError):
    """Bad kernel source: ``message`` at ``filename:line:column`` (1-based), with the line.

    ``str(err)`` is ``file:line:col: message`` followed by the source line and a caret.
    """

    def __init__(self, message: str, filename: str = "<unknown>", line: int = 0,
                 column: int = 0, source_line: str = "") -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line.rstrip("\n")
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.filename}:{self.line}:{self.column}: " if self.line else ""
        text = f"{where}{self.message}"
        if self.source_line:
            line = self.source_line.expandtabs()
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            caret = " " * max(self.column - 1 - indent, 0) + "^"
            text += f"\n    {stripped}\n    {caret}"
        return text


def compile_error(err: Exception, kernel: str, target: str) -> CompileError:
    """A backend's error about kernel ``kernel`` as a :class:`CompileError` at the source
    line it names (``err.loc``), with the line and a caret."""
    message = getattr(err, "message", None) or str(err)
    device = "the simulator" if target == "sim" else "the CPU"
    text = f"kernel {kernel!r} cannot be compiled for {device}: {message}"
    if target == "sim" and any(t in message for t in ("f64", "i64", "u64", "f16")):
        text += ("; 64-bit and f16 arithmetic run on the CPU device today "
                 "(wf.device('cpu'), or WARPFORGE_DEVICE=cpu)")
    loc = getattr(err, "loc", None)
    if loc is None:
        return CompileError(text)
    return CompileError(text, loc.file, loc.line, loc.col,
                        linecache.getline(loc.file, loc.line))


class OutsideKernelError(WarpforgeError, RuntimeError):
    """An intrinsic (``wf.thread_idx.x``, ``wf.syncthreads()``...) used outside a kernel."""


_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HIDDEN_DIRS = tuple(os.path.join(_PACKAGE_ROOT, d) + os.sep
                     for d in ("compiler", os.path.join("dsl", "frontend")))
_HIDDEN_FILES = tuple(os.path.join(_PACKAGE_ROOT, "dsl", f)
                      for f in ("errors.py", "types.py", "intrinsics.py", "func.py",
                                "kernel.py", "binding.py", "cache.py"))


def is_compiler_frame(filename: str) -> bool:
    """True for a frame of the compiler or of the DSL frontend (hidden from users)."""
    path = os.path.abspath(filename)
    return path.startswith(_HIDDEN_DIRS) or path in _HIDDEN_FILES


_PACKAGE_DIRS = tuple(os.path.join(_PACKAGE_ROOT, d) + os.sep
                      for d in ("isa", "simulator", "compiler", "dsl", "libs", "warpforge"))


def is_internal_frame(filename: str) -> bool:
    """True for a frame of any of warpforge's own layers."""
    return os.path.abspath(filename).startswith(_PACKAGE_DIRS)


def hide_internal_frames(err: BaseException) -> BaseException:
    """Remove every warpforge frame from ``err``'s traceback (in place), so that it ends at
    the user's launch line; returns ``err``."""
    return _keep_frames(err, lambda name: not is_internal_frame(name))


def hide_compiler_frames(err: BaseException) -> BaseException:
    """Remove the compiler's and the frontend's frames from ``err.__traceback__`` (in place;
    re-raise with a bare ``raise`` to keep the trimmed traceback); returns ``err``."""
    return _keep_frames(err, lambda name: not is_compiler_frame(name))


def _keep_frames(err: BaseException, keep) -> BaseException:
    kept: list[TracebackType] = []
    tb = err.__traceback__
    while tb is not None:
        if keep(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    for first, second in itertools.pairwise(kept):
        first.tb_next = second
    if kept:
        kept[-1].tb_next = None
    err.__traceback__ = kept[0] if kept else None
    return err
