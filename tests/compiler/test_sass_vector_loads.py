"""Shared loads of consecutive words merged into LDS.64 / LDS.128 (``compiler/sass/vectorize``).

The simulator faults on a misaligned vector access, so every run here also checks the
alignment proof; results are compared with numpy.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import warpforge as wf

ROW = 9 * 32
"""Words of a shared row before padding: room for ``tx * 8 + 7 + shift + 7``."""


@wf.kernel
def weighted_run(x: wf.f32[:], out: wf.f32[:], n: wf.i32, MUL: wf.constexpr,
                 SHIFT: wf.constexpr, COUNT: wf.constexpr, PAD: wf.constexpr,
                 RUNTIME: wf.constexpr):
    """Each thread sums ``COUNT`` consecutive words of its row from ``tx * MUL + SHIFT``
    (plus ``n`` when ``RUNTIME``), weighted 1, 2, 3, ..."""
    sh = wf.shared((4, 9 * 32 + PAD), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    for r in wf.static_range((9 * 32 + PAD + 31) // 32):
        c = tx + r * 32
        if c < 9 * 32 + PAD:
            sh[ty, c] = x[ty * (9 * 32 + PAD) + c]
    wf.syncthreads()
    start = tx * MUL + SHIFT
    if RUNTIME == 1:
        start = tx * MUL + SHIFT + n
    s = 0.0
    for j in wf.static_range(COUNT):
        s += sh[ty, start + j] * (j + 1.0)
    out[ty * 32 + tx] = s


def run(mul, shift, count, pad, runtime=0, n=0):
    width = ROW + pad
    x = np.random.default_rng(0).standard_normal(4 * width).astype(np.float32)
    out = np.zeros(4 * 32, np.float32)
    args = dict(MUL=mul, SHIFT=shift, COUNT=count, PAD=pad, RUNTIME=runtime)
    with wf.device(wf.Simulator()):
        weighted_run[1, (32, 4)](x, out, n, **args)
    start = np.arange(32) * mul + shift + (n if runtime else 0)
    rows = x.reshape(4, width)
    want = sum(rows[:, start + j] * np.float32(j + 1.0) for j in range(count))
    np.testing.assert_allclose(out.reshape(4, 32), want, rtol=1e-5, atol=1e-5)
    asm = weighted_run.compile(x, out, n, target="sim", **args).asm
    return re.findall(r"\bLDS(?:\.\d+)? ", asm)


@pytest.mark.parametrize(("shift", "loads"), [
    (0, ["LDS.128 "]),                      # 16-byte aligned: one quad
    (2, ["LDS.64 ", "LDS.64 "]),            # 8-byte aligned: two pairs
    (1, ["LDS ", "LDS.64 ", "LDS "]),       # a pair in the middle only
])
def test_consecutive_words_become_the_widest_aligned_loads(shift, loads):
    assert sorted(run(4, shift, 4, 0)) == sorted(loads)


def test_rows_that_break_alignment_keep_scalar_loads():
    # a row of 289 words: row ty starts at 4 * 289 * ty bytes, only 4-byte aligned
    assert run(4, 0, 4, 1) == ["LDS "] * 4
    assert run(4, 0, 4, 4) == ["LDS.128 "]  # 292 words: 16-byte rows again


def test_a_runtime_offset_of_unknown_alignment_keeps_scalar_loads():
    assert run(4, 0, 4, 0, runtime=1, n=3) == ["LDS "] * 4


@wf.kernel
def store_between(x: wf.f32[:], out: wf.f32[:]):
    """Reads a run of 4 words, but overwrites the third between the first two loads and
    the rest: the loads after the store must see it."""
    sh = wf.shared((128,), wf.f32)
    tx = wf.thread_idx.x
    for r in wf.static_range(4):
        sh[tx * 4 + r] = x[tx * 4 + r]
    a = sh[tx * 4]
    b = sh[tx * 4 + 1]
    sh[tx * 4 + 2] = a + b
    c = sh[tx * 4 + 2]
    d = sh[tx * 4 + 3]
    out[tx] = a + 2.0 * b + 4.0 * c + 8.0 * d


def test_loads_are_not_merged_across_a_shared_store():
    x = np.arange(128, dtype=np.float32)
    out = np.zeros(32, np.float32)
    with wf.device(wf.Simulator()):
        store_between[1, 32](x, out)
    q = x.reshape(32, 4)
    np.testing.assert_array_equal(out, q[:, 0] + 2 * q[:, 1] + 4 * (q[:, 0] + q[:, 1])
                                  + 8 * q[:, 3])
    asm = store_between.compile(x, out, target="sim").asm
    assert "LDS.128" not in asm and asm.count("LDS.64") == 2  # (a, b) and (c, d)


@settings(max_examples=20, deadline=None)
@given(mul=st.sampled_from([1, 2, 3, 4, 8]), shift=st.integers(0, 7),
       count=st.integers(1, 8), pad=st.sampled_from([0, 1, 2, 4]),
       runtime=st.integers(0, 1), n=st.integers(0, 3))
def test_random_runs_agree_with_numpy_and_never_misalign(mul, shift, count, pad, runtime, n):
    loads = run(mul, shift, count, pad, runtime, n)
    words = sum({"LDS ": 1, "LDS.64 ": 2, "LDS.128 ": 4}[w] for w in loads)
    assert words == count  # every word read exactly once
