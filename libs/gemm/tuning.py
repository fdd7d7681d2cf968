"""``libs.gemm.tune``: search a template's space for one problem, remember the best.

``tune(M, N, K, dtype="f32", device=None, strategy="model", budget=None, executor=None,
progress=True, effort="quick", batch=None)`` measures configurations of
:func:`~.configs` (the SIMT template's for f32, the tensor-core template's
:class:`~.tensorop_config.TensorOpConfig` s for f16) on random operands of that shape
and dtype and returns the trials as a
:class:`Trials` table (config, objective, predicted: the analytical estimate, compile_s:
the first run's seconds, compilation included, status, reason, timestamp; ``to_csv()``,
``to_json()``, ``plot()``). The best is remembered, in this process and on disk in the
kernel cache (:func:`remember`, :func:`recall`), and ``matmul`` on that shape and device
uses it from then on.

* The objective is simulated cycles on the simulator (deterministic) and the best of
  :data:`CPU_RUNS` wall-time runs after a warm-up on the CPU. A config that fails is a
  failed trial.
* Strategies (:mod:`.search` has the searchers): ``"exhaustive"`` measures every config,
  ``"random"`` a seeded random order, and ``"model"`` (the default) starts from the
  analytical estimate and learns from the trials. ``budget`` defaults to the whole space,
  or for ``model`` to 12 configs (``effort="quick"``) or 40 (``"full"``).
* **The estimate** (:func:`predicted`), per CTA tile and K step: the warp-instructions its
  threads issue (TM x TN FFMAs, TM + TN shared loads, and each thread's share of the
  global-to-shared copy at about 4 instructions an element), times the waves of CTAs the
  device runs (CTAs an SM from threads and shared memory, at most 32, over the SMs or CPU
  workers), divided by an issue rate that grows with the warps an SM holds up to 8. It
  knows nothing of caches or bank conflicts; **the surrogate**
  (:class:`.search.ModelSearch`) learns what it gets wrong from :func:`features`. For
  the tensor-core template (:func:`predicted_tensorop`) a K step is the larger of the
  tensor cores' time (8 cycles an HMMA a sub-partition) and the issue of the fragment
  loads and the copy (about 3 instructions a word).
* **The CPU's estimate** (:func:`predicted_cpu`), where a CTA's x threads are SIMD lanes:
  per K step, each group of ``lanes`` x threads (a partial group costs a whole one)
  issues BK x (TM x TN FMAs + TM broadcasts + TN vector loads) plus
  :data:`CPU_STEP_OVERHEAD`, FMAs dearer when the thread tile's live vectors outgrow
  :data:`CPU_LIVE_VECTORS`, plus the tile copy, times the CTAs a worker thread runs.
  (The simulator's estimate ranks the CPU's tables backwards: correlation of the logs
  -0.26 on the 256^3 table, against 0.74 for this one.)
* ``executor`` (any ``concurrent.futures.Executor``: a process pool, a Dask cluster's
  ``client.get_executor()``) runs trials on its workers, ``batch`` at a time (default:
  all at once, or for ``model``, which learns between batches, the worker count): a
  simulator trial whole, rebuilding the operands and the simulated
  device from the seed and the device's configuration (cycles do not depend on load, so
  the table equals a serial run's with the same batch); a CPU trial is only compiled
  there, into the kernel cache, and timed in this process one at a time, since concurrent
  runs distort wall time. Without one (``executor=None``), a run of at least
  :data:`POOL_TRIALS` trials on a machine with several cores uses a process pool of one
  worker a core, shut down at the end; shorter runs, or ``executor=False``, run the
  trials one at a time in this process.
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import json
import math
import os
import sys
import time

import numpy as np
from tqdm import tqdm

import warpforge as wf

from ...dsl import cache
from ...dsl.autotune import device_fingerprint
from . import search
from .config import GemmConfig
from .tensorop_config import TensorOpConfig

STRATEGIES = ("exhaustive", "random", "model")
EFFORT = {"quick": 12, "full": 40}
"""Configs the model strategy measures when no budget is given, by ``effort``."""
INITIAL = 4
"""The model strategy's first proposals taken from the estimate alone."""
CPU_RUNS = 7
"""Timed runs of a CPU trial, after a warm-up; the objective is the fastest. Interference
only ever slows a run, so the minimum repeats best: measuring the 563 configs of a
128x128x1024 problem twice on a 2-core machine, the logs correlate 0.907 between the
two tables with the median of 3 runs (the first table's winner took 2.0x the second's
best in the second), 0.940 with the median of 7 (1.45x), 0.936 with the best of 7
(1.01x)."""
POOL_TRIALS = 4
"""Without an executor, a tuning run of at least this many trials on a machine with
several cores starts a process pool of one worker a core (fewer: trials run here)."""
TUNED: dict[tuple, GemmConfig] = {}
"""The best config found, by (M, N, K, device fingerprint); also kept on disk (see
:func:`remember`)."""
FIELDS = ("config", "objective", "predicted", "compile_s", "status", "reason",
          "timestamp")


