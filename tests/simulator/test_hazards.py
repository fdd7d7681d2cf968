"""Tests of the hazard checker: every rule, with the latencies of ``reference/gpu-facts.md``.

The expected numbers are written here from the reference, not read from ``isa/latency.py``,
so these tests check the table too: ALU -> ALU 4, FMA -> FMA 4, ALU <-> FMA 5, IMAD.WIDE
low / high half 3 / 5 (Mesa NAK ``sm80_instr_latencies.rs``), a predicate read as a guard
13 (``reference/sass-codegen.md`` §1), a scoreboard increment visible one cycle after issue
(Huerta et al. 2025, in gpu-facts.md "Control codes"). Programs are written as assembly;
the control code ``[Bwait:Rr:Ww:Y:Snn]`` is CuAssembler's notation (gpu-facts.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from warpforge.simulator.hazards import HazardChecker

from .hazard_support import (
    ALL,
    ALU_ALU,
    CROSS,
    FMA_FMA,
    GUARD,
    WIDE_HIGH,
    WIDE_LOW,
    T,
    cc,
    kernel,
    message,
    run,
)

# --- fixed latency -----------------------------------------------------------------------

@pytest.mark.parametrize("stall, ok", [(1, False), (3, False), (4, True), (9, True)])
def test_alu_to_alu_needs_4(stall, ok):
    """ALU -> ALU: 4 cycles (gpu-facts.md, NAK)."""
    found = run(kernel(f"""
        {cc(stall)} IADD3 R0, R1, R2, RZ ;
        {cc()} IADD3 R3, R0, R2, RZ ;
    """))
    assert (found is None) == ok
    if not ok:
        plural = "" if stall == 1 else "s"
        assert found == (1, 0, f"IADD3 at /*0010*/ reads R0 {stall} cycle{plural} after IADD3 "
                               f"at /*0000*/ wrote it; needs {ALU_ALU} (stall counts too short "
                               f"by {ALU_ALU - stall})")


def test_stalls_of_instructions_in_between_add_up():
    """The stalls of the producer and of everything before the consumer add up
    (sass-codegen.md §1); a stall of 0 counts as 1."""
    assert run(kernel(f"""
        {cc(1)} MOV R0, R1 ;
        {cc(2)} NOP ;
        {cc(0)} NOP ;
        {cc()} MOV R2, R0 ;
    """)) is None
    short = run(kernel(f"""
        {cc(1)} MOV R0, R1 ;
        {cc(0)} NOP ;
        {cc(0)} NOP ;
        {cc()} MOV R2, R0 ;
    """))
    assert short[:2] == (3, 0)
    assert "reads R0 3 cycles after MOV at /*0000*/" in short[2]


PRODUCERS = {"alu": "IADD3 R0, R1, R1, RZ", "fma": "FFMA R0, R1, R1, R1"}
CONSUMERS = {"alu": "LOP3.LUT R2, R0, R1, RZ, 0xc0", "fma": "FMUL R2, R0, R1"}


@pytest.mark.parametrize("first, second, need", [
    ("alu", "alu", ALU_ALU), ("alu", "fma", CROSS), ("fma", "alu", CROSS),
    ("fma", "fma", FMA_FMA)])
def test_alu_and_fma_class_latencies(first, second, need):
    """ALU -> ALU 4, FMA -> FMA 4, across the classes 5 (gpu-facts.md)."""
    for stall in range(1, 8):
        found = run(kernel(f"""
            {cc(stall)} {PRODUCERS[first]} ;
            {cc()} {CONSUMERS[second]} ;
        """))
        assert (found is None) == (stall >= need), stall
        if found:
            assert f"needs {need} " in found[2]


def test_imad_wide_halves_are_ready_at_3_and_5():
    """IMAD.WIDE's low half is ready after 3 cycles, its high half after 5 (NAK)."""
    def wide_then(stall, consumer):
        return kernel(f"""
            {cc(stall)} IMAD.WIDE R2, R4, R5, R6 ;
            {cc()} {consumer} ;
        """)
    assert run(wide_then(WIDE_LOW, "IADD3 R8, R2, RZ, RZ")) is None
    assert message(wide_then(WIDE_LOW, "IADD3 R8, R3, RZ, RZ")) == (
        "IADD3 at /*0010*/ reads R3 3 cycles after IMAD.WIDE at /*0000*/ wrote it (high half "
        "of its 64-bit result); needs 5 (stall counts too short by 2)")
    assert run(wide_then(WIDE_HIGH, "IADD3 R8, R3, RZ, RZ")) is None
    assert "reads R2 2 cycles" in message(wide_then(WIDE_LOW - 1, "IADD3 R8, R2, RZ, RZ"))
    # A 64-bit read of the pair waits for the later half.
    assert "reads R3 4 cycles" in message(wide_then(4, "LDG.E R8, [R2.64]"))


