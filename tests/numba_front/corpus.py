"""Kernels written for Numba's CUDA target, as its documentation and public CUDA-Python
code write them, run unmodified through ``from warpforge import cuda``. Each case launches
with Numba's syntax (``k[blocks, threads](...)``, device arrays, streams, dynamic shared
memory) and says what numpy computes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from warpforge import cuda
from warpforge.cuda import float32, float64, int32, int64, uint32


@dataclass
class Case:
    """A Numba-style kernel, its launch and numpy's answer: ``run(rng)`` launches and
    returns ``(got, want)`` pairs of arrays."""

    name: str
    run: Callable[[np.random.Generator], list[tuple[np.ndarray, np.ndarray]]]
    rtol: float = 1e-6
    atol: float = 1e-6


CASES: list[Case] = []


def case(name: str, rtol: float = 1e-6, atol: float = 1e-6):
    def register(run):
        CASES.append(Case(name, run, rtol, atol))
        return run
    return register


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# --- the documentation's first kernels ---------------------------------------------------

@cuda.jit
def increment_by_one(an_array):
    pos = cuda.grid(1)
    if pos < an_array.size:
        an_array[pos] += 1


@case("increment_by_one")
def _(rng):
    a = np.arange(1000, dtype=np.int32)
    increment_by_one[(a.size + 127) // 128, 128](a)
    return [(a, np.arange(1, 1001))]


@cuda.jit
def increment_a_2d_array(an_array):
    x, y = cuda.grid(2)
    if x < an_array.shape[0] and y < an_array.shape[1]:
        an_array[x, y] += 1


@case("increment_a_2d_array")
def _(rng):
    a = rand(rng, 37, 45)
    want = a + 1
    increment_a_2d_array[(3, 3), (16, 16)](a)
    return [(a, want)]


@cuda.jit
def add_kernel(x, y, out):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.shape[0], stride):
        out[i] = x[i] + y[i]


@case("grid_stride_add_device_arrays")
def _(rng):
    x, y = rand(rng, 5000), rand(rng, 5000)
    d_x, d_y = cuda.to_device(x), cuda.to_device(y)
    d_out = cuda.device_array_like(d_x)
    add_kernel[8, 128](d_x, d_y, d_out)
    cuda.synchronize()
    return [(d_out.copy_to_host(), x + y)]


@cuda.jit
def axpy(r, a, x, y):
    i = cuda.grid(1)
    if i < len(r):
        r[i] = a * x[i] + y[i]


@case("axpy_python_float_is_float64")
def _(rng):
    x, y = rand(rng, 300), rand(rng, 300)
    r = np.zeros(300, np.float32)
    axpy[3, 128](r, 0.1, x, y)
    return [(r, (0.1 * x.astype(np.float64) + y).astype(np.float32))]


@cuda.jit("void(float32[:], float32, float32[:], float32[:])")
def axpy_signature(r, a, x, y):
    i = cuda.grid(1)
    if i < r.shape[0]:
        r[i] = a * x[i] + y[i]


@case("signature_string")
def _(rng):
    x, y = rand(rng, 200), rand(rng, 200)
    r = np.zeros(200, np.float32)
    axpy_signature[2, 128](r, 0.5, x, y)
    return [(r, np.float32(0.5) * x + y)]


# --- reductions ----------------------------------------------------------------------------

@cuda.jit
def sum_reduce(x, out):
    tid = cuda.threadIdx.x
    i = cuda.grid(1)
    cache = cuda.shared.array(shape=128, dtype=float32)
    cache[tid] = x[i] if i < x.shape[0] else 0
    cuda.syncthreads()
    s = cuda.blockDim.x // 2
    while s > 0:
        if tid < s:
            cache[tid] += cache[tid + s]
        cuda.syncthreads()
        s //= 2
    if tid == 0:
        cuda.atomic.add(out, 0, cache[0])


@case("shared_tree_reduction", rtol=1e-4, atol=1e-4)
def _(rng):
    x = rand(rng, 1000)
    out = np.zeros(1, np.float32)
    sum_reduce[8, 128](x, out)
    return [(out, np.array([x.astype(np.float64).sum()]))]


@cuda.jit
def warp_reduce(x, out):
    i = cuda.grid(1)
    v = x[i] if i < x.size else 0.0
    offset = 16
    while offset > 0:
        v += cuda.shfl_down_sync(0xffffffff, v, offset)
        offset //= 2
    if cuda.laneid == 0:
        cuda.atomic.add(out, 0, v)


@case("shfl_down_sync_reduction", rtol=1e-9, atol=1e-9)
def _(rng):
    x = rand(rng, 200, dtype=np.float64)
    out = np.zeros(1)
    warp_reduce[2, 128](x, out)
    return [(out, np.array([x.sum()]))]


@cuda.jit
def butterfly_max(x, out):
    i = cuda.grid(1)
    v = x[i]
    mask = 1
    while mask < 32:
        v = max(v, cuda.shfl_xor_sync(0xffffffff, v, mask))
        mask *= 2
    out[i] = v


@case("shfl_xor_sync_butterfly")
def _(rng):
    x = rand(rng, 128)
    out = np.zeros(128, np.float32)
    butterfly_max[2, 64](x, out)
    return [(out, np.repeat(x.reshape(4, 32).max(1), 32))]


@cuda.jit
def dot_atomic(a, b, out):
    i = cuda.grid(1)
    if i < a.size:
        cuda.atomic.add(out, 0, a[i] * b[i])


@case("atomic_add_dot_float64", rtol=1e-9, atol=1e-9)
def _(rng):
    a, b = rand(rng, 500, dtype=np.float64), rand(rng, 500, dtype=np.float64)
    out = np.zeros(1)
    dot_atomic[4, 128](a, b, out)
    return [(out, np.array([a @ b]))]


@cuda.jit
def minmax_atomic(x, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        cuda.atomic.max(out, 0, x[i])
        cuda.atomic.min(out, 1, x[i])


@case("atomic_max_min")
def _(rng):
    x = rand(rng, 777)
    out = np.array([-np.inf, np.inf], np.float32)
    minmax_atomic[7, 128](x, out)
    return [(out, np.array([x.max(), x.min()]))]


@cuda.jit
def count_syncthreads(x, out):
    i = cuda.grid(1)
    flag = x[i] > 0
    n = cuda.syncthreads_count(flag)
    a = cuda.syncthreads_and(flag)
    o = cuda.syncthreads_or(flag)
    if cuda.threadIdx.x == 0:
        out[cuda.blockIdx.x, 0] = n
        out[cuda.blockIdx.x, 1] = a
        out[cuda.blockIdx.x, 2] = o


@case("syncthreads_count_and_or")
def _(rng):
    x = rand(rng, 256)
    x[:64] = np.abs(x[:64]) + 1
    out = np.zeros((4, 3), np.int32)
    count_syncthreads[4, 64](x, out)
    blocks = x.reshape(4, 64) > 0
    return [(out, np.stack([blocks.sum(1), blocks.all(1), blocks.any(1)], 1))]


@cuda.jit
def vote_kernel(x, out):
    i = cuda.grid(1)
    p = x[i] > 0
    ballot = cuda.ballot_sync(0xffffffff, p)
    every = cuda.all_sync(0xffffffff, p)
    some = cuda.any_sync(0xffffffff, p)
    same = cuda.eq_sync(0xffffffff, x[i] * 0)
    if cuda.laneid == 0:
        w = i // 32
        out[w, 0] = cuda.popc(ballot)
        out[w, 1] = every
        out[w, 2] = some
        out[w, 3] = same


@case("votes_and_ballot")
def _(rng):
    x = rand(rng, 128)
    x[32:64] = 1.0
    out = np.zeros((4, 4), np.int32)
    vote_kernel[2, 64](x, out)
    w = x.reshape(4, 32) > 0
    return [(out, np.stack([w.sum(1), w.all(1), w.any(1), np.ones(4)], 1))]


# --- histograms and atomics ---------------------------------------------------------------

@cuda.jit
def histogram(x, xmin, xmax, histogram_out):
    nbins = histogram_out.shape[0]
    bin_width = (xmax - xmin) / nbins
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.shape[0], stride):
        bin_number = int32((x[i] - xmin) / bin_width)
        if bin_number >= 0 and bin_number < histogram_out.shape[0]:
            cuda.atomic.add(histogram_out, bin_number, 1)


@case("histogram_grid_stride")
def _(rng):
    x = rng.uniform(-3, 3, 4000).astype(np.float32)
    h = np.zeros(12, np.int32)
    histogram[8, 128](x, -3.0, 3.0, h)
    width = 6.0 / 12
    bins = ((x.astype(np.float64) + 3.0) / width).astype(np.int64)
    return [(h, np.bincount(bins[(bins >= 0) & (bins < 12)], minlength=12))]


@cuda.jit
def shared_histogram(data, bins):
    local_bins = cuda.shared.array(16, uint32)
    t = cuda.threadIdx.x
    if t < 16:
        local_bins[t] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < data.size:
        cuda.atomic.add(local_bins, data[i] & 15, 1)
    cuda.syncthreads()
    if t < 16:
        cuda.atomic.add(bins, t, local_bins[t])


@case("shared_memory_histogram")
def _(rng):
    data = rng.integers(0, 1000, 2000).astype(np.uint32)
    bins = np.zeros(16, np.uint32)
    shared_histogram[16, 128](data, bins)
    return [(bins, np.bincount(data & 15, minlength=16))]


@cuda.jit
def ticket(counter, out):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = cuda.atomic.inc(counter, 0, 63)
        cuda.atomic.dec(counter, 1, 1000)
        cuda.atomic.sub(counter, 2, 3)


@case("atomic_inc_dec_sub")
def _(rng):
    counter = np.array([0, 500, 900], np.uint32)
    out = np.zeros(100, np.uint32)
    ticket[1, 128](counter, out)
    return [(np.sort(out), np.sort(np.arange(100) % 64)),
            (counter, np.array([100 % 64, 400, 600]))]


@cuda.jit
def cas_first_winner(flags, winner):
    i = cuda.grid(1)
    if i < 100:
        old = cuda.atomic.cas(flags, 0, 0, i + 1)
        if old == 0:
            winner[0] = i + 1


@case("atomic_cas_one_winner")
def _(rng):
    flags = np.zeros(1, np.int32)
    winner = np.zeros(1, np.int32)
    cas_first_winner[1, 128](flags, winner)
    return [(winner, flags)]


@cuda.jit
def bit_ops(x, out):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        out[i, 0] = cuda.popc(v)
        out[i, 1] = cuda.clz(v)
        out[i, 2] = cuda.ffs(v)
        out[i, 3] = cuda.brev(v) >> 24


@case("popc_clz_ffs_brev")
def _(rng):
    x = np.concatenate([[0, 1, 2**31], rng.integers(1, 2**32, 60)]).astype(np.uint32)
    out = np.zeros((63, 4), np.int64)
    bit_ops[1, 64](x, out)
    xs = [int(v) for v in x]
    want = [[bin(v).count("1"), 32 - v.bit_length(), (v & -v).bit_length(),
             int(f"{v:032b}"[::-1], 2) >> 24] for v in xs]
    return [(out, np.array(want))]


# --- scans ---------------------------------------------------------------------------------

@cuda.jit
def block_scan(x, out):
    temp = cuda.shared.array(shape=(2, 128), dtype=int32)
    t = cuda.threadIdx.x
    temp[0, t] = x[t]
    cuda.syncthreads()
    src = 0
    offset = 1
    while offset < 128:
        dst = 1 - src
        temp[dst, t] = temp[src, t] + (temp[src, t - offset] if t >= offset else 0)
        cuda.syncthreads()
        src = dst
        offset *= 2
    out[t] = temp[src, t]


@case("inclusive_scan_double_buffer")
def _(rng):
    x = rng.integers(-9, 9, 128).astype(np.int32)
    out = np.zeros(128, np.int32)
    block_scan[1, 128](x, out)
    return [(out, np.cumsum(x))]


@cuda.jit
def warp_inclusive_scan(x, out):
    i = cuda.grid(1)
    v = x[i]
    k = 1
    while k < 32:
        n = cuda.shfl_up_sync(0xffffffff, v, k)
        if cuda.laneid >= k:
            v += n
        k *= 2
    out[i] = v


@case("shfl_up_sync_scan")
def _(rng):
    x = rng.integers(0, 9, 64).astype(np.int64)
    out = np.zeros(64, np.int64)
    warp_inclusive_scan[1, 64](x, out)
    return [(out, np.cumsum(x.reshape(2, 32), 1).reshape(-1))]


@cuda.jit
def broadcast_lane(x, out):
    i = cuda.grid(1)
    out[i] = cuda.shfl_sync(0xffffffff, x[i], 7)


@case("shfl_sync_broadcast")
def _(rng):
    x = rand(rng, 64)
    out = np.zeros(64, np.float32)
    broadcast_lane[1, 64](x, out)
    return [(out, np.repeat(x.reshape(2, 32)[:, 7], 32))]


# --- stencils, images, matrices ------------------------------------------------------------

@cuda.jit
def smooth(x, out):
    i = cuda.grid(1)
    n = x.shape[0]
    if 0 < i < n - 1:
        out[i] = (x[i - 1] + x[i] + x[i + 1]) / 3
    elif i == 0 or i == n - 1:
        out[i] = x[i]


@case("three_point_stencil_int_division_is_float64")
def _(rng):
    x = rng.integers(0, 100, 500).astype(np.int64)
    out = np.zeros(500)
    smooth[4, 128](x, out)
    want = x.astype(np.float64).copy()
    want[1:-1] = (x[:-2] + x[1:-1] + x[2:]) / 3
    return [(out, want)]


@cuda.jit
def laplace_2d(u, out):
    i, j = cuda.grid(2)
    n, m = u.shape
    if 0 < i < n - 1 and 0 < j < m - 1:
        out[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])


@case("laplace_2d_grid2")
def _(rng):
    u = rand(rng, 30, 41, dtype=np.float64)
    out = np.zeros_like(u)
    laplace_2d[(2, 3), (16, 16)](u, out)
    want = np.zeros_like(u)
    want[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return [(out, want)]


@cuda.jit
def transpose_shared(a, out):
    tile = cuda.shared.array(shape=(32, 33), dtype=float32)
    x, y = cuda.grid(2)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    if y < a.shape[0] and x < a.shape[1]:
        tile[ty, tx] = a[y, x]
    cuda.syncthreads()
    x2 = cuda.blockIdx.y * 32 + tx
    y2 = cuda.blockIdx.x * 32 + ty
    if y2 < out.shape[0] and x2 < out.shape[1]:
        out[y2, x2] = tile[tx, ty]


@case("transpose_shared_tile")
def _(rng):
    a = rand(rng, 40, 70)
    out = np.zeros((70, 40), np.float32)
    transpose_shared[(3, 2), (32, 32)](a, out)
    return [(out, a.T)]


@cuda.jit
def matmul_naive(A, B, C):
    i, j = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        tmp = 0.
        for k in range(A.shape[1]):
            tmp += A[i, k] * B[k, j]
        C[i, j] = tmp


@case("matmul_documentation_naive", rtol=1e-5, atol=1e-5)
def _(rng):
    A, B = rand(rng, 20, 13), rand(rng, 13, 25)
    C = np.zeros((20, 25), np.float32)
    matmul_naive[(2, 2), (16, 16)](A, B, C)
    return [(C, A.astype(np.float64) @ B)]


TPB = 16


@cuda.jit
def fast_matmul(A, B, C):
    sA = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    sB = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    x, y = cuda.grid(2)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    bpg = cuda.gridDim.x
    tmp = float32(0.)
    for i in range(bpg):
        sA[ty, tx] = 0
        sB[ty, tx] = 0
        if y < A.shape[0] and (tx + i * TPB) < A.shape[1]:
            sA[ty, tx] = A[y, tx + i * TPB]
        if x < B.shape[1] and (ty + i * TPB) < B.shape[0]:
            sB[ty, tx] = B[ty + i * TPB, x]
        cuda.syncthreads()
        for j in range(TPB):
            tmp += sA[ty, j] * sB[j, tx]
        cuda.syncthreads()
    if y < C.shape[0] and x < C.shape[1]:
        C[y, x] = tmp


@case("matmul_documentation_shared", rtol=1e-5, atol=1e-5)
def _(rng):
    A, B = rand(rng, 48, 48), rand(rng, 48, 48)
    C = np.zeros((48, 48), np.float32)
    fast_matmul[(3, 3), (TPB, TPB)](A, B, C)
    return [(C, A.astype(np.float64) @ B)]


@cuda.jit
def matvec(a, x, y):
    row = cuda.grid(1)
    if row < a.shape[0]:
        s = 0.0
        for k in range(a.shape[1]):
            s += a[row, k] * x[k]
        y[row] = s


@case("matvec_float64_accumulator_over_float32", rtol=1e-6, atol=1e-6)
def _(rng):
    a, x = rand(rng, 60, 300), rand(rng, 300)
    y = np.zeros(60, np.float32)
    matvec[1, 64](a, x, y)
    return [(y, a.astype(np.float64) @ x.astype(np.float64))]


@cuda.jit
def grayscale(img, out):
    i, j = cuda.grid(2)
    if i < img.shape[0] and j < img.shape[1]:
        out[i, j] = 0.299 * img[i, j, 0] + 0.587 * img[i, j, 1] + 0.114 * img[i, j, 2]


@case("rgb_to_gray_3d_input")
def _(rng):
    img = rng.integers(0, 256, (21, 33, 3)).astype(np.uint8)
    out = np.zeros((21, 33))
    grayscale[(2, 3), (16, 16)](img, out)
    return [(out, img.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))]


# --- simulations -------------------------------------------------------------------------

@cuda.jit(device=True)
def cnd(d):
    A1, A2, A3, A4, A5 = 0.31938153, -0.356563782, 1.781477937, -1.821255978, 1.330274429
    RSQRT2PI = 0.39894228040143267793994605993438
    K = 1.0 / (1.0 + 0.2316419 * math.fabs(d))
    ret_val = (RSQRT2PI * math.exp(-0.5 * d * d) *
               (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5))))))
    if d > 0:
        ret_val = 1.0 - ret_val
    return ret_val


@cuda.jit
def black_scholes(callResult, putResult, S, X, T, R, V):
    i = cuda.threadIdx.x + cuda.blockIdx.x * cuda.blockDim.x
    if i >= S.shape[0]:
        return
    sqrtT = math.sqrt(T[i])
    d1 = (math.log(S[i] / X[i]) + (R + 0.5 * V * V) * T[i]) / (V * sqrtT)
    d2 = d1 - V * sqrtT
    cndd1 = cnd(d1)
    cndd2 = cnd(d2)
    expRT = math.exp((-1. * R) * T[i])
    callResult[i] = (S[i] * cndd1 - X[i] * expRT * cndd2)
    putResult[i] = (X[i] * expRT * (1.0 - cndd2) - S[i] * (1.0 - cndd1))


def _cnd_np(d):
    k = 1.0 / (1.0 + 0.2316419 * np.abs(d))
    ret = 0.39894228040143267793994605993438 * np.exp(-0.5 * d * d) * (
        k * (0.31938153 + k * (-0.356563782 + k * (1.781477937 + k * (-1.821255978
                                                                      + k * 1.330274429)))))
    return np.where(d > 0, 1.0 - ret, ret)


@case("black_scholes_documentation_f64", rtol=1e-12, atol=1e-12)
def _(rng):
    n = 300
    S, X, T = rng.uniform(5, 30, n), rng.uniform(1, 100, n), rng.uniform(0.25, 10, n)
    call, put = np.zeros(n), np.zeros(n)
    black_scholes[3, 128](call, put, S, X, T, 0.02, 0.30)
    sq = np.sqrt(T)
    d1 = (np.log(S / X) + (0.02 + 0.5 * 0.3 * 0.3) * T) / (0.3 * sq)
    d2 = d1 - 0.3 * sq
    e = np.exp(-0.02 * T)
    return [(call, S * _cnd_np(d1) - X * e * _cnd_np(d2)),
            (put, X * e * (1 - _cnd_np(d2)) - S * (1 - _cnd_np(d1)))]


@cuda.jit(device=True)
def mandel(x, y, max_iters):
    zr = 0.0
    zi = 0.0
    for i in range(max_iters):
        zr, zi = zr * zr - zi * zi + x, 2.0 * zr * zi + y
        if zr * zr + zi * zi >= 4:
            return i
    return max_iters


@cuda.jit
def mandel_kernel(min_x, max_x, min_y, max_y, image, iters):
    height = image.shape[0]
    width = image.shape[1]
    pixel_size_x = (max_x - min_x) / width
    pixel_size_y = (max_y - min_y) / height
    startX, startY = cuda.grid(2)
    gridX = cuda.gridDim.x * cuda.blockDim.x
    gridY = cuda.gridDim.y * cuda.blockDim.y
    for x in range(startX, width, gridX):
        real = min_x + x * pixel_size_x
        for y in range(startY, height, gridY):
            imag = min_y + y * pixel_size_y
            image[y, x] = mandel(real, imag, iters)


def _mandel_np(min_x, max_x, min_y, max_y, h, w, iters):
    out = np.zeros((h, w), np.uint8)
    for x in range(w):
        real = min_x + x * (max_x - min_x) / w
        for y in range(h):
            imag = min_y + y * (max_y - min_y) / h
            zr = zi = 0.0
            n = iters
            for i in range(iters):
                zr, zi = zr * zr - zi * zi + real, 2.0 * zr * zi + imag
                if zr * zr + zi * zi >= 4:
                    n = i
                    break
            out[y, x] = n
    return out


@case("mandelbrot_documentation_device_function_return_in_loop", rtol=0, atol=1)
def _(rng):
    image = np.zeros((24, 32), np.uint8)
    mandel_kernel[(2, 2), (8, 8)](-2.0, 1.0, -1.0, 1.0, image, 20)
    return [(image.astype(np.int64), _mandel_np(-2.0, 1.0, -1.0, 1.0, 24, 32, 20))]


@cuda.jit
def nbody_forces(pos, mass, acc, eps):
    i = cuda.grid(1)
    if i >= pos.shape[0]:
        return
    ax = ay = 0.0
    for j in range(pos.shape[0]):
        dx = pos[j, 0] - pos[i, 0]
        dy = pos[j, 1] - pos[i, 1]
        inv = 1.0 / math.sqrt(dx * dx + dy * dy + eps)
        f = mass[j] * inv * inv * inv
        ax += f * dx
        ay += f * dy
    acc[i, 0] = ax
    acc[i, 1] = ay


@case("nbody_f64", rtol=1e-10, atol=1e-10)
def _(rng):
    pos, mass = rng.standard_normal((70, 2)), rng.uniform(0.5, 1.5, 70)
    acc = np.zeros((70, 2))
    nbody_forces[1, 128](pos, mass, acc, 1e-3)
    d = pos[None, :, :] - pos[:, None, :]
    inv = 1.0 / np.sqrt((d ** 2).sum(-1) + 1e-3)
    return [(acc, (d * (mass[None, :] * inv ** 3)[..., None]).sum(1))]


# --- sorting networks ----------------------------------------------------------------------

@cuda.jit
def bitonic(x):
    s = cuda.shared.array(256, int32)
    t = cuda.threadIdx.x
    s[t] = x[t]
    cuda.syncthreads()
    k = 2
    while k <= 256:
        j = k // 2
        while j > 0:
            ixj = t ^ j
            if ixj > t:
                if (t & k) == 0:
                    if s[t] > s[ixj]:
                        s[t], s[ixj] = s[ixj], s[t]
                elif s[t] < s[ixj]:
                    s[t], s[ixj] = s[ixj], s[t]
            cuda.syncthreads()
            j //= 2
        k *= 2
    x[t] = s[t]


@case("bitonic_sort_256")
def _(rng):
    x = rng.integers(-500, 500, 256).astype(np.int32)
    want = np.sort(x)
    bitonic[1, 256](x)
    return [(x, want)]


# --- memory features -----------------------------------------------------------------------

@cuda.jit
def dynamic_reverse(x):
    buf = cuda.shared.array(0, dtype=float32)
    t = cuda.threadIdx.x
    buf[t] = x[t]
    cuda.syncthreads()
    x[t] = buf[cuda.blockDim.x - 1 - t]


@case("dynamic_shared_memory_fourth_launch_element")
def _(rng):
    x = rand(rng, 96)
    want = x[::-1].copy()
    stream = cuda.stream()
    dynamic_reverse[1, 96, stream, 96 * 4](x)
    stream.synchronize()
    return [(x, want)]


@cuda.jit
def local_sort(x, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        tmp = cuda.local.array(8, dtype=float64)
        for k in range(8):
            tmp[k] = x[i, k]
        for a in range(8):
            for b in range(7 - a):
                if tmp[b] > tmp[b + 1]:
                    tmp[b], tmp[b + 1] = tmp[b + 1], tmp[b]
        for k in range(8):
            out[i, k] = tmp[k]


@case("local_array_bubble_sort")
def _(rng):
    x = rng.standard_normal((40, 8))
    out = np.zeros_like(x)
    local_sort[1, 64](x, out)
    return [(out, np.sort(x, 1))]


@cuda.jit
def const_lookup(table, idx, out):
    lut = cuda.const.array_like(table)
    i = cuda.grid(1)
    if i < idx.size:
        out[i] = lut[idx[i]]


@case("const_array_like")
def _(rng):
    table = rand(rng, 16)
    idx = rng.integers(0, 16, 100).astype(np.int32)
    out = np.zeros(100, np.float32)
    const_lookup[1, 128](table, idx, out)
    return [(out, table[idx])]


@cuda.jit
def negative_index(x, out):
    i = cuda.grid(1)
    if i == 0:
        out[0] = x[-1]
        out[-1] = x[-2]


@case("negative_constant_indices_wrap")
def _(rng):
    x = rand(rng, 10)
    out = np.zeros(5, np.float32)
    negative_index[1, 32](x, out)
    return [(out, np.array([x[-1], 0, 0, 0, x[-2]]))]


@cuda.jit
def volume_fill(v):
    x, y, z = cuda.grid(3)
    nz, ny, nx = v.shape
    if x < nx and y < ny and z < nz:
        v[z, y, x] = x + 10 * y + 100 * z


@case("grid_3d")
def _(rng):
    v = np.zeros((6, 9, 11), np.int32)
    volume_fill[(2, 2, 2), (8, 8, 4)](v)
    return [(v, np.fromfunction(lambda z, y, x: x + 10 * y + 100 * z, v.shape))]


# --- typing and device functions ---------------------------------------------------------

@cuda.jit(device=True)
def clamp(v, lo, hi):
    return min(max(v, lo), hi)


@cuda.jit(device=True, inline=True)
def square(v):
    return v * v


@cuda.jit
def device_functions(x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = clamp(square(x[i]), 0.25, 2.0)


@case("device_functions_inline")
def _(rng):
    x = rand(rng, 100)
    out = np.zeros(100, np.float32)
    device_functions[1, 128](x, out)
    return [(out, np.clip(x.astype(np.float64) ** 2, 0.25, 2.0))]


@cuda.jit
def int64_arithmetic(out):
    i = cuda.grid(1)
    if i < out.size:
        big = 3000000000 + i
        out[i] = big * 3 // 7 - (big % 1000)


@case("int_literals_are_int64")
def _(rng):
    out = np.zeros(50, np.int64)
    int64_arithmetic[1, 64](out)
    big = 3000000000 + np.arange(50)
    return [(out, big * 3 // 7 - big % 1000)]


@cuda.jit
def mixed_precision(x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = x[i] * 0.1


@case("float32_times_literal_is_float64")
def _(rng):
    x = rand(rng, 64)
    out = np.zeros(64)
    mixed_precision[1, 64](x, out)
    return [(out, x.astype(np.float64) * 0.1)]


@cuda.jit
def casts(x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i, 0] = float32(x[i]) / float32(3)
        out[i, 1] = int64(x[i] * 2.5)
        out[i, 2] = np.float32(x[i]) + int32(1)


@case("numba_and_numpy_casts")
def _(rng):
    x = rng.integers(-50, 50, 40).astype(np.int32)
    out = np.zeros((40, 3))
    casts[1, 64](x, out)
    want = np.stack([(x.astype(np.float32) / np.float32(3)).astype(np.float64),
                     np.trunc(x * 2.5), x.astype(np.float32) + 1], 1)
    return [(out, want)]


@cuda.jit
def math_functions(x, out):
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        out[i, 0] = math.sin(v) + math.cos(v)
        out[i, 1] = math.exp(v) - math.log(abs(v) + 1.0)
        out[i, 2] = math.sqrt(abs(v)) + math.pow(abs(v), 1.5)
        out[i, 3] = math.tanh(v) + math.atan2(v, 2.0)
        out[i, 4] = math.floor(v) + math.ceil(v)
        out[i, 5] = cuda.fma(v, 2.0, 1.0) + cuda.selp(v > 0, 1.0, -1.0)


@case("math_module_float64", rtol=1e-12, atol=1e-12)
def _(rng):
    x = rng.uniform(-3, 3, 100)
    out = np.zeros((100, 6))
    math_functions[1, 128](x, out)
    want = np.stack([np.sin(x) + np.cos(x), np.exp(x) - np.log(np.abs(x) + 1),
                     np.sqrt(np.abs(x)) + np.abs(x) ** 1.5, np.tanh(x) + np.arctan2(x, 2),
                     np.floor(x) + np.ceil(x), x * 2 + 1 + np.where(x > 0, 1, -1)], 1)
    return [(out, want)]


@cuda.jit
def forall_kernel(x):
    i = cuda.grid(1)
    if i < x.size:
        x[i] = x[i] * 2


@case("forall")
def _(rng):
    x = np.arange(1000, dtype=np.float64)
    forall_kernel.forall(x.size)(x)
    return [(x, np.arange(1000) * 2.0)]


@cuda.jit
def syncwarp_exchange(x, out):
    s = cuda.shared.array(64, float32)
    t = cuda.threadIdx.x
    s[t] = x[t]
    cuda.syncwarp()
    out[t] = s[t ^ 1]
    cuda.threadfence()


@case("syncwarp_shared_exchange")
def _(rng):
    x = rand(rng, 64)
    out = np.zeros(64, np.float32)
    syncwarp_exchange[1, 64](x, out)
    return [(out, x[np.arange(64) ^ 1])]
