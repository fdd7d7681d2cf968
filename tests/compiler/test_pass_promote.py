"""Promotion of local arrays with constant indices to SSA values; printed IR in and out,
and the meaning checked with the reference interpreter."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.compiler.ir import (
    ArrayType,
    Builder,
    Function,
    bool_,
    clone_function,
    i32,
    parse_function,
    print_function,
    verify,
)
from warpforge.compiler.passes import dce, run_pipeline
from warpforge.compiler.passes.promote import promote

from .ir_interp import run


def promoted(text: str) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), [promote, dce]))


def test_straight_line_loads_read_the_last_store():
    assert promoted("""
        kernel @k(%x: array<f32, 1, global>, %a: f32) {
          %l = local_alloc : array<f32, [2, 2], local>
          %zero = constant 0 : i32
          %one = constant 1 : i32
          store %l[%zero, %one], %a
          %v = load %l[%zero, %one] : f32
          %w = add %v, %v : f32
          store %l[%zero, %one], %w
          %u = load %l[%one, %one] : f32    // never stored: undefined (a zero)
          %r = load %l[%zero, %one] : f32
          store %x[%zero], %r
          store %x[%one], %u
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %a: f32) {
          %0 = constant 0.0 : f32
          %1 = constant 0 : i32
          %2 = constant 1 : i32
          %3 = add %a, %a : f32
          store %x[%1], %3
          store %x[%2], %0
          return
        }
        """)


def test_loops_carry_and_ifs_merge_stored_elements():
    assert promoted("""
        kernel @k(%x: array<i32, 1, global>, %n: i32, %p: bool) {
          %acc = local_alloc : array<i32, [2], local>
          %zero = constant 0 : i32
          %one = constant 1 : i32
          store %acc[%zero], %zero
          store %acc[%one], %n
          for %i = %zero to %n step %one {
            %a = load %acc[%zero] : i32
            %b = add %a, %i : i32
            store %acc[%zero], %b
            %c = load %acc[%one] : i32      // only read in the loop: not carried
            store %x[%i], %c
            yield
          }
          if %p {
            store %acc[%one], %one
            yield
          }
          %r0 = load %acc[%zero] : i32
          %r1 = load %acc[%one] : i32
          store %x[%r0], %r1
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32, %p: bool) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = for %3 = %0 to %n step %1 iter(%4 = %0) : i32 {
            %5 = add %4, %3 : i32
            store %x[%3], %n
            yield %5
          }
          %6 = if %p : i32 {
            yield %1
          } else {
            yield %n
          }
          store %x[%2], %6
          return
        }
        """)


def test_dynamic_indices_or_while_loops_keep_the_array_in_memory():
    dynamic = """\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = local_alloc : array<i32, [4], local>
          %1 = constant 0 : i32
          store %0[%n], %1
          %2 = load %0[%1] : i32
          store %x[%1], %2
          return
        }
        """
    assert promoted(dynamic) == dedent(dynamic)
    looped = """\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = local_alloc : array<i32, [4], local>
          %1 = constant 0 : i32
          %2 = while (%3 = %n) : i32 {
            %4 = cmp gt %3, %1 : bool
            yield %4, %3
          } do (%5) {
            store %0[%1], %5
            %6 = sub %5, %5 : i32
            yield %6
          }
          %7 = load %0[%1] : i32
          store %x[%1], %7
          return
        }
        """
    assert promoted(looped) == dedent(looped)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(("store", "load", "for", "if")),
                          st.integers(0, 3), st.integers(-3, 3)), max_size=10),
       st.integers(0, 4), st.booleans())
def test_promoted_programs_compute_the_same(script, n, p):
    """Random stores, loads, loops and branches over a local array, run before and after
    promotion by the reference interpreter: the global outputs agree."""
    func = Function("k", [("out", ArrayType(i32, 1)), ("n", i32), ("p", bool_)])
    b = Builder.for_function(func)
    out, pn, pp = func.params
    local = b.local_alloc([4], i32)
    counter = [0]

    def emit(items, depth):
        for kind, index, value in items:
            idx = b.constant(index, i32)
            if kind == "store":
                b.store(local, [idx], b.add(b.constant(value, i32), pn))
            elif kind == "load":
                counter[0] += 1
                b.store(out, [b.constant(counter[0], i32)], b.load(local, [idx]))
            elif kind == "for" and depth < 2:
                with b.for_(b.constant(0, i32), pn, b.constant(1, i32)) as loop:
                    b.store(local, [idx], b.add(b.load(local, [idx]), loop.iv))
                    emit(items[:2], depth + 1)
            elif kind == "if" and depth < 2:
                with b.if_(pp) as br:
                    with br.then_():
                        b.store(local, [idx], b.constant(value, i32))
                    with br.else_():
                        emit(items[:1], depth + 1)

    emit(script, 0)
    for i in range(4):
        b.store(out, [b.constant(100 + i, i32)], b.load(local, [b.constant(i, i32)]))
    b.return_()
    before = clone_function(func)
    promote(func)
    verify(func)
    assert not any(op.name == "local_alloc" for op in func.walk())
    want, got = {}, {}
    run(before, {"out": want, "n": n, "p": p})
    run(func, {"out": got, "n": n, "p": p})
    # (an element read before any store is undefined; both sides read it as 0)
    assert got == want


def test_an_allocation_inside_a_loop_stays():
    text = """\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          for %2 = %0 to %n step %1 {
            %3 = local_alloc : array<i32, [1], local>
            %4 = load %3[%0] : i32
            store %x[%2], %4
            store %3[%0], %2
            yield
          }
          return
        }
        """
    assert promoted(text) == dedent(text)
