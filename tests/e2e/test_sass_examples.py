"""The hand-written SASS examples: assembled from their files, run on the simulator with the
hazard checker on, and checked against numpy; plus their text and binary round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warpforge.isa import assemble, decode
from warpforge.simulator import Simulator

from .kernels import (
    EPS32,
    NAMES,
    blocks_for,
    butterfly_warp_sums,
    collatz_inputs,
    collatz_steps,
    load_example,
    saxpy_inputs,
    tree_block_sums,
)


def sim(arch: str = "test") -> Simulator:
    """A simulator that checks every dependence against the control codes."""
    return Simulator(arch=arch, check_hazards=True)


# --- the files themselves -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_example_round_trips_through_text_and_binary(name):
    program = load_example(name)
    assert program.name == name
    assert assemble(str(program)) == program
    assert decode(program.encode()) == program


@pytest.mark.parametrize("name", NAMES)
def test_example_ends_with_an_unconditional_exit(name):
    # Every path must end in EXIT; the last instruction is the fall-through one.
    last = load_example(name).instructions[-1]
    assert last.opcode == "EXIT" and last.guard.is_pt and not last.guard.neg


# --- saxpy --------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "block"), [(1, 32), (256, 256), (1000, 256), (1061, 128)])
def test_saxpy_matches_numpy_and_leaves_the_tail_alone(n, block):
    a, x, y = saxpy_inputs(n, seed=n)
    expected = y.copy()
    expected[:n] = a * x[:n] + y[:n]
    x_before = x.copy()
    sim().launch(load_example("saxpy"), blocks_for(n, block), block, [np.int32(n), a, x, y])
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(x, x_before)


def test_saxpy_on_the_default_ampere_configuration():
    n = 3000
    a, x, y = saxpy_inputs(n, seed=7)
    expected = y.copy()
    expected[:n] = a * x[:n] + y[:n]
    result = sim("ampere").launch(load_example("saxpy"), blocks_for(n, 256), 256,
                                  [np.int32(n), a, x, y])
    np.testing.assert_array_equal(y, expected)
    assert result.stats


# --- shared-memory tree reduction -----------------------------------------------------------


@pytest.mark.parametrize(("n", "block"), [(256, 256), (1000, 256), (769, 256), (300, 64),
                                          (5, 2)])
def test_reduce_smem_partial_sums_are_bit_exact(n, block):
    rng = np.random.default_rng(n + block)
    x = rng.standard_normal(n).astype(np.float32)
    blocks = blocks_for(n, block)
    out = np.full(blocks, np.nan, np.float32)
    sim().launch(load_example("reduce_smem"), blocks, block, [x, out, np.int32(n)])
    expected = tree_block_sums(x, block, blocks)
    np.testing.assert_array_equal(out, expected)
    # The partial sums add up to the sum of x, within the tree's rounding error.
    bound = (math.log2(block) + blocks) * EPS32 * float(np.abs(x).sum())
    assert abs(math.fsum(out.astype(np.float64)) - math.fsum(x.astype(np.float64))) <= bound


def test_reduce_smem_ignores_elements_past_n():
    # x holds more elements than n; those past n must not be summed.
    n, block = 200, 256
    x = np.arange(1, 301, dtype=np.float32)
    out = np.zeros(1, np.float32)
    sim().launch(load_example("reduce_smem"), 1, block, [x, out, np.int32(n)])
    assert out[0] == n * (n + 1) / 2


# --- warp-shuffle reduction with RED ---------------------------------------------------------


@pytest.mark.parametrize(("n", "block"), [(32, 32), (256, 256), (1000, 256), (2049, 128)])
def test_reduce_shfl_sums_every_element_once(n, block):
    rng = np.random.default_rng(3 * n + block)
    x = rng.standard_normal(n).astype(np.float32)
    blocks = blocks_for(n, block)
    start = np.float32(0.5)
    out = np.array([start], np.float32)
    sim().launch(load_example("reduce_shfl"), blocks, block, [x, out, np.int32(n)])
    # Each warp's sum is exact to the butterfly's order; the RED order across warps is not
    # fixed, so the total is within the error bound of adding the warp sums in any order.
    warp_sums = np.concatenate([[start], butterfly_warp_sums(x, blocks * block)])
    exact = math.fsum(warp_sums.astype(np.float64))
    bound = warp_sums.size * EPS32 * float(np.abs(warp_sums).astype(np.float64).sum())
    assert abs(float(out[0]) - exact) <= bound
    # And the whole computation is close to the true sum of x.
    loose = (5 + warp_sums.size) * EPS32 * (float(np.abs(x).sum()) + 0.5)
    assert abs(float(out[0]) - (0.5 + math.fsum(x.astype(np.float64)))) <= loose


def test_reduce_shfl_integers_are_exact():
    # Small integers add exactly in float32, whatever the order.
    n = 1000
    x = np.arange(n, dtype=np.float32)
    out = np.zeros(1, np.float32)
    sim().launch(load_example("reduce_shfl"), blocks_for(n, 256), 256, [x, out, np.int32(n)])
    assert out[0] == n * (n - 1) / 2


# --- divergent loops ---------------------------------------------------------------------------


SENTINEL = np.uint32(0xDEADBEEF)


@pytest.mark.parametrize(("n", "block"), [(1, 32), (128, 128), (1000, 128), (333, 64)])
def test_divergent_loops_count_collatz_steps(n, block):
    x = collatz_inputs(n, seed=n)
    steps = np.full(n + 2, SENTINEL, np.uint32)
    sim().launch(load_example("divergent_loops"), blocks_for(n, block), block,
                 [np.int32(n), x, steps])
    expected = collatz_steps(x[:n])
    if n >= 100:  # the point of the kernel: trip counts that vary widely within a warp
        assert int(expected.max()) - int(expected.min()) > 100
    np.testing.assert_array_equal(steps[:n], expected)
    np.testing.assert_array_equal(steps[n:], SENTINEL)


def test_divergent_loops_one_long_walk_in_a_warp_of_short_ones():
    # Lane 13 walks 350 steps while the other 31 lanes stop after at most 1.
    x = np.ones(32, np.uint32)
    x[::3] = 2
    x[13] = 77031
    steps = np.zeros(32, np.uint32)
    sim().launch(load_example("divergent_loops"), 1, 32, [np.int32(32), x, steps])
    np.testing.assert_array_equal(steps, collatz_steps(x))
    assert steps[13] == 350
