"""The names kernels call: thread and block indices, barriers, arrays, atomics, warp
shuffles and votes, math.

These are plain Python objects that the frontend recognizes by identity
(:mod:`warpforge.dsl.frontend.calls` maps each to the IR it builds); used from plain
Python they raise :class:`~warpforge.dsl.errors.OutsideKernelError`.
"""

from __future__ import annotations

from .errors import OutsideKernelError

warp_size = 32
"""Threads per warp (a constant in kernels)."""


def _outside(what: str) -> OutsideKernelError:
    return OutsideKernelError(f"{what} can only be used inside a @wf.kernel or @wf.func")


class Intrinsic:
    """A function only kernels may call; ``name`` is how it is written (``wf.name``), and
    its docstring (``help(wf.name)``) gives its signature and meaning. ``spelled`` is how
    users write it (``cuda.shared.array`` for the Numba front's); ``params`` names its
    parameters, so that calls may pass them by keyword."""

    def __init__(self, name: str, doc: str, spelled: str = "",
                 params: tuple[str, ...] = ()) -> None:
        self.name = name
        self.__doc__ = doc
        self.spelled = spelled or f"wf.{name}"
        self.params = params

    def __call__(self, *args: object, **kwargs: object) -> object:
        raise _outside(f"{self.spelled}()")

    def __repr__(self) -> str:
        return self.spelled


class SpecialValue:
    """A name that reads a value of the running thread (``cuda.laneid``): in kernels it
    is the IR op ``op``."""

    def __init__(self, op: str, spelled: str) -> None:
        self.op = op
        self.spelled = spelled

    def __repr__(self) -> str:
        return self.spelled


