"""The paper's perceptron figures and more: compute (theory + simulation sweeps), then plot.

Each figure has a ``compute_<name>(config, ...)`` returning :class:`FigureData` (the tidy table of
everything plotted) and a ``plot_<name>(data, *, fig=None)`` returning the matplotlib figure.
:func:`make_figure` does both and writes ``<name>.png``, ``<name>.pdf`` and ``<name>.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import frontier as _fr
from . import scaling as _sc
from . import theory as _th
from .sweep import aggregate, make_tasks, run_sweep, write_csv

__all__ = ["FIGURES", "FigureConfig", "FigureData", "compute", "make_figure", "plot"]

F_PAPER = (1.0, 0.77, 0.6, 0.46, 0.36, 0.28, 0.22, 0.17, 0.13, 0.1)
F_IMPERFECT = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
THETAS = (0.0, 10.0, 20.0, 30.0, 45.0)


@dataclass(frozen=True)
class FigureConfig:
    """Resolution of a figure run.

    Attributes
    ----------
    n : int
        Simulation dimension ``N``.
    replicates : int
        Seeds per simulated point.
    alpha_tot_sim : tuple of float
        ``alpha_tot`` values simulated along each learning curve.
    n_theory : int
        Points per theory line.
    seed : int
        Root seed of the sweeps.
    """

    n: int = 400
    replicates: int = 10
    alpha_tot_sim: tuple = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    n_theory: int = 120
    seed: int = 0

    @classmethod
    def quick(cls) -> FigureConfig:
        """Small N and few seeds: every figure in well under two minutes on 2 cores."""
        return cls(n=60, replicates=3, alpha_tot_sim=(2.0, 8.0), n_theory=40)

    @classmethod
    def full(cls) -> FigureConfig:
        """Publication quality: N = 400, 10 seeds per point, dense theory lines."""
        return cls()


@dataclass(frozen=True)
class FigureData:
    """Everything a figure plots, as tidy rows.

    ``rows`` are dicts with at least ``panel``, ``series`` (``theory``, ``simulation``,
    ``frontier``...), ``x``, ``y`` and ``yerr`` (NaN for theory), plus the parameters of the
    series (``keep``, ``f``, ``theta``...). ``notes`` holds measured summary numbers.
    """

    name: str
    rows: list
    notes: dict = field(default_factory=dict)

    def select(self, **match):
        """Rows whose keys equal every ``match`` item."""
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]


class _Runner:
    """Carries the sweep options (cache, executor, progress) into the compute functions."""

    def __init__(self, cache_dir=None, executor=None, progress=None):
        self.cache_dir, self.executor, self.progress = cache_dir, executor, progress

    def simulate(self, cfg, desc, **grid):
        tasks = make_tasks(n=cfg.n, replicates=cfg.replicates, seed=cfg.seed, **grid)
        rows = run_sweep(tasks, cache_dir=self.cache_dir, executor=self.executor,
                         progress=self.progress, desc=desc)
        return aggregate(rows)


def _sim_rows(points, panel, x="alpha_prune", series="simulation", **extra):
    return [{"panel": panel, "series": series, "keep": p["keep"], "f": p["f"],
             "theta": p["theta"], "alpha_tot": p["alpha_tot"], "n": p["n"],
             "x": p[x], "y": p["eps_mean"], "yerr": p["eps_sem"], **extra} for p in points]


def _theory_rows(c, panel, series="theory", x="alpha_prune", **extra):
    xs = c.alpha_prune if x == "alpha_prune" else c.alpha_tot
    return [{"panel": panel, "series": series, "keep": c.keep, "f": c.f, "theta": c.theta,
             "alpha_tot": float(at), "n": math.inf, "x": float(xx), "y": float(e),
             "yerr": math.nan, **extra} for xx, at, e in zip(xs, c.alpha_tot, c.eps)]


# ----------------------------------------------------------------------------- compute


def _learning_curves(keep, cfg, runner, name):
    rows = []
    a_max = 40.0
    for f in F_PAPER:
        # Every curve spans the whole alpha_prune axis, so the frontier is their envelope.
        ap = np.geomspace(0.5 * f, a_max, cfg.n_theory)
        rows += _theory_rows(_th.curve(ap, f=f, keep=keep), "a")
    sims = runner.simulate(cfg, name, alpha_tot=cfg.alpha_tot_sim, f=F_PAPER, keep=keep)
    rows += _sim_rows(sims, "a")
    ap = np.geomspace(0.5 * F_PAPER[-1], a_max, cfg.n_theory)
    pf = _fr.pareto_frontier(ap, F_PAPER, keep=keep)
    rows += [{"panel": "a", "series": "frontier", "keep": keep, "f": float(fb), "theta": 0.0,
              "alpha_tot": float(a / fb), "n": math.inf, "x": float(a), "y": float(e),
              "yerr": math.nan} for a, e, fb in zip(pf.alpha_prune, pf.eps, pf.f_best)]
    return FigureData(name, rows, _agreement(rows, sims, keep))


def _agreement(rows, sims, keep, theta=0.0):
    """Median and max relative gap between simulation means and theory at the same point."""
    gaps = []
    for p in sims:
        t = _th.solve(alpha_tot=p["alpha_tot"], f=p["f"], keep=p["keep"], theta_deg=p["theta"])
        gaps.append(abs(p["eps_mean"] - t.eps) / t.eps)
    gaps = np.array(gaps)
    return {"n": sims[0]["n"] if sims else None, "points": len(gaps),
            "median_rel_gap": float(np.median(gaps)) if gaps.size else math.nan,
            "max_rel_gap": float(np.max(gaps)) if gaps.size else math.nan}


def compute_keep_hard(cfg=FigureConfig(), *, runner=None):
    """Keep-hard learning curves (perfect metric) for the paper's ``f`` values, with the
    Pareto frontier and simulations; see :class:`FigureData`.
    """
    return _learning_curves("hard", cfg, runner or _Runner(), "keep_hard")


def compute_keep_easy(cfg=FigureConfig(), *, runner=None):
    """Keep-easy learning curves (perfect metric); see :func:`compute_keep_hard`."""
    return _learning_curves("easy", cfg, runner or _Runner(), "keep_easy")


def compute_easy_vs_hard(cfg=FigureConfig(), *, runner=None):
    """Keep easy against keep hard at fixed ``alpha_tot``: ``eps(f)`` for a few ``alpha_tot``
    (panel a), the rule that wins in the ``(alpha_tot, f)`` plane with the optimal ``f``
    (panel b).
    """
    runner = runner or _Runner()
    rows = []
    at_show = (1.0, 4.0, 16.0)
    f_line = np.geomspace(0.05, 1.0, max(12, cfg.n_theory // 3))
    for at in at_show:
        for keep in ("hard", "easy"):
            eps = _fr.eps_vs_f(at, f_line, keep)
            rows += [{"panel": "a", "series": "theory", "keep": keep, "f": float(f),
                      "theta": 0.0, "alpha_tot": at, "n": math.inf, "x": float(f),
                      "y": float(e), "yerr": math.nan} for f, e in zip(f_line, eps)]
    f_sim = (0.1, 0.3, 1.0) if cfg.n < 200 else (0.1, 0.2, 0.4, 0.7, 1.0)
    sims = runner.simulate(cfg, "easy_vs_hard", alpha_tot=at_show, f=f_sim,
                           keep=("hard", "easy"))
    rows += _sim_rows(sims, "a", x="f")
    # Winner map: continuation along alpha_tot for every f.
    at_map = np.geomspace(0.5, 50.0, max(15, cfg.n_theory // 4))
    f_map = np.geomspace(0.05, 0.95, max(12, cfg.n_theory // 5))
    for f in f_map:
        eh = _th.curve(alpha_tot=at_map, f=f, keep="hard").eps
        ee = _th.curve(alpha_tot=at_map, f=f, keep="easy").eps
        rows += [{"panel": "b", "series": "map", "keep": "easy" if e2 < e1 else "hard",
                  "f": float(f), "theta": 0.0, "alpha_tot": float(a), "n": math.inf,
                  "x": float(a), "y": float(f), "yerr": math.nan, "eps_hard": float(e1),
                  "eps_easy": float(e2)} for a, e1, e2 in zip(at_map, eh, ee)]
    for a in np.geomspace(0.5, 50.0, 6 if cfg.n < 200 else 10):
        o = _fr.optimal_f(float(a), keep="easy")
        rows.append({"panel": "b", "series": "optimal_f", "keep": o.keep, "f": o.f,
                     "theta": 0.0, "alpha_tot": float(a), "n": math.inf, "x": float(a),
                     "y": o.f, "yerr": math.nan, "eps": o.eps, "eps_unpruned": o.eps_unpruned})
    return FigureData("easy_vs_hard", rows, _agreement(rows, sims, None))


def compute_imperfect_metric(cfg=FigureConfig(), *, runner=None, theta=10.0):
    """Imperfect metric: the kept band (a), keep-hard curves at ``theta`` for
    ``f = 0.2 ... 1`` (b), Pareto frontiers per ``theta`` against unpruned (c) and the optimal
    ``f`` along them (d).
    """
    runner = runner or _Runner()
    rows = []
    at_grid = np.geomspace(0.5, 40.0, cfg.n_theory)
    for f in F_IMPERFECT:
        rows += _theory_rows(_th.curve(alpha_tot=at_grid, f=f, keep="hard", theta_deg=theta), "b")
    sims = runner.simulate(cfg, "imperfect_metric", alpha_tot=cfg.alpha_tot_sim,
                           f=F_IMPERFECT[::2] if cfg.n < 200 else F_IMPERFECT, keep="hard",
                           theta=theta)
    rows += _sim_rows(sims, "b")
    ap = np.geomspace(0.5, 40.0, max(20, cfg.n_theory // 3))
    f_grid = np.geomspace(0.05, 1.0, 8 if cfg.n < 200 else 16)
    for th in THETAS:
        pf = _fr.pareto_frontier(ap, f_grid, keep="hard", theta_deg=th)
        rows += [{"panel": "c", "series": "frontier", "keep": "hard", "f": float(fb),
                  "theta": th, "alpha_tot": float(a / fb), "n": math.inf, "x": float(a),
                  "y": float(e), "yerr": math.nan} for a, e, fb in zip(ap, pf.eps, pf.f_best)]
        rows += [{"panel": "d", "series": "optimal_f", "keep": "hard", "f": float(fb),
                  "theta": th, "alpha_tot": float(a / fb), "n": math.inf, "x": float(a / fb),
                  "y": float(fb), "yerr": math.nan} for a, fb in zip(ap, pf.f_best)]
    rows += _theory_rows(_th.curve(ap, f=1.0), "c", series="unpruned")
    notes = _agreement(rows, sims, "hard", theta)
    notes["theta"] = theta
    return FigureData("imperfect_metric", rows, notes)


def compute_scaling(cfg=FigureConfig(), *, runner=None):
    """Unpruned error and keep-hard Pareto frontiers (for several smallest allowed ``f``) with
    power-law and exponential fits.

    The frontier depends on the smallest ``f`` allowed (theory.md): it follows the unpruned
    curve, drops steeply where pruning starts to pay, then rejoins a power law with prefactor
    ``~ f_min``. The fits are made on the steepest frontier (``f_min = 1e-3``) over its drop,
    the range where its local exponent exceeds 2.
    """
    ap = np.geomspace(1.0, 200.0, max(60, cfg.n_theory))
    unpruned = _th.curve(ap, f=1.0)
    rows = _theory_rows(unpruned, "a", series="unpruned")
    fronts = {}
    for f_min in (0.1, 0.01, 0.001):
        f_grid = np.geomspace(f_min, 1.0, 12 if cfg.n < 200 else 24)
        pf = _fr.pareto_frontier(ap, f_grid, keep="hard")
        fronts[f_min] = pf
        rows += [{"panel": "a", "series": "frontier", "keep": "hard", "f": float(fb),
                  "theta": 0.0, "f_min": f_min, "alpha_tot": float(a / fb), "n": math.inf,
                  "x": float(a), "y": float(e), "yerr": math.nan}
                 for a, e, fb in zip(ap, pf.eps, pf.f_best)]
    pw = _sc.fit_power_law(ap, unpruned.eps, alpha_min=20.0)
    pf = fronts[0.001]
    nu_loc = _sc.local_exponent(ap, pf.eps)
    steep = np.flatnonzero(nu_loc > 2.0)
    lo, hi = ap[steep.min()], ap[steep.max()]
    ex = _sc.fit_exponential(ap, pf.eps, alpha_min=lo, alpha_max=hi)
    pwf = _sc.fit_power_law(ap, pf.eps, alpha_min=lo, alpha_max=hi)
    notes = {"unpruned_nu": pw.rate, "unpruned_r2": pw.r2, "frontier_max_local_nu":
             float(nu_loc.max()), "frontier_c": ex.rate, "frontier_exp_rms": ex.rms_log_residual,
             "frontier_power_rms": pwf.rms_log_residual, "fit_alpha_min": float(lo),
             "fit_alpha_max": float(hi)}
    return FigureData("scaling", rows, notes)


# ----------------------------------------------------------------------------- plot


def _style():
    import matplotlib.pyplot as plt

    plt.style.use(str(Path(__file__).with_name("perceptron_pruning.mplstyle")))
    return plt


def _fcolor(f, fs):
    import matplotlib

    fs = sorted(fs)
    k = fs.index(f) if f in fs else 0
    return matplotlib.colormaps["viridis"](k / max(1, len(fs) - 1) * 0.9)


def _plot_curves(ax, data, panel, f_list, theta_label=""):
    for f in f_list:
        col = _fcolor(f, list(f_list))
        th = data.select(panel=panel, series="theory", f=f)
        if th:
            ax.plot([r["x"] for r in th], [r["y"] for r in th], color=col, lw=1.4,
                    label=f"f = {f:g}")
        sm = data.select(panel=panel, series="simulation", f=f)
        if sm:
            ax.errorbar([r["x"] for r in sm], [r["y"] for r in sm],
                        yerr=[r["yerr"] for r in sm], fmt="o", ms=3.5, color=col, capsize=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha_{\mathrm{prune}} = P / N$")
    ax.set_ylabel(r"test error $\varepsilon$")


def plot_learning_curves(data, *, fig=None):
    """Plot :func:`compute_keep_hard` / :func:`compute_keep_easy` data; returns the figure."""
    plt = _style()
    fig = fig or plt.figure(figsize=(5.6, 4.4))
    ax = fig.add_subplot(111)
    _plot_curves(ax, data, "a", F_PAPER)
    fr = data.select(panel="a", series="frontier")
    ax.plot([r["x"] for r in fr], [r["y"] for r in fr], "k--", lw=1.6, label="Pareto frontier")
    xs = np.geomspace(1.0, 40.0, 10)
    ax.plot(xs, 0.5005 / xs, ":", color="0.4", lw=1.2, label=r"unpruned $0.50/\alpha$")
    keep = data.name.split("_")[1]
    ax.set_title(f"keep {keep} examples, perfect metric")
    ax.set_ylim(bottom=max(1e-4, min(r["y"] for r in data.rows if r["y"] > 0) * 0.8), top=0.6)
    ax.set_xlim(0.05, 40)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    ax.text(0.98, 0.98, "lines: theory; points: simulation\n"
            f"N = {data.notes.get('n')}, mean $\\pm$ s.e.m.", transform=ax.transAxes,
            ha="right", va="top", fontsize=7)
    return fig


def plot_easy_vs_hard(data, *, fig=None):
    """Plot :func:`compute_easy_vs_hard` data; returns the figure."""
    plt = _style()
    fig = fig or plt.figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    ats = sorted({r["alpha_tot"] for r in data.select(panel="a", series="theory")})
    for i, at in enumerate(ats):
        col = plt.get_cmap("viridis")(i / max(1, len(ats) - 1) * 0.85)
        for keep, ls, mk in (("hard", "-", "o"), ("easy", "--", "s")):
            th = [r for r in data.select(panel="a", series="theory", keep=keep)
                  if r["alpha_tot"] == at]
            ax1.plot([r["x"] for r in th], [r["y"] for r in th], ls, color=col,
                     label=rf"$\alpha_{{tot}}$ = {at:g}, keep {keep}")
            sm = [r for r in data.select(panel="a", series="simulation", keep=keep)
                  if r["alpha_tot"] == at]
            ax1.errorbar([r["x"] for r in sm], [r["y"] for r in sm],
                         yerr=[r["yerr"] for r in sm], fmt=mk, ms=3.5, color=col, capsize=2,
                         mfc="none" if keep == "easy" else col)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("fraction kept $f$")
    ax1.set_ylabel(r"test error $\varepsilon$")
    ax1.set_title("(a) same data budget: easy (dashed) vs hard (solid)")
    ax1.legend(fontsize=6.5)
    mp = data.select(panel="b", series="map")
    at = sorted({r["x"] for r in mp})
    fs = sorted({r["y"] for r in mp})
    z = np.zeros((len(fs), len(at)))
    for r in mp:
        z[fs.index(r["y"]), at.index(r["x"])] = np.log10(r["eps_easy"] / r["eps_hard"])
    lim = np.max(np.abs(z))
    pc = ax2.pcolormesh(at, fs, z, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
    ax2.contour(at, fs, z, levels=[0.0], colors="k", linewidths=1.2)
    fig.colorbar(pc, ax=ax2, label=r"$\log_{10}\,\varepsilon_{easy} / \varepsilon_{hard}$")
    of = data.select(panel="b", series="optimal_f")
    ax2.plot([r["x"] for r in of], [r["y"] for r in of], "o-", color="gold", mec="k",
             label="optimal $f$ (keep easy)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"$\alpha_{tot}$")
    ax2.set_ylabel("fraction kept $f$")
    ax2.set_title("(b) blue: keep easy wins; red: keep hard wins")
    ax2.legend(fontsize=7, loc="lower left")
    return fig


def plot_imperfect_metric(data, *, fig=None):
    """Plot :func:`compute_imperfect_metric` data; returns the figure."""
    plt = _style()
    fig = fig or plt.figure(figsize=(10, 8))
    (a, b), (c, d) = fig.subplots(2, 2)
    theta = data.notes.get("theta", 10.0)
    # (a) sketch of the kept band in the teacher-probe plane.
    rng = np.random.default_rng(1)
    pts = rng.standard_normal((600, 2))
    th = math.radians(max(theta, 15.0))
    probe = np.array([math.sin(th), math.cos(th)])
    teacher = np.array([0.0, 1.0])
    v = pts @ probe
    gamma = _th.kept_threshold(0.3, "hard")
    kept = np.abs(v) < gamma
    lab = np.sign(pts @ teacher)
    a.scatter(*pts[~kept].T, s=4, c="0.8")
    a.scatter(*pts[kept & (lab > 0)].T, s=6, c="tab:red", label="kept, y = +1")
    a.scatter(*pts[kept & (lab < 0)].T, s=6, c="tab:blue", label="kept, y = -1")
    t = np.linspace(-3, 3, 2)
    a.plot(t, 0 * t, "k-", lw=1.5, label="teacher boundary")
    pdir = np.array([probe[1], -probe[0]])
    a.plot(t * pdir[0], t * pdir[1], "k--", lw=1.2, label="probe boundary")
    for sgn in (-1, 1):
        a.plot(t * pdir[0] + sgn * gamma * probe[0], t * pdir[1] + sgn * gamma * probe[1], ":",
               color="0.3", lw=1)
    a.annotate("", xy=teacher * 1.6, xytext=(0, 0), arrowprops=dict(arrowstyle="->", lw=1.5))
    a.annotate("", xy=probe * 1.6, xytext=(0, 0),
               arrowprops=dict(arrowstyle="->", lw=1.5, ls="--"))
    a.text(*(teacher * 1.7), "T", ha="center")
    a.text(*(probe * 1.75), r"$J_{probe}$", ha="center")
    a.set_aspect("equal")
    a.set_xlim(-3, 3)
    a.set_ylim(-3, 3)
    a.set_title(rf"(a) keep hard, probe at $\theta$ = {math.degrees(th):.0f}$^\circ$, f = 0.3")
    a.legend(fontsize=6.5, loc="lower left")
    _plot_curves(b, data, "b", F_IMPERFECT)
    b.set_title(rf"(b) keep hard, $\theta$ = {theta:g}$^\circ$")
    b.legend(fontsize=6.5, ncol=2, loc="lower left")
    un = data.select(panel="c", series="unpruned")
    c.plot([r["x"] for r in un], [r["y"] for r in un], "k:", lw=1.5, label="unpruned")
    for i, t_ in enumerate(THETAS):
        col = plt.get_cmap("plasma")(i / len(THETAS))
        fr = data.select(panel="c", series="frontier", theta=t_)
        c.plot([r["x"] for r in fr], [r["y"] for r in fr], color=col,
               label=rf"$\theta$ = {t_:g}$^\circ$")
        od = data.select(panel="d", series="optimal_f", theta=t_)
        d.plot([r["x"] for r in od], [r["y"] for r in od], "o-", ms=2.5, color=col,
               label=rf"$\theta$ = {t_:g}$^\circ$")
    c.set_xscale("log")
    c.set_yscale("log")
    c.set_xlabel(r"$\alpha_{\mathrm{prune}}$")
    c.set_ylabel(r"best test error $\min_f \varepsilon$")
    c.set_title("(c) Pareto frontier (keep hard) per probe angle")
    c.legend(fontsize=7)
    d.set_xscale("log")
    d.set_yscale("log")
    d.set_xlabel(r"$\alpha_{tot} = \alpha_{\mathrm{prune}} / f_{opt}$")
    d.set_ylabel(r"optimal $f$ on the frontier")
    d.set_title("(d) optimal fraction kept")
    d.legend(fontsize=7)
    return fig


def plot_scaling(data, *, fig=None):
    """Plot :func:`compute_scaling` data; returns the figure."""
    plt = _style()
    fig = fig or plt.figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    un = data.select(series="unpruned")
    n = data.notes
    fmins = sorted({r["f_min"] for r in data.select(series="frontier")}, reverse=True)
    for ax in (ax1, ax2):
        ax.plot([r["x"] for r in un], [r["y"] for r in un], "k-",
                label=rf"unpruned: power law, $\nu$ = {n['unpruned_nu']:.2f}")
        for i, fm in enumerate(fmins):
            fr = data.select(series="frontier", f_min=fm)
            ax.plot([r["x"] for r in fr], [r["y"] for r in fr], "--",
                    color=plt.get_cmap("autumn")(i / len(fmins)),
                    label=f"Pareto frontier, keep hard, f $\\geq$ {fm:g}")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\alpha_{\mathrm{prune}}$")
        ax.set_ylabel(r"test error $\varepsilon$")
    ax1.set_xscale("log")
    ax1.set_title("log-log: a power law is a straight line")
    ax2.set_xlim(0, 30)
    ax2.set_title("semi-log: an exponential is a straight line")
    ax1.legend(fontsize=6.5, loc="lower left")
    ax2.text(0.97, 0.97,
             "Pareto frontier: faster than any power law\n"
             + rf"(local exponent $\nu$ reaches {n['frontier_max_local_nu']:.0f} at "
             + rf"$\alpha_{{prune}}$ = {n['fit_alpha_min']:.1f}-{n['fit_alpha_max']:.1f};" + "\n"
             + rf"an exponential fit there misses by {n['frontier_exp_rms']:.2f} "
             + r"in $\ln\varepsilon$:"
             + "\nthe drop is steeper still)", transform=ax2.transAxes, ha="right", va="top",
             fontsize=7.5)
    return fig


FIGURES = {
    "keep_hard": (compute_keep_hard, plot_learning_curves),
    "keep_easy": (compute_keep_easy, plot_learning_curves),
    "easy_vs_hard": (compute_easy_vs_hard, plot_easy_vs_hard),
    "imperfect_metric": (compute_imperfect_metric, plot_imperfect_metric),
    "scaling": (compute_scaling, plot_scaling),
}


def _check_name(name):
    if name not in FIGURES:
        raise ValueError(f"figure name must be one of {', '.join(FIGURES)}; got {name!r}")
    return name


def compute(name, cfg=FigureConfig(), *, cache_dir=None, executor=None, progress=None):
    """Compute the data of figure ``name`` (see :data:`FIGURES`); returns :class:`FigureData`."""
    return FIGURES[_check_name(name)][0](cfg, runner=_Runner(cache_dir, executor, progress))


def plot(data, *, fig=None):
    """Draw :class:`FigureData`; returns the matplotlib figure."""
    return FIGURES[_check_name(data.name)][1](data, fig=fig)


def make_figure(name, out_dir, cfg=FigureConfig(), *, cache_dir=None, executor=None,
                progress=None):
    """Compute, plot and save figure ``name`` as PNG, PDF and CSV in ``out_dir``.

    Returns
    -------
    FigureData
    """
    import matplotlib.pyplot as plt

    data = compute(name, cfg, cache_dir=cache_dir, executor=executor, progress=progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot(data)
    fig.savefig(out / f"{name}.png", dpi=150, metadata={"Software": None})
    fig.savefig(out / f"{name}.pdf", metadata={"CreationDate": None, "Producer": None})
    plt.close(fig)
    keys = sorted({k for r in data.rows for k in r})
    write_csv([{k: r.get(k, "") for k in keys} for r in data.rows], out / f"{name}.csv")
    return data
