"""Launches from many Python threads on one device must all be right: 8 threads x 50
launches each, on one simulator, on the default device and on one CPU device; and first
compiles racing in one process."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import warpforge as wf

THREADS = 8
LAUNCHES = 50


@wf.kernel
def offset_copy(x: wf.i32[:], out: wf.i32[:], k: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.size:
        out[i] = x[i] * 3 + k


def hammer(launch) -> list[str]:
    """Run ``launch(thread, round)`` from THREADS threads LAUNCHES times each; the errors."""
    errors: list[str] = []

    def work(t: int) -> None:
        for r in range(LAUNCHES):
            try:
                launch(t, r)
            except Exception as err:
                errors.append(f"thread {t} round {r}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def checked_launch(device_of):
    def launch(t: int, r: int) -> None:
        n = 3000 + 37 * t
        x = np.arange(n, dtype=np.int32) + t * 1000
        out = np.zeros(n, np.int32)
        offset_copy.launch((n + 127) // 128, 128, x, out, r, device=device_of(t))
        if not np.array_equal(out, x * 3 + r):
            raise AssertionError(f"wrong result {out[:4]} for thread {t} round {r}")
    return launch


@pytest.mark.parametrize("kind", ["simulator", "cpu"])
def test_threads_share_one_device(kind):
    dev = wf.Simulator(arch="test") if kind == "simulator" else wf.CPU(threads=2, checked=True)
    assert hammer(checked_launch(lambda t: dev)) == []


def test_threads_share_the_default_device():
    with wf.device(wf.Simulator(arch="test")):  # per-thread scope: each thread sees default
        pass
    assert hammer(checked_launch(lambda t: None)) == []


def test_device_arrays_stay_separate_under_threads():
    dev = wf.Simulator(arch="test")

    def launch(t: int, r: int) -> None:
        x = dev.to_device(np.full(40, t, np.int32))
        out = dev.to_device(np.zeros(40, np.int32))
        offset_copy.launch(2, 32, x, out, r, device=dev)
        got = out.copy_to_host()
        if not (got == t * 3 + r).all():
            raise AssertionError(f"thread {t} round {r} read {got[:4]}")
    assert hammer(launch) == []


def test_first_compiles_race_safely():
    source = {}

    @wf.kernel
    def fresh(x: wf.f32[:], out: wf.f32[:]):
        i = wf.thread_idx.x
        out[i] = x[i] + 1.0
    source["k"] = fresh

    def launch(t: int, r: int) -> None:
        x = np.full(32, float(t), np.float32)
        out = np.zeros(32, np.float32)
        dev = wf.CPU(threads=1, checked=True) if t % 2 else wf.Simulator(arch="test")
        fresh.launch(1, 32, x, out, device=dev)
        if not (out == t + 1).all():
            raise AssertionError(f"thread {t}: {out[:4]}")
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def first(t: int) -> None:
        barrier.wait()
        try:
            launch(t, 0)
        except Exception as err:
            errors.append(f"{type(err).__name__}: {err}")
    threads = [threading.Thread(target=first, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
