"""A corpus of kernels in the style of public CUDA-Python code (Numba's documentation and
tests, the CUDA samples, course notebooks): grid-stride loops, bounds guards, shared-memory
reductions and scans, atomics, stencils, sorting networks, n-body, Black-Scholes in f64,
Mandelbrot, transposes. Each :class:`Case` builds its inputs, launches, and says what numpy
computes for them; ``test_corpus.py`` runs every case on both devices."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import warpforge as wf


@dataclass
class Case:
    """One corpus kernel: ``args(rng)`` gives the launch arguments (arrays are updated in
    place), ``expect(args)`` the arrays they must hold afterwards (by argument index);
    ``rtol``/``atol`` bound float differences."""

    name: str
    kernel: object
    grid: object
    block: object
    args: Callable[[np.random.Generator], list]
    expect: Callable[[list], dict[int, np.ndarray]]
    rtol: float = 1e-6
    atol: float = 1e-6
    constexprs: dict = field(default_factory=dict)
    unordered: tuple[int, ...] = ()
    """Arguments whose elements' order depends on atomics' order: compared sorted."""
    agree: float = 1.0
    """The fraction of elements that must be within tolerance of numpy (1: all; less for
    chaotic kernels such as Mandelbrot, whose float32 rounding steers the iteration)."""


CASES: list[Case] = []


def case(*args, **kwargs) -> None:
    """Register a corpus case."""
    CASES.append(Case(*args, **kwargs))


def f32(rng, n, scale=1.0):
    return (rng.standard_normal(n) * scale).astype(np.float32)


# --- elementwise, grid-stride ----------------------------------------------------------

@wf.kernel
def vector_add(a: wf.f32[:], b: wf.f32[:], out: wf.f32[:]):
    start = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    stride = wf.block_dim.x * wf.grid_dim.x
    for i in range(start, out.size, stride):
        out[i] = a[i] + b[i]


case("vector_add", vector_add, 4, 128,
     lambda r: [f32(r, 3001), f32(r, 3001), np.zeros(3001, np.float32)],
     lambda a: {2: a[0] + a[1]})


@wf.kernel
def saxpy_guarded(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i >= n:
        return
    y[i] = a * x[i] + y[i]


case("saxpy_guarded", saxpy_guarded, 8, 128,
     lambda r: [np.float32(1.5), f32(r, 1000), f32(r, 1000), 1000],
     lambda a: {2: np.float32(1.5) * a[1] + a[2]}, rtol=1e-6)


@wf.kernel
def relu_leaky(x: wf.f32[:], out: wf.f32[:], slope: wf.f32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.shape[0]:
        v = x[i]
        out[i] = v if v > 0 else v * slope


case("relu_leaky", relu_leaky, 4, 256,
     lambda r: [f32(r, 999), np.zeros(999, np.float32), np.float32(0.01)],
     lambda a: {1: np.where(a[0] > 0, a[0], a[0] * np.float32(0.01))})


@wf.kernel
def gelu(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < len(x):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + wf.erf(v / math.sqrt(2.0)))


def _gelu(x):
    from math import erf
    return np.array([0.5 * v * (1 + erf(v / math.sqrt(2))) for v in x.astype(np.float64)])


case("gelu_erf", gelu, 4, 256, lambda r: [f32(r, 1000, 3.0), np.zeros(1000, np.float32)],
     lambda a: {1: _gelu(a[0])}, rtol=1e-5, atol=2e-6)


@wf.kernel
def tanh_clamp(x: wf.f32[:], out: wf.f32[:], lo: wf.f32, hi: wf.f32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        out[i] = min(max(math.tanh(x[i]), lo), hi)


case("tanh_clamp", tanh_clamp, 4, 256,
     lambda r: [f32(r, 1000, 2.0), np.zeros(1000, np.float32), np.float32(-0.5),
                np.float32(0.75)],
     lambda a: {1: np.clip(np.tanh(a[0].astype(np.float64)), -0.5, 0.75)}, rtol=2e-5)


@wf.kernel
def poly_horner(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        v = x[i]
        out[i] = 3.0 * v ** 3 - 2.0 * v ** 2 + v ** 0.5 - 1.0 / v ** 2


case("poly_powers", poly_horner, 4, 256,
     lambda r: [np.abs(f32(r, 1000)) + np.float32(0.5), np.zeros(1000, np.float32)],
     lambda a: {1: (3 * a[0].astype(np.float64) ** 3 - 2 * a[0].astype(np.float64) ** 2
                    + np.sqrt(a[0].astype(np.float64)) - 1 / a[0].astype(np.float64) ** 2)},
     rtol=1e-5, atol=1e-5)


@wf.kernel
def half_axpy(a: wf.f16, x: wf.f16[:], y: wf.f16[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < y.size:
        y[i] = a * x[i] + y[i]


case("half_axpy", half_axpy, 2, 256,
     lambda r: [np.float16(0.75), r.standard_normal(500).astype(np.float16),
                r.standard_normal(500).astype(np.float16)],
     lambda a: {2: (np.float16(0.75) * a[1]) + a[2]}, rtol=0, atol=0)


@wf.kernel
def xorshift(seed: wf.u32[:], out: wf.u32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < out.size:
        s = seed[i]
        for _ in range(4):
            s ^= s << 13
            s ^= s >> 17
            s ^= s << 5
        out[i] = s


def _xorshift(seed):
    s = seed.astype(np.uint32).copy()
    for _ in range(4):
        s ^= s << np.uint32(13)
        s ^= s >> np.uint32(17)
        s ^= s << np.uint32(5)
    return s


case("xorshift_u32", xorshift, 4, 128,
     lambda r: [r.integers(1, 2**32, 512, dtype=np.uint64).astype(np.uint32),
                np.zeros(512, np.uint32)],
     lambda a: {1: _xorshift(a[0])})


@wf.kernel
def bit_tricks(x: wf.u32[:], out: wf.i32[:, :]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        v = x[i]
        out[0, i] = wf.popc(v)
        out[1, i] = wf.clz(v)
        out[2, i] = wf.ffs(v)
        out[3, i] = wf.i32(wf.brev(v) >> 16)


def _bits(x):
    xs = [int(v) for v in x]
    return np.array([[bin(v).count("1") for v in xs], [32 - v.bit_length() for v in xs],
                     [(v & -v).bit_length() for v in xs],
                     [int(f"{v:032b}"[::-1], 2) >> 16 for v in xs]], np.int32)


case("bit_tricks", bit_tricks, 2, 256,
     lambda r: [np.concatenate([[0, 1, 2**31], r.integers(0, 2**32, 400)]).astype(np.uint32),
                np.zeros((4, 403), np.int32)],
     lambda a: {1: _bits(a[0])})


# --- reductions ----------------------------------------------------------------------------

@wf.kernel
def dot_shared(a: wf.f32[:], b: wf.f32[:], out: wf.f32[:], n: wf.i32):
    cache = wf.shared(256, wf.f32)
    tid = wf.thread_idx.x
    i = wf.block_idx.x * wf.block_dim.x + tid
    temp = 0.0
    while i < n:
        temp += a[i] * b[i]
        i += wf.block_dim.x * wf.grid_dim.x
    cache[tid] = temp
    wf.syncthreads()
    s = wf.block_dim.x // 2
    while s > 0:
        if tid < s:
            cache[tid] += cache[tid + s]
        wf.syncthreads()
        s //= 2
    if tid == 0:
        wf.atomic_add(out, 0, cache[0])


case("dot_shared", dot_shared, 8, 256,
     lambda r: [f32(r, 5000), f32(r, 5000), np.zeros(1, np.float32), 5000],
     lambda a: {2: np.array([np.dot(a[0].astype(np.float64), a[1])])}, rtol=1e-4, atol=1e-4)


@wf.kernel
def warp_sum(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    v = x[i] if i < x.size else 0.0
    offset = 16
    while offset > 0:
        v += wf.shfl_down(v, offset)
        offset //= 2
    if wf.lane_id() == 0:
        wf.atomic_add(out, 0, v)


case("warp_shuffle_sum", warp_sum, 4, 128,
     lambda r: [f32(r, 500), np.zeros(1, np.float32)],
     lambda a: {1: np.array([a[0].astype(np.float64).sum()])}, rtol=1e-4, atol=1e-4)


@wf.kernel
def block_max(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        wf.atomic_max(out, 0, x[i])
        wf.atomic_min(out, 1, x[i])


case("atomic_max_min_f32", block_max, 8, 128,
     lambda r: [f32(r, 1000), np.array([-1e30, 1e30], np.float32)],
     lambda a: {1: np.array([a[0].max(), a[0].min()], np.float32)}, rtol=0, atol=0)


@wf.kernel
def argmin_atomic(x: wf.i32[:], best: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        wf.atomic_min(best, 0, x[i] * 4096 + i)


case("argmin_atomic_min", argmin_atomic, 4, 256,
     lambda r: [r.integers(0, 1000, 1000).astype(np.int32), np.array([2**31 - 1], np.int32)],
     lambda a: {1: np.array([(a[0] * 4096 + np.arange(1000)).min()], np.int32)})


@wf.kernel
def sum_of_squares(x: wf.f32[:], out: wf.f32[:], rows: wf.i32, cols: wf.i32):
    r = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if r < rows:
        acc = 0
        for c in range(cols):
            acc += x[r * cols + c] ** 2
        out[r] = acc


case("sum_of_squares_widening", sum_of_squares, 1, 64,
     lambda r: [f32(r, 40 * 33), np.zeros(40, np.float32), 40, 33],
     lambda a: {1: (a[0].astype(np.float64).reshape(40, 33) ** 2).sum(1)}, rtol=1e-5)


@wf.kernel
def count_positive(x: wf.f32[:], out: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    positive = i < x.size and x[min(i, x.size - 1)] > 0
    total = wf.syncthreads_count(positive)
    every = wf.syncthreads_and(positive)
    some = wf.syncthreads_or(positive)
    if wf.thread_idx.x == 0:
        out[3 * wf.block_idx.x] = total
        out[3 * wf.block_idx.x + 1] = wf.i32(every)
        out[3 * wf.block_idx.x + 2] = wf.i32(some)


def _count_positive(x, blocks, block):
    out = []
    for b in range(blocks):
        chunk = x[b * block:(b + 1) * block]
        pos = np.concatenate([chunk > 0, np.zeros(block - chunk.size, bool)])
        out += [pos.sum(), pos.all(), pos.any()]
    return np.array(out, np.int32)


case("syncthreads_count_and_or", count_positive, 3, 64,
     lambda r: [np.concatenate([np.ones(64), f32(r, 100)]).astype(np.float32),
                np.zeros(9, np.int32)],
     lambda a: {1: _count_positive(a[0], 3, 64)})


@wf.kernel
def ballot_count(x: wf.i32[:], out: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    mask = wf.ballot(x[i] % 3 == 0)
    if wf.lane_id() == 0:
        out[i // 32] = wf.popc(mask)


case("ballot_popc", ballot_count, 2, 64,
     lambda r: [r.integers(0, 100, 128).astype(np.int32), np.zeros(4, np.int32)],
     lambda a: {1: (a[0] % 3 == 0).reshape(4, 32).sum(1).astype(np.int32)})


# --- scans ---------------------------------------------------------------------------------

@wf.kernel
def scan_hillis_steele(x: wf.i32[:], out: wf.i32[:]):
    buf = wf.shared((2, 128), wf.i32)
    t = wf.thread_idx.x
    buf[0, t] = x[t]
    wf.syncthreads()
    src = 0
    offset = 1
    while offset < 128:
        dst = 1 - src
        if t >= offset:
            buf[dst, t] = buf[src, t] + buf[src, t - offset]
        else:
            buf[dst, t] = buf[src, t]
        wf.syncthreads()
        src = dst
        offset *= 2
    out[t] = buf[src, t]


case("scan_hillis_steele", scan_hillis_steele, 1, 128,
     lambda r: [r.integers(-50, 50, 128).astype(np.int32), np.zeros(128, np.int32)],
     lambda a: {1: np.cumsum(a[0]).astype(np.int32)})


@wf.kernel
def scan_blelloch(x: wf.f32[:], out: wf.f32[:]):
    temp = wf.shared(256, wf.f32)
    t = wf.thread_idx.x
    n = 256
    temp[2 * t] = x[2 * t]
    temp[2 * t + 1] = x[2 * t + 1]
    offset = 1
    d = n >> 1
    while d > 0:
        wf.syncthreads()
        if t < d:
            ai = offset * (2 * t + 1) - 1
            bi = offset * (2 * t + 2) - 1
            temp[bi] += temp[ai]
        offset *= 2
        d >>= 1
    if t == 0:
        temp[n - 1] = 0.0
    d = 1
    while d < n:
        offset >>= 1
        wf.syncthreads()
        if t < d:
            ai = offset * (2 * t + 1) - 1
            bi = offset * (2 * t + 2) - 1
            swap = temp[ai]
            temp[ai] = temp[bi]
            temp[bi] += swap
        d *= 2
    wf.syncthreads()
    out[2 * t] = temp[2 * t]
    out[2 * t + 1] = temp[2 * t + 1]


case("scan_blelloch_exclusive", scan_blelloch, 1, 128,
     lambda r: [r.integers(0, 10, 256).astype(np.float32), np.zeros(256, np.float32)],
     lambda a: {1: np.concatenate([[0], np.cumsum(a[0])[:-1]]).astype(np.float32)})


@wf.kernel
def warp_scan(x: wf.i32[:], out: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    v = x[i]
    lane = wf.lane_id()
    k = 1
    while k < 32:
        up = wf.shfl_up(v, k)
        if lane >= k:
            v += up
        k *= 2
    out[i] = v


case("warp_scan_shfl_up", warp_scan, 2, 64,
     lambda r: [r.integers(0, 9, 128).astype(np.int32), np.zeros(128, np.int32)],
     lambda a: {1: np.cumsum(a[0].reshape(4, 32), axis=1).reshape(-1).astype(np.int32)})


# --- histograms and counters ---------------------------------------------------------------

@wf.kernel
def histogram_shared(data: wf.u32[:], bins: wf.u32[:], n: wf.i32):
    local_bins = wf.shared(16, wf.u32)
    t = wf.thread_idx.x
    if t < 16:
        local_bins[t] = 0
    wf.syncthreads()
    i = wf.block_idx.x * wf.block_dim.x + t
    stride = wf.block_dim.x * wf.grid_dim.x
    while i < n:
        wf.atomic_add(local_bins, data[i] % 16, 1)
        i += stride
    wf.syncthreads()
    if t < 16:
        wf.atomic_add(bins, t, local_bins[t])


case("histogram_shared_atomics", histogram_shared, 3, 128,
     lambda r: [r.integers(0, 1000, 3000).astype(np.uint32), np.zeros(16, np.uint32), 3000],
     lambda a: {1: np.bincount(a[0] % 16, minlength=16).astype(np.uint32)})


@wf.kernel
def ring_counter(slots: wf.u32[:], taken: wf.u32[:], out: wf.u32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < out.size:
        out[i] = wf.atomic_inc(slots, 0, 9)
        wf.atomic_dec(taken, 0, 1000)
        wf.atomic_sub(taken, 1, 2)


case("atomic_inc_dec_sub", ring_counter, 2, 64,
     lambda r: [np.zeros(1, np.uint32), np.array([500, 1000], np.uint32),
                np.zeros(100, np.uint32)],
     lambda a: {0: np.array([100 % 10], np.uint32), 1: np.array([400, 800], np.uint32),
                2: np.sort(np.arange(100) % 10).astype(np.uint32)},
     unordered=(2,))


# --- stencils and images -------------------------------------------------------------------

@wf.kernel
def stencil_1d(x: wf.f32[:], out: wf.f32[:], n: wf.i32):
    tile = wf.shared(130, wf.f32)
    t = wf.thread_idx.x
    g = wf.block_idx.x * wf.block_dim.x + t
    tile[t + 1] = x[g] if g < n else 0.0
    if t == 0:
        tile[0] = x[g - 1] if g > 0 else 0.0
    if t == wf.block_dim.x - 1:
        tile[t + 2] = x[g + 1] if g + 1 < n else 0.0
    wf.syncthreads()
    if g < n:
        out[g] = 0.25 * tile[t] + 0.5 * tile[t + 1] + 0.25 * tile[t + 2]


def _stencil(x):
    p = np.concatenate([[0], x.astype(np.float64), [0]])
    return 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]


case("stencil_1d_halo", stencil_1d, 8, 128,
     lambda r: [f32(r, 1000), np.zeros(1000, np.float32), 1000],
     lambda a: {1: _stencil(a[0])}, rtol=1e-6, atol=1e-6)


@wf.kernel
def jacobi_step(u: wf.f32[:, :], out: wf.f32[:, :]):
    h, w = u.shape
    i = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    j = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if 0 < i < h - 1 and 0 < j < w - 1:
        out[i][j] = 0.25 * (u[i - 1][j] + u[i + 1][j] + u[i][j - 1] + u[i][j + 1])
    elif i < h and j < w:
        out[i, j] = u[i, j]


def _jacobi(u):
    out = u.astype(np.float64).copy()
    out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1].astype(np.float64) + u[1:-1, :-2]
                              + u[1:-1, 2:])
    return out


case("jacobi_2d_chained_index", jacobi_step, (3, 3), (16, 16),
     lambda r: [r.standard_normal((37, 41)).astype(np.float32), np.zeros((37, 41), np.float32)],
     lambda a: {1: _jacobi(a[0])}, rtol=1e-6, atol=1e-6)


@wf.kernel
def blur_3x3(img: wf.f32[:, :], out: wf.f32[:, :]):
    rows, cols = img.shape
    r = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    c = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if r >= rows or c >= cols:
        return
    total = 0.0
    count = 0
    for dr in range(-1, 2):
        for dc in range(-1, 2):
            rr = r + dr
            cc = c + dc
            if 0 <= rr < rows and 0 <= cc < cols:
                total += img[rr, cc]
                count += 1
    out[r, c] = total / count


def _blur(img):
    h, w = img.shape
    out = np.zeros((h, w))
    for r in range(h):
        for c in range(w):
            win = img[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
            out[r, c] = win.astype(np.float64).sum() / win.size
    return out


case("blur_3x3_negative_range", blur_3x3, (2, 2), (16, 16),
     lambda r: [r.standard_normal((23, 29)).astype(np.float32), np.zeros((23, 29), np.float32)],
     lambda a: {1: _blur(a[0])}, rtol=1e-5, atol=1e-6)


@wf.kernel
def grayscale(rgb: wf.u8[:, :], gray: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < gray.size:
        gray[i] = 0.299 * rgb[i][0] + 0.587 * rgb[i][1] + 0.114 * rgb[i][2]


case("grayscale_u8", grayscale, 2, 128,
     lambda r: [r.integers(0, 256, (200, 3)).astype(np.uint8), np.zeros(200, np.float32)],
     lambda a: {1: a[0].astype(np.float64) @ np.array([0.299, 0.587, 0.114])},
     rtol=1e-5, atol=1e-4)


# --- matrices ------------------------------------------------------------------------------

@wf.kernel
def transpose_naive(a: wf.f32[:, :], out: wf.f32[:, :]):
    x = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    y = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    rows, cols = a.shape
    if y < rows and x < cols:
        out[x, y] = a[y, x]


case("transpose_naive_odd", transpose_naive, (3, 2), (16, 16),
     lambda r: [r.standard_normal((27, 45)).astype(np.float32), np.zeros((45, 27), np.float32)],
     lambda a: {1: a[0].T}, rtol=0, atol=0)


@wf.kernel
def transpose_tiled(a: wf.f32[:, :], out: wf.f32[:, :]):
    tile = wf.shared((32, 33), wf.f32)
    rows, cols = a.shape
    x = wf.block_idx.x * 32 + wf.thread_idx.x
    y = wf.block_idx.y * 32 + wf.thread_idx.y
    for k in range(0, 32, 8):
        if x < cols and y + k < rows:
            tile[wf.thread_idx.y + k, wf.thread_idx.x] = a[y + k, x]
    wf.syncthreads()
    x = wf.block_idx.y * 32 + wf.thread_idx.x
    y = wf.block_idx.x * 32 + wf.thread_idx.y
    for k in range(0, 32, 8):
        if x < rows and y + k < cols:
            out[y + k, x] = tile[wf.thread_idx.x, wf.thread_idx.y + k]


case("transpose_tiled_32x33", transpose_tiled, (2, 3), (32, 8),
     lambda r: [r.standard_normal((70, 50)).astype(np.float32), np.zeros((50, 70), np.float32)],
     lambda a: {1: a[0].T}, rtol=0, atol=0)


@wf.kernel
def matmul_naive(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :]):
    row = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    col = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    m, k = a.shape
    n = b.shape[1]
    if row < m and col < n:
        acc = 0.0
        for i in range(k):
            acc += a[row, i] * b[i, col]
        c[row, col] = acc


case("matmul_naive_odd", matmul_naive, (3, 2), (16, 16),
     lambda r: [f32(r, 30 * 19).reshape(30, 19), f32(r, 19 * 37).reshape(19, 37),
                np.zeros((30, 37), np.float32)],
     lambda a: {2: a[0].astype(np.float64) @ a[1]}, rtol=1e-5, atol=1e-5)


TPB = 16


@wf.kernel
def matmul_shared(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :]):
    sa = wf.shared((TPB, TPB), wf.f32)
    sb = wf.shared((TPB, TPB), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    row = wf.block_idx.y * TPB + ty
    col = wf.block_idx.x * TPB + tx
    m, k = a.shape
    n = b.shape[1]
    acc = 0.0
    for t in range((k + TPB - 1) // TPB):
        sa[ty, tx] = a[row, t * TPB + tx] if row < m and t * TPB + tx < k else 0.0
        sb[ty, tx] = b[t * TPB + ty, col] if col < n and t * TPB + ty < k else 0.0
        wf.syncthreads()
        for j in range(TPB):
            acc += sa[ty, j] * sb[j, tx]
        wf.syncthreads()
    if row < m and col < n:
        c[row, col] = acc


case("matmul_shared_tiles_guarded", matmul_shared, (3, 3), (16, 16),
     lambda r: [f32(r, 41 * 23).reshape(41, 23), f32(r, 23 * 35).reshape(23, 35),
                np.zeros((41, 35), np.float32)],
     lambda a: {2: a[0].astype(np.float64) @ a[1]}, rtol=1e-5, atol=1e-5)


@wf.kernel
def matvec(a: wf.f64[:, :], x: wf.f64[:], y: wf.f64[:]):
    r = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if r < y.size:
        s = 0.0
        for c in range(x.size):
            s += a[r, c] * x[c]
        y[r] = s


case("matvec_f64", matvec, 2, 64,
     lambda r: [r.standard_normal((100, 31)), r.standard_normal(31), np.zeros(100)],
     lambda a: {2: a[0] @ a[1]}, rtol=1e-12, atol=1e-12)


@wf.kernel
def pairwise_dist(p: wf.f64[:, :], d: wf.f64[:, :]):
    i = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    j = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    n = p.shape[0]
    if i < n and j < n:
        dx = p[i, 0] - p[j, 0]
        dy = p[i, 1] - p[j, 1]
        d[i, j] = wf.sqrt(dx * dx + dy * dy)


def _pairwise(p):
    diff = p[:, None, :] - p[None, :, :]
    return np.sqrt((diff ** 2).sum(-1))


case("pairwise_distance_f64", pairwise_dist, (2, 2), (16, 16),
     lambda r: [r.standard_normal((30, 2)), np.zeros((30, 30))],
     lambda a: {1: _pairwise(a[0])}, rtol=1e-14, atol=1e-14)


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


# --- rows: softmax and normalization --------------------------------------------------------

@wf.kernel
def softmax_rows(x: wf.f32[:, :], out: wf.f32[:, :]):
    red = wf.shared(128, wf.f32)
    row = wf.block_idx.x
    t = wf.thread_idx.x
    cols = x.shape[1]
    m = -3.0e38
    for c in range(t, cols, wf.block_dim.x):
        m = max(m, x[row, c])
    red[t] = m
    wf.syncthreads()
    s = 64
    while s > 0:
        if t < s:
            red[t] = max(red[t], red[t + s])
        wf.syncthreads()
        s //= 2
    m = red[0]
    wf.syncthreads()
    total = 0.0
    for c in range(t, cols, wf.block_dim.x):
        total += wf.exp(x[row, c] - m)
    red[t] = total
    wf.syncthreads()
    s = 64
    while s > 0:
        if t < s:
            red[t] += red[t + s]
        wf.syncthreads()
        s //= 2
    for c in range(t, cols, wf.block_dim.x):
        out[row, c] = wf.exp(x[row, c] - m) / red[0]


def _softmax(x):
    e = np.exp(x.astype(np.float64) - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


case("softmax_rows_grid_stride", softmax_rows, 5, 128,
     lambda r: [f32(r, 5 * 300, 3.0).reshape(5, 300), np.zeros((5, 300), np.float32)],
     lambda a: {1: _softmax(a[0])}, rtol=1e-5, atol=1e-7)


@wf.kernel
def layer_norm(x: wf.f32[:, :], out: wf.f32[:, :], eps: wf.f32):
    r = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    rows, cols = x.shape
    if r < rows:
        mean = 0.0
        for c in range(cols):
            mean += x[r, c]
        mean /= cols
        var = 0.0
        for c in range(cols):
            d = x[r, c] - mean
            var += d * d
        var /= cols
        inv = 1.0 / wf.sqrt(var + eps)
        for c in range(cols):
            out[r, c] = (x[r, c] - mean) * inv


def _layer_norm(x, eps):
    x = x.astype(np.float64)
    m = x.mean(1, keepdims=True)
    return (x - m) / np.sqrt(x.var(1, keepdims=True) + eps)


case("layer_norm_rows", layer_norm, 1, 64,
     lambda r: [f32(r, 40 * 50).reshape(40, 50), np.zeros((40, 50), np.float32),
                np.float32(1e-5)],
     lambda a: {1: _layer_norm(a[0], 1e-5)}, rtol=1e-4, atol=1e-5)


# --- odds and ends -------------------------------------------------------------------------

WEIGHTS = (0.25, 0.5, 0.25)


@wf.kernel
def conv1d_const(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    n = x.size
    if i < n - 2:
        out[i] = WEIGHTS[0] * x[i] + WEIGHTS[1] * x[i + 1] + WEIGHTS[2] * x[i + 2]
    if i == 0:
        out[-1] = x[-1]
        out[-2] = x[-2]


def _conv1d(x):
    out = np.convolve(x.astype(np.float64), WEIGHTS[::-1], mode="valid")
    return np.concatenate([out, x[-2:]])


case("conv1d_global_tuple_negative_index", conv1d_const, 4, 128,
     lambda r: [f32(r, 500), np.zeros(500, np.float32)],
     lambda a: {1: _conv1d(a[0])}, rtol=1e-6, atol=1e-6)


@wf.kernel
def reverse_inplace(x: wf.i32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    n = x.size
    if i < n // 2:
        j = n - 1 - i
        x[i], x[j] = x[j], x[i]


case("reverse_swap", reverse_inplace, 2, 128,
     lambda r: [r.integers(0, 100, 301).astype(np.int32)], lambda a: {0: a[0][::-1]})


@wf.kernel
def fill_volume(v: wf.f32[:, :, :]):
    x = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    y = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    z = wf.block_idx.z * wf.block_dim.z + wf.thread_idx.z
    d, h, w = v.shape
    if z < d and y < h and x < w:
        v[z, y, x] = z * 10000 + y * 100 + x


case("grid_3d_volume", fill_volume, (2, 2, 3), (8, 8, 4),
     lambda r: [np.zeros((10, 13, 15), np.float32)],
     lambda a: {0: np.fromfunction(lambda z, y, x: z * 10000 + y * 100 + x, (10, 13, 15))},
     rtol=0, atol=0)


@wf.func
def clamp(v, lo=0.0, hi=1.0):
    return lo if v < lo else hi if v > hi else v


@wf.kernel
def clamp_kw(x: wf.f32[:], out: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        out[i] = clamp(x[i]) + clamp(x[i], hi=2.0, lo=-1.0)


case("device_function_defaults_keywords", clamp_kw, 2, 128,
     lambda r: [f32(r, 200, 2.0), np.zeros(200, np.float32)],
     lambda a: {1: np.clip(a[0], 0, 1) + np.clip(a[0], -1, 2)}, rtol=0, atol=0)


@wf.kernel
def float_floor_mod(x: wf.f32[:], out: wf.f32[:, :]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        out[0, i] = x[i] // 0.75
        out[1, i] = x[i] % 0.75
        out[2, i] = wf.fmod(x[i], 0.75)


case("float_floordiv_mod", float_floor_mod, 2, 128,
     lambda r: [f32(r, 200, 5.0), np.zeros((3, 200), np.float32)],
     lambda a: {1: np.stack([a[0] // np.float32(0.75), a[0] % np.float32(0.75),
                             np.fmod(a[0], np.float32(0.75))])}, rtol=1e-5, atol=1e-5)


@wf.kernel
def shared_warp_sync(x: wf.i32[:], out: wf.i32[:]):
    s = wf.shared(64, wf.i32)
    t = wf.thread_idx.x
    s[t] = x[t]
    wf.syncwarp()
    out[t] = s[t ^ 1] + s[(t + 5) % 32 + (t // 32) * 32]
    wf.threadfence()


case("syncwarp_shared_exchange", shared_warp_sync, 1, 64,
     lambda r: [r.integers(0, 100, 64).astype(np.int32), np.zeros(64, np.int32)],
     lambda a: {1: a[0][np.arange(64) ^ 1] + a[0][(np.arange(64) + 5) % 32
                                                  + (np.arange(64) // 32) * 32]})
