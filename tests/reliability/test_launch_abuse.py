"""Bad launches on both devices: each raises the same warpforge error class on the
simulator and on the CPU, before anything runs (the arrays are untouched); and the limits,
scalar ranges and memory contents the two devices share."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf

DEVICES = ("sim", "cpu")


def device(name: str):
    return wf.Simulator(arch="test") if name == "sim" else wf.CPU(threads=2, checked=True)


@wf.kernel
def axpy(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        y[i] = a * x[i] + y[i]


def x32():
    return np.arange(64, dtype=np.float32)


ABUSE = {
    "too few arguments": lambda d: axpy.launch(1, 64, 1.0, x32(), device=d),
    "too many arguments": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, 5, device=d),
    "unknown keyword": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, m=3, device=d),
    "string for a scalar": lambda d: axpy.launch(1, 64, "a", x32(), x32(), 64, device=d),
    "array for a scalar": lambda d: axpy.launch(1, 64, x32(), x32(), x32(), 64, device=d),
    "scalar for an array": lambda d: axpy.launch(1, 64, 1.0, 3.0, x32(), 64, device=d),
    "list for an array": lambda d: axpy.launch(1, 64, 1.0, [1.0], x32(), 64, device=d),
    "wrong dtype": lambda d: axpy.launch(1, 64, 1.0, np.zeros(64), x32(), 64, device=d),
    "wrong rank": lambda d: axpy.launch(1, 64, 1.0, np.zeros((8, 8), np.float32), x32(),
                                        64, device=d),
    "i32 overflow": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 2**40, device=d),
    "float for an int": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 1.5, device=d),
    "f32 overflow": lambda d: axpy.launch(1, 64, 1e300, x32(), x32(), 64, device=d),
    "grid 0": lambda d: axpy.launch(0, 64, 1.0, x32(), x32(), 64, device=d),
    "negative block": lambda d: axpy.launch(1, -4, 1.0, x32(), x32(), 64, device=d),
    "four dims": lambda d: axpy.launch((1, 1, 1, 1), 64, 1.0, x32(), x32(), 64, device=d),
    "float dims": lambda d: axpy.launch(1.5, 64, 1.0, x32(), x32(), 64, device=d),
    "block z 65": lambda d: axpy.launch(1, (1, 1, 65), 1.0, x32(), x32(), 64, device=d),
    "block of 2048": lambda d: axpy.launch(1, 2048, 1.0, x32(), x32(), 64, device=d),
    "grid y 70000": lambda d: axpy.launch((1, 70_000), 64, 1.0, x32(), x32(), 64, device=d),
    "4 GB of shared memory": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, device=d,
                                                   shared_bytes=4 << 30),
    "negative shared bytes": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, device=d,
                                                   shared_bytes=-1),
    "negative timeout": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, device=d,
                                              timeout=-2),
    "read-only output": lambda d: axpy.launch(1, 64, 1.0, x32(), _read_only(), 64, device=d),
    "bad device name": lambda d: axpy.launch(1, 64, 1.0, x32(), x32(), 64, device="tpu"),
    "no launch configuration": lambda d: axpy(1.0, x32(), x32(), 64),
    "three-part config with a string": lambda d: axpy[1, 64, "x"](1.0, x32(), x32(), 64),
}


def _read_only():
    y = np.zeros(64, np.float32)
    y.flags.writeable = False
    return y


def raised(name: str, dev: str) -> type:
    try:
        ABUSE[name](device(dev))
    except Exception as err:
        return type(err)
    raise AssertionError(f"{name} on {dev} raised nothing")


@pytest.mark.parametrize("name", list(ABUSE))
def test_bad_launch_is_the_same_warpforge_error_on_both_devices(name):
    on_sim, on_cpu = raised(name, "sim"), raised(name, "cpu")
    assert issubclass(on_sim, wf.WarpforgeError), on_sim
    assert issubclass(on_cpu, wf.WarpforgeError), on_cpu
    assert on_sim is on_cpu, (on_sim, on_cpu)


@pytest.mark.parametrize("dev", DEVICES)
def test_a_bad_launch_leaves_the_arrays_alone(dev):
    y = np.arange(64, dtype=np.float32)
    with pytest.raises(wf.LaunchError):
        axpy.launch(1, 64, 1.0, x32(), y, 2**40, device=device(dev))
    np.testing.assert_array_equal(y, np.arange(64))


@wf.kernel
def fresh_shared(out: wf.f32[:]):
    s = wf.shared(64, wf.f32)
    d = wf.dynamic_shared(wf.f32)
    loc = wf.local(4, wf.f32)
    t = wf.thread_idx.x
    out[wf.block_idx.x * 64 + t] = s[t] + d[t] + loc[t % 4]
    wf.syncthreads()
    s[t] = 7.0
    d[t] = 5.0
    loc[t % 4] = 3.0
    out[0] += loc[(t + 1) % 4] * 0.0


@pytest.mark.parametrize("dev", DEVICES)
def test_no_launch_or_cta_sees_another_ones_shared_or_local_memory(dev):
    d = device(dev)
    for _ in range(2):
        out = np.ones(64 * 6, np.float32)
        fresh_shared.launch(6, 64, out, device=d, shared_bytes=256)
        np.testing.assert_array_equal(out, 0)


def test_max_instructions_stops_the_simulator_deterministically():
    x = np.zeros(64, np.int32)
    sim = wf.Simulator(arch="test", max_instructions=50)
    with pytest.raises(wf.LaunchTimeout, match=r"instruction limit|50 instructions") as err:
        spin_forever.launch(1, 64, x, device=sim)
    assert err.value.instructions
    np.testing.assert_array_equal(x, 0)


@wf.kernel
def spin_forever(x: wf.i32[:]):
    i = wf.thread_idx.x
    while x[i] >= 0:
        x[i] = (x[i] + 1) % 1000


def test_bad_simulator_settings_are_config_errors():
    for kwargs in ({"num_sms": 0}, {"arch": "volta"}, {"bogus_field": 1},
                   {"max_instructions": 0}):
        with pytest.raises(wf.ConfigError):
            wf.Simulator(**kwargs)
    for kwargs in ({"threads": 0}, {"lanes": 7}):
        with pytest.raises(wf.ConfigError):
            wf.CPU(**kwargs)
