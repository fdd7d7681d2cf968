"""Bad assembly text: every problem is an AssemblyError with its line, column and a caret.

Each case gives the text after ``.kernel k`` (line 1), a fragment the message must hold,
and the 1-based line and column the error must point at.
"""

from __future__ import annotations

import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa import AssemblyError, assemble
from warpforge.isa.errors import WarpforgeError

HEADER = ".kernel k\n"

CASES = [
    # opcodes and modifiers
    ("FFAM R0, R1, R2, R3", "unknown opcode 'FFAM'; did you mean 'FFMA'?", 2, 1),
    ("ffma R0, R1, R2, R3", "did you mean 'FFMA'?", 2, 1),
    (".L_x\nEXIT", "a label definition ends with ':'", 2, 1),
    ("ISETP.GX.AND P0, PT, R1, R2, PT", "ISETP needs one of .F, .LT", 2, 6),
    ("FADD.SAT.FTZ R0, R1, R2", "unexpected modifier '.FTZ' for FADD", 2, 9),
    ("EXIT.X", "unexpected modifier '.X' for EXIT (it takes none)", 2, 5),
    # operand kinds and counts
    ("IADD3 R0, R1, P0, R2",
     "operand 3 of IADD3 (b) must be a register, immediate or constant; found predicate P0",
     2, 15),
    ("MOV R0, SR_TID.X", "must be a register, immediate or constant; found special "
                         "register SR_TID.X", 2, 9),
    ("S2R R0, R1", "operand 2 of S2R (sr) must be a special register; found register R1",
     2, 9),
    ("BRA R1", "must be a label; found register R1", 2, 5),
    ("IADD3 R0, R1, R2, R3, R4", "too many operands for IADD3: it takes at most 8", 2, 23),
    ("EXIT R0", "too many operands for EXIT: it takes none", 2, 6),
    ("IADD3 R0, R1", "too few operands for IADD3: missing b", 2, 13),
    ("STG.E [R2.64]", "missing v", 2, 14),
    # registers and predicates
    ("MOV R255, R1", "R255 is written RZ", 2, 5),
    ("MOV R0, R999", "register R999 does not exist", 2, 9),
    ("ISETP.GE.AND P7, PT, R1, R2, PT", "P7 is written PT", 2, 14),
    ("@P7 EXIT", "P7 is written PT", 2, 2),
    ("@R1 EXIT", "a guard must be a predicate", 2, 2),
    ("BSYNC B16", "barrier register B16 does not exist", 2, 7),
    ("S2R R0, SR_TID.W", "unknown special register 'SR_TID.W'", 2, 9),
    ("MOV R0, R1.foo", "unknown register suffix '.foo'", 2, 9),
    # immediates, literals, offsets
    ("MOV R0, 0x100000000", "does not fit in 32 bits", 2, 9),
    ("MOV R0, -0x80000001", "does not fit in 32 bits", 2, 9),
    ("MOV R0, 1.5", "takes integers; '1.5' is not one", 2, 9),
    ("MOV R0, 0xZZ", "bad hex number '0xZZ'", 2, 9),
    ("LOP3.LUT R0, R1, R2, R3, 0x100", "literal 0x100 is out of range", 2, 26),
    ("SHFL.IDX PT, R0, R1, 0x100, 0x1f", "8 bits hold 0x0..0xff", 2, 22),
    ("BAR.SYNC -0x1", "out of range", 2, 10),
    ("FFMA R0, R1, 1e39, R2", "too large for a float32", 2, 14),
    ("FFMA R0, R1, -0x3f800000, R2", "cannot be negated", 2, 14),
    ("LDG.E R0, [R2.64+0x800000]", "address offset 0x800000 is out of range", 2, 11),
    ("STS [R2-0x800001], R0", "address offset -0x800001 is out of range", 2, 5),
    ("MOV R0, c[0x20][0x0]", "constant bank 0x20 does not exist", 2, 9),
    ("MOV R0, c[0x0][0x10000]", "constant offset 0x10000 is out of range", 2, 9),
    ("MOV R0, c[0x0][0x2]", "must be a multiple of 4", 2, 9),
    ("MOV R0, c[0x0][R1+0x4]", "can only be loaded with LDC", 2, 9),
    ("LDC R0, c[0x0][-0x4]", "constant offsets cannot be negative", 2, 16),
    # pairs and quads
    ("IMAD.WIDE R1, R2, R3, R4", "register pair and must start at an even register", 2, 11),
    ("IMAD.WIDE R2, R2, R3, R5", "(c) is a register pair", 2, 23),
    ("LDG.E.128 R2, [R4.64]", "register quad and must start at a multiple of 4", 2, 11),
    ("LDG.E.64 R254, [R4.64]", "would run past R254", 2, 10),
    ("LDG.E R0, [R3.64]", "must start at an even register; found R3", 2, 11),
    # memory spaces
    ("LDS R0, [R2.64]", "LDS takes a 32-bit address register", 2, 9),
    ("LDG.E R0, [R2]", "LDG addresses global memory through a 64-bit register pair", 2, 11),
    ("STG.E [R2+0x4], R0", "write [R2.64...]", 2, 7),
    # the one 32-bit payload
    ("IADD3 R0, R1, 0x1, c[0x0][0x0]", "only one operand of an instruction may be an "
                                       "immediate, constant, address or label", 2, 20),
    ("FFMA R0, R1, 2.5, c[0x0][0x160]", "operand 4 (c[0x0][0x160]) is a second one", 2, 19),
    # source modifiers
    ("IADD3 R0, |R1|, R2, R3", "(a) does not take '|...|' (absolute value)", 2, 11),
    ("FADD R0, ~R1, R2", "does not take '~' (bitwise not)", 2, 10),
    ("MOV -R0, R1", "a destination takes no source modifiers", 2, 5),
    ("MOV R0.reuse, R1", "only source registers can be reused", 2, 5),
    ("ISETP.GE.AND !P0, PT, R1, R2, PT", "predicate destination and cannot be negated",
     2, 14),
    ("MOV R0, !R1", "'!' negates predicates", 2, 9),
    ("SEL R0, R1, R2, -P1", "negate a predicate with '!'", 2, 17),
    ("MOV R0, ~0x1", "'~' cannot be applied to an immediate", 2, 9),
    ("MOV R0, --R1", "'-' written twice", 2, 10),
    # labels
    ("BRA `(.L_nowhere)", "undefined label '.L_nowhere'", 2, 5),
    ("BRA .L_tpo\n.L_top:", "did you mean '.L_top'?", 2, 5),
    ("L:\nEXIT\nL:", "duplicate label 'L' (first defined on line 2)", 4, 1),
    # control codes
    ("[B------:R-:W-:-:S16] EXIT", "stall '16' is out of range 0..15", 2, 19),
    ("[B------:R-:W6:-:S01] EXIT", "bad write scoreboard '6'", 2, 14),
    ("[B------:R7:W-:-:S01] EXIT", "bad read scoreboard '7'", 2, 11),
    ("[B6-----:R-:W-:-:S01] EXIT", "scoreboard SB6 does not exist", 2, 3),
    ("[B--3---:R-:W-:-:S01] EXIT", "position 2 of the wait mask holds '2' or '-'", 2, 5),
    ("[B-----:R-:W-:-:S01] EXIT", "the wait mask has 6 positions", 2, 3),
    ("[B------:R-:W-:X:S01] EXIT", "the yield field is 'Y' or '-'", 2, 16),
    ("[B------:R-:W-:-] EXIT", "malformed control code", 2, 1),
    # header
    (".kernel j", "duplicate .kernel", 2, 1),
    (".foo 3", "unknown directive '.foo'", 2, 1),
    (".param x f31", "unknown parameter type 'f31'; did you mean 'f32'?", 2, 10),
    (".param x i32\n.param x f32", "duplicate parameter 'x' (first declared on line 2)",
     3, 8),
    (".param x", "wrong number of arguments for .param", 2, 7),
    (".param 1x f32", "bad argument '1' for .param", 2, 8),
    (".registers 3\nMOV R5, R1", ".registers 3 is too few: line 3 uses R5, so at least 6",
     2, 12),
    (".registers 256", "at most 255", 2, 12),
    (".shared 1\n.shared 2", "duplicate .shared (first on line 2)", 3, 1),
    ("EXIT\n.param x f32", "'.param' belongs to the header", 3, 1),
    (".loc \"a\\q\" 1 2\nEXIT", "bad escape", 2, 6),
    (".loc 3 4", "bad argument '3' for .loc", 2, 6),
    (".noloc 1", "wrong number of arguments for .noloc", 2, 8),
    # syntax
    ("MOV R0, R1 R2", "unexpected name 'R2' (is a ',' missing between operands?)", 2, 12),
    ("MOV R0, $1", "unexpected character '$'", 2, 9),
    ("MOV R0,", "unexpected end of line", 2, 8),
    ("MOV R0, [R1", "unexpected end of line", 2, 12),
    ("MOV R0, ,R1", "unexpected ','", 2, 9),
    ("L: EXIT", "unexpected name 'EXIT'", 2, 4),
]


