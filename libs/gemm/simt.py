"""The SIMT GEMM template: ``C = act(alpha * A @ B + beta * C + bias)`` in the DSL.

A CTA computes a ``BM x BN`` tile of C, stepping ``BK`` along K through shared memory;
its ``(BN / TN) x (BM / TM)`` threads (x along C's columns) each compute a ``TM x TN``
tile of it held in registers. A thread's rows and columns are strided (``ty + i * BM /
TM``, ``tx + j * BN / TN``), so the lanes of a warp read consecutive shared-memory words
of B's tile and one word of A's (a broadcast). On the CPU, where a CTA's threads along x
are SIMD lanes, that is BLIS's mapping: B's row is one vector load, A's element is
uniform across the lanes, and each FMA takes it broadcast. The A tile is
stored K-major (``As[k][m]``), as CUTLASS's SIMT kernels do, so that both tiles are read
along their contiguous axis in the inner loop. Edge tiles are predicated: loads outside
the matrices read zero and stores outside are skipped, so any M, N and K work. When the
tiles divide M, N and K (``EVEN``, as Triton specializes on divisibility), the guards are
compiled out, and the CPU backend gets plain vector loads. Any
strides work (the DSL passes them), so row- and column-major operands and strided views
need nothing special. The epilogue applies alpha, beta (C is not read when ``BETA`` is
0), the bias vector and the activation once per element.
"""

from __future__ import annotations

import warpforge as wf

RELU, GELU = 1, 2
"""Activation codes of the ``ACT`` constexpr (0: none)."""
GELU_C = 0.7978845608028654
"""sqrt(2 / pi), of the tanh form of GELU (Hendrycks and Gimpel, 2016)."""


@wf.kernel
def gemm_simt(a: wf.f32[:, :], b: wf.f32[:, :], c: wf.f32[:, :], bias: wf.f32[:],
              m: wf.i32, n: wf.i32, k: wf.i32, alpha: wf.f32, beta: wf.f32,
              BM: wf.constexpr, BN: wf.constexpr, BK: wf.constexpr, TM: wf.constexpr,
              TN: wf.constexpr, BETA: wf.constexpr, HAS_BIAS: wf.constexpr,
              ACT: wf.constexpr, EVEN: wf.constexpr):
    # The block is (BN / TN) x (BM / TM) threads: x along C's columns, y along its rows.
    As = wf.shared((BK, BM), wf.f32)
    Bs = wf.shared((BK, BN), wf.f32)
    tx = wf.thread_idx.x
    ty = wf.thread_idx.y
    row0 = wf.block_idx.y * BM
    col0 = wf.block_idx.x * BN
    acc = wf.local((TM * TN,), wf.f32)
    av = wf.local((TM,), wf.f32)
    bv = wf.local((TN,), wf.f32)
    for i in wf.static_range(TM * TN):
        acc[i] = 0.0
    for k0 in range(0, k, BK):
        # A's tile: thread (x, y) loads columns x, x + BN/TN, ... of rows y + i * BM/TM
        # (the guard on the column is compiled out when BN/TN divides BK)
        for kc in wf.static_range((BK + BN // TN - 1) // (BN // TN)):
            kk = tx + kc * (BN // TN)
            if BK % (BN // TN) == 0 or kk < BK:
                for i in wf.static_range(TM):
                    r = ty + i * (BM // TM)
                    if EVEN == 1:
                        As[kk, r] = a[row0 + r, k0 + kk]
                    else:
                        v = 0.0
                        if row0 + r < m and k0 + kk < k:
                            v = a[row0 + r, k0 + kk]
                        As[kk, r] = v
        # B's tile: rows y, y + BM/TM, ... at columns x + j * BN/TN
        for kr in wf.static_range((BK + BM // TM - 1) // (BM // TM)):
            kk = ty + kr * (BM // TM)
            if BK % (BM // TM) == 0 or kk < BK:
                for j in wf.static_range(TN):
                    cc = tx + j * (BN // TN)
                    if EVEN == 1:
                        Bs[kk, cc] = b[k0 + kk, col0 + cc]
                    else:
                        v = 0.0
                        if k0 + kk < k and col0 + cc < n:
                            v = b[k0 + kk, col0 + cc]
                        Bs[kk, cc] = v
        wf.syncthreads()
        for kk in wf.static_range(BK):
            for i in wf.static_range(TM):
                av[i] = As[kk, ty + i * (BM // TM)]
            for j in wf.static_range(TN):
                bv[j] = Bs[kk, tx + j * (BN // TN)]
            for i in wf.static_range(TM):
                for j in wf.static_range(TN):
                    acc[i * TN + j] += av[i] * bv[j]
        wf.syncthreads()
    for i in wf.static_range(TM):
        r = row0 + ty + i * (BM // TM)
        for j in wf.static_range(TN):
            cc = col0 + tx + j * (BN // TN)
            if EVEN == 1 or (r < m and cc < n):
                v = alpha * acc[i * TN + j]
                if BETA == 1:
                    v += beta * c[r, cc]
                if HAS_BIAS == 1:
                    v += bias[cc]
                if ACT == RELU:
                    v = max(v, 0.0)
                if ACT == GELU:
                    v = 0.5 * v * (1.0 + wf.tanh(GELU_C * (v + 0.044715 * v * v * v)))
                c[r, cc] = v
