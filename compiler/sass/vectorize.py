"""Vector memory accesses: consecutive 32-bit loads and stores merged into 64- and 128-bit ones.

A GEMM's inner loop reads a thread's fragment of each tile as words at one base register
plus immediate offsets ``o, o+4, o+8, o+12``; one ``LDS.128`` moves the four in one
instruction (CUTLASS's SIMT kernels and ptxas do this), which frees issue slots for the
FFMAs. Its tile copy reads four consecutive words of a global row (``LDG.E.128``) and
writes them to shared memory (``STS.128``). The merge runs on machine code, after
instruction selection and before scheduling.

Loads (``LDS``, and ``LDG.E`` on a 64-bit base):

- Within a straight-line stretch with no memory write, no barrier and no branch
  (nothing can change memory between the loads, so reading the words together, at the
  first load's place, reads what each load would have),
- 32-bit loads with the same guard and base register (defined once in the kernel) are
  grouped by base. A result may be written elsewhere too (a value carried around a loop
  that the load writes directly) if nothing between the group's first load and it reads
  or writes it; the guard's predicate must not change in between;
- four at ``o .. o+12`` become one ``.128`` load when the address is provably 16-byte
  aligned, two at ``o, o+4`` one ``.64`` load when it is 8-byte aligned: the base
  register's known power of two (:mod:`warpforge.compiler.analysis.alignment`, recorded by
  instruction selection) and ``o`` must both be multiples. A misaligned vector access
  faults on hardware and in the simulator, so without that proof the accesses stay scalar.
- Each merged result becomes one register of a new quad (or pair), which the allocator
  places 4- (2-) aligned; every read of an old result reads its register of the quad.

Stores (``STS``): the words of one quad (pair) stored, in order, at ``o .. o+12``
(``o, o+4``) from one aligned base with one guard, within a stretch with no shared-memory
read, barrier or branch, become one ``STS.128`` (``.64``) at the last store's place, when
neither the vector's registers nor the guard change between the first store and it and
no other store comes between (it might write one of the words).
"""

from __future__ import annotations

from ...isa.operands import PT
from ..analysis.alignment import MAX_POW2
from .mir import MInst, VPred, VReg, accesses, def_counts, make, reg_ids, renamed, stretches

CONTROL = frozenset({"LABEL", "BRA", "BSSY", "BSYNC", "BAR", "EXIT", "WARPSYNC", "CALL",
                     "RET"})
"""Opcodes that end every stretch accesses may be merged in."""
LOAD_BREAKS = {"LDS": CONTROL | {"STS", "ATOMS"}, "LDG": CONTROL | {"STG", "ATOMG", "RED"}}
"""Per load opcode, those that end a stretch of its loads (writes of its memory)."""
STORE_BREAKS = CONTROL | {"LDS", "ATOMS"}
"""... and those that end a stretch of shared-memory stores (shared-memory reads)."""
WIDTHS = ((4, 16, "128"), (2, 8, "64"))
"""(words, alignment in bytes, width modifier) of the vector accesses tried, widest first."""


def vectorize_loads(code: list[MInst], base_align: dict[int, int]) -> list[MInst]:
    """``code`` with runs of consecutive loads, then of stores, merged (see the module
    docstring); ``base_align[id]`` is the log2 of the alignment of address base register
    ``id``."""
    for opcode in LOAD_BREAKS:
        code = _merge_loads(code, base_align, opcode)
    return _merge_stores(code, base_align)


