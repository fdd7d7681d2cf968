"""Differential tests of the whole DSL stack: random well-typed kernels, written as Python
source, compiled (frontend -> IR passes -> SASS backend) and run on the simulator (hazard
checker on), against a Python reference evaluation of the same program per thread.

The generator (the strategies below, building ``random_kernels.py``'s program tree)
covers i32 and f32 arithmetic with Python's typing rules (int with float promotes to f32,
``/`` of ints divides in f32), ``//`` and ``%`` floor semantics by guarded divisors of
both signs and by literals, shifts by constants 0..31 and by ``(e & 31)``,
``min``/``max``/``abs``/negation, casts ``wf.f32(i)`` and ``wf.i32(f)`` (operand clamped
to +-1e9), comparisons (int, float and mixed) combined with ``and``/``or``/``not``,
conditional expressions, ``if``/``else``, ``for k in range(n)`` with a literal or
data-dependent ``e % 4`` trip count, ``while`` loops with bounded counters and
data-dependent conditions, and ``if c: break`` in loops, nested two deep.

Tolerance: ints must match bit for bit. A float must equal the reference exactly while
every operation that produced it was exact; otherwise it may differ by the error bound the
reference carries along (``random_kernels.py``): the rounding error of each inexact
product (the backend may contract ``a*b + c`` into one FFMA, which skips that rounding),
2**-20 relative at each division (a reciprocal-based ``/`` is a few ulps off), plus two
ulps per later rounding of an already uncertain value and the first-order propagation of
the operands' bounds. A thread whose control flow or float-to-int cast the bound cannot
decide is not compared (about 2% of threads in practice).
"""

from __future__ import annotations

import importlib.util
import itertools
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import warpforge as wf

from .kernels import six_breaks
from .random_kernels import (
    CMP_OPS,
    FLOAT_OPS,
    FLOAT_VARS,
    INT_MAX,
    INT_MIN,
    INT_OPS,
    INT_VARS,
    Assign,
    Bin,
    Break,
    Cast,
    Cmp,
    Div,
    Expr,
    For,
    If,
    Kernel,
    Lit,
    Logic,
    Select,
    Shift,
    Unary,
    Var,
    While,
    reference_outputs,
)

# ---- hypothesis strategies -----------------------------------------------------------

INT_LITS = (0, 1, 2, 3, 5, 7, 31, 100, -1, -2, -9, 65535, INT_MAX, -INT_MAX)
FLOAT_LITS = (0.0, 0.5, 1.0, 2.0, -1.5, 3.25, 0.1, -0.3, 1024.0)
DIV_LITS = (1, 2, 3, 4, 7, 8, 16, -2, -3, -4, -8, 1000)


