"""User errors: each names the construct, the file, line and column, shows the line with a
caret, and hides the compiler's frames from the traceback."""

from __future__ import annotations

import traceback

import pytest

from warpforge.dsl.errors import CompileError

from .support import build, load_source, wf


def compile_error(text: str, constexprs=None, **types) -> tuple[CompileError, str]:
    """The CompileError building kernel ``k`` from ``text`` raises, and its file."""
    k, path = load_source(text, "k")
    with pytest.raises(CompileError) as info:
        build(k, constexprs, **types)
    return info.value, str(path)


def check(err: CompileError, path: str, line: int, col: int, source: str, message: str):
    """``err`` is at ``path:line:col`` (line counted in the kernel text, whose first line
    is the file's line 3), quotes ``source`` with a caret at ``col``, and says
    ``message``."""
    line += 2
    assert (err.filename, err.line, err.column) == (path, line, col)
    text = str(err)
    first, quoted, caret = text.split("\n")
    assert first == f"{path}:{line}:{col}: {message}"
    assert quoted == "    " + source
    indent = len(err.source_line) - len(err.source_line.lstrip())
    assert caret == "    " + " " * (col - 1 - indent) + "^"
    assert err.source_line.lstrip() == source


def test_type_error_names_both_types_with_a_caret():
    err, path = compile_error("""
        def k(a, x, y):
            i = wf.thread_idx.x
            y[i] = a * x + y[i]
    """, a=wf.f32, x=wf.f32[:], y=wf.f32[:])
    check(err, path, 4, 12, "y[i] = a * x + y[i]",
          "type error: cannot multiply f32 by f32[:] (array)")


@pytest.mark.parametrize(("body", "col", "message"), [
    ("f = lambda v: v", 9, "'lambda' is not supported in kernels"),
    ("s = 'hello'", 9, "strings are not supported in kernels"),
    ("s = [1, 2]", 9, "list literals are not supported in kernels"),
    ("s = {1: 2}", 9, "dict literals are not supported in kernels"),
    ("s = [v for v in range(3)]", 9, "list comprehensions are not supported in kernels"),
    ("print(n)", 5, "calling a Python function that is not @wf.func: 'print'"),
    ("o[0] = undefined_name", 12, "reading the undefined variable 'undefined_name'"),
    ("o[0:2] = 1", 5, "slices are not supported in kernels"),
    ("o[0] = o[1.5]", 14, "type error: an array index must be an integer, not f32"),
    ("o[0] = o[n][0]", 12, "a 1-d array needs 1 index, not 2"),
    ("o[0] = o.shape[3]", 20, "index 3 is out of range for a tuple of 1"),
    ("o[0] = n ** o", 12, "type error: cannot raise i32 to the power i32[:] (array)"),
    ("for i in range(0, n, 1.5): pass", 26, "a range's step must be a compile-time integer "
                                            "constant"),
    ("o[0] = n + o", 12, "type error: cannot add i32 and i32[:] (array)"),
    ("o[0] = n << 1.0", 12, "type error: cannot shift i32 by f32 (needs integers)"),
    ("assert n > 0", 5, "'assert' statements are not supported in kernels"),
    ("with n: pass", 5, "'with' statements are not supported in kernels"),
    ("import math", 5, "imports are not supported in kernels"),
    ("o.x = 1", 5, "assigning to attributes is not supported in kernels"),
    ("o[0] = o", 12, "type error: cannot store i32[:] into an element of i32[:]"),
    ("o[0] = n.real", 12, "attribute 'real' of a i32 value is not supported in kernels"),
    ("wf.syncthreads(1)", 5, "wf.syncthreads() takes 0 arguments, not 1"),
    ("s = wf.shared((n, 4), wf.f32)", 19,
     "an array's shape must be a compile-time integer constant (for shared memory sized "
     "at launch, use wf.dynamic_shared(dtype) and launch with k[grid, block, shared_bytes])"),
    ("s = wf.shared((4,), float)", 25,
     "an array's element type must be a wf scalar type such as wf.f32, not 'float'"),
    ("for i in [1, 2]: pass", 14,
     "for loops must iterate over range(...) or wf.static_range(...)"),
    ("for i in range(0, n, 0): pass", 26, "a range's step must not be zero"),
    ("for i in wf.static_range(n): pass", 14, "a wf.static_range bound must be a "
                                              "compile-time integer constant"),
    ("x = range(n)", 9, "range() can only be a for loop's iterable"),
    ("return 1", 12, "kernels cannot return a value (write results into an array)"),
    ("o[0] = wf.exp(1.0, 2.0)", 12, "wf.exp() takes 1 argument, not 2"),
    ("o[0] = min(n)", 12, "min() takes at least 2 arguments in kernels"),
])
def test_unsupported_constructs(body, col, message):
    err, path = compile_error(f"""
        def k(o, n):
            {body}
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 3, col, body, message)


def test_too_few_indices_of_a_2d_array():
    err, path = compile_error("""
        def k(a, i):
            a[0, 0] = a[i]
    """, a=wf.f32[:, :], i=wf.i32)
    check(err, path, 3, 15, "a[0, 0] = a[i]", "a 2-d array needs 2 indices, not 1")


def test_maybe_undefined_after_one_branch():
    err, path = compile_error("""
        def k(o, n):
            if n > 0:
                t = n
            o[0] = t
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 5, 12, "o[0] = t", "the variable 't' may be undefined here: it is "
          "assigned only in some branches of the if at line 5")


