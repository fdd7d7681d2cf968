"""Hypothesis strategies for random *well-typed* IR functions, built through the Builder.

:func:`functions` draws a kernel with array and scalar parameters and a body of random
ops: constants of every scalar type (NaN, infinities and signed zeros included), every
arithmetic, bitwise, comparison, select, cast and math op, thread indices, loads, stores,
atomics, array_dim, shared/local allocations, barriers, shuffles, votes, and nested
``if`` (with results, and sometimes an early return), ``for`` (with carried values) and
``while``. Values are only used where they are visible (scoped per region), so every
function verifies. Some ops get random source locations, with awkward file names.
"""

from __future__ import annotations

from hypothesis import strategies as st

from warpforge.compiler.ir import (
    AddressSpace,
    ArrayType,
    Builder,
    Function,
    ScalarType,
    Value,
    bool_,
    f16,
    f32,
    f64,
    i8,
    i32,
    i64,
    u16,
    u32,
    u64,
)
from warpforge.compiler.ir.ops import ATOMIC_KINDS, PREDICATES, SHFL_KINDS
from warpforge.compiler.ir.typerules import ATOMIC_TYPES
from warpforge.isa.program import SourceLoc

ARITH = (i32, u32, i64, u64, f16, f32, f64)
INTS = (i32, u32, i64, u64)
FLOATS = (f16, f32, f64)
SCALARS = (bool_, i8, u16, *ARITH)
FILES = ("k.py", "dir/kernel file.py", 'we"ird\\name.py', "ünï.py")
BINARY = ("add", "sub", "mul", "div", "floordiv", "mod", "rem", "min", "max")
BITWISE = ("and", "or", "xor", "shl", "shr")
MATH = ("exp", "log", "sqrt", "rsqrt", "sin", "cos")
PARAMS = (
    ("x", ArrayType(f32, 1)),
    ("m", ArrayType(i32, 2)),
    ("u", ArrayType(u64, 1)),
    ("n", i32),
    ("a", f32),
    ("flag", bool_),
)
FUNC_ATTRS = {"BM": 64, "alpha": 0.5, "mode": 'a "quoted"\nstring', "on": True,
              "dtype": f16, "shape": (16, (2, 3)), "step": 1}


def scalar_values(t: ScalarType) -> st.SearchStrategy:
    """Values of type ``t`` as constants hold them."""
    if t.is_bool:
        return st.booleans()
    if t.is_int:
        return st.integers(t.min, t.max)
    return st.floats(width=t.bits).map(float)


