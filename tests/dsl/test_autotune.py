"""@wf.autotune: the winner, the per-config cache, restore_value, failures, the knob,
bad input."""

from __future__ import annotations

import numpy as np
import pytest

import warpforge as wf


@wf.kernel
def scale_add_top(x: wf.f32[:], out: wf.f32[:], n: wf.i32, BLOCK: wf.constexpr,
                  REPEAT: wf.constexpr):
    """One element a thread, ``REPEAT`` extra passes of work that only cost cycles; at the
    top of the module, where executor workers import it."""
    i = wf.block_idx.x * BLOCK + wf.thread_idx.x
    if i < n:
        v = x[i]
        for _ in wf.static_range(REPEAT):
            v = v * 1.0
        out[i] += v


def make_kernel():
    """A fresh kernel object for scale_add_top's function (its own compiled variants)."""
    return wf.kernel(scale_add_top.fn)


CONFIGS = [wf.Config(BLOCK=64, REPEAT=40), wf.Config(BLOCK=128, REPEAT=0),
           wf.Config(BLOCK=256, REPEAT=20)]


def tuned(configs=CONFIGS, **kw):
    return wf.autotune(configs=configs, key=["n"], restore_value=["out"], **kw)(make_kernel())


SIM = wf.Simulator("test")


def launch(k, x, out, n, device=SIM):
    return k[lambda c: (n + c["BLOCK"] - 1) // c["BLOCK"], lambda c: c["BLOCK"]](
        x, out, n, device=device)


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path / "cache"))


def test_the_winner_is_the_fewest_cycles_and_the_launch_uses_it():
    k = tuned()
    x = np.arange(1000, dtype=np.float32)
    out = np.ones(1000, np.float32)
    res = launch(k, x, out, 1000)
    # every trial restored `out`: the tuned launch adds x once
    np.testing.assert_array_equal(out, 1 + x)
    assert len(k.tuning_log) == 3 and all(t["status"] == "ok" for t in k.tuning_log)
    best = min(k.tuning_log, key=lambda t: t["objective"])
    assert k.best_config(x, out, 1000, device=SIM) == wf.Config(**best["config"])
    assert best["config"]["REPEAT"] == 0 and res.cycles == best["objective"]
    # the same key again: no new trials
    launch(k, x, out, 1000)
    assert len(k.tuning_log) == 3


def test_the_winner_is_the_same_every_time():
    x = np.arange(3000, dtype=np.float32)
    picks = set()
    for _ in range(2):
        k = tuned()
        out = np.zeros(3000, np.float32)
        launch(k, x, out, 3000)
        picks.add(tuple(sorted(k.best_config(x, out, 3000, device=SIM).items())))
        assert len(k.tuning_log) in (0, 3)
    assert len(picks) == 1


def test_adding_a_config_measures_only_it_and_a_changed_kernel_measures_again():
    x = np.arange(500, dtype=np.float32)
    out = np.zeros(500, np.float32)
    k = tuned()
    launch(k, x, out, 500)
    assert len(k.tuning_log) == 3
    k2 = tuned([*CONFIGS, wf.Config(BLOCK=32, REPEAT=0)])
    launch(k2, x, out, 500)
    assert [t["config"] for t in k2.tuning_log] == [{"BLOCK": 32, "REPEAT": 0}]

    @wf.kernel
    def scale_add(x: wf.f32[:], out: wf.f32[:], n: wf.i32, BLOCK: wf.constexpr,
                  REPEAT: wf.constexpr):
        i = wf.block_idx.x * BLOCK + wf.thread_idx.x   # another source: measured again
        if i < n:
            out[i] += x[i] * 1.0
    k3 = wf.autotune(configs=CONFIGS, key=["n"], restore_value=["out"])(scale_add)
    launch(k3, x, out, 500)
    assert len(k3.tuning_log) == 3


def test_a_corrupt_entry_is_measured_again(tmp_path):
    x = np.arange(300, dtype=np.float32)
    out = np.zeros(300, np.float32)
    launch(tuned(), x, out, 300)
    entries = sorted((tmp_path / "cache" / "autotune").glob("*.json"))
    assert len(entries) == 3
    entries[0].write_text("{not json")
    k = tuned()
    launch(k, x, out, 300)
    assert len(k.tuning_log) == 1
    assert all(e.read_text().startswith("{\"config\"") for e in entries)


def test_a_config_that_cannot_run_is_a_failed_trial_with_its_reason():
    k = tuned([*CONFIGS, wf.Config(BLOCK=2048, REPEAT=0)])   # 2048 threads: too many
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(100, np.float32)
    launch(k, x, out, 100)
    failed = [t for t in k.tuning_log if t["status"] == "failed"]
    assert len(failed) == 1 and "1024" in failed[0]["reason"]
    np.testing.assert_array_equal(out, x)


