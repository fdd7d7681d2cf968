"""``warpforge.libs.gemm``: CUTLASS-style tiled GEMM written in the DSL.

``matmul(A, B, C=None, alpha=1.0, beta=0.0, bias=None, activation=None, config=None,
device=None)`` computes ``C = act(alpha * A @ B + beta * C + bias)`` on the current
device (or ``device``) and returns C: float32 operands with the SIMT template
(:mod:`.simt`), float16 operands with the tensor-core template (:mod:`.tensorop`: f16
products accumulated in f32 through ``wf.mma_sync``; C, bias and the result float32).
``configs(M, N, K, dtype="f32", device=None)`` lists a template's legal configurations
(:mod:`.config`, :mod:`.tensorop_config` for ``dtype="f16"``); ``tune(M, N, K, dtype,
...)`` measures them (:mod:`.tuning`) and ``matmul`` uses the best it found for that
shape, dtype and device from then on, else a documented heuristic. Inputs may be any 2-D
float32 (or float16) arrays: row- or column-major, strided views; M, N and K of any size
(the tensor-core template's operands are packed into words of two f16 along K first, a
copy unless they are already C-contiguous with K even, and B transposed).

Bad input raises ``wf.LaunchError`` naming the argument before anything runs, so C is
untouched: operands that are not 2-D float32 arrays, inner dimensions that differ, a C of
the wrong shape or dtype or a read-only one, a C that shares memory with A or B, a bias
that is not a float32 vector of length N, an unknown activation, a config the template
cannot run.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

import warpforge as wf

from .config import GemmConfig, default_config, legal
from .simt import GELU, RELU, gemm_prologue, gemm_reduce, gemm_simt
from .tensorop import gemm_tensorop
from .tensorop_config import TensorOpConfig, default_tensorop_config, legal_tensorop
from .tuning import Trials, recall, tune

ACTIVATIONS = {None: 0, "relu": RELU, "gelu": GELU}
"""Activation names ``matmul`` accepts."""

__all__ = ["ACTIVATIONS", "GemmConfig", "TensorOpConfig", "Trials", "configs", "matmul",
           "tune"]


def configs(M: int, N: int, K: int, dtype: str = "f32", device=None) -> list:
    """Every legal configuration of the template for this problem (the space the
    autotuner searches): the SIMT template's :class:`GemmConfig` s for f32, the
    tensor-core template's :class:`TensorOpConfig` s for f16. Tiles more than twice the
    problem along M, N or K (past 16, 16 and 4) are left out: they only compute
    padding."""
    half = _dtype_name(dtype)
    for name, value in (("M", M), ("N", N), ("K", K)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise wf.LaunchError(f"configs: {name} must be a positive int, got {value!r}")
    space = legal_tensorop() if half else legal()
    m_cap, n_cap, k_cap = 2 * max(M, 16), 2 * max(N, 16), 2 * max(K, 16 if half else 4)
    fits = [c for c in space if m_cap >= c.BM and n_cap >= c.BN and k_cap >= c.BK]
    return fits or space


def matmul(A, B, C=None, alpha: float = 1.0, beta: float = 0.0, bias=None,
           activation: str | None = None, config: GemmConfig | None = None, device=None):
    """``C = act(alpha * A @ B + beta * C + bias)``; returns C (a new array when None).
    See the module docstring for what is accepted."""
    A = _matrix(A, "A")
    B = _matrix(B, "B")
    if A.dtype != B.dtype:
        raise wf.LaunchError(f"matmul: A is {A.dtype} but B is {B.dtype}; both float32 (the "
                             "SIMT template) or both float16 (the tensor-core template)")
    half = A.dtype == np.float16
    M, K = A.shape
    if B.shape[0] != K:
        raise wf.LaunchError(f"matmul: B has {B.shape[0]} rows but A has {K} columns "
                             f"(A is {M}x{K}, B is {B.shape[0]}x{B.shape[1]})")
    N = B.shape[1]
    if C is None:
        C = np.zeros((M, N), np.float32)
        beta = 0.0
    else:
        if not isinstance(C, np.ndarray) or C.ndim != 2 or C.shape != (M, N) \
                or C.dtype != np.float32:
            raise wf.LaunchError(f"matmul: C must be a {M}x{N} float32 array, got "
                                 f"{_describe(C)}")
        if not C.flags.writeable:
            raise wf.LaunchError("matmul: C is read-only")
        for name, other in (("A", A), ("B", B)):
            if np.shares_memory(C, other):
                raise wf.LaunchError(f"matmul: C shares memory with {name}; the result "
                                     "would overwrite its own input")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise wf.LaunchError(f"matmul: {name} must be a number, got {value!r}")
    if bias is not None and (not isinstance(bias, np.ndarray) or bias.shape != (N,)
                             or bias.dtype != np.float32):
        raise wf.LaunchError(f"matmul: bias must be a float32 vector of length {N}, got "
                             f"{_describe(bias)}")
    if activation not in ACTIVATIONS:
        raise wf.LaunchError(f"matmul: activation must be one of "
                             f"{', '.join(map(repr, ACTIVATIONS))}, got {activation!r}")
    dev = _device(device)
    kind = TensorOpConfig if half else GemmConfig
    if config is None:
        config = recall(M, N, K, dev, half)
    if config is None:
        workers, cpu = _workers(dev)
        pick = default_tensorop_config if half else default_config
        config = pick(M, N, workers, cpu, K, atomic=activation is None)
    elif not isinstance(config, kind) or config.why_illegal() is not None:
        why = (config.why_illegal() if isinstance(config, kind)
               else f"not a {kind.__name__} ({A.dtype} operands)")
        raise wf.LaunchError(f"matmul: config {config!r} cannot run: {why}")
    if config.ATOMIC and activation is not None:
        raise wf.LaunchError(f"matmul: atomic split-K (config {config!r}) cannot apply "
                             f"the {activation!r} activation; use ATOMIC=0")
    _run(A, B, C, config, dev, alpha, beta, bias, ACTIVATIONS[activation])
    return C


def _run(A, B, C, config: GemmConfig, dev, alpha=1.0, beta=0.0, bias=None, act=0) -> list:
    """Launch the template (arguments already checked); the launches' results (split-K
    adds its prologue or reduction)."""
    M, N = C.shape
    grid, block, args, constexprs = _launch(A, B, C, config, alpha, beta, bias, act,
                                            cpu=not isinstance(dev, wf.Simulator))
    main = _kernel(config)
    vec = args[3]
    flat = (-(-(M * N) // 256),)
    epilogue = {"BETA": constexprs["BETA"], "HAS_BIAS": constexprs["HAS_BIAS"]}
    if config.SPLIT_K == 1:
        return [main.launch(grid, block, *args, device=dev, **constexprs)]
    if config.ATOMIC:
        first = gemm_prologue.launch(flat, 256, C, vec, M, N, float(beta), device=dev,
                                     **epilogue)
        return [first, main.launch(grid, block, *args, device=dev, **constexprs)]
    partial = main.launch(grid, block, *args, device=dev, **constexprs)
    total = gemm_reduce.launch(flat, 256, args[2], C, vec, M, N, float(alpha), float(beta),
                               device=dev, SPLIT_K=config.SPLIT_K, ACT=act, **epilogue)
    return [partial, total]


def _compile(A, B, C, config: GemmConfig, dev):
    """Compile the template's main kernel for ``_run``'s launch on ``dev`` without
    running it."""
    target = "sim" if isinstance(dev, wf.Simulator) else "cpu"
    _, block, args, constexprs = _launch(A, B, C, config, cpu=target == "cpu")
    with wf.device(dev):
        return _kernel(config).compile(*args, target=target, block=block, **constexprs)


def _kernel(config):
    """The template's main kernel for ``config``."""
    return gemm_tensorop if isinstance(config, TensorOpConfig) else gemm_simt


