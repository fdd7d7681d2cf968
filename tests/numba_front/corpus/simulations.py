"""The corpus: simulations and sorting networks."""

from __future__ import annotations

import math

import numpy as np

from warpforge import cuda
from warpforge.cuda import int32

from .base import case

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
