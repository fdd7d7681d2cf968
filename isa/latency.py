"""Dependent-issue latencies between instructions, read from the opcode table's classes.

One place for the numbers the hazard checker (and later the compiler's scheduler and
control-code pass) use. Figures from ``reference/gpu-facts.md`` and
``reference/sass-codegen.md`` (Mesa NAK ``sm80_instr_latencies.rs``): within the ALU or the
FMA class 4 cycles, across them 5, FP16 results and memory/other consumers 5, IMAD.WIDE's
low half 3 and high half 5, and a predicate read as a guard or branch condition 13.
"""

from __future__ import annotations

from collections.abc import Mapping

from .opcodes import OpcodeInfo, Unit

SAME_CLASS = 4
"""ALU -> ALU and FMA -> FMA."""
CROSS_CLASS = 5
"""ALU <-> FMA, and anything from or to FP16."""
WIDE_LOW = 3
"""IMAD.WIDE's low result register."""
WIDE_HIGH = 5
"""IMAD.WIDE's high result register."""
GUARD = 13
"""A predicate written by a fixed-latency instruction, read as a guard."""
FP64_RESULT = 10
"""An FP64 result (DADD, DMUL, DFMA, DSETP) to any consumer (NAK: FP64 -> ALU 10)."""
FIXED_CLASSES = (Unit.ALU, Unit.FMA, Unit.FP16, Unit.FP64)
"""Units whose results are waited for with stall counts."""


def raw_latency(producer: OpcodeInfo, consumer: OpcodeInfo, *, wide_half: int | None = None,
                as_guard: bool = False) -> int:
    """Cycles from a fixed-latency producer's issue until ``consumer`` may read its result.

    ``wide_half`` is 0 or 1 for the low or high register of an IMAD.WIDE result;
    ``as_guard`` marks a predicate read as the consumer's guard.
    """
    if producer.unit == Unit.FP64:
        return max(FP64_RESULT, GUARD if as_guard else 0)
    if as_guard:
        return GUARD
    if wide_half is not None:
        return WIDE_LOW if wide_half == 0 else WIDE_HIGH
    if producer.unit == consumer.unit and producer.unit in (Unit.ALU, Unit.FMA):
        return SAME_CLASS
    return CROSS_CLASS


def has_split_result(info: OpcodeInfo, modifiers: Mapping[str, str]) -> bool:
    """True when the instruction's 64-bit result lands in two halves at different times.

    That is IMAD.WIDE (``modifiers`` resolved by ``info.resolve``): its low register is ready
    after :data:`WIDE_LOW` cycles and its high register after :data:`WIDE_HIGH`; pass
    ``wide_half`` to :func:`raw_latency` for its destination registers.
    """
    return info.name == "IMAD" and modifiers.get("mode") == "WIDE"
