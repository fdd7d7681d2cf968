"""The verifier: every kind of problem is caught, with a message naming the op and the fault."""

from __future__ import annotations

import pytest

from warpforge.compiler.errors import IRError
from warpforge.compiler.ir import (
    ArrayType,
    Block,
    Builder,
    Function,
    Module,
    Op,
    Region,
    bool_,
    f32,
    i32,
    parse_function,
    verify,
)
from warpforge.compiler.passes import run_pipeline
from warpforge.isa.program import SourceLoc

LOC = SourceLoc("k.py", 7, 2)


def kernel(*params, results=(), is_kernel=True):
    func = Function("k", params, results, is_kernel=is_kernel)
    return func, Builder.for_function(func)


def fails(func, message, module=None):
    """Verify ``func``, expect IRError containing ``message``; return the error."""
    with pytest.raises(IRError) as info:
        verify(func, module)
    assert message in str(info.value), str(info.value)
    return info.value


def test_valid_ir_passes():
    func, b = kernel(("n", i32), ("p", bool_))
    n, p = func.params
    with b.if_(p) as br:
        with br.then_():
            b.yield_(b.add(n, n))
        with br.else_():
            b.yield_(n)
    with b.for_(n, n, n, init=[br.results[0]]) as loop:
        b.yield_(loop.carried[0])
    b.return_()
    verify(func)


def test_type_errors_name_the_op_as_printed():
    func, b = kernel(("n", i32), ("a", f32))
    n, a = func.params
    func.block.append(Op("add", [n, a], [i32], loc=LOC))
    b.return_()
    err = fails(func, "@k: cannot add i32 and f32\n    %0 = add %n, %a : i32")
    assert err.loc == LOC and err.op is func.block.ops[0]
    assert str(err).startswith("k.py:7:2: @k: ")


def test_declared_result_type_must_match_the_rule():
    func, b = kernel(("n", i32))
    n = func.params[0]
    func.block.append(Op("add", [n, n], [f32]))
    b.return_()
    fails(func, "results are (f32) but must be (i32)")


@pytest.mark.parametrize("make, message", [
    (lambda n: Op("add", [n], [i32]), "add takes 2 operands, not 1"),
    (lambda n: Op("load", [n], [i32]), "load takes at least 2 operands, not 1"),
    (lambda n: Op("lane_id", [], []), "lane_id has 1 results, not 0"),
    (lambda n: Op("cmp", [n, n], [bool_]), "cmp needs attribute 'pred'"),
    (lambda n: Op("cmp", [n, n], [bool_], {"pred": "lte"}), "cmp pred must be one of"),
    (lambda n: Op("array_dim", [n], [i32], {"axis": True}), "axis' must be an int, not True"),
    (lambda n: Op("constant", [], [i32], {"value": 2**40}), "constant value 1099511627776 is not"),
    (lambda n: Op("if", [n], [], regions=[Region()]), "if has 2 regions, not 1"),
])
def test_registry_facts_are_checked(make, message):
    func, b = kernel(("n", i32))
    func.block.append(make(func.params[0]))
    b.return_()
    fails(func, message)


def test_value_defined_in_a_region_is_not_visible_outside():
    func, b = kernel(("p", bool_))
    with b.if_(func.params[0]) as br, br.then_():
        inner = b.lane_id()
    b.add(inner, inner)
    b.return_()
    fails(func, "operand 0 is defined inside a region and used outside it\n"
                "    %1 = add %0, %0 : i32")


def test_use_before_definition():
    func, b = kernel(("n", i32))
    first = b.add(func.params[0], func.params[0])
    second = b.mul(first, first)
    b.return_()
    second.defining_op.move_before(first.defining_op)
    fails(func, "operand 0 is used before its definition")


def test_use_of_an_erased_op():
    func, b = kernel(("n", i32))
    first = b.add(func.params[0], func.params[0])
    b.mul(first, first)
    b.return_()
    first.defining_op.detach()
    fails(func, "operand 0 comes from an op that is in no block")


def test_value_from_another_function():
    other, _ = kernel(("m", i32))
    func, b = kernel(("n", i32))
    b.add(other.params[0], func.params[0])
    b.return_()
    fails(func, "operand 0 is used before its definition (or is not defined in this function)")


def test_region_must_end_with_a_terminator():
    func, b = kernel(("p", bool_))
    with b.if_(func.params[0]) as br, br.then_():
        b.barrier()
    br.then_block.ops[-1].erase()
    b.return_()
    fails(func, "the if region does not end with yield or return\n    barrier")


def test_empty_region():
    func, b = kernel(("p", bool_))
    with b.if_(func.params[0]) as br:
        pass
    br.else_block.ops[-1].erase()
    b.return_()
    fails(func, "a if region is empty: it must end with yield or return")


