"""The tensor-core GEMM template: f16 A and B, f32 accumulation, through ``wf.mma_sync``.

``C = act(alpha * A @ B + beta * C + bias)`` with the SIMT template's hierarchy: a CTA
computes a ``BM x BN`` tile of C stepping ``BK`` (16, 32 or 64) along K through shared
memory, each of its warps a ``WM x WN`` block of it as ``WM/16 x WN/8`` tiles of
``wf.mma_sync``'s 16x8 D, its accumulators in registers. The operands arrive as 32-bit
words of two f16 along K: A as ``M x K/2`` words, B transposed (``N x K/2``), so that every
word a fragment holds is one word of memory (the host packs them; :mod:`warpforge.libs.gemm`
pads an odd K with a zero column).

Shared memory holds the tiles in fragment order, skewed: in each 16x16 block of A (a
16-row block by a 16-deep step of K), lane ``4i + x``'s four A words fill the 16-byte
chunk ``i + 10x`` (:data:`A_BLOCK`, :data:`A_SKEW`), and in each 16x8 block of B its two
words the 8-byte chunk ``i + 12x`` (:data:`B_BLOCK`, :data:`B_SKEW`). A warp reads its A
fragment with one ``LDS.128`` a lane and its B fragment with one ``LDS.64``, every eight
(sixteen) lanes on distinct banks; the copy from global memory reads runs of 4
consecutive words of A's rows (one ``LDG.E.128`` where the row strides are multiples of
16 bytes and no edge guard splits the run) and of 2 of B's (``LDG.E.64``), a warp's
round of runs covering one block, and writes each word to its slot: with the skew, the
32 stores of a round land on 32 distinct banks (unskewed, A's were 8-way conflicts). The
fragments of the next 16-deep step are loaded while the current step's MMAs run.
``STAGES=2`` double-buffers shared memory as the SIMT template does (the next tile waits
in registers during the math; one barrier a K step). Edge tiles are predicated as in the
SIMT template (``EVEN`` compiles the guards out), and ``GROUP``, ``SPLIT_K`` and
``ATOMIC`` mean what they mean there.
"""

from __future__ import annotations

import warpforge as wf

from .simt import copied_step, epilogue, tile_of

A_BLOCK = 152
"""Words of one 16x16 block of A's tile in shared memory: 32 lanes' 4 words, lane
``4i + x``'s at chunk ``i + 10x`` of 16 bytes (38 chunks, 6 of them padding)."""
A_SKEW = 40
"""Words between the chunks of lanes ``4i + x`` and ``4i + x + 1``."""
B_BLOCK = 88
"""Words of one 16x8 block of B's tile: lane ``4i + x``'s 2 words at chunk ``i + 12x`` of
8 bytes (44 chunks, 12 of them padding)."""
B_SKEW = 24
"""Words between the chunks of lanes ``4i + x`` and ``4i + x + 1``."""


