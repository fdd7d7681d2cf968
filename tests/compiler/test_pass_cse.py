"""Common subexpression elimination, on printed IR in and printed IR out."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.ir import clone_function, parse_function, print_function, verify
from warpforge.compiler.passes import run_pipeline
from warpforge.compiler.passes.cse import cse

from .ir_strategies import functions


def run(text: str) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), [cse]))


def test_pure_ops_merge_with_commuted_operands_and_chains():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %a: i32, %b: i32) {
          %s1 = add %a, %b : i32
          %s2 = add %b, %a : i32            // commutative: same as %s1
          %d1 = sub %a, %b : i32
          %d2 = sub %b, %a : i32            // not commutative: stays
          %m1 = mul %s1, %d1 : i32
          %m2 = mul %s2, %d1 : i32          // same once %s2 is %s1
          %c1 = cmp lt %a, %b : bool
          %c2 = cmp gt %b, %a : bool        // equal value, other predicate: stays
          %e1 = cmp eq %a, %b : bool
          %e2 = cmp eq %b, %a : bool
          store %x[%m1], %m2
          store %x[%d2], %a
          %r = select %c1, %a, %b : i32
          %r2 = select %c2, %a, %b : i32
          %r3 = select %e1, %a, %b : i32
          %r4 = select %e2, %a, %b : i32
          store %x[%r], %r2
          store %x[%r3], %r4
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %a: i32, %b: i32) {
          %0 = add %a, %b : i32
          %1 = sub %a, %b : i32
          %2 = sub %b, %a : i32
          %3 = mul %0, %1 : i32
          %4 = cmp lt %a, %b : bool
          %5 = cmp gt %b, %a : bool
          %6 = cmp eq %a, %b : bool
          store %x[%3], %3
          store %x[%2], %a
          %7 = select %4, %a, %b : i32
          %8 = select %5, %a, %b : i32
          %9 = select %6, %a, %b : i32
          store %x[%7], %8
          store %x[%9], %9
          return
        }
        """)


def test_constants_merge_by_type_and_bits():
    assert run("""
        kernel @k(%x: array<f32, 1, global>, %y: array<i32, 1, global>) {
          %a = constant 0.0 : f32
          %b = constant -0.0 : f32
          %c = constant 0.0 : f32
          %i = constant 0 : i32
          %j = constant 0 : i32
          %u = constant 0 : u32
          store %x[%i], %a
          store %x[%j], %b
          store %x[%i], %c
          %v = cast %u : i32
          store %y[%v], %j
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %y: array<i32, 1, global>) {
          %0 = constant 0.0 : f32
          %1 = constant -0.0 : f32
          %2 = constant 0 : i32
          %3 = constant 0 : u32
          store %x[%2], %0
          store %x[%2], %1
          store %x[%2], %0
          %4 = cast %3 : i32
          store %y[%4], %2
          return
        }
        """)


def test_effects_never_merge():
    text = """\
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %0 = load %x[%n] : f32
          store %x[%n], %0
          %1 = load %x[%n] : f32
          %2 = atomic add %x[%n], %1 : f32
          %3 = atomic add %x[%n], %1 : f32
          %4 = shared_alloc : array<f32, [4], shared>
          %5 = shared_alloc : array<f32, [4], shared>
          store %4[%n], %2
          store %5[%n], %3
          barrier
          barrier
          return
        }
        """
    assert run(text) == dedent(text)


def test_scopes_follow_dominance():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %a: i32, %p: bool) {
          %outer = mul %a, %a : i32
          %r = if %p : i32 {
            %t = mul %a, %a : i32          // dominated by %outer: merges
            %only = add %a, %a : i32
            yield %only
          } else {
            %e = add %a, %a : i32          // sibling branch: does not see %only
            yield %e
          }
          %after = add %a, %a : i32        // after the region: does not see either
          store %x[%r], %after
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %a: i32, %p: bool) {
          %0 = mul %a, %a : i32
          %1 = if %p : i32 {
            %2 = add %a, %a : i32
            yield %2
          } else {
            %3 = add %a, %a : i32
            yield %3
          }
          %4 = add %a, %a : i32
          store %x[%1], %4
          return
        }
        """)


def test_warp_ops_merge_only_in_one_block_without_an_exit_between():
    assert run("""
        kernel @k(%x: array<i32, 1, global>, %a: i32, %p: bool) {
          %s1 = shfl xor %a, %a : i32
          %s2 = shfl xor %a, %a : i32       // same block, nothing between: merges
          if %p {
            %s3 = shfl xor %a, %a : i32     // other threads: stays
            store %x[%s3], %s3
            yield
          }
          if %p {
            return
          }
          %s4 = shfl xor %a, %a : i32       // some threads may have left: stays
          store %x[%s1], %s2
          store %x[%s4], %s4
          return
        }
        """) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %a: i32, %p: bool) {
          %0 = shfl xor %a, %a : i32
          if %p {
            %1 = shfl xor %a, %a : i32
            store %x[%1], %1
            yield
          }
          if %p {
            return
          }
          %2 = shfl xor %a, %a : i32
          store %x[%0], %0
          store %x[%2], %2
          return
        }
        """)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_cse_on_random_functions_verifies_is_idempotent_and_keeps_effects(func):
    original = clone_function(func)
    cse(func)
    verify(func)
    once = print_function(func)
    assert print_function(cse(func)) == once
    def effects(f):
        return [op.name for op in f.walk() if not op.info.is_pure and op.name != "shfl"
                and op.name != "vote"]
    assert effects(func) == effects(original)
    assert sum(1 for _ in func.walk()) <= sum(1 for _ in original.walk())
