"""Property and end-to-end tests of the hazard checker: a reference scheduler's control
codes always pass and any shortened stall fails; the vectorized checker agrees with one
checker per thread; launches with the checker on raise HazardError for broken codes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.isa.strategies import programs
from warpforge.isa import assemble
from warpforge.isa.program import Program
from warpforge.simulator import HazardError, Simulator
from warpforge.simulator.hazards import HazardChecker

from .hazard_support import (
    ALU_ALU,
    CROSS,
    GUARD,
    WIDE_HIGH,
    WIDE_LOW,
    cc,
    kernel,
    run,
)

# --- property: a correct reference scheduler is never flagged, a short stall always is -----

FIXED_OPS = ("IADD3", "LOP3", "MOV", "FFMA", "FADD", "IMAD", "IMAD.WIDE", "ISETP")
"""Fixed-latency opcodes; IMAD, FFMA and FADD are of the FMA class, the rest ALU."""


@st.composite
def straight_line(draw):
    """Random fixed-latency instructions over R0-R7 and P0-P1, some guarded:
    ``(opcode, destination, three sources, guard)``."""
    body = []
    for _ in range(draw(st.integers(2, 12))):
        op = draw(st.sampled_from(FIXED_OPS))
        dst = draw(st.integers(0, 7))
        src = [draw(st.integers(0, 7)) for _ in range(3)]
        if op == "IMAD.WIDE":
            dst, src[2] = dst & ~1, src[2] & ~1
        if op == "ISETP":
            dst %= 2
        guard = draw(st.sampled_from(["", "@P0 ", "@!P1 "]))
        body.append((op, dst, src, guard))
    return body


def _text(op, dst, src, guard) -> str:
    a, b, c = (f"R{s}" for s in src)
    operands = {
        "ISETP": f"ISETP.LT.AND P{dst}, PT, {a}, {b}, PT",
        "LOP3": f"LOP3.LUT R{dst}, {a}, {b}, {c}, 0x96",
        "MOV": f"MOV R{dst}, {a}",
        "FADD": f"FADD R{dst}, {a}, {b}",
    }.get(op, f"{op} R{dst}, {a}, {b}, {c}")
    return guard + operands


def _build(body, stalls) -> Program:
    return kernel("\n".join(f"{cc(stall)} {_text(*inst)} ;"
                            for inst, stall in zip(body, stalls, strict=True)))


def _deps(op, dst, src, guard):
    """(reads, writes) as (name, latency class) pairs, from the description above."""
    cls = "fma" if op in ("FFMA", "FADD", "IMAD", "IMAD.WIDE") else "alu"
    used = {"MOV": 1, "FADD": 2, "ISETP": 2}.get(op, 3)
    reads = [(f"R{s}", cls) for s in src[:used]]
    if guard:
        reads.append((f"P{guard[-2]}", "guard"))
    if op == "IMAD.WIDE":
        reads.append((f"R{src[2] + 1}", cls))
        writes = [(f"R{dst}", "wide_low"), (f"R{dst + 1}", "wide_high")]
    elif op == "ISETP":
        writes = [(f"P{dst}", cls)]
    else:
        writes = [(f"R{dst}", cls)]
    return reads, writes


def _needed(producer: str, consumer: str) -> int:
    """gpu-facts.md: same class 4, across 5, IMAD.WIDE halves 3/5, guard 13."""
    if consumer == "guard":
        return GUARD
    if producer == "wide_low":
        return WIDE_LOW
    if producer == "wide_high":
        return WIDE_HIGH
    return ALU_ALU if producer == consumer else CROSS


def _reference_schedule(body) -> list[int]:
    """Earliest issue cycle of each instruction, in order, at most one issue per cycle."""
    times: list[int] = []
    last: dict[str, tuple[int, str]] = {}
    for inst in body:
        reads, writes = _deps(*inst)
        t = times[-1] + 1 if times else 0
        for name, cls in reads:
            if name in last:
                j, producer = last[name]
                t = max(t, times[j] + _needed(producer, cls))
        times.append(t)
        last.update((name, (len(times) - 1, cls)) for name, cls in writes)
    return times


@settings(max_examples=150, deadline=None)
@given(straight_line(), st.data())
def test_reference_schedule_passes_and_any_short_stall_fails(body, data):
    times = _reference_schedule(body)
    stalls = [b - a for a, b in itertools.pairwise(times)] + [1]
    assert run(_build(body, stalls)) is None
    # Shorten the stall before an instruction whose issue a dependence held back: that
    # dependence is now too short, and that instruction is the first one flagged.
    held = [i for i in range(1, len(times)) if stalls[i - 1] > 1]
    if held:
        i = data.draw(st.sampled_from(held))
        shorter = list(stalls)
        shorter[i - 1] = data.draw(st.integers(0, stalls[i - 1] - 1))
        found = run(_build(body, shorter))
        assert found is not None
        assert found[0] == i
        assert "stall counts too short" in found[2]


# --- property: the vectorized checker agrees with one checker per thread ---------------------

@settings(max_examples=100, deadline=None)
@given(programs(max_instructions=10), st.data())
def test_vectorized_issue_matches_one_thread_at_a_time(prog, data):
    """Issuing to a set of threads at once gives the verdict of issuing to each alone (the
    lowest offending thread and its message), on any program and any order of issues."""
    if not prog.instructions:
        return
    threads = 5
    together = HazardChecker(prog, threads)
    alone = [HazardChecker(prog, 1) for _ in range(threads)]
    steps = data.draw(st.lists(
        st.tuples(st.integers(0, len(prog) - 1),
                  st.lists(st.booleans(), min_size=threads, max_size=threads)),
        max_size=30))
    for pc, bits in steps:
        mask = np.array(bits)
        verdicts = {k: alone[k].issue(pc, np.ones(1, bool)) for k in np.flatnonzero(mask)}
        offenders = {k: v[1] for k, v in verdicts.items() if v is not None}
        found = together.issue(pc, mask)
        if not offenders:
            assert found is None
            continue
        first = min(offenders)
        assert found == (first, offenders[first])
        return


# --- end to end: launches with the checker on ---------------------------------------------

SAXPY = """
.kernel saxpy
.param n i32
.param a f32
.param x f32*
.param y f32*
        [B------:R-:W0:-:S01]  S2R R0, SR_TID.X ;
        [B------:R-:W1:-:S01]  S2R R3, SR_CTAID.X ;
        [B------:R-:W-:-:S01]  MOV R5, 0x4 ;
        [B01----:R-:W-:-:S05]  IMAD R0, R3, c[0x0][0x0], R0 ;
        [B------:R-:W-:-:S13]  ISETP.GE.AND P0, PT, R0, c[0x0][0x160], PT ;
        [B------:R-:W-:-:S01]  @P0 EXIT ;
        [B------:R-:W-:-:S01]  IMAD.WIDE R2, R0, R5, c[0x0][0x168] ;
        [B------:R-:W-:-:S05]  IMAD.WIDE R6, R0, R5, c[0x0][0x170] ;
        [B------:R-:W2:-:S01]  LDG.E R4, [R2.64] ;
        [B------:R-:W3:-:S02]  LDG.E R8, [R6.64] ;
        [B--23--:R-:W-:-:S05]  FFMA R8, R4, c[0x0][0x164], R8 ;
        [B------:R-:W-:-:S01]  STG.E [R6.64], R8 ;
        [B------:R-:W-:-:S01]  EXIT ;