def _launch(A, B, C, config: GemmConfig, alpha=1.0, beta=0.0, bias=None, act=0,
            cpu: bool = False):
    """(grid, block, arguments, constexprs) of the template's main launch; with in-order
    split-K its C is a new workspace of one M x N slice per K slice. On the CPU (``cpu``)
    with VEC=1, A's tile is stored M-major (KMAJOR=0): its K-major store would scatter."""
    M, K = A.shape
    N = B.shape[1]
    vec = bias if bias is not None else np.zeros(1, np.float32)
    if config.SPLIT_K > 1 and not config.ATOMIC:
        C = np.zeros((config.SPLIT_K * M, N), np.float32)
    constexprs = {"BETA": int(beta != 0.0), "HAS_BIAS": int(bias is not None), "ACT": act,
                  "EVEN": int(config.divides(M, N, K)), **config.constexprs()}
    if isinstance(config, TensorOpConfig):
        a, b = fragment_order(A, 16), fragment_order(B.T, 8)
        return (config.grid(M, N), config.block,
                (a, b, C, vec, M, N, a.shape[1], float(alpha), float(beta)), constexprs)
    constexprs["KMAJOR"] = int(not (cpu and config.VEC == 1))
    return (config.grid(M, N), config.block,
            (A, B, C, vec, M, N, K, float(alpha), float(beta)), constexprs)


