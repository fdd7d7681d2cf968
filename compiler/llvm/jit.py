"""Native code for the host CPU: optimize LLVM IR, emit an object, load it, call it.

One path for fresh builds and cache hits alike: LLVM IR is optimized (new pass manager, O3,
for the host CPU's name and features), emitted as an object file (bytes the cache keeps),
and every object is loaded the same way, through an ORC LLJIT that also resolves symbols of
the current process (libm's ``expf`` and friends). A loaded entry is a
:class:`NativeFunction`: its address and a ``ctypes`` callable that releases the GIL while
native code runs.

llvmlite serializes its calls into LLVM behind one global lock; compiling from several
threads at once gains nothing and is not safe everywhere, so every call here that reaches
LLVM holds :data:`_LOCK`.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from dataclasses import dataclass, field

import llvmlite
import llvmlite.binding as llvm
import llvmlite.ir

from ..errors import CompilerError

_LOCK = threading.RLock()
"""Held around every call into LLVM (target setup, parsing, passes, emission, linking)."""

ENTRY_SIGNATURE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
"""``int32_t entry(const uint64_t *params, uint8_t *arena, int64_t first_cta,
int64_t end_cta, int64_t *fault)``: the C signature of every kernel entry. ``CFUNCTYPE``
(not ``PYFUNCTYPE``) so that calls release the GIL."""


@dataclass
class _Host:
    """The process-wide LLVM objects, created on first use."""

    machine: llvm.TargetMachine
    cpu: str
    features: str
    lljit: object = None
    names: itertools.count = field(default_factory=itertools.count)


_host: _Host | None = None


def _get_host() -> _Host:
    global _host
    with _LOCK:
        if _host is None:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            cpu = llvm.get_host_cpu_name()
            features = llvm.get_host_cpu_features().flatten()
            target = llvm.Target.from_triple(llvm.get_process_triple())
            machine = target.create_target_machine(cpu=cpu, features=features, opt=3,
                                                   reloc="pic", codemodel="default")
            _host = _Host(machine, cpu, features)
        return _host


def target_machine() -> llvm.TargetMachine:
    """The host's target machine (its CPU name and features, O3, position-independent)."""
    return _get_host().machine


def host_signature() -> str:
    """What native code compiled here depends on: the CPU name, its features and the
    llvmlite (hence LLVM) version. Part of every native cache key."""
    host = _get_host()
    return (f"{host.cpu};{host.features};llvmlite {llvmlite.__version__};"
            f"libmvec {','.join(vector_isas()) or 'none'}")


_VECTOR_ISAS: tuple[str, ...] | None = None


def vector_isas() -> tuple[str, ...]:
    """The variants of glibc's vector math library (libmvec) that kernels may call here:
    ISA letters ``e`` (AVX-512), ``d`` (AVX2), ``b`` (SSE) the host supports, or ``()``
    when libmvec cannot be loaded. Loading it makes its symbols visible to the JIT."""
    global _VECTOR_ISAS
    with _LOCK:
        if _VECTOR_ISAS is None:
            try:
                ctypes.CDLL("libmvec.so.1", mode=ctypes.RTLD_GLOBAL)
            except OSError:
                _VECTOR_ISAS = ()
            else:
                features = set(_get_host().features.split(","))
                _VECTOR_ISAS = tuple(isa for isa, need in (("e", "+avx512f"), ("d", "+avx2"),
                                                           ("b", "+sse2"))
                                     if need in features)
        return _VECTOR_ISAS


def host_lanes() -> int:
    """The natural SIMD lane count for 32-bit values: 16 with AVX-512F, else 8."""
    return 16 if "+avx512f" in _get_host().features.split(",") else 8


def _parse(module_or_text: llvmlite.ir.Module | str) -> llvm.ModuleRef:
    """Parse and verify LLVM IR, set for the host; CompilerError when LLVM rejects it."""
    host = _get_host()
    try:
        mod = llvm.parse_assembly(str(module_or_text))
        mod.verify()
    except RuntimeError as err:
        raise CompilerError(f"invalid LLVM IR: {err}") from None
    mod.triple = host.machine.triple
    mod.data_layout = str(host.machine.target_data)
    return mod


def optimize(module_or_text: llvmlite.ir.Module | str) -> str:
    """The LLVM IR of ``module_or_text`` (an ``llvmlite.ir.Module`` or IR text) optimized at
    O3 for the host CPU, with the host's triple and data layout set. CompilerError when the
    module does not parse or verify."""
    with _LOCK:
        mod = _parse(module_or_text)
        tuning = llvm.create_pipeline_tuning_options(speed_level=3)
        passes = llvm.create_pass_builder(_get_host().machine, tuning)
        passes.getModulePassManager().run(mod, passes)
        return str(mod)


def emit_object(text: str) -> bytes:
    """The host object file for LLVM IR ``text`` (normally :func:`optimize`'s output)."""
    with _LOCK:
        return _get_host().machine.emit_object(_parse(text))


def emit_assembly(text: str) -> str:
    """The host assembly for LLVM IR ``text`` (what ``CompiledKernel.native_asm`` shows)."""
    with _LOCK:
        return _get_host().machine.emit_assembly(_parse(text))


@dataclass
class NativeFunction:
    """An entry loaded into this process: its symbol, ``address`` and ``call`` (a
    ``ctypes`` callable with :data:`ENTRY_SIGNATURE`). Holds the library alive; the code is
    unloaded when the last reference goes."""

    name: str
    address: int
    call: ctypes._CFuncPtr
    _tracker: object = field(repr=False, default=None)

    def __call__(self, params: int, arena: int, first_cta: int, end_cta: int,
                 fault: int) -> int:
        """Run CTAs ``first_cta .. end_cta-1`` (addresses as ints); 0, or 1 after a fault."""
        return self.call(params, arena, first_cta, end_cta, fault)


def load(object_bytes: bytes, entry: str) -> NativeFunction:
    """Load an object file (from :func:`emit_object`, or the cache) and return its
    ``entry`` symbol. Undefined symbols resolve against the current process (libm).
    CompilerError when linking fails or ``entry`` is missing."""
    host = _get_host()
    with _LOCK:
        if host.lljit is None:
            host.lljit = llvm.create_lljit_compiler(host.machine)
        library = f"warpforge_{next(host.names)}"
        builder = llvm.JITLibraryBuilder().add_object_img(object_bytes)
        builder.add_current_process().export_symbol(entry)
        try:
            tracker = builder.link(host.lljit, library)
        except RuntimeError as err:
            raise CompilerError(f"cannot load native code for {entry!r}: {err}") from None
    address = tracker[entry]
    if not address:
        raise CompilerError(f"the native code has no symbol {entry!r}")
    return NativeFunction(entry, address, ENTRY_SIGNATURE(address), tracker)
