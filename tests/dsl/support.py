"""Helpers for the frontend tests: a ``wf`` namespace of the DSL's types and intrinsics
(the public ``warpforge`` package re-exports them once the lead wires it), building IR,
and reading it."""

from __future__ import annotations

import importlib.util
import itertools
import tempfile
import textwrap
from pathlib import Path
from types import SimpleNamespace

from warpforge.compiler.ir import Function, Op
from warpforge.dsl import func as _func
from warpforge.dsl import intrinsics as _intrinsics
from warpforge.dsl import types as _types
from warpforge.dsl.frontend import build_function

wf = SimpleNamespace(
    **_intrinsics.INTRINSICS, **_intrinsics.DIM3S, warp_size=_intrinsics.warp_size,
    **{("bool_" if k == "bool" else k): v for k, v in _types.SCALARS.items()},
    constexpr=_types.constexpr, func=_func.func,
)


def build(fn, constexprs=None, **types) -> Function:
    """The IR of kernel ``fn`` with parameter types given by keyword."""
    return build_function(fn, types, constexprs or {})


def ops(func: Function, name: str | None = None) -> list[Op]:
    """Every op of ``func`` (named ``name`` if given), pre-order."""
    return [op for op in func.walk() if name is None or op.name == name]


def names(func: Function) -> list[str]:
    """The names of every op, pre-order."""
    return [op.name for op in func.walk()]


def constant_value(value) -> object:
    """The value of a constant op's result (AssertionError if it is not one)."""
    op = value.defining_op
    assert op is not None and op.name == "constant", f"not a constant: {op}"
    return op.attr("value")


_DIR = Path(tempfile.mkdtemp(prefix="wf_frontend_"))
_COUNTER = itertools.count()


def load_source(text: str, name: str):
    """Function ``name`` from Python source ``text`` written to a fresh file (so that
    ``inspect`` finds its source)."""
    path = _DIR / f"gen_{next(_COUNTER)}.py"
    path.write_text("from tests.dsl.support import wf\n\n" + textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name), path
