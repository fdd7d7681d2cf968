"""The frontend: a Python function's AST to IR.

:func:`build_function` reads the function's source (``inspect`` + ``ast``) and walks it,
building IR through :class:`~warpforge.compiler.ir.builder.Builder`; every op carries the
user's file, line and column. The supported subset, its typing rules and lowerings are
documented in the modules: :mod:`.promotion` (types), :mod:`.expressions` (operators),
:mod:`.calls` (intrinsics, casts, ``@wf.func``), :mod:`.statements` (assignments, ``if``,
``break``/``continue``), :mod:`.loops`, :mod:`.uniformity` (loops around barriers).
Anything else is a :class:`~warpforge.dsl.errors.CompileError` naming the construct, with
the compiler's frames hidden from its traceback.

``@wf.func`` device functions are built as separate IR functions, one per tuple of
argument types, reached by ``call`` ops; the kernel's ``Function`` carries them in its
``module`` attribute (a :class:`~warpforge.compiler.ir.Module` holding the kernel first,
then every device function it calls, transitively). :func:`build_module` returns it.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable, Mapping

import numpy as np

from ...compiler.ir.builder import Builder
from ...compiler.ir.core import Value
from ...compiler.ir.function import Function, Module
from ...compiler.ir.types import Type
from ...compiler.ir.verifier import verify_function
from ..errors import CompileError, hide_compiler_frames
from ..types import constexpr as constexpr_marker
from ..types import from_dtype, to_ir
from .base import ModuleState, Source
from .loops import Loops
from .numba_calls import NumbaCalls
from .promotion import WARPFORGE, Dialect
from .statements import RETURN, NeedResultTypes, has_return
from .uniformity import divergent_barrier_loops

__all__ = ["CompileError", "build_function", "build_module"]

RECURSION_LIMIT = 20_000
"""Python frames the frontend may use: the translation recurses through expressions, and
Python itself compiles an expression of about 3,000 terms; deeper is a CompileError."""


class FunctionTranslator(Loops, NumbaCalls):
    """Translates one Python function (a kernel or a device function)."""

    result_types: tuple[Type, ...] | None = None


def build_function(pyfunc: Callable, arg_types: Mapping[str, object],
                   constexprs: Mapping[str, object] | None = None,
                   dialect: Dialect = WARPFORGE) -> Function:
    """The IR of kernel ``pyfunc``: every non-constexpr parameter typed by ``arg_types``
    (DSL or IR types), constexpr parameters replaced by their values, under ``dialect``'s
    typing rules (the language's, or Numba's for ``warpforge.cuda`` kernels). The
    result's ``module`` attribute holds the device functions it calls."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        state = ModuleState(dialect=dialect)
        func = _build(pyfunc, dict(arg_types), dict(constexprs or {}), state, True)
        func.module = state.module
        return func
    except CompileError as err:
        hide_compiler_frames(err)
        raise
    except RecursionError:
        err = CompileError(f"kernel {getattr(pyfunc, '__name__', '?')!r} nests expressions "
                           "too deeply to compile: split the longest expression into "
                           "several assignments")
        raise err from None
    finally:
        sys.setrecursionlimit(limit)


def build_module(pyfunc: Callable, arg_types: Mapping[str, object],
                 constexprs: Mapping[str, object] | None = None) -> Module:
    """The kernel and the device functions it calls, kernel first."""
    try:
        return build_function(pyfunc, arg_types, constexprs).module
    except CompileError as err:
        hide_compiler_frames(err)
        raise


def build_device_function(pyfunc: Callable, params: tuple[tuple[str, Type], ...],
                          static: Mapping[str, object], state: ModuleState,
                          error: Callable[[ast.AST, str], CompileError],
                          node: ast.AST) -> Function:
    """The device function ``pyfunc`` for runtime parameters ``params`` (name, type) and
    compile-time arguments ``static`` (built once per module for each)."""
    key = (pyfunc, params, tuple((name, _static_key(v)) for name, v in static.items()))
    if key in state.callees:
        return state.callees[key]
    if pyfunc in state.building:
        raise error(node, f"recursive @wf.func calls are not supported "
                          f"({pyfunc.__name__!r})")
    state.building.add(pyfunc)
    try:
        func = _build(pyfunc, dict(params), dict(static), state, False)
    finally:
        state.building.discard(pyfunc)
    state.callees[key] = func
    return func


def _static_key(value: object) -> object:
    """A hashable stand-in for a compile-time argument."""
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


