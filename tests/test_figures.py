"""Figures: the plotted data is the theory module's output and carries simulation errors;
every drawn number is a row of the CSV; plotting draws into the caller's axes and leaves the
global style alone; ``reproduce --quick`` writes every file, the same bytes on a rerun; bad input
gets a one-line error."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from perceptron_pruning import cli, figures, simulate, theory
from perceptron_pruning.sweep import read_csv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# Data panel drawn in each axes of a figure, in ``fig.axes`` order (colour bars come last).
PANELS = {"keep_hard": "a", "keep_easy": "a", "easy_vs_hard": "ab", "imperfect_metric": "abcd",
          "scaling": "aa", "finite_size": "abc"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figs")
    assert cli.main(["reproduce", "--quick", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def rerun(quick_run, tmp_path_factory):
    """Every quick figure made again into another folder, from the first run's trial cache."""
    out = tmp_path_factory.mktemp("figs_again")
    rc = dict(matplotlib.rcParams)
    data = {name: figures.make_figure(name, out, figures.FigureConfig.quick(),
                                      cache_dir=quick_run / ".cache", progress=False)
            for name in figures.FIGURES}
    return out, data, rc == dict(matplotlib.rcParams)


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
    real = sweep.run_trial
    monkeypatch.setattr(sweep, "run_trial", lambda t: calls.append(t) or real(t))
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
    r = sims[0]
    eps = simulate(30, r["alpha_tot"], f=r["f"], keep="hard", theta=r["theta"], seeds=3,
                   seed=cfg.seed).eps
    assert r["y"] == pytest.approx(np.mean(eps), rel=1e-14)
    assert r["yerr"] == pytest.approx(np.std(eps, ddof=1) / math.sqrt(3), rel=1e-12)
    th = data.select(panel="b", series="theory", f=0.5)
    ref = theory.curve(alpha_tot=[t["alpha_tot"] for t in th], f=0.5, keep="hard", theta=10)
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


def test_rerun_writes_the_same_bytes(quick_run, rerun):
    out, _, _ = rerun
    for name in figures.FIGURES:
        for ext in ("csv", "png", "pdf"):
            assert (out / f"{name}.{ext}").read_bytes() == \
                (quick_run / f"{name}.{ext}").read_bytes(), f"{name}.{ext}"


def _drawn(ax):
    """``(kind, points)`` for every line, scatter and error bar drawn in ``ax``."""
    for line in ax.get_lines():
        yield "line", np.asarray(line.get_xydata(), dtype=float)
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            yield "scatter", np.asarray(coll.get_offsets(), dtype=float)
        elif isinstance(coll, LineCollection):  # error bars
            yield "bars", np.concatenate([np.asarray(s, dtype=float)
                                          for s in coll.get_segments()])
        # the easy_vs_hard map (QuadMesh) and its contour are derived from the map rows


def _in_rows(points, rows):
    """Whether every point is some row's ``(x, y)``, or an error-bar end ``(x, y -+ yerr)``."""
    x = np.array([r["x"] for r in rows], dtype=float)
    y = np.array([r["y"] for r in rows], dtype=float)
    err = np.nan_to_num(np.array([r["yerr"] for r in rows], dtype=float))
    ok_x = np.isclose(points[:, :1], x, rtol=1e-12, atol=0)
    ok_y = np.zeros_like(ok_x)
    for yy in (y, y - err, y + err):
        ok_y |= np.isclose(points[:, 1:], yy, rtol=1e-12, atol=1e-300)
    return (ok_x & ok_y).any(axis=1)


@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_every_drawn_point_is_a_row(rerun, name):
    data = rerun[1][name]
    for r in data.rows:  # one scalar per CSV cell
        assert all(isinstance(v, str | int | float) for v in r.values()), r
    fig = figures.plot(data)
    try:
        n_drawn = 0
        for ax, panel in zip(fig.axes, PANELS[name]):
            rows = data.select(panel=panel)
            for kind, pts in _drawn(ax):
                inside = _in_rows(pts, rows)
                assert inside.all(), f"panel {panel}: {kind} point {pts[~inside][0]} not in rows"
                n_drawn += len(pts)
        assert n_drawn > 0
    finally:
        plt.close(fig)


