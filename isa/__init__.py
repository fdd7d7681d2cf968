"""The SASS-like instruction set: operands, the opcode table, text and binary forms.

Public entry points: :func:`assemble` (text -> :class:`Program`), ``str(program)``
(canonical text), ``program.encode()`` (binary) and :func:`decode` (binary -> program).
"""

from .assembler import assemble
from .encoding import decode
from .errors import AssemblyError, WarpforgeError
from .opcodes import OPCODES, Kind, OpcodeInfo, Unit
from .operands import (
    NOT_PT,
    PT,
    RZ,
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
from .program import Control, Instruction, Param, Program, SourceLoc

__all__ = [
    "NOT_PT",
    "OPCODES",
    "PT",
    "RZ",
    "Addr",
    "AssemblyError",
    "BarrierReg",
    "Const",
    "Control",
    "Imm",
    "Instruction",
    "Kind",
    "Label",
    "OpcodeInfo",
    "Operand",
    "Param",
    "Pred",
    "Program",
    "Reg",
    "SourceLoc",
    "SpecialReg",
    "Unit",
    "WarpforgeError",
    "assemble",
    "decode",
]
