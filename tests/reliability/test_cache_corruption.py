"""A corrupt cache entry never breaks a kernel: every entry is validated whole (schema and a
checksum over metadata and payload) and anything that does not validate, or is not a
regular file of sane size, is ignored, removed and rebuilt; never an exception, never a
crash, never a hang. A corpus of corruptions of every field, on both targets."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest

import warpforge as wf
from warpforge.dsl import cache


def make_kernel():
    """A fresh kernel object each call (so no memory cache), one source (one disk entry)."""
    @wf.kernel
    def triple(x: wf.f32[:], out: wf.f32[:]):
        i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
        if i < x.size:
            out[i] = x[i] * 3.0
    return triple


def run(target: str) -> None:
    x = np.arange(50, dtype=np.float32)
    out = np.zeros(50, np.float32)
    dev = wf.Simulator(arch="test") if target == "sim" else wf.CPU(threads=1, checked=True)
    make_kernel().launch(2, 32, x, out, device=dev)
    np.testing.assert_array_equal(out, x * 3)


@pytest.fixture
def entry(tmp_path, monkeypatch, request):
    """The path of the one cache entry ``request.param``'s launch writes."""
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path))
    run(request.param)
    files = [p for p in tmp_path.iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    return request.param, files[0]


def corruptions(original: dict) -> list[tuple[str, object]]:
    """(name, replacement) pairs: JSON values to write in place of the entry, or a
    callable that damages the file itself."""
    out: list[tuple[str, object]] = [("null", None), ("list", []), ("number", 7),
                                     ("string", "x"), ("empty dict", {})]
    for key in original:
        for name, value in (("missing", ...), ("null", None), ("list", []),
                            ("number", -1), ("string", "zz"), ("dict", {})):
            damaged = copy.deepcopy(original)
            if value is ...:
                del damaged[key]
            else:
                damaged[key] = value
            out.append((f"{key} {name}", damaged))
        flipped = copy.deepcopy(original)
        flipped[key[:-1] + chr(ord(key[-1]) ^ 1)] = flipped.pop(key)
        out.append((f"{key} renamed by a bit flip", flipped))
    for key in original["meta"]:
        for name, bad in (("missing", ...), ("null", None), ("wrong type", "x"),
                          ("negative", -5), ("zero", 0), ("huge", 2**62)):
            damaged = copy.deepcopy(original)
            if bad is ...:
                del damaged["meta"][key]
            else:
                damaged["meta"][key] = bad
            out.append((f"meta.{key} {name}", damaged))
    payload = "program" if "program" in original else "object"
    flipped = copy.deepcopy(original)
    text = flipped[payload]
    flipped[payload] = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    out.append(("payload bit flip", flipped))
    return out


FILE_DAMAGE = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:100]),
    "empty": lambda path: path.write_bytes(b""),
    "not json": lambda path: path.write_bytes(b"\xff\xfe garbage {"),
    "not utf-8 inside": lambda path: path.write_bytes(b'{"format": "\xff"}'),
    "deeply nested": lambda path: path.write_text("[" * 100_000 + "]" * 100_000),
    "fifo": lambda path: (path.unlink(), os.mkfifo(path)),
    "directory": lambda path: (path.unlink(), path.mkdir()),
    "huge sparse file": lambda path: os.truncate(path, cache.MAX_ENTRY_BYTES + 1),
}


@pytest.mark.parametrize("entry", ["sim", "cpu"], indirect=True)
def test_corrupt_entries_are_rebuilt(entry):
    target, path = entry
    original = json.loads(path.read_text())
    cases = corruptions(original)
    assert len(cases) > 40
    for name, damaged in cases:
        path.write_text(json.dumps(damaged))
        run(target)  # right results, no exception
        rebuilt = json.loads(path.read_text())
        assert rebuilt == original, name


@pytest.mark.parametrize("entry", ["sim", "cpu"], indirect=True)
@pytest.mark.parametrize("damage", list(FILE_DAMAGE))
def test_damaged_files_are_ignored_and_replaced(entry, damage):
    target, path = entry
    original = json.loads(path.read_text())
    FILE_DAMAGE[damage](path)
    run(target)
    if path.is_dir():  # a directory in the way is left alone; the entry cannot be written
        return
    assert json.loads(path.read_text()) == original


def test_bad_cache_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE", "maybe")
    with pytest.raises(wf.UsageError, match=r"WARPFORGE_CACHE='maybe'.*1/0"):
        cache.cache_dir()


def test_empty_cache_dir_setting_means_the_default(monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", "")
    assert cache.cache_dir() == cache.cache_dir.__globals__["pathlib"].Path(
        "~/.cache/warpforge").expanduser()
