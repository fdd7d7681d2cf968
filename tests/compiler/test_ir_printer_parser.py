"""The IR text form: canonical printing, parsing back, round trips, errors with positions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warpforge.compiler.errors import IRSyntaxError
from warpforge.compiler.ir import (
    OPS,
    AddressSpace,
    ArrayType,
    Builder,
    Function,
    clone_function,
    f16,
    f32,
    f64,
    i32,
    i64,
    parse_function,
    parse_module,
    print_function,
    print_module,
    print_op,
    u64,
    verify,
)
from warpforge.isa.program import SourceLoc

from .ir_strategies import functions

EVERY_OP = """\
func @helper(%v: f32, %w: f32) -> f32, i32 {
  %0 = fma %v, %w, %v : f32
  %1 = lane_id : i32
  return %0, %1
}

kernel @more_ops(%a: f32, %b: f32, %u: u32) {
  %0 = exp2 %a : f32
  %1 = log2 %0 : f32
  %2 = log10 %1 : f32
  %3 = tan %2 : f32
  %4 = tanh %3 : f32
  %5 = sinh %4 : f32
  %6 = cosh %5 : f32
  %7 = asin %6 : f32
  %8 = acos %7 : f32
  %9 = atan %8 : f32
  %10 = erf %9 : f32
  %11 = erfc %10 : f32
  %12 = cbrt %11 : f32
  %13 = floor %12 : f32
  %14 = ceil %13 : f32
  %15 = trunc %14 : f32
  %16 = round %15 : f32
  %17 = pow %16, %b : f32
  %18 = atan2 %17, %b : f32
  %19 = hypot %18, %b : f32
  %20 = copysign %19, %b : f32
  %21 = popc %u : u32
  %22 = clz %21 : u32
  %23 = brev %22 : u32
  %24 = ffs %23 : u32
  %25 = bitcast %24 : f32
  %26 = dynamic_shared : array<f32, 1, shared>
  %27, %28, %29, %30 = mma %21, %22, %23, %24, %21, %22, %25, %25, %25, %25 : f32, f32, f32, f32
  syncwarp
  fence
  return
}

