"""Numba kernels of the replica theory (private): the Gaussian averages of theory.md and the
compiled part of the max-margin saddle-point solver (Newton, continuation, global check).

Averages
--------
Write ``l`` for the student's teacher-plane field ``(R u + rho w) / r`` (``r = sqrt(R^2 + rho^2)``)
and ``t`` for the orthogonal coordinate of the ``(u, w)`` plane. Every ``z`` average has a closed
form in ``a = (kappa - r l) / s``, so the integrand depends on ``l`` only; the kept region is an
intersection of half-planes, which for fixed ``l`` is an interval in ``t``. The ``t`` integral of
``phi(t) * {1, t}`` over that interval is therefore closed-form, and what remains is a 1-D integral
over ``l``, done by Gauss-Legendre panels whose breakpoints sit on the region's corners and on the
``a`` transition (width ``s / r``), so the rule is accurate however small ``s`` is. Work that can
only add exact zeros is skipped, so the sums are the same bit for bit: panels outside the
region's shadow on the ``l`` axis (by a margin far above round-off), nodes with ``a <= -40``
(where ``Phi(a) = phi(a) = 0`` in double precision), and the evaluation of ``Phi`` and ``phi``
in their exact tails.

By the symmetry ``(u, w) -> (-u, -w)`` only the half-plane ``u > 0`` (where ``y = +1``) is
integrated, with weight 2.

Solver
------
The unknowns are ``x = (log kappa, log psi, chi)`` with ``(R, rho, s) = (cos psi, sin psi sin chi,
sin psi cos chi)`` (see :mod:`perceptron_pruning._saddle_maxmargin`). :func:`walk` runs damped
Newton (forward-difference Jacobian) at each ``alpha`` of a sequence, started from the previous
root, and checks each root globally on a fixed scan of directions; it returns at the first root it
rejects so that the caller can solve that point's variational problem. The solver's kernels live
here, next to the averages, because Numba's on-disk cache of a function is not invalidated when a
function it calls in another module changes.

Kernel arguments: a kept law is the tuple ``law = (cu, cw, c0, ncon, weight)`` of
:class:`~perceptron_pruning.metrics.KeptLaw`'s arrays; ``ws`` is the scratch tuple of
:func:`_workspace`.
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

RESIDUAL_TOL = 1e-11
NOISE_TOL = 1e-7  # residuals below this are accepted once Newton's step has stalled
_LOG_PSI_MAX = math.log(math.pi - 1e-6)
_HALF_PI = math.pi / 2

# Columns of walk()'s output rows.
OUT_X = 0  # 0, 1, 2: log kappa, log psi, chi
OUT_R, OUT_RHO, OUT_KAPPA, OUT_EPS, OUT_RESIDUAL, OUT_A0 = 3, 4, 5, 6, 7, 8
OUT_COLUMNS = 9


@njit(cache=True, nogil=True)
def Phi(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True, nogil=True)
def phi(x):
    return _INV_SQRT2PI * math.exp(-0.5 * x * x)


# Beyond these arguments Phi and phi are exactly 0 or 1 in double precision (erfc(-8.5) rounds to
# 2, erfc(28.3) and exp(-800) underflow to 0), with a wide margin: the tails need no evaluation.
_PHI_ONE = 12.0
_TAIL_ZERO = 40.0


@njit(cache=True, nogil=True, inline="always")
def _Phi_t(x):
    """``Phi(x)``, bit for bit, without evaluating its exact tails."""
    if x >= _PHI_ONE:
        return 1.0
    if x <= -_TAIL_ZERO:
        return 0.0
    return Phi(x)


@njit(cache=True, nogil=True, inline="always")
def _phi_t(x):
    """``phi(x)``, bit for bit, without evaluating its exact tails."""
    if abs(x) >= _TAIL_ZERO:
        return 0.0
    return phi(x)


# ------------------------------------------------------------------------------------------------
# Averages
# ------------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _workspace(cu):
    """Scratch arrays ``(c1, c2, buf, bps)`` of the averages for a law of ``cu``'s shape."""
    nreg, ncm = cu.shape
    nb_max = 64 + 4 * nreg * ncm * ncm + nreg * ncm * _T_BREAKS.shape[0]
    return (np.empty((nreg, ncm)), np.empty((nreg, ncm)), np.empty(nb_max),
            np.empty(2 * nb_max + int(2 * L_MAX / H_MAX) + 4))


