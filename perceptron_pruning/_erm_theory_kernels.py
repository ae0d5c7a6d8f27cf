"""Compiled averages of the regularised learners' saddle point (theory-erm.md).

For a margin loss ``l(y h)`` the Moreau envelope depends on ``z = y omega`` only, through the
scalar proximal map ``P(z) = argmin_p l(p) + (p - z)^2 / (2 V)``. At a kept-law node with
``mu = m yu + rho yw`` the field is ``z = mu + s g``, ``g ~ N(0, 1)``, and the equations need

- ``A = E_g[(P(z) - z)^2]``,
- ``D = E_g[1 - P'(z)]``,
- ``C = E_g[P(z) - z]`` (weighted by ``yu`` and by ``yw``).

Hinge, square and the hard constraint (max-margin) have these in closed form (truncated
Gaussian moments); the logistic loss takes Gauss-Hermite nodes in ``g`` and a tabulated
proximal map (safeguarded Newton at each table point).

Loss codes: 0 hinge, 1 logistic, 2 square, 3 hard constraint ``(1 - z)_+^2 / (2 V)``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@numba.njit(cache=True)
def _Phi(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@numba.njit(cache=True)
def _phi(x):
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@numba.njit(cache=True)
def _sigm(p):
    """``sigma(-p) = 1 / (1 + e^p)`` without overflow."""
    if p >= 0.0:
        e = math.exp(-p)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(p))


@numba.njit(cache=True)
def _logistic_prox(z, V, p):
    # P solves F(P) = P - z - V sigma(-P) = 0: F is increasing with F' >= 1 and the root lies
    # in [z, z + V]. Newton from the guess p, kept inside the shrinking bracket.
    lo, hi = z, z + V
    if not (lo <= p <= hi):
        p = z + V * _sigm(z)
    for _ in range(60):
        sm = _sigm(p)
        f = p - z - V * sm
        if f > 0.0:
            hi = p
        else:
            lo = p
        step = f / (1.0 + V * sm * (1.0 - sm))
        pn = p - step
        if not (lo <= pn <= hi):
            pn = 0.5 * (lo + hi)
        done = abs(pn - p) <= 1e-14 * (1.0 + abs(p))
        p = pn
        if done:
            break
    sm = _sigm(p)
    return p, 1.0 / (1.0 + V * sm * (1.0 - sm))


@numba.njit(cache=True)
def _node(loss, mu, s, V):
    """``(A, D, C)`` at one node, in closed form (hinge, square, hard constraint)."""
    if loss == 2:
        r = V / (1.0 + V)
        return r * r * ((1.0 - mu) ** 2 + s * s), r, r * (1.0 - mu)
    a = (1.0 - mu) / s
    Pa, pa = _Phi(a), _phi(a)
    if loss == 3:
        return s * s * ((a * a + 1.0) * Pa + a * pa), Pa, s * (a * Pa + pa)
    # hinge: P = z (z >= 1), 1 (1 - V <= z < 1), z + V (z < 1 - V)
    b = a - V / s
    Pb, pb = _Phi(b), _phi(b)
    dP = Pa - Pb
    A = s * s * ((a * a + 1.0) * dP + a * pa + (b - 2.0 * a) * pb) + V * V * Pb
    C = s * (a * dP + pa - pb) + V * Pb
    return A, dP, C


_H = 0.01  # spacing of the logistic proximal table: cubic Hermite error ~ h^4 / 384


@numba.njit(cache=True)
def _logistic_table(z0, n, h, V):
    P = np.empty(n)
    dP = np.empty(n)
    p = z0
    for j in range(n):
        p, dP[j] = _logistic_prox(z0 + j * h, V, p + h)  # warm start: P' is in (0, 1]
        P[j] = p
    return P, dP


@numba.njit(cache=True)
def _hermite(P, dP, z0, h, z):
    """Cubic Hermite interpolation of the tabulated proximal map and its derivative at z."""
    x = (z - z0) / h
    j = min(max(int(x), 0), P.size - 2)
    t = x - j
    p0, p1, d0, d1 = P[j], P[j + 1], dP[j] * h, dP[j + 1] * h
    t2 = t * t
    t3 = t2 * t
    val = (2 * t3 - 3 * t2 + 1) * p0 + (t3 - 2 * t2 + t) * d0 + (-2 * t3 + 3 * t2) * p1 \
        + (t3 - t2) * d1
    der = ((6 * t2 - 6 * t) * p0 + (3 * t2 - 4 * t + 1) * d0 + (-6 * t2 + 6 * t) * p1
           + (3 * t2 - 2 * t) * d1) / h
    return val, der


@numba.njit(cache=True)
def averages(loss, yu, yw, wt, m, rho, s, V, ghx, ghw):
    """Kept-law averages ``(E[A], E[D], E[C yu], E[C yw])`` (module docstring).

    The logistic loss averages over Gauss-Hermite nodes in ``g``; its proximal map, which
    depends on ``V`` only, is tabulated once per call on a grid of spacing ``_H`` covering every
    field ``z`` the nodes reach, and interpolated (cubic Hermite from the exact ``P`` and
    ``P'``: relative error below 1e-9 in ``P``, 1e-7 in ``P'``).
    """
    EA = 0.0
    ED = 0.0
    ECu = 0.0
    ECw = 0.0
    if loss == 1:
        lo = np.inf
        hi = -np.inf
        for i in range(wt.size):
            mu = m * yu[i] + rho * yw[i]
            lo = min(lo, mu)
            hi = max(hi, mu)
        lo += s * ghx[0] - _H
        hi += s * ghx[-1] + _H
        span = (hi - lo) / _H
        n = 400000
        h = (hi - lo) / (n - 3)
        if span < n - 3:
            n = int(span) + 3
            h = _H
        # (beyond 400000 points, absurd fields from a solver's trial step: coarser, continuous)
        P, dP = _logistic_table(lo, n, h, V)
        for i in range(wt.size):
            mu = m * yu[i] + rho * yw[i]
            A = 0.0
            D = 0.0
            C = 0.0
            for k in range(ghx.size):
                z = mu + s * ghx[k]
                p, dp = _hermite(P, dP, lo, h, z)
                A += ghw[k] * (p - z) * (p - z)
                D += ghw[k] * (1.0 - dp)
                C += ghw[k] * (p - z)
            EA += wt[i] * A
            ED += wt[i] * D
            ECu += wt[i] * C * yu[i]
            ECw += wt[i] * C * yw[i]
        return EA, ED, ECu, ECw
    for i in range(wt.size):
        A, D, C = _node(loss, m * yu[i] + rho * yw[i], s, V)
        EA += wt[i] * A
        ED += wt[i] * D
        ECu += wt[i] * C * yu[i]
        ECw += wt[i] * C * yw[i]
    return EA, ED, ECu, ECw


@numba.njit(cache=True)
def negative_part_sq(yu, yw, wt, m, rho, s):
    """``E[(-z)_+^2]`` for ``z = m yu + rho yw + s g``: the capacity functional (``s > 0``)."""
    out = 0.0
    for i in range(wt.size):
        b = -(m * yu[i] + rho * yw[i]) / s
        out += wt[i] * s * s * ((b * b + 1.0) * _Phi(b) + b * _phi(b))
    return out


def gauss_hermite(n):
    """Nodes and weights of ``E_g[F(g)]`` for ``g ~ N(0, 1)`` (probabilists' Hermite)."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / w.sum()
