"""The later theories of data selection in this engine: Kolossov, Montanari and Tandon (ICLR
2024) and Dohmatob, Pezeshki and Askari-Hemmat (2025), their settings mapped to ours, and the
``peers`` figure that reproduces and extends them.

Parameter mapping, Kolossov et al. (their code: granica-ai/DataSelectionICLR2024, "perfect
surrogate" experiments, ``configs/config_2D_example.yaml``):

- dimension ``p`` is our ``N``; their pool of ``N = 2.29 p`` examples is our ``alpha_tot = 2.29``;
  their subsampling fraction ``gamma`` is our ``f``;
- their teacher has norm 5 on unnormalised ``x``: the label field is ``5 u`` with ``u`` our unit
  teacher field, so their surrogate's uncertainty score ``s'(x . theta*)`` is our
  ``score_scale = 5``, and their ``misspec2`` cuts at ``x . theta* = +-0.5`` are ours at
  ``u = +-0.1``;
- labels "misspec": ``P(y = 1) = 0.95`` on ``u >= 0`` and 0.05 below, i.e. the sign teacher with
  5% flips (``flip = 0.05``);
- their objective ``(1/N) sum_{i in S} loss + (lam/2) |theta|^2`` with unnormalised ``x`` is ours,
  ``sum loss(J . x / sqrt(p)) + (lam'/2) |J|^2`` with ``J = sqrt(p) theta``, at
  ``lam' = lam N / p = 2.29 lam``, the same at every ``gamma`` (they normalise by the pool);
- they report the error on noisy test labels, ``0.05 + 0.9 eps`` for misspec (our
  ``eps_noisy``); we compare ``eps``.

Differences that remain (and why our numbers can differ from theirs by up to ~0.005): their
theory solves ``c`` with a trapezoid on ``[-5, 5]`` whose end terms miss the Gaussian weight
(about +0.002 on the kept fraction) and averages with a 50 x 50 trapezoid on ``[-5, 5]^2``; they
clip the logit to ``[-10, 10]`` before taking ``s'``; their simulations set ``c`` from the
empirical sum. We solve ``c`` by quadrature so that ``E[pi] = f`` exactly.

Dohmatob et al.: the paper's body (its Fig. 1 parameter values) was not available to us, so the
figure shows their setting, not their numbers: a ridge student trained on labels from a
generator ``w_g`` whose cosine with the ground truth is ``truth_cos`` (strong: 0.9, weak: 0.5),
pruned by an oracle that knows the ground truth (``probe_truth_cos = 1``, at
``theta = arccos(truth_cos)`` to the generator), keep hard / easy / random and "keep valid"
(label-aware) hard, at a small and a large ``alpha_tot``.
"""

from __future__ import annotations

import math

import numpy as np

from . import frontier as _fr
from . import theory as _th
from .registry import get_learner, get_metric

# The drawing helpers come from .figures, which lists this figure among its own: imported
# inside the functions, so either module can be imported first.

__all__ = ["DOHMATOB_GENERATORS", "KOLOSSOV_ALPHA_TOT", "KOLOSSOV_THEORY_EPS", "compute_peers",
           "kolossov", "plot_peers"]