@njit(cache=True, nogil=True, inline="always")
def _breakpoints(kappa, r, s, c1, c2, c0, ncon, buf, out):
    """Panel edges on ``[-L_MAX, L_MAX]`` into ``out``; returns their number."""
    nb = 0
    buf[nb] = -L_MAX
    nb += 1
    buf[nb] = L_MAX
    nb += 1
    if r > 0.0:
        for k in range(_A_BREAKS.shape[0]):
            buf[nb] = (kappa - _A_BREAKS[k] * s) / r
            nb += 1
    for g in range(ncon.shape[0]):
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
    # Insertion sort: a few dozen points (and far less to compile than np.sort).
    for k in range(1, nb):
        v = buf[k]
        i = k - 1
        while i >= 0 and buf[i] > v:
            buf[i + 1] = buf[i]
            i -= 1
        buf[i + 1] = v
    no = 0
    prev = -L_MAX
    out[no] = prev
    no += 1
    for k in range(nb):
        x = min(max(buf[k], -L_MAX), L_MAX)
        if x <= prev:
            continue
        nsub = int(math.ceil((x - prev) / H_MAX))
        for q in range(1, nsub + 1):
            out[no] = prev + (x - prev) * q / nsub
            no += 1
        prev = x
    return no


@njit(cache=True, nogil=True, inline="always")
def _l_range(c1, c2, c0, ncon):
    """An interval of ``l`` outside which every region's ``t``-interval is empty, widened far
    beyond the round-off of the emptiness test in :func:`_averages`.
    """
    lo_all = np.inf
    hi_all = -np.inf
    for g in range(ncon.shape[0]):
        lo = -np.inf
        hi = np.inf
        empty = False
        for i in range(ncon[g]):
            if c2[g, i] != 0.0:
                continue
            if c1[g, i] > 0.0:
                b = -c0[g, i] / c1[g, i]
                lo = max(lo, b - 1e-9 * (1.0 + abs(b)))
            elif c1[g, i] < 0.0:
                b = -c0[g, i] / c1[g, i]
                hi = min(hi, b + 1e-9 * (1.0 + abs(b)))
            elif c0[g, i] < 0.0:
                empty = True
        # A lower t-bound (c2 > 0) and an upper one (c2 < 0) cross where t_hi - t_lo changes
        # sign: t_hi - t_lo = (A_i - A_j) + (B_i - B_j) l with A = c0 / c2, B = c1 / c2.
        for i in range(ncon[g]):
            if not c2[g, i] > 0.0:
                continue
            for j in range(ncon[g]):
                if not c2[g, j] < 0.0:
                    continue
                ai = c0[g, i] / c2[g, i]
                bi = c1[g, i] / c2[g, i]
                aj = c0[g, j] / c2[g, j]
                bj = c1[g, j] / c2[g, j]
                d = bi - bj
                if d == 0.0:
                    continue
                b = (aj - ai) / d
                # Round-off of t_hi - t_lo as a width in l, plus a relative margin.
                wid = (1e-12 * (abs(ai) + abs(aj) + L_MAX * (abs(bi) + abs(bj))) / abs(d)
                       + 1e-9 * (1.0 + abs(b)))
                if d > 0.0:
                    lo = max(lo, b - wid)
                else:
                    hi = min(hi, b + wid)
        if not empty and hi >= lo:
            lo_all = min(lo_all, lo)
            hi_all = max(hi_all, hi)
    return lo_all, hi_all


