"""The opcode table: every fact about every opcode, in one place.

Each :class:`OpcodeInfo` row gives an opcode's operand signature, its modifier groups, the
functional unit that executes it, its latency (fixed, waited for with stall counts, or
variable, waited for with a scoreboard) and its binary opcode number. The assembler, the
printer, the encoder and decoder, the simulator (which keeps one semantics handler per row)
and later the compiler's instruction selector and scheduler all read this table. Adding an
opcode is adding a row here plus its semantics in the simulator.

Latencies follow ``reference/gpu-facts.md``: fixed-latency ALU and FMA-class results are
ready 4 cycles after issue within a class and 5 across classes (Mesa NAK
``sm80_instr_latencies.rs``; Jia et al. 2018); variable-latency operations (memory, MUFU,
S2R, SHFL, conversions, POPC/FLO) release a scoreboard instead (NAK; Huerta et al. 2025).
The ``cycles`` of a variable-latency row is its typical latency, for schedulers and timing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class Kind(enum.Enum):
    """What an operand slot accepts."""

    RD = "register destination"
    PD = "predicate destination"
    RA = "register"
    RB = "register, immediate or constant"
    RL = "register or literal"
    PS = "predicate"
    LIT = "literal"
    ADDR = "memory address"
    CADDR = "constant address"
    SREG = "special register"
    LABEL = "label"
    BAR = "convergence barrier"


class Unit(enum.Enum):
    """Functional units (pipes) of an SM sub-partition."""

    ALU = "alu"
    FMA = "fma"
    FP16 = "fp16"
    FP64 = "fp64"
    SFU = "sfu"
    LSU = "lsu"
    CBU = "cbu"
    TENSOR = "tensor"


Modifiers = Mapping[str, str]
"""An instruction's modifiers resolved per group: group name -> the option written."""
WidthRule = Callable[[Modifiers], int]
"""Registers an operand covers (1, 2 or 4), as a function of the instruction's modifiers."""


@dataclass(frozen=True)
class OperandSpec:
    """One operand slot of an opcode's signature.

    ``type`` ("int" or "float") decides how immediates print and what ``neg`` means.
    ``flags`` are the source modifiers the slot accepts (``neg``, ``abs``, ``inv``).
    ``default`` makes the slot optional: the assembler fills it in when left out and the
    printer leaves it out when it holds the default. ``bits`` is the width of a literal.
    ``width`` is the registers the operand covers; for an ADDR slot, those of its base
    (2: a ``.64`` pair, required by global memory ops; 1: a 32-bit base).
    """

    name: str
    kind: Kind
    type: str = "int"
    flags: frozenset[str] = frozenset()
    default: object | None = None
    width: int | WidthRule = 1
    bits: int = 32

    @property
    def optional(self) -> bool:
        """True when the slot may be left out."""
        return self.default is not None

    @property
    def is_dest(self) -> bool:
        """True for register and predicate destinations."""
        return self.kind in (Kind.RD, Kind.PD)

    def width_for(self, modifiers: Modifiers) -> int:
        """Registers this operand covers for the given modifiers."""
        return self.width if isinstance(self.width, int) else self.width(modifiers)


@dataclass(frozen=True)
class ModGroup:
    """A group of mutually exclusive modifiers; at most one of ``options`` is written.

    When ``required`` one must be written; otherwise leaving all out means ``implied``
    (for documentation: e.g. ISETP without ``.U32`` compares signed).
    """

    name: str
    options: tuple[str, ...]
    required: bool = False
    implied: str = ""


@dataclass(frozen=True)
class Latency:
    """Fixed latency (stall counts) or variable latency (scoreboards), in cycles."""

    cycles: int
    variable: bool = False


