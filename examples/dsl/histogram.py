"""Histogram of bytes (0..255 as i32) with a per-block shared histogram, merged into the
global one with atomics."""

import numpy as np

import warpforge as wf


@wf.kernel
def histogram(data: wf.i32[:], bins: wf.i32[:], n: wf.i32):
    local_bins = wf.shared(256, wf.i32)
    tid = wf.thread_idx.x
    local_bins[tid] = 0
    wf.syncthreads()
    i = wf.block_idx.x * wf.block_dim.x + tid
    stride = wf.block_dim.x * wf.grid_dim.x
    while i < n:
        wf.atomic_add(local_bins, data[i], 1)
        i += stride
    wf.syncthreads()
    wf.atomic_add(bins, tid, local_bins[tid])


def main(n: int = 50_000) -> None:
    data = np.random.default_rng(7).integers(0, 256, n).astype(np.int32)
    bins = np.zeros(256, np.int32)
    histogram[16, 256](data, bins, n)
    np.testing.assert_array_equal(bins, np.bincount(data, minlength=256))
    print(f"histogram: {n} values in 256 bins match numpy")


if __name__ == "__main__":
    main()
