"""The Numba dialect: ``from warpforge import cuda`` runs kernels written for Numba's CUDA
target unmodified, on either device, through the same frontend.

In kernels, the names are the language's own intrinsics under Numba's spelling
(``cuda.threadIdx`` *is* ``wf.thread_idx``, ``cuda.atomic.add`` *is* ``wf.atomic_add``),
plus the few with Numba's own signatures (``cuda.grid``, ``cuda.shared.array``,
``cuda.shfl_down_sync``...), which :mod:`.frontend.numba_calls` translates. Kernels compile
under Numba's typing rules (:data:`~.frontend.promotion.NUMBA`: integer literals int64,
float literals float64, Python scalars passed as int64/float64). On the host:
``cuda.to_device``, ``device_array(_like)``, ``.copy_to_host()``, ``synchronize``,
``stream`` (accepted, serial), launches ``k[grid, block]``, ``k[grid, block, stream,
shared_bytes]`` and ``k.forall(n)``.

Anything of Numba's API that is not here raises :class:`NumbaFeatureError` naming it (on
the host) or a ``wf.CompileError`` (in a kernel): never an ``AttributeError`` from inside
warpforge.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace

import numpy as np

from ..isa.errors import UsageError, WarpforgeError
from ..simulator import LaunchError
from . import intrinsics as wi
from . import types as wt
from .binding import split_types
from .devices import get_device
from .frontend.promotion import NUMBA
from .func import func as device_function
from .kernel import Kernel


class NumbaFeatureError(WarpforgeError, AttributeError):
    """A part of Numba's CUDA API that warpforge does not provide (also an
    AttributeError, so ``hasattr`` keeps working)."""


def _intrinsic(name: str, spelled: str, params: tuple[str, ...], doc: str) -> wi.Intrinsic:
    return wi.Intrinsic(name, doc, spelled=spelled, params=params)


# --- names in kernels ----------------------------------------------------------------------

threadIdx = wi.thread_idx
blockIdx = wi.block_idx
blockDim = wi.block_dim
gridDim = wi.grid_dim
laneid = wi.SpecialValue("lane_id", "cuda.laneid")
warpsize = wi.warp_size

grid = _intrinsic("grid", "cuda.grid", ("ndim",),
                  "cuda.grid(ndim): the thread's absolute position in the grid: an int for "
                  "ndim 1, a tuple for 2 or 3 (blockIdx * blockDim + threadIdx).")
gridsize = _intrinsic("gridsize", "cuda.gridsize", ("ndim",),
                      "cuda.gridsize(ndim): the number of threads in the grid along each "
                      "axis (blockDim * gridDim), an int or a tuple.")
shared = SimpleNamespace(array=_intrinsic(
    "shared_array", "cuda.shared.array", ("shape", "dtype"),
    "cuda.shared.array(shape, dtype): a CTA-wide shared array; shape 0 is the launch's "
    "dynamic shared memory (k[grid, block, stream, nbytes])."))
local = SimpleNamespace(array=_intrinsic(
    "local_array", "cuda.local.array", ("shape", "dtype"),
    "cuda.local.array(shape, dtype): a per-thread array."))
const = SimpleNamespace(array_like=_intrinsic(
    "const_array_like", "cuda.const.array_like", ("ary",),
    "cuda.const.array_like(ary): the array, read-only (read as global memory)."))

syncthreads = wi.syncthreads
syncthreads_count = wi.syncthreads_count
syncthreads_and = wi.syncthreads_and
syncthreads_or = wi.syncthreads_or
syncwarp = _intrinsic("syncwarp_mask", "cuda.syncwarp", ("mask",),
                      "cuda.syncwarp(mask=0xffffffff): the warp's lanes meet.")
threadfence = wi.threadfence
threadfence_block = wi.threadfence
threadfence_system = wi.threadfence

atomic = SimpleNamespace(
    add=wi.atomic_add, sub=wi.atomic_sub, max=wi.atomic_max, min=wi.atomic_min,
    exch=wi.atomic_exch, cas=wi.atomic_cas, inc=wi.atomic_inc, dec=wi.atomic_dec,
    and_=wi.atomic_and, or_=wi.atomic_or, xor=wi.atomic_xor,
    compare_and_swap=_intrinsic(
        "compare_and_swap", "cuda.atomic.compare_and_swap", ("ary", "old", "val"),
        "cuda.atomic.compare_and_swap(ary, old, val): atomicCAS on ary[0]; returns the "
        "old value."),
)

shfl_sync = _intrinsic("shfl_sync", "cuda.shfl_sync", ("mask", "value", "src_lane"),
                       "cuda.shfl_sync(mask, value, src_lane): value of lane src_lane.")
shfl_up_sync = _intrinsic("shfl_up_sync", "cuda.shfl_up_sync", ("mask", "value", "delta"),
                          "cuda.shfl_up_sync(mask, value, delta): value of lane - delta.")
shfl_down_sync = _intrinsic("shfl_down_sync", "cuda.shfl_down_sync",
                            ("mask", "value", "delta"),
                            "cuda.shfl_down_sync(mask, value, delta): value of lane + delta.")
shfl_xor_sync = _intrinsic("shfl_xor_sync", "cuda.shfl_xor_sync",
                           ("mask", "value", "lane_mask"),
                           "cuda.shfl_xor_sync(mask, value, lane_mask): value of lane ^ "
                           "lane_mask.")
all_sync = _intrinsic("all_sync", "cuda.all_sync", ("mask", "predicate"),
                      "cuda.all_sync(mask, predicate): true in every lane.")
any_sync = _intrinsic("any_sync", "cuda.any_sync", ("mask", "predicate"),
                      "cuda.any_sync(mask, predicate): true in some lane.")
eq_sync = _intrinsic("eq_sync", "cuda.eq_sync", ("mask", "value"),
                     "cuda.eq_sync(mask, value): every lane holds the same value.")
ballot_sync = _intrinsic("ballot_sync", "cuda.ballot_sync", ("mask", "predicate"),
                         "cuda.ballot_sync(mask, predicate): bit k set where lane k's "
                         "predicate holds.")
popc = wi.popc
clz = wi.clz
brev = wi.brev
ffs = wi.ffs
fma = wi.fma
selp = wi.select

NUMBA_INTRINSICS: dict[str, wi.Intrinsic] = {
    obj.name: obj for obj in (
        grid, gridsize, shared.array, local.array, const.array_like, syncwarp,
        atomic.compare_and_swap, shfl_sync, shfl_up_sync, shfl_down_sync, shfl_xor_sync,
        all_sync, any_sync, eq_sync, ballot_sync)}
"""The Numba front's intrinsics with signatures of their own, by handler name."""

