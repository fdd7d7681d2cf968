"""Divergent, data-dependent loops and a device function: Collatz step counts."""

import numpy as np

import warpforge as wf


@wf.func
def collatz_next(v):
    return v // 2 if v % 2 == 0 else 3 * v + 1


@wf.kernel
def collatz(x: wf.i32[:], steps: wf.i32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i >= n:
        return
    v = x[i]
    count = 0
    while v > 1:
        v = collatz_next(v)
        count += 1
    steps[i] = count


def collatz_reference(x: np.ndarray) -> np.ndarray:
    """Step counts in numpy."""
    v = x.astype(np.int64)
    steps = np.zeros(x.shape, np.int32)
    live = v > 1
    while live.any():
        v = np.where(live, np.where(v % 2 == 0, v // 2, 3 * v + 1), v)
        steps += live
        live = v > 1
    return steps


def main(n: int = 3000) -> None:
    x = np.random.default_rng(8).integers(0, 10_000, n).astype(np.int32)
    steps = np.zeros(n, np.int32)
    collatz[(n + 127) // 128, 128](x, steps, n)
    np.testing.assert_array_equal(steps, collatz_reference(x))
    print(f"collatz: {n} step counts match numpy (up to {steps.max()} iterations)")


if __name__ == "__main__":
    main()
