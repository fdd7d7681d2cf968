"""The corpus: elementwise kernels and grid-stride loops."""

from __future__ import annotations

import math

import numpy as np

import warpforge as wf

from .base import case, f32

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
