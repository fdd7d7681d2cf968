"""``wf.mma_sync``: the warp's 16x8x16 f16 MMA on both devices, against numpy in float64.

Fragments follow PTX ``mma.sync.m16n8k16.row.col`` (PTX ISA, "Matrix Fragments for
mma.m16n8k16 with floating point type"); the host packs them here independently of the
compiler and the simulator, so a layout mistake on either side shows as a wrong D.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import warpforge as wf

LANES = np.arange(32)
G, T = LANES // 4, LANES % 4
A_PLACES = [(G, 2 * T), (G + 8, 2 * T), (G, 2 * T + 8), (G + 8, 2 * T + 8)]
"""Per A register: (row, first column) of its f16 pair, for every lane."""
C_PLACES = [(G, 2 * T), (G, 2 * T + 1), (G + 8, 2 * T), (G + 8, 2 * T + 1)]
"""Per C/D register: (row, column) of its f32 element, for every lane."""


def pack_a(a: np.ndarray) -> np.ndarray:
    """16x16 f16 A as each lane's four u32 words, [32, 4]."""
    words = a.astype(np.float16).view(np.uint32)  # [16, 8]: column pairs
    return np.stack([words[r, c // 2] for r, c in A_PLACES], axis=1)


def pack_b(b: np.ndarray) -> np.ndarray:
    """16x8 f16 B (K x N) as each lane's two u32 words, [32, 2]."""
    words = np.ascontiguousarray(b.astype(np.float16).T).view(np.uint32)  # [8, 8]: k pairs
    return np.stack([words[G, T], words[G, T + 4]], axis=1)


def pack_c(c: np.ndarray) -> np.ndarray:
    """16x8 f32 C as each lane's four values, [32, 4]."""
    return np.stack([c[r, k] for r, k in C_PLACES], axis=1).astype(np.float32)


def unpack_d(d: np.ndarray) -> np.ndarray:
    """Each lane's four f32 values [32, 4] as the 16x8 D."""
    out = np.zeros((16, 8), np.float32)
    for j, (r, k) in enumerate(C_PLACES):
        out[r, k] = d[:, j]
    return out


def reference(a, b, c) -> np.ndarray:
    """A x B + C in float64 (f16 products are exact there), rounded once to f32."""
    return (a.astype(np.float64) @ b.astype(np.float64) + c).astype(np.float32)


@wf.kernel
def mma_rows(A, B, C):
    """D = A x B + C, fragments as rows of global arrays; D written over C."""
    lane = wf.lane_id()
    acc = wf.local((4,), wf.f32)
    for j in wf.static_range(4):
        acc[j] = C[lane, j]
    wf.mma_sync(acc, A[lane], B[lane], acc)
    for j in wf.static_range(4):
        C[lane, j] = acc[j]


@wf.kernel
def mma_tuples(A, B, C, D):
    """The three-argument form: tuples in, a tuple of D's four values out."""
    lane = wf.lane_id()
    d = wf.mma_sync((A[lane, 0], A[lane, 1], A[lane, 2], A[lane, 3]),
                    (B[lane, 0], B[lane, 1]),
                    (C[lane, 0], C[lane, 1], C[lane, 2], C[lane, 3]))
    D[lane, 0] = d[0]
    D[lane, 1] = d[1]
    D[lane, 2] = d[2]
    D[lane, 3] = d[3]


@wf.kernel
def mma_chain(A, B, C, steps):
    """C += sum over s < steps of A[s] x B[s]: a run-time loop carrying the accumulator,
    two tiles of D at once (rows of a 2-d local array)."""
    lane = wf.lane_id()
    acc = wf.local((2, 4), wf.f32)
    for i in wf.static_range(2):
        for j in wf.static_range(4):
            acc[i, j] = C[i, lane, j]
    for s in range(steps):
        for i in wf.static_range(2):
            wf.mma_sync(acc[i], A[s, lane], B[s, i, lane], acc[i])
    for i in wf.static_range(2):
        for j in wf.static_range(4):
            C[i, lane, j] = acc[i, j]


SANITIZED = wf.Simulator(sanitize="racecheck,initcheck")
DEVICES = [pytest.param(SANITIZED, id="sim"), pytest.param("cpu", id="cpu")]

halves = st.floats(-8, 8, width=16, allow_nan=False, allow_infinity=False)


def matrix(rows: int, cols: int, elements=halves, dtype=np.float16):
    """A hypothesis strategy for a matrix."""
    return hnp.arrays(dtype, (rows, cols), elements=elements)


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=8, deadline=None)
@given(a=matrix(16, 16), b=matrix(16, 8),
       c=matrix(16, 8, st.floats(-100, 100, width=32), np.float32))
def test_mma_matches_numpy(device, a, b, c):
    c = c.astype(np.float32)
    cf = pack_c(c)
    mma_rows.launch(1, 32, pack_a(a), pack_b(b), cf, device=device)
    np.testing.assert_array_equal(unpack_d(cf), reference(a, b, c))


@pytest.mark.parametrize("device", DEVICES)
def test_tuple_form_leaves_c(device):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((16, 16)).astype(np.float16)
    b = rng.standard_normal((16, 8)).astype(np.float16)
    c = rng.standard_normal((16, 8)).astype(np.float32)
    cf, df = pack_c(c), np.zeros((32, 4), np.float32)
    mma_tuples.launch(1, 32, pack_a(a), pack_b(b), cf, df, device=device)
    np.testing.assert_array_equal(unpack_d(df), reference(a, b, c))
    np.testing.assert_array_equal(unpack_d(cf), c)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("steps", [0, 1, 5])
def test_loop_carried_accumulators(device, steps):
    rng = np.random.default_rng(steps)
    a = rng.integers(-4, 5, (steps, 16, 16)).astype(np.float16)
    b = rng.integers(-4, 5, (steps, 2, 16, 8)).astype(np.float16)
    c = rng.integers(-50, 50, (2, 16, 8)).astype(np.float32)
    af = np.stack([pack_a(x) for x in a]) if steps else np.zeros((0, 32, 4), np.uint32)
    bf = (np.stack([[pack_b(x) for x in pair] for pair in b]) if steps
          else np.zeros((0, 2, 32, 2), np.uint32))
    cf = np.stack([pack_c(x) for x in c])
    mma_chain.launch(1, 32, af, bf, cf, np.int32(steps), device=device)
    for i in range(2):
        want = c[i] + sum((a[s].astype(np.float64) @ b[s, i].astype(np.float64)
                           for s in range(steps)), np.zeros((16, 8)))
        np.testing.assert_array_equal(unpack_d(cf[i]), want.astype(np.float32))


def test_sass_is_one_hmma_without_copies():
    """The loop's body is the loads and two HMMAs: the fragments are loaded into their
    register groups and the accumulators stay in theirs around the loop (no MOV)."""
    args = (np.zeros((2, 32, 4), np.uint32), np.zeros((2, 2, 32, 2), np.uint32),
            np.zeros((2, 32, 4), np.float32), np.int32(2))
    asm = mma_chain.asm(*args)
    body = asm[asm.index(".L_loop"):]
    body = body[:body.index("BRA")]
    assert body.count("HMMA.16816.F32") == 2
    assert "MOV " not in body, body


def test_divergent_mma_is_a_warp_error():
    @wf.kernel
    def half_warp(A, B, C):
        lane = wf.lane_id()
        if lane < 16:
            wf.mma_sync(C[lane], A[lane], B[lane], C[lane])

    args = (np.zeros((32, 4), np.uint32), np.zeros((32, 2), np.uint32),
            np.zeros((32, 4), np.float32))
    with pytest.raises(wf.WarpforgeError, match="not converged"):
        half_warp.launch(1, 32, *args, device="sim")


@pytest.mark.parametrize("body, message", [
    ("wf.mma_sync((A[0], A[1]), (A[0], A[1]), (C[0], C[1], C[2], C[3]))",
     "A fragment needs 4 values, not 2"),
    ("wf.mma_sync(F, C, (A[0], A[1]), C)", "A fragment must hold u32, not f32"),
    ("wf.mma_sync(A, A, (A[0], A[1]), C)", "D fragment must hold f32, not u32"),
    ("wf.mma_sync(C, (A[0], A[1]), C)", "A fragment must hold u32, not f32"),
    ("wf.mma_sync(3, (A[0], A[1]), C)", "A fragment must be 4 values"),
    ("wf.mma_sync(F, (A[0], A[1]), C)", "must have 4 elements along its last axis"),
])
def test_bad_fragments_name_the_line(body, message):
    from tests.dsl.support import load_source

    fn, path = load_source(f"""
        def bad(A, C):
            F = wf.local((3,), wf.u32)
            {body}
        """, "bad")
    k = wf.kernel(fn)
    with pytest.raises(wf.CompileError, match=message) as err:
        k.ir(np.zeros(4, np.uint32), np.zeros(4, np.float32))
    lines = path.read_text().splitlines()
    assert lines[err.value.line - 1].strip() == body
