"""The corpus: the documentation's first kernels, and reductions."""

from __future__ import annotations

import numpy as np

from warpforge import cuda
from warpforge.cuda import float32

from .base import case, rand

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
