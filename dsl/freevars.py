"""What a kernel reads from outside itself, as part of its identity.

A kernel's code depends on its source and on the values of the free names it reads:
module globals, closure variables, builtins (``FACTOR``, ``cfg.BLOCK``, ``wf.f32``, a
``@wf.func`` or another kernel). The frontend folds those values into the code, so the
compiled code is only reusable while they stay the same. :func:`free_refs` finds the free
names and attribute chains in a function's source once; :func:`environment_key` resolves
them now and fingerprints their values, recursively through the ``@wf.func`` s and kernels
they name. The memory and disk caches put that fingerprint in their keys, so a kernel
factory ``make(factor)`` compiles once per factor, in this process and the next.

Fingerprints are stable across processes for numbers, strings, tuples, numpy scalars and
dtypes, the language's types and intrinsics, modules, builtins and functions; for any
other object they name the object's identity, which is correct within a process and
never collides across processes.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .func import is_device_function
from .intrinsics import Dim3, Intrinsic
from .source import code_source
from .types import ArrayDType, ScalarDType, _Constexpr


@dataclass(frozen=True)
class FreeRef:
    """A free name and the attributes read through it: ``cfg.tile.BM`` is
    ``FreeRef("cfg", ("tile", "BM"))``."""

    root: str
    attrs: tuple[str, ...]


def _local_names(fdef: ast.FunctionDef) -> set[str]:
    args = fdef.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
    return names


def _refs_of_source(source: str) -> tuple[FreeRef, ...]:
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return ()
    fdef = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if fdef is None:
        return ()
    local = _local_names(fdef)
    found: dict[FreeRef, None] = {}

    def visit(node: ast.AST) -> None:
        chain: list[str] = []
        inner = node
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name) and chain and inner.id not in local:
            found[FreeRef(inner.id, tuple(reversed(chain)))] = None
            return
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in local:
                found[FreeRef(node.id, ())] = None
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    try:
        for stmt in fdef.body:
            visit(stmt)
    except RecursionError:  # the frontend reports such a kernel; no key is needed
        return tuple(found)
    for arg in fdef.args.posonlyargs + fdef.args.args:  # annotations: wf.f32[:] ...
        if arg.annotation is not None:
            visit(arg.annotation)
    for default in fdef.args.defaults:
        visit(default)
    return tuple(found)


_REFS: dict[int, tuple[types.CodeType, tuple[FreeRef, ...]]] = {}
"""free_refs by code object id (hashing a code object hashes its bytecode: slow)."""


def free_refs(fn: Callable) -> tuple[FreeRef, ...]:
    """The free names ``fn``'s source reads, each with the attribute chain read through
    it (empty for a function whose source cannot be read)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    found = _REFS.get(id(code))
    if found is None or found[0] is not code:
        source = code_source(code)
        found = _REFS[id(code)] = (code, () if source is None else _refs_of_source(source))
    return found[1]


_MISSING = object()
_STABLE = (ScalarDType, ArrayDType, Intrinsic, Dim3, _Constexpr)
"""The language's own objects: fingerprinted by how they are written."""


def _walk(value: object, attrs: tuple[str, ...]) -> tuple[object, tuple[str, ...]]:
    """Follow ``attrs`` from ``value`` through modules, classes and plain objects; stops at
    a value the language knows (a type, an intrinsic, a number) and returns the rest."""
    for k, attr in enumerate(attrs):
        if isinstance(value, (Dim3, Intrinsic, ScalarDType, ArrayDType, int, float, bool,
                              str, tuple, np.generic)):
            return value, attrs[k:]
        try:
            value = getattr(value, attr)
        except Exception:  # a property that raises: the frontend reports it
            return _MISSING, attrs[k:]
    return value, ()