class Trials(list):
    """The trials of a tuning run: dicts with :data:`FIELDS`; ``best`` is the winner."""

    @property
    def best(self) -> dict | None:
        ok = [t for t in self if t["status"] == "ok"]
        return min(ok, key=lambda t: t["objective"]) if ok else None

    def to_csv(self) -> str:
        """The table as CSV (the config as ``BMxBNxBK/TMxTN``)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(FIELDS))
        writer.writeheader()
        for t in self:
            writer.writerow({**t, "config": label(t["config"])})
        return out.getvalue()

    def to_json(self) -> str:
        """The table as JSON (configs as dicts)."""
        return json.dumps([{**t, "config": t["config"].__dict__} for t in self], indent=1)

    def plot(self, path: str) -> None:
        """Save a figure of every measured trial's objective against the analytical
        estimate (log-log, the winner marked; needs the ``plot`` extra)."""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ImportError("the tuning plot needs matplotlib: pip install "
                              "'warpforge[plot]'") from err
        ok = [t for t in self if t["status"] == "ok"]
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.scatter([t["predicted"] for t in ok], [t["objective"] for t in ok], s=14,
                   label="trials")
        best = self.best
        if best is not None:
            ax.scatter([best["predicted"]], [best["objective"]], s=60, marker="*",
                       color="red", label=f"best {label(best['config'])}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("predicted (analytical estimate)")
        ax.set_ylabel("measured objective")
        ax.set_title(f"{len(ok)} trials")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def label(cfg: GemmConfig | TensorOpConfig) -> str:
    """``64x64x8/4x4``, then ``/g8`` (rasterization), ``/s4`` or ``/s4a`` (split-K, atomic),
    ``/st2`` (stages), ``/p1`` (padding), ``/v4`` (vector fragments) and ``/w32x64`` (warp
    tiles) where not the defaults; a tensor-core config ``64x64x32/w32x32`` then the
    same."""
    tensor = isinstance(cfg, TensorOpConfig)
    text = (f"{cfg.BM}x{cfg.BN}x{cfg.BK}/w{cfg.WM}x{cfg.WN}" if tensor
            else f"{cfg.BM}x{cfg.BN}x{cfg.BK}/{cfg.TM}x{cfg.TN}")
    if cfg.GROUP > 1:
        text += f"/g{cfg.GROUP}"
    if cfg.SPLIT_K > 1:
        text += f"/s{cfg.SPLIT_K}{'a' if cfg.ATOMIC else ''}"
    if cfg.STAGES > 1:
        text += f"/st{cfg.STAGES}"
    if tensor:
        return text
    if cfg.PAD:
        text += f"/p{cfg.PAD}"
    if cfg.VEC > 1:
        text += f"/v{cfg.VEC}"
    if cfg.WM:
        text += f"/w{cfg.WM}x{cfg.WN}"
    return text


def occupancy(cfg: GemmConfig, M: int, N: int, workers: int) -> tuple[int, int, int]:
    """(CTAs an SM holds by threads and shared memory, at most 32; CTAs of the grid;
    waves of CTAs over ``workers`` SMs or CPU workers)."""
    per_sm = max(1, min(32, 2048 // cfg.threads,
                        (164 * 1024) // (cfg.shared_bytes + 1024)))
    ctas = math.ceil(M / cfg.BM) * math.ceil(N / cfg.BN)
    return per_sm, ctas, math.ceil(ctas / (per_sm * workers))


def predicted(cfg: GemmConfig, M: int, N: int, K: int, workers: int,
              lanes: int | None = None) -> float:
    """The analytical estimate the model strategy starts from: the simulator's, or with
    ``lanes`` (the CPU device's SIMD width) the CPU's (module docstring)."""
    if isinstance(cfg, TensorOpConfig):
        return predicted_tensorop(cfg, M, N, K, workers, lanes)
    if lanes is not None:
        return predicted_cpu(cfg, M, N, K, max(1, workers // 4), lanes)
    warps = cfg.threads // 32
    per_sm, ctas, waves = occupancy(cfg, M, N, workers)
    copy = 4 * (cfg.BM + cfg.BN) * cfg.BK / cfg.threads
    per_step = warps * (cfg.BK * (cfg.TM * cfg.TN + cfg.TM + cfg.TN) + copy + 8)
    rate = min(4.0, min(per_sm, ctas) * warps / 2.0)
    return waves * math.ceil(K / cfg.BK) * per_step / rate


def predicted_tensorop(cfg: TensorOpConfig, M: int, N: int, K: int, workers: int,
                       lanes: int | None = None) -> float:
    """The tensor-core template's estimate (module docstring); on the CPU (``lanes``),
    where the MMA's emulation is the cost, the MMAs a worker thread runs."""
    warps = cfg.threads // 32
    mmas = (cfg.WM // 16) * (cfg.WN // 8) * (cfg.BK // 16)  # a warp's, a K step
    steps = math.ceil(K / cfg.BK)
    if lanes is not None:
        ctas = math.ceil(M / cfg.BM) * math.ceil(N / cfg.BN) * cfg.SPLIT_K
        return math.ceil(ctas / max(1, workers // 4)) * steps / cfg.SPLIT_K * warps * mmas
    per_sm, ctas, waves = occupancy(cfg, M, N, workers)
    ctas *= cfg.SPLIT_K
    waves = math.ceil(ctas / (per_sm * workers))
    loads = ((cfg.WM // 16) + (cfg.WN // 8)) * (cfg.BK // 16)
    copy = 3 * (cfg.BM + cfg.BN) * cfg.BK / 2 / cfg.threads
    tensor = warps * mmas * 8 / 4
    issue = warps * (mmas + loads + copy + 8) / min(4.0, min(per_sm, ctas) * warps / 2.0)
    return waves * math.ceil(steps / cfg.SPLIT_K) * max(tensor, issue)


CPU_LIVE_VECTORS = 16
"""Vectors a thread tile may keep live (accumulators, B's row, A's broadcast) before the
estimate charges spills: an eighth more an FMA for each one over. Fit, with
:data:`CPU_STEP_OVERHEAD`, to the 256^3 table of ``benchmarks/autotune.py``."""
CPU_STEP_OVERHEAD = 32
"""Vector-instruction slots a thread group spends a K step outside its FMAs and loads
(two barriers, the loop)."""


def predicted_cpu(cfg: GemmConfig, M: int, N: int, K: int, threads: int,
                  lanes: int) -> float:
    """The CPU estimate (module docstring): vector-instruction slots a worker thread
    issues."""
    x = cfg.BN // cfg.TN
    groups = (cfg.BM // cfg.TM) * math.ceil(x / lanes)
    live = cfg.TM * cfg.TN + cfg.TN + 1
    spill = 1 + max(0, live - CPU_LIVE_VECTORS) / 8
    per_step = groups * (cfg.BK * (cfg.TM * cfg.TN * spill + cfg.TM + cfg.TN)
                         + CPU_STEP_OVERHEAD) + (cfg.BM + cfg.BN) * cfg.BK / lanes
    ctas = math.ceil(M / cfg.BM) * math.ceil(N / cfg.BN)
    return math.ceil(ctas / threads) * math.ceil(K / cfg.BK) * per_step


def features(cfg: GemmConfig, M: int, N: int, K: int, workers: int) -> list[float]:
    """What the surrogate corrects the estimate with: log2 of the tile sizes, threads,
    CTAs an SM, waves, and the thread tile's squareness (the warp tile's, for a
    tensor-core config)."""
    per_sm, ctas, waves = occupancy(cfg, M, N, workers)
    if isinstance(cfg, TensorOpConfig):
        logs = [math.log2(v) for v in (cfg.BM, cfg.BN, cfg.BK, cfg.WM, cfg.WN, cfg.threads,
                                       per_sm, waves, min(per_sm * workers, ctas))]
        return [*logs, abs(logs[3] - logs[4]), float(cfg.STAGES)]
    logs = [math.log2(v) for v in (cfg.BM, cfg.BN, cfg.BK, cfg.TM, cfg.TN, cfg.threads,
                                   per_sm, waves, min(per_sm * workers, ctas))]
    return [*logs, abs(logs[3] - logs[4])]


def searcher(strategy: str, space: list[GemmConfig], M: int, N: int, K: int,
             workers: int, lanes: int | None = None):
    """The ask/tell searcher of a strategy (see :mod:`.search`); ``lanes``: the CPU
    device's SIMD width (None: the simulator)."""
    if strategy == "exhaustive":
        return search.Ordered(space)
    if strategy == "random":
        return search.shuffled(space, seed=0)
    return search.ModelSearch(space, lambda c: predicted(c, M, N, K, workers, lanes),
                              lambda c: features(c, M, N, K, workers),
                              initial=INITIAL, family=lambda c: (c.BM, c.BN))


def tune(M: int, N: int, K: int, dtype: str = "f32", device=None, strategy: str = "model",
         budget: int | None = None, executor=None, progress: bool = True,
         effort: str = "quick", batch: int | None = None) -> Trials:
    """Measure configs for an ``M x N x K`` problem on ``device`` (default: current)."""
    from . import _device, _dtype_name, _run, _workers, configs
    half = _dtype_name(dtype)
    space = configs(M, N, K, dtype)
    if strategy not in STRATEGIES:
        raise wf.LaunchError(f"tune: strategy must be one of {', '.join(STRATEGIES)}, got "
                             f"{strategy!r}")
    if effort not in EFFORT:
        raise wf.LaunchError(f"tune: effort must be one of {', '.join(EFFORT)}, got "
                             f"{effort!r}")
    for name, value in (("budget", budget), ("batch", batch)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise wf.LaunchError(f"tune: {name} must be a positive int, got {value!r}")
    dev = _device(device)
    workers, cpu = _workers(dev)
    lanes = dev.lanes if cpu else None
    if budget is None:
        budget = len(space) if strategy != "model" else EFFORT[effort]
    budget = min(budget, len(space))
    own = None
    if executor is None and budget >= POOL_TRIALS and (os.cpu_count() or 1) > 1:
        own = executor = concurrent.futures.ProcessPoolExecutor(
            min(os.cpu_count() or 1, budget))
    remote = executor not in (None, False)
    if batch is None:  # the model learns between batches; the others need not wait
        batch = 1 if not remote else budget if strategy != "model" else \
            max(1, getattr(executor, "_max_workers", 2))
    finder = searcher(strategy, space, M, N, K, workers, lanes)
    trials = Trials()
    bar = tqdm(total=budget, desc=f"tune {M}x{N}x{K}", unit="config",
               disable=not progress, file=sys.stderr)
    operands_ = (None if remote and isinstance(dev, wf.Simulator)
                 else operands(M, N, K, half))
    try:
        while len(trials) < budget:
            wave = finder.ask(min(batch, budget - len(trials)))
            if not wave:
                break
            if remote:
                results = _remote(executor, wave, M, N, K, dev)
                if operands_ is not None:  # CPU: compiled there, timed here one at a time
                    results = [_measure(_run, r["config"], *operands_, dev, r["compile_s"])
                               if r["status"] == "ok" else r for r in results]
            else:
                results = [_measure(_run, cfg, *operands_, dev) for cfg in wave]
            for trial in results:
                trial["predicted"] = predicted(trial["config"], M, N, K, workers, lanes)
                finder.tell(trial["config"], trial["objective"])
                trials.append(trial)
                bar.update(1)
                best = trials.best
                if best is not None:
                    bar.set_postfix_str(f"best {label(best['config'])} "
                                        f"{best['objective']:.4g}")
    finally:
        bar.close()
        if own is not None:
            own.shutdown(cancel_futures=True)
    best = trials.best
    if best is None:
        reasons = "; ".join(f"{label(t['config'])}: {t['reason']}" for t in trials)
        raise wf.LaunchError(f"tune: every config failed: {reasons}")
    remember(M, N, K, dev, best["config"])
    return trials


def remember(M: int, N: int, K: int, dev, config: GemmConfig | TensorOpConfig) -> None:
    """Keep ``config`` as the winner for this problem and device (and template: a
    :class:`TensorOpConfig` is f16's): in this process, and in the kernel cache's
    ``gemm/`` folder (written atomically) for later ones."""
    half = isinstance(config, TensorOpConfig)
    TUNED[(M, N, K, device_fingerprint(dev), half)] = config
    cache.write_json(_winner_key(M, N, K, dev, half), {"config": config.__dict__},
                     sub="gemm")


def recall(M: int, N: int, K: int, dev, half: bool = False
           ) -> GemmConfig | TensorOpConfig | None:
    """The winner :func:`remember` kept for this problem and device (``half``: for the
    tensor-core template), or None. A disk entry counts only for the same compiler,
    template source and timing model; an unreadable or illegal one is ignored."""
    memo = (M, N, K, device_fingerprint(dev), half)
    if memo in TUNED:
        return TUNED[memo]
    folder = cache.cache_dir()
    if folder is None:
        return None
    key = _winner_key(M, N, K, dev, half)
    try:
        data = json.loads((folder / "gemm" / f"{key}.json").read_text())
        config = (TensorOpConfig if half else GemmConfig)(**data["config"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if config.why_illegal() is not None:
        return None
    TUNED[memo] = config
    return config


def _winner_key(M: int, N: int, K: int, dev, half: bool = False) -> str:
    from .simt import gemm_simt
    from .tensorop import gemm_tensorop
    kernel = gemm_tensorop if half else gemm_simt
    text = repr((M, N, K, device_fingerprint(dev), cache.compiler_hash(),
                 cache.source_of(kernel.fn), wf.simulator.timing.TIMING_MODEL_VERSION))
    if half:  # f32's keys stay as they were
        text += " f16"
    return hashlib.sha256(text.encode()).hexdigest()


def _remote(executor, wave: list[GemmConfig], M: int, N: int, K: int, dev) -> list[dict]:
    if isinstance(dev, wf.Simulator):
        spec = ("sim", dev.config, dev.scheduler, dev.sample)
    else:
        spec = ("cpu", dev.lanes, dev.checked)
    futures = []
    for cfg in wave:
        try:
            futures.append(executor.submit(remote_trial, cfg, M, N, K, spec))
        except Exception as err:  # a closed pool, say: named with the config
            _cancel(futures)
            raise wf.LaunchError(f"tune: the executor could not take {label(cfg)}: "
                                 f"{type(err).__name__}: {err}") from err
    out = []
    for cfg, future in zip(wave, futures, strict=True):
        try:
            out.append(future.result())
        except Exception as err:  # the executor's own failure, named with the config
            _cancel(futures)
            raise wf.LaunchError(f"tune: the executor failed running {label(cfg)}: "
                                 f"{type(err).__name__}: {err}") from err
    return out


def _cancel(futures) -> None:
    for future in futures:
        future.cancel()


def operands(M: int, N: int, K: int, half: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The operands every trial of a problem runs on (seeded: the same everywhere; f16 A
    and B with ``half``)."""
    rng = np.random.default_rng(0)
    dtype = np.float16 if half else np.float32
    A = rng.standard_normal((M, K)).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    return A, B, np.zeros((M, N), np.float32)


def remote_trial(cfg: GemmConfig, M: int, N: int, K: int, spec: tuple) -> dict:
    """One trial on an executor's worker, self-contained for another process or machine:
    ``spec`` is ``("sim", arch, scheduler, sample)``, measured whole, or ``("cpu", lanes,
    checked)``, only compiled (into the disk cache, where the caller's compile finds it)."""
    from . import _compile, _run
    A, B, C = operands(M, N, K, isinstance(cfg, TensorOpConfig))
    if spec[0] == "sim":
        dev = wf.Simulator(spec[1], scheduler=spec[2], sample=spec[3])
        return _measure(_run, cfg, A, B, C, dev)
    trial = _trial(cfg)
    try:
        start = time.perf_counter()
        _compile(A, B, C, cfg, wf.CPU(threads=1, lanes=spec[1], checked=spec[2]))
        trial["compile_s"] = time.perf_counter() - start
    except wf.WarpforgeError as err:
        _failed(trial, err)
    return trial


def _trial(cfg: GemmConfig) -> dict:
    return {"config": cfg, "objective": None, "predicted": None, "compile_s": 0.0,
            "status": "ok", "reason": "", "timestamp": time.time()}


def _failed(trial: dict, err: BaseException) -> None:
    trial["status"] = "failed"
    trial["reason"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"


def _measure(run, cfg: GemmConfig, A, B, C, dev, compile_s: float | None = None) -> dict:
    """One trial here: the first run's seconds (compilation included, unless it was
    compiled elsewhere in ``compile_s``), then the objective."""
    trial = _trial(cfg)
    try:
        start = time.perf_counter()
        results = run(A, B, C, cfg, dev)
        trial["compile_s"] = time.perf_counter() - start if compile_s is None else compile_s
        if isinstance(dev, wf.Simulator):
            trial["objective"] = float(sum(r.cycles for r in results))
        else:
            times = []
            for _ in range(CPU_RUNS):
                t = time.perf_counter()
                run(A, B, C, cfg, dev)
                times.append(time.perf_counter() - t)
            trial["objective"] = min(times)
    except wf.WarpforgeError as err:
        _failed(trial, err)
    return trial
