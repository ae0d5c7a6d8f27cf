"""The paper's perceptron figures and more: compute (theory + simulation sweeps), then plot.

Each figure has a ``compute_<name>(config, ...)`` returning :class:`FigureData`, the tidy table
of every number the figure draws (scatter points and reference lines included), and a
``plot_<name>(data, *, axes=None)`` (``ax=None`` for single-panel figures) that draws those rows
into the caller's axes, or into a new figure, and returns the figure. Plotting applies the
packaged style with ``plt.style.context`` only, never globally. :func:`make_figure` does both and
writes ``<name>.png``, ``<name>.pdf`` and ``<name>.csv`` (the rows, byte-identical on a rerun).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import finite_size as _fs
from . import frontier as _fr
from . import scaling as _sc
from . import theory as _th
from .registry import get_learner
from .sweep import aggregate, make_tasks, run_sweep, write_csv

__all__ = ["FIGURES", "STYLE_PATH", "FigureConfig", "FigureData", "compute", "make_figure",
           "plot", "plot_easy_vs_hard", "plot_imperfect_metric", "plot_label_noise",
           "plot_learners", "plot_learning_curves", "plot_metrics", "plot_scaling"]

F_PAPER = (1.0, 0.77, 0.6, 0.46, 0.36, 0.28, 0.22, 0.17, 0.13, 0.1)
F_IMPERFECT = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
THETAS = (0.0, 10.0, 20.0, 30.0, 45.0)
F_MIN_FRONTIER = 1e-3  # smallest f of the continuous frontiers of imperfect_metric (c, d)
UNPRUNED_PREFACTOR = 0.5005  # max-margin, no pruning: eps ~ 0.5005 / alpha at large alpha
STYLE_PATH = Path(__file__).with_name("perceptron_pruning.mplstyle")


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
    quick : bool
        Coarser grids and fewer simulated points (set by :meth:`quick`).
    learner, metric : str
        Registered learner and pruning metric, passed to the theory and the simulations.
    """

    n: int = 400
    replicates: int = 10
    alpha_tot_sim: tuple = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    n_theory: int = 120
    seed: int = 0
    quick: bool = False
    learner: str = "max-margin"
    metric: str = "margin"

    @classmethod
    def full(cls) -> FigureConfig:
        """Publication quality: N = 400, 10 seeds per point, dense theory lines."""
        return cls()


def _quick(cls) -> FigureConfig:
    """Small N, few seeds, coarse grids (``quick=True``): every figure in well under two minutes
    on 2 cores.
    """
    return cls(n=60, replicates=3, alpha_tot_sim=(2.0, 8.0), n_theory=40, quick=True)


# ``FigureConfig.quick()`` builds the quick preset and ``cfg.quick`` is the flag. The classmethod
# is attached after the dataclass has taken the field's default (False); on an instance the
# field wins, because a classmethod is a non-data descriptor.
FigureConfig.quick = classmethod(_quick)


