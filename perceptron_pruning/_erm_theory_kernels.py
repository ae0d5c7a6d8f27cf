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

Importance weights. When a kept example's loss carries a weight ``v`` (``v = 1 / pi`` for a
Bernoulli selection that keeps it with probability ``pi``), the saddle point holds
``v min_p [l(p) + (p - z)^2 / (2 v V)] = v M_{vV}(z)``: the same envelope with ``V`` replaced by
``v V``, times ``v``. Its derivatives are ``d/dz = (z - P) / V`` and
``d/dV = -(z - P)^2 / (2 V^2)`` with ``P`` the proximal map at ``v V`` (the factor ``v`` cancels
the ``1 / (v V)`` of the unweighted derivatives), so every equation keeps its form with ``A``,
``D``, ``C`` computed at ``v V`` node by node: :func:`averages_weighted`. The hard constraint is
unchanged (``v (1 - z)_+^2 / (2 v V)`` is the same envelope), and positive weights leave it so.
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
def _logistic_d2(p, dp, V):
    """Second derivative of the proximal map: from ``P1 (1 + V l2(P)) = 1``,
    ``P2 = -V l3(P) P1^3`` with ``l2 = sigma(P) sigma(-P)`` and ``l3 = l2 (2 sigma(-P) - 1)``
    (``P1``, ``P2``, ``l2``, ``l3``: first and second derivatives of ``P``, second and third of
    the loss).
    """
    sm = _sigm(p)
    l2 = sm * (1.0 - sm)
    return -V * l2 * (2.0 * sm - 1.0) * dp * dp * dp


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


_H = 0.01  # spacing of the logistic proximal table (quintic Hermite: error ~ h^6 in P)


@numba.njit(cache=True)
def _logistic_table(z0, n, h, V):
    P = np.empty(n)
    dP = np.empty(n)
    d2P = np.empty(n)
    p = z0
    for j in range(n):
        p, dP[j] = _logistic_prox(z0 + j * h, V, p + h)  # warm start: P' is in (0, 1]
        P[j] = p
        d2P[j] = _logistic_d2(p, dP[j], V)
    return P, dP, d2P


@numba.njit(cache=True)
def _hermite(T, z0, h, z):
    """Quintic Hermite interpolation of the tabulated proximal map (values, first and second
    derivatives at the grid points) and of its derivative, at ``z``.
    """
    P, dP, d2P = T
    x = (z - z0) / h
    j = min(max(int(x), 0), P.size - 2)
    t = x - j
    t2 = t * t
    t3 = t2 * t
    t4 = t3 * t
    t5 = t4 * t
    f0, f1 = P[j], P[j + 1]
    d0, d1 = dP[j] * h, dP[j + 1] * h
    e0, e1 = d2P[j] * h * h, d2P[j + 1] * h * h
    val = (f0 * (1.0 - 10.0 * t3 + 15.0 * t4 - 6.0 * t5)
           + d0 * (t - 6.0 * t3 + 8.0 * t4 - 3.0 * t5)
           + e0 * 0.5 * (t2 - 3.0 * t3 + 3.0 * t4 - t5)
           + f1 * (10.0 * t3 - 15.0 * t4 + 6.0 * t5)
           + d1 * (-4.0 * t3 + 7.0 * t4 - 3.0 * t5)
           + e1 * 0.5 * (t3 - 2.0 * t4 + t5))
    der = (f0 * (-30.0 * t2 + 60.0 * t3 - 30.0 * t4)
           + d0 * (1.0 - 18.0 * t2 + 32.0 * t3 - 15.0 * t4)
           + e0 * 0.5 * (2.0 * t - 9.0 * t2 + 12.0 * t3 - 5.0 * t4)
           + f1 * (30.0 * t2 - 60.0 * t3 + 30.0 * t4)
           + d1 * (-12.0 * t2 + 28.0 * t3 - 15.0 * t4)
           + e1 * 0.5 * (3.0 * t2 - 8.0 * t3 + 5.0 * t4)) / h
    return val, der


_S_GH = 1.5  # above this spread the logistic kernel's soft kinks (width ~1 in z) need pieces
_G_MAX = 8.5  # Gaussian cut-off in g for the composite rule (mass beyond ~2e-17)
_GL6_X, _GL6_W = np.polynomial.legendre.leggauss(6)
_KSTEPS = np.array([-32.0, -16.0, -8.0, -4.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0,
                    16.0, 32.0])


