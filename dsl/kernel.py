"""``@wf.kernel``: compiling a Python function per specialization, and launching it.

``k[grid, block](*args, **constexprs)`` and ``k.launch(grid, block, *args, device=None,
**constexprs)`` bind the arguments (:mod:`.binding`), compile the specialization once
(frontend -> optimization pipeline -> SASS backend for the simulator, LLVM backend for the
CPU), keep it in memory and on disk (:mod:`.cache`), and run it on the device. The device
picks the target: a :class:`~warpforge.simulator.Simulator` runs ``"sim"`` programs, a
:class:`~.cpu.CPU` runs ``"cpu"`` native code, specialized further on the block shape, the
device's lanes and checking, which array arguments have unit innermost stride, and the host
CPU. ``k.compile(...)`` returns the :class:`CompiledKernel` with every layer to look through.
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..compiler.abi import ArrayFacts, array_arguments
from ..compiler.analysis.alignment import trailing_zeros
from ..compiler.analysis.effects import written_parameters
from ..compiler.errors import CompilerError
from ..compiler.pipeline import optimize
from ..compiler.sass import compile_function
from ..isa import Program, knobs
from ..isa.abi import GLOBAL_ALIGN
from ..isa.errors import UsageError, WarpforgeError
from ..isa.program import Param, SourceLoc
from ..simulator import DeviceArray, LaunchError, LaunchResult
from ..simulator.launch import normalize_dims
from . import cache
from .binding import Bound, Parameter, bind, bind_types, parameters
from .cpu import CPU, NativeKernel
from .devices import Device, get_device, resolve_device
from .errors import CompileError, compile_error, hide_compiler_frames, hide_internal_frames
from .freevars import environment_key
from .frontend import build_function
from .frontend.promotion import WARPFORGE, Dialect
from .types import ArrayDType

if TYPE_CHECKING:
    from ..compiler.ir import Function

TARGETS = ("sim", "cpu")
"""Compilation targets available: the simulator's SASS-like programs, native CPU code."""

CPU_DEFAULT_BLOCK = (128, 1, 1)
"""The block a CPU kernel is compiled for when ``compile`` names none (launches always
do)."""


LAUNCH_HOOKS: list[Callable[[LaunchResult], None]] = []
"""Called with every kernel launch's result once its arrays are updated (``warpforge
profile`` and ``warpforge numba --profile`` print reports through it)."""


@dataclass
class CompiledKernel:
    """One specialization of a kernel, compiled: every layer to look through.

    ``ir`` is the IR after the optimization pipeline, ``stages`` the IR after each pass
    (``(pass name, text)``, the input first), ``registers`` and ``shared_bytes`` its
    resources. ``params`` lists the kernel's runtime parameters as
    ``(name, kind, dtype, ndim)``.

    Target ``"sim"``: ``program`` is the :class:`~warpforge.isa.Program`, ``asm`` its
    SASS-like text. Target ``"cpu"``: ``program`` is None, ``native`` the loaded
    :class:`~.cpu.NativeKernel`, ``llvm_ir`` the optimized LLVM IR, ``native_asm`` the host
    assembly, ``lanes`` the SIMD width, ``registers`` 0.
    """

    name: str
    target: str
    program: Program | None
    stages: list[tuple[str, str]]
    params: list[tuple[str, str, str, int]]
    key: str = ""
    from_cache: bool = False
    written: tuple[str, ...] = ()
    """The array parameters the kernel may write (stores and atomics)."""
    max_threads: int | None = None
    """The kernel's ``wf.launch_bounds``: the most threads a block may have (None: no
    bound)."""
    _asm: str | None = field(default=None, repr=False)
    native: NativeKernel | None = field(default=None, repr=False)
    _llvm_ir: str | None = field(default=None, repr=False)
    _native_asm: str | None = field(default=None, repr=False)

    @property
    def ir(self) -> str:
        """The IR after the last pass."""
        return self.stages[-1][1] if self.stages else ""

    @property
    def asm(self) -> str:
        """The canonical assembly text (target ``"sim"``)."""
        if self.program is None:
            raise UsageError(f"kernel {self.name} was compiled for target {self.target!r}, "
                             "which has no SASS-like assembly; compile with target='sim' "
                             "for .asm, or read .llvm_ir / .native_asm")
        if self._asm is None:
            self._asm = relative_locs(str(self.program))
        return self._asm

    @property
    def llvm_ir(self) -> str:
        """The optimized LLVM IR (target ``"cpu"``)."""
        if self._llvm_ir is None:
            raise UsageError(f"kernel {self.name} was compiled for target {self.target!r}; "
                             "compile with target='cpu' for .llvm_ir and .native_asm")
        return self._llvm_ir

    @property
    def native_asm(self) -> str:
        """The host assembly of :attr:`llvm_ir` (target ``"cpu"``; made when first asked)."""
        if self._native_asm is None:
            from ..compiler.llvm.jit import emit_assembly
            self._native_asm = emit_assembly(self.llvm_ir)
        return self._native_asm

    @property
    def lanes(self) -> int | None:
        """SIMD lanes per thread group on the CPU (None for the simulator)."""
        return self.native.lanes if self.native is not None else None

    @property
    def registers(self) -> int:
        """Registers per thread (0 on the CPU, which has no register budget to report)."""
        return self.program.registers if self.program is not None else 0

    @property
    def shared_bytes(self) -> int:
        """Static shared memory per CTA."""
        if self.native is not None:
            return self.native.shared_bytes
        return self.program.shared_bytes if self.program is not None else 0


