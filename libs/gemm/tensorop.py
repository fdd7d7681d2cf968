"""The tensor-core GEMM template: f16 A and B, f32 accumulation, through ``wf.mma_sync``.

``C = act(alpha * A @ B + beta * C + bias)`` with the SIMT template's hierarchy: a CTA
computes a ``BM x BN`` tile of C stepping ``BK`` (16, 32 or 64) along K through shared
memory, each of its warps a ``WM x WN`` block of it as ``WM/16 x WN/8`` tiles of
``wf.mma_sync``'s 16x8 D, its accumulators in registers.

The operands arrive in *fragment order* (:func:`warpforge.libs.gemm.fragment_order`, done
on the host, as cuBLASLt's tiled orders are): A as ``MB x KB x 32 x 4`` words, the four
words lane ``l`` of a warp holds as the A fragment of 16-row block ``mb`` and 16-deep step
``kb``, in register order (two f16 each, along K); B likewise as ``NB x KB x 16 x 4``, the
two words of each lane of an 8-column block, two lanes to a row of 4. Rows and K are
padded with zeros to whole blocks. We have no ``ldmatrix`` to turn row-major tiles into
fragments in the warp, so the order is made once on the host: a block of A is 512
contiguous bytes that a warp copies with one ``LDG.E.128`` and one ``STS.128`` a lane and
reads back with one ``LDS.128`` a lane (B: ``LDS.64``), every access a run of consecutive
16-byte (8-byte) chunks, so free of bank conflicts with no padding or swizzle.

The fragments of the next 16-deep step are loaded while the current step's MMAs run.
``STAGES=2`` double-buffers shared memory as the SIMT template does (the next tile waits
in registers during the math; one barrier a K step). Edge tiles skip the blocks past the
padded operands, zero-filling them (``EVEN`` compiles the guards out), and ``GROUP``,
``SPLIT_K`` and ``ATOMIC`` mean what they mean there. The kernel declares its CTA size
with ``wf.launch_bounds``, so that its registers are planned for it.
"""

from __future__ import annotations

import warpforge as wf

from .simt import copied_step, epilogue, tile_of

A_BLOCK = 128
"""Words of one 16x16 block of A in fragment order: 32 lanes' 4 words."""
B_BLOCK = 64
"""Words of one 16x8 block of B in fragment order: 32 lanes' 2 words."""


@wf.func
def fetch_chunk(x, blk, kb, part, word, blocks, k_end, even):
    """``x[blk, kb, part, word]``, or 0 (two f16 zeros) for a block past ``blocks`` or a
    step past ``k_end`` (not checked when ``even`` is 1)."""
    v = wf.u32(0)
    if even == 1 or (blk < blocks and kb < k_end):
        v = x[blk, kb, part, word]
    return v


