"""A device reuses the decoded machines of a launch for the next launch of the same program
and shape: every launch must still see its own arguments (constant operands read from bank
0 again, new arrays, new scalars), and nothing of the previous launch's state."""

from __future__ import annotations

import pathlib

import numpy as np

import warpforge as wf
from warpforge.isa import assemble

SAXPY = assemble((pathlib.Path(__file__).resolve().parents[2] / "examples" / "sass" /
                  "saxpy.sass").read_text())


def test_repeated_launches_see_their_own_arguments():
    sim = wf.Simulator()
    rng = np.random.default_rng(5)
    for trial in range(6):
        n = 1000 - 37 * trial                    # the bound changes; the geometry does not
        a = np.float32(rng.standard_normal())
        x = rng.standard_normal(1000).astype(np.float32)
        y = rng.standard_normal(1000).astype(np.float32)
        expected = y.copy()
        expected[:n] = a * x[:n] + y[:n]
        sim.launch(SAXPY, grid=4, block=256, args=[n, a, x, y])
        np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    assert len(sim._machines) == 1               # one decoded machine served all six


def test_a_new_shape_decodes_again_and_old_entries_are_bounded():
    from warpforge.simulator.executor import REUSE_ENTRIES
    sim = wf.Simulator()
    for blocks in range(1, REUSE_ENTRIES + 3):
        n = blocks * 256
        x = np.arange(n, dtype=np.float32)
        y = np.ones(n, np.float32)
        sim.launch(SAXPY, grid=blocks, block=256, args=[n, 2.0, x, y])
        assert np.array_equal(y, 2 * np.arange(n, dtype=np.float32) + 1)
    assert len(sim._machines) == REUSE_ENTRIES


def test_kernels_reusing_machines_start_from_zeroed_shared_memory():
    @wf.kernel
    def leftover(out: wf.f32[:], write: wf.i32):
        s = wf.shared(64, wf.f32)
        t = wf.thread_idx.x
        if write != 0:
            s[t] = 5.0
        wf.syncthreads()
        out[t] = s[t]

    out = np.zeros(64, np.float32)
    with wf.device(wf.Simulator()):
        leftover[1, 64](out, 1)
        assert out.tolist() == [5.0] * 64
        leftover[1, 64](out, 0)                  # the same machine: shared starts at 0
        assert out.tolist() == [0.0] * 64
