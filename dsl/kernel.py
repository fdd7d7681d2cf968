"""``@wf.kernel``: compiling a Python function per specialization, and launching it.

``k[grid, block](*args, **constexprs)`` and ``k.launch(grid, block, *args, device=None,
**constexprs)`` bind the arguments (:mod:`.binding`), compile the specialization once
(frontend -> optimization pipeline -> SASS backend), keep it in memory and on disk
(:mod:`.cache`), and run it on the device. ``k.compile(...)`` returns the
:class:`CompiledKernel` with every layer to look through.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..compiler.abi import array_arguments
from ..compiler.pipeline import optimize
from ..compiler.sass import compile_function
from ..isa import Program, knobs
from ..simulator import DeviceArray, LaunchError, LaunchResult, Simulator
from . import cache
from .binding import Bound, Parameter, bind, bind_types, parameters
from .devices import get_device
from .errors import CompileError, hide_compiler_frames
from .frontend import build_function
from .types import ArrayDType

TARGETS = ("sim",)
"""Compilation targets available."""


@dataclass
class CompiledKernel:
    """One specialization of a kernel, compiled: every layer to look through.

    ``ir`` is the IR after the optimization pipeline, ``stages`` the IR after each pass
    (``(pass name, text)``, the input first), ``asm`` the SASS-like text, ``program`` the
    :class:`~warpforge.isa.Program`, ``registers`` and ``shared_bytes`` its resources.
    ``params`` lists the kernel's runtime parameters as ``(name, kind, dtype, ndim)``.
    """

    name: str
    target: str
    program: Program
    stages: list[tuple[str, str]]
    params: list[tuple[str, str, str, int]]
    key: str = ""
    from_cache: bool = False
    _asm: str | None = field(default=None, repr=False)

    @property
    def ir(self) -> str:
        """The IR after the last pass."""
        return self.stages[-1][1] if self.stages else ""

    @property
    def asm(self) -> str:
        """The canonical assembly text."""
        if self._asm is None:
            self._asm = str(self.program)
        return self._asm

    @property
    def registers(self) -> int:
        """Registers per thread."""
        return self.program.registers

    @property
    def shared_bytes(self) -> int:
        """Static shared memory per CTA."""
        return self.program.shared_bytes


def _meta(stages: list, params: list) -> dict:
    return {"stages": [list(s) for s in stages], "params": [list(p) for p in params]}


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
    (out / f"{compiled.name}.sass").write_text(compiled.asm)


def _user_facing(method: Callable) -> Callable:
    """Re-raise a CompileError from ``method`` with only the user's frames in its traceback
    (the frames below the user's call are the compiler's, not theirs)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except CompileError as err:
            hide_compiler_frames(err)
            raise
    return wrapper


class Kernel:
    """A ``@wf.kernel`` function: compiled per specialization, launched on a device."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
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

    def _compile_bound(self, bound: Bound, target: str) -> CompiledKernel:
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; targets: {', '.join(TARGETS)}")
        spec = bound.key()
        compiled = self._compiled.get((spec, target))
        if compiled is None:
            compiled = self._build(bound, spec, target)
            self._compiled[(spec, target)] = compiled
        _dump(compiled)
        return compiled

    def _build(self, bound: Bound, spec: tuple, target: str) -> CompiledKernel:
        key = cache.cache_key(self.fn, spec, target)
        hit = cache.load(key)
        if hit is not None:
            program, meta = hit
            return CompiledKernel(self.__name__, target, program,
                                  [tuple(s) for s in meta["stages"]],
                                  [tuple(p) for p in meta["params"]], key, True)
        func = build_function(self.fn, bound.types, bound.constexprs)
        stages: list[tuple[str, str]] = []
        optimize(func, dump=lambda name, text: stages.append((name, text)),
                 module=getattr(func, "module", None))
        program = compile_function(func)
        params = _param_list(bound)
        cache.store(key, program, _meta(stages, params))
        return CompiledKernel(self.__name__, target, program, stages, params, key)

    @_user_facing
    def compile(self, *args, target: str = "sim", **kwargs) -> CompiledKernel:
        """The compiled specialization for these arguments (types and constexpr values)."""
        return self._compile_bound(self._bind(args, kwargs), target)

    @_user_facing
    def compile_types(self, types: Sequence[object], target: str = "sim",
                      **constexprs) -> CompiledKernel:
        """The compiled specialization for runtime parameter ``types`` (in order) and
        ``constexprs``, without argument values (``warpforge asm`` uses it)."""
        return self._compile_bound(bind_types(self.__name__, self.params, list(types),
                                              constexprs), target)

    @_user_facing
    def asm(self, *args, **kwargs) -> str:
        """The assembly text for these arguments."""
        return self.compile(*args, **kwargs).asm

    @_user_facing
    def ir(self, *args, **kwargs) -> str:
        """The IR, after optimization, for these arguments."""
        return self.compile(*args, **kwargs).ir

    # --- launching ------------------------------------------------------------------------

    def __getitem__(self, config) -> Callable[..., LaunchResult]:
        if not isinstance(config, tuple) or len(config) != 2:
            raise LaunchError(f"launch {self.__name__} as {self.__name__}[grid, block](...)")
        grid, block = config

        @_user_facing
        def launcher(*args, **kwargs) -> LaunchResult:
            return self.launch(grid, block, *args, **kwargs)
        return launcher

    @_user_facing
    def launch(self, grid, block, *args, device: Simulator | None = None,
               **kwargs) -> LaunchResult:
        """Compile for these arguments (once) and run on ``device`` (default: current)."""
        bound = self._bind(args, kwargs)
        dev = device or get_device()
        compiled = self._compile_bound(bound, "sim")
        grid = grid(dict(bound.constexprs)) if callable(grid) else grid
        block = block(dict(bound.constexprs)) if callable(block) else block
        isa_args, writebacks = _isa_arguments(compiled, bound)
        result = dev.launch(compiled.program, grid, block, isa_args)
        for view, contiguous in writebacks:
            view[...] = contiguous
        return result


def _isa_arguments(compiled: CompiledKernel, bound: Bound) -> tuple[list, list]:
    """The ISA-level arguments (``compiler.abi``'s order) and the non-contiguous arrays
    to update after the launch."""
    args: list = []
    writebacks: list = []
    for name, kind, dtype, _ndim in compiled.params:
        value = bound.values[name]
        if kind == "scalar":
            args.append(np.dtype(dtype).type(value) if dtype != "|b1" else int(bool(value)))
            continue
        if isinstance(value, DeviceArray):
            strides = _contiguous_strides(value.shape)
        else:
            array = value
            if not array.flags.c_contiguous:
                array = np.ascontiguousarray(value)
                if value.flags.writeable:
                    writebacks.append((value, array))
            value = array
            strides = [s // value.itemsize for s in value.strides]
        if value.dtype == np.bool_ and isinstance(value, np.ndarray):
            value = value.view(np.uint8)
        args.extend(array_arguments(value, value.shape, strides))
    return args, writebacks


def _contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= int(n)
    return strides[::-1]


def kernel(fn: Callable) -> Kernel:
    """Mark ``fn`` as a kernel: ``@wf.kernel``."""
    return Kernel(fn)

