"""The compiled max-margin solver (Newton, continuation and global check in Numba) against the
pure-Python solver it replaced.

The reference below is that solver, kept verbatim in the form it had before compilation: damped
Newton with a forward-difference Jacobian, the continuation and the scan of ``Gbar`` over
directions run in Python, on its own copy of the Numba kernel of the averages (as it was, without
skipped panels or capped sums). Nothing here imports the package's solver or kernels; only the
kept laws come from the package. The variational fallback is the same scipy code in both, so the
tests also check that the fallback runs at exactly the same points.

Both solvers follow the same Newton steps, so they agree far below the tolerance of 1e-9 in
``eps``: where ``Gbar`` is nearly flat in ``psi`` (keep hard, ``f = 1e-3``, ``alpha ~ 200``)
``eps`` is pinned only to ~1e-9 by the residual tolerance, and any change of the steps' round-off
(another linear solver, say) shows up there at that level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq, minimize_scalar

from perceptron_pruning import _saddle_maxmargin, theory
from perceptron_pruning.registry import get_metric

# --------------------------------------------------------------------------------------------
# Reference kernel of the averages (the previous version, verbatim)
# --------------------------------------------------------------------------------------------
_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
L_MAX = 10.0
H_MAX = 1.0
_A_BREAKS = np.array([-14.0, -8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0, 14.0])
_T_BREAKS = np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])


@njit(cache=True)
def ref_Phi(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def ref_phi(x):
    return _INV_SQRT2PI * math.exp(-0.5 * x * x)


@njit(cache=True)
def ref_breakpoints(kappa, r, s, c1, c2, c0, ncon, nreg):
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


@njit(cache=True)
def ref_averages(kappa, R, rho, s, cu, cw, c0, ncon, weight, gl_x, gl_w):
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
    for g in range(nreg):
        for i in range(ncon[g]):
            c1[g, i] = cu[g, i] * e1u + cw[g, i] * e1w
            v = -cu[g, i] * e1w + cw[g, i] * e1u
            c2[g, i] = v if abs(v) > 1e-15 else 0.0
    bps = ref_breakpoints(kappa, r, s, c1, c2, c0, ncon, nreg)
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
                    M0 += ref_Phi(thi) - ref_Phi(tlo)
                    M1 += ((ref_phi(tlo) if tlo > -np.inf else 0.0)
                           - (ref_phi(thi) if thi < np.inf else 0.0))
            if M0 == 0.0 and M1 == 0.0:
                continue
            wt = gl_w[q] * half * ref_phi(l) * weight
            m = kappa - r * l
            if s > 0.0:
                a = m / s
                Pa = ref_Phi(a)
                pa = ref_phi(a)
                g1 = m * Pa + s * pa
                g3 = (m * m + s2) * Pa + m * s * pa
            else:
                Pa = 1.0 if m > 0.0 else 0.0
                g1 = max(m, 0.0)
                g3 = g1 * g1
            A0 += wt * Pa * M0
            Au += wt * g1 * (e1u * l * M0 - e1w * M1)
            Aw += wt * g1 * (e1w * l * M0 + e1u * M1)
            A3 += wt * g3 * M0
    return A0, Au, Aw, A3


@njit(cache=True)
def ref_gbar_scan(kappa, psis, chi, cu, cw, c0, ncon, weight, gl_x, gl_w):
    out = np.empty(psis.shape[0])
    sc = math.sin(chi)
    cc = math.cos(chi)
    for i in range(psis.shape[0]):
        sp = math.sin(psis[i])
        s = sp * cc
        A3 = ref_averages(kappa, math.cos(psis[i]), sp * sc, s, cu, cw, c0, ncon, weight, gl_x,
                          gl_w)[3]
        out[i] = A3 / (s * s)
    return out


# --------------------------------------------------------------------------------------------
# Reference solver (the previous pure-Python version, verbatim but for names)
# --------------------------------------------------------------------------------------------
_GL_X, _GL_W = leggauss(12)
_GL_SCAN_X, _GL_SCAN_W = leggauss(6)
_RESIDUAL_TOL = 1e-11
_NOISE_TOL = 1e-7
_PSI_SCAN = np.exp(np.linspace(math.log(1e-6), math.log(math.pi / 2 - 1e-6), 33))
_CHI_SCAN = np.linspace(-1.45, 1.45, 11)


def _direction(psi, chi):
    sp = math.sin(psi)
    return math.cos(psi), sp * math.sin(chi), (sp * math.cos(chi)) ** 2


class RefModel:
    def __init__(self, law):
        self.law = (law.cu, law.cw, law.c0, law.ncon, law.weight)
        self.planar = law.symmetric
        self.variational_at = []  # alphas at which the fallback ran

    def avg(self, kappa, R, rho, s):
        return ref_averages(kappa, R, rho, s, *self.law, _GL_X, _GL_W)

    def gbar(self, kappa, psi, chi):
        R, rho, s2 = _direction(psi, chi)
        return self.avg(kappa, R, rho, math.sqrt(s2))[3] / s2

    def gbar_scan(self, kappa, psis, chi):
        return ref_gbar_scan(kappa, np.asarray(psis, dtype=float), chi, *self.law, _GL_SCAN_X,
                             _GL_SCAN_W)

    def residual(self, x, alpha):
        kappa = math.exp(x[0])
        psi = math.exp(x[1])
        chi = 0.0 if self.planar else x[2]
        R, rho, s2 = _direction(psi, chi)
        A0, Au, Aw, A3 = self.avg(kappa, R, rho, math.sqrt(s2))
        G = A3 / s2
        DR = R * (G - A0) - Au
        Dr = rho * (G - A0) - Aw
        e1 = math.log(alpha * G)
        e2 = (-DR * math.sin(psi) + Dr * math.cos(psi) * math.sin(chi)) / max(G, 1e-300)
        if self.planar:
            return np.array([e1, e2 / math.sin(psi)])
        e3 = Dr * math.cos(chi) / max(G, 1e-300)
        return np.array([e1, e2 / math.sin(psi), e3])


def ref_newton(model, x0, alpha, *, max_iter=60):
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
        scale = min(1.0, 1.0 / max(1e-300, float(np.max(np.abs(step)))))
        if float(np.max(np.abs(step))) < 1e-11 and nrm < _NOISE_TOL:
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


def ref_best_direction(model, kappa, psi0, chi0):
    best = (float(model.gbar_scan(kappa, [psi0], chi0)[0]), psi0, chi0)
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


def ref_certified(model, x):
    kappa, psi = math.exp(x[0]), math.exp(x[1])
    chi = 0.0 if model.planar else float(x[2])
    g0 = float(model.gbar_scan(kappa, [psi], chi)[0])
    gmin, pb, cb = ref_best_direction(model, kappa, psi, chi)
    return gmin >= g0 * (1.0 - 1e-7), (pb, cb)


def ref_inner_min(model, kappa, psi, chi):
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


def ref_variational(model, alpha, psi, chi, kappa_lo):
    model.variational_at.append(alpha)
    target = 1.0 / alpha
    lo = kappa_lo
    g, psi, chi = ref_inner_min(model, lo, psi, chi)
    while g > target:
        lo *= 0.5
        g, psi, chi = ref_inner_min(model, lo, psi, chi)
    hi = lo * 2.0
    while True:
        g, p2, c2 = ref_inner_min(model, hi, psi, chi)
        if g > target:
            break
        lo, psi, chi = hi, p2, c2
        hi *= 2.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        g, p2, c2 = ref_inner_min(model, mid, psi, chi)
        if g <= target:
            lo, psi, chi = mid, p2, c2
        else:
            hi = mid
        if hi / lo - 1.0 < 1e-7:
            break
    return np.array([math.log(lo), math.log(psi), chi])


def _pad(x):
    return np.concatenate([x, [0.0] * (3 - len(x))])


def ref_solve_one(model, alpha, x0=None):
    if x0 is None:
        a0 = min(alpha, 1e-2)

        def G(a):
            return (a * a + 1.0) * ref_Phi(a) + a * ref_phi(a)

        kappa = brentq(lambda a: G(a) - 1.0 / a0, -10.0, 1e4)
        x0 = np.array([math.log(kappa), math.log(math.pi / 2 - 1e-3), 0.0])
        x0, res, ok = ref_newton(model, x0, a0)
        if not ok:
            x0 = ref_variational(model, a0, math.exp(x0[1]), 0.0, 1.0)
        ladder = np.geomspace(a0, alpha, max(2, int(math.ceil(4 * math.log10(alpha / a0))) + 1))
        for a in ladder[1:]:
            x0, res, _ = ref_solve_one(model, a, x0)
        return x0, res, False
    x, res, ok = ref_newton(model, x0, alpha)
    if ok:
        good, (pb, cb) = ref_certified(model, x)
        if good:
            return _pad(x), res, False
    else:
        pb, cb = math.exp(x0[1]), (0.0 if model.planar else float(x0[2]))
    kappa_lo = math.exp(min(x[0], x0[0])) * 0.5
    xv = ref_variational(model, alpha, pb, cb, kappa_lo)
    x, res, ok = ref_newton(model, xv, alpha)
    if not ok:
        raise RuntimeError(f"theory solver did not converge at alpha_prune = {alpha:g}")
    return _pad(x), res, True


def ref_curve(law, alpha_prune):
    """``(values, jumps, alphas of the fallback)`` as the previous ``solve_curve`` gave them."""
    model = RefModel(law)
    ap = np.asarray(alpha_prune, dtype=float)
    order = np.argsort(ap, kind="stable")
    out = [None] * ap.size
    x = None
    jumps = []
    prev_alpha = None
    for pos, i in enumerate(order):
        a = float(ap[i])
        jumped_between = False
        if x is not None and a / prev_alpha > 1.5:
            for b in np.geomspace(prev_alpha, a, int(math.ceil(math.log(a / prev_alpha)
                                                               / math.log(1.5))) + 1)[1:-1]:
                x, _, jb = ref_solve_one(model, float(b), x)
                jumped_between = jumped_between or jb
        x, res, jumped = ref_solve_one(model, a, x)
        if (jumped or jumped_between) and pos > 0:
            jumps.append(int(i))
        kappa, psi = math.exp(x[0]), math.exp(x[1])
        chi = 0.0 if model.planar else float(x[2])
        R, rho, s2 = _direction(psi, chi)
        A0 = model.avg(kappa, R, rho, math.sqrt(s2))[0]
        out[i] = dict(R=R, rho=rho, kappa=kappa, eps=psi / math.pi, alpha_support=a * A0,
                      residual=res)
        prev_alpha = a
    values = {k: np.array([p[k] for p in out]) for k in out[0]}
    return values, tuple(sorted(jumps)), model.variational_at


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
def _law(f, keep, theta):
    return get_metric("margin").kept_law(f=f, keep=keep, theta=float(theta))


_G200 = np.geomspace(0.1, 100.0, 200)  # the benchmark's and the figures' range
_RESIDUAL_GRID = [0.01, 0.3, 1.5, 4.0, 20.0, 300.0]  # test_theory.py: wide gaps are walked
_CURVES = [
    (_G200, 0.2, "hard", 0),
    (_G200, 0.3, "hard", 10),
    (_G200, 0.2, "easy", 10),
    (np.geomspace(1e-3, 1e4, 60), 1.0, "hard", 0),
    (np.geomspace(30.0, 1000.0, 400), 1e-3, "hard", 5),  # Gbar nearly flat in psi near 200
    (np.geomspace(0.3, 30.0, 400), 0.2, "hard", 5),
    (np.geomspace(1.0, 1e4, 40), 1e-3, "easy", 30),
    (np.array([3.0, 0.5, 20.0, 1.0, 3.0, 900.0, 0.004]), 0.3, "hard", 10),  # any order, repeats
    *[(_RESIDUAL_GRID, f, k, t) for f, k, t in [(0.2, "easy", 0), (0.5, "easy", 30),
                                                 (0.05, "hard", 45), (0.3, "easy", 90),
                                                 (0.01, "hard", 0)]],
    # The global check rejects a continued root here: the variational fallback runs.
    (np.geomspace(0.1, 1000.0, 60), 1e-3, "hard", 5),
    (np.geomspace(0.01, 1e4, 12), 1e-3, "hard", 60),
]


def _compare(values, ref, *, tol=1e-9):
    np.testing.assert_allclose(values["eps"], ref["eps"], rtol=0, atol=tol)
    for name in ("R", "rho"):
        np.testing.assert_allclose(values[name], ref[name], rtol=0, atol=10 * tol, err_msg=name)
    for name in ("kappa", "alpha_support"):
        np.testing.assert_allclose(values[name], ref[name], rtol=tol, err_msg=name)
    assert np.all(values["residual"] < 1e-7)


@pytest.mark.parametrize("grid,f,keep,theta", _CURVES)
def test_compiled_solver_equals_previous_solver(grid, f, keep, theta, monkeypatch):
    law = _law(f, keep, theta)
    ref, ref_jumps, ref_fallback = ref_curve(law, grid)
    fallback = []
    variational = _saddle_maxmargin._variational

    def counted(model, alpha, *args):
        fallback.append(alpha)
        return variational(model, alpha, *args)

    monkeypatch.setattr(_saddle_maxmargin, "_variational", counted)
    values, jumps = _saddle_maxmargin.solve_curve(law, np.asarray(grid, dtype=float))
    _compare(values, ref)
    assert jumps == ref_jumps
    assert fallback == ref_fallback  # the fallback runs at exactly the same points


def test_fallback_cases_do_fall_back():
    # Keep the fallback cases above honest: the variational problem is solved there.
    for grid, f, keep, theta in _CURVES[-2:]:
        assert ref_curve(_law(f, keep, theta), grid)[1] != ()


def test_public_curve_is_the_compiled_solver():
    c = theory.curve(_G200, f=0.3, keep="hard", theta=10)
    ref, ref_jumps, _ = ref_curve(_law(0.3, "hard", 10), _G200)
    _compare(c.values, ref)
    assert c.jumps == ref_jumps


@pytest.mark.parametrize("f,keep,theta", [(0.2, "hard", 0), (0.3, "hard", 10), (0.05, "easy", 5),
                                          (1e-3, "hard", 5), (0.5, "easy", 90), (1.0, "hard", 0)])
def test_kernel_averages_equal_previous_kernel_bit_for_bit(f, keep, theta):
    # Panels outside the region's shadow on the l axis are skipped: they only added zeros.
    law = _law(f, keep, theta)
    model = _saddle_maxmargin._Model(law)
    rng = np.random.default_rng(7)
    for _ in range(300):
        psi = math.exp(rng.uniform(math.log(1e-6), math.log(3.1)))
        chi = 0.0 if law.symmetric else rng.uniform(-1.5, 1.5)
        kappa = math.exp(rng.uniform(-8.0, 3.0))
        R, rho, s2 = _direction(psi, chi)
        got = model.avg(kappa, R, rho, math.sqrt(s2))
        want = ref_averages(kappa, R, rho, math.sqrt(s2), law.cu, law.cw, law.c0, law.ncon,
                            law.weight, _GL_X, _GL_W)
        assert got == want, (kappa, psi, chi)


@pytest.mark.parametrize("f,keep,theta", [(0.2, "hard", 0), (0.3, "hard", 10), (0.2, "easy", 10),
                                          (1e-3, "hard", 5), (0.05, "hard", 45)])
def test_global_check_equals_full_scan(f, keep, theta):
    # The compiled check stops summing a direction once it cannot win; its verdict and best
    # direction must be those of the full scan, at roots and (mostly rejected) random points.
    from perceptron_pruning import _theory_kernels as kern

    law = _law(f, keep, theta)
    model = RefModel(law)
    points = []
    c = theory.curve(np.geomspace(0.05, 300.0, 12), f=f, keep=keep, theta=theta)
    for kappa, eps, R, rho in zip(c.kappa, c.eps, c.R, c.rho):
        psi = math.pi * eps if law.symmetric else math.acos(R)
        chi = 0.0 if law.symmetric else math.asin(max(-1.0, min(1.0, rho / math.sin(psi))))
        points.append((kappa, psi, chi))
    rng = np.random.default_rng(3)
    for _ in range(40):
        points.append((math.exp(rng.uniform(-6.0, 1.5)), math.exp(rng.uniform(-8.0, 0.4)),
                       0.0 if law.symmetric else rng.uniform(-1.4, 1.4)))
    verdicts = set()
    for kappa, psi, chi in points:
        x = np.array([math.log(kappa), math.log(psi), chi])
        good, (pb, cb) = ref_certified(model, x)
        got = kern._certify(x, law.symmetric, (law.cu, law.cw, law.c0, law.ncon, law.weight),
                            _GL_SCAN_X, _GL_SCAN_W, _PSI_SCAN, _CHI_SCAN,
                            kern._workspace(law.cu))
        assert got == (good, pb, cb), (kappa, psi, chi)
        verdicts.add(good)
    assert verdicts == {True, False}


def test_skipped_tails_of_Phi_and_phi_are_exact():
    # The kernel skips Phi and phi where they are exactly 0 or 1 in double precision.
    from perceptron_pruning import _theory_kernels as kern

    for x in np.concatenate([np.linspace(kern._PHI_ONE, 60.0, 2001), [1e3, 1e300, np.inf]]):
        assert kern.Phi(x) == 1.0
    for x in np.concatenate([np.linspace(kern._TAIL_ZERO, 60.0, 2001), [1e3, 1e300, np.inf]]):
        assert kern.Phi(-x) == 0.0
        assert kern.phi(x) == 0.0 and kern.phi(-x) == 0.0
