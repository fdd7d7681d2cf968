"""Global memory allocations and windowed (shared/local) memory: bounds, alignment,
indexing, and the first bad address of an access."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warpforge.simulator.memory import AccessFault, GlobalMemory, WindowMemory


def test_allocations_are_aligned_separated_and_far_from_null():
    mem = GlobalMemory()
    sizes = [1, 255, 256, 4096, 0, 3]
    allocs = [mem.alloc(n) for n in sizes]
    for a, n in zip(allocs, sizes, strict=True):
        assert a.ptr % 256 == 0 and a.ptr >= 1 << 32 and a.nbytes == n
        assert not a.buf.any()
    for prev, nxt in itertools.pairwise(allocs):
        assert nxt.ptr > prev.ptr + max(prev.nbytes, 1)  # a gap: running off the end faults
        assert mem.find(prev.ptr + max(prev.nbytes, 1)) is None


def test_single_allocation_access_is_one_segment():
    mem = GlobalMemory()
    a = mem.alloc(64)
    a.buf[:] = np.arange(64, dtype=np.uint8)
    addr = np.array([a.ptr + 8, a.ptr, a.ptr + 60], np.uint64)
    (alloc, ix, pos), = mem.segments(addr, 4)
    assert alloc is a and pos is None
    np.testing.assert_array_equal(a.views[4][ix], a.buf.view(np.uint32)[[2, 0, 15]])


def test_access_spanning_allocations_is_split():
    mem = GlobalMemory()
    a, b = mem.alloc(32), mem.alloc(32)
    addr = np.array([b.ptr, a.ptr + 8, b.ptr + 24, a.ptr], np.uint64)
    segs = mem.segments(addr, 8)
    found = {id(s[0]): (list(s[1]), list(s[2])) for s in segs}
    assert found[id(a)] == ([1, 0], [1, 3]) and found[id(b)] == ([0, 3], [0, 2])


@pytest.mark.parametrize("offset, size, reason", [
    (64, 4, "is out of bounds (0 bytes after the end of the nearest allocation, 64 bytes"),
    (62, 4, "is misaligned (4-byte access)"),
    (60, 8, "is misaligned (8-byte access)"),
    (56, 16, "is misaligned (16-byte access)"),
    (-16, 4, "is out of bounds (16 bytes before the nearest allocation, 64 bytes"),
])
def test_first_bad_address_is_reported(offset, size, reason):
    mem = GlobalMemory()
    a = mem.alloc(64)
    addr = np.array([a.ptr, a.ptr + offset, a.ptr + 2 * size, a.ptr + offset],
                    np.uint64)
    with pytest.raises(AccessFault) as info:
        mem.segments(addr, size)
    assert info.value.position == 1 and info.value.address == a.ptr + offset
    assert info.value.reason.startswith(reason)


def test_null_and_freed_addresses():
    mem = GlobalMemory()
    a = mem.alloc(16)
    with pytest.raises(AccessFault, match=r"null pointer"):
        mem.segments(np.array([8], np.uint64), 4)
    mem.free(a.ptr)
    with pytest.raises(AccessFault, match=r"inside the freed 16-byte allocation"):
        mem.segments(np.array([a.ptr], np.uint64), 4)
    with pytest.raises(ValueError):
        mem.free(a.ptr)


def test_an_access_crossing_the_end_of_an_allocation_faults():
    mem = GlobalMemory()
    a = mem.alloc(20)  # a 16-byte access at 16 would read 12 bytes past the end
    with pytest.raises(AccessFault, match="out of bounds"):
        mem.segments(np.array([a.ptr + 16], np.uint64), 16)
    (_, ix, _), = mem.segments(np.array([a.ptr + 16], np.uint64), 4)
    assert list(ix) == [4]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=1, max_size=5),
       st.sampled_from([1, 2, 4, 8, 16]), st.data())
def test_segments_agree_with_a_per_address_check(sizes, size, data):
    mem = GlobalMemory()
    allocs = [mem.alloc(n) for n in sizes]
    for a in allocs:
        a.buf[:] = np.random.default_rng(a.ptr % 1000).integers(0, 256, a.buf.size)
    picks = data.draw(st.lists(st.tuples(st.integers(0, len(sizes) - 1),
                                         st.integers(-20, 320)), min_size=1, max_size=12))
    addr = np.array([allocs[k].ptr + off for k, off in picks], np.uint64)

    def bad(k, off):
        a = allocs[k]
        return (a.ptr + off) % size != 0 or not 0 <= off <= a.nbytes - size

    first_bad = next((i for i, (k, off) in enumerate(picks) if bad(k, off)), None)
    if first_bad is not None:
        with pytest.raises(AccessFault) as info:
            mem.segments(addr, size)
        assert info.value.position == first_bad
        return
    got = np.empty((len(picks), size), np.uint8)
    for alloc, ix, pos in mem.segments(addr, size):
        rows = alloc.views[size][ix].reshape(ix.size, -1).view(np.uint8)
        got[slice(None) if pos is None else pos] = rows
    for i, (k, off) in enumerate(picks):
        assert bytes(got[i]) == allocs[k].buf[off:off + size].tobytes()


def test_window_memory_bounds_per_window():
    bases = np.array([0, 0, 16, 16], np.int64) * 1  # two windows of 16 bytes
    win = WindowMemory(2, 12, bases, "shared", "the CTA has")
    assert win.stride == 16
    ix = win.index(np.array([0, 8, 4, 8], np.uint32), None, 4)
    np.testing.assert_array_equal(ix, [0, 2, 5, 6])
    ix = win.index(np.array([8], np.uint32), np.array([3]), 4)
    np.testing.assert_array_equal(ix, [6])
    with pytest.raises(AccessFault) as info:
        win.index(np.array([0, 12, 2], np.uint32), None, 4)
    assert info.value.position == 1
    assert info.value.reason == "is out of bounds (the CTA has 12 bytes of shared memory)"
    with pytest.raises(AccessFault, match=r"misaligned \(4-byte access\)"):
        win.index(np.array([0, 4, 2], np.uint32), None, 4)