@numba.njit(cache=True)
def _logistic_gh(mu, s, T, lo, h, ghx, ghw):
    A = 0.0
    D = 0.0
    C = 0.0
    for k in range(ghx.size):
        z = mu + s * ghx[k]
        p, dp = _hermite(T, lo, h, z)
        A += ghw[k] * (p - z) * (p - z)
        D += ghw[k] * (1.0 - dp)
        C += ghw[k] * (p - z)
    return A, D, C


@numba.njit(cache=True)
def _g_breaks(mu, s, kinks):
    # Breakpoints in g of the composite rule, sorted (see _logistic_composite), and their count.
    bp = np.empty(5 + _KSTEPS.size * kinks.size)
    bp[0] = -_G_MAX
    bp[1] = -3.0
    bp[2] = 0.0
    bp[3] = 3.0
    bp[4] = _G_MAX
    nb = 5
    for zc in kinks:
        for k in _KSTEPS:
            g = (zc + k - mu) / s
            if -_G_MAX < g < _G_MAX:
                bp[nb] = g
                nb += 1
    return np.sort(bp[:nb]), nb


@numba.njit(cache=True)
def _logistic_composite(mu, s, T, lo, h, kinks):
    # Gauss-Legendre pieces in g between breakpoints at the soft kinks z_c (plus geometric
    # steps of 0.5 to 32 on either side, in z: the kernel relaxes exponentially away from them)
    # and at the Gaussian's shoulders. Gauss-Hermite alone cannot resolve a kink of width 1 in
    # z, i.e. 1 / s in g, once s is large (relative error 1e-3 at s = 5).
    bp, nb = _g_breaks(mu, s, kinks)
    gap = 0.2 / s  # breakpoints closer than 0.2 in z (overlapping kinks) are merged
    A = 0.0
    D = 0.0
    C = 0.0
    j0 = 0
    for j in range(1, nb):
        if bp[j] - bp[j0] < gap and j < nb - 1:
            continue
        half = 0.5 * (bp[j] - bp[j0])
        mid = 0.5 * (bp[j] + bp[j0])
        j0 = j
        for k in range(_GL6_X.size):
            g = mid + half * _GL6_X[k]
            wg = half * _GL6_W[k] * _phi(g)
            z = mu + s * g
            p, dp = _hermite(T, lo, h, z)
            A += wg * (p - z) * (p - z)
            D += wg * (1.0 - dp)
            C += wg * (p - z)
    return A, D, C


