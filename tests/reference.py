"""Independent references for the tests; nothing here imports :mod:`perceptron_pruning`.

- :func:`clarabel_max_margin`: the max-margin problem solved directly as a QP by Clarabel.
- :func:`teacher_problem`: Gaussian inputs labelled by a random teacher, drawn with numpy.
- :func:`maxmargin_curve_point`: the textbook unpruned max-margin learning curve.
- :func:`teacher_student`, :func:`erm_objective`, :func:`erm_gradient` and
  :func:`clarabel_hinge`: data, objective, gradient and a QP oracle of the regularised learners
  (optionally with per-example loss weights), in the package's convention.

The replica-symmetric equations of the
maximal-stability perceptron trained on ``P = alpha N`` teacher-labelled Gaussian examples
(Gardner 1988; Opper, Kinzel, Kleinz & Nehl 1990) are written with ``t = |u|`` (density
``2 phi(t)`` on ``[0, inf)``), ``m = kappa - R t``, ``s = sqrt(1 - R^2)`` and ``a = m / s``:

1. ``1 - R^2 = alpha < (m^2 + s^2) Phi(a) + m s phi(a) >``
2. ``R (1 - alpha <Phi(a)>) = alpha < t (m Phi(a) + s phi(a)) >``

Equation 1 defines, for each ``R``, the largest margin ``kappa_1(R)`` reachable at that overlap;
the student's margin is ``max_R kappa_1(R)`` and equation 2 is the stationarity condition of
that maximum. We solve the variational form (nested scalar root finding and a bounded scalar
maximisation), then check equation 2 separately, so a wrong branch cannot pass unnoticed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import integrate, optimize, special

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _phi(x):
    return _INV_SQRT2PI * math.exp(-0.5 * x * x)


def _Phi(x):
    return 0.5 * special.erfc(-x / _SQRT2)


def _avg(fun, kappa, R):
    """``< fun(t) >`` over ``t = |u|`` with density ``2 phi(t)``; breakpoints where ``m = 0``."""
    s = math.sqrt(max(1.0 - R * R, 0.0))
    pts = []
    if R > 0.0:
        t0 = kappa / R  # where m = 0; the integrand changes over a width ~ s / R around it
        pts = sorted(p for p in (t0 - 8.0 * s / R, t0, t0 + 8.0 * s / R) if 0.0 < p < 12.0)

    def integrand(t):
        return 2.0 * _phi(t) * fun(t, kappa - R * t, s)

    val, _ = integrate.quad(integrand, 0.0, 12.0, points=pts or None, limit=400,
                            epsabs=1e-14, epsrel=1e-12)
    return val


def _eq1_terms(t, m, s):
    a = m / s
    return (m * m + s * s) * _Phi(a) + m * s * _phi(a)


def _eq2_rhs(t, m, s):
    a = m / s
    return t * (m * _Phi(a) + s * _phi(a))


def _n_support(t, m, s):
    return _Phi(m / s)


def _eq1_residual(kappa, R, alpha):
    return (1.0 - R * R) - alpha * _avg(_eq1_terms, kappa, R)


def kappa_at(R, alpha):
    """Largest ``kappa`` satisfying equation 1 at overlap ``R`` (its residual falls with kappa)."""
    lo, hi = -1.0, 1.0
    while _eq1_residual(lo, R, alpha) < 0.0:
        lo *= 2.0
    while _eq1_residual(hi, R, alpha) > 0.0:
        hi *= 2.0
    return optimize.brentq(_eq1_residual, lo, hi, args=(R, alpha), xtol=1e-15, rtol=1e-14)


@dataclass(frozen=True)
class Point:
    """Replica-symmetric solution at one ``alpha``."""

    alpha: float
    R: float
    kappa: float
    eps: float
    eq2_residual: float
    support_per_dim: float


def maxmargin_curve_point(alpha):
    """Solve the unpruned max-margin equations at ``alpha = P / N``.

    Maximises ``kappa_1(R)`` over ``R`` in ``(0, 1)``, parametrised by ``R = cos(pi e)`` so that
    small errors ``e`` are resolved at large ``alpha``.
    """
    def neg_kappa(e):
        return -kappa_at(math.cos(math.pi * e), alpha)

    # Coarse scan in the error e = arccos(R)/pi (log-spaced), then a bounded refinement.
    grid = np.geomspace(1e-5, 0.499, 60)
    vals = [neg_kappa(e) for e in grid]
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(neg_kappa, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-13 * max(1.0, 1.0 / alpha)})
    e = float(res.x)
    R = math.cos(math.pi * e)
    kappa = -float(res.fun)
    lhs = R * (1.0 - alpha * _avg(_n_support, kappa, R))
    rhs = alpha * _avg(_eq2_rhs, kappa, R)
    return Point(alpha=float(alpha), R=R, kappa=kappa, eps=e, eq2_residual=lhs - rhs,
                 support_per_dim=alpha * _avg(_n_support, kappa, R))


def clarabel_max_margin(X, y, *, tol=1e-11):
    """Independent oracle: solve ``min |v|^2 / 2  s.t.  y_mu v . x_mu >= 1`` with Clarabel.

    Returns ``(v, z)``: the primal solution and the constraint multipliers. The margin of the
    max-margin perceptron is ``1 / |v|`` and its unit weight vector ``v / |v|``.
    """
    import clarabel

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    P, N = X.shape
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = tol
    settings.tol_gap_rel = tol
    settings.tol_feas = tol
    settings.tol_ktratio = 1e-10
    settings.max_iter = 500
    settings.presolve_enable = False
    solver = clarabel.DefaultSolver(
        sp.identity(N, format="csc"), np.zeros(N),
        sp.csc_matrix(-(X * y[:, None])), -np.ones(P),
        [clarabel.NonnegativeConeT(P)], settings,
    )
    sol = solver.solve()
    assert str(sol.status) == "Solved", f"oracle failed: {sol.status}"
    return np.array(sol.x), np.array(sol.z)


def teacher_problem(rng, n, p):
    """``p`` Gaussian inputs in ``n`` dimensions labelled by a random teacher (no package code)."""
    t = rng.standard_normal(n)
    X = rng.standard_normal((p, n))
    y = np.where(X @ t >= 0.0, 1.0, -1.0)
    return X, y


def teacher_student(N, P, seed=0, flip=False):
    """``X ~ N(0, 1)^(P x N)``, ``y = sign(x_0)``, optionally 10% of the labels flipped."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N))
    y = np.where(X[:, 0] >= 0.0, 1.0, -1.0)
    if flip:
        y[rng.random(P) < 0.1] *= -1.0
    return X, y


