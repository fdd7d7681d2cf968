"""Read-only arrays: refused, before anything runs, where the kernel writes (no segfault on
a read-only memmap, no silent write or dropped write); accepted where it only reads. The
compiler records the parameters a kernel may write."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf

DEVICES = ("sim", "cpu")


def device(name: str):
    return wf.Simulator(arch="test") if name == "sim" else wf.CPU(threads=2, checked=True)


@wf.func
def put(arr, i, v):
    arr[i] = v


@wf.kernel
def scale(x: wf.f32[:], y: wf.f32[:], hist: wf.i32[:]):
    i = wf.thread_idx.x
    put(y, i, x[i] * 2.0)           # written through a device function
    wf.atomic_add(hist, 0, 1)        # written by an atomic


def read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def test_the_compiler_records_written_parameters():
    x, y, h = np.zeros(32, np.float32), np.zeros(32, np.float32), np.zeros(1, np.int32)
    for target in ("sim", "cpu"):
        assert scale.compile(x, y, h, target=target, block=32).written == ("y", "hist")


@pytest.mark.parametrize("dev", DEVICES)
def test_read_only_input_is_accepted(dev):
    x = read_only(np.arange(32, dtype=np.float32))
    y, h = np.zeros(32, np.float32), np.zeros(1, np.int32)
    scale.launch(1, 32, x, y, h, device=device(dev))
    np.testing.assert_array_equal(y, np.arange(32) * 2)
    assert h[0] == 32


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("which", ["y", "hist"])
def test_read_only_output_is_a_launch_error_naming_it(dev, which):
    x = np.arange(32, dtype=np.float32)
    y, h = np.zeros(32, np.float32), np.zeros(1, np.int32)
    args = {"y": y, "hist": h}
    read_only(args[which])
    with pytest.raises(wf.LaunchError, match=f"'{which}'.*read-only"):
        scale.launch(1, 32, x, y, h, device=device(dev))
    assert not y.any() and not h.any()


@pytest.mark.parametrize("dev", DEVICES)
def test_read_only_memmap(tmp_path, dev):
    path = tmp_path / "data.bin"
    np.arange(32, dtype=np.float32).tofile(path)
    mapped = np.memmap(path, np.float32, mode="r")
    y, h = np.zeros(32, np.float32), np.zeros(1, np.int32)
    scale.launch(1, 32, mapped, y, h, device=device(dev))  # read: fine
    np.testing.assert_array_equal(y, np.arange(32) * 2)
    with pytest.raises(wf.LaunchError, match=r"'y'.*read-only"):
        scale.launch(1, 32, y, mapped, h, device=device(dev))  # written: refused
    np.testing.assert_array_equal(np.fromfile(path, np.float32), np.arange(32))


def test_checked_cpu_launch_saves_only_what_the_kernel_writes(monkeypatch):
    saved = []
    real_copy = np.ndarray.copy

    class Spy(np.ndarray):
        def copy(self, *a, **k):
            saved.append(self.shape)
            return real_copy(self, *a, **k)

    x = np.arange(1000, dtype=np.float32).view(Spy)
    y, h = np.zeros(32, np.float32).view(Spy), np.zeros(1, np.int32).view(Spy)
    scale.launch(1, 32, x, y, h, device=wf.CPU(threads=1, checked=True))
    assert (1000,) not in saved and (32,) in saved and (1,) in saved