def fingerprint(value: object, seen: set[int] | None = None) -> str:
    """A text that is equal for two values the frontend would compile alike."""
    if isinstance(value, _STABLE):
        return f"wf:{value!r}"
    seen = set() if seen is None else seen
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, np.generic):
        return f"np.{value.dtype}:{value!r}"
    if isinstance(value, np.dtype):
        return f"dtype:{value}"
    if isinstance(value, (tuple, list)):
        inner = ",".join(fingerprint(v, seen) for v in value)
        return f"{type(value).__name__}:({inner})"
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    fn = getattr(value, "fn", None)
    if fn is not None and type(value).__name__ == "Kernel":
        return f"kernel:{function_key(fn, seen)}"
    if is_device_function(value):
        return f"func:{function_key(value, seen)}"
    if (isinstance(value, type) and value.__module__ == "builtins") or \
            getattr(builtins, getattr(value, "__name__", ""), None) is value:
        return f"builtin:{value.__name__}"
    if isinstance(value, type) and value.__module__.split(".")[0] == "numpy":
        return f"numpy:{value.__name__}"
    if isinstance(value, np.ufunc):
        return f"ufunc:{value.__name__}"
    return f"object:{type(value).__qualname__}@{id(value):x}"


def function_key(fn: Callable, seen: set[int] | None = None) -> str:
    """``fn``'s identity: its qualified name, source, and the fingerprints of the values of
    the free names it reads (recursively; a function already on the path counts by name)."""
    seen = set() if seen is None else seen
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    if id(fn) in seen:
        return f"{name}(recursive)"
    seen.add(id(fn))
    code = getattr(fn, "__code__", None)
    source = (code_source(code) if code is not None else None) or "<no source>"
    h = hashlib.sha256(name.encode())
    h.update(source.encode())
    h.update(environment_key(fn, seen).encode())
    seen.discard(id(fn))
    return h.hexdigest()[:32]


def _resolve(fn: Callable, refs: tuple[FreeRef, ...]) -> list[tuple[object, tuple]]:
    """Each ref's value now (closure, then module globals, then builtins) and the
    attributes left unread (see :func:`_walk`)."""
    closure = {}
    code = getattr(fn, "__code__", None)
    if getattr(fn, "__closure__", None):
        closure = dict(zip(code.co_freevars, fn.__closure__, strict=False))
    module = getattr(fn, "__globals__", {})
    out = []
    for ref in refs:
        cell = closure.get(ref.root)
        value = _MISSING
        if cell is not None:
            try:
                value = cell.cell_contents
            except ValueError:
                value = _MISSING
        if value is _MISSING:
            value = module.get(ref.root, _MISSING)
        if value is _MISSING:
            value = getattr(builtins, ref.root, _MISSING)
        out.append(_walk(value, ref.attrs) if value is not _MISSING else (value, ref.attrs))
    return out


_last: dict[int, tuple[Callable, list, str]] = {}
"""Per function (by id): the values its refs resolved to last time, and their key."""


def environment_key(fn: Callable, seen: set[int] | None = None) -> str:
    """The fingerprints of every free name ``fn`` reads, resolved now, as one text.

    Launches call this every time; when every ref resolves to the very objects it did last
    time, the last key is reused (the values a kernel can fold are immutable: numbers,
    tuples, types, functions)."""
    refs = free_refs(fn)
    if not refs:
        return ""
    resolved = _resolve(fn, refs)
    last = _last.get(id(fn))
    if last is not None and last[0] is fn and len(last[1]) == len(resolved) and all(
            a[0] is b[0] for a, b in zip(last[1], resolved, strict=True)):
        return last[2]
    parts = []
    for ref, (value, rest) in zip(refs, resolved, strict=True):
        shown = ".".join((ref.root, *ref.attrs))
        if value is _MISSING:
            parts.append(f"{shown}=<unresolved .{'.'.join(rest)}>")
        else:
            parts.append(f"{shown}={fingerprint(value, seen)}{''.join('.' + a for a in rest)}")
    key = ";".join(parts)
    if seen is None or not seen:
        _last[id(fn)] = (fn, resolved, key)
    return key
