"""The compiled engine and the array engine follow the same rules: on every launch they give
the same cycles, cycles by reason per instruction, occupancy, and CTA and warp spans."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.compiler.errors import CompilerError
from warpforge.simulator.timing import engine

from ..e2e.random_barrier_kernels import barrier_kernels
from ..e2e.test_differential import load_kernel

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "dsl"


def both(monkeypatch, run) -> list:
    """``run()`` under the compiled engine and under the array engine."""
    out = []
    for name in ("native", "arrays"):
        monkeypatch.setattr(engine, "ENGINE", name)
        out.append(run())
    return out


def signature(res) -> tuple:
    tm = res.timing
    return (res.cycles, tm.stats["stall_cycles"], sorted(tm.events["warps"]),
            sorted(tm.events["ctas"]), res.profile.to_csv(), tm.occupancy["achieved"])


@pytest.fixture(scope="module")
def examples():
    sys.path.insert(0, str(EXAMPLES))
    import histogram
    import matmul_tiled
    import reduce_smem
    import softmax
    yield {"matmul_tiled": matmul_tiled, "reduce_smem": reduce_smem,
           "histogram": histogram, "softmax": softmax}
    sys.path.remove(str(EXAMPLES))


@pytest.mark.parametrize("scheduler", ["gto", "lrr"])
def test_engines_agree_on_the_tiled_matmul(monkeypatch, examples, scheduler):
    mod = examples["matmul_tiled"]
    rng = np.random.default_rng(1)
    a = rng.standard_normal((48, 32), dtype=np.float32)
    b = rng.standard_normal((32, 64), dtype=np.float32)

    def run():
        c = np.zeros((48, 64), np.float32)
        with wf.device(wf.Simulator("test", sample=None, scheduler=scheduler)):
            res = mod.matmul_tiled[(4, 3), (16, 16)](a, b, c, 32)
        np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
        return signature(res)

    scalar, vector = both(monkeypatch, run)
    assert scalar == vector


def test_engines_agree_on_atomics_and_many_waves(monkeypatch, examples):
    mod = examples["histogram"]
    data = np.random.default_rng(2).integers(0, 256, 20000).astype(np.int32)

    def run():
        hist = np.zeros(256, np.int32)
        with wf.device(wf.Simulator("test", sample=None)):
            res = mod.histogram[40, 256](data, hist, len(data))
        np.testing.assert_array_equal(hist, np.bincount(data, minlength=256))
        return signature(res)

    scalar, vector = both(monkeypatch, run)
    assert scalar == vector


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(kernel=barrier_kernels(), seed=st.integers(0, 2**31), rounds=st.integers(0, 2),
       scheduler=st.sampled_from(["gto", "lrr"]))
def test_engines_agree_on_random_barrier_kernels(monkeypatch, tmp_path_factory, kernel,
                                                 seed, rounds, scheduler):
    note(kernel.source)
    fn = load_kernel(tmp_path_factory.mktemp("engines"), kernel.source)
    size = kernel.grid * kernel.threads
    rng = np.random.default_rng(seed)
    a = rng.integers(-50, 51, size).astype(np.int32)
    b = rng.integers(-50, 51, size).astype(np.int32)

    def run():
        out = np.zeros(size * kernel.outputs, np.int32)
        device = wf.Simulator("test", sample=None, scheduler=scheduler)
        try:
            res = fn.launch(kernel.grid, kernel.block, a, b, out, rounds, device=device)
        except CompilerError as err:
            if "predicates at once" in str(err):
                reject()
            raise
        return signature(res), out.tobytes()

    scalar, vector = both(monkeypatch, run)
    assert scalar == vector
