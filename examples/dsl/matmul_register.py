"""Register-tiled SGEMM: C = A @ B with a CTA tile of BM x BN stepping BK through shared
memory and a TM x TN tile of C in each thread's registers.

The block is (BX, BY) threads with BM = BY * TM and BN = BX * TN. Thread (tx, ty) owns the
rows ``ty * TM + i`` (i < TM) and the columns ``tx + j * BX`` (j < TN) of the CTA tile, so
threads consecutive in x touch consecutive columns: on the CPU device a lane group (16
consecutive threads of one row of the block when BX is a multiple of the lane width) reads
one vector of the shared B tile per column block and one broadcast value of the shared A
tile per row, and each step of k is TM broadcasts x TN vector loads -> TM * TN fused
multiply-adds on TM * TN vector accumulators.

The staging loops copy both tiles with the column index ``... + tx`` last, so they are vector
loads and stores too. Sizes: M a multiple of BM, N a multiple of BN and K a multiple of BK,
with BK a multiple of both BX and BY; there are no bounds checks inside the kernel.

"""

import numpy as np

import warpforge as wf


@wf.kernel
def matmul_register(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :], k: wf.i32,
                    BX: wf.constexpr, BY: wf.constexpr, BK: wf.constexpr,
                    TM: wf.constexpr, TN: wf.constexpr):
    """c = a @ b for a (M, K), b (K, N), c (M, N); launch on grid (N // BN, M // BM) with
    block (BX, BY)."""
    BM = BY * TM
    BN = BX * TN
    As = wf.shared((BM, BK), wf.f32)
    Bs = wf.shared((BK, BN), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    row0 = wf.block_idx.y * BM
    col0 = wf.block_idx.x * BN
    acc = wf.local((TM, TN), wf.f32)
    for i in wf.static_range(TM):
        for j in wf.static_range(TN):
            acc[i, j] = 0.0
    for t in range(0, k, BK):
        for i in wf.static_range(BM // BY):
            for j in wf.static_range(BK // BX):
                As[i * BY + ty, j * BX + tx] = a[row0 + i * BY + ty, t + j * BX + tx]
        for i in wf.static_range(BK // BY):
            for j in wf.static_range(BN // BX):
                Bs[i * BY + ty, j * BX + tx] = b[t + i * BY + ty, col0 + j * BX + tx]
        wf.syncthreads()
        for p in wf.static_range(BK):
            for i in wf.static_range(TM):
                a_val = As[ty * TM + i, p]
                for j in wf.static_range(TN):
                    acc[i, j] += a_val * Bs[p, j * BX + tx]
        wf.syncthreads()
    for i in wf.static_range(TM):
        for j in wf.static_range(TN):
            c[row0 + ty * TM + i, col0 + j * BX + tx] = acc[i, j]


CPU_TILES = {"BX": 16, "BY": 8, "BK": 64, "TM": 4, "TN": 4}
"""The fastest tiles measured on the CPU device at N = 1024 (AVX-512, 16 lanes): a 32 x 64
CTA tile stepping 64 along k, 4 x 4 accumulators per thread (16 vector registers per lane
group). They fit the simulator's budgets too (180 registers, 24 KiB of shared memory)."""
SMALL_TILES = {"BX": 16, "BY": 4, "BK": 16, "TM": 2, "TN": 2}
"""Small tiles for :func:`main`: the same kernel, quick to compile and to simulate."""


def launch_shape(m: int, n: int, tiles: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (grid, block) that runs ``matmul_register`` on an (m, n) result with ``tiles``."""
    bm, bn = tiles["BY"] * tiles["TM"], tiles["BX"] * tiles["TN"]
    return (n // bn, m // bm), (tiles["BX"], tiles["BY"])


def launch(a: np.ndarray, b: np.ndarray, c: np.ndarray, device=None,
           tiles: dict | None = None):
    """Run ``c = a @ b`` with ``tiles`` (default :data:`CPU_TILES`) on ``device`` (default:
    the current one); returns the launch result. The shapes must be multiples of the tiles."""
    tiles = CPU_TILES if tiles is None else tiles
    (m, k), n = a.shape, b.shape[1]
    grid, block = launch_shape(m, n, tiles)
    return matmul_register.launch(grid, block, a, b, c, k, device=device, **tiles)


def main(m: int = 64, n: int = 96, k: int = 48, tiles: dict | None = None) -> None:
    """Multiply small random matrices with ``tiles`` (default :data:`SMALL_TILES`) and check
    the product against numpy."""
    tiles = SMALL_TILES if tiles is None else tiles
    rng = np.random.default_rng(11)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.zeros((m, n), np.float32)
    launch(a, b, c, tiles=tiles)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    print(f"matmul_register: {m}x{k} @ {k}x{n} matches numpy")


if __name__ == "__main__":
    main()
