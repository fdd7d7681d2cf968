"""A tiny reference interpreter of the IR for one thread, for checking that passes keep
meaning: scalar ops through :func:`warpforge.compiler.ir.semantics.evaluate` (the same
exact semantics constant folding uses), structured control flow, and memory as
dictionaries from index tuples to values (missing elements read as 0).

Supports what the pass tests build: constants, arithmetic, bitwise, cmp, select, cast,
special registers (from ``env``), load, store, allocations, barrier (a no-op), if, for,
while, return, ``array_dim`` (16 for parameters); math ops and ``fma`` through numpy
stand-ins. Anything else, and undefined arithmetic (integer division by zero), raises
:class:`Unsupported`; an out-of-range shift gives 0 (its value is unspecified).
"""

from __future__ import annotations

import numpy as np

from warpforge.compiler.ir import Block, Function, Value
from warpforge.compiler.ir.semantics import evaluate

PARAM_EXTENT = 16
"""What ``array_dim`` of a parameter array gives."""
STAND_INS = {
    "fma": lambda a, b, c: np.float64(a) * b + c,
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "rsqrt": lambda a: 1 / np.sqrt(np.float64(a)),
}
"""Math ops, computed by numpy: not the backends' exact results, but a function of the
inputs, which is all a before/after comparison needs."""


class Unsupported(Exception):
    """The interpreter cannot run this (or the program is undefined here)."""


class _Return(Exception):
    def __init__(self, values):
        self.values = values


def run(func: Function, args: dict, env: dict | None = None, max_steps: int = 100_000):
    """Run ``func`` with parameters from ``args`` (arrays: dicts index tuple -> value,
    mutated in place); returns the returned values."""
    interp = _Interp(env or {}, max_steps)
    for p in func.params:
        interp.values[p] = args[p.name]
    try:
        interp.block(func.block)
    except _Return as r:
        return r.values
    return ()


class _Interp:
    def __init__(self, env: dict, max_steps: int) -> None:
        self.env = env
        self.values: dict[Value, object] = {}
        self.steps = max_steps

    def get(self, v: Value):
        return self.values[v]

    def block(self, block: Block):
        for op in block.ops:
            self.steps -= 1
            if self.steps < 0:
                raise Unsupported("too many steps")
            name = op.name
            if name == "yield":
                return [self.get(v) for v in op.operands]
            if name == "return":
                raise _Return([self.get(v) for v in op.operands])
            if name == "constant":
                out = [op.attr("value")]
            elif name in ("thread_idx", "block_idx", "block_dim", "grid_dim", "lane_id"):
                out = [self.env.get((name, op.attr("dim")), 0)]
            elif name in ("shared_alloc", "local_alloc"):
                out = [{}]
            elif name == "load":
                mem = self.get(op.operands[0])
                out = [mem.get(tuple(self.get(v) for v in op.operands[1:]), 0)]
            elif name == "store":
                mem = self.get(op.operands[0])
                mem[tuple(self.get(v) for v in op.operands[1:-1])] = self.get(op.operands[-1])
                out = []
            elif name == "if":
                region = op.regions[0] if self.get(op.operands[0]) else op.regions[1]
                out = self.block(region.block)
            elif name == "array_dim":
                shape = op.operands[0].type.shape
                out = [shape[op.attr("axis")] if shape is not None else PARAM_EXTENT]
            elif name == "barrier":
                out = []  # one thread: nothing to wait for
            elif name == "for":
                lb, ub, step, *carried = (self.get(v) for v in op.operands)
                if step == 0:
                    raise Unsupported("for with step 0")
                body = op.regions[0].block
                for i in range(lb, ub, step):
                    self.values.update(zip(body.args, [i, *carried], strict=True))
                    carried = self.block(body)
                out = carried
            elif name == "while":
                carried = [self.get(v) for v in op.operands]
                before, after = (r.block for r in op.regions)
                while True:
                    self.values.update(zip(before.args, carried, strict=True))
                    cond, *carried = self.block(before)
                    if not cond:
                        break
                    self.values.update(zip(after.args, carried, strict=True))
                    carried = self.block(after)
                out = carried
            elif name in STAND_INS:
                t = op.results[0].type.np_dtype.type
                with np.errstate(all="ignore"):
                    out = [float(t(STAND_INS[name](*(self.get(v) for v in op.operands))))]
            elif len(op.results) != 1 or op.regions or op.info.effects:
                raise Unsupported(name)
            else:
                vals = [self.get(v) for v in op.operands]
                r = evaluate(name, op.attrs, op.operand_types, vals, op.results[0].type)
                if r is None and name in ("shl", "shr") and all(isinstance(v, int)
                                                                for v in vals):
                    r = 0  # an out-of-range shift gives an unspecified value, not a fault
                if r is None:
                    raise Unsupported(name)
                out = [r]
            self.values.update(zip(op.results, out, strict=True))
        return []
