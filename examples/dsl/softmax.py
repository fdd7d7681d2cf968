"""Row softmax: one block of 256 threads per row; max and sum through shared-memory trees."""

import numpy as np

import warpforge as wf


@wf.kernel
def softmax(x: wf.f32[:, :], y: wf.f32[:, :], ncols: wf.i32):
    red = wf.shared(256, wf.f32)
    tid = wf.thread_idx.x
    row = wf.block_idx.x
    m = -3.0e38
    for c in range(tid, ncols, 256):
        m = max(m, x[row, c])
    red[tid] = m
    wf.syncthreads()
    for k in wf.static_range(8):
        s = 128 >> k
        if tid < s:
            red[tid] = max(red[tid], red[tid + s])
        wf.syncthreads()
    m = red[0]
    wf.syncthreads()
    total = 0.0
    for c in range(tid, ncols, 256):
        total += wf.exp(x[row, c] - m)
    red[tid] = total
    wf.syncthreads()
    for k in wf.static_range(8):
        s = 128 >> k
        if tid < s:
            red[tid] += red[tid + s]
        wf.syncthreads()
    inv = 1.0 / red[0]
    for c in range(tid, ncols, 256):
        y[row, c] = wf.exp(x[row, c] - m) * inv


def main(rows: int = 8, cols: int = 300) -> None:
    x = np.random.default_rng(6).standard_normal((rows, cols), dtype=np.float32) * 4
    y = np.zeros_like(x)
    softmax[rows, 256](x, y, cols)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(y, want, rtol=2e-5, atol=1e-7)
    print(f"softmax: {rows}x{cols} matches numpy")


if __name__ == "__main__":
    main()
