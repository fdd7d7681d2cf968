"""The autotuner: search quality of libs.gemm.tune's strategies, and parallel speed-up.

A benchmark, not a test. In one run it prints:

1. For three GEMM shapes per device (the simulated A100, objective: cycles; this CPU,
   objective: median wall time), the whole legal space measured (the exhaustive optimum),
   then each strategy replayed on that table, as Kernel Tuner's methodology does: the
   ``model`` strategy's best after 20 measurements as a share of the optimum (goal: at
   least 95%, median over shapes), the measurements it needed to reach 95%, how many
   random search needs on average to match it (exact, from the table), and the score of
   each strategy (1: the optimum from the first trial; 0: no better than random; see
   ``libs/gemm/search.py``).
2. Simulator tuning with a process pool of 2 workers against 1 worker, same configs, same
   run, each with a fresh kernel cache. Goal: at least 1.8x.

The exhaustive tables take a while to measure (about 10 minutes a simulated shape on 2
cores), so they are kept under ``benchmarks/tables/`` and measured again only with
``--remeasure`` or when missing; the CPU tables belong to the machine that measured them
(its line is in the file), so remeasure them on another machine.

Usage: python benchmarks/autotune.py [--remeasure] [--skip-parallel] [--budget 20]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from machine import describe

import warpforge as wf
from warpforge.libs import gemm
from warpforge.libs.gemm import search, tuning
from warpforge.libs.gemm.config import GemmConfig

TABLES = pathlib.Path(__file__).resolve().parent / "tables"
SHAPES = {"sim": ((256, 256, 256), (1024, 128, 64), (128, 128, 512)),
          "cpu": ((256, 256, 256), (2048, 64, 256), (128, 128, 1024))}
GOAL_SHARE = 0.95
GOAL_SPEEDUP = 1.8


def device(kind: str):
    """The device a table is measured on."""
    return wf.Simulator() if kind == "sim" else wf.CPU()


def table(kind: str, shape: tuple[int, int, int], remeasure: bool) -> dict:
    """config -> objective (None: failed) for the whole space, loaded or measured."""
    path = TABLES / f"{kind}_{'x'.join(map(str, shape))}.json"
    if remeasure or not path.is_file():
        print(f"  measuring every config of {kind} {shape} (this takes a while)", flush=True)
        if kind == "sim":
            with concurrent.futures.ProcessPoolExecutor(2) as pool:
                trials = gemm.tune(*shape, device=device(kind), strategy="exhaustive",
                                   executor=pool)
        else:
            trials = gemm.tune(*shape, device=device(kind), strategy="exhaustive")
        TABLES.mkdir(exist_ok=True)
        rows = [{"config": t["config"].__dict__, "objective": t["objective"]}
                for t in trials]
        path.write_text(json.dumps({"machine": describe(), "trials": rows}))
    data = json.loads(path.read_text())
    print(f"  table {path.name}: measured on {data['machine']}")
    return {GemmConfig(**r["config"]): r["objective"] for r in data["trials"]}


def judge(kind: str, shape, results: dict, budget: int) -> dict:
    """Replay the strategies on one table; one printed row."""
    M, N, K = shape
    space = gemm.configs(M, N, K)
    missing = [c for c in space if c not in results]
    if missing:
        raise SystemExit(f"the {kind} table of {shape} lacks {len(missing)} configs of "
                         "today's space: run with --remeasure")
    values = [results[c] for c in space if results[c] is not None]
    optimum = min(values)
    dev = device(kind)
    workers, cpu = gemm._workers(dev)
    lanes = dev.lanes if cpu else None
    model = search.replay(tuning.searcher("model", space, M, N, K, workers, lanes=lanes),
                          results, budget)
    rand = search.replay(tuning.searcher("random", space, M, N, K, workers), results,
                         budget)
    share = optimum / model[-1]
    reached = next((i + 1 for i, v in enumerate(model) if optimum / v >= GOAL_SHARE),
                   None)
    return {"kind": kind, "shape": "x".join(map(str, shape)), "space": len(space),
            "share": share, "reached": reached,
            "random_needed": search.random_needed(values, optimum / GOAL_SHARE),
            "random_share": optimum / rand[-1],
            "model_score": search.score(model, values),
            "random_score": search.score(rand, values)}


def parallel_speedup(count: int = 24) -> tuple[float, float]:
    """Seconds to tune ``count`` simulator configs with a pool of 1 and of 2 workers."""
    shape = (256, 128, 128)
    seconds = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as cache_dir:
            old = os.environ.get("WARPFORGE_CACHE_DIR")
            os.environ["WARPFORGE_CACHE_DIR"] = cache_dir  # the workers' compiles count
            try:
                with concurrent.futures.ProcessPoolExecutor(workers) as pool:
                    list(pool.map(int, range(workers)))  # start the workers first
                    start = time.perf_counter()
                    gemm.tune(*shape, device=wf.Simulator(), strategy="exhaustive",
                              budget=count, executor=pool, progress=False)
                    seconds.append(time.perf_counter() - start)
            finally:
                if old is None:
                    del os.environ["WARPFORGE_CACHE_DIR"]
                else:
                    os.environ["WARPFORGE_CACHE_DIR"] = old
    return seconds[0], seconds[1]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remeasure", action="store_true")
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--budget", type=int, default=20)
    args = parser.parse_args()
    print(describe())
    print(f"search quality: model strategy, budget {args.budget}, against the exhaustive "
          "optimum (tables replayed)")
    rows = []
    for kind, shapes in SHAPES.items():
        for shape in shapes:
            rows.append(judge(kind, shape, table(kind, shape, args.remeasure), args.budget))
    print(f"  {'device':6} {'shape':>14} {'space':>5} {'model@' + str(args.budget):>9} "
          f"{'to 95%':>6} {'random to 95%':>13} {'random@' + str(args.budget):>10} "
          f"{'score model':>11} {'score random':>12}")
    for r in rows:
        print(f"  {r['kind']:6} {r['shape']:>14} {r['space']:>5} {r['share']:>8.1%} "
              f"{r['reached'] or '-':>6} {r['random_needed']:>13.1f} "
              f"{r['random_share']:>9.1%} {r['model_score']:>11.3f} "
              f"{r['random_score']:>12.3f}")
    for kind in SHAPES:
        shares = [r["share"] for r in rows if r["kind"] == kind]
        median = statistics.median(shares)
        needed = statistics.median(r["random_needed"] for r in rows if r["kind"] == kind)
        print(f"  {kind}: median share of the optimum after {args.budget}: {median:.1%} "
              f"(goal >= {GOAL_SHARE:.0%}: {'met' if median >= GOAL_SHARE else 'NOT met'});"
              f" random search needs {needed:.1f} measurements on average to reach 95%, "
              f"{needed / args.budget:.1f}x the budget")
    if not args.skip_parallel:
        one, two = parallel_speedup()
        ratio = one / two
        print(f"parallel simulator tuning, 24 configs of 256x128x128: 1 worker {one:.2f} s, "
              f"2 workers {two:.2f} s: {ratio:.2f}x (goal >= {GOAL_SPEEDUP}x: "
              f"{'met' if ratio >= GOAL_SPEEDUP else 'NOT met'})")


if __name__ == "__main__":
    main()
