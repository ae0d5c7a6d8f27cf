"""Max-margin saddle point of theory.md on any kept law: Newton, continuation, global check.

The student is parametrised by its direction in the ``(u, w, z)`` space,
``(R, rho, s) = (cos psi, sin psi sin chi, sin psi cos chi)``, so ``eps = psi / pi`` for the perfect
metric. With ``G(a) = (a^2 + 1) Phi(a) + a phi(a)`` and ``Gbar(kappa, R, rho) = <G(a)>``, the
variational form of theory.md reads: the max-margin ``kappa`` is the largest ``kappa`` at which
``min_{R, rho} Gbar <= 1 / alpha``; the minimiser is the student's ``(R, rho)``. Equations 1-3
of theory.md are ``alpha Gbar = 1`` and the stationarity of ``Gbar`` in ``(R, rho)``.

Each point is found by Newton's method on those equations, started by continuation (along the
caller's grid, or along an internal ladder of ``alpha`` from small values where ``R -> 0``). Then
a *global check* runs: ``Gbar`` is evaluated on a fixed scan of directions ``(psi, chi)``; if any
scanned direction beats the Newton point the root was spurious, and the variational problem is
solved directly from the better direction. The scan is a numerical check, not a proof: a
competing minimum narrower than the scan's spacing would go unseen.

Newton, the continuation and the check run in one compiled call
(:func:`perceptron_pruning._theory_kernels.walk`) over every ``alpha`` of the walk: the grid,
sorted, with the ladder before its first point and intermediate points across wide gaps. The walk
returns to Python only at a rejected point, whose variational problem (rare) is solved here with
scipy, and then resumes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq, minimize, minimize_scalar

from . import _theory_kernels as _k

__all__ = ["TheoryError", "solve_curve"]

_GL_X, _GL_W = leggauss(12)
_GL_SCAN_X, _GL_SCAN_W = leggauss(6)  # a coarse rule suffices to compare directions
_PSI_SCAN = np.exp(np.linspace(math.log(1e-6), math.log(math.pi / 2 - 1e-6), 33))
_CHI_SCAN = np.linspace(-1.45, 1.45, 11)
_GAP = 1.5  # grid ratios above this are walked through intermediate points


class TheoryError(RuntimeError):
    """The saddle-point equations could not be solved at a point.

    Raised when Newton cannot polish the variational fallback's point: the solver refuses
    rather than return an unpolished point. (The flat valleys of ``Gbar`` at ``alpha_prune``
    near 1e4, ``f`` near 1e-3 and a tilted probe used to end here, before the fallback
    minimised with Nelder-Mead.)
    """


class _Model:
    """The averages of theory.md over one kept law."""

    def __init__(self, law):
        self.cu, self.cw, self.c0 = law.cu, law.cw, law.c0
        self.ncon, self.weight = law.ncon, law.weight
        # An even law in w has rho = 0 by symmetry: the problem is then two-dimensional.
        self.planar = law.symmetric

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

    def walk(self, alphas, x0, out, *, start=0, check=True):
        """Compiled continuation along ``alphas`` (see :func:`_theory_kernels.walk`)."""
        return _k.walk(alphas, start, np.asarray(x0, dtype=float), check, self.planar, self.cu,
                       self.cw, self.c0, self.ncon, self.weight, _GL_X, _GL_W, _GL_SCAN_X,
                       _GL_SCAN_W, _PSI_SCAN, _CHI_SCAN, out)

    def newton(self, x0, alpha):
        """Newton alone (no global check) at one ``alpha``: ``(row of walk's output, ok)``."""
        out = np.zeros((1, _k.OUT_COLUMNS))
        k = self.walk(np.array([float(alpha)]), x0, out, check=False)[0]
        return out[0], k == 1


def _direction(psi, chi):
    sp = math.sin(psi)
    R = math.cos(psi)
    rho = sp * math.sin(chi)
    s2 = (sp * math.cos(chi)) ** 2
    return R, rho, s2


# ------------------------------------------------------------------------------------------------
# Fallback for rejected points: the variational problem, solved directly
# ------------------------------------------------------------------------------------------------
def _inner_min(model, kappa, psi, chi):
    """Minimise ``Gbar(kappa, .)`` from ``(psi, chi)``: a bounded 1-D search in ``log psi`` for a
    planar law; otherwise Nelder-Mead in ``(log psi, chi)``, which follows the curved valleys
    where alternating 1-D searches stall (tiny ``f``, large ``alpha``, a tilted probe).
    """
    lp = math.log(psi)
    if model.planar:
        res = minimize_scalar(lambda z: model.gbar(kappa, math.exp(z), 0.0),
                              bounds=(max(-30.0, lp - 3.0), min(math.log(math.pi / 2), lp + 3.0)),
                              method="bounded", options={"xatol": 1e-10})
        return float(res.fun), math.exp(float(res.x)), chi

    def g(z):
        if not (-30.0 <= z[0] <= math.log(math.pi / 2)) or abs(z[1]) >= 1.5707:
            return math.inf
        return model.gbar(kappa, math.exp(z[0]), z[1])

    res = minimize(g, np.array([lp, chi]), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 4000,
                            "initial_simplex": np.array([[lp, chi], [lp + 0.05, chi],
                                                         [lp, chi + 0.05]])})
    return float(res.fun), math.exp(float(res.x[0])), float(res.x[1])


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


