"""The corpus: stencils, images and matrices."""

from __future__ import annotations

import numpy as np

import warpforge as wf

from .base import case, f32

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
