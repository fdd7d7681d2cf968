"""Which multiplies are contracted into their user: FFMA for floats, IMAD for integers.

Both backends must contract exactly the same ``mul`` ops, or a kernel's float results
would round differently on the simulator and on the CPU (simt-on-cpu.md §3 item 12): the
SASS backend emits FFMA/IMAD and the LLVM backend ``llvm.fma`` for the ``mul`` ops this
module names, and separate roundings everywhere else (no fast-math ``contract`` flags).

The rule is ptxas's default (``--fmad=true``) restricted to one block: a ``mul`` whose
only use is an ``add`` (f32 or i32) or a ``sub`` (f32) in the same block. When both
operands of that user are such multiplies, the first operand's is the one contracted.
"""

from __future__ import annotations

from ..ir.core import Op
from ..ir.types import ScalarType


def is_f32(t: object) -> bool:
    """True for the f32 scalar type."""
    return isinstance(t, ScalarType) and t.is_float and t.bits == 32


def is_i32(t: object) -> bool:
    """True for a 32-bit integer scalar type."""
    return isinstance(t, ScalarType) and t.is_int and t.bits == 32


def contracts_into_user(op: Op) -> bool:
    """True when ``mul`` ``op`` is contracted into its single user: an f32 ``add``/``sub``
    (fused multiply-add) or an i32 ``add`` (integer multiply-add)."""
    if op.name != "mul" or len(op.results) != 1 or len(op.results[0].uses) != 1:
        return False
    result = op.results[0]
    t = result.type
    user = result.uses[0].op
    if user.parent is not op.parent:
        return False
    ok = user.name == "add" if is_i32(t) else is_f32(t) and user.name in ("add", "sub")
    if not ok:
        return False
    first = user.operands[0]
    if user.operands[1] is result and first is not result:
        other = first.defining_op
        if (other is not None and other.name == "mul" and len(first.uses) == 1
                and first.type == t):
            return False  # the first operand's mul is the one contracted
    return True