def _parse(pyfunc: Callable) -> tuple[Source, ast.FunctionDef, dict[str, object]]:
    try:
        lines, first = inspect.getsourcelines(pyfunc)
        filename = inspect.getsourcefile(pyfunc) or inspect.getfile(pyfunc)
    except (OSError, TypeError) as err:
        raise CompileError(f"cannot read the source of {pyfunc!r}: {err}") from None
    indent = len(lines[0]) - len(lines[0].lstrip())
    tree = ast.parse(textwrap.dedent("".join(lines)))
    fdef = tree.body[0]
    source = Source(filename, first, indent, lines)
    if not isinstance(fdef, ast.FunctionDef):
        raise source.error(fdef, "only functions defined with 'def' can be kernels")
    names = dict(pyfunc.__globals__)
    if pyfunc.__closure__:
        for name, cell in zip(pyfunc.__code__.co_freevars, pyfunc.__closure__,
                              strict=True):
            try:
                names[name] = cell.cell_contents
            except ValueError:
                continue
    return source, fdef, names


def _param_names(source: Source, fdef: ast.FunctionDef, is_kernel: bool = True) -> list[str]:
    args = fdef.args
    if args.vararg or args.kwarg or (args.kwonlyargs and is_kernel):
        raise source.error(fdef, "*args, **kwargs and keyword-only parameters are not "
                                 "supported in kernels" if is_kernel else
                                 "*args and **kwargs are not supported in @wf.func")
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


def _build(pyfunc: Callable, arg_types: dict[str, object], constexprs: dict[str, object],
           state: ModuleState, is_kernel: bool) -> Function:
    source, fdef, names = _parse(pyfunc)
    params = []
    arg_nodes = {a.arg: a for a in fdef.args.posonlyargs + fdef.args.args
                 + fdef.args.kwonlyargs}
    for name in _param_names(source, fdef, is_kernel):
        if name in constexprs:
            continue
        if name not in arg_types:
            is_ce = _is_constexpr(arg_nodes[name], names)
            raise source.error(arg_nodes[name], f"parameter {name!r} has no "
                               + ("value: pass the constexpr" if is_ce else "type"))
        try:
            params.append((name, to_ir(arg_types[name])))
        except TypeError as err:
            raise source.error(arg_nodes[name], f"parameter {name!r}: {err}") from None
    attrs = {"constexprs": tuple((k, v) for k, v in constexprs.items()
                                 if isinstance(v, (bool, int, float, str)))}
    returns_in_loop = not is_kernel and any(
        isinstance(n, (ast.For, ast.While)) and has_return(n.body) for n in ast.walk(fdef))
    preset: tuple[Type, ...] | None = None
    while True:
        func = Function(pyfunc.__name__ if is_kernel else _unique(pyfunc.__name__,
                                                                  state.module),
                        params, is_kernel=is_kernel, attrs=attrs, loc=source.loc(fdef))
        state.module.add(func)
        builder = Builder.for_function(func)
        tr = FunctionTranslator(source, builder, func, names, state)
        for param in func.params:
            tr.env[param.name] = param
        for name, value in constexprs.items():
            if isinstance(value, np.generic):
                try:
                    value = tr.constant(fdef, value.item(), from_dtype(value.dtype).ir)
                except TypeError as err:
                    raise source.error(arg_nodes.get(name, fdef), str(err)) from None
            tr.env[name] = value
        if returns_in_loop:
            tr.returns_in_loops = True
            if preset is not None:
                tr.preset_results(fdef, preset)
        try:
            status = tr.stmts(fdef.body)
        except NeedResultTypes as need:
            if preset is not None:
                raise
            state.module.remove(func.name)
            preset = need.types
            continue
        break
    if isinstance(tr.env.get("$return"), Value) and func.block.terminator is None:
        results = [tr.env.get(f"$result{i}") for i in range(len(tr.result_types))]
        if status != RETURN and tr.result_types and not all(
                isinstance(v, Value) for v in results):
            raise source.error(fdef, f"@wf.func {pyfunc.__name__!r} must return a value on "
                                     "every path")
        builder.create("return", results, loc=source.loc(fdef.body[-1]))
        status = RETURN
    if status != RETURN and func.block.terminator is None:
        if not is_kernel and tr.result_types:
            raise source.error(fdef, f"@wf.func {pyfunc.__name__!r} must return a value on "
                                     "every path")
        if tr.result_types is None:
            func.result_types = ()
        builder.create("return", (), loc=source.loc(fdef.body[-1]))
    for loop, why in divergent_barrier_loops(func, state.module):
        line = loop.loc
        raise CompileError(
            f"syncthreads() inside a loop whose trip count depends on {why}: every thread "
            "of the CTA must run the loop the same number of times",
            line.file, line.line, line.col, source.lines[line.line - source.first_line])
    verify_function(func, state.module)
    return func


def _is_constexpr(arg: ast.arg, names: dict[str, object]) -> bool:
    ann = arg.annotation
    if isinstance(ann, ast.Attribute) and ann.attr == "constexpr":
        return True
    return isinstance(ann, ast.Name) and names.get(ann.id) is constexpr_marker


def _unique(name: str, module: Module) -> str:
    if name not in module:
        return name
    n = 1
    while f"{name}_{n}" in module:
        n += 1
    return f"{name}_{n}"
