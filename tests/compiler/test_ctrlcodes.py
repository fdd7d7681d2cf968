"""Tests of the control-code pass: codes worked out by hand for small programs, and the
example kernels re-run on the simulator, with the hazard checker on, after their hand-written
codes are replaced by the pass's.

Latencies as ``reference/gpu-facts.md`` ("Latencies", "Control codes") and
``reference/sass-codegen.md`` §1 give them, written here as numbers: ALU -> ALU and
FMA -> FMA 4, across the classes (and into a memory instruction or from FP16) 5, IMAD.WIDE's
low / high half 3 / 5, a predicate read as a guard 13, a scoreboard waited on at least 2
cycles after its setter issues. Control codes in CuAssembler's notation
``[Bwait:Rread:Wwrite:Y:Sstall]``.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest

from tests.compiler.ctrl_support import (
    first_violation,
    kernel,
    stripped,
    total_stall,
    walk,
)
from tests.e2e.kernels import (
    EPS32,
    NAMES,
    blocks_for,
    butterfly_warp_sums,
    collatz_inputs,
    collatz_steps,
    load_example,
    saxpy_inputs,
    tree_block_sums,
)
from warpforge.compiler.sass import assign_control_codes, ctrlcodes
from warpforge.isa import assemble
from warpforge.simulator import Simulator


def assert_codes(expected_text: str, header: str = "") -> None:
    """The pass gives exactly the codes of ``expected_text`` to its instructions, stripped."""
    expected = kernel(expected_text, header)
    got = assign_control_codes(stripped(expected))
    assert str(got) == str(expected)
    assert got == expected
    assert first_violation(got) is None


# --- codes worked out by hand ----------------------------------------------------------------


def test_saxpy_by_hand():
    assert_codes("""
        [B------:R-:W0:-:S01]  S2R R0, SR_TID.X ;
        [B------:R-:W1:-:S01]  S2R R3, SR_CTAID.X ;
        [B------:R-:W-:-:S01]  MOV R5, 0x4 ;
        [B01----:R-:W-:Y:S05]  IMAD R0, R3, c[0x0][0x0], R0 ;
        [B------:R-:W-:Y:S13]  ISETP.GE.AND P0, PT, R0, c[0x0][0x160], PT ;
        [B------:R-:W-:-:S01]  @P0 EXIT ;
        [B------:R-:W-:-:S01]  IMAD.WIDE R2, R0, R5, c[0x0][0x168] ;
        [B------:R-:W-:Y:S04]  IMAD.WIDE R6, R0, R5, c[0x0][0x170] ;
        [B------:R-:W0:-:S01]  LDG.E R4, [R2.64] ;
        [B------:R-:W1:-:S02]  LDG.E R8, [R6.64] ;
        [B01----:R-:W-:Y:S05]  FFMA R8, R4, c[0x0][0x164], R8 ;
        [B------:R0:W-:-:S02]  STG.E [R6.64], R8 ;
        [B0-----:R-:W-:-:S01]  EXIT ;
    """)
    # Walking backwards from the end (cycles before the end in brackets):
    # EXIT [1]; it waits on every scoreboard, so the STG's sources are protected by a read
    # scoreboard (SB0, the first free), set >= 2 cycles before: STG [3], S02.
    # FFMA -> STG source: 5 -> FFMA [8], S05. The loads' write scoreboards SB0, SB1 are
    # waited on by the FFMA: LDG R8 [10] (S02), LDG R4 [11] (S01, one issue per cycle).
    # IMAD.WIDE R6: the LDG of [R6.64] reads its high half R7, 5 -> [15], S04.
    # IMAD.WIDE R2: R3 (high half) read by the LDG at [11] -> [16], S01. @P0 EXIT [17].
    # ISETP -> the EXIT's guard: 13 -> [30], S13. IMAD (FMA) -> ISETP (ALU): 5 -> [35],
    # S05. MOV R5 -> IMAD.WIDE (ALU -> FMA) 5 -> [21], so one issue per cycle: [36], S01.
    # The S2Rs arm SB0 and SB1, waited on by the IMAD: [37], [38], S01 each.
    # Y wherever the stall is 4 or more, as ptxas sets it.


SIX_S2R = """
        [B------:R-:W0:-:S01]  S2R R0, SR_TID.X ;
        [B------:R-:W1:-:S01]  S2R R1, SR_TID.Y ;
        [B------:R-:W2:-:S01]  S2R R2, SR_TID.Z ;
        [B------:R-:W3:-:S01]  S2R R3, SR_CTAID.X ;
        [B------:R-:W4:-:S01]  S2R R4, SR_CTAID.Y ;
        [B------:R-:W5:-:S01]  S2R R5, SR_CTAID.Z ;
