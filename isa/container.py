"""The binary file container around a program's 16-byte instruction words.

The byte layout is documented with the instruction words, in :mod:`warpforge.isa.encoding`'s
docstring; this module reads and writes everything except the words themselves: magic and
version, kernel header, parameters, labels, source locations and label references, as
LEB128 varints and length-prefixed UTF-8 strings. Every read failure (bad magic, truncated
data, out-of-range numbers) raises :class:`AssemblyError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import AssemblyError
from .program import Param, Program, SourceLoc

MAGIC = b"\x7fWFK"
"""First four bytes of every encoded program."""
VERSION = 1
"""Container format version (16-bit little-endian, after the magic)."""
WORD_BYTES = 16
"""Bytes per instruction word."""
FILENAME = "<binary>"
"""What binary decode errors name as their file."""


def binary_error(message: str) -> AssemblyError:
    """An :class:`AssemblyError` about bad binary data."""
    return AssemblyError(message, filename=FILENAME)


@dataclass(frozen=True)
class Header:
    """Everything a container holds besides the instruction words.

    ``locs`` has one entry per instruction; ``label_refs`` maps an instruction index to the
    number (position in ``program.labels``) of the label its LABEL operand names, for the
    branches whose target index has more than one label (the words hold only the index).
    """

    program: Program
    locs: tuple[SourceLoc | None, ...]
    label_refs: dict[int, int]


class _Writer:
    """Appends varints and strings to a byte buffer."""

    def __init__(self) -> None:
        self.out = bytearray()

    def uint(self, value: int, what: str) -> None:
        if not isinstance(value, int) or value < 0 or value >= 1 << 64:
            raise AssemblyError(f"{what} must be an integer in 0..2**64-1, got {value!r}")
        while True:
            byte = value & 0x7F
            value >>= 7
            self.out.append(byte | (0x80 if value else 0))
            if not value:
                return

    def sint(self, value: int, what: str) -> None:
        if not isinstance(value, int):
            raise AssemblyError(f"{what} must be an integer, got {value!r}")
        self.uint(value * 2 if value >= 0 else -value * 2 - 1, what)

    def text(self, value: str, what: str) -> None:
        if not isinstance(value, str):
            raise AssemblyError(f"{what} must be a string, got {value!r}")
        data = value.encode("utf-8", errors="surrogatepass")
        self.uint(len(data), what)
        self.out += data


class _Reader:
    """Reads varints and strings from bytes, raising AssemblyError on bad data."""

    MAX_VARINT_BYTES = 10

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise binary_error(f"truncated binary: {what} needs {count} bytes at offset "
                               f"{self.pos}, only {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:end]
        self.pos = end
        return bytes(chunk)

    def uint(self, what: str) -> int:
        value = shift = 0
        for k in range(self.MAX_VARINT_BYTES):
            byte = self.take(1, what)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if k and not byte:  # a zero last byte: an overlong (non-canonical) varint
                    break
                if value >= 1 << 64:
                    break
                return value
        raise binary_error(f"bad binary: {what} at offset {self.pos} is not a valid varint")

    def sint(self, what: str) -> int:
        raw = self.uint(what)
        return raw >> 1 if not raw & 1 else -((raw + 1) >> 1)

    def count(self, what: str, limit: int | None = None) -> int:
        value = self.uint(what)
        bound = len(self.data) - self.pos if limit is None else limit
        if value > bound:
            raise binary_error(f"bad binary: {what} {value} is larger than possible ({bound})")
        return value

    def text(self, what: str) -> str:
        data = self.take(self.count(f"length of {what}"), what)
        try:
            return data.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError as exc:
            raise binary_error(f"bad binary: {what} is not UTF-8 ({exc.reason})") from None


def _loc_runs(locs: tuple[SourceLoc | None, ...]) -> list[tuple[int, int, SourceLoc]]:
    """Runs (first index, length, location) of equal, present locations."""
    runs: list[tuple[int, int, SourceLoc]] = []
    for index, loc in enumerate(locs):
        if loc is None:
            continue
        if runs and runs[-1][2] == loc and runs[-1][0] + runs[-1][1] == index:
            first, length, _ = runs[-1]
            runs[-1] = (first, length + 1, loc)
        else:
            runs.append((index, 1, loc))
    return runs


def pack(program: Program, label_refs: dict[int, int], words: list[bytes]) -> bytes:
    """The container bytes of ``program`` around its already encoded instruction ``words``."""
    w = _Writer()
    w.out += MAGIC + VERSION.to_bytes(2, "little")
    w.text(program.name, "kernel name")
    w.uint(program.registers, "register count")
    w.uint(program.shared_bytes, "shared bytes")
    w.uint(program.local_bytes, "local bytes")
    w.uint(len(program.params), "parameter count")
    for param in program.params:
        w.text(param.name, "parameter name")
        w.text(param.type, f"type of parameter {param.name!r}")
    w.uint(len(program.labels), "label count")
    for name, index in program.labels:
        w.text(name, "label name")
        w.uint(index, f"index of label {name!r}")
    for index, inst in enumerate(program.instructions):
        if inst.loc is not None and not isinstance(inst.loc, SourceLoc):
            raise AssemblyError(f"cannot encode instruction {index}: its location "
                                f"{inst.loc!r} is not a SourceLoc")
    runs = _loc_runs(tuple(inst.loc for inst in program.instructions))
    files = list(dict.fromkeys(loc.file for _, _, loc in runs))
    file_number = {name: i for i, name in enumerate(files)}
    w.uint(len(files), "file count")
    for name in files:
        w.text(name, "source file name")
    w.uint(len(runs), "location run count")
    for first, length, loc in runs:
        w.uint(first, "location run start")
        w.uint(length, "location run length")
        w.uint(file_number[loc.file], "location file")
        w.sint(loc.line, f"line of instruction {first}")
        w.sint(loc.col, f"column of instruction {first}")
    w.uint(len(label_refs), "label reference count")
    for index, number in sorted(label_refs.items()):
        w.uint(index, "label reference instruction")
        w.uint(number, "label reference number")
    w.uint(len(words), "instruction count")
    w.out += bytes(-len(w.out) % WORD_BYTES)
    for word in words:
        w.out += word
    return bytes(w.out)


def unpack(data: bytes) -> tuple[Header, list[bytes]]:
    """Split container bytes into the header (a program without instructions) and the words.

    The returned ``header.program`` has no instructions; the caller decodes the words.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AssemblyError(f"can only decode bytes, got {type(data).__name__}")
    data = bytes(data)
    r = _Reader(data, 0)
    magic = r.take(len(MAGIC), "magic number")
    if magic != MAGIC:
        raise binary_error(f"not a warpforge binary: bad magic {magic!r} (expected {MAGIC!r})")
    version = int.from_bytes(r.take(2, "version"), "little")
    if version != VERSION:
        raise binary_error(f"unsupported binary version {version} (this reader knows {VERSION})")
    name = r.text("kernel name")
    registers = r.uint("register count")
    shared_bytes = r.uint("shared bytes")
    local_bytes = r.uint("local bytes")
    params = tuple(Param(r.text("parameter name"), r.text("parameter type"))
                   for _ in range(r.count("parameter count")))
    labels = tuple((r.text("label name"), r.uint("label index"))
                   for _ in range(r.count("label count")))
    files = [r.text("source file name") for _ in range(r.count("file count"))]
    runs = []
    for _ in range(r.count("location run count")):
        first, length = r.uint("location run start"), r.uint("location run length")
        file_number = r.uint("location file")
        if file_number >= len(files):
            raise binary_error(f"bad binary: location file number {file_number} "
                               f"(the file table has {len(files)})")
        runs.append((first, length, SourceLoc(files[file_number], r.sint("line"),
                                              r.sint("column"))))
    label_refs = {}
    for _ in range(r.count("label reference count")):
        index, number = r.uint("label reference instruction"), r.uint("label number")
        if number >= len(labels):
            raise binary_error(f"bad binary: instruction {index} refers to label number {number} "
                               f"(there are {len(labels)})")
        label_refs[index] = number
    count = r.count("instruction count")
    padding = r.take(-r.pos % WORD_BYTES, "padding")
    if any(padding):
        raise binary_error(f"bad binary: nonzero padding before the instructions at offset {r.pos}")
    if len(data) - r.pos != count * WORD_BYTES:
        raise binary_error(f"bad binary: {count} instructions need {count * WORD_BYTES} bytes at "
                           f"offset {r.pos}, found {len(data) - r.pos}")
    words = [data[r.pos + i * WORD_BYTES:r.pos + (i + 1) * WORD_BYTES] for i in range(count)]
    if len({name_ for name_, _ in labels}) != len(labels):
        raise binary_error("bad binary: a label name occurs twice")
    for name_, index in labels:
        if index > count:
            raise binary_error(f"bad binary: label {name_!r} at instruction {index}, past the end "
                               f"({count} instructions)")
    locs: list[SourceLoc | None] = [None] * count
    end = 0
    for first, length, loc in runs:
        if first < end or length == 0 or first + length > count:
            raise binary_error(f"bad binary: location run of {length} at instruction {first} "
                               f"overlaps or leaves the {count} instructions")
        locs[first:first + length] = [loc] * length
        end = first + length
    program = Program(name, params, (), labels, registers, shared_bytes, local_bytes)
    return Header(program, tuple(locs), label_refs), words