@st.composite
def exprs(draw, ty: str, scope: tuple[str, ...], depth: int = 2) -> Expr:
    """An expression of type ``ty`` ("i", "f" or "b") over the names in ``scope`` (the
    int variables, loop counters and ``i``; floats are FLOAT_VARS)."""
    if ty == "b":
        return draw(conds(scope, depth))
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(leaves(ty, scope))
    sub = exprs(ty, scope, depth - 1)
    isub = exprs("i", scope, depth - 1)
    kind = draw(st.sampled_from(
        ("bin", "bin", "bin", "mixed", "unary", "cast", "select", "div", "shift")
        if ty == "i" else ("bin", "bin", "bin", "mixed", "unary", "cast", "select", "div")))
    if kind in ("bin", "mixed"):
        op = draw(st.sampled_from(INT_OPS if ty == "i" else FLOAT_OPS))
        if ty == "f" and kind == "mixed":
            pair = [draw(isub), draw(sub)]
            if draw(st.booleans()):
                pair.reverse()
            left, right = pair
        else:
            left, right = draw(sub), draw(sub)
        if isinstance(left, Lit) and isinstance(right, Lit):
            right = draw(leaves(right.ty, scope, literal=False))
        return Bin(ty, op, left, right)
    if kind == "unary":
        operand = draw(sub)
        if isinstance(operand, Lit):
            operand = draw(leaves(ty, scope, literal=False))
        return Unary(ty, draw(st.sampled_from(("-", "abs"))), operand)
    if kind == "cast":
        operand = draw(exprs("f" if ty == "i" else "i", scope, depth - 1))
        if isinstance(operand, Lit):
            operand = draw(leaves(operand.ty, scope, literal=False))
        return Cast(ty, operand)
    if kind == "select":
        return Select(ty, draw(conds(scope, depth - 1)), draw(sub), draw(sub))
    if kind == "shift":
        operand = draw(sub)
        if isinstance(operand, Lit):
            operand = draw(leaves("i", scope, literal=False))
        amount = draw(st.one_of(st.integers(0, 31), leaves("i", scope, literal=False)))
        return Shift("i", draw(st.sampled_from(("<<", ">>"))), operand, amount)
    # div
    if ty == "f":
        if draw(st.booleans()):
            left = draw(isub)
            if isinstance(left, Lit):
                left = draw(leaves("i", scope, literal=False))
            return Div("f", "/", left, draw(leaves("i", scope, literal=False)))
        return Div("f", "/", draw(sub), draw(leaves("f", scope, literal=False)))
    left = draw(sub)
    if isinstance(left, Lit):
        left = draw(leaves("i", scope, literal=False))
    op = draw(st.sampled_from(("//", "%")))
    if draw(st.booleans()):
        return Div("i", op, left, draw(st.sampled_from(DIV_LITS)))
    return Div("i", op, left, draw(leaves("i", scope, literal=False)), draw(st.booleans()))


@st.composite
def leaves(draw, ty: str, scope: tuple[str, ...], literal: bool = True) -> Expr:
    """A variable of type ``ty`` (or, when ``literal``, sometimes a literal)."""
    if literal and draw(st.integers(0, 3)) == 0:
        return Lit(ty, draw(st.sampled_from(INT_LITS if ty == "i" else FLOAT_LITS)))
    return Var(ty, draw(st.sampled_from(scope if ty == "i" else FLOAT_VARS)))


@st.composite
def conds(draw, scope: tuple[str, ...], depth: int = 1) -> Expr:
    """A bool: a comparison (int, float or mixed), maybe combined with and/or/not."""
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(("and", "or", "not")))
        left = draw(conds(scope, depth - 1))
        return Logic("b", op, left, None if op == "not" else draw(conds(scope, depth - 1)))
    tys = draw(st.sampled_from((("i", "i"), ("f", "f"), ("i", "f"), ("f", "i"))))
    left = draw(exprs(tys[0], scope, max(depth - 1, 0)))
    right = draw(exprs(tys[1], scope, max(depth - 1, 0)))
    if isinstance(left, Lit) and isinstance(right, Lit):
        left = draw(leaves(left.ty, scope, literal=False))
    return Cmp("b", draw(st.sampled_from(tuple(CMP_OPS))), left, right)


@st.composite
def blocks(draw, scope: tuple[str, ...], depth: int, names: list[str],
           in_loop: bool = False) -> list:
    """1..4 statements; ``names`` collects the loop counters created (fresh names);
    ``if c: break`` only ``in_loop``."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = ("assign", "assign", "if", "for", "while") if depth > 0 else ("assign",)
        kind = draw(st.sampled_from(kinds + (("break",) if in_loop else ())))
        if kind == "break":
            out.append(Break(draw(conds(scope, 1))))
        elif kind == "assign":
            ty = draw(st.sampled_from(("i", "f")))
            name = draw(st.sampled_from(INT_VARS if ty == "i" else FLOAT_VARS))
            out.append(Assign(name, draw(exprs(ty, scope, 3))))
        elif kind == "if":
            cond = draw(conds(scope, 1))
            then = draw(blocks(scope, depth - 1, names, in_loop))
            orelse = (draw(blocks(scope, depth - 1, names, in_loop)) if draw(st.booleans())
                      else [])
            out.append(If(cond, then, orelse))
        elif kind == "for":
            var = f"k{len(names)}"
            names.append(var)
            count = draw(st.one_of(st.integers(0, 4), leaves("i", scope, literal=False)))
            out.append(For(var, count, draw(blocks((*scope, var), depth - 1, names, True))))
        else:
            var = f"n{len(names)}"
            names.append(var)
            limit = draw(st.one_of(st.integers(1, 5), leaves("i", scope, literal=False)))
            cond = draw(conds(scope, 0)) if draw(st.booleans()) else None
            out.append(While(var, limit, cond, draw(blocks(scope, depth - 1, names, True))))
    return out


@st.composite
def kernels(draw) -> Kernel:
    """A random kernel of at most two nested levels of control flow."""
    names: list[str] = []
    body = draw(blocks((*INT_VARS, "i"), 2, names))
    return Kernel(body, [n for n in names if n.startswith("n")])


# ---- the differential test ----------------------------------------------------------

BLOCKS, THREADS = 2, 32
T = BLOCKS * THREADS
_names = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder for the generated kernel modules (module-scoped: hypothesis reuses it)."""
    return tmp_path_factory.mktemp("differential")


