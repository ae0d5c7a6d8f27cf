"""Sweeps: resume after interruption, worker independence, CSV round trip, bad input."""

from __future__ import annotations

import concurrent.futures as cf
import math

import numpy as np
import pytest

from perceptron_pruning import sweep as sw
from perceptron_pruning.trial import run_trial

GRID = dict(n=30, alpha_tot=(1.0, 3.0), f=(0.5, 1.0), keep=("hard", "easy"), theta=(0.0, 20.0),
            replicates=2, seed=7)


def _tasks():
    return sw.make_tasks(**GRID)


def test_task_seeds_come_from_seedsequence_spawn():
    tasks = _tasks()
    assert len(tasks) == 2 * 2 * 2 * 2 * 2
    children = np.random.SeedSequence(7).spawn(2)
    expected = [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
    for t in tasks:
        assert t.seed == expected[t.replicate]
    # Same numbers as a direct trial with that seed: nothing else enters.
    row = sw.run_sweep(tasks[:1])[0]
    direct = run_trial(tasks[0])
    assert row.values["eps"] == direct.values["eps"]
    assert row.values["kappa"] == direct.values["kappa"]


class _BoomError(RuntimeError):
    pass


def test_resume_after_interruption_recomputes_nothing(tmp_path, monkeypatch):
    tasks = _tasks()
    reference = sw.run_sweep(tasks)  # uninterrupted, no cache

    calls = []
    armed = [True]
    real = sw.run_trial

    def flaky(task):
        if armed[0] and len(calls) == 11:
            raise _BoomError("worker killed")
        calls.append(task)
        return real(task)

    monkeypatch.setattr(sw, "run_trial", flaky)
    with pytest.raises(_BoomError):
        sw.run_sweep(tasks, cache_dir=tmp_path)
    finished = list(calls)
    assert len(finished) == 11
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 11  # every finished trial was written, nothing half-written
    assert not list(tmp_path.rglob(".tmp-*"))

    calls.clear()
    armed[0] = False
    resumed = sw.run_sweep(tasks, cache_dir=tmp_path)
    assert len(calls) == len(tasks) - 11
    assert not set(calls) & set(finished)  # finished tasks were not recomputed
    assert resumed == reference

    calls.clear()
    assert sw.run_sweep(tasks, cache_dir=tmp_path) == reference
    assert calls == []


def test_cache_is_keyed_by_code_version(tmp_path, monkeypatch):
    tasks = _tasks()[:2]
    sw.run_sweep(tasks, cache_dir=tmp_path)
    monkeypatch.setattr(sw, "code_version", lambda *cls: "another-version")
    calls = []
    real = sw.run_trial
    monkeypatch.setattr(sw, "run_trial", lambda t: calls.append(t) or real(t))
    sw.run_sweep(tasks, cache_dir=tmp_path)
    assert len(calls) == 2


def test_damaged_cache_entry_is_recomputed(tmp_path):
    tasks = _tasks()[:3]
    ref = sw.run_sweep(tasks, cache_dir=tmp_path)
    victim = sorted(tmp_path.rglob("*.json"))[0]
    victim.write_text("{not json")
    assert sw.run_sweep(tasks, cache_dir=tmp_path) == ref


def test_worker_count_does_not_change_numbers(tmp_path):
    tasks = _tasks()
    serial = sw.run_sweep(tasks)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        threaded = sw.run_sweep(tasks, executor=ex)
    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        procs = sw.run_sweep(list(reversed(tasks)), executor=ex)[::-1]
    assert threaded == serial
    assert procs == serial


def test_dask_local_cluster_gives_identical_numbers():
    distributed = pytest.importorskip("dask.distributed")
    tasks = _tasks()[:8]
    serial = sw.run_sweep(tasks)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            out = sw.run_sweep(tasks, executor=client.get_executor())
    assert out == serial


def test_aggregate_means_and_standard_errors():
    trials = sw.run_sweep(_tasks())
    agg = sw.aggregate(trials)
    assert len(agg) == len(trials) // 2
    a = agg[0]
    mine = [t.values["eps"] for t in trials
            if (t.task.n, t.task.alpha_tot, t.task.f, t.task.keep, t.task.theta)
            == (a.n, a.alpha_tot, a.f, a.keep, a.theta)]
    assert a.eps_mean == pytest.approx(np.mean(mine), rel=1e-15)
    assert a.eps_sem == pytest.approx(np.std(mine, ddof=1) / math.sqrt(2), rel=1e-12)
    row = a.summary()
    for q in ("eps", "R", "rho", "kappa", "n_support"):  # every per-trial quantity
        assert row[f"{q}_mean"] == pytest.approx(np.mean(getattr(a, q)), rel=1e-15)
        assert row[f"{q}_sem"] == pytest.approx(np.std(getattr(a, q), ddof=1) / math.sqrt(2),
                                                rel=1e-12)


def test_csv_round_trip(tmp_path):
    rows = [t.row() for t in sw.run_sweep(_tasks()[:4])]
    sw.write_csv(rows, tmp_path / "t.csv")
    back = sw.read_csv(tmp_path / "t.csv")
    assert back == rows


@pytest.mark.parametrize("bad, name", [
    (dict(n=0), "n"), (dict(alpha_tot=()), "alpha_tot"), (dict(f=(0.0,)), "f"),
    (dict(keep=("medium",)), "keep"), (dict(theta=(91.0,)), "theta"),
    (dict(replicates=0), "replicates"),
])
def test_bad_grids(bad, name):
    with pytest.raises(ValueError, match=name):
        sw.make_tasks(**{**GRID, **bad})


def _version():
    sw.code_version.cache_clear()
    from perceptron_pruning import get_learner, get_metric

    return sw.code_version(type(get_learner("max-margin")), type(get_metric("margin")))


def test_cache_key_follows_the_modules_a_trial_runs():
    mods = set(sw._closure(["perceptron_pruning.trial",
                            "perceptron_pruning.learners.max_margin",
                            "perceptron_pruning.metrics.margin"]))
    for m in ("trial", "data", "pruning", "maxmargin", "_mm_kernels", "_validation",
              "learners.max_margin", "metrics.margin", "registry"):
        assert f"perceptron_pruning.{m}" in mods, m
    for m in ("figures", "cli", "theory", "frontier", "sweep"):  # not run by a trial
        assert f"perceptron_pruning.{m}" not in mods, m


def test_cache_key_covers_sources_and_versions(tmp_path, monkeypatch):
    import shutil

    import numba

    import perceptron_pruning as pp

    base = _version()
    copy = tmp_path / "pkg"
    shutil.copytree(sw._PKG_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sw, "_PKG_DIR", copy)
    assert _version() == base  # same sources, same key
    for name in ("_mm_kernels.py", "metrics/margin.py"):  # a kernel, a plug-in module
        path = copy / name
        old = path.read_text()
        path.write_text(old + "\n# edited\n")
        assert _version() != base, name
        path.write_text(old)
    (copy / "figures.py").write_text("# a figure edit does not touch the trials\n")
    assert _version() == base
    for obj, attr in ((pp, "__version__"), (np, "__version__"), (numba, "__version__")):
        with monkeypatch.context() as m:
            m.setattr(obj, attr, "0.0.0-test")
            assert _version() != base, (obj, attr)
    sw.code_version.cache_clear()
