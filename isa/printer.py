"""The canonical text of programs, instructions, operands and control codes.

``format_program`` writes exactly what the assembler reads back into an equal program
(see the assembly text format in the project's design notes): the header, then one line
per instruction with its byte offset and control code, labels on lines of their own and
``.loc``/``.noloc`` lines where the source location changes. Optional operands that hold
their default are left out, as the opcode table allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from .literals import format_f32, format_hex, format_signed_word, quote
from .opcodes import OPCODES, Kind, OperandSpec
from .operands import (
    PT,
    PT_INDEX,
    RZ_INDEX,
    Addr,
    BarrierReg,
    Const,
    Imm,
    Label,
    Operand,
    Pred,
    Reg,
    SpecialReg,
)
from .program import NO_BARRIER, NUM_SCOREBOARDS, Control, Instruction, Program, SourceLoc

INSTRUCTION_BYTES = 16
"""Each instruction is one 128-bit word; offsets in the text count bytes."""
INDENT = " " * 8
"""Instruction lines start with eight spaces, as cuobjdump's do."""


def format_control(ctrl: Control) -> str:
    """A control code in CuAssembler's notation, e.g. ``[B0-----:R-:W1:Y:S04]``."""
    wait = "".join(str(i) if ctrl.wait >> i & 1 else "-" for i in range(NUM_SCOREBOARDS))
    read = "-" if ctrl.read == NO_BARRIER else str(ctrl.read)
    write = "-" if ctrl.write == NO_BARRIER else str(ctrl.write)
    return f"[B{wait}:R{read}:W{write}:{'Y' if ctrl.yield_ else '-'}:S{ctrl.stall:02d}]"


def _register(index: int) -> str:
    return "RZ" if index == RZ_INDEX else f"R{index}"


def _offset(offset: int) -> str:
    """``+0x10``, ``-0x10``, or nothing for zero."""
    if not offset:
        return ""
    return f"-0x{-offset:x}" if offset < 0 else f"+0x{offset:x}"


def _signed(text: str, neg: bool, abs_: bool, inv: bool = False) -> str:
    body = f"|{text}|" if abs_ else text
    return ("-" if neg else "") + ("~" if inv else "") + body


def format_operand(operand: Operand, spec: OperandSpec | None = None) -> str:
    """One operand; ``spec`` (its slot) decides how an immediate prints."""
    if isinstance(operand, Reg):
        name = _register(operand.index) + (".reuse" if operand.reuse else "")
        return _signed(name, operand.neg, operand.abs, operand.inv)
    if isinstance(operand, Pred):
        return ("!" if operand.neg else "") + ("PT" if operand.index == PT_INDEX
                                                else f"P{operand.index}")
    if isinstance(operand, Imm):
        if spec is not None and spec.kind in (Kind.LIT, Kind.RL):
            return format_hex(operand.bits)
        if spec is not None and spec.type == "float":
            return format_f32(operand.bits)
        return format_signed_word(operand.bits)
    if isinstance(operand, Const):
        index = format_hex(operand.offset)
        if operand.reg is not None:
            index = _register(operand.reg) + _offset(operand.offset)
        return _signed(f"c[{format_hex(operand.bank)}][{index}]", operand.neg, operand.abs)
    if isinstance(operand, Addr):
        return f"[{_register(operand.reg)}{'.64' if operand.wide else ''}" \
               f"{_offset(operand.offset)}]"
    if isinstance(operand, SpecialReg):
        return operand.name
    if isinstance(operand, Label):
        return f"`({operand.name})"
    if isinstance(operand, BarrierReg):
        return f"B{operand.index}"
    raise TypeError(f"not an operand: {operand!r}")


def printed_slots(specs: Sequence[OperandSpec], operands: Sequence[Operand]) -> list[int]:
    """Indices of the operands the canonical text writes.

    An optional slot holding its default is left out, except that within a run of adjacent
    optional slots of one kind everything up to the last non-default one is written (so
    the assembler, filling optional slots in order, puts each operand back in its slot).
    """
    keep = []
    i = 0
    while i < len(specs):
        if not specs[i].optional:
            keep.append(i)
            i += 1
            continue
        end = i
        while end < len(specs) and specs[end].optional and specs[end].kind is specs[i].kind:
            end += 1
        last = max((k for k in range(i, end) if operands[k] != specs[k].default), default=-1)
        keep.extend(range(i, last + 1))
        i = end
    return keep


def format_instruction(inst: Instruction) -> str:
    """An instruction without offset, control code or ``;``: ``@P0 LDG.E R2, [R2.64]``."""
    guard = "" if inst.guard == PT else f"@{format_operand(inst.guard)} "
    info = OPCODES.get(inst.opcode)
    specs = info.operands if info is not None else ()
    if len(specs) == len(inst.operands):
        texts = [format_operand(inst.operands[i], specs[i])
                 for i in printed_slots(specs, inst.operands)]
    else:  # not a valid instruction; still say what it holds
        texts = [format_operand(op) for op in inst.operands]
    operands = ", ".join(texts)
    return f"{guard}{inst.mnemonic}{' ' + operands if operands else ''}"


def format_loc(loc: SourceLoc | None) -> str:
    """A ``.loc "file" line col`` line, or ``.noloc`` for none."""
    if loc is None:
        return ".noloc"
    return f".loc {quote(loc.file)} {loc.line} {loc.col}"


def format_program(program: Program) -> str:
    """The canonical text of ``program``; the assembler reads it back to an equal program."""
    lines = [f".kernel {program.name}"]
    lines += [f".param {param.name} {param.type}" for param in program.params]
    lines += [f".shared {program.shared_bytes}", f".local {program.local_bytes}",
              f".registers {program.registers}", ""]
    labels: dict[int, list[str]] = {}
    for name, index in program.labels:
        labels.setdefault(min(index, len(program.instructions)), []).append(name)
    loc = None
    for index, inst in enumerate(program.instructions):
        lines += [f"{name}:" for name in labels.get(index, ())]
        if inst.loc != loc:
            lines.append(format_loc(inst.loc))
            loc = inst.loc
        lines.append(f"{INDENT}/*{index * INSTRUCTION_BYTES:04x}*/  "
                     f"{format_control(inst.ctrl)}  {format_instruction(inst)} ;")
    lines += [f"{name}:" for name in labels.get(len(program.instructions), ())]
    return "\n".join(lines) + "\n"
