"""Errors the simulator raises: faults in the kernel, bad launches, broken promises.

Messages follow compute-sanitizer's reports: what went wrong, in which kernel, at which
instruction (offset and text, and the source line when the program carries one), by which
thread of which block, at which address.
"""

from __future__ import annotations

from ..isa.errors import UsageError, WarpforgeError


class SimulatorError(WarpforgeError):
    """Base class of errors raised while simulating a kernel."""


class LaunchError(SimulatorError):
    """A launch that cannot start: wrong arguments, dimensions or resources."""


class ConfigError(LaunchError, UsageError):
    """A device configuration that means nothing: an unknown arch or field, a value out of
    range (``wf.Simulator(num_sms=0)``, ``wf.CPU(threads=0)``), naming the field."""


class LaunchTimeout(LaunchError):
    """A launch stopped because it ran past its ``timeout`` (``k.launch(...,
    timeout=seconds)`` or ``WARPFORGE_LAUNCH_TIMEOUT``), or on the simulator past its
    ``max_instructions`` (``instructions`` is then True); the arrays are as they were
    before it."""

    def __init__(self, message: str, instructions: bool = False) -> None:
        super().__init__(message)
        self.instructions = instructions


class ResourceError(LaunchError):
    """A launch that asks for more than the device has (registers, shared memory, threads)."""


class KernelFault(SimulatorError):
    """An error inside a running kernel, located at an instruction, thread and block.

    ``kernel``, ``pc`` (instruction index), ``offset`` (byte offset), ``instruction`` (its
    text), ``loc`` (source location or None), ``thread`` and ``block`` ((x, y, z) tuples) say
    where; ``what`` says what went wrong, ``detail`` adds lines after the location.
    """

    def __init__(self, what: str, *, kernel: str, pc: int, instruction: str,
                 thread: tuple[int, int, int], block: tuple[int, int, int], loc=None,
                 detail: str = "") -> None:
        self.what = what
        self.kernel = kernel
        self.pc = pc
        self.offset = pc * 16
        self.instruction = instruction
        self.loc = loc
        self.thread = thread
        self.block = block
        self.detail = detail
        where = f" ({loc})" if loc is not None else ""
        lines = [
            f"{what} in kernel '{kernel}'",
            f"    at /*{self.offset:04x}*/ {instruction}{where}",
            f"    by thread ({','.join(map(str, thread))}) in block ({','.join(map(str, block))})",
        ]
        if detail:
            lines.append(f"    {detail}")
        super().__init__("\n".join(lines))


class MemoryFault(KernelFault):
    """An out-of-bounds or misaligned access to global, shared, local or constant memory.

    ``address`` is the faulting address, ``space`` one of "global", "shared", "local",
    "constant", ``access`` "read", "write" or "atomic", ``size`` the access size in bytes.
    """

    def __init__(self, reason: str, *, space: str, access: str, size: int, address: int,
                 **where) -> None:
        self.reason = reason
        self.space = space
        self.access = access
        self.size = size
        self.address = address
        super().__init__(
            f"Invalid __{space}__ {access} of size {size} bytes",
            detail=f"Address 0x{address:x} {reason}",
            **where,
        )


class BarrierError(KernelFault):
    """A CTA barrier (BAR.SYNC) reached by some but not all of a CTA's live threads, or a
    convergence barrier (BSYNC) that can never complete."""


class HazardError(KernelFault):
    """An instruction read or overwrote a register before its control codes allowed it."""


class WarpError(KernelFault):
    """A warp-wide operation (SHFL, VOTE, HMMA) executed by a warp that is not converged
    where it must be."""


class RaceError(KernelFault):
    """racecheck: two threads touched one shared-memory address with no barrier between,
    at least one writing. The message names both instructions and source lines, both
    threads, and the offset."""


class UninitializedReadError(KernelFault):
    """initcheck: a read of shared or local memory that no thread had written."""