@dataclass(frozen=True)
class OpcodeInfo:
    """One row of the opcode table."""

    name: str
    code: int
    unit: Unit
    latency: Latency
    operands: tuple[OperandSpec, ...]
    groups: tuple[ModGroup, ...] = ()
    doc: str = ""
    branch: bool = False

    def resolve(self, modifiers: tuple[str, ...]) -> dict[str, str]:
        """Match written modifiers to groups, in the table's group order.

        Each group in turn takes the next modifier when it is one of its options, so
        ``F2F.F64.F32`` gives ``{"dtype": "F64", "stype": "F32"}``. Raises ``ValueError``
        naming the first modifier that does not fit, or a required group left out.
        """
        resolved: dict[str, str] = {}
        rest = list(modifiers)
        for group in self.groups:
            if rest and rest[0] in group.options:
                resolved[group.name] = rest.pop(0)
            elif group.required:
                found = f"'.{rest[0]}'" if rest else "nothing"
                raise ValueError(
                    f"{self.name} needs one of {', '.join('.' + o for o in group.options)} "
                    f"here, found {found}"
                )
        if rest:
            allowed = [o for g in self.groups for o in g.options]
            raise ValueError(
                f"unexpected modifier '.{rest[0]}' for {self.name}"
                + (f" (allowed, in this order: {', '.join('.' + o for o in allowed)})"
                   if allowed else " (it takes none)")
            )
        return resolved

    def widths(self, modifiers: tuple[str, ...]) -> tuple[int, ...]:
        """Registers covered by each operand slot, for these modifiers."""
        resolved = self.resolve(modifiers)
        return tuple(spec.width_for(resolved) for spec in self.operands)


# --- modifier groups shared by several rows -------------------------------------------

MEM_WIDTH = ModGroup("width", ("U8", "S8", "U16", "S16", "64", "128"), implied="32")
"""Memory access width; no modifier means 32 bits."""
EXTENDED = ModGroup("e", ("E",))
"""``.E``: a 64-bit (extended) global address."""
ATOM_OP = ModGroup(
    "op", ("ADD", "MIN", "MAX", "EXCH", "CAS", "AND", "OR", "XOR", "INC", "DEC"), required=True
)
ATOM_TYPE = ModGroup("type", ("S32", "F32", "U64", "S64", "F64"), implied="U32")
INT_CMP = ModGroup("cmp", ("F", "LT", "EQ", "LE", "GT", "NE", "GE", "T"), required=True)
FLOAT_CMP = ModGroup(
    "cmp",
    ("F", "LT", "EQ", "LE", "GT", "NE", "GE", "NUM", "NAN",
     "LTU", "EQU", "LEU", "GTU", "NEU", "GEU", "T"),
    required=True,
)
BOOL_OP = ModGroup("bop", ("AND", "OR", "XOR"), required=True)
FTZ = ModGroup("ftz", ("FTZ",))
ROUND = ModGroup("rnd", ("RM", "RP", "RZ"), implied="RN")
SAT = ModGroup("sat", ("SAT",))
UNSIGNED = ModGroup("type", ("U32",), implied="S32")


# --- width rules ----------------------------------------------------------------------

def mem_width(mods: Modifiers) -> int:
    """Registers moved by a load or store: 1, 2 for ``.64``, 4 for ``.128``."""
    return {"64": 2, "128": 4}.get(mods.get("width", ""), 1)


def wide(mods: Modifiers) -> int:
    """IMAD.WIDE writes and adds a 64-bit pair."""
    return 2 if mods.get("mode") == "WIDE" else 1


def atom_width(mods: Modifiers) -> int:
    """64-bit atomics operate on register pairs."""
    return 2 if mods.get("type") in ("U64", "S64", "F64") else 1


def pair_if(group: str, *options: str) -> WidthRule:
    """A width rule: a pair when ``group`` holds one of ``options``."""

    def rule(mods: Modifiers) -> int:
        return 2 if mods.get(group) in options else 1

    rule.__name__ = f"pair_if_{group}_{'_'.join(options)}"
    return rule


def cs2r_width(mods: Modifiers) -> int:
    """CS2R writes a pair unless ``.32``."""
    return 1 if mods.get("w") == "32" else 2


def hmma_acc(mods: Modifiers) -> int:
    """HMMA.16816 accumulators: 4 registers of f32, or 2 of packed f16."""
    return 4 if mods.get("acc") == "F32" else 2


# --- operand constructors -------------------------------------------------------------

def _rd(name="d", width: int | WidthRule = 1):
    return OperandSpec(name, Kind.RD, width=width)


def _pd(name, optional=False):
    from .operands import PT
    return OperandSpec(name, Kind.PD, default=PT if optional else None)


def _ra(name, type="int", flags=(), width: int | WidthRule = 1, default=None):
    return OperandSpec(name, Kind.RA, type, frozenset(flags), default=default, width=width)


