"""The compiled subset (``simulator/timing/jit.py``) computes what Python computes: random
integer expressions, loops with break and continue, floats, and the errors Python raises."""

from __future__ import annotations

import importlib.util
import itertools
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.simulator.timing import native as engine_source
from warpforge.simulator.timing.jit import JitError, native

_COUNTER = itertools.count()


def load(tmp_path, source: str, name: str = "f"):
    """The function ``name`` of ``source``, imported from a file (the compiler reads
    the source back)."""
    path = tmp_path / f"jit_{next(_COUNTER)}.py"
    path.write_text("import math\n\nfrom warpforge.simulator.timing.jit import Floats, "
                    "Ints\n\n\n" + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def outcome(fn, *args):
    """(the exception type, or None) and the arrays after ``fn(*args)``."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        fn(*args)
        error = None
    except (IndexError, ZeroDivisionError) as err:
        error = type(err)
    return error, [a for a in args if isinstance(a, np.ndarray)]


def same(fn, *args) -> None:
    py_error, py_arrays = outcome(fn, *args)
    nat_error, nat_arrays = outcome(native(fn), *args)
    assert nat_error == py_error
    if py_error is None:
        for p, n in zip(py_arrays, nat_arrays, strict=True):
            np.testing.assert_array_equal(n, p)


LEAF = st.one_of(st.sampled_from(["x", "y", "z", "v[i]"]), st.integers(-100, 100).map(str))
BINARY = ["+", "-", "*", "//", "%", "&", "|", "^"]


def expressions(depth: int = 3):
    """Integer expressions of the subset, as source, at most ``depth`` operators deep."""
    if depth == 0:
        return LEAF
    sub = expressions(depth - 1)
    return st.one_of(
        LEAF,
        st.tuples(sub, st.sampled_from(BINARY), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        sub.map(lambda e: f"abs({e})"),
        sub.map(lambda e: f"(-{e})"),
        st.tuples(sub, st.sampled_from(["<", "<=", "==", "!="]), sub, sub, sub).map(
            lambda t: f"({t[3]} if {t[0]} {t[1]} {t[2]} else {t[4]})"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} if {t[1]} > 0 and {t[2]} < 5 "
                                               "else 7)"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(expr=expressions(), x=st.integers(-100, 100), y=st.integers(-100, 100),
       z=st.integers(-100, 100), i=st.integers(-1, 3))
def test_random_integer_expressions_agree_with_python(tmp_path_factory, expr, x, y, z, i):
    fn = load(tmp_path_factory.mktemp("jit"), f"""
        def f(v: Ints, out: Ints, x: int, y: int, z: int, i: int) -> None:
            out[0] = {expr}
        """)
    v = np.array([3, -7, 0, 12], np.int64)
    # Python would wrap v[-1]; the subset raises instead: compare only in-range indices
    same(fn, v, np.zeros(1, np.int64), x, y, z, max(i, 0))


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.integers(-50, 50), min_size=0, max_size=40),
       limit=st.integers(-5, 200))
def test_loops_with_break_and_continue_agree_with_python(tmp_path_factory, data, limit):
    fn = load(tmp_path_factory.mktemp("jit"), """
        def f(a: Ints, out: Ints, n: int, limit: int) -> None:
            total = 0
            odd = 0
            for i in range(n):
                if a[i] % 2 != 0:
                    odd += 1
                    continue
                total += a[i] // 3
                if total > limit:
                    break
            k = 0
            while k < n and a[k] != 0:
                k += 1
            for j in range(n - 1, -1, -2):
                out[3] += j * a[j]
            out[0] = total
            out[1] = odd
            out[2] = k
        """)
    a = np.array(data, np.int64)
    same(fn, a, np.zeros(4, np.int64), len(data), limit)


def test_floats_follow_python(tmp_path):
    fn = load(tmp_path, """
        def f(a: Floats, out: Floats, n: int, scale: float) -> None:
            acc: float = 0
            for i in range(n):
                acc = max(acc, float(i)) + a[i] / scale
            out[0] = acc
            out[1] = math.ceil(acc)
            out[2] = math.floor(-acc)
            out[3] = int(-acc)
            out[4] = min(3, acc, 2.5)
            out[5] = abs(-acc) if acc > 1 else -1.0
        """)
    a = np.array([0.5, 1.25, -3.0, 7.75, 1e-3], np.float64)
    same(fn, a, np.zeros(6), a.size, 3.0)
    same(fn, a, np.zeros(6), a.size, -0.7)


def test_an_index_outside_an_array_is_an_index_error_at_its_line(tmp_path):
    fn = load(tmp_path, """
        def f(a: Ints, n: int) -> None:
            for i in range(n):
                a[i] = i
        """)
    a = np.zeros(4, np.int64)
    native(fn)(a, 4)
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    with pytest.raises(IndexError, match=r"jit_\d+\.py, line 9, in f"):
        native(fn)(a, 5)


def test_a_negative_index_is_an_index_error(tmp_path):
    fn = load(tmp_path, """
        def f(a: Ints, i: int) -> None:
            a[0] = a[i]
        """)
    with pytest.raises(IndexError):
        native(fn)(np.arange(3, dtype=np.int64), -1)


@pytest.mark.parametrize("body", ["out[0] = x // y", "out[0] = x % y",
                                  "out[0] = float(x) / y"])
def test_a_division_by_zero_raises_as_in_python(tmp_path, body):
    fn = load(tmp_path, f"""
        def f(out: Floats, x: int, y: int) -> None:
            {body}
        """)
    with pytest.raises(ZeroDivisionError):
        fn(np.zeros(1), 7, 0)
    with pytest.raises(ZeroDivisionError, match="line 8, in f"):
        native(fn)(np.zeros(1), 7, 0)


@pytest.mark.parametrize(("body", "message"), [
    ("xs = [1, 2]", "List is outside the compiled subset"),
    ("n = 1.5", "a float where an int is wanted"),
    ("for i in a: pass", "for name in range"),
    ("a = 3", "cannot be rebound"),
    ("n = q + 1", "'q' is used before it is assigned"),
])
def test_source_outside_the_subset_is_a_jit_error_at_its_line(tmp_path, body, message):
    fn = load(tmp_path, f"""
        def f(a: Ints, n: int) -> None:
            a[0] = n
            {body}
        """)
    with pytest.raises(JitError, match=message) as err:
        native(fn).compile()
    assert err.value.lineno == 9


def test_the_decorator_form_compiles_and_defaults_are_refused(tmp_path):
    fn = load(tmp_path, """
        from warpforge.simulator.timing.jit import native

        @native
        def f(a: Ints, n: int) -> None:
            a[0] = n * 2
        """)
    a = np.zeros(1, np.int64)
    fn(a, 21)
    assert a[0] == 42 and fn.python is not fn
    bad = load(tmp_path, """
        def g(a: Ints, n: int = 3) -> None:
            a[0] = n
        """, "g")
    with pytest.raises(JitError, match="plain positional parameters"):
        native(bad).compile()


def test_arrays_of_the_wrong_type_are_refused(tmp_path):
    fn = native(load(tmp_path, """
        def f(a: Ints) -> None:
            a[0] = 1
        """))
    for bad in (np.zeros(2, np.int32), np.zeros((2, 2), np.int64), [0, 0],
                np.zeros(4, np.int64)[::2]):
        with pytest.raises(TypeError, match="one-dimensional contiguous int64"):
            fn(bad)


def test_the_engine_source_runs_the_same_compiled_and_as_python():
    """The engine's own function, compiled and interpreted, on a tiny launch (the full
    comparison against the array engine is in test_engines_agree)."""
    from warpforge.simulator.timing import engine

    @wf.kernel
    def chain(x: wf.f32[:], n: wf.i32):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        v = x[i]
        for _ in range(n):
            v = v * 1.5 + 0.25
        x[i] = v

    results = []
    for name in ("native", "python"):
        old = engine.ENGINE
        engine.ENGINE = name
        try:
            x = np.ones(96, np.float32)
            with wf.device(wf.Simulator("test", sample=None)):
                res = chain[3, 32](x, 5)
        finally:
            engine.ENGINE = old
        results.append((res.cycles, res.timing.stats["stall_cycles"], x.tobytes()))
    assert results[0] == results[1]
    assert engine_source.compiled.python is engine_source.run