@wf.kernel
def gemm_tensorop(a: wf.u32[:, :, :, :], b: wf.u32[:, :, :, :], c: wf.f32[:, :],
                  bias: wf.f32[:], m: wf.i32, n: wf.i32, kb_total: wf.i32, alpha: wf.f32,
                  beta: wf.f32, BM: wf.constexpr, BN: wf.constexpr, BK: wf.constexpr,
                  WM: wf.constexpr, WN: wf.constexpr, BETA: wf.constexpr,
                  HAS_BIAS: wf.constexpr, ACT: wf.constexpr, EVEN: wf.constexpr,
                  GROUP: wf.constexpr = 1, SPLIT_K: wf.constexpr = 1,
                  ATOMIC: wf.constexpr = 0, STAGES: wf.constexpr = 1):
    # a: MB x KB x 32 x 4 words of A in fragment order, b: NB x KB x 16 x 4 of B; K runs
    # in 16-deep steps (blocks); the block is one row of (BM / WM) * (BN / WN) warps
    steps = BK // 16
    MT = WM // 16
    NT = WN // 8
    warps_n = BN // WN
    threads = (BM // WM) * warps_n * 32
    wf.launch_bounds(threads)
    a_chunks = (BM // 16) * steps * 32     # 16-byte chunks of a stage of A's tile
    b_chunks = (BN // 8) * steps * 16
    A_ROUNDS = (a_chunks + threads - 1) // threads
    B_ROUNDS = (b_chunks + threads - 1) // threads
    a_stage = (BM // 16) * steps * A_BLOCK
    b_stage = (BN // 8) * steps * B_BLOCK
    As = wf.shared((STAGES * a_stage,), wf.u32)
    Bs = wf.shared((STAGES * b_stage,), wf.u32)
    ra = wf.local((4 * A_ROUNDS,), wf.u32)
    rb = wf.local((4 * B_ROUNDS,), wf.u32)
    tid = wf.thread_idx.x
    lane = tid % 32
    warp = tid // 32
    wm = warp // warps_n
    wn = warp % warps_n
    tile_m, tile_n = tile_of(GROUP)
    mb0 = tile_m * (BM // 16)
    nb0 = tile_n * (BN // 8)
    mblocks = a.shape[0]
    nblocks = b.shape[0]
    k_per = ((kb_total + SPLIT_K * steps - 1) // (SPLIT_K * steps)) * steps
    k_begin = wf.block_idx.z * k_per
    k_end = min(kb_total, k_begin + k_per)
    if SPLIT_K == 1:
        k_begin = 0
        k_end = kb_total
    # this lane's fragments in its warp's first block of each tile
    a_warp = wm * MT * steps * A_BLOCK + 4 * lane
    b_warp = wn * NT * steps * B_BLOCK + 2 * lane
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
            lo = k_begin + phase * steps
            hi = k_begin + steps
            if phase == 1:
                hi = k_end + steps
        for k0 in range(lo, hi, steps):
            kl = copied_step(k0, STAGES, k_begin, k_end, steps)
            stage = 0
            if STAGES == 2:
                stage = ((k0 - k_begin) // steps) % 2
            # the math reads the stage the copy of the step before filled; with two
            # stages its first fragments are loaded ahead of the copy's global loads,
            # which it does not wait for
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
            # the copy: one 16-byte chunk a thread a round, a warp's round one block
            for q in wf.static_range(A_ROUNDS):
                chunk = tid + q * threads
                if a_chunks % threads == 0 or chunk < a_chunks:
                    blk = mb0 + chunk // (steps * 32)
                    kb = kl + (chunk // 32) % steps
                    for x in wf.static_range(4):
                        v = fetch_chunk(a, blk, kb, chunk % 32, x, mblocks, k_end, EVEN)
                        if STAGES == 1:
                            As[4 * chunk + x] = v
                        else:
                            ra[4 * q + x] = v
            for q in wf.static_range(B_ROUNDS):
                chunk = tid + q * threads
                if b_chunks % threads == 0 or chunk < b_chunks:
                    blk = nb0 + chunk // (steps * 16)
                    kb = kl + (chunk // 16) % steps
                    for x in wf.static_range(4):
                        v = fetch_chunk(b, blk, kb, chunk % 16, x, nblocks, k_end, EVEN)
                        if STAGES == 1:
                            Bs[4 * chunk + x] = v
                        else:
                            rb[4 * q + x] = v
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
                    chunk = tid + q * threads
                    if a_chunks % threads == 0 or chunk < a_chunks:
                        for x in wf.static_range(4):
                            As[stage * a_stage + 4 * chunk + x] = ra[4 * q + x]
                for q in wf.static_range(B_ROUNDS):
                    chunk = tid + q * threads
                    if b_chunks % threads == 0 or chunk < b_chunks:
                        for x in wf.static_range(4):
                            Bs[stage * b_stage + 4 * chunk + x] = rb[4 * q + x]
            wf.syncthreads()
    g = lane // 4
    t = lane % 4
    for i in wf.static_range(MT):
        for j in wf.static_range(NT):
            for x in wf.static_range(4):
                r = tile_m * BM + wm * WM + i * 16 + g + 8 * (x // 2)
                cc = tile_n * BN + wn * WN + j * 8 + 2 * t + x % 2
                if EVEN == 1 or (r < m and cc < n):
                    if SPLIT_K == 1:
                        c[r, cc] = epilogue(acc[i * NT + j, x], c, r, cc, bias, alpha, beta,
                                            BETA, HAS_BIAS, ACT)
                    elif ATOMIC == 1:
                        wf.atomic_add(c, (r, cc), alpha * acc[i * NT + j, x])
                    else:
                        c[wf.block_idx.z * m + r, cc] = acc[i * NT + j, x]
