"""Which array parameters a kernel may write.

A parameter is written when a ``store`` or an ``atomic`` names it as its array (after
inlining, every write of a device function is the kernel's own). The launch uses the
answer to refuse a read-only array where the kernel writes, to pass read-only arrays where
it only reads, and to save (checked CPU launches) or copy back (the simulator) only what
may change.
"""

from __future__ import annotations

from ..ir.function import Function

WRITES = frozenset({"store", "atomic"})
"""Ops that write their first operand (an array)."""


def written_parameters(func: Function) -> tuple[str, ...]:
    """The names of ``func``'s array parameters that some op may write, in order."""
    params = {p: p.name for p in func.params}
    written = {op.operands[0] for op in func.walk()
               if op.name in WRITES and op.operands[0] in params}
    return tuple(params[p] for p in func.params if p in written)
