"""Launches the device cannot run are ResourceErrors; occupancy decides the wave size.

Limits are those of compute capability 8.0 (CUDA C++ Programming Guide, technical
specifications; gpu-facts.md): 1024 threads per block, block dims 1024 x 1024 x 64, grid
dims (2^31 - 1) x 65535 x 65535, 255 registers per thread, 64 K registers per block, 163 KB
of shared memory per block; per SM 2048 threads, 32 CTAs, 64 warps, 64 K registers and
164 KiB of shared memory.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from warpforge.simulator import LaunchError, ResourceError

from .sim_support import device, kernel

EMPTY = kernel(".kernel k\n        {A}  EXIT ;\n")


@pytest.mark.parametrize("grid, block, words", [
    (1, (64, 17), "1088 threads per block, above the limit of 1024"),
    (1, (1, 1, 65), "block dimension z is 65, above the limit of 64"),
    (1, (1025, 1, 1), "block dimension x is 1025, above the limit of 1024"),
    (1, (1, 1025), "block dimension y is 1025, above the limit of 1024"),
    ((1, 65536), 1, "grid dimension y is 65536, above the limit of 65535"),
    ((1, 1, 65536), 1, "grid dimension z is 65536, above the limit of 65535"),
    (2**31, 1, "grid dimension x is 2147483648, above the limit of 2147483647"),
    (0, 32, "grid dimension x is 0; every dimension must be at least 1"),
    (1, (32, 0), "block dimension y is 0; every dimension must be at least 1"),
    (1, -4, "block dimension x is -4"),
])
def test_dimension_limits(grid, block, words):
    with pytest.raises(ResourceError, match=words.replace("(", r"\(")):
        device().launch(EMPTY, grid, block, [])


def test_largest_legal_block_runs():
    res = device().launch(EMPTY, 1, (16, 4, 16), [])
    assert res.stats["threads"] == 1024


def test_registers_per_thread_limit():
    prog = dataclasses.replace(EMPTY, registers=256)
    with pytest.raises(ResourceError, match="256 registers per thread, above the limit of 255"):
        device().launch(prog, 1, 32, [])


def test_registers_per_block_limit():
    prog = dataclasses.replace(EMPTY, registers=128)
    device().launch(prog, 1, 512, [])  # 64 K registers: fits exactly
    with pytest.raises(ResourceError, match="128 registers x 1024 threads = 131072"):
        device().launch(prog, 1, 1024, [])


def test_shared_memory_limit():
    prog = dataclasses.replace(EMPTY, shared_bytes=163 * 1024 + 1)
    with pytest.raises(ResourceError, match="166913 bytes of shared memory per block, above "
                                            "the limit of 166912"):
        device().launch(prog, 1, 32, [])


def test_declared_registers_below_use():
    prog = kernel(".kernel k\n        {A}  MOV R5, 0x1 ;\n        {A}  EXIT ;\n")
    assert prog.registers == 6
    short = dataclasses.replace(prog, registers=2)
    with pytest.raises(ResourceError, match="declares 2 registers but its instructions use 6"):
        device().launch(short, 1, 32, [])


def test_register_pairs_and_address_bases_count():
    prog = kernel("""\
        .kernel k
        .param p u32*
                {A}  MOV R6, c[0x0][0x160] ;
                {A}  MOV R7, c[0x0][0x164] ;
                {A}  STG.E.128 [R6.64], R8 ;
                {A}  EXIT ;
        """)
    with pytest.raises(ResourceError, match="use 12"):
        device().launch(dataclasses.replace(prog, registers=11), 1, 1,
                        [np.zeros(4, np.uint32)])


def test_resource_errors_are_launch_errors_and_config_overrides_apply():
    assert issubclass(ResourceError, LaunchError)
    sim = device(max_threads_per_block=128)
    sim.launch(EMPTY, 1, 128, [])
    with pytest.raises(ResourceError, match="above the limit of 128"):
        sim.launch(EMPTY, 1, 129, [])


@pytest.mark.parametrize("change, block, per_sm", [
    ({}, 32, 32),                             # CTA limit: 32 per SM
    ({}, 256, 8),                             # threads: 2048 / 256
    ({}, 1000, 2),                            # threads: 1000 rounds up to 32 warps
    ({"registers": 64}, 256, 4),              # registers: 65536 / (64 * 256)
    ({"shared_bytes": 40000}, 32, 4),         # shared: 164 KiB / 40000 B
    ({"registers": 40, "shared_bytes": 10000}, 128, 12),  # registers: 65536 / 5120
])
def test_occupancy_sets_the_wave_size(change, block, per_sm):
    prog = dataclasses.replace(EMPTY, **change)
    res = device().launch(prog, 100, block, [])
    assert res.stats["ctas_per_sm"] == per_sm
    assert res.stats["ctas_per_wave"] == min(100, 2 * per_sm)  # the test device has 2 SMs
    assert res.stats["waves"] == -(-100 // min(100, 2 * per_sm))