class Dim3:
    """``wf.thread_idx`` and friends: ``.x``, ``.y``, ``.z`` read the component in kernels."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> object:
        if attr in ("x", "y", "z"):
            raise _outside(f"wf.{self.name}.{attr}")
        raise AttributeError(f"wf.{self.name} has no attribute {attr!r} (use .x, .y or .z)")

    def __repr__(self) -> str:
        return f"wf.{self.name}"


thread_idx = Dim3("thread_idx")
block_idx = Dim3("block_idx")
block_dim = Dim3("block_dim")
grid_dim = Dim3("grid_dim")


_DOCS = {
    "lane_id": "lane_id() -> i32: this thread's lane in its warp, 0..31.",
    "syncthreads": "syncthreads(): wait until every thread of the CTA arrives; orders "
                   "shared and global memory across it. A barrier under an if runs when "
                   "every live thread of the CTA takes the same side; otherwise the launch "
                   "stops with wf.BarrierError.",
    "launch_bounds": "launch_bounds(max_threads): this kernel is launched with at most "
                     "max_threads threads a block (a compile-time integer, 1..1024; CUDA's "
                     "__launch_bounds__). The simulator backend plans its registers for CTAs "
                     "of that size (the occupancy steps of max_threads, not of 256); a "
                     "launch with more threads raises wf.LaunchError.",
    "syncthreads_count": "syncthreads_count(pred) -> i32: syncthreads(), and the number of "
                         "the CTA's threads whose pred is true.",
    "syncthreads_and": "syncthreads_and(pred) -> bool: syncthreads(), and whether pred is "
                       "true in every thread of the CTA.",
    "syncthreads_or": "syncthreads_or(pred) -> bool: syncthreads(), and whether pred is true "
                      "in some thread of the CTA.",
    "syncwarp": "syncwarp(): the lanes of this warp meet; orders their shared-memory "
                "accesses (CUDA's __syncwarp with the full mask).",
    "threadfence": "threadfence(): this thread's earlier writes to memory are seen by every "
                   "thread before its later ones (CUDA's __threadfence).",
    "shared": "shared(shape, dtype) -> array: a CTA-wide shared-memory array of a static "
              "shape (an int or a tuple of ints) and element type (wf.f32...). Its contents "
              "start undefined (zero on both devices today; initcheck reports reads of "
              "elements no thread wrote).",
    "dynamic_shared": "dynamic_shared(dtype) -> array: the CTA's dynamic shared memory as a "
                      "1-D array of dtype, of length shared_bytes // itemsize, where "
                      "shared_bytes is the launch's k[grid, block, shared_bytes] or "
                      "k.launch(..., shared_bytes=n). Every call views the same memory.",
    "local": "local(shape, dtype) -> array: a per-thread array, kept in registers when its "
             "indices are known at compile time.",
    "static_range": "static_range(stop) / static_range(start, stop[, step]): a range whose "
                    "loop is unrolled completely (bounds known at compile time).",
    "atomic_add": "atomic_add(array, index, value) -> old: array[index] += value, "
                  "atomically; returns the element's value before.",
    "atomic_sub": "atomic_sub(array, index, value) -> old: array[index] -= value, "
                  "atomically; returns the value before.",
    "atomic_min": "atomic_min(array, index, value) -> old: array[index] = min(it, value) "
                  "atomically (floats: a NaN operand is ignored); returns the value before.",
    "atomic_max": "atomic_max(array, index, value) -> old: array[index] = max(it, value) "
                  "atomically (floats: a NaN operand is ignored); returns the value before.",
    "atomic_exch": "atomic_exch(array, index, value) -> old: store value, atomically; "
                   "returns the value before.",
    "atomic_cas": "atomic_cas(array, index, compare, value) -> old: store value if the "
                  "element equals compare, atomically (CUDA's atomicCAS); returns the value "
                  "before.",
    "atomic_and": "atomic_and(array, index, value) -> old: array[index] &= value, atomically.",
    "atomic_or": "atomic_or(array, index, value) -> old: array[index] |= value, atomically.",
    "atomic_xor": "atomic_xor(array, index, value) -> old: array[index] ^= value, atomically.",
    "atomic_inc": "atomic_inc(array, index, limit) -> old: array[index] = 0 if old >= limit "
                  "else old + 1, atomically, on unsigned elements (CUDA's atomicInc).",
    "atomic_dec": "atomic_dec(array, index, limit) -> old: array[index] = limit if old == 0 "
                  "or old > limit else old - 1, atomically, on unsigned elements (CUDA's "
                  "atomicDec).",
    "shfl_xor": "shfl_xor(value, mask) -> value of lane (lane_id ^ mask) of this warp.",
    "shfl_down": "shfl_down(value, delta) -> value of lane lane_id + delta; a lane past the "
                 "end of the warp gets its own value.",
    "shfl_up": "shfl_up(value, delta) -> value of lane lane_id - delta; a lane before the "
               "start of the warp gets its own value.",
    "shfl_idx": "shfl_idx(value, lane) -> value of lane ``lane`` (taken modulo 32).",
    "mma_sync": "mma_sync([d,] a, b, c) -> (d0, d1, d2, d3): the warp's D = A x B + C, "
                "PTX mma.sync.m16n8k16.row.col with f16 A (16x16) and B (16x8) and f32 C "
                "and D (16x8), every lane of the warp taking part. Each lane gives its "
                "fragments as PTX lays them out (g = lane // 4, t = lane % 4): a, four u32 "
                "words of two f16 each (low half first): A[g][2t:2t+2], A[g+8][2t:2t+2], "
                "A[g][2t+8:2t+10], A[g+8][2t+8:2t+10]; b, two words: B[2t:2t+2][g], "
                "B[2t+8:2t+10][g]; c, four f32: C[g][2t], C[g][2t+1], C[g+8][2t], "
                "C[g+8][2t+1], and D likewise. A fragment is a tuple, a 1-d array or an "
                "array's row (x[i]); with d, D is also stored there (d may be c). On the "
                "simulator one HMMA.16816.F32; on the CPU the products are exact and summed "
                "in f64, rounded once to f32.",
    "vote_any": "vote_any(pred) -> bool: pred is true in some active lane of the warp.",
    "vote_all": "vote_all(pred) -> bool: pred is true in every active lane of the warp.",
    "ballot": "ballot(pred) -> u32: bit k set when pred is true in active lane k.",
    "popc": "popc(x) -> the number of set bits of the integer x.",
    "clz": "clz(x) -> the number of leading zero bits of the integer x (its width for 0).",
    "brev": "brev(x) -> x with its bits in reverse order.",
    "ffs": "ffs(x) -> 1 + the index of the lowest set bit of x, 0 when x is 0 (CUDA __ffs).",
    "fma": "fma(a, b, c) -> a * b + c with one rounding (floats).",
    "abs": "abs(x) -> |x|.",
    "min": "min(a, b, ...) -> the smallest (floats: a NaN operand is ignored).",
    "max": "max(a, b, ...) -> the largest (floats: a NaN operand is ignored).",
    "select": "select(cond, a, b) -> a if cond else b, both evaluated.",
    "fmod": "fmod(x, y) -> C's fmod: x - trunc(x / y) * y, the sign of x.",
    "isnan": "isnan(x) -> bool: x is NaN.",
    "isinf": "isinf(x) -> bool: x is +inf or -inf.",
    "isfinite": "isfinite(x) -> bool: x is neither infinite nor NaN.",
}
_MATH_DOCS = {
    "exp": "e ** x", "log": "the natural logarithm of x", "sqrt": "the square root of x",
    "rsqrt": "1 / sqrt(x)", "sin": "the sine of x (radians)", "cos": "the cosine of x",
    "exp2": "2 ** x", "log2": "the base-2 logarithm of x", "log10": "the base-10 logarithm",
    "tan": "the tangent of x", "tanh": "the hyperbolic tangent of x",
    "sinh": "the hyperbolic sine", "cosh": "the hyperbolic cosine",
    "asin": "the arc sine of x, in [-pi/2, pi/2]", "acos": "the arc cosine, in [0, pi]",
    "atan": "the arc tangent of x, in [-pi/2, pi/2]", "erf": "the error function",
    "erfc": "1 - erf(x), accurate for large x", "cbrt": "the real cube root of x",
    "floor": "the largest integer value <= x (a float)",
    "ceil": "the smallest integer value >= x (a float)",
    "trunc": "x rounded toward zero to an integer value (a float)",
    "round": "x rounded to the nearest integer value, ties to even (a float)",
}
_MATH2_DOCS = {
    "pow": "pow(x, y) -> x ** y (C's pow).",
    "atan2": "atan2(y, x) -> the angle of the point (x, y), in [-pi, pi].",
    "hypot": "hypot(x, y) -> sqrt(x*x + y*y) without overflow on the way.",
    "copysign": "copysign(x, y) -> |x| with the sign of y.",
}
for _name, _what in _MATH_DOCS.items():
    _DOCS[_name] = (f"{_name}(x) -> {_what}. Floats (an integer argument computes in f32); "
                    "f32 or f64 like the argument.")
_DOCS.update(_MATH2_DOCS)

for _name, _doc in _DOCS.items():
    globals()[_name] = Intrinsic(_name, _doc)

INTRINSICS: dict[str, Intrinsic] = {
    obj.name: obj for obj in globals().values() if isinstance(obj, Intrinsic)}
"""Every intrinsic function by name."""
DIM3S: dict[str, Dim3] = {d.name: d for d in (thread_idx, block_idx, block_dim, grid_dim)}
"""The index triples by name."""