def test_pair_sources_check_both_registers():
    """A 64-bit source reads both registers: IMAD.WIDE's c, a global address ``[R4.64]``."""
    def producer_then(stall, consumer):
        return kernel(f"""
            {cc(stall)} IADD3 R7, R0, RZ, RZ ;
            {cc()} {consumer} ;
        """)
    wide = "IMAD.WIDE R2, R4, R5, R6"
    assert "reads R7 " in message(producer_then(CROSS - 1, wide))
    assert run(producer_then(CROSS, wide)) is None
    load = "LDG.E R8, [R6.64]"
    assert "reads R7 " in message(producer_then(CROSS - 1, load))
    assert run(producer_then(CROSS, load)) is None


@pytest.mark.parametrize("stall, ok", [(4, False), (12, False), (13, True)])
def test_predicate_read_as_guard_needs_13(stall, ok):
    """A predicate read as a guard or branch condition: 13 cycles (sass-codegen.md §1)."""
    found = run(kernel(f"""
        {cc(stall)} ISETP.GE.AND P0, PT, R1, R2, PT ;
        {cc()} @!P0 IADD3 R3, R4, RZ, RZ ;
    """))
    assert (found is None) == ok
    if not ok:
        assert found[2] == (f"IADD3 at /*0010*/ reads P0 as its guard {stall} cycles after "
                            f"ISETP.GE.AND at /*0000*/ wrote it; needs {GUARD} "
                            f"(stall counts too short by {GUARD - stall})")


def test_predicate_read_as_operand_needs_only_alu_latency():
    """A predicate read as an ALU operand (SEL's) needs ALU -> ALU 4, not 13."""
    def setp_then_sel(stall):
        return kernel(f"""
            {cc(stall)} ISETP.GE.AND P0, PT, R1, R2, PT ;
            {cc()} SEL R3, R4, R5, P0 ;
        """)
    assert run(setp_then_sel(ALU_ALU)) is None
    assert "reads P0 3 cycles" in message(setp_then_sel(ALU_ALU - 1))


def test_address_and_ldc_index_registers_are_read_constants_are_not():
    """A shared address reads its base register (ALU -> LSU 5, sass-codegen.md §1); LDC its
    index register; c[][] and immediate operands read none."""
    def producer_then(stall, consumer):
        return kernel(f"""
            {cc(stall)} IADD3 R3, R0, RZ, RZ ;
            {consumer} ;
        """)
    store = f"{cc(read='1')} STS [R3+0x10], R4"
    assert "reads R3 " in message(producer_then(CROSS - 1, store))
    assert run(producer_then(CROSS, store)) is None
    assert "reads R3 " in message(producer_then(1, f"{cc(write='0')} LDC R6, c[0x0][R3+0x10]"))
    # Numbers that look like R3 (an immediate 3, bank 3, offset 3) are not registers.
    for consumer in ("IADD3 R5, R1, 0x3, RZ", "IADD3 R5, R1, c[0x3][0x0], RZ",
                     "LDC R6, c[0x3][0x3]", "S2R R5, SR_TID.X"):
        assert run(producer_then(1, f"{cc(write='0')} {consumer}")) is None


