"""The corpus: stencils, images and matrices."""

from __future__ import annotations

import numpy as np

from warpforge import cuda
from warpforge.cuda import float32

from .base import case, rand

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
