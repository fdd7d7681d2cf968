"""Liveness: live values around ops of hand-written IR, and consistency on random IR."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.analysis import analyze_liveness
from warpforge.compiler.ir import Op, parse_function

from .ir_strategies import functions
from .test_uniformity import named

TEXT = """
    kernel @k(%x: array<f32, 1, global>, %n: i32, %a: f32) {
      %zero = constant 0 : i32
      %one = constant 1 : i32
      %tx = thread_idx x : i32
      %v = load %x[%tx] : f32
      %dead = add %n, %n : i32
      barrier
      %r = for %i = %zero to %n step %one iter(%acc = %v) : f32 {
        %s = mul %acc, %a : f32
        yield %s
      }
      store %x[%tx], %r
      return
    }
    """


def find(func, name: str) -> Op:
    return next(op for op in func.walk() if op.name == name)


def test_values_across_a_barrier_and_through_a_loop():
    func = parse_function(dedent(TEXT))
    info = analyze_liveness(func)
    v = named(func)
    barrier = find(func, "barrier")
    assert info.live_after(barrier) == {v[k] for k in ("x", "n", "a", "zero", "one", "tx",
                                                         "v")}
    loop = find(func, "for")
    mul = find(func, "mul")
    # %x and %tx are needed after the loop; %a by every iteration, %n and %one (ub, step)
    # by every trip: live through the body; %zero (lb) and %v (init) are not
    assert info.live_after(mul) == {v[k] for k in ("x", "tx", "a", "s", "n", "one")}
    assert info.live_after(loop) == {v["x"], v["tx"], v["r"]}
    assert v["dead"] not in info.live_after(find(func, "add"))
    assert info.live_after(find(func, "store")) == set()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_live_sets_are_consistent(func):
    info = analyze_liveness(func)
    for op in func.walk():
        before, after = info.live_before(op), info.live_after(op)
        assert set(op.operands) <= before
        assert not (set(op.results) & before)
        block = op.parent
        index = block.index(op)
        if index + 1 < len(block.ops):
            assert after == info.live_before(block.ops[index + 1])
        # everything live before an op is visible there: a parameter, or defined earlier
        # in this block or an enclosing one (or an argument of an enclosing block)
        visible = set(func.params)
        inner = op
        while inner is not None:
            b = inner.parent
            visible |= set(b.args)
            for prior in b.ops[:b.index(inner)]:
                visible |= set(prior.results)
            inner = b.parent_op
        assert before <= visible
