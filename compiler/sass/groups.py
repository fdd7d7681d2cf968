"""Register groups built by copies, coalesced with what they copy.

An HMMA reads its A fragment as four consecutive registers, B as two and C as four.
Instruction selection (:meth:`~.memory.MemorySelector.register_group`) builds such a
group ``G`` by copying the values in, ``MOV G.0, x0`` ... ``MOV G.3, x3``: with a GEMM's
fragments loaded by ``LDS`` that is a copy for every loaded word, as many instructions as
the loads themselves. This pass removes the copies where the group can be the values'
own registers:

- ``G`` is written only by those copies, one unguarded plain ``MOV`` per part;
- if every part copies the same part of one other group ``L`` written by a single
  instruction (a merged ``LDS.128``), ``G`` is ``L``: ``G`` is renamed ``L``;
- otherwise each part's source ``x`` that is one register, written by a single
  instruction and copied into no other group, is renamed ``G``'s part: that instruction
  then writes the group directly.

Every register concerned is written once, so after renaming each still holds one value
wherever it is read, and the copies become ``MOV R, R`` no-ops, dropped here.
"""

from __future__ import annotations

from ...isa.operands import PT
from .mir import MInst, VReg, def_counts, renamed, whole_group


def coalesce_groups(code: list[MInst]) -> list[MInst]:
    """``code`` with group-building copies folded away (see the module docstring)."""
    defs = def_counts(code)
    parts: dict[int, dict[int, VReg | object]] = {}  # group id -> part -> source
    for inst in code:
        dest = inst.operands[0] if inst.operands else None
        if not (isinstance(dest, VReg) and dest.width > 1 and dest.half is not None):
            continue
        if inst.opcode != "MOV" or inst.guard != PT or dest.neg or dest.abs or dest.inv:
            parts.setdefault(dest.id, {})[-1] = None  # written otherwise: not a copy group
            continue
        parts.setdefault(dest.id, {})[dest.half] = inst.operands[1]
    mapping: dict[int, VReg] = {}
    claimed: set[int] = set()
    for gid, sources in parts.items():
        width = max(k for k in sources) + 1 if -1 not in sources else 0
        if width < 2 or len(sources) != width or defs.get(gid) != width:
            continue
        srcs = [sources[k] for k in range(width)]
        whole = whole_group(srcs)
        if whole is not None and defs.get(whole.id) == 1 and whole.id not in claimed:
            # the parts of one group written by a single instruction (a merged LDS.128)
            mapping[gid] = whole
            claimed.add(whole.id)
            continue
        for k, s in enumerate(srcs):
            if _plain(s) and s.width == 1 and defs.get(s.id) == 1 and s.id not in claimed \
                    and s.id not in mapping:
                mapping[s.id] = VReg(gid, width, half=k)
                claimed.add(s.id)
    if not mapping:
        return code
    out = []
    for inst in code:
        inst = renamed(inst, mapping)
        if inst.opcode == "MOV" and inst.operands[0] == inst.operands[1] \
                and inst.guard == PT:
            continue
        out.append(inst)
    return out


def _plain(op: object) -> bool:
    return isinstance(op, VReg) and not (op.neg or op.abs or op.inv)