@njit(cache=True, nogil=True)
def _averages(kappa, R, rho, s, law, gl_x, gl_w, ws, a3_cap):
    """:func:`averages` on ``law`` with the scratch arrays ``ws``.

    With a finite ``a3_cap`` only ``A3`` is accumulated (the others are returned as 0), and the
    sum stops after the first panel at which ``A3 > a3_cap``: its terms are non-negative, so the
    partial sum is then a lower bound that already exceeds the cap. A sum that runs to the end is
    the same, bit for bit, as with ``a3_cap = inf``.
    """
    cu, cw, c0, ncon, weight = law
    c1, c2, buf, bps = ws
    a3_only = a3_cap < np.inf
    s2 = s * s
    r = math.sqrt(R * R + rho * rho)
    if r > 0.0:
        e1u, e1w = R / r, rho / r
    else:
        e1u, e1w = 1.0, 0.0
    nreg = ncon.shape[0]
    # u = e1u l - e1w t ; w = e1w l + e1u t
    for g in range(nreg):
        for i in range(ncon[g]):
            c1[g, i] = cu[g, i] * e1u + cw[g, i] * e1w
            v = -cu[g, i] * e1w + cw[g, i] * e1u
            c2[g, i] = v if abs(v) > 1e-15 else 0.0
    nbp = _breakpoints(kappa, r, s, c1, c2, c0, ncon, buf, bps)
    l_lo, l_hi = _l_range(c1, c2, c0, ncon)
    A0 = 0.0
    Au = 0.0
    Aw = 0.0
    A3 = 0.0
    for p in range(nbp - 1):
        lo_p = bps[p]
        hi_p = bps[p + 1]
        if hi_p < l_lo or lo_p > l_hi:
            continue  # every node would find an empty t-interval
        if r > 0.0 and s > 0.0 and (kappa - r * lo_p) / s < -1.01 * _TAIL_ZERO:
            break  # a decreases along l: every node from here on has a <= -40
        half = 0.5 * (hi_p - lo_p)
        mid = 0.5 * (hi_p + lo_p)
        for q in range(gl_x.shape[0]):
            l = mid + half * gl_x[q]
            m = kappa - r * l
            a = 0.0
            if s > 0.0:
                a = m / s
                if a <= -_TAIL_ZERO:
                    continue  # Phi(a) = phi(a) = 0: every term below is an exact zero
            elif m <= 0.0:
                continue
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
                    M0 += _Phi_t(thi) - _Phi_t(tlo)
                    if not a3_only:
                        M1 += _phi_t(tlo) - _phi_t(thi)
            if M0 == 0.0 and M1 == 0.0:
                continue
            wt = gl_w[q] * half * phi(l) * weight
            if s > 0.0:
                Pa = _Phi_t(a)
                pa = _phi_t(a)
                g1 = m * Pa + s * pa
                g3 = (m * m + s2) * Pa + m * s * pa
            else:
                Pa = 1.0 if m > 0.0 else 0.0
                g1 = max(m, 0.0)
                g3 = g1 * g1
            A3 += wt * g3 * M0
            if a3_only:
                continue
            A0 += wt * Pa * M0
            # u = e1u l M0 - e1w M1 ; w = e1w l M0 + e1u M1 (first moments over t)
            Au += wt * g1 * (e1u * l * M0 - e1w * M1)
            Aw += wt * g1 * (e1w * l * M0 + e1u * M1)
        if A3 > a3_cap:
            break
    return A0, Au, Aw, A3


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
    return _averages(kappa, R, rho, s, (cu, cw, c0, ncon, weight), gl_x, gl_w, _workspace(cu),
                     np.inf)


# ------------------------------------------------------------------------------------------------
# Solver: residuals, Newton, global check, continuation
# ------------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _residual(z, n, alpha, law, gl_x, gl_w, ws, out):
    """Scaled residuals of ``alpha Gbar = 1`` and stationarity at ``z = (log kappa, log psi,
    chi)`` into ``out[:n]``, and ``<Phi(a)>`` into ``out[3]``. False where they are undefined:
    outside the domain, ``kappa`` overflows, or ``Gbar = 0``.
    """
    if z[1] > _LOG_PSI_MAX or z[1] < -40.0:
        return False
    if n == 3 and abs(z[2]) >= _HALF_PI:
        return False
    kappa = math.exp(z[0])
    if kappa == np.inf:
        return False
    psi = math.exp(z[1])
    chi = z[2] if n == 3 else 0.0
    sp = math.sin(psi)
    R = math.cos(psi)
    rho = sp * math.sin(chi)
    s2 = (sp * math.cos(chi)) ** 2
    A0, Au, Aw, A3 = _averages(kappa, R, rho, math.sqrt(s2), law, gl_x, gl_w, ws, np.inf)
    G = A3 / s2
    DR = R * (G - A0) - Au  # (s^2 / 2) dGbar/dR
    Dr = rho * (G - A0) - Aw  # (s^2 / 2) dGbar/drho
    if alpha * G <= 0.0:
        return False
    Gs = max(G, 1e-300)
    e2 = (-DR * math.sin(psi) + Dr * math.cos(psi) * math.sin(chi)) / Gs
    out[0] = math.log(alpha * G)
    out[1] = e2 / math.sin(psi)
    if n == 3:
        out[2] = Dr * math.cos(chi) / Gs
    out[3] = A0
    return True