@wf.func
def a_slot(r, w, steps):
    """The shared-memory word (stage 0) of A's tile word at row ``r``, word ``w`` along K,
    ``w`` a multiple of 4: words ``w + x`` lie ``A_SKEW * x`` further. Block (r // 16, w //
    8), lane ``4 (r % 8) + x``, register ``(r % 16) // 8 + 2 ((w % 8) // 4)``."""
    block = (r // 16) * steps + w // 8
    return block * A_BLOCK + 4 * (r % 8) + (r % 16) // 8 + 2 * ((w % 8) // 4)


@wf.func
def b_slot(col, w, steps):
    """The shared-memory word (stage 0) of B's tile word at column ``col``, word ``w``
    along K, ``w`` even: word ``w + 1`` lies ``B_SKEW`` further. Block (col // 8, w // 8),
    lane ``4 (col % 8) + w % 4``, register ``(w % 8) // 4``."""
    kk = w % 8
    block = (col // 8) * steps + w // 8
    return block * B_BLOCK + 2 * (col % 8) + B_SKEW * (kk % 4) + kk // 4


@wf.func
def fetch_word(x, r, w, rows, words, even):
    """``x[r, w]``, or 0 (two f16 zeros) outside ``rows x words`` (not checked when
    ``even`` is 1)."""
    v = wf.u32(0)
    if even == 1 or (r < rows and w < words):
        v = x[r, w]
    return v


@wf.func
def a_run(run, steps):
    """(row, first word) of A's copy run ``run`` of 4 words: 32 runs a 16x8-word block (a
    warp's one store round: 16 rows by 2 runs, 32 distinct banks)."""
    block = run // 32
    j = run % 32
    return (block // steps) * 16 + j % 16, (block % steps) * 8 + (j // 16) * 4


@wf.func
def b_run(run, steps):
    """(column, first word) of B's copy run ``run`` of 2 words: 32 runs an 8x8-word block
    (8 columns by 4 runs, 32 distinct banks)."""
    block = run // 32
    j = run % 32
    return (block // steps) * 8 + j % 8, (block % steps) * 8 + (j // 8) * 2


@wf.kernel
def gemm_tensorop(a: wf.u32[:, :], b: wf.u32[:, :], c: wf.f32[:, :], bias: wf.f32[:],
                  m: wf.i32, n: wf.i32, kw: wf.i32, alpha: wf.f32, beta: wf.f32,
                  BM: wf.constexpr, BN: wf.constexpr, BK: wf.constexpr, WM: wf.constexpr,
                  WN: wf.constexpr, BETA: wf.constexpr, HAS_BIAS: wf.constexpr,
                  ACT: wf.constexpr, EVEN: wf.constexpr, GROUP: wf.constexpr = 1,
                  SPLIT_K: wf.constexpr = 1, ATOMIC: wf.constexpr = 0,
                  STAGES: wf.constexpr = 1):
    # a: M x kw words of A (two f16 along K each), b: N x kw words of B transposed; the
    # block is one row of (BM / WM) * (BN / WN) warps
    BKW = BK // 2
    steps = BK // 16
    MT = WM // 16
    NT = WN // 8
    warps_n = BN // WN
    threads = (BM // WM) * warps_n * 32
    wf.launch_bounds(threads)
    a_runs = BM * BKW // 4
    b_runs = BN * BKW // 2
    A_ROUNDS = (a_runs + threads - 1) // threads
    B_ROUNDS = (b_runs + threads - 1) // threads
    a_stage = (BM // 16) * steps * A_BLOCK
    b_stage = (BN // 8) * steps * B_BLOCK
    As = wf.shared((STAGES * a_stage,), wf.u32)
    Bs = wf.shared((STAGES * b_stage,), wf.u32)
    ra = wf.local((4 * A_ROUNDS,), wf.u32)
    rb = wf.local((2 * B_ROUNDS,), wf.u32)
    tid = wf.thread_idx.x
    lane = tid % 32
    warp = tid // 32
    wm = warp // warps_n
    wn = warp % warps_n
    tile_m, tile_n = tile_of(GROUP)
    row0 = tile_m * BM
    col0 = tile_n * BN
    k_per = ((kw + SPLIT_K * BKW - 1) // (SPLIT_K * BKW)) * BKW
    k_begin = wf.block_idx.z * k_per
    k_end = min(kw, k_begin + k_per)
    if SPLIT_K == 1:
        k_begin = 0
        k_end = kw
    # where this lane's fragments lie in a block (lane 4i + x: chunk i + 10x of A's, i +
    # 12x of B's)
    # and where its warp's first block lies
    a_warp = wm * MT * steps * A_BLOCK + 4 * (lane // 4) + A_SKEW * (lane % 4)
    b_warp = wn * NT * steps * B_BLOCK + 2 * (lane // 4) + B_SKEW * (lane % 4)
    acc = wf.local((MT * NT, 4), wf.f32)
    # fragments, double-buffered: step s + 1's are loaded while step s's MMAs run
    af = wf.local((2, MT, 4), wf.u32)
    bf = wf.local((2, NT, 2), wf.u32)
    for i in wf.static_range(MT * NT):
        for x in wf.static_range(4):
            acc[i, x] = 0.0
    for phase in wf.static_range(STAGES):
        lo = k_begin
        hi = k_end
        if STAGES == 2:
            lo = k_begin + phase * BKW
            hi = k_begin + BKW
            if phase == 1:
                hi = k_end + BKW
        for k0 in range(lo, hi, BKW):
            kl = copied_step(k0, STAGES, k_begin, k_end, BKW)
            stage = 0
            if STAGES == 2:
                stage = ((k0 - k_begin) // BKW) % 2
            # the math reads the stage the copy of the step before filled (one base a
            # step, every block and word at a constant offset from it); with two stages
            # its first fragments are loaded ahead of the copy's global loads, which it
            # does not wait for
            math = STAGES == 1 or phase == 1
            sa = (1 - stage) * (STAGES - 1) * a_stage + a_warp
            sb = (1 - stage) * (STAGES - 1) * b_stage + b_warp
            if STAGES == 2 and math:
                for i in wf.static_range(MT):
                    for x in wf.static_range(4):
                        af[0, i, x] = As[sa + (i * steps * A_BLOCK + x)]
                for j in wf.static_range(NT):
                    for x in wf.static_range(2):
                        bf[0, j, x] = Bs[sb + (j * steps * B_BLOCK + x)]
            # the copy: A in runs of 4 words along K, B in runs of 2
            for q in wf.static_range(A_ROUNDS):
                run = tid + q * threads
                if a_runs % threads == 0 or run < a_runs:
                    r, w = a_run(run, steps)
                    for x in wf.static_range(4):
                        v = fetch_word(a, row0 + r, kl + w + x, m, k_end, EVEN)
                        if STAGES == 1:
                            As[a_slot(r, w, steps) + A_SKEW * x] = v
                        else:
                            ra[4 * q + x] = v
            for q in wf.static_range(B_ROUNDS):
                run = tid + q * threads
                if b_runs % threads == 0 or run < b_runs:
                    cc, w = b_run(run, steps)
                    for x in wf.static_range(2):
                        v = fetch_word(b, col0 + cc, kl + w + x, n, k_end, EVEN)
                        if STAGES == 1:
                            Bs[b_slot(cc, w, steps) + B_SKEW * x] = v
                        else:
                            rb[2 * q + x] = v
            if STAGES == 1:
                wf.syncthreads()
                for i in wf.static_range(MT):
                    for x in wf.static_range(4):
                        af[0, i, x] = As[sa + (i * steps * A_BLOCK + x)]
                for j in wf.static_range(NT):
                    for x in wf.static_range(2):
                        bf[0, j, x] = Bs[sb + (j * steps * B_BLOCK + x)]
            if math:
                for s in wf.static_range(steps):
                    if s + 1 < steps:
                        for i in wf.static_range(MT):
                            for x in wf.static_range(4):
                                af[(s + 1) % 2, i, x] = As[sa + ((i * steps + s + 1) * A_BLOCK
                                                                 + x)]
                        for j in wf.static_range(NT):
                            for x in wf.static_range(2):
                                bf[(s + 1) % 2, j, x] = Bs[sb + ((j * steps + s + 1) * B_BLOCK
                                                                 + x)]
                    for j in wf.static_range(NT):
                        for i in wf.static_range(MT):
                            wf.mma_sync(acc[i * NT + j], af[s % 2, i], bf[s % 2, j],
                                        acc[i * NT + j])
            if STAGES == 2:
                for q in wf.static_range(A_ROUNDS):
                    run = tid + q * threads
                    if a_runs % threads == 0 or run < a_runs:
                        r, w = a_run(run, steps)
                        for x in wf.static_range(4):
                            As[stage * a_stage + a_slot(r, w, steps) + A_SKEW * x] = \
                                ra[4 * q + x]
                for q in wf.static_range(B_ROUNDS):
                    run = tid + q * threads
                    if b_runs % threads == 0 or run < b_runs:
                        cc, w = b_run(run, steps)
                        for x in wf.static_range(2):
                            Bs[stage * b_stage + b_slot(cc, w, steps) + B_SKEW * x] = \
                                rb[2 * q + x]
            wf.syncthreads()
    g = lane // 4
    t = lane % 4
    for i in wf.static_range(MT):
        for j in wf.static_range(NT):
            for x in wf.static_range(4):
                r = row0 + wm * WM + i * 16 + g + 8 * (x // 2)
                cc = col0 + wn * WN + j * 8 + 2 * t + x % 2
                if EVEN == 1 or (r < m and cc < n):
                    if SPLIT_K == 1:
                        c[r, cc] = epilogue(acc[i * NT + j, x], c, r, cc, bias, alpha, beta,
                                            BETA, HAS_BIAS, ACT)
                    elif ATOMIC == 1:
                        wf.atomic_add(c, (r, cc), alpha * acc[i * NT + j, x])
                    else:
                        c[wf.block_idx.z * m + r, cc] = acc[i * NT + j, x]