class _Gen:
    def __init__(self, draw, builder: Builder, func: Function) -> None:
        self.draw = draw
        self.b = builder
        self.func = func
        self.scopes: list[list[Value]] = [list(func.params)]

    def visible(self, t: ScalarType) -> list[Value]:
        return [v for scope in self.scopes for v in scope if v.type == t]

    def value(self, t: ScalarType) -> Value:
        found = self.visible(t)
        if found and self.draw(st.booleans()):
            return self.draw(st.sampled_from(found))
        return self.b.constant(self.draw(scalar_values(t)), t)

    def keep(self, value: Value) -> Value:
        self.scopes[-1].append(value)
        return value

    def index(self) -> Value:
        return self.value(self.draw(st.sampled_from((i32, i64))))

    def maybe_loc(self) -> None:
        if self.draw(st.integers(0, 3)) == 0:
            self.b.loc = SourceLoc(self.draw(st.sampled_from(FILES)),
                                   self.draw(st.integers(1, 999)),
                                   self.draw(st.integers(0, 80)))

    def ops(self, depth: int, count: int) -> None:
        for _ in range(count):
            self.maybe_loc()
            kinds = ["scalar", "scalar", "scalar", "memory", "warp"]
            if depth < 2:
                kinds += ["if", "for", "while"]
            getattr(self, "gen_" + self.draw(st.sampled_from(kinds)))(depth)

    def region(self, depth: int) -> None:
        self.scopes.append([])
        self.ops(depth + 1, self.draw(st.integers(0, 3)))

    def gen_scalar(self, depth: int) -> None:
        b, draw = self.b, self.draw
        kind = draw(st.sampled_from(("binary", "bitwise", "unary", "fma", "cmp", "select",
                                     "cast", "math", "special", "constant")))
        if kind == "binary":
            t = draw(st.sampled_from(ARITH))
            name = draw(st.sampled_from(BINARY))
            self.keep(b.create(name, (self.value(t), self.value(t))).result)
        elif kind == "bitwise":
            name = draw(st.sampled_from(BITWISE))
            t = draw(st.sampled_from(INTS if name in ("shl", "shr") else (*INTS, bool_)))
            self.keep(b.create(name, (self.value(t), self.value(t))).result)
        elif kind == "unary":
            name = draw(st.sampled_from(("neg", "abs", "not")))
            pool = (i32, i64, *FLOATS) if name != "not" else (*INTS, bool_)
            self.keep(b.create(name, (self.value(draw(st.sampled_from(pool))),)).result)
        elif kind == "fma":
            t = draw(st.sampled_from(FLOATS))
            self.keep(b.fma(self.value(t), self.value(t), self.value(t)))
        elif kind == "cmp":
            t = draw(st.sampled_from(ARITH))
            self.keep(b.cmp(draw(st.sampled_from(PREDICATES)), self.value(t), self.value(t)))
        elif kind == "select":
            t = draw(st.sampled_from(SCALARS))
            self.keep(b.select(self.value(bool_), self.value(t), self.value(t)))
        elif kind == "cast":
            src, dst = draw(st.sampled_from(SCALARS)), draw(st.sampled_from(SCALARS))
            self.keep(b.cast(self.value(src), dst))
        elif kind == "math":
            t = draw(st.sampled_from((f32, f64)))
            self.keep(b.math(draw(st.sampled_from(MATH)), self.value(t)))
        elif kind == "special":
            name = draw(st.sampled_from(("thread_idx", "block_idx", "block_dim", "grid_dim")))
            self.keep(b.create(name, attrs={"dim": draw(st.sampled_from("xyz"))}).result)
        else:
            self.keep(self.value(draw(st.sampled_from(SCALARS))))

    def gen_memory(self, depth: int) -> None:
        b, draw = self.b, self.draw
        kind = draw(st.sampled_from(("load", "store", "atomic", "dim", "shared", "local")))
        if kind in ("shared", "local"):
            shape = tuple(draw(st.lists(st.integers(1, 40), min_size=1, max_size=3)))
            elem = draw(st.sampled_from(SCALARS))
            alloc = b.shared_alloc if kind == "shared" else b.local_alloc
            self.keep(alloc(shape, elem))
            return
        arrays = [v for scope in self.scopes for v in scope if isinstance(v.type, ArrayType)]
        array = draw(st.sampled_from(arrays))
        indices = [self.index() for _ in range(array.type.ndim)]
        if kind == "load":
            self.keep(b.load(array, indices))
        elif kind == "store":
            b.store(array, indices, self.value(array.type.elem))
        elif kind == "dim":
            self.keep(b.array_dim(array, draw(st.integers(0, array.type.ndim - 1))))
        else:
            elem = array.type.elem.name
            kinds = [k for k in ATOMIC_KINDS if elem in ATOMIC_TYPES[k]]
            if not kinds or array.type.space is AddressSpace.LOCAL:
                return
            k = draw(st.sampled_from(kinds))
            compare = self.value(array.type.elem) if k == "cas" else None
            self.keep(b.atomic(k, array, indices, self.value(array.type.elem), compare))

    def gen_warp(self, depth: int) -> None:
        b, draw = self.b, self.draw
        kind = draw(st.sampled_from(("barrier", "shfl", "vote", "lane")))
        if kind == "barrier":
            b.barrier()
        elif kind == "shfl":
            t = draw(st.sampled_from((i32, u32, i64, f32, f64)))
            self.keep(b.shfl(draw(st.sampled_from(SHFL_KINDS)), self.value(t), self.value(i32)))
        elif kind == "vote":
            self.keep(b.vote(draw(st.sampled_from(("any", "all", "ballot"))),
                             self.value(bool_)))
        else:
            self.keep(b.lane_id())

    def gen_if(self, depth: int) -> None:
        types = self.draw(st.lists(st.sampled_from(SCALARS), max_size=2))
        early = self.draw(st.integers(0, 5)) == 0
        with self.b.if_(self.value(bool_)) as br:
            for branch in (br.then_, br.else_):
                with branch():
                    self.region(depth)
                    if early and branch == br.then_:
                        self.b.return_()
                    elif types or self.draw(st.booleans()):
                        self.b.yield_(*(self.value(t) for t in types))
                    self.scopes.pop()
        for result in br.results:
            self.keep(result)

    def gen_for(self, depth: int) -> None:
        t = self.draw(st.sampled_from((i32, i64)))
        init = [self.value(self.draw(st.sampled_from(SCALARS)))
                for _ in range(self.draw(st.integers(0, 2)))]
        unroll = self.draw(st.sampled_from((None, True, 4)))
        with self.b.for_(self.value(t), self.value(t), self.value(t), init, unroll) as loop:
            self.scopes.append([loop.iv, *loop.carried])
            self.region(depth)
            self.b.yield_(*(self.value(v.type) for v in init))
            self.scopes.pop()
            self.scopes.pop()
        for result in loop.results:
            self.keep(result)

    def gen_while(self, depth: int) -> None:
        init = [self.value(self.draw(st.sampled_from(SCALARS)))
                for _ in range(self.draw(st.integers(0, 2)))]
        with self.b.while_(init) as w:
            with w.before() as args:
                self.scopes.append(list(args))
                self.region(depth)
                w.condition(self.value(bool_), *(self.value(v.type) for v in init))
                self.scopes.pop()
                self.scopes.pop()
            with w.after() as args:
                self.scopes.append(list(args))
                self.region(depth)
                self.b.yield_(*(self.value(v.type) for v in init))
                self.scopes.pop()
                self.scopes.pop()
        for result in w.results:
            self.keep(result)


@st.composite
def functions(draw, max_ops: int = 12) -> Function:
    """A random well-typed kernel of up to ``max_ops`` top-level ops (regions nest)."""
    attrs = draw(st.sampled_from(({}, FUNC_ATTRS)))
    func = Function("random", PARAMS, attrs=attrs)
    builder = Builder.for_function(func)
    gen = _Gen(draw, builder, func)
    gen.ops(0, draw(st.integers(0, max_ops)))
    builder.return_()
    return func
