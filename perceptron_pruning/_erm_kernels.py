"""Numba kernels of the regularised linear learners (private, used by ``_erm_solvers``).

Hinge loss:

- :func:`hinge_rows` builds the rows ``z_mu = y_mu x_mu / sqrt(N)`` of the hinge dual (float32)
  and their squared norms;
- :func:`hinge_dcd` is dual coordinate descent with shrinking (the liblinear algorithm of Hsieh et
  al., ICML 2008) on the box-constrained dual ``min_a a^T Q a / 2 - sum(a)``,
  ``0 <= a_mu <= C_mu``, ``Q = Z Z^T``, written in terms of the rows ``z_mu`` of ``Z`` (``Q`` is
  never formed) with the primal vector ``w = Z^T a`` kept up to date;
- :func:`hinge_terms` evaluates the hinge primal and the duality gap term by term.

Logistic loss:

- :func:`logistic_terms` and :func:`logistic_line` evaluate the loss and its derivatives without
  overflow (``log1p(exp(-|m|))`` forms);
- :func:`logistic_grad` (loss and gradient, float64) and :func:`hessvec32` (Hessian-vector
  product, float32) are fused single passes over the rows, four rows at a time;
- :func:`logistic_newton_cg` is the whole truncated-Newton solver.

Sample weights ``v_mu > 0`` (the loss of example ``mu`` multiplied by ``v_mu``) enter as arrays
that every caller passes, ones when unweighted, so each kernel keeps a single signature: the
per-example box ``C_mu = v_mu / lam`` of the hinge dual, and the factor ``v`` of the logistic loss,
gradient and curvature. Multiplying by a weight of exactly 1.0 is exact in floating point, so
with unit weights every result is bit-identical to that of an unweighted kernel.

Every loop is serial with a fixed order (no ``prange``, no parallel reduction), and the
coordinate order of :func:`hinge_dcd` comes from a private xorshift generator seeded by the
caller, so results are bit-identical whatever the thread count. Arrays are C-contiguous float64,
except the single-precision copies of the data (``Z32``, ``Xs``) and the float32 work vectors of
:func:`hessvec32`; each public kernel is called with a single signature.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    # Reassociation lets LLVM vectorise the sum; the order is fixed at compile time, so the result
    # is the same on every call, whatever the thread count.
    s = 0.0
    for k in range(a.shape[0]):
        s += a[k] * b[k]
    return s


@njit(cache=True, nogil=True, fastmath={"contract"})
def _axpy(alpha, x, y):
    for k in range(x.shape[0]):
        y[k] += alpha * x[k]


@njit(cache=True, nogil=True)
def _xorshift(state):
    # xorshift64 step; ``state`` is a length-1 uint64 array.
    x = state[0]
    x ^= (x << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(7)
    x ^= (x << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    state[0] = x
    return x


@njit(cache=True, nogil=True)
def hinge_rows(X, y, scale, Z32, qd):
    """One pass: rows ``z = scale y x`` in single precision (``Z32``) and ``qd = |z|^2``."""
    P, N = X.shape
    for i in range(P):
        c = scale * y[i]
        s = 0.0
        for k in range(N):
            v = c * X[i, k]
            Z32[i, k] = v
            s += v * v
        qd[i] = s


@njit(cache=True, nogil=True)
def hinge_dcd(Z, qd, a, w, C, eps, max_epochs, seed):
    """Dual coordinate descent with shrinking on ``min a^T Z Z^T a / 2 - sum(a)``,
    ``0 <= a_i <= C_i``.

    ``a`` (shape (P,)) and ``w = Z^T a`` (shape (N,)) are float64 and updated in place (warm
    start); ``Z`` (shape (P, N)) may be float32, ``qd[i]`` is ``|z_i|^2 > 0``, ``C`` (shape (P,))
    holds the upper bounds ``C_i > 0`` (``v_i / lam`` with sample weights). Stops when the
    spread of the projected gradient over the active coordinates is at most ``eps`` on a pass
    over all coordinates (liblinear's criterion), or after ``max_epochs`` passes. Returns the
    number of passes made, negated if ``max_epochs`` was reached.
    """
    P = Z.shape[0]
    index = np.arange(P)
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    active = P
    pg_max_old = np.inf
    pg_min_old = -np.inf
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        # Random permutation of the active coordinates (Fisher-Yates).
        for i in range(active - 1, 0, -1):
            j = int(_xorshift(state) % np.uint64(i + 1))
            t = index[i]
            index[i] = index[j]
            index[j] = t
        pg_max = -np.inf
        pg_min = np.inf
        s = 0
        while s < active:
            i = index[s]
            g = _dot(Z[i], w) - 1.0
            ai = a[i]
            pg = 0.0
            if ai == 0.0:
                if g > pg_max_old:
                    active -= 1
                    index[s] = index[active]
                    index[active] = i
                    continue
                if g < 0.0:
                    pg = g
            elif ai == C[i]:
                if g < pg_min_old:
                    active -= 1
                    index[s] = index[active]
                    index[active] = i
                    continue
                if g > 0.0:
                    pg = g
            else:
                pg = g
            if pg > pg_max:
                pg_max = pg
            if pg < pg_min:
                pg_min = pg
            if abs(pg) > 1e-12:
                anew = min(max(ai - g / qd[i], 0.0), C[i])
                if anew != ai:
                    a[i] = anew
                    _axpy(anew - ai, Z[i], w)
            s += 1
        if pg_max - pg_min <= eps:
            if active == P:
                return epoch
            # Converged on the shrunk problem: check every coordinate on the next pass.
            active = P
            pg_max_old = np.inf
            pg_min_old = -np.inf
            continue
        pg_max_old = pg_max if pg_max > 0.0 else np.inf
        pg_min_old = pg_min if pg_min < 0.0 else -np.inf
    return -epoch


@njit(cache=True, nogil=True)
def hinge_terms(m, alpha, v):
    """Weighted hinge loss sum and duality gap from margins ``m = y h`` and dual variables.

    With sample weights ``v`` (ones when unweighted), ``alpha_mu`` in ``[0, v_mu]`` and
    ``J = sum_mu alpha_mu y_mu x_mu / (lam sqrt(N))``, the duality gap of the weighted hinge
    problem is ``sum_mu [v_mu max(0, 1 - m_mu) - alpha_mu (1 - m_mu)]``, a sum of non-negative
    terms. Returns ``(sum_mu v_mu max(0, 1 - m_mu), gap, sum_mu alpha_mu)``.
    """
    loss = 0.0
    gap = 0.0
    asum = 0.0
    for i in range(m.shape[0]):
        r = 1.0 - m[i]
        xi = v[i] * r if r > 0.0 else 0.0
        loss += xi
        gap += xi - alpha[i] * r
        asum += alpha[i]
    return loss, gap, asum


@njit(cache=True, nogil=True)
def _logistic_one(mi):
    # (log(1 + exp(-m)), sigma(-m), sigma(m) sigma(-m)) without overflow; with e = exp(-|m|),
    # sigma(m) sigma(-m) = e / (1 + e)^2 has no cancellation.
    e = math.exp(-abs(mi))
    if mi >= 0.0:
        loss = math.log1p(e)
        s = e / (1.0 + e)
    else:
        loss = -mi + math.log1p(e)
        s = 1.0 / (1.0 + e)
    return loss, s, e / ((1.0 + e) * (1.0 + e))


@njit(cache=True, nogil=True)
def logistic_terms(m, v, dloss, curv):
    """Weighted logistic loss of margins ``m = y h``, without overflow.

    With sample weights ``v`` (ones when unweighted) fills ``dloss[i] = -v_i sigma(-m_i)`` (the
    derivative of ``v_i log(1 + exp(-m_i))`` in ``m_i``) and ``curv[i] = v_i sigma(m_i)
    sigma(-m_i)`` (its second derivative) and returns the loss sum
    ``sum_i v_i log(1 + exp(-m_i))``, each log computed as ``max(-m, 0) + log1p(exp(-|m|))``.
    """
    total = 0.0
    for i in range(m.shape[0]):
        loss, s, c = _logistic_one(m[i])
        vi = v[i]
        total += vi * loss
        dloss[i] = -(vi * s)
        curv[i] = vi * c
    return total


@njit(cache=True, nogil=True)
def logistic_line(m, dm, v, t):
    """Weighted loss sum and its derivative in ``t`` along ``m + t dm``.

    Returns ``(sum_i v_i log(1 + exp(-(m_i + t dm_i))), -sum_i v_i sigma(-(m_i + t dm_i)) dm_i)``
    (``v`` the sample weights, ones when unweighted).
    """
    val = 0.0
    der = 0.0
    for i in range(m.shape[0]):
        loss, s, _ = _logistic_one(m[i] + t * dm[i])
        vi = v[i]
        val += vi * loss
        der -= (vi * s) * dm[i]
    return val, der


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot4(X, i, v):
    # Dot products of rows i..i+3 of X with v, in one pass over v.
    a0 = X[i]
    a1 = X[i + 1]
    a2 = X[i + 2]
    a3 = X[i + 3]
    t0 = t1 = t2 = t3 = v[0] - v[0]  # zero of v's type
    for k in range(v.shape[0]):
        vk = v[k]
        t0 += a0[k] * vk
        t1 += a1[k] * vk
        t2 += a2[k] * vk
        t3 += a3[k] * vk
    return t0, t1, t2, t3


@njit(cache=True, nogil=True, fastmath={"contract"})
def _axpy4(c0, c1, c2, c3, X, i, out):
    # out += c0 X[i] + c1 X[i+1] + c2 X[i+2] + c3 X[i+3] (fixed order).
    a0 = X[i]
    a1 = X[i + 1]
    a2 = X[i + 2]
    a3 = X[i + 3]
    for k in range(out.shape[0]):
        out[k] += ((c0 * a0[k] + c1 * a1[k]) + c2 * a2[k]) + c3 * a3[k]


@njit(cache=True, nogil=True)
def matvec(X, scale, v, out):
    """``out = scale X v`` (serial, rows in blocks of four)."""
    P = X.shape[0]
    i = 0
    while i + 4 <= P:
        t0, t1, t2, t3 = _dot4(X, i, v)
        out[i] = scale * t0
        out[i + 1] = scale * t1
        out[i + 2] = scale * t2
        out[i + 3] = scale * t3
        i += 4
    while i < P:
        out[i] = scale * _dot(X[i], v)
        i += 1


@njit(cache=True, nogil=True)
def _grad_row(y, scale, i, t, m, curv):
    # Loss of row i from t = x_i . J; stores m_i, curv_i; returns (loss, gradient and diagonal
    # coefficients of x_i), all before weighting.
    mi = y[i] * scale * t
    loss, s, c = _logistic_one(mi)
    m[i] = mi
    curv[i] = c
    return loss, -y[i] * s * scale, c * scale * scale


@njit(cache=True, nogil=True, fastmath={"contract"})
def logistic_grad(X, y, v, scale, J, lam, m, curv, g, diag, with_diag):
    """One pass over ``X``: logistic loss and gradient at ``J`` (and the Hessian diagonal).

    With ``h = scale X J`` and sample weights ``v`` (ones when unweighted) fills ``m = y h``,
    ``curv[i] = v_i sigma(m_i) sigma(-m_i)`` and the gradient
    ``g = lam J - scale X^T (v y sigma(-m))`` of ``sum_i v_i log(1 + exp(-m_i)) + lam |J|^2 / 2``,
    and returns the weighted loss sum. If ``with_diag``, also fills
    ``diag = lam + scale^2 sum_i curv_i x_i^2`` (the Hessian diagonal).
    """
    P, N = X.shape
    for j in range(N):
        g[j] = lam * J[j]
    if with_diag:
        for j in range(N):
            diag[j] = lam
    total = 0.0
    i = 0
    while i + 4 <= P:
        t0, t1, t2, t3 = _dot4(X, i, J)
        l0, a0, b0 = _grad_row(y, scale, i, t0, m, curv)
        l1, a1, b1 = _grad_row(y, scale, i + 1, t1, m, curv)
        l2, a2, b2 = _grad_row(y, scale, i + 2, t2, m, curv)
        l3, a3, b3 = _grad_row(y, scale, i + 3, t3, m, curv)
        # Weighting here rather than inside _grad_row keeps this loop as fast as without
        # weights (measured: weighting inside _grad_row cost 50% more per pass at N = 400).
        v0 = v[i]
        v1 = v[i + 1]
        v2 = v[i + 2]
        v3 = v[i + 3]
        curv[i] *= v0
        curv[i + 1] *= v1
        curv[i + 2] *= v2
        curv[i + 3] *= v3
        total += ((v0 * l0 + v1 * l1) + v2 * l2) + v3 * l3
        _axpy4(a0 * v0, a1 * v1, a2 * v2, a3 * v3, X, i, g)
        if with_diag:
            b0 *= v0
            b1 *= v1
            b2 *= v2
            b3 *= v3
            x0 = X[i]
            x1 = X[i + 1]
            x2 = X[i + 2]
            x3 = X[i + 3]
            for k in range(N):
                diag[k] += ((b0 * x0[k] * x0[k] + b1 * x1[k] * x1[k])
                            + b2 * x2[k] * x2[k]) + b3 * x3[k] * x3[k]
        i += 4
    while i < P:
        xi = X[i]
        l0, a0, b0 = _grad_row(y, scale, i, _dot(xi, J), m, curv)
        vi = v[i]
        curv[i] *= vi
        total += vi * l0
        a0 *= vi
        b0 *= vi
        for k in range(N):
            g[k] += a0 * xi[k]
        if with_diag:
            for k in range(N):
                diag[k] += b0 * xi[k] * xi[k]
        i += 1
    return total


@njit(cache=True, nogil=True)
def scaled_single(X, scale, out):
    """``out = float32(scale X)`` in one pass."""
    P, N = X.shape
    for i in range(P):
        for k in range(N):
            out[i, k] = scale * X[i, k]


@njit(cache=True, nogil=True)
def hessvec32(Xs, curv, lam, v, out, u):
    """``u = Xs v`` and ``out = lam v + Xs^T (curv u)`` in single precision.

    ``Xs`` is ``float32(X / sqrt(N))``, so ``out`` is the logistic Hessian applied to ``v`` to
    about seven digits (sample weights are inside ``curv``, see :func:`logistic_grad`); ``v``,
    ``out``, ``u`` are float32, ``curv`` float64.
    """
    P, N = Xs.shape
    lam32 = np.float32(lam)
    for j in range(N):
        out[j] = lam32 * v[j]
    i = 0
    while i + 4 <= P:
        t0, t1, t2, t3 = _dot4(Xs, i, v)
        u[i] = t0
        u[i + 1] = t1
        u[i + 2] = t2
        u[i + 3] = t3
        _axpy4(np.float32(curv[i] * t0), np.float32(curv[i + 1] * t1),
               np.float32(curv[i + 2] * t2), np.float32(curv[i + 3] * t3), Xs, i, out)
        i += 4
    while i < P:
        xi = Xs[i]
        t = _dot(xi, v)
        u[i] = t
        c = np.float32(curv[i] * t)
        for k in range(N):
            out[k] += c * xi[k]
        i += 1


@njit(cache=True, nogil=True)
def logistic_newton_cg(X, Xs, y, v, lam, J, tol, max_newton, cg_budget, stats):
    """Truncated Newton (preconditioned conjugate gradients) for the logistic objective.

    Minimises ``sum_i v_i log(1 + exp(-y_i h_i)) + lam |J|^2 / 2``, ``h = X J / sqrt(N)``, with
    sample weights ``v`` (shape (P,), ones when unweighted), starting from ``J`` (updated in
    place); ``Xs = float32(X / sqrt(N))``. Gradients, objective values and
    the stopping test are exact (float64 passes over ``X``; while ``|g| / (lam |J|) >= 1e-4``
    the gradient pass reads ``Xs`` instead). Each Newton system ``H d = -g`` is
    solved by conjugate gradients, preconditioned with the Hessian diagonal at the starting
    point, to the relative residual ``eta = max(min(0.5, c), 0.3 tol / c)`` with
    ``c = |g| / (lam |J|)`` (quadratic forcing, no tighter than needed to reach ``tol``). The
    Hessian-vector products run in single precision (:func:`hessvec32`: half the memory traffic,
    twice the SIMD width); this perturbs the direction by about 1e-6 relative, which keeps the
    final convergence at least linear with that rate. The step is damped by a backtracking
    (Armijo) line search along the exact one-dimensional restriction (the change of the margins
    along ``d`` is recomputed in float64 once ``c < 1e-2``). Stops when ``|g| <= tol lam |J|``.

    ``stats`` (length 4) receives (Newton steps, conjugate-gradient steps, ``|g| / (lam |J|)`` at
    the last gradient evaluated, objective there). Returns 0 on success (then ``J`` is the point
    whose certificate is ``stats[2] <= tol``), 1 if ``max_newton`` steps were made, 2 if the
    conjugate-gradient budget ``cg_budget`` ran out, 3 if the line search failed.
    """
    P, N = X.shape
    scale = 1.0 / math.sqrt(N)
    m = np.empty(P)
    curv = np.empty(P)
    dm = np.empty(P)
    u = np.empty(P, dtype=np.float32)
    g = np.empty(N)
    diag = np.empty(N)
    d = np.empty(N)
    r = np.empty(N)
    z = np.empty(N)
    p = np.empty(N)
    p32 = np.empty(N, dtype=np.float32)
    hp32 = np.empty(N, dtype=np.float32)
    tiny = 2.2250738585072014e-308
    n_cg = 0
    it = 0
    status = 1
    single = True
    while True:
        # The Jacobi preconditioner is the Hessian diagonal at the starting point, kept fixed:
        # on Gaussian-like data it matters little and refreshing it would double the pass.
        # Far from the optimum the gradient pass reads the single-precision copy (half the
        # memory traffic; about 1e-7 relative error); from c < 1e-4 on, and for every test
        # against tol, it is exact.
        if single:
            loss = logistic_grad(Xs, y, v, 1.0, J, lam, m, curv, g, diag, it == 0)
        else:
            loss = logistic_grad(X, y, v, scale, J, lam, m, curv, g, diag, it == 0)
        jj = _dot(J, J)
        fval = loss + 0.5 * lam * jj
        gnorm = math.sqrt(_dot(g, g))
        cert = gnorm / max(lam * math.sqrt(jj), tiny)
        if single and cert < max(1e-4, tol):
            single = False
            continue
        stats[2] = cert
        stats[3] = fval
        if cert <= tol:
            status = 0
            break
        if it >= max_newton:
            status = 1
            break
        it += 1
        eta = max(min(0.5, cert), 0.3 * tol / cert)
        target = eta * gnorm
        # Preconditioned conjugate gradients on H d = -g from d = 0; dm tracks y * scale X d.
        for j in range(N):
            d[j] = 0.0
            r[j] = -g[j]
            z[j] = r[j] / diag[j]
            p[j] = z[j]
        for i in range(P):
            dm[i] = 0.0
        rz = _dot(r, z)
        while True:
            for j in range(N):
                p32[j] = p[j]
            hessvec32(Xs, curv, lam, p32, hp32, u)
            n_cg += 1
            php = 0.0
            for j in range(N):
                php += p[j] * hp32[j]
            if not php > 0.0:
                break
            alpha = rz / php
            rr = 0.0
            for j in range(N):
                d[j] += alpha * p[j]
                r[j] -= alpha * hp32[j]
                rr += r[j] * r[j]
            for i in range(P):
                dm[i] += alpha * y[i] * u[i]
            if math.sqrt(rr) <= target:
                break
            if n_cg >= cg_budget:
                stats[0] = it
                stats[1] = n_cg
                return 2
            rz_new = 0.0
            for j in range(N):
                z[j] = r[j] / diag[j]
                rz_new += r[j] * z[j]
            beta = rz_new / rz
            rz = rz_new
            for j in range(N):
                p[j] = z[j] + beta * p[j]
        gd = _dot(g, d)
        if not gd < 0.0:
            status = 3
            break
        if cert < 1e-2:
            # Close to the optimum the line search must resolve tiny decreases: exact margins.
            matvec(X, scale, d, dm)
            for i in range(P):
                dm[i] *= y[i]
        # Backtracking line search on phi(t) = F(J + t d), evaluated in O(P).
        jd = _dot(J, d)
        dd = _dot(d, d)
        t = 1.0
        ok = False
        for _ in range(60):
            val, _der = logistic_line(m, dm, v, t)
            phi = val + 0.5 * lam * (jj + 2.0 * t * jd + t * t * dd)
            # The last term admits rounding noise once the decrease is below resolution.
            if phi <= fval + 1e-4 * t * gd + 1e-13 * abs(fval):
                ok = True
                break
            t *= 0.5
        if not ok:
            status = 3
            break
        for j in range(N):
            J[j] += t * d[j]
    stats[0] = it
    stats[1] = n_cg
    return status
