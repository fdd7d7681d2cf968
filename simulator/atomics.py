"""Vectorized atomics with serial semantics: many threads, possibly one address.

:func:`apply` performs the atomic updates of one instruction's threads as if they ran one
after another in thread order: each thread's returned old value is the memory value after
the updates of the threads before it at the same address, and memory ends with the serial
result. The value semantics (``new = combine(old, b, c)``) are
``semantics.atomic_combine``; this module only decides the order, without a Python loop
over threads:

* every address distinct (the common case): one gather, one combine, one scatter;
* associative operations (integer ADD, MIN, MAX, AND, OR, XOR): sort by address and run a
  segmented inclusive scan with ``combine`` as the operator (Hillis-Steele doubling, log2
  of the largest group of steps); a thread's old value is ``combine(memory, scan of the
  threads before it)``;
* EXCH: each thread gets the previous thread's value;
* CAS: per address, repeatedly find the next thread whose compare value equals the
  current value (it succeeds; the threads before it fail and see the current value),
  as many steps as the most successes at one address;
* float ADD: a float32 running sum per address (``np.add.accumulate`` is sequential),
  checked step by step against ``combine``; where it disagrees (e.g. subnormals flushed),
  and for INC and DEC: rounds, the r-th update of every address in round r.
"""

from __future__ import annotations

import numpy as np

from . import semantics

ASSOCIATIVE = frozenset({"ADD", "MIN", "MAX", "AND", "OR", "XOR"})
"""Operations whose serial result is a scan (integer ADD only: float ADD rounds)."""
_ACCUMULATE_MIN = 16
"""Groups at least this long try the float running-sum path before rounds."""


def atomic_combine(op: str, typ: str, old, b, c):
    """``semantics.atomic_combine`` (looked up at call time)."""
    return semantics.atomic_combine(op, typ, old, b, c)


def apply(view: np.ndarray, ix: np.ndarray, op: str, typ: str, b: np.ndarray,
          c: np.ndarray, want_old: bool = True) -> np.ndarray | None:
    """Apply ``op`` at elements ``ix`` of ``view`` with operands ``b``, ``c`` (one per
    thread, thread order); returns the old values (None unless ``want_old``)."""
    n = ix.size
    if n == 0:
        return np.empty(0, view.dtype) if want_old else None
    order = np.argsort(ix, kind="stable")
    sx = ix[order]
    start = np.empty(n, bool)
    start[0] = True
    np.not_equal(sx[1:], sx[:-1], out=start[1:])
    if start.all():  # every address distinct
        old = view[ix]
        view[ix] = atomic_combine(op, typ, old, b, c)
        return old if want_old else None
    sb, sc = b[order], c[order]
    firsts = np.flatnonzero(start)
    seg = np.cumsum(start) - 1
    rank = np.arange(n) - firsts[seg]
    counts = np.diff(np.append(firsts, n))
    uniq = sx[firsts]
    cur = view[uniq]
    if (op in ASSOCIATIVE and typ not in ("F32", "F64")) or op in ("MIN", "MAX"):
        sold, final = _scan(op, typ, cur, sb, sc, seg, rank, firsts, counts)
    elif op == "EXCH":
        sold = np.empty_like(sb)
        sold[1:] = sb[:-1]
        sold[firsts] = cur
        final = sb[firsts + counts - 1]
    elif op == "CAS":
        sold, final = _cas(typ, cur, sb, sc, seg, firsts, counts)
    else:
        sold, final = _serial(op, typ, cur, sb, sc, rank, firsts, counts)
    view[uniq] = final
    if not want_old:
        return None
    old = np.empty(n, view.dtype)
    old[order] = sold
    return old


def _scan(op, typ, cur, sb, sc, seg, rank, firsts, counts):
    """Segmented inclusive scan of ``sb`` with ``combine``; old values and final values."""
    x = sb.copy()
    step = 1
    top = int(counts.max())
    while step < top:
        same = rank[step:] >= step
        merged = atomic_combine(op, typ, x[:-step], x[step:], sc[step:])
        x[step:] = np.where(same, merged, x[step:])
        step *= 2
    sold = np.empty_like(sb)
    has_prev = rank > 0
    prev = np.roll(x, 1)
    sold[has_prev] = atomic_combine(op, typ, cur[seg[has_prev]], prev[has_prev],
                                    sc[has_prev])
    sold[~has_prev] = cur
    final = atomic_combine(op, typ, cur, x[firsts + counts - 1], sc[firsts])
    return sold, final


def _cas(typ, cur, sb, sc, seg, firsts, counts):
    """Serial compare-and-swap per address: b is the compare value, c the new value."""
    n = sb.size
    sold = np.empty_like(sb)
    pos = firsts.copy()  # next unprocessed thread of each address
    ends = firsts + counts
    value = cur.copy()
    where = np.arange(n)
    live = np.ones(firsts.size, bool)
    big = np.int64(n)
    while live.any():
        pending = where >= pos[seg]
        hit = pending & (sb == value[seg])
        first_hit = np.minimum.reduceat(np.where(hit, where, big), firsts)
        first_hit = np.where(live, first_hit, big)
        upto = np.minimum(first_hit + 1, ends)  # threads pos..upto-1 see `value`
        cover = pending & (where < upto[seg])
        sold[cover] = value[seg[cover]]
        won = live & (first_hit < big)
        j = first_hit[won]
        value[won] = atomic_combine("CAS", typ, value[won], sb[j], sc[j])
        pos = np.where(won, first_hit + 1, ends)
        live = won & (pos < ends)
    return sold, value


def _serial(op, typ, cur, sb, sc, rank, firsts, counts):
    """Non-associative operations (float ADD, INC, DEC): running sums or rounds."""
    sold = np.empty_like(sb)
    value = cur.copy()
    todo = np.ones(firsts.size, bool)
    if op == "ADD" and typ == "F32":
        for k in np.flatnonzero(counts >= _ACCUMULATE_MIN):
            lo, hi = firsts[k], firsts[k] + counts[k]
            run = np.empty(hi - lo + 1, np.float32)
            run[0] = value[k:k + 1].view(np.float32)[0]
            run[1:] = sb[lo:hi].view(np.float32)
            with np.errstate(all="ignore"):
                sums = np.add.accumulate(run, dtype=np.float32).view(np.uint32)
            check = atomic_combine(op, typ, sums[:-1], sb[lo:hi], sc[lo:hi])
            if np.array_equal(check, sums[1:]):
                sold[lo:hi] = sums[:-1]
                value[k] = sums[-1]
                todo[k] = False
    rounds = int(counts[todo].max()) if todo.any() else 0
    for r in range(rounds):
        segs = np.flatnonzero(todo & (counts > r))
        at = firsts[segs] + r
        sold[at] = value[segs]
        value[segs] = atomic_combine(op, typ, value[segs], sb[at], sc[at])
    return sold, value