"""
"""y = a*x + y with control codes worked out by hand from gpu-facts.md: S2R -> IMAD through
scoreboards, IMAD (FMA) -> ISETP (ALU) 5, ISETP -> guard 13, IMAD.WIDE halves 3/5 before the
loads' addresses, the loads' scoreboards waited by the FFMA, FFMA -> store source 5."""


def _saxpy(n: int, kernel_text: str, check: bool):
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)
    Simulator(check_hazards=check).launch(assemble(kernel_text), 4, 32,
                                          [n, np.float32(2.0), x, y])
    return y


def test_launch_with_correct_control_codes_runs():
    n = 100
    np.testing.assert_array_equal(_saxpy(n, SAXPY, check=True),
                                  2 * np.arange(n, dtype=np.float32) + 1)


@pytest.mark.parametrize("old, new, pc, detail", [
    ("S13]  ISETP", "S12]  ISETP", 5,
     "EXIT at /*0050*/ reads P0 as its guard 12 cycles after ISETP.GE.AND at /*0040*/ wrote "
     "it; needs 13 (stall counts too short by 1)"),
    ("B--23--:R-:W-:-:S05", "B--2---:R-:W-:-:S05", 10,
     "FFMA at /*00a0*/ reads R8 before LDG.E at /*0090*/ has written it; wait on SB3 (its "
     "write scoreboard) first"),
    ("B--23--:R-:W-:-:S05", "B--23--:R-:W-:-:S04", 11,
     "STG.E at /*00b0*/ reads R8 4 cycles after FFMA at /*00a0*/ wrote it; needs 5 (stall "
     "counts too short by 1)"),
])
def test_launch_with_a_broken_control_code_raises_hazard_error(old, new, pc, detail):
    """The functional result is right either way (the simulator runs in order), which is why
    the checker exists: with it on, the launch stops at the first unprotected access."""
    broken = SAXPY.replace(old, new)
    assert broken != SAXPY
    n = 100
    np.testing.assert_array_equal(_saxpy(n, broken, check=False),
                                  2 * np.arange(n, dtype=np.float32) + 1)
    with pytest.raises(HazardError) as info:
        _saxpy(n, broken, check=True)
    assert (info.value.pc, info.value.thread, info.value.block) == (pc, (0, 0, 0), (0, 0, 0))
    assert info.value.detail == detail
