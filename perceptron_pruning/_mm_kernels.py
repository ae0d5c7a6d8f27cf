"""Numba kernels of the exact max-margin solver (private).

The dual of the hard-margin problem ``min |w|^2 / 2  s.t.  z_mu . w >= 1`` (``z_mu = y_mu x_mu``) is
the non-negative quadratic program ``min_a a^T G a / 2 - sum(a)``, ``a >= 0``, ``G = Z Z^T``.
We solve it with the Lawson-Hanson active-set method written in terms of ``Z`` (the Gram matrix is
never formed): the passive (support) set's Gram block is kept as a Cholesky factor, updated in
O(k^2) when a vector enters and by a rank-one update when one leaves. Every loop is serial with a
fixed summation order, so results do not depend on how many threads run trials side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Status codes returned by the active-set kernel.
CONVERGED = 0
MAX_ITER = 1
NOT_SEPARABLE = 2


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    # Reassociation lets LLVM vectorise the sum; the order is fixed at compile time, so the result
    # is still the same on every call, whatever the thread count.
    s = 0.0
    for k in range(a.shape[0]):
        s += a[k] * b[k]
    return s


@njit(cache=True, nogil=True)
def margins(Z, w, out):
    """``out[i] = Z[i] . w`` for every row (serial, fixed order)."""
    for i in range(Z.shape[0]):
        out[i] = _dot(Z[i], w)


@njit(cache=True, nogil=True)
def _chol_solve(L, n, rhs, out):
    """Solve ``L L^T out = rhs`` for the leading ``n x n`` block of ``L``."""
    for i in range(n):
        s = rhs[i]
        for j in range(i):
            s -= L[i, j] * out[j]
        out[i] = s / L[i, i]
    for i in range(n - 1, -1, -1):
        s = out[i]
        for j in range(i + 1, n):
            s -= L[j, i] * out[j]
        out[i] = s / L[i, i]


@njit(cache=True, nogil=True)
def _chol_remove(L, n, k, x):
    """Drop row and column ``k`` from the Cholesky factor of an ``n x n`` matrix, in place."""
    m = n - 1 - k
    for i in range(k, n - 1):
        x[i - k] = L[i + 1, k]
        for j in range(k):
            L[i, j] = L[i + 1, j]
        for j in range(k, i + 1):
            L[i, j] = L[i + 1, j + 1]
    # The trailing block absorbs the removed column: a rank-one Cholesky update.
    for i in range(m):
        d = L[k + i, k + i]
        r = np.sqrt(d * d + x[i] * x[i])
        c = r / d
        s = x[i] / d
        L[k + i, k + i] = r
        for j in range(i + 1, m):
            L[k + j, k + i] = (L[k + j, k + i] + s * x[j]) / c
            x[j] = c * x[j] - s * L[k + j, k + i]


@njit(cache=True, nogil=True)
def _rebuild_w(Z, pidx, n_p, a, w):
    w[:] = 0.0
    for t in range(n_p):
        i = pidx[t]
        ai = a[i]
        zi = Z[i]
        for k in range(w.shape[0]):
            w[k] += ai * zi[k]


@njit(cache=True, nogil=True)
def _remove_passive(Z, L, pidx, n_p, in_p, a, pos, work):
    in_p[pidx[pos]] = False
    a[pidx[pos]] = 0.0
    _chol_remove(L, n_p, pos, work)
    for t in range(pos, n_p - 1):
        pidx[t] = pidx[t + 1]
    return n_p - 1


@njit(cache=True, nogil=True)
def _gram_column(Z, pidx, n_p, j, b):
    zj = Z[j]
    for t in range(n_p):
        b[t] = _dot(Z[pidx[t]], zj)


@njit(cache=True, nogil=True)
def active_set(Z, widx, n_w, a, pidx, n_p, in_p, L, w, tol, max_iter):
    """Lawson-Hanson iterations restricted to the working set ``widx[:n_w]``.

    Parameters are updated in place: ``a`` (P,) dual coefficients, ``pidx`` / ``n_p`` the passive
    set, ``in_p`` (P,) its indicator, ``L`` the Cholesky factor of its Gram block, ``w`` (N,) the
    primal vector ``Z^T a``. Returns ``(status, n_p, iterations)``.
    """
    cap = L.shape[0]
    b = np.empty(cap)
    s = np.empty(cap)
    work = np.empty(cap)
    banned = -1
    it = 0
    while it < max_iter:
        it += 1
        # Most violated constraint among the working set.
        jbest = -1
        gbest = tol
        for t in range(n_w):
            j = widx[t]
            if in_p[j] or j == banned:
                continue
            g = 1.0 - _dot(Z[j], w)
            if g > gbest:
                gbest = g
                jbest = j
        if jbest < 0:
            return CONVERGED, n_p, it
        j = jbest
        zz = _dot(Z[j], Z[j])
        _gram_column(Z, pidx, n_p, j, b)
        # l = L^{-1} b; the new pivot tells whether z_j is independent of the passive set.
        ll = 0.0
        for i in range(n_p):
            v = b[i]
            for k in range(i):
                v -= L[i, k] * work[k]
            work[i] = v / L[i, i]
            ll += work[i] * work[i]
        d2 = zz - ll
        if d2 <= 1e-13 * zz or n_p == cap:
            # z_j lies in the span of the passive vectors: exchange it for a blocking one
            # (objective decreases linearly along e_j - c); no blocking index = infeasible.
            _chol_solve(L, n_p, b, s)
            tmin = np.inf
            kmin = -1
            for t in range(n_p):
                if s[t] > 0.0:
                    r = a[pidx[t]] / s[t]
                    if r < tmin:
                        tmin = r
                        kmin = t
            if kmin < 0:
                return NOT_SEPARABLE, n_p, it
            for t in range(n_p):
                i = pidx[t]
                a[i] = max(a[i] - tmin * s[t], 0.0)
            a[j] = tmin
            n_p = _remove_passive(Z, L, pidx, n_p, in_p, a, kmin, work)
            _gram_column(Z, pidx, n_p, j, b)
            ll = 0.0
            for i in range(n_p):
                v = b[i]
                for k in range(i):
                    v -= L[i, k] * work[k]
                work[i] = v / L[i, i]
                ll += work[i] * work[i]
            d2 = zz - ll
            if d2 <= 0.0:
                return NOT_SEPARABLE, n_p, it
        for k in range(n_p):
            L[n_p, k] = work[k]
        L[n_p, n_p] = np.sqrt(d2)
        pidx[n_p] = j
        in_p[j] = True
        n_p += 1
        # Inner loop: move towards the unconstrained minimiser on the passive set.
        ones = np.ones(n_p)
        while n_p > 0:
            _chol_solve(L, n_p, ones, s)
            tmin = np.inf
            tb = -1
            for t in range(n_p):
                if s[t] <= 0.0:
                    ai = a[pidx[t]]
                    r = ai / (ai - s[t])
                    if r < tmin:
                        tmin = r
                        tb = t
            if tb < 0:
                for t in range(n_p):
                    a[pidx[t]] = s[t]
                break
            for t in range(n_p):
                i = pidx[t]
                a[i] += tmin * (s[t] - a[i])
            blocking = pidx[tb]
            a[blocking] = 0.0
            for t in range(n_p - 1, -1, -1):
                if a[pidx[t]] <= 0.0:
                    n_p = _remove_passive(Z, L, pidx, n_p, in_p, a, t, work)
            ones = np.ones(n_p)
            if tmin == 0.0 and blocking == j:
                # Round-off made the entering index leave at once: skip it until another enters.
                banned = j
                break
        if in_p[j]:
            banned = -1
        _rebuild_w(Z, pidx, n_p, a, w)
    return MAX_ITER, n_p, it