def _merge_loads(code: list[MInst], base_align: dict[int, int], opcode: str) -> list[MInst]:
    defs = def_counts(code)
    next_id = 1 + max((v for inst in code for v in reg_ids(inst)), default=0)
    merged: dict[int, int] = {}   # index of a merged load -> where its vector goes
    groups: dict[int, MInst] = {}  # index of a group's earliest load -> the vector load
    rename: dict[int, VReg] = {}   # old result id -> its register of the vector
    for start, end in stretches(code, lambda inst: inst.opcode in LOAD_BREAKS[opcode]):
        for members, mod in _runs(code, start, end, defs, base_align,
                                  lambda inst: _load_key(inst, opcode)):
            olds = [code[j].operands[0].id for j in members]
            if len(set(olds)) < len(olds) or any(v in rename for v in olds):
                continue  # a register loaded twice: one name could not serve both
            place = min(members)      # the earliest load: where the vector goes
            quad = VReg(next_id, len(members))
            next_id += 1
            first = code[members[0]]  # the lowest address: the vector's
            groups[place] = make(first.opcode, (*first.modifiers, mod), first.guard,
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


def _merge_stores(code: list[MInst], base_align: dict[int, int]) -> list[MInst]:
    defs = def_counts(code)
    merged: set[int] = set()
    groups: dict[int, MInst] = {}  # index of a group's last store -> the vector store
    for start, end in stretches(code, lambda inst: inst.opcode in STORE_BREAKS):
        for members, mod in _runs(code, start, end, defs, base_align, _store_key):
            place = max(members)
            first = code[members[0]]
            vector = first.operands[1]
            groups[place] = make("STS", (mod,), first.guard, first.loc,
                                 addr=first.operands[0], v=VReg(vector.id, vector.width))
            merged.update(members)
    if not groups:
        return code
    return [groups.get(i, inst) for i, inst in enumerate(code)
            if i in groups or i not in merged]


def _load_key(inst: MInst, opcode: str) -> tuple | None:
    """What loads merged with ``inst`` must share (opcode, modifiers, guard; the base is
    ``inst.operands[1]``'s), or None when it is not a 32-bit ``opcode`` load."""
    if inst.opcode != opcode or inst.modifiers != (("E",) if opcode == "LDG" else ()):
        return None
    d = inst.operands[0]
    if not (isinstance(d, VReg) and d.width == 1 and d.half is None):
        return None
    return inst.opcode, inst.modifiers, inst.guard


def _store_key(inst: MInst) -> tuple | None:
    """What stores merged with ``inst`` must share: the guard and the vector whose word it
    stores (None when it stores none)."""
    if inst.opcode != "STS" or inst.modifiers:
        return None
    v = inst.operands[1]
    if not (isinstance(v, VReg) and v.width in (2, 4) and v.half is not None
            and not v.neg):
        return None
    return inst.guard, v.id, v.width


def _runs(code: list[MInst], lo: int, hi: int, defs: dict[int, int],
          base_align: dict[int, int], key) -> list[tuple[list[int], str]]:
    """Groups of indices in ``code[lo:hi]`` to merge, each ordered by offset, with the
    vector width modifier; ``key(inst)`` says which accesses may go together."""
    by_base: dict[tuple, dict[int, int]] = {}  # (key, base id or None) -> offset -> index
    for j in range(lo, hi):
        inst = code[j]
        k = key(inst)
        if k is None:
            continue
        addr = _address(inst)
        if addr.base is None:  # [RZ + offset]: the offset is the address
            by_base.setdefault((k, None), {}).setdefault(addr.offset, j)
        elif defs.get(addr.base.id) == 1 and addr.base.id in base_align:
            by_base.setdefault((k, addr.base.id), {}).setdefault(addr.offset, j)
    out = []
    for (_, base), at in by_base.items():
        known = MAX_POW2 if base is None else base_align[base]
        taken: set[int] = set()
        for off in sorted(at):
            for words, align, mod in WIDTHS:
                offs = [off + 4 * k for k in range(words)]
                members = [at.get(o) for o in offs]
                if (off % align == 0 and 1 << known >= align and None not in members
                        and not taken.intersection(offs)
                        and _fits(code, members, words, defs)):
                    taken.update(offs)
                    out.append((members, mod))
                    break
    return out


def _address(inst: MInst):
    return inst.operands[0] if inst.opcode == "STS" else inst.operands[1]


def _fits(code: list[MInst], members: list[int], words: int, defs: dict[int, int]) -> bool:
    """Whether ``members`` (ordered by offset) may become one access: the guard does not
    change between them; loads may write their results at the earliest one's place;
    stores store registers ``0 .. words-1`` of one vector exactly ``words`` wide, in order,
    unchanged until the last store."""
    first = code[members[0]]
    if first.opcode != "STS":
        return (_steady(code, min(members), max(members), set(), first.guard)
                and _movable(code, members, defs))
    others = set(range(min(members) + 1, max(members))) - set(members)
    return (all(code[j].operands[1].half == k and code[j].operands[1].width == words
                for k, j in enumerate(members))
            and not any(code[i].opcode == "STS" for i in others)  # it might alias
            and _steady(code, min(members), max(members), {first.operands[1].id},
                        first.guard))


def _steady(code: list[MInst], lo: int, hi: int, regs: set[int], guard=PT) -> bool:
    """Whether no instruction strictly between ``lo`` and ``hi`` writes a register of
    ``regs`` or ``guard``'s predicate."""
    pred = guard.id if isinstance(guard, VPred) else None
    for i in range(lo + 1, hi):
        _, writes, _, pwrites = accesses(code[i])
        if regs.intersection(writes) or (pred is not None and pred in pwrites):
            return False
    return True


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