@njit(cache=True, nogil=True, inline="always")
def _max_abs(v, n):
    m = 0.0
    for i in range(n):
        m = max(m, abs(v[i]))
    return m


@njit(cache=True, nogil=True, inline="always")
def _all_finite(v, n):
    for i in range(n):
        if not math.isfinite(v[i]):
            return False
    return True


@njit(cache=True, nogil=True)
def _solve(J, rhs, n, out):
    """``out[:n] = J[:n, :n]^-1 rhs[:n]`` by LAPACK (numpy's results, bit for bit); False if
    ``J`` is singular or not finite.
    """
    A = np.empty((n, n))
    b = np.empty(n)
    for i in range(n):
        b[i] = rhs[i]
        for j in range(n):
            A[i, j] = J[i, j]
    try:
        x = np.linalg.solve(A, b)
    except Exception:  # noqa: BLE001 - Numba catches no narrower class
        return False
    for i in range(n):
        out[i] = x[i]
    return True


@njit(cache=True, nogil=True, inline="always")
def _newton(x0, alpha, planar, law, gl_x, gl_w, ws):
    """Damped Newton with a forward-difference Jacobian from ``x0`` (shape (3,)).

    Returns ``(x, max|F|, ok, <Phi(a)> at x)``; ``x`` has shape (3,) (``chi = 0`` if planar).
    """
    n = 2 if planar else 3
    x = np.zeros(3)
    for i in range(n):
        x[i] = x0[i]
    fx = np.empty(4)
    fp = np.empty(4)
    fn = np.empty(4)
    xp = np.empty(3)
    xn = np.zeros(3)
    J = np.zeros((3, 3))
    rhs = np.zeros(3)
    step = np.zeros(3)
    if not (_residual(x, n, alpha, law, gl_x, gl_w, ws, fx) and _all_finite(fx, n)):
        return x, np.inf, False, np.nan
    for _ in range(60):
        nrm = _max_abs(fx, n)
        if nrm < RESIDUAL_TOL:
            return x, nrm, True, fx[3]
        for j in range(n):
            h = 1e-7 * max(1.0, abs(x[j]))
            for i in range(3):
                xp[i] = x[i]
            xp[j] += h
            if not _residual(xp, n, alpha, law, gl_x, gl_w, ws, fp):
                xp[j] -= 2 * h
                if not _residual(xp, n, alpha, law, gl_x, gl_w, ws, fp):
                    return x, nrm, False, fx[3]
                h = -h
            for i in range(n):
                J[i, j] = (fp[i] - fx[i]) / h
        for i in range(n):
            rhs[i] = -fx[i]
        if not (_solve(J, rhs, n, step) and _all_finite(step, n)):
            return x, nrm, False, fx[3]
        smax = _max_abs(step, n)
        # Keep steps in log kappa and log psi moderate: they are multiplicative.
        t = min(1.0, 1.0 / max(1e-300, smax))
        if smax < 1e-11 and nrm < NOISE_TOL:
            # Round-off floor of the averages (extreme alpha or f): x is converged.
            return x, nrm, True, fx[3]
        accepted = False
        while t > 1e-6:
            for i in range(n):
                xn[i] = x[i] + t * step[i]
            if (_residual(xn, n, alpha, law, gl_x, gl_w, ws, fn) and _all_finite(fn, n)
                    and _max_abs(fn, n) < nrm):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return x, nrm, nrm < NOISE_TOL, fx[3]
        for i in range(n):
            x[i] = xn[i]
        for i in range(4):
            fx[i] = fn[i]
    nrm = _max_abs(fx, n)
    return x, nrm, nrm < NOISE_TOL, fx[3]


@njit(cache=True, nogil=True, inline="always")
def _gbar(kappa, psi, sc, cc, cap, law, gl_x, gl_w, ws):
    """``Gbar = <G(a)>`` at direction ``(psi, chi)``, given ``sc, cc = sin(chi), cos(chi)``.

    Once the sum exceeds ``cap`` it may stop and return a partial sum (still above ``cap``).
    """
    sp = math.sin(psi)
    s = sp * cc
    s2 = s * s
    # The partial sum must clear the cap by far more than the round-off of its terms.
    A3 = _averages(kappa, math.cos(psi), sp * sc, s, law, gl_x, gl_w, ws,
                   cap * (1.0 + 1e-12) * s2)[3]
    return A3 / s2


