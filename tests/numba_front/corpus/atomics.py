"""The corpus: histograms, atomics and scans."""

from __future__ import annotations

import numpy as np

from warpforge import cuda
from warpforge.cuda import int32, uint32

from .base import case, rand

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