"""
"""Six S2R results outstanding: every scoreboard busy, each holding one."""


def test_a_seventh_producer_shares_a_scoreboard_of_its_kind():
    assert_codes(SIX_S2R + """
        [B------:R-:W3:-:S01]  S2R R6, SR_LANEID ;
        [B012---:R-:W-:-:S01]  IADD3 R7, R0, R1, R2 ;
        [B---345:R-:W-:Y:S04]  IADD3 R8, R3, R4, R5 ;
        [B------:R-:W-:-:S01]  IADD3 R9, R6, R7, R8 ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # Six results are outstanding when the seventh S2R issues. Every scoreboard holds an
    # S2R's result, so it shares one, the one first waited on latest (SB3, waited on by
    # the second IADD3, with SB4 and SB5): issued at once, where evicting SB0 (NAK's
    # rule) would wait for R0 first. The wait on SB3 then covers R6 too. (A GEMM's
    # fragment loads evicting each other waited out each load's latency in turn.)


def test_a_producer_with_none_of_its_kind_evicts_the_oldest():
    assert_codes(SIX_S2R + """
        [B0-----:R-:W0:-:S01]  MUFU.RCP R6, R10 ;
        [B-12---:R-:W-:-:S01]  IADD3 R7, R0, R1, R2 ;
        [B---345:R-:W-:Y:S04]  IADD3 R8, R3, R4, R5 ;
        [B0-----:R-:W-:-:S01]  IADD3 R9, R6, R7, R8 ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # No scoreboard holds a MUFU's result: the MUFU evicts the oldest (SB0, R0's, all
    # S2Rs alike), waiting on it itself. R0 is then ready, so the first IADD3 waits only
    # on SB1 and SB2.


def test_global_loads_waited_on_late_share_a_scoreboard():
    # A GEMM's K step: the next tile's six global loads first, stored at the end; between
    # them, shared loads the math waits on at once. The global loads share one scoreboard
    # (their stores come long after), so the shared loads find free ones and their
    # consumers never wait on global memory (NAK's allocation gave each load its own, and
    # the first shared load evicted the oldest: a wait on DRAM).
    loads = "".join(f"LDG.E R{10 + k}, [R2.64+{4 * k:#x}] ;\n" for k in range(6))
    math = "".join(f"LDS R{20 + k}, [R4+{4 * k:#x}] ;\nFADD R{30 + k}, R{20 + k}, R{20 + k} ;\n"
                   for k in range(6))
    stores = "".join(f"STS [R4+{0x100 + 4 * k:#x}], R{10 + k} ;\n" for k in range(6))
    program = assign_control_codes(stripped(kernel(loads + math + stores + "EXIT ;\n")))
    insts = program.instructions
    ldg = [inst.ctrl.write for inst in insts if inst.opcode == "LDG"]
    assert len(set(ldg)) == 1
    for inst in insts:
        if inst.opcode in ("LDS", "FADD"):
            assert not inst.ctrl.wait & (1 << ldg[0]), inst
    assert first_violation(program) is None


def test_a_full_set_of_scoreboards_evicts_what_completes_first():
    # Five global loads (each waited on soon: no sharing) and a shared load hold all six
    # scoreboards; the seventh producer (a MUFU: none of its kind to share with) evicts
    # the shared load's (issued last, but done after 24 cycles, long before global memory
    # answers), not the oldest global load's.
    loads = "".join(f"LDG.E R{10 + k}, [R2.64+{4 * k:#x}] ;\n" for k in range(5))
    program = assign_control_codes(stripped(kernel(
        loads + "LDS R20, [R4] ;\nMUFU.RCP R21, R4 ;\n"
        + "".join(f"FADD R{30 + k}, R{10 + k}, R{10 + k} ;\n" for k in range(5))
        + "FADD R40, R20, R21 ;\nEXIT ;\n")))
    insts = program.instructions
    lds = next(inst for inst in insts if inst.opcode == "LDS")
    mufu = next(inst for inst in insts if inst.opcode == "MUFU")
    assert mufu.ctrl.wait == 1 << lds.ctrl.write
    assert first_violation(program) is None


def test_write_after_read_takes_a_read_scoreboard():
    assert_codes("""
        [B------:R0:W-:-:S02]  STS [R2], R3 ;
        [B0-----:R-:W-:-:S01]  MOV R3, 0x1 ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # The store may read R3 late; the MOV that overwrites it waits on the store's read
    # scoreboard, set >= 2 cycles earlier. Nothing is left for EXIT to wait on.
    assert_codes("""
        [B------:R0:W1:-:S02]  LDS R4, [R2] ;
        [B0-----:R-:W-:-:S01]  IADD3 R2, R2, 0x4, RZ ;
        [B-1----:R-:W-:-:S01]  FADD R5, R4, R4 ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # The address register is overwritten before the load's result is used: a read
    # scoreboard (SB0) for the IADD3, a write scoreboard (SB1) for the FADD.


def test_a_load_that_overwrites_its_address_needs_no_read_scoreboard():
    assert_codes("""
        [B------:R-:W0:-:S02]  LDS R2, [R2] ;
        [B0-----:R-:W-:-:S01]  IADD3 R2, R2, 0x4, RZ ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # The load's own write protects its source (it reads before it writes), and waiting
    # on a write scoreboard completes the read too.


def test_predicate_written_in_one_block_guards_the_next():
    assert_codes("""
        [B------:R-:W-:Y:S05]  FFMA R0, R1, R2, R3 ;
        [B------:R-:W-:Y:S13]  ISETP.GE.AND P0, PT, R0, RZ, PT ;
.L_top:
        [B------:R-:W-:-:S01]  @P0 MOV R4, 0x1 ;
        [B------:R-:W-:-:S01]  @!P0 BRA `(.L_top) ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # The ISETP ends its block; the next block (a branch target) reads P0 as a guard at its
    # first instruction, so the ISETP issues 13 cycles before that block's start. FFMA ->
    # ISETP: 5 (FMA -> ALU).


def test_a_result_live_across_blocks_is_ready_where_it_is_read():
    assert_codes("""
        [B------:R-:W-:-:S02]  IADD3 R5, R0, R1, RZ ;
        [B------:R-:W-:-:S01]  BSSY B0, `(.L_join) ;
.L_loop:
        [B------:R-:W-:-:S01]  @P0 BRA `(.L_loop) ;
.L_join:
        [B------:R-:W-:Y:S01]  BSYNC B0 ;
        [B------:R-:W-:-:S01]  FADD R7, R5, R5 ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # R5 (ALU) is read by the FADD (FMA class): 5 cycles. The shortest path from the IADD3
    # to it runs BSSY, BRA, BSYNC: the FADD is the 4th issue after the IADD3, each at
    # least one cycle apart, so the IADD3 needs one more: S02 (NAK's block-end rule would
    # ask for 5 cycles at the end of the IADD3's block). BSYNC always yields (NAK).


def test_a_write_predicated_off_cannot_expose_an_earlier_result_in_flight():
    assert_codes("""
        [B------:R-:W-:-:S03]  HADD2 R0, R2, R3 ;
        [B------:R-:W-:-:S03]  @P0 IMAD.WIDE R0, R4, R5, RZ ;
        [B------:R-:W-:-:S01]  IADD3 R6, R0, RZ, RZ ;
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # IADD3 reads IMAD.WIDE's low half: 3 cycles. Threads with P0 false read HADD2's R0
    # instead, which needs 5 (FP16 -> ALU): so the two writes must land in order, the
    # IMAD.WIDE's low half (3) after the HADD2's result (up to 5): 3 cycles apart.


def test_bar_and_bsync_yield_and_a_branch_waits_on_everything():
    assert_codes("""
        [B------:R0:W-:-:S01]  STS [R0], R1 ;
        [B------:R-:W-:Y:S01]  BAR.SYNC 0x0 ;
        [B------:R-:W1:-:S02]  LDS R2, [R0+0x4] ;
        [B01----:R-:W-:-:S01]  @P0 BRA `(.L_end) ;
        [B------:R-:W-:-:S01]  EXIT ;
.L_end:
        [B------:R-:W-:-:S01]  EXIT ;
    """)
    # The BRA waits on the store's read scoreboard and the load's write scoreboard, each set
    # >= 2 cycles before: the LDS right before it stalls 2 (it takes SB1: SB0 is still
    # held by the store). BAR waits on nothing of its own and always yields (NAK).


# --- NOPs ------------------------------------------------------------------------------------


def test_stalls_above_15_are_split_over_nops_and_labels_follow(monkeypatch):
    # No latency of today's table needs more than 15 cycles, so stretch one stall.
    program = kernel("""
        IADD3 R0, R1, R2, RZ ;
.L_a:
        IADD3 R3, R0, R0, RZ ;
        @P0 BRA `(.L_a) ;
        EXIT ;
    """)
    real = ctrlcodes.assign_delays

    def stretched(blocks, accesses, sbs):
        delays = real(blocks, accesses, sbs)
        return replace(delays, stalls=(delays.stalls[0] + 31, *delays.stalls[1:]))

    monkeypatch.setattr(ctrlcodes, "assign_delays", stretched)
    got = assign_control_codes(program)
    monkeypatch.undo()
    base = assign_control_codes(program)
    stalls = [inst.ctrl.stall for inst in got.instructions]
    assert [inst.opcode for inst in got.instructions] == [
        "IADD3", "NOP", "NOP", "IADD3", "BRA", "EXIT"]
    # 31 more cycles: the instruction keeps 15, the NOPs carry the rest, 15 at most each.
    assert stalls[:3] == [15, 15, base.instructions[0].ctrl.stall + 31 - 30]
    assert sum(stalls) == total_stall(base) + 31
    assert got.label_map == {".L_a": 3}
    assert all(inst.ctrl.yield_ == (inst.ctrl.stall >= 4) for inst in got.instructions[:3])
    assert first_violation(got) is None
    # NOPs in the input are dropped, so the pass is idempotent on its own output.
    again = assign_control_codes(got)
    assert again == base


def test_nops_in_the_input_are_dropped_and_labels_move_to_the_next_instruction():
    program = kernel("""
        NOP ;
.L_a:
        NOP ;
        IADD3 R0, R1, R2, RZ ;
        @P0 BRA `(.L_a) ;
.L_end:
        NOP ;
    """)
    got = assign_control_codes(program)
    assert [inst.opcode for inst in got.instructions] == ["IADD3", "BRA"]
    assert got.label_map == {".L_a": 0, ".L_end": 2}


# --- the example kernels --------------------------------------------------------------------


def recompiled(name: str):
    """Example ``name`` with its hand-written control codes replaced by the pass's."""
    return assign_control_codes(stripped(load_example(name)))


def sim() -> Simulator:
    return Simulator(arch="test", check_hazards=True)


@pytest.mark.parametrize("name", NAMES)
def test_example_codes_are_as_tight_as_the_hand_written_ones(name):
    hand = load_example(name)
    ours = recompiled(name)
    assert [replace(i, ctrl=None) for i in ours.instructions] == [
        replace(i, ctrl=None) for i in hand.instructions]
    assert ours.labels == hand.labels
    assert total_stall(ours) <= 1.25 * total_stall(hand), (
        f"{name}: {total_stall(ours)} stall cycles, hand-written {total_stall(hand)}")
    assert first_violation(ours, seed=len(name), walks=16) is None


@pytest.mark.parametrize("name", NAMES)
def test_example_codes_are_idempotent(name):
    once = recompiled(name)
    assert assign_control_codes(once) == once
    assert assemble(str(once)) == once


@pytest.mark.parametrize(("n", "block"), [(1, 32), (1061, 128)])
def test_saxpy_with_computed_codes(n, block):
    a, x, y = saxpy_inputs(n, seed=n)
    expected = y.copy()
    expected[:n] = a * x[:n] + y[:n]
    sim().launch(recompiled("saxpy"), blocks_for(n, block), block, [np.int32(n), a, x, y])
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize(("n", "block"), [(1000, 256), (300, 64)])
def test_reduce_smem_with_computed_codes(n, block):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    blocks = blocks_for(n, block)
    out = np.full(blocks, np.nan, np.float32)
    sim().launch(recompiled("reduce_smem"), blocks, block, [x, out, np.int32(n)])
    np.testing.assert_array_equal(out, tree_block_sums(x, block, blocks))


@pytest.mark.parametrize(("n", "block"), [(1000, 256), (2049, 128)])
def test_reduce_shfl_with_computed_codes(n, block):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    blocks = blocks_for(n, block)
    out = np.zeros(1, np.float32)
    sim().launch(recompiled("reduce_shfl"), blocks, block, [x, out, np.int32(n)])
    warp_sums = butterfly_warp_sums(x, blocks * block)
    exact = math.fsum(warp_sums.astype(np.float64))
    bound = warp_sums.size * EPS32 * float(np.abs(warp_sums).astype(np.float64).sum())
    assert abs(float(out[0]) - exact) <= bound


@pytest.mark.parametrize(("n", "block"), [(1, 32), (333, 64)])
def test_divergent_loops_with_computed_codes(n, block):
    x = collatz_inputs(n, seed=n)
    steps = np.full(n + 2, 0xDEADBEEF, np.uint32)
    sim().launch(recompiled("divergent_loops"), blocks_for(n, block), block,
                 [np.int32(n), x, steps])
    np.testing.assert_array_equal(steps[:n], collatz_steps(x[:n]))
    np.testing.assert_array_equal(steps[n:], 0xDEADBEEF)


def test_walk_follows_branches():
    # The helper the properties rely on: without choices it runs the straight path; with
    # them a taken backward branch re-issues the loop body, and a guarded EXIT may end it.
    program = recompiled("divergent_loops")
    path, found = walk(program)
    assert found is None
    assert path == list(range(len(program)))
    loop = program.label_map[".L_step"]
    paths = [walk(program, random.Random(seed))[0] for seed in range(20)]
    assert any(path.count(loop) > 1 for path in paths)
    assert any(len(path) < 10 for path in paths)  # left at @P0 EXIT
