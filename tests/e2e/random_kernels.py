"""Random well-typed kernels for differential testing: a tiny program tree that renders
as DSL source text and that a Python reference interpreter evaluates per thread.

Reference semantics (the DSL's, see ``dsl/frontend/promotion.py``): ``i32`` arithmetic wraps
around; every ``f32`` operation rounds to float32 (numpy float32 scalars); an int meeting a
float converts to f32 (round to nearest); ``//`` and ``%`` floor as in Python; ``wf.i32(f)``
truncates toward zero (the generator clamps the operand to +-1e9 first, so it never
saturates); ``/`` of two ints divides in f32.

Floats carry an error bound next to their value. The backend may contract ``a*b + c`` into
one FFMA (a single rounding) and may implement ``/`` with a reciprocal, so a float result
is only known up to the bound: zero while every operation is exact (then contraction cannot
change anything), growing by the product's rounding error at each inexact multiplication,
a few ulps at each division, and by the usual first-order propagation through later
operations. A float comparison or float-to-int cast whose outcome the bound cannot decide
makes the thread *ambiguous* (:class:`Ambiguous`): its outputs are not compared. So are
threads where a float leaves +-1e30 (no infinities or NaNs get compared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
ULP_SLACK = 2.0**-22
"""Relative allowance for one rounding that may differ (2 ulps of float32's 2**-23)."""
DIV_SLACK = 2.0**-20
"""Relative allowance for one division (a reciprocal-based ``/`` is a few ulps off)."""
CAST_LIMIT = 1e9
"""``wf.i32(f)`` operands are clamped to +-this (exact in f32), well inside i32."""
FLOAT_LIMIT = 1e30
"""A thread whose floats leave +-this is ambiguous (no inf/NaN comparisons)."""


class Ambiguous(Exception):
    """The thread's result depends on how float rounding went; don't compare it."""


def wrap(v: int) -> int:
    """``v`` wrapped to int32."""
    return (v + 2**31) % 2**32 - 2**31


@dataclass(frozen=True)
class F:
    """A float32 value with a bound on how far the compiled result may be from it."""

    v: np.float32
    e: float = 0.0


def fcheck(v: np.float32, e: float) -> F:
    """Make an :class:`F`, widening ``e`` for the rounding of a result whose inputs were
    already uncertain; ambiguous past FLOAT_LIMIT."""
    if not abs(float(v)) < FLOAT_LIMIT or not e < FLOAT_LIMIT:
        raise Ambiguous("float out of range")
    if e > 0:
        e += ULP_SLACK * (abs(float(v)) + e)
    return F(np.float32(v), e)


def to_f(x: int | F) -> F:
    """An int or float operand as f32 (ints convert with round to nearest, exactly
    reproducibly, so with no error)."""
    return x if isinstance(x, F) else F(np.float32(x))


# ---- expressions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """An expression of type ``ty`` ("i" for i32, "f" for f32, "b" for bool)."""

    ty: str


@dataclass(frozen=True)
class Var(Expr):
    """A variable (or the thread index ``i``)."""

    name: str = ""

    def src(self) -> str:
        return self.name

    def eval(self, env: dict) -> object:
        return env[self.name]


@dataclass(frozen=True)
class Lit(Expr):
    """A literal (weak: it takes the type of the typed operand it meets)."""

    value: int | float = 0

    def src(self) -> str:
        return repr(self.value)

    def eval(self, env: dict) -> object:
        return self.value


INT_OPS = ("+", "-", "*", "&", "|", "^", "min", "max")
FLOAT_OPS = ("+", "-", "*", "min", "max")


def fbinary(op: str, a: F, b: F) -> F:
    """``a op b`` in float32, with the error bound propagated."""
    with np.errstate(all="ignore"):
        if op == "+":
            return fcheck(a.v + b.v, a.e + b.e)
        if op == "-":
            return fcheck(a.v - b.v, a.e + b.e)
        if op == "*":
            r = a.v * b.v
            e = abs(float(a.v)) * b.e + abs(float(b.v)) * a.e + a.e * b.e
            exact = float(a.v) * float(b.v) == float(r)
            out = fcheck(r, e)
            return out if exact else F(out.v, out.e + ULP_SLACK * abs(float(r)))
        if op == "min":
            return F(min(a.v, b.v), max(a.e, b.e))
        if op == "max":
            return F(max(a.v, b.v), max(a.e, b.e))
        if op == "/":
            denom = abs(float(b.v)) - b.e
            if denom <= 0.25:
                raise Ambiguous("divisor near zero")
            r = a.v / b.v
            e = (a.e + abs(float(r)) * b.e) / denom
            out = fcheck(r, e)
            return F(out.v, out.e + DIV_SLACK * abs(float(r)))
    raise AssertionError(op)


def ibinary(op: str, a: int, b: int) -> int:
    """``a op b`` on i32 with wrap-around and Python floor division."""
    if op in ("//", "%"):
        assert b != 0 and not (a == INT_MIN and b == -1)
        return wrap(a // b) if op == "//" else wrap(a % b)
    return wrap({"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                 "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
                 "min": lambda: min(a, b), "max": lambda: max(a, b),
                 "<<": lambda: a << b, ">>": lambda: a >> b}[op]())


@dataclass(frozen=True)
class Bin(Expr):
    """``l op r``; int with float promotes to f32; ``min``/``max`` as calls."""

    op: str = "+"
    left: Expr = None
    right: Expr = None

    def src(self) -> str:
        if self.op in ("min", "max"):
            return f"{self.op}({self.left.src()}, {self.right.src()})"
        return f"({self.left.src()} {self.op} {self.right.src()})"

    def eval(self, env: dict) -> object:
        a, b = self.left.eval(env), self.right.eval(env)
        if self.ty == "i":
            return ibinary(self.op, a, b)
        return fbinary(self.op, to_f(a), to_f(b))


@dataclass(frozen=True)
class Shift(Expr):
    """``e << k`` / ``e >> k`` by a constant 0..31, or by ``(amount & 31)``."""

    op: str = "<<"
    operand: Expr = None
    amount: int | Expr = 0

    def src(self) -> str:
        k = self.amount if isinstance(self.amount, int) else f"({self.amount.src()} & 31)"
        return f"({self.operand.src()} {self.op} {k})"

    def eval(self, env: dict) -> object:
        k = self.amount if isinstance(self.amount, int) else self.amount.eval(env) & 31
        return ibinary(self.op, self.operand.eval(env), k)


@dataclass(frozen=True)
class Div(Expr):
    """A division with a guarded divisor: int ``//``/``%`` by ``(d % 7 + 2)`` (negated when
    ``negative``; never 0 or -1), or by a literal; ``/`` of floats by ``(abs(d) + 1.0)``;
    ``/`` of ints by ``(d % 7 + 2)`` (true division in f32)."""

    op: str = "//"
    left: Expr = None
    divisor: Expr | int = 1
    negative: bool = False

    def divisor_src(self) -> str:
        if isinstance(self.divisor, int):
            return repr(self.divisor)
        if self.divisor.ty == "f":
            return f"(abs({self.divisor.src()}) + 1.0)"
        return f"{'-' if self.negative else ''}({self.divisor.src()} % 7 + 2)"

    def src(self) -> str:
        return f"({self.left.src()} {self.op} {self.divisor_src()})"

    def eval(self, env: dict) -> object:
        a = self.left.eval(env)
        if isinstance(self.divisor, int):
            d = self.divisor
        elif self.divisor.ty == "f":
            dv = self.divisor.eval(env)
            d = fbinary("+", F(abs(dv.v), dv.e), F(np.float32(1.0)))
        else:
            d = wrap(self.divisor.eval(env) % 7 + 2)
            d = -d if self.negative else d
        if self.op == "/":
            return fbinary("/", to_f(a), to_f(d))
        return ibinary(self.op, a, d)


@dataclass(frozen=True)
class Unary(Expr):
    """``-e`` or ``abs(e)``."""

    op: str = "-"
    operand: Expr = None

    def src(self) -> str:
        return f"(-{self.operand.src()})" if self.op == "-" else f"abs({self.operand.src()})"

    def eval(self, env: dict) -> object:
        x = self.operand.eval(env)
        if self.ty == "i":
            return wrap(-x if self.op == "-" else abs(x))
        return F(-x.v if self.op == "-" else abs(x.v), x.e)


@dataclass(frozen=True)
class Cast(Expr):
    """``wf.f32(int)`` or ``wf.i32(min(max(float, -1e9), 1e9))`` (truncation)."""

    operand: Expr = None

    def src(self) -> str:
        if self.ty == "f":
            return f"wf.f32({self.operand.src()})"
        return f"wf.i32(min(max({self.operand.src()}, -1e9), 1e9))"

    def eval(self, env: dict) -> object:
        x = self.operand.eval(env)
        if self.ty == "f":
            return F(np.float32(x))
        lo, hi = (min(max(float(x.v) + d, -CAST_LIMIT), CAST_LIMIT) for d in (-x.e, x.e))
        if math.trunc(lo) != math.trunc(hi):
            raise Ambiguous("cast near an integer boundary")
        return math.trunc(hi)


@dataclass(frozen=True)
class Select(Expr):
    """``(a if cond else b)``."""

    cond: Expr = None
    then: Expr = None
    orelse: Expr = None

    def src(self) -> str:
        return f"({self.then.src()} if {self.cond.src()} else {self.orelse.src()})"

    def eval(self, env: dict) -> object:
        a = self.then.eval(env) if self.cond.eval(env) else self.orelse.eval(env)
        return to_f(a) if self.ty == "f" else a


CMP_OPS = {"<": lambda d: d < 0, "<=": lambda d: d <= 0, ">": lambda d: d > 0,
           ">=": lambda d: d >= 0, "==": lambda d: d == 0, "!=": lambda d: d != 0}


@dataclass(frozen=True)
class Cmp(Expr):
    """``l op r`` (bool); mixed int/float compares in f32."""

    op: str = "<"
    left: Expr = None
    right: Expr = None

    def src(self) -> str:
        return f"({self.left.src()} {self.op} {self.right.src()})"

    def eval(self, env: dict) -> object:
        a, b = self.left.eval(env), self.right.eval(env)
        if isinstance(a, int) and isinstance(b, int):
            return CMP_OPS[self.op](a - b)
        a, b = to_f(a), to_f(b)
        if a.e + b.e > 0 and abs(float(a.v) - float(b.v)) <= a.e + b.e:
            raise Ambiguous("float comparison too close to call")
        return CMP_OPS[self.op](float(a.v) - float(b.v))


@dataclass(frozen=True)
class Logic(Expr):
    """``l and r``, ``l or r`` or ``not l`` (right is None)."""

    op: str = "and"
    left: Expr = None
    right: Expr | None = None

    def src(self) -> str:
        if self.op == "not":
            return f"(not {self.left.src()})"
        return f"({self.left.src()} {self.op} {self.right.src()})"

    def eval(self, env: dict) -> object:
        a = self.left.eval(env)
        if self.op == "not":
            return not a
        # Both sides are evaluated for ambiguity, whatever short-circuit order is used.
        b = self.right.eval(env)
        return (a and b) if self.op == "and" else (a or b)


# ---- statements ----------------------------------------------------------------------


class LoopCap(Exception):
    """A loop ran past its bound (a generator bug, never expected)."""


class BreakLoop(Exception):
    """A ``break`` ran: leave the innermost loop."""


@dataclass
class Break:
    """``if cond: break`` inside a loop."""

    cond: Expr

    def lines(self, ind: str) -> list[str]:
        return [f"{ind}if {self.cond.src()}:", f"{ind}    break"]

    def run(self, env: dict) -> None:
        if self.cond.eval(env):
            raise BreakLoop


@dataclass
class Assign:
    """``name = value`` (the variable keeps its type)."""

    name: str
    value: Expr

    def lines(self, ind: str) -> list[str]:
        return [f"{ind}{self.name} = {self.value.src()}"]

    def run(self, env: dict) -> None:
        v = self.value.eval(env)
        env[self.name] = to_f(v) if isinstance(env[self.name], F) else v


@dataclass
class If:
    """``if cond: then else: orelse``."""

    cond: Expr
    then: list
    orelse: list

    def lines(self, ind: str) -> list[str]:
        out = [f"{ind}if {self.cond.src()}:", *block_lines(self.then, ind + "    ")]
        if self.orelse:
            out += [f"{ind}else:", *block_lines(self.orelse, ind + "    ")]
        return out

    def run(self, env: dict) -> None:
        run_block(self.then if self.cond.eval(env) else self.orelse, env)


@dataclass
class For:
    """``for k in range(n)``: n a literal 0..4 or ``(e % 4)``."""

    var: str
    count: int | Expr
    body: list

    def lines(self, ind: str) -> list[str]:
        n = self.count if isinstance(self.count, int) else f"{self.count.src()} % 4"
        return [f"{ind}for {self.var} in range({n}):", *block_lines(self.body, ind + "    ")]

    def run(self, env: dict) -> None:
        n = self.count if isinstance(self.count, int) else self.count.eval(env) % 4
        for k in range(n):
            env[self.var] = k
            try:
                run_block(self.body, env)
            except BreakLoop:
                return


@dataclass
class While:
    """``w = 0; while w < limit and cond: body; w += 1`` (limit a literal or ``e % 6``)."""

    var: str
    limit: int | Expr
    cond: Expr | None
    body: list

    def lines(self, ind: str) -> list[str]:
        lim = self.limit if isinstance(self.limit, int) else f"({self.limit.src()} % 6)"
        test = f"{self.var} < {lim}" + (f" and {self.cond.src()}" if self.cond else "")
        return [f"{ind}{self.var} = 0", f"{ind}while {test}:",
                *block_lines(self.body, ind + "    "), f"{ind}    {self.var} += 1"]

    def run(self, env: dict) -> None:
        env[self.var] = 0
        while True:
            lim = self.limit if isinstance(self.limit, int) else self.limit.eval(env) % 6
            go = env[self.var] < lim
            if self.cond is not None:
                c = self.cond.eval(env)  # evaluated (for ambiguity) even when short-circuited
                go = go and c
            if not go:
                return
            if env[self.var] > 6:
                raise LoopCap(self.var)
            try:
                run_block(self.body, env)
            except BreakLoop:
                return
            env[self.var] += 1


def block_lines(stmts: list, ind: str) -> list[str]:
    """Source lines of a block (``pass`` when empty)."""
    out = [line for s in stmts for line in s.lines(ind)]
    return out or [f"{ind}pass"]


def run_block(stmts: list, env: dict) -> None:
    """Run a block of statements on one thread's environment."""
    for s in stmts:
        s.run(env)


# ---- whole kernels -------------------------------------------------------------------

INT_VARS = ("p", "q", "r")
FLOAT_VARS = ("u", "v", "w")
HEADER = ("import warpforge as wf\n\n\n@wf.kernel\n"
          "def {name}(a: wf.i32[:], b: wf.i32[:], x: wf.f32[:], y: wf.f32[:], "
          "out_i: wf.i32[:], out_f: wf.f32[:]):\n"
          "    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x\n")
INIT = {"p": "a[i]", "q": "b[i]", "r": "a[i] ^ b[i]", "u": "x[i]", "v": "y[i]",
        "w": "x[i] * y[i]"}


@dataclass
class Kernel:
    """A generated kernel: its statements over the variables INT_VARS and FLOAT_VARS."""

    body: list
    counters: list[str] = field(default_factory=list)

    def source(self, name: str) -> str:
        """The module's source text, defining ``@wf.kernel`` function ``name``."""
        lines = [f"    {v} = {INIT[v]}" for v in INT_VARS + FLOAT_VARS]
        lines += [f"    {c} = 0" for c in self.counters]
        lines += block_lines(self.body, "    ")
        lines += [f"    out_i[i * {len(INT_VARS)} + {k}] = {v}" for k, v in enumerate(INT_VARS)]
        lines += [f"    out_f[i * {len(FLOAT_VARS)} + {k}] = {v}"
                  for k, v in enumerate(FLOAT_VARS)]
        return HEADER.format(name=name) + "\n".join(lines) + "\n"

    def reference(self, i: int, a: int, b: int, x: np.float32, y: np.float32
                  ) -> tuple[list[int], list[F]]:
        """Thread ``i``'s outputs (raises :class:`Ambiguous`)."""
        env: dict = {"i": i, "p": a, "q": b, "r": wrap(a ^ b), "u": F(x), "v": F(y)}
        env["w"] = fbinary("*", F(x), F(y))
        env.update({c: 0 for c in self.counters})
        run_block(self.body, env)
        return [env[v] for v in INT_VARS], [env[v] for v in FLOAT_VARS]


def reference_outputs(kernel: Kernel, a, b, x, y):
    """Per-thread reference: (int outputs [T, 3], float values [T, 3], float error bounds
    [T, 3], mask of unambiguous threads [T])."""
    t = len(a)
    oi = np.zeros((t, len(INT_VARS)), np.int64)
    of = np.zeros((t, len(FLOAT_VARS)), np.float32)
    oe = np.zeros((t, len(FLOAT_VARS)), np.float64)
    ok = np.zeros(t, bool)
    for k in range(t):
        try:
            ints, floats = kernel.reference(k, int(a[k]), int(b[k]), x[k], y[k])
        except Ambiguous:
            continue
        ok[k] = True
        oi[k] = ints
        of[k] = [f.v for f in floats]
        oe[k] = [f.e for f in floats]
    return oi, of, oe, ok
