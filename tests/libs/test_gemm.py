"""libs.gemm against numpy in float64, on both devices: hypothesis-drawn shapes, layouts,
alpha/beta, bias and activations, every legal configuration on a few shapes, and bad
input. The simulator runs with the hazard checker and racecheck/initcheck on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.libs import gemm
from warpforge.libs.gemm import tuning
from warpforge.libs.gemm.config import GemmConfig, legal

GELU_C = np.sqrt(2 / np.pi)


def sim() -> wf.Simulator:
    return wf.Simulator("test", check_hazards=True, sanitize="racecheck,initcheck")


def device(name: str):
    return sim() if name == "sim" else wf.CPU(threads=2, checked=True)


def reference(A, B, C=None, alpha=1.0, beta=0.0, bias=None, activation=None):
    out = alpha * (A.astype(np.float64) @ B.astype(np.float64))
    if C is not None and beta:
        out += beta * C.astype(np.float64)
    if bias is not None:
        out += bias
    if activation == "relu":
        out = np.maximum(out, 0)
    if activation == "gelu":
        out = 0.5 * out * (1 + np.tanh(GELU_C * (out + 0.044715 * out**3)))
    return out


def check(got, want, K):
    """float32 accumulation of K products of magnitude about 1: the error grows with K."""
    tol = 1e-5 * (4 + K) * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def operands(rng, M, N, K, layout="rr", dtype=np.float32):
    A = rng.standard_normal((M, K)).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    if layout[0] == "c":
        A = np.asfortranarray(A)
    if layout[1] == "c":
        B = np.asfortranarray(B)
    return A, B


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(M=st.integers(1, 300), N=st.integers(1, 300), K=st.integers(1, 300),
       layout=st.sampled_from(["rr", "rc", "cr", "cc"]), seed=st.integers(0, 2**31))
def test_any_shape_and_layout_on_the_cpu(M, N, K, layout, seed):
    rng = np.random.default_rng(seed)
    A, B = operands(rng, M, N, K, layout)
    check(gemm.matmul(A, B, device=device("cpu")), reference(A, B), K)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(M=st.integers(1, 70), N=st.integers(1, 70), K=st.integers(1, 70),
       layout=st.sampled_from(["rr", "rc", "cr", "cc"]), seed=st.integers(0, 2**31))
def test_any_shape_and_layout_on_the_simulator(M, N, K, layout, seed):
    rng = np.random.default_rng(seed)
    A, B = operands(rng, M, N, K, layout)
    check(gemm.matmul(A, B, device=sim()), reference(A, B), K)


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("activation", [None, "relu", "gelu"])
def test_the_epilogue_alpha_beta_bias_and_activation(dev, activation):
    rng = np.random.default_rng(3)
    M, N, K = 45, 37, 29
    A, B = operands(rng, M, N, K)
    C = rng.standard_normal((M, N)).astype(np.float32)
    bias = rng.standard_normal(N).astype(np.float32)
    want = reference(A, B, C, alpha=1.5, beta=-0.5, bias=bias, activation=activation)
    out = gemm.matmul(A, B, C, alpha=1.5, beta=-0.5, bias=bias, activation=activation,
                      device=device(dev))
    assert out is C
    check(C, want, K)


SPLIT_AND_GROUP = [
    GemmConfig(16, 16, 4, 2, 2, SPLIT_K=3, ATOMIC=0),
    GemmConfig(16, 32, 8, 2, 2, SPLIT_K=2, ATOMIC=1),
    GemmConfig(16, 16, 4, 1, 2, GROUP=4),
    GemmConfig(32, 16, 4, 2, 1, GROUP=8, SPLIT_K=2, ATOMIC=0),
    GemmConfig(16, 16, 8, 2, 2, STAGES=2),
    GemmConfig(32, 16, 4, 2, 2, STAGES=2, PAD=1, SPLIT_K=2),
    GemmConfig(16, 32, 16, 1, 4, STAGES=2, PAD=4),
    # vector fragments and the flat tile copy: fewer tile elements than threads (16x4 of
    # A for 128), a B tile wider than the CTA (128 columns for 64 threads), padding that
    # keeps or breaks 16-byte rows, with split-K and two stages
    GemmConfig(16, 128, 4, 4, 4, VEC=4),
    GemmConfig(16, 128, 4, 4, 8, VEC=4, STAGES=2, PAD=4),
    GemmConfig(32, 64, 16, 4, 4, VEC=4, STAGES=2, PAD=1, SPLIT_K=2),
    GemmConfig(128, 32, 8, 8, 4, VEC=4, STAGES=2, PAD=4, GROUP=4),
    # warp tiles: 4x8 and 8x4 lanes, with split-K (atomic) and one or two stages
    GemmConfig(32, 64, 8, 4, 4, VEC=4, STAGES=2, PAD=4, WM=16, WN=32, SPLIT_K=3, ATOMIC=1),
    GemmConfig(64, 32, 16, 4, 4, VEC=4, PAD=4, WM=32, WN=16),
]


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("config", SPLIT_AND_GROUP, ids=lambda c: tuning.label(c))
def test_split_k_stages_and_rasterization_give_the_same_product(dev, config):
    """Odd M, N and K (edge tiles, a last K slice shorter than the others), with beta and
    bias; the reduction form also with an activation."""
    rng = np.random.default_rng(7)
    M, N, K = 53, 41, 37
    A, B = operands(rng, M, N, K)
    C = rng.standard_normal((M, N)).astype(np.float32)
    bias = rng.standard_normal(N).astype(np.float32)
    act = None if config.ATOMIC else "relu"
    want = reference(A, B, C, alpha=0.5, beta=2.0, bias=bias, activation=act)
    gemm.matmul(A, B, C, alpha=0.5, beta=2.0, bias=bias, activation=act, config=config,
                device=device(dev))
    check(C, want, K)


def test_split_k_with_tiles_dividing_the_problem():
    A, B = operands(np.random.default_rng(8), 32, 32, 64)
    for config in (GemmConfig(16, 16, 8, 2, 2, SPLIT_K=4),
                   GemmConfig(16, 16, 8, 2, 2, SPLIT_K=2, ATOMIC=1),
                   GemmConfig(16, 16, 8, 2, 2, SPLIT_K=2, STAGES=2, PAD=1)):
        assert config.divides(32, 32, 64)
        check(gemm.matmul(A, B, config=config, device=sim()), reference(A, B), 64)


def test_atomic_split_k_refuses_an_activation():
    A, B = operands(np.random.default_rng(9), 8, 8, 8)
    C = np.full((8, 8), 3.0, np.float32)
    with pytest.raises(wf.LaunchError, match=r"atomic split-K.*cannot apply the 'gelu'"):
        gemm.matmul(A, B, C, activation="gelu", device=sim(),
                    config=GemmConfig(16, 16, 4, 2, 2, SPLIT_K=2, ATOMIC=1))
    assert (C == 3.0).all()
    assert "needs SPLIT_K > 1" in GemmConfig(16, 16, 4, 2, 2, ATOMIC=1).why_illegal()
    assert "SPLIT_K from 1 to 16" in GemmConfig(16, 16, 4, 2, 2, SPLIT_K=17).why_illegal()
    assert "SPLIT_K from 1 to 16" in GemmConfig(16, 16, 4, 2, 2, SPLIT_K=0).why_illegal()
    assert GemmConfig(16, 16, 4, 2, 2, SPLIT_K=3).why_illegal() is None
    for bad in (dict(WM=16, WN=32), dict(VEC=4, WM=16, WN=16), dict(VEC=4, WM=48, WN=16),
                dict(VEC=4, WM=16)):  # no VEC=4; 16 lanes; not dividing 64; no WN
        assert "warp tile" in GemmConfig(64, 64, 8, 4, 4, **bad).why_illegal()
    assert GemmConfig(64, 64, 8, 4, 4, VEC=4, WM=16, WN=32).why_illegal() is None


def test_beta_zero_does_not_read_c():
    A, B = operands(np.random.default_rng(4), 20, 20, 20)
    C = np.full((20, 20), np.nan, np.float32)
    gemm.matmul(A, B, C, beta=0.0, device=sim())
    check(C, reference(A, B), 20)


@pytest.mark.parametrize(("dtype", "seed"), [(np.float32, 5), (np.float16, 8)])
def test_strided_views_work(dtype, seed):
    """Both templates: f32 operands run the SIMT one, f16 the tensor-core one."""
    rng = np.random.default_rng(seed)
    big_a = rng.standard_normal((90, 70)).astype(dtype)
    big_b = rng.standard_normal((80, 60)).astype(dtype)
    A, B = big_a[::2, 1::2], big_b[:35, ::3]       # 45x35 and 35x20
    for dev in ("sim", "cpu"):
        check(gemm.matmul(A, B, device=device(dev)), reference(A, B), 35)


def test_every_config_of_the_space_is_correct_on_the_simulator():
    # 19x13x5: edge tiles in M, N and K; its space (tiles up to 32x32x8) holds every
    # config of any smaller problem.
    M, N, K = 19, 13, 5
    A, B = operands(np.random.default_rng(6), M, N, K)
    want = reference(A, B)
    space = gemm.configs(M, N, K)
    assert space and all(c.why_illegal() is None for c in space)
    device = wf.Simulator("test", timing=False)
    for config in space:
        check(gemm.matmul(A, B, config=config, device=device), want, K)
        if config.TM % 4 == 0 and config.TN % 4 == 0:  # and with vector fragments
            vec = dataclasses.replace(config, VEC=4)
            check(gemm.matmul(A, B, config=vec, device=device), want, K)


def test_the_space_holds_only_legal_configs():
    space = legal()
    assert len(space) >= 200
    for c in space:
        assert c.threads % 32 == 0 and 32 <= c.threads <= 1024
        assert c.shared_bytes <= 48 * 1024 and c.registers <= 255
        assert c.registers * c.threads <= 65536
    assert "a CTA (at most 65536)" in GemmConfig(128, 128, 8, 4, 4).why_illegal()  # 1024 thr.
    assert "thread tiles are" in GemmConfig(128, 128, 8, 8, 16).why_illegal()


@pytest.mark.parametrize("even,stages", [(0, 1), (1, 1), (0, 2)])
def test_the_configs_nearest_the_register_limit_compile_within_their_budget(even, stages):
    """The register budget the space is pruned by holds for what the compiler gives,
    edge-tile guards and the second stage's prefetch included, where it matters: the
    legal configs nearest to 65,536 registers a CTA and 255 a thread."""
    from warpforge.libs.gemm.simt import gemm_simt
    space = [dataclasses.replace(c, STAGES=stages) for c in legal()]
    space = [c for c in space if c.why_illegal() is None]
    tight = sorted(space, key=lambda c: -c.registers * c.threads)[:3] + \
        sorted(space, key=lambda c: -c.registers)[:1]
    A = np.ones((8, 8), np.float32)
    for c in tight:
        compiled = gemm_simt.compile(A, A, A, np.zeros(1, np.float32), 8, 8, 8, 1.0, 0.0,
                                     target="sim", BETA=0, HAS_BIAS=0, ACT=0, EVEN=even,
                                     **c.constexprs())
        assert compiled.registers <= c.registers, c
        assert compiled.registers * c.threads <= 65536, c
    assert "warps" in GemmConfig(16, 16, 4, 4, 4).why_illegal()     # 16 threads
    assert "VEC is 1, or 4" in GemmConfig(32, 32, 4, 2, 4, VEC=4).why_illegal()


# --- bad input ---------------------------------------------------------------------------

def test_bad_input_is_a_launch_error_naming_the_argument_with_c_untouched():
    A = np.ones((4, 3), np.float32)
    B = np.ones((3, 5), np.float32)
    C = np.full((4, 5), 7.0, np.float32)
    cases = [
        (dict(A=np.ones((4, 3), np.float64), B=B), "A must be a 2-D float32"),
        (dict(A=np.ones(12, np.float32), B=B), "A must be a 2-D float32"),
        (dict(A=A, B=np.ones((4, 5), np.float32)), "B has 4 rows but A has 3 columns"),
        (dict(A=A, B=B, C=np.ones((5, 4), np.float32)), "C must be a 4x5 float32"),
        (dict(A=A, B=B, C=C.astype(np.float64)), "C must be a 4x5 float32"),
        (dict(A=A, B=B, bias=np.ones(4, np.float32)), "bias must be a float32 vector"),
        (dict(A=A, B=B, activation="swish"), "activation must be one of"),
        (dict(A=A, B=B, alpha="2"), "alpha must be a number"),
        (dict(A=A, B=B, config=GemmConfig(16, 16, 4, 4, 4)), "cannot run"),
    ]
    for kwargs, message in cases:
        with pytest.raises(wf.LaunchError, match=message):
            gemm.matmul(**{"C": C, **kwargs}, device=sim())
        assert (C == 7.0).all()


def test_c_aliasing_an_input_is_refused():
    X = np.ones((6, 6), np.float32)
    with pytest.raises(wf.LaunchError, match="C shares memory with A"):
        gemm.matmul(X, np.ones((6, 6), np.float32), X, device=sim())
    with pytest.raises(wf.LaunchError, match="C shares memory with B"):
        gemm.matmul(np.ones((6, 6), np.float32), X[:, :], X, device=sim())


def test_configs_rejects_nonsense():
    with pytest.raises(wf.LaunchError, match="M must be a positive int"):
        gemm.configs(0, 4, 4)
    with pytest.raises(wf.LaunchError, match="takes f32"):
        gemm.configs(4, 4, 4, dtype="f64")


def test_the_heuristic_splits_k_to_keep_units_busy():
    from warpforge.libs.gemm.config import (
        MIN_BUSY,
        SIM_TILES,
        SPLIT_SLACK,
        SPLIT_STEPS,
        SPLITS,
        default_config,
        wave_efficiency,
    )
    # the documented example: N=1024's 64 tiles of 128x128 in 10 slices are 640 CTAs,
    # 99% of 3 waves of 216 slots (2 CTAs an SM)
    assert default_config(1024, 1024, 108, k=1024) == GemmConfig(
        128, 128, 8, 8, 8, SPLIT_K=10, ATOMIC=1, STAGES=2, PAD=4, VEC=4)
    assert wave_efficiency(512, 216) < 0.8 < 0.98 < wave_efficiency(640, 216)
    slots = {tile: (whole, edged) for tile, _, whole, edged in SIM_TILES}
    for m, n, k in ((1024, 1024, 1024), (512, 512, 512), (256, 256, 256), (64, 64, 4096),
                    (2048, 2048, 2048), (4096, 64, 4096), (16, 4096, 4096), (300, 7, 999),
                    (1000, 1000, 1000)):
        c = default_config(m, n, 108, k=k)
        whole, edged = slots[c.BM]
        units = 108 * (whole if m % c.BM == n % c.BM == k % 8 == 0 else edged)
        ctas = c.grid(m, n)[0] * c.grid(m, n)[1]
        allowed = [s for s in SPLITS if s == 1 or k >= s * c.BK * SPLIT_STEPS]
        best = max(wave_efficiency(ctas * s, units) for s in allowed)
        assert c.SPLIT_K in allowed and c.why_illegal() is None
        assert wave_efficiency(ctas * c.SPLIT_K, units) >= best * (1 - SPLIT_SLACK)
        assert all(wave_efficiency(ctas * s, units) < best * (1 - SPLIT_SLACK)
                   for s in allowed if s < c.SPLIT_K)
        assert wave_efficiency(ctas * c.SPLIT_K, units) >= MIN_BUSY or c.BM == 16
        assert max(16, 2 * min(m, n)) >= c.BM and (c.SPLIT_K > 1) == c.ATOMIC
        assert default_config(m, n, 108, k=k, atomic=False).ATOMIC == 0
    assert default_config(64, 64, 108).SPLIT_K == 1              # K not given
    # the CPU splits only to give idle workers work
    assert default_config(64, 64, 8, cpu=True, k=4096).SPLIT_K == 1    # 16 CTAs for 8
    assert default_config(16, 16, 8, cpu=True, k=4096).SPLIT_K == 8    # 1 CTA for 8
    assert default_config(16, 16, 8, cpu=True, k=255).SPLIT_K == 1     # too shallow
    # two stages on the CPU where the tiles divide (one barrier a step), one with guards
    assert default_config(1024, 1024, 8, cpu=True, k=1024).STAGES == 2
    assert default_config(1000, 1000, 8, cpu=True, k=1000).STAGES == 1
    k = 2 * 8 * SPLIT_STEPS
    A, B = operands(np.random.default_rng(10), 12, 12, k)
    dev = wf.Simulator("test", timing=False)                     # 2 SMs, 1 CTA of 16x16
    assert default_config(12, 12, dev.config.num_sms, k=k).SPLIT_K == 2
    check(gemm.matmul(A, B, device=dev), reference(A, B), k)