def _rb(name, type="int", flags=(), width: int | WidthRule = 1):
    return OperandSpec(name, Kind.RB, type, frozenset(flags), width=width)


def _ps(name, default=None):
    return OperandSpec(name, Kind.PS, default=default)


def _lit(name, bits):
    return OperandSpec(name, Kind.LIT, bits=bits)


def _not_pt():
    from .operands import NOT_PT
    return NOT_PT


def _rz():
    from .operands import RZ
    return RZ


ALU = Latency(4)
FMA = Latency(4)
FP16 = Latency(5)
MUFU = Latency(21, variable=True)
CONV = Latency(15, variable=True)
LDS = Latency(24, variable=True)
LDG = Latency(32, variable=True)
S2R = Latency(16, variable=True)
SHFL = Latency(24, variable=True)
BRANCH = Latency(4)
HMMA = Latency(17, variable=True)
FP64 = Latency(10)
"""SM80's FP64 pipe: 10 cycles to a dependent op (NAK's FP64 -> ALU), waited for with
stall counts (NAK adds a scoreboard as well; the stalls alone cover the dependence)."""
ADDR = OperandSpec("addr", Kind.ADDR)
"""A shared or local memory address: a 32-bit base register (``[R3+0x10]``)."""
GADDR = OperandSpec("addr", Kind.ADDR, width=2)
"""A global memory address: its base is the 64-bit pair ``Rn:Rn+1`` (``[R2.64+0x10]``)."""