_LOC = re.compile(r'^\.loc "([^"]*)"', re.MULTILINE)


def relative_locs(text: str) -> str:
    """Assembly text with each ``.loc`` file under the working directory written relative
    to it (what a user reads and diffs; the program itself keeps absolute paths, which the
    simulator's messages and the cache need)."""
    cwd = os.getcwd()

    def shorten(m: re.Match) -> str:
        path = m.group(1)
        if os.path.isabs(path) and path.startswith(cwd + os.sep):
            path = os.path.relpath(path, cwd)
        return f'.loc "{path}"'
    return _LOC.sub(shorten, text)


def _meta(stages: list, params: list, written: tuple[str, ...],
          max_threads: int | None) -> dict:
    return {"stages": [list(s) for s in stages], "params": [list(p) for p in params],
            "written": list(written), "max_threads": max_threads}


def _param_list(bound: Bound) -> list[tuple[str, str, str, int]]:
    out = []
    for name, t in bound.types.items():
        if isinstance(t, ArrayDType):
            out.append((name, "array", t.elem.ir.np_dtype.str, t.ndim))
        else:
            out.append((name, "scalar", t.ir.np_dtype.str, 0))
    return out


def _dump(compiled: CompiledKernel) -> None:
    folder = str(knobs.get("WARPFORGE_DUMP"))
    if not folder:
        return
    out = pathlib.Path(folder) / f"{compiled.name}-{compiled.key[:12]}"
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, text) in enumerate(compiled.stages):
        (out / f"{i:02d}-{name}.ir").write_text(text)
    if compiled.program is not None:
        (out / f"{compiled.name}.sass").write_text(compiled.asm)
    if compiled.native is not None:
        (out / f"{compiled.name}.ll").write_text(compiled.llvm_ir)
        (out / f"{compiled.name}.s").write_text(compiled.native_asm)


@dataclass(frozen=True)
class CpuSpec:
    """What a CPU build is specialized on besides the argument types and constexprs: the
    block shape, SIMD lanes, bounds checking, and per array parameter (in order) whether
    its innermost stride is 1."""

    block: tuple[int, int, int]
    lanes: int
    checked: bool
    contiguous: tuple[bool, ...]


