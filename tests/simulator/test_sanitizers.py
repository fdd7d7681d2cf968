"""racecheck and initcheck: true positives with both sides named, and the orderings that
make accesses safe (barriers, syncwarp, shuffles). That they raise nothing on race-free
kernels is checked by the corpora and the barrier fuzz, which run with both on."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import warpforge as wf

ON = "racecheck,initcheck"


def line_of(kernel, text: str) -> str:
    """``file:line`` of the first line of ``kernel``'s source containing ``text``."""
    lines, first = inspect.getsourcelines(kernel.fn)
    n = next(i for i, line in enumerate(lines) if text in line)
    return f"test_sanitizers.py:{first + n}"


def sim(sanitize=ON) -> wf.Simulator:
    return wf.Simulator("test", sanitize=sanitize)


@wf.kernel
def neighbour(out: wf.f32[:], SYNC: wf.constexpr):
    s = wf.shared((64,), wf.f32)
    t = wf.thread_idx.x
    s[t] = wf.f32(t)
    if SYNC == 1:
        wf.syncthreads()
    out[t] = s[(t + 33) % 64]


def test_a_read_of_another_threads_write_without_a_barrier_is_a_race():
    out = np.zeros(64, np.float32)
    with pytest.raises(wf.RaceError) as info, wf.device(sim()):
        neighbour[1, 64](out, SYNC=0)
    text = str(info.value)
    # both source lines, both threads and the offset
    assert line_of(neighbour, "s[t] = wf.f32(t)") in text
    assert line_of(neighbour, "out[t] = s[") in text
    assert "by thread (0,0,0)" in text and "by thread (33,0,0)" in text
    assert "shared offset 0x84" in text
    assert not out.any()  # a faulting launch leaves the arrays as they were


def test_a_barrier_between_the_write_and_the_read_is_not_a_race():
    out = np.zeros(64, np.float32)
    with wf.device(sim()):
        neighbour[1, 64](out, SYNC=1)
    np.testing.assert_array_equal(out, (np.arange(64) + 33) % 64)


def test_racecheck_is_off_unless_asked():
    out = np.zeros(64, np.float32)
    with wf.device(sim(sanitize=None)):
        neighbour[1, 64](out, SYNC=0)


@wf.kernel
def write_after_read(out: wf.f32[:]):
    s = wf.shared((64,), wf.f32)
    t = wf.thread_idx.x
    s[t] = 1.0
    wf.syncthreads()
    v = s[63 - t]
    s[t] = v + 1.0
    out[t] = v


def test_a_write_after_another_threads_read_is_a_race():
    out = np.zeros(64, np.float32)
    with pytest.raises(wf.RaceError, match="a write after another thread's read"), \
            wf.device(sim()):
        write_after_read[1, 64](out)


@wf.kernel
def both_write(out: wf.f32[:]):
    s = wf.shared((2,), wf.f32)
    t = wf.thread_idx.x
    if t == 0:
        s[0] = 1.0
    if t == 40:
        s[0] = 2.0
    wf.syncthreads()
    out[t] = s[0]


def test_two_threads_writing_one_address_between_barriers_is_a_race():
    out = np.zeros(64, np.float32)
    with pytest.raises(wf.RaceError, match="a write after another thread's write"), \
            wf.device(sim()):
        both_write[1, 64](out)


@wf.kernel
def warp_exchange(out: wf.f32[:], other: wf.i32[:], SYNC: wf.constexpr):
    s = wf.shared((32,), wf.f32)
    lane = wf.thread_idx.x
    s[lane] = wf.f32(lane)
    if SYNC == 1:
        wf.syncwarp()
    if SYNC == 2:
        other[lane] = wf.shfl_xor(lane, 1)
    out[lane] = s[lane ^ 1]


@pytest.mark.parametrize("sync", [1, 2], ids=["syncwarp", "shuffle"])
def test_warp_synchronous_exchange_after_syncwarp_or_a_shuffle_is_not_a_race(sync):
    out = np.zeros(32, np.float32)
    with wf.device(sim()):
        warp_exchange[1, 32](out, np.zeros(32, np.int32), SYNC=sync)
    np.testing.assert_array_equal(out, np.arange(32) ^ 1)


def test_warp_synchronous_exchange_without_syncwarp_is_a_race():
    out = np.zeros(32, np.float32)
    with pytest.raises(wf.RaceError), wf.device(sim()):
        warp_exchange[1, 32](out, np.zeros(32, np.int32), SYNC=0)


@wf.kernel
def half_initialized(out: wf.f32[:]):
    s = wf.shared((64,), wf.f32)
    t = wf.thread_idx.x
    if t < 32:
        s[t] = 1.0
    wf.syncthreads()
    out[t] = s[t]


def test_reading_shared_memory_no_thread_wrote_is_an_uninitialized_read():
    out = np.zeros(64, np.float32)
    with pytest.raises(wf.UninitializedReadError) as info, wf.device(sim()):
        half_initialized[1, 64](out)
    text = str(info.value)
    assert line_of(half_initialized, "out[t] = s[t]") in text
    assert "by thread (32,0,0)" in text
    assert "offset 0x80" in text


@wf.kernel
def local_gap(out: wf.f32[:], k: wf.i32):
    buf = wf.local((8,), wf.f32)
    t = wf.thread_idx.x
    for i in range(4):
        buf[i] = wf.f32(i)
    out[t] = buf[k]


def test_reading_local_memory_the_thread_never_wrote_is_an_uninitialized_read():
    out = np.zeros(32, np.float32)
    with wf.device(sim()):
        local_gap[1, 32](out, 3)
    assert (out == 3).all()
    with pytest.raises(wf.UninitializedReadError, match="local memory"), wf.device(sim()):
        local_gap[1, 32](out, 6)


def test_the_environment_variable_turns_the_sanitizers_on(monkeypatch):
    monkeypatch.setenv("WARPFORGE_SANITIZE", "initcheck")
    out = np.zeros(64, np.float32)
    with pytest.raises(wf.UninitializedReadError), wf.device(wf.Simulator("test")):
        half_initialized[1, 64](out)


def test_an_unknown_sanitizer_is_a_config_error_naming_it():
    with pytest.raises(wf.ConfigError, match=r"bogus.*valid: memcheck, synccheck, racecheck"):
        wf.Simulator(sanitize="racecheck,bogus")