def test_rz_and_pt_are_never_pending():
    """Writes to RZ and PT are dropped (gpu-facts.md numbering), so nothing waits for them."""
    assert run(kernel(f"""
        {cc()} LDG.E RZ, [R2.64] ;
        {cc()} IADD3 RZ, R1, RZ, RZ ;
        {cc()} IADD3 R4, RZ, RZ, RZ ;
        {cc()} ISETP.GE.AND PT, PT, R1, R2, PT ;
        {cc()} @PT SEL R3, RZ, R5, PT ;
    """)) is None


# --- variable latency ----------------------------------------------------------------------

def test_variable_latency_read_without_wait_is_flagged():
    """A variable-latency result is ready only once its write scoreboard is waited on, however
    long the stalls (gpu-facts.md "Control codes")."""
    assert run(kernel(f"""
        {cc(2, write='0')} LDG.E R4, [R2.64] ;
        {cc(15)} NOP ;
        {cc()} IADD3 R5, R4, RZ, RZ ;
    """)) == (2, 0, "IADD3 at /*0020*/ reads R4 before LDG.E at /*0000*/ has written it; "
                    "wait on SB0 (its write scoreboard) first")


def test_variable_latency_read_after_wait_is_legal():
    load = f"{cc(2, write='0')} LDG.E R4, [R2.64] ;"
    assert run(kernel(f"""
        {load}
        {cc(wait='0')} IADD3 R5, R4, RZ, RZ ;
    """)) is None
    # The wait may come on an earlier instruction; every later read is then fine.
    assert run(kernel(f"""
        {load}
        {cc(wait='0')} NOP ;
        {cc()} IADD3 R5, R4, RZ, RZ ;
        {cc()} IADD3 R6, R4, RZ, RZ ;
    """)) is None
    # Waiting on another scoreboard does not help.
    assert "wait on SB0" in message(kernel(f"""
        {load}
        {cc(wait='1')} IADD3 R5, R4, RZ, RZ ;
    """))


def test_result_without_write_scoreboard_is_never_ready():
    load = f"{cc(2)} LDG.E R4, [R2.64] ;"
    assert message(kernel(f"""
        {load}
        {cc(wait='012345')} IADD3 R5, R4, RZ, RZ ;
    """)) == ("IADD3 at /*0010*/ reads R4, but LDG.E at /*0000*/ sets no write scoreboard, so "
              "its result is never known to be written (give it a write scoreboard and wait "
              "on it)")
    # Overwriting it is a violation too: the late write could land afterwards.
    assert "overwrites R4, but LDG.E" in message(kernel(f"""
        {load}
        {cc(wait='012345')} MOV R4, R1 ;
    """))


def test_waw_on_pending_register():
    load = f"{cc(2, write='0')} LDG.E R4, [R2.64] ;"
    assert message(kernel(f"""
        {load}
        {cc()} MOV R4, R1 ;
    """)) == ("MOV at /*0010*/ overwrites R4 before LDG.E at /*0000*/ has written it; wait on "
              "SB0 (its write scoreboard) first")
    assert run(kernel(f"""
        {load}
        {cc(wait='0')} MOV R4, R1 ;
    """)) is None


def test_wide_loads_cover_pairs_and_quads():
    """LDG.64 writes a pair, LDG.128 a quad: every register of it is pending."""
    def load_then(width, reg):
        return kernel(f"""
            {cc(2, write='0')} LDG.E{width} R4, [R2.64] ;
            {cc()} MOV R8, R{reg} ;
        """)
    assert "reads R5 before" in message(load_then(".64", 5))
    assert run(load_then(".64", 6)) is None
    assert "reads R7 before" in message(load_then(".128", 7))
    assert run(load_then(".128", 8)) is None