@pytest.mark.parametrize("body, fragment, line, column", CASES,
                         ids=[case[0].split("\n")[0] for case in CASES])
def test_error(body, fragment, line, column):
    text = HEADER + body + "\n"
    with pytest.raises(AssemblyError) as caught:
        assemble(text, "bad.sass")
    err = caught.value
    assert fragment in err.message
    assert (err.line, err.column) == (line, column), err
    assert err.filename == "bad.sass"
    assert err.source_line == text.split("\n")[line - 1]
    rendered = str(err)
    assert rendered.startswith(f"bad.sass:{line}:{column}: ")
    assert rendered.endswith("\n    " + err.source_line + "\n    " + " " * (column - 1) + "^")


@pytest.mark.parametrize("body, expected", [
    ("MOV R0,", "an operand"),
    ("MOV R0, R1 R2", "','"),
    ("@P0", "a name"),
    ("MOV R0, `(.L", "')'"),
    ("[B------:R-:W-:-:S16] EXIT", "a control code like [B------:R-:W-:-:S01]"),
    ("IADD3 R0, R1", "IADD3 d, [pu], [pv], a, b, c, [pp], [pq]"),
    (".foo", ".kernel, .param, .shared, .local, .registers, .loc, .noloc"),
])
def test_expected_is_said_in_words(body, expected):
    with pytest.raises(AssemblyError) as caught:
        assemble(HEADER + body + "\n")
    assert expected in caught.value.expected
    assert "__ANON" not in caught.value.expected and "_NL" not in caught.value.expected


