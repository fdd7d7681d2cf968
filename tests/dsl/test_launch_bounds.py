"""``wf.launch_bounds(max_threads)``: the CTA size the simulator backend plans registers
for (its occupancy steps), and a launch-time limit on the block, on both devices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import warpforge as wf
from warpforge.compiler.sass.schedule import (
    OCCUPANCY_STEPS,
    STEP_SLACK,
    occupancy_steps,
    pressure_limit,
    reaim,
)
from warpforge.isa.program import Program
from warpforge.simulator.config import arch_config
from warpforge.simulator.launch import occupancy

DEVICES = ("sim", "cpu")


@wf.kernel
def bounded(x: wf.f32[:], T: wf.constexpr):
    wf.launch_bounds(T * 2)
    i = wf.block_idx.x * wf.block_dim.x + wf.thread_idx.x
    if i < x.shape[0]:
        x[i] = x[i] * 2.0 + 1.0


@pytest.mark.parametrize("device", DEVICES)
def test_a_bounded_kernel_runs_within_its_bound_and_refuses_beyond(device):
    x = np.arange(300, dtype=np.float32)
    want = x * 2 + 1
    bounded.launch(3, 128, x, T=64, device=device)  # 128 threads: the bound itself
    np.testing.assert_array_equal(x, want)
    before = x.copy()
    with pytest.raises(wf.LaunchError, match=r"block of 256 threads exceeds its "
                                             r"wf.launch_bounds\(128\)"):
        bounded.launch(2, (128, 2), x, T=64, device=device)
    np.testing.assert_array_equal(x, before)  # nothing ran
    assert bounded.compile(x, T=64, target=device).max_threads == 128


def test_the_bound_is_the_kernels_attribute_in_the_ir():
    x = np.zeros(4, np.float32)
    assert "max_threads = 96" in bounded.ir(x, T=48)


@pytest.mark.parametrize("threads", [32, 64, 96, 128, 192, 256, 512, 1024])
def test_occupancy_steps_are_where_the_occupancy_calculator_fits_one_more_cta(threads):
    """Each step is the most registers at which the simulator's occupancy rules (the CUDA
    occupancy calculator's) fit that many CTAs by registers: one more register fits
    fewer."""
    cfg = arch_config()

    def ctas(registers: int) -> int:
        return occupancy(Program("k", registers=registers), threads, cfg)

    steps = occupancy_steps(threads)
    assert list(steps) == sorted(set(steps))
    # the last: the most a thread may have at all (255, or what one CTA leaves it)
    assert steps[-1] == min(255, 65536 // (32 * -(-threads // 32)) // 8 * 8)
    for step in steps[:-1]:
        assert ctas(step) > ctas(step + 1)
    # between two steps the count does not change
    for lo, hi in itertools.pairwise(steps):
        assert ctas(lo + 1) == ctas(hi)
    assert occupancy_steps(256) == OCCUPANCY_STEPS


def test_reaim_uses_the_room_of_the_step_an_allocation_landed_under():
    steps = occupancy_steps(128)      # ..., 128 (4 CTAs), 168 (3), 255 (2)
    limit = pressure_limit(103, steps)
    assert limit == 128 - STEP_SLACK  # aimed under four CTAs
    assert reaim(120, limit, steps) is None           # it landed there: nothing to gain
    assert reaim(158, limit, steps) == 168 - STEP_SLACK   # under three: their room
    assert reaim(200, limit, steps) is None           # past the last step: bounded as is
    # a limit the floor capped under its step's slack is not raised by landing there
    assert reaim(114, 109, OCCUPANCY_STEPS) is None


def test_the_tensor_core_template_plans_for_its_128_threads():
    """128x64 tiles of two 64x32 warps declare 128 threads: the backend keeps the kernel
    under 3 CTAs' 168 registers, with the room above 4 CTAs' 128 it cannot reach."""
    from warpforge.libs import gemm
    from warpforge.libs.gemm import TensorOpConfig
    A = np.zeros((256, 256), np.float16)
    C = np.zeros((256, 256), np.float32)
    cfg = TensorOpConfig(128, 64, 32, 64, 32, STAGES=2)
    ck = gemm._compile(A, A, C, cfg, wf.Simulator())
    assert ck.max_threads == 128
    assert 128 < ck.registers <= 168
    assert ck.program.local_bytes == 0


@pytest.mark.parametrize(("body", "message"), [
    ("wf.launch_bounds(n)", "max_threads must be a compile-time integer constant"),
    ("wf.launch_bounds(0)", "must be 1..1024, not 0"),
    ("wf.launch_bounds(2048)", "must be 1..1024, not 2048"),
    ("wf.launch_bounds(64)\n    wf.launch_bounds(128)", "contradicts the kernel's earlier"),
    ("helper()", "belongs in a kernel, not a @wf.func"),
])
def test_bad_bounds_are_compile_errors_at_the_line(tmp_path, body, message):
    import importlib.util
    src = tmp_path / "bad_bounds.py"
    src.write_text("import warpforge as wf\n\n\n@wf.func\ndef helper():\n"
                   "    wf.launch_bounds(32)\n    return 0\n\n\n"
                   "@wf.kernel\ndef k(x: wf.f32[:], n: wf.i32):\n"
                   f"    {body}\n    x[0] = 1.0\n")
    spec = importlib.util.spec_from_file_location("bad_bounds", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(wf.CompileError, match=message) as info:
        mod.k.compile(np.zeros(1, np.float32), np.int32(1))
    assert "bad_bounds.py" in str(info.value)
