"""Dead machine code: pure instructions whose results nothing reads, removed.

Instruction selection lowers every IR op it reaches, but some results are then used only
through a cheaper form: an index ``x + 4`` whose only use is an address becomes the
address's immediate offset, and the ``IADD3`` computing it is read by nobody. The IR's
dead-code pass cannot see this (the IR value *is* used). This pass drops an instruction
when

- its opcode is in :data:`PURE` (no memory, no control, no fault, no warp collective), and
- it writes at least one virtual register or predicate and no instruction of the kernel
  reads any of them (a value carried around a loop is read before it is written, so it
  stays),

repeating until nothing changes (a dead instruction's sources may die with it).
"""

from __future__ import annotations

from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import PT, RZ
from .mir import MInst, VPred, VReg, accesses

PURE = frozenset({
    "IADD3", "IMAD", "LEA", "SHF", "LOP3", "ISETP", "IMNMX", "IABS", "POPC", "FLO", "BREV",
    "PRMT", "MOV", "SEL", "FADD", "FMUL", "FFMA", "FMNMX", "FSETP", "FSEL", "MUFU", "DADD",
    "DMUL", "DFMA", "DSETP", "I2F", "F2I", "F2F", "FRND", "PLOP3", "HADD2", "HFMA2", "S2R",
    "CS2R",
})
"""Opcodes without effects beyond their destination registers and predicates."""


def remove_dead(code: list[MInst]) -> list[MInst]:
    """``code`` without dead pure instructions (see the module docstring)."""
    while True:
        regs: set[int] = set()
        preds: set[int] = set()
        for inst in code:
            rr, _, pr, _ = accesses(inst)
            regs.update(rr)
            preds.update(pr)
        keep = [inst for inst in code if not _dead(inst, regs, preds)]
        if len(keep) == len(code):
            return code
        code = keep


def _dead(inst: MInst, regs: set[int], preds: set[int]) -> bool:
    if inst.opcode not in PURE:
        return False
    dests = [op for op, spec in zip(inst.operands, OPCODES[inst.opcode].operands,
                                    strict=True)
             if spec.kind in (Kind.RD, Kind.PD) and op != RZ and op != PT]
    if not dests or not all(isinstance(op, (VReg, VPred)) for op in dests):
        return False  # a fixed register (or nothing) written: keep it
    return not any(op.id in (regs if isinstance(op, VReg) else preds) for op in dests)
