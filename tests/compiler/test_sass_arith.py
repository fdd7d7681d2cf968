"""Arithmetic lowering checked on the simulator against numpy / Python: integer division
and modulo (truncating and floor, by constants and variables), f32 division, casts,
min/max/abs/select and the math functions."""

from __future__ import annotations

import numpy as np
import pytest

from .sass_support import build, run

N = 256
OPS = ("div", "rem", "floordiv", "mod")


def _binop_kernel(t: str, ops: tuple[str, ...], const: int | None) -> str:
    lines = [f"kernel @k(%a: array<{t}, 1, global>, %b: array<{t}, 1, global>, "
             + ", ".join(f"%o{k}: array<{t}, 1, global>" for k in range(len(ops))) + ") {",
             "  %t = thread_idx x : i32", "  %bx = block_idx x : i32",
             "  %d = block_dim x : i32", "  %i0 = mul %bx, %d : i32",
             "  %i = add %i0, %t : i32", f"  %x = load %a[%i] : {t}"]
    if const is None:
        lines.append(f"  %y = load %b[%i] : {t}")
    else:
        lines.append(f"  %y = constant {const} : {t}")
    for k, op in enumerate(ops):
        lines += [f"  %r{k} = {op} %x, %y : {t}", f"  store %o{k}[%i], %r{k}"]
    return "\n".join([*lines, "  return", "}"])


def _py(op: str, x: int, y: int, bits: int = 32, signed: bool = True) -> int:
    if op == "floordiv":
        r = x // y
    elif op == "mod":
        r = x % y
    else:
        q = abs(x) // abs(y)
        q = -q if (x < 0) != (y < 0) else q
        r = q if op == "div" else x - q * y
    r &= (1 << bits) - 1
    return r - (1 << bits) if signed and r >= 1 << (bits - 1) else r


def _operands(dtype, rng, const):
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, N, dtype=np.int64, endpoint=True)
    a[:8] = [0, 1, -1, info.min, info.max, 7, -7, 100] if info.min < 0 else \
        [0, 1, 2, info.max, info.max - 1, 7, 1 << 31, 100]
    a = a.astype(dtype)
    if const is not None:
        return a, np.zeros(N, dtype)
    b = rng.integers(info.min, info.max, N, dtype=np.int64, endpoint=True)
    small = rng.integers(1, 40, N)
    b = np.where(rng.random(N) < 0.5, small * np.where(rng.random(N) < 0.5, -1, 1)
                 if info.min < 0 else small, b)
    b[:8] = [1, -1, 3, -2, info.max, info.min, 1, 7] if info.min < 0 else \
        [1, 2, 3, info.max, 1 << 31, 1, 7, 0xFFFF]
    b[b == 0] = 1
    b = b.astype(dtype)
    if info.min < 0:  # MIN / -1 is undefined
        b[(a == info.min) & (b == -1)] = 1
    return a, b


CONSTS = [None, 1, 2, 8, 1024, 7, 1000003]


@pytest.mark.parametrize(("t", "const"), [("i32", c) for c in [*CONSTS, -3, -8]]
                         + [("u32", c) for c in [*CONSTS, 0x80000000]])
