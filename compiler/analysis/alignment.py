"""Known powers of two: the largest ``2**k`` an integer value is provably a multiple of.

What the SASS backend needs to merge shared-memory loads of consecutive words into one
64- or 128-bit access (``LDS.64``, ``LDS.128``), which must be 8- or 16-byte aligned: an
address ``sum(index_i * scale_i)`` is a multiple of ``2**k`` when every term is (Triton
infers the same "divisibility" from its specializations).

Rules, on integer values, as exponents ``k`` (capped at :data:`MAX_POW2`). They hold
under wrap-around too: a multiple of ``2**k`` stays one modulo ``2**32`` for ``k <= 32``.

- a constant ``c``: the trailing zeros of ``c`` (0 has every power: the cap);
- ``add``/``sub``/``min``/``max``/``select``: the least of the operands;
- ``mul``: the sum; ``shl`` by a constant ``s``: ``k + s``; ``and`` with a constant: the
  larger (the mask clears the low bits);
- ``neg`` and integer ``cast``: the operand's;
- a ``for`` loop's induction variable ``lb, lb + step, ...``: the least of ``lb``'s and
  ``step``'s;
- anything else (thread indices, parameters, other loop-carried values, loads): 0.
"""

from __future__ import annotations

from ..ir.core import BlockArg, Value
from ..ir.types import ScalarType
from .affinity import int_constant

MAX_POW2 = 31
"""The largest exponent reported (a 32-bit zero is a multiple of everything)."""


def trailing_zeros(c: int) -> int:
    """The exponent of the largest power of two dividing ``c`` (:data:`MAX_POW2` for 0)."""
    if c == 0:
        return MAX_POW2
    return min((c & -c).bit_length() - 1, MAX_POW2)


class KnownPow2:
    """Memoized answers for the values of one function."""

    def __init__(self) -> None:
        self._memo: dict[Value, int] = {}

    def __call__(self, value: Value) -> int:
        """``k`` such that ``value`` is a multiple of ``2**k`` (see the module docstring)."""
        k = self._memo.get(value)
        if k is None:
            k = self._memo[value] = self._solve(value)
        return k

    def _solve(self, value: Value) -> int:
        t = value.type
        if not (isinstance(t, ScalarType) and t.is_int) or t.is_bool:
            return 0
        c = int_constant(value)
        if c is not None:
            return trailing_zeros(c)
        if isinstance(value, BlockArg):
            loop = value.block.parent_op
            if value.index == 0 and loop is not None and loop.name == "for":
                self._memo[value] = 0  # a cycle through the bounds reads "unknown"
                return min(self(loop.operands[0]), self(loop.operands[2]))
            return 0
        op = value.defining_op
        if op is None or len(op.results) != 1:
            return 0
        name, args = op.name, op.operands
        if name in ("add", "sub", "min", "max"):
            return min(self(a) for a in args)
        if name == "select":
            return min(self(args[1]), self(args[2]))
        if name == "mul":
            return min(self(args[0]) + self(args[1]), MAX_POW2)
        if name == "shl":
            s = int_constant(args[1])
            return min(self(args[0]) + s, MAX_POW2) if s is not None and s >= 0 else 0
        if name == "and":
            return max(self(args[0]), self(args[1]))
        if name == "neg" or (name == "cast" and args[0].type.is_int):
            return self(args[0])
        return 0