def test_predicate_results_of_variable_latency_ops_are_pending():
    """SHFL's in-range predicate comes back with its result, on the write scoreboard."""
    def shfl_then(wait):
        return kernel(f"""
            {cc(2, write='2')} SHFL.IDX P1, R4, R5, 0x0, 0x1f ;
            {cc(wait=wait)} @P1 IADD3 R6, R7, RZ, RZ ;
        """)
    assert "reads P1 before SHFL.IDX at /*0000*/" in message(shfl_then(""))
    assert run(shfl_then("2")) is None


def test_war_with_read_scoreboard():
    """A store's sources are being read until its read scoreboard is waited on."""
    def store_then(consumer):
        return kernel(f"""
            {cc(2, read='1')} STG.E [R2.64], R4 ;
            {consumer} ;
        """)
    assert message(store_then(f"{cc()} MOV R4, R1")) == (
        "MOV at /*0010*/ overwrites R4 while STG.E at /*0000*/ may still be reading it; wait "
        "on SB1 (its read scoreboard) first")
    assert "overwrites R3 while STG.E" in message(store_then(f"{cc()} MOV R3, R1"))
    assert run(store_then(f"{cc(wait='1')} MOV R4, R1")) is None
    # Reading a register that is being read is fine.
    assert run(store_then(f"{cc()} MOV R5, R4")) is None


def test_several_readers_name_every_read_scoreboard():
    found = message(kernel(f"""
        {cc(2, read='1')} STG.E [R2.64], R4 ;
        {cc(2, read='3')} STS [R6], R4 ;
        {cc(wait='1')} MOV R4, R1 ;
    """))
    assert found.endswith("STS at /*0010*/ may still be reading it; wait on SB3 (its read "
                          "scoreboard) first")
    found = message(kernel(f"""
        {cc(2, read='1')} STG.E [R2.64], R4 ;
        {cc(2, read='3')} STS [R6], R4 ;
        {cc()} MOV R4, R1 ;
    """))
    assert found.endswith("wait on SB1, SB3 (the readers' read scoreboards) first")


def test_waiting_on_the_write_scoreboard_also_ends_the_reads():
    """An instruction reads its operands before its result lands, so waiting on its write
    scoreboard protects its sources too."""
    def load_then(wait):
        return kernel(f"""
            {cc(2, read='1', write='0')} LDG.E R8, [R2.64] ;
            {cc(wait=wait)} MOV R2, R1 ;
        """)
    assert run(load_then("0")) is None
    assert "wait on SB1" in message(load_then("3"))


def test_an_instruction_may_overwrite_its_own_sources():
    """``LDG R2, [R2.64]``: its read of R2 comes before its write, and the pending write
    guards R2; R3 is only read, so the read scoreboard guards it."""
    load = f"{cc(2, read='1', write='0')} LDG.E R2, [R2.64] ;"
    assert "overwrites R2 before LDG.E" in message(kernel(f"{load}\n{cc()} MOV R2, R1"))
    assert "overwrites R3 while LDG.E" in message(kernel(f"{load}\n{cc()} MOV R3, R1"))
    assert run(kernel(f"""
        {load}
        {cc(wait='1')} MOV R3, R1 ;
        {cc(wait='0')} MOV R2, R1 ;
    """)) is None


def test_scoreboard_wait_one_cycle_after_setter_is_flagged():
    """A scoreboard increment is visible one cycle after issue (Huerta et al. 2025): the
    setter needs stall >= 2 before a wait on it."""
    def load_then(stall, *rest):
        return kernel("\n".join([f"{cc(stall, write='0')} LDG.E R4, [R2.64] ;", *rest]))
    assert message(load_then(1, f"{cc(wait='0')} MOV R5, R4")) == (
        "MOV at /*0010*/ waits on SB0 1 cycle after LDG.E at /*0000*/ sets it, before the "
        "increment is visible; the LDG needs stall >= 2")
    assert run(load_then(2, f"{cc(wait='0')} MOV R5, R4")) is None
    assert run(load_then(1, f"{cc()} NOP", f"{cc(wait='0')} MOV R5, R4")) is None
    # Read scoreboards count too.
    assert "waits on SB3 1 cycle after STG.E" in message(kernel(f"""
        {cc(1, read='3')} STG.E [R2.64], R4 ;
        {cc(wait='3')} NOP ;
    """))