def test_when_every_config_fails_the_error_lists_them():
    k = tuned([wf.Config(BLOCK=2048, REPEAT=0), wf.Config(BLOCK=4096, REPEAT=0)])
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(100, np.float32)
    with pytest.raises(wf.LaunchError, match=r"every config failed.*BLOCK=2048.*BLOCK=4096"):
        launch(k, x, out, 100)
    assert not out.any()


def test_autotune_off_never_measures(monkeypatch):
    monkeypatch.setenv("WARPFORGE_AUTOTUNE", "0")
    k = tuned()
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(100, np.float32)
    launch(k, x, out, 100)
    assert k.tuning_log == [] and k.best_config(x, out, 100, device=SIM) == CONFIGS[0]


def test_the_cpu_objective_is_the_median_wall_time():
    k = tuned()
    x = np.arange(4096, dtype=np.float32)
    out = np.zeros(4096, np.float32)
    launch(k, x, out, 4096, device=wf.CPU(threads=1))
    np.testing.assert_array_equal(out, x)
    assert all(t["objective"] > 0 and t["spread"] >= 0 for t in k.tuning_log)


def test_bad_input_is_a_clear_error():
    kernel = make_kernel()
    with pytest.raises(wf.LaunchError, match="empty"):
        wf.autotune(configs=[])(kernel)
    with pytest.raises(wf.LaunchError, match="'n' is not a constexpr"):
        wf.autotune(configs=[wf.Config(n=3)])(kernel)
    with pytest.raises(wf.LaunchError, match="key 'size' is not a parameter"):
        wf.autotune(configs=CONFIGS, key=["size"])(kernel)
    with pytest.raises(wf.LaunchError, match="budget must be a positive int"):
        wf.autotune(configs=CONFIGS, budget=0)(kernel)
    with pytest.raises(wf.LaunchError, match="strategy"):
        wf.autotune(configs=CONFIGS, strategy="bayes")(kernel)


def test_a_process_pool_measures_simulator_trials_with_the_serial_result(tmp_path,
                                                                         monkeypatch):
    import concurrent.futures
    x = np.arange(700, dtype=np.float32)
    serial = wf.autotune(configs=CONFIGS, key=["n"], restore_value=["out"])(scale_add_top)
    out = np.ones(700, np.float32)
    launch(serial, x, out, 700)
    monkeypatch.setenv("WARPFORGE_CACHE_DIR", str(tmp_path / "other"))
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        par = wf.autotune(configs=CONFIGS, key=["n"], restore_value=["out"],
                          executor=pool)(scale_add_top)
        out2 = np.ones(700, np.float32)
        launch(par, x, out2, 700)
    assert [(t["config"], t["objective"]) for t in par.tuning_log] == \
        [(t["config"], t["objective"]) for t in serial.tuning_log]
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(out, 1 + x)


def test_cpu_trials_compile_on_the_pool_and_are_timed_here(tmp_path):
    import concurrent.futures
    x = np.arange(2048, dtype=np.float32)
    out = np.zeros(2048, np.float32)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        k = wf.autotune(configs=CONFIGS, key=["n"], restore_value=["out"],
                        executor=pool)(scale_add_top)
        launch(k, x, out, 2048, device=wf.CPU(threads=1))
    np.testing.assert_array_equal(out, x)
    assert [t["status"] for t in k.tuning_log] == ["ok"] * 3
    assert all(t["objective"] > 0 and t["compile_s"] > 0 for t in k.tuning_log)
    # the workers compiled into the disk cache, and the timed launches here found their
    # objects there: one entry a config (a mismatched specialization would add its own)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3


def test_an_executor_needs_a_kernel_it_can_import():
    import concurrent.futures

    @wf.kernel
    def local(x: wf.f32[:], out: wf.f32[:], n: wf.i32, BLOCK: wf.constexpr,
              REPEAT: wf.constexpr):
        out[wf.thread_idx.x] = x[wf.thread_idx.x]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        k = wf.autotune(configs=CONFIGS, executor=pool)(local)
        with pytest.raises(wf.LaunchError, match=r"executor= needs a kernel defined at the "
                                                 r"top of a module.*test_an_executor_needs"):
            launch(k, np.zeros(10, np.float32), np.zeros(10, np.float32), 10)


class Broken:
    """An executor whose jobs fail."""

    def submit(self, fn, *args):
        import concurrent.futures
        future = concurrent.futures.Future()
        future.set_exception(RuntimeError("worker lost"))
        return future


def test_an_executor_that_fails_names_the_config_and_caches_nothing(tmp_path):
    k = wf.autotune(configs=CONFIGS, key=["n"], executor=Broken())(scale_add_top)
    out = np.zeros(10, np.float32)
    with pytest.raises(wf.LaunchError, match=r"executor failed running "
                                             r"Config\(BLOCK=64, REPEAT=40\).*worker lost"):
        launch(k, np.ones(10, np.float32), out, 10)
    assert not list((tmp_path / "cache").rglob("autotune/*"))
    assert not out.any()
