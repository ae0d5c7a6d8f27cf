"""Finite-size scaling: simulate one point at growing ``N`` and extrapolate to ``N -> infinity``.

The mean error at dimension ``N`` is fitted with ``eps_N = eps_inf + a N^-b`` by weighted least
squares (weights ``1 / sem^2``, the standard errors taken as exact), and ``eps_inf`` is compared
with the theory (:func:`~perceptron_pruning.theory.solve`). When the data do not pin ``b`` down
(no visible trend, or a relative error on ``b`` above one half) the fit falls back to a fixed
exponent, ``b = 1`` by default, and says so (:attr:`Extrapolation.b_fitted`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ._validation import check_int, check_real
from .sweep import MAX_REPLICATES, aggregate, make_tasks, run_sweep

__all__ = ["N_VALUES", "Extrapolation", "FiniteSizeStudy", "default_seeds", "extrapolate",
           "studies", "study"]

N_VALUES = (100, 200, 400, 800, 1600, 3200)
B_BOUNDS = (0.05, 5.0)  # a free exponent that ends on a bound is not determined by the data


@dataclass(frozen=True)
class Extrapolation:
    """Weighted least-squares fit of ``eps_N = eps_inf + a N^-b``.

    Attributes
    ----------
    eps_inf, eps_inf_se : float
        Extrapolated error at ``N -> infinity`` and its standard error.
    a, a_se : float
        Amplitude of the correction and its standard error.
    b, b_se : float
        Exponent of the correction and its standard error (NaN when ``b`` was fixed).
    chi2 : float
        ``sum ((eps_N - fit) / sem)^2`` at the optimum.
    dof : int
        Degrees of freedom: points minus fitted parameters.
    b_fitted : bool
        True if ``b`` was a free parameter; False if it was held fixed (asked for, or the
        fallback when a free fit left ``b`` undetermined).
    reason : str
        Why ``b`` was fixed (empty when it was fitted).
    """

    eps_inf: float
    eps_inf_se: float
    a: float
    a_se: float
    b: float
    b_se: float
    chi2: float
    dof: int
    b_fitted: bool
    reason: str = ""

    def predict(self, n):
        """Fitted ``eps_N`` at ``n`` (array_like of dimensions)."""
        return self.eps_inf + self.a * np.asarray(n, dtype=float) ** (-self.b)

    @property
    def p_value(self) -> float:
        """Probability of a ``chi2`` at least this large if the model and the sems are right."""
        from scipy.stats import chi2

        return float(chi2.sf(self.chi2, self.dof)) if self.dof > 0 else math.nan


def _check_series(n, eps_mean, eps_sem):
    n = np.asarray(n, dtype=float)
    eps = np.asarray(eps_mean, dtype=float)
    sem = np.asarray(eps_sem, dtype=float)
    if n.ndim != 1 or eps.shape != n.shape or sem.shape != n.shape:
        raise ValueError(f"n, eps_mean and eps_sem must be 1-D arrays of the same length; got "
                         f"shapes {n.shape}, {eps.shape} and {sem.shape}")
    if n.size < 3:
        raise ValueError(f"n must hold at least 3 dimensions to extrapolate; got {n.size}")
    if not np.all(np.isfinite(n) & (n > 0)) or np.unique(n).size != n.size:
        raise ValueError("n must be distinct dimensions in (0, inf)")
    if not np.all(np.isfinite(eps)):
        raise ValueError("eps_mean must be finite")
    if not np.all(np.isfinite(sem) & (sem > 0)):
        raise ValueError("eps_sem must be in (0, inf) (a standard error from two or more seeds)")
    return n, eps, sem


def _fit_fixed(n, eps, sem, b, reason):
    """Linear weighted least squares for ``eps_inf`` and ``a`` at a given ``b``."""
    A = np.column_stack([np.ones_like(n), n ** (-b)]) / sem[:, None]
    coef, *_ = np.linalg.lstsq(A, eps / sem, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(np.sum((A @ coef - eps / sem) ** 2))
    se = np.sqrt(np.diag(cov))
    return Extrapolation(float(coef[0]), float(se[0]), float(coef[1]), float(se[1]), float(b),
                         math.nan, chi2, n.size - 2, False, reason)


def _fit_free(n, eps, sem, b0):
    """Nonlinear fit of all three parameters, or a string saying why it gave no ``b``."""
    from scipy.optimize import OptimizeWarning, curve_fit

    n0 = float(n.min())  # fit a' (N / n0)^-b, then a = a' n0^b: O(1) parameters
    start = _fit_fixed(n, eps, sem, b0, "")

    def model(x, e_inf, a_scaled, b):
        return e_inf + a_scaled * x ** (-b)

    p0 = [start.eps_inf, start.a * n0 ** (-b0), b0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            p, cov = curve_fit(model, n / n0, eps, p0=p0, sigma=sem, absolute_sigma=True,
                               bounds=([-np.inf, -np.inf, B_BOUNDS[0]],
                                       [np.inf, np.inf, B_BOUNDS[1]]), max_nfev=10_000)
    except (RuntimeError, ValueError, OptimizeWarning) as exc:
        return f"free fit failed ({type(exc).__name__})"
    e_inf, a_s, b = (float(v) for v in p)
    if not np.all(np.isfinite(cov)):
        return "free fit left b undetermined (singular covariance)"
    # a = a' n0^b: propagate the covariance through the Jacobian of (e_inf, a, b).
    scale = n0**b
    jac = np.array([[1.0, 0.0, 0.0], [0.0, scale, a_s * scale * math.log(n0)],
                    [0.0, 0.0, 1.0]])
    cov = jac @ cov @ jac.T
    se = np.sqrt(np.diag(cov))
    chi2 = float(np.sum(((model(n / n0, *p) - eps) / sem) ** 2))
    if not (B_BOUNDS[0] * 1.001 < b < B_BOUNDS[1] * 0.999):
        return f"free fit put b = {b:.3g} on its bound"
    if not se[2] <= 0.5 * b:
        return f"free fit left b undetermined (b = {b:.3g} +- {se[2]:.2g})"
    return Extrapolation(e_inf, float(se[0]), a_s * scale, float(se[1]), b, float(se[2]), chi2,
                         n.size - 3, True, "")


def extrapolate(n, eps_mean, eps_sem, *, b=None, b_fallback=1.0):
    """Extrapolate finite-``N`` means to ``N -> infinity`` with ``eps_N = eps_inf + a N^-b``.

    Weighted least squares with the standard errors taken as exact (``curve_fit`` with
    ``absolute_sigma=True``), so the reported errors do not rescale with ``chi2``; compare
    ``chi2`` with ``dof`` to judge the model.

    Parameters
    ----------
    n : array_like, shape (K,)
        Distinct dimensions, ``K >= 3``.
    eps_mean, eps_sem : array_like, shape (K,)
        Mean error at each ``N`` and its standard error (``> 0``).
    b : float, optional
        Fix the exponent (in [0.05, 5]) instead of fitting it.
    b_fallback : float, default 1
        Exponent used when ``b`` is free but the data do not determine it: fewer than 4 points,
        a failed fit, ``b`` on a bound of [0.05, 5], or ``b_se > b / 2``.

    Returns
    -------
    Extrapolation
        ``b_fitted`` says whether ``b`` was free; ``reason`` why not.

    Raises
    ------
    ValueError
        If the arrays differ in shape, ``K < 3``, an ``n`` is not positive or repeats, a mean is
        not finite, a standard error is not in (0, inf), or ``b`` / ``b_fallback`` is out of range.
    """
    n, eps, sem = _check_series(n, eps_mean, eps_sem)
    if b is not None:
        b = check_real("b", b, low=B_BOUNDS[0], high=B_BOUNDS[1])
        return _fit_fixed(n, eps, sem, b, "b given")
    b_fallback = check_real("b_fallback", b_fallback, low=B_BOUNDS[0], high=B_BOUNDS[1])
    if n.size < 4:
        return _fit_fixed(n, eps, sem, b_fallback, f"{n.size} points: too few to fit b")
    fit = _fit_free(n, eps, sem, b_fallback)
    if isinstance(fit, Extrapolation):
        return fit
    return _fit_fixed(n, eps, sem, b_fallback, fit)


@dataclass(frozen=True)
class FiniteSizeStudy:
    """One parameter point simulated at several ``N``, extrapolated and compared with theory.

    Attributes
    ----------
    alpha_tot, f : float
        Examples drawn per dimension and kept fraction.
    keep : str
        Pruning rule.
    theta : float
        Probe angle in degrees.
    learner, metric : str
        The plug-ins.
    n : ndarray of int, shape (K,)
        Dimensions simulated.
    seeds : ndarray of int, shape (K,)
        Trials at each ``N``.
    eps_mean, eps_sem : ndarray, shape (K,)
        Mean error and its standard error at each ``N``.
    fit : Extrapolation
        ``eps_N = eps_inf + a N^-b``.
    eps_theory : float
        The ``N -> infinity`` theory.
    results : tuple of SimulationResult
        Every trial, one result per ``N``.
    """

    alpha_tot: float
    f: float
    keep: str
    theta: float
    learner: str
    metric: str
    n: np.ndarray
    seeds: np.ndarray
    eps_mean: np.ndarray
    eps_sem: np.ndarray
    fit: Extrapolation
    eps_theory: float
    results: tuple

    @property
    def gap(self) -> float:
        """``eps_inf - eps_theory``."""
        return self.fit.eps_inf - self.eps_theory

    @property
    def gap_se(self) -> float:
        """Standard error of :attr:`gap` (the theory counts as exact)."""
        return self.fit.eps_inf_se

    def summary(self) -> dict:
        """The point, the fit and the gap as one flat row."""
        ft = self.fit
        return {"alpha_tot": self.alpha_tot, "f": self.f, "keep": self.keep,
                "theta": self.theta, "learner": self.learner, "metric": self.metric,
                "n_min": int(self.n.min()), "n_max": int(self.n.max()),
                "trials": int(self.seeds.sum()), "eps_theory": self.eps_theory,
                "eps_inf": ft.eps_inf, "eps_inf_se": ft.eps_inf_se, "a": ft.a, "a_se": ft.a_se,
                "b": ft.b, "b_se": ft.b_se, "b_fitted": ft.b_fitted, "chi2": ft.chi2,
                "dof": ft.dof, "gap": self.gap, "gap_se": self.gap_se}


def default_seeds(n_values, *, largest=10, power=1.5):
    """Trials per ``N``: ``ceil(largest (N_max / N)^power)``.

    The spread of ``eps`` over seeds falls like ``N^-1/2`` while a trial costs ``~N^2`` to
    ``N^3``: small ``N`` are cheap. ``power = 1.5`` gives the small ``N`` the smaller errors
    (``sem ~ N^(1/4)``), which pins down the correction ``a N^-b``, and leaves the few costly
    trials at large ``N`` to anchor ``eps_inf``.

    Parameters
    ----------
    n_values : sequence of int
        Dimensions.
    largest : int, default 10
        Trials at the largest ``N``, in [2, 1e6].
    power : float, default 1.5
        In [0, 4]; 1 gives about the same standard error at every ``N``.

    Returns
    -------
    tuple of int
        One per ``n_values`` entry, at most 1e6.
    """
    largest = check_int("largest", largest, minimum=2, maximum=MAX_REPLICATES)
    power = check_real("power", power, low=0.0, high=4.0)
    n_values = _check_n_values(n_values)
    top = max(n_values)
    return tuple(min(MAX_REPLICATES, math.ceil(largest * (top / n) ** power - 1e-9))
                 for n in n_values)


def _check_n_values(n_values):
    try:
        vals = [check_int("n_values", v, minimum=2) for v in n_values]
    except TypeError:
        raise ValueError(f"n_values must be a sequence of integers >= 2, got {n_values!r}") \
            from None
    if len(vals) < 3 or len(set(vals)) != len(vals):
        raise ValueError(f"n_values must hold at least 3 distinct integers >= 2, got {vals}")
    return tuple(vals)


def _check_seeds(seeds, n_values):
    if seeds is None:
        return default_seeds(n_values)
    if np.isscalar(seeds) or isinstance(seeds, (int, np.integer)):
        seeds = [seeds] * len(n_values)
    seeds = [check_int("seeds", s, minimum=2, maximum=MAX_REPLICATES) for s in seeds]
    if len(seeds) != len(n_values):
        raise ValueError(f"seeds must be one integer or one per n value ({len(n_values)}); "
                         f"got {len(seeds)}")
    return tuple(seeds)


def studies(points, *, n_values=N_VALUES, seeds=None, seed=0, learner="max-margin",
            metric="margin", b=None, executor=None, cache_dir=None, progress=False):
    """Finite-size studies of several points, run as one sweep (all trials share the executor).

    Parameters
    ----------
    points : sequence of mapping
        Each with ``alpha_tot`` and optionally ``f`` (default 1), ``keep`` (``"hard"``) and
        ``theta`` (0, degrees).
    n_values, seeds, seed, learner, metric, b, executor, cache_dir, progress
        As in :func:`study`.

    Returns
    -------
    list of FiniteSizeStudy
        One per point, in order.
    """
    from . import theory

    n_values = _check_n_values(n_values)
    seeds = _check_seeds(seeds, n_values)
    pts = []
    for p in points:
        if not isinstance(p, Mapping) or "alpha_tot" not in p:
            raise ValueError(f"each point must be a mapping with alpha_tot; got {p!r}")
        extra = set(p) - {"alpha_tot", "f", "keep", "theta"}
        if extra:
            raise ValueError(f"a point may only set alpha_tot, f, keep, theta; got {sorted(extra)}")
        pts.append({"f": 1.0, "keep": "hard", "theta": 0.0, **p})
    if not pts:
        raise ValueError("points must not be empty")
    groups = [[make_tasks(n=n, replicates=s, seed=seed, learner=learner, metric=metric, **p)
               for n, s in zip(n_values, seeds)] for p in pts]
    # Largest N first: the long trials start early and the short ones fill the gaps.
    order = sorted(((n, i, k) for i, g in enumerate(groups) for k, n in enumerate(n_values)),
                   reverse=True)
    tasks = [t for _, i, k in order for t in groups[i][k]]
    done = dict(zip(tasks, run_sweep(tasks, cache_dir=cache_dir, executor=executor,
                                     progress=progress, desc="finite size")))
    out = []
    for p, g in zip(pts, groups):
        results = aggregate([done[t] for ts in g for t in ts])
        eps_theory = theory.solve(alpha_tot=p["alpha_tot"], f=p["f"], keep=p["keep"],
                                  theta=p["theta"], learner=learner, metric=metric).eps
        out.append(_analyse(results, eps_theory, b=b))
    return out


def _analyse(results, eps_theory, *, b=None):
    """Fit and wrap the per-N results of one point."""
    r0 = results[0]
    n = np.array([r.n for r in results])
    eps = np.array([r.eps_mean for r in results])
    sem = np.array([r.eps_sem for r in results])
    return FiniteSizeStudy(alpha_tot=r0.alpha_tot, f=r0.f, keep=r0.keep, theta=r0.theta,
                           learner=r0.learner, metric=r0.metric, n=n,
                           seeds=np.array([r.replicates for r in results]), eps_mean=eps,
                           eps_sem=sem, fit=extrapolate(n, eps, sem, b=b),
                           eps_theory=float(eps_theory), results=tuple(results))


def study(alpha_tot, *, f=1.0, keep="hard", theta=0.0, n_values=N_VALUES, seeds=None, seed=0,
          learner="max-margin", metric="margin", b=None, executor=None, cache_dir=None,
          progress=False) -> FiniteSizeStudy:
    """Simulate one point at several ``N``, extrapolate to ``N -> infinity``, compare with theory.

    Parameters
    ----------
    alpha_tot : float
        Examples drawn per dimension, ``> 0``.
    f : float, default 1
        Fraction kept, in (0, 1].
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta : float, default 0
        Probe angle in degrees, in [0, 90].
    n_values : sequence of int, default (100, 200, 400, 800, 1600, 3200)
        At least 3 distinct dimensions ``>= 2`` (4 or more to fit ``b``).
    seeds : int or sequence of int, optional
        Trials at every ``N`` (one integer) or at each ``N`` (in [2, 1e6]). Default:
        :func:`default_seeds`, 10 at the largest ``N`` and ``~N^-1.5`` more below.
    seed : int, default 0
        Root seed; replicate ``r`` at every ``N`` uses the ``r``-th child of
        ``SeedSequence(seed)``, as in :func:`~perceptron_pruning.simulate`.
    learner, metric : str, default "max-margin", "margin"
        Registered plug-ins (simulation and theory).
    b : float, optional
        Fix the exponent of the correction instead of fitting it (:func:`extrapolate`).
    executor : concurrent.futures.Executor, optional
        Runs the trials; default: one after another in this process.
    cache_dir : str or Path, optional
        Trial cache (:func:`~perceptron_pruning.sweep.run_sweep`).
    progress : bool or None, default False
        Show a progress bar (None: only when stderr is a terminal).

    Returns
    -------
    FiniteSizeStudy
        Per-``N`` means and standard errors, the fit, the theory and the gap
        ``eps_inf - eps_theory`` with its standard error.

    Raises
    ------
    ValueError
        If a parameter is out of range (the message names it and the range).
    """
    point = {"alpha_tot": alpha_tot, "f": f, "keep": keep, "theta": theta}
    (res,) = studies([point], n_values=n_values, seeds=seeds, seed=seed, learner=learner,
                     metric=metric, b=b, executor=executor, cache_dir=cache_dir,
                     progress=progress)
    return res
