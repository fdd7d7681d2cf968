"""Strength reduction of integer index arithmetic.

**Powers of two.** With ``c = 2**k`` a positive constant of the op's integer type:

- ``mul x, c`` (either side) becomes ``shl x, k`` (exact under wrapping, any sign);
- ``floordiv x, c`` becomes ``shr x, k`` (an arithmetic shift floors, so any sign);
- ``mod x, c`` becomes ``and x, c - 1`` (Python's ``%`` by a positive divisor, any sign);
- ``div x, c`` and ``rem x, c`` (C's truncation) become ``shr``/``and`` only when ``x`` is
  known non-negative: an unsigned type, a non-negative constant, ``thread_idx``,
  ``block_idx``, ``block_dim``, ``grid_dim``, ``lane_id``, ``array_dim``, or ``and``/``shr``/
  ``div``/``rem``/``floordiv``/``mod``/``min``/``max`` of such values (``add``/``mul`` may
  wrap negative, so they prove nothing).

**Induction variables.** In a ``for`` loop over an integer ``iv``, a value computed in the
body's top-level block as ``iv * a + b`` (through ``mul``, ``shl`` by a constant, ``add`` and
``sub`` with loop-invariant ``a`` and ``b``, at least one multiplication) and used by
something other than the next step of such an expression becomes a new carried value:
initialised to ``lb * a + b`` before the loop and incremented by ``step * a`` at the end of
each iteration (equal under wrapping arithmetic). The multiplications left unused go to
:mod:`.dce`; :mod:`.fold` and :mod:`.cse` tidy the new code before the loop.
"""

from __future__ import annotations

from ..analysis.affinity import int_constant
from ..ir.builder import Builder
from ..ir.core import Op, Value
from ..ir.function import Function
from ..ir.types import ScalarType
from .structured import defined_outside, extend_for

NON_NEGATIVE_SOURCES = frozenset({"thread_idx", "block_idx", "block_dim", "grid_dim",
                                  "lane_id", "array_dim"})
"""Ops whose result is never negative."""


def strength(func: Function) -> Function:
    """Strength-reduce ``func`` in place; returns it."""
    for op in list(func.walk()):
        if op.name == "for" and op.parent is not None:
            _induction(op)
    for op in list(func.walk()):
        if op.parent is not None:
            _power_of_two(op)
    return func


# --- powers of two ------------------------------------------------------------------------

def _log2(value: Value) -> int | None:
    c = int_constant(value)
    if c is not None and c > 0 and c & (c - 1) == 0:
        return c.bit_length() - 1
    return None


def non_negative(value: Value, depth: int = 0) -> bool:
    """True if ``value`` is known to be >= 0 (see the module docstring)."""
    t = value.type
    if not isinstance(t, ScalarType) or not t.is_int:
        return False
    if not t.is_signed:
        return True
    op = value.defining_op
    if op is None or depth > 16:
        return False
    if op.name == "constant":
        return op.attr("value") >= 0
    if op.name in NON_NEGATIVE_SOURCES:
        return True
    args = [non_negative(v, depth + 1) for v in op.operands]
    if op.name in ("and", "max"):
        return any(args)
    if op.name in ("min", "div", "floordiv"):
        return all(args)
    if op.name == "shr":
        amount = int_constant(op.operands[1])
        return args[0] and amount is not None and 0 <= amount < t.bits
    if op.name in ("rem", "mod"):
        return args[0] if op.name == "rem" else args[1]
    return False


def _power_of_two(op: Op) -> None:
    t = op.results[0].type if len(op.results) == 1 else None
    if not (isinstance(t, ScalarType) and t.is_int) or len(op.operands) != 2:
        return
    x, y = op.operands
    if op.name == "mul" and _log2(x) is not None and _log2(y) is None:
        x, y = y, x
    k = _log2(y)
    if k is None or k >= t.bits - (1 if t.is_signed else 0):
        return
    b = Builder.before_op(op, op.loc)
    if op.name == "mul" or op.name in ("floordiv", "div"):
        if op.name == "div" and not non_negative(x):
            return
        name, amount = ("shl" if op.name == "mul" else "shr"), k
    elif op.name in ("mod", "rem"):
        if op.name == "rem" and not non_negative(x):
            return
        name, amount = "and", (1 << k) - 1
    else:
        return
    new = b.create(name, (x, b.constant(amount, t))).result
    op.results[0].replace_all_uses_with(new)
    op.erase()