# ------------------------------------------------------------------------------------------------
# The walk
# ------------------------------------------------------------------------------------------------
def _small_alpha_guess(alpha):
    # As alpha -> 0 the student is nearly orthogonal to the teacher and G(kappa) ~ 1/alpha.
    def G(a):
        return (a * a + 1.0) * _k.Phi(a) + a * _k.phi(a)

    kappa = brentq(lambda a: G(a) - 1.0 / alpha, -10.0, 1e4)
    return np.array([math.log(kappa), math.log(math.pi / 2 - 1e-3), 0.0])


def _walk_plan(alphas):
    """Every ``alpha`` Newton visits for the sorted grid ``alphas``.

    Returns ``(a0, steps, owner)``: the start of the ladder ``a0`` (solved from the small-alpha
    guess, without the global check), the walk ``steps`` (the rest of the ladder up to
    ``alphas[0]``, then each grid point preceded by intermediate points across gaps wider than
    ``_GAP``) and ``owner[k]``, the position in ``alphas`` that step ``k`` solves (-1 for
    ladder and intermediate points).
    """
    first = float(alphas[0])
    a0 = min(first, 1e-2)
    ladder = np.geomspace(a0, first, max(2, int(math.ceil(4 * math.log10(first / a0))) + 1))
    steps = list(ladder[1:])
    owner = [-1] * (len(steps) - 1) + [0]
    prev = first
    for pos in range(1, alphas.size):
        a = float(alphas[pos])
        if a / prev > _GAP:
            inter = np.geomspace(prev, a, int(math.ceil(math.log(a / prev) / math.log(_GAP))) + 1)
            steps += list(inter[1:-1])
            owner += [-1] * (inter.size - 2)
        steps.append(a)
        owner.append(pos)
        prev = a
    return a0, np.array(steps, dtype=float), np.array(owner, dtype=np.int64)


def solve_curve(law, alpha_prune):
    """Solve along a grid, in any order: continuation along the sorted grid, a global check on
    every point.

    Parameters
    ----------
    law : KeptLaw
        Kept law of the teacher-plane fields.
    alpha_prune : ndarray, shape (K,)
        Examples seen per dimension (validated by the caller).

    Returns
    -------
    values : dict of str to ndarray, shape (K,)
        ``R``, ``rho``, ``kappa``, ``eps``, ``alpha_support`` (support vectors per dimension) and
        ``residual``, in the grid's order.
    jumps : tuple of int
        Grid indices ``i`` where the root continued from the previous grid point, or from an
        intermediate point walked on the way to ``i``, was rejected (spurious, or Newton failed)
        and the variational problem was solved afresh.
    """
    model = _Model(law)
    ap = np.asarray(alpha_prune, dtype=float)
    order = np.argsort(ap, kind="stable")
    a0, steps, owner = _walk_plan(ap[order])

    row, ok = model.newton(_small_alpha_guess(a0), a0)
    x = row[:3] if ok else _variational(model, a0, math.exp(row[1]), 0.0, 1.0)

    out = np.zeros((steps.size, _k.OUT_COLUMNS))
    rejected = []
    k = 0
    while k < steps.size:
        k, pb, cb, kappa_lo = model.walk(steps, x, out, start=k)
        if k == steps.size:
            break
        # Newton failed or stopped on a spurious root: solve the variational problem directly.
        alpha = float(steps[k])
        out[k], ok = model.newton(_variational(model, alpha, pb, cb, kappa_lo), alpha)
        if not ok:
            raise TheoryError(f"the max-margin saddle point did not converge at alpha_prune = "
                              f"{alpha:g}")
        rejected.append(k)
        x = out[k, :3]
        k += 1

    # Grid position pos > 0 jumped if a step after position pos - 1's was rejected.
    is_out = owner >= 0
    seg = np.cumsum(is_out) - is_out  # the grid position each step leads to
    seg_jumped = np.zeros(ap.size, dtype=bool)
    seg_jumped[seg[rejected]] = True
    jumps = sorted(int(order[pos]) for pos in np.flatnonzero(seg_jumped) if pos > 0)

    rows = np.empty(ap.size, dtype=np.int64)
    rows[order] = np.flatnonzero(is_out)
    cols = out[rows].T.copy()  # each quantity contiguous
    values = dict(R=cols[_k.OUT_R], rho=cols[_k.OUT_RHO], kappa=cols[_k.OUT_KAPPA],
                  eps=cols[_k.OUT_EPS], alpha_support=ap * cols[_k.OUT_A0],
                  residual=cols[_k.OUT_RESIDUAL])
    return values, tuple(jumps)
