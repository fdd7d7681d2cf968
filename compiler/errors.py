"""Errors raised by the compiler layer.

:class:`CompilerError` is the base of every compiler error; :class:`IRError` says the IR is
malformed or ill-typed (raised by the builder, the verifier and passes), with the source
location of the op at fault when known; :class:`IRSyntaxError` says printed IR text does not
parse, with line and column. User-facing errors about kernel source are the DSL's business
(``wf.CompileError``); these are for the compiler's own contract.
"""

from __future__ import annotations

from ..isa.errors import WarpforgeError
from ..isa.program import SourceLoc


class CompilerError(WarpforgeError):
    """Base class of every error the compiler raises on purpose: ``message``, and ``loc``
    the user's source location it is about, when known (the DSL turns it into a
    ``wf.CompileError`` showing that line)."""

    def __init__(self, message: str = "", loc: SourceLoc | None = None) -> None:
        self.message = message
        self.loc = loc
        super().__init__(f"{loc}: {message}" if loc is not None else message)


class IRError(CompilerError):
    """Malformed or ill-typed IR. ``loc`` is the source location of the op at fault, if any;
    ``op`` the op itself when one is at fault (for tools that map it back to text).

    ``message`` is the bare message; ``str(error)`` prefixes it with the location.
    """

    def __init__(self, message: str, loc: SourceLoc | None = None, op: object = None) -> None:
        super().__init__(message, loc)
        self.op = op


class IRSyntaxError(IRError):
    """IR text that does not parse: the message, the 1-based line and column, the line."""

    def __init__(self, message: str, line: int = 0, column: int = 0,
                 source_line: str = "") -> None:
        self.line = line
        self.column = column
        self.source_line = source_line
        text = f"line {line}:{column}: {message}" if line else message
        if source_line:
            text += f"\n    {source_line}\n    {' ' * max(column - 1, 0)}^"
        super().__init__(text)
        self.message = message