# --- induction variables ------------------------------------------------------------------

class _Lin:
    """``iv * a + b``, with ``a``/``b`` as expression trees of loop-invariant values."""

    def __init__(self, a: tuple, b: tuple | None, scaled: bool) -> None:
        self.a, self.b, self.scaled = a, b, scaled


def _mul(e: tuple, f: tuple) -> tuple:
    return ("mul", e, f)


def _simplify(e: tuple | None) -> tuple | None:
    """``e`` with constants folded where one side of a product is 0 or 1."""
    if e is None or e[0] == "const":
        return e
    if e[0] == "value":
        c = int_constant(e[1])
        return ("const", c) if c is not None else e
    x, y = _simplify(e[1]), _simplify(e[2])
    cx = x[1] if x is not None and x[0] == "const" else None
    cy = y[1] if y is not None and y[0] == "const" else None
    if e[0] == "mul":
        if cx == 0 or cy == 0:
            return ("const", 0)
        if cx == 1:
            return y
        if cy == 1:
            return x
    elif e[0] == "add" and cx == 0:
        return y
    elif cy == 0:
        return x
    return (e[0], x, y)


def _emit(b: Builder, e: tuple | None, t: ScalarType) -> Value:
    e = _simplify(e)
    if e is None:
        return b.constant(0, t)
    if e[0] == "value":
        return e[1]
    if e[0] == "const":
        return b.constant(e[1], t)
    return b.create(e[0], (_emit(b, e[1], t), _emit(b, e[2], t))).result


def _induction(loop: Op) -> None:
    body = loop.regions[0].block
    iv = body.args[0]
    t = iv.type
    if not isinstance(t, ScalarType) or not t.is_int:
        return
    lin: dict[Value, _Lin] = {iv: _Lin(("const", 1), None, False)}
    for op in body:
        if len(op.results) != 1 or op.results[0].type != t or len(op.operands) != 2:
            continue
        x, y = op.operands
        if op.name in ("mul", "add") and x not in lin and y in lin:
            x, y = y, x
        if x not in lin or not defined_outside(y, loop):
            continue
        e, inv = lin[x], ("value", y)
        if op.name == "mul":
            lin[op.results[0]] = _Lin(_mul(e.a, inv), _mul(e.b, inv) if e.b else None, True)
        elif op.name == "shl" and int_constant(y) is not None and 0 <= int_constant(y) < 63:
            c = ("const", 1 << int_constant(y))
            if c[1] > t.max:
                continue
            lin[op.results[0]] = _Lin(_mul(e.a, c), _mul(e.b, c) if e.b else None, True)
        elif op.name in ("add", "sub"):
            b = (op.name, e.b, inv) if e.b else (inv if op.name == "add" else
                                                  ("sub", ("const", 0), inv))
            lin[op.results[0]] = _Lin(e.a, b, e.scaled)
    roots = [v for v, e in lin.items() if e.scaled and any(
        use.op.results == () or use.op.results[0] not in lin for use in v.uses)]
    if not roots:
        return
    b = Builder.before_op(loop, loop.loc)
    lb, step = loop.operands[0], loop.operands[2]
    inits, steps = [], []
    for v in roots:
        e = lin[v]
        start = ("mul", ("value", lb), e.a)
        inits.append(_emit(b, ("add", start, e.b) if e.b is not None else start, t))
        steps.append(_emit(b, ("mul", ("value", step), e.a), t))
    old_count = len(loop.operands) - 3
    loop, added = extend_for(loop, inits)
    body = loop.regions[0].block
    term = body.terminator
    nexts = []
    for arg, incr in zip(added, steps, strict=True):
        if term is not None and term.name == "yield":
            nexts.append(Builder.before_op(term, loop.loc).add(arg, incr))
    for v, arg in zip(roots, added, strict=True):
        v.replace_all_uses_with(arg)
    if term is not None and term.name == "yield":
        term.set_operands([*term.operands[:old_count], *nexts])