def load_kernel(folder, source: str, name: str = "kern"):
    """Write ``source`` as a fresh module (a new file name each time, so the frontend's
    ``inspect`` never sees stale text) and return its function ``name``."""
    stem = f"generated_{next(_names)}"
    path = folder / f"{stem}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def launch(kernel, *args) -> None:
    """Run ``kernel`` on BLOCKS x THREADS simulated threads."""
    with wf.device(wf.Simulator(arch="test")):
        kernel[BLOCKS, THREADS](*args)


def random_inputs(seed: int):
    """Per-thread inputs: mostly small ints (some extreme), floats on a 1/4 grid in
    [-16, 16] (sums and small products stay exact) with some inexact ones."""
    rng = np.random.default_rng(seed)
    ints = []
    for _ in range(2):
        v = rng.integers(-40, 41, T)
        wide = rng.random(T) < 0.15
        v[wide] = rng.integers(INT_MIN, INT_MAX, int(wide.sum()), endpoint=True)
        v[rng.random(T) < 0.03] = INT_MIN
        ints.append(v.astype(np.int32))
    floats = []
    for _ in range(2):
        f = (rng.integers(-64, 65, T) / 4).astype(np.float32)
        odd = rng.random(T) < 0.2
        f[odd] = rng.uniform(-100, 100, int(odd.sum())).astype(np.float32)
        floats.append(f)
    return ints[0], ints[1], floats[0], floats[1]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kernel=kernels(), seed=st.integers(0, 2**32 - 1))
def test_random_kernel_matches_reference(workdir, kernel, seed):
    source = kernel.source("kern")
    note(source)
    a, b, x, y = random_inputs(seed)
    out_i = np.zeros(T * len(INT_VARS), np.int32)
    out_f = np.zeros(T * len(FLOAT_VARS), np.float32)
    launch(load_kernel(workdir, source), a, b, x, y, out_i, out_f)
    want_i, want_f, bound, ok = reference_outputs(kernel, a, b, x, y)
    got_i = out_i.reshape(T, -1)[ok]
    got_f = out_f.reshape(T, -1)[ok].astype(np.float64)
    np.testing.assert_array_equal(got_i, want_i[ok])
    err = np.abs(got_f - want_f[ok].astype(np.float64))
    bad = np.argwhere(err > bound[ok])
    assert not len(bad), [(int(np.flatnonzero(ok)[t]), FLOAT_VARS[k], got_f[t, k],
                           want_f[ok][t, k], bound[ok][t, k]) for t, k in bad[:5]]


# ---- deterministic regression cases --------------------------------------------------

KERNEL_HEADER = "import warpforge as wf\n\n\n"


def run_source(workdir, body: str, *args) -> None:
    """Compile the kernel ``body`` (source text of one ``@wf.kernel def kern``) and launch
    it on ``args``."""
    launch(load_kernel(workdir, KERNEL_HEADER + textwrap.dedent(body)), *args)


