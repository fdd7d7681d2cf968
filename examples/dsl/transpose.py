"""Matrix transpose through a padded 32x33 shared tile (no bank conflicts): block (32, 8),
each thread moves four elements."""

import numpy as np

import warpforge as wf


@wf.kernel
def transpose(src: wf.f32[:, :], dst: wf.f32[:, :], height: wf.i32, width: wf.i32):
    tile = wf.shared((32, 33), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    x = wf.block_idx.x * 32 + tx
    y = wf.block_idx.y * 32 + ty
    for j in wf.static_range(0, 32, 8):
        if x < width and y + j < height:
            tile[ty + j, tx] = src[y + j, x]
    wf.syncthreads()
    x = wf.block_idx.y * 32 + tx
    y = wf.block_idx.x * 32 + ty
    for j in wf.static_range(0, 32, 8):
        if x < height and y + j < width:
            dst[y + j, x] = tile[tx, ty + j]


def main(height: int = 100, width: int = 70) -> None:
    src = np.random.default_rng(3).standard_normal((height, width), dtype=np.float32)
    dst = np.zeros((width, height), np.float32)
    transpose[((width + 31) // 32, (height + 31) // 32), (32, 8)](src, dst, height, width)
    np.testing.assert_array_equal(dst, src.T)
    print(f"transpose: {height}x{width} matches numpy")


if __name__ == "__main__":
    main()
