"""The source text of a kernel's or device function's code, read fast.

``inspect.getsource`` first finds the function's module by resolving the path of every
loaded module (``inspect.getmodule``): tens of milliseconds in a process with numpy
loaded, paid on every cache lookup in a fresh process. The text needs only the file's
lines (through :mod:`linecache`, which also serves notebook cells) and the code's first
line; ``inspect`` is the fallback for sources only it can find.
"""

from __future__ import annotations

import inspect
import linecache
import re
import types

_START = re.compile(r"^(\s*def\s)|(\s*async\s+def\s)|(.*(?<!\w)lambda(:|\s))|^(\s*@)")
"""A line a function's definition can start on (its decorators included)."""


def code_source(code: types.CodeType) -> str | None:
    """The source text of the function whose code is ``code`` (None if unreadable)."""
    filename = code.co_filename
    linecache.checkcache(filename)  # a file edited since it was read is read again
    lines = linecache.getlines(filename)
    first = code.co_firstlineno - 1
    if lines and 0 <= first < len(lines):
        while first > 0 and not _START.match(lines[first]):
            first -= 1
        try:
            return "".join(inspect.getblock(lines[first:]))
        except (IndentationError, SyntaxError):
            pass
    try:
        return inspect.getsource(code)
    except (OSError, TypeError):
        return None