def test_nested_ifs_take_different_paths_per_thread(workdir):
    a = np.arange(-32, 32, dtype=np.int32) * 3
    out = np.zeros(T, np.int32)
    run_source(workdir, """
        @wf.kernel
        def kern(a: wf.i32[:], out: wf.i32[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            v = a[i]
            if v > 0:
                if v % 2 == 0:
                    r = v // 2
                else:
                    r = 3 * v + 1
            else:
                if v < -30:
                    r = -v
                elif v == 0:
                    r = 77
                else:
                    r = v * v - i
            out[i] = r
        """, a, out)
    idx = np.arange(T)
    want = np.where(a > 0, np.where(a % 2 == 0, a // 2, 3 * a + 1),
                    np.where(a < -30, -a, np.where(a == 0, 77, a * a - idx)))
    np.testing.assert_array_equal(out, want)


def test_data_dependent_while_loop(workdir):
    a = (np.arange(T, dtype=np.int32) * 37) % 1000 - 100
    out = np.zeros(T, np.int32)
    run_source(workdir, """
        @wf.kernel
        def kern(a: wf.i32[:], out: wf.i32[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            v = a[i]
            n = 0
            while v > 0:
                v = v // 3
                n += 1
            out[i] = n * 1000 + v
        """, a, out)
    want = []
    for v in a.tolist():
        n = 0
        while v > 0:
            v //= 3
            n += 1
        want.append(n * 1000 + v)
    np.testing.assert_array_equal(out, np.array(want, np.int32))


def test_for_loop_with_carried_float_accumulator(workdir):
    # Values on a 1/4 grid: every product and sum below is exact in f32, so the result is
    # exact whether or not the multiply-add is contracted into an FFMA.
    a = np.arange(T, dtype=np.int32) - 20
    x = (np.arange(T, dtype=np.float32) - 31) / 4
    out = np.zeros(T, np.float32)
    run_source(workdir, """
        @wf.kernel
        def kern(a: wf.i32[:], x: wf.f32[:], out: wf.f32[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            acc = 0.5
            for k in range(a[i] % 7):
                acc = acc * 0.5 + x[i] * wf.f32(k)
            out[i] = acc
        """, a, x, out)
    want = np.empty(T, np.float32)
    for t in range(T):
        acc = np.float32(0.5)
        for k in range(int(a[t]) % 7):
            acc = acc * np.float32(0.5) + x[t] * np.float32(k)
        want[t] = acc
    np.testing.assert_array_equal(out, want)


def test_floor_division_and_modulo_of_negative_numbers(workdir):
    rng = np.random.default_rng(11)
    a = rng.integers(-50, 51, T).astype(np.int32)
    a[:4] = [INT_MIN, INT_MAX, -1, 0]
    b = rng.integers(-9, 10, T).astype(np.int32)
    b[b == 0] = -7
    b[0] = 3  # INT_MIN // -1 overflows: keep it out
    out = np.zeros((T, 6), np.int32)
    run_source(workdir, """
        @wf.kernel
        def kern(a: wf.i32[:], b: wf.i32[:], out: wf.i32[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            p = a[i]
            q = b[i]
            out[i * 6 + 0] = p // q
            out[i * 6 + 1] = p % q
            out[i * 6 + 2] = p // -3
            out[i * 6 + 3] = p % -3
            out[i * 6 + 4] = p // 8
            out[i * 6 + 5] = p % 8
        """, a, b, out.reshape(-1))
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    want = np.stack([a64 // b64, a64 % b64, a64 // -3, a64 % -3, a64 // 8, a64 % 8], axis=1)
    np.testing.assert_array_equal(out, want.astype(np.int32))


def test_loop_with_six_breaks_compiles():
    """Regression: more live conditions than P0-P6 used to fail to compile; predicates
    now move to general registers when they run out."""
    a = np.arange(-4, 60, dtype=np.int32)
    out = np.zeros(T, np.int32)
    launch(six_breaks, a, out)
    np.testing.assert_array_equal(out, np.where((a >= 1) & (a <= 6), 0, 10))
