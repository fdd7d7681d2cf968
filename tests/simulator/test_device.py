"""The device: configuration presets, resident arrays, launch results, hazard checking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import warpforge as wf
from warpforge.simulator import (
    ArchConfig,
    DeviceArray,
    HazardError,
    LaunchResult,
    Simulator,
    SimulatorError,
)

from .sim_support import device, kernel


def test_ampere_defaults_are_the_a100_figures_of_gpu_facts():
    cfg = Simulator().config
    assert (cfg.num_sms, cfg.sub_partitions, cfg.warp_size) == (108, 4, 32)
    assert (cfg.max_warps_per_sm, cfg.max_ctas_per_sm, cfg.max_threads_per_sm) == (64, 32,
                                                                                    2048)
    assert (cfg.registers_per_sm, cfg.max_registers_per_thread) == (65536, 255)
    assert cfg.shared_per_sm == 164 * 1024 and cfg.max_threads_per_block == 1024
    assert cfg.shared_banks == 32 and cfg.clock_hz == 1.41e9


def test_test_preset_is_two_ampere_sms():
    cfg = Simulator("test").config
    assert cfg.num_sms == 2
    assert dataclasses.replace(cfg, name="ampere", num_sms=108) == ArchConfig()


def test_overrides_and_their_errors():
    assert Simulator(num_sms=4).config.num_sms == 4
    with pytest.raises(ValueError, match="unknown arch 'volta'; valid archs: ampere, test"):
        Simulator("volta")
    with pytest.raises(TypeError, match=r"unknown ArchConfig field.*sms.*valid fields:.*num_sms"):
        Simulator(sms=4)
    with pytest.raises(ValueError, match="num_sms must be a positive int"):
        Simulator(num_sms=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Simulator().config.num_sms = 3


def test_check_hazards_follows_the_knob_unless_given(monkeypatch):
    monkeypatch.setenv("WARPFORGE_CHECK_HAZARDS", "0")
    assert Simulator().check_hazards is False
    monkeypatch.setenv("WARPFORGE_CHECK_HAZARDS", "1")
    assert Simulator().check_hazards is True
    assert Simulator(check_hazards=False).check_hazards is False


RACY = """\
    .kernel racy
    .param out i32*
            [B------:R-:W-:-:S02]  MOV R0, 0x5 ;
            {A}  IADD3 R1, R0, 0x1, RZ ;
            {A}  MOV R2, c[0x0][0x160] ;
            {A}  MOV R3, c[0x0][0x164] ;
            {A}  STG.E [R2.64], R1 ;
            {A}  EXIT ;
    """


def test_hazard_checker_reports_a_short_stall():
    out = np.zeros(1, np.int32)
    with pytest.raises(HazardError) as info:
        Simulator("test", check_hazards=True).launch(kernel(RACY), 1, 32, [out])
    err = info.value
    assert err.pc == 1 and err.thread == (0, 0, 0) and err.kernel == "racy"
    assert "IADD3" in err.instruction and "R0" in err.detail
    # The simulator itself is functional: without the check the kernel computes 6.
    Simulator("test", check_hazards=False).launch(kernel(RACY), 1, 32, [out])
    assert out[0] == 6


def test_device_array_round_trip_and_free():
    sim = device()
    host = np.arange(12, dtype=np.int16).reshape(3, 4)
    d = sim.to_device(host)
    assert isinstance(d, DeviceArray) and d.device is sim
    assert (d.shape, d.dtype, d.nbytes, d.size) == ((3, 4), np.dtype(np.int16), 24, 12)
    assert d.ptr % 256 == 0
    np.testing.assert_array_equal(d.copy_to_host(), host)
    d.copy_from_host(host * 2)
    np.testing.assert_array_equal(d.copy_to_host(), host * 2)
    with pytest.raises(ValueError, match="shape"):
        d.copy_from_host(np.zeros(5, np.int16))
    d.free()
    assert d.freed
    with pytest.raises(SimulatorError, match="freed"):
        d.copy_to_host()
    d.free()  # a second free is harmless


def test_empty_and_top_level_to_device():
    sim = device()
    e = sim.empty((2, 3), np.float64)
    np.testing.assert_array_equal(e.copy_to_host(), np.zeros((2, 3)))
    d = wf.to_device(np.ones(3, np.float32), device=sim)
    assert d.device is sim


STRAIGHT = """\
    .kernel straight
    .param out i32*
            {V}  S2R R0, SR_TID.X ;
            {W}  MOV R2, c[0x0][0x160] ;
            {A}  MOV R3, c[0x0][0x164] ;
            {A}  IMAD.WIDE.U32 R2, R0, 0x4, R2 ;
            {A}  STG.E [R2.64], R0 ;
            {A}  EXIT ;
    """


def test_launch_result_statistics_and_report():
    sim = device(timing=False)
    out = np.zeros(100, np.int32)
    res = sim.launch(kernel(STRAIGHT), 1, 100, [out])
    assert isinstance(res, LaunchResult) and res.device is sim
    assert res.cycles is None and res.elapsed_s > 0
    assert res.sim_seconds is None and res.profile is None and res.occupancy is None
    s = res.stats
    # 6 instructions, 100 threads = 4 warps (the last one of 4 threads).
    assert s["instructions"] == 6 * 4 and s["thread_instructions"] == 6 * 100
    assert (s["waves"], s["ctas"], s["threads"]) == (1, 1, 100)
    report = res.report()
    assert "kernel straight" in report and "warp instructions" in report
    assert "24" in report and "600" in report and "waves 1" in report
    np.testing.assert_array_equal(out, np.arange(100))


def test_public_names_are_exported():
    for name in ("Simulator", "LaunchResult", "DeviceArray", "MemoryFault", "LaunchError",
                 "ResourceError", "BarrierError", "HazardError"):
        assert getattr(wf, name) is getattr(wf.simulator, name)
    for name in ("ArchConfig", "WarpError", "SimulatorError"):
        assert hasattr(wf.simulator, name)


def test_every_opcode_has_exactly_one_implementation():
    from warpforge.isa.opcodes import OPCODES
    from warpforge.simulator.executor import HANDLERS
    from warpforge.simulator.semantics import EXECUTOR_OPCODES, SEMANTICS

    assert set(HANDLERS) == set(EXECUTOR_OPCODES)
    assert not set(HANDLERS) & set(SEMANTICS)
    assert set(HANDLERS) | set(SEMANTICS) == set(OPCODES)
