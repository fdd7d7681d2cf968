"""Atomics under contention: the results must match a serial execution of the updates.

End-to-end kernels check what CUDA promises: the final value is exact (integer sums wrap
mod 2^32 / 2^64), and each thread's returned old value is consistent with some serial order
of all the updates. The engine itself (``simulator.atomics.apply``) is checked against a
one-thread-at-a-time loop in thread order, its documented order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.simulator import atomics
from warpforge.simulator.semantics import atomic_combine

from .sim_support import device, kernel


def atom_kernel(op: str, typ: str = "", red: bool = False):
    """Thread g: ``old[g] = atomic op(dst[g & mask], vals[g], cmp[g])``."""
    wide = typ in ("U64", "S64")
    size = 8 if wide else 4
    mods = f".{op}" + (f".{typ}" if typ else "")
    load = ".64" if wide else ""
    if red:
        atom = f"{{A}}  RED.E{mods} [R2.64], R6 ;"
    else:
        atom = (f"{{V}}  ATOMG.E{mods} R10, [R2.64], R6, R8 ;\n"
                f"{{W}}  STG.E{load} [R14.64], R10 ;")
    return kernel(f"""\
        .kernel atom
        .param dst u{size * 8}*
        .param vals u{size * 8}*
        .param cmp u{size * 8}*
        .param old u{size * 8}*
        .param mask u32
                {{V}}  S2R R0, SR_TID.X ;
                {{WV}}  S2R R1, SR_CTAID.X ;
                {{W}}  IMAD R0, R1, c[0x0][0x0], R0 ;
                {{A}}  LOP3.LUT R1, R0, c[0x0][0x180], RZ, 0xc0, !PT ;
                {{A}}  MOV R12, {size:#x} ;
                {{A}}  IMAD.WIDE.U32 R2, R1, R12, c[0x0][0x160] ;
                {{A}}  IMAD.WIDE.U32 R4, R0, R12, c[0x0][0x168] ;
                {{V}}  LDG.E{load} R6, [R4.64] ;
                {{A}}  IMAD.WIDE.U32 R4, R0, R12, c[0x0][0x170] ;
                {{WV}}  LDG.E{load} R8, [R4.64] ;
                {{W}}  IMAD.WIDE.U32 R14, R0, R12, c[0x0][0x178] ;
                {atom}
                {{A}}  EXIT ;
        """)


def run_atomic(op, typ, init, vals, cmp=None, addresses=1, block=256, red=False):
    dtype = init.dtype
    n = vals.size
    cmp = np.zeros(n, dtype) if cmp is None else cmp
    dst = init.copy()
    old = np.full(n, 3, dtype)
    assert dst.size == addresses
    device().launch(atom_kernel(op, typ, red), n // block, block,
                    [dst, vals, cmp, old, addresses - 1])
    return dst, old


def check_serial_add(init, vals, dst, old, addresses, cast):
    """Per address, ordering the threads by their old value must replay the updates."""
    g = np.arange(vals.size)
    for a in range(addresses):
        mine = g % addresses == a
        order = np.argsort(old[mine], kind="stable")
        seq_old, seq_val = old[mine][order], vals[mine][order]
        assert seq_old[0] == init[a]
        np.testing.assert_array_equal(seq_old[1:], cast(seq_old[:-1] + seq_val[:-1]))
        assert dst[a] == cast(seq_old[-1:] + seq_val[-1:])[0]


@pytest.mark.parametrize("addresses", [1, 8])
def test_add_u32_all_threads_contend(addresses):
    rng = np.random.default_rng(4)
    vals = rng.integers(1, 100, 1024).astype(np.uint32)
    init = np.arange(10, 10 + addresses, dtype=np.uint32)
    dst, old = run_atomic("ADD", "", init, vals, addresses=addresses)
    for a in range(addresses):
        assert dst[a] == init[a] + vals[a::addresses].sum()
    check_serial_add(init, vals, dst, old, addresses, lambda x: x.astype(np.uint32))


def test_add_u32_wraps_mod_2_32_exactly():
    rng = np.random.default_rng(5)
    vals = rng.integers(0, 2**32, 512, dtype=np.uint64).astype(np.uint32)
    init = np.array([0xFFFFFFF0], np.uint32)
    dst, _ = run_atomic("ADD", "", init, vals)
    assert int(dst[0]) == (0xFFFFFFF0 + int(vals.astype(np.uint64).sum())) % 2**32


def test_add_s32_with_negative_values():
    rng = np.random.default_rng(6)
    vals = rng.integers(-1000, 1000, 512).astype(np.int32)
    init = np.array([-7], np.int32)
    dst, old = run_atomic("ADD", "S32", init.view(np.uint32), vals.view(np.uint32))
    assert dst.view(np.int32)[0] == -7 + int(vals.sum())
    # In a serial order old[k+1] = old[k] + val[k], so {old + val} = {olds} - {init} +
    # {final} as multisets.
    after = (old.view(np.int32).astype(np.int64) + vals)
    chain = np.sort(np.append(old.view(np.int32).astype(np.int64), dst.view(np.int32)[0]))
    assert np.array_equal(np.sort(np.append(after, -7)), chain)


def test_add_u64_pairs():
    rng = np.random.default_rng(7)
    vals = rng.integers(1, 2**40, 512, dtype=np.uint64)
    init = np.array([2**63], np.uint64)
    dst, old = run_atomic("ADD", "U64", init, vals)
    assert int(dst[0]) == 2**63 + sum(int(v) for v in vals)
    check_serial_add(init, vals, dst, old, 1, lambda x: x.astype(np.uint64))


def test_add_u64_wraps_mod_2_64():
    vals = np.full(256, 2**62 + 3, np.uint64)
    init = np.array([2**64 - 1], np.uint64)
    dst, _ = run_atomic("ADD", "U64", init, vals)
    assert int(dst[0]) == (2**64 - 1 + 256 * (2**62 + 3)) % 2**64


def test_add_f32_is_a_serial_float_sum():
    rng = np.random.default_rng(8)
    vals = rng.uniform(1.0, 2.0, 1024).astype(np.float32)
    init = np.array([0.5], np.float32)
    dst, old = run_atomic("ADD", "F32", init.view(np.uint32), vals.view(np.uint32))
    old_f = old.view(np.float32)
    order = np.argsort(old_f, kind="stable")
    running = np.float32(0.5)
    for k in order:  # replay in the order the old values reveal, rounding each step
        assert old_f[k] == running
        running = np.float32(running + vals[k])
    assert dst.view(np.float32)[0] == running


@pytest.mark.parametrize("op, typ, reduce", [
    ("MIN", "S32", np.min), ("MAX", "S32", np.max), ("MIN", "", np.min), ("MAX", "", np.max),
])
def test_min_max_signed_and_unsigned(op, typ, reduce):
    rng = np.random.default_rng(9)
    signed = rng.integers(-5000, 5000, 512).astype(np.int32)
    vals = signed.view(np.uint32)
    init = np.array([1], np.int32).view(np.uint32)
    dst, old = run_atomic(op, typ, init, vals)
    view = np.int32 if typ == "S32" else np.uint32
    everything = np.append(vals.view(view), init.view(view))
    assert dst.view(view)[0] == reduce(everything)
    assert set(old.view(view)) <= set(everything)
    better = np.minimum if op == "MIN" else np.maximum
    assert np.all(better(old.view(view), dst.view(view)[0]) == dst.view(view)[0])


@pytest.mark.parametrize("op, reduce", [("AND", np.bitwise_and), ("OR", np.bitwise_or),
                                        ("XOR", np.bitwise_xor)])
def test_bitwise_ops(op, reduce):
    rng = np.random.default_rng(10)
    vals = rng.integers(0, 2**32, 256, dtype=np.uint64).astype(np.uint32)
    vals |= np.uint32(1) if op == "AND" else np.uint32(0)
    init = np.array([0xF0F0F0F1], np.uint32)
    dst, _ = run_atomic(op, "", init, vals)
    assert dst[0] == reduce.reduce(np.append(vals, init))


def test_exch_chains_every_value_once():
    vals = np.arange(100, 356, dtype=np.uint32)
    init = np.array([7], np.uint32)
    dst, old = run_atomic("EXCH", "", init, vals)
    # Each thread's value is either someone's old value or the final one; 7 comes back.
    np.testing.assert_array_equal(np.sort(np.append(old, dst)), np.sort(np.append(vals, 7)))


def test_cas_only_matching_threads_succeed():
    vals = np.full(256, 0, np.uint32)  # compare value
    new = np.arange(1, 257, dtype=np.uint32)  # swap value
    init = np.array([0], np.uint32)
    dst, old = run_atomic("CAS", "", init, vals, cmp=new)
    # Exactly one thread sees 0 and swaps; everyone after sees its value.
    assert np.count_nonzero(old == 0) == 1
    winner = int(np.flatnonzero(old == 0)[0])
    assert dst[0] == new[winner]
    assert np.all(old[old != 0] == new[winner])


COUNTER = """\
    .kernel counter
    .param c u32*
    .param tickets u32*
            {V}  S2R R0, SR_TID.X ;
            {WV}  S2R R1, SR_CTAID.X ;
            {W}  IMAD R0, R1, c[0x0][0x0], R0 ;
            {A}  MOV R2, c[0x0][0x160] ;
            {A}  MOV R3, c[0x0][0x164] ;
            {A}  BSSY B0, `(.L_done) ;
    .L_retry:
            {V}  LDG.E R6, [R2.64] ;
            {W}  IADD3 R7, R6, 0x1, RZ ;
            {V}  ATOMG.E.CAS R10, [R2.64], R6, R7 ;
            {WG}  ISETP.NE.AND P0, PT, R10, R6, PT ;
            {A}  @P0 BRA `(.L_retry) ;
    .L_done:
            {A}  BSYNC B0 ;
            {A}  MOV R12, 0x4 ;
            {A}  IMAD.WIDE.U32 R14, R0, R12, c[0x0][0x168] ;
            {A}  STG.E [R14.64], R10 ;
            {A}  EXIT ;
    """


def test_cas_lock_free_counter_hands_out_every_ticket_once():
    prog = kernel(COUNTER)
    counter = np.zeros(1, np.uint32)
    tickets = np.zeros(192, np.uint32)
    device().launch(prog, 3, 64, [counter, tickets])
    assert counter[0] == 192
    np.testing.assert_array_equal(np.sort(tickets), np.arange(192))


@pytest.mark.parametrize("op, limit", [("INC", 5), ("DEC", 6)])
def test_inc_and_dec_wrap_at_the_limit(op, limit):
    n = 256
    vals = np.full(n, limit, np.uint32)
    init = np.array([2], np.uint32)
    dst, old = run_atomic(op, "", init, vals)
    seq = [2]
    for _ in range(n):  # the CUDA definitions of atomicInc / atomicDec
        x = seq[-1]
        if op == "INC":
            seq.append(0 if x >= limit else x + 1)
        else:
            seq.append(limit if x == 0 or x > limit else x - 1)
    assert dst[0] == seq[-1]
    np.testing.assert_array_equal(np.sort(old), np.sort(seq[:-1]))


def test_red_add_and_min_update_memory_without_results():
    rng = np.random.default_rng(11)
    vals = rng.integers(0, 1000, 512).astype(np.uint32)
    dst, old = run_atomic("ADD", "", np.zeros(4, np.uint32), vals, addresses=4, red=True)
    np.testing.assert_array_equal(dst, vals.reshape(-1, 4).sum(axis=0))
    np.testing.assert_array_equal(old, 3)  # RED returns nothing
    signed = (vals.astype(np.int32) - 500)
    dst, _ = run_atomic("MIN", "S32", np.zeros(4, np.uint32), signed.view(np.uint32),
                        addresses=4, red=True)
    np.testing.assert_array_equal(dst.view(np.int32),
                                  np.minimum(signed.reshape(-1, 4).min(axis=0), 0))


def test_shared_memory_histogram_with_atoms():
    prog = kernel("""\
        .kernel hist
        .param out u32*
        .param tickets u32*
        .shared 32
                {V}  S2R R0, SR_TID.X ;
                {WV}  S2R R5, SR_CTAID.X ;
                {WG}  ISETP.GE.U32.AND P0, PT, R0, 0x8, PT ;
                {A}  SHF.L.U32 R1, R0, 0x2, RZ ;
                {A}  @!P0 STS [R1], RZ ;
                {A}  BAR.SYNC 0x0 ;
                {A}  LOP3.LUT R2, R0, 0x7, RZ, 0xc0, !PT ;
                {A}  SHF.L.U32 R2, R2, 0x2, RZ ;
                {A}  MOV R3, 0x1 ;
                {V}  ATOMS.ADD R4, [R2], R3 ;
                {A}  IMAD R6, R5, c[0x0][0x0], R0 ;
                {A}  MOV R7, 0x4 ;
                {A}  IMAD.WIDE.U32 R8, R6, R7, c[0x0][0x168] ;
                {W}  STG.E [R8.64], R4 ;
                {A}  BAR.SYNC 0x0 ;
                {A}  @P0 EXIT ;
                {V}  LDS R4, [R1] ;
                {A}  IMAD R6, R5, 0x8, R0 ;
                {A}  IMAD.WIDE.U32 R8, R6, R7, c[0x0][0x160] ;
                {W}  STG.E [R8.64], R4 ;
                {A}  EXIT ;
        """)
    out = np.zeros(3 * 8, np.uint32)
    tickets = np.zeros(3 * 96, np.uint32)
    device().launch(prog, 3, 96, [out, tickets])
    np.testing.assert_array_equal(out, 12)
    for cta in range(3):
        for b in range(8):
            mine = tickets[cta * 96:(cta + 1) * 96][b::8]
            np.testing.assert_array_equal(np.sort(mine), np.arange(12))


VALID = [(op, t) for op in ("ADD", "MIN", "MAX", "EXCH", "CAS", "AND", "OR", "XOR", "INC",
                            "DEC")
         for t in ("U32", "S32", "F32", "U64", "S64")
         if not (op in ("INC", "DEC") and t not in ("U32", "U64"))
         and not (op in ("AND", "OR", "XOR") and t == "F32")]


def serial(mem, ix, op, typ, b, c):
    """One update at a time, in thread order."""
    mem = mem.copy()
    old = np.empty(ix.size, mem.dtype)
    for i in range(ix.size):
        old[i] = mem[ix[i]]
        mem[ix[i]] = atomic_combine(op, typ, mem[ix[i]:ix[i] + 1], b[i:i + 1], c[i:i + 1])[0]
    return mem, old


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(VALID), st.integers(1, 6), st.integers(1, 80), st.data())
def test_engine_matches_serial_updates(case, slots, n, data):
    op, typ = case
    dtype = np.uint64 if typ in ("U64", "S64") else np.uint32
    ix = np.array(data.draw(st.lists(st.integers(0, slots - 1), min_size=n, max_size=n)))
    small = st.integers(0, 4)  # few distinct values, so CAS compares often match
    if typ == "F32":
        floats = st.sampled_from([0.0, 1.0, -2.5, 1e-38, 3e38, 0.1, -0.0, 7.0])
        draw = lambda k: np.array(data.draw(st.lists(floats, min_size=k, max_size=k)),  # noqa: E731
                                  np.float32).view(np.uint32)
    else:
        draw = lambda k: np.array(data.draw(st.lists(small, min_size=k, max_size=k)),  # noqa: E731
                                  dtype)
    mem, b, c = draw(slots), draw(n), draw(n)
    expected_mem, expected_old = serial(mem, ix, op, typ, b, c)
    got_mem = mem.copy()
    got_old = atomics.apply(got_mem, ix, op, typ, b, c)
    np.testing.assert_array_equal(got_mem, expected_mem)
    np.testing.assert_array_equal(got_old, expected_old)


def test_engine_long_float_groups_use_the_running_sum_and_stay_serial():
    rng = np.random.default_rng(12)
    b = rng.uniform(-1, 1, 3000).astype(np.float32).view(np.uint32)
    b[::7] = np.float32(1e-39).view(np.uint32)  # subnormal inputs are flushed by the ADD
    ix = rng.integers(0, 3, 3000)
    mem = np.zeros(3, np.uint32)
    expected_mem, expected_old = serial(mem, ix, "ADD", "F32", b, b)
    got_old = atomics.apply(mem, ix, "ADD", "F32", b, b)
    np.testing.assert_array_equal(mem, expected_mem)
    np.testing.assert_array_equal(got_old, expected_old)
