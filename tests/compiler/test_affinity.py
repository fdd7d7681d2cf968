"""Affinity analysis: strides of index values in thread_idx.x (simt-on-cpu.md §3 item 3)."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.analysis import VARYING_AFFINITY, analyze_affinity
from warpforge.compiler.ir import parse_function

from .ir_strategies import functions
from .test_uniformity import named


def strides(text: str) -> dict[str, int | None]:
    func = parse_function(dedent(text))
    info = analyze_affinity(func)
    return {name: info.stride(v) for name, v in named(func).items()}


def test_index_arithmetic():
    s = strides("""
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %tx = thread_idx x : i32
          %ty = thread_idx y : i32
          %bx = block_idx x : i32
          %bd = block_dim x : i32
          %two = constant 2 : i32
          %three = constant 3 : i32
          %base = mul %bx, %bd : i32
          %i = add %base, %tx : i32           // 1
          %j = mul %i, %two : i32             // 2
          %k = shl %j, %three : i32           // 16
          %l = sub %n, %k : i32               // -16
          %m = neg %l : i32                   // 16
          %w = cast %i : i64                  // 1
          %d = sub %i, %tx : i32              // 0: uniform again
          %sq = mul %tx, %tx : i32            // varying
          %byn = mul %tx, %n : i32            // unknown stride: varying
          %yy = add %ty, %i : i32             // varying
          %lane = lane_id : i32
          %f = cast %tx : f32                 // not an integer: varying
          return
        }
        """)
    assert (s["tx"], s["i"], s["j"], s["k"], s["l"], s["m"], s["w"], s["d"]) == (
        1, 1, 2, 16, -16, 16, 1, 0)
    assert s["n"] == 0 and s["base"] == 0
    for name in ("ty", "sq", "byn", "yy", "lane", "f"):
        assert s[name] is None, name


def test_loops_and_merges():
    s = strides("""
        kernel @k(%n: i32, %p: bool) {
          %tx = thread_idx x : i32
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %r = for %i = %tx to %n step %one iter(%a = %tx) : i32 {
            %a2 = add %a, %n : i32
            yield %a2
          }
          %b = for %i2 = %zero to %n step %one iter(%c = %tx) : i32 {
            %c2 = add %c, %c : i32
            yield %c2
          }
          %u = if %p : i32 {
            %t2 = add %tx, %one : i32
            yield %t2
          } else {
            yield %tx
          }
          %q = cmp lt %tx, %n : bool
          %v = if %q : i32 {
            yield %tx
          } else {
            yield %tx
          }
          return
        }
        """)
    # a grid-stride-like loop from tx: iv and carried keep stride 1, but the trip count
    # depends on tx, so the result after the loop is varying
    assert s["i"] == 1 and s["a"] == 1 and s["r"] is None
    assert s["c"] is None and s["b"] is None       # stride doubles each trip
    assert s["u"] == 1                              # uniform choice, same stride
    assert s["v"] is None                           # varying choice


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_uniform_values_have_stride_zero(func):
    info = analyze_affinity(func)
    for op in func.walk():
        for r in op.results:
            if info.uniformity.is_uniform(r):
                assert info.stride(r) == 0
            if op.name == "thread_idx" and op.attr("dim") != "x":
                assert info.of(r) == VARYING_AFFINITY


def test_a_known_block_shape_makes_row_major_thread_indices_affine():
    text = """
        kernel @k(%n: i32) {
          %tx = thread_idx x : i32
          %ty = thread_idx y : i32
          %bx = block_dim x : i32
          %row = mul %ty, %bx : i32
          %i = add %row, %tx : i32
          return
        }
        """
    func = parse_function(dedent(text))
    v = named(func)
    assert analyze_affinity(func).stride(v["i"]) is None
    assert analyze_affinity(func, block=(32, 8)).stride(v["i"]) == 1
    assert analyze_affinity(func, block=(16, 8)).stride(v["i"]) is None