@numba.njit(cache=True)
def averages(loss, yu, yw, wt, m, rho, s, V, ghx, ghw):
    """Kept-law averages ``(E[A], E[D], E[C yu], E[C yw])`` (module docstring).

    The logistic loss averages over Gauss-Hermite nodes in ``g`` (composite Gauss-Legendre
    pieces around its soft kinks when ``s > _S_GH``); its proximal map, which depends on ``V``
    only, is tabulated once per call on a grid of spacing ``_H`` covering every field ``z`` the
    nodes reach, and interpolated (quintic Hermite from the exact ``P``, ``P'`` and ``P''``).
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
        reach = max(-ghx[0], ghx[-1]) if s <= _S_GH else _G_MAX
        lo -= s * reach + _H
        hi += s * reach + _H
        span = (hi - lo) / _H
        n = 400000
        h = (hi - lo) / (n - 3)
        if span < n - 3:
            n = int(span) + 3
            h = _H
        # (beyond 400000 points, absurd fields from a solver's trial step: coarser, continuous)
        T = _logistic_table(lo, n, h, V)
        kinks = np.array([-V, 0.0, math.log1p(V)])
        for i in range(wt.size):
            mu = m * yu[i] + rho * yw[i]
            if s <= _S_GH:
                A, D, C = _logistic_gh(mu, s, T, lo, h, ghx, ghw)
            else:
                A, D, C = _logistic_composite(mu, s, T, lo, h, kinks)
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
def _logistic_prox_halley(z, V, p):
    """Logistic ``(P, P')`` at ``z`` from the guess ``p``, for points solved one by one.

    Halley's iteration on ``F(P) = P - z - V sigma(-P)`` (cubic: from a tangent predictor's
    error ~1e-3 two steps reach round-off), inside the bracket ``(z, min(z + V,
    max(z, 0) + log(1 + V) + 1))`` (``F < 0`` at ``z``; ``F > 0`` at either upper end, the second
    because ``V sigma(-P) < V e^{-P} < 1/e`` there), bisecting when a step leaves it or stalls:
    plain Newton from a poor guess can cycle between a bracket end and a far point.
    """
    lo = z
    hi = min(z + V, max(z, 0.0) + math.log1p(V) + 1.0)
    if not (lo < p < hi):
        p = 0.5 * (lo + hi)
    dx_old = hi - lo
    for _ in range(200):
        sm = _sigm(p)
        l2 = sm * (1.0 - sm)
        f = p - z - V * sm
        if f > 0.0:
            hi = p
        elif f < 0.0:
            lo = p
        else:
            break
        d1 = 1.0 + V * l2
        d2 = V * l2 * (2.0 * sm - 1.0)  # F''
        r = f / d1
        den = 1.0 - 0.5 * r * d2 / d1
        step = r / den if den > 0.5 else r
        pn = p - step
        if abs(step) <= 1e-6 * (1.0 + abs(p)):
            # The error left after this step is ~step^3 (the ratios of F's second and third
            # derivatives to F' are O(1)): accept it, before the bracket test (round-off can
            # put it on an end), and move sigma(-P) to it by its Taylor series (error ~step^3
            # too) instead of another exp.
            sm = sm + l2 * step - 0.5 * l2 * (2.0 * sm - 1.0) * step * step
            return pn, 1.0 / (1.0 + V * sm * (1.0 - sm))
        if not (lo < pn < hi) or abs(step) > 0.5 * dx_old:
            pn = 0.5 * (lo + hi)
            dx_old = abs(pn - p)
            p = pn
            if hi - lo <= 1e-15 * (1.0 + abs(p)):
                break
            continue
        dx_old = abs(step)
        p = pn
    sm = _sigm(p)
    return p, 1.0 / (1.0 + V * sm * (1.0 - sm))


@numba.njit(cache=True)
def _prox_next(z, V, p, dp, dz):
    """Logistic ``(P, P')`` at ``z`` from the map at ``z - dz`` (``P``, ``P'``): the tangent
    predictor leaves an error ``~ dz^2 |P''|``.
    """
    return _logistic_prox_halley(z, V, p + dp * dz)


@numba.njit(cache=True)
def _logistic_gh_direct(mu, s, V, ghx, ghw):
    # The proximal map solved at each Gauss-Hermite point (increasing z: warm starts).
    A = 0.0
    D = 0.0
    C = 0.0
    zp = mu + s * ghx[0]
    p, dp = _logistic_prox_halley(zp, V, zp)
    for k in range(ghx.size):
        z = mu + s * ghx[k]
        p, dp = _prox_next(z, V, p, dp, z - zp)
        zp = z
        A += ghw[k] * (p - z) * (p - z)
        D += ghw[k] * (1.0 - dp)
        C += ghw[k] * (p - z)
    return A, D, C


@numba.njit(cache=True)
def _logistic_composite_direct(mu, s, V):
    # _logistic_composite's rule, with this node's kinks and the proximal map solved at each
    # point (the pieces and their Gauss-Legendre points come in increasing z: warm starts).
    bp, nb = _g_breaks(mu, s, np.array([-V, 0.0, math.log1p(V)]))
    gap = 0.2 / s
    A = 0.0
    D = 0.0
    C = 0.0
    zp = mu + s * bp[0]
    p, dp = _logistic_prox_halley(zp, V, zp)
    j0 = 0
    for j in range(1, nb):
        if bp[j] - bp[j0] < gap and j < nb - 1:
            continue
        half = 0.5 * (bp[j] - bp[j0])
        mid = 0.5 * (bp[j] + bp[j0])
        j0 = j
        for k in range(_GL6_X.size):
            g = mid + half * _GL6_X[k]
            wg = half * _GL6_W[k] * _phi(g)
            z = mu + s * g
            p, dp = _prox_next(z, V, p, dp, z - zp)
            zp = z
            A += wg * (p - z) * (p - z)
            D += wg * (1.0 - dp)
            C += wg * (p - z)
    return A, D, C


@numba.njit(cache=True)
def averages_weighted(loss, yu, yw, wt, vw, m, rho, s, V, ghx, ghw):
    """:func:`averages` when node ``i``'s loss carries the weight ``vw[i] > 0``: its averages
    are taken at ``V vw[i]`` (module docstring; the hard constraint, code 3, ignores ``vw``).

    The logistic proximal map, which now differs from node to node, is solved (safeguarded
    Newton, warm-started along increasing ``z``) at each quadrature point rather than
    tabulated; the soft kinks of the composite rule are the node's own.
    """
    EA = 0.0
    ED = 0.0
    ECu = 0.0
    ECw = 0.0
    for i in range(wt.size):
        mu = m * yu[i] + rho * yw[i]
        if loss == 1:
            if s <= _S_GH:
                A, D, C = _logistic_gh_direct(mu, s, V * vw[i], ghx, ghw)
            else:
                A, D, C = _logistic_composite_direct(mu, s, V * vw[i])
        else:
            A, D, C = _node(loss, mu, s, V if loss == 3 else V * vw[i])
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