def _losses(X, y, J, loss):
    h = X @ J / math.sqrt(X.shape[1])
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - y * h)
    if loss == "logistic":
        return np.logaddexp(0.0, -y * h)
    return 0.5 * (y - h) ** 2


def erm_objective(X, y, J, loss, lam, v=None):
    """``sum_mu v_mu loss(y_mu, J . x_mu / sqrt(N)) + lam |J|^2 / 2`` (``v`` None: all 1)."""
    data = _losses(X, y, J, loss)
    return float((data.sum() if v is None else v @ data) + 0.5 * lam * J @ J)


def erm_gradient(X, y, J, loss, lam, v=None):
    """Gradient of :func:`erm_objective` for the smooth losses (logistic, square)."""
    N = X.shape[1]
    h = X @ J / math.sqrt(N)
    if loss == "logistic":
        dh = -y * np.exp(-np.logaddexp(0.0, y * h))  # d/dh log(1 + exp(-y h)) = -y sigma(-y h)
    else:
        dh = h - y
    return X.T @ (dh if v is None else v * dh) / math.sqrt(N) + lam * J


def clarabel_hinge(X, y, lam, v=None, *, max_iter=None):
    """Primal QP oracle of the (weighted) hinge loss: ``min lam |J|^2 / 2 + sum v xi``,
    ``xi >= 0``, ``xi >= 1 - y x.J / sqrt(N)`` (``v`` None: all 1; ``max_iter`` None: Clarabel's
    default).
    """
    import clarabel

    P, N = X.shape
    Z = sp.csc_matrix(X * (y / math.sqrt(N))[:, None])
    Q = sp.block_diag([lam * sp.identity(N), sp.csc_matrix((P, P))], format="csc")
    q = np.concatenate([np.zeros(N), np.ones(P) if v is None else v])
    A = sp.vstack([sp.hstack([sp.csc_matrix((P, N)), -sp.identity(P)]),
                   sp.hstack([-Z, -sp.identity(P)])], format="csc")
    b = np.concatenate([np.zeros(P), -np.ones(P)])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-12
    if max_iter is not None:
        settings.max_iter = max_iter
    sol = clarabel.DefaultSolver(Q, q, A, b, [clarabel.NonnegativeConeT(2 * P)], settings).solve()
    assert str(sol.status) == "Solved"
    return np.array(sol.x)[:N]