def test_integer_division_matches_python(t, const):
    dtype = np.int32 if t == "i32" else np.uint32
    rng = np.random.default_rng(abs(hash((t, const))) % 2**32)
    a, b = _operands(dtype, rng, const)
    outs = [np.zeros(N, dtype) for _ in OPS]
    run(build(_binop_kernel(t, OPS, const)), N // 64, 64, a, b, *outs)
    signed = t == "i32"
    for op, out in zip(OPS, outs, strict=True):
        ys = [const] * N if const is not None else b.tolist()
        expected = [_py(op, int(x), int(y), signed=signed) for x, y in zip(a.tolist(), ys,
                                                                          strict=True)]
        assert out.astype(np.int64).tolist() == expected, op


def test_f32_division_is_correctly_rounded_in_the_normal_range():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(N) * 10.0 ** rng.integers(-20, 20, N)).astype(np.float32)
    b = (rng.standard_normal(N) * 10.0 ** rng.integers(-20, 20, N)).astype(np.float32)
    a[:4] = [1.0, 0.0, -3.0, 7.0]
    b[:4] = [3.0, 5.0, 3.0, 7.0]
    out = [np.zeros(N, np.float32)]
    run(build(_binop_kernel("f32", ("div",), None)), N // 64, 64, a, b, *out)
    np.testing.assert_array_equal(out[0], a / b)


def _unary_kernel(src: str, dst: str, body: str) -> str:
    return (f"kernel @k(%a: array<{src}, 1, global>, %o: array<{dst}, 1, global>) {{\n"
            "  %i = thread_idx x : i32\n"
            f"  %x = load %a[%i] : {src}\n{body}\n  store %o[%i], %r\n  return\n}}")


F32_EDGE = np.array([0.0, -0.0, 1.5, -1.5, 2.5, -2.7, 1e10, -1e10, 3e9, -3e9, np.nan, np.inf,
                     -np.inf, 255.9, -128.9, 65535.5, 4294967295.0, 127.4, 1e-3, -0.99],
                    np.float32)


def _sat(values: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    v = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=info.max, neginf=info.min)
    return np.clip(np.trunc(v), info.min, info.max).astype(dtype)


@pytest.mark.parametrize("dst", ["i32", "u32", "i8", "u8", "i16", "u16"])
def test_float_to_int_casts_truncate_and_saturate(dst):
    dtype = np.dtype(dst.replace("i", "int").replace("uint", "uint").replace("u", "uint")
                     if dst.startswith("u") else dst.replace("i", "int"))
    out = np.zeros(len(F32_EDGE), dtype)
    run(build(_unary_kernel("f32", dst, f"  %r = cast %x : {dst}")), 1, len(F32_EDGE),
        F32_EDGE, out)
    np.testing.assert_array_equal(out, _sat(F32_EDGE, dtype))


INTS = np.array([0, 1, -1, 127, 128, -129, 255, 256, 65535, -65536, 2**31 - 1, -2**31,
                 123456789, -987654321, 16777217, -16777217], np.int64)


@pytest.mark.parametrize(("src", "dst"), [
    ("i32", "f32"), ("u32", "f32"), ("i32", "i8"), ("i32", "u8"), ("i32", "i16"),
    ("u32", "u16"), ("i32", "i64"), ("u32", "u64"), ("i32", "u32"), ("i8", "i32"),
    ("u8", "i32"), ("i16", "f32"), ("i32", "f64"), ("i64", "i32"), ("i64", "f32")])
def test_int_casts_wrap_and_round(src, dst):
    def np_type(name):
        return np.dtype({"i": "int", "u": "uint", "f": "float"}[name[0]] + name[1:])
    s, d = np_type(src), np_type(dst)
    x = INTS.astype(s)
    out = np.zeros(len(x), d)
    run(build(_unary_kernel(src, dst, f"  %r = cast %x : {dst}")), 1, len(x), x, out)
    expected = x.astype(d) if d.kind == "f" else x.astype(np.int64).astype(d)
    np.testing.assert_array_equal(out, expected)


def test_float_casts_and_bools():
    x = np.array([0.0, 1.5, -2.25, np.nan, 1e-8, 65504.0, -0.0, 3.0e38], np.float32)
    out64 = np.zeros(len(x), np.float64)
    run(build(_unary_kernel("f32", "f64", "  %r = cast %x : f64")), 1, len(x), x, out64)
    np.testing.assert_array_equal(out64, x.astype(np.float64))
    out16 = np.zeros(len(x), np.float16)
    run(build(_unary_kernel("f32", "f16", "  %r = cast %x : f16")), 1, len(x), x, out16)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out16, x.astype(np.float16))
    back = np.zeros(len(x), np.float32)
    run(build(_unary_kernel("f64", "f32", "  %r = cast %x : f32")), 1, len(x), out64, back)
    np.testing.assert_array_equal(back, x)
    flags = np.zeros(len(x), np.int32)
    body = "  %c = cast %x : bool\n  %r = cast %c : i32"
    run(build(_unary_kernel("f32", "i32", body)), 1, len(x), x, flags)
    assert flags.tolist() == [int(v != 0 or np.isnan(v)) for v in x]
    stored = np.zeros(len(x), np.uint8)
    body = "  %z = constant 0.0 : f32\n  %r = cmp gt %x, %z : bool"
    run(build(_unary_kernel("f32", "bool", body)), 1, len(x), x, stored)
    assert stored.tolist() == [int(v > 0) for v in x]


MINMAX = """
kernel @k(%a: array<i32, 1, global>, %b: array<i32, 1, global>, %f: array<f32, 1, global>, \
%g: array<f32, 1, global>, %oi: array<i32, 2, global>, %of: array<f32, 2, global>, \
%ou: array<u32, 1, global>) {
  %i = thread_idx x : i32
  %x = load %a[%i] : i32
  %y = load %b[%i] : i32
  %u = load %f[%i] : f32
  %v = load %g[%i] : f32
  %c0 = constant 0 : i32
  %c1 = constant 1 : i32
  %c2 = constant 2 : i32
  %c3 = constant 3 : i32
  %c4 = constant 4 : i32
  %m0 = min %x, %y : i32
  store %oi[%c0, %i], %m0
  %m1 = max %x, %y : i32
  store %oi[%c1, %i], %m1
  %m2 = abs %x : i32
  store %oi[%c2, %i], %m2
  %lt = cmp lt %x, %y : bool
  %m3 = select %lt, %x, %c3 : i32
  store %oi[%c3, %i], %m3
  %ng = neg %y : i32
  %m4 = sub %c4, %ng : i32
  store %oi[%c4, %i], %m4
  %n0 = min %u, %v : f32
  store %of[%c0, %i], %n0
  %n1 = max %u, %v : f32
  store %of[%c1, %i], %n1
  %n2 = abs %u : f32
  store %of[%c2, %i], %n2
  %fl = cmp le %u, %v : bool
  %ne = cmp ne %u, %v : bool
  %both = xor %fl, %ne : bool
  %h = constant 0.5 : f32
  %n3 = select %both, %h, %u : f32
  store %of[%c3, %i], %n3
  %n4 = neg %u : f32
  store %of[%c4, %i], %n4
  %xu = cast %x : u32
  %yu = cast %y : u32
  %mu = max %xu, %yu : u32
  store %ou[%i], %mu
  return
}
"""


