"""Finite-size trials: draw, prune, train the max-margin student, measure its overlaps."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from ._validation import check_f, check_int, check_keep, check_real, check_theta
from .data import make_problem
from .maxmargin import max_margin
from .pruning import n_kept, prune

__all__ = ["SimulationResult", "Trial", "run_trial", "simulate"]


@dataclass(frozen=True)
class Trial:
    """One seed's outcome. ``eps = arccos(R) / pi``; ``rho`` is the overlap with the probe's
    direction orthogonal to the teacher; ``kappa`` the student's margin.
    """

    seed: int
    eps: float
    R: float
    kappa: float
    rho: float
    n_support: int


@dataclass(frozen=True)
class SimulationResult:
    """Trials at one parameter point, with per-seed arrays, means and standard errors.

    Attributes
    ----------
    n, p_tot, p_kept : int
        Dimension, examples drawn and examples kept.
    alpha_tot, alpha_prune, f : float
        ``p_tot / n`` requested, ``p_kept / n`` realised, and the kept fraction.
    keep : str
        Pruning rule.
    theta : float
        Probe angle in degrees.
    seeds, eps, R, kappa, rho, n_support : ndarray, shape (S,)
        Per-seed values.
    """

    n: int
    p_tot: int
    p_kept: int
    alpha_tot: float
    alpha_prune: float
    f: float
    keep: str
    theta: float
    seeds: np.ndarray
    eps: np.ndarray
    R: np.ndarray
    kappa: np.ndarray
    rho: np.ndarray
    n_support: np.ndarray

    @staticmethod
    def _sem(x):
        return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan

    @property
    def eps_mean(self) -> float:
        """Mean generalisation error over seeds."""
        return float(np.mean(self.eps))

    @property
    def eps_sem(self) -> float:
        """Standard error of ``eps_mean`` (NaN for one seed)."""
        return self._sem(self.eps)

    @property
    def R_mean(self) -> float:  # noqa: N802 - R is the physics symbol
        """Mean teacher overlap."""
        return float(np.mean(self.R))

    @property
    def kappa_mean(self) -> float:
        """Mean margin."""
        return float(np.mean(self.kappa))

    @property
    def rho_mean(self) -> float:
        """Mean overlap with the probe's orthogonal direction."""
        return float(np.mean(self.rho))

    @property
    def R_sem(self) -> float:
        """Standard error of ``R_mean``."""
        return self._sem(self.R)

    @property
    def kappa_sem(self) -> float:
        """Standard error of ``kappa_mean``."""
        return self._sem(self.kappa)

    @property
    def rho_sem(self) -> float:
        """Standard error of ``rho_mean``."""
        return self._sem(self.rho)

    def trials(self) -> list[Trial]:
        """Per-seed outcomes as a list of :class:`Trial`."""
        return [Trial(int(s), float(e), float(r), float(k), float(p), int(ns))
                for s, e, r, k, p, ns in zip(self.seeds, self.eps, self.R, self.kappa,
                                             self.rho, self.n_support)]

    def to_dict(self) -> dict:
        """JSON-ready summary (the CLI's ``--json`` keys)."""
        return {
            "n": self.n, "alpha_tot": self.alpha_tot, "alpha_prune": self.alpha_prune,
            "f": self.f, "keep": self.keep, "theta": self.theta, "seeds": int(self.seeds.size),
            "eps_mean": self.eps_mean, "eps_sem": self.eps_sem, "R_mean": self.R_mean,
            "kappa_mean": self.kappa_mean, "rho_mean": self.rho_mean,
            "per_seed": [asdict(t) for t in self.trials()],
        }


def _check_point(n, alpha_tot, f, keep, theta_deg):
    n = check_int("n", n, minimum=1)
    alpha_tot = check_real("alpha_tot", alpha_tot, low=0.0, low_open=True)
    f = check_f(f)
    keep = check_keep(keep)
    theta_deg = check_theta(theta_deg)
    p_tot = int(round(alpha_tot * n))
    if p_tot < 1:
        raise ValueError("alpha_tot * n must be at least 1 example; got "
                         f"alpha_tot = {alpha_tot:g}, "
                         f"n = {n}")
    if n == 1 and theta_deg != 0.0:
        raise ValueError("theta_deg must be 0 when n = 1")
    k = n_kept(p_tot, f)
    return n, alpha_tot, f, keep, theta_deg, p_tot, k


def run_trial(n, alpha_tot, f, keep, theta_deg, seed):
    """Run one trial from ``numpy.random.default_rng(seed)``; returns a :class:`Trial`.

    The numbers depend only on the arguments, never on threads or workers.
    """
    n, alpha_tot, f, keep, theta_deg, p_tot, _ = _check_point(n, alpha_tot, f, keep, theta_deg)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    prob = make_problem(n, p_tot, theta_deg, rng)
    idx = prune(prob.X, prob.probe, f, keep, rng=rng)
    res = max_margin(prob.X[idx], prob.y[idx])
    R = float(np.clip(res.w @ prob.teacher, -1.0, 1.0))
    rho = float(res.w @ prob.probe_perp)
    return Trial(seed=seed, eps=math.acos(R) / math.pi, R=R, kappa=res.kappa, rho=rho,
                 n_support=res.n_support)


def simulate(n, alpha_tot, f=1.0, keep="hard", theta_deg=0.0, seeds=8, *, n_threads=None):
    """Simulate max-margin learning on pruned teacher-student data, over several seeds.

    Parameters
    ----------
    n : int
        Input dimension ``N >= 1``.
    alpha_tot : float
        Examples drawn per dimension, ``> 0``; ``P_tot = round(alpha_tot * n)``.
    f : float, default 1
        Fraction kept, in (0, 1]; ``round(f * P_tot)`` examples are kept (at least one).
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule applied to the probe margin ``|J_probe . x|``.
    theta_deg : float, default 0
        Angle between probe and teacher in degrees, in [0, 90]; 0 is the perfect metric.
    seeds : int or sequence of int, default 8
        A count ``S >= 1`` (seeds ``0 .. S-1``) or explicit non-negative seeds.
    n_threads : int, optional
        Trials run side by side on this many threads (default: all cores). Results do not
        depend on it.

    Returns
    -------
    SimulationResult
    """
    n, alpha_tot, f, keep, theta_deg, p_tot, k = _check_point(n, alpha_tot, f, keep, theta_deg)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = list(range(check_int("seeds", seeds, minimum=1)))
    else:
        seeds = [check_int("seed", s, minimum=0) for s in seeds]
        if not seeds:
            raise ValueError("seeds must contain at least one seed (>= 1 seeds)")
    if n_threads is None:
        n_threads = os.cpu_count() or 1
    n_threads = check_int("n_threads", n_threads, minimum=1)

    def one(s):
        return run_trial(n, alpha_tot, f, keep, theta_deg, s)

    if n_threads == 1 or len(seeds) == 1:
        trials = [one(s) for s in seeds]
    else:
        with ThreadPoolExecutor(max_workers=min(n_threads, len(seeds))) as pool:
            trials = list(pool.map(one, seeds))
    col = lambda name: np.array([getattr(t, name) for t in trials])  # noqa: E731
    return SimulationResult(
        n=n, p_tot=p_tot, p_kept=k, alpha_tot=alpha_tot, alpha_prune=k / n, f=f, keep=keep,
        theta=theta_deg, seeds=np.array(seeds, dtype=np.int64), eps=col("eps"), R=col("R"),
        kappa=col("kappa"), rho=col("rho"), n_support=col("n_support").astype(np.int64),
    )
