"""Replica theory of max-margin learning on pruned data (the saddle point of ``theory.md``).

The student is parametrised by its direction in the ``(u, w, z)`` space,
``(R, rho, s) = (cos psi, sin psi sin chi, sin psi cos chi)``, so ``eps = psi / pi`` for the perfect
metric. With ``G(a) = (a^2 + 1) Phi(a) + a phi(a)`` and ``Gbar(kappa, R, rho) = <G(a)>``, the
variational form of theory.md reads: the max-margin ``kappa`` is the largest ``kappa`` at which
``min_{R, rho} Gbar <= 1 / alpha``; the minimiser is the student's ``(R, rho)``. Equations 1-3
of theory.md are ``alpha Gbar = 1`` and the stationarity of ``Gbar`` in ``(R, rho)``.

Each point is found by Newton's method on those equations, started by continuation (along the
caller's grid, or along an internal ladder of ``alpha`` from small values where ``R -> 0``), then
*certified*: ``Gbar`` is scanned over ``(psi, chi)``; if any direction beats the Newton point the
root was spurious and the variational problem is solved directly from the better direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.optimize import minimize_scalar
from scipy.special import ndtri

from . import _theory_kernels as _k
from ._validation import check_f, check_keep, check_real, check_theta

__all__ = ["TheoryPoint", "TheoryCurve", "solve", "curve", "kept_threshold"]

_GL_X, _GL_W = leggauss(12)
_GL_SCAN_X, _GL_SCAN_W = leggauss(6)
ALPHA_MIN, ALPHA_MAX = 1e-3, 1e4
F_MIN = 1e-3
_RESIDUAL_TOL = 1e-11
_NOISE_TOL = 1e-7  # residuals below this are accepted once Newton's step has stalled


@dataclass(frozen=True)
class TheoryPoint:
    """Replica-symmetric solution at one point.

    Attributes
    ----------
    alpha_prune, alpha_tot, f : float
        Examples seen per dimension, examples drawn per dimension (``alpha_prune / f``), kept
        fraction.
    keep : str
        ``"hard"``, ``"easy"`` or ``"random"``.
    theta : float
        Probe angle in degrees.
    R, rho, kappa, eps : float
        Teacher overlap, overlap with the probe's orthogonal direction, margin, and the
        generalisation error ``arccos(R) / pi``.
    n_support : float
        Support vectors per dimension, ``alpha_prune <Phi(a)>``.
    residual : float
        Largest absolute residual of the saddle-point equations at the returned point.
    """

    alpha_prune: float
    alpha_tot: float
    f: float
    keep: str
    theta: float
    R: float
    rho: float
    kappa: float
    eps: float
    n_support: float
    residual: float

    def to_dict(self) -> dict:
        """The CLI's ``--json`` keys (plus ``n_support``)."""
        return {k: getattr(self, k) for k in ("alpha_prune", "alpha_tot", "f", "keep", "theta",
                                              "R", "rho", "kappa", "eps", "n_support")}


@dataclass(frozen=True)
class TheoryCurve:
    """Solutions along a grid of ``alpha_prune`` (arrays of shape ``(K,)``, grid order kept).

    ``jumps`` lists grid indices ``i`` where the root continued from ``i - 1`` was rejected
    (spurious, or Newton failed) and the variational problem was solved afresh: a true
    first-order transition, where the minimiser moves to another basin, shows up here.
    """

    f: float
    keep: str
    theta: float
    alpha_prune: np.ndarray
    alpha_tot: np.ndarray
    R: np.ndarray
    rho: np.ndarray
    kappa: np.ndarray
    eps: np.ndarray
    n_support: np.ndarray
    residual: np.ndarray
    jumps: tuple = field(default=())

    def points(self) -> list[TheoryPoint]:
        """The curve as a list of :class:`TheoryPoint`."""
        return [TheoryPoint(float(self.alpha_prune[i]), float(self.alpha_tot[i]), self.f,
                            self.keep, self.theta, float(self.R[i]), float(self.rho[i]),
                            float(self.kappa[i]), float(self.eps[i]), float(self.n_support[i]),
                            float(self.residual[i])) for i in range(self.alpha_prune.size)]