def test_min_max_abs_select_neg():
    rng = np.random.default_rng(9)
    n = 64
    a = rng.integers(-2**31, 2**31 - 1, n).astype(np.int32)
    b = rng.integers(-100, 100, n).astype(np.int32)
    a[0] = -2**31
    f = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    f[:4] = [np.nan, 1.0, np.nan, -0.0]
    g[:4] = [2.0, np.nan, np.nan, 0.0]
    oi = np.zeros((5, n), np.int32)
    of = np.zeros((5, n), np.float32)
    ou = np.zeros(n, np.uint32)
    run(build(MINMAX), 1, n, a, b, f, g, oi, of, ou)
    np.testing.assert_array_equal(oi[0], np.minimum(a, b))
    np.testing.assert_array_equal(oi[1], np.maximum(a, b))
    np.testing.assert_array_equal(oi[2], np.abs(a))  # abs(MIN) wraps to MIN, as numpy
    np.testing.assert_array_equal(oi[3], np.where(a < b, a, 3))
    np.testing.assert_array_equal(oi[4], (4 + b.astype(np.int64)).astype(np.int32))
    np.testing.assert_array_equal(of[0][4:], np.fmin(f, g)[4:])
    np.testing.assert_array_equal(of[1][4:], np.fmax(f, g)[4:])
    assert of[0][0] == 2.0 and of[1][1] == 1.0 and np.isnan(of[0][2])
    np.testing.assert_array_equal(of[2], np.abs(f))
    both = (f <= g) ^ (f != g)
    np.testing.assert_array_equal(of[3], np.where(both, np.float32(0.5), f))
    nan = np.isnan(f)
    assert np.isnan(of[4][nan]).all()
    np.testing.assert_array_equal(of[4][~nan].view(np.uint32), (-f[~nan]).view(np.uint32))
    np.testing.assert_array_equal(ou, np.maximum(a.view(np.uint32), b.view(np.uint32)))


MATH_TOL = {"exp": 4e-6, "log": 2e-6, "sqrt": 0.0, "rsqrt": 2e-7, "sin": 2e-6, "cos": 2e-6}


@pytest.mark.parametrize("fn", sorted(MATH_TOL))
def test_math_functions_within_tolerance(fn):
    rng = np.random.default_rng(len(fn))
    if fn in ("log", "sqrt", "rsqrt"):
        x = (rng.random(128) * 100 + 1e-3).astype(np.float32)
    elif fn == "exp":
        x = (rng.standard_normal(128) * 10).astype(np.float32)
    else:
        x = (rng.standard_normal(128) * 4).astype(np.float32)
    out = np.zeros(128, np.float32)
    run(build(_unary_kernel("f32", "f32", f"  %r = {fn} %x : f32")), 1, 128, x, out)
    ref = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "rsqrt": lambda v: 1 / np.sqrt(v),
           "sin": np.sin, "cos": np.cos}[fn](x.astype(np.float64))
    # Relative error, except near zeros of sin/cos/log, where it is absolute.
    scale = np.maximum(np.abs(ref), 1.0 if fn in ("sin", "cos", "log") else 0.0)
    err = np.abs(out.astype(np.float64) - ref) / np.where(scale == 0, 1, scale)
    assert err.max() <= MATH_TOL[fn] + 1e-12 if fn != "sqrt" else np.array_equal(
        out, np.sqrt(x))


def test_f32_division_special_values_follow_ieee():
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-3,
                         7.5], np.float32)
    a = np.repeat(specials, len(specials))
    b = np.tile(specials, len(specials))
    out = [np.zeros(len(a), np.float32)]
    run(build(_binop_kernel("f32", ("div",), None)), 1, len(a), a, b, *out)
    with np.errstate(all="ignore"):
        expected = a / b
    nan = np.isnan(expected)
    assert np.isnan(out[0][nan]).all()
    np.testing.assert_array_equal(out[0][~nan].view(np.uint32), expected[~nan].view(np.uint32))
