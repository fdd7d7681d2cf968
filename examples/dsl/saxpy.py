"""saxpy: y = a*x + y, one thread per element (DESIGN.md's first example)."""

import numpy as np

import warpforge as wf


@wf.kernel
def saxpy(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        y[i] = a * x[i] + y[i]


def main(n: int = 10_000) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    want = np.float32(2.0) * x + y
    saxpy[(n + 255) // 256, 256](2.0, x, y, n)
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    print(f"saxpy: {n} elements match numpy")


if __name__ == "__main__":
    main()
