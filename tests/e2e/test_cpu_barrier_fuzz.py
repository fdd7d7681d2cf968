"""Random kernels with shared memory and barriers, on the simulator and on the CPU device.

The kernels (``random_barrier_kernels.py``) are i32 only and race free by construction,
so every device must leave exactly the same outputs: the simulator (hazard checker on)
is the reference, and the CPU runs them with a drawn lane width (8, 16, 32) and one or
two worker threads. They cover values kept across several barriers, uniform ``for`` and
``while`` loops and uniform ``if``s holding barriers (nested), divergent control and
data-dependent loops between barriers, 1-D and 2-D blocks and shared arrays, tree
reductions, and threads that ``return`` before later barriers (the simulator lets the
others go on: exited threads no longer count at a barrier; a deterministic case below
pins that against numpy on both devices).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

import warpforge as wf
from warpforge.compiler.errors import CompilerError

from .cpu_support import CONFIG_IDS, CONFIGS, cpu, run_both
from .random_barrier_kernels import barrier_kernels
from .test_differential import load_kernel

SENTINEL = -123456789
"""What ``out`` holds where a thread returned before writing."""


@st.composite
def inputs(draw, size: int):
    """Two i32 input arrays: mostly small values, some extreme ones."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays = []
    for _ in range(2):
        a = rng.integers(-50, 51, size)
        wide = rng.random(size) < 0.2
        a[wide] = rng.integers(-(2**31), 2**31 - 1, int(wide.sum()), endpoint=True)
        arrays.append(a.astype(np.int32))
    return arrays


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kernel=barrier_kernels(), data=st.data(), rounds=st.integers(0, 3),
       config=st.sampled_from(CONFIGS))
def test_barrier_kernel_agrees_between_simulator_and_cpu(tmp_path_factory, kernel, data,
                                                         rounds, config):
    lanes, threads = config
    note(kernel.source)
    note(f"grid={kernel.grid} block={kernel.block} rounds={rounds} lanes={lanes} "
         f"threads={threads}")
    fn = load_kernel(tmp_path_factory.mktemp("barrier_fuzz"), kernel.source)
    size = kernel.grid * kernel.threads
    a, b = data.draw(inputs(size))
    outs = {}
    sim = wf.Simulator(arch="test", sanitize="racecheck,initcheck")  # race free by design
    for name, device in (("sim", sim), ("cpu", cpu(lanes, threads))):
        out = np.full(size * kernel.outputs, SENTINEL, np.int32)
        try:
            fn.launch(kernel.grid, kernel.block, a, b, out, rounds, device=device)
        except CompilerError as err:
            # The SASS backend's known limit (see test_loop_with_six_breaks_compiles).
            if name == "sim" and "predicates at once" in str(err):
                reject()
            raise
        outs[name] = out.reshape(size, kernel.outputs)
    mismatch = np.argwhere(outs["cpu"] != outs["sim"])
    assert not len(mismatch), [(int(g), int(k), int(outs["sim"][g, k]), int(outs["cpu"][g, k]))
                               for g, k in mismatch[:8]]


# ---- early exit before barriers -----------------------------------------------------


@wf.kernel
def exit_then_exchange(x: wf.i32[:], out: wf.i32[:], live: wf.i32):
    s = wf.shared((64,), wf.i32)
    t = wf.thread_idx.x
    g = wf.block_idx.x * 64 + t
    if t >= live:
        return
    s[t] = x[g]
    wf.syncthreads()
    v = s[(t + 1) % live]
    wf.syncthreads()
    s[t] = v * 2
    wf.syncthreads()
    out[g] = s[(t + 3) % live] + v


@pytest.mark.parametrize(("lanes", "threads"), CONFIGS, ids=CONFIG_IDS)
def test_threads_that_exit_no_longer_count_at_later_barriers(lanes, threads):
    x = np.random.default_rng(7).integers(-1000, 1000, 192).astype(np.int32)
    _, (_, got, _) = run_both(exit_then_exchange, 3, 64, x, np.full(192, SENTINEL, np.int32),
                              40, lanes=lanes, threads=threads)
    t = np.arange(192) % 64
    base = np.arange(192) - t
    v = x[base + (t + 1) % 40]
    want = np.where(t < 40, 2 * v[base + (t + 3) % 40] + v, SENTINEL)
    np.testing.assert_array_equal(got, want)
