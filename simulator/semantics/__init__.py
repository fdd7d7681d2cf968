"""Pure per-thread value semantics of the simulator's opcodes.

``SEMANTICS[opcode](inst, mods)`` builds, once per instruction, a function
``fn(*sources) -> tuple(results)``: ``sources`` are the values of the row's source slots
(RA, RB, RL, PS, LIT, in table order) as uint32 (uint64 for register pairs) arrays or
numpy scalars, bool arrays for predicates (``!`` already applied), Python ints for
literals; the results are one per destination slot (RD, PD, in table order). The factory
reads the instruction's modifiers, source flags (``-``, ``|x|``, ``~``) and literals up
front, so ``fn`` is a few vectorized numpy operations. A destination written to ``PT``
may get a cheap constant instead of its value. The executor fetches operands, applies
guards and masks and writes results; the opcodes it implements itself (memory, control,
warp operations, special registers, HMMA) are :data:`EXECUTOR_OPCODES`.

``atomic_combine(op, type, old, b, c)`` gives the new memory value of an atomic update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ...isa.program import Instruction
from . import bitwise, conversion, double, floating, half, integer, mufu
from .atomic import atomic_combine, atomic_function
from .predicate import plop3

Semantics = Callable[..., tuple]
"""``fn(*sources) -> tuple(results)`` for one instruction."""
Factory = Callable[[Instruction, Mapping[str, str]], Semantics]
"""Builds an instruction's :data:`Semantics` from it and its resolved modifiers."""

SEMANTICS: dict[str, Factory] = {
    **integer.FACTORIES,
    **bitwise.FACTORIES,
    **floating.FACTORIES,
    **double.FACTORIES,
    **mufu.FACTORIES,
    **conversion.FACTORIES,
    **half.FACTORIES,
    "PLOP3": plop3,
}
"""Opcode -> semantics factory, for every opcode whose result is a pure function."""

EXECUTOR_OPCODES: frozenset[str] = frozenset({
    "S2R", "CS2R", "LDC", "LDG", "STG", "LDS", "STS", "LDL", "STL", "ATOMG", "ATOMS",
    "RED", "SHFL", "VOTE", "BRA", "BSSY", "BSYNC", "BAR", "EXIT", "NOP", "HMMA",
    "WARPSYNC",
})
"""Opcodes the executor implements itself (state, memory, control flow, warp-wide work)."""

__all__ = [
    "EXECUTOR_OPCODES",
    "SEMANTICS",
    "Factory",
    "Semantics",
    "atomic_combine",
    "atomic_function",
]
