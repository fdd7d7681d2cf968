"""The backend's machine IR: ISA instructions over virtual registers.

Instruction selection (:mod:`.isel`, :mod:`.emit`) writes a linear list of :class:`MInst`;
the scheduler (:mod:`.schedule`) reorders it within straight-line stretches and the
register allocator (:mod:`.regalloc`) maps the virtual operands to ``R``/``P`` registers,
giving :class:`warpforge.isa.program.Instruction` s.

An ``MInst`` is an ``isa.Instruction`` whose register operands may be :class:`VReg`
(a virtual general register, one, two or four 32-bit registers wide, with the source flags
``neg``/``abs``/``inv``) and whose predicate operands and guard may be :class:`VPred`;
``MAddr`` is an address whose base is a ``VReg``. Everything else is an ``isa`` operand
(``Imm``, ``Const``, ``RZ``, ``PT``, ``SpecialReg``, ``Label``, ``BarrierReg``). A label is
an ``MInst`` with opcode ``LABEL`` and the label's name as its only operand.

Virtual registers may be defined more than once (loop-carried values and ``if`` results are
written by copies on each path); everything else is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ...isa.opcodes import OPCODES, Kind
from ...isa.operands import PT, Pred
from ...isa.program import SourceLoc


@dataclass(frozen=True)
class VReg:
    """Virtual general register ``id``: ``width`` 32-bit registers (1, a pair, or the quad
    of a 128-bit load), source flags."""

    id: int
    width: int = 1
    neg: bool = False
    abs: bool = False
    inv: bool = False
    half: int | None = None
    """For a pair, ``0``/``1`` names its low/high 32-bit register alone; for a quad,
    ``0``..``3`` names one of its registers."""

    def lo(self) -> VReg:
        """The low register of a pair (the register itself when 32-bit)."""
        return self if self.width == 1 else VReg(self.id, 2, half=0)

    def hi(self) -> VReg:
        """The high register of a pair."""
        return VReg(self.id, 2, half=1)

    def negated(self) -> VReg:
        """The same register read negated."""
        return replace(self, neg=not self.neg)

    def plain(self) -> VReg:
        """The same register without source flags."""
        return VReg(self.id, self.width, half=self.half)

    def __str__(self) -> str:
        text = f"%r{self.id}"
        if self.width == 2:
            text += {None: ".64", 0: ".lo", 1: ".hi"}[self.half]
        elif self.width == 4:
            text += ".128" if self.half is None else f".{self.half}"
        if self.abs:
            text = f"|{text}|"
        return ("-" if self.neg else "") + ("~" if self.inv else "") + text


@dataclass(frozen=True)
class VPred:
    """Virtual predicate ``id``, read negated when ``neg``."""

    id: int
    neg: bool = False

    def negated(self) -> VPred:
        """The complement."""
        return VPred(self.id, not self.neg)

    def plain(self) -> VPred:
        """Without negation."""
        return VPred(self.id)

    def __str__(self) -> str:
        return ("!" if self.neg else "") + f"%p{self.id}"


@dataclass(frozen=True)
class MAddr:
    """A memory address ``[base + offset]``; ``base`` None means RZ; ``wide`` for ``.64``."""

    base: VReg | None
    offset: int = 0
    wide: bool = False


Guard = VPred | Pred


@dataclass
class MInst:
    """One machine instruction over virtual registers (see the module docstring)."""

    opcode: str
    modifiers: tuple[str, ...] = ()
    operands: tuple = ()
    guard: Guard = PT
    loc: SourceLoc | None = None
    defs: tuple = field(default=(), compare=False)
    """Filled by :func:`analyze`: the virtual operands written."""

    def __str__(self) -> str:
        if self.opcode == "LABEL":
            return f"{self.operands[0]}:"
        guard = "" if self.guard == PT else f"@{self.guard} "
        ops = ", ".join(str(op) for op in self.operands)
        return f"  {guard}{'.'.join((self.opcode, *self.modifiers))} {ops}"


def format_mir(code: list[MInst]) -> str:
    """The instructions as text, one a line (for debugging and dumps)."""
    return "\n".join(str(inst) for inst in code)


def make(opcode: str, modifiers: tuple[str, ...] = (), guard: Guard = PT,
         loc: SourceLoc | None = None, **slots: object) -> MInst:
    """An ``MInst`` with operands given by slot name (the opcode table's names); slots left
    out take their default (an error for a slot without one)."""
    info = OPCODES[opcode]
    operands = []
    for spec in info.operands:
        if spec.name in slots:
            operands.append(slots.pop(spec.name))
        elif spec.default is not None:
            operands.append(spec.default)
        else:
            raise TypeError(f"{opcode}: slot {spec.name!r} needs an operand")
    if slots:
        raise TypeError(f"{opcode}: no slot named {', '.join(slots)}")
    return MInst(opcode, tuple(modifiers), tuple(operands), guard, loc)


def accesses(inst: MInst) -> tuple[list[int], list[int], list[int], list[int]]:
    """Virtual ids ``(reg_reads, reg_writes, pred_reads, pred_writes)`` of ``inst``."""
    rr: list[int] = []
    rw: list[int] = []
    pr: list[int] = []
    pw: list[int] = []
    if isinstance(inst.guard, VPred):
        pr.append(inst.guard.id)
    if inst.opcode == "LABEL":
        return rr, rw, pr, pw
    for spec, op in zip(OPCODES[inst.opcode].operands, inst.operands, strict=True):
        dest = spec.kind in (Kind.RD, Kind.PD)
        if isinstance(op, VReg):
            (rw if dest else rr).append(op.id)
        elif isinstance(op, VPred):
            (pw if dest else pr).append(op.id)
        elif isinstance(op, MAddr) and op.base is not None:
            rr.append(op.base.id)
    return rr, rw, pr, pw


def whole_group(parts) -> VReg | None:
    """The register group whose parts ``0 .. len(parts) - 1`` ``parts`` are, in order and
    without source flags (a pair's or a quad's), or None."""
    first = parts[0] if parts else None
    width = len(parts)
    if not isinstance(first, VReg) or first.width != width:
        return None
    if all(isinstance(r, VReg) and r.id == first.id and r.width == width and r.half == k
           and not (r.neg or r.abs or r.inv) for k, r in enumerate(parts)):
        return VReg(first.id, width)
    return None


def reg_ids(inst: MInst) -> list[int]:
    """Virtual general registers ``inst`` reads, then those it writes."""
    rr, rw, _, _ = accesses(inst)
    return rr + rw


def def_counts(code: list[MInst]) -> dict[int, int]:
    """How many instructions of ``code`` write each virtual register (loop-carried values
    and ``if`` results are written more than once; everything else once)."""
    counts: dict[int, int] = {}
    for inst in code:
        for v in accesses(inst)[1]:
            counts[v] = counts.get(v, 0) + 1
    return counts


def stretches(code: list[MInst], is_fence) -> list[tuple[int, int]]:
    """``(start, end)`` of each straight-line run of ``code`` between the instructions for
    which ``is_fence(inst)`` holds (``end`` is the fence's index, or ``len(code)``)."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, inst in enumerate(code):
        if is_fence(inst):
            out.append((start, i))
            start = i + 1
    out.append((start, len(code)))
    return out


def rename(op: object, mapping: dict[int, VReg]) -> object:
    """``op`` with its virtual registers renamed by ``mapping`` (old id -> new register):
    the new id, keeping the operand's width, part and source flags, unless the new register
    names one part of a wider one (a quad's register from a merged load), whose width and
    part it then takes."""
    if isinstance(op, VReg) and op.id in mapping:
        new = mapping[op.id]
        if new.half is None:
            return replace(op, id=new.id)
        return replace(op, id=new.id, width=new.width, half=new.half)
    if isinstance(op, MAddr) and op.base is not None and op.base.id in mapping:
        return replace(op, base=rename(op.base, mapping))
    return op


def renamed(inst: MInst, mapping: dict[int, VReg]) -> MInst:
    """``inst`` with its operands renamed by ``mapping`` (itself when none changes)."""
    ops = tuple(rename(op, mapping) for op in inst.operands)
    if ops == inst.operands:
        return inst
    return MInst(inst.opcode, inst.modifiers, ops, inst.guard, inst.loc)
