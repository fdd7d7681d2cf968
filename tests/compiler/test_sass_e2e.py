"""Kernels in IR text compiled by the SASS backend and run on the simulator (hazard checker
on), checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from .sass_support import build, fma32, run

SAXPY = """
kernel @saxpy(%n: i32, %a: f32, %x: array<f32, 1, global>, %y: array<f32, 1, global>) {
  %0 = block_idx x : i32
  %1 = block_dim x : i32
  %2 = mul %0, %1 : i32
  %3 = thread_idx x : i32
  %4 = add %2, %3 : i32
  %5 = cmp ge %4, %n : bool
  if %5 {
    return
  }
  %6 = load %x[%4] : f32
  %7 = load %y[%4] : f32
  %8 = mul %a, %6 : f32
  %9 = add %8, %7 : f32
  store %y[%4], %9
  return
}
"""


@pytest.mark.parametrize(("n", "block"), [(1, 32), (1000, 256), (77, 64)])
def test_saxpy(n, block):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n + 5).astype(np.float32)
    y = rng.standard_normal(n + 5).astype(np.float32)
    a = np.float32(1.75)
    expected = y.copy()
    expected[:n] = fma32(a, x[:n], y[:n])
    run(build(SAXPY), -(-n // block), block, np.int32(n), a, x, y)
    np.testing.assert_array_equal(y, expected)


TWO_D = """
kernel @scale2d(%x: array<f32, 2, global>, %out: array<f32, 2, global>, %s: f32) {
  %tx = thread_idx x : i32
  %bx = block_idx x : i32
  %dx = block_dim x : i32
  %j0 = mul %bx, %dx : i32
  %j = add %j0, %tx : i32
  %i = block_idx y : i32
  %m = array_dim %out {axis = 0} : i32
  %n = array_dim %out {axis = 1} : i32
  %c1 = cmp lt %j, %n : bool
  %c2 = cmp lt %i, %m : bool
  %ok = and %c1, %c2 : bool
  if %ok {
    %v = load %x[%i, %j] : f32
    %w = mul %v, %s : f32
    %jf = cast %j : f32
    %r = add %w, %jf : f32
    store %out[%i, %j], %r
    yield
  }
  return
}
"""


def test_two_d_kernel_with_strided_input():
    # x is read as the transpose of a contiguous buffer: strides (1, M) in elements.
    m, n = 5, 37
    buf = np.arange(n * m, dtype=np.float32).reshape(n, m) * np.float32(0.5)
    out = np.zeros((m, n), np.float32)
    s = np.float32(3.0)
    run(build(TWO_D), (2, m), 32, (buf, (m, n), (1, m)), out, s)
    cols = np.arange(n, dtype=np.float32)
    np.testing.assert_array_equal(out, fma32(s, buf.T, cols[None, :]))


IF_ELSE = """
kernel @branches(%x: array<f32, 1, global>, %out: array<f32, 1, global>, %n: i32) {
  %i = thread_idx x : i32
  %zero = constant 0.0 : f32
  %two = constant 2.0 : f32
  %one = constant 1.0 : f32
  %v = load %x[%i] : f32
  %pos = cmp gt %v, %zero : bool
  %r = if %pos : f32 {
    %big = cmp gt %v, %two : bool
    %t = if %big : f32 {
      %a = mul %v, %two : f32
      yield %a
    } else {
      %b = add %v, %one : f32
      yield %b
    }
    yield %t
  } else {
    %c = neg %v : f32
    yield %c
  }
  store %out[%i], %r
  return
}
"""


def test_if_else_with_divergence():
    x = np.linspace(-4, 4, 64).astype(np.float32)
    out = np.zeros(64, np.float32)
    run(build(IF_ELSE), 1, 64, x, out, np.int32(64))
    expected = np.where(x > 0, np.where(x > 2, x * 2, x + 1), -x).astype(np.float32)
    np.testing.assert_array_equal(out, expected)


COLLATZ = """
kernel @collatz(%x: array<u32, 1, global>, %steps: array<u32, 1, global>) {
  %i = thread_idx x : i32
  %v0 = load %x[%i] : u32
  %z = constant 0 : u32
  %one = constant 1 : u32
  %three = constant 3 : u32
  %v, %s = while (%a = %v0, %k = %z) : u32, u32 {
    %c = cmp gt %a, %one : bool
    yield %c, %a, %k
  } do (%b, %t) {
    %odd0 = and %b, %one : u32
    %odd = cmp ne %odd0, %z : bool
    %h = shr %b, %one : u32
    %m = mul %b, %three : u32
    %m1 = add %m, %one : u32
    %nb = select %odd, %m1, %h : u32
    %t1 = add %t, %one : u32
    yield %nb, %t1
  }
  store %steps[%i], %s
  return
}
"""


def _collatz(v: int) -> int:
    k = 0
    while v > 1:
        v = 3 * v + 1 if v % 2 else v // 2
        k += 1
    return k


def test_data_dependent_while_loop():
    x = np.arange(0, 64, dtype=np.uint32) * 7 + 1
    x[0] = 0
    steps = np.zeros(64, np.uint32)
    run(build(COLLATZ), 1, 64, x, steps)
    assert steps.tolist() == [_collatz(int(v)) for v in x]


FOR_LOOP = """
kernel @rowsums(%x: array<f32, 2, global>, %out: array<f32, 1, global>, \
%cnt: array<i32, 1, global>, %step: i32) {
  %i = thread_idx x : i32
  %n = array_dim %x {axis = 1} : i32
  %z = constant 0 : i32
  %zf = constant 0.0 : f32
  %s, %c = for %j = %z to %n step %step iter(%acc = %zf, %k = %z) : f32, i32 {
    %v = load %x[%i, %j] : f32
    %a = add %acc, %v : f32
    %one = constant 1 : i32
    %k1 = add %k, %one : i32
    yield %a, %k1
  }
  store %out[%i], %s
  store %cnt[%i], %c
  return
}
"""


@pytest.mark.parametrize("step", [1, 3])
def test_for_loop_with_carried_values(step):
    rows, cols = 40, 23
    x = (np.arange(rows * cols, dtype=np.float32).reshape(rows, cols) % 7) - 3
    out = np.zeros(rows, np.float32)
    cnt = np.zeros(rows, np.int32)
    run(build(FOR_LOOP), 1, rows, x, out, cnt, np.int32(step))
    np.testing.assert_array_equal(out, x[:, ::step].sum(axis=1, dtype=np.float32))
    assert (cnt == len(range(0, cols, step))).all()


DOWN_LOOP = """
kernel @countdown(%out: array<i32, 1, global>, %lb: i32, %step: i32) {
  %i = thread_idx x : i32
  %z = constant 0 : i32
  %r = for %j = %lb to %i step %step iter(%acc = %z) : i32 {
    %a = add %acc, %j : i32
    yield %a
  }
  store %out[%i], %r
  return
}
"""


@pytest.mark.parametrize(("lb", "step"), [(20, -1), (20, -3), (0, 2)])
def test_for_loop_with_a_step_of_unknown_sign(lb, step):
    out = np.zeros(32, np.int32)
    run(build(DOWN_LOOP), 1, 32, out, np.int32(lb), np.int32(step))
    assert out.tolist() == [sum(range(lb, i, step)) for i in range(32)]


TREE = """
kernel @tree(%x: array<f32, 1, global>, %out: array<f32, 1, global>) {
  %sh = shared_alloc : array<f32, [128], shared>
  %t = thread_idx x : i32
  %b = block_idx x : i32
  %d = block_dim x : i32
  %base = mul %b, %d : i32
  %i = add %base, %t : i32
  %v = load %x[%i] : f32
  store %sh[%t], %v
  barrier
  %one = constant 1 : i32
  %zero = constant 0 : i32
  %half = shr %d, %one : i32
  %fin = while (%s = %half) : i32 {
    %c = cmp gt %s, %zero : bool
    yield %c, %s
  } do (%s2) {
    %act = cmp lt %t, %s2 : bool
    if %act {
      %j = add %t, %s2 : i32
      %a = load %sh[%t] : f32
      %c2 = load %sh[%j] : f32
      %sum = add %a, %c2 : f32
      store %sh[%t], %sum
      yield
    }
    barrier
    %nx = shr %s2, %one : i32
    yield %nx
  }
  %first = cmp eq %t, %zero : bool
  if %first {
    %r = load %sh[%zero] : f32
    store %out[%b], %r
    yield
  }
  return
}
"""


def test_shared_memory_tree_reduction():
    blocks, threads = 3, 128
    x = (np.arange(blocks * threads) % 11).astype(np.float32)
    out = np.zeros(blocks, np.float32)
    program = build(TREE)
    assert program.shared_bytes == 512
    run(program, blocks, threads, x, out)
    np.testing.assert_array_equal(out, x.reshape(blocks, threads).sum(axis=1))


SHFL = """
kernel @warpsum(%x: array<f32, 1, global>, %out: array<f32, 1, global>) {
  %t = thread_idx x : i32
  %v0 = load %x[%t] : f32
  %k16 = constant 16 : i32
  %k8 = constant 8 : i32
  %k4 = constant 4 : i32
  %k2 = constant 2 : i32
  %k1 = constant 1 : i32
  %s16 = shfl xor %v0, %k16 : f32
  %v1 = add %v0, %s16 : f32
  %s8 = shfl xor %v1, %k8 : f32
  %v2 = add %v1, %s8 : f32
  %s4 = shfl xor %v2, %k4 : f32
  %v3 = add %v2, %s4 : f32
  %s2 = shfl xor %v3, %k2 : f32
  %v4 = add %v3, %s2 : f32
  %s1 = shfl xor %v4, %k1 : f32
  %v5 = add %v4, %s1 : f32
  %lane = lane_id : i32
  %z = constant 0 : i32
  %lead = cmp eq %lane, %z : bool
  if %lead {
    %old = atomic add %out[%z], %v5 : f32
    yield
  }
  %dn = shfl down %v0, %k1 : f32
  %up = shfl up %v0, %k1 : f32
  %id = shfl idx %v0, %k4 : f32
  %w = sub %dn, %up : f32
  %w2 = add %w, %id : f32
  %n = constant 64 : i32
  %ti = add %t, %n : i32
  store %x[%ti], %w2
  return
}
"""


def test_shuffle_reduction_and_shuffle_kinds():
    n = 64
    x = np.zeros(2 * n, np.float32)
    x[:n] = np.arange(n, dtype=np.float32)
    out = np.zeros(1, np.float32)
    program = build(SHFL)
    assert "RED.E.ADD.F32" in str(program)
    run(program, 1, n, x, out)
    assert out[0] == np.arange(n).sum()
    v = np.arange(n, dtype=np.float32).reshape(2, 32)
    lane = np.arange(32)
    dn = np.where(lane + 1 < 32, np.roll(v, -1, axis=1), v)
    up = np.where(lane >= 1, np.roll(v, 1, axis=1), v)
    idx = v[:, 4:5]
    np.testing.assert_array_equal(x[n:], ((dn - up) + idx).reshape(-1))


ATOMICS = """
kernel @atoms(%hist: array<i32, 1, global>, %x: array<i32, 1, global>, \
%tickets: array<u32, 1, global>, %mx: array<i32, 1, global>, \
%sh_out: array<i32, 1, global>, %cas: array<u32, 1, global>) {
  %sh = shared_alloc : array<i32, [4], shared>
  %t = thread_idx x : i32
  %z = constant 0 : i32
  %zu = constant 0 : u32
  %oneu = constant 1 : u32
  %one = constant 1 : i32
  %four = constant 4 : i32
  %lt4 = cmp lt %t, %four : bool
  if %lt4 {
    store %sh[%t], %z
    yield
  }
  barrier
  %v = load %x[%t] : i32
  %bin = and %v, %one : i32
  %h = atomic add %hist[%bin], %one : i32
  %tk = atomic add %tickets[%z], %oneu : u32
  %tk1 = add %tk, %oneu : u32
  store %tickets[%tk1], %tk
  %m = atomic max %mx[%z], %v : i32
  %m2 = atomic min %mx[%one], %v : i32
  %b4 = and %t, %four : i32
  %s = atomic add %sh[%one], %v : i32
  %s2 = atomic xor %sh[%z], %t : i32
  barrier
  %first = cmp eq %t, %z : bool
  if %first {
    %r = load %sh[%one] : i32
    store %sh_out[%z], %r
    %r2 = load %sh[%z] : i32
    store %sh_out[%one], %r2
    yield
  }
  %ok = atomic cas %cas[%z], %oneu, %zu : u32
  %e = atomic exch %cas[%one], %oneu : u32
  return
}
"""


def test_atomics():
    n = 96
    rng = np.random.default_rng(5)
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    hist = np.zeros(2, np.int32)
    tickets = np.zeros(n + 1, np.uint32)
    mx = np.array([np.iinfo(np.int32).min, np.iinfo(np.int32).max], np.int32)
    sh_out = np.zeros(2, np.int32)
    cas = np.array([0, 0], np.uint32)
    run(build(ATOMICS), 1, n, hist, x, tickets, mx, sh_out, cas)
    assert hist.tolist() == [int((x & 1 == 0).sum()), int((x & 1 == 1).sum())]
    assert tickets[0] == n and sorted(tickets[1:].tolist()) == list(range(n))
    assert mx.tolist() == [x.max(), x.min()]
    assert sh_out[0] == x.sum()
    assert sh_out[1] == np.bitwise_xor.reduce(np.arange(n))
    assert cas.tolist() == [1, 1]


REDUCE_SUM_SMEM = """
kernel @reduce_sum_smem(%x: array<f32, 1, global>, %out: array<f32, 1, global>, %n: i32) {
  %s = shared_alloc : array<f32, [256], shared>
  %t = thread_idx x : i32
  %tid = cast %t : u32
  %b = block_idx x : i32
  %d = block_dim x : i32
  %bu = cast %b : u32
  %du = cast %d : u32
  %base = mul %bu, %du : u32
  %i = add %base, %tid : u32
  %nu = cast %n : u32
  %inb = cmp lt %i, %nu : bool
  %zf = constant 0.0 : f32
  %v = if %inb : f32 {
    %xv = load %x[%i] : f32
    yield %xv
  } else {
    yield %zf
  }
  store %s[%tid], %v
  barrier
  %one = constant 1 : u32
  %zero = constant 0 : u32
  %half = shr %du, %one : u32
  %fin = while (%st = %half) : u32 {
    %c = cmp gt %st, %zero : bool
    yield %c, %st
  } do (%st2) {
    %act = cmp lt %tid, %st2 : bool
    if %act {
      %j = add %tid, %st2 : u32
      %a = load %s[%tid] : f32
      %c2 = load %s[%j] : f32
      %sum = add %a, %c2 : f32
      store %s[%tid], %sum
      yield
    }
    barrier
    %nx = shr %st2, %one : u32
    yield %nx
  }
  %first = cmp eq %tid, %zero : bool
  if %first {
    %r = load %s[%zero] : f32
    %old = atomic add %out[%zero], %r : f32
    yield
  }
  return
}
"""


def test_reduce_sum_smem_like_the_reference_kernel():
    n, block = 1000, 256
    x = ((np.arange(n) % 13) - 6).astype(np.float32)
    out = np.zeros(1, np.float32)
    run(build(REDUCE_SUM_SMEM), -(-n // block), block, x, out, np.int32(n))
    assert out[0] == x.sum()  # small integers: every order of the sums is exact


MISC = """
kernel @misc(%x: array<i32, 1, global>, %o: array<i32, 2, global>, \
%w: array<i64, 1, global>, %flag: bool, %big: i64) {
  %loc = local_alloc : array<i32, [4], local>
  %t = thread_idx x : i32
  %v = load %x[%t] : i32
  %z = constant 0 : i32
  %one = constant 1 : i32
  %two = constant 2 : i32
  %three = constant 3 : i32
  %four = constant 4 : i32
  %k = and %t, %three : i32
  store %loc[%k], %v
  %v2 = mul %v, %two : i32
  store %loc[%three], %v2
  %a = load %loc[%k] : i32
  %b = load %loc[%three] : i32
  %s = add %a, %b : i32
  store %o[%z, %t], %s
  %neg = cmp lt %v, %z : bool
  %any = vote any %neg : bool
  %all = vote all %neg : bool
  %bal = vote ballot %neg : u32
  %anyi = cast %any : i32
  %alli = cast %all : i32
  %ali2 = shl %alli, %one : i32
  %bits = or %anyi, %ali2 : i32
  store %o[%one, %t], %bits
  %bali = cast %bal : i32
  store %o[%two, %t], %bali
  %f = and %flag, %neg : bool
  %fi = select %f, %four, %three : i32
  store %o[%three, %t], %fi
  %v64 = cast %v : i64
  %sum = add %v64, %big : i64
  %dif = sub %sum, %v64 : i64
  %d2 = sub %dif, %v64 : i64
  store %w[%t], %d2
  return
}
"""


@pytest.mark.parametrize("flag", [False, True])
def test_local_arrays_votes_bool_params_and_64_bit_adds(flag):
    n = 64
    rng = np.random.default_rng(11)
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    x[32:] = np.abs(x[32:]) + 1  # warp 1: no negatives
    x[:32] = -np.abs(x[:32]) - 1  # warp 0: all negative
    x[3] = 5  # ... except one lane
    o = np.zeros((4, n), np.int32)
    w = np.zeros(n, np.int64)
    big = np.int64(3 * 2**33 + 12345)
    run(build(MISC), 1, n, x, o, w, np.int32(flag), big)
    # loc[t & 3] = x, then loc[3] = 2x: lanes with t & 3 == 3 read 2x twice
    np.testing.assert_array_equal(o[0], np.where(np.arange(n) % 4 == 3, 4 * x, 3 * x))
    neg = x < 0
    for warp in range(2):
        lanes = slice(32 * warp, 32 * warp + 32)
        any_, all_ = neg[lanes].any(), neg[lanes].all()
        assert (o[1, lanes] == int(any_) + 2 * int(all_)).all()
        ballot = sum(1 << k for k in range(32) if neg[lanes][k])
        assert (o[2, lanes].view(np.uint32) == ballot).all()
    np.testing.assert_array_equal(o[3], np.where(neg & flag, 4, 3))
    np.testing.assert_array_equal(w, big - x.astype(np.int64))


FIND = """
kernel @find_negative(%x: array<i32, 2, global>, %out: array<i32, 1, global>) {
  %t = thread_idx x : i32
  %n = array_dim %x {axis = 1} : i32
  %z = constant 0 : i32
  %one = constant 1 : i32
  for %j = %z to %n step %one {
    %v = load %x[%t, %j] : i32
    %neg = cmp lt %v, %z : bool
    if %neg {
      store %out[%t], %j
      return
    }
    yield
  }
  %m = constant -1 : i32
  store %out[%t], %m
  return
}
"""


def test_early_return_from_inside_a_loop():
    rows, cols = 48, 20
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 30, (rows, cols)).astype(np.int32)
    x[5] = np.abs(x[5])  # a row without negatives
    out = np.zeros(rows, np.int32)
    program = build(FIND)
    run(program, 1, rows, x, out)
    first = [int(np.argmax(r < 0)) if (r < 0).any() else -1 for r in x]
    assert out.tolist() == first



@pytest.mark.parametrize("counter", ["i32", "i64"])
def test_a_constant_if_that_returns_leaves_the_rest_unreachable(counter):
    # found by the random-IR property test: the results of an `if` whose constant-true arm
    # returns were never assigned, and lowering what follows crashed with a KeyError
    program = build(f"""
kernel @k(%u: array<i32, 1, global>) {{
  %t = thread_idx x : i32
  %seven = constant 7 : i32
  store %u[%t], %seven
  %no = constant false : bool
  %lb = constant 0 : {counter}
  %ub = constant 100 : {counter}
  %st = constant 3 : {counter}
  %r = for %i = %lb to %ub step %st iter(%c = %no) : bool {{
    %yes = constant true : bool
    %d = if %yes : bool {{
      return
    }} else {{
      yield %c
    }}
    yield %d
  }}
  %nine = constant 9 : i32
  store %u[%t], %nine
  return
}}""")
    out = np.zeros(64, np.int32)
    run(program, 1, 64, out)
    assert out.tolist() == [7] * 64