def _rows() -> list[OpcodeInfo]:
    not_pt, rz = _not_pt(), _rz()
    add_flags = ("neg", "inv")
    fneg = ("neg", "abs")
    rows = [
        # --- integer -------------------------------------------------------------
        OpcodeInfo(
            "IADD3", 0x010, Unit.ALU, ALU,
            (_rd(), _pd("pu", True), _pd("pv", True), _ra("a", flags=add_flags),
             _rb("b", flags=add_flags), _rb("c", flags=add_flags),
             _ps("pp", not_pt), _ps("pq", not_pt)),
            (ModGroup("x", ("X",)),),
            "d = a + b + c (+ pp + pq with .X); pu, pv = the carry out of bit 31 is >= 1, "
            ">= 2 (pu + pv is the carry; a negated source -x adds ~x + 1).",
        ),
        OpcodeInfo(
            "IMAD", 0x011, Unit.FMA, FMA,
            (_rd(width=wide), _ra("a"), _rb("b", flags=("neg",)),
             _rb("c", flags=("neg",), width=wide)),
            (ModGroup("mode", ("WIDE", "HI", "SHL", "MOV", "IADD")), UNSIGNED),
            "d = a*b + c (low 32 bits); .WIDE: 64-bit a*b + c into a pair; "
            ".HI: high 32 bits of a*b, plus c. .SHL/.MOV/.IADD are spellings of a*b + c.",
        ),
        OpcodeInfo(
            "LEA", 0x012, Unit.ALU, ALU,
            (_rd(), _pd("pu", True), _ra("a", flags=("neg",)), _rb("b"),
             _ra("c", default=rz), _lit("shift", 5), _ps("pp", not_pt)),
            (ModGroup("hi", ("HI",)), ModGroup("x", ("X",)), ModGroup("sx", ("SX32",))),
            "d = (a << shift) + b; .HI: d = high word of ({c:a} << shift) + b (c = sign of a "
            "with .SX32); .X adds the carry pp; pu = carry out.",
        ),
        OpcodeInfo(
            "SHF", 0x013, Unit.ALU, ALU,
            (_rd(), _ra("a"), _rb("b"), _rb("c")),
            (ModGroup("dir", ("L", "R"), required=True),
             ModGroup("type", ("S32", "U32", "S64", "U64"), required=True),
             ModGroup("hi", ("HI",))),
            "Funnel shift of the 64-bit {c:a} by b (clamped to 32 for 32-bit types, 64 for "
            "64-bit ones); the low word, or the high word with .HI; .R.S* shifts arithmetically.",
        ),
        OpcodeInfo(
            "LOP3", 0x014, Unit.ALU, ALU,
            (_pd("pu", True), _rd(), _ra("a"), _rb("b"), _rb("c"), _lit("lut", 8),
             _ps("pq", not_pt)),
            (ModGroup("lut", ("LUT",), required=True),),
            "d = LUT(a, b, c) bitwise, LUT indexed by (a<<2)|(b<<1)|c bits: "
            "AND 0xc0, OR 0xfc, XOR 0x3c; pu = (d != 0) | pq.",
        ),
        OpcodeInfo(
            "ISETP", 0x015, Unit.ALU, ALU,
            (_pd("pu"), _pd("pv"), _ra("a"), _rb("b"), _ps("pp")),
            (INT_CMP, UNSIGNED, BOOL_OP),
            "pu = (a cmp b) bop pp; pv = !(a cmp b) bop pp; signed unless .U32.",
        ),
        OpcodeInfo(
            "IMNMX", 0x016, Unit.ALU, ALU,
            (_rd(), _ra("a"), _rb("b"), _ps("pp")),
            (UNSIGNED,),
            "d = min(a, b) when pp is true, max(a, b) when false; signed unless .U32.",
        ),
        OpcodeInfo("IABS", 0x017, Unit.ALU, ALU, (_rd(), _rb("b")), (),
                   "d = |b| (two's complement; |INT_MIN| = INT_MIN)."),
        OpcodeInfo("POPC", 0x018, Unit.ALU, CONV, (_rd(), _rb("b", flags=("inv",))), (),
                   "d = number of set bits of b."),
        OpcodeInfo("BREV", 0x01D, Unit.ALU, CONV, (_rd(), _rb("b")), (),
                   "d = b with its 32 bits in reverse order (bit i of d is bit 31 - i of b)."),
        OpcodeInfo(
            "FLO", 0x019, Unit.ALU, CONV, (_rd(), _rb("b", flags=("inv",))),
            (ModGroup("type", ("U32", "S32"), required=True), ModGroup("sh", ("SH",))),
            "d = bit position of the most significant 1 (of the most significant bit that "
            "differs from the sign for .S32), 0xffffffff if none; .SH gives 31 - position.",
        ),
        OpcodeInfo("SEL", 0x01A, Unit.ALU, ALU, (_rd(), _ra("a"), _rb("b"), _ps("pp")), (),
                   "d = pp ? a : b."),
        OpcodeInfo("MOV", 0x01B, Unit.ALU, ALU, (_rd(), _rb("b")), (), "d = b."),
        OpcodeInfo(
            "PRMT", 0x01C, Unit.ALU, ALU, (_rd(), _ra("a"), _rb("b"), _rb("c")),
            (ModGroup("mode", ("F4E", "B4E", "RC8", "ECL", "ECR", "RC16")),),
            "Byte permute of {c:a} (bytes 0-3 from a, 4-7 from c) by the selector b: each "
            "nibble of b's low 16 bits picks a byte; a nibble with bit 3 set replicates "
            "that byte's sign bit (PTX prmt default mode).",
        ),
        # --- float ---------------------------------------------------------------
        OpcodeInfo(
            "FADD", 0x020, Unit.FMA, FMA,
            (_rd(), _ra("a", "float", fneg), _rb("b", "float", fneg)),
            (FTZ, ROUND, SAT), "d = a + b (f32, round to nearest even unless stated).",
        ),
        OpcodeInfo(
            "FMUL", 0x021, Unit.FMA, FMA,
            (_rd(), _ra("a", "float", fneg), _rb("b", "float", fneg)),
            (FTZ, ROUND, SAT), "d = a * b (f32).",
        ),
        OpcodeInfo(
            "FFMA", 0x022, Unit.FMA, FMA,
            (_rd(), _ra("a", "float", ("neg",)), _rb("b", "float", ("neg",)),
             _rb("c", "float", ("neg",))),
            (FTZ, ROUND, SAT), "d = a * b + c, fused: one rounding.",
        ),
        OpcodeInfo(
            "FMNMX", 0x023, Unit.ALU, ALU,
            (_rd(), _ra("a", "float", fneg), _rb("b", "float", fneg), _ps("pp")),
            (FTZ,),
            "d = fminf(a, b) when pp is true, fmaxf(a, b) when false; a NaN operand yields "
            "the other one, two NaNs yield the canonical NaN 0x7fffffff.",
        ),
        OpcodeInfo(
            "FSETP", 0x024, Unit.ALU, ALU,
            (_pd("pu"), _pd("pv"), _ra("a", "float", fneg), _rb("b", "float", fneg),
             _ps("pp")),
            (FLOAT_CMP, BOOL_OP, FTZ),
            "pu = (a cmp b) bop pp; pv = !(a cmp b) bop pp. Plain comparisons are ordered "
            "(false on NaN); the ...U forms are unordered (true on NaN).",
        ),
        OpcodeInfo("FSEL", 0x025, Unit.ALU, ALU,
                   (_rd(), _ra("a", "float"), _rb("b", "float"), _ps("pp")), (FTZ,),
                   "d = pp ? a : b."),
        OpcodeInfo(
            "MUFU", 0x026, Unit.SFU, MUFU, (_rd(), _rb("b", "float", fneg)),
            (ModGroup("fn", ("EX2", "LG2", "RCP", "RSQ", "SQRT", "SIN", "COS", "RCP64H",
                             "RSQ64H"), required=True),),
            "Special function: 2^b, log2 b, 1/b, 1/sqrt b, sqrt b; SIN and COS take b in "
            "turns (radians / 2pi), as Volta+ hardware does after its FMUL.RZ by 1/2pi. "
            "RCP64H and RSQ64H read b as the high word of an f64 (low word 0) and give the "
            "high word of an approximate f64 1/b or 1/sqrt(b), the start of ptxas's Newton "
            "sequences for f64 division and square root.",
        ),
        # --- double precision ----------------------------------------------------
        OpcodeInfo(
            "DADD", 0x028, Unit.FP64, FP64,
            (_rd(width=2), _ra("a", "float", fneg, width=2), _rb("b", "float", fneg, width=2)),
            (ROUND,), "d = a + b (f64 pairs, round to nearest even unless stated).",
        ),
        OpcodeInfo(
            "DMUL", 0x029, Unit.FP64, FP64,
            (_rd(width=2), _ra("a", "float", fneg, width=2), _rb("b", "float", fneg, width=2)),
            (ROUND,), "d = a * b (f64 pairs).",
        ),
        OpcodeInfo(
            "DFMA", 0x02A, Unit.FP64, FP64,
            (_rd(width=2), _ra("a", "float", ("neg",), width=2),
             _rb("b", "float", ("neg",), width=2), _rb("c", "float", ("neg",), width=2)),
            (ROUND,), "d = a * b + c (f64 pairs), fused: one rounding.",
        ),
        OpcodeInfo(
            "DSETP", 0x02B, Unit.FP64, FP64,
            (_pd("pu"), _pd("pv"), _ra("a", "float", fneg, width=2),
             _rb("b", "float", fneg, width=2), _ps("pp")),
            (FLOAT_CMP, BOOL_OP),
            "pu = (a cmp b) bop pp; pv = !(a cmp b) bop pp, on f64 pairs (FSETP's conditions).",
        ),
        # --- conversions ---------------------------------------------------------
        OpcodeInfo(
            "I2F", 0x030, Unit.SFU, CONV,
            (_rd(width=pair_if("dtype", "F64")), _rb("b", width=pair_if("stype", "S64", "U64"))),
            (ModGroup("dtype", ("F16", "F64"), implied="F32"),
             ModGroup("stype", ("U32", "S64", "U64", "S16", "U16", "S8", "U8"),
                      implied="S32"),
             ROUND),
            "d = float(b), rounded as stated.",
        ),
        OpcodeInfo(
            "F2I", 0x031, Unit.SFU, CONV,
            (_rd(width=pair_if("dtype", "S64", "U64")),
             _rb("b", "float", fneg, width=pair_if("stype", "F64"))),
            (FTZ, ModGroup("dtype", ("U32", "S64", "U64"), implied="S32"),
             ModGroup("stype", ("F64", "F16"), implied="F32"),
             ModGroup("rnd", ("TRUNC", "FLOOR", "CEIL"), implied="RN"),
             ModGroup("ntz", ("NTZ",))),
            "d = integer(b), rounded as stated, saturating; NaN gives 0.",
        ),
        OpcodeInfo(
            "F2F", 0x032, Unit.SFU, CONV,
            (_rd(width=pair_if("dtype", "F64")),
             _rb("b", "float", fneg, width=pair_if("stype", "F64"))),
            (FTZ, ModGroup("dtype", ("F16", "F32", "F64"), required=True),
             ModGroup("stype", ("F16", "F32", "F64"), required=True), ROUND),
            "d = b converted between f16, f32 and f64 (dtype then stype), rounded as stated.",
        ),
        OpcodeInfo(
            "FRND", 0x033, Unit.SFU, CONV,
            (_rd(width=pair_if("type", "F64")),
             _rb("b", "float", fneg, width=pair_if("type", "F64"))),
            (FTZ, ModGroup("type", ("F64",), implied="F32"),
             ModGroup("rnd", ("TRUNC", "FLOOR", "CEIL"), implied="RN")),
            "d = b rounded to an integer value in its own float type (RN: to nearest even).",
        ),
        # --- special registers and constants ------------------------------------
        OpcodeInfo("S2R", 0x040, Unit.ALU, S2R, (_rd(), OperandSpec("sr", Kind.SREG)), (),
                   "d = special register."),
        OpcodeInfo("CS2R", 0x041, Unit.ALU, ALU,
                   (_rd(width=cs2r_width), OperandSpec("sr", Kind.SREG)),
                   (ModGroup("w", ("32",)),),
                   "d = special register, fixed latency; a pair unless .32 (SRZ zeroes it)."),
        OpcodeInfo("LDC", 0x042, Unit.LSU, LDG,
                   (_rd(width=mem_width), OperandSpec("c", Kind.CADDR)), (MEM_WIDTH,),
                   "d = constant bank word(s) at c, optionally indexed by a register."),
        # --- memory --------------------------------------------------------------
        OpcodeInfo("LDG", 0x050, Unit.LSU, LDG, (_rd(width=mem_width), GADDR),
                   (EXTENDED, MEM_WIDTH, ModGroup("cache", ("CONSTANT",))),
                   "d = global memory at addr (sub-word loads zero- or sign-extend)."),
        OpcodeInfo("STG", 0x051, Unit.LSU, LDG, (GADDR, _ra("v", width=mem_width)),
                   (EXTENDED, MEM_WIDTH), "global memory at addr = v."),
        OpcodeInfo("LDS", 0x052, Unit.LSU, LDS, (_rd(width=mem_width), ADDR), (MEM_WIDTH,),
                   "d = shared memory of this CTA at addr."),
        OpcodeInfo("STS", 0x053, Unit.LSU, LDS, (ADDR, _ra("v", width=mem_width)),
                   (MEM_WIDTH,), "shared memory at addr = v."),
        OpcodeInfo("LDL", 0x054, Unit.LSU, LDG, (_rd(width=mem_width), ADDR), (MEM_WIDTH,),
                   "d = this thread's local memory at addr."),
        OpcodeInfo("STL", 0x055, Unit.LSU, LDG, (ADDR, _ra("v", width=mem_width)),
                   (MEM_WIDTH,), "this thread's local memory at addr = v."),
        OpcodeInfo(
            "ATOMG", 0x056, Unit.LSU, LDG,
            (_rd(width=atom_width), GADDR, _ra("b", width=atom_width),
             _ra("c", width=atom_width, default=rz)),
            (EXTENDED, ATOM_OP, ATOM_TYPE),
            "d = old global value at addr; memory = op(old, b) (CAS: b == old ? c : old).",
        ),
        OpcodeInfo(
            "ATOMS", 0x057, Unit.LSU, LDS,
            (_rd(width=atom_width), ADDR, _ra("b", width=atom_width),
             _ra("c", width=atom_width, default=rz)),
            (ATOM_OP, ATOM_TYPE), "As ATOMG, on this CTA's shared memory.",
        ),
        OpcodeInfo("RED", 0x058, Unit.LSU, LDG, (GADDR, _ra("b", width=atom_width)),
                   (EXTENDED, ATOM_OP, ATOM_TYPE),
                   "global memory at addr = op(memory, b); no result."),
        # --- warp ----------------------------------------------------------------
        OpcodeInfo(
            "SHFL", 0x060, Unit.LSU, SHFL,
            (_pd("pu"), _rd(), _ra("a"), OperandSpec("b", Kind.RL, bits=8),
             OperandSpec("c", Kind.RL, bits=16)),
            (ModGroup("mode", ("IDX", "UP", "DOWN", "BFLY"), required=True),),
            "d = a of lane j in this warp, j from the lane operand b and c = (segmask << 8) | "
            "clamp, as PTX shfl.sync; pu = j is in range (else d = own a).",
        ),
        OpcodeInfo(
            "VOTE", 0x061, Unit.ALU, ALU, (_rd(), _pd("pu"), _ps("pp")),
            (ModGroup("mode", ("ANY", "ALL", "EQ"), required=True),),
            "d = ballot of pp over the warp's active threads; pu = any/all/all-equal of pp.",
        ),
        # --- predicates ----------------------------------------------------------
        OpcodeInfo(
            "PLOP3", 0x068, Unit.ALU, ALU,
            (_pd("pu"), _pd("pv"), _ps("a"), _ps("b"), _ps("c"), _lit("lut", 8),
             _lit("lut2", 8)),
            (ModGroup("lut", ("LUT",), required=True),),
            "pu = LUT(a, b, c), pv = LUT2(a, b, c), with LOP3's LUT convention.",
        ),
        # --- control -------------------------------------------------------------
        OpcodeInfo("BRA", 0x070, Unit.CBU, BRANCH, (OperandSpec("target", Kind.LABEL),), (),
                   "Jump to target for the threads whose guard is true.", branch=True),
        OpcodeInfo("BSSY", 0x071, Unit.CBU, BRANCH,
                   (OperandSpec("b", Kind.BAR), OperandSpec("target", Kind.LABEL)), (),
                   "Record the active threads in convergence barrier b; they meet at target."),
        OpcodeInfo("BSYNC", 0x072, Unit.CBU, BRANCH, (OperandSpec("b", Kind.BAR),), (),
                   "Wait until every thread recorded in b has arrived here or exited."),
        OpcodeInfo("BAR", 0x073, Unit.CBU, BRANCH, (_lit("id", 4),),
                   (ModGroup("mode", ("SYNC",), required=True),
                    ModGroup("defer", ("DEFER_BLOCKING",))),
                   "CTA-wide barrier: wait until every live thread of the CTA arrives."),
        OpcodeInfo("EXIT", 0x074, Unit.CBU, BRANCH, (), (),
                   "End the threads whose guard is true."),
        OpcodeInfo("NOP", 0x075, Unit.CBU, BRANCH, (), (), "Nothing."),
        OpcodeInfo("WARPSYNC", 0x076, Unit.CBU, BRANCH, (_rb("mask"),), (),
                   "__syncwarp(mask): the lanes in mask meet; orders their shared-memory "
                   "accesses (what racecheck takes as the end of a warp-synchronous step)."),
        # --- half precision ------------------------------------------------------
        OpcodeInfo("HADD2", 0x080, Unit.FP16, FP16,
                   (_rd(), _ra("a", flags=fneg), _rb("b", flags=fneg)), (FTZ,),
                   "Two f16 lanes: d = a + b."),
        OpcodeInfo("HFMA2", 0x081, Unit.FP16, FP16,
                   (_rd(), _ra("a", flags=("neg",)), _rb("b", flags=("neg",)),
                    _rb("c", flags=("neg",))),
                   (ModGroup("mma", ("MMA",)),),
                   "Two f16 lanes: d = a * b + c, fused."),
        OpcodeInfo(
            "HMMA", 0x082, Unit.TENSOR, HMMA,
            (_rd(width=hmma_acc), _ra("a", width=4), _ra("b", width=2),
             _ra("c", width=hmma_acc)),
            (ModGroup("shape", ("16816",), required=True),
             ModGroup("acc", ("F32", "F16"), required=True)),
            "Warp-wide D(16x8) = A(16x16 f16) * B(16x8 f16) + C, fragments laid out as "
            "PTX mma.m16n8k16.",
        ),
    ]
    return rows


def _finish(rows: list[OpcodeInfo]) -> dict[str, OpcodeInfo]:
    table = {}
    codes = set()
    for row in rows:
        assert row.name not in table and row.code not in codes, row.name
        codes.add(row.code)
        table[row.name] = row
    return table


OPCODES: dict[str, OpcodeInfo] = _finish(_rows())
"""Opcode name -> row."""
BY_CODE: dict[int, OpcodeInfo] = {row.code: row for row in OPCODES.values()}
"""Binary opcode number -> row."""
