"""``@wf.autotune``: pick a kernel's constexprs by measuring them, and remember.

``@wf.autotune(configs=[wf.Config(BM=64, ...), ...], key=["M", "N"], ...)`` above
``@wf.kernel`` gives an :class:`Autotuned` kernel. Its first launch with new values of the
``key`` parameters measures every config (or those ``prune`` keeps, or ``budget`` of
them drawn at random with ``strategy="random"``), then launches the winner; later
launches with the same key values launch the winner at once.

* **Objective.** ``"auto"``: simulated cycles on the simulator (deterministic: the same
  winner every time), the median wall time of 5 runs after a warm-up on the CPU (the
  spread is kept in the log). Or a callable ``objective(result, seconds)`` to minimize.
* **Safe measuring.** Arrays named in ``restore_value`` are saved before the trials and
  restored after each, so a tuned launch leaves exactly what an untuned one would (also
  for kernels that accumulate into an output). A config that fails to compile or run is
  a failed trial with its reason; if every one fails, ``wf.LaunchError`` lists them.
* **Cache.** Each measured (kernel source and what it closes over, config, key values,
  device, compiler and timing-model version) is one file under the kernel cache's
  ``autotune/`` folder, written atomically; adding a config measures only it, a changed
  kernel measures again, and a corrupt entry is measured again and rewritten.
  ``WARPFORGE_AUTOTUNE=0`` never measures: the best cached config, else the first.
* ``k.best_config(*args, **constexprs)`` and ``k.tuning_log`` (every trial: config,
  objective, compile seconds, status, reason, timestamp).

Trials run one after another in this process, or with ``executor`` (any
``concurrent.futures.Executor``) on its workers, which import the kernel by its module and
name: a simulator trial runs there whole; a CPU trial is only compiled there (into the
disk cache) and timed here one at a time, since concurrent runs distort wall time. An
executor's failure is a ``LaunchError`` naming the config, with nothing of the launch
cached.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..isa import knobs
from ..isa.errors import WarpforgeError
from ..simulator import LaunchError, Simulator
from ..simulator.timing import TIMING_MODEL_VERSION
from . import cache
from .cpu import CPU
from .devices import device, get_device, resolve_device
from .kernel import Kernel

STRATEGIES = ("exhaustive", "random")
CPU_RUNS = 5
"""Timed runs a CPU trial takes the median of (after one warm-up)."""


class Config(dict):
    """One point of a tuning space: constexpr values by name (``wf.Config(BM=64)``)."""

    def __init__(self, **values: object) -> None:
        super().__init__(values)

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self.items()) + ")"

    def __hash__(self) -> int:  # configs are used as keys of the log and the winners
        return hash(tuple(sorted(self.items())))


def autotune(configs: Sequence[Config], key: Sequence[str] = (), prune: Callable | None = None,
             objective: str | Callable = "auto", strategy: str = "exhaustive",
             budget: int | None = None, restore_value: Sequence[str] = (),
             executor=None) -> Callable[[Kernel], Autotuned]:
    """The decorator (see the module docstring)."""
    def wrap(kernel: Kernel) -> Autotuned:
        return Autotuned(kernel, configs, key, prune, objective, strategy, budget,
                         restore_value, executor)
    return wrap


class Autotuned:
    """A kernel launched with the best of its configs (see the module docstring)."""

    def __init__(self, kernel: Kernel, configs, key, prune, objective, strategy, budget,
                 restore_value, executor) -> None:
        if not isinstance(kernel, Kernel):
            raise LaunchError("@wf.autotune goes above @wf.kernel")
        self.kernel = kernel
        self.__name__ = kernel.__name__
        configs = list(configs)
        if not configs:
            raise LaunchError(f"autotune({kernel.__name__}): the config list is empty")
        names = {p.name: p for p in kernel.params}
        for c in configs:
            if not isinstance(c, Config):
                raise LaunchError(f"autotune({kernel.__name__}): {c!r} is not a wf.Config")
            for field in c:
                if field not in names or not names[field].is_constexpr:
                    raise LaunchError(f"autotune({kernel.__name__}): config field {field!r} "
                                      "is not a constexpr parameter of the kernel")
        for k in key:
            if k not in names:
                raise LaunchError(f"autotune({kernel.__name__}): key {k!r} is not a "
                                  f"parameter; parameters: {', '.join(names)}")
        if strategy not in STRATEGIES:
            raise LaunchError(f"autotune({kernel.__name__}): strategy must be one of "
                              f"{', '.join(STRATEGIES)}, got {strategy!r}")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                                   or budget < 1):
            raise LaunchError(f"autotune({kernel.__name__}): budget must be a positive "
                              f"int, got {budget!r}")
        if not (objective == "auto" or callable(objective)):
            raise LaunchError(f"autotune({kernel.__name__}): objective must be 'auto' or a "
                              f"callable, got {objective!r}")
        for name in restore_value:
            if name not in names:
                raise LaunchError(f"autotune({kernel.__name__}): restore_value names "
                                  f"{name!r}, which is not a parameter")
        self.configs = configs
        self.key = list(key)
        self.prune = prune
        self.objective = objective
        self.strategy = strategy
        self.budget = budget
        self.restore_value = list(restore_value)
        self.executor = executor
        self.tuning_log: list[dict] = []
        """Every trial: config, objective, compile_s, status, reason, timestamp."""
        self._winners: dict[tuple, Config] = {}
        self._dims = None

    def __repr__(self) -> str:
        return f"<warpforge autotuned kernel {self.__name__} ({len(self.configs)} configs)>"

    # --- launching ------------------------------------------------------------------------

    def __getitem__(self, launch_config):
        grid, block = launch_config[:2]
        extra = {"shared_bytes": launch_config[2]} if len(launch_config) == 3 else {}

        def launcher(*args, **kwargs):
            return self.launch(grid, block, *args, **extra, **kwargs)
        return launcher

    def launch(self, grid, block, *args, device=None, **kwargs):
        """Launch with the best config for these key values (measuring first if new);
        ``grid`` and ``block`` may be callables of the constexpr values."""
        dev = resolve_device(device) if device is not None else get_device()
        self._dims = (grid, block)
        best = self._best(dev, args, kwargs)
        return self.kernel.launch(grid, block, *args, device=dev, **kwargs, **best)

    def best_config(self, *args, device=None, grid=None, block=None, **kwargs) -> Config:
        """The config a launch with these arguments would use (measuring if needed, with
        ``grid`` and ``block``, by default those of the last launch)."""
        dev = resolve_device(device) if device is not None else get_device()
        if grid is not None and block is not None:
            self._dims = (grid, block)
        return self._best(dev, args, kwargs)

    # --- tuning ---------------------------------------------------------------------------

    def _named(self, args, kwargs) -> dict:
        named = dict(kwargs)
        for p, a in zip(self.kernel.params, args, strict=False):
            named[p.name] = a
        return named

    def _key_values(self, named: dict) -> tuple:
        out = []
        for k in self.key:
            v = named.get(k)
            out.append((k, ("array", v.shape, str(v.dtype)) if isinstance(v, np.ndarray)
                        else repr(v)))
        return tuple(out)

    def _best(self, dev, args, kwargs) -> Config:
        named = self._named(args, kwargs)
        memo = (self._key_values(named), device_fingerprint(dev))
        if memo in self._winners:
            return self._winners[memo]
        candidates = list(self.configs)
        if self.prune is not None:
            candidates = list(self.prune(candidates, named)) or candidates[:1]
        if self.strategy == "random" and self.budget is not None:
            rng = random.Random(0)
            candidates = rng.sample(candidates, min(self.budget, len(candidates)))
        elif self.budget is not None:
            candidates = candidates[:self.budget]
        measure_now = knobs.get("WARPFORGE_AUTOTUNE")
        results = {cfg: self._load(cfg, memo) for cfg in candidates}
        todo = [cfg for cfg in candidates if results[cfg] is None] if measure_now else []
        for cfg, entry in self._measure_all(todo, dev, args, kwargs, named):
            self.tuning_log.append(entry)
            self._store(cfg, memo, entry)
            results[cfg] = entry
        results = {c: e for c, e in results.items() if e is not None}
        ok = {c: e for c, e in results.items() if e["status"] == "ok"}
        if not ok:
            if not measure_now:
                winner = candidates[0]
                self._winners[memo] = winner
                return winner
            reasons = "; ".join(f"{c!r}: {e['reason']}" for c, e in results.items())
            raise LaunchError(f"autotune({self.__name__}): every config failed: {reasons}")
        winner = min(ok, key=lambda c: (ok[c]["objective"], candidates.index(c)))
        self._winners[memo] = winner
        return winner

    def _measure_all(self, todo: list[Config], dev, args, kwargs, named):
        """(config, entry) for every config of ``todo``, measured here or, with an
        executor, on its workers (simulator trials whole; CPU trials compiled there,
        which fills the disk cache, and timed here one at a time)."""
        dims = [self._launch_dims(cfg, named) for cfg in todo]
        if self.executor is None or not todo:
            for cfg, (grid, block) in zip(todo, dims, strict=True):
                yield cfg, measure(self.kernel, cfg, dev, grid, block, args, kwargs,
                                   self.objective, named, self.restore_value)
            return
        fn = self.kernel.fn
        if "<locals>" in fn.__qualname__:
            raise LaunchError(f"autotune({self.__name__}): executor= needs a kernel defined "
                              f"at the top of a module (workers import it by name), not "
                              f"inside {fn.__qualname__.split('.<locals>')[0]}()")
        sim = isinstance(dev, Simulator)
        spec = (("sim", dev.config, dev.scheduler, dev.sample) if sim
                else ("cpu", dev.lanes, dev.checked))
        futures = []
        for cfg, (grid, block) in zip(todo, dims, strict=True):
            try:
                futures.append(self.executor.submit(
                    remote_trial, fn.__module__, fn.__qualname__, cfg, spec, grid, block,
                    args, kwargs, self.objective))
            except Exception as err:  # pickling, a closed pool: named with the config
                _cancel(futures)
                raise LaunchError(f"autotune({self.__name__}): the executor could not take "
                                  f"{cfg!r}: {type(err).__name__}: {err}") from err
        for cfg, (grid, block), future in zip(todo, dims, futures, strict=True):
            try:
                entry = future.result()
            except Exception as err:  # the executor's own failure, named with the config
                _cancel(futures)
                raise LaunchError(f"autotune({self.__name__}): the executor failed running "
                                  f"{cfg!r}: {type(err).__name__}: {err}") from err
            if not sim and entry["status"] == "ok":  # compiled there; timed here
                compile_s = entry["compile_s"]
                entry = measure(self.kernel, cfg, dev, grid, block, args, kwargs,
                                self.objective, named, self.restore_value)
                entry["compile_s"] = compile_s
            yield cfg, entry

    def _launch_dims(self, cfg: Config, named: dict):
        if self._dims is None:
            raise LaunchError(f"{self.__name__}.best_config needs grid= and block= before "
                              "the kernel's first launch")
        grid, block = self._dims
        values = {**named, **cfg}
        return (grid(values) if callable(grid) else grid,
                block(values) if callable(block) else block)

    # --- the cache ------------------------------------------------------------------------

    def _path(self, cfg: Config, memo: tuple):
        folder = cache.cache_dir()
        if folder is None:
            return None
        spec = ("autotune", tuple(sorted((k, repr(v)) for k, v in cfg.items())), memo,
                TIMING_MODEL_VERSION, str(self.objective) if not callable(self.objective)
                else getattr(self.objective, "__qualname__", "callable"))
        key = cache.cache_key(self.kernel.fn, spec, "autotune")
        return folder / "autotune" / f"{key}.json"

    def _load(self, cfg: Config, memo: tuple) -> dict | None:
        path = self._path(cfg, memo)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not _valid(entry):
            return None
        return entry

    def _store(self, cfg: Config, memo: tuple, entry: dict) -> None:
        path = self._path(cfg, memo)
        if path is not None:  # an unwritable cache measures again next time
            cache.write_json(path.stem, entry, sub=path.parent.name)


def measure(kernel: Kernel, cfg: Config, dev, grid, block, args, kwargs, objective,
            named: dict, restore_value: Sequence[str] = ()) -> dict:
    """One trial of ``cfg`` on ``dev``: its log entry (objective as the module docstring
    says; arrays named in ``restore_value`` restored after every run)."""
    saved = {n: np.copy(named[n]) for n in restore_value
             if isinstance(named.get(n), np.ndarray)}
    entry = _entry(cfg)
    try:
        start = time.perf_counter()
        with device(dev):
            kernel.compile(*args, target="cpu" if isinstance(dev, CPU) else "sim",
                           block=block, **kwargs, **cfg)
        entry["compile_s"] = time.perf_counter() - start
        if isinstance(dev, Simulator) and objective == "auto":
            res = kernel.launch(grid, block, *args, device=dev, **kwargs, **cfg)
            entry["objective"] = float(res.cycles if res.cycles is not None
                                       else res.stats["instructions"])
        else:
            times = []
            res = None
            for i in range(CPU_RUNS + 1):
                _restore(named, saved)
                t = time.perf_counter()
                res = kernel.launch(grid, block, *args, device=dev, **kwargs, **cfg)
                if i:
                    times.append(time.perf_counter() - t)
            if callable(objective):
                entry["objective"] = float(objective(res, statistics.median(times)))
            else:
                entry["objective"] = statistics.median(times)
                entry["spread"] = max(times) - min(times)
    except (WarpforgeError, ArithmeticError) as err:
        _failed(entry, err)
    finally:
        _restore(named, saved)
    return entry


def remote_trial(module: str, qualname: str, cfg: Config, spec: tuple, grid, block, args,
                 kwargs, objective) -> dict:
    """A trial on an executor's worker: the kernel imported by name and the device rebuilt
    from ``spec``. A simulator trial is measured whole; a CPU trial is only compiled (into
    the disk cache, where the caller's own compile finds it) and timed by the caller."""
    target = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    kernel = target.kernel if isinstance(target, Autotuned) else target
    named = {p.name: a for p, a in zip(kernel.params, args, strict=False)}
    if spec[0] == "sim":
        dev = Simulator(spec[1], scheduler=spec[2], sample=spec[3])
        return measure(kernel, cfg, dev, grid, block, args, kwargs, objective, named)
    entry = _entry(cfg)
    try:
        start = time.perf_counter()
        with device(CPU(threads=1, lanes=spec[1], checked=spec[2])):
            kernel.compile(*args, target="cpu", block=block, **kwargs, **cfg)
        entry["compile_s"] = time.perf_counter() - start
    except WarpforgeError as err:
        _failed(entry, err)
    return entry


def _entry(cfg: Config) -> dict:
    return {"config": dict(cfg), "objective": None, "compile_s": 0.0, "status": "ok",
            "reason": "", "timestamp": time.time(), "spread": 0.0}


def _failed(entry: dict, err: BaseException) -> None:
    entry["status"] = "failed"
    entry["reason"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"


def _restore(named: dict, saved: dict) -> None:
    for name, copy in saved.items():
        named[name][...] = copy


def _cancel(futures) -> None:
    for future in futures:
        future.cancel()


def _valid(entry: object) -> bool:
    if not isinstance(entry, dict) or entry.get("status") not in ("ok", "failed"):
        return False
    if not isinstance(entry.get("config"), dict) or not isinstance(entry.get("reason"), str):
        return False
    obj = entry.get("objective")
    return entry["status"] == "failed" or isinstance(obj, (int, float))


def device_fingerprint(dev) -> str:
    """What a measurement depends on besides the kernel: the simulated machine and its
    scheduling policy, or the CPU device's shape and the host."""
    if isinstance(dev, Simulator):
        text = repr((dev.config, dev.scheduler, dev.sample))
    else:
        text = repr((type(dev).__name__, getattr(dev, "threads", None),
                     getattr(dev, "lanes", None), os.cpu_count()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
