"""Native code from the compiled subset of Python (:mod:`.subset`): compile, link, call.

:func:`native` wraps a function of the subset; its first call translates it to LLVM IR,
optimizes it for the host CPU (O2), links it into the process's LLJIT and keeps a
``ctypes`` entry; every call checks the arguments against the annotations and turns an
error the code reports (an index outside an array, a division by zero) into the
exception Python would raise, naming the source line.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import threading
from collections.abc import Callable

import llvmlite.binding as llvm
import numpy as np

from .subset import ARRAYS, INDEX_ERROR, Floats, Ints, JitError, Translator

__all__ = ["Floats", "Ints", "JitError", "Native", "native"]

_LOCK = threading.Lock()
"""Held while compiling (LLVM's calls are not made from two threads at once here)."""
_LIBRARIES = itertools.count()


@functools.cache
def _host() -> tuple[llvm.LLJIT, llvm.TargetMachine]:
    """The process's LLJIT and the host's target machine, made on first use."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                           features=llvm.get_host_cpu_features().flatten(),
                                           opt=2)
    return llvm.create_lljit_compiler(machine), machine


class Native:
    """A function of the subset that runs as native code when called (compiled on the
    first call); ``.python`` is the function itself."""

    def __init__(self, fn: Callable) -> None:
        self.python = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self._call = None
        self._tracker = None
        self._spec: list[tuple[str, np.dtype | None, bool]] = []
        """Per parameter: its name, its array dtype (None for a scalar), whether a float."""
        self._file = ""

    def llvm_ir(self) -> str:
        """The function's LLVM IR before optimization."""
        return Translator(self.python).translate()

    def compile(self) -> None:
        """Compile now (a :class:`JitError` for source outside the subset)."""
        with _LOCK:
            if self._call is not None:
                return
            tr = Translator(self.python)
            text = tr.translate()
            jit, machine = _host()
            mod = llvm.parse_assembly(text)
            mod.verify()
            passes = llvm.create_pass_builder(
                machine, llvm.create_pipeline_tuning_options(speed_level=2))
            passes.getModulePassManager().run(mod, passes)
            name = self.python.__name__
            library = f"warpforge_native_{name}_{next(_LIBRARIES)}"
            self._tracker = (llvm.JITLibraryBuilder().add_ir(str(mod)).export_symbol(name)
                             .link(jit, library))
            ctypes_args = []
            for _, ann in tr.params:
                ctypes_args += [ctypes.c_void_p, ctypes.c_int64] if ann in ARRAYS \
                    else [ctypes.c_double if ann == "float" else ctypes.c_int64]
            proto = ctypes.CFUNCTYPE(ctypes.c_int64, *ctypes_args)
            self._spec = [(name, np.dtype(ARRAYS[ann][2]) if ann in ARRAYS else None,
                           ann == "float") for name, ann in tr.params]
            self._file = tr.file
            self._call = proto(self._tracker[name])

    def __call__(self, *args, **kwargs) -> None:
        """Run the native code; arguments as the Python function takes them."""
        if self._call is None:
            self.compile()
        spec = self._spec
        if kwargs:
            try:
                args = (*args, *(kwargs.pop(s[0]) for s in spec[len(args):]))
            except KeyError as err:
                raise TypeError(f"{self.__name__}(): missing argument {err}") from None
        if kwargs or len(args) != len(spec):
            raise TypeError(f"{self.__name__}() takes the arguments "
                            f"{[s[0] for s in spec]}; unknown: {sorted(kwargs)}")
        cargs = []
        for (name, dtype, is_float), a in zip(spec, args, strict=True):
            if dtype is None:
                cargs.append(float(a) if is_float else int(a))
                continue
            if (type(a) is not np.ndarray or (a.dtype is not dtype and a.dtype != dtype)
                    or a.ndim != 1
                    or not a.flags.c_contiguous or not a.flags.writeable):
                raise TypeError(f"{self.__name__}(): {name!r} must be a writable "
                                f"one-dimensional contiguous {dtype} array")
            cargs.append(a.ctypes.data)
            cargs.append(a.size)
        rc = self._call(*cargs)
        if rc:
            line, error = rc >> 2, rc & 3
            where = f"{self._file}, line {line}, in {self.__name__}"
            if error == INDEX_ERROR:
                raise IndexError(f"array index out of range ({where})")
            raise ZeroDivisionError(f"division by zero ({where})")


def native(fn: Callable) -> Native:
    """Decorator: ``fn`` (in the subset of :mod:`.subset`) compiled to native code on its
    first call."""
    return Native(fn)
