"""Properties of the control-code pass, checked against the independent hazard checker
(``simulator/hazards.py``) and the simulator:

* random programs -- straight-line and branchy ones over a small register pool, and any valid
  program at all -- get codes that the checker never flags, on the straight path and on
  random paths through their branches; straight-line ones also run on the simulator with the
  checker on;
* the pass is idempotent;
* negative controls: shortening any stall a dependence needed, or dropping any wait bit that
  protects a read or a write, IS flagged -- the pass and the checker agree on what is needed,
  and the pass asks for nothing more than that (every other wait is an eviction, or sits on a
  branch, an EXIT or a label target, which wait on everything).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compiler.ctrl_support import (
    branchy,
    first_violation,
    many_outstanding,
    straight_line,
    walk,
)
from tests.isa.strategies import programs
from warpforge.compiler.sass import assign_control_codes
from warpforge.compiler.sass.cfg import targets
from warpforge.compiler.sass.ctrlcodes import analyze
from warpforge.compiler.sass.regs import access
from warpforge.isa import Control, Program
from warpforge.isa.program import NO_BARRIER, NUM_SCOREBOARDS
from warpforge.simulator import Simulator

SEEDS = st.integers(0, 2**16)


@settings(max_examples=150, deadline=None)
@given(st.one_of(straight_line(), branchy(), many_outstanding()), SEEDS)
def test_pool_programs_are_never_flagged_on_any_path(program, seed):
    ours = assign_control_codes(program)
    found = first_violation(ours, seed)
    assert found is None, f"{found}\n{ours}"
    assert assign_control_codes(ours) == ours


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(max_instructions=20), SEEDS)
def test_any_valid_program_is_never_flagged_on_any_path(program, seed):
    ours = assign_control_codes(program)
    found = first_violation(ours, seed)
    assert found is None, f"{found}\n{ours}"
    assert assign_control_codes(ours) == ours
    # Only control codes and NOPs change.
    def body(p: Program):
        return [replace(inst, ctrl=Control()) for inst in p.instructions if inst.opcode != "NOP"]
    assert body(ours) == body(program)
    assert [inst.ctrl.yield_ for inst in ours.instructions] == [
        inst.ctrl.stall >= 4 or inst.opcode in ("BAR", "BSYNC") for inst in ours.instructions]


@settings(max_examples=40, deadline=None)
@given(straight_line(max_size=12, with_shared_addresses=True))
def test_straight_line_programs_run_with_the_checker_on(program):
    # Two full warps (shuffles need them); the addresses are [RZ+offset] inside the CTA's
    # 64 bytes of shared memory, so every instruction runs in every thread. A HazardError
    # would be raised by the launch.
    result = Simulator(arch="test", check_hazards=True).launch(
        assign_control_codes(program), 1, 64, [])
    assert result.stats


# --- negative controls -----------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(st.one_of(straight_line(max_size=14), many_outstanding()))
def test_shortening_a_stall_a_dependence_needed_is_flagged(program):
    plain, _, delays = analyze(program)
    ours = assign_control_codes(program)
    assert len(ours) == len(plain)  # no NOPs: no latency exceeds 15
    for i, (stall, why) in enumerate(zip(delays.stalls, delays.reasons, strict=True)):
        # A stall above 1 is held there by a dependence on instruction i itself; RAW
        # latencies and scoreboard visibility are in the checker's model (WAW order is not).
        if stall <= 1 or why not in ("raw", "sb"):
            continue
        shorter = _with_ctrl(ours, i, replace(ours.instructions[i].ctrl, stall=stall - 1))
        _, found = walk(shorter)
        assert found is not None, f"stall of {i} cut to {stall - 1} unnoticed\n{shorter}"
        assert found[0] > i
        assert ("stall counts too short" in found[1]) == (why == "raw")


@settings(max_examples=120, deadline=None)
@given(st.one_of(straight_line(max_size=14), many_outstanding()))
def test_dropping_a_wait_that_protects_a_register_is_flagged(program):
    ours = assign_control_codes(program)
    insts = ours.instructions
    accesses = [access(inst) for inst in insts]
    wait_all = targets(ours) | {j for j, inst in enumerate(insts)
                                if inst.opcode in ("BRA", "EXIT")}
    for j, inst in enumerate(insts):
        for sb in range(NUM_SCOREBOARDS):
            if not inst.ctrl.wait >> sb & 1:
                continue
            # the instructions whose deps the scoreboard holds: those that set it since
            # the last wait on it (several share one)
            since = max((m for m in range(j) if insts[m].ctrl.wait >> sb & 1), default=-1)
            setters = [m for m in range(since, j)
                       if sb in (insts[m].ctrl.read, insts[m].ctrl.write)]
            if any(_protects(accesses[m], insts[m].ctrl, sb, accesses[j], read=False)
                   for m in setters):
                dropped = _with_ctrl(ours, j, replace(inst.ctrl, wait=inst.ctrl.wait & ~(1 << sb)))
                _, found = walk(dropped)
                assert found is not None and found[0] == j, (
                    f"wait on SB{sb} dropped from {j} unnoticed\n{dropped}")
            elif not any(_protects(accesses[m], insts[m].ctrl, sb, accesses[j])
                         for m in setters):
                # Not needed by a register of j: an eviction (j re-arms the scoreboard) or
                # a wait on everything. (A wait for a source to be read, WAR, is needed
                # but may not be observable: the checker reads sources 2 cycles after
                # issue, and a sharing scoreboard's reader may come later than that.)
                assert j in wait_all or sb in (inst.ctrl.read, inst.ctrl.write), (
                    f"{j} waits on SB{sb} for nothing\n{ours}")


def _protects(setter, ctrl: Control, sb: int, reader, read: bool = True) -> bool:
    """True when a wait on ``sb`` by ``reader`` is what makes its access to a register of
    ``setter`` safe: it reads or overwrites a result of ``setter`` guarded by its write
    scoreboard (RAW, WAW), or (``read``) overwrites a source ``setter`` may still be
    reading, guarded by its read scoreboard (WAR)."""
    results = {name for name, _ in setter.writes}
    touched = {name for name, _ in reader.reads} | {name for name, _ in reader.writes}
    if ctrl.write == sb and results & touched:
        return True
    if not read:
        return False
    sources = set(setter.sources) - results
    written = {name for name, _ in reader.writes}
    return ctrl.read == sb and ctrl.read != NO_BARRIER and bool(sources & written)


def _with_ctrl(program: Program, i: int, ctrl: Control) -> Program:
    insts = list(program.instructions)
    insts[i] = replace(insts[i], ctrl=ctrl)
    return replace(program, instructions=tuple(insts))
