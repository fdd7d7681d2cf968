"""The corpus: memory features, typing and device functions."""

from __future__ import annotations

import math

import numpy as np

from warpforge import cuda
from warpforge.cuda import float32, float64, int32, int64

from .base import case, rand

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