def test_metric_picture_scatter_and_reference_lines_are_rows(rerun):
    data = rerun[1]["imperfect_metric"]
    samples = data.select(panel="a", series="sample")
    assert len(samples) == 600 and {r["label"] for r in samples} == {-1, 1}
    fig = figures.plot(data)
    try:
        a = fig.axes[0]
        groups = [np.asarray(c.get_offsets()) for c in a.collections]
        want = [[r for r in samples if not r["kept"]],
                [r for r in samples if r["kept"] and r["label"] > 0],
                [r for r in samples if r["kept"] and r["label"] < 0]]
        assert len(groups) == 3
        for got, rows in zip(groups, want):
            np.testing.assert_array_equal(got, [[r["x"], r["y"]] for r in rows])
        lines = [ln.get_xydata() for ln in a.get_lines()]
        for series in ("teacher_boundary", "probe_boundary", "band_edge"):
            rows = data.select(panel="a", series=series)
            assert rows and any(np.array_equal(ln, [[r["x"], r["y"]] for r in rows[:2]])
                                for ln in lines), series
    finally:
        plt.close(fig)
    hard = rerun[1]["keep_hard"]
    ref = hard.select(series="reference")
    np.testing.assert_allclose([r["y"] * r["x"] for r in ref], 0.5005, rtol=1e-15)
    assert all(r["alpha_tot"] == r["x"] and r["f"] == 1.0 for r in ref)
    fig = figures.plot(hard)
    try:
        assert any(np.array_equal(ln.get_xydata(), [[r["x"], r["y"]] for r in ref])
                   for ln in fig.axes[0].get_lines())
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_plot_draws_into_the_callers_axes(rerun, name):
    data = rerun[1][name]
    n = len(PANELS[name])
    fig, axes = plt.subplots(1, n, squeeze=False)
    try:
        assert figures.plot(data, axes=axes[0]) is fig
        for ax in axes[0]:
            assert ax.get_lines() or ax.collections
        with pytest.raises(ValueError, match="panel"):
            figures.plot(data, axes=[axes[0, 0]] * (n + 1))
    finally:
        plt.close(fig)
    if n == 1:
        fig, ax = plt.subplots()
        try:
            assert figures.plot_learning_curves(data, ax=ax) is fig and ax.get_lines()
        finally:
            plt.close(fig)


def test_plotting_leaves_the_global_style_alone(rerun):
    assert rerun[2], "make_figure changed matplotlib.rcParams"
    before = dict(matplotlib.rcParams)
    for data in rerun[1].values():
        fig = figures.plot(data)
        # The packaged style was in force while the figure was made.
        assert fig.get_layout_engine() is not None
        plt.close(fig)
    assert dict(matplotlib.rcParams) == before
    assert not matplotlib.rcParams["figure.constrained_layout.use"]


class _SimulationReachedError(Exception):
    pass


class _GridSpy:
    """A runner that records the simulation grid a compute function asks for, then stops it."""

    def simulate(self, cfg, desc, **grid):
        self.grid = grid
        raise _SimulationReachedError


@pytest.mark.parametrize(("n", "quick"), [(60, False), (1000, True)])
def test_quick_is_a_flag_not_inferred_from_n(n, quick):
    assert figures.FigureConfig.quick().quick and not figures.FigureConfig.full().quick
    cfg = figures.FigureConfig(n=n, n_theory=12, quick=quick, learner="max-margin",
                               metric="margin")
    spy = _GridSpy()
    with pytest.raises(_SimulationReachedError):
        figures.compute_easy_vs_hard(cfg, runner=spy)
    assert spy.grid["f"] == ((0.1, 0.3, 1.0) if quick else (0.1, 0.2, 0.4, 0.7, 1.0))
    assert (spy.grid["learner"], spy.grid["metric"]) == ("max-margin", "margin")


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