# Numba's scalar types: the language's own (casts in kernels, dtypes of arrays).
float16, float32, float64 = wt.f16, wt.f32, wt.f64
int8, int16, int32, int64 = wt.i8, wt.i16, wt.i32, wt.i64
uint8, uint16, uint32, uint64 = wt.u8, wt.u16, wt.u32, wt.u64
boolean = bool_ = wt.bool_
f4, f8, i4, i8, u4, u8 = float32, float64, int32, int64, uint32, uint64
void = None
TYPES: dict[str, object] = {
    "float16": float16, "float32": float32, "float64": float64, "int8": int8,
    "int16": int16, "int32": int32, "int64": int64, "uint8": uint8, "uint16": uint16,
    "uint32": uint32, "uint64": uint64, "boolean": boolean, "bool_": boolean, "f4": f4,
    "f8": f8, "i4": i4, "i8": i8, "u4": u4, "u8": u8, "intp": int64, "uintp": uint64}
"""Numba's type names."""


# --- signatures ----------------------------------------------------------------------------

_SIG = re.compile(r"^\s*(?:(\w+)\s*)?\((.*)\)\s*$")


def parse_signature(sig: object) -> list | None:
    """The argument types of a Numba signature: ``"void(float32[:], int32)"``, a list of
    such strings (the first is used), or a tuple of types; None for none."""
    if sig is None:
        return None
    if isinstance(sig, list):
        return parse_signature(sig[0]) if sig else None
    if isinstance(sig, tuple):
        return list(sig)
    if not isinstance(sig, str):
        raise UsageError(f"cuda.jit: cannot read the signature {sig!r}")
    found = _SIG.match(sig)
    if found is None:
        raise UsageError(f"cuda.jit: cannot read the signature {sig!r} (write it as "
                         "'void(float32[:], int32)')")
    body = found.group(2).strip()
    out = []
    for part in split_types(body):
        name, _, dims = part.replace(" ", "").partition("[")
        scalar = TYPES.get(name)
        if scalar is None:
            raise UsageError(f"cuda.jit: unknown type {name!r} in the signature {sig!r}")
        if not dims:
            out.append(scalar)
            continue
        ndim = len(dims.rstrip("]").split(","))
        out.append(wt.ArrayDType(scalar, ndim))
    return out


