"""The corpus (``corpus/``): every kernel on the simulator and on the CPU, each
against numpy, and the two devices against each other where the kernel is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf

from .corpus import CASES, Case

SANITIZE = "racecheck,initcheck"
"""Every kernel here is race free by design and reads only what it wrote."""

DEVICES = ("sim", "cpu")


def device(name: str):
    """The test arch of the simulator (2 SMs), or a checked two-worker CPU."""
    return wf.Simulator(arch="test", sanitize=SANITIZE) if name == "sim" \
        else wf.CPU(threads=2, checked=True)


def run(c: Case, dev: str) -> tuple[list, list]:
    """The case's arguments before and after a launch on ``dev``."""
    rng = np.random.default_rng(sum(map(ord, c.name)))
    before = c.args(rng)
    after = [a.copy() if isinstance(a, np.ndarray) else a for a in before]
    c.kernel.launch(c.grid, c.block, *after, device=device(dev), **c.constexprs)
    return before, after


def check(c: Case, before: list, after: list, dev: str) -> None:
    """Assert the arrays a launch left match numpy's expectation."""
    for index, want in c.expect(before).items():
        got = after[index]
        want = np.asarray(want)
        if index in c.unordered:
            got, want = np.sort(got, axis=None), np.sort(want, axis=None)
        assert got.shape == want.shape, f"{c.name} on {dev}: argument {index} shape"
        if c.agree < 1.0:
            close = np.isclose(got.astype(np.float64), want, rtol=c.rtol, atol=c.atol)
            assert close.mean() >= c.agree, (f"{c.name} on {dev}: only {close.mean():.1%} "
                                             f"of argument {index} agrees with numpy")
        elif (got.dtype.kind in "iub" and c.rtol == 0 and c.atol == 0) or \
                (got.dtype.kind in "iub" and want.dtype.kind in "iub"):
            np.testing.assert_array_equal(got, want, err_msg=f"{c.name} on {dev}")
        else:
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                       rtol=c.rtol, atol=c.atol, err_msg=f"{c.name} on {dev}")


def test_the_corpus_has_forty_kernels():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_corpus_kernel_matches_numpy(c, dev):
    before, after = run(c, dev)
    check(c, before, after, dev)