def kept_threshold(f, keep):
    """Probe-margin threshold ``gamma`` of the kept region.

    Keep hard keeps ``|v| < gamma`` with ``f = 1 - 2 H(gamma)``; keep easy keeps ``|v| > gamma``
    with ``f = 2 H(gamma)``. Returns ``inf`` (hard) or ``0`` (easy) at ``f = 1``, NaN for random.
    """
    f = check_f(f)
    keep = check_keep(keep)
    if keep == "random":
        return math.nan
    if keep == "hard":
        return math.inf if f == 1.0 else float(ndtri(0.5 + 0.5 * f))
    return float(-ndtri(0.5 * f))


class _Model:
    """Kept-region geometry for one ``(f, keep, theta)``; evaluates the averages."""

    def __init__(self, f, keep, theta_deg):
        self.f, self.keep, self.theta = f, keep, theta_deg
        th = math.radians(theta_deg)
        c, sn = math.cos(th), math.sin(th)
        if theta_deg == 90.0:
            c = 0.0
        # Regions of the half-plane u >= 0: rows are constraints c0 + cu u + cw w >= 0.
        half = (0.0, 1.0, 0.0)
        if keep == "random" or f == 1.0:
            regions = [[half]]
            weight = 2.0
        else:
            g = kept_threshold(f, keep)
            weight = 2.0 / f
            if keep == "hard":
                regions = [[half, (g, -c, -sn), (g, c, sn)]]
            else:
                regions = [[half, (-g, c, sn)], [half, (-g, -c, -sn)]]
        nreg = len(regions)
        self.c0 = np.zeros((nreg, 3))
        self.cu = np.zeros((nreg, 3))
        self.cw = np.zeros((nreg, 3))
        self.ncon = np.array([len(r) for r in regions], dtype=np.int64)
        for k, reg in enumerate(regions):
            for i, (a0, au, aw) in enumerate(reg):
                self.c0[k, i], self.cu[k, i], self.cw[k, i] = a0, au, aw
        self.weight = weight
        # With the perfect metric, or a probe orthogonal to the teacher, the kept law is even in w
        # and rho = 0 by symmetry; the problem is then two-dimensional.
        self.planar = theta_deg in (0.0, 90.0) or keep == "random" or f == 1.0

    def avg(self, kappa, R, rho, s=None):
        """Kept-law averages; pass ``s`` when it is known more accurately than
        ``sqrt(1 - R^2 - rho^2)``.
        """
        if s is None:
            s = math.sqrt(max(1.0 - R * R - rho * rho, 0.0))
        return _k.averages(kappa, R, rho, s, self.cu, self.cw, self.c0, self.ncon, self.weight,
                           _GL_X, _GL_W)

    def gbar(self, kappa, psi, chi):
        R, rho, s2 = _direction(psi, chi)
        A0, Au, Aw, A3 = self.avg(kappa, R, rho, math.sqrt(s2))
        return A3 / s2

    def gbar_scan(self, kappa, psis, chi):
        # A coarse rule suffices to compare directions (the Newton point is scored by it too).
        return _k.gbar_scan(kappa, np.asarray(psis, dtype=float), chi, self.cu, self.cw,
                            self.c0, self.ncon, self.weight, _GL_SCAN_X, _GL_SCAN_W)

    def residual(self, x, alpha):
        """Scaled residuals of ``alpha Gbar = 1`` and stationarity, at ``x = (log kappa, log psi,
        chi)``.
        """
        kappa = math.exp(x[0])
        psi = math.exp(x[1])
        chi = 0.0 if self.planar else x[2]
        R, rho, s2 = _direction(psi, chi)
        A0, Au, Aw, A3 = self.avg(kappa, R, rho, math.sqrt(s2))
        G = A3 / s2
        DR = R * (G - A0) - Au  # (s^2 / 2) dGbar/dR
        Dr = rho * (G - A0) - Aw  # (s^2 / 2) dGbar/drho
        e1 = math.log(alpha * G)
        e2 = (-DR * math.sin(psi) + Dr * math.cos(psi) * math.sin(chi)) / max(G, 1e-300)
        if self.planar:
            return np.array([e1, e2 / math.sin(psi)])
        e3 = Dr * math.cos(chi) / max(G, 1e-300)
        return np.array([e1, e2 / math.sin(psi), e3])


def _direction(psi, chi):
    sp = math.sin(psi)
    R = math.cos(psi)
    rho = sp * math.sin(chi)
    s2 = (sp * math.cos(chi)) ** 2
    return R, rho, s2


