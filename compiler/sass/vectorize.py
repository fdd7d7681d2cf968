"""Vector shared-memory loads: consecutive 32-bit ``LDS`` merged into ``LDS.64``/``LDS.128``.

A GEMM's inner loop reads a thread's fragment of each tile as words at one base register
plus immediate offsets ``o, o+4, o+8, o+12``; one ``LDS.128`` moves the four in one
instruction (CUTLASS's SIMT kernels and ptxas do this), which frees issue slots for the
FFMAs. The merge runs on machine code, after instruction selection and before
scheduling:

- Within a straight-line stretch with no shared-memory write, no barrier and no branch
  (nothing can change shared memory between the loads, so reading the words together, at
  the first load's place, reads what each load would have),
- unguarded 32-bit ``LDS`` with the same base register (defined once in the kernel) are
  grouped by base. A result may be written elsewhere too (a value carried around a loop
  that the load writes directly) if nothing between the group's first load and it reads
  or writes it;
- four at ``o .. o+12`` become one ``LDS.128`` when the address is provably 16-byte
  aligned, two at ``o, o+4`` one ``LDS.64`` when it is 8-byte aligned: the base register's
  known power of two (:mod:`warpforge.compiler.analysis.alignment`, recorded by
  instruction selection) and ``o`` must both be multiples. A misaligned vector access
  faults on hardware and in the simulator, so without that proof the loads stay scalar.
- Each merged result becomes one register of a new quad (or pair), which the allocator
  places 4- (2-) aligned; every read of an old result reads its register of the quad.
"""

from __future__ import annotations

from ...isa.operands import PT
from ..analysis.alignment import MAX_POW2
from .mir import MInst, VReg, accesses, def_counts, make, reg_ids, renamed, stretches

BREAKS = frozenset({"LABEL", "BRA", "BSSY", "BSYNC", "BAR", "EXIT", "WARPSYNC", "STS",
                    "ATOMS", "CALL", "RET"})
"""Opcodes that end a stretch loads may be merged in (writes of shared memory among them)."""
WIDTHS = ((4, 16, ("128",)), (2, 8, ("64",)))
"""(words, alignment in bytes, modifiers) of the vector loads tried, widest first."""


def vectorize_loads(code: list[MInst], base_align: dict[int, int]) -> list[MInst]:
    """``code`` with runs of consecutive shared loads merged (see the module docstring);
    ``base_align[id]`` is the log2 of the alignment of address base register ``id``."""
    defs = def_counts(code)
    next_id = 1 + max((v for inst in code for v in reg_ids(inst)), default=0)
    merged: dict[int, int] = {}   # index of a merged load -> where its vector goes
    groups: dict[int, MInst] = {}  # index of a group's earliest load -> the vector load
    rename: dict[int, VReg] = {}   # old result id -> its register of the vector
    for start, end in stretches(code, lambda inst: inst.opcode in BREAKS):
        for members in _runs(code, start, end, defs, base_align):
            olds = [code[j].operands[0].id for j in members]
            if len(set(olds)) < len(olds) or any(v in rename for v in olds):
                continue  # a register loaded twice: one name could not serve both
            quad = VReg(next_id, len(members))
            next_id += 1
            first = code[members[0]]  # the lowest address: the vector's
            place = min(members)      # the earliest load: where the vector goes
            groups[place] = make(
                "LDS", dict((w, m) for w, _, m in WIDTHS)[len(members)], first.guard,
                first.loc, d=quad, addr=first.operands[1])
            for k, j in enumerate(members):
                merged[j] = place
                rename[code[j].operands[0].id] = VReg(quad.id, quad.width, half=k)
    if not groups:
        return code
    out = []
    for i, inst in enumerate(code):
        if i in groups:
            out.append(groups[i])
        elif i not in merged:
            out.append(renamed(inst, rename))
    return out


def _runs(code: list[MInst], lo: int, hi: int, defs: dict[int, int],
          base_align: dict[int, int]) -> list[list[int]]:
    """Groups of indices in ``code[lo:hi]`` to merge, each ordered by offset."""
    by_base: dict[int | None, dict[int, int]] = {}  # base id (None: RZ) -> offset -> index
    for j in range(lo, hi):
        inst = code[j]
        if inst.opcode != "LDS" or inst.modifiers or inst.guard != PT:
            continue
        d, addr = inst.operands
        if not (isinstance(d, VReg) and d.width == 1 and d.half is None):
            continue
        if addr.base is None:  # [RZ + offset]: the offset is the address
            by_base.setdefault(None, {}).setdefault(addr.offset, j)
        elif defs.get(addr.base.id) == 1 and addr.base.id in base_align:
            by_base.setdefault(addr.base.id, {}).setdefault(addr.offset, j)
    out = []
    for base, at in by_base.items():
        known = MAX_POW2 if base is None else base_align[base]
        taken: set[int] = set()
        for off in sorted(at):
            for words, align, _ in WIDTHS:
                offs = [off + 4 * k for k in range(words)]
                if (off % align == 0 and 1 << known >= align
                        and all(o in at and o not in taken for o in offs)
                        and _movable(code, [at[o] for o in offs], defs)):
                    taken.update(offs)
                    out.append([at[o] for o in offs])
                    break
    return out


def _movable(code: list[MInst], members: list[int], defs: dict[int, int]) -> bool:
    """Whether every load of ``members`` may write its result at the earliest one's place:
    a result written only there may; one written elsewhere too (a value carried around a
    loop, coalesced into the load) must be neither read nor written in between."""
    place = min(members)
    for j in members:
        d = code[j].operands[0].id
        if defs.get(d) == 1:
            continue
        for i in range(place, j):
            reads, writes, _, _ = accesses(code[i])
            if d in reads or d in writes:
                return False
    return True

