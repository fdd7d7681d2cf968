"""The corpus: row-wise softmax and normalization, and odds and ends."""

from __future__ import annotations

import numpy as np

import warpforge as wf

from .base import case, f32

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