def _is_contiguous(value: object) -> bool:
    """True when ``value``'s innermost axis has unit stride (or one element at most); a
    value without strides (no array given) is assumed to."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return True
    return value.strides[-1] == value.itemsize or value.shape[-1] <= 1


def cpu_spec(bound: Bound, block: object, device: CPU | None = None) -> CpuSpec:
    """The CPU specialization of ``bound`` for ``block`` (default
    :data:`CPU_DEFAULT_BLOCK`) on ``device`` (default: the current device when it is a
    CPU, else a default ``CPU()``)."""
    dims = normalize_dims(CPU_DEFAULT_BLOCK if block is None else block, "block")
    if device is None:
        current = get_device()
        device = current if isinstance(current, CPU) else CPU(threads=1)
    contiguous = tuple(_is_contiguous(bound.values.get(name))
                       for name, t in bound.types.items() if isinstance(t, ArrayDType))
    return CpuSpec(dims, device.lanes, device.checked, contiguous)


VECTOR_BYTES = 16
"""Simulator builds are specialized on whether each array's outer strides are multiples of
this many bytes (the widest vector access), as Triton specializes on divisibility by 16."""


def sim_facts(bound: Bound) -> tuple[tuple[str, ArrayFacts], ...]:
    """What a simulator build of ``bound`` may assume of each array parameter (by name):
    launches pass it C-contiguous (unit innermost stride) at the start of an allocation
    (``GLOBAL_ALIGN``), and its outer strides are multiples of :data:`VECTOR_BYTES` or
    not. A parameter without a value (``compile_types``) is taken as aligned."""
    out = []
    for name, t in bound.types.items():
        if not isinstance(t, ArrayDType):
            continue
        size = t.elem.ir.itemsize
        shape = getattr(bound.values.get(name), "shape", None)
        aligned = shape is None or all(
            s * size % VECTOR_BYTES == 0 for s in _contiguous_strides(shape)[:-1])
        out.append((name, ArrayFacts(True, trailing_zeros(GLOBAL_ALIGN),
                                     trailing_zeros(VECTOR_BYTES if aligned else size))))
    return tuple(out)


def _native_meta(stages: list, params: list, native: NativeKernel, llvm_ir: str,
                 max_threads: int | None) -> dict:
    return {**_meta(stages, params, native.written, max_threads), "entry": native.function.name,
            "arena_bytes": native.arena_bytes, "lanes": native.lanes,
            "shared_bytes": native.shared_bytes, "block": list(native.block),
            "isa_params": [[p.name, p.type] for p in native.params],
            "fault_sites": [None if loc is None else [loc.file, loc.line, loc.col]
                            for loc in native.fault_sites],
            "fault_what": list(native.fault_what),
            "fault_space": list(native.fault_space), "shares_grid": native.shares_grid,
            "local_bytes": native.local_bytes,
            "llvm_ir": llvm_ir}


def _native_from_meta(name: str, meta: dict, function) -> NativeKernel:
    return NativeKernel(
        name, function, tuple(Param(n, t) for n, t in meta["isa_params"]),
        tuple(meta["block"]), int(meta["lanes"]), int(meta["arena_bytes"]),
        int(meta["shared_bytes"]),
        tuple(None if s is None else SourceLoc(s[0], int(s[1]), int(s[2]))
              for s in meta["fault_sites"]),
        tuple(meta["fault_what"]), tuple(meta["fault_space"]), bool(meta["shares_grid"]),
        tuple(meta["written"]), int(meta["local_bytes"]))


def _user_facing(method: Callable) -> Callable:
    """Re-raise a CompileError from ``method`` with only the user's frames in its traceback
    (the frames below the user's call are the compiler's, not theirs), and any other
    warpforge error (a fault, a bad launch) with warpforge's frames removed."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except CompileError as err:
            hide_compiler_frames(err)
            raise
        except WarpforgeError as err:  # faults and launch errors end at the user's line
            hide_internal_frames(err)
            raise
    return wrapper


