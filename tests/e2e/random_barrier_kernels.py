"""Random i32 kernels with shared memory and barriers, for the simulator-against-CPU
differential test: a hypothesis strategy that writes the kernel's DSL source text.

Shape: each thread starts from ``v = a[g]``, ``w = b[g]``, ``z = t`` and a ``keep`` value
that is only ever read; every shared array is filled (each thread its own slot) and a
barrier passed before anything else, so no slot is ever read uninitialized. Then comes a
random mix of *plain* statements (arithmetic, divergent ``if``, ``for`` and ``while`` on
thread data, ``if c: break``), and CTA-level statements that hold barriers: uniform
``for``/``while`` loops and uniform ``if``s (on the ``rounds`` parameter, loop counters
and ``wf.block_idx.x``) with uniform ``break``/``continue``, tree reductions with a
halving uniform ``while``, one early ``return`` (of the threads ``t >= LIVE`` or on a
data-dependent condition) that later barriers no longer wait for, and *exchanges*::

    <write phase: each thread writes its own slot, or its image under a permutation>
    wf.syncthreads()
    <read phase: reads of any slots, maybe divergent; no writes>
    wf.syncthreads()

Race freedom by construction: shared memory is touched only in write phases, read
phases and tree steps. Every exchange and every tree step ends with a barrier, so
between two consecutive barriers (in any execution order of the loops) there is at most
one write phase, whose thread writes distinct slots and reads only those it writes, or
one read phase, or one tree step (thread ``t < width`` reads ``t`` and ``t + width`` and
writes ``t``; no slot read by one thread is written by another). Threads that returned
early leave their slots as they were, which every reader then sees the same way.

Arithmetic is i32 only: wrap-around ``+ - *``, ``& | ^``, ``min``/``max``, shifts by
constants, ``//`` and ``%`` by positive literals, conditional expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from .random_kernels import INT_MAX

OPS = ("+", "-", "*", "&", "|", "^", "min", "max")
LITS = (0, 1, 2, 3, 5, 7, 31, 100, -1, -5, -9, 65535, INT_MAX, -INT_MAX)
DIVISORS = (1, 2, 3, 4, 7, 8, 16, 1000)
CMPS = ("<", "<=", ">", ">=", "==", "!=")
VARS = ("v", "w", "z")
"""The per-thread variables the kernel assigns and writes out."""
BLOCKS = (32, 64, 96, 128, 40, (16, 4), (8, 8), (32, 2), (12, 4))
"""Block shapes: 1-D sizes and 2-D (x, y) shapes (40 and 12 x 4: partial lane groups)."""


@dataclass(frozen=True)
class Shared:
    """A shared array: its name and shape ((B,) or (R, C) with R * C == B)."""

    name: str
    shape: tuple[int, ...]

    def slot(self, index: str) -> str:
        """The element of linear ``index`` (an expression in 0..B-1)."""
        if len(self.shape) == 1:
            return f"{self.name}[{index}]"
        cols = self.shape[1]
        return f"{self.name}[({index}) // {cols}, ({index}) % {cols}]"


@dataclass
class BarrierKernel:
    """A generated kernel: its source, launch shape and number of outputs per thread."""

    source: str
    grid: int
    block: int | tuple[int, int]
    threads: int
    outputs: int = len(VARS) + 1


class _Gen:
    """One kernel's generation state (the hypothesis ``draw`` and fresh names)."""

    def __init__(self, draw, threads: int, arrays: list[Shared]):
        self.draw = draw
        self.b = threads
        self.arrays = arrays
        self.fresh = 0
        self.returned = False

    def name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    # ---- expressions --------------------------------------------------------------

    def leaf(self, scope: tuple[str, ...], literal: bool = True) -> str:
        if literal and self.chance(4):
            return repr(self.pick(LITS))
        return self.pick(scope)

    def expr(self, scope: tuple[str, ...], depth: int = 2) -> str:
        if depth <= 0 or self.chance(4):
            return self.leaf(scope)
        kind = self.pick(("bin", "bin", "bin", "shift", "div", "select"))
        if kind == "bin":
            left = self.expr(scope, depth - 1)
            right = self.expr(scope, depth - 1)
            if left.lstrip("-").isdigit() and right.lstrip("-").isdigit():
                right = self.leaf(scope, literal=False)
            op = self.pick(OPS)
            return f"{op}({left}, {right})" if op in ("min", "max") else f"({left} {op} {right})"
        operand = self.expr(scope, depth - 1)
        if operand.lstrip("-").isdigit():
            operand = self.leaf(scope, literal=False)
        if kind == "shift":
            return f"({operand} {self.pick(('<<', '>>'))} {self.draw(st.integers(0, 31))})"
        if kind == "div":
            return f"({operand} {self.pick(('//', '%'))} {self.pick(DIVISORS)})"
        return f"({operand} if {self.cond(scope, 0)} else {self.expr(scope, depth - 1)})"

    def cond(self, scope: tuple[str, ...], depth: int = 1) -> str:
        if depth > 0 and self.chance(4):
            op = self.pick(("and", "or", "not"))
            if op == "not":
                return f"(not {self.cond(scope, depth - 1)})"
            return f"({self.cond(scope, depth - 1)} {op} {self.cond(scope, depth - 1)})"
        left = self.expr(scope, 1)
        if left.lstrip("-").isdigit():
            left = self.leaf(scope, literal=False)
        return f"({left} {self.pick(CMPS)} {self.expr(scope, 1)})"

    def index(self, scope: tuple[str, ...]) -> str:
        """A linear shared index in 0..B-1, maybe data dependent."""
        b = self.b
        k = self.draw(st.integers(0, b - 1))
        return self.pick((f"(t + {k}) % {b}", f"{b - 1} - t", f"(t ^ {k}) % {b}",
                          f"(t * {self.pick((3, 5, 7, 13))} + {k}) % {b}", "t // 2", str(k),
                          f"{self.pick(scope)} % {b}", f"({self.expr(scope, 1)}) % {b}"))

    def permuted(self) -> str:
        """A permutation of 0..B-1 applied to ``t`` (distinct slots for distinct threads)."""
        b = self.b
        return self.pick(("t", "t", f"(t + {self.draw(st.integers(1, b - 1))}) % {b}",
                          f"{b - 1} - t"))

    # ---- plain statements (no barriers, no shared memory) ---------------------------

    def plain(self, scope: tuple[str, ...], ind: str, depth: int, in_loop: bool = False
              ) -> list[str]:
        out = []
        for _ in range(self.draw(st.integers(1, 3))):
            kinds = ("assign", "assign", "if", "for", "while") if depth > 0 else ("assign",)
            kind = self.pick(kinds + (("break",) if in_loop else ()))
            if kind == "assign":
                out.append(f"{ind}{self.pick(VARS)} = {self.expr(scope, 3)}")
            elif kind == "break":
                out += [f"{ind}if {self.cond(scope)}:", f"{ind}    break"]
            elif kind == "if":
                out.append(f"{ind}if {self.cond(scope)}:")
                out += self.plain(scope, ind + "    ", depth - 1, in_loop)
                if self.chance(2):
                    out.append(f"{ind}else:")
                    out += self.plain(scope, ind + "    ", depth - 1, in_loop)
            elif kind == "for":
                j = self.name("j")
                out.append(f"{ind}for {j} in range({self.expr(scope, 1)} % 4):")
                out += self.plain((*scope, j), ind + "    ", depth - 1, True)
            else:
                n = self.name("n")
                out += [f"{ind}{n} = 0", f"{ind}while {n} < ({self.expr(scope, 1)}) % 5:"]
                out += self.plain(scope, ind + "    ", depth - 1, True)
                out.append(f"{ind}    {n} += 1")
        return out

    # ---- phases that touch shared memory ----------------------------------------------

    def write_phase(self, scope: tuple[str, ...], ind: str) -> list[str]:
        out = []
        for arr in self.arrays:
            if len(self.arrays) > 1 and self.chance(2):
                continue
            store = f"{arr.slot(self.permuted())} = {self.expr(scope, 2)}"
            if self.chance(3):
                # A divergent write of the thread's own slot (others keep their value).
                out += [f"{ind}if {self.cond(scope)}:", f"{ind}    {arr.slot('t')} = "
                        f"{self.expr(scope, 2)}"]
            else:
                out.append(f"{ind}{store}")
        return out or [f"{ind}{self.arrays[0].slot('t')} = {self.expr(scope, 2)}"]

    def read(self, scope: tuple[str, ...], index_scope: tuple[str, ...]) -> str:
        arr = self.pick(self.arrays)
        op = self.pick(OPS)
        var = self.pick(VARS)
        got = arr.slot(self.index(index_scope))
        if op in ("min", "max"):
            return f"{var} = {op}({var}, {got})"
        return f"{var} = {var} {op} {got}"

    def read_phase(self, scope: tuple[str, ...], ind: str) -> list[str]:
        out = []
        for _ in range(self.draw(st.integers(1, 3))):
            kind = self.pick(("read", "read", "if", "loop", "plain"))
            if kind == "read":
                out.append(ind + self.read(scope, scope))
            elif kind == "if":
                out += [f"{ind}if {self.cond(scope)}:", ind + "    " + self.read(scope, scope)]
            elif kind == "loop":
                j = self.name("j")
                out += [f"{ind}for {j} in range({self.expr(scope, 1)} % 3):",
                        ind + "    " + self.read(scope, (*scope, j))]
            else:
                out += self.plain(scope, ind, 1)
        return out

    # ---- CTA-level statements ---------------------------------------------------------

    def exchange(self, scope: tuple[str, ...], ind: str) -> list[str]:
        return [*self.write_phase(scope, ind), f"{ind}wf.syncthreads()",
                *self.read_phase(scope, ind), f"{ind}wf.syncthreads()"]

    def tree(self, scope: tuple[str, ...], ind: str) -> list[str]:
        """A tree reduction into slot 0 of a shared array, then everyone reads slot 0."""
        arr = self.pick(self.arrays)
        width = self.name("width")
        op = self.pick(("+", "^", "max", "min", "|"))
        here, there = arr.slot("t"), arr.slot(f"t + {width}")
        combined = (f"{op}({here}, {there})" if op in ("min", "max")
                    else f"{here} {op} {there}")
        return [f"{ind}{here} = {self.expr(scope, 2)}",
                f"{ind}wf.syncthreads()",
                f"{ind}{width} = {self.b // 2}",
                f"{ind}while {width} > 0:",
                f"{ind}    if t < {width}:",
                f"{ind}        {here} = {combined}",
                f"{ind}    wf.syncthreads()",
                f"{ind}    {width} = {width} // 2",
                f"{ind}{self.pick(VARS)} = {self.pick(VARS)} ^ {arr.slot('0')}",
                f"{ind}wf.syncthreads()"]

    def uniform_cond(self, counters: tuple[str, ...]) -> str:
        options = [f"rounds > {self.draw(st.integers(0, 3))}", "wf.block_idx.x == 1",
                   "wf.block_idx.x != 0 and rounds >= 2"]
        options += [f"{c} % 2 == 0" for c in counters]
        options += [f"{c} < rounds - 1" for c in counters]
        return self.pick(options)

    def cta(self, scope: tuple[str, ...], counters: tuple[str, ...], ind: str, depth: int,
            loop: str | None = None) -> list[str]:
        """A block of CTA-level statements (at least one barrier) mixed with plain ones;
        ``loop`` is the innermost enclosing CTA-level loop's kind ("for", "while")."""
        out = []
        for _ in range(self.draw(st.integers(1, 3))):
            kinds = ["exchange", "exchange", "plain"]
            if depth > 0:
                kinds += ["for", "while", "if", "tree"]
            if not self.returned:
                kinds.append("return")
            if loop is not None:
                kinds.append("jump")
            kind = self.pick(kinds)
            if kind == "exchange":
                out += self.exchange(scope, ind)
            elif kind == "plain":
                out += self.plain(scope, ind, 2)
            elif kind == "tree":
                out += self.tree(scope, ind)
            elif kind == "jump":
                # A uniform break (or continue: only in a ``for``, a ``while`` would skip
                # its counter's increment).
                jump = self.pick(("break", "continue") if loop == "for" else ("break",))
                out += [f"{ind}if {self.uniform_cond(counters)}:", f"{ind}    {jump}"]
            elif kind == "return":
                self.returned = True
                live = self.draw(st.integers(1, self.b - 1))
                cond = self.pick((f"t >= {live}", self.cond(scope)))
                out += [f"{ind}if {cond}:", f"{ind}    return"]
            elif kind == "for":
                r = self.name("r")
                count = self.pick(("rounds", "2", "rounds + 1", "3 - rounds"))
                out.append(f"{ind}for {r} in range({count}):")
                out += self.cta((*scope, r), (*counters, r), ind + "    ", depth - 1, "for")
            elif kind == "while":
                step = self.name("step")
                limit = self.pick(("rounds", "2", f"rounds + {self.draw(st.integers(0, 2))}"))
                out += [f"{ind}{step} = 0", f"{ind}while {step} < {limit}:"]
                out += self.cta((*scope, step), (*counters, step), ind + "    ", depth - 1,
                                "while")
                out.append(f"{ind}    {step} += 1")
            else:
                out.append(f"{ind}if {self.uniform_cond(counters)}:")
                out += self.cta(scope, counters, ind + "    ", depth - 1, loop)
                if self.chance(2):
                    out.append(f"{ind}else:")
                    out += self.cta(scope, counters, ind + "    ", depth - 1, loop)
        if not any(line.strip() == "wf.syncthreads()" for line in out):
            out += self.exchange(scope, ind)
        return out


