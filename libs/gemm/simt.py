"""The SIMT GEMM template: ``C = act(alpha * A @ B + beta * C + bias)`` in the DSL.

A CTA computes a ``BM x BN`` tile of C, stepping ``BK`` along K through shared memory;
its ``(BN / TN) x (BM / TM)`` threads (x along C's columns) each compute a ``TM x TN``
tile of it held in registers (the kernel declares the CTA's threads with
``wf.launch_bounds``, so that its registers are planned for that size). A thread's rows
and columns are strided (``ty + i * BM / TM``, ``tx + j * BN / TN``), so the lanes of a
warp read consecutive shared-memory words of B's tile and one word of A's (a broadcast).
On the CPU, where a CTA's threads along x are SIMD lanes, that is BLIS's mapping: B's
row is one vector load, A's element is uniform across the lanes, and each FMA takes it
broadcast. The A tile is stored K-major (``As[k][m]``), as CUTLASS's SIMT kernels do, so
that both tiles are read along their contiguous axis in the inner loop; on the CPU
(``KMAJOR=0``, set by the launcher with ``VEC=1``) it is stored M-major (``As[m][k]``):
there a K-major store of a row of A scatters across the lanes, while the inner loop's
read of A is a broadcast either way. Edge tiles are predicated: loads outside the
matrices read zero and stores outside are skipped, so any M, N and K work. When the
tiles divide M, N and K (``EVEN``, as Triton specializes on divisibility), the guards
are compiled out, and the CPU backend gets plain vector loads. Any strides work (the DSL
passes them), so row- and column-major operands and strided views need nothing special.
The epilogue applies alpha, beta (C is not read when ``BETA`` is 0), the bias vector and
the activation once per element.

``GROUP`` > 1 rasterizes the grid: consecutive CTAs walk ``GROUP`` rows of C's tiles
column by column instead of a whole row of tiles, so the A tiles they share are still in
L2 (Triton's "grouped ordering", CUTLASS's threadblock swizzle). ``SPLIT_K`` > 1 splits
K among the grid's z dimension, for problems with few tiles and a deep K: with
``ATOMIC=1`` each slice adds ``alpha`` times its partial sum into C with ``atomic_add``
(after :func:`gemm_prologue` set C to ``beta * C + bias``; no activation, and the order
of the additions, so the last bits, vary); with ``ATOMIC=0`` each slice writes its
partial sums to a workspace and :func:`gemm_reduce` adds them in order and applies the
whole epilogue, deterministically.

``VEC=4`` (thread tiles of multiples of 4) gives each thread runs of 4 adjacent rows and
columns instead of single strided ones: rows ``ty * 4 + (i % 4) + (i // 4) * (BM / TM) *
4``, likewise the columns, CUTLASS's SIMT layout. A thread's fragment of a tile row is then
4 consecutive words at 16-byte aligned addresses (with ``PAD`` 0 or 4), which the SASS
backend reads with one ``LDS.128`` instead of four ``LDS``. The tile copy moves runs of 4
consecutive words of A's and B's rows too: one ``LDG.E.128`` each where the rows' strides
are multiples of 16 bytes (the simulator build is specialized on that) and the loads are
unguarded or share one guard, and one ``STS.128`` for B's run. On the CPU it costs the
lanes their unit stride, so it is for the simulator.

Warp tiles (``WM x WN``, with ``VEC=4``) arrange a warp's 32 lanes as a ``WM/TM`` by
``WN/TN`` block of threads over its own ``WM x WN`` block of the CTA tile (CUTLASS's
warp-level tile: 32x64 with 4x8 lanes for 128x128 with 8x8 a thread), instead of the
lanes running along the CTA's rows of threads: a warp's fragment loads then touch
``WM/TM`` distinct runs of A and ``WN/TN`` of B rather than 2 and 16.
"""

from __future__ import annotations

import warpforge as wf

