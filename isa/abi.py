"""The launch ABI: what constant bank 0 holds, as on sm_80.

Launch dimensions sit at the bottom of bank 0, the initial local-memory stack pointer at
0x28, and kernel parameters from 0x160, each aligned to its size (the saxpy listing in
``reference/ptxas-sm80.md`` reads blockDim.x at ``c[0x0][0x0]`` and its parameters at
0x160, 0x164, 0x168 and 0x170).
"""

from __future__ import annotations

from .program import Param

CONST_BANK_BYTES = 0x10000
"""Size of each constant bank (64 KiB)."""
NTID_X, NTID_Y, NTID_Z = 0x0, 0x4, 0x8
"""Offsets of blockDim.x/y/z in bank 0."""
NCTAID_X, NCTAID_Y, NCTAID_Z = 0xC, 0x10, 0x14
"""Offsets of gridDim.x/y/z in bank 0."""
STACK_POINTER = 0x28
"""Offset of the initial local-memory stack pointer (``MOV R1, c[0x0][0x28]``)."""
DYNAMIC_SHARED_BYTES = 0x30
"""Offset of the launch's dynamic shared-memory size in bytes (``k[grid, block, nbytes]``);
the dynamic array starts after the kernel's static shared memory, 16-byte aligned."""
SHARED_ALIGN = 16
"""Alignment of the dynamic shared array's start."""
GLOBAL_ALIGN = 256
"""Alignment in bytes of every global allocation, so of every array a launch passes
(cudaMalloc guarantees at least 256 bytes)."""
PARAM_BASE = 0x160
"""Offset of the first kernel parameter in bank 0."""
MAX_PARAM_BYTES = 4096
"""Largest total size of a kernel's parameters (CUDA's limit)."""


def param_offsets(params: tuple[Param, ...] | list[Param]) -> list[int]:
    """Byte offset of each parameter in bank 0, naturally aligned, starting at 0x160."""
    offsets = []
    cursor = PARAM_BASE
    for param in params:
        size = param.size
        cursor = (cursor + size - 1) // size * size
        offsets.append(cursor)
        cursor += size
    return offsets