def _newton(model, x0, alpha, *, max_iter=60):
    """Damped Newton with a forward-difference Jacobian. Returns ``(x, max|F|, ok)``."""
    x = np.array(x0, dtype=float)
    n = 2 if model.planar else 3
    x = x[:n]

    def F(z):
        if z[1] > math.log(math.pi - 1e-6) or z[1] < -40.0:
            return None
        if n == 3 and abs(z[2]) >= math.pi / 2:
            return None
        try:
            return model.residual(np.concatenate([z, [0.0] * (3 - n)]), alpha)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None

    fx = F(x)
    if fx is None or not np.all(np.isfinite(fx)):
        return x, math.inf, False
    for _ in range(max_iter):
        nrm = float(np.max(np.abs(fx)))
        if nrm < _RESIDUAL_TOL:
            return x, nrm, True
        J = np.empty((n, n))
        for j in range(n):
            h = 1e-7 * max(1.0, abs(x[j]))
            xp = x.copy()
            xp[j] += h
            fp = F(xp)
            if fp is None:
                xp[j] -= 2 * h
                fp = F(xp)
                if fp is None:
                    return x, nrm, False
                h = -h
            J[:, j] = (fp - fx) / h
        try:
            step = np.linalg.solve(J, -fx)
        except np.linalg.LinAlgError:
            return x, nrm, False
        if not np.all(np.isfinite(step)):
            return x, nrm, False
        # Keep steps in log kappa and log psi moderate: they are multiplicative.
        scale = min(1.0, 1.0 / max(1e-300, float(np.max(np.abs(step)))))
        if float(np.max(np.abs(step))) < 1e-11 and nrm < _NOISE_TOL:
            # Round-off floor of the averages (extreme alpha or f): x is converged.
            return x, nrm, True
        t = scale
        while t > 1e-6:
            xn = x + t * step
            fn = F(xn)
            if fn is not None and np.all(np.isfinite(fn)) and np.max(np.abs(fn)) < nrm:
                break
            t *= 0.5
        else:
            return x, nrm, nrm < _NOISE_TOL
        x, fx = xn, fn
    nrm = float(np.max(np.abs(fx)))
    return x, nrm, nrm < _NOISE_TOL


_PSI_SCAN = np.exp(np.linspace(math.log(1e-6), math.log(math.pi / 2 - 1e-6), 33))
_CHI_SCAN = np.linspace(-1.45, 1.45, 11)


def _best_direction(model, kappa, psi0, chi0):
    """Scan ``Gbar(kappa, ., .)``: returns ``(gmin, psi, chi)`` of the best scanned direction."""
    best = (float(model.gbar_scan(kappa, [psi0], chi0)[0]), psi0, chi0)
    # Scan psi along the current chi and along chi = 0 (the perfect metric's plane), and chi at
    # the current psi: the spurious roots seen in practice differ from the physical one in psi.
    chis = [0.0] if model.planar else sorted({0.0, chi0})
    for chi in chis:
        g = model.gbar_scan(kappa, _PSI_SCAN, chi)
        i = int(np.argmin(g))
        if g[i] < best[0]:
            best = (float(g[i]), float(_PSI_SCAN[i]), chi)
    if not model.planar:
        for chi in _CHI_SCAN:
            g = float(model.gbar_scan(kappa, [psi0], chi)[0])
            if g < best[0]:
                best = (g, psi0, chi)
    return best


def _inner_min(model, kappa, psi, chi):
    """Minimise ``Gbar(kappa, .)`` by alternating bounded 1-D searches from ``(psi, chi)``."""
    g = model.gbar(kappa, psi, chi)
    lp = math.log(psi)
    for _ in range(30 if not model.planar else 1):
        res = minimize_scalar(lambda z, chi=chi: model.gbar(kappa, math.exp(z), chi),
                              bounds=(max(-30.0, lp - 3.0), min(math.log(math.pi / 2), lp + 3.0)),
                              method="bounded", options={"xatol": 1e-10})
        lp = float(res.x)
        if not model.planar:
            res2 = minimize_scalar(lambda c, lp=lp: model.gbar(kappa, math.exp(lp), c),
                                   bounds=(-1.5707, 1.5707), method="bounded",
                                   options={"xatol": 1e-10})
            chi = float(res2.x)
        gn = model.gbar(kappa, math.exp(lp), chi)
        if abs(gn - g) <= 1e-13 * abs(g):
            g = gn
            break
        g = gn
    return g, math.exp(lp), chi


