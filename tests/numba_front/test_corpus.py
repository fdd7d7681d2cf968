"""Every Numba-style kernel of the corpus, unmodified through ``from warpforge import
cuda``, on the simulator and on the CPU, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf

from .corpus import CASES

SANITIZE = "racecheck,initcheck"
"""Every kernel here is race free by design and reads only what it wrote."""

DEVICES = {"sim": lambda: wf.Simulator(arch="test", sanitize=SANITIZE),
           "cpu": lambda: wf.CPU(threads=2, checked=True)}


def test_the_corpus_has_forty_kernels():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("dev", list(DEVICES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_numba_kernel_runs_unmodified(case, dev):
    rng = np.random.default_rng(sum(map(ord, case.name)))
    with wf.device(DEVICES[dev]()):
        pairs = case.run(rng)
    for k, (got, want) in enumerate(pairs):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, (case.name, k)
        if got.dtype.kind in "iub" and want.dtype.kind in "iub" and case.atol == 0:
            np.testing.assert_array_equal(got, want, err_msg=f"{case.name} #{k} on {dev}")
        else:
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                       rtol=case.rtol, atol=case.atol,
                                       err_msg=f"{case.name} #{k} on {dev}")
