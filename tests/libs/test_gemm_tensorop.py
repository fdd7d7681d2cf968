"""The tensor-core GEMM template (f16 operands, f32 accumulation) against numpy in float64
on both devices: hypothesis-drawn shapes and layouts, the epilogue, split-K, stages and
rasterization, every legal configuration on a small shape, and bad input. The simulator
runs with the hazard checker and racecheck/initcheck on."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.libs import gemm
from warpforge.libs.gemm import GemmConfig, TensorOpConfig
from warpforge.libs.gemm.tensorop_config import TC_MAX_SHARED, legal_tensorop

from .test_gemm import check, device, reference, sim
from .test_gemm import operands as f32_or_f16_operands


def operands(rng, M, N, K, layout="rr"):
    """f16 operands of magnitude about 1 (exact in f16), in the layout asked."""
    return f32_or_f16_operands(rng, M, N, K, layout, np.float16)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(M=st.integers(1, 300), N=st.integers(1, 300), K=st.integers(1, 300),
       layout=st.sampled_from(["rr", "rc", "cr", "cc"]), seed=st.integers(0, 2**31))
def test_any_shape_and_layout_on_the_cpu(M, N, K, layout, seed):
    A, B = operands(np.random.default_rng(seed), M, N, K, layout)
    C = gemm.matmul(A, B, device=device("cpu"))
    assert C.dtype == np.float32
    check(C, reference(A, B), K)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(M=st.integers(1, 70), N=st.integers(1, 70), K=st.integers(1, 70),
       layout=st.sampled_from(["rr", "rc", "cr", "cc"]), seed=st.integers(0, 2**31))
def test_any_shape_and_layout_on_the_simulator(M, N, K, layout, seed):
    A, B = operands(np.random.default_rng(seed), M, N, K, layout)
    check(gemm.matmul(A, B, device=sim()), reference(A, B), K)


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("activation", [None, "relu", "gelu"])
def test_the_epilogue_alpha_beta_bias_and_activation(dev, activation):
    rng = np.random.default_rng(4)
    A, B = operands(rng, 40, 24, 33)
    C = rng.standard_normal((40, 24)).astype(np.float32)
    bias = rng.standard_normal(24).astype(np.float32)
    want = reference(A, B, C, 0.5, -2.0, bias, activation)
    got = gemm.matmul(A, B, C.copy(), alpha=0.5, beta=-2.0, bias=bias,
                      activation=activation, device=device(dev))
    check(got, want, 33)


@pytest.mark.parametrize("dev", ["sim", "cpu"])
@pytest.mark.parametrize("config", [
    TensorOpConfig(32, 32, 16, 16, 16),
    TensorOpConfig(32, 32, 32, 16, 16, STAGES=2),
    TensorOpConfig(32, 16, 16, 32, 8, GROUP=4),
    TensorOpConfig(16, 32, 16, 16, 16, SPLIT_K=3),
    TensorOpConfig(32, 32, 16, 16, 16, SPLIT_K=2, ATOMIC=1, STAGES=2),
])
def test_split_k_stages_and_rasterization_give_the_same_product(dev, config):
    A, B = operands(np.random.default_rng(5), 50, 45, 97)
    check(gemm.matmul(A, B, config=config, device=device(dev)), reference(A, B), 97)


def test_tiles_dividing_the_problem_take_the_unguarded_path():
    A, B = operands(np.random.default_rng(7), 64, 64, 64)
    config = TensorOpConfig(32, 32, 32, 16, 16, STAGES=2, SPLIT_K=2)
    assert config.divides(64, 64, 64)
    check(gemm.matmul(A, B, config=config, device=sim()), reference(A, B), 64)


def test_every_config_of_the_space_is_correct_on_the_simulator():
    # 19x13x5: edge tiles in M, N and K (and an odd K, padded by a zero column)
    M, N, K = 19, 13, 5
    A, B = operands(np.random.default_rng(6), M, N, K)
    want = reference(A, B)
    space = gemm.configs(M, N, K, dtype="f16")
    assert space and all(isinstance(c, TensorOpConfig) and c.why_illegal() is None
                         for c in space)
    assert {c.STAGES for c in space} == {1, 2} and {c.BK for c in space} == {16, 32}
    device = wf.Simulator("test", timing=False)
    for config in space:
        check(gemm.matmul(A, B, config=config, device=device), want, K)


def test_the_space_holds_only_legal_configs():
    space = legal_tensorop()
    assert len(space) >= 200
    for c in space:
        assert c.threads % 32 == 0 and 32 <= c.threads <= 1024
        assert c.shared_bytes <= TC_MAX_SHARED and c.registers <= 255
        assert c.registers * c.threads <= 65536
        assert c.BM % c.WM == 0 and c.BN % c.WN == 0
    assert "multiple of 16x8" in TensorOpConfig(64, 64, 32, 24, 8).why_illegal()
    assert "BK is one of" in TensorOpConfig(64, 64, 8, 32, 32).why_illegal()
    assert "a CTA (at most 65536)" in TensorOpConfig(256, 256, 64, 64, 64,
                                                      STAGES=2).why_illegal()


def test_the_register_estimate_bounds_the_compiler():
    """The estimate the space is pruned by predicts the compiler's occupancy: the compiler
    stays under the occupancy step (for the config's CTA size) the estimate lies under; it
    may take the room up to it (``wf.launch_bounds``), which costs no occupancy."""
    from warpforge.compiler.sass.schedule import occupancy_steps
    for config in (TensorOpConfig(64, 64, 32, 32, 32, STAGES=2),
                   TensorOpConfig(128, 128, 32, 64, 32, STAGES=2),
                   TensorOpConfig(16, 16, 16, 16, 8)):
        M = N = K = 128
        A, B = operands(np.random.default_rng(0), M, N, K)
        kernel = gemm._compile(A, B, np.zeros((M, N), np.float32), config, wf.Simulator())
        step = next(s for s in occupancy_steps(config.threads) if config.registers <= s)
        assert kernel.registers <= step, (config, config.registers, kernel.registers)


def test_a_k_step_copies_and_reads_whole_chunks_without_bank_conflicts():
    """Fragment order at work: the heuristic's 128x64x32 tile of two 64x32 warps copies a
    K step with one LDG.E.128 and one STS.128 a 16-byte chunk (4 of A and 2 of B a
    thread), reads each A fragment with one LDS.128 and each B fragment with one LDS.64,
    and no shared access conflicts."""
    from .test_gemm_golden import hot_loop
    config = TensorOpConfig(128, 64, 32, 64, 32, STAGES=2)
    A, B = operands(np.random.default_rng(9), 256, 128, 64)
    C = np.zeros((256, 128), np.float32)
    loop = hot_loop(gemm._compile(A, B, C, config, wf.Simulator()).asm)
    count = {op: len(re.findall(rf"\b{re.escape(op)} ", loop))
             for op in ("HMMA.16816.F32", "LDG.E.128", "STS.128", "LDS.128", "LDS.64",
                        "LDG.E", "STS", "LDS")}
    assert count == {"HMMA.16816.F32": 32, "LDG.E.128": 6, "STS.128": 6, "LDS.128": 8,
                     "LDS.64": 8, "LDG.E": 0, "STS": 0, "LDS": 0}, count
    (launch,) = gemm._run(A, B, C, config, sim())
    check(C, reference(A, B), 64)
    assert launch.stats["shared_requests"] > 0 and launch.stats["bank_conflicts"] == 0


def test_the_heuristic_fills_the_simulated_gpu():
    from warpforge.libs.gemm.tensorop_config import default_tensorop_config
    mid = default_tensorop_config(1024, 1024, 108, k=1024)
    assert (mid.BM, mid.BN, mid.WM, mid.WN, mid.STAGES) == (64, 64, 32, 32, 2)
    big = default_tensorop_config(2048, 2048, 108, k=2048)  # 512 CTAs, 324 slots
    assert (big.BM, big.BN, big.WM, big.WN, big.SPLIT_K) == (128, 64, 64, 32, 1)
    tiny = default_tensorop_config(8, 8, 108, k=8)  # every tile too big: the smallest
    assert (tiny.BM, tiny.BN) == (32, 32)
    small = default_tensorop_config(64, 64, 108, k=4096)
    assert small.SPLIT_K > 1 and small.ATOMIC == 1  # few tiles, deep K: K is split
    assert default_tensorop_config(64, 64, 108, k=4096, atomic=False).ATOMIC == 0


# --- bad input ---------------------------------------------------------------------------

def test_bad_input_is_a_launch_error_naming_the_argument_with_c_untouched():
    A = np.ones((4, 3), np.float16)
    B = np.ones((3, 5), np.float16)
    C = np.full((4, 5), 7.0, np.float32)
    cases = [
        (dict(A=A, B=B.astype(np.float32)), "A is float16 but B is float32"),
        (dict(A=A, B=B, C=C.astype(np.float16)), "C must be a 4x5 float32"),
        (dict(A=A, B=B, config=GemmConfig(16, 16, 4, 2, 2)), "not a TensorOpConfig"),
        (dict(A=A, B=B, config=TensorOpConfig(16, 16, 8, 16, 8)), "BK is one of"),
        (dict(A=A, B=B, config=TensorOpConfig(32, 32, 16, 16, 16, SPLIT_K=2, ATOMIC=1),
              activation="relu"), "cannot apply"),
    ]
    for kwargs, message in cases:
        with pytest.raises(wf.LaunchError, match=message):
            gemm.matmul(**{"C": C, **kwargs}, device=sim())
        assert (C == 7.0).all()
    with pytest.raises(wf.LaunchError, match=r"config .* cannot run: not a GemmConfig"):
        gemm.matmul(A.astype(np.float32), B.astype(np.float32),
                    config=TensorOpConfig(16, 16, 16, 16, 8), device=sim())


def test_tune_searches_the_tensor_core_space_and_matmul_then_uses_the_winner(monkeypatch):
    from warpforge.libs.gemm import tuning
    device = wf.Simulator("test")
    trials = gemm.tune(40, 24, 32, dtype="f16", device=device, strategy="exhaustive",
                       budget=4, progress=False, executor=False)
    assert len(trials) == 4 and all(t["status"] == "ok" for t in trials)
    assert all(isinstance(t["config"], TensorOpConfig) for t in trials)
    best = trials.best
    assert best["objective"] == min(t["objective"] for t in trials)
    assert tuning.recall(40, 24, 32, device, half=True) == best["config"]
    assert tuning.recall(40, 24, 32, device) is None  # f32's winner is its own
    assert "/w" in trials.to_csv().splitlines()[1]  # labelled with its warp tile

    def no_heuristic(*args, **kwargs):
        raise AssertionError("matmul should use the tuned config")
    monkeypatch.setattr(gemm, "default_tensorop_config", no_heuristic)
    A, B = operands(np.random.default_rng(2), 40, 24, 32)
    check(gemm.matmul(A, B, device=device), reference(A, B), 32)


def test_the_model_strategy_ranks_tensor_core_configs_by_its_estimate():
    from warpforge.libs.gemm import tuning
    device = wf.Simulator("test")
    trials = gemm.tune(64, 64, 64, dtype="f16", device=device, strategy="model", budget=3,
                       progress=False, executor=False)
    space = gemm.configs(64, 64, 64, dtype="f16")
    workers = device.config.num_sms
    first = min(space, key=lambda c: tuning.predicted(c, 64, 64, 64, workers))
    assert trials[0]["config"] == first
    assert all(t["predicted"] == tuning.predicted(t["config"], 64, 64, 64, workers)
               for t in trials)


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 40), k=st.integers(1, 40), seed=st.integers(0, 2**31))
def test_fragment_order_puts_each_lanes_fragment_words_in_register_order(rows, k, seed):
    """``fragment_order`` against ``wf.mma_sync``'s lane layout, word by word: lane
    ``4g + t`` of A's block (mb, kb) holds words t and t + 4 of step kb of rows g and
    g + 8 (registers a0..a3: row g word t, row g+8 word t, row g word t+4, row g+8 word
    t+4); of B's (B transposed), words t and t + 4 of row g; zeros past the matrix."""
    x = np.random.default_rng(seed).standard_normal((rows, k)).astype(np.float16)
    for block, per_lane in ((16, 4), (8, 2)):
        out = gemm.fragment_order(x, block)
        rb, kb = -(-rows // block), -(-k // 16)
        assert out.shape == (rb, kb, 32 * per_lane // 4, 4) and out.dtype == np.uint32
        lanes = out.reshape(rb, kb, 32, per_lane)
        padded = np.zeros((rb * block, kb * 16), np.float16)
        padded[:rows, :k] = x
        words = padded.view(np.uint32)
        for mb in range(rb):
            for s in range(kb):
                for lane in range(32):
                    g, t = divmod(lane, 4)
                    r0, w0 = mb * block + g, 8 * s + t
                    want = ([words[r0, w0], words[r0 + 8, w0], words[r0, w0 + 4],
                             words[r0 + 8, w0 + 4]] if block == 16
                            else [words[r0, w0], words[r0, w0 + 4]])
                    assert list(lanes[mb, s, lane]) == want
