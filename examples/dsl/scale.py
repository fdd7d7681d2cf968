"""scale: x *= F in place with a grid-stride loop; F is a compile-time constant (the
README's command-line tour compiles it with ``-D F=3``)."""

import numpy as np

import warpforge as wf


@wf.kernel
def scale(x: wf.f32[:], n: wf.i32, F: wf.constexpr):
    start = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    for i in range(start, n, wf.block_dim.x * wf.grid_dim.x):
        x[i] = x[i] * F


def main(n: int = 5_000) -> None:
    x = np.arange(n, dtype=np.float32)
    scale[8, 128](x, n, F=3)
    np.testing.assert_array_equal(x, np.arange(n, dtype=np.float32) * 3)
    print(f"scale: {n} elements match numpy (8 blocks of 128 threads, grid-stride)")


if __name__ == "__main__":
    main()
