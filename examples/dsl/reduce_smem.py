"""Shared-memory tree reduction: each block sums its 256 elements, one atomic per block."""

import numpy as np

import warpforge as wf


@wf.kernel
def reduce_sum(x: wf.f32[:], out: wf.f32[:], n: wf.i32):
    s = wf.shared(256, wf.f32)
    tid = wf.thread_idx.x
    i = wf.block_idx.x * wf.block_dim.x + tid
    s[tid] = x[i] if i < n else 0.0
    wf.syncthreads()
    stride = wf.block_dim.x // 2
    while stride > 0:
        if tid < stride:
            s[tid] += s[tid + stride]
        wf.syncthreads()
        stride //= 2
    if tid == 0:
        wf.atomic_add(out, 0, s[0])


def main(n: int = 100_000) -> None:
    x = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
    out = np.zeros(1, np.float32)
    reduce_sum[(n + 255) // 256, 256](x, out, n)
    want = float(x.astype(np.float64).sum())
    assert abs(out[0] - want) <= 1e-5 * np.abs(x).sum(), (out[0], want)
    print(f"reduce_smem: sum of {n} elements = {out[0]:.4f} (numpy {want:.4f})")


if __name__ == "__main__":
    main()
