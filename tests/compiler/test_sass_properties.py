"""Property tests of the SASS backend: random straight-line integer kernels, compiled and
run on the simulator, agree with the IR's exact scalar semantics
(:func:`warpforge.compiler.ir.semantics.evaluate`, what constant folding uses); and any
well-typed function either compiles to a valid program or raises a CompilerError."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warpforge.compiler.errors import CompilerError
from warpforge.compiler.ir import parse_function
from warpforge.compiler.ir.semantics import evaluate
from warpforge.compiler.sass import compile_function
from warpforge.isa import assemble

from .ir_strategies import functions
from .sass_support import build, run

BINARY = ("add", "sub", "mul", "and", "or", "xor", "min", "max", "div", "rem", "floordiv",
          "mod", "shl", "shr")
UNARY = ("neg", "abs", "not")
PREDS = ("eq", "ne", "lt", "le", "gt", "ge")
THREADS = 64


@st.composite
def programs(draw):
    t = draw(st.sampled_from(["i32", "u32"]))
    lines = [f"  %v0 = load %a[%t] : {t}", f"  %v1 = load %b[%t] : {t}"]
    count = 2
    for _ in range(draw(st.integers(1, 12))):
        def pick(n: int = count) -> str:
            return f"%v{draw(st.integers(0, n - 1))}"

        kind = draw(st.sampled_from(["binary", "unary", "select", "const"]))
        name = f"%v{count}"
        if kind == "const":
            value = draw(st.integers(-2**31, 2**31 - 1) if t == "i32"
                         else st.integers(0, 2**32 - 1))
            lines.append(f"  {name} = constant {value} : {t}")
        elif kind == "unary":
            op = draw(st.sampled_from(UNARY if t == "i32" else ("not",)))
            lines.append(f"  {name} = {op} {pick()} : {t}")
        elif kind == "select":
            p = draw(st.sampled_from(PREDS))
            lines += [f"  %c{count} = cmp {p} {pick()}, {pick()} : bool",
                      f"  {name} = select %c{count}, {pick()}, {pick()} : {t}"]
        else:
            op = draw(st.sampled_from(BINARY))
            x, y = pick(), pick()
            if op in ("div", "rem", "floordiv", "mod"):
                # a divisor in [1, 32767], or a drawn constant, never 0 or -1
                d = draw(st.one_of(st.integers(1, 40), st.just(None)))
                if d is None:
                    lines += [f"  %m{count} = constant 32767 : {t}",
                              f"  %n{count} = and {y}, %m{count} : {t}",
                              f"  %o{count} = constant 1 : {t}",
                              f"  %d{count} = or %n{count}, %o{count} : {t}"]
                else:
                    lines.append(f"  %d{count} = constant {d} : {t}")
                y = f"%d{count}"
            elif op in ("shl", "shr"):
                lines.append(f"  %s{count} = constant {draw(st.integers(0, 31))} : {t}")
                y = f"%s{count}"
            lines.append(f"  {name} = {op} {x}, {y} : {t}")
        count += 1
    outs = list(range(2, count))
    body = [f"  store %o[%k{k}, %t], %v{v}" for k, v in enumerate(outs)]
    consts = [f"  %k{k} = constant {k} : i32" for k in range(len(outs))]
    text = "\n".join([f"kernel @k(%a: array<{t}, 1, global>, %b: array<{t}, 1, global>, "
                      f"%o: array<{t}, 2, global>) {{", "  %t = thread_idx x : i32",
                      *lines, *consts, *body, "  return", "}"])
    return t, text, len(outs)


def reference(func, a: int, b: int) -> dict:
    """Every value of the kernel for one thread's inputs, by the IR's semantics."""
    env: dict = {}
    for op in func.block.ops:
        if op.name == "load":
            env[op.result] = a if op.operands[0] is func.params[0] else b
        elif op.name == "constant":
            env[op.result] = op.attr("value")
        elif op.results and op.name != "thread_idx":
            env[op.result] = evaluate(op.name, op.attrs, op.operand_types,
                                      [env[v] for v in op.operands], op.result.type)
    return env


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_integer_kernels_match_the_ir_semantics(prog, seed):
    t, text, nout = prog
    dtype = np.int32 if t == "i32" else np.uint32
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, THREADS, dtype=np.int64, endpoint=True).astype(dtype)
    b = rng.integers(info.min, info.max, THREADS, dtype=np.int64, endpoint=True).astype(dtype)
    a[:4] = [0, 1, info.max, info.min]
    out = np.zeros((max(nout, 1), THREADS), dtype)
    run(build(text), 1, THREADS, a, b, out)
    func = parse_function(text)
    stores = [op for op in func.block.ops if op.name == "store"]
    for lane in range(THREADS):
        values = reference(func, int(a[lane]), int(b[lane]))
        for k, store in enumerate(stores):
            expected = values[store.operands[-1]]
            assert int(out[k, lane]) == expected, (k, lane, text)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(functions())
def test_any_valid_function_compiles_or_raises_a_compiler_error(func):
    # Random IR of every op and type: what the backend does not support (64-bit integer
    # arithmetic, f16/f64 arithmetic, ...) must be a CompilerError, never a crash; what it
    # compiles must be a valid program (the text assembles back to it).
    try:
        program = compile_function(func)
    except CompilerError as err:
        assert "cannot lower" in str(err) or "needs more than" in str(err) \
            or "must be" in str(err) or "only" in str(err)
        return
    assert assemble(str(program)) == program
    assert program.instructions[-1].opcode == "EXIT"