class Kernel:
    """A ``@wf.kernel`` function: compiled per specialization, launched on a device."""

    def __init__(self, fn: Callable, dialect: Dialect = WARPFORGE) -> None:
        self.fn = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self.dialect = dialect
        """The typing rules its source is written under (Numba's for ``cuda.jit``)."""
        self.params: list[Parameter] = parameters(fn)
        self._compiled: dict[tuple, CompiledKernel] = {}

    def __repr__(self) -> str:
        return f"<warpforge kernel {self.__name__}>"

    def __call__(self, *args, **kwargs):
        raise LaunchError(f"kernel {self.__name__} needs a launch configuration: "
                          f"{self.__name__}[grid, block](...) or "
                          f"{self.__name__}.launch(grid, block, ...)")

    # --- compiling ------------------------------------------------------------------------

    def _bind(self, args: Sequence[object], kwargs: dict) -> Bound:
        return bind(self.__name__, self.params, args, kwargs)

    def _compile_bound(self, bound: Bound, target: str,
                       cpu: CpuSpec | None = None) -> CompiledKernel:
        """The compiled specialization (from memory, the disk cache, or built); ``cpu``
        specializes a ``"cpu"`` build further (default: :func:`cpu_spec` for the default
        block)."""
        if target not in TARGETS:
            raise UsageError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
        spec = (bound.key(), self.dialect.name)
        if target == "sim":
            facts = sim_facts(bound)
            spec += (facts,)
        if target == "cpu" and cpu is None:
            cpu = cpu_spec(bound, None)
        env = environment_key(self.fn)
        memo = (spec, target, env) if target == "sim" else (spec, target, env, cpu)
        compiled = self._compiled.get(memo)
        if compiled is None:
            try:
                if target == "sim":
                    compiled = self._build(bound, spec, target, env, dict(facts))
                else:
                    compiled = self._build_cpu(bound, spec, cpu, env)
            except CompilerError as err:
                raise compile_error(err, self.__name__, target) from None
            self._compiled[memo] = compiled
        _dump(compiled)
        return compiled

    def _frontend(self, bound: Bound) -> tuple[Function, list[tuple[str, str]]]:
        """The kernel's IR for ``bound``, optimized, and the IR after each pass."""
        func = build_function(self.fn, bound.types, bound.constexprs, self.dialect)
        stages: list[tuple[str, str]] = []
        optimize(func, dump=lambda name, text: stages.append((name, text)),
                 module=getattr(func, "module", None))
        return func, stages

    def _build_cpu(self, bound: Bound, spec: tuple, cpu: CpuSpec, env: str) -> CompiledKernel:
        # Imported here: the LLVM backend loads llvmlite's native library, which programs
        # that only simulate need not pay for.
        from ..compiler.llvm import jit
        key = cache.cache_key(self.fn, (spec, cpu.block, cpu.lanes, cpu.checked,
                                        cpu.contiguous, jit.host_signature()), "cpu", env)
        hit = cache.load_object(key)
        if hit is not None:
            data, meta = hit
            native = _native_from_meta(self.__name__, meta, jit.load(data, meta["entry"]))
            return CompiledKernel(self.__name__, "cpu", None,
                                  [tuple(s) for s in meta["stages"]],
                                  [tuple(p) for p in meta["params"]], key, True,
                                  native=native, _llvm_ir=meta["llvm_ir"],
                                  written=tuple(meta["written"]),
                                  max_threads=meta["max_threads"])
        from ..compiler.llvm import lower_kernel
        func, stages = self._frontend(bound)
        lowered = lower_kernel(func, name=self.__name__, block=cpu.block, lanes=cpu.lanes,
                               contiguous=cpu.contiguous, checked=cpu.checked,
                               vector_isas=jit.vector_isas())
        llvm_ir = jit.optimize(lowered.module)
        data = jit.emit_object(llvm_ir)
        native = NativeKernel(self.__name__, jit.load(data, lowered.entry),
                              tuple(lowered.params), cpu.block, lowered.lanes,
                              lowered.arena_bytes, lowered.shared_bytes,
                              tuple(lowered.fault_sites), tuple(lowered.fault_what),
                              tuple(lowered.fault_space), shares_grid=True,
                              written=written_parameters(func),
                              local_bytes=lowered.local_bytes)
        params = _param_list(bound)
        max_threads = func.attrs.get("max_threads")
        cache.store_object(key, data, _native_meta(stages, params, native, llvm_ir,
                                                   max_threads))
        return CompiledKernel(self.__name__, "cpu", None, stages, params, key,
                              native=native, _llvm_ir=llvm_ir, written=native.written,
                              max_threads=max_threads)

    def _build(self, bound: Bound, spec: tuple, target: str, env: str,
               arrays: dict[str, ArrayFacts]) -> CompiledKernel:
        key = cache.cache_key(self.fn, spec, target, env)
        hit = cache.load(key)
        if hit is not None:
            program, meta = hit
            return CompiledKernel(self.__name__, target, program,
                                  [tuple(s) for s in meta["stages"]],
                                  [tuple(p) for p in meta["params"]], key, True,
                                  written=tuple(meta["written"]),
                                  max_threads=meta["max_threads"])
        func, stages = self._frontend(bound)
        written = written_parameters(func)
        max_threads = func.attrs.get("max_threads")
        program = compile_function(func, arrays=arrays)
        params = _param_list(bound)
        cache.store(key, program, _meta(stages, params, written, max_threads))
        return CompiledKernel(self.__name__, target, program, stages, params, key,
                              written=written, max_threads=max_threads)

    @_user_facing
    def compile(self, *args, target: str = "sim", block=None, **kwargs) -> CompiledKernel:
        """The compiled specialization for these arguments (types and constexpr values).

        For ``target="cpu"``, ``block`` (an int or up to 3 ints; default
        :data:`CPU_DEFAULT_BLOCK`) is the block shape the native code is specialized for,
        and the lanes and checking come from the current device when it is a CPU (else
        ``wf.CPU()``'s defaults). The simulator's programs do not depend on the block.
        """
        bound = self._bind(args, kwargs)
        cpu = cpu_spec(bound, block) if target == "cpu" else None
        return self._compile_bound(bound, target, cpu)

    @_user_facing
    def compile_types(self, types: Sequence[object], target: str = "sim", block=None,
                      **constexprs) -> CompiledKernel:
        """The compiled specialization for runtime parameter ``types`` (in order) and
        ``constexprs``, without argument values (``warpforge asm`` uses it; CPU builds
        assume unit innermost strides)."""
        bound = bind_types(self.__name__, self.params, list(types), constexprs)
        cpu = cpu_spec(bound, block) if target == "cpu" else None
        return self._compile_bound(bound, target, cpu)

    @_user_facing
    def asm(self, *args, **kwargs) -> str:
        """The assembly text for these arguments."""
        return self.compile(*args, **kwargs).asm

    @_user_facing
    def ir(self, *args, **kwargs) -> str:
        """The IR, after optimization, for these arguments."""
        return self.compile(*args, **kwargs).ir

    @_user_facing
    def llvm_ir(self, *args, **kwargs) -> str:
        """The optimized LLVM IR for these arguments (target ``"cpu"``)."""
        return self.compile(*args, target="cpu", **kwargs).llvm_ir

    # --- launching ------------------------------------------------------------------------

    def __getitem__(self, config) -> Callable[..., LaunchResult]:
        """``k[grid, block]`` or ``k[grid, block, shared_bytes]`` (dynamic shared memory,
        which ``wf.dynamic_shared`` views): the launcher."""
        if not isinstance(config, tuple) or len(config) not in (2, 3):
            raise LaunchError(f"launch {self.__name__} as {self.__name__}[grid, block](...) "
                              f"or {self.__name__}[grid, block, shared_bytes](...)")
        grid, block = config[:2]
        extra = {"shared_bytes": config[2]} if len(config) == 3 else {}

        @_user_facing
        def launcher(*args, **kwargs) -> LaunchResult:
            return self.launch(grid, block, *args, **extra, **kwargs)
        return launcher

    @_user_facing
    def launch(self, grid, block, *args, device: Device | str | None = None,
               timeout: float | None = None, shared_bytes: int = 0,
               **kwargs) -> LaunchResult:
        """Compile for these arguments (once) and run on ``device`` (default: current; a
        device or a name, ``"sim"`` or ``"cpu"``). Past ``timeout`` seconds (default
        ``WARPFORGE_LAUNCH_TIMEOUT``; 0: none) the launch stops with ``wf.LaunchTimeout``;
        Ctrl-C stops it too. ``shared_bytes`` is the CTA's dynamic shared memory."""
        bound = self._bind(args, kwargs)
        dev = resolve_device(device) if device is not None else get_device()
        grid = grid(dict(bound.constexprs)) if callable(grid) else grid
        block = block(dict(bound.constexprs)) if callable(block) else block
        if isinstance(dev, CPU):
            dims = normalize_dims(block, "block")
            compiled = self._compile_bound(bound, "cpu", cpu_spec(bound, dims, dev))
            _check_bounds(compiled, block)
            _refuse_read_only(compiled, bound)
            result = dev.launch(compiled.native, grid, dims,
                                _native_arguments(compiled, bound), timeout=timeout,
                                shared_bytes=shared_bytes)
        else:
            compiled = self._compile_bound(bound, "sim")
            _check_bounds(compiled, block)
            isa_args, writebacks = _isa_arguments(compiled, bound)
            result = dev.launch(compiled.program, grid, block, isa_args, timeout=timeout,
                                shared_bytes=shared_bytes)
            for view, contiguous in writebacks:
                view[...] = contiguous
        for hook in LAUNCH_HOOKS:
            hook(result)
        return result