KOLOSSOV_ALPHA_TOT = 2.29  # their pool N = 6870 at p = 3000
KOLOSSOV_SCALE = 5.0  # their teacher's norm: the logit of the perfect surrogate is 5 u
KOLOSSOV_FLIP = 0.05  # "misspec": P(y = 1) = 0.95 / 0.05 by the sign of u
KOLOSSOV_LAM = 1e-3  # their lambda of the figure's panel reproduced here
EXPONENTS = (-1.0, -0.5, 0.0, 0.5, 1.0)  # their exponents a
GAMMAS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # their fractions
# Their published theory (results/theoryResults2d/theoryLR2D_dataN-6870_dataP-3000_
# dataThetaNorm-5_lambd-{lam}_alphaExp-{a}_splitPCT-{gamma}_..._label-misspec_A-0.95_B-0.05.csv,
# columns alpha0 and alpha_perp), as eps = arccos(alpha0 / |alpha|) / pi, keyed (lam, gamma, a).
KOLOSSOV_THEORY_EPS = {
    (1e-3, 0.1, -1.0): 0.293, (1e-3, 0.1, 0.0): 0.394, (1e-3, 0.1, 1.0): 0.463,
    (1e-3, 0.3, -1.0): 0.264, (1e-3, 0.3, 0.0): 0.325, (1e-3, 0.3, 1.0): 0.416,
    (1e-3, 0.5, -1.0): 0.255, (1e-3, 0.5, 0.0): 0.286, (1e-3, 0.5, 1.0): 0.320,
    (1e-3, 0.9, -1.0): 0.242, (1e-3, 0.9, 0.0): 0.245, (1e-3, 0.9, 1.0): 0.223,
    (0.1, 0.1, -1.0): 0.281, (0.1, 0.1, 0.0): 0.392, (0.1, 0.1, 1.0): 0.464,
    (0.1, 0.5, -1.0): 0.220, (0.1, 0.5, 0.0): 0.273, (0.1, 0.5, 1.0): 0.360,
    (0.1, 0.9, -1.0): 0.206, (0.1, 0.9, 0.0): 0.217, (0.1, 0.9, 1.0): 0.219,
}
DOHMATOB_GENERATORS = {"strong": 0.9, "weak": 0.5}  # cos(w_g, ground truth)
DOHMATOB_ALPHA_TOT = (2.0, 16.0)  # a small and a large n / d
DOHMATOB_LAM = 1e-2  # the ridge student's penalty
PAST_THETA = 20.0  # (e): the imperfect probe's angle, degrees
RULE_COLORS = {"hard": "tab:red", "easy": "tab:blue", "random": "0.45", "valid": "tab:purple"}


def kolossov(lam=KOLOSSOV_LAM, *, exponent, reweight=False):
    """Our parameters for Kolossov et al.'s perfect-surrogate setting.

    Parameters
    ----------
    lam : float
        Their ``lambda`` (``(1/N) sum loss + lambda/2 |theta|^2``); ours is ``2.29 lambda``.
    exponent : float
        Their ``a``.
    reweight : bool
        Their "unbiased" ``1 / pi`` weights.

    Returns
    -------
    dict
        Keyword arguments of :func:`~perceptron_pruning.simulate` and
        :func:`~perceptron_pruning.theory.solve` (with ``f`` = their ``gamma``).
    """
    return {"alpha_tot": KOLOSSOV_ALPHA_TOT, "keep": "uncertainty",
            "metric": get_metric("soft", exponent=exponent, score_scale=KOLOSSOV_SCALE,
                                 reweight=reweight),
            "learner": get_learner("logistic", lam=KOLOSSOV_ALPHA_TOT * lam),
            "flip": KOLOSSOV_FLIP}


def _row(panel, series, x, y, *, yerr=math.nan, theory=None, **par):
    r = {"panel": panel, "series": series, "x": float(x), "y": float(y), "yerr": float(yerr),
         **par}
    if theory is not None:
        r["theory"] = float(theory)
    return r


def _sim_points(runner, cfg, desc, grids, th_of, par_of):
    """Simulated points of ``grids`` (one sweep), each in the panel ``par_of`` names and with its
    theory from ``th_of``.
    """
    rows = []
    for p in runner.simulate_points(cfg, desc, grids):
        key, panel, par = par_of(p)
        rows.append(_row(panel, "simulation", p["f"], p["eps_mean"], yerr=p["eps_sem"],
                         theory=th_of[key], n=p["n"], alpha_prune=p["alpha_prune_mean"],
                         **par))
    return rows