def _variational(model, alpha, psi, chi, kappa_lo):
    """Largest ``kappa`` with ``min Gbar <= 1/alpha`` (bisection in log kappa), then its argmin."""
    target = 1.0 / alpha
    lo = kappa_lo
    g, psi, chi = _inner_min(model, lo, psi, chi)
    while g > target:  # lo must be feasible
        lo *= 0.5
        g, psi, chi = _inner_min(model, lo, psi, chi)
    hi = lo * 2.0
    while True:
        g, p2, c2 = _inner_min(model, hi, psi, chi)
        if g > target:
            break
        lo, psi, chi = hi, p2, c2
        hi *= 2.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        g, p2, c2 = _inner_min(model, mid, psi, chi)
        if g <= target:
            lo, psi, chi = mid, p2, c2
        else:
            hi = mid
        if hi / lo - 1.0 < 1e-7:
            break
    return np.array([math.log(lo), math.log(psi), chi])


def _certified(model, x, alpha):
    """Newton point ``x`` is the global minimiser of ``Gbar`` at its ``kappa``?"""
    kappa, psi = math.exp(x[0]), math.exp(x[1])
    chi = 0.0 if model.planar else float(x[2])
    g0 = float(model.gbar_scan(kappa, [psi], chi)[0])
    gmin, pb, cb = _best_direction(model, kappa, psi, chi)
    return gmin >= g0 * (1.0 - 1e-7), (pb, cb)


def _small_alpha_guess(model, alpha):
    # As alpha -> 0 the student is nearly orthogonal to the teacher and G(kappa) ~ 1/alpha.
    from scipy.optimize import brentq

    def G(a):
        return (a * a + 1.0) * _k.Phi(a) + a * _k.phi(a)

    kappa = brentq(lambda a: G(a) - 1.0 / alpha, -10.0, 1e4)
    return np.array([math.log(kappa), math.log(math.pi / 2 - 1e-3), 0.0])


def _solve_one(model, alpha, x0=None):
    """Solve at ``alpha`` from guess ``x0`` (or by a ladder). Returns ``(x, residual, jumped)``."""
    jumped = False
    if x0 is None:
        a0 = min(alpha, 1e-2)
        x0 = _small_alpha_guess(model, a0)
        x0, res, ok = _newton(model, x0, a0)
        if not ok:
            x0 = _variational(model, a0, math.exp(x0[1]), 0.0, 1.0)
        ladder = np.geomspace(a0, alpha, max(2, int(math.ceil(4 * math.log10(alpha / a0))) + 1))
        for a in ladder[1:]:
            x0, res, jumped = _solve_one(model, a, x0)
        return x0, res, False
    x, res, ok = _newton(model, x0, alpha)
    if ok:
        good, (pb, cb) = _certified(model, x, alpha)
        if good:
            return _pad(x), res, False
    else:
        pb, cb = math.exp(x0[1]), (0.0 if model.planar else float(x0[2]))
    # Newton failed or stopped on a spurious root: solve the variational problem directly.
    kappa_lo = math.exp(min(x[0], x0[0])) * 0.5
    xv = _variational(model, alpha, pb, cb, kappa_lo)
    x, res, ok = _newton(model, xv, alpha)
    if not ok:
        raise RuntimeError(f"theory solver did not converge at alpha_prune = {alpha:g} "
                           f"(f = {model.f}, keep = {model.keep}, theta = {model.theta})")
    jumped = True
    return _pad(x), res, jumped


def _pad(x):
    return np.concatenate([x, [0.0] * (3 - len(x))])


def _point(model, alpha, x, res):
    kappa, psi = math.exp(x[0]), math.exp(x[1])
    chi = 0.0 if model.planar else float(x[2])
    R, rho, s2 = _direction(psi, chi)
    A0, _, _, _ = model.avg(kappa, R, rho, math.sqrt(s2))
    f = model.f
    return dict(alpha_prune=alpha, alpha_tot=alpha / f, R=R, rho=rho, kappa=kappa,
                eps=psi / math.pi,
                n_support=alpha * A0, residual=res)


