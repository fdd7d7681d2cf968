"""Every pass, and the whole pipeline, keeps the meaning of random functions: run before
and after by the reference interpreter (one thread), global memory must end up equal.
Functions the interpreter cannot run (math, warp ops, infinite loops, undefined
arithmetic in the original) are skipped."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings

from warpforge.compiler.ir import clone_function, verify
from warpforge.compiler.passes import dce, fold, run_pipeline
from warpforge.compiler.passes.cse import cse
from warpforge.compiler.passes.licm import licm
from warpforge.compiler.passes.promote import promote
from warpforge.compiler.passes.strength import strength
from warpforge.compiler.pipeline import optimize

from .ir_interp import Unsupported, run
from .ir_strategies import functions

ENV = {("thread_idx", "x"): 3, ("thread_idx", "y"): 1, ("block_idx", "x"): 2,
       ("block_dim", "x"): 32, ("block_dim", "y"): 2, ("grid_dim", "x"): 4, ("lane_id", None): 3}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def _memory(func):
    args = {"x": {}, "m": {}, "u": {}, "n": 5, "a": 1.5, "flag": True}
    for p in func.params:
        if p.name not in args:
            raise AssertionError(p.name)
    run(func, args, ENV, max_steps=2_000)
    return {k: args[k] for k in ("x", "m", "u")}


def _check(func, transform):
    for op in list(func.walk()):
        if op.name == "for" and op.attr("unroll") is True:
            op.del_attr("unroll")
    original = clone_function(func)
    try:
        want = _memory(original)
    except Unsupported:
        assume(False)
    transform(func)
    verify(func)
    got = _memory(func)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].keys() == want[name].keys(), name
        for key in want[name]:
            assert _same(got[name][key], want[name][key]), (name, key)


@pytest.mark.parametrize("passes", [[cse], [licm], [strength], [promote], [fold, dce]],
                         ids=["cse", "licm", "strength", "promote", "fold-dce"])
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(func=functions())
def test_each_pass_keeps_the_meaning(passes, func):
    _check(func, lambda f: run_pipeline(f, passes))


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(func=functions())
def test_the_pipeline_keeps_the_meaning(func):
    _check(func, optimize)
