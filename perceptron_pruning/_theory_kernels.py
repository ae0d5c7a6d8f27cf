"""Numba kernels of the replica theory (private): the Gaussian averages of theory.md.

Write ``l`` for the student's teacher-plane field ``(R u + rho w) / r`` (``r = sqrt(R^2 + rho^2)``)
and ``t`` for the orthogonal coordinate of the ``(u, w)`` plane. Every ``z`` average has a closed
form in ``a = (kappa - r l) / s``, so the integrand depends on ``l`` only; the kept region is an
intersection of half-planes, which for fixed ``l`` is an interval in ``t``. The ``t`` integral of
``phi(t) * {1, t}`` over that interval is therefore closed-form, and what remains is a 1-D integral
over ``l``, done by Gauss-Legendre panels whose breakpoints sit on the region's corners and on the
``a`` transition (width ``s / r``), so the rule is accurate however small ``s`` is.

By the symmetry ``(u, w) -> (-u, -w)`` only the half-plane ``u > 0`` (where ``y = +1``) is
integrated, with weight 2.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
L_MAX = 10.0  # |l| beyond this carries weight phi < 1e-22
H_MAX = 1.0  # widest panel in standard-normal units
# Transition breakpoints in units of s / r around l = kappa / r.
_A_BREAKS = np.array([-14.0, -8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0, 14.0])
_T_BREAKS = np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])


@njit(cache=True, nogil=True)
def Phi(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True, nogil=True)
def phi(x):
    return _INV_SQRT2PI * math.exp(-0.5 * x * x)


@njit(cache=True, nogil=True)
def _breakpoints(kappa, r, s, c1, c2, c0, ncon, nreg):
    buf = np.empty(64 + 4 * nreg * ncon.max() ** 2 + nreg * ncon.max() * _T_BREAKS.shape[0])
    nb = 0
    buf[nb] = -L_MAX
    nb += 1
    buf[nb] = L_MAX
    nb += 1
    if r > 0.0:
        for k in range(_A_BREAKS.shape[0]):
            buf[nb] = (kappa - _A_BREAKS[k] * s) / r
            nb += 1
    for g in range(nreg):
        for i in range(ncon[g]):
            # A boundary nearly parallel to t sweeps its t-bound fast through the Gaussian bulk:
            # mark where the bound crosses t = 0, +-1, +-2, +-4, +-8.
            if c2[g, i] != 0.0 and c1[g, i] != 0.0:
                for k in range(_T_BREAKS.shape[0]):
                    buf[nb] = -(c0[g, i] + c2[g, i] * _T_BREAKS[k]) / c1[g, i]
                    nb += 1
            if c2[g, i] == 0.0:
                if c1[g, i] != 0.0:
                    buf[nb] = -c0[g, i] / c1[g, i]
                    nb += 1
                continue
            for j in range(i + 1, ncon[g]):
                if c2[g, j] == 0.0:
                    continue
                den = c1[g, j] * c2[g, i] - c1[g, i] * c2[g, j]
                if den != 0.0:
                    buf[nb] = (c0[g, i] * c2[g, j] - c0[g, j] * c2[g, i]) / den
                    nb += 1
    pts = np.sort(buf[:nb])
    out = np.empty(nb * 2 + int(2 * L_MAX / H_MAX) + 4)
    no = 0
    prev = -L_MAX
    out[no] = prev
    no += 1
    for k in range(nb):
        x = min(max(pts[k], -L_MAX), L_MAX)
        if x <= prev:
            continue
        nsub = int(math.ceil((x - prev) / H_MAX))
        for q in range(1, nsub + 1):
            out[no] = prev + (x - prev) * q / nsub
            no += 1
        prev = x
    return out[:no]


@njit(cache=True, nogil=True)
def averages(kappa, R, rho, s, cu, cw, c0, ncon, weight, gl_x, gl_w):
    """Kept-law averages ``(<Phi(a)>, <u g>, <w g>, <(m^2+s^2)Phi + m s phi>)``.

    ``g = m Phi(a) + s phi(a)``, ``s = sqrt(1 - R^2 - rho^2)`` (given accurately by the caller).
    Region ``k`` of the kept half-plane ``u > 0`` is
    ``{c0[k,i] + cu[k,i] u + cw[k,i] w >= 0 for i < ncon[k]}``; ``weight`` is ``2 / f`` (or 2 when
    the law is not pruned). ``gl_x, gl_w`` are Gauss-Legendre nodes and weights on [-1, 1].
    """
    # s is passed in, not recomputed as sqrt(1 - R^2 - rho^2): near R = 1 that difference loses
    # most of its digits (at eps ~ 1e-5 only seven remain), and the equations need them all.
    s2 = s * s
    r = math.sqrt(R * R + rho * rho)
    if r > 0.0:
        e1u, e1w = R / r, rho / r
    else:
        e1u, e1w = 1.0, 0.0
    nreg = ncon.shape[0]
    ncmax = cu.shape[1]
    c1 = np.empty((nreg, ncmax))
    c2 = np.empty((nreg, ncmax))
    # u = e1u l - e1w t ; w = e1w l + e1u t
    for g in range(nreg):
        for i in range(ncon[g]):
            c1[g, i] = cu[g, i] * e1u + cw[g, i] * e1w
            v = -cu[g, i] * e1w + cw[g, i] * e1u
            c2[g, i] = v if abs(v) > 1e-15 else 0.0
    bps = _breakpoints(kappa, r, s, c1, c2, c0, ncon, nreg)
    A0 = 0.0
    Au = 0.0
    Aw = 0.0
    A3 = 0.0
    for p in range(bps.shape[0] - 1):
        lo_p = bps[p]
        hi_p = bps[p + 1]
        half = 0.5 * (hi_p - lo_p)
        mid = 0.5 * (hi_p + lo_p)
        for q in range(gl_x.shape[0]):
            l = mid + half * gl_x[q]
            # Closed-form t integrals over the kept interval(s) at this l.
            M0 = 0.0
            M1 = 0.0
            for g in range(nreg):
                tlo = -np.inf
                thi = np.inf
                ok = True
                for i in range(ncon[g]):
                    b = c0[g, i] + c1[g, i] * l
                    if c2[g, i] == 0.0:
                        if b < 0.0:
                            ok = False
                    elif c2[g, i] > 0.0:
                        tlo = max(tlo, -b / c2[g, i])
                    else:
                        thi = min(thi, -b / c2[g, i])
                if ok and thi > tlo:
                    M0 += Phi(thi) - Phi(tlo)
                    M1 += (phi(tlo) if tlo > -np.inf else 0.0) - (phi(thi) if thi < np.inf else 0.0)
            if M0 == 0.0 and M1 == 0.0:
                continue
            wt = gl_w[q] * half * phi(l) * weight
            m = kappa - r * l
            if s > 0.0:
                a = m / s
                Pa = Phi(a)
                pa = phi(a)
                g1 = m * Pa + s * pa
                g3 = (m * m + s2) * Pa + m * s * pa
            else:
                Pa = 1.0 if m > 0.0 else 0.0
                g1 = max(m, 0.0)
                g3 = g1 * g1
            A0 += wt * Pa * M0
            # u = e1u l M0 - e1w M1 ; w = e1w l M0 + e1u M1 (first moments over t)
            Au += wt * g1 * (e1u * l * M0 - e1w * M1)
            Aw += wt * g1 * (e1w * l * M0 + e1u * M1)
            A3 += wt * g3 * M0
    return A0, Au, Aw, A3


@njit(cache=True, nogil=True)
def gbar_scan(kappa, psis, chi, cu, cw, c0, ncon, weight, gl_x, gl_w):
    """``Gbar = <G(a)>`` at direction ``(psi, chi)`` for every ``psi`` in ``psis``.

    One call for the whole scan, so the certification pays no per-point interpreter overhead.
    """
    out = np.empty(psis.shape[0])
    sc = math.sin(chi)
    cc = math.cos(chi)
    for i in range(psis.shape[0]):
        sp = math.sin(psis[i])
        s = sp * cc
        A3 = averages(kappa, math.cos(psis[i]), sp * sc, s, cu, cw, c0, ncon, weight, gl_x,
                      gl_w)[3]
        out[i] = A3 / (s * s)
    return out