def _kolossov_panels(cfg, runner, rows, notes):
    """(a) their figure's panel at ``lam = 1e-3``; (b) with and without reweighting."""
    gammas = (0.1, 0.3, 0.5, 0.9) if cfg.quick else GAMMAS
    exps = (-1.0, 0.0, 1.0) if cfg.quick else EXPONENTS
    g_sim = (0.1, 0.5) if cfg.quick else (0.1, 0.3, 0.5, 0.9)
    th, grids = {}, []
    for rw in (False, True):
        for a in exps:
            if rw and a not in (-1.0, 1.0):
                continue
            panel = "b" if rw else "a"
            for g in gammas:
                kw = kolossov(exponent=a, reweight=rw)
                eps = _th.solve(f=g, **kw).eps
                th[(a, rw, g)] = eps
                for pn in (panel, "b") if (not rw and a in (-1.0, 1.0)) else (panel,):
                    # (b) draws the plain a = +-1 lines again, beside the reweighted ones.
                    rows.append(_row(pn, "theory", g, eps, exponent=a, reweight=rw,
                                     lam=KOLOSSOV_LAM, n=math.inf))
                if a in (-1.0, 0.0, 1.0) and g in g_sim:
                    grids.append({"f": g, **kw})
    # Their published theory, for the overlay and the notes.
    gaps = []
    for (lam, g, a), e in KOLOSSOV_THEORY_EPS.items():
        if lam == KOLOSSOV_LAM:
            rows.append(_row("a", "kolossov_theory", g, e, exponent=a, lam=lam, n=math.inf))
            if (a, False, g) in th:
                gaps.append(abs(th[(a, False, g)] - e))
    from .figures import _gap_notes

    notes["a_max_gap_to_kolossov_theory"] = float(max(gaps)) if gaps else math.nan
    notes["a_compared_points"] = len(gaps)
    for g in gammas:
        for a in (-1.0, 1.0):
            ratio = th[(a, True, g)] / th[(a, False, g)]
            notes[f"b_gamma{g:g}_a{a:+g}_reweighted_over_plain"] = ratio

    def par_of(p):
        a, rw = p["exponent"], p["reweight"]
        return ((a, rw, p["f"]), "b" if rw else "a",
                {"exponent": a, "reweight": rw, "lam": KOLOSSOV_LAM})

    sims = _sim_points(runner, cfg, "peers (a, b)", grids, th, par_of)
    rows += sims
    notes.update(_gap_notes([r for r in rows if r["panel"] in "ab"], "ab_"))
    rows += [{**r, "panel": "b"} for r in sims
             if not r["reweight"] and r["exponent"] in (-1.0, 1.0)]


def _dohmatob_panels(cfg, runner, rows, notes):
    """(c, d): ridge, labels from a strong / weak generator, the oracle knows the truth."""
    fs = (0.1, 0.2, 0.4, 0.7, 1.0) if cfg.quick else (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                                      0.6, 0.7, 0.8, 0.9, 1.0)
    f_sim = (0.2, 0.7) if cfg.quick else (0.1, 0.3, 0.7)
    L = get_learner("ridge", lam=DOHMATOB_LAM)
    rules = {"hard": ("hard", get_metric("margin")), "easy": ("easy", get_metric("margin")),
             "random": ("random", get_metric("margin")),
             "valid": ("hard", get_metric("margin", label_aware=True))}
    th, grids = {}, []
    for panel, (gen, rho) in zip("cd", DOHMATOB_GENERATORS.items()):
        theta = math.degrees(math.acos(rho))
        geo = {"truth_cos": rho, "probe_truth_cos": 1.0, "theta": theta}
        for at in DOHMATOB_ALPHA_TOT:
            for rule, (keep, m) in rules.items():
                for f in fs:
                    e = _th.solve(alpha_tot=at, f=f, keep=keep, learner=L, metric=m, **geo).eps
                    th[(gen, at, rule, f)] = e
                    rows.append(_row(panel, "theory", f, e, generator=gen, truth_cos=rho,
                                     alpha_tot=at, rule=rule, n=math.inf))
                    if f in f_sim and rule in ("hard", "random", "valid"):
                        grids.append({"alpha_tot": at, "f": f, "keep": keep, "learner": L,
                                      "metric": m, **geo})
            e1 = th[(gen, at, "random", 1.0)]
            best = min((th[(gen, at, r, f)], r, f) for r in rules for f in fs)
            notes[f"{panel}_{gen}_alpha{at:g}_best"] = f"{best[1]} f={best[2]:g}"
            notes[f"{panel}_{gen}_alpha{at:g}_best_over_all_data"] = best[0] / e1
            agn = min((th[(gen, at, r, f)], r, f) for r in ("hard", "easy", "random")
                      for f in fs)
            notes[f"{panel}_{gen}_alpha{at:g}_best_label_agnostic"] = f"{agn[1]} f={agn[2]:g}"
            notes[f"{panel}_{gen}_alpha{at:g}_best_label_agnostic_over_all_data"] = agn[0] / e1

    def par_of(p):
        gen = "strong" if p["truth_cos"] == DOHMATOB_GENERATORS["strong"] else "weak"
        rule = "valid" if p["label_aware"] else p["keep"]
        return ((gen, p["alpha_tot"], rule, p["f"]), "c" if gen == "strong" else "d",
                {"generator": gen, "truth_cos": p["truth_cos"], "alpha_tot": p["alpha_tot"],
                 "rule": rule})

    rows += _sim_points(runner, cfg, "peers (c, d)", grids, th, par_of)
    from .figures import _gap_notes

    notes.update(_gap_notes([r for r in rows if r["panel"] in "cd"], "cd_"))


