"""Uniformity analysis: levels of values in hand-written IR, per sass-codegen.md §4 and
simt-on-cpu.md §3 (tid/lane varying; params, constants, blockIdx, blockDim uniform; merges
after varying control varying)."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import HealthCheck, given, settings

from warpforge.compiler.analysis import Uniformity, analyze_uniformity
from warpforge.compiler.ir import Function, Op, Value, parse_function

from .ir_strategies import functions

CTA, WARP, VARYING = Uniformity.CTA, Uniformity.WARP, Uniformity.VARYING


def named(func: Function) -> dict[str, Value]:
    """Values by their text name hint (%name in the source)."""
    found: dict[str, Value] = {p.name: p for p in func.params}
    for op in func.walk():
        for r in op.results:
            if r.name:
                found[r.name] = r
        for region in op.regions:
            for a in region.block.args:
                if a.name:
                    found[a.name] = a
    return found


def levels(text: str) -> tuple[dict[str, Uniformity], Function]:
    func = parse_function(dedent(text))
    info = analyze_uniformity(func)
    return {name: info.of(v) for name, v in named(func).items()}, func


def test_sources_and_arithmetic():
    lv, _ = levels("""
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %c = constant 3 : i32
          %bx = block_idx x : i32
          %bd = block_dim x : i32
          %gd = grid_dim y : i32
          %tx = thread_idx x : i32
          %ty = thread_idx y : i32
          %lane = lane_id : i32
          %base = mul %bx, %bd : i32
          %i = add %base, %tx : i32
          %u = add %base, %n : i32
          %len = array_dim %x {axis = 0} : i32
          %p = cmp lt %i, %n : bool
          %q = cmp lt %u, %len : bool
          return
        }
        """)
    for name in ("n", "x", "c", "bx", "bd", "gd", "base", "u", "len", "q"):
        assert lv[name] == CTA, name
    for name in ("tx", "ty", "lane", "i", "p"):
        assert lv[name] == VARYING, name


def test_votes_shuffles_atomics():
    lv, _ = levels("""
        kernel @k(%c: array<i32, 1, global>, %n: i32) {
          %tx = thread_idx x : i32
          %pv = cmp lt %tx, %n : bool
          %zero = constant 0 : i32
          %pu = cmp lt %zero, %n : bool
          %any_v = vote any %pv : bool
          %all_u = vote all %pu : bool
          %bal_u = vote ballot %pu : u32
          %s = shfl idx %n, %zero : i32
          %a = atomic add %c[%zero], %n : i32
          return
        }
        """)
    assert lv["any_v"] == WARP
    assert lv["all_u"] == CTA      # all(p) of a CTA-uniform p is p
    assert lv["bal_u"] == WARP     # the active mask differs between warps
    assert lv["s"] == VARYING and lv["a"] == VARYING


def test_loads_are_varying_unless_read_only_global_with_uniform_indices():
    read_only = """
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %tx = thread_idx x : i32
          %lu = load %x[%n] : f32
          %lv = load %x[%tx] : f32
          %s = shared_alloc : array<f32, [4], shared>
          %ls = load %s[%n] : f32
          %l = local_alloc : array<f32, [4], local>
          %ll = load %l[%n] : f32
          return
        }
        """
    lv, _ = levels(read_only)
    assert lv["lu"] == CTA
    assert lv["lv"] == VARYING and lv["ls"] == VARYING and lv["ll"] == VARYING
    # One global store anywhere (even to another array: they may alias) makes it varying.
    lv, _ = levels(read_only.replace("return", "%y = add %n, %n : i32\n"
                                     "          store %x[%y], %lu\n          return"))
    assert lv["lu"] == VARYING


def test_if_results_merge_by_the_condition():
    lv, func = levels("""
        kernel @k(%n: i32) {
          %tx = thread_idx x : i32
          %one = constant 1 : i32
          %two = constant 2 : i32
          %pv = cmp lt %tx, %n : bool
          %pu = cmp lt %one, %n : bool
          %rv = if %pv : i32 {
            %inside = add %n, %one : i32
            yield %inside
          } else {
            yield %two
          }
          %ru = if %pu : i32 {
            yield %one
          } else {
            yield %two
          }
          %rt = if %pu : i32 {
            yield %tx
          } else {
            yield %two
          }
          return
        }
        """)
    assert lv["inside"] == CTA     # uniform among the threads that compute it
    assert lv["rv"] == VARYING     # uniform inputs, varying choice
    assert lv["ru"] == CTA
    assert lv["rt"] == VARYING
    info = analyze_uniformity(func)
    ifs = [op for op in func.walk() if op.name == "if"]
    assert [info.decision(op) for op in ifs] == [VARYING, CTA, CTA]
    inner = ifs[0].regions[0].block.ops[0]
    assert info.control(inner) == VARYING and info.control(ifs[1]) == CTA


LOOP3 = ("%r1, %r2, %r3 = for %i = %z to %n step %o iter(%a = %z, %b = %z, %c = %z) "
         ": i32, i32, i32 {")


def test_loop_carried_values_reach_a_fixed_point():
    lv, _ = levels("""
        kernel @k(%n: i32) {
          %z = constant 0 : i32
          %o = constant 1 : i32
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %tx = thread_idx x : i32
          LOOP3
            %a2 = add %a, %i : i32
            %b2 = add %c, %one : i32
            %c2 = add %tx, %b : i32
            yield %a2, %b2, %c2
          }
          %s = for %j = %zero to %tx step %one iter(%d = %zero) : i32 {
            %d2 = add %d, %one : i32
            yield %d2
          }
          return
        }
        """.replace("LOOP3", LOOP3))
    assert lv["i"] == CTA and lv["a"] == CTA and lv["r1"] == CTA
    # c gets tx on the first trip, b gets c on the next: both varying at the fixed point.
    assert lv["c"] == VARYING and lv["b"] == VARYING and lv["b2"] == VARYING
    assert lv["r2"] == VARYING
    # A varying trip count: the iv and carried value agree among the threads still looping,
    # but the result differs per thread.
    assert lv["j"] == CTA and lv["d"] == CTA and lv["s"] == VARYING


def test_while_condition_decides_the_results():
    lv, _ = levels("""
        kernel @k(%n: i32) {
          %zero = constant 0 : i32
          %one = constant 1 : i32
          %tx = thread_idx x : i32
          %r = while (%a = %n) : i32 {
            %p = cmp gt %a, %tx : bool
            yield %p, %a
          } do (%b) {
            %b2 = shr %b, %one : i32
            yield %b2
          }
          %r2 = while (%c = %n) : i32 {
            %q = cmp gt %c, %zero : bool
            yield %q, %c
          } do (%d) {
            %d2 = shr %d, %one : i32
            yield %d2
          }
          return
        }
        """)
    assert lv["a"] == CTA and lv["b"] == CTA and lv["p"] == VARYING
    assert lv["r"] == VARYING
    assert lv["r2"] == CTA


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_sources_and_merges(func):
    info = analyze_uniformity(func)
    for op in func.walk():
        if op.name in ("thread_idx", "lane_id", "atomic", "shfl"):
            assert info.of(op.results[0]) == VARYING
        elif op.name in ("constant", "block_idx", "block_dim", "grid_dim"):
            assert info.of(op.results[0]) == CTA
        elif op.info.is_pure and op.results:
            expected = max((info.of(v) for v in op.operands), default=CTA)
            assert info.of(op.results[0]) == expected, op
        if op.name in ("if", "for", "while"):
            for r in op.results:
                assert info.of(r) >= info.decision(op)
        assert isinstance(op, Op)


def test_a_known_block_shape_makes_higher_thread_dims_warp_uniform():
    text = """
        kernel @k(%n: i32) {
          %tx = thread_idx x : i32
          %ty = thread_idx y : i32
          %tz = thread_idx z : i32
          return
        }
        """
    func = parse_function(dedent(text))
    values = named(func)

    def of(block):
        info = analyze_uniformity(func, block)
        return tuple(info.of(values[k]) for k in ("tx", "ty", "tz"))

    assert of(None) == (VARYING, VARYING, VARYING)
    assert of((64, 4, 2)) == (VARYING, WARP, WARP)      # a warp is 32 of one row
    assert of((16, 4, 2)) == (VARYING, VARYING, WARP)   # a warp spans two rows; 64 per z
    assert of((16, 2)) == (VARYING, VARYING, CTA)       # z extent 1: always 0
    assert of((1, 32)) == (CTA, VARYING, CTA)
