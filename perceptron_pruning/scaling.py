"""Scaling diagnostics: power-law and exponential fits of learning curves."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ScalingFit", "fit_power_law", "fit_exponential", "local_exponent"]


@dataclass(frozen=True)
class ScalingFit:
    """Least-squares fit of ``log eps`` over ``alpha`` in ``[alpha_min, alpha_max]``.

    Attributes
    ----------
    kind : str
        ``"power"`` for ``eps = A alpha^-nu``; ``"exponential"`` for ``eps = B exp(-c alpha)``.
    prefactor : float
        ``A`` or ``B``.
    rate : float
        ``nu`` (power law) or ``c`` (exponential, per unit alpha).
    r2 : float
        Coefficient of determination of the fit of ``log eps``.
    rms_log_residual : float
        Root-mean-square residual of ``log eps`` (0.01 means a typical 1% misfit).
    alpha_min, alpha_max : float
        Range fitted; ``n_points`` points were used.
    n_points : int
        Number of points in the range.
    """

    kind: str
    prefactor: float
    rate: float
    r2: float
    rms_log_residual: float
    alpha_min: float
    alpha_max: float
    n_points: int

    def predict(self, alpha):
        """Fitted ``eps`` at ``alpha`` (array_like)."""
        alpha = np.asarray(alpha, dtype=float)
        if self.kind == "power":
            return self.prefactor * alpha ** (-self.rate)
        return self.prefactor * np.exp(-self.rate * alpha)

    def label(self) -> str:
        """Short mathtext label, e.g. ``power law, nu = 1.00``."""
        if self.kind == "power":
            return rf"power law, $\nu = {self.rate:.2f}$"
        return rf"exponential, $c = {self.rate:.3g}$"


def _prepare(alpha, eps, alpha_min, alpha_max):
    alpha = np.asarray(alpha, dtype=float)
    eps = np.asarray(eps, dtype=float)
    if alpha.shape != eps.shape or alpha.ndim != 1:
        raise ValueError("alpha and eps must be 1-D arrays of the same shape")
    lo = alpha.min() if alpha_min is None else float(alpha_min)
    hi = alpha.max() if alpha_max is None else float(alpha_max)
    sel = (alpha >= lo) & (alpha <= hi) & np.isfinite(eps) & (eps > 0)
    if np.count_nonzero(sel) < 3:
        raise ValueError("need at least 3 points with eps > 0 in [alpha_min, alpha_max] to fit")
    return alpha[sel], eps[sel], lo, hi


def _linfit(x, y):
    A = np.vstack([np.ones_like(x), x]).T
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return coef, r2, float(np.sqrt(np.mean(resid**2)))


def fit_power_law(alpha, eps, *, alpha_min=None, alpha_max=None):
    """Fit ``eps = A alpha^-nu`` by least squares on ``log eps`` vs ``log alpha``.

    Parameters
    ----------
    alpha, eps : array_like, shape (K,)
        Learning curve (``eps > 0``).
    alpha_min, alpha_max : float, optional
        Fitting range (default: all points).

    Returns
    -------
    ScalingFit
    """
    a, e, lo, hi = _prepare(alpha, eps, alpha_min, alpha_max)
    coef, r2, rms = _linfit(np.log(a), np.log(e))
    return ScalingFit("power", math.exp(coef[0]), -coef[1], r2, rms, lo, hi, a.size)


def fit_exponential(alpha, eps, *, alpha_min=None, alpha_max=None):
    """Fit ``eps = B exp(-c alpha)`` by least squares on ``log eps`` vs ``alpha``.

    Parameters
    ----------
    alpha, eps : array_like, shape (K,)
        Learning curve (``eps > 0``).
    alpha_min, alpha_max : float, optional
        Fitting range (default: all points).

    Returns
    -------
    ScalingFit
    """
    a, e, lo, hi = _prepare(alpha, eps, alpha_min, alpha_max)
    coef, r2, rms = _linfit(a, np.log(e))
    return ScalingFit("exponential", math.exp(coef[0]), -coef[1], r2, rms, lo, hi, a.size)


def local_exponent(alpha, eps):
    """Local power-law exponent ``nu(alpha) = -d log eps / d log alpha`` (finite differences).

    A power law has a constant ``nu``; a curve that beats every power law has ``nu`` growing
    without bound.

    Parameters
    ----------
    alpha, eps : array_like, shape (K,)
        Learning curve on an increasing grid.

    Returns
    -------
    ndarray, shape (K,)
    """
    alpha = np.asarray(alpha, dtype=float)
    eps = np.asarray(eps, dtype=float)
    return -np.gradient(np.log(eps), np.log(alpha))
