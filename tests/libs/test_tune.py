"""libs.gemm.tune: the table, the remembered winner that matmul uses, the strategies."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import warpforge as wf
from warpforge.libs import gemm
from warpforge.libs.gemm import tuning as tune_module

SIM = wf.Simulator("test")


def test_tune_measures_and_matmul_then_uses_the_winner(monkeypatch):
    trials = gemm.tune(40, 24, 16, device=SIM, strategy="exhaustive", budget=4,
                       progress=False)
    assert len(trials) == 4 and all(t["status"] == "ok" for t in trials)
    best = trials.best
    assert best["objective"] == min(t["objective"] for t in trials)

    def no_heuristic(*args, **kwargs):
        raise AssertionError("matmul should use the tuned config")
    monkeypatch.setattr(gemm, "default_config", no_heuristic)
    A = np.random.default_rng(0).standard_normal((40, 16)).astype(np.float32)
    B = np.random.default_rng(1).standard_normal((16, 24)).astype(np.float32)
    np.testing.assert_allclose(gemm.matmul(A, B, device=SIM), A @ B, rtol=1e-5, atol=1e-5)


def test_the_table_exports_as_csv_and_json():
    trials = gemm.tune(16, 16, 8, device=SIM, strategy="random", budget=3, progress=False)
    rows = list(csv.DictReader(io.StringIO(trials.to_csv())))
    assert [r["config"] for r in rows] == [tune_module.label(t["config"]) for t in trials]
    assert {float(r["objective"]) for r in rows} == {t["objective"] for t in trials}
    data = json.loads(trials.to_json())
    assert data[0]["config"] == trials[0]["config"].__dict__ and "timestamp" in data[0]


def test_random_is_repeatable_and_model_ranks_by_its_estimate():
    a = gemm.tune(16, 16, 8, device=SIM, strategy="random", budget=3, progress=False)
    b = gemm.tune(16, 16, 8, device=SIM, strategy="random", budget=3, progress=False)
    assert [t["config"] for t in a] == [t["config"] for t in b]
    assert [t["objective"] for t in a] == [t["objective"] for t in b]
    m = gemm.tune(32, 32, 32, device=SIM, budget=3, progress=False)
    ranked = sorted(gemm.configs(32, 32, 32),
                    key=lambda c: tune_module.predicted(c, 32, 32, 32, SIM.config.num_sms))
    # the openers: the estimate's best config of each of its best CTA tile shapes
    shapes = []
    for c in ranked:
        if (c.BM, c.BN) not in shapes:
            shapes.append((c.BM, c.BN))
    firsts = [next(c for c in ranked if shape == (c.BM, c.BN)) for shape in shapes[:3]]
    assert [t["config"] for t in m] == firsts and firsts[0] == ranked[0]


def test_progress_goes_to_stderr_and_can_be_quiet(capsys):
    gemm.tune(16, 16, 4, device=SIM, budget=1, progress=False)
    assert capsys.readouterr().err == ""
    gemm.tune(16, 16, 4, device=SIM, budget=1, progress=True)
    assert "tune 16x16x4" in capsys.readouterr().err


def test_bad_tuning_input_is_a_launch_error():
    with pytest.raises(wf.LaunchError, match="strategy must be one of"):
        gemm.tune(8, 8, 8, device=SIM, strategy="annealing")
    with pytest.raises(wf.LaunchError, match="budget must be a positive int"):
        gemm.tune(8, 8, 8, device=SIM, budget=0)


def test_a_process_pool_gives_the_same_table_as_a_serial_run():
    import concurrent.futures
    serial = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=4,
                       progress=False, executor=False)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        parallel = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=4,
                             progress=False, executor=pool)
    assert [(t["config"], t["objective"]) for t in parallel] == \
        [(t["config"], t["objective"]) for t in serial]


class Broken:
    """An executor whose jobs fail."""

    def submit(self, fn, *args):
        import concurrent.futures
        future = concurrent.futures.Future()
        future.set_exception(RuntimeError("worker lost"))
        return future


def test_an_executor_that_fails_is_an_error_naming_the_config():
    with pytest.raises(wf.LaunchError, match=r"executor failed running 16x16x\d+/.*worker lost"):
        gemm.tune(16, 16, 8, device=SIM, budget=2, progress=False, executor=Broken())


def test_the_tune_command_prints_the_table_and_the_winner(tmp_path, capsys):
    from warpforge.cli import main
    out = tmp_path / "results.json"
    assert main(["tune", "gemm", "-M", "16", "-N", "16", "-K", "8", "--arch", "test",
                 "--budget", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("config") and "best: GemmConfig(" in text
    assert len(json.loads(out.read_text())) == 2
    assert main(["tune", "gemm", "-M", "16", "-N", "16", "-K", "8", "--workers", "0"]) == 1
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_the_plot_shows_every_trial(tmp_path, capsys):
    from warpforge.cli import main
    png = tmp_path / "space.png"
    assert main(["tune", "gemm", "-M", "16", "-N", "32", "-K", "8", "--arch", "test",
                 "--budget", "3", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {png}" in capsys.readouterr().out


def test_trials_carry_the_estimate_they_were_ranked_by():
    trials = gemm.tune(32, 16, 8, device=SIM, strategy="random", budget=3, progress=False)
    for t in trials:
        assert t["predicted"] == tune_module.predicted(t["config"], 32, 16, 8,
                                                       SIM.config.num_sms)


def test_the_model_strategy_is_deterministic_and_effort_sets_its_budget():
    a = gemm.tune(48, 40, 24, device=SIM, budget=6, progress=False, batch=2)
    b = gemm.tune(48, 40, 24, device=SIM, budget=6, progress=False, batch=2)
    assert [(t["config"], t["objective"]) for t in a] == \
        [(t["config"], t["objective"]) for t in b]
    assert len({t["config"] for t in a}) == 6
    assert tune_module.EFFORT["quick"] < tune_module.EFFORT["full"]
    with pytest.raises(wf.LaunchError, match="effort must be one of"):
        gemm.tune(8, 8, 8, device=SIM, effort="max")


def test_a_dask_cluster_tunes_through_its_executor(capsys):
    import distributed  # the dist extra, which the test extra installs
    serial = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=3,
                       progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=3,
                           progress=False, executor=client.get_executor())
        from warpforge.cli import main
        assert main(["tune", "gemm", "-M", "24", "-N", "40", "-K", "16", "--arch", "test",
                     "--strategy", "exhaustive", "--budget", "3", "--scheduler",
                     cluster.scheduler_address]) == 0
    assert [(t["config"], t["objective"]) for t in remote] == \
        [(t["config"], t["objective"]) for t in serial]
    best = min(serial, key=lambda t: t["objective"])
    assert f"best: {best['config']}" in capsys.readouterr().out


def test_cpu_trials_compile_on_a_pool_and_are_timed_here(tmp_path, monkeypatch):
    import concurrent.futures
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path))
    cpu = wf.CPU(threads=1)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        trials = gemm.tune(32, 32, 16, device=cpu, strategy="exhaustive", budget=3,
                           progress=False, executor=pool)
    assert [t["status"] for t in trials] == ["ok"] * 3
    assert all(t["objective"] > 0 and t["compile_s"] > 0 for t in trials)
    # the workers' compiles are the ones the timed runs here loaded: one object a config
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_without_an_executor_a_long_run_uses_a_local_pool(monkeypatch):
    import concurrent.futures
    started = []
    real = concurrent.futures.ProcessPoolExecutor

    def counting(workers):
        started.append(workers)
        return real(workers)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counting)
    monkeypatch.setattr(tune_module.os, "cpu_count", lambda: 2)
    pooled = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=4,
                       progress=False)
    assert started == [2]
    here = gemm.tune(24, 40, 16, device=SIM, strategy="exhaustive", budget=3,
                     progress=False)
    assert started == [2]                      # 3 trials: run here
    assert [(t["config"], t["objective"]) for t in pooled][:3] == \
        [(t["config"], t["objective"]) for t in here]


def test_a_winner_outlives_the_process_through_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path))
    trials = gemm.tune(40, 24, 16, device=SIM, strategy="exhaustive", budget=3,
                       progress=False, executor=False)
    entries = list((tmp_path / "gemm").glob("*.json"))
    assert len(entries) == 1
    tune_module.TUNED.clear()                       # as a new process would start

    def no_heuristic(*args, **kwargs):
        raise AssertionError("matmul should use the tuned config from disk")
    monkeypatch.setattr(gemm, "default_config", no_heuristic)
    assert tune_module.recall(40, 24, 16, SIM) == trials.best["config"]
    A = np.ones((40, 16), np.float32)
    B = np.ones((16, 24), np.float32)
    np.testing.assert_array_equal(gemm.matmul(A, B, device=SIM), A @ B)
    # a corrupt entry is ignored: the heuristic decides again
    tune_module.TUNED.clear()
    entries[0].write_text("{not json")
    assert tune_module.recall(40, 24, 16, SIM) is None
    # another device configuration does not see this winner
    assert tune_module.recall(40, 24, 16, wf.Simulator("test", scheduler="lrr")) is None
