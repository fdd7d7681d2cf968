"""The register model shared by the hazard checker and the control-code passes."""

from __future__ import annotations

import pytest

from warpforge.isa import assemble
from warpforge.isa.dataflow import accesses


def one(line: str):
    return accesses(assemble(f".kernel k\n  {line} ;").instructions[0])


@pytest.mark.parametrize("line, reads, writes", [
    ("@!P1 IADD3 R0, R1, R2, RZ", [("P1", True), ("R1", False), ("R2", False)],
     [("R0", None)]),
    ("IMAD.WIDE R2, R4, R5, c[0x0][0x168]", [("R4", False), ("R5", False)],
     [("R2", 0), ("R3", 1)]),
    ("LDG.E.128 R4, [R2.64+0x10]", [("R2", False), ("R3", False)],
     [("R4", None), ("R5", None), ("R6", None), ("R7", None)]),
    ("STS [R3+0x4], R9", [("R3", False), ("R9", False)], []),
    ("LDC R0, c[0x3][R6+0x8]", [("R6", False)], [("R0", None)]),
    ("ISETP.GE.AND P0, PT, R4, 0x10, !P2", [("R4", False), ("P2", False)], [("P0", None)]),
    ("MOV RZ, R1", [("R1", False)], []),
    ("S2R R0, SR_TID.X", [], [("R0", None)]),
])
def test_reads_and_writes(line, reads, writes):
    got_reads, got_writes = one(line)
    assert list(got_reads) == reads
    assert list(got_writes) == writes
