"""Fuzzing the two directions of the ISA: whatever decodes is a valid program (it prints,
re-assembles and re-encodes to the same bytes), everything else is an AssemblyError; text
mutations assemble or raise AssemblyError, never anything else. Derandomized and sized
for CI; ``WARPFORGE_FUZZ_EXAMPLES`` raises the counts."""

from __future__ import annotations

import os
import pathlib

from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.isa import AssemblyError, assemble, decode

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sass"
TEXTS = [p.read_text() for p in sorted(EXAMPLES.glob("*.sass"))]
BLOBS = [assemble(t).encode() for t in TEXTS]
SCALE = int(os.environ.get("WARPFORGE_FUZZ_EXAMPLES", "1"))
SETTINGS = settings(max_examples=1500 * SCALE, deadline=None, derandomize=True,
                    database=None)


@st.composite
def mutated(draw, sources: list, alphabet) -> object:
    """One of ``sources`` with a few random byte or character edits."""
    data = list(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        k = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["set", "delete", "insert"]))
        if kind == "set":
            data[k] = draw(alphabet)
        elif kind == "delete":
            del data[k]
        else:
            data.insert(k, draw(alphabet))
    return data


@SETTINGS
@given(data=mutated(BLOBS, st.integers(0, 255)))
def test_whatever_decodes_is_a_valid_program(data):
    blob = bytes(data)
    try:
        program = decode(blob)
    except AssemblyError:
        return
    again = assemble(str(program))
    assert again == program
    assert again.encode() == blob


PRINTABLE = st.sampled_from([*"RPc[]x.,;:0123456789abcdefFX- @!`'\"\n\t", "0x7fffffff"])


@SETTINGS
@given(chars=mutated(TEXTS, PRINTABLE))
def test_text_mutations_assemble_or_raise_assembly_errors(chars):
    text = "".join(chars)
    try:
        program = assemble(text)
    except AssemblyError:
        return
    assert assemble(str(program)) == program
    assert decode(program.encode()) == program


def test_huge_numbers_are_assembly_errors():
    lines = TEXTS[0].splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith(".kernel")) + 1
    for bad in (".shared 99999999999999999999999999", ".local " + "9" * 5000,
                ".registers " + "1" * 60):
        kept = [line for line in lines if not line.startswith(bad.split()[0])]
        text = "\n".join([*kept[:at], bad, *kept[at:]])
        try:
            assemble(text)
        except AssemblyError as err:
            assert "too large" in str(err) or "too many" in str(err)
        else:
            raise AssertionError(f"{bad[:30]} assembled")


def test_overlong_varints_do_not_decode():
    blob = bytearray(BLOBS[0])
    # the version is followed by the kernel name's length; spell that varint with an
    # extra zero continuation byte
    at = 6
    length = blob[at]
    forged = bytes(blob[:at]) + bytes([length | 0x80, 0x00]) + bytes(blob[at + 1:])
    try:
        program = decode(forged)
    except AssemblyError:
        return
    assert program.encode() == forged  # never reached: overlong spellings are refused