def _past_panels(cfg, runner, rows, notes):
    """(e) their rules with the max-margin student and an imperfect probe; (f) Pareto frontiers
    over ``f`` of soft against deterministic selection.
    """
    fs = (0.1, 0.3, 0.5, 0.9) if cfg.quick else (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
    mm = get_learner("max-margin")
    at = KOLOSSOV_ALPHA_TOT
    rules = {"a=-1": ("uncertainty", get_metric("soft", exponent=-1.0,
                                                score_scale=KOLOSSOV_SCALE)),
             "a=+1": ("uncertainty", get_metric("soft", exponent=1.0,
                                                score_scale=KOLOSSOV_SCALE)),
             "hard": ("hard", get_metric("margin")), "easy": ("easy", get_metric("margin"))}
    for theta in (0.0, PAST_THETA):
        for rule, (keep, m) in rules.items():
            for f in fs:
                e = _th.solve(alpha_tot=at, f=f, keep=keep, theta=theta, learner=mm,
                              metric=m).eps
                rows.append(_row("e", "theory", f, e, rule=rule, theta=theta,
                                 alpha_tot=at, n=math.inf))
    e1 = _th.solve(alpha_tot=at, learner=mm).eps
    rows.append(_row("e", "all_data", fs[0], e1, alpha_tot=at))
    rows.append(_row("e", "all_data", 1.0, e1, alpha_tot=at))
    notes["e_all_data_eps"] = e1
    # (f): min over f of eps at each alpha_prune.
    ap = np.geomspace(1.0, 30.0, 6 if cfg.quick else 12)
    f_grid = np.geomspace(0.05, 1.0, 5 if cfg.quick else 9)
    fronts = {"hard": ("hard", get_metric("margin")), "easy": ("easy", get_metric("margin")),
              "a=+4": ("uncertainty", get_metric("soft", exponent=4.0)),
              "a=+1": ("uncertainty", get_metric("soft", exponent=1.0)),
              "a=-1": ("uncertainty", get_metric("soft", exponent=-1.0))}
    for rule, (keep, m) in fronts.items():
        pf = _fr.pareto_frontier(ap, f_grid, keep=keep, learner=mm, metric=m)
        rows += [_row("f", "frontier", a, e, rule=rule, f=float(fb), n=math.inf)
                 for a, e, fb in zip(pf.alpha_prune, pf.eps, pf.f_best)]
        notes[f"f_{rule}_frontier_eps_at_alpha{ap[-1]:g}"] = float(pf.eps[-1])
    rows += [_row("f", "unpruned", a, e, n=math.inf)
             for a, e in zip(ap, _th.curve(ap, learner=mm).eps)]


def compute_peers(cfg=None, *, runner=None):
    """The later theories of data selection reproduced and extended (module docstring for the
    parameter mapping). ``cfg.learner`` and ``cfg.metric`` are not used.

    - (a) Kolossov et al.'s perfect-surrogate panel at ``lambda = 1e-3``: ``eps`` against the
      subsampling fraction ``gamma = f`` for the uncertainty exponents ``a`` (logistic ridge,
      pool ``alpha_tot = 2.29``, 5% flips, score ``s'(5 u)``); our theory (``theory``), our
      simulations (``simulation``) and their published theory (``kolossov_theory``);
    - (b) the same with their "unbiased" ``1 / pi`` reweighting (``reweight`` column) for
      ``a = +-1``;
    - (c, d) Dohmatob et al.'s setting, strong (c) and weak (d) generator: ridge
      (``lam = 0.01``), ``eps`` against the ground truth as a function of ``f`` for keep hard,
      easy, random and keep valid (label-aware keep hard), at ``alpha_tot = 2`` and 16;
    - (e) past them: their rules (``a = +-1``) and the deterministic ones with the max-margin
      student on clean labels, with the perfect probe and one at 20 degrees;
    - (f) past them: keep-hard / keep-easy Pareto frontiers (min over ``f``) of deterministic
      against soft selection (``a = 4``, 1, -1 at ``score_scale = 1``), max-margin student.

    ``notes``: the largest gap to their published theory, the reweighted-over-plain error
    ratios, each Dohmatob case's best rule and its error over all the data, the frontiers at
    the largest ``alpha_prune``, and the simulation-vs-theory gaps.
    """
    from .figures import FigureConfig, FigureData, _Runner

    cfg = FigureConfig() if cfg is None else cfg
    runner = runner or _Runner()
    rows, notes = [], {}
    _kolossov_panels(cfg, runner, rows, notes)
    _dohmatob_panels(cfg, runner, rows, notes)
    _past_panels(cfg, runner, rows, notes)
    notes["n"] = cfg.n
    return FigureData("peers", rows, notes)


def _exp_color(cmap, a):
    """Blue for easy-favouring exponents, red for hard-favouring ones, black for random."""
    return "k" if a == 0.0 else cmap(0.5 + 0.45 * a)


def plot_peers(data, *, axes=None):
    """Draw :func:`compute_peers` data.

    Parameters
    ----------
    data : FigureData
    axes : sequence of 6 matplotlib.axes.Axes, optional
        Axes for panels (a) to (f), row-major; a new 3 x 2 figure by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .figures import STYLE_PATH, _errorbar, _panels, _pyplot, _xy

    plt = _pyplot()
    nt = data.notes
    n = sorted({r["n"] for r in data.select(series="simulation")})
    n_txt = ", ".join(str(v) for v in n) or None
    cmap = plt.get_cmap("coolwarm")
    with plt.style.context(STYLE_PATH):
        fig, (a, b, c, d, e, f) = _panels(plt, axes, 6, (11, 13))
        exps = sorted({r["exponent"] for r in data.select(panel="a", series="theory")})
        for x in exps:
            col = _exp_color(cmap, x)
            a.plot(*_xy(data.select(panel="a", series="theory", exponent=x)), color=col,
                   label=f"a = {x:+g}")
            _errorbar(a, data.select(panel="a", series="simulation", exponent=x), fmt="o",
                      color=col)
        a.plot(*_xy(data.select(panel="a", series="kolossov_theory")), "kx", ms=6,
               label="Kolossov et al.'s theory")
        a.set_xlabel(r"subsampling fraction $\gamma = f$")
        a.set_ylabel(r"test error $\varepsilon$ (clean rule)")
        a.set_title(r"(a) Kolossov et al.: uncertainty sampling, $\lambda$ = "
                    f"{KOLOSSOV_LAM:g}")
        a.legend(fontsize=7, loc="upper right")
        a.text(0.02, 0.03, "logistic ridge, pool 2.29 p, 5% flips, score $s'(5u)$\n"
               f"lines: our theory; points: simulation, N = {n_txt}\n"
               f"largest gap to their theory: {nt.get('a_max_gap_to_kolossov_theory', 0):.4f}",
               transform=a.transAxes, fontsize=7, va="bottom")
        for x in (-1.0, 1.0):
            col = _exp_color(cmap, x)
            for rw, ls, mk in ((False, "-", "o"), (True, "--", "s")):
                sel = dict(exponent=x, reweight=rw)
                b.plot(*_xy(data.select(panel="b", series="theory", **sel)), ls,
                       color=col, label=f"a = {x:+g}" + (", reweighted 1/$\\pi$" if rw else ""))
                _errorbar(b, data.select(panel="b", series="simulation", **sel),
                          fmt=mk, color=col, mfc="white" if rw else col)
        b.set_xlabel(r"subsampling fraction $\gamma = f$")
        b.set_ylabel(r"test error $\varepsilon$")
        b.set_title("(b) importance reweighting (\"unbiased\")")
        b.legend(fontsize=7)
        for ax, panel, gen in ((c, "c", "strong"), (d, "d", "weak")):
            for rule, col in RULE_COLORS.items():
                for at, ls in zip(DOHMATOB_ALPHA_TOT, ("--", "-")):
                    ax.plot(*_xy(data.select(panel=panel, series="theory", rule=rule,
                                             alpha_tot=at)), ls, color=col,
                            label=f"{rule}, " + rf"$\alpha_{{tot}}$ = {at:g}")
                    _errorbar(ax, data.select(panel=panel, series="simulation", rule=rule,
                                              alpha_tot=at), fmt="o", color=col)
            ax.set_yscale("log")
            ax.set_xlabel("fraction kept $f$")
            ax.set_ylabel(r"error against the ground truth $\varepsilon$")
            ax.set_title(f"({panel}) Dohmatob et al.'s setting, {gen} "
                         rf"generator (cos = {DOHMATOB_GENERATORS[gen]:g})")
            ax.legend(fontsize=6, ncol=2)
        for rule, col in (("a=-1", "tab:cyan"), ("a=+1", "tab:orange"), ("hard", "tab:red"),
                          ("easy", "tab:blue")):
            for theta, ls in ((0.0, "-"), (PAST_THETA, ":")):
                e.plot(*_xy(data.select(panel="e", series="theory", rule=rule, theta=theta)), ls,
                       color=col, label=f"{rule}" + (rf", $\theta$ = {theta:g}$^\circ$"
                                                     if theta else ""))
        e.plot(*_xy(data.select(panel="e", series="all_data")), "k:", lw=1.0, label="all data")
        e.set_xlabel("fraction kept $f$")
        e.set_ylabel(r"test error $\varepsilon$")
        e.set_title(r"(e) max-margin student, clean labels, $\alpha_{tot}$ = 2.29")
        e.legend(fontsize=6, ncol=2)
        for rule, col, ls in (("hard", "tab:red", "-"), ("a=+4", "tab:orange", "--"),
                              ("a=+1", "gold", "--"), ("easy", "tab:blue", "-"),
                              ("a=-1", "tab:cyan", "--")):
            f.plot(*_xy(data.select(panel="f", series="frontier", rule=rule)), ls, color=col,
                   label=rule)
        f.plot(*_xy(data.select(panel="f", series="unpruned")), "k:", label="unpruned")
        f.set_xscale("log")
        f.set_yscale("log")
        f.set_xlabel(r"$\alpha_{\mathrm{prune}}$")
        f.set_ylabel(r"Pareto frontier $\min_f \varepsilon$")
        f.set_title("(f) soft against deterministic selection, max-margin")
        f.legend(fontsize=7)
    return fig