@st.composite
def barrier_kernels(draw, name: str = "kern") -> BarrierKernel:
    """A random kernel ``name(a, b, out, rounds)`` with shared memory and barriers
    (module source text) and the launch shape to run it with."""
    block = draw(st.sampled_from(BLOCKS))
    b = block if isinstance(block, int) else block[0] * block[1]
    shapes = [(b,)] + [(b // c, c) for c in (4, 8, 16, 32) if b % c == 0 and b > c]
    arrays = [Shared(f"s{k}", draw(st.sampled_from(shapes)))
              for k in range(draw(st.integers(1, 2)))]
    gen = _Gen(draw, b, arrays)
    lines = ["import warpforge as wf", "", "", "@wf.kernel",
             f"def {name}(a: wf.i32[:], b: wf.i32[:], out: wf.i32[:], rounds: wf.i32):"]
    lines += [f"    {arr.name} = wf.shared({arr.shape}, wf.i32)" for arr in arrays]
    if isinstance(block, int):
        lines.append("    t = wf.thread_idx.x")
    else:
        lines.append(f"    t = wf.thread_idx.y * {block[0]} + wf.thread_idx.x")
    lines += [f"    g = wf.block_idx.x * {b} + t", "    v = a[g]", "    w = b[g]", "    z = t"]
    scope = ("v", "w", "z", "t", "g", "keep")
    lines.append(f"    keep = {gen.expr(('v', 'w', 'z', 't', 'g'), 2)}")
    lines += gen.plain(scope, "    ", 1)
    lines += [f"    {arr.slot('t')} = {gen.expr(scope, 1)}" for arr in arrays]
    lines.append("    wf.syncthreads()")
    lines += gen.cta(scope, (), "    ", 2)
    lines += gen.plain(scope, "    ", 1)
    lines += [f"    out[g * 4 + {k}] = {var}" for k, var in enumerate(VARS)]
    lines.append(f"    out[g * 4 + 3] = {gen.expr(scope, 2)}")
    return BarrierKernel("\n".join(lines) + "\n", draw(st.integers(2, 3)), block, b)
