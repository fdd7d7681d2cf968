"""The optimization pipeline: a kernel with a device function, a static_range loop over a
local accumulator and index arithmetic, printed in and out; dumps after every pass."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.errors import IRError
from warpforge.compiler.ir import clone_function, parse_module, print_function, verify
from warpforge.compiler.pipeline import PIPELINE, optimize

from .ir_interp import run
from .ir_strategies import functions

SOURCE = """
    func @scale(%v: i32, %s: i32) -> i32 {
      %0 = mul %v, %s : i32
      return %0
    }
    kernel @k(%x: array<i32, 1, global>, %n: i32) {
      %acc = local_alloc : array<i32, [2], local>
      %zero = constant 0 : i32
      %one = constant 1 : i32
      %two = constant 2 : i32
      store %acc[%zero], %zero
      store %acc[%one], %zero
      for %i = %zero to %n step %one {
        for %j = %zero to %two step %one {unroll = true} {
          %w = mul %n, %two : i32               // invariant
          %row = mul %i, %w : i32
          %idx = add %row, %j : i32
          %v = load %x[%idx] : i32
          %s = call @scale %v, %two : i32
          %a = load %acc[%j] : i32
          %a2 = add %a, %s : i32
          store %acc[%j], %a2
          yield
        }
        yield
      }
      %r0 = load %acc[%zero] : i32
      %r1 = load %acc[%one] : i32
      store %x[%zero], %r0
      store %x[%one], %r1
      return
    }
    """


def test_the_pipeline_end_to_end():
    module = parse_module(dedent(SOURCE))
    stages: list[tuple[str, str]] = []
    func = optimize(module["k"], dump=lambda name, text: stages.append((name, text)),
                    module=module)
    assert [name for name, _ in stages] == ["input", *PIPELINE]
    assert stages[-1][1] == print_function(func)
    assert print_function(func) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          %2 = shl %n, %1 : i32
          %3, %4, %5, %6 = for %7 = %0 to %n step %1 iter(%8 = %0, %9 = %0, %10 = %0, \
%11 = %1) : i32, i32, i32, i32 {
            %12 = load %x[%10] : i32
            %13 = shl %12, %1 : i32
            %14 = add %8, %13 : i32
            %15 = load %x[%11] : i32
            %16 = shl %15, %1 : i32
            %17 = add %9, %16 : i32
            %18 = add %10, %2 : i32
            %19 = add %11, %2 : i32
            yield %14, %17, %18, %19
          }
          store %x[%0], %3
          store %x[%1], %4
          return
        }
        """)


def test_the_pipeline_keeps_the_meaning():
    for n in range(4):
        module = parse_module(dedent(SOURCE))
        func = module["k"]
        data = {(i,): 3 * i + 1 for i in range(20)}
        want = dict(data)
        # reference: the unoptimized kernel with the call done by hand
        acc = [0, 0]
        for i in range(n):
            for j in range(2):
                acc[j] += want[(i * 2 * n + j,)] * 2
        want[(0,)], want[(1,)] = acc
        optimize(func, module=module)
        got = dict(data)
        run(func, {"x": got, "n": n})
        assert got == want


def test_a_static_range_with_a_runtime_bound_is_reported():
    module = parse_module(dedent("""
        kernel @k(%x: array<i32, 1, global>, %n: i32) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          for %i = %zero to %n step %one {unroll = true} {
            store %x[%i], %i
            yield
          }
          return
        }
        """))
    try:
        optimize(module["k"], module=module)
    except IRError as err:
        assert "constant bounds" in err.message
    else:
        raise AssertionError("expected an IRError")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_through_the_pipeline_verify(func):
    for op in list(func.walk()):
        if op.name == "for" and op.attr("unroll") is True:
            op.del_attr("unroll")
    copy = clone_function(func)
    optimize(func)
    verify(func)
    assert print_function(optimize(func)) == print_function(optimize(clone_function(func)))
    assert sum(1 for _ in func.walk()) <= 4 * sum(1 for _ in copy.walk()) + 10
