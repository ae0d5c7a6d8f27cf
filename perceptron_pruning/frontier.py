"""Derived theory: the Pareto frontier, the optimal pruning fraction and the smallest useful f."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from . import theory as _th
from ._validation import check_keep, check_real, check_theta, renamed_theta
from .noise import LabelNoise
from .registry import get_learner, get_metric

__all__ = ["BudgetSplit", "OptimalF", "OptimalFrontier", "ParetoFrontier", "eps_vs_f",
           "label_budget", "optimal_f", "optimal_frontier", "pareto_frontier",
           "smallest_useful_f"]


@dataclass(frozen=True)
class ParetoFrontier:
    """Lower envelope over ``f`` of the theory curves ``eps(alpha_prune)``.

    Attributes
    ----------
    alpha_prune : ndarray, shape (K,)
        Grid of examples seen per dimension.
    f_grid : ndarray, shape (F,)
        The fractions allowed (the envelope depends on them: see theory.md).
    eps_by_f : ndarray, shape (F, K)
        ``eps`` of every curve.
    eps : ndarray, shape (K,)
        Envelope ``min_f eps``.
    f_best : ndarray, shape (K,)
        The minimising ``f`` at each ``alpha_prune``.
    keep : str
        Pruning rule.
    theta : float
        Probe angle in degrees.
    """

    alpha_prune: np.ndarray
    f_grid: np.ndarray
    eps_by_f: np.ndarray
    eps: np.ndarray
    f_best: np.ndarray
    keep: str
    theta: float


@renamed_theta
def pareto_frontier(alpha_prune_grid, f_grid, *, keep="hard", theta=0.0,
                    learner="max-margin", metric="margin", flip=0.0, teacher_noise=0.0,
                    link="sign", link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """Lower envelope over ``f`` of ``eps(alpha_prune)`` with the minimising ``f``.

    Parameters
    ----------
    alpha_prune_grid : array_like, shape (K,)
        Examples seen per dimension, each in [1e-3, 1e4].
    f_grid : array_like, shape (F,)
        Kept fractions in [1e-3, 1].
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta : float, default 0
        Probe angle in degrees.
    learner, metric : str or plug-in, default "max-margin", "margin"
        Registered learner and pruning metric (names or instances), as in
        :func:`~perceptron_pruning.theory.curve`.
    flip, teacher_noise : float, default 0
        Label noise, as in :func:`~perceptron_pruning.theory.curve`.
    link, link_scale, truth_cos, probe_truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve`.

    Returns
    -------
    ParetoFrontier
    """
    keep = check_keep(keep)
    theta = check_theta(theta)
    alpha = np.atleast_1d(np.asarray(alpha_prune_grid, dtype=float))
    fs = np.atleast_1d(np.asarray(f_grid, dtype=float))
    if alpha.size == 0 or fs.size == 0:
        raise ValueError("alpha_prune_grid and f_grid must be non-empty")
    pl = _plugins(learner, metric, flip, teacher_noise, link, link_scale, truth_cos,
                  probe_truth_cos)
    eps = np.vstack([_th.curve(alpha, f=float(f), keep=keep, theta=theta, **pl).eps
                     for f in fs])
    k = np.argmin(eps, axis=0)
    return ParetoFrontier(alpha_prune=alpha, f_grid=fs, eps_by_f=eps,
                          eps=eps[k, np.arange(alpha.size)], f_best=fs[k], keep=keep,
                          theta=_probe_and_share(theta, pl)[0])


@dataclass(frozen=True)
class OptimalFrontier:
    """The Pareto frontier with ``f`` optimised continuously at each ``alpha_prune``.

    Attributes
    ----------
    alpha_prune : ndarray, shape (K,)
        Examples seen per dimension.
    eps : ndarray, shape (K,)
        ``min_f eps(alpha_prune, f)`` over ``f`` in ``[f_min, 1]``.
    f_opt : ndarray, shape (K,)
        The minimising ``f`` (to about 1e-3 relative).
    alpha_tot : ndarray, shape (K,)
        Examples drawn at the optimum, ``alpha_prune / f_opt`` (divided by ``p_agree`` too
        with a label-aware metric).
    f_min : float
        Smallest ``f`` allowed.
    keep : str
        Pruning rule.
    theta : float
        Probe angle in degrees.
    """

    alpha_prune: np.ndarray
    eps: np.ndarray
    f_opt: np.ndarray
    alpha_tot: np.ndarray
    f_min: float
    keep: str
    theta: float


@renamed_theta
def optimal_frontier(alpha_prune_grid, *, keep="hard", theta=0.0, learner="max-margin",
                     metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
                     link_scale=None, truth_cos=1.0, probe_truth_cos=None, f_min=1e-3,
                     n_grid=25):
    """Pareto frontier with ``f`` optimised continuously, not picked from a grid.

    At each ``alpha_prune`` the error is scanned on ``n_grid`` log-spaced ``f`` in
    ``[f_min, 1]`` (whole theory curves along the ``alpha_prune`` grid, so the scan costs
    ``n_grid`` curves), then refined by a bounded search in ``log f`` between the neighbours of
    the best scanned ``f``.

    Parameters
    ----------
    alpha_prune_grid : array_like, shape (K,)
        Examples seen per dimension, each in [1e-3, 1e4].
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta : float, default 0
        Probe angle in degrees.
    learner, metric : str or plug-in, default "max-margin", "margin"
        As in :func:`~perceptron_pruning.theory.curve`.
    flip, teacher_noise : float, default 0
        Label noise, as in :func:`~perceptron_pruning.theory.curve`.
    link, link_scale, truth_cos, probe_truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve`.
    f_min : float, default 1e-3
        Smallest ``f`` allowed, in [1e-3, 1].
    n_grid : int, default 25
        Scan resolution.

    Returns
    -------
    OptimalFrontier
    """
    keep = check_keep(keep)
    theta = check_theta(theta)
    f_min = check_real("f_min", f_min, low=_th.F_MIN, high=1.0)
    alpha = np.atleast_1d(np.asarray(alpha_prune_grid, dtype=float))
    if alpha.size == 0:
        raise ValueError("alpha_prune_grid must be non-empty")
    pl = _plugins(learner, metric, flip, teacher_noise, link, link_scale, truth_cos,
                  probe_truth_cos)
    fs = np.geomspace(f_min, 1.0, max(3, int(n_grid)))
    eps = np.vstack([_th.curve(alpha, f=float(f), keep=keep, theta=theta, **pl).eps for f in fs])
    f_opt, e_opt = np.empty(alpha.size), np.empty(alpha.size)
    for k, a in enumerate(alpha):
        i = int(np.argmin(eps[:, k]))
        f_opt[k], e_opt[k] = fs[i], eps[i, k]
        lo, hi = fs[max(i - 1, 0)], fs[min(i + 1, fs.size - 1)]
        res = minimize_scalar(
            lambda lf, a=a: _th.solve(a, f=math.exp(lf), keep=keep, theta=theta, **pl).eps,
            bounds=(math.log(lo), math.log(hi)), method="bounded", options={"xatol": 1e-3})
        if res.fun < e_opt[k]:
            f_opt[k], e_opt[k] = math.exp(float(res.x)), float(res.fun)
    th, share = _probe_and_share(theta, pl)
    return OptimalFrontier(alpha_prune=alpha, eps=e_opt, f_opt=f_opt,
                           alpha_tot=alpha / (f_opt * share), f_min=f_min, keep=keep, theta=th)


@dataclass(frozen=True)
class OptimalF:
    """The pruning fraction that minimises ``eps`` at fixed ``alpha_tot``.

    Attributes
    ----------
    alpha_tot : float
        Examples drawn per dimension.
    keep : str
        The rule that wins (``"hard"`` or ``"easy"``; for ``keep="best"`` the better of the two).
    theta : float
        Probe angle in degrees.
    f : float
        Optimal kept fraction.
    eps : float
        Error at the optimum.
    eps_unpruned : float
        Error with all the drawn data: ``f = 1``, and no filter (a label-aware metric's
        ``f = 1`` still drops the examples the probe disputes).
    eps_hard, eps_easy : float
        Best error of each rule (NaN for a rule that was not asked for).
    f_hard, f_easy : float
        Optimal fraction of each rule (NaN when not asked for).
    beats_unpruned : bool
        Pruning to ``f < 1`` beats keeping every example: ``eps < eps_unpruned (1 - 1e-8)``
        (the margin is well above the theory's accuracy). False with the max-margin student
        on clean labels, where ``f = 1`` is always optimal (the support-vector effect).
    """

    alpha_tot: float
    keep: str
    theta: float
    f: float
    eps: float
    eps_unpruned: float
    eps_hard: float
    eps_easy: float
    f_hard: float
    f_easy: float
    beats_unpruned: bool = False

    @property
    def gain(self) -> float:
        """``eps_unpruned / eps``: how many times smaller the error is at the optimal ``f``."""
        return self.eps_unpruned / self.eps


@renamed_theta
def eps_vs_f(alpha_tot, f_grid, *, keep="hard", theta=0.0, learner="max-margin",
             metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
             link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """``eps`` at fixed ``alpha_tot`` along a grid of ``f``, each ``f`` solved on its own.

    Parameters
    ----------
    alpha_tot : float
        Examples drawn per dimension (``alpha_prune = f alpha_tot``, times ``p_agree`` with a
        label-aware metric, must lie in [1e-3, 1e4]).
    f_grid : array_like, shape (F,)
        Kept fractions in [1e-3, 1].
    keep : {"hard", "easy", "random"}
        Pruning rule.
    theta : float
        Probe angle in degrees.
    learner, metric : str or plug-in, default "max-margin", "margin"
        Registered learner and pruning metric (names or instances), as in
        :func:`~perceptron_pruning.theory.curve`.
    flip, teacher_noise : float, default 0
        Label noise, as in :func:`~perceptron_pruning.theory.curve`.
    link, link_scale, truth_cos, probe_truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve`.

    Returns
    -------
    ndarray, shape (F,)
    """
    fs = np.atleast_1d(np.asarray(f_grid, dtype=float))
    pl = _plugins(learner, metric, flip, teacher_noise, link, link_scale, truth_cos,
                  probe_truth_cos)
    return np.array([_th.solve(alpha_tot=alpha_tot, f=float(f), keep=keep, theta=theta,
                               **pl).eps for f in fs])


_NOISE_KEYS = ("flip", "teacher_noise", "link", "link_scale", "truth_cos", "probe_truth_cos")


def _plugins(learner, metric, flip, teacher_noise, link="sign", link_scale=None, truth_cos=1.0,
             probe_truth_cos=None):
    noise = dict(flip=flip, teacher_noise=teacher_noise, link=link, link_scale=link_scale,
                 truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    LabelNoise(**noise)  # validated before any solve
    return {"learner": get_learner(learner), "metric": get_metric(metric), **noise}


def _noise(pl) -> LabelNoise:
    return LabelNoise(**{k: pl[k] for k in _NOISE_KEYS})


def _probe_and_share(theta, pl):
    """The probe's angle (a learned probe's predicted one) and the fraction of drawn examples a
    filtering metric leaves (1 for the others).
    """
    noise = _noise(pl)
    th = _th._probe_theta(pl["metric"], theta, noise)
    return th, pl["metric"].eligible_fraction(theta=th, noise=noise)


def _all_data_eps(alpha_tot, pl):
    """``eps`` with every drawn example (no pruning, no filter, so no probe either: its cosine
    with the ground truth is moot, the unpruned student having ``rho = 0``).
    """
    noise = {k: pl[k] for k in _NOISE_KEYS if k != "probe_truth_cos"}
    return _th.solve(alpha_tot=alpha_tot, f=1.0, learner=pl["learner"], **noise).eps


def _optimal_one(alpha_tot, keep, theta, pl, f_min, n_grid, rtol):
    fs = np.geomspace(f_min, 1.0, n_grid)
    eps = eps_vs_f(alpha_tot, fs, keep=keep, theta=theta, **pl)
    i = int(np.argmin(eps))
    tied = np.flatnonzero(eps <= eps[i] * (1.0 + rtol))
    if tied.size > 1:
        # A plateau (keep hard keeps every support vector down to f_c): report its smallest f,
        # the most data one can drop at no cost, rather than an arbitrary point on it.
        j = int(tied.min())
        return float(fs[j]), float(eps[j])
    lo, hi = fs[max(i - 1, 0)], fs[min(i + 1, fs.size - 1)]
    if hi > lo:
        res = minimize_scalar(
            lambda lf: _th.solve(alpha_tot=alpha_tot, f=math.exp(lf), keep=keep,
                                 theta=theta, **pl).eps,
            bounds=(math.log(lo), math.log(hi)), method="bounded", options={"xatol": 1e-4})
        if res.fun <= eps[i]:
            return math.exp(res.x), float(res.fun)
    return float(fs[i]), float(eps[i])


@renamed_theta
def optimal_f(alpha_tot, *, keep="best", theta=0.0, learner="max-margin", metric="margin",
              flip=0.0, teacher_noise=0.0, link="sign", link_scale=None, truth_cos=1.0,
              probe_truth_cos=None, f_min=None, n_grid=25, rtol=1e-9):
    """The ``f`` minimising ``eps`` at fixed ``alpha_tot``, and which rule wins there.

    Parameters
    ----------
    alpha_tot : float
        Examples drawn per dimension, in (0, 1e4].
    keep : {"best", "hard", "easy"}, default "best"
        Rule to optimise; ``"best"`` optimises both and reports the winner.
    theta : float, default 0
        Probe angle in degrees.
    learner, metric : str or plug-in, default "max-margin", "margin"
        Registered learner and pruning metric (names or instances), as in
        :func:`~perceptron_pruning.theory.curve`.
    flip, teacher_noise : float, default 0
        Label noise, as in :func:`~perceptron_pruning.theory.curve`.
    link, link_scale, truth_cos, probe_truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve`.
    f_min : float, optional
        Smallest fraction considered (default ``max(1e-3, 1e-3 / alpha_tot)``, with a
        label-aware metric ``max(1e-3, 1e-3 / (p_agree alpha_tot))``).
    n_grid : int, default 25
        Log-spaced scan of ``f`` before a bounded refinement around the best grid point.
    rtol : float, default 1e-9
        Errors within this relative tolerance tie. On a plateau of ties the smallest ``f`` is
        reported; between rules, a tie goes to the one keeping fewer examples.

    Returns
    -------
    OptimalF
    """
    alpha_tot = check_real("alpha_tot", alpha_tot, low=0.0, high=_th.ALPHA_MAX, low_open=True)
    theta = check_theta(theta)
    if keep not in ("best", "hard", "easy"):
        raise ValueError(f"keep must be one of best, hard, easy; got {keep!r}")
    pl = _plugins(learner, metric, flip, teacher_noise, link, link_scale, truth_cos,
                  probe_truth_cos)
    th, share = _probe_and_share(theta, pl)
    # The smallest f whose alpha_prune = f share alpha_tot the theory covers.
    lowest = max(_th.F_MIN, _th.ALPHA_MIN / (alpha_tot * share))
    if lowest > 1.0:
        raise ValueError(f"alpha_tot must be at least {_th.ALPHA_MIN / share:g} (alpha_prune "
                         f"= f * {share:.4g} * alpha_tot >= {_th.ALPHA_MIN:g}), got "
                         f"{alpha_tot:g}")
    f_min = check_real("f_min", lowest if f_min is None else f_min, low=lowest, high=1.0)
    eps1 = _all_data_eps(alpha_tot, pl)
    res = {}
    for rule in (("hard", "easy") if keep == "best" else (keep,)):
        res[rule] = _optimal_one(alpha_tot, rule, theta, pl, f_min, n_grid, rtol)
    best = min(r[1] for r in res.values())
    winner = min((r for r in res if res[r][1] <= best * (1.0 + rtol)), key=lambda r: res[r][0])
    nan = math.nan
    return OptimalF(alpha_tot=alpha_tot, keep=winner, theta=th, f=res[winner][0],
                    eps=res[winner][1], eps_unpruned=eps1,
                    eps_hard=res.get("hard", (nan, nan))[1],
                    eps_easy=res.get("easy", (nan, nan))[1],
                    f_hard=res.get("hard", (nan, nan))[0], f_easy=res.get("easy", (nan, nan))[0],
                    beats_unpruned=bool(res[winner][1] < eps1 * (1.0 - 1e-8)))


@renamed_theta
def smallest_useful_f(alpha_tot, *, keep="hard", theta=0.0, learner="max-margin",
                      metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
                      link_scale=None, truth_cos=1.0, probe_truth_cos=None, n_grid=25,
                      rtol=1e-6):
    """Smallest ``f`` at which pruning is no worse than keeping all the data.

    Scans ``f`` downwards from 1 and returns where ``eps(f)`` first rises above
    ``eps_all (1 + rtol)`` (``eps_all``: every drawn example, no filter), refined by bracketed
    root finding; returns the smallest ``f`` scanned when pruning never hurts, and NaN when
    even ``f = 1`` is worse (a filtering metric whose filter alone hurts). The answer depends on
    ``rtol``: with the perfect metric and keep hard, ``f alpha_tot`` at the edge levels off near
    6.6 for ``rtol = 1e-6`` (the exact edge of the plateau) and near 3.6-3.8 for
    ``rtol = 0.01`` (a 1% loss).

    Parameters
    ----------
    alpha_tot : float
        Examples drawn per dimension.
    keep : {"hard", "easy"}
        Pruning rule.
    theta : float
        Probe angle in degrees.
    learner, metric : str or plug-in, default "max-margin", "margin"
        Registered learner and pruning metric (names or instances), as in
        :func:`~perceptron_pruning.theory.curve`.
    flip, teacher_noise : float, default 0
        Label noise, as in :func:`~perceptron_pruning.theory.curve`.
    link, link_scale, truth_cos, probe_truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve`.
    n_grid : int, default 25
        Scan resolution.
    rtol : float, default 1e-6
        Relative rise of ``eps`` that counts as "worse".

    Returns
    -------
    float
    """
    alpha_tot = check_real("alpha_tot", alpha_tot, low=0.0, high=_th.ALPHA_MAX, low_open=True)
    rtol = check_real("rtol", rtol, low=0.0, high=1.0)
    pl = _plugins(learner, metric, flip, teacher_noise, link, link_scale, truth_cos,
                  probe_truth_cos)
    share = _probe_and_share(theta, pl)[1]
    f_min = max(_th.F_MIN, _th.ALPHA_MIN / (alpha_tot * share))
    if f_min > 1.0:
        raise ValueError(f"alpha_tot must be at least {_th.ALPHA_MIN / share:g}, got "
                         f"{alpha_tot:g}")
    fs = np.geomspace(f_min, 1.0, n_grid)[::-1]
    eps = eps_vs_f(alpha_tot, fs, keep=keep, theta=theta, **pl)
    eps1 = _all_data_eps(alpha_tot, pl)  # with a filtering metric f = 1 is not all the data
    thr = eps1 * rtol
    d = eps - eps1 - thr
    if d[0] > 0:
        return math.nan
    for i in range(1, fs.size):
        if d[i] > 0:
            g = lambda lf: _th.solve(alpha_tot=alpha_tot, f=math.exp(lf), keep=keep,  # noqa: E731
                                     theta=theta, **pl).eps - eps1 - thr
            return math.exp(brentq(g, math.log(fs[i]), math.log(fs[i - 1]), xtol=1e-6))
    return float(fs[-1])


@dataclass(frozen=True)
class BudgetSplit:
    """The best use of a label budget between a learned probe and the data it prunes.

    Attributes
    ----------
    budget : float
        Labels per dimension: ``probe_alpha + alpha_tot``. Every drawn example's label counts
        (a label-aware filter reads them all); a label-agnostic metric could label only the kept
        ones, at a cost of ``probe_alpha + f alpha_tot``, which this does not model.
    probe_alpha, alpha_tot : float
        The best split: examples per dimension that train the probe, and that are drawn to be
        pruned.
    f : float
        The best kept fraction at that split (``alpha_prune = f alpha_tot``, times ``p_agree``
        with a label-aware metric).
    keep : str
        The winning rule.
    theta : float
        The probe's predicted angle in degrees at that split.
    eps : float
        The error at the best split and ``f``.
    eps_unpruned : float
        The error with the whole budget spent on training data, no probe and no pruning.
    pays : bool
        Pruning with a learned probe beats spending every label on training data.
    probe_alphas : ndarray, shape (S,)
        The splits scanned.
    eps_by_split : ndarray, shape (S,)
        The best error over ``f`` (and the rules) at each scanned split.
    theta_by_split : ndarray, shape (S,)
        The probe's predicted angle at each scanned split.
    """

    budget: float
    probe_alpha: float
    alpha_tot: float
    f: float
    keep: str
    theta: float
    eps: float
    eps_unpruned: float
    pays: bool
    probe_alphas: np.ndarray
    eps_by_split: np.ndarray
    theta_by_split: np.ndarray


def label_budget(budget, *, probe_learner="max-margin", keep="best", learner="max-margin",
                 metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
                 link_scale=None, truth_cos=1.0, n_split=12, n_grid=15):
    """Best split of a label budget between a learned probe and the data it prunes.

    A probe trained on ``probe_alpha`` examples per dimension prunes ``alpha_tot`` fresh ones
    (theory-erm.md: as ``N -> infinity`` it is the angle model with
    ``cos(theta) = R_probe(probe_alpha)``). For ``probe_alpha + alpha_tot = budget`` this finds
    the ``probe_alpha`` and ``f`` that minimise the student's error, and compares with spending
    the whole budget on unpruned training data: it answers how good a metric must be for
    pruning to pay once its own labels are counted.

    Parameters
    ----------
    budget : float
        Labels per dimension, in [0.1, 1e4].
    probe_learner : str, default "max-margin"
        The probe's learner (a registered name; max-margin needs clean labels).
    keep : {"best", "hard", "easy"}, default "best"
        Rule to optimise, as in :func:`optimal_f`.
    learner : str or Learner, default "max-margin"
        The student trained on the pruned data.
    metric : str or Metric, default "margin"
        A metric that learns its probe (the margin metric, with any ``score``, ``score_noise``,
        ``label_aware``); its ``probe_alpha`` and ``probe_learner`` are set here.
    flip, teacher_noise : float, default 0
        Label noise of every example, the probe's included.
    link, link_scale, truth_cos : optional
        Label channel and ground truth, as in :func:`~perceptron_pruning.theory.curve` (a
        learned probe's angle is an outcome: ``probe_truth_cos`` is ``cos(theta) truth_cos``).
    n_split : int, default 12
        Log-spaced scan of ``probe_alpha`` in ``[1e-2, 0.9] budget`` before a bounded
        refinement around the best.
    n_grid : int, default 15
        Scan of ``f`` at each split (:func:`optimal_f`).

    Returns
    -------
    BudgetSplit
    """
    # The scan reaches alpha_tot = 0.1 budget, where f down to 1e-3 must stay in the theory's
    # range (alpha_prune >= 1e-3) for any filter leaving at least half the examples.
    budget = check_real("budget", budget, low=0.1, high=_th.ALPHA_MAX)
    n_split = int(check_real("n_split", n_split, low=3, high=200))
    pl = _plugins(learner, get_metric(metric, probe_alpha=budget / 2,
                                      probe_learner=probe_learner), flip, teacher_noise, link,
                  link_scale, truth_cos)
    noise = _noise(pl)
    pl["metric"].check_point(theta=0.0, noise=noise)
    eps_all = _th.solve(alpha_prune=budget, f=1.0, learner=pl["learner"],
                        **{k: pl[k] for k in _NOISE_KEYS}).eps

    @functools.cache  # the refinement's best split is not solved twice
    def at(a0):
        m = get_metric(pl["metric"], probe_alpha=a0)
        o = optimal_f(budget - a0, keep=keep, **{**pl, "metric": m}, n_grid=n_grid)
        return o, m.probe_theta(noise)

    a0s = np.geomspace(1e-2 * budget, 0.9 * budget, n_split)
    runs = [at(float(a)) for a in a0s]
    eps = np.array([o.eps for o, _ in runs])
    i = int(np.argmin(eps))
    best_a0, (best, th) = float(a0s[i]), runs[i]
    lo, hi = a0s[max(i - 1, 0)], a0s[min(i + 1, a0s.size - 1)]
    res = minimize_scalar(lambda la: at(math.exp(la))[0].eps, bounds=(math.log(lo), math.log(hi)),
                          method="bounded", options={"xatol": 1e-3})
    if res.fun < best.eps:
        best_a0 = math.exp(res.x)
        best, th = at(best_a0)
    return BudgetSplit(budget=budget, probe_alpha=best_a0, alpha_tot=budget - best_a0, f=best.f,
                       keep=best.keep, theta=th, eps=best.eps, eps_unpruned=eps_all,
                       pays=bool(best.eps < eps_all * (1.0 - 1e-8)), probe_alphas=a0s,
                       eps_by_split=eps, theta_by_split=np.array([t for _, t in runs]))
