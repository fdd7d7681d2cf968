"""Strength reduction: powers of two to shifts and masks, and induction-variable
multiplications to carried additions; printed IR in and out, and the meaning checked with
the reference interpreter on random inputs."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.compiler.ir import (
    ArrayType,
    Builder,
    Function,
    clone_function,
    i32,
    i64,
    parse_function,
    print_function,
    verify,
)
from warpforge.compiler.passes import dce, fold, run_pipeline
from warpforge.compiler.passes.cse import cse
from warpforge.compiler.passes.strength import strength

from .ir_interp import Unsupported, run


def reduce(text: str, passes=(strength,)) -> str:
    return print_function(run_pipeline(parse_function(dedent(text)), list(passes)))


def test_powers_of_two_become_shifts_and_masks_where_exact():
    assert reduce("""
        kernel @k(%x: array<i32, 1, global>, %u: array<u32, 1, global>, %n: i32, %m: u32) {
          %c8 = constant 8 : i32
          %c6 = constant 6 : i32
          %t = thread_idx x : i32
          %a = mul %c8, %n : i32        // any sign: shl
          %b = floordiv %n, %c8 : i32   // Python //: arithmetic shr floors, any sign
          %c = mod %n, %c8 : i32        // Python %: mask, any sign
          %d = div %n, %c8 : i32        // C division of a maybe-negative: stays
          %e = div %t, %c8 : i32        // thread_idx >= 0: shr
          %f = rem %t, %c8 : i32        // and mask
          %g = mul %n, %c6 : i32        // not a power of two: stays
          store %x[%a], %b
          store %x[%c], %d
          store %x[%e], %f
          store %x[%g], %g
          %k4 = constant 4 : u32
          %h = div %m, %k4 : u32        // unsigned: shr
          %i = rem %m, %k4 : u32
          store %u[%h], %i
          return
        }
        """, (strength, dce)) == dedent("""\
        kernel @k(%x: array<i32, 1, global>, %u: array<u32, 1, global>, %n: i32, %m: u32) {
          %0 = constant 8 : i32
          %1 = constant 6 : i32
          %2 = thread_idx x : i32
          %3 = constant 3 : i32
          %4 = shl %n, %3 : i32
          %5 = constant 3 : i32
          %6 = shr %n, %5 : i32
          %7 = constant 7 : i32
          %8 = and %n, %7 : i32
          %9 = div %n, %0 : i32
          %10 = constant 3 : i32
          %11 = shr %2, %10 : i32
          %12 = constant 7 : i32
          %13 = and %2, %12 : i32
          %14 = mul %n, %1 : i32
          store %x[%4], %6
          store %x[%8], %9
          store %x[%11], %13
          store %x[%14], %14
          %15 = constant 2 : u32
          %16 = shr %m, %15 : u32
          %17 = constant 3 : u32
          %18 = and %m, %17 : u32
          store %u[%16], %18
          return
        }
        """)


def test_induction_multiplications_become_carried_additions():
    assert reduce("""
        kernel @k(%x: array<f32, 1, global>, %n: i32, %lda: i32, %base: i32) {
          %zero = constant 0 : i32
          %two = constant 2 : i32
          for %i = %two to %n step %two {
            %m = mul %i, %lda : i32
            %a = add %m, %base : i32
            %v = load %x[%a] : f32
            store %x[%a], %v
            yield
          }
          return
        }
        """, (strength, fold, cse, dce)) == dedent("""\
        kernel @k(%x: array<f32, 1, global>, %n: i32, %lda: i32, %base: i32) {
          %0 = constant 2 : i32
          %1 = constant 1 : i32
          %2 = shl %lda, %1 : i32
          %3 = add %2, %base : i32
          %4 = for %5 = %0 to %n step %0 iter(%6 = %3) : i32 {
            %7 = load %x[%6] : f32
            store %x[%6], %7
            %8 = add %6, %2 : i32
            yield %8
          }
          return
        }
        """)


def test_non_invariant_factors_and_float_loops_stay():
    text = """\
        kernel @k(%x: array<f32, 1, global>, %n: i32) {
          %0 = constant 0 : i32
          %1 = constant 1 : i32
          for %2 = %0 to %n step %1 {
            %3 = mul %2, %2 : i32
            %4 = cast %3 : f32
            %5 = mul %4, %4 : f32
            store %x[%3], %5
            yield
          }
          return
        }
        """
    assert reduce(text) == dedent(text)


@settings(max_examples=80, deadline=None)
@given(lb=st.integers(-5, 5), ub=st.integers(-5, 12), step=st.integers(1, 3),
       a=st.integers(-2**31, 2**31 - 1), b=st.integers(-2**31, 2**31 - 1),
       k=st.integers(0, 5), wide=st.booleans(), div=st.integers(1, 6),
       form=st.integers(0, 3))
def test_reduced_loops_compute_the_same(lb, ub, step, a, b, k, wide, div, form):
    t = i64 if wide else i32
    a, b = a % t.max, b % t.max
    func = Function("k", [("out", ArrayType(t, 1)), ("a", t), ("b", t)])
    bl = Builder.for_function(func)
    out, pa, pb = func.params
    with bl.for_(bl.constant(lb, t), bl.constant(ub, t), bl.constant(step, t)) as loop:
        iv = loop.iv
        if form == 0:
            v = bl.add(bl.mul(iv, pa), pb)
        elif form == 1:
            v = bl.sub(bl.shl(iv, bl.constant(k, t)), pb)
        elif form == 2:
            v = bl.add(pb, bl.mul(bl.add(iv, pa), pa))
        else:
            v = bl.floordiv(bl.mul(iv, bl.constant(1 << k, t)), bl.constant(1 << div, t))
        bl.store(out, [bl.sub(iv, bl.constant(lb, t))], v)
        bl.store(out, [bl.add(bl.constant(100, t), bl.mod(v, bl.constant(1 << div, t)))], v)
    bl.return_()
    before = clone_function(func)
    run_pipeline(func, [strength, fold, cse, dce])
    verify(func)
    got, want = {}, {}
    try:
        run(before, {"out": want, "a": a, "b": b})
    except Unsupported:
        return
    run(func, {"out": got, "a": a, "b": b})
    assert got == want
    assert not any(op.name in ("floordiv", "mod") for op in func.walk())


def test_unsigned_floordiv_by_power_of_two():
    assert reduce("""
        kernel @k(%u: array<u32, 1, global>, %m: u32) {
          %c = constant 16 : u32
          %q = floordiv %m, %c : u32
          store %u[%q], %q
          return
        }
        """, (strength, dce)) == dedent("""\
        kernel @k(%u: array<u32, 1, global>, %m: u32) {
          %0 = constant 4 : u32
          %1 = shr %m, %0 : u32
          store %u[%1], %1
          return
        }
        """)

