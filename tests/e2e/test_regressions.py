"""Regression tests for bugs users met in their first hour: stale compiled code, a loop
that never ended on the CPU, devices that disagreed on barriers, launches that could not
be stopped. Each test failed before its fix."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import warpforge as wf

DEVICES = ["sim", "cpu"]


def device(name: str):
    """A fresh device of that name (checked on the CPU)."""
    return wf.Simulator(arch="test") if name == "sim" else wf.CPU(threads=2, checked=True)


# --- stale compiled code: free names are part of a kernel's identity ---------------------

def make_scaler(factor):
    @wf.kernel
    def scale(x: wf.f32[:], n: wf.i32):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < n:
            x[i] = x[i] * factor
    return scale


@pytest.mark.parametrize("dev", DEVICES)
def test_kernel_factory_compiles_once_per_closure_value(dev):
    d = device(dev)
    for factor in (2.0, 3.0, 2.0, -0.5):
        x = np.arange(40, dtype=np.float32)
        make_scaler(factor).launch(2, 32, x, 40, device=d)
        np.testing.assert_array_equal(x, np.arange(40, dtype=np.float32) * np.float32(factor))


TILE = 4


@wf.kernel
def fill_tile(out: wf.i32[:]):
    i = wf.thread_idx.x
    if i < TILE:
        out[i] = TILE


@pytest.mark.parametrize("dev", DEVICES)
def test_changed_module_global_recompiles(dev):
    global TILE
    d = device(dev)
    try:
        for tile in (4, 7):
            TILE = tile
            out = np.zeros(8, np.int32)
            fill_tile.launch(1, 8, out, device=d)
            np.testing.assert_array_equal(out, [tile] * tile + [0] * (8 - tile))
    finally:
        TILE = 4


def make_shared_user(use_shared: bool):
    @wf.kernel
    def k(out: wf.i32[:]):
        i = wf.thread_idx.x
        if use_shared:
            s = wf.shared(32, wf.i32)
            s[i] = i + 1
            wf.syncthreads()
            out[i] = s[31 - i]
        else:
            out[i] = i
    return k


@pytest.mark.parametrize("dev", DEVICES)
def test_closure_choosing_shared_memory_gets_its_own_program(dev):
    d = device(dev)
    for flag in (False, True, False):
        out = np.zeros(32, np.int32)
        make_shared_user(flag).launch(1, 32, out, device=d)
        want = np.arange(32)[::-1] + 1 if flag else np.arange(32)
        np.testing.assert_array_equal(out, want)


def test_closure_values_key_the_disk_cache_in_a_new_process(tmp_path):
    script = tmp_path / "factory.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        import warpforge as wf

        def make(factor):
            @wf.kernel
            def scale(x: wf.f32[:]):
                x[wf.thread_idx.x] = x[wf.thread_idx.x] * factor
            return scale

        x = np.ones(32, np.float32)
        make(float(sys.argv[1]))[1, 32](x)
        print(x[0], make(1.0).compile(x).from_cache)
    """))
    env = {"WARPFORGE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    outs = [subprocess.run([sys.executable, str(script), f], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for f in ("2", "5")]
    assert outs[0][0] == "2.0"
    assert outs[1][0] == "5.0"
    assert outs[1][1] == "True"  # make(1.0) was compiled and cached by the first process


# --- loops that every thread leaves by returning ------------------------------------------

@wf.kernel
def leave_while_true(x: wf.i32[:]):
    i = wf.thread_idx.x
    j = 0
    while True:
        j += 1
        if j > i:
            x[i] = j
            return


@wf.kernel
def leave_counted_loop(x: wf.i32[:], n: wf.i32):
    i = wf.thread_idx.x
    for j in range(n):
        if j >= i:
            x[i] = j * 2
            return
    x[i] = -1


@pytest.mark.parametrize("dev", DEVICES)
def test_while_true_left_by_return_in_every_thread(dev):
    x = np.zeros(40, np.int32)
    leave_while_true.launch(1, 40, x, device=device(dev), timeout=60)
    np.testing.assert_array_equal(x, np.arange(1, 41))


@pytest.mark.parametrize("dev", DEVICES)
def test_counted_loop_left_by_return(dev):
    x = np.zeros(40, np.int32)
    leave_counted_loop.launch(1, 40, x, 30, device=device(dev), timeout=60)
    np.testing.assert_array_equal(x, np.where(np.arange(40) < 30, np.arange(40) * 2, -1))


# --- a barrier under a condition the compiler cannot prove uniform ------------------------

@wf.kernel
def barrier_under_data(x: wf.i32[:]):
    s = wf.shared(64, wf.i32)
    i = wf.thread_idx.x
    if x[0] > 0:
        s[i] = x[i] * 10
        wf.syncthreads()
        x[i] = s[63 - i]


@pytest.mark.parametrize("dev", DEVICES)
def test_barrier_under_a_condition_every_thread_agrees_on(dev):
    x = np.arange(1, 65, dtype=np.int32)
    barrier_under_data.launch(1, 64, x, device=device(dev))
    np.testing.assert_array_equal(x, np.arange(1, 65)[::-1] * 10)
    x = -np.arange(1, 65, dtype=np.int32)  # every thread skips the barrier
    barrier_under_data.launch(1, 64, x, device=device(dev))
    np.testing.assert_array_equal(x, -np.arange(1, 65))


@wf.kernel
def barrier_under_thread_data(x: wf.i32[:]):
    s = wf.shared(64, wf.i32)
    i = wf.thread_idx.x
    if x[i] > 3:
        s[i] = i
        wf.syncthreads()
        x[i] = s[63 - i]


@pytest.mark.parametrize("dev", DEVICES)
def test_barrier_reached_by_some_threads_is_a_barrier_error_on_both(dev):
    x = np.arange(64, dtype=np.int32)
    with pytest.raises(wf.BarrierError, match="some but not all") as err:
        barrier_under_thread_data.launch(1, 64, x, device=device(dev))
    assert err.value.loc is not None and err.value.loc.line > 0
    np.testing.assert_array_equal(x, np.arange(64))  # untouched


# --- stopping a launch: timeouts and Ctrl-C -------------------------------------------------

@wf.kernel
def spin(x: wf.i32[:]):
    i = wf.thread_idx.x
    while x[i] >= 0:
        x[i] = (x[i] + 1) % 1000


@pytest.mark.parametrize("dev", DEVICES)
def test_timeout_stops_a_runaway_kernel_and_restores_arrays(dev):
    x = np.zeros(64, np.int32)
    d = device(dev)
    spin.compile(x, target=dev, block=64)
    start = time.monotonic()
    with pytest.raises(wf.LaunchTimeout, match="spin") as err:
        spin.launch(1, 64, x, device=d, timeout=0.3)
    assert isinstance(err.value, wf.LaunchError)
    assert time.monotonic() - start < 10
    np.testing.assert_array_equal(x, 0)


def test_bad_timeout_is_a_launch_error():
    with pytest.raises(wf.LaunchError, match="timeout"):
        spin.launch(1, 32, np.zeros(32, np.int32), timeout=-1)


@pytest.mark.parametrize("dev", DEVICES)
def test_ctrl_c_stops_a_launch_within_a_second(tmp_path, dev):
    script = tmp_path / "spin.py"
    script.write_text(textwrap.dedent(f"""
        import time
        import numpy as np
        import warpforge as wf

        @wf.kernel
        def spin(x: wf.i32[:]):
            i = wf.thread_idx.x
            while x[i] >= 0:
                x[i] = (x[i] + 1) % 1000

        x = np.zeros(64, np.int32)
        dev = wf.CPU(threads=2, checked=True) if {dev!r} == "cpu" else wf.Simulator()
        spin.compile(x, target={dev!r}, block=64)
        print("ready", flush=True)
        try:
            spin.launch(1, 64, x, device=dev)
        except KeyboardInterrupt:
            print("interrupted", bool((x == 0).all()), flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
        assert time.monotonic() - sent < 5
    finally:
        proc.kill()
    assert out.split() == ["interrupted", "True"]


def test_launch_takes_a_device_name():
    x = np.zeros(64, np.int32)
    leave_while_true.launch(1, 64, x, device="cpu")
    np.testing.assert_array_equal(x, np.arange(1, 65))
    x[:] = 0
    leave_while_true.launch(1, 64, x, device="sim")
    np.testing.assert_array_equal(x, np.arange(1, 65))


@wf.kernel
def carried_if_result_across_barrier(a: wf.i32[:], b: wf.i32[:], out: wf.i32[:],
                                     rounds: wf.i32):
    t = wf.thread_idx.x
    g = wf.block_idx.x * 32 + t
    v = a[g]
    w = b[g]
    for _ in range(rounds):
        w = w + v
        wf.syncthreads()
        if w > 0:
            v = v & 7
    out[g * 2] = v
    out[g * 2 + 1] = w


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_a_loop_carried_if_result_after_a_barrier_is_right(dev):
    # The CPU stored the if's result straight into the carried value's slot and took
    # the branch where it should not (found by the barrier fuzz).
    rng = np.random.default_rng(0)
    a = rng.integers(-50, 50, 96).astype(np.int32)
    b = rng.integers(-50, 50, 96).astype(np.int32)
    want = []
    for g in range(96):
        v, w = int(a[g]), int(b[g])
        for _ in range(2):
            w += v
            if w > 0:
                v &= 7
        want += [v, w]
    out = np.zeros(192, np.int32)
    device = wf.Simulator("test") if dev == "sim" else wf.CPU(threads=1)
    carried_if_result_across_barrier.launch(3, 32, a, b, out, 2, device=device)
    np.testing.assert_array_equal(out, want)


@wf.kernel
def carried_swap_across_barrier(a: wf.i32[:], out: wf.i32[:], rounds: wf.i32):
    g = wf.block_idx.x * 32 + wf.thread_idx.x
    front = a[g]
    back = 0
    for _ in range(rounds):
        wf.syncthreads()
        front = back
        back = 8 - back
    out[g * 2] = front
    out[g * 2 + 1] = back


@pytest.mark.parametrize("dev", ["sim", "cpu"])
def test_a_swap_of_loop_carried_values_after_a_barrier_is_right(dev):
    # The CPU stored `8 - back` straight into back's slot before the yield read that
    # slot to carry it on as `front` (the GEMM template's double-buffer offsets).
    a = np.arange(64, dtype=np.int32)
    out = np.zeros(128, np.int32)
    device = wf.Simulator("test") if dev == "sim" else wf.CPU(threads=1)
    carried_swap_across_barrier.launch(2, 32, a, out, 3, device=device)
    # front, back: (a, 0) -> (0, 8) -> (8, 0) -> (0, 8)
    np.testing.assert_array_equal(out, np.tile([0, 8], 64))
