"""Search strategies over a configuration space, as ask/tell searchers, and their score.

A searcher proposes configurations (``ask(n)``) and learns their measured objective
(``tell(config, objective)``, None for a failed trial); it never proposes one twice. The
tuner drives it, measuring each batch in this process or on an executor, and so does the
replay of a recorded table (:func:`replay`), which is how ``benchmarks/autotune.py`` and
the tests judge a strategy without measuring again.

* :class:`Ordered`: the space in a given order (``exhaustive``, and ``random`` with the
  space shuffled by a fixed seed).
* :class:`ModelSearch`: a prior ranking, then a surrogate that learns from the trials.
  The first ``initial`` proposals are the prior's best config of each of its best
  ``family`` groups (for GEMM, CTA tile shapes), so that the first fit sees the features
  vary. After that, each proposal is the unmeasured config whose predicted log-objective
  has the lowest lower confidence bound (mean minus ``kappa`` standard deviations). The
  prediction is the prior's log-estimate corrected by a Bayesian ridge regression on the
  trials so far: ``log measured - log prior`` against the config's standardized
  features (for GEMM, log2 of the tile sizes, threads, CTAs an SM, waves; see
  ``tuning.features``), its spread from the fit's residual variance and the features'
  distance from what was measured. The correction learns what the prior gets wrong on
  this machine (the simulated A100 prefers small thread tiles and many warps where the
  estimate counts FFMA density; a CPU with 16-lane groups wastes narrow CTAs) and moves
  the search there; the bound explores where nothing was measured, and the prior ranks
  the rest. A failed trial counts as worse than the worst measured so far.

:func:`score` rates a strategy's best-so-far curve on a table in the manner of Kernel
Tuner's methodology (Willemsen, van Werkhoven and van Nieuwpoort, "A methodology for
comparing optimization algorithms for auto-tuning", FGCS 2024): at each budget b, how far
it got from the expected best of ``b`` random draws towards the optimum (1: the optimum;
0: no better than random; negative: worse), averaged over budgets 1..B.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Sequence

import numpy as np

RIDGE = 1.0
"""The ridge penalty of the surrogate's correction (features are standardized)."""
KAPPA = 1.0
"""How many standard deviations of doubt a proposal is credited with (lower confidence
bound): large explores, small exploits."""
NOISE_FLOOR = 0.01
"""The least variance of the log-objective the surrogate assumes (about 10%)."""


class Ordered:
    """Propose the space in a fixed order."""

    def __init__(self, order: Sequence[Hashable]) -> None:
        self.order = list(order)
        self.next = 0

    def ask(self, n: int) -> list:
        """The next ``n`` configs (fewer at the end of the space)."""
        out = self.order[self.next:self.next + n]
        self.next += len(out)
        return out

    def tell(self, config, objective: float | None) -> None:
        """Ordered search learns nothing."""


def shuffled(space: Sequence[Hashable], seed: int = 0) -> Ordered:
    """Random search: the space in a seeded random order."""
    return Ordered(random.Random(seed).sample(list(space), len(space)))