RELU, GELU = 1, 2
"""Activation codes of the ``ACT`` constexpr (0: none)."""
GELU_C = 0.7978845608028654
"""sqrt(2 / pi), of the tanh form of GELU (Hendrycks and Gimpel, 2016)."""


@wf.func
def epilogue(v, c, r, cc, bias, alpha, beta, has_beta, has_bias, act):
    """``act(alpha * v + beta * c[r, cc] + bias[cc])``, each term only where asked."""
    out = alpha * v
    if has_beta == 1:
        out += beta * c[r, cc]
    if has_bias == 1:
        out += bias[cc]
    if act == RELU:
        out = max(out, 0.0)
    if act == GELU:
        out = 0.5 * out * (1.0 + wf.tanh(GELU_C * (out + 0.044715 * out * out * out)))
    return out


@wf.func
def fetch(x, r, cc, rows, cols, even):
    """``x[r, cc]``, or 0 outside ``rows x cols`` (not checked when ``even`` is 1)."""
    v = 0.0
    if even == 1 or (r < rows and cc < cols):
        v = x[r, cc]
    return v


@wf.func
def run_at(tid, q, threads, cols, skip):
    """(row, first column) of the copy's run ``(tid - skip) % threads + q * threads`` of 4
    words in a tile ``cols`` wide, runs in row-major order: B's copy skips the threads
    that A's last, partial round of runs keeps busy, so the loads spread evenly."""
    g = (tid + threads - skip) % threads + q * threads
    return g // (cols // 4), (g % (cols // 4)) * 4


