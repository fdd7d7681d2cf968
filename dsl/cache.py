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
decoded is ignored and rebuilt. Every entry carries a checksum over its metadata and its
payload, and its metadata is checked against a schema (:data:`SIM_META`,
:data:`CPU_META`) before use; anything else is removed and rebuilt.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import importlib.metadata
import json
import os
import pathlib
import stat
import tempfile
from collections.abc import Callable
from functools import lru_cache

from ..isa import AssemblyError, Program, decode, knobs
from .func import is_device_function
from .source import code_source

FORMAT = 2
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
    code = getattr(fn, "__code__", None)
    text = code_source(code) if code is not None else None
    return text if text is not None else f"<no source: {fn.__module__}.{fn.__qualname__}>"


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
    """The cache folder (``WARPFORGE_CACHE_DIR``; its default when empty), or None when
    caching is off."""
    if not knobs.get("WARPFORGE_CACHE"):
        return None
    folder = str(knobs.get("WARPFORGE_CACHE_DIR")).strip()
    if not folder:
        folder = str(knobs.KNOBS["WARPFORGE_CACHE_DIR"].default)
    return pathlib.Path(folder).expanduser()


MAX_ENTRY_BYTES = 256 << 20
"""An entry larger than this is not read (it cannot be one of ours)."""

# --- entry schemas -------------------------------------------------------------------------
# A schema is a type, a tuple of alternatives, a list ``[item]`` (a list of items), a
# fixed-length ``("tuple", a, b, ...)``, a dict of required keys, or a predicate.

_STR, _INT, _BOOL = str, int, bool
_NONNEG = ("check", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)
_LANES = ("check", lambda v: v in (8, 16, 32) and not isinstance(v, bool))
_STAGE = ("tuple", _STR, _STR)
_PARAM = ("tuple", _STR, ("check", lambda v: v in ("array", "scalar")), _STR, _NONNEG)
_LOC = ("tuple", _STR, _NONNEG, _NONNEG)

SIM_META = {"stages": [_STAGE], "params": [_PARAM], "written": [_STR],
            "max_threads": ("or", None, _NONNEG)}
"""What a simulator entry's metadata holds."""
CPU_META = {
    **SIM_META, "entry": _STR, "arena_bytes": _NONNEG, "lanes": _LANES,
    "shared_bytes": _NONNEG, "block": ("tuple", _NONNEG, _NONNEG, _NONNEG),
    "isa_params": [("tuple", _STR, _STR)], "fault_sites": [("or", None, _LOC)],
    "fault_what": [_STR], "fault_space": [_STR], "shares_grid": _BOOL, "llvm_ir": _STR,
    "local_bytes": _NONNEG,
}
"""What a CPU entry's metadata holds."""


def conforms(value: object, schema: object) -> bool:
    """True when ``value`` has the shape ``schema`` describes (see the comment above)."""
    if schema is None:
        return value is None
    if isinstance(schema, dict):
        return isinstance(value, dict) and all(
            k in value and conforms(value[k], v) for k, v in schema.items())
    if isinstance(schema, list):
        return isinstance(value, list) and all(conforms(v, schema[0]) for v in value)
    if isinstance(schema, tuple):
        kind, *parts = schema
        if kind == "check":
            return bool(parts[0](value))
        if kind == "or":
            return any(conforms(value, p) for p in parts)
        return isinstance(value, list) and len(value) == len(parts) and all(
            conforms(v, p) for v, p in zip(value, parts, strict=True))
    if schema is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, schema)


def _checksum(meta: object, payload: str) -> str:
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    h.update(b"\0")
    h.update(payload.encode())
    return h.hexdigest()


def _read_entry(key: str, payload_key: str, schema: dict) -> tuple[bytes, dict] | None:
    """The payload bytes and metadata of entry ``key``, or None. An entry that is not a
    regular file of a sane size, not JSON, of another format or key, whose checksum (over
    the metadata and the payload) fails, or whose metadata does not match ``schema`` is
    removed, so it is rebuilt: never an exception."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        info = os.lstat(path)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            raise ValueError("not a regular file of a sane size")
        with open(path, "rb") as f:
            entry = json.loads(f.read(MAX_ENTRY_BYTES + 1))
        if not isinstance(entry, dict) or entry.get("format") != FORMAT \
                or entry.get("key") != key:
            raise ValueError("another format or key")
        meta, payload = entry.get("meta"), entry.get(payload_key)
        if not isinstance(payload, str) or entry.get("checksum") != _checksum(meta, payload):
            raise ValueError("checksum")
        if not conforms(meta, schema):
            raise ValueError("metadata")
        return base64.b64decode(payload, validate=True), meta
    except (OSError, ValueError, TypeError, RecursionError, binascii.Error):
        _remove(path)
        return None


def _remove(path: pathlib.Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def load(key: str) -> tuple[Program, dict] | None:
    """The cached program and metadata for ``key``, or None (missing or invalid: removed)."""
    found = _read_entry(key, "program", SIM_META)
    if found is None:
        return None
    data, meta = found
    try:
        return decode(data), meta
    except AssemblyError:
        folder = cache_dir()
        if folder is not None:
            _remove(folder / f"{key}.json")
        return None


def store(key: str, program: Program, meta: dict) -> None:
    """Write the entry for ``key`` atomically (temporary file, then rename)."""
    payload = base64.b64encode(program.encode()).decode()
    write_json(key, {"format": FORMAT, "key": key, "meta": meta, "program": payload,
                 "checksum": _checksum(meta, payload)})


def load_object(key: str) -> tuple[bytes, dict] | None:
    """The cached native object file and metadata for ``key``, or None (missing or
    invalid: removed)."""
    return _read_entry(key, "object", CPU_META)


def store_object(key: str, data: bytes, meta: dict) -> None:
    """Write the native entry for ``key`` (object file ``data`` and ``meta``) atomically."""
    payload = base64.b64encode(data).decode()
    write_json(key, {"format": FORMAT, "key": key, "meta": meta, "object": payload,
                 "checksum": _checksum(meta, payload)})


def write_json(key: str, entry: dict, sub: str = "") -> None:
    """Write ``entry`` as ``<cache>/<sub>/<key>.json`` atomically (a temporary file, then
    a rename); a cache that cannot be written is skipped."""
    folder = cache_dir()
    if folder is None:
        return
    if sub:
        folder = folder / sub
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(entry, out)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        if tmp is not None:  # a cache that cannot be written only costs a recompile
            _remove(pathlib.Path(tmp))
