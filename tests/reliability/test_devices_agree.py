"""The two devices agree on what a user can write: per-thread-indexed local arrays, huge
local arrays (a ResourceError on both), and expressions as deep as Python compiles."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import warpforge as wf

DEVICES = ("sim", "cpu")


def device(name: str):
    return wf.Simulator(arch="test") if name == "sim" else wf.CPU(threads=2, checked=True)


@wf.kernel
def local_by_thread(out: wf.i32[:]):
    t = wf.thread_idx.x
    a = wf.local(8, wf.i32)
    for j in range(8):
        a[j] = j * 10 + t
    a[t % 8] += 1
    out[t] = a[t % 8] + a[(t + 3) % 8]


@pytest.mark.parametrize("dev", DEVICES)
def test_local_array_indexed_by_a_per_thread_value(dev):
    out = np.zeros(64, np.int32)
    local_by_thread.launch(1, 64, out, device=device(dev))
    t = np.arange(64)
    np.testing.assert_array_equal(out, (t % 8) * 10 + t + 1 + ((t + 3) % 8) * 10 + t)


@wf.kernel
def huge_local(out: wf.f32[:]):
    a = wf.local(1 << 20, wf.f32)
    a[wf.thread_idx.x] = 1.0
    out[0] = a[3]


@pytest.mark.parametrize("dev", DEVICES)
def test_huge_local_array_is_a_resource_error(dev):
    out = np.zeros(2, np.float32)
    with pytest.raises(wf.ResourceError, match="local memory per thread"):
        huge_local.launch(1, 32, out, device=device(dev))


@pytest.mark.parametrize("terms", [500, 2000])
def test_deep_expressions_compile_on_both_devices(tmp_path, terms):
    path = tmp_path / f"deep_{terms}.py"
    path.write_text("import warpforge as wf\n\n\n@wf.kernel\ndef deep(x: wf.f32[:]):\n"
                    "    a = x[0]\n    x[1] = " + " + ".join(["a"] * terms) + "\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for dev in DEVICES:
        x = np.ones(2, np.float32)
        module.deep.launch(1, 1, x, device=device(dev))
        assert x[1] == terms


@wf.kernel
def dynamic_leftover(out: wf.f32[:], write: wf.i32):
    d = wf.dynamic_shared(wf.f32)
    t = wf.thread_idx.x
    if write != 0:
        d[t] = 7.0 + wf.block_idx.x
    wf.syncthreads()
    out[wf.block_idx.x * 32 + t] = d[t]


@pytest.mark.parametrize("dev", DEVICES)
def test_dynamic_shared_memory_starts_zeroed_in_every_cta(dev):
    # no launch, and no CTA of one launch, sees another's dynamic shared memory
    d = device(dev)
    out = np.zeros(4 * 32, np.float32)
    dynamic_leftover.launch(4, 32, out, 1, device=d, shared_bytes=32 * 4)
    assert out.tolist() == [7.0 + c for c in range(4) for _ in range(32)]
    dynamic_leftover.launch(4, 32, out, 0, device=d, shared_bytes=32 * 4)
    assert out.tolist() == [0.0] * (4 * 32)
