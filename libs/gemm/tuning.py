"""``libs.gemm.tune``: search the SIMT template's space for one problem, remember the best.

``tune(M, N, K, device=None, strategy="model", budget=None, executor=None,
progress=True)`` measures configurations of :func:`~.configs` on random operands of that
shape and returns the trials as a :class:`Trials` table (config, objective, compile_s:
the first run's seconds, compilation included, status, reason, timestamp; ``to_csv()``,
``to_json()``). The best is remembered for this process, and
``matmul`` on that shape and device uses it from then on.

* The objective is simulated cycles on the simulator (deterministic) and the median of
  three wall-time runs after a warm-up on the CPU. A config that fails is a failed trial.
* ``strategy="exhaustive"`` measures every config, ``"random"`` ``budget`` of them drawn
  with a fixed seed, and ``"model"`` (the default) the ``budget`` (default 12) that an
  analytical estimate ranks first. The estimate, per CTA tile and K step: the warp-
  instructions its threads issue (TM x TN FFMAs, TM + TN shared loads, and each
  thread's share of the global-to-shared copy at about 4 instructions an element),
  times the waves of CTAs the device runs (CTAs an SM from threads and shared memory,
  at most 32, over the SMs or CPU workers), divided by an issue rate that grows with the
  warps an SM holds up to 8. It knows nothing of caches or bank conflicts; the issue
  that follows this one asks for a model that learns from the trials.
* ``executor`` (any ``concurrent.futures.Executor``: a process pool, a Dask cluster's
  ``client.get_executor()``) runs simulator trials in parallel: each trial rebuilds the
  operands and the simulated device from the seed and the device's configuration, and
  cycles do not depend on load, so the table is the same as a serial run's. CPU trials
  always run one at a time in this process, since concurrent runs distort wall time.
  Without an executor, trials run one at a time in this process.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import statistics
import sys
import time

import numpy as np
from tqdm import tqdm

import warpforge as wf

from .config import GemmConfig

STRATEGIES = ("exhaustive", "random", "model")
MODEL_BUDGET = 12
"""Configs the model strategy measures when no budget is given."""
TUNED: dict[tuple, GemmConfig] = {}
"""The best config found, by (M, N, K, device fingerprint)."""
FIELDS = ("config", "objective", "compile_s", "status", "reason", "timestamp")


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


def label(cfg: GemmConfig) -> str:
    """``64x64x8/4x4``."""
    return f"{cfg.BM}x{cfg.BN}x{cfg.BK}/{cfg.TM}x{cfg.TN}"


def fingerprint(device) -> tuple:
    """What a measurement depends on besides the problem: the machine."""
    if isinstance(device, wf.Simulator):
        return ("sim", repr(device.config), device.scheduler)
    return ("cpu", getattr(device, "threads", None), getattr(device, "lanes", None))


def predicted(cfg: GemmConfig, M: int, N: int, K: int, workers: int) -> float:
    """The analytical estimate the model strategy ranks by (see the module docstring)."""
    threads = cfg.threads
    warps = threads // 32
    per_sm = max(1, min(32, 2048 // threads, (164 * 1024) // (cfg.shared_bytes + 1024)))
    ctas = math.ceil(M / cfg.BM) * math.ceil(N / cfg.BN)
    waves = math.ceil(ctas / (per_sm * workers))
    copy = 4 * (cfg.BM + cfg.BN) * cfg.BK / threads
    per_step = warps * (cfg.BK * (cfg.TM * cfg.TN + cfg.TM + cfg.TN) + copy + 8)
    rate = min(4.0, min(per_sm, ctas) * warps / 2.0)
    return waves * math.ceil(K / cfg.BK) * per_step / rate


def tune(M: int, N: int, K: int, dtype: str = "f32", device=None, strategy: str = "model",
         budget: int | None = None, executor=None, progress: bool = True) -> Trials:
    """Measure configs for an ``M x N x K`` problem on ``device`` (default: current)."""
    from . import _device, _run, _workers, configs
    space = configs(M, N, K, dtype)
    if strategy not in STRATEGIES:
        raise wf.LaunchError(f"tune: strategy must be one of {', '.join(STRATEGIES)}, got "
                             f"{strategy!r}")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                               or budget < 1):
        raise wf.LaunchError(f"tune: budget must be a positive int, got {budget!r}")
    dev = _device(device)
    workers, _ = _workers(dev)
    if strategy == "exhaustive":
        order = space[:budget] if budget else space
    elif strategy == "random":
        order = random.Random(0).sample(space, min(budget or len(space), len(space)))
    else:
        ranked = sorted(space, key=lambda c: predicted(c, M, N, K, workers))
        order = ranked[:budget or MODEL_BUDGET]
    trials = Trials()
    bar = tqdm(total=len(order), desc=f"tune {M}x{N}x{K}", unit="config",
               disable=not progress, file=sys.stderr)

    def done(trial: dict) -> None:
        trials.append(trial)
        bar.update(1)
        best = trials.best
        if best is not None:
            bar.set_postfix_str(f"best {label(best['config'])} {best['objective']:.4g}")

    if executor is not None and isinstance(dev, wf.Simulator):
        futures = [(cfg, executor.submit(remote_trial, cfg, M, N, K, dev.config,
                                         dev.scheduler, dev.sample)) for cfg in order]
        for cfg, future in futures:
            try:
                done(future.result())
            except Exception as err:  # the executor's own failure, named with the config
                bar.close()
                raise wf.LaunchError(f"tune: the executor failed running {label(cfg)}: "
                                     f"{type(err).__name__}: {err}") from err
    else:
        A, B, C = operands(M, N, K)
        for cfg in order:
            done(_measure(_run, cfg, A, B, C, dev))
    bar.close()
    best = trials.best
    if best is None:
        reasons = "; ".join(f"{label(t['config'])}: {t['reason']}" for t in trials)
        raise wf.LaunchError(f"tune: every config failed: {reasons}")
    TUNED[(M, N, K, fingerprint(dev))] = best["config"]
    return trials


def operands(M: int, N: int, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The operands every trial of a problem runs on (seeded: the same everywhere)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((M, K)).astype(np.float32)
    B = rng.standard_normal((K, N)).astype(np.float32)
    return A, B, np.zeros((M, N), np.float32)


def remote_trial(cfg: GemmConfig, M: int, N: int, K: int, arch, scheduler: str,
                 sample) -> dict:
    """One simulator trial, self-contained for another process or machine."""
    from . import _run
    dev = wf.Simulator(arch, scheduler=scheduler, sample=sample)
    A, B, C = operands(M, N, K)
    return _measure(_run, cfg, A, B, C, dev)


def _measure(run, cfg: GemmConfig, A, B, C, dev) -> dict:
    trial = {"config": cfg, "objective": None, "compile_s": 0.0, "status": "ok",
             "reason": "", "timestamp": time.time()}
    try:
        start = time.perf_counter()
        res = run(A, B, C, cfg, dev)
        trial["compile_s"] = time.perf_counter() - start
        if isinstance(dev, wf.Simulator):
            trial["objective"] = float(res.cycles)
        else:
            times = []
            for _ in range(3):
                t = time.perf_counter()
                run(A, B, C, cfg, dev)
                times.append(time.perf_counter() - t)
            trial["objective"] = statistics.median(times)
    except wf.WarpforgeError as err:
        trial["status"] = "failed"
        trial["reason"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
    return trial