def test_missing_kernel():
    for text, line in (("", 1), ("\n\n", 1), ("EXIT\n", 1), ("\n.param x f32\n", 2),
                       ("L:\n", 1)):
        with pytest.raises(AssemblyError, match=r"missing \.kernel") as caught:
            assemble(text)
        assert caught.value.line == line


def test_error_hides_the_parser():
    with pytest.raises(AssemblyError) as caught:
        assemble(HEADER + "MOV R0, R1, R2\n")
    err = caught.value
    assert isinstance(err, WarpforgeError)
    assert err.__cause__ is None and err.__suppress_context__
    files = [frame.filename for frame in traceback.extract_tb(err.__traceback__)]
    assert not any("lark" in name for name in files)
    with pytest.raises(AssemblyError) as caught:
        assemble(HEADER + "MOV R0, $\n")
    assert not any("lark" in frame.filename
                   for frame in traceback.extract_tb(caught.value.__traceback__))


def test_tabs_keep_the_caret_aligned():
    with pytest.raises(AssemblyError) as caught:
        assemble(HEADER + "\tMOV\tR0, R999\n")
    err = caught.value
    assert err.column == 10 and err.source_line == " MOV R0, R999"
    assert str(err).endswith(" MOV R0, R999\n    " + " " * 9 + "^")


VALID = """.kernel k
.param x f32*
.registers 12
.L_top:
        /*0000*/  [B------:R-:W0:-:S02]  @!P0 LDG.E.64 R2, [R4.64+0x10] ;
        /*0010*/  [B0-----:R-:W-:Y:S04]  FFMA R7, -R2, 2.5, c[0x0][0x160] ;
        /*0020*/  [B------:R-:W-:-:S01]  IADD3 R0, PT, P1, R2.reuse, -0x1, RZ ;
        /*0030*/  [B------:R-:W-:-:S05]  BRA `(.L_top) ;
"""


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mangled_text_never_crashes(data):
    """Any edit of a valid text either assembles or raises AssemblyError: never another
    exception, and the error points inside the text."""
    text = VALID
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text) - 1))
        edit = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        char = data.draw(st.sampled_from(list("R0P7x.,;:[]|-+~!@`()c*\"#/ \n\tZ95")))
        if edit == "delete":
            text = text[:at] + text[at + 1:]
        elif edit == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1:]
    try:
        assemble(text)
    except AssemblyError as err:
        lines = text.split("\n")
        assert 1 <= err.line <= len(lines)
        assert 1 <= err.column <= len(lines[err.line - 1]) + 1