kernel @every_op(%x: array<f32, 2, global>, %c: array<i32, 1, global>, %n: i32, %a: f32, \
%p: bool) attributes {BM = 64, "do" = "yes", dtype = f16, scale = 0.5, tile = [16, [2, 3]]} {
  %0 = constant 7 : i32
  %1 = constant -1.5 : f32
  %2 = constant true : bool
  %3 = constant 0.1 : f64
  %4 = add %n, %0 : i32
  %5 = sub %4, %0 : i32
  %6 = mul %5, %0 : i32
  %7 = div %6, %0 : i32
  %8 = floordiv %7, %0 : i32
  %9 = mod %8, %0 : i32
  %10 = rem %9, %0 : i32
  %11 = min %10, %0 : i32
  %12 = max %11, %0 : i32
  %13 = and %12, %0 : i32
  %14 = or %13, %0 : i32
  %15 = xor %14, %0 : i32
  %16 = shl %15, %0 : i32
  %17 = shr %16, %0 : i32
  %18 = neg %17 : i32
  %19 = abs %18 : i32
  %20 = not %19 : i32
  %21 = cmp ge %20, %n : bool
  %22 = select %21, %a, %1 : f32
  %23 = cast %22 : f64
  %24 = exp %23 : f64
  %25 = log %24 : f64
  %26 = sqrt %25 : f64
  %27 = rsqrt %26 : f64
  %28 = sin %27 : f64
  %29 = cos %28 : f64
  %30 = thread_idx x : i32
  %31 = block_idx y : i32
  %32 = block_dim z : i32
  %33 = grid_dim x : i32
  %34 = array_dim %x {axis = 1} : i32
  %35 = load %x[%30, %31] : f32
  store %x[%30, %31], %35
  %36 = shared_alloc : array<f32, [32, 33], shared>
  %37 = local_alloc : array<i64, [4], local>
  %38 = atomic add %c[%30], %0 : i32
  %39 = atomic cas %c[%30], %0, %38 : i32
  barrier
  %40 = shfl xor %35, %0 : f32
  %41 = vote ballot %p : u32
  %42, %43 = call @helper %40, %a : f32, i32
  if %p {
    return
  }
  %44 = if %21 : f32 {
    yield %a
  } else {
    yield %42
  }
  %45 = constant 0 : i32
  %46 = constant 1 : i32
  %47 = for %48 = %45 to %n step %46 iter(%49 = %44) {unroll = true} : f32 {
    %50 = load %x[%48, %48] : f32
    %51 = add %49, %50 : f32
    yield %51
  }
  %52, %53 = while (%54 = %n, %55 = %47) : i32, f32 {
    %56 = cmp gt %54, %45 : bool
    yield %56, %54, %55
  } do (%57, %58) {
    %59 = shr %57, %46 : i32
    yield %59, %58
  }
  return
}
"""


def test_every_op_round_trips_and_is_covered():
    module = parse_module(EVERY_OP)
    assert print_module(module) == EVERY_OP
    names = {op.name for func in module for op in func.walk()}
    assert names == set(OPS)


def test_parsed_ir_has_the_written_structure():
    func = parse_module(EVERY_OP)["every_op"]
    assert [p.name for p in func.params] == ["x", "c", "n", "a", "p"]
    assert func.attrs == {"BM": 64, "do": "yes", "dtype": f16, "scale": 0.5,
                          "tile": (16, (2, 3))}
    loop = next(op for op in func.walk() if op.name == "for")
    assert loop.operand_types == (i32, i32, i32, f32) and loop.attr("unroll") is True
    body = loop.regions[0].block
    assert body.arg_types == (i32, f32) and body.ops[0].operands[0] is func.params[0]
    const = func.block.ops[3]
    assert const.attr("value") == 0.1 and const.result.type == f64
    helper = parse_module(EVERY_OP)["helper"]
    assert not helper.is_kernel and helper.result_types == (f32, i32)


def test_value_names_are_canonical():
    text = """
kernel @k(%n: i32) {
  %sum = add %n, %n : i32     // any names will do
  %zzz = mul %sum, %sum : i32
  %7 = sub %zzz, %sum : i32
  return
}
"""
    printed = print_function(parse_function(text))
    assert printed == """\
kernel @k(%n: i32) {
  %0 = add %n, %n : i32
  %1 = mul %0, %0 : i32
  %2 = sub %1, %0 : i32
  return
}
"""
    assert parse_function(text).block.ops[0].result.name == "sum"


def test_name_hints_do_not_change_the_text():
    def build(hint):
        func = Function("k", [("n", i32)])
        b = Builder.for_function(func)
        v = b.add(func.params[0], func.params[0])
        v.name = hint
        b.return_()
        return print_function(func)

    assert build("i") == build("something_else")


def test_unnamed_or_clashing_parameters_get_arg_names():
    func = Function("k", [(None, i32), ("x", i32), ("x", f32), ("do", i32)])
    Builder.for_function(func).return_()
    assert print_function(func).startswith("kernel @k(%arg0: i32, %x: i32, %arg2: f32, "
                                           "%arg3: i32)")


def test_locations_print_only_when_asked():
    func = Function("k", [("n", i32)], loc=SourceLoc("k.py", 1, 0))
    b = Builder.for_function(func)
    b.add(func.params[0], func.params[0], loc=SourceLoc('odd "name".py', 5, 8))
    b.return_()
    assert "loc(" not in print_function(func)
    text = print_function(func, locs=True)
    assert text == """\