def test_calling_a_plain_python_function():
    err, path = compile_error("""
        def helper(v):
            return v

        def k(o, n):
            o[0] = helper(n)
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 6, 12, "o[0] = helper(n)",
          "calling a Python function that is not @wf.func: 'helper'")


def test_break_in_static_range():
    err, path = compile_error("""
        def k(o):
            for i in wf.static_range(4):
                break
    """, o=wf.i32[:])
    check(err, path, 3, 5, "for i in wf.static_range(4):",
          "'break' is not supported in wf.static_range loops")


def test_missing_parameter_type():
    err, path = compile_error("""
        def k(o, n):
            o[0] = n
    """, o=wf.i32[:])
    check(err, path, 2, 10, "def k(o, n):", "parameter 'n' has no type")


@pytest.mark.parametrize(("loop", "why"), [
    ("for i in range(wf.thread_idx.x, n):", "thread_idx.x"),
    ("for i in range(wf.lane_id()):", "lane_id()"),
    ("while o[0] > n:", "a value loaded from memory"),
])
def test_barrier_in_a_thread_dependent_loop(loop, why):
    err, path = compile_error(f"""
        def k(o, n):
            {loop}
                wf.syncthreads()
                o[1] = 0
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 3, 5, loop, f"syncthreads() inside a loop whose trip count depends "
          f"on {why}: every thread of the CTA must run the loop the same number of times")


def test_barrier_in_a_loop_carrying_a_thread_dependent_value():
    err, _ = compile_error("""
        def k(o, n):
            k = wf.thread_idx.x
            while k < n:
                wf.syncthreads()
                k += 1
    """, o=wf.i32[:], n=wf.i32)
    assert "depends on thread_idx.x" in err.message


def test_barrier_in_uniform_loops_is_fine():
    k, _ = load_source("""
        def k(o, n):
            t = wf.thread_idx.x
            for i in range(wf.block_idx.x, n, 2):
                wf.syncthreads()
                o[t] = i
            s = n
            while s > 1:
                wf.syncthreads()
                s = s // 2
    """, "k")
    f = build(k, o=wf.i32[:], n=wf.i32)
    assert [op.name for op in f.walk()].count("barrier") == 2


def test_traceback_hides_the_compilers_frames():
    err, _ = compile_error("""
        def k(o, n):
            o[0] = n + o
    """, o=wf.i32[:], n=wf.i32)
    frames = traceback.extract_tb(err.__traceback__)
    files = [frame.filename for frame in frames]
    assert files, "the user's frames remain"
    assert not any("/dsl/frontend/" in f or "/compiler/" in f or f.endswith("dsl/errors.py")
                   for f in files), files
    assert err.__cause__ is None and err.__suppress_context__ in (True, False)
    assert "Traceback" not in str(err)


def test_error_inside_a_device_function_points_at_its_line():
    err, path = compile_error("""
        @wf.func
        def helper(v):
            return v + "text"

        def k(o, n):
            o[0] = helper(n)
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 4, 16, 'return v + "text"', "strings are not supported in kernels")


def test_global_arrays_are_named_by_type():
    err, path = compile_error("""
        import numpy
        TABLE = numpy.zeros(1000)

        def k(o, n):
            o[0] = TABLE
    """, o=wf.i32[:], n=wf.i32)
    check(err, path, 6, 12, "o[0] = TABLE",
          "a ndarray cannot be used as a value in a kernel")