# --- kernels -------------------------------------------------------------------------------

class NumbaKernel:
    """A ``@cuda.jit`` kernel: launched ``k[grid, block]``, ``k[grid, block, stream]``,
    ``k[grid, block, stream, shared_bytes]`` or ``k.forall(n)``, on the current device
    (``wf.set_device``, ``WARPFORGE_DEVICE``)."""

    def __init__(self, fn: Callable, signature: list | None = None) -> None:
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self.kernel = Kernel(fn, dialect=NUMBA)
        self.signature = signature
        if signature is not None:
            runtime = [p for p in self.kernel.params if not p.is_constexpr]
            if len(signature) != len(runtime):
                raise UsageError(f"cuda.jit: {fn.__name__} takes {len(runtime)} arguments "
                                 f"but its signature gives {len(signature)} types")
            self.kernel.params = [type(p)(p.name, t) for p, t in zip(runtime, signature,
                                                                      strict=True)]

    def __repr__(self) -> str:
        return f"<warpforge cuda.jit kernel {self.__name__}>"

    def __call__(self, *args, **kwargs):
        raise LaunchError(f"kernel {self.__name__}: the launch configuration is missing; "
                          f"launch it as {self.__name__}[blocks, threads](...)")

    def __getitem__(self, config) -> Callable[..., None]:
        if not isinstance(config, tuple) or not 2 <= len(config) <= 4:
            raise LaunchError(f"launch {self.__name__} as {self.__name__}[blocks, threads], "
                              f"[blocks, threads, stream] or [blocks, threads, stream, "
                              f"shared_bytes]")
        grid_, block = config[0], config[1]
        shared_bytes = config[3] if len(config) == 4 else 0

        def launcher(*args) -> None:
            self.launch(grid_, block, args, shared_bytes)
        return launcher

    def forall(self, ntasks: int, tpb: int = 0, stream: object = 0,
               sharedmem: int = 0) -> Callable[..., None]:
        """A launcher covering ``ntasks`` threads (``tpb`` a block, 128 by default)."""
        threads = int(tpb) if tpb else 128
        blocks = max(1, -(-int(ntasks) // threads))

        def launcher(*args) -> None:
            self.launch(blocks, threads, args, sharedmem)
        return launcher

    def launch(self, grid_, block, args: Sequence[object], shared_bytes: int = 0) -> None:
        """Run on the current device: device arrays pass their host arrays, Python
        numbers pass as int64/float64 (Numba's types) unless the signature says."""
        values = [self._argument(a) for a in args]
        self.kernel.launch(grid_, block, *values, device=get_device(),
                           shared_bytes=shared_bytes)

    def _argument(self, value: object) -> object:
        if isinstance(value, DeviceNDArray):
            return value._array
        if self.signature is None and isinstance(value, (bool, np.bool_)):
            return value
        if self.signature is None and isinstance(value, int):
            return np.int64(value)
        if self.signature is None and isinstance(value, float):
            return np.float64(value)
        return value


def jit(func_or_sig=None, device: bool = False, inline: bool = False,
        fastmath: bool = False, debug: bool = False, lineinfo: bool = False,
        opt: bool = True, cache: bool = False, link: object = None, **options):
    """``@cuda.jit``, ``@cuda.jit("void(float32[:])")``, ``@cuda.jit(device=True)``.
    ``inline``, ``fastmath``, ``debug``, ``lineinfo``, ``opt`` and ``cache`` are accepted
    (device functions are always inlined; math is never fast-math)."""
    if options:
        raise NumbaFeatureError(f"cuda.jit: the option(s) {', '.join(options)} are not "
                                "supported by warpforge")
    if link:
        raise NumbaFeatureError("cuda.jit(link=...): linking external code is not supported "
                                "by warpforge")

    def decorate(fn: Callable, sig=None):
        if device:
            return device_function(fn)
        return NumbaKernel(fn, parse_signature(sig))

    if callable(func_or_sig) and not isinstance(func_or_sig, (str, list, tuple)):
        return decorate(func_or_sig)
    return lambda fn: decorate(fn, func_or_sig)


# --- host side -----------------------------------------------------------------------------

class DeviceNDArray:
    """An array "on the device" (Numba's ``DeviceNDArray``): warpforge's devices take host
    arrays, so this holds a private numpy copy that launches update in place."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    size = property(lambda self: self._array.size)
    ndim = property(lambda self: self._array.ndim)
    strides = property(lambda self: self._array.strides)
    nbytes = property(lambda self: self._array.nbytes)

    def __len__(self) -> int:
        return len(self._array)

    def __repr__(self) -> str:
        return f"<warpforge DeviceNDArray shape={self.shape} dtype={self.dtype}>"

    def copy_to_host(self, ary: np.ndarray | None = None, stream: object = 0) -> np.ndarray:
        """A host copy (into ``ary`` when given)."""
        if ary is None:
            return self._array.copy()
        ary[...] = self._array
        return ary

    def copy_to_device(self, ary: object, stream: object = 0) -> None:
        """Overwrite with ``ary`` (a host or device array)."""
        self._array[...] = ary._array if isinstance(ary, DeviceNDArray) else ary

    def __getitem__(self, index):
        part = self._array[index]
        return DeviceNDArray(part) if isinstance(part, np.ndarray) else part

    def __setitem__(self, index, value) -> None:
        self._array[index] = value._array if isinstance(value, DeviceNDArray) else value

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def is_c_contiguous(self) -> bool:
        """True for a row-major array."""
        return bool(self._array.flags.c_contiguous)


def to_device(obj, stream: object = 0, copy: bool = True, to: object = None):
    """A device array holding a copy of ``obj`` (or ``to`` filled with it)."""
    if to is not None:
        to.copy_to_device(obj)
        return to
    return DeviceNDArray(np.array(obj, copy=True))


def device_array(shape, dtype=np.float64, strides=None, order: str = "C",
                 stream: object = 0) -> DeviceNDArray:
    """A new device array (zero-filled here; Numba's starts undefined)."""
    return DeviceNDArray(np.zeros(shape, _numpy_dtype(dtype), order=order))


def device_array_like(ary, stream: object = 0) -> DeviceNDArray:
    """A new device array of ``ary``'s shape and dtype."""
    return device_array(ary.shape, ary.dtype)


pinned_array = mapped_array = managed_array = device_array


def _numpy_dtype(dtype: object) -> np.dtype:
    if isinstance(dtype, wt.ScalarDType):
        return dtype.ir.np_dtype
    return np.dtype(dtype)


class Stream:
    """``cuda.stream()``: accepted; work runs in order, synchronously."""

    def synchronize(self) -> None:
        """Nothing to wait for: launches are synchronous."""

    @contextlib.contextmanager
    def auto_synchronize(self) -> Iterator[Stream]:
        """A context manager, as Numba's."""
        yield self


def stream() -> Stream:
    """A stream (launches run in order, synchronously)."""
    return Stream()


default_stream = legacy_default_stream = per_thread_default_stream = stream


def synchronize() -> None:
    """Nothing to wait for: launches are synchronous."""


def is_available() -> bool:
    """True: warpforge's devices are always there."""
    return True


def select_device(device_id: int = 0) -> object:
    """Accepted; the current warpforge device stays."""
    return get_device()


def get_current_device() -> object:
    """The current warpforge device."""
    return get_device()


def detect() -> bool:
    """Print the device in use, as Numba's ``cuda.detect()`` lists GPUs."""
    print(f"warpforge device: {get_device()}")
    return True