class ModelSearch:
    """Prior ranking, then a surrogate that learns from the trials (module docstring)."""

    def __init__(self, space: Sequence[Hashable], prior: Callable[[Hashable], float],
                 features: Callable[[Hashable], Sequence[float]], initial: int = 4,
                 family: Callable[[Hashable], Hashable] | None = None,
                 kappa: float = KAPPA) -> None:
        self.space = list(space)
        self.log_prior = np.log(np.array([max(prior(c), 1e-30) for c in self.space]))
        x = np.array([list(features(c)) for c in self.space], dtype=float)
        spread = x.std(axis=0)
        spread[spread == 0] = 1.0
        x = (x - x.mean(axis=0)) / spread
        self.x = np.hstack([np.ones((len(self.space), 1)), x])
        self.index = {c: i for i, c in enumerate(self.space)}
        self.by_prior = [int(i) for i in np.argsort(self.log_prior, kind="stable")]
        self.first = self._openers(initial, family)
        self.kappa = kappa
        self.measured: dict[int, float | None] = {}
        self.asked: set[int] = set()

    def _openers(self, initial: int, family) -> list[int]:
        """The prior's best of each of its ``initial`` best families (all different, so
        the first fit sees the features vary), else simply its best."""
        if family is None:
            return self.by_prior[:initial]
        out, seen = [], set()
        for i in self.by_prior:
            f = family(self.space[i])
            if f not in seen:
                seen.add(f)
                out.append(i)
                if len(out) == initial:
                    break
        return out

    def tell(self, config, objective: float | None) -> None:
        """Learn one trial's objective (None: it failed)."""
        self.measured[self.index[config]] = objective

    def ask(self, n: int) -> list:
        """The ``n`` most promising configs not yet proposed."""
        out = []
        for _ in range(n):
            pick = self._pick()
            if pick is None:
                break
            self.asked.add(pick)
            out.append(self.space[pick])
        return out

    def _pick(self) -> int | None:
        opener = next((i for i in self.first if i not in self.asked), None)
        if opener is not None:
            return opener
        left = [i for i in self.by_prior if i not in self.asked]
        if not left:
            return None
        mean, sd = self.predict(with_spread=True)
        bound = mean - self.kappa * sd
        return min(left, key=lambda i: (bound[i], self.log_prior[i]))

    def predict(self, with_spread: bool = False):
        """The surrogate's log-objective for every config of the space (and, with
        ``with_spread``, its standard deviation: Bayesian ridge regression)."""
        ok = [v for v in self.measured.values() if v is not None and v > 0]
        if not ok:
            zero = np.zeros(len(self.space))
            return (self.log_prior, zero) if with_spread else self.log_prior
        worst = math.log(max(ok)) + 1.0
        rows = np.array(list(self.measured))
        y = np.array([math.log(v) if v is not None and v > 0 else worst
                      for v in self.measured.values()])
        residual = y - self.log_prior[rows]
        x = self.x[rows]
        penalty = RIDGE * np.eye(x.shape[1])
        penalty[0, 0] = 1e-6
        inverse = np.linalg.inv(x.T @ x + penalty)
        w = inverse @ x.T @ residual
        mean = self.log_prior + self.x @ w
        if not with_spread:
            return mean
        fit = residual - x @ w
        noise = max(float(fit @ fit) / max(len(rows) - 1, 1), NOISE_FLOOR)
        sd = np.sqrt(noise * np.einsum("ij,jk,ik->i", self.x, inverse, self.x))
        return mean, sd


def replay(searcher, table: dict, budget: int, batch: int = 1) -> list[float]:
    """Run ``searcher`` against a recorded ``table`` (config -> objective, None for a
    failed one) for ``budget`` trials; the best objective found after each trial."""
    best = math.inf
    curve: list[float] = []
    while len(curve) < budget:
        proposals = searcher.ask(min(batch, budget - len(curve)))
        if not proposals:
            break
        for cfg in proposals:
            value = table[cfg]
            searcher.tell(cfg, value)
            if value is not None:
                best = min(best, value)
            curve.append(best)
    return curve


def expected_random_best(values: Sequence[float], budget: int) -> list[float]:
    """The expected best of ``b`` configs drawn at random without replacement from a
    space with these objectives, for b = 1..budget (exact, from the order statistics)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    out = []
    for b in range(1, budget + 1):
        if b >= n:
            out.append(float(v[0]))
            continue
        # P(the best of b draws is the i-th smallest) = C(n-1-i, b-1) / C(n, b)
        i = np.arange(n)
        log_c = _log_comb(n - 1 - i, b - 1) - _log_comb(np.array(n), b)
        p = np.where(n - 1 - i >= b - 1, np.exp(log_c), 0.0)
        out.append(float(p @ v))
    return out


def random_needed(values: Sequence[float], target: float) -> float:
    """Expected random draws (without replacement) until one is at most ``target``:
    ``(n + 1) / (g + 1)`` for ``g`` such configs among ``n``."""
    good = sum(1 for v in values if v <= target)
    return (len(values) + 1) / (good + 1) if good else math.inf


def score(curve: Sequence[float], values: Sequence[float]) -> float:
    """Kernel Tuner-style score of a best-so-far ``curve`` on a space with these objectives
    (module docstring)."""
    optimum = min(values)
    baseline = expected_random_best(values, len(curve))
    parts = []
    for got, base in zip(curve, baseline, strict=True):
        parts.append(1.0 if base <= optimum else (base - got) / (base - optimum))
    return float(np.mean(parts))


def _log_comb(n, k) -> np.ndarray:
    """log C(n, k) elementwise (n may be an array; entries with n < k are meaningless)."""
    lg = np.vectorize(math.lgamma)
    n = np.maximum(np.asarray(n, dtype=float), k)
    return lg(n + 1) - lg(k + 1) - lg(n - k + 1)
