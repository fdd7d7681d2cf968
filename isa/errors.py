"""Errors raised by the ISA layer, and the base class of every warpforge error."""

from __future__ import annotations


class WarpforgeError(Exception):
    """Base class of every error warpforge raises on purpose."""


class UsageError(WarpforgeError, ValueError, TypeError):
    """An API called with a value it cannot take: a bad setting, device configuration, type
    or option (also a ``ValueError`` and a ``TypeError``, as Python's own checks are)."""


class AssemblyError(WarpforgeError):
    """Bad assembly text or binary: where it is, the line itself, and what was expected.

    ``line`` and ``column`` are 1-based (0 when unknown, as for binary input).
    """

    def __init__(self, message: str, line: int = 0, column: int = 0, source_line: str = "",
                 expected: str = "", filename: str = "<assembly>") -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.expected = expected
        self.filename = filename
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.filename}:{self.line}:{self.column}: " if self.line else ""
        text = f"{where}{self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.source_line:
            caret = " " * max(self.column - 1, 0) + "^"
            text += f"\n    {self.source_line}\n    {caret}"
        return text