kernel @k(%n: i32) loc("k.py":1:0) {
  %0 = add %n, %n : i32 loc("odd \\"name\\".py":5:8)
  return loc("k.py":1:0)
}
"""
    again = parse_function(text)
    assert again.block.ops[0].loc == SourceLoc('odd "name".py', 5, 8)
    assert again.loc == SourceLoc("k.py", 1, 0)
    assert print_function(again, locs=True) == text


@pytest.mark.parametrize("value, t, text", [
    (float(np.float32(0.1)), f32, "0.1"),
    (0.1, f64, "0.1"),
    (1.0, f32, "1.0"),
    (-0.0, f32, "-0.0"),
    (1e20, f64, "1e+20"),
    (float(np.float32(3.4028235e38)), f32, "3.4028235e+38"),
    (float(np.float16(0.333)), f16, "0.333"),
    (float("inf"), f32, "inf"),
    (float("-inf"), f64, "-inf"),
    (2**64 - 1, u64, "18446744073709551615"),
    (-(2**63), i64, "-9223372036854775808"),
])
def test_constants_print_shortest_and_read_back_exactly(value, t, text):
    func = Function("k")
    b = Builder.for_function(func)
    b.constant(value, t)
    b.return_()
    printed = print_function(func)
    assert f"%0 = constant {text} : {t}" in printed
    back = parse_function(printed).block.ops[0].attr("value")
    assert back == value and math.copysign(1, back) == math.copysign(1, value)


def test_nan_constant_round_trips():
    func = parse_function("kernel @k() {\n  %0 = constant nan : f32\n  return\n}\n")
    assert math.isnan(func.block.ops[0].attr("value"))
    assert "constant nan : f32" in print_function(func)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([f16, f32, f64]), st.data())
def test_every_float_constant_round_trips(t, data):
    value = float(data.draw(st.floats(width=t.bits, allow_nan=False)))
    text = f"kernel @k() {{\n  %0 = constant {print_op_value(value, t)} : {t}\n  return\n}}\n"
    back = parse_function(text).block.ops[0].attr("value")
    assert back == value and math.copysign(1, back) == math.copysign(1, value)


def print_op_value(value, t):
    func = Function("k")
    Builder.for_function(func).constant(value, t)
    return print_op(func.block.ops[0]).split(" = constant ")[1].split(" : ")[0]


def test_if_without_results_and_empty_else_prints_no_else():
    text = "kernel @k(%p: bool) {\n  if %p {\n    barrier\n    yield\n  }\n  return\n}\n"
    func = parse_function(text)
    if_op = func.block.ops[0]
    assert [op.name for op in if_op.regions[1].block.ops] == ["yield"]
    assert print_function(func) == text


def test_print_op_numbers_values_as_in_the_function():
    func = parse_module(EVERY_OP)["every_op"]
    loop = next(op for op in func.walk() if op.name == "for")
    assert print_op(loop).splitlines()[0] == (
        "%47 = for %48 = %45 to %n step %46 iter(%49 = %44) {unroll = true} : f32 {")
    assert print_op(loop).splitlines()[-1] == "}"
    assert str(loop.regions[0].block.ops[1]) == "%51 = add %49, %50 : f32"


def test_comments_and_blank_lines_are_ignored():
    text = """// a module

// with comments
kernel @k() {   // here

  // and here
  barrier   // and here
  return
}

