"""Figures: the plotted data is the theory module's output and carries simulation errors;
``reproduce --quick`` writes every file; bad input gets a one-line error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perceptron_pruning import cli, figures, theory
from perceptron_pruning.sweep import read_csv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figs")
    assert cli.main(["reproduce", "--quick", "--out", str(out)]) == 0
    return out


def test_reproduce_quick_writes_every_figure(quick_run):
    for name in figures.FIGURES:
        for ext in ("png", "pdf", "csv"):
            p = quick_run / f"{name}.{ext}"
            assert p.exists() and p.stat().st_size > 1000, p
    pdf = (quick_run / "keep_hard.pdf").read_bytes()
    assert b"CreationDate" not in pdf  # deterministic output


def test_rerun_resumes_from_cache(quick_run, monkeypatch):
    from perceptron_pruning import sweep

    calls = []
    real = sweep._run_task
    monkeypatch.setattr(sweep, "_run_task", lambda t: calls.append(t) or real(t))
    assert cli.main(["figure", "keep_hard", "--quick", "--out", str(quick_run)]) == 0
    assert calls == []


@pytest.mark.parametrize("name", ["keep_hard", "keep_easy"])
def test_learning_curve_theory_lines_are_the_theory_module(quick_run, name):
    keep = name.split("_")[1]
    rows = read_csv(quick_run / f"{name}.csv")
    for f in (1.0, 0.36, 0.1):
        th = [r for r in rows if r["series"] == "theory" and r["f"] == f]
        at = np.array([r["alpha_tot"] for r in th])
        ref = theory.curve(alpha_tot=at, f=f, keep=keep)
        np.testing.assert_allclose([r["y"] for r in th], ref.eps, rtol=1e-12)
        np.testing.assert_allclose([r["x"] for r in th], ref.alpha_prune, rtol=1e-12)
    sims = [r for r in rows if r["series"] == "simulation"]
    assert len(sims) >= 10
    assert all(r["yerr"] > 0 and math.isfinite(r["yerr"]) for r in sims)
    # The frontier is the lower envelope of the drawn curves.
    fr = [r for r in rows if r["series"] == "frontier"]
    for r in fr[:: max(1, len(fr) // 7)]:
        best = min(theory.solve(r["x"], f=f, keep=keep).eps for f in figures.F_PAPER)
        assert r["y"] == pytest.approx(best, rel=1e-7)


def test_simulation_points_are_sweep_means():
    cfg = figures.FigureConfig(n=30, replicates=3, alpha_tot_sim=(2.0,), n_theory=20)
    data = figures.compute("imperfect_metric", cfg)
    sims = data.select(series="simulation")
    from perceptron_pruning.simulate import run_trial
    from perceptron_pruning.sweep import _seeds

    r = sims[0]
    eps = [run_trial(30, r["alpha_tot"], r["f"], "hard", r["theta"], s).eps
           for s in _seeds(cfg.seed, 3)]
    assert r["y"] == pytest.approx(np.mean(eps), rel=1e-14)
    assert r["yerr"] == pytest.approx(np.std(eps, ddof=1) / math.sqrt(3), rel=1e-12)
    th = data.select(panel="b", series="theory", f=0.5)
    ref = theory.curve(alpha_tot=[t["alpha_tot"] for t in th], f=0.5, keep="hard", theta_deg=10)
    np.testing.assert_allclose([t["y"] for t in th], ref.eps, rtol=1e-12)


def test_scaling_figure_states_the_exponents(quick_run):
    rows = read_csv(quick_run / "scaling.csv")
    un = [r for r in rows if r["series"] == "unpruned"]
    a = np.array([r["x"] for r in un])
    e = np.array([r["y"] for r in un])
    sel = a >= 20
    nu = -np.polyfit(np.log(a[sel]), np.log(e[sel]), 1)[0]
    assert nu == pytest.approx(1.0, abs=0.01)
    fr = [r for r in rows if r["series"] == "frontier" and r["f_min"] == 0.001]
    # Beating the power law: the frontier falls below the unpruned curve by 100x somewhere.
    assert min(r["y"] / ue for r, ue in zip(fr, e)) < 1e-2


def _one_line_error(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_unknown_figure_name(capsys, tmp_path):
    msg = _one_line_error(capsys, ["figure", "keep_medium", "--out", str(tmp_path)])
    assert "keep_hard" in msg


def test_bad_jobs_and_seeds(capsys, tmp_path):
    assert "--jobs" in _one_line_error(capsys, ["reproduce", "--quick", "--jobs", "0",
                                                "--out", str(tmp_path)])
    assert "--seeds" in _one_line_error(capsys, ["reproduce", "--quick", "--seeds", "0",
                                                 "--out", str(tmp_path)])


def test_unreachable_dask_scheduler(capsys, tmp_path):
    pytest.importorskip("dask.distributed")
    msg = _one_line_error(capsys, ["figure", "scaling", "--quick", "--out", str(tmp_path),
                                   "--dask", "tcp://127.0.0.1:9"])
    assert "Dask scheduler" in msg
