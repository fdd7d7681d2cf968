"""Random kernels over f64, i64 and f16: the simulator, the CPU and numpy must agree.

Hypothesis draws an expression tree over two input arrays and small constants, renders it
as a kernel (one output element per thread), and runs it on both devices; numpy evaluates
the same tree on whole arrays. Semantics compared: i64 wraps, ``//`` and ``%`` floor (the
divisor made nonzero first), shifts by 0..63; f64 and f16 round every operation once (f16
arithmetic is f32 arithmetic rounded back, exactly what numpy's float16 does). Division and
square root on the simulator are Newton sequences that may be one ulp off, so f64 compares
within 4 ulps; i64 and f16 compare bit for bit."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warpforge as wf

N = 96
_names = itertools.count()

INT_BINARY = ["+", "-", "*", "//", "%", "&", "|", "^", "min", "max", "<<", ">>"]
FLOAT_BINARY = ["+", "-", "*", "/", "min", "max"]


def expression(kind: str, depth: int):
    """A strategy of expression source text for ``kind`` "i" or "f" over ``a``, ``b`` and
    typed constants (``T(k)``, where the kernel binds T to its type)."""
    leaves = st.sampled_from(["a", "b"]) | st.integers(-9, 9).map(lambda k: f"T({k})")
    if depth == 0:
        return leaves
    sub = expression(kind, depth - 1)
    ops = INT_BINARY if kind == "i" else FLOAT_BINARY
    binary = st.tuples(st.sampled_from(ops), sub, sub).map(lambda t: render_binary(kind, *t))
    unary = st.tuples(st.sampled_from(["-", "abs"] + (["sqrt"] if kind == "f" else [])),
                      sub).map(lambda t: render_unary(*t))
    choose = st.tuples(st.sampled_from(["<", "<=", "==", "!="]), sub, sub, sub, sub).map(
        lambda t: f"({t[3]} if {t[1]} {t[0]} {t[2]} else {t[4]})")
    return leaves | binary | unary | choose


def render_binary(kind: str, op: str, x: str, y: str) -> str:
    if op in ("min", "max"):
        return f"{op}({x}, {y})"
    if op in ("//", "%"):
        return f"({x} {op} nonzero({y}))" if kind == "i" else f"({x} {op} {y})"
    if op in ("<<", ">>"):
        return f"({x} {op} ({y} & 63))"
    if op == "/":
        return f"({x} / nonzero({y}))"
    return f"({x} {op} {y})"


def render_unary(op: str, x: str) -> str:
    if op == "sqrt":
        return f"wf.sqrt(abs({x}))"
    return f"(-{x})" if op == "-" else f"abs({x})"


TYPES = {"i64": ("i", np.int64), "f64": ("f", np.float64), "f16": ("f", np.float16)}


def source(dtype: str, expr: str) -> str:
    zero = "0" if TYPES[dtype][0] == "i" else "0.0"
    return f'''
import warpforge as wf


T = wf.{dtype}


@wf.func
def nonzero(v):
    return v if v != {zero} else v + 1


@wf.kernel
def kern(a: wf.{dtype}[:], b: wf.{dtype}[:], out: wf.{dtype}[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < out.size:
        out[i] = wf.{dtype}(evaluate(a[i], b[i]))


@wf.func
def evaluate(a, b):
    return {expr}
'''


def numpy_eval(dtype: str, expr: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The expression on whole arrays with numpy in ``dtype`` (constants take it too)."""
    t = TYPES[dtype][1]
    out = np.empty_like(a)
    with np.errstate(all="ignore"):
        for k in range(a.size):
            x, y = a[k], b[k]
            env = {"a": x, "b": y, "min": min, "max": max, "abs": abs, "np": np, "T": t,
                   "nonzero": lambda v: v if v != 0 else v + t(1),
                   "wf": _NumpyWf(t)}
            value = eval(expr, env)
            out[k] = t(value)
    return out


class _NumpyWf:
    def __init__(self, t):
        self.t = t

    def sqrt(self, v):
        return self.t(np.sqrt(v))


def load(folder, text: str):
    stem = f"wide_generated_{next(_names)}"
    path = folder / f"{stem}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.kern


def inputs(dtype: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kind, t = TYPES[dtype]
    if kind == "i":
        big = rng.integers(-2**62, 2**62, N)
        small = rng.integers(-1000, 1000, N)
        return big.astype(t), np.where(np.arange(N) % 2 == 0, small, big).astype(t)
    return (rng.standard_normal(N) * 8).astype(t), (rng.standard_normal(N) * 3).astype(t)


def compare(dtype: str, got: np.ndarray, want: np.ndarray, where: str) -> None:
    if dtype == "f64":
        both_nan = np.isnan(got) & np.isnan(want)
        ok = both_nan | (got == want) | (np.abs(got - want) <= 4 * np.spacing(np.abs(want)))
        assert ok.all(), (where, got[~ok][:4], want[~ok][:4])
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


def check(tmp_path, dtype: str, expr: str, seed: int) -> None:
    kernel = load(tmp_path, source(dtype, expr))
    a, b = inputs(dtype, seed)
    want = numpy_eval(dtype, expr, a, b)
    for dev in (wf.Simulator(arch="test"), wf.CPU(threads=2, checked=True)):
        out = np.zeros(N, TYPES[dtype][1])
        kernel.launch(2, 64, a, b, out, device=dev)
        compare(dtype, out, want, f"{expr} on {dev}")


SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(expr=expression("i", 3), seed=st.integers(0, 2**16))
def test_random_i64_kernels_agree(tmp_path, expr, seed):
    check(tmp_path, "i64", expr, seed)


@SETTINGS
@given(expr=expression("f", 3), seed=st.integers(0, 2**16))
def test_random_f64_kernels_agree(tmp_path, expr, seed):
    check(tmp_path, "f64", expr, seed)


@SETTINGS
@given(expr=expression("f", 2), seed=st.integers(0, 2**16))
def test_random_f16_kernels_agree(tmp_path, expr, seed):
    check(tmp_path, "f16", expr, seed)
