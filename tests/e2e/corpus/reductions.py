"""The corpus: reductions, scans, histograms and counters."""

from __future__ import annotations

import numpy as np

import warpforge as wf

from .base import case, f32

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