def _isa_arguments(compiled: CompiledKernel, bound: Bound) -> tuple[list, list]:
    """The ISA-level arguments (``compiler.abi``'s order) and the non-contiguous arrays
    to update after the launch. A read-only array the kernel writes is a LaunchError; one
    it only reads passes as a copy (the simulator copies arrays back after a launch)."""
    args: list = []
    writebacks: list = []
    for name, kind, dtype, _ndim in compiled.params:
        value = bound.values[name]
        if kind == "scalar":
            args.append(int(bool(value)) if dtype == "|b1" else value)
            continue
        if isinstance(value, np.ndarray) and not value.flags.writeable:
            _refuse_read_only(compiled, bound)
            value = value.copy()
        if not isinstance(value, DeviceArray) and not value.flags.c_contiguous:
            array = np.ascontiguousarray(value)
            if value.flags.writeable:
                writebacks.append((value, array))
            value = array
        if value.dtype == np.bool_ and isinstance(value, np.ndarray):
            value = value.view(np.uint8)
        # C-contiguous: the strides the build assumes (sim_facts) address every element as
        # the array's own do (numpy's may differ on axes of length 1)
        args.extend(array_arguments(value, value.shape, _contiguous_strides(value.shape)))
    return args, writebacks


def _check_bounds(compiled: CompiledKernel, block: object) -> None:
    """LaunchError, before anything runs, for a block larger than the kernel's
    ``wf.launch_bounds``."""
    if compiled.max_threads is None:
        return
    x, y, z = normalize_dims(block, "block")
    threads = x * y * z
    if threads > compiled.max_threads:
        raise LaunchError(f"kernel {compiled.name}: a block of {threads} threads exceeds "
                          f"its wf.launch_bounds({compiled.max_threads})")