@dataclass(frozen=True)
class FigureData:
    """Everything a figure draws, as tidy rows.

    ``rows`` are dicts with at least ``panel``, ``series`` (``theory``, ``simulation``,
    ``frontier``, ``reference``, ``sample``...), ``x``, ``y`` and ``yerr`` (NaN for theory), plus
    the parameters of the series (``keep``, ``f``, ``theta``...). ``notes`` holds measured summary
    numbers.
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
        trials = run_sweep(tasks, cache_dir=self.cache_dir, executor=self.executor,
                           progress=self.progress, desc=desc)
        return [r.summary() for r in aggregate(trials)]

    def simulate_points(self, cfg, desc, grids):
        """Like :meth:`simulate` for a list of grids, run as one sweep (one progress bar, the
        executor busy across all of them); a point in several grids runs once.
        """
        tasks = [t for g in grids
                 for t in make_tasks(n=cfg.n, replicates=cfg.replicates, seed=cfg.seed, **g)]
        trials = run_sweep(list(dict.fromkeys(tasks)), cache_dir=self.cache_dir,
                           executor=self.executor, progress=self.progress, desc=desc)
        return [r.summary() for r in aggregate(trials)]


def _plugins(cfg):
    return {"learner": cfg.learner, "metric": cfg.metric}


def _sim_rows(points, panel, x="alpha_prune", series="simulation", **extra):
    return [{"panel": panel, "series": series, "keep": p["keep"], "f": p["f"],
             "theta": p["theta"], "alpha_tot": p["alpha_tot"], "n": p["n"],
             "x": p[x], "y": p["eps_mean"], "yerr": p["eps_sem"], **extra} for p in points]


def _theory_rows(c, panel, series="theory", x="alpha_prune", **extra):
    xs = c.alpha_prune if x == "alpha_prune" else c.alpha_tot
    return [{"panel": panel, "series": series, "keep": c.keep, "f": c.f, "theta": c.theta,
             "alpha_tot": float(at), "n": math.inf, "x": float(xx), "y": float(e),
             "yerr": math.nan, **extra} for xx, at, e in zip(xs, c.alpha_tot, c.eps)]


def _line_rows(panel, series, xs, ys, **extra):
    """Rows of a drawn line that is not a theory or simulation result (a sketch or a guide)."""
    return [{"panel": panel, "series": series, "x": float(x), "y": float(y), "yerr": math.nan,
             **extra} for x, y in zip(xs, ys)]


# ----------------------------------------------------------------------------- compute


def _learning_curves(keep, cfg, runner, name):
    rows = []
    a_max = 40.0
    pl = _plugins(cfg)
    for f in F_PAPER:
        # Every curve spans the whole alpha_prune axis, so the frontier is their envelope.
        ap = np.geomspace(0.5 * f, a_max, cfg.n_theory)
        rows += _theory_rows(_th.curve(ap, f=f, keep=keep, **pl), "a")
    sims = runner.simulate(cfg, name, alpha_tot=cfg.alpha_tot_sim, f=F_PAPER, keep=keep, **pl)
    rows += _sim_rows(sims, "a")
    ap = np.geomspace(0.5 * F_PAPER[-1], a_max, cfg.n_theory)
    pf = _fr.pareto_frontier(ap, F_PAPER, keep=keep, **pl)
    rows += [{"panel": "a", "series": "frontier", "keep": keep, "f": float(fb), "theta": 0.0,
              "alpha_tot": float(a / fb), "n": math.inf, "x": float(a), "y": float(e),
              "yerr": math.nan} for a, e, fb in zip(pf.alpha_prune, pf.eps, pf.f_best)]
    if get_learner(cfg.learner).name == "max-margin":
        xs = np.geomspace(1.0, 40.0, 10)
        rows += [{"panel": "a", "series": "reference", "keep": keep, "f": 1.0, "theta": 0.0,
                  "alpha_tot": float(a), "n": math.inf, "x": float(a),
                  "y": float(UNPRUNED_PREFACTOR / a), "yerr": math.nan} for a in xs]
    return FigureData(name, rows, _agreement(sims, cfg))


def _agreement(sims, cfg):
    """Median and max relative gap between simulation means and theory at the same point."""
    gaps = []
    for p in sims:
        t = _th.solve(alpha_tot=p["alpha_tot"], f=p["f"], keep=p["keep"], theta=p["theta"],
                      **_plugins(cfg))
        gaps.append(abs(p["eps_mean"] - t.eps) / t.eps)
    gaps = np.array(gaps)
    return {"n": sims[0]["n"] if sims else None, "points": len(gaps),
            "median_rel_gap": float(np.median(gaps)) if gaps.size else math.nan,
            "max_rel_gap": float(np.max(gaps)) if gaps.size else math.nan}


def compute_keep_hard(cfg=FigureConfig(), *, runner=None):
    """Keep-hard learning curves (perfect metric) for the paper's ``f`` values, with the
    Pareto frontier, simulations and the unpruned ``0.5005 / alpha`` asymptote (series
    ``reference``, max-margin only); see :class:`FigureData`.
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
    pl = _plugins(cfg)
    rows = []
    at_show = (1.0, 4.0, 16.0)
    f_line = np.geomspace(0.05, 1.0, max(12, cfg.n_theory // 3))
    for at in at_show:
        for keep in ("hard", "easy"):
            eps = _fr.eps_vs_f(at, f_line, keep=keep, **pl)
            rows += [{"panel": "a", "series": "theory", "keep": keep, "f": float(f),
                      "theta": 0.0, "alpha_tot": at, "n": math.inf, "x": float(f),
                      "y": float(e), "yerr": math.nan} for f, e in zip(f_line, eps)]
    f_sim = (0.1, 0.3, 1.0) if cfg.quick else (0.1, 0.2, 0.4, 0.7, 1.0)
    sims = runner.simulate(cfg, "easy_vs_hard", alpha_tot=at_show, f=f_sim,
                           keep=("hard", "easy"), **pl)
    rows += _sim_rows(sims, "a", x="f")
    # Winner map: continuation along alpha_tot for every f.
    at_map = np.geomspace(0.5, 50.0, max(15, cfg.n_theory // 4))
    f_map = np.geomspace(0.05, 0.95, max(12, cfg.n_theory // 5))
    for f in f_map:
        eh = _th.curve(alpha_tot=at_map, f=f, keep="hard", **pl).eps
        ee = _th.curve(alpha_tot=at_map, f=f, keep="easy", **pl).eps
        rows += [{"panel": "b", "series": "map", "keep": "easy" if e2 < e1 else "hard",
                  "f": float(f), "theta": 0.0, "alpha_tot": float(a), "n": math.inf,
                  "x": float(a), "y": float(f), "yerr": math.nan, "eps_hard": float(e1),
                  "eps_easy": float(e2)} for a, e1, e2 in zip(at_map, eh, ee)]
    for a in np.geomspace(0.5, 50.0, 6 if cfg.quick else 10):
        o = _fr.optimal_f(float(a), keep="easy", **pl)
        rows.append({"panel": "b", "series": "optimal_f", "keep": o.keep, "f": o.f,
                     "theta": 0.0, "alpha_tot": float(a), "n": math.inf, "x": float(a),
                     "y": o.f, "yerr": math.nan, "eps": o.eps, "eps_unpruned": o.eps_unpruned})
    return FigureData("easy_vs_hard", rows, _agreement(sims, cfg))


def _kept_band_sketch(theta, *, f=0.3, points=600, seed=1):
    """Panel (a) of the imperfect-metric figure: Gaussian points in the teacher (``y`` axis)
    and probe plane, the band ``|v| < gamma`` that keep hard retains, boundaries and directions.

    The probe is drawn at ``max(theta, 15)`` degrees so that the tilt is visible.
    """
    th_deg = max(theta, 15.0)
    th = math.radians(th_deg)
    probe = np.array([math.sin(th), math.cos(th)])
    teacher = np.array([0.0, 1.0])
    pts = np.random.default_rng(seed).standard_normal((points, 2))
    gamma = _th.kept_threshold(f, "hard")
    kept = np.abs(pts @ probe) < gamma
    label = np.sign(pts @ teacher)
    par = {"keep": "hard", "f": f, "theta": th_deg}
    rows = [{"panel": "a", "series": "sample", "x": float(x), "y": float(y), "yerr": math.nan,
             "kept": bool(k), "label": int(lab), **par}
            for (x, y), k, lab in zip(pts, kept, label)]
    t = np.linspace(-3, 3, 2)
    rows += _line_rows("a", "teacher_boundary", t, 0 * t, **par)
    pdir = np.array([probe[1], -probe[0]])
    rows += _line_rows("a", "probe_boundary", t * pdir[0], t * pdir[1], **par)
    for side in (-1, 1):
        rows += _line_rows("a", "band_edge", t * pdir[0] + side * gamma * probe[0],
                           t * pdir[1] + side * gamma * probe[1], side=side, gamma=gamma, **par)
    for name, vec in (("teacher", teacher), ("probe", probe)):
        rows += _line_rows("a", "direction", [vec[0]], [vec[1]], vector=name, **par)
    return rows


def compute_imperfect_metric(cfg=FigureConfig(), *, runner=None, theta=10.0):
    """Imperfect metric: the kept band (a), keep-hard curves at ``theta`` for
    ``f = 0.2 ... 1`` (b), Pareto frontiers per ``theta`` against unpruned (c) and the optimal
    ``f`` along them (d), with ``f`` optimised continuously in ``[1e-3, 1]`` out to
    ``alpha_prune = 1e4``; ``notes`` hold the fitted large-``alpha`` laws (:func:`_frontier_laws`).

    Panel (a) rows: ``sample`` points (``x``, ``y`` in the probe/teacher plane, ``kept``,
    ``label`` = teacher's sign), the ``teacher_boundary``, ``probe_boundary`` and ``band_edge``
    lines, and the unit ``direction`` vectors of teacher and probe (arrows of length 1.6).
    """
    runner = runner or _Runner()
    pl = _plugins(cfg)
    rows = []
    at_grid = np.geomspace(0.5, 40.0, cfg.n_theory)
    for f in F_IMPERFECT:
        rows += _theory_rows(_th.curve(alpha_tot=at_grid, f=f, keep="hard", theta=theta, **pl),
                             "b")
    sims = runner.simulate(cfg, "imperfect_metric", alpha_tot=cfg.alpha_tot_sim,
                           f=F_IMPERFECT[::2] if cfg.quick else F_IMPERFECT, keep="hard",
                           theta=theta, **pl)
    rows += _sim_rows(sims, "b")
    # Panels (c, d): f optimised continuously at each alpha_prune (not picked from a grid),
    # out to alpha_prune = 1e4, where the frontier is back on a power law.
    ap = np.geomspace(0.5, 1e4, 14 if cfg.quick else 40)
    fronts = {}
    for th in THETAS:
        of = _fr.optimal_frontier(ap, keep="hard", theta=th, f_min=F_MIN_FRONTIER,
                                  n_grid=13 if cfg.quick else 25, **pl)
        fronts[th] = of
        rows += [{"panel": "c", "series": "frontier", "keep": "hard", "f": float(fo),
                  "theta": th, "alpha_tot": float(at), "n": math.inf, "x": float(a),
                  "y": float(e), "yerr": math.nan}
                 for a, e, fo, at in zip(ap, of.eps, of.f_opt, of.alpha_tot)]
        rows += [{"panel": "d", "series": "optimal_f", "keep": "hard", "f": float(fo),
                  "theta": th, "alpha_tot": float(at), "n": math.inf, "x": float(at),
                  "y": float(fo), "yerr": math.nan} for fo, at in zip(of.f_opt, of.alpha_tot)]
    rows += _theory_rows(_th.curve(ap, f=1.0, **pl), "c", series="unpruned")
    rows += _kept_band_sketch(theta)
    notes = _agreement(sims, cfg)
    notes["theta"] = theta
    notes.update(_frontier_laws(fronts))
    return FigureData("imperfect_metric", rows, notes)


def _frontier_laws(fronts):
    """Fitted laws of the continuous frontiers at their largest ``alpha_prune`` (the last
    quarter of the grid): ``eps ~ c(theta) / alpha_prune`` with ``c / theta`` (theta in
    radians), ``f_opt ~ alpha_prune^-q`` and, across probe angles, ``f_opt ~ theta^p``.
    """
    notes = {}
    tilted = [th for th in fronts if th > 0]
    for th in tilted:
        of = fronts[th]
        tail = slice(3 * of.alpha_prune.size // 4, None)
        la, lf = np.log(of.alpha_prune[tail]), np.log(of.f_opt[tail])
        notes[f"q_theta{th:g}"] = float(-np.polyfit(la, lf, 1)[0])
        notes[f"c_over_theta{th:g}"] = float(of.eps[-1] * of.alpha_prune[-1] / math.radians(th))
    f_end = np.array([fronts[th].f_opt[-1] for th in tilted])
    notes["p_theta"] = float(np.polyfit(np.log(tilted), np.log(f_end), 1)[0])
    return notes


def compute_scaling(cfg=FigureConfig(), *, runner=None):
    """Unpruned error and keep-hard Pareto frontiers (for several smallest allowed ``f``) with
    power-law and exponential fits.

    The frontier depends on the smallest ``f`` allowed (theory.md): it follows the unpruned
    curve, drops steeply where pruning starts to pay, then rejoins a power law with prefactor
    ``~ f_min``. The fits are made on the steepest frontier (``f_min = 1e-3``) over its drop,
    the range where its local exponent exceeds 2.
    """
    pl = _plugins(cfg)
    ap = np.geomspace(1.0, 200.0, max(60, cfg.n_theory))
    unpruned = _th.curve(ap, f=1.0, **pl)
    rows = _theory_rows(unpruned, "a", series="unpruned")
    fronts = {}
    for f_min in (0.1, 0.01, 0.001):
        f_grid = np.geomspace(f_min, 1.0, 12 if cfg.quick else 24)
        pf = _fr.pareto_frontier(ap, f_grid, keep="hard", **pl)
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
    notes = {"unpruned_nu": pw.rate, "unpruned_r2": pw.r2, "frontier_max_local_nu": nu_loc.max(),
             "frontier_c": ex.rate, "frontier_exp_rms": ex.rms_log_residual,
             "frontier_power_rms": pwf.rms_log_residual, "fit_alpha_min": lo, "fit_alpha_max": hi}
    notes = {k: float(v) for k, v in notes.items()}
    return FigureData("scaling", rows, notes)


# ----------------------------------------------------------------------------- plot


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _panels(plt, axes, n, figsize):
    """The caller's ``n`` axes and their figure, or a new figure with ``n`` panels in a row
    (``n = 4`` or 6: a grid of two columns). Call inside the style context.
    """
    if axes is None:
        fig = plt.figure(figsize=figsize)
        if n == 1:
            return fig, [fig.add_subplot(111)]
        grid = fig.subplots(n // 2, 2) if n in (4, 6) else fig.subplots(1, n)
        return fig, list(np.ravel(grid))
    axs = _axes_list(axes, n)
    return axs[0].figure, axs


def _axes_list(axes, n):
    """``axes`` (one Axes, or any nested sequence or array of them) as a list of ``n`` Axes."""
    axs = list(np.ravel(np.array(axes, dtype=object)))
    if len(axs) != n:
        raise ValueError(f"this figure draws {n} panel(s); got {len(axs)} axes")
    return axs


def _xy(rows):
    return [r["x"] for r in rows], [r["y"] for r in rows]


def _fcolor(f, fs):
    import matplotlib

    fs = sorted(fs)
    k = fs.index(f) if f in fs else 0
    return matplotlib.colormaps["viridis"](k / max(1, len(fs) - 1) * 0.9)


def _plot_curves(ax, data, panel, f_list):
    for f in f_list:
        col = _fcolor(f, list(f_list))
        th = data.select(panel=panel, series="theory", f=f)
        if th:
            ax.plot(*_xy(th), color=col, lw=1.4, label=f"f = {f:g}")
        sm = data.select(panel=panel, series="simulation", f=f)
        if sm:
            ax.errorbar(*_xy(sm), yerr=[r["yerr"] for r in sm], fmt="o", ms=3.5, color=col,
                        capsize=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha_{\mathrm{prune}} = P / N$")
    ax.set_ylabel(r"test error $\varepsilon$")


def plot_learning_curves(data, *, ax=None):
    """Draw :func:`compute_keep_hard` / :func:`compute_keep_easy` data.

    Parameters
    ----------
    data : FigureData
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``, or the new one.
    """
    plt = _pyplot()
    with plt.style.context(STYLE_PATH):
        fig, (ax,) = _panels(plt, None if ax is None else [ax], 1, (5.6, 4.4))
        _plot_curves(ax, data, "a", F_PAPER)
        ax.plot(*_xy(data.select(panel="a", series="frontier")), "k--", lw=1.6,
                label="Pareto frontier")
        ref = data.select(panel="a", series="reference")
        if ref:
            ax.plot(*_xy(ref), ":", color="0.4", lw=1.2, label=r"unpruned $0.50/\alpha$")
        keep = data.name.split("_")[1]
        ax.set_title(f"keep {keep} examples, perfect metric")
        ax.set_ylim(bottom=max(1e-4, min(r["y"] for r in data.rows if r["y"] > 0) * 0.8),
                    top=0.6)
        ax.set_xlim(0.05, 40)
        ax.legend(fontsize=7, ncol=2, loc="lower left")
        n = sorted({r["n"] for r in data.select(series="simulation")})
        ax.text(0.98, 0.98, "lines: theory; points: simulation\n"
                f"N = {', '.join(str(v) for v in n) or None}, mean $\\pm$ s.e.m.",
                transform=ax.transAxes, ha="right", va="top", fontsize=7)
    return fig


def plot_easy_vs_hard(data, *, axes=None):
    """Draw :func:`compute_easy_vs_hard` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Axes for panels (a) and (b) (the colour bar takes room from (b)); a new figure by
        default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    with plt.style.context(STYLE_PATH):
        fig, (ax1, ax2) = _panels(plt, axes, 2, (10, 4.2))
        ats = sorted({r["alpha_tot"] for r in data.select(panel="a", series="theory")})
        for i, at in enumerate(ats):
            col = plt.get_cmap("viridis")(i / max(1, len(ats) - 1) * 0.85)
            for keep, ls, mk in (("hard", "-", "o"), ("easy", "--", "s")):
                th = data.select(panel="a", series="theory", keep=keep, alpha_tot=at)
                ax1.plot(*_xy(th), ls, color=col,
                         label=rf"$\alpha_{{tot}}$ = {at:g}, keep {keep}")
                sm = data.select(panel="a", series="simulation", keep=keep, alpha_tot=at)
                ax1.errorbar(*_xy(sm), yerr=[r["yerr"] for r in sm], fmt=mk, ms=3.5,
                             color=col, capsize=2, mfc="none" if keep == "easy" else col)
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
        ax2.plot(*_xy(data.select(panel="b", series="optimal_f")), "o-", color="gold", mec="k",
                 label="optimal $f$ (keep easy)")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel(r"$\alpha_{tot}$")
        ax2.set_ylabel("fraction kept $f$")
        ax2.set_title("(b) blue: keep easy wins; red: keep hard wins")
        ax2.legend(fontsize=7, loc="lower left")
    return fig


def _plot_kept_band(a, data):
    smp = data.select(panel="a", series="sample")
    par = smp[0]
    groups = ((lambda r: not r["kept"], {"s": 4, "c": "0.8"}),
              (lambda r: r["kept"] and r["label"] > 0, {"s": 6, "c": "tab:red",
                                                        "label": "kept, y = +1"}),
              (lambda r: r["kept"] and r["label"] < 0, {"s": 6, "c": "tab:blue",
                                                        "label": "kept, y = -1"}))
    for pick, kw in groups:
        a.scatter(*_xy([r for r in smp if pick(r)]), **kw)
    a.plot(*_xy(data.select(panel="a", series="teacher_boundary")), "k-", lw=1.5,
           label="teacher boundary")
    a.plot(*_xy(data.select(panel="a", series="probe_boundary")), "k--", lw=1.2,
           label="probe boundary")
    for side in (-1, 1):
        a.plot(*_xy(data.select(panel="a", series="band_edge", side=side)), ":", color="0.3",
               lw=1)
    unit = {r["vector"]: np.array([r["x"], r["y"]])
            for r in data.select(panel="a", series="direction")}
    for name, ls in (("teacher", "-"), ("probe", "--")):
        a.annotate("", xy=unit[name] * 1.6, xytext=(0, 0),
                   arrowprops=dict(arrowstyle="->", lw=1.5, ls=ls))
    a.text(*(unit["teacher"] * 1.7), "T", ha="center")
    a.text(*(unit["probe"] * 1.75), r"$J_{probe}$", ha="center")
    a.set_aspect("equal")
    a.set_xlim(-3, 3)
    a.set_ylim(-3, 3)
    a.set_title(rf"(a) keep hard, probe at $\theta$ = {par['theta']:.0f}$^\circ$, "
                f"f = {par['f']:g}")
    a.legend(fontsize=6.5, loc="lower left")


def plot_imperfect_metric(data, *, axes=None):
    """Draw :func:`compute_imperfect_metric` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 4 matplotlib.axes.Axes, optional
        Axes for panels (a) to (d) (any shape, read in row-major order); a new 2 x 2 figure by
        default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    with plt.style.context(STYLE_PATH):
        fig, (a, b, c, d) = _panels(plt, axes, 4, (10, 8))
        theta = data.notes.get("theta", 10.0)
        _plot_kept_band(a, data)
        _plot_curves(b, data, "b", F_IMPERFECT)
        b.set_title(rf"(b) keep hard, $\theta$ = {theta:g}$^\circ$")
        b.legend(fontsize=6.5, ncol=2, loc="lower left")
        c.plot(*_xy(data.select(panel="c", series="unpruned")), "k:", lw=1.5, label="unpruned")
        for i, t_ in enumerate(THETAS):
            col = plt.get_cmap("plasma")(i / len(THETAS))
            c.plot(*_xy(data.select(panel="c", series="frontier", theta=t_)), color=col,
                   label=rf"$\theta$ = {t_:g}$^\circ$")
            d.plot(*_xy(data.select(panel="d", series="optimal_f", theta=t_)), "o-", ms=2.5,
                   color=col, label=rf"$\theta$ = {t_:g}$^\circ$")
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


def plot_scaling(data, *, axes=None):
    """Draw :func:`compute_scaling` data: the same lines on log-log and semi-log axes.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 2 matplotlib.axes.Axes, optional
        The log-log and the semi-log axes; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    with plt.style.context(STYLE_PATH):
        fig, (ax1, ax2) = _panels(plt, axes, 2, (10, 4.2))
        un = data.select(series="unpruned")
        n = data.notes
        fmins = sorted({r["f_min"] for r in data.select(series="frontier")}, reverse=True)
        for ax in (ax1, ax2):
            ax.plot(*_xy(un), "k-",
                    label=rf"unpruned: power law, $\nu$ = {n['unpruned_nu']:.2f}")
            for i, fm in enumerate(fmins):
                ax.plot(*_xy(data.select(series="frontier", f_min=fm)), "--",
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
                 + rf"$\alpha_{{prune}}$ = {n['fit_alpha_min']:.1f}-{n['fit_alpha_max']:.1f};"
                 + "\n"
                 + rf"an exponential fit there misses by {n['frontier_exp_rms']:.2f} "
                 + r"in $\ln\varepsilon$:"
                 + "\nthe drop is steeper still)", transform=ax2.transAxes, ha="right",
                 va="top", fontsize=7.5)
    return fig


# ----------------------------------------------------------------------------- finite size

FS_POINTS = (
    ("unpruned", "a", {"alpha_tot": 2.0, "f": 1.0, "keep": "hard", "theta": 0.0}),
    ("keep_hard", "b", {"alpha_tot": 10.0, "f": 0.2, "keep": "hard", "theta": 0.0}),
    ("keep_easy", "c", {"alpha_tot": 10.0, "f": 0.2, "keep": "easy", "theta": 10.0}),
)
FS_N_QUICK = (50, 100, 200, 400)


def compute_finite_size(cfg=FigureConfig(), *, runner=None):
    """Finite-size study of three points (:func:`~perceptron_pruning.finite_size.studies`):
    unpruned at ``alpha = 2`` (a), keep hard ``f = 0.2`` at ``alpha_tot = 10``, the steep part
    of its curve (b), keep easy ``f = 0.2`` with a probe at 10 degrees, ``alpha_tot = 10`` (c).

    ``x = 1 / N``: ``N = 100 ... 3200`` (quick: 50 ... 400), ``cfg.replicates`` seeds at the
    largest ``N`` and ``~N^-1.5`` more below
    (:func:`~perceptron_pruning.finite_size.default_seeds`); ``cfg.n`` is not used.
    Rows: ``simulation`` (mean +- s.e.m. per ``N``), ``fit`` (``eps_inf + a N^-b``),
    ``theory`` (the ``N -> infinity`` value, a horizontal line) and ``extrapolation``
    (``eps_inf +- se`` at ``x = 0``, with ``b``, ``gap = eps_inf - theory`` and ``gap_se``).
    """
    runner = runner or _Runner()
    n_values = FS_N_QUICK if cfg.quick else _fs.N_VALUES
    seeds = _fs.default_seeds(n_values, largest=max(2, cfg.replicates))
    res = _fs.studies([p for *_, p in FS_POINTS], n_values=n_values, seeds=seeds,
                      seed=cfg.seed, executor=getattr(runner, "executor", None),
                      cache_dir=getattr(runner, "cache_dir", None),
                      progress=getattr(runner, "progress", None), **_plugins(cfg))
    rows, notes = [], {}
    x_max = 1.05 / min(n_values)
    for (label, panel, p), st in zip(FS_POINTS, res):
        par = {"point": label, **p}
        rows += [{"panel": panel, "series": "simulation", "n": int(n), "seeds": int(s),
                  "x": 1.0 / n, "y": float(e), "yerr": float(se), **par}
                 for n, s, e, se in zip(st.n, st.seeds, st.eps_mean, st.eps_sem)]
        xs = np.linspace(0.0, x_max, 80)
        ft = st.fit
        rows += [{"panel": panel, "series": "fit", "n": 1.0 / x if x > 0 else math.inf,
                  "x": float(x), "y": float(ft.eps_inf + ft.a * x**ft.b), "yerr": math.nan,
                  **par} for x in xs]
        rows += _line_rows(panel, "theory", [0.0, x_max], [st.eps_theory] * 2, n=math.inf,
                           **par)
        summ = {k: v for k, v in st.summary().items() if k not in p}
        rows.append({"panel": panel, "series": "extrapolation", "n": math.inf, "x": 0.0,
                     "y": ft.eps_inf, "yerr": ft.eps_inf_se, "reason": ft.reason, **par,
                     **summ})
        notes.update({f"{label}_gap": st.gap, f"{label}_gap_se": st.gap_se,
                      f"{label}_b": ft.b, f"{label}_b_fitted": ft.b_fitted})
    return FigureData("finite_size", rows, notes)


def plot_finite_size(data, *, axes=None):
    """Draw :func:`compute_finite_size` data: ``eps`` against ``1 / N``, one panel per point.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 3 matplotlib.axes.Axes, optional
        One per point; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    titles = {"unpruned": r"(a) unpruned, $\alpha$ = {alpha_tot:g}",
              "keep_hard": r"(b) keep hard, $f$ = {f:g}, $\alpha_{{tot}}$ = {alpha_tot:g}",
              "keep_easy": r"(c) keep easy, $f$ = {f:g}, $\theta$ = {theta:g}$^\circ$, "
                           r"$\alpha_{{tot}}$ = {alpha_tot:g}"}
    with plt.style.context(STYLE_PATH):
        fig, axs = _panels(plt, axes, 3, (12, 3.9))
        for ax, (label, panel, p) in zip(axs, FS_POINTS):
            sm = data.select(panel=panel, series="simulation")
            ax.plot(*_xy(data.select(panel=panel, series="theory")), "k--", lw=1.2,
                    label=r"theory ($N \to \infty$)")
            ax.plot(*_xy(data.select(panel=panel, series="fit")), "-", color="tab:blue",
                    lw=1.2, label=r"fit $\varepsilon_\infty + a N^{-b}$")
            ax.errorbar(*_xy(sm), yerr=[r["yerr"] for r in sm], fmt="o", ms=4,
                        color="tab:blue", capsize=2, label="simulation, mean $\\pm$ s.e.m.")
            (ex,) = data.select(panel=panel, series="extrapolation")
            ax.errorbar([ex["x"]], [ex["y"]], yerr=[ex["yerr"]], fmt="D", ms=5,
                        color="tab:red", capsize=3, label=r"extrapolation $\varepsilon_\infty$")
            for r in sm:
                ax.annotate(f"{r['n']}", (r["x"], r["y"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=6.5, color="0.35")
            b_txt = (rf"$b$ = {ex['b']:.2f} $\pm$ {ex['b_se']:.2f}" if ex["b_fitted"]
                     else rf"$b$ = {ex['b']:g} (fixed: b not determined)")
            ax.text(0.97, 0.03, rf"$\varepsilon_\infty - \varepsilon_{{theory}}$ = "
                    rf"{ex['gap']:+.4f} $\pm$ {ex['gap_se']:.4f}" + "\n" + b_txt
                    + rf", $\chi^2$/dof = {ex['chi2']:.1f}/{ex['dof']}",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
            x_hi = max(r["x"] for r in data.select(panel=panel, series="theory"))
            ax.set_xlim(-0.04 * x_hi, 1.1 * x_hi)
            ax.set_xlabel(r"$1 / N$")
            ax.set_ylabel(r"test error $\varepsilon$")
            ax.set_title(titles[label].format(**p), fontsize=9)
        axs[0].legend(fontsize=6.5, loc="upper left")
    return fig


# ----------------------------------------------------------------------------- learners, noise

LAM = 1e-2  # ridge penalty of svm, logistic and ridge in the learners and label_noise figures
LEARNER_SET = (("max-margin", {}), ("svm", {"lam": LAM}), ("logistic", {"lam": LAM}),
               ("ridge", {"lam": LAM}), ("hebb", {}))
LEARNER_COLORS = {"max-margin": "k", "svm": "tab:blue", "logistic": "tab:green",
                  "ridge": "tab:red", "hebb": "tab:purple"}
RULE_COLORS = {"hard": "tab:red", "easy": "tab:blue", "random": "0.45"}
ALPHA_TOT_LEARNERS = 8.0  # learners (b): eps(f) at this alpha_tot
PHASE_ALPHA_TOT = (0.5, 32.0)  # learners (c, d): the alpha_tot range of the (alpha_tot, f) map
WIN_RTOL = 1e-3  # pruning "wins" where eps(f) < eps(1) (1 - WIN_RTOL)
AP_MAX_LEARNERS = 30.0  # learners (a): largest alpha_prune
F_LINE_MIN = 0.05  # smallest f of the eps(f) lines and of the phase diagrams
FLIP = 0.2  # label_noise: uniform flip probability
TEACHER_NOISE = 0.3  # label_noise (b, d): teacher-field noise, no flips
ALPHA_TOT_NOISE = 8.0  # label_noise (b-d): eps(f) and mislabelled fraction at this alpha_tot
AP_MAX_NOISE = 30.0  # label_noise (a): largest alpha_prune
_LEARNER_NAMES = {"max-margin": "max-margin", "svm": "SVM (hinge)", "logistic": "logistic",
                  "ridge": "ridge", "hebb": "Hebb"}


def _lpar(learner):
    """A learner's columns: its name and ``lam`` (NaN without one)."""
    return {"learner": learner.name, "lam": float(getattr(learner, "lam", math.nan))}


def _learner_label(name, lam):
    base = _LEARNER_NAMES.get(name, name)
    return base if math.isnan(lam) else base + rf", $\lambda$ = {lam:g}"


def _sim_row(p, panel, theory_value, *, q="eps", x="alpha_prune", **extra):
    """A simulation point: ``q``'s mean +- s.e.m. and the theory at the same parameters."""
    lam = p.get("lam")
    return {"panel": panel, "series": "simulation", "keep": p["keep"], "f": p["f"],
            "theta": p["theta"], "alpha_tot": p["alpha_tot"], "n": p["n"],
            "learner": p["learner"], "lam": math.nan if lam is None else float(lam),
            "flip": p["flip"], "teacher_noise": p["teacher_noise"], "quantity": q,
            "x": float(p[x]), "y": p[f"{q}_mean"], "yerr": p[f"{q}_sem"],
            "theory": float(theory_value), **extra}


def _frontier_rows(pf, panel, series, par):
    return [{"panel": panel, "series": series, "keep": pf.keep, "f": float(fb),
             "theta": pf.theta, "alpha_tot": float(a / fb), "n": math.inf, "x": float(a),
             "y": float(e), "yerr": math.nan, **par}
            for a, e, fb in zip(pf.alpha_prune, pf.eps, pf.f_best)]


def _curve_rows(ap, eps, panel, series, par, *, f=1.0, keep="hard"):
    return [{"panel": panel, "series": series, "keep": keep, "f": f, "theta": 0.0,
             "alpha_tot": float(a / f), "n": math.inf, "x": float(a), "y": float(e),
             "yerr": math.nan, **par} for a, e in zip(ap, eps)]


def _phase_rows(at, fs, eps, eps1, panel, par, *, contours=True):
    """Map, boundary and region rows of one learner and rule on the ``(alpha_tot, f)`` grid.

    ``eps`` has shape ``(F, A)``. With ``contours``, ``boundary`` rows are the iso-line
    ``eps / eps(1) - 1 = -WIN_RTOL`` (one ``segment`` per connected piece) and ``region`` rows
    the polygons where pruning wins (``polygon``, with matplotlib path ``code`` per vertex),
    both computed by contourpy in ``(log10 alpha_tot, log10 f)``, so that the lines are straight
    on the log-log axes they are drawn on.
    """
    from contourpy import FillType, LineType, contour_generator

    z = eps / eps1[None, :] - 1.0
    rows = [{"panel": panel, "series": "map", "f": float(f), "theta": 0.0,
             "alpha_tot": float(a), "n": math.inf, "x": float(a), "y": float(f),
             "yerr": math.nan, "eps": float(e), "eps_unpruned": float(e1),
             "ratio": float(e / e1), "wins": bool(zz < -WIN_RTOL), **par}
            for f, erow, zrow in zip(fs, eps, z)
            for a, e, e1, zz in zip(at, erow, eps1, zrow)]
    if not contours or not (z < -WIN_RTOL).any():
        return rows
    cg = contour_generator(x=np.log10(at), y=np.log10(fs), z=z, name="serial",
                           line_type=LineType.Separate, fill_type=FillType.OuterCode)
    for j, seg in enumerate(cg.lines(-WIN_RTOL)):
        rows += _line_rows(panel, "boundary", 10.0 ** seg[:, 0], 10.0 ** seg[:, 1], segment=j,
                           **par)
    points, codes = cg.filled(float(z.min()) - 1.0, -WIN_RTOL)
    for j, (pts, cds) in enumerate(zip(points, codes)):
        rows += [{"panel": panel, "series": "region", "x": float(10.0 ** px),
                  "y": float(10.0 ** py), "yerr": math.nan, "polygon": j, "code": int(c), **par}
                 for (px, py), c in zip(pts, cds)]
    return rows


def _gap_notes(rows, prefix="", relative=True):
    """Simulation rows against their ``theory`` column: median and max gap (relative to the
    theory, or absolute with ``relative=False``) and the median and max gap in standard errors.
    """
    sims = [r for r in rows if r["series"] == "simulation"]
    if not sims:
        return {}
    y = np.array([r["y"] for r in sims])
    th = np.array([r["theory"] for r in sims])
    se = np.array([r["yerr"] for r in sims])
    gap = np.abs(y - th) / (np.abs(th) if relative else 1.0)
    kind = "rel" if relative else "abs"
    z = np.abs(y - th)[se > 0] / se[se > 0]
    return {f"{prefix}points": len(sims), f"{prefix}median_{kind}_gap": float(np.median(gap)),
            f"{prefix}max_{kind}_gap": float(np.max(gap)),
            f"{prefix}median_gap_in_sem": float(np.median(z)) if z.size else math.nan,
            f"{prefix}max_gap_in_sem": float(z.max()) if z.size else math.nan}


def _grid_with(grid, points):
    """``grid`` (ending at its largest value) with ``points`` added: sorted, no duplicates."""
    return np.union1d(np.asarray(grid[:-1], dtype=float), [*points, float(grid[-1])])


def _best_f(cfg, alpha_tot, fs, eps, eps1, keep, pl):
    """Best ``f`` at fixed ``alpha_tot`` and its ``eps``: the grid's minimum, refined with
    :func:`~perceptron_pruning.frontier.optimal_f` (bracketed by the grid) where pruning wins
    on the grid, except in the quick preset.
    """
    i = int(np.argmin(eps))
    f_opt, e_opt = float(fs[i]), float(eps[i])
    if not cfg.quick and e_opt < eps1 * (1.0 - WIN_RTOL):
        o = _fr.optimal_f(alpha_tot, keep=keep, f_min=float(fs[max(i - 1, 0)]), n_grid=5, **pl)
        if o.eps < e_opt:
            f_opt, e_opt = o.f, o.eps
    return f_opt, e_opt


def compute_learners(cfg=FigureConfig(), *, runner=None):
    """When does less data beat more, learner by learner (clean labels, perfect metric).

    Learners: max-margin, ``svm``, ``logistic`` and ``ridge`` at ``lam = LAM`` (0.01), and
    ``hebb`` (``cfg.learner`` is not used; ``cfg.metric`` is). Panels:

    - (a) keep-hard Pareto frontier (min over ``f`` in ``F_PAPER``, every other one in the
      quick preset, of ``eps`` at fixed ``alpha_prune``; series ``frontier``) and the unpruned
      curve (``unpruned``) per learner, with simulations at the frontier's ``f``;
    - (b) ``eps(f)`` at ``alpha_tot = 8`` for keep hard and keep easy (``theory``), the
      unpruned ``eps(1)`` (``unpruned``, a horizontal line) and the best ``f`` of each rule where
      it beats ``eps(1)`` (``optimum``), with simulations (``f = 1``, the same for both rules,
      simulated once as keep hard);
    - (c) where keep hard beats keeping every example at the same ``alpha_tot``: the ``map``
      of ``eps(f) / eps(1)`` on a grid of ``(alpha_tot, f)`` (one theory curve along
      ``alpha_tot`` per ``f``; panel b is its ``alpha_tot = 8`` column), the ``boundary`` line
      and the winning ``region`` (``eps(f) < eps(1) (1 - WIN_RTOL)``, ``WIN_RTOL = 1e-3``);
    - (d) the best gain from pruning, ``eps(1) / min_f eps(f)`` over the map's ``f``, against
      ``alpha_tot`` for keep hard and keep easy (``gain``, with the minimising ``f``; the keep
      easy ``map`` rows sit in panel d), and the no-gain level 1 (``reference``).

    ``notes``: per learner and rule, ``<learner>_<rule>_gain`` (``eps(1) / eps(f_opt)`` at
    ``alpha_tot = 8``; the grid's best ``f`` in the quick preset, refined by
    :func:`~perceptron_pruning.frontier.optimal_f` otherwise), ``<learner>_<rule>_f_opt`` and
    ``<learner>_<rule>_wins_from_alpha`` (smallest ``alpha_tot`` of the map where the rule wins;
    NaN if it never does), ``<learner>_<rule>_max_gain`` and ``_max_gain_alpha`` (the largest
    gain of panel d and where), and the simulation-vs-theory gaps of ``eps``.
    """
    runner = runner or _Runner()
    metric = cfg.metric
    learners = [get_learner(name, **opts) for name, opts in LEARNER_SET]
    rows, notes = [], {}
    at_b = ALPHA_TOT_LEARNERS
    ap_sim = (2.0, 8.0) if cfg.quick else (1.0, 2.0, 4.0, 8.0)
    f_sim = (0.2, 0.5, 1.0) if cfg.quick else (0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
    f_front = F_PAPER[::2] if cfg.quick else F_PAPER
    ap = _grid_with(np.geomspace(0.5, AP_MAX_LEARNERS, max(10, cfg.n_theory // 3)), ap_sim)
    at_map = _grid_with(np.geomspace(*PHASE_ALPHA_TOT, 8 if cfg.quick else 32), [at_b])
    f_map = _grid_with(np.geomspace(F_LINE_MIN, 1.0, 7 if cfg.quick else 24), f_sim)
    kb = int(np.flatnonzero(at_map == at_b)[0])
    grids_a, grids_b, th_sim = [], [], {}
    for L in learners:
        par = _lpar(L)
        key = L.name.replace("-", "_")
        pl = {"learner": L, "metric": metric}
        # (a) frontier, and the unpruned curve (its f = 1 member).
        pf = _fr.pareto_frontier(ap, f_front, keep="hard", **pl)
        rows += _frontier_rows(pf, "a", "frontier", par)
        rows += _curve_rows(ap, pf.eps_by_f[f_front.index(1.0)], "a", "unpruned", par)
        for a in ap_sim:
            k = int(np.flatnonzero(ap == a)[0])
            i = f_front.index(float(pf.f_best[k]))
            grids_a.append({"alpha_tot": a / f_front[i], "f": f_front[i], "keep": "hard", **pl})
            th_sim[(L.name, a / f_front[i], f_front[i], "hard")] = float(pf.eps_by_f[i, k])
        # (c, d) phase diagrams, one curve along alpha_tot per f; (b) is their alpha_tot = 8.
        e1 = _th.curve(alpha_tot=at_map, f=1.0, **pl).eps
        eps1 = float(e1[kb])
        rows += _line_rows("b", "unpruned", [f_map[0], 1.0], [eps1, eps1], keep="all",
                           alpha_tot=at_b, n=math.inf, **par)
        for panel, keep in (("c", "hard"), ("d", "easy")):
            eps = np.vstack([_th.curve(alpha_tot=at_map, f=float(f), keep=keep, **pl).eps
                             for f in f_map[:-1]] + [e1])
            rows += _phase_rows(at_map, f_map, eps, e1, panel, {"keep": keep, **par},
                                contours=keep == "hard")
            ib = np.argmin(eps, axis=0)
            gain = e1 / eps[ib, np.arange(at_map.size)]
            rows += [{"panel": "d", "series": "gain", "keep": keep, "f": float(f_map[i]),
                      "theta": 0.0, "alpha_tot": float(a), "n": math.inf, "x": float(a),
                      "y": float(g), "yerr": math.nan, **par}
                     for a, g, i in zip(at_map, gain, ib)]
            km = int(np.argmax(gain))
            notes[f"{key}_{keep}_max_gain"] = float(gain[km])
            notes[f"{key}_{keep}_max_gain_alpha"] = float(at_map[km])
            wins = (eps / e1[None, :] - 1.0 < -WIN_RTOL).any(axis=0)
            notes[f"{key}_{keep}_wins_from_alpha"] = (float(at_map[wins].min()) if wins.any()
                                                      else math.nan)
            col = eps[:, kb]
            rows += [{"panel": "b", "series": "theory", "keep": keep, "f": float(f),
                      "theta": 0.0, "alpha_tot": at_b, "n": math.inf, "x": float(f),
                      "y": float(e), "yerr": math.nan, **par} for f, e in zip(f_map, col)]
            th_sim.update({(L.name, at_b, float(f), keep): float(e) for f, e in zip(f_map, col)})
            f_opt, e_opt = _best_f(cfg, at_b, f_map, col, eps1, keep, pl)
            notes[f"{key}_{keep}_gain"] = eps1 / e_opt
            notes[f"{key}_{keep}_f_opt"] = f_opt
            if e_opt < eps1 * (1.0 - WIN_RTOL):
                rows.append({"panel": "b", "series": "optimum", "keep": keep, "f": f_opt,
                             "theta": 0.0, "alpha_tot": at_b, "n": math.inf, "x": f_opt,
                             "y": e_opt, "yerr": math.nan, "gain": eps1 / e_opt, **par})
        # f = 1 keeps every example whatever the rule: simulated once (as keep hard).
        grids_b += [{"alpha_tot": at_b, "f": f_sim[:-1], "keep": ("hard", "easy"), **pl},
                    {"alpha_tot": at_b, "f": 1.0, "keep": "hard", **pl}]
    rows += _line_rows("d", "reference", [at_map[0], at_map[-1]], [1.0, 1.0])
    for panel, grids, x in (("a", grids_a, "alpha_prune"), ("b", grids_b, "f")):
        for p in runner.simulate_points(cfg, f"learners ({panel})", grids):
            t = th_sim[(p["learner"], p["alpha_tot"], p["f"], p["keep"])]
            rows.append(_sim_row(p, panel, t, x=x))
    notes.update({"alpha_tot_b": at_b, "lam": LAM, "n": cfg.n, **_gap_notes(rows)})
    return FigureData("learners", rows, notes)


def _noise_learner(cfg):
    """``cfg.learner``, unless it is max-margin (undefined beyond the capacity with flips):
    then ``svm`` at ``lam = LAM``.
    """
    L = get_learner(cfg.learner)
    return get_learner("svm", lam=LAM) if L.name == "max-margin" else L


def compute_label_noise(cfg=FigureConfig(), *, runner=None):
    """Label noise and pruning: ``flip = 0.2`` uniform flips (and, in b and d,
    ``teacher_noise = 0.3`` without flips) with a regularised learner: ``cfg.learner``, or
    ``svm`` at ``lam = 0.01`` when ``cfg.learner`` is max-margin (which has no solution once the
    noisy kept data stop being separable). ``eps`` is the error against the clean rule.

    - (a) Pareto frontiers (over ``F_PAPER``, every other one in the quick preset) at fixed
      ``alpha_prune`` under flips for keep hard and keep easy (``frontier``), keep random
      (``random``: the ``f = 1`` curve, since random pruning leaves the law unchanged) and the
      clean-label keep-hard frontier (``clean_frontier``), with simulations (hard and easy at
      the frontier's ``f``, random at ``f = 0.5``);
    - (b) fraction of kept examples whose label disagrees with the teacher
      (``frac_mislabelled_kept``) against ``f`` for the three rules, flips (``noise = "flip"``)
      and teacher noise (``noise = "teacher"``);
    - (c, d) ``eps`` against ``f`` at ``alpha_tot = 8`` for the three rules, with flips (c) and
      with teacher noise (d), the clean-label keep-hard line (``clean``) and the noisy
      unpruned level (``unpruned``). ``f = 1`` keeps every example whatever the rule: it is
      simulated once, as keep hard.

    ``notes``: ``<noise>_<rule>_gain`` and ``_f_opt`` at ``alpha_tot = 8`` (as in
    :func:`compute_learners`), ``teacher_<rule>_frac_mislabelled`` at ``f = 0.05``, the
    frontiers' ratios at ``alpha_prune ~ 10`` and the simulation-vs-theory gaps of ``eps``
    (``eps_``, relative) and of the mislabelled fraction (``frac_``, absolute).
    """
    runner = runner or _Runner()
    metric = cfg.metric
    L = _noise_learner(cfg)
    par = _lpar(L)
    pl = {"learner": L, "metric": metric}
    noises = {"flip": {"flip": FLIP, "teacher_noise": 0.0},
              "teacher": {"flip": 0.0, "teacher_noise": TEACHER_NOISE}}
    fl = noises["flip"]
    rows, notes, th_sim = [], {}, {}
    at = ALPHA_TOT_NOISE
    ap_sim = (2.0, 8.0) if cfg.quick else (1.0, 2.0, 4.0, 8.0)
    f_sim = (0.2, 0.5, 1.0) if cfg.quick else (0.1, 0.2, 0.35, 0.6, 1.0)
    f_front = F_PAPER[::2] if cfg.quick else F_PAPER
    ap = _grid_with(np.geomspace(0.5, AP_MAX_NOISE, max(14, cfg.n_theory // 3)), ap_sim)
    f_line = _grid_with(np.geomspace(F_LINE_MIN, 1.0, max(10, cfg.n_theory // 4)), f_sim)
    # (a) frontiers under flips, random pruning, the clean frontier.
    grids_a = []
    fronts = {}
    for keep in ("hard", "easy"):
        pf = fronts[keep] = _fr.pareto_frontier(ap, f_front, keep=keep, **pl, **fl)
        rows += _frontier_rows(pf, "a", "frontier", {**par, **fl, "noise": "flip"})
        for a in ap_sim:
            k = int(np.flatnonzero(ap == a)[0])
            i = f_front.index(float(pf.f_best[k]))
            grids_a.append({"alpha_tot": a / f_front[i], "f": f_front[i], "keep": keep, **pl,
                            **fl})
            th_sim[("a", a / f_front[i], f_front[i], keep, FLIP)] = float(pf.eps_by_f[i, k])
    rnd = _th.curve(ap, f=1.0, **pl, **fl)
    rows += _curve_rows(ap, rnd.eps, "a", "random", {**par, **fl, "noise": "flip"},
                        keep="random")
    grids_a.append({"alpha_tot": [2.0 * a for a in ap_sim], "f": 0.5, "keep": "random", **pl,
                    **fl})
    th_sim.update({("a", 2.0 * a, 0.5, "random", FLIP): float(rnd.eps[ap == a][0])
                   for a in ap_sim})
    clean = _fr.pareto_frontier(ap, f_front, keep="hard", **pl)
    rows += _frontier_rows(clean, "a", "clean_frontier",
                           {**par, "flip": 0.0, "teacher_noise": 0.0})
    k10 = int(np.argmin(np.abs(np.log(ap / 10.0))))
    notes.update({"alpha_prune_ref": float(ap[k10]),
                  "frontier_hard_over_random": float(fronts["hard"].eps[k10] / rnd.eps[k10]),
                  "frontier_easy_over_random": float(fronts["easy"].eps[k10] / rnd.eps[k10]),
                  "frontier_hard_over_clean": float(fronts["hard"].eps[k10] / clean.eps[k10])})
    # (b-d) at fixed alpha_tot: eps and the mislabelled fraction from the same solves; keep
    # random at f is the whole law at alpha_prune = f alpha_tot (one curve).
    grids_cd = []
    for noise, nz in noises.items():
        panel = "c" if noise == "flip" else "d"
        npar = {**par, **nz, "noise": noise}
        eps1 = _th.solve(alpha_tot=at, f=1.0, **pl, **nz).eps
        for keep in ("hard", "easy", "random"):
            if keep == "random":
                c = _th.curve(f_line * at, f=1.0, **pl, **nz)
                vals = {q: c.values[q] for q in ("eps", "frac_mislabelled_kept")}
            else:
                pts = [_th.solve(alpha_tot=at, f=float(f), keep=keep, **pl, **nz)
                       for f in f_line]
                vals = {q: np.array([p.values[q] for p in pts])
                        for q in ("eps", "frac_mislabelled_kept")}
                f_opt, e_opt = _best_f(cfg, at, f_line, vals["eps"], eps1, keep, {**pl, **nz})
                notes[f"{noise}_{keep}_gain"] = eps1 / e_opt
                notes[f"{noise}_{keep}_f_opt"] = f_opt
            for q, pn in (("frac_mislabelled_kept", "b"), ("eps", panel)):
                rows += [{"panel": pn, "series": "theory", "keep": keep, "f": float(f),
                          "theta": 0.0, "alpha_tot": at, "n": math.inf, "quantity": q,
                          "x": float(f), "y": float(v), "yerr": math.nan, **npar}
                         for f, v in zip(f_line, vals[q])]
                th_sim.update({(q, at, float(f), keep, nz["flip"]): float(v)
                               for f, v in zip(f_line, vals[q])})
            if noise == "teacher":
                notes[f"teacher_{keep}_frac_mislabelled"] = float(vals["frac_mislabelled_kept"][0])
        rows += _line_rows(panel, "unpruned", [f_line[0], 1.0], [eps1, eps1], keep="all",
                           alpha_tot=at, n=math.inf, **npar)
        grids_cd += [{"alpha_tot": at, "f": f_sim[:-1], "keep": ("hard", "easy", "random"),
                      **pl, **nz},
                     {"alpha_tot": at, "f": 1.0, "keep": "hard", **pl, **nz}]  # f = 1: once
    ec = _fr.eps_vs_f(at, f_line, keep="hard", **pl)  # clean labels
    for panel in ("c", "d"):
        rows += [{"panel": panel, "series": "clean", "keep": "hard", "f": float(f),
                  "theta": 0.0, "alpha_tot": at, "n": math.inf, "x": float(f), "y": float(e),
                  "yerr": math.nan, "flip": 0.0, "teacher_noise": 0.0, **par}
                 for f, e in zip(f_line, ec)]
    for p in runner.simulate_points(cfg, "label_noise (a)", grids_a):
        t = th_sim[("a", p["alpha_tot"], p["f"], p["keep"], p["flip"])]
        rows.append(_sim_row(p, "a", t, noise="flip"))
    for p in runner.simulate_points(cfg, "label_noise (b-d)", grids_cd):
        noise = "flip" if p["flip"] > 0 else "teacher"
        for q, pn in (("eps", "c" if noise == "flip" else "d"), ("frac_mislabelled_kept", "b")):
            t = th_sim[(q, p["alpha_tot"], p["f"], p["keep"], p["flip"])]
            rows.append(_sim_row(p, pn, t, q=q, x="f", noise=noise))
    notes.update({"learner": str(L), "flip": FLIP, "teacher_noise": TEACHER_NOISE,
                  "alpha_tot_cd": at, "n": cfg.n})
    notes.update(_gap_notes([r for r in rows if r.get("quantity") == "eps"], "eps_"))
    notes.update(_gap_notes([r for r in rows if r.get("quantity") == "frac_mislabelled_kept"],
                            "frac_", relative=False))
    return FigureData("label_noise", rows, notes)


def _errorbar(ax, rows, **kw):
    if rows:
        ax.errorbar(*_xy(rows), yerr=[r["yerr"] for r in rows], ms=3.5, capsize=2, ls="none",
                    **kw)


def _learners_in(data):
    """``(name, lam)`` of the learners in ``data``, in the order of :data:`LEARNER_SET`."""
    seen = {(r["learner"], r["lam"]) for r in data.rows if "learner" in r}
    order = [n for n, _ in LEARNER_SET]
    return sorted(seen, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k))


def _is_learner(r, name, lam):
    return r.get("learner") == name and (r["lam"] == lam or (math.isnan(lam)
                                                             and math.isnan(r["lam"])))


def _plot_phase(ax, data, learners):
    """Panel (c) of the learners figure: winning regions and their boundaries."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    never = []
    for name, lam in learners:
        col = LEARNER_COLORS.get(name, "0.3")
        reg = [r for r in data.select(panel="c", series="region") if _is_learner(r, name, lam)]
        for j in sorted({r["polygon"] for r in reg}):
            poly = [r for r in reg if r["polygon"] == j]
            ax.add_patch(PathPatch(MplPath([(r["x"], r["y"]) for r in poly],
                                           [r["code"] for r in poly]),
                                   facecolor=col, alpha=0.15, lw=0))
        bnd = [r for r in data.select(panel="c", series="boundary") if _is_learner(r, name, lam)]
        segs = sorted({r["segment"] for r in bnd})
        for j in segs:
            ax.plot(*_xy([r for r in bnd if r["segment"] == j]), color=col, lw=1.6,
                    label=_learner_label(name, lam) if j == segs[0] else None)
        if not segs:
            mp = [r for r in data.select(panel="c", series="map") if _is_learner(r, name, lam)
                  and r["f"] < 1.0]
            best = min(r["ratio"] for r in mp)
            never.append(f"{_LEARNER_NAMES.get(name, name)}: {best:.4f}")
    mp = data.select(panel="c", series="map")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(r["x"] for r in mp), max(r["x"] for r in mp))
    ax.set_ylim(min(r["y"] for r in mp), 1.0)
    ax.set_xlabel(r"$\alpha_{tot} = P_{tot} / N$")
    ax.set_ylabel("fraction kept $f$")
    if never:
        ax.text(0.03, 0.03, "never wins with keep hard; best\n"
                r"$\varepsilon(f)/\varepsilon(1)$ over $f < 1$ on this grid:" + "\n"
                + "\n".join(never), transform=ax.transAxes, fontsize=7, va="bottom",
                ha="left", bbox={"facecolor": "white", "alpha": 0.85, "lw": 0})
    if any(not ln.get_label().startswith("_") for ln in ax.get_lines()):
        ax.legend(fontsize=7, loc="upper right")
    ax.set_title(r"(c) where keep hard beats all data at the same $\alpha_{tot}$ (shaded)")


def plot_learners(data, *, axes=None):
    """Draw :func:`compute_learners` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 4 matplotlib.axes.Axes, optional
        Axes for panels (a) to (d) (any shape, read in row-major order); a new 2 x 2 figure by
        default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    plt = _pyplot()
    learners = _learners_in(data)
    at_b = data.notes.get("alpha_tot_b", ALPHA_TOT_LEARNERS)

    def pick(panel, series, name, lam, **match):
        return [r for r in data.select(panel=panel, series=series, **match)
                if _is_learner(r, name, lam)]

    with plt.style.context(STYLE_PATH):
        fig, (a, b, c, d) = _panels(plt, axes, 4, (10.5, 8.4))
        for name, lam in learners:
            col = LEARNER_COLORS.get(name, "0.3")
            lab = _learner_label(name, lam)
            a.plot(*_xy(pick("a", "frontier", name, lam)), "-", color=col, label=lab)
            a.plot(*_xy(pick("a", "unpruned", name, lam)), ":", color=col, lw=1.1)
            _errorbar(a, pick("a", "simulation", name, lam), fmt="o", color=col)
            b.plot(*_xy(pick("b", "unpruned", name, lam)), ":", color=col, lw=1.1)
            for keep, ls, mk, mfc in (("hard", "-", "o", col), ("easy", "--", "s", "white")):
                b.plot(*_xy(pick("b", "theory", name, lam, keep=keep)), ls, color=col)
                _errorbar(b, pick("b", "simulation", name, lam, keep=keep), fmt=mk,
                          color=col, mfc=mfc)
                opt = pick("b", "optimum", name, lam, keep=keep)
                if opt:
                    b.plot(*_xy(opt), "*", ms=10, color=col, mec="k", mew=0.6)
                d.plot(*_xy(pick("d", "gain", name, lam, keep=keep)), ls, color=col,
                       label=lab if keep == "hard" else None)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(r"$\alpha_{\mathrm{prune}} = P / N$ (examples kept)")
        a.set_ylabel(r"test error $\varepsilon$")
        a.set_title("(a) keep-hard Pareto frontier (solid) vs unpruned (dotted)")
        a.legend(fontsize=7, loc="lower left")
        n = sorted({r["n"] for r in data.select(series="simulation")})
        a.text(0.98, 0.98, "lines: theory; points: simulation at the\nfrontier's $f$, "
               f"N = {', '.join(str(v) for v in n) or None}, mean $\\pm$ s.e.m.",
               transform=a.transAxes, ha="right", va="top", fontsize=7)
        b.set_xscale("log")
        b.set_yscale("log")
        b.set_xlabel("fraction kept $f$")
        b.set_ylabel(r"test error $\varepsilon$")
        b.set_title(rf"(b) same data budget $\alpha_{{tot}}$ = {at_b:g}: below dotted, "
                    "less data wins")
        b.legend(handles=[Line2D([], [], color="0.3", ls="-", marker="o", ms=3.5,
                                 label="keep hard"),
                          Line2D([], [], color="0.3", ls="--", marker="s", ms=3.5, mfc="white",
                                 label="keep easy"),
                          Line2D([], [], color="0.3", ls=":",
                                 label=r"all data, $\varepsilon(f=1)$"),
                          Line2D([], [], color="0.3", ls="none", marker="*", ms=9, mec="k",
                                 label="best $f$ where pruning wins")],
                 fontsize=7, loc="lower left")
        _plot_phase(c, data, learners)
        d.plot(*_xy(data.select(panel="d", series="reference")), "-", color="0.6", lw=0.8)
        d.set_xscale("log")
        d.set_xlabel(r"$\alpha_{tot} = P_{tot} / N$")
        d.set_ylabel(r"best gain $\varepsilon(1) / \min_f \varepsilon(f)$")
        d.set_title("(d) best gain from pruning: keep hard (solid), keep easy (dashed)")
        d.legend(fontsize=7, loc="upper left")
    return fig


def plot_label_noise(data, *, axes=None):
    """Draw :func:`compute_label_noise` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 4 matplotlib.axes.Axes, optional
        Axes for panels (a) to (d) (any shape, read in row-major order); a new 2 x 2 figure by
        default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    plt = _pyplot()
    nt = data.notes
    flip, tn = nt.get("flip", FLIP), nt.get("teacher_noise", TEACHER_NOISE)
    at = nt.get("alpha_tot_cd", ALPHA_TOT_NOISE)
    with plt.style.context(STYLE_PATH):
        fig, (a, b, c, d) = _panels(plt, axes, 4, (10.5, 8.4))
        for keep in ("hard", "easy"):
            col = RULE_COLORS[keep]
            a.plot(*_xy(data.select(panel="a", series="frontier", keep=keep)), color=col,
                   label=f"keep {keep}, Pareto frontier")
        a.plot(*_xy(data.select(panel="a", series="random")), color=RULE_COLORS["random"],
               label="keep random (= all data, fewer of them)")
        a.plot(*_xy(data.select(panel="a", series="clean_frontier")), "k:",
               label="keep hard, clean labels")
        for keep, mk in (("hard", "o"), ("easy", "s"), ("random", "^")):
            _errorbar(a, data.select(panel="a", series="simulation", keep=keep), fmt=mk,
                      color=RULE_COLORS[keep])
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(r"$\alpha_{\mathrm{prune}} = P / N$ (examples kept)")
        a.set_ylabel(r"clean-rule error $\varepsilon$")
        a.set_title(rf"(a) flips $\eta$ = {flip:g}: best error per example kept")
        a.legend(fontsize=7, loc="lower left")
        lname = _learner_label(data.rows[0]["learner"], data.rows[0]["lam"])
        n = sorted({r["n"] for r in data.select(series="simulation")})
        a.text(0.98, 0.98, f"learner: {lname}\nlines: theory; points: simulation,\n"
               f"N = {', '.join(str(v) for v in n) or None}, mean $\\pm$ s.e.m.",
               transform=a.transAxes, ha="right", va="top", fontsize=7)
        for keep, mk in (("hard", "o"), ("easy", "s"), ("random", "^")):
            col = RULE_COLORS[keep]
            for noise, ls, mfc in (("flip", "-", col), ("teacher", "--", "white")):
                b.plot(*_xy(data.select(panel="b", series="theory", keep=keep, noise=noise)),
                       ls, color=col, lw=2.2 if noise == "flip" and keep == "hard" else 1.4)
                _errorbar(b, data.select(panel="b", series="simulation", keep=keep,
                                         noise=noise), fmt=mk, color=col, mfc=mfc)
            for ax, panel in ((c, "c"), (d, "d")):
                ax.plot(*_xy(data.select(panel=panel, series="theory", keep=keep)), color=col,
                        label=f"keep {keep}")
                _errorbar(ax, data.select(panel=panel, series="simulation", keep=keep),
                          fmt=mk, color=col)
        b.text(0.03, 0.395, rf"flips (solid, all at $\eta$ = {flip:g}): a flip does not"
               "\ndepend on $x$, so every rule keeps the same\nfraction; teacher noise "
               "(dashed) mislabels\nthe hard examples: keep hard keeps them",
               transform=b.transAxes, fontsize=7, va="top",
               bbox={"facecolor": "white", "alpha": 0.85, "lw": 0})
        b.set_xscale("log")
        b.set_xlabel("fraction kept $f$")
        b.set_ylabel("fraction of kept labels that are wrong")
        b.set_ylim(bottom=0)
        b.set_title(rf"(b) mislabelled examples kept, $\alpha_{{tot}}$ = {at:g}")
        b.legend(handles=[Line2D([], [], color=RULE_COLORS[k], label=f"keep {k}")
                          for k in ("hard", "easy", "random")]
                 + [Line2D([], [], color="0.3", ls="-", label=rf"flips $\eta$ = {flip:g}"),
                    Line2D([], [], color="0.3", ls="--",
                           label=rf"teacher noise $\sigma$ = {tn:g}")],
                 fontsize=7, loc="upper right")
        for ax, panel, title in ((c, "c", rf"(c) flips $\eta$ = {flip:g}"),
                                 (d, "d", rf"(d) teacher noise $\sigma$ = {tn:g}")):
            ax.plot(*_xy(data.select(panel=panel, series="clean")), "k:",
                    label="keep hard, clean labels")
            ax.plot(*_xy(data.select(panel=panel, series="unpruned")), "--", color="0.6",
                    lw=1.0, label=r"all data, $\varepsilon(f=1)$")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("fraction kept $f$")
            ax.set_ylabel(r"clean-rule error $\varepsilon$")
            ax.set_title(title + rf", same data budget $\alpha_{{tot}}$ = {at:g}")
            ax.legend(fontsize=7, loc="lower left")
    return fig


# ----------------------------------------------------------------------------- metrics

METRIC_THETA = 20.0  # metrics (a, b): the fixed probe's angle to the teacher, degrees
F_MIN_METRICS = 0.01  # metrics (a): smallest f of the Pareto frontiers
AP_MAX_METRICS = 50.0  # metrics (a): largest alpha_prune
F_AWARE = 0.5  # metrics (b): the kept fraction (of the eligible examples when label-aware)
LAM_AWARE = 0.1  # metrics (b): ridge penalty of the student under flips
ALPHA_TOT_AWARE = 32.0  # metrics (b): the alpha_tot of the notes' comparisons
LAM_BUDGET = 0.01  # metrics (c, d): ridge penalty of the student
PROBE_ALPHAS = (2.0, 5.0, 10.0)  # metrics (c): fixed probe budgets (examples per dimension)
PROBE_ALPHA_SIM = 5.0  # metrics (c): the probe budget simulated
BUDGET_MAX = 64.0  # metrics (c): largest total label budget
PROBE_LEARNERS = ("max-margin", "hebb")  # metrics (d): learners of the probe (clean labels)
BUDGET_SCAN = {"n_split": 10, "n_grid": 11}  # metrics (c, d): label_budget's scans
BUDGET_SCAN_QUICK = {"n_split": 6, "n_grid": 9}  # the same, quick preset
RANKING_COLORS = {"abs": "tab:blue", "signed": "tab:orange", "noisy": "tab:green",
                  "perfect": "k", "aware": "tab:purple"}


def abs_field_corr(c):
    """Correlation of ``|X|`` and ``|Y|`` for a standard bivariate normal with correlation ``c``:
    ``(sqrt(1 - c^2) + c arcsin(c) - 1) / (pi / 2 - 1)``.
    """
    return (math.sqrt(1.0 - c * c) + c * math.asin(c) - 1.0) / (0.5 * math.pi - 1.0)


def matched_score_noise(theta):
    """Score noise ``sigma_s`` at which the noisy perfect score ``|u| + sigma_s zeta`` has the
    correlation with ``|u|`` that the margin ``|t|`` of a probe at ``theta`` degrees has:
    ``corr(|u| + s zeta, |u|) = sqrt(v / (v + s^2))`` with ``v = var|u| = 1 - 2 / pi``, set equal
    to :func:`abs_field_corr` at ``c = cos(theta)`` (0.3600 at 20 degrees).
    """
    r = abs_field_corr(math.cos(math.radians(theta)))
    return math.sqrt((1.0 - 2.0 / math.pi) * (1.0 / (r * r) - 1.0))


def _mpar(metric, ranking, learner):
    """A margin metric's and a learner's columns (``probe_alpha`` NaN for a fixed probe)."""
    pa = metric.probe_alpha
    return {"ranking": ranking, "score": metric.score, "score_noise": metric.score_noise,
            "label_aware": metric.label_aware,
            "probe_alpha": math.nan if pa is None else float(pa),
            "probe_learner": metric.probe_learner if pa is not None else "", **_lpar(learner)}


def _metrics_frontiers(cfg, runner, rows, notes):
    """Panel (a) of :func:`compute_metrics`."""
    from .registry import get_metric

    mm = get_learner("max-margin")
    sigma = matched_score_noise(METRIC_THETA)
    rankings = {"abs": (get_metric("margin"), METRIC_THETA),
                "signed": (get_metric("margin", score="signed"), METRIC_THETA),
                "noisy": (get_metric("margin", score_noise=sigma), 0.0),
                "perfect": (get_metric("margin"), 0.0)}
    ap_sim = (2.0, 8.0) if cfg.quick else (1.0, 2.0, 4.0, 8.0)
    ap = _grid_with(np.geomspace(0.5, AP_MAX_METRICS, 10 if cfg.quick else 20), ap_sim)
    f_grid = np.geomspace(F_MIN_METRICS, 1.0, 9 if cfg.quick else 17)
    grids, th_sim, fronts = [], {}, {}
    for name, (m, theta) in rankings.items():
        pf = fronts[name] = _fr.pareto_frontier(ap, f_grid, keep="hard", theta=theta,
                                                learner=mm, metric=m)
        rows += _frontier_rows(pf, "a", "frontier", _mpar(m, name, mm))
        if name == "perfect":
            rows += _curve_rows(ap, pf.eps_by_f[-1], "a", "unpruned",
                                _mpar(m, "unpruned", mm))
            continue
        for a in ap_sim:
            k = int(np.flatnonzero(ap == a)[0])
            i = int(np.flatnonzero(f_grid == pf.f_best[k])[0])
            at = float(a / f_grid[i])
            grids.append({"alpha_tot": at, "f": float(f_grid[i]), "keep": "hard",
                          "theta": theta, "learner": mm, "metric": m})
            th_sim[(name, at, float(f_grid[i]))] = float(pf.eps_by_f[i, k])
    for p in runner.simulate_points(cfg, "metrics (a)", grids):
        name = "noisy" if p["score_noise"] > 0 else p["score"]
        m, _ = rankings[name]
        rows.append(_sim_row(p, "a", th_sim[(name, p["alpha_tot"], p["f"])],
                             **{k: v for k, v in _mpar(m, name, mm).items()
                                if k not in ("learner", "lam")}))
    k8 = int(np.flatnonzero(ap == 8.0)[0]) if 8.0 in ap else ap.size // 2
    unpruned = fronts["perfect"].eps_by_f[-1, k8]
    notes.update({"theta": METRIC_THETA, "sigma_s_matched": sigma,
                  "corr_abs": abs_field_corr(math.cos(math.radians(METRIC_THETA))),
                  "alpha_prune_ref": float(ap[k8])})
    for name, pf in fronts.items():
        notes[f"{name}_frontier_over_unpruned"] = float(pf.eps[k8] / unpruned)
        notes[f"{name}_f_best"] = float(pf.f_best[k8])
    notes.update(_gap_notes([r for r in rows if r["panel"] == "a"], "a_"))


def _metrics_label_aware(cfg, runner, rows, notes):
    """Panel (b) of :func:`compute_metrics`."""
    from .registry import get_metric

    L = get_learner("ridge", lam=LAM_AWARE)
    plain = get_metric("margin")
    rankings = {"abs": plain, "aware": get_metric("margin", label_aware=True),
                "signed": get_metric("margin", score="signed")}
    nz = {"flip": FLIP, "teacher_noise": 0.0}
    at_sim = (4.0, 16.0) if cfg.quick else (2.0, 8.0, 32.0)
    at = _grid_with(np.geomspace(0.5, 64.0, max(14, cfg.n_theory // 4)),
                    [*at_sim, ALPHA_TOT_AWARE])
    kr = int(np.flatnonzero(at == ALPHA_TOT_AWARE)[0])
    th_sim, grids = {}, []
    for name, m in rankings.items():
        par = {**_mpar(m, name, L), **nz}
        for keep in ("hard", "easy"):
            c = _th.curve(alpha_tot=at, f=F_AWARE, keep=keep, theta=METRIC_THETA, learner=L,
                          metric=m, **nz)
            rows += [{"panel": "b", "series": "theory", "keep": keep, "f": F_AWARE,
                      "theta": METRIC_THETA, "alpha_tot": float(a), "alpha_prune": float(ap),
                      "n": math.inf, "x": float(a), "y": float(e), "yerr": math.nan, **par}
                     for a, ap, e in zip(at, c.alpha_prune, c.eps)]
            th_sim.update({(name, keep, float(a)): float(e) for a, e in zip(at, c.eps)})
            notes[f"b_{keep}_{name}_eps"] = float(c.eps[kr])
        grids.append({"alpha_tot": at_sim, "f": F_AWARE, "keep": ("hard", "easy"),
                      "theta": METRIC_THETA, "learner": L, "metric": m, **nz})
    c1 = _th.curve(alpha_tot=at, f=1.0, learner=L, metric=plain, **nz)
    rows += _curve_rows(at, c1.eps, "b", "unpruned", {**_mpar(plain, "unpruned", L), **nz})
    th_sim.update({("unpruned", "hard", float(a)): float(e) for a, e in zip(at, c1.eps)})
    grids.append({"alpha_tot": at_sim, "f": 1.0, "keep": "hard", "learner": L, "metric": plain,
                  **nz})
    probe_err = METRIC_THETA / 180.0
    rows += _line_rows("b", "probe_error", [at[0], at[-1]], [probe_err, probe_err],
                       theta=METRIC_THETA)
    for p in runner.simulate_points(cfg, "metrics (b)", grids):
        name = ("unpruned" if p["f"] == 1.0 else "aware" if p["label_aware"]
                else p["score"])
        m = plain if name == "unpruned" else rankings[name]
        rows.append(_sim_row(p, "b", th_sim[(name, p["keep"], p["alpha_tot"])], x="alpha_tot",
                             **{k: v for k, v in _mpar(m, name, L).items()
                                if k not in ("learner", "lam")}))
    # With the perfect probe the filter drops every flipped label (and nothing else).
    aware0 = _th.solve(alpha_tot=ALPHA_TOT_AWARE, f=F_AWARE, keep="hard", learner=L,
                       metric=rankings["aware"], **nz).eps
    abs0 = _th.solve(alpha_tot=ALPHA_TOT_AWARE, f=F_AWARE, keep="hard", learner=L,
                     metric=plain, **nz).eps
    for keep in ("hard", "easy"):
        notes[f"b_{keep}_aware_gain"] = notes[f"b_{keep}_abs_eps"] / notes[f"b_{keep}_aware_eps"]
    notes.update({"b_learner": f"ridge(lam={LAM_AWARE:g})", "b_flip": FLIP, "b_f": F_AWARE,
                  "b_alpha_tot": ALPHA_TOT_AWARE, "b_unpruned_eps": float(c1.eps[kr]),
                  "b_probe_error": probe_err, "b_theta0_hard_aware_gain": abs0 / aware0})
    notes.update(_gap_notes([r for r in rows if r["panel"] == "b"], "b_"))


def _metrics_budget(cfg, runner, rows, notes):
    """Panels (c, d) of :func:`compute_metrics`."""
    from .registry import get_metric

    L = get_learner("ridge", lam=LAM_BUDGET)
    fast = BUDGET_SCAN_QUICK if cfg.quick else BUDGET_SCAN
    b_sim = (10.0, 20.0) if cfg.quick else (10.0, 20.0, 40.0)
    probe_alphas = PROBE_ALPHAS[:2] if cfg.quick else PROBE_ALPHAS
    th_sim, grids = {}, []
    for a0 in probe_alphas:
        m = get_metric("margin", probe_alpha=a0)
        par = _mpar(m, "learned", L)
        bs = a0 + np.geomspace(0.5, BUDGET_MAX - a0, 6 if cfg.quick else 12)
        if a0 == PROBE_ALPHA_SIM:
            bs = _grid_with(bs, b_sim)
        for B in bs:
            o = _fr.optimal_f(float(B - a0), keep="hard", learner=L, metric=m, n_grid=11)
            theta = m.probe_theta()
            rows.append({"panel": "c", "series": "fixed_probe", "keep": "hard", "f": o.f,
                         "theta": theta, "alpha_tot": float(B - a0), "n": math.inf,
                         "x": float(B), "y": o.eps, "yerr": math.nan, **par})
            if a0 == PROBE_ALPHA_SIM and B in b_sim:
                grids.append({"alpha_tot": float(B - a0), "f": o.f, "keep": "hard",
                              "learner": L, "metric": m})
                th_sim[float(B - a0)] = o.eps
    b_line = np.geomspace(2.0, BUDGET_MAX, max(20, cfg.n_theory // 3))
    rows += _curve_rows(b_line, _th.curve(b_line, f=1.0, learner=L).eps, "c", "unpruned",
                        _mpar(get_metric("margin"), "unpruned", L))
    budgets = (10.0, 20.0) if cfg.quick else (5.0, 10.0, 20.0, 40.0)
    for pl in PROBE_LEARNERS[:1] if cfg.quick else PROBE_LEARNERS:
        for B in budgets:
            bs = _fr.label_budget(B, probe_learner=pl, keep="hard", learner=L, **fast)
            par = {"probe_learner": pl, "budget": B, "probe_alpha": bs.probe_alpha,
                   "keep": bs.keep, "f": bs.f, "theta": bs.theta, "alpha_tot": bs.alpha_tot,
                   "eps_unpruned": bs.eps_unpruned, "pays": bs.pays, "n": math.inf,
                   **_lpar(L)}
            rows.append({"panel": "c", "series": "best_split", "x": B, "y": bs.eps,
                         "yerr": math.nan, **par})
            rows.append({"panel": "d", "series": "probe_share", "x": B,
                         "y": bs.probe_alpha / B, "yerr": math.nan, **par})
            rows.append({"panel": "d", "series": "f_opt", "x": B, "y": bs.f,
                         "yerr": math.nan, **par})
            key = f"budget{B:g}_{pl.replace('-', '_')}_probe"
            notes.update({f"{key}_alpha": bs.probe_alpha, f"{key}_f": bs.f,
                          f"{key}_theta": bs.theta, f"{key}_eps": bs.eps,
                          f"{key}_gain": bs.eps_unpruned / bs.eps, f"{key}_pays": bs.pays})
    # The max-margin student: with clean labels pruning never beats keeping everything.
    mm = _fr.label_budget(20.0, keep="hard", learner="max-margin", **fast)
    notes.update({"max_margin_student_budget20_pays": mm.pays,
                  "max_margin_student_budget20_probe_alpha": mm.probe_alpha,
                  "max_margin_student_budget20_f": mm.f,
                  "max_margin_student_budget20_eps_ratio": mm.eps / mm.eps_unpruned})
    for p in runner.simulate_points(cfg, "metrics (c)", grids):
        m = get_metric("margin", probe_alpha=p["probe_alpha"])
        rows.append(_sim_row(p, "c", th_sim[p["alpha_tot"]], x="alpha_tot",
                             **{k: v for k, v in _mpar(m, "learned", L).items()
                                if k not in ("learner", "lam")}))
        rows[-1]["x"] = p["alpha_tot"] + p["probe_alpha"]
        rows[-1]["theta_theory"] = m.probe_theta()
        rows[-1]["theta_sem"] = p["theta_sem"]
    notes.update({"c_learner": f"ridge(lam={LAM_BUDGET:g})", "c_probe_alpha_sim": PROBE_ALPHA_SIM,
                  "c_probe_theta_theory": get_metric(
                      "margin", probe_alpha=PROBE_ALPHA_SIM).probe_theta()})
    sims = [r for r in rows if r["panel"] == "c" and r["series"] == "simulation"]
    if sims:
        notes["c_probe_theta_sim"] = float(np.mean([r["theta"] for r in sims]))
    notes.update(_gap_notes([r for r in rows if r["panel"] == "c"], "c_"))


def compute_metrics(cfg=FigureConfig(), *, runner=None):
    """Metrics as users meet them: the ranking score, score noise, label-aware filtering and
    learned probes (theory-erm.md, "Pruning metrics"). ``cfg.learner`` and ``cfg.metric`` are
    not used: each panel names its student and its margin metrics.

    - (a) keep-hard Pareto frontiers of the max-margin student (min over ``f`` on a log grid
      in ``[0.01, 1]``: 17 values, 9 in the quick preset; series ``frontier``) at *matched probe
      quality*: ``abs`` and ``signed`` ranking by a probe at ``theta = 20`` degrees, and the
      perfect probe (``theta = 0``) with score noise (``noisy``, ranking by
      ``|u| + sigma_s zeta``). Matched quality means the noisy score is as correlated with the
      true margin ``|u|`` as the tilted probe's margin ``|t|`` is: ``corr(|t|, |u|) =
      (sqrt(1 - c^2) + c arcsin c - 1) / (pi/2 - 1) = 0.8586`` at ``c = cos 20 deg``, and
      ``corr(|u| + sigma_s zeta, |u|) = sqrt(v / (v + sigma_s^2))`` with ``v = 1 - 2/pi``, so
      ``sigma_s = 0.3600`` (:func:`matched_score_noise`). With the perfect metric's frontier
      (``perfect``) and the unpruned curve (``unpruned``) for reference, and simulations at the
      frontier's ``f`` (``ranking`` column: abs, signed, noisy);
    - (b) label-aware against label-agnostic pruning under ``flip = 0.2``: ``eps`` against
      ``alpha_tot`` at ``f = 0.5`` (of the eligible examples when label-aware) for keep hard
      and keep easy, ranking ``abs``, ``aware`` (abs after dropping the examples whose label
      disagrees with the probe's sign) and ``signed``, probe at 20 degrees, ridge student
      (``lam = 0.1``); the unpruned curve (``unpruned``) and the probe's own error
      ``theta / 180`` (``probe_error``), where the label-aware student saturates;
    - (c) error against the total label budget ``B = probe_alpha + alpha_tot`` with a learned
      probe (max-margin on clean labels) and a ridge student (``lam = 0.01``): for fixed
      ``probe_alpha`` in ``PROBE_ALPHAS`` (``fixed_probe``: keep hard at the best ``f``,
      :func:`~perceptron_pruning.frontier.optimal_f`), the best split of a few budgets
      (``best_split``, :func:`~perceptron_pruning.frontier.label_budget`), every label on the
      student (``unpruned``), and simulations for ``probe_alpha = 5`` at the theory's best
      ``f`` (``x`` = the budget; ``theta`` = the mean angle the probes achieved,
      ``theta_theory`` the predicted one);
    - (d) the best split against the budget: the share of the budget spent on the probe
      (``probe_share``) and the best ``f`` (``f_opt``), for max-margin and Hebb probes
      (max-margin only in the quick preset).

    ``notes``: the matched ``sigma_s``; the frontiers over the unpruned error and their ``f``
    at ``alpha_prune = 8``; the label-aware errors and gains at ``alpha_tot = 32`` (and the gain
    with the perfect probe); the best splits; that the max-margin student never gains from a
    learned probe (``label_budget`` at ``B = 20``); and per panel the simulation-vs-theory gaps
    (median and largest in standard errors, median relative).
    """
    runner = runner or _Runner()
    rows, notes = [], {}
    _metrics_frontiers(cfg, runner, rows, notes)
    _metrics_label_aware(cfg, runner, rows, notes)
    _metrics_budget(cfg, runner, rows, notes)
    notes["n"] = cfg.n
    return FigureData("metrics", rows, notes)


def _plain_log_ticks(axis, ticks):
    """Major ticks of a log ``axis`` at ``ticks``, labelled as plain numbers; no minor labels."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def plot_metrics(data, *, axes=None):
    """Draw :func:`compute_metrics` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 4 matplotlib.axes.Axes, optional
        Axes for panels (a) to (d) (any shape, read in row-major order); a new 2 x 2 figure by
        default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    plt = _pyplot()
    nt = data.notes
    theta = nt.get("theta", METRIC_THETA)
    n = sorted({r["n"] for r in data.select(series="simulation")})
    n_txt = ", ".join(str(v) for v in n) or None
    with plt.style.context(STYLE_PATH):
        fig, (a, b, c, d) = _panels(plt, axes, 4, (11, 8.8))
        # (a) frontiers at matched probe quality
        a.plot(*_xy(data.select(panel="a", series="unpruned")), ":", color="0.3", lw=1.4,
               label="unpruned")
        labels = {"perfect": r"perfect metric ($\theta$ = 0)",
                  "abs": rf"$|t|$, probe at $\theta$ = {theta:g}$^\circ$",
                  "signed": rf"$y\,t$, probe at $\theta$ = {theta:g}$^\circ$",
                  "noisy": rf"$|u| + \sigma_s \zeta$, $\sigma_s$ = "
                           rf"{nt.get('sigma_s_matched', math.nan):.3f}"}
        for name, mk in (("perfect", None), ("abs", "o"), ("signed", "s"), ("noisy", "^")):
            col = RANKING_COLORS[name]
            a.plot(*_xy(data.select(panel="a", series="frontier", ranking=name)),
                   "--" if name == "perfect" else "-", color=col,
                   lw=1.0 if name == "perfect" else 1.5, label=labels[name])
            _errorbar(a, data.select(panel="a", series="simulation", ranking=name), fmt=mk,
                      color=col)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel(r"$\alpha_{\mathrm{prune}} = P / N$ (examples kept)")
        a.set_ylabel(r"test error $\varepsilon$")
        a.set_title("(a) keep-hard Pareto frontier at matched metric quality")
        a.legend(fontsize=7, loc="lower left")
        a.text(0.98, 0.98, "max-margin student, $f \\geq$ "
               f"{F_MIN_METRICS:g}; matched: equal\n"
               r"corr(score, $|u|$) = " f"{nt.get('corr_abs', math.nan):.3f}\n"
               f"lines: theory; points: simulation at the\nfrontier's $f$, N = {n_txt}, "
               "mean $\\pm$ s.e.m.", transform=a.transAxes, ha="right", va="top", fontsize=7)
        # (b) label-aware vs label-agnostic under flips
        styles = {"abs": ("-", "o", None), "aware": ("--", "o", "white"),
                  "signed": (":", "^", None)}
        b.plot(*_xy(data.select(panel="b", series="unpruned")), "-", color="0.45", lw=1.2)
        _errorbar(b, data.select(panel="b", series="simulation", ranking="unpruned"), fmt="D",
                  color="0.45")
        b.plot(*_xy(data.select(panel="b", series="probe_error")), "-.", color="0.6", lw=1.0)
        for keep in ("hard", "easy"):
            col = RULE_COLORS[keep]
            for name, (ls, mk, mfc) in styles.items():
                b.plot(*_xy(data.select(panel="b", series="theory", keep=keep, ranking=name)),
                       ls, color=col)
                _errorbar(b, data.select(panel="b", series="simulation", keep=keep,
                                         ranking=name),
                          fmt=mk, color=col, mfc=mfc or col)
        b.set_xscale("log")
        b.set_yscale("log")
        b.set_xlabel(r"$\alpha_{tot} = P_{tot} / N$ (examples drawn)")
        b.set_ylabel(r"clean-rule error $\varepsilon$")
        lb = data.select(panel="b", series="theory")
        b.set_title(rf"(b) flips $\eta$ = {FLIP:g}, probe at {theta:g}$^\circ$, "
                    rf"$f$ = {F_AWARE:g}, "
                    + _learner_label(lb[0]["learner"], lb[0]["lam"]) if lb else "(b)")
        b.legend(handles=[Line2D([], [], color=RULE_COLORS["hard"], label="keep hard"),
                          Line2D([], [], color=RULE_COLORS["easy"], label="keep easy"),
                          Line2D([], [], color="0.3", ls="-", label=r"$|t|$ (label-agnostic)"),
                          Line2D([], [], color="0.3", ls="--", marker="o", mfc="white",
                                 ms=3.5, label=r"$|t|$, label-aware"),
                          Line2D([], [], color="0.3", ls=":", marker="^", ms=3.5,
                                 label=r"$y\,t$ (signed; keep hard keeps" "\n"
                                       r"the flipped labels first: $\varepsilon > 1/2$)"),
                          Line2D([], [], color="0.45", marker="D", ms=3.5,
                                 label="unpruned"),
                          Line2D([], [], color="0.6", ls="-.",
                                 label=r"probe's own error $\theta / 180$")],
                 fontsize=6.5, loc="lower left", ncol=2)
        _plain_log_ticks(b.yaxis, (0.05, 0.1, 0.2, 0.5))
        # (c) error against the label budget
        pas = sorted({r["probe_alpha"] for r in data.select(panel="c", series="fixed_probe")})
        for i, a0 in enumerate(pas):
            col = plt.get_cmap("viridis")(i / max(1, len(pas)) * 0.9)
            c.plot(*_xy(data.select(panel="c", series="fixed_probe", probe_alpha=a0)),
                   color=col, label=rf"probe on $\alpha_0$ = {a0:g}, best $f$")
            _errorbar(c, data.select(panel="c", series="simulation", probe_alpha=a0), fmt="o",
                      color=col)
        c.plot(*_xy(data.select(panel="c", series="unpruned")), "k:", lw=1.4,
               label="no probe: every label on the student")
        c.plot(*_xy(data.select(panel="c", series="best_split", probe_learner="max-margin")),
               "*", ms=10, color="gold", mec="k", mew=0.6,
               label="best split (label_budget)")
        c.set_xscale("log")
        c.set_yscale("log")
        _plain_log_ticks(c.xaxis, (2, 5, 10, 20, 50))
        _plain_log_ticks(c.yaxis, (0.02, 0.05, 0.1, 0.2))
        c.set_xlabel(r"label budget $B = \alpha_0 + \alpha_{tot}$")
        c.set_ylabel(r"test error $\varepsilon$")
        lc = data.select(panel="c", series="fixed_probe")
        c.set_title("(c) learned max-margin probe, keep hard, "
                    + (_learner_label(lc[0]["learner"], lc[0]["lam"]) if lc else ""))
        c.legend(fontsize=7, loc="lower left")
        mm_pays = nt.get("max_margin_student_budget20_pays")
        c.text(0.98, 0.98, f"simulation: N = {n_txt}, mean $\\pm$ s.e.m.\n"
               + ("max-margin student: a learned probe never pays\n(at B = 20: best "
                  rf"$\alpha_0$ at the scan's lower edge, $f$ = "
                  f"{nt.get('max_margin_student_budget20_f', math.nan):.2g})"
                  if mm_pays is False else ""),
               transform=c.transAxes, ha="right", va="top", fontsize=7)
        # (d) the best split
        for pl, col in (("max-margin", "k"), ("hebb", "tab:purple")):
            share = data.select(panel="d", series="probe_share", probe_learner=pl)
            if not share:
                continue
            d.plot(*_xy(share), "o-", ms=4, color=col,
                   label=rf"{_LEARNER_NAMES[pl]} probe: $\alpha_0 / B$")
            d.plot(*_xy(data.select(panel="d", series="f_opt", probe_learner=pl)), "s--", ms=4,
                   color=col, mfc="white", label=rf"{_LEARNER_NAMES[pl]} probe: best $f$")
        d.set_xscale("log")
        _plain_log_ticks(d.xaxis, (5, 10, 20, 40))
        d.set_ylim(0.0, 1.05)
        d.set_xlabel(r"label budget $B$")
        d.set_ylabel("fraction")
        d.set_title("(d) best split: share of labels on the probe, fraction kept")
        d.text(0.98, 0.03, "share at the scan's floor (1%) and $f$ = 1:\n"
               "no probe pays at that budget", transform=d.transAxes, ha="right",
               va="bottom", fontsize=7)
        d.legend(fontsize=7, loc="upper right")
    return fig


from .peers import compute_peers, plot_peers  # noqa: E402 - it draws with the helpers above

FIGURES = {
    "keep_hard": (compute_keep_hard, plot_learning_curves),
    "keep_easy": (compute_keep_easy, plot_learning_curves),
    "easy_vs_hard": (compute_easy_vs_hard, plot_easy_vs_hard),
    "imperfect_metric": (compute_imperfect_metric, plot_imperfect_metric),
    "scaling": (compute_scaling, plot_scaling),
    "finite_size": (compute_finite_size, plot_finite_size),
    "learners": (compute_learners, plot_learners),
    "label_noise": (compute_label_noise, plot_label_noise),
    "metrics": (compute_metrics, plot_metrics),
    "peers": (compute_peers, plot_peers),
}


def _check_name(name):
    if name not in FIGURES:
        raise ValueError(f"figure name must be one of {', '.join(FIGURES)}; got {name!r}")
    return name


def compute(name, cfg=FigureConfig(), *, cache_dir=None, executor=None, progress=None):
    """Compute the data of figure ``name`` (see :data:`FIGURES`); returns :class:`FigureData`."""
    return FIGURES[_check_name(name)][0](cfg, runner=_Runner(cache_dir, executor, progress))


def plot(data, *, axes=None):
    """Draw :class:`FigureData` with its figure's ``plot_<name>`` function.

    Parameters
    ----------
    data : FigureData
    axes : matplotlib.axes.Axes or sequence of them, optional
        One axes per panel (a single one, or a one-element sequence, for the single-panel
        learning curves); a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plot_fn = FIGURES[_check_name(data.name)][1]
    if plot_fn is plot_learning_curves:
        return plot_fn(data, ax=None if axes is None else _axes_list(axes, 1)[0])
    return plot_fn(data, axes=axes)


def make_figure(name, out_dir, cfg=FigureConfig(), *, cache_dir=None, executor=None,
                progress=None):
    """Compute, plot and save figure ``name`` as PNG, PDF and CSV in ``out_dir``.

    Returns
    -------
    FigureData
    """
    plt = _pyplot()
    data = compute(name, cfg, cache_dir=cache_dir, executor=executor, progress=progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot(data)
    try:
        # Saving reads style keys too (savefig.bbox; tick labels made at draw time).
        with plt.style.context(STYLE_PATH):
            fig.savefig(out / f"{name}.png", dpi=150, metadata={"Software": None})
            fig.savefig(out / f"{name}.pdf", metadata={"CreationDate": None, "Producer": None})
    finally:
        plt.close(fig)
    keys = sorted({k for r in data.rows for k in r})
    write_csv([{k: r.get(k, "") for k in keys} for r in data.rows], out / f"{name}.csv")
    return data
