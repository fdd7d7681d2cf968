"""Reading a kernel's source without ``inspect.getmodule``: the same text as
``inspect.getsource`` gives, for the ways functions are written and edited."""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import os

import pytest

import warpforge as wf
from warpforge.dsl.source import code_source


def plain(x):
    return x + 1


@wf.kernel
def decorated(x: wf.f32[:]):
    x[wf.thread_idx.x] = 1.0  # a comment


def outer():
    @wf.func
    def inner(a,
              b):  # a signature over two lines
        """A docstring
with a line at column 0."""
        return a + b
    return inner


square = lambda v: v * v  # noqa: E731 - a lambda is a function too


@pytest.mark.parametrize("fn", [plain, decorated, outer(), square, outer])
def test_the_same_text_as_inspect(fn):
    fn = getattr(fn, "fn", fn)  # a kernel's or device function's Python function
    assert code_source(fn.__code__) == inspect.getsource(fn)


def test_a_file_edited_after_import_is_read_again(tmp_path):
    path = tmp_path / "edited_module.py"
    path.write_text("def f(x):\n    return x\n")
    spec = importlib.util.spec_from_file_location("edited_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert code_source(module.f.__code__) == "def f(x):\n    return x\n"
    path.write_text("def f(x):\n    return x * 2  # edited\n")
    os.utime(path, (1, 1))  # a different mtime, whatever the clock's resolution
    assert code_source(module.f.__code__) == "def f(x):\n    return x * 2  # edited\n"


def test_a_source_only_linecache_knows_is_found():
    # notebooks register each cell's text in linecache under a made-up file name
    name = "<cell-42>"
    text = "def cell_fn(y):\n    return y - 1\n"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    try:
        namespace: dict = {}
        exec(compile(text, name, "exec"), namespace)
        assert code_source(namespace["cell_fn"].__code__) == text
    finally:
        del linecache.cache[name]


def test_no_source_is_none():
    namespace: dict = {}
    exec(compile("def gone(z):\n    return z\n", "<nowhere>", "exec"), namespace)
    assert code_source(namespace["gone"].__code__) is None
