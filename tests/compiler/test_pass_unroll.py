"""Full unrolling of static_range loops, on printed IR in and printed IR out."""

from __future__ import annotations

from textwrap import dedent

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warpforge.compiler.errors import IRError
from warpforge.compiler.ir import (
    ArrayType,
    Builder,
    Function,
    clone_function,
    i32,
    parse_function,
    print_function,
    verify,
)
from warpforge.compiler.passes import run_pipeline
from warpforge.compiler.passes.unroll import unroll

from . import ir_interp
from .ir_strategies import functions


def run(text: str) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), [unroll]))


def test_carried_values_thread_through_the_copies():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %a: f32) {
          %lb = constant 1 : i32
          %ub = constant 7 : i32
          %st = constant 3 : i32
          %r = for %i = %lb to %ub step %st iter(%acc = %a) {unroll = true} : f32 {
            %v = load %x[%i] : f32
            %s = add %acc, %v : f32
            yield %s
          }
          store %x[%lb], %r
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %a: f32) {
          %0 = constant 1 : i32
          %1 = constant 7 : i32
          %2 = constant 3 : i32
          %3 = constant 1 : i32
          %4 = load %x[%3] : f32
          %5 = add %a, %4 : f32
          %6 = constant 4 : i32
          %7 = load %x[%6] : f32
          %8 = add %5, %7 : f32
          store %x[%0], %8
          return
        }
        """)


def test_zero_trips_give_the_initial_values_and_negative_steps_count_down():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %a: i32) {
          %five = constant 5 : i32
          %zero = constant 0 : i32
          %m2 = constant -2 : i32
          %r = for %i = %five to %zero step %five iter(%acc = %a) {unroll = true} : i32 {
            %s = add %acc, %i : i32
            yield %s
          }
          for %j = %five to %zero step %m2 {unroll = true} {
            store %x[%j], %r
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %a: i32) {
          %0 = constant 5 : i32
          %1 = constant 0 : i32
          %2 = constant -2 : i32
          %3 = constant 5 : i32
          store %x[%3], %a
          %4 = constant 3 : i32
          store %x[%4], %a
          %5 = constant 1 : i32
          store %x[%5], %a
          return
        }
        """)


def test_inner_bounds_from_the_outer_iv_and_folded_bounds():
    # triangular: for i in static_range(3): for j in static_range(i + 0 * 1)
    assert run("""
        kernel @k(%x: array<i32, 1, global>) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %three = constant 3 : i32
          for %i = %zero to %three step %one {unroll = true} {
            %ub = mul %i, %one : i32
            for %j = %zero to %ub step %one {unroll = true} {
              store %x[%i], %j
              yield
            }
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 3 : i32
          %3 = constant 0 : i32
          %4 = mul %3, %1 : i32
          %5 = constant 1 : i32
          %6 = mul %5, %1 : i32
          %7 = constant 0 : i32
          store %x[%5], %7
          %8 = constant 2 : i32
          %9 = mul %8, %1 : i32
          %10 = constant 0 : i32
          store %x[%8], %10
          %11 = constant 1 : i32
          store %x[%8], %11
          return
        }
        """)


def test_unmarked_and_partial_loops_stay():
    text = """\
        kernel @k(%x: array<i32, 1, global>) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 4 : i32
          for %3 = %0 to %2 step %1 {
            store %x[%3], %3
            yield
          }
          for %4 = %0 to %2 step %1 {unroll = 2} {
            store %x[%4], %4
            yield
          }
          return
        }
        """
    assert run(text) == dedent(text)


def test_a_body_ending_in_return_stops_after_one_copy():
    assert run("""
        kernel @k(%x: array<i32, 1, global>) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %four = constant 4 : i32
          for %i = %zero to %four step %one {unroll = true} {
            store %x[%i], %i
            return
          }
          store %x[%one], %one
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 4 : i32
          %3 = constant 0 : i32
          store %x[%3], %3
          return
        }
        """)


def test_non_constant_bounds_and_huge_trip_counts_are_errors():
    with pytest.raises(IRError, match="compile-time constant bounds"):
        run("""
            kernel @k(%x: array<i32, 1, global>, %n: i32) {
              %zero = constant 0 : i32
              %one = constant 1 : i32
              for %i = %zero to %n step %one {unroll = true} {
                store %x[%i], %i
                yield
              }
              return
            }
            """)
    with pytest.raises(IRError, match="100000 trips"):
        run("""
            kernel @k(%x: array<i32, 1, global>) {
              %zero = constant 0 : i32
              %one = constant 1 : i32
              %n = constant 100000 : i32
              for %i = %zero to %n step %one {unroll = true} {
                yield
              }
              return
            }
            """)


@settings(max_examples=50, deadline=None)
@given(st.integers(-6, 6), st.integers(-6, 6), st.integers(-3, 3).filter(bool),
       st.integers(0, 3))
def test_body_count_times_trips(lb, ub, step, body_ops):
    """Every body op appears once per trip of Python's range(lb, ub, step)."""
    func = Function("k", [("x", ArrayType(i32, 1))])
    b = Builder.for_function(func)
    x = func.params[0]
    bounds = [b.constant(v, i32) for v in (lb, ub, step)]
    with b.for_(*bounds, unroll=True) as loop:
        v = loop.iv
        for _ in range(body_ops):
            v = b.add(v, loop.iv)
        b.store(x, [loop.iv], v)
    b.return_()
    unroll(func)
    verify(func)
    trips = list(range(lb, ub, step))
    stores = [op for op in func.walk() if op.name == "store"]
    adds = [op for op in func.walk() if op.name == "add"]
    assert len(stores) == len(trips) and len(adds) == body_ops * len(trips)
    assert [s.operands[1].defining_op.attr("value") for s in stores] == trips


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_unroll_or_say_why(func):
    try:
        unroll(func)
    except IRError as err:
        assert "static_range" in err.message
        return
    verify(func)
    assert not any(op.name == "for" and op.attr("unroll") is True for op in func.walk())


@settings(max_examples=50, deadline=None)
@given(st.integers(-4, 4), st.integers(-4, 6), st.integers(-2, 2).filter(bool),
       st.integers(0, 3), st.integers(-5, 5))
def test_unrolled_nests_compute_the_same(lb, ub, step, inner_ub, seed):
    """Nested static loops with carried sums (the inner bound from the outer iv), run by
    the reference interpreter before and after unrolling."""
    func = Function("k", [("x", ArrayType(i32, 1)), ("s", i32)])
    b = Builder.for_function(func)
    x, s = func.params
    consts = [b.constant(v, i32) for v in (lb, ub, step, 0, 1, inner_ub)]
    with b.for_(*consts[:3], init=[s], unroll=True) as outer:
        bound = b.add(b.mul(outer.iv, consts[4]), consts[5])   # iv + inner_ub, folded here
        with b.for_(consts[3], bound, consts[4], init=[outer.carried[0]],
                    unroll=True) as inner:
            total = b.add(b.mul(inner.carried[0], b.constant(3, i32)), inner.iv)
            b.store(x, [b.add(inner.iv, b.constant(10, i32))], total)
            b.yield_(total)
        b.store(x, [b.sub(outer.iv, consts[0])], inner.results[0])
        b.yield_(inner.results[0])
    b.store(x, [b.constant(100, i32)], outer.results[0])
    b.return_()
    before = clone_function(func)
    unroll(func)
    verify(func)
    assert not any(op.name == "for" for op in func.walk())
    want, got = {}, {}
    ir_interp.run(before, {"x": want, "s": seed})
    ir_interp.run(func, {"x": got, "s": seed})
    assert got == want
