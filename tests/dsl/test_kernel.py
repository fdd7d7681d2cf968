"""The kernel object: binding and checking launch arguments, specialization, the memory
and disk caches, WARPFORGE_DUMP, and the launch forms of DESIGN.md's public API."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib

import numpy as np
import pytest

import warpforge as wf
from warpforge.dsl import cache


@wf.kernel
def saxpy(a: wf.f32, x: wf.f32[:], y: wf.f32[:], n: wf.i32):
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < n:
        y[i] = a * x[i] + y[i]


@wf.kernel
def scale_rows(m, factor, BLOCK: wf.constexpr):
    """Unannotated parameters: types come from the launch's arguments."""
    r = wf.block_idx.x
    c = wf.thread_idx.x
    if c < BLOCK:
        m[r, c] = m[r, c] * factor


@pytest.fixture
def sim():
    return wf.Simulator(arch="test")


def test_saxpy_from_the_design_document(sim):
    n = 1000
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)
    res = saxpy[(n + 255) // 256, 256](2.0, x, y, n)
    np.testing.assert_array_equal(y, 2 * np.arange(n, dtype=np.float32) + 1)
    assert isinstance(res, wf.LaunchResult)
    assert res.stats["threads"] == 4 * 256


def test_launch_with_an_explicit_device_and_keywords(sim):
    x = np.full(64, 3, np.float32)
    y = np.zeros(64, np.float32)
    res = saxpy.launch(1, 64, a=0.5, x=x, y=y, n=64, device=sim)
    assert res.device is sim
    np.testing.assert_array_equal(y, np.full(64, 1.5, np.float32))


def test_types_are_inferred_and_constexprs_specialize(sim):
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    want = m * np.float32(2.5)
    scale_rows.launch(3, 32, m, 2.5, BLOCK=4, device=sim)
    np.testing.assert_array_equal(m, want)
    first = scale_rows.compile(m, 2.5, BLOCK=4)
    again = scale_rows.compile(m, 1.0, BLOCK=4)
    other = scale_rows.compile(m, 2.5, BLOCK=8)
    assert first is again, "the same types and constexprs compile once"
    assert other is not first
    assert "array<f32, 2, global>" in first.ir and "BLOCK" not in first.asm


@wf.kernel
def fill(out: wf.f32[:], VALUE: wf.constexpr = 7, TIMES: wf.constexpr = 2):
    """Constexpr defaults: used when a launch leaves them out."""
    out[wf.thread_idx.x] = VALUE * TIMES


def test_constexpr_defaults_apply_when_left_out(sim):
    out = np.zeros(32, np.float32)
    fill[1, 32](out)
    np.testing.assert_array_equal(out, np.full(32, 14, np.float32))
    fill[1, 32](out, TIMES=3)
    np.testing.assert_array_equal(out, np.full(32, 21, np.float32))
    fill[1, 32](out, 1, 5)  # positionally too
    np.testing.assert_array_equal(out, np.full(32, 5, np.float32))
    assert fill.compile(out) is fill.compile(out, VALUE=7, TIMES=2)  # one specialization
    assert fill.compile_types([]).asm == fill.compile(out).asm  # asm without values


def test_a_runtime_parameter_cannot_have_a_default():
    def bad(x: wf.f32[:], n: wf.i32 = 4):
        x[0] = n

    with pytest.raises(wf.UsageError, match=r"'n' has a default value; only wf\.constexpr"):
        wf.kernel(bad)


def test_grid_and_block_may_depend_on_constexprs(sim):
    m = np.ones((2, 8), np.float32)
    scale_rows.launch(lambda c: 2, lambda c: c["BLOCK"], m, np.float32(3), BLOCK=8,
                      device=sim)
    np.testing.assert_array_equal(m, np.full((2, 8), 3, np.float32))


def test_non_contiguous_arrays_are_updated_in_place(sim):
    base = np.zeros((4, 16), np.float32)
    view = base[:, ::2]                      # 4 x 8, not contiguous
    view[...] = 1
    scale_rows.launch(4, 8, view, np.float32(4), BLOCK=8, device=sim)
    np.testing.assert_array_equal(base[:, ::2], np.full((4, 8), 4, np.float32))
    np.testing.assert_array_equal(base[:, 1::2], np.zeros((4, 8), np.float32))


@pytest.mark.parametrize("args, kwargs, words", [
    ((2.0, np.zeros(4, np.float32)), {}, "missing argument(s) for y, n"),
    ((2.0, np.zeros(4, np.float32), np.zeros(4, np.float32), 4, 5), {}, "takes 4 arguments"),
    ((2.0, np.zeros(4, np.int32), np.zeros(4, np.float32), 4), {}, "parameter 'x' is f32[:]"),
    ((2.0, 1.0, np.zeros(4, np.float32), 4), {}, "parameter 'x' is f32[:]"),
    ((2.0, np.zeros(4, np.float32), np.zeros(4, np.float32), 4.5), {},
     "parameter 'n' is i32 but the argument is the float 4.5"),
    ((2.0, np.zeros(4, np.float32), np.zeros(4, np.float32), 4), {"m": 1},
     "has no parameter 'm'"),
])
def test_bad_arguments_raise_launch_error_naming_the_parameter(sim, args, kwargs, words):
    with pytest.raises(wf.LaunchError) as err:
        saxpy.launch(1, 32, *args, device=sim, **kwargs)
    assert words in str(err.value)


def test_calling_a_kernel_without_a_launch_configuration_says_how():
    with pytest.raises(wf.LaunchError, match=r"saxpy\[grid, block\]"):
        saxpy(1.0)


def test_compiled_kernel_shows_every_layer():
    x = np.zeros(8, np.float32)
    ck = saxpy.compile(1.0, x, x, 8)
    assert isinstance(ck, wf.CompiledKernel)
    assert wf.isa.assemble(str(ck.program)) == ck.program  # the isa round trip
    again = wf.isa.assemble(ck.asm)  # .asm shows source paths relative to the working dir
    assert again.instructions == tuple(
        dataclasses.replace(i, loc=dataclasses.replace(
            i.loc, file=os.path.relpath(i.loc.file))) if i.loc else i
        for i in ck.program.instructions)
    assert ck.registers == ck.program.registers > 0
    assert ck.shared_bytes == 0
    assert ck.stages[0][0] == "input" and ck.stages[-1][1] == ck.ir
    assert saxpy.asm(1.0, x, x, 8) == ck.asm and saxpy.ir(1.0, x, x, 8) == ck.ir


def _fresh_kernel():
    @wf.kernel
    def add_one(v: wf.i32[:], n: wf.i32):
        i = wf.thread_idx.x
        if i < n:
            v[i] = v[i] + 1
    return add_one


def test_disk_cache_hits_in_a_new_kernel_object(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("WARPFORGE_CACHE", "1")
    v = np.zeros(8, np.int32)
    first = _fresh_kernel().compile(v, 8)
    entries = list(tmp_path.glob("*.json"))
    assert len(entries) == 1 and not first.from_cache
    second = _fresh_kernel()
    hit = second.compile(v, 8)
    assert hit.from_cache and hit.program == first.program and hit.stages == first.stages
    second.launch(1, 32, v, 8, device=sim)
    np.testing.assert_array_equal(v, np.ones(8, np.int32))


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],                               # truncated
    lambda text: text.replace('"program": "', '"program": "AAAA'),     # bad binary
    lambda text: json.dumps({"format": 1}),                              # missing fields
    lambda text: "\x00\xff not json",
])
def test_a_corrupt_cache_entry_is_ignored_and_rebuilt(sim, tmp_path, monkeypatch, damage):
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("WARPFORGE_CACHE", "1")
    v = np.zeros(8, np.int32)
    _fresh_kernel().compile(v, 8)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text(damage(entry.read_text()))
    rebuilt = _fresh_kernel().compile(v, 8)
    assert not rebuilt.from_cache
    assert json.loads(entry.read_text())["key"] == rebuilt.key   # rewritten whole


