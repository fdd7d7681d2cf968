"""The opcode table is well formed and agrees with the cited GPU facts."""

from __future__ import annotations

import itertools

import pytest

from warpforge.isa.encoding import STREAM_BITS, row_bits
from warpforge.isa.opcodes import BY_CODE, OPCODES, Kind, OpcodeInfo, Unit
from warpforge.isa.operands import NOT_PT, PT, RZ, Pred, Reg

ROWS = sorted(OPCODES.values(), key=lambda row: row.code)
SOURCE_KINDS = (Kind.RA, Kind.RB, Kind.RL)
PAYLOAD_KINDS = (Kind.ADDR, Kind.CADDR, Kind.LABEL)

# sass-codegen.md §1, "Scoreboarded ops" (NAK sm80_instr_latencies.rs): LD*/ST*/ATOM/LDC,
# S2R, SHFL, MUFU, I2F/F2I/F2F/FRND, POPC/FLO/BREV, MATCH; on SM80 also HMMA/IMMA/DMMA.
# RED is NAK's atomic without a result.
NAK_SCOREBOARDED_PREFIXES = ("LD", "ST", "ATOM")
NAK_SCOREBOARDED = {"RED", "S2R", "SHFL", "MUFU", "I2F", "F2I", "F2F", "FRND", "POPC", "FLO",
                    "BREV", "MATCH", "HMMA", "IMMA", "DMMA"}
# gpu-facts.md, "Latencies": dependent FFMA/FADD/FMUL/IMAD and ALU ops, 4 cycles.
FIXED_ALU_FMA_CYCLES = 4
# sass-codegen.md §1: "FP16 5".
FP16_CYCLES = 5


def is_nak_scoreboarded(name: str) -> bool:
    return name.startswith(NAK_SCOREBOARDED_PREFIXES) or name in NAK_SCOREBOARDED


def modifier_choices(row: OpcodeInfo):
    """Every modifier tuple the row accepts: per group one option, or none if optional."""
    per_group = [list(g.options) + ([] if g.required else [None]) for g in row.groups]
    for choice in itertools.product(*per_group):
        yield tuple(option for option in choice if option is not None), choice


def test_names_and_codes_are_unique_and_fit():
    assert len({row.code for row in ROWS}) == len(ROWS)
    assert all(0 <= row.code < 1 << 12 for row in ROWS)
    assert all(name == row.name for name, row in OPCODES.items())
    assert {code: row.name for code, row in BY_CODE.items()} == {r.code: r.name for r in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_operand_slots_are_well_formed(row):
    names = [spec.name for spec in row.operands]
    assert len(set(names)) == len(names)
    for spec in row.operands:
        assert isinstance(spec.kind, Kind)
        assert spec.type in ("int", "float")
        assert spec.flags <= {"neg", "abs", "inv"}
        if spec.flags:
            assert spec.kind in SOURCE_KINDS, spec.name
        assert 1 <= spec.bits <= 32
        if spec.kind in (Kind.LIT, Kind.RL):
            assert spec.bits < 32, "literals narrower than the payload"
    # At most one slot always needs the 32-bit payload.
    assert sum(spec.kind in PAYLOAD_KINDS for spec in row.operands) <= 1


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_defaults_are_valid_operands_of_their_slot(row):
    for spec in row.operands:
        if spec.default is None:
            continue
        if spec.kind is Kind.PD:
            assert spec.default == PT
        elif spec.kind is Kind.PS:
            assert isinstance(spec.default, Pred) and spec.default in (PT, NOT_PT)
        elif spec.kind in (Kind.RA, Kind.RB, Kind.RL):
            assert spec.default == RZ and isinstance(spec.default, Reg)
        else:
            pytest.fail(f"{row.name}.{spec.name}: no default expected for {spec.kind}")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_every_modifier_combination_resolves_to_itself(row):
    group_names = [g.name for g in row.groups]
    assert len(set(group_names)) == len(group_names)
    for group in row.groups:
        assert group.options and len(set(group.options)) == len(group.options)
    for written, choice in modifier_choices(row):
        expected = {g.name: o for g, o in zip(row.groups, choice, strict=True) if o is not None}
        assert row.resolve(written) == expected
        for spec, width in zip(row.operands, row.widths(written), strict=True):
            assert width in (1, 2, 4), (row.name, written, spec.name)
            if spec.kind is Kind.ADDR:
                assert width in (1, 2)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_required_group_left_out_is_rejected(row):
    for i, group in enumerate(row.groups):
        if not group.required:
            continue
        written = tuple(g.options[0] for j, g in enumerate(row.groups) if j != i and
                        g.required)
        with pytest.raises(ValueError, match=row.name):
            row.resolve(written)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_every_row_fits_the_operand_stream(row):
    assert row_bits(row) <= STREAM_BITS


def test_global_memory_ops_take_a_pair_base():
    """The ``.E`` (64-bit global address) rows and only they have a ``.64`` address base."""
    for row in ROWS:
        for spec in row.operands:
            if spec.kind is Kind.ADDR:
                extended = any(g.name == "e" for g in row.groups)
                assert spec.width_for({}) == (2 if extended else 1), row.name


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_variable_latency_rows_are_the_scoreboarded_ones(row):
    assert row.latency.variable == is_nak_scoreboarded(row.name)
    assert row.latency.cycles > 0


@pytest.mark.parametrize("row", [r for r in ROWS if not r.latency.variable
                                 and r.unit in (Unit.ALU, Unit.FMA)], ids=lambda r: r.name)
def test_fixed_alu_and_fma_latency_is_four_cycles(row):
    assert row.latency.cycles == FIXED_ALU_FMA_CYCLES


@pytest.mark.parametrize("row", [r for r in ROWS if r.unit is Unit.FP16], ids=lambda r: r.name)
def test_fp16_latency(row):
    assert not row.latency.variable and row.latency.cycles == FP16_CYCLES


@pytest.mark.parametrize(("name", "low", "high"), [
    ("MUFU", 21, 21),   # gpu-facts.md: MUFU ~21
    ("LDS", 23, 27),    # gpu-facts.md: LDS 23-27
    ("LDG", 32, 38),    # gpu-facts.md: LDG, L1 hit 32-38
    ("HMMA", 17, 17),   # gpu-facts.md: HMMA.16816 17
])
def test_typical_variable_latencies_match_the_facts(name, low, high):
    assert low <= OPCODES[name].latency.cycles <= high


def test_every_row_has_a_semantic_contract():
    for row in ROWS:
        assert row.doc.strip(), row.name
        assert isinstance(row.unit, Unit)