@njit(cache=True, nogil=True, inline="always")
def _certify(x, planar, law, gl_x, gl_w, psi_scan, chi_scan, ws):
    """Global check of the Newton point ``x``: ``Gbar`` at its ``kappa`` on a scan of directions.

    Returns ``(good, psi, chi)``: ``good`` if no scanned direction beats ``x``'s by more than a
    relative ``1e-7``, and the best direction found (``x``'s own if none beats it). Directions
    are summed only until they provably cannot be the best so far (see :func:`_gbar`), which
    leaves the outcome of the scan unchanged.
    """
    kappa = math.exp(x[0])
    psi0 = math.exp(x[1])
    chi0 = 0.0 if planar else x[2]
    g0 = _gbar(kappa, psi0, math.sin(chi0), math.cos(chi0), np.inf, law, gl_x, gl_w, ws)
    best, pb, cb = g0, psi0, chi0
    # Scan psi along chi = 0 (the perfect metric's plane) and along the current chi, and chi at
    # the current psi: the spurious roots seen in practice differ from the physical one in psi.
    nline = 1 if planar or chi0 == 0.0 else 2
    for k in range(nline):
        if nline == 1:
            chi = 0.0
        else:
            chi = min(chi0, 0.0) if k == 0 else max(chi0, 0.0)
        sc = math.sin(chi)
        cc = math.cos(chi)
        # First minimum along the line; a NaN makes the line's minimum NaN (numpy's argmin).
        gl = np.inf
        il = 0
        for i in range(psi_scan.shape[0]):
            g = _gbar(kappa, psi_scan[i], sc, cc, min(best, gl), law, gl_x, gl_w, ws)
            if g != g:
                gl = g
                break
            if g < gl:
                gl, il = g, i
        if gl < best:
            best, pb, cb = gl, psi_scan[il], chi
    if not planar:
        for k in range(chi_scan.shape[0]):
            chi = chi_scan[k]
            g = _gbar(kappa, psi0, math.sin(chi), math.cos(chi), best, law, gl_x, gl_w, ws)
            if g < best:
                best, pb, cb = g, psi0, chi
    return best >= g0 * (1.0 - 1e-7), pb, cb


@njit(cache=True, nogil=True)
def walk(alphas, start, x0, check, planar, cu, cw, c0, ncon, weight, gl_x, gl_w, gls_x, gls_w,
         psi_scan, chi_scan, out):
    """Continuation: Newton at ``alphas[k]`` from the root at ``alphas[k - 1]`` (from ``x0`` at
    ``k = start``), each root checked by :func:`_certify` (scan rule ``gls_x, gls_w``) if
    ``check``.

    Writes row ``k`` of ``out`` (shape (K, OUT_COLUMNS)): Newton's ``x`` (also when rejected)
    and, for accepted roots, ``R, rho, kappa, eps``, the residual and ``<Phi(a)>``. Stops at the
    first rejected point ``k`` (Newton failed, or the check found a better direction) and
    returns ``(k, psi, chi, kappa_lo)``, where its variational solution should start (NaN
    without ``check``); returns ``(K, nan, nan, nan)`` if every point was accepted.
    """
    law = (cu, cw, c0, ncon, weight)
    ws = _workspace(cu)
    x = x0.copy()
    for k in range(start, alphas.shape[0]):
        xn, nrm, ok, A0 = _newton(x, alphas[k], planar, law, gl_x, gl_w, ws)
        for i in range(3):
            out[k, OUT_X + i] = xn[i]
        pb = cb = kappa_lo = np.nan
        if ok:
            if check:
                ok, pb, cb = _certify(xn, planar, law, gls_x, gls_w, psi_scan, chi_scan, ws)
        elif check:
            pb = math.exp(x[1])
            cb = 0.0 if planar else x[2]
        if not ok:
            if check:
                kappa_lo = math.exp(min(xn[0], x[0])) * 0.5
            return k, pb, cb, kappa_lo
        psi = math.exp(xn[1])
        chi = 0.0 if planar else xn[2]
        out[k, OUT_R] = math.cos(psi)
        out[k, OUT_RHO] = math.sin(psi) * math.sin(chi)
        out[k, OUT_KAPPA] = math.exp(xn[0])
        out[k, OUT_EPS] = psi / math.pi
        out[k, OUT_RESIDUAL] = nrm
        out[k, OUT_A0] = A0
        x = xn
    return alphas.shape[0], np.nan, np.nan, np.nan