def fragment_order(x: np.ndarray, rows: int) -> np.ndarray:
    """A 2-D f16-valued array (``rows_total x K``) in the tensor-core template's fragment
    order: ``RB x KB x 32*W/4 x 4`` 32-bit words, ``RB`` blocks of ``rows`` (16 for A, 8
    for B transposed) and ``KB`` steps of 16 along K, each block the ``W`` words (4 for A,
    2 for B) each lane of a warp holds as ``wf.mma_sync``'s fragment, in register order:
    lane ``4i + t`` holds words ``t`` and ``t + 4`` of the step (f16 pairs along K, low
    half first) of row ``i`` (A: and of row ``i + 8``, between them). Rows and K are padded
    with zeros to whole blocks."""
    total, k = x.shape
    rb, kb = -(-total // rows), -(-k // 16)
    padded = np.zeros((rb * rows, kb * 16), np.float16)
    padded[:total, :k] = x
    words = padded.view(np.uint32)                  # rb*rows x kb*8
    if rows == 16:   # [block, half, i, step, q, t] -> [block, step, i, t, q, half]
        order = words.reshape(rb, 2, 8, kb, 2, 4).transpose(0, 3, 2, 5, 4, 1)
    else:            # [block, i, step, q, t] -> [block, step, i, t, q]
        order = words.reshape(rb, 8, kb, 2, 4).transpose(0, 2, 1, 4, 3)
    return np.ascontiguousarray(order).reshape(rb, kb, -1, 4)


def _dtype_name(dtype: str) -> bool:
    """Whether ``dtype`` names f16 (the tensor-core template); f32 is the SIMT one's."""
    if dtype in ("f16", "float16", np.float16):
        return True
    if dtype not in ("f32", "float32", np.float32):
        raise wf.LaunchError(f"the SIMT GEMM template takes f32 and the tensor-core one "
                             f"f16, not {dtype!r}")
    return False


def _matrix(x, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype not in (np.float32,
                                                                        np.float16):
        raise wf.LaunchError(f"matmul: {name} must be a 2-D float32 or float16 array, got "
                             f"{_describe(x)}")
    if 0 in x.shape:
        raise wf.LaunchError(f"matmul: {name} is empty ({x.shape[0]}x{x.shape[1]})")
    return x


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"a {'x'.join(map(str, x.shape)) or 'scalar'} {x.dtype} array"
    return f"{type(x).__name__} {x!r}"[:80]


def _device(device):
    """The device to run on: ``device`` (a device, or ``"sim"``/``"cpu"``), else the
    current one."""
    dev = wf.get_device() if device is None else device
    if isinstance(dev, str):
        dev = wf.Simulator() if dev == "sim" else wf.CPU()
    return dev


def _workers(dev) -> tuple[int, bool]:
    """(Parallel units to fill: the simulator's SMs, or 4 CTAs a CPU worker thread;
    whether the device is the CPU)."""
    if isinstance(dev, wf.Simulator):
        return dev.config.num_sms, False
    return 4 * (getattr(dev, "threads", None) or os.cpu_count() or 2), True