def test_function_must_end_with_return():
    func, b = kernel(("n", i32))
    b.add(func.params[0], func.params[0])
    fails(func, "the function body does not end with yield or return")


def test_nothing_after_return():
    func, b = kernel(("n", i32))
    b.return_()
    func.block.append(Op("barrier"))
    fails(func, "op after return: return must be the last op of its block\n    barrier")


def test_yield_is_not_a_function_terminator():
    func, _ = kernel()
    func.block.append(Op("yield"))
    fails(func, "yield in the function body")


def test_if_yields_must_match_its_results():
    text = """kernel @k(%p: bool, %n: i32, %a: f32) {
  %0 = if %p : i32 {
    yield %n
  } else {
    yield %a
  }
  return
}"""
    err = fails(parse_function(text, verify=False),
                "the else region yields (f32) but must yield (i32)\n    yield %a")
    assert err.op.name == "yield"


def test_for_body_arguments_and_yield():
    func, b = kernel(("n", i32), ("a", f32))
    n, a = func.params
    with b.for_(n, n, n, init=[a]) as loop:
        b.yield_(loop.carried[0])
    b.return_()
    loop.body.add_arg(i32)
    fails(func, "the for body takes (i32, f32, i32) but must take (i32, f32)")
    func = parse_function("""kernel @k(%n: i32, %a: f32) {
  %0 = for %1 = %n to %n step %n iter(%2 = %a) : f32 {
    yield %1
  }
  return
}""", verify=False)
    fails(func, "the for body yields (i32) but must yield (f32)")


def test_while_condition_must_yield_a_bool_first():
    func = parse_function("""kernel @k(%n: i32) {
  %0 = while (%1 = %n) : i32 {
    yield %1, %1
  } do (%2) {
    yield %2
  }
  return
}""", verify=False)
    fails(func, "the while condition region yields (i32, i32) but must yield (bool, i32)")


def test_while_body_types():
    func = parse_function("""kernel @k(%n: i32, %p: bool) {
  %0 = while (%1 = %n) : i32 {
    yield %p, %1
  } do (%2) {
    yield %p
  }
  return
}""", verify=False)
    fails(func, "the while body yields (bool) but must yield (i32)")


def test_return_must_give_the_function_results():
    func, _ = kernel(("n", i32), results=(f32,), is_kernel=False)
    func.block.append(Op("return", [func.params[0]]))
    fails(func, "return gives (i32) but @k returns (f32)")


def test_function_results_must_be_scalars():
    func, _ = kernel(results=(ArrayType(f32, 1),), is_kernel=False)
    func.block.append(Op("return"))
    fails(func, "function results must be scalars, not array<f32, 1, global>")


def test_function_attributes_must_be_immutable():
    func, b = kernel()
    b.return_()
    func.attrs["tile"] = [16, 16]
    fails(func, "function attribute 'tile': an attribute cannot hold [16, 16] (a list)")


def test_calls_are_checked_against_the_module():
    callee, cb = kernel(("v", f32), results=(f32,), is_kernel=False)
    callee.name = "f"
    cb.return_(callee.params[0])
    func, b = kernel(("n", i32))
    b.call("f", [func.params[0]], [f32])
    b.return_()
    verify(func)  # without the module, calls are taken on trust
    fails(func, "@f takes (f32), not (i32)", Module([callee, func]))
    fails(func, "call to unknown function @f", Module([func]))
    callee.is_kernel = True
    fails(func, "call to kernel @f", Module([callee, func]))


def test_op_listed_in_a_block_it_does_not_belong_to():
    func, b = kernel(("n", i32))
    b.return_()
    stray = Block().append(Op("lane_id", [], [i32]))
    func.block.ops.insert(0, stray)  # bypassing Block.insert, as a buggy pass might
    fails(func, "op is listed in a block it does not belong to")


def test_uses_from_outside_the_function_are_caught():
    func, b = kernel(("n", i32))
    b.return_()
    Op("add", [func.params[0], func.params[0]], [i32])
    fails(func, "a i32 value is used by a add op outside the function")


def test_run_pipeline_names_the_pass_that_broke_the_ir():
    func, b = kernel(("n", i32))
    b.return_()

    def breaker(f):
        f.block.insert(0, Op("add", [f.params[0]], [i32]))

    with pytest.raises(IRError, match="after pass 'breaker': @k: add takes 2 operands, not 1"):
        run_pipeline(func, [breaker])


def test_run_pipeline_dumps_every_stage():
    func, b = kernel(("n", i32))
    b.add(func.params[0], func.params[0])
    b.return_()
    stages = []

    def named(f):
        return f

    named.pass_name = "noop"
    run_pipeline(func, [named, lambda f: None], dump=lambda name, text: stages.append(name))
    assert stages == ["input", "noop", "<lambda>"]