# --- threads -------------------------------------------------------------------------------

LOW = np.arange(T) < 4
"""Threads 0-3; ``~LOW`` is threads 4-7."""


def test_divergent_threads_keep_separate_clocks():
    """Threads 0-3 pass the NOP, threads 4-7 skip it: only the latter read R0 too early."""
    checker = HazardChecker(kernel(f"""
        {cc(1)} MOV R0, R1 ;
        {cc(3)} NOP ;
        {cc()} MOV R2, R0 ;
    """), T)
    assert checker.issue(0, ALL) is None
    assert checker.issue(1, LOW) is None
    assert checker.issue(2, LOW) is None
    thread, found = checker.issue(2, ~LOW)
    assert thread == 4
    assert "reads R0 1 cycle after MOV at /*0000*/" in found


def test_threads_that_ran_different_producers_need_different_latencies():
    """R0 from IADD3 (ALU -> ALU 4) in threads 0-3, from FFMA (FMA -> ALU 5) in 4-7."""
    checker = HazardChecker(kernel(f"""
        {cc(4)} IADD3 R0, R1, R1, RZ ;
        {cc(4)} FFMA R0, R1, R1, R1 ;
        {cc()} IADD3 R2, R0, RZ, RZ ;
    """), T)
    assert checker.issue(0, LOW) is None
    assert checker.issue(1, ~LOW) is None
    assert checker.issue(2, ALL) == (4, f"IADD3 at /*0020*/ reads R0 4 cycles after FFMA at "
                                        f"/*0010*/ wrote it; needs {CROSS} (stall counts too "
                                        f"short by 1)")
    assert checker.issue(2, LOW) is None


def test_waits_clear_only_the_waiting_threads():
    odd = np.arange(T) % 2 == 1
    checker = HazardChecker(kernel(f"""
        {cc(2, write='0')} LDG.E R4, [R2.64] ;
        {cc(wait='0')} NOP ;
        {cc()} MOV R5, R4 ;
    """), T)
    assert checker.issue(0, ALL) is None
    assert checker.issue(1, odd) is None
    assert checker.issue(2, odd) is None
    thread, found = checker.issue(2, ~odd)
    assert thread == 0
    assert "wait on SB0" in found


def test_threads_that_never_ran_the_producer_have_nothing_pending():
    checker = HazardChecker(kernel(f"""
        {cc()} LDG.E R4, [R2.64] ;
        {cc()} MOV R5, R4 ;
    """), T)
    assert checker.issue(0, LOW) is None
    assert checker.issue(1, ~LOW) is None
    thread, _ = checker.issue(1, LOW)
    assert thread == 0


def test_reports_the_lowest_offending_thread():
    checker = HazardChecker(kernel(f"""
        {cc(1)} MOV R0, R1 ;
        {cc(3)} NOP ;
        {cc()} MOV R2, R0 ;
    """), T)
    late = np.isin(np.arange(T), [5, 6])
    assert checker.issue(0, ALL) is None
    assert checker.issue(1, ~late) is None
    assert checker.issue(2, ALL)[0] == 5
    assert checker.issue(2, np.zeros(T, bool)) is None


def test_a_violating_issue_is_not_recorded():
    """After a report the checker's state is as before the offending issue."""
    checker = HazardChecker(kernel(f"""
        {cc(2, write='0')} LDG.E R4, [R2.64] ;
        {cc()} MOV R5, R4 ;
    """), T)
    assert checker.issue(0, ALL) is None
    clock = checker.clock.copy()
    assert checker.issue(1, ALL) is not None
    np.testing.assert_array_equal(checker.clock, clock)
    assert "reads R4 before" in checker.issue(1, ALL)[1]
