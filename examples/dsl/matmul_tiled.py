"""16x16 shared-memory tiled matmul: each block stages a tile of A and of B per step of K.
M, N and K multiples of 16."""

import numpy as np

import warpforge as wf


@wf.kernel
def matmul_tiled(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :], k: wf.i32):
    As = wf.shared((16, 16), wf.f32)
    Bs = wf.shared((16, 16), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    row = wf.block_idx.y * 16 + ty
    col = wf.block_idx.x * 16 + tx
    acc = 0.0
    for t in range(0, k, 16):
        As[ty, tx] = a[row, t + tx]
        Bs[ty, tx] = b[t + ty, col]
        wf.syncthreads()
        for p in wf.static_range(16):
            acc += As[ty, p] * Bs[p, tx]
        wf.syncthreads()
    c[row, col] = acc


def main(m: int = 64, n: int = 48, k: int = 32) -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.zeros((m, n), np.float32)
    matmul_tiled[(n // 16, m // 16), (16, 16)](a, b, c, k)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    print(f"matmul_tiled: {m}x{k} @ {k}x{n} matches numpy")


if __name__ == "__main__":
    main()
