"""The op registry: every fact about every IR op, in one table.

Each :class:`OpInfo` row gives an op's operand and result arity, its type rule (from
:mod:`.typerules`), its side effects, its regions, its attributes (with the one printed
right after the name, its *key*: ``cmp lt``, ``thread_idx x``, ``constant 1.5``), whether
its first operands are an array and its indices (printed ``%a[%i, %j]``), whether it ends
a block, and its semantics in words. The builder, the printer, the parser, the verifier and
the passes all read this table; adding an op is adding a row (plus its lowering in each
backend).

Semantics fixed here, which every pass and backend must honour:

- Integers wrap (two's complement). ``div`` and ``rem`` truncate toward zero (C);
  ``floordiv`` and ``mod`` round toward negative infinity (Python: ``mod`` takes the
  divisor's sign). Integer division or remainder by zero, and ``MIN / -1``, are undefined
  (never folded). For floats, ``div`` is IEEE division, ``rem`` is C's ``fmod``, and
  ``floordiv``/``mod`` are Python's float ``//``/``%`` (numpy's ``floor_divide`` and
  ``remainder`` in the operand's precision; a zero divisor gives inf or NaN, never a
  fault, so float divisions may be hoisted and folded like any pure op). The frontend
  emits ``floordiv``/``mod`` for Python's ``//``/``%``; a pass lowers them (to shifts
  and masks when operands are known non-negative and the divisor a power of two).
- ``shl``/``shr`` take a shift amount of the value's type; ``shr`` is arithmetic for
  signed and logical for unsigned types. An amount outside ``[0, bits)`` gives an
  unspecified value (never folded).
- ``min``/``max`` of floats ignore a NaN operand (IEEE minNum/maxNum, as FMNMX) and order
  ``-0.0`` below ``+0.0``.
- ``cmp`` compares by the operands' type: signed or unsigned integers; floats *ordered*
  (false if either is NaN) for ``eq lt le gt ge``, but ``ne`` is *unordered* (true if either
  is NaN), so ``ne`` is exactly ``not eq`` as in C and Python.
- ``cast`` converts any scalar to any scalar like C, with the undefined cases defined:
  int to int wraps (sign- or zero-extends by the source's signedness); int to float and
  float to float round to nearest even; float to int truncates toward zero and *saturates*
  to the target's range, NaN giving 0 (F2I, PTX ``cvt.rzi.sat``, ``llvm.fptosi.sat``);
  bool to number gives 0 or 1; number to bool is ``!= 0`` (NaN is true).
- Math ops (``exp log sqrt rsqrt sin cos exp2 log2 log10 tan tanh sinh cosh asin acos
  atan erf erfc cbrt``, and of two operands ``pow atan2 hypot copysign``) take f32/f64
  and may be approximations (MUFU, or the SASS backend's expansions); ``floor ceil trunc
  round`` are exact. None is constant-folded.
- Array indices are 32/64-bit integers, never negative in a correct program (no Python
  wrap-around: the frontend handles negative constants or rejects them).
- Arrays are not first-class values: they come from parameters and allocations only and
  are never selected, yielded or carried, so every memory op's base is known statically.
  Each ``shared_alloc`` op is one static CTA-wide buffer wherever it sits (even in a loop);
  each ``local_alloc`` op is one per-thread buffer. Their contents start undefined.
- ``for`` runs its body for ``iv = lb, lb + step, ...`` while ``iv < ub`` (step > 0) or
  ``iv > ub`` (step < 0), as Python's ``range``; step 0 and overflow of ``iv`` are
  undefined. ``while`` evaluates its ``before`` region, which yields a bool and the values
  to forward; on true they become the ``do`` region's arguments, whose yield feeds the next
  ``before``; on false they become the results.
- ``return`` ends the thread (kernels) or the function call (device functions) and may sit
  inside any region.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import IRError
from . import typerules as tr
from .typerules import TypeRule
from .types import AddressSpace


class Effect(enum.Flag):
    """What an op does besides computing its results."""

    NONE = 0
    READ = enum.auto()
    """Reads memory."""
    WRITE = enum.auto()
    """Writes memory."""
    BARRIER = enum.auto()
    """A CTA-wide barrier: every thread of the CTA reaches it; orders memory across it."""
    CONVERGENT = enum.auto()
    """Warp-collective: the result depends on which threads execute it together, so it
    must not move into or out of control flow (two identical ones in one block may merge)."""
    ALLOC = enum.auto()
    """Makes a fresh buffer: two such ops never merge; an unused one may go."""
    EXIT = enum.auto()
    """Ends the thread or the call."""


@dataclass(frozen=True)
class AttrSpec:
    """One attribute an op takes: its name, kind, allowed values, and whether required.

    ``kind`` is one of ``"int"``, ``"bool"``, ``"str"``, ``"number"`` (int, float or bool,
    per the result type: a constant's value), ``"int_or_bool"``, ``"symbol"`` (a function
    name, printed ``@name``).
    """

    name: str
    kind: str
    choices: tuple[str, ...] | None = None
    required: bool = True


@dataclass(frozen=True)
class OpInfo:
    """One op: arity, type rule, effects, regions, attributes, text form, semantics.

    ``operands`` and ``results`` are ``(min, max)`` counts, ``max`` None for unbounded.
    ``regions`` names each region (the names after the first are printed as keywords:
    ``} else {``). ``key`` is the attribute printed right after the op's name.
    ``indexed`` says operand 0 is an array followed by one index per dimension.
    ``terminator`` ops end a block. ``syntax`` is ``"generic"`` or the name of the op's own
    text form (``"if"``, ``"for"``, ``"while"``). ``category`` groups ops for passes and
    backends: ``binary``, ``unary``, ``math``, ``special``, ``memory``, ``control``,
    ``warp``, or ``other``.
    """

    name: str
    operands: tuple[int, int | None]
    results: tuple[int, int | None]
    rule: TypeRule
    doc: str
    effects: Effect = Effect.NONE
    regions: tuple[str, ...] = ()
    attrs: tuple[AttrSpec, ...] = ()
    key: str | None = None
    indexed: bool = False
    terminator: bool = False
    syntax: str = "generic"
    category: str = "other"

    @property
    def is_pure(self) -> bool:
        """No effects, no regions, not a terminator: may be merged, moved, or dropped."""
        return self.effects == Effect.NONE and not self.regions and not self.terminator

    @property
    def removable_if_unused(self) -> bool:
        """May be dropped when its results are unused (regions aside: see DCE)."""
        return not self.terminator and not (
            self.effects & (Effect.WRITE | Effect.BARRIER | Effect.EXIT))

    def attr_spec(self, name: str) -> AttrSpec | None:
        """The spec of attribute ``name``, or None if the op does not declare it."""
        for spec in self.attrs:
            if spec.name == name:
                return spec
        return None


PREDICATES = ("eq", "ne", "lt", "le", "gt", "ge")
"""``cmp`` predicates."""
DIMS = ("x", "y", "z")
"""Dimensions of the thread/block index ops."""
ATOMIC_KINDS = tuple(tr.ATOMIC_TYPES)
"""``atomic`` kinds."""
SHFL_KINDS = ("xor", "down", "up", "idx")
"""``shfl`` kinds (butterfly, from lane + k, from lane - k, from lane k)."""
VOTE_KINDS = ("any", "all", "ballot")
"""``vote`` kinds."""

ONE = (1, 1)
NONE_ = (0, 0)
MANY = (0, None)
READ_WRITE = Effect.READ | Effect.WRITE

_ARITH = "32/64-bit int or float"
_INT = "32/64-bit int"


def _binary(name: str, verb: str, doc: str, accepts=tr.arithmetic, needs: str = _ARITH) -> OpInfo:
    return OpInfo(name, (2, 2), ONE, tr.binary(verb, accepts, needs), doc, category="binary")


def _unary(name: str, verb: str, doc: str, accepts=tr.arithmetic, needs: str = _ARITH,
           category: str = "unary") -> OpInfo:
    return OpInfo(name, ONE, ONE, tr.unary(verb, accepts, needs), doc, category=category)


def _math(name: str, doc: str) -> OpInfo:
    return _unary(name, f"take {name} of", doc + " (f32/f64; may be approximate).",
                  tr.transcendental, "f32 or f64", category="math")


def _exact(name: str, doc: str) -> OpInfo:
    return _unary(name, f"take {name} of", doc + " (f32/f64; exact).", tr.transcendental,
                  "f32 or f64", category="math")


def _math2(name: str, doc: str) -> OpInfo:
    return OpInfo(name, (2, 2), ONE, tr.binary(f"take {name} of", tr.transcendental,
                                              "f32 or f64"),
                  doc + " (f32/f64; may be approximate).", category="math")


def _special(name: str, doc: str, dims: bool = True) -> OpInfo:
    attrs = (AttrSpec("dim", "str", DIMS),) if dims else ()
    return OpInfo(name, NONE_, ONE, tr.special, doc, attrs=attrs,
                  key="dim" if dims else None, category="special")


def _alloc(space: AddressSpace) -> OpInfo:
    return OpInfo(f"{space.value}_alloc", NONE_, ONE, tr.alloc(space),
                  f"A {space.value} array of the static shape and element type of its result "
                  "type; contents undefined.", effects=Effect.ALLOC, category="memory")


_ROWS = (
    OpInfo("constant", NONE_, ONE, tr.constant,
           "A scalar constant of the result type (bool, int in range, or float exact in "
           "the type).", attrs=(AttrSpec("value", "number"),), key="value"),
    _binary("add", "add", "a + b (integers wrap)."),
    _binary("sub", "subtract", "a - b (integers wrap)."),
    _binary("mul", "multiply", "a * b (integers wrap)."),
    _binary("div", "divide", "a / b: integers truncate toward zero; floats IEEE."),
    _binary("floordiv", "floor-divide", "Python's a // b: rounds toward -inf."),
    _binary("mod", "take mod of", "Python's a % b: the sign of b."),
    _binary("rem", "take rem of", "C's a % b (fmod for floats): the sign of a."),
    _binary("min", "take min of", "The smaller; floats ignore NaN, -0.0 < +0.0."),
    _binary("max", "take max of", "The larger; floats ignore NaN, -0.0 < +0.0."),
    _binary("and", "and", "Bitwise and (logical on bool).", tr.integer_or_bool, "int or bool"),
    _binary("or", "or", "Bitwise or (logical on bool).", tr.integer_or_bool, "int or bool"),
    _binary("xor", "xor", "Bitwise xor (logical on bool).", tr.integer_or_bool, "int or bool"),
    _binary("shl", "shift", "a << b; b outside [0, bits) is unspecified.", tr.integer, _INT),
    _binary("shr", "shift", "a >> b: arithmetic if signed, logical if unsigned; b outside "
            "[0, bits) is unspecified.", tr.integer, _INT),
    _unary("neg", "negate", "-a (integers wrap).", tr.signed_arithmetic, "a signed type"),
    _unary("abs", "take abs of", "|a| (abs(MIN) wraps to MIN).", tr.signed_arithmetic,
           "a signed type"),
    _unary("not", "invert", "Bitwise not (logical on bool).", tr.integer_or_bool,
           "int or bool"),
    _unary("popc", "count the bits of", "The number of set bits of a.", tr.integer, _INT),
    _unary("clz", "count the leading zeros of", "Leading zero bits of a (its width for 0).",
           tr.integer, _INT),
    _unary("brev", "reverse the bits of", "a with its bits in reverse order.", tr.integer,
           _INT),
    _unary("ffs", "find the first set bit of", "1 + the index of a's lowest set bit, 0 for "
           "0 (CUDA's __ffs).", tr.integer, _INT),
    OpInfo("fma", (3, 3), ONE, tr.fma, "a * b + c, rounded once."),
    OpInfo("cmp", (2, 2), ONE, tr.cmp,
           "Compare by type: ints signed/unsigned; floats ordered except ne (unordered).",
           attrs=(AttrSpec("pred", "str", PREDICATES),), key="pred"),
    OpInfo("select", (3, 3), ONE, tr.select, "cond ? a : b (both evaluated)."),
    OpInfo("bitcast", ONE, ONE, tr.bitcast,
           "The same bits as another type of the same width (f64 <-> u64, f32 <-> i32)."),
    OpInfo("cast", ONE, ONE, tr.cast,
           "Convert to the result type; float to int truncates and saturates, NaN -> 0."),
    _math("exp", "e ** a"),
    _math("log", "Natural logarithm"),
    _math("sqrt", "Square root"),
    _math("rsqrt", "1 / sqrt(a)"),
    _math("sin", "Sine of a in radians"),
    _math("cos", "Cosine of a in radians"),
    _math("exp2", "2 ** a"),
    _math("log2", "Base-2 logarithm"),
    _math("log10", "Base-10 logarithm"),
    _math("tan", "Tangent of a in radians"),
    _math("tanh", "Hyperbolic tangent"),
    _math("sinh", "Hyperbolic sine"),
    _math("cosh", "Hyperbolic cosine"),
    _math("asin", "Arc sine, in [-pi/2, pi/2]"),
    _math("acos", "Arc cosine, in [0, pi]"),
    _math("atan", "Arc tangent, in [-pi/2, pi/2]"),
    _math("erf", "The error function"),
    _math("erfc", "The complementary error function 1 - erf(a)"),
    _math("cbrt", "Cube root (negative for negative a)"),
    _exact("floor", "The largest integer value <= a"),
    _exact("ceil", "The smallest integer value >= a"),
    _exact("trunc", "a rounded toward zero to an integer value"),
    _exact("round", "a rounded to the nearest integer value, ties to even (Python's "
                    "round, numpy's rint)"),
    _math2("pow", "a ** b (C's pow: a negative a needs an integer b)"),
    _math2("atan2", "The angle of the point (b, a) (C's atan2(a, b)), in [-pi, pi]"),
    _math2("hypot", "sqrt(a*a + b*b) without overflow on the way"),
    _math2("copysign", "|a| with the sign of b"),
    _special("thread_idx", "This thread's index in its CTA along dim."),
    _special("block_idx", "This CTA's index in the grid along dim."),
    _special("block_dim", "Threads per CTA along dim."),
    _special("grid_dim", "CTAs in the grid along dim."),
    _special("lane_id", "This thread's lane in its warp (0..31).", dims=False),
    OpInfo("load", (2, None), ONE, tr.load, "array[indices]", effects=Effect.READ,
           indexed=True, category="memory"),
    OpInfo("store", (3, None), NONE_, tr.store, "array[indices] = value",
           effects=Effect.WRITE, indexed=True, category="memory"),
    OpInfo("array_dim", ONE, ONE, tr.array_dim, "The array's extent along axis, as i32.",
           attrs=(AttrSpec("axis", "int"),), category="memory"),
    _alloc(AddressSpace.SHARED),
    OpInfo("dynamic_shared", NONE_, ONE, tr.dynamic_shared,
           "The CTA's dynamic shared memory (sized at launch) as a 1-d array of the result's "
           "element type, after every static shared array; every such op views the same "
           "memory.", category="memory"),
    _alloc(AddressSpace.LOCAL),
    OpInfo("atomic", (3, None), ONE, tr.atomic,
           "Atomically array[indices] = kind(old, value) (cas: value if old == compare); "
           "returns old.", effects=READ_WRITE,
           attrs=(AttrSpec("kind", "str", ATOMIC_KINDS),), key="kind", indexed=True,
           category="memory"),
    OpInfo("barrier", NONE_, NONE_, tr.no_results,
           "syncthreads: waits for every thread of the CTA; orders memory.",
           effects=Effect.BARRIER | READ_WRITE, category="warp"),
    OpInfo("syncwarp", NONE_, NONE_, tr.no_results,
           "__syncwarp: the lanes of the warp meet; orders their shared-memory accesses.",
           effects=Effect.CONVERGENT | READ_WRITE, category="warp"),
    OpInfo("fence", NONE_, NONE_, tr.no_results,
           "__threadfence: this thread's writes become visible to every thread before its "
           "later ones.", effects=READ_WRITE),
    OpInfo("shfl", (2, 2), ONE, tr.shfl,
           "The value of another lane of the warp (xor: lane ^ k, down: lane + k, up: "
           "lane - k, idx: lane k, with k taken modulo 32 as PTX's shfl.sync does); own "
           "value when that lane is out of range.",
           effects=Effect.CONVERGENT, attrs=(AttrSpec("kind", "str", SHFL_KINDS),),
           key="kind", category="warp"),
    OpInfo("vote", ONE, ONE, tr.vote,
           "Warp vote over the active lanes: any/all (bool) or ballot (u32 mask).",
           effects=Effect.CONVERGENT, attrs=(AttrSpec("kind", "str", VOTE_KINDS),),
           key="kind", category="warp"),
    OpInfo("mma", (10, 10), (4, 4), tr.mma,
           "Warp-wide D = A x B + C of PTX mma.sync.m16n8k16.row.col (f16 A and B, f32 C "
           "and D); each lane gives its fragments (A: four u32 words of two f16, B: two, "
           "C: four f32) and gets D's four.",
           effects=Effect.CONVERGENT, category="warp"),
    OpInfo("if", ONE, MANY, tr.if_,
           "Runs then or else; the results are what the region that ran yields.",
           regions=("then", "else"), syntax="if", category="control"),
    OpInfo("for", (3, None), MANY, tr.for_,
           "for iv in range(lb, ub, step), carrying values: the body's arguments are iv and "
           "the carried values, its yield the next carried values, the results the last. "
           "unroll: true asks for full unrolling (static_range), an int for a factor.",
           regions=("body",), attrs=(AttrSpec("unroll", "int_or_bool", required=False),),
           syntax="for", category="control"),
    OpInfo("while", MANY, MANY, tr.while_,
           "before(carried) yields (cond, *carried'); while cond, do(carried') yields the "
           "next carried; the results are the carried' of the false cond.",
           regions=("before", "do"), syntax="while", category="control"),
    OpInfo("yield", MANY, NONE_, tr.no_results,
           "Ends an if/for/while region, passing values to its op.", terminator=True,
           category="control"),
    OpInfo("return", MANY, NONE_, tr.no_results,
           "Ends the thread (kernel) or the call (device function, with its results).",
           effects=Effect.EXIT, terminator=True, category="control"),
    OpInfo("call", MANY, MANY, tr.call, "Calls a device function (inlined later).",
           effects=READ_WRITE | Effect.BARRIER | Effect.CONVERGENT,
           attrs=(AttrSpec("callee", "symbol"),), key="callee"),
)

OPS: dict[str, OpInfo] = {row.name: row for row in _ROWS}
"""Every op by name."""



def ops_in(category: str) -> tuple[str, ...]:
    """Names of the ops of one ``category``, in table order."""
    return tuple(name for name, info in OPS.items() if info.category == category)


_ATTR_KINDS: dict[str, tuple[str, tuple[type, ...]]] = {
    "int": ("an int", (int,)),
    "bool": ("a bool", (bool,)),
    "str": ("a string", (str,)),
    "symbol": ("a function name", (str,)),
    "number": ("a number or bool", (int, float, bool)),
    "int_or_bool": ("an int or bool", (int, bool)),
}


def check_attrs(info: OpInfo, attrs: Mapping[str, object]) -> None:
    """IRError unless ``attrs`` has every required attribute of ``info``, each of its kind
    and among its choices. Attributes the op does not declare are allowed (passes may
    annotate ops)."""
    for spec in info.attrs:
        if spec.name not in attrs:
            if spec.required:
                raise IRError(f"{info.name} needs attribute {spec.name!r}")
            continue
        value = attrs[spec.name]
        what, kinds = _ATTR_KINDS[spec.kind]
        is_bool = isinstance(value, bool)
        if not isinstance(value, kinds) or (is_bool and bool not in kinds):
            raise IRError(f"{info.name} attribute {spec.name!r} must be {what}, not {value!r}")
        if spec.choices is not None and value not in spec.choices:
            raise IRError(f"{info.name} {spec.name} must be one of {', '.join(spec.choices)}, "
                          f"not {value!r}")