def _refuse_read_only(compiled: CompiledKernel, bound: Bound) -> None:
    """LaunchError, before anything runs, for a read-only array where the kernel writes."""
    for name in compiled.written:
        value = bound.values.get(name)
        if isinstance(value, np.ndarray) and not value.flags.writeable:
            raise LaunchError(f"kernel {compiled.name}: parameter {name!r}: the kernel "
                              "writes this array, but the array passed is read-only")


def _native_arguments(compiled: CompiledKernel, bound: Bound) -> list:
    """The ISA-level arguments for the CPU: arrays by reference with their own strides (in
    elements), no copies."""
    args: list = []
    for name, kind, _dtype, _ndim in compiled.params:
        value = bound.values[name]
        if kind == "scalar":
            args.append(int(bool(value)) if isinstance(value, (bool, np.bool_)) else value)
            continue
        if isinstance(value, DeviceArray):  # the CPU device says why it cannot take one
            args.extend(array_arguments(value, value.shape, _contiguous_strides(value.shape)))
            continue
        if any(s % value.itemsize for s in value.strides):
            raise LaunchError(f"kernel {compiled.name}: parameter {name!r}: strides "
                              f"{value.strides} are not multiples of the element size "
                              f"{value.itemsize}")
        args.extend(array_arguments(value, value.shape,
                                    [s // value.itemsize for s in value.strides]))
    return args


def _contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= int(n)
    return strides[::-1]


def kernel(fn: Callable) -> Kernel:
    """Mark ``fn`` as a kernel: ``@wf.kernel``."""
    return Kernel(fn)