@wf.func
def run_place(origin, lead, k, span):
    """``origin`` plus where, along one axis of the CTA tile, a thread's ``k``-th row (or
    column) of C lies with runs of 4: its first run at ``lead``, the next ones ``span``
    runs of 4 apart (summed left to right, the constant part last, so that places
    differing only by ``k`` share a base register)."""
    return origin + lead + (k % 4) + (k // 4) * span * 4


@wf.func
def last_run(row, rows, runs, threads):
    """``row``, or the tile's last row where a last, partial round of ``runs`` copies
    left its thread none (no clamp when the rounds are whole)."""
    out = row
    if runs % threads != 0:
        out = min(row, rows - 1)
    return out


@wf.func
def tile_of(group):
    """(row, column) of this CTA's tile of C: the grid's own order, or with ``group`` > 1
    rasterized (consecutive CTAs walk ``group`` rows of tiles column by column)."""
    tile_m = wf.block_idx.y
    tile_n = wf.block_idx.x
    if group > 1:
        pid = wf.block_idx.y * wf.grid_dim.x + wf.block_idx.x
        per_group = group * wf.grid_dim.x
        first = (pid // per_group) * group
        rows = min(wf.grid_dim.y - first, group)
        tile_m = first + (pid % per_group) % rows
        tile_n = (pid % per_group) // rows
    return tile_m, tile_n


@wf.func
def copied_step(k0, stages, k_begin, k_end, step):
    """The K step whose tile step ``k0`` copies: itself, or with two stages the slice's
    last one where ``k0`` is past it (the last step copies its tile again, harmlessly)."""
    kl = k0
    if stages == 2:
        kl = min(k0, k_begin + ((k_end - k_begin - 1) // step) * step)
    return kl


@wf.kernel
def gemm_simt(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :], bias: wf.f32[:],
              m: wf.i32, n: wf.i32, k: wf.i32, alpha: wf.f32, beta: wf.f32,
              BM: wf.constexpr, BN: wf.constexpr, BK: wf.constexpr, TM: wf.constexpr,
              TN: wf.constexpr, BETA: wf.constexpr, HAS_BIAS: wf.constexpr,
              ACT: wf.constexpr, EVEN: wf.constexpr, GROUP: wf.constexpr = 1,
              SPLIT_K: wf.constexpr = 1, ATOMIC: wf.constexpr = 0,
              STAGES: wf.constexpr = 1, PAD: wf.constexpr = 0, VEC: wf.constexpr = 1,
              WM: wf.constexpr = 0, WN: wf.constexpr = 0, KMAJOR: wf.constexpr = 1):
    # The block is (BN / TN) x (BM / TM) threads: x along C's columns, y along its rows.
    # A's tile K-major (As[k][m], KMAJOR=1), or M-major (As[m][k]) with VEC=1 on the CPU,
    # where the K-major store of a row of A is a scatter across the lanes
    As = wf.shared((KMAJOR * STAGES * BK + (1 - KMAJOR) * STAGES * BM,
                    KMAJOR * (BM + PAD) + (1 - KMAJOR) * BK), wf.f32)
    Bs = wf.shared((STAGES * BK, BN), wf.f32)
    threads = (BM // TM) * (BN // TN)
    wf.launch_bounds(threads)
    # STAGES=2: the next tile's elements wait in registers while the math runs (room for
    # either tile copy; the elements a copy never touches cost nothing)
    ra = wf.local((TM * ((BK + BN // TN - 1) // (BN // TN))
                   + 4 * ((BM * BK // 4 + threads - 1) // threads),), wf.f32)
    rb = wf.local((TN * ((BK + BM // TM - 1) // (BM // TM))
                   + 4 * ((BK * BN // 4 + threads - 1) // threads),), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    tid = ty * (BN // TN) + tx
    # runs of 4 (VEC=4): where the thread's first run lies along C's rows and columns,
    # and how many threads' runs lie between its runs: those of its CTA's row (column) of
    # threads, or with warp tiles of its warp's
    lead_m = ty * 4
    lead_n = tx * 4
    span_m = BM // TM
    span_n = BN // TN
    if WM > 0:
        lead_m = ((tid // 32) // (BN // WN)) * WM + ((tid % 32) // (WN // TN)) * 4
        lead_n = ((tid // 32) % (BN // WN)) * WN + ((tid % 32) % (WN // TN)) * 4
        span_m = WM // TM
        span_n = WN // TN
    tile_m, tile_n = tile_of(GROUP)
    row0 = tile_m * BM
    col0 = tile_n * BN
    # split-K: CTA z takes its slice of K, a whole number of BK steps (not a @wf.func:
    # the loop bounds derive from it, and the barrier check takes a call's result as
    # varying)
    k_per = ((k + SPLIT_K * BK - 1) // (SPLIT_K * BK)) * BK
    k_begin = wf.block_idx.z * k_per
    k_end = min(k, k_begin + k_per)
    if SPLIT_K == 1:
        k_begin = 0
        k_end = k
    acc = wf.local((TM * TN,), wf.f32)
    av = wf.local((TM,), wf.f32)
    bv = wf.local((TN,), wf.f32)
    for i in wf.static_range(TM * TN):
        acc[i] = 0.0
    # Two stages pipeline the copy: phase 0 copies the first tile to stage 0 (one step,
    # no math); in phase 1 each step loads the next tile into registers while the math
    # reads the one before, then stores it to the other stage. The last step loads the
    # last tile again, harmlessly. One stage: one phase, copy then math each step.
    for phase in wf.static_range(STAGES):
        lo = k_begin
        hi = k_end
        if STAGES == 2:
            lo = k_begin + phase * BK
            hi = k_begin + BK
            if phase == 1:
                hi = k_end + BK
        for k0 in range(lo, hi, BK):
            # Load the tile at kl: with one stage straight into shared memory, with two
            # into registers for the stage the math is not reading.
            kl = copied_step(k0, STAGES, k_begin, k_end, BK)
            if VEC == 4:
                # every thread copies runs of 4 consecutive words of both tiles (run tid + q *
                # threads of each), which the SASS backend reads with one 128-bit load and,
                # for B, writes with one 128-bit store, where the strides allow
                # (a last, partial round re-reads the tile's last row where it has no run,
                # unguarded, so that the loads stay vector loads; that copy is not stored)
                for q in wf.static_range((BM * BK // 4 + threads - 1) // threads):
                    r, kk = run_at(tid, q, threads, BK, 0)
                    for j in wf.static_range(4):
                        v = fetch(a, row0 + last_run(r, BM, BM * BK // 4, threads), kl + kk + j,
                                  m, k_end, EVEN)
                        if STAGES == 1:
                            if (BM * BK // 4) % threads == 0 or r < BM:
                                As[kk + j, r] = v
                        else:
                            ra[4 * q + j] = v
                for q in wf.static_range((BK * BN // 4 + threads - 1) // threads):
                    kk, cc = run_at(tid, q, threads, BN, (BM * BK // 4) % threads)
                    for j in wf.static_range(4):
                        v = fetch(b, kl + last_run(kk, BK, BK * BN // 4, threads), col0 + cc + j,
                                  k_end, n, EVEN)
                        if STAGES == 1:
                            if (BK * BN // 4) % threads == 0 or kk < BK:
                                Bs[kk, cc + j] = v
                        else:
                            rb[4 * q + j] = v
            # A's tile: thread (x, y) loads columns x, x + BN/TN, ... of rows y + i * BM/TM
            # (the guard on the column is compiled out when BN/TN divides BK)
            for kc in wf.static_range((BK + BN // TN - 1) // (BN // TN) * (VEC == 1)):
                kk = tx + kc * (BN // TN)
                if BK % (BN // TN) == 0 or kk < BK:
                    for i in wf.static_range(TM):
                        r = ty + i * (BM // TM)
                        if EVEN == 1:
                            v = a[row0 + r, kl + kk]
                        else:
                            v = 0.0
                            if row0 + r < m and kl + kk < k_end:
                                v = a[row0 + r, kl + kk]
                        if STAGES == 1:
                            if KMAJOR == 1:
                                As[kk, r] = v
                            else:
                                As[r, kk] = v
                        else:
                            ra[kc * TM + i] = v
            # B's tile: rows y, y + BM/TM, ... at columns x + j * BN/TN
            for kr in wf.static_range((BK + BM // TM - 1) // (BM // TM) * (VEC == 1)):
                kk = ty + kr * (BM // TM)
                if BK % (BM // TM) == 0 or kk < BK:
                    for j in wf.static_range(TN):
                        cc = tx + j * (BN // TN)
                        if EVEN == 1:
                            v = b[kl + kk, col0 + cc]
                        else:
                            v = 0.0
                            if kl + kk < k_end and col0 + cc < n:
                                v = b[kl + kk, col0 + cc]
                        if STAGES == 1:
                            Bs[kk, cc] = v
                        else:
                            rb[kr * TN + j] = v
            if STAGES == 1:
                wf.syncthreads()
            # The math on this tile (one stage) or the one before (two stages: the first
            # step has none yet, and only loads).
            base = 0
            if STAGES == 2:
                base = (((k0 - k_begin) // BK + 1) % 2) * BK
            if STAGES == 1 or phase == 1:
                for kk in wf.static_range(BK):
                    for i in wf.static_range(TM):
                        if VEC == 4:
                            av[i] = As[base + kk, run_place(0, lead_m, i, span_m)]
                        else:
                            if KMAJOR == 1:
                                av[i] = As[base + kk, ty + i * (BM // TM)]
                            else:
                                av[i] = As[(base // BK) * BM + ty + i * (BM // TM), kk]
                    for j in wf.static_range(TN):
                        if VEC == 4:
                            bv[j] = Bs[base + kk, run_place(0, lead_n, j, span_n)]
                        else:
                            bv[j] = Bs[base + kk, tx + j * (BN // TN)]
                    for i in wf.static_range(TM):
                        for j in wf.static_range(TN):
                            acc[i * TN + j] += av[i] * bv[j]
            if STAGES == 2:
                # the loaded tile goes to the stage the math did not read
                base = (((k0 - k_begin) // BK) % 2) * BK
                if VEC == 4:
                    for q in wf.static_range((BM * BK // 4 + threads - 1) // threads):
                        r, kk = run_at(tid, q, threads, BK, 0)
                        if (BM * BK // 4) % threads == 0 or r < BM:
                            for j in wf.static_range(4):
                                As[base + kk + j, r] = ra[4 * q + j]
                    for q in wf.static_range((BK * BN // 4 + threads - 1) // threads):
                        kk, cc = run_at(tid, q, threads, BN, (BM * BK // 4) % threads)
                        if (BK * BN // 4) % threads == 0 or kk < BK:
                            for j in wf.static_range(4):
                                Bs[base + kk, cc + j] = rb[4 * q + j]
                for e in wf.static_range(TM * ((BK + BN // TN - 1) // (BN // TN)) * (VEC == 1)):
                    kk = tx + (e // TM) * (BN // TN)
                    if BK % (BN // TN) == 0 or kk < BK:
                        if KMAJOR == 1:
                            As[base + kk, ty + (e % TM) * (BM // TM)] = ra[e]
                        else:
                            As[(base // BK) * BM + ty + (e % TM) * (BM // TM), kk] = ra[e]
                for e in wf.static_range(TN * ((BK + BM // TM - 1) // (BM // TM)) * (VEC == 1)):
                    kk = ty + (e // TN) * (BM // TM)
                    if BK % (BM // TM) == 0 or kk < BK:
                        Bs[base + kk, tx + (e % TN) * (BN // TN)] = rb[e]
            wf.syncthreads()
    for i in wf.static_range(TM):
        r = row0 + ty + i * (BM // TM)
        if VEC == 4:
            r = run_place(row0, lead_m, i, span_m)
        for j in wf.static_range(TN):
            cc = col0 + tx + j * (BN // TN)
            if VEC == 4:
                cc = run_place(col0, lead_n, j, span_n)
            if EVEN == 1 or (r < m and cc < n):
                if SPLIT_K == 1:
                    c[r, cc] = epilogue(acc[i * TN + j], c, r, cc, bias, alpha, beta, BETA,
                                        HAS_BIAS, ACT)
                elif ATOMIC == 1:
                    # C already holds beta * C + bias (gemm_prologue)
                    wf.atomic_add(c, (r, cc), alpha * acc[i * TN + j])
                else:
                    # C is the workspace: one M x N slice of partial sums per K slice
                    c[wf.block_idx.z * m + r, cc] = acc[i * TN + j]


@wf.kernel
def gemm_prologue(c: wf.f32[:, :], bias: wf.f32[:], m: wf.i32, n: wf.i32, beta: wf.f32,
                  BETA: wf.constexpr, HAS_BIAS: wf.constexpr):
    """Atomic split-K's first step: ``C = beta * C + bias`` (0 without either), one
    thread an element, 256 a CTA."""
    i = wf.block_idx.x * 256 + wf.thread_idx.x
    if i < m * n:
        r = i // n
        cc = i - r * n
        v = 0.0
        if BETA == 1:
            v = beta * c[r, cc]
        if HAS_BIAS == 1:
            v += bias[cc]
        c[r, cc] = v


@wf.kernel
def gemm_reduce(w: wf.f32[:, :], c: wf.f32[:, :], bias: wf.f32[:], m: wf.i32, n: wf.i32,
                alpha: wf.f32, beta: wf.f32, SPLIT_K: wf.constexpr, BETA: wf.constexpr,
                HAS_BIAS: wf.constexpr, ACT: wf.constexpr):
    """Split-K's reduction: C = epilogue(the K slices' partial sums, added in order), one
    thread an element, 256 a CTA: deterministic, unlike the atomic form."""
    i = wf.block_idx.x * 256 + wf.thread_idx.x
    if i < m * n:
        r = i // n
        cc = i - r * n
        v = 0.0
        for s in wf.static_range(SPLIT_K):
            v += w[s * m + r, cc]
        c[r, cc] = epilogue(v, c, r, cc, bias, alpha, beta, BETA, HAS_BIAS, ACT)
