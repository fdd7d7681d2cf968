"""The on-disk kernel cache: content-addressed, written atomically, never trusted blindly.

An entry's key hashes everything its code depends on: the kernel's source, file and first
line (the program's ``.loc`` lines name them) and those of every ``@wf.func`` it can
reach, the values of the free names they read (module globals, closure variables: see
:mod:`.freevars`), the compiler's own version and the hash of its files, the
specialization (argument types, constexpr values) and the target. An entry is one
JSON file holding the program in the ISA's binary format (decoded with its checks, never
unpickled) and the IR after every pass (for ``WARPFORGE_DUMP`` on cache hits). A CPU
entry (:func:`store_object`) holds the host object file instead, with its SHA-256, and
metadata to load and call it (entry symbol, arena size, lanes, fault sites, LLVM IR); its
key also names the block, lanes, checking, contiguity and the host CPU. Entries are
written to a temporary file and renamed into place; an entry that cannot be read or
decoded is ignored and rebuilt.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import inspect
import json
import os
import pathlib
import tempfile
from collections.abc import Callable
from functools import lru_cache

from ..isa import AssemblyError, Program, decode, knobs
from .func import is_device_function

FORMAT = 1
"""Version of the entry layout; part of every key."""


@lru_cache(maxsize=1)
def compiler_hash() -> str:
    """A hash of the files of every layer a compiled kernel depends on."""
    root = pathlib.Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for layer in ("isa", "compiler", "dsl"):
        for path in sorted((root / layer).rglob("*")):
            if path.suffix in (".py", ".lark"):
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def dependencies(fn: Callable) -> list[Callable]:
    """``fn`` and every ``@wf.func`` it can reach through the names its code uses."""
    seen: dict[int, Callable] = {}
    stack = [fn]
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen[id(f)] = f
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        names = set(code.co_names) | set(code.co_freevars)
        scope = dict(getattr(f, "__globals__", {}))
        for cell_name, cell in zip(code.co_freevars, f.__closure__ or (), strict=False):
            try:
                scope[cell_name] = cell.cell_contents
            except ValueError:
                continue
        stack.extend(obj for name in names
                     if is_device_function(obj := scope.get(name)))
    return list(seen.values())


def source_of(fn: Callable) -> str:
    """The source text of ``fn`` (its qualified name when the source is unavailable)."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return f"<no source: {fn.__module__}.{fn.__qualname__}>"


@lru_cache(maxsize=1)
def _version() -> str:
    try:
        return importlib.metadata.version("warpforge")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def where(fn: Callable) -> str:
    """The file and first line of ``fn``, which the compiled program's locations name."""
    code = getattr(fn, "__code__", None)
    return f"{getattr(code, 'co_filename', '?')}:{getattr(code, 'co_firstlineno', 0)}"


def cache_key(fn: Callable, specialization: tuple, target: str, environment: str = "") -> str:
    """The content hash naming ``fn``'s entry for ``specialization`` on ``target``, with
    the fingerprint of the values its free names hold (:mod:`.freevars`)."""
    h = hashlib.sha256()
    for part in (str(FORMAT), _version(), compiler_hash(), target, repr(specialization),
                 environment):
        h.update(part.encode())
        h.update(b"\0")
    for dep in sorted(dependencies(fn), key=lambda f: f.__qualname__):
        h.update(dep.__qualname__.encode())
        h.update(source_of(dep).encode())
        h.update(where(dep).encode())  # programs carry .loc lines: file and line numbers
    return h.hexdigest()


def cache_dir() -> pathlib.Path | None:
    """The cache folder (``WARPFORGE_CACHE_DIR``), or None when caching is off."""
    if not knobs.get("WARPFORGE_CACHE"):
        return None
    return pathlib.Path(str(knobs.get("WARPFORGE_CACHE_DIR"))).expanduser()


def load(key: str) -> tuple[Program, dict] | None:
    """The cached program and metadata for ``key``, or None (missing or unreadable)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        entry = json.loads(path.read_text())
        if entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        program = decode(base64.b64decode(entry["program"], validate=True))
        return program, entry["meta"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AssemblyError):
        return None  # a corrupt entry: ignored, and rebuilt by the caller


def store(key: str, program: Program, meta: dict) -> None:
    """Write the entry for ``key`` atomically (temporary file, then rename)."""
    _write(key, {"format": FORMAT, "key": key, "meta": meta,
                 "program": base64.b64encode(program.encode()).decode()})


def load_object(key: str) -> tuple[bytes, dict] | None:
    """The cached native object file and metadata for ``key``, or None (missing,
    unreadable, or an object whose hash does not match)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        entry = json.loads((folder / f"{key}.json").read_text())
        if entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        data = base64.b64decode(entry["object"], validate=True)
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            return None
        return data, entry["meta"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a corrupt entry: ignored, and rebuilt by the caller


def store_object(key: str, data: bytes, meta: dict) -> None:
    """Write the native entry for ``key`` (object file ``data`` and ``meta``) atomically."""
    _write(key, {"format": FORMAT, "key": key, "meta": meta,
                 "sha256": hashlib.sha256(data).hexdigest(),
                 "object": base64.b64encode(data).decode()})


def _write(key: str, entry: dict) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(entry, out)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return  # a cache that cannot be written only costs a recompile
