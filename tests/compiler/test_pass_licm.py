"""Loop-invariant code motion, on printed IR in and printed IR out, plus its safety rules
on random functions."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.ir import parse_function, print_function, verify
from warpforge.compiler.ir.ops import Effect
from warpforge.compiler.passes import run_pipeline
from warpforge.compiler.passes.licm import licm

from .ir_strategies import functions


def run(text: str) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), [licm]))


def test_invariant_arithmetic_leaves_nested_loops_and_variant_stays():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %n: i32, %a: f32) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          for %i = %zero to %n step %one {
            for %j = %zero to %n step %one {
              %two = constant 2.0 : f32
              %s = mul %a, %two : f32          // invariant in both loops
              %t = add %i, %one : i32          // invariant in the inner loop only
              %u = add %j, %t : i32            // variant
              store %x[%u], %s
              yield
            }
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32, %a: f32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 2.0 : f32
          %3 = mul %a, %2 : f32
          for %4 = %0 to %n step %1 {
            %5 = add %4, %1 : i32
            for %6 = %0 to %n step %1 {
              %7 = add %6, %5 : i32
              store %x[%7], %3
              yield
            }
            yield
          }
          return
        }
        """)


def test_divisions_that_may_fault_stay_in_a_loop_that_may_not_run():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %n: i32, %d: i32) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %four = constant 4 : i32
          for %i = %zero to %n step %one {
            %q = div %n, %d : i32            // %d may be 0: stays
            %r = rem %n, %four : i32         // constant non-zero divisor: moves
            %s = add %q, %r : i32
            store %x[%i], %s
            yield
          }
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32, %d: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 4 : i32
          %3 = rem %n, %2 : i32
          for %4 = %0 to %n step %1 {
            %5 = div %n, %d : i32
            %6 = add %5, %3 : i32
            store %x[%4], %6
            yield
          }
          return
        }
        """)


LOAD_LOOP = """\
    kernel @k(%x: array<f32, 1, global>, %y: array<f32, 1, global>, %n: i32) {
      %0 = constant 0 : i32
      %1 = constant 1 : i32
      %2 = constant 8 : i32
      %3 = for %4 = %0 to UB step %1 iter(%5 = %3init) : f32 {
        %6 = load %x[%n] : f32
        %7 = add %5, %6 : f32
        BODY
        yield %7
      }
      return
    }
"""


def load_loop(ub: str, body: str = "") -> str:
    text = LOAD_LOOP.replace("UB", ub).replace("%3init", "%a")
    text = text.replace("%n: i32)", "%n: i32, %a: f32)")
    return text.replace("        BODY\n", body)


def test_a_load_moves_only_out_of_a_quiet_loop_that_surely_runs():
    moved = dedent("""\
        kernel @k(%x: array<f32, 1, global>, %y: array<f32, 1, global>, %n: i32, %a: f32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = constant 8 : i32
          %3 = load %x[%n] : f32
          %4 = for %5 = %0 to %2 step %1 iter(%6 = %a) : f32 {
            %7 = add %6, %3 : f32
            yield %7
          }
          return
        }
        """)
    assert run(load_loop("%2")) == moved
    # the loop may run zero times: the load could fault, so it stays
    stays = dedent(load_loop("%n"))
    assert run(stays) == stays
    # a write in the loop (to any array: they may alias) keeps the load in
    for body in ("        store %y[%4], %7\n", "        barrier\n",
                 "        %8 = atomic add %y[%4], %7 : f32\n"):
        text = dedent(load_loop("%2", body))
        assert run(text) == text


def test_side_effects_and_warp_ops_never_move():
    text = """\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          for %2 = %0 to %n step %1 {
            store %x[%n], %n
            %3 = shfl xor %n, %1 : i32
            %4 = vote any %3 : bool
            %5 = shared_alloc : array<i32, [4], shared>
            %6 = atomic add %x[%n], %n : i32
            barrier
            yield
          }
          return
        }
        """.replace("vote any %3", "vote any %p").replace("%n: i32)", "%n: i32, %p: bool)")
    assert run(text) == dedent(text)


def test_while_hoists_from_both_regions():
    assert run("""
        kernel @k(%n: i32, %m: i32) {
          %r = while (%a = %n) : i32 {
            %lim = mul %m, %m : i32
            %p = cmp gt %a, %lim : bool
            yield %p, %a
          } do (%b) {
            %one = constant 1 : i32
            %b2 = shr %b, %one : i32
            yield %b2
          }
          return
        }
        """) == dedent("""\
        kernel @k(%n: i32, %m: i32) {
          %0 = mul %m, %m : i32
          %1 = constant 1 : i32
          %2 = while (%3 = %n) : i32 {
            %4 = cmp gt %3, %0 : bool
            yield %4, %3
          } do (%5) {
            %6 = shr %5, %1 : i32
            yield %6
          }
          return
        }
        """)


def _loops(op) -> list:
    return [a for a in op.ancestors() if a.name in ("for", "while")]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_licm_on_random_functions_is_safe_and_idempotent(func):
    ops = list(func.walk())
    loops_before = {op: _loops(op) for op in ops}
    licm(func)
    verify(func)
    once = print_function(func)
    assert print_function(licm(func)) == once
    assert list(func.walk()) != [] and set(func.walk()) == set(ops)   # nothing made or lost
    for op in ops:
        left = [loop for loop in loops_before[op] if loop not in _loops(op)]
        if not left:
            continue
        # only pure ops and loads leave loops, never into an op's own loop's body
        assert op.info.is_pure or op.name == "load", op.name
        if op.info.is_pure and op.name in ("div", "rem", "floordiv", "mod") and \
                op.results[0].type.is_int:
            assert op.operands[1].defining_op.name == "constant"
        if op.name == "load":
            for loop in left:
                effects = Effect.NONE
                for inner in loop.walk():
                    effects |= inner.info.effects
                assert not effects & (Effect.WRITE | Effect.BARRIER | Effect.EXIT)


def test_loads_left_in_loops_with_writes():
    text = dedent(load_loop("%2", "        store %y[%4], %7\n"))
    func = parse_function(text)
    licm(func)
    loads = [op for op in func.walk() if op.name == "load"]
    assert all(any(a.name == "for" for a in op.ancestors()) for op in loads)
