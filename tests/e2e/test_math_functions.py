"""Every math function on both devices, f32 and f64, against Python's ``math`` in double
precision: the accuracy ``compiler/passes/mathlib.py`` states for the simulator's
sequences (the CPU calls the C library, tighter still)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import warpforge as wf

N = 512
UNARY = {  # name: (domain, f32 relative tolerance, f32 absolute tolerance)
    "exp": ((-20, 20), 2e-6, 0), "log": ((1e-3, 1e4), 2e-6, 1e-7),
    "sqrt": ((0, 1e4), 1e-7, 0), "sin": ((-10, 10), 0, 2e-6), "cos": ((-10, 10), 0, 2e-6),
    "exp2": ((-30, 30), 2e-6, 0), "log2": ((1e-3, 1e4), 2e-6, 1e-7),
    "log10": ((1e-3, 1e4), 2e-6, 1e-7), "tan": ((-1.4, 1.4), 2e-5, 1e-6),
    "tanh": ((-6, 6), 2e-6, 1e-7), "sinh": ((-8, 8), 2e-6, 1e-7),
    "cosh": ((-8, 8), 2e-6, 0), "asin": ((-0.99, 0.99), 2e-6, 1e-7),
    "acos": ((-0.99, 0.99), 2e-6, 1e-7), "atan": ((-50, 50), 2e-6, 1e-7),
    "erf": ((-4, 4), 0, 3e-7), "erfc": ((-1, 4), 0, 3e-7), "cbrt": ((-100, 100), 2e-6, 0),
    "floor": ((-50, 50), 0, 0), "ceil": ((-50, 50), 0, 0), "trunc": ((-50, 50), 0, 0),
}
BINARY = {"pow": ((0.1, 10), (-3, 3), 4e-6), "atan2": ((-5, 5), (-5, 5), 2e-6),
          "hypot": ((-1e3, 1e3), (-1e3, 1e3), 2e-7), "copysign": ((-9, 9), (-9, 9), 0)}
F64_ON_CPU_ONLY = {"erf", "erfc"}
"""f64 functions the simulator's compiler has no sequence for yet."""


def python(name: str):
    return {"exp2": lambda v: 2.0 ** v, "trunc": math.trunc,
            "cbrt": lambda v: math.copysign(abs(v) ** (1 / 3), v)}.get(name) or getattr(math,
                                                                                      name)


def kernel_for(name: str, arity: int, t):
    """A kernel applying ``wf.<name>`` in type ``t`` (both closure values: one build each)."""
    fn = getattr(wf, name)
    if arity == 1:
        @wf.kernel
        def unary(x: wf.f64[:], out: wf.f64[:]):
            i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
            if i < x.size:
                out[i] = fn(t(x[i]))
        return unary

    @wf.kernel
    def binary(x: wf.f64[:], y: wf.f64[:], out: wf.f64[:]):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < x.size:
            out[i] = fn(t(x[i]), t(y[i]))
    return binary


def device(name: str):
    return wf.Simulator(arch="test") if name == "sim" else wf.CPU(threads=2, checked=True)


def typed(values: np.ndarray, dtype) -> np.ndarray:
    return values.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_math_function(name, dtype, dev):
    if dtype == "f64" and dev == "sim" and name in F64_ON_CPU_ONLY:
        with pytest.raises(wf.CompileError, match=f"cannot lower {name} of \\(f64\\)"):
            kernel_for(name, 1, wf.f64).launch(1, 32, np.zeros(32), np.zeros(32),
                                               device=device(dev))
        return
    (lo, hi), rtol, atol = UNARY[name]
    rng = np.random.default_rng(len(name))
    x = typed(rng.uniform(lo, hi, N), np.float32 if dtype == "f32" else np.float64)
    out = np.zeros(N)
    t = wf.f32 if dtype == "f32" else wf.f64
    kernel_for(name, 1, t).launch((N + 127) // 128, 128, x, out, device=device(dev))
    want = np.array([python(name)(v) for v in x], np.float64)
    if dtype == "f64":
        rtol, atol = (1e-13, 1e-15) if rtol or atol else (0, 0)
    np.testing.assert_allclose(out, want, rtol=rtol, atol=atol, err_msg=f"{name} {dtype}")


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_math_function(name, dtype, dev):
    (xl, xh), (yl, yh), rtol = BINARY[name]
    rng = np.random.default_rng(len(name))
    np_t = np.float32 if dtype == "f32" else np.float64
    x, y = typed(rng.uniform(xl, xh, N), np_t), typed(rng.uniform(yl, yh, N), np_t)
    out = np.zeros(N)
    t = wf.f32 if dtype == "f32" else wf.f64
    kernel_for(name, 2, t).launch((N + 127) // 128, 128, x, y, out, device=device(dev))
    want = np.array([python(name)(a, b) for a, b in zip(x, y, strict=True)])
    if dtype == "f64":
        rtol = 1e-13 if rtol else 0
    np.testing.assert_allclose(out, want, rtol=rtol, atol=1e-300, err_msg=f"{name} {dtype}")


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_round_is_to_nearest_even_and_predicates(dev):
    @wf.kernel
    def k(x: wf.f32[:], out: wf.f32[:, :]):
        i = wf.thread_idx.x
        out[0, i] = wf.round(x[i])
        out[1, i] = wf.f32(wf.isnan(x[i])) + 2.0 * wf.f32(wf.isinf(x[i])) \
            + 4.0 * wf.f32(wf.isfinite(x[i]))
        out[2, i] = wf.fmod(x[i], 1.5)
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, np.nan, np.inf, -np.inf, 3.25, -7.0],
                 np.float32)
    out = np.zeros((3, 10), np.float32)
    k.launch(1, 10, x, out, device=device(dev))
    np.testing.assert_array_equal(out[0], np.rint(x))
    np.testing.assert_array_equal(out[1], np.isnan(x) + 2.0 * np.isinf(x) + 4.0 * np.isfinite(x))
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore"):
        want = np.fmod(x, np.float32(1.5))
    np.testing.assert_allclose(out[2][finite], want[finite], atol=1e-6)