def test_the_key_covers_device_functions_the_kernel_calls():
    @wf.func
    def helper(a):
        return a + 1

    @wf.kernel
    def uses(v: wf.i32[:]):
        v[0] = helper(v[0])

    assert helper in cache.dependencies(uses.fn)
    spec = ((("v", "i32[:]"),), ())
    assert cache.cache_key(uses.fn, spec, "sim") != cache.cache_key(uses.fn, spec, "cpu")


def test_dump_writes_every_stage_on_misses_and_hits(tmp_path, monkeypatch):
    monkeypatch.setenv("WARPFORGE_DUMP", str(tmp_path / "dump"))
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WARPFORGE_CACHE", "1")
    v = np.zeros(8, np.int32)
    for _ in range(2):                       # a miss, then a disk hit in a new object
        ck = _fresh_kernel().compile(v, 8)
        (folder,) = (tmp_path / "dump").iterdir()
        names = sorted(p.name for p in folder.iterdir())
        assert names[0] == "00-input.ir" and "add_one.sass" in names
        assert len([n for n in names if n.endswith(".ir")]) == len(ck.stages)
        assert (folder / "add_one.sass").read_text() == ck.asm
        for p in folder.iterdir():
            p.unlink()


def test_a_compile_error_from_a_launch_shows_only_the_user_s_frames(sim):
    import traceback

    @wf.kernel
    def bad(x: wf.f32[:]):
        x[0] = "text"

    with pytest.raises(wf.CompileError) as err:
        bad[1, 1](np.zeros(1, np.float32))
    frames = traceback.extract_tb(err.value.__traceback__)
    package = pathlib.Path(wf.__file__).resolve().parents[1]
    internal = [f.filename for f in frames
                if pathlib.Path(f.filename).resolve().is_relative_to(package / "dsl")
                or pathlib.Path(f.filename).resolve().is_relative_to(package / "compiler")]
    assert not internal, internal
    assert frames[-1].filename == __file__


def test_the_same_source_in_another_place_gets_its_own_entry():
    """Programs carry source locations, so a copy of a kernel elsewhere is another key."""
    spec = ((("v", "i32[:]"),), ())
    one, two = _fresh_kernel(), _fresh_kernel()
    assert cache.cache_key(one.fn, spec, "sim") == cache.cache_key(two.fn, spec, "sim")

    @wf.kernel
    def add_one(v: wf.i32[:], n: wf.i32):
        i = wf.thread_idx.x
        if i < n:
            v[i] = v[i] + 1

    assert cache.cache_key(add_one.fn, spec, "sim") != cache.cache_key(one.fn, spec, "sim")
