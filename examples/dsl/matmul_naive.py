"""Naive matmul: one thread per element of C = A @ B, a loop over K."""

import numpy as np

import warpforge as wf


@wf.kernel
def matmul(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :], m: wf.i32, n: wf.i32,
           k: wf.i32):
    row = wf.block_idx.y * wf.block_dim.y + wf.thread_idx.y
    col = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if row < m and col < n:
        acc = 0.0
        for p in range(k):
            acc += a[row, p] * b[p, col]
        c[row, col] = acc


def main(m: int = 48, n: int = 40, k: int = 36) -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.zeros((m, n), np.float32)
    matmul[((n + 15) // 16, (m + 15) // 16), (16, 16)](a, b, c, m, n, k)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    print(f"matmul_naive: {m}x{k} @ {k}x{n} matches numpy")


if __name__ == "__main__":
    main()