"""
    assert print_function(parse_function(text)) == "kernel @k() {\n  barrier\n  return\n}\n"


@pytest.mark.parametrize("text, message, line, column", [
    ("kernel @k() {\n  frob\n  return\n}", "unknown op 'frob'", 2, 3),
    ("kernel @k() {\n  %0 = add %1, %1 : i32\n  return\n}", "undefined value %1", 2, 12),
    ("kernel @k(%n: i32) {\n  %n = add %n, %n : i32\n  return\n}",
     "value %n is already defined", 2, 3),
    ("kernel @k(%p: bool) {\n  if %p {\n    %0 = lane_id : i32\n    yield\n  }\n"
     "  %1 = add %0, %0 : i32\n  return\n}", "undefined value %0", 6, 12),
    ("kernel @k() {\n  %0 = constant 1 : f33\n  return\n}", "unknown type 'f33'", 2, 21),
    ("kernel @k() {\n  %0, %1 = lane_id : i32\n  return\n}",
     "2 result names but 1 result type", 2, 3),
    ("kernel @k() {\n  %0 = constant 300 : i8\n  return\n}", "constant 300 does not fit i8",
     2, 17),
    ("kernel @k() {\n  %0 = lane_id x : i32\n  return\n}", "lane_id takes no key word", 2, 16),
    ("kernel @k() {\n  %0 = cmp 3 : bool\n  return\n}", "cmp needs a word here, not '3'", 2, 12),
    ("kernel @k(%x: array<f32, 1, texture>) {\n  return\n}", "unknown address space", 1, 29),
    ("kernel @k() {\n  %0 = lane_id {a = 1, a = 2} : i32\n  return\n}",
     "attribute a is given twice", 2, 24),
    ("kernel @k(%n: i32) {\n  %0 = add %n,\n  return\n}",
     "unexpected end of line; expected a value like %x", 2, 15),
    ("kernel @k() {\n  %0 = add : i32 i32\n  return\n}",
     "unexpected 'i32'; expected ',', 'loc' or end of line", 2, 18),
    ("kernel @k() {\n  barrier %\n}", "unexpected character '%'", 2, 11),
    ("kernel @k() {\n  return\n", "unexpected end of text", 2, 9),
    ("kernel @k(%n: i32) {\n  %0 = while (%1 = %n) : i32 {\n    yield %1\n  } do {\n"
     "    yield %1\n  }\n  return\n}", "the do region names 0 values but the loop has 1", 2, 3),
])
def test_syntax_errors_give_line_and_column(text, message, line, column):
    with pytest.raises(IRSyntaxError) as info:
        parse_function(text)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"line {line}:{column}: ")
    assert err.source_line == text.splitlines()[line - 1]


def test_unexpected_token_lists_what_was_expected():
    with pytest.raises(IRSyntaxError) as info:
        parse_function("kernel @k() {\n  %0 = add %1 %2 : i32\n  return\n}")
    assert "unexpected '%2'" in info.value.message and "','" in info.value.message


def test_verifier_errors_point_at_the_line_of_the_op():
    text = """kernel @k(%n: i32, %a: f32) {
  %0 = mul %n, %n : i32
  %1 = add %0, %a : i32
  return
}"""
    with pytest.raises(IRSyntaxError) as info:
        parse_function(text)
    assert info.value.message.endswith("cannot add i32 and f32")
    assert (info.value.line, info.value.column) == (3, 8)
    func = parse_function(text, verify=False)
    assert func.block.ops[1].operand_types == (i32, f32)


def test_module_with_two_functions_and_a_call_checked_against_the_callee():
    text = EVERY_OP.replace("%42, %43 = call @helper %40, %a : f32, i32",
                            "%42, %43 = call @helper %40, %n : f32, i32")
    with pytest.raises(IRSyntaxError, match=r"@helper takes \(f32, f32\), not \(f32, i32\)"):
        parse_module(text)
    with pytest.raises(IRSyntaxError, match="call to unknown function @nothere"):
        parse_module(EVERY_OP.replace("call @helper", "call @nothere"))
    with pytest.raises(IRSyntaxError, match="function @helper is defined twice"):
        parse_module(EVERY_OP.replace("@every_op", "@helper"))


def test_parse_function_wants_exactly_one():
    with pytest.raises(IRSyntaxError, match="expected one function, found 3"):
        parse_function(EVERY_OP)


def test_static_and_dynamic_array_types_parse():
    func = parse_function("kernel @k(%x: array<u64, 3, global>, %s: array<f16, [8], shared>)"
                          " {\n  return\n}\n")
    assert func.param_types == (ArrayType(u64, 3),
                                ArrayType.static(f16, (8,), AddressSpace.SHARED))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_random_functions_round_trip(func):
    verify(func)
    for locs in (False, True):
        text = print_function(func, locs)
        again = parse_function(text)
        assert print_function(again, locs) == text
    assert print_function(clone_function(func)) == print_function(func)
