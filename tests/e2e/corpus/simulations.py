"""The corpus: simulations and sorting networks."""

from __future__ import annotations

import math

import numpy as np

import warpforge as wf

from .base import case, f32

# --- simulations ---------------------------------------------------------------------------

@wf.kernel
def nbody_accel(pos: wf.f32[:, :], acc: wf.f32[:, :], soft: wf.f32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    n = pos.shape[0]
    if i >= n:
        return
    ax = 0.0
    ay = 0.0
    az = 0.0
    for j in range(n):
        dx = pos[j, 0] - pos[i, 0]
        dy = pos[j, 1] - pos[i, 1]
        dz = pos[j, 2] - pos[i, 2]
        inv = wf.rsqrt(dx * dx + dy * dy + dz * dz + soft)
        inv3 = inv * inv * inv * pos[j, 3]
        ax += dx * inv3
        ay += dy * inv3
        az += dz * inv3
    acc[i, 0] = ax
    acc[i, 1] = ay
    acc[i, 2] = az


def _nbody(pos, soft):
    p = pos.astype(np.float64)
    d = p[None, :, :3] - p[:, None, :3]
    inv = 1 / np.sqrt((d ** 2).sum(-1) + soft)
    return (d * (inv ** 3 * p[None, :, 3])[..., None]).sum(1)


case("nbody_rsqrt", nbody_accel, 2, 64,
     lambda r: [np.abs(r.standard_normal((100, 4))).astype(np.float32),
                np.zeros((100, 3), np.float32), np.float32(0.01)],
     lambda a: {1: _nbody(a[0], 0.01)}, rtol=1e-4, atol=1e-3)


@wf.func
def cnd(d):
    a1 = wf.f64(0.31938153)
    a2 = wf.f64(-0.356563782)
    a3 = wf.f64(1.781477937)
    a4 = wf.f64(-1.821255978)
    a5 = wf.f64(1.330274429)
    k = 1.0 / (1.0 + 0.2316419 * abs(d))
    ret = (1.0 / math.sqrt(2.0 * math.pi)) * wf.exp(-0.5 * d * d) * \
        (k * (a1 + k * (a2 + k * (a3 + k * (a4 + k * a5)))))
    return 1.0 - ret if d > 0 else ret


@wf.kernel
def black_scholes(price: wf.f64[:], strike: wf.f64[:], years: wf.f64[:], call: wf.f64[:],
                  put: wf.f64[:], rate: wf.f64, vol: wf.f64):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i >= price.size:
        return
    s = price[i]
    x = strike[i]
    t = years[i]
    sqrt_t = wf.sqrt(t)
    d1 = (wf.log(s / x) + (rate + 0.5 * vol * vol) * t) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    exp_rt = wf.exp(-rate * t)
    call[i] = s * cnd(d1) - x * exp_rt * cnd(d2)
    put[i] = x * exp_rt * (1.0 - cnd(d2)) - s * (1.0 - cnd(d1))


def _black_scholes(s, x, t, r, v):
    def cnd_np(d):
        k = 1 / (1 + 0.2316419 * np.abs(d))
        poly = k * (0.31938153 + k * (-0.356563782 + k * (1.781477937 + k * (
            -1.821255978 + k * 1.330274429))))
        ret = 1 / np.sqrt(2 * np.pi) * np.exp(-0.5 * d * d) * poly
        return np.where(d > 0, 1 - ret, ret)
    d1 = (np.log(s / x) + (r + 0.5 * v * v) * t) / (v * np.sqrt(t))
    d2 = d1 - v * np.sqrt(t)
    e = np.exp(-r * t)
    return s * cnd_np(d1) - x * e * cnd_np(d2), x * e * (1 - cnd_np(d2)) - s * (1 - cnd_np(d1))


case("black_scholes_f64", black_scholes, 2, 128,
     lambda r: [r.uniform(5, 30, 200), r.uniform(1, 100, 200), r.uniform(0.25, 10, 200),
                np.zeros(200), np.zeros(200), 0.02, 0.30],
     lambda a: dict(zip((3, 4), _black_scholes(a[0], a[1], a[2], 0.02, 0.30), strict=True)),
     rtol=1e-12, atol=1e-12)


@wf.kernel
def mandelbrot(out: wf.i32[:, :], x0: wf.f32, y0: wf.f32, dx: wf.f32, max_iter: wf.i32):
    h, w = out.shape
    r = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    c = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if r < h and c < w:
        cr = x0 + c * dx
        ci = y0 + r * dx
        zr = 0.0
        zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[r, c] = n


def _mandelbrot(h, w, x0, y0, dx, max_iter):
    out = np.zeros((h, w), np.int32)
    f = np.float32
    for r in range(h):
        for c in range(w):
            cr, ci = f(f(x0) + f(c) * f(dx)), f(f(y0) + f(r) * f(dx))
            zr = zi = f(0)
            n = 0
            while n < max_iter and f(f(zr * zr) + f(zi * zi)) <= 4:
                zr, zi = f(f(f(zr * zr) - f(zi * zi)) + cr), f(f(f(2) * zr * zi) + ci)
                n += 1
            out[r, c] = n
    return out


case("mandelbrot_escape", mandelbrot, (2, 2), (16, 16),
     lambda r: [np.zeros((24, 30), np.int32), np.float32(-2.0), np.float32(-1.2),
                np.float32(0.1), 60],
     lambda a: {0: _mandelbrot(24, 30, -2.0, -1.2, 0.1, 60)}, rtol=0, atol=0, agree=0.97)


@wf.func
def collatz_len(n):
    steps = 0
    while True:
        if n == 1:
            return steps
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1


@wf.kernel
def collatz_lengths(out: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < out.size:
        out[i] = collatz_len(i + 1)


def _collatz(n):
    out = []
    for v in range(1, n + 1):
        s = 0
        while v != 1:
            v = v // 2 if v % 2 == 0 else 3 * v + 1
            s += 1
        out.append(s)
    return np.array(out, np.int32)


case("collatz_return_in_loop", collatz_lengths, 2, 128,
     lambda r: [np.zeros(200, np.int32)], lambda a: {0: _collatz(200)})


@wf.kernel
def gcd64(a: wf.i64[:], b: wf.i64[:], out: wf.i64[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < out.size:
        x = a[i]
        y = b[i]
        while y != 0:
            x, y = y, x % y
        out[i] = x


case("gcd_i64", gcd64, 1, 64,
     lambda r: [r.integers(1, 2**40, 50), r.integers(1, 2**20, 50), np.zeros(50, np.int64)],
     lambda a: {2: np.gcd(a[0], a[1])})


@wf.kernel
def index_math_i64(out: wf.i64[:], scale: wf.i64):
    start = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    for i in range(start, out.size, wf.block_dim.x * wf.grid_dim.x):
        v = wf.i64(i) * scale
        out[i] = v * v // 7 - (v >> 3) + (v % 1000)


case("grid_stride_i64_arith", index_math_i64, 2, 64,
     lambda r: [np.zeros(300, np.int64), np.int64(123456789)],
     lambda a: {0: (np.arange(300) * 123456789) ** 2 // 7 - ((np.arange(300) * 123456789) >> 3)
                + (np.arange(300) * 123456789) % 1000})


# --- sorting networks ----------------------------------------------------------------------

@wf.kernel
def bitonic_sort(x: wf.i32[:]):
    s = wf.shared(128, wf.i32)
    t = wf.thread_idx.x
    s[t] = x[wf.block_idx.x * 128 + t]
    wf.syncthreads()
    k = 2
    while k <= 128:
        j = k // 2
        while j > 0:
            partner = t ^ j
            if partner > t:
                up = (t & k) == 0
                a = s[t]
                b = s[partner]
                if (a > b) == up:
                    s[t] = b
                    s[partner] = a
            wf.syncthreads()
            j //= 2
        k *= 2
    x[wf.block_idx.x * 128 + t] = s[t]


case("bitonic_sort_shared", bitonic_sort, 2, 128,
     lambda r: [r.integers(-1000, 1000, 256).astype(np.int32)],
     lambda a: {0: np.sort(a[0].reshape(2, 128), axis=1).reshape(-1)})


@wf.kernel
def odd_even_sort(x: wf.f32[:]):
    n = x.size
    t = wf.thread_idx.x
    for phase in range(n):
        i = 2 * t + (phase % 2)
        if i + 1 < n and x[i] > x[i + 1]:
            tmp = x[i]
            x[i] = x[i + 1]
            x[i + 1] = tmp
        wf.syncthreads()


case("odd_even_transposition_sort", odd_even_sort, 1, 64,
     lambda r: [f32(r, 100)], lambda a: {0: np.sort(a[0])}, rtol=0, atol=0)
