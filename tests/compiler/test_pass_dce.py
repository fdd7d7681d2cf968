"""Dead code elimination, on printed IR in and printed IR out."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.ir import parse_function, print_function, verify
from warpforge.compiler.passes import dce, run_pipeline

from .ir_strategies import functions


def run(text: str) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), [dce]))


def test_dead_chains_go_and_effects_stay():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          %a = add %n, %n : i32
          %b = mul %a, %a : i32          // dead, and so is %a through it
          %v = load %x[%n] : f32         // unused load: removable
          %w = load %x[%n] : f32
          store %x[%n], %w
          %old = atomic add %x[%n], %w : f32   // result unused, but it writes
          barrier
          %s = shared_alloc : array<f32, [8], shared>
          %t = shfl xor %w, %n : f32
          %ballot = vote ballot %p : u32
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32, %p: bool) {
          %0 = load %x[%n] : f32
          store %x[%n], %0
          %1 = atomic add %x[%n], %0 : f32
          barrier
          return
        }
        """)


def test_dead_ops_inside_regions_go_and_live_regions_stay():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %n: i32, %p: bool) {
          if %p {
            %a = mul %n, %n : i32
            store %x[%n], %a
            %dead = add %a, %a : i32
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32, %p: bool) {
          if %p {
            %0 = mul %n, %n : i32
            store %x[%n], %0
            yield
          }
          return
        }
        """)


def test_pure_regions_with_unused_results_go_whole():
    assert run("""
        kernel @k(%n: i32, %p: bool) {
          %r = if %p : i32 {
            %a = add %n, %n : i32
            yield %a
          } else {
            yield %n
          }
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %s = for %i = %zero to %n step %one iter(%acc = %n) : i32 {
            %t = add %acc, %i : i32
            yield %t
          }
          if %p {
            yield
          }
          return
        }
        """) == "kernel @k(%n: i32, %p: bool) {\n  return\n}\n"


def test_loops_with_effects_keep_their_carried_values():
    text = """\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = for %3 = %0 to %n step %1 iter(%4 = %0) : i32 {
            store %x[%3], %4
            %5 = add %4, %3 : i32
            yield %5
          }
          return
        }
        """
    assert run(text) == dedent(text)


def test_while_loops_stay_even_when_unused():
    text = """\
        kernel @k(%n: i32) {
          %0 = while (%1 = %n) : i32 {
            %2 = constant 0 : i32
            %3 = cmp gt %1, %2 : bool
            yield %3, %1
          } do (%4) {
            %5 = constant 1 : i32
            %6 = shr %4, %5 : i32
            yield %6
          }
          return
        }
        """
    assert run(text) == dedent(text)


def test_region_with_an_early_return_stays():
    text = """\
        kernel @k(%p: bool) {
          if %p {
            return
          }
          return
        }
        """
    assert run(text) == dedent(text)


def test_device_function_results_keep_what_they_return():
    text = """\
        func @f(%a: f32) -> f32 {
          %0 = mul %a, %a : f32
          %1 = add %a, %a : f32
          return %0
        }
        """
    assert run(text) == dedent("""\
        func @f(%a: f32) -> f32 {
          %0 = mul %a, %a : f32
          return %0
        }
        """)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_dce_on_random_functions_verifies_and_is_idempotent(func):
    before = sum(1 for _ in func.walk())
    once = print_function(dce(func))
    verify(func)
    assert print_function(dce(func)) == once
    after = sum(1 for _ in func.walk())
    assert after <= before
    for op in func.walk():
        if op.info.is_pure:
            assert any(r.has_uses() for r in op.results), op


def test_values_a_loop_carries_but_never_reads_go():
    # %f is rewritten each step before any read (a promoted fragment array): its initial
    # value, its yield, its result and the add computing it go; %s stays
    out = run("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2, %3 = for %4 = %0 to %n step %1 iter(%5 = %0, %6 = %0) : i32, i32 {
            %7 = add %4, %1 : i32
            %8 = add %5, %7 : i32
            yield %8, %7
          }
          store %x[%0], %2
          return
        }
        """)
    assert out == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = for %3 = %0 to %n step %1 iter(%4 = %0) : i32 {
            %5 = add %3, %1 : i32
            %6 = add %4, %5 : i32
            yield %6
          }
          store %x[%0], %2
          return
        }
        """)


def test_if_results_nobody_uses_go_from_both_arms():
    out = run("""\
        kernel @k(%x: array<i32, 1, global>, %c: bool) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2, %3 = if %c : i32, i32 {
            store %x[%0], %1
            yield %0, %1
          } else {
            yield %1, %0
          }
          store %x[%1], %3
          return
        }
        """)
    assert "%2, %3 = if" not in out and "yield %1\n" in out and "yield %0\n" in out
    verify(parse_function(out))