def _check_common(f, keep, theta_deg):
    f = check_real("f", f, low=F_MIN, high=1.0)
    keep = check_keep(keep)
    theta_deg = check_theta(theta_deg)
    return f, keep, theta_deg


def _alpha_grid(alpha_prune, alpha_tot, f):
    if (alpha_prune is None) == (alpha_tot is None):
        raise ValueError("give exactly one of alpha_prune and alpha_tot")
    name = "alpha_prune" if alpha_tot is None else "alpha_tot"
    vals = np.atleast_1d(np.asarray(alpha_prune if alpha_tot is None else alpha_tot, dtype=float))
    if vals.ndim != 1 or vals.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D grid")
    ap = vals if alpha_tot is None else vals * f
    for v, a in zip(vals, ap):
        if not (math.isfinite(v) and ALPHA_MIN <= a <= ALPHA_MAX):
            lo, hi = (ALPHA_MIN, ALPHA_MAX) if alpha_tot is None else (ALPHA_MIN / f, ALPHA_MAX / f)
            extra = "" if alpha_tot is None else (
                f" (alpha_prune = f * alpha_tot in [{ALPHA_MIN:g}, {ALPHA_MAX:g}])")
            raise ValueError(f"{name} must be in [{lo:g}, {hi:g}]{extra}, got {float(v)!r}")
    return ap


def curve(alpha_prune=None, *, alpha_tot=None, f=1.0, keep="hard", theta_deg=0.0):
    """Solve the saddle-point equations along a grid.

    Parameters
    ----------
    alpha_prune : array_like, shape (K,)
        Examples seen per dimension, each in [1e-3, 1e4]. Any order; the solver continues along
        the sorted grid and certifies every point.
    alpha_tot : array_like, shape (K,), optional
        Examples drawn per dimension, instead of ``alpha_prune`` (``alpha_prune = f alpha_tot``).
    f : float, default 1
        Kept fraction, in [1e-3, 1].
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta_deg : float, default 0
        Probe angle to the teacher, degrees in [0, 90].

    Returns
    -------
    TheoryCurve
    """
    f, keep, theta_deg = _check_common(f, keep, theta_deg)
    ap = _alpha_grid(alpha_prune, alpha_tot, f)
    model = _Model(f, keep, theta_deg)
    order = np.argsort(ap, kind="stable")
    out = [None] * ap.size
    x = None
    jumps = []
    prev_alpha = None
    for pos, i in enumerate(order):
        a = float(ap[i])
        if x is not None and a / prev_alpha > 1.5:
            # Large gaps: walk there through intermediate points so Newton starts close.
            for b in np.geomspace(prev_alpha, a, int(math.ceil(math.log(a / prev_alpha)
                                                               / math.log(1.5))) + 1)[1:-1]:
                x, _, _ = _solve_one(model, float(b), x)
        x, res, jumped = _solve_one(model, a, x)
        if jumped and pos > 0:
            jumps.append(int(i))
        out[i] = _point(model, a, x, res)
        prev_alpha = a
    col = lambda k: np.array([p[k] for p in out])  # noqa: E731
    return TheoryCurve(f=f, keep=keep, theta=theta_deg, alpha_prune=col("alpha_prune"),
                       alpha_tot=col("alpha_tot"), R=col("R"), rho=col("rho"),
                       kappa=col("kappa"), eps=col("eps"), n_support=col("n_support"),
                       residual=col("residual"), jumps=tuple(sorted(jumps)))


def solve(alpha_prune=None, f=1.0, keep="hard", theta_deg=0.0, *, alpha_tot=None):
    """Solve the saddle-point equations at one point.

    Parameters
    ----------
    alpha_prune : float
        Examples seen per dimension, in [1e-3, 1e4].
    f, keep, theta_deg
        As in :func:`curve`.
    alpha_tot : float, optional
        Examples drawn per dimension, instead of ``alpha_prune``.

    Returns
    -------
    TheoryPoint
    """
    if alpha_prune is not None and np.ndim(alpha_prune) != 0:
        raise ValueError("alpha_prune must be a single number for solve(); use curve() for grids")
    c = curve(alpha_prune, alpha_tot=alpha_tot, f=f, keep=keep, theta_deg=theta_deg)
    return c.points()[0]
