"""Warp-shuffle reduction: butterfly sums inside each warp, one atomic per warp."""

import numpy as np

import warpforge as wf


@wf.kernel
def reduce_shfl(x: wf.f32[:], out: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    v = x[i] if i < n else 0.0
    for k in wf.static_range(5):
        v += wf.shfl_xor(v, 16 >> k)
    if wf.lane_id() == 0:
        wf.atomic_add(out, 0, v)


def main(n: int = 100_000) -> None:
    x = np.random.default_rng(2).standard_normal(n, dtype=np.float32)
    out = np.zeros(1, np.float32)
    reduce_shfl[(n + 255) // 256, 256](x, out, n)
    want = float(x.astype(np.float64).sum())
    assert abs(out[0] - want) <= 1e-5 * np.abs(x).sum(), (out[0], want)
    print(f"reduce_shfl: sum of {n} elements = {out[0]:.4f} (numpy {want:.4f})")


if __name__ == "__main__":
    main()
