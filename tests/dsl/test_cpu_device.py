"""The CPU device: choosing it, packing arguments, running CTAs on worker threads, faults,
and the native build path of ``@wf.kernel`` (compile, cache across processes, dumps).

The first half drives ``wf.CPU`` with hand-built entries (``tests/compiler/jit_support``);
the second half goes through ``@wf.kernel`` and the LLVM lowering.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import warpforge as wf
from warpforge.compiler.llvm import jit
from warpforge.dsl import devices
from warpforge.dsl.cpu import NativeKernel, NativeMemoryFault
from warpforge.isa.program import Param, SourceLoc

from ..compiler.jit_support import SAXPY_PARAMS, echo_module, saxpy_module
from .test_kernel import saxpy  # the DSL saxpy, shared with the simulator tests

BLOCK = 64


def _load(module, entry: str):
    return jit.load(jit.emit_object(jit.optimize(module)), entry)


@pytest.fixture(scope="module")
def saxpy_native() -> NativeKernel:
    sites = (SourceLoc("kern.py", 7, 8), SourceLoc("kern.py", 7, 20))
    return NativeKernel("saxpy", _load(saxpy_module(BLOCK), "saxpy_ctas"), SAXPY_PARAMS,
                        (BLOCK, 1, 1), 16, 256, 0, sites, ("read of x[i]", "read of y[i]"))


def _saxpy_args(a, x, y, n):
    return [a, x, x.shape[0], x.strides[0] // x.itemsize,
            y, y.shape[0], y.strides[0] // y.itemsize, n]


@pytest.fixture
def restore_device():
    previous = devices.get_device()
    yield
    devices.set_device(previous)


# --- the device object ----------------------------------------------------------------


def test_defaults_and_repr(monkeypatch):
    monkeypatch.delenv("WARPFORGE_CPU_CHECKED", raising=False)
    cpu = wf.CPU()
    assert cpu.threads == (os.cpu_count() or 1)
    assert cpu.lanes == jit.host_lanes()
    assert cpu.checked is False
    assert repr(wf.CPU(threads=2, lanes=16, checked=False)) == \
        "CPU(threads=2, lanes=16, checked=False)"


def test_checked_default_comes_from_the_knob(monkeypatch):
    monkeypatch.setenv("WARPFORGE_CPU_CHECKED", "1")
    assert wf.CPU().checked is True
    assert wf.CPU(checked=False).checked is False


@pytest.mark.parametrize("lanes", [4, 12, 64, 0])
def test_bad_lane_counts_are_value_errors(lanes):
    with pytest.raises(ValueError, match="lanes"):
        wf.CPU(lanes=lanes)


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_bad_thread_counts_are_value_errors(threads):
    with pytest.raises(ValueError, match="threads"):
        wf.CPU(threads=threads)


def test_to_device_is_the_host_array():
    a = np.arange(10, dtype=np.float32)
    assert wf.CPU().to_device(a) is a
    with wf.device("cpu"):
        assert np.shares_memory(wf.to_device(a), a)


# --- choosing the device ----------------------------------------------------------------


def test_set_device_by_name(restore_device):
    chosen = wf.set_device("cpu")
    assert isinstance(chosen, wf.CPU) and wf.get_device() is chosen
    assert isinstance(wf.set_device("sim"), wf.Simulator)


def test_device_context_by_name_and_object(restore_device):
    outer = wf.get_device()
    with wf.device("cpu") as dev:
        assert isinstance(dev, wf.CPU) and wf.get_device() is dev
        mine = wf.CPU(threads=1)
        with wf.device(mine):
            assert wf.get_device() is mine
        assert wf.get_device() is dev
    assert wf.get_device() is outer


def test_unknown_device_name_lists_both():
    with pytest.raises(wf.LaunchError, match="'sim', 'cpu'"):
        wf.set_device("tpu")


def test_environment_variable_selects_the_cpu():
    code = "import warpforge as wf; print(repr(wf.get_device()))"
    env = {**os.environ, "WARPFORGE_DEVICE": "cpu", "WARPFORGE_CPU_CHECKED": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("CPU(") and "checked=True" in out


# --- running hand-built entries -------------------------------------------------------


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_saxpy_over_many_ctas_matches_numpy(saxpy_native, threads):
    n = 10_000
    x = np.arange(n, dtype=np.float32)
    y = np.linspace(0, 1, n).astype(np.float32)
    expect = np.float32(3) * x + y
    grid = (n + BLOCK - 1) // BLOCK
    res = wf.CPU(threads=threads).launch(saxpy_native, grid, BLOCK, _saxpy_args(3.0, x, y, n))
    np.testing.assert_array_equal(y, expect)
    assert isinstance(res, wf.LaunchResult) and res.cycles is None
    assert res.stats["ctas"] == grid and res.stats["threads"] == grid * BLOCK
    assert res.stats["workers"] == min(threads, grid)
    assert res.stats["grid"] == (grid, 1, 1) and res.stats["block"] == (BLOCK, 1, 1)
    assert res.stats["lanes"] == 16
    assert res.device.threads == threads and res.elapsed_s >= 0


def test_strided_and_reversed_views_pass_without_copies(saxpy_native):
    n = 500
    base_x = np.arange(3 * n, dtype=np.float32)
    base_y = np.full(2 * n, 7, np.float32)
    x = base_x[::3]
    y = base_y[::-2]  # negative stride: the pointer is element 0 of the view
    expect_y = np.float32(2) * x + y
    untouched = base_y[-2::-2].copy()
    wf.CPU(threads=2).launch(saxpy_native, (n + BLOCK - 1) // BLOCK, BLOCK,
                             _saxpy_args(2.0, x, y, n))
    np.testing.assert_array_equal(y, expect_y)
    np.testing.assert_array_equal(base_y[-2::-2], untouched)


def test_every_scalar_type_lands_in_the_low_bytes_of_its_slot():
    params = (Param("out", "u64*"), Param("a", "f32"), Param("b", "f16"), Param("c", "f64"),
              Param("d", "i32"), Param("e", "u32"), Param("f", "i64"), Param("g", "i32"),
              Param("h", "i32"))
    slots = len(params) + 3
    native = NativeKernel("echo", _load(echo_module(slots), "echo_ctas"), params,
                          (1, 1, 1), 16, 0, 0)
    out = np.zeros(slots, np.uint64)
    values = [out, 1.5, -2.25, np.pi, -7, 2**32 - 1, -(2**40) - 3, True, 2**31 - 1]
    wf.CPU(threads=1).launch(native, (5, 3, 2), 1, values)
    raw = out.view(np.uint8).reshape(slots, 8)
    assert raw[1, :4].view(np.float32)[0] == np.float32(1.5)
    assert raw[2, :2].view(np.float16)[0] == np.float16(-2.25)
    assert raw[3].view(np.float64)[0] == np.pi
    assert raw[4, :4].view(np.int32)[0] == -7
    assert raw[5, :4].view(np.uint32)[0] == 2**32 - 1
    assert raw[6].view(np.int64)[0] == -(2**40) - 3
    assert raw[7, :4].view(np.int32)[0] == 1
    assert raw[8, :4].view(np.int32)[0] == 2**31 - 1
    assert list(out[len(params):].view(np.int64)) == [5, 3, 2]


@pytest.mark.parametrize(("ptype", "value", "match"), [
    ("i32", 2**31, "does not fit"), ("u32", -1, "does not fit"), ("i32", 1.5, "integer"),
    ("f16", 1e6, "overflows"), ("f32", "x", "number"), ("i64", np.zeros(2), "scalar")])
def test_bad_scalars_are_launch_errors(ptype, value, match):
    native = NativeKernel("echo", _load(echo_module(1), "echo_ctas"),
                          (Param("out", "u64*"), Param("v", ptype)), (1, 1, 1), 8, 0, 0)
    with pytest.raises(wf.LaunchError, match=match):
        wf.CPU(threads=1).launch(native, 1, 1, [np.zeros(8, np.uint64), value])


def test_wrong_block_wrong_dtype_and_device_arrays_are_launch_errors(saxpy_native):
    x = np.zeros(64, np.float32)
    cpu = wf.CPU(threads=1)
    with pytest.raises(wf.LaunchError, match="compiled for block"):
        cpu.launch(saxpy_native, 1, 32, _saxpy_args(1.0, x, x, 64))
    with pytest.raises(wf.LaunchError, match="float32"):
        cpu.launch(saxpy_native, 1, BLOCK, _saxpy_args(1.0, x.astype(np.float64), x, 64))
    dev_x = wf.Simulator(arch="test").to_device(x)
    args = _saxpy_args(1.0, x, x, 64)
    args[1] = dev_x
    with pytest.raises(wf.LaunchError, match="DeviceArray cannot run on the CPU"):
        cpu.launch(saxpy_native, 1, BLOCK, args)
    with pytest.raises(wf.LaunchError, match="grid"):
        cpu.launch(saxpy_native, 0, BLOCK, _saxpy_args(1.0, x, x, 64))


@pytest.mark.parametrize("threads", [1, 2])
def test_checked_fault_names_everything_and_leaves_arrays_untouched(saxpy_native, threads):
    n = 1000
    x = np.arange(500, dtype=np.float32)  # too short: thread 500 reads past its end
    y = np.ones(n, np.float32)
    with pytest.raises(wf.MemoryFault) as info:
        wf.CPU(threads=threads, checked=True).launch(
            saxpy_native, (n + BLOCK - 1) // BLOCK, BLOCK, _saxpy_args(2.0, x, y, n))
    err = info.value
    assert isinstance(err, NativeMemoryFault)
    assert err.kernel == "saxpy" and err.what == "read of x[i]" and err.access == "read"
    assert err.space == "global" and err.size == 4
    assert (err.index, err.extent, err.axis) == (500, 500, 0)
    assert err.block == (500 // BLOCK, 0, 0) and err.thread == (500 % BLOCK, 0, 0)
    assert err.loc == SourceLoc("kern.py", 7, 8)
    text = str(err)
    for part in ("saxpy", "read of x[i]", "kern.py:7:8", "thread (52,0,0)",
                 "block (7,0,0)", "index 500", "extent 500"):
        assert part in text
    np.testing.assert_array_equal(y, 1.0)  # restored: CTAs before the fault had written


def test_unchecked_fault_still_raises_but_keeps_partial_writes(saxpy_native):
    n = 1000
    x = np.arange(500, dtype=np.float32)
    y = np.ones(n, np.float32)
    with pytest.raises(wf.MemoryFault):
        wf.CPU(threads=1, checked=False).launch(
            saxpy_native, (n + BLOCK - 1) // BLOCK, BLOCK, _saxpy_args(2.0, x, y, n))
    np.testing.assert_array_equal(y[:500], 2 * x + 1)  # no snapshot without checking


# --- @wf.kernel on the CPU (needs the LLVM lowering) ----------------------------------


@wf.kernel
def scalars(out64: wf.f64[:], outi: wf.i64[:], out32: wf.f32[:], a: wf.f16, b: wf.f64,
            c: wf.i64, d: wf.bool_, e: wf.u32, f: wf.i32):
    if wf.thread_idx.x == 0:
        out64[0] = b
        outi[0] = c + 1
        outi[1] = wf.i64(e)
        outi[2] = wf.i64(f)
        outi[3] = wf.select(d, wf.i64(1), wf.i64(0))
        out32[0] = wf.f32(a)


@wf.kernel
def transpose_add(src: wf.f32[:, :], dst: wf.f32[:, :], rows: wf.i32, cols: wf.i32):
    r = wf.block_idx.x
    c = wf.thread_idx.x
    if c < cols:
        dst[c, r] = dst[c, r] + src[r, c]


@wf.kernel
def overrun(x: wf.f32[:], y: wf.f32[:]):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    y[i] = x[i] + 1.0


def _saxpy_data(n=1000):
    x = np.arange(n, dtype=np.float32)
    y = np.linspace(-3, 3, n).astype(np.float32)
    return x, y, np.float32(2) * x + y


def test_launch_with_device_argument():
    x, y, expect = _saxpy_data()
    res = saxpy.launch((1000 + 127) // 128, 128, 2.0, x, y, 1000, device=wf.CPU(threads=2))
    np.testing.assert_allclose(y, expect, rtol=1e-6)
    assert isinstance(res.device, wf.CPU) and res.stats["ctas"] == 8
    report = res.report()
    assert "grid (8, 1, 1)  block (128, 1, 1)  (8 CTAs, 1024 threads)" in report
    assert f"{res.stats['lanes']} SIMD lanes a thread group, 2 worker threads" in report
    assert "instructions" not in report  # native code counts none


def test_launch_on_the_current_device(restore_device):
    x, y, expect = _saxpy_data()
    with wf.device("cpu"):
        res = saxpy[8, 128](2.0, x, y, 1000)
    assert isinstance(res.device, wf.CPU)
    np.testing.assert_allclose(y, expect, rtol=1e-6)
    wf.set_device(wf.CPU(threads=1))
    x, y, expect = _saxpy_data()
    assert isinstance(saxpy[8, 128](2.0, x, y, 1000).device, wf.CPU)
    np.testing.assert_allclose(y, expect, rtol=1e-6)


@pytest.mark.parametrize("lanes", [8, 16, 32])
def test_cpu_agrees_with_the_simulator(lanes):
    x, y_sim, _ = _saxpy_data(300)
    y_cpu = y_sim.copy()
    saxpy.launch(3, 128, 1.5, x, y_sim, 300, device=wf.Simulator(arch="test"))
    saxpy.launch(3, 128, 1.5, x, y_cpu, 300, device=wf.CPU(threads=2, lanes=lanes))
    np.testing.assert_allclose(y_cpu, y_sim, rtol=1e-6)


def test_every_scalar_type_through_the_dsl():
    out64, outi, out32 = np.zeros(1), np.zeros(4, np.int64), np.zeros(1, np.float32)
    scalars.launch(1, 32, out64, outi, out32, np.float16(-1.5), 1e300, 2**40, True,
                   2**32 - 2, -5, device=wf.CPU(threads=1))
    assert out64[0] == 1e300
    assert list(outi) == [2**40 + 1, 2**32 - 2, -5, 1]
    assert out32[0] == np.float32(-1.5)


def test_non_contiguous_arrays_through_the_dsl():
    rows, cols = 5, 7
    src = np.arange(2 * rows * cols, dtype=np.float32).reshape(rows, 2 * cols)[:, ::2]
    dst = np.ones((cols, rows), np.float32).T.copy().T  # a transposed (F-order) view
    assert not src.flags.c_contiguous and not dst.flags.c_contiguous
    expect = dst + src.T
    transpose_add.launch(rows, 32, src, dst, rows, cols, device=wf.CPU(threads=2))
    np.testing.assert_array_equal(dst, expect)


def test_checked_dsl_fault_names_the_source_line_and_restores_arrays():
    x = np.arange(100, dtype=np.float32)
    y = np.zeros(128, np.float32)
    with pytest.raises(wf.MemoryFault) as info:
        overrun.launch(1, 128, x, y, device=wf.CPU(threads=1, checked=True))
    text = str(info.value)
    assert "overrun" in text and "read of x" in text and "index 100" in text
    assert info.value.access == "read" and info.value.space == "global"
    line = overrun.fn.__code__.co_firstlineno + 3
    assert f"test_cpu_device.py:{line}" in text
    np.testing.assert_array_equal(y, 0.0)


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_counts_give_the_same_result(threads):
    x, y, expect = _saxpy_data(5000)
    saxpy.launch(40, 128, 2.0, x, y, 5000, device=wf.CPU(threads=threads))
    np.testing.assert_allclose(y, expect, rtol=1e-6)


def test_compile_for_the_cpu_shows_every_layer():
    x, y, _ = _saxpy_data(10)
    compiled = saxpy.compile(2.0, x, y, 10, target="cpu", block=64)
    assert compiled.target == "cpu" and compiled.program is None
    assert compiled.registers == 0 and compiled.lanes in (8, 16, 32)
    assert "define" in compiled.llvm_ir and compiled.ir
    assert compiled.native_asm.strip()
    assert compiled.native.block == (64, 1, 1)
    with pytest.raises(ValueError, match="target='sim'"):
        _ = compiled.asm
    assert saxpy.llvm_ir(2.0, x, y, 10, block=64) == compiled.llvm_ir
    with pytest.raises(ValueError, match="target='cpu'"):
        _ = saxpy.compile(2.0, x, y, 10).llvm_ir


def test_dump_writes_llvm_ir_and_native_assembly(tmp_path, monkeypatch):
    monkeypatch.setenv("WARPFORGE_DUMP", str(tmp_path))
    x, y, _ = _saxpy_data(10)
    saxpy.compile(2.0, x, y, 10, target="cpu", block=32)
    lls = list(tmp_path.rglob("saxpy.ll"))
    ss = list(tmp_path.rglob("saxpy.s"))
    assert lls and ss and "define" in lls[0].read_text() and ss[0].read_text().strip()


SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import warpforge as wf
    import warpforge.compiler.llvm as backend
    from warpforge.compiler.llvm import jit
    from warpforge.dsl import kernel as kernel_module

    if sys.argv[1] == "hit":
        def rebuilt(*args, **kwargs):
            raise AssertionError("a cache hit ran the compiler")
        backend.lower_kernel = rebuilt
        kernel_module.build_function = rebuilt
        jit.optimize = rebuilt
        jit.emit_object = rebuilt

    @wf.kernel
    def saxpy(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < n:
            y[i] = a * x[i] + y[i]

    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, np.float32)
    saxpy.launch(8, 128, 2.0, x, y, 1000, device=wf.CPU(threads=1))
    compiled = saxpy.compile(2.0, x, y, 1000, target="cpu", block=128)
    print(json.dumps({"from_cache": compiled.from_cache,
                      "ok": bool(np.array_equal(y, 2 * np.arange(1000) + 1))}))
''')


def test_cache_hit_in_a_new_process_does_not_rebuild(tmp_path):
    script = tmp_path / "saxpy_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "WARPFORGE_CACHE_DIR": str(tmp_path / "cache"),
           "WARPFORGE_CPU_CHECKED": "0"}

    def run(mode: str) -> dict:
        done = subprocess.run([sys.executable, str(script), mode], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run("miss")
    assert first == {"from_cache": False, "ok": True}
    assert list(pathlib.Path(tmp_path / "cache").glob("*.json"))
    assert run("hit") == {"from_cache": True, "ok": True}
