"""Numba kernels of the exact max-margin solver (private).

The dual of the hard-margin problem ``min |w|^2 / 2  s.t.  z_mu . w >= 1`` (``z_mu = y_mu x_mu``) is
the non-negative quadratic program ``min_a a^T G a / 2 - sum(a)``, ``a >= 0``, ``G = Z Z^T``.
We solve it with a blocked Lawson-Hanson active-set method written in terms of ``Z`` (the Gram
matrix is never formed):

- the passive (support) set's Gram block is kept as a Cholesky factor ``L`` together with
  ``c = L^{-1} 1``, so the passive-set solution is one triangular solve ``s = L^{-T} c``;
- each pricing pass offers a block of the most violated constraints; their Gram columns and
  forward substitutions are computed together (register-tiled, one pass over ``L``), and each is
  appended if it is independent of the passive set (else it can enter only by exchange);
- entering coefficients start at zero; those whose passive-set solution is not positive block
  at once and are dropped, and the usual Lawson-Hanson inner loop restores feasibility. A block
  that brings nothing in is retried with its single most violated constraint, for which
  Lawson-Hanson guarantees progress, so the objective decreases strictly at every block and the
  method terminates;
- a vector leaves the factor by Givens rotations of the rows below it (rows are addressed
  through ``rp`` and never move), and ``c`` and pending ``L^{-1} g`` vectors follow the same
  rotations;
- pricing scans the whole working set every few blocks and otherwise only a hot list of its
  least stable members; convergence is declared only after a full scan.

Every loop is serial with a fixed summation order, so results do not depend on how many
threads run trials side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Status codes returned by the active-set kernel.
CONVERGED = 0
MAX_ITER = 1
NOT_SEPARABLE = 2

# A candidate whose squared distance from the span of the passive set is at most this fraction of
# its squared norm is treated as dependent (it can only enter by exchange).
_DEP = 1e-13
# Blocks between two full pricing scans of the working set.
_REFRESH = 4


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dotn(a, b, n):
    # Reassociation lets LLVM vectorise the sum; the order is fixed at compile time, so the result
    # is the same on every call, whatever the thread count.
    s = 0.0
    for k in range(n):
        s += a[k] * b[k]
    return s


@njit(cache=True, nogil=True)
def _dot(a, b):
    return _dotn(a, b, a.shape[0])


@njit(cache=True, nogil=True)
def row_norms2(Z, out):
    """``out[i] = |Z[i]|^2`` for every row."""
    for i in range(Z.shape[0]):
        out[i] = _dotn(Z[i], Z[i], Z.shape[1])


@njit(cache=True, nogil=True)
def margins(Z, w, out):
    """``out[i] = Z[i] . w`` for every row (serial, fixed order)."""
    for i in range(Z.shape[0]):
        out[i] = _dotn(Z[i], w, w.shape[0])


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _gram4(Z, i0, i1, i2, i3, j0, j1, j2, j3, out, q0, t0):
    a0 = Z[i0]
    a1 = Z[i1]
    a2 = Z[i2]
    a3 = Z[i3]
    b0 = Z[j0]
    b1 = Z[j1]
    b2 = Z[j2]
    b3 = Z[j3]
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
    for k in range(Z.shape[1]):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        y0 = b0[k]
        y1 = b1[k]
        y2 = b2[k]
        y3 = b3[k]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    out[q0, t0] = s00
    out[q0, t0 + 1] = s01
    out[q0, t0 + 2] = s02
    out[q0, t0 + 3] = s03
    out[q0 + 1, t0] = s10
    out[q0 + 1, t0 + 1] = s11
    out[q0 + 1, t0 + 2] = s12
    out[q0 + 1, t0 + 3] = s13
    out[q0 + 2, t0] = s20
    out[q0 + 2, t0 + 1] = s21
    out[q0 + 2, t0 + 2] = s22
    out[q0 + 2, t0 + 3] = s23
    out[q0 + 3, t0] = s30
    out[q0 + 3, t0 + 1] = s31
    out[q0 + 3, t0 + 2] = s32
    out[q0 + 3, t0 + 3] = s33


@njit(cache=True, nogil=True)
def _gram_block(Z, rows, nr, cols, nc, out):
    """``out[q, t] = Z[rows[q]] . Z[cols[t]]`` for ``q < nr``, ``t < nc`` (4 x 4 register tiles)."""
    N = Z.shape[1]
    qe = nr - nr % 4
    te = nc - nc % 4
    for t0 in range(0, te, 4):
        for q0 in range(0, qe, 4):
            _gram4(Z, rows[q0], rows[q0 + 1], rows[q0 + 2], rows[q0 + 3],
                   cols[t0], cols[t0 + 1], cols[t0 + 2], cols[t0 + 3], out, q0, t0)
    for q in range(qe, nr):
        zq = Z[rows[q]]
        for t in range(nc):
            out[q, t] = _dotn(zq, Z[cols[t]], N)
    for q in range(qe):
        zq = Z[rows[q]]
        for t in range(te, nc):
            out[q, t] = _dotn(zq, Z[cols[t]], N)


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot4(r, t0, t1, t2, t3, n):
    s0 = s1 = s2 = s3 = 0.0
    for k in range(n):
        v = r[k]
        s0 += v * t0[k]
        s1 += v * t1[k]
        s2 += v * t2[k]
        s3 += v * t3[k]
    return s0, s1, s2, s3


@njit(cache=True, nogil=True)
def _forward_block(L, rp, n, T, nb):
    """``T[q, :n] <- L^{-1} T[q, :n]`` for ``q < nb`` (one pass over ``L``, four rows at a time)."""
    qe = nb - nb % 4
    for i in range(n):
        Li = L[rp[i]]
        dii = Li[i]
        for q in range(0, qe, 4):
            T0 = T[q]
            T1 = T[q + 1]
            T2 = T[q + 2]
            T3 = T[q + 3]
            s0, s1, s2, s3 = _dot4(Li, T0, T1, T2, T3, i)
            T0[i] = (T0[i] - s0) / dii
            T1[i] = (T1[i] - s1) / dii
            T2[i] = (T2[i] - s2) / dii
            T3[i] = (T3[i] - s3) / dii
        for q in range(qe, nb):
            Tq = T[q]
            Tq[i] = (Tq[i] - _dotn(Li, Tq, i)) / dii


@njit(cache=True, nogil=True)
def _gram_lower(Z, rows, nr, out):
    """``out[q, t] = Z[rows[q]] . Z[rows[t]]`` for ``t < q`` (and some ``t >= q``)."""
    N = Z.shape[1]
    qe = nr - nr % 4
    for q0 in range(0, qe, 4):
        for t0 in range(0, q0 + 1, 4):
            _gram4(Z, rows[q0], rows[q0 + 1], rows[q0 + 2], rows[q0 + 3],
                   rows[t0], rows[t0 + 1], rows[t0 + 2], rows[t0 + 3], out, q0, t0)
    for q in range(qe, nr):
        zq = Z[rows[q]]
        for t in range(q):
            out[q, t] = _dotn(zq, Z[rows[t]], N)


@njit(cache=True, nogil=True)
def _forward_ones(L, rp, n, c):
    """``c = L^{-1} 1`` for the factor of order ``n`` (row ``i`` in ``L[rp[i]]``)."""
    for i in range(n):
        row = L[rp[i]]
        c[i] = (1.0 - _dotn(row, c, i)) / row[i]


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _axpy_neg(y, x, alpha, n):
    for k in range(n):
        y[k] -= alpha * x[k]


@njit(cache=True, nogil=True)
def _backward(L, rp, n, rhs, out):
    """``out = L^{-T} rhs`` for the factor of order ``n`` (row-oriented, contiguous access)."""
    for i in range(n):
        out[i] = rhs[i]
    for i in range(n - 1, -1, -1):
        row = L[rp[i]]
        v = out[i] / row[i]
        out[i] = v
        _axpy_neg(out, row, v, i)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _rot8(L, p0, p1, p2, p3, p4, p5, p6, p7, t, n_rot, co, si, x):
    """Apply the first ``n_rot`` rotations to eight rows at once (independent recurrences)."""
    x0 = x[0]
    x1 = x[1]
    x2 = x[2]
    x3 = x[3]
    x4 = x[4]
    x5 = x[5]
    x6 = x[6]
    x7 = x[7]
    for i in range(n_rot):
        ci = co[i]
        sg = si[i]
        k = t + i
        v0 = L[p0, k + 1]
        v1 = L[p1, k + 1]
        v2 = L[p2, k + 1]
        v3 = L[p3, k + 1]
        v4 = L[p4, k + 1]
        v5 = L[p5, k + 1]
        v6 = L[p6, k + 1]
        v7 = L[p7, k + 1]
        L[p0, k] = ci * v0 + sg * x0
        L[p1, k] = ci * v1 + sg * x1
        L[p2, k] = ci * v2 + sg * x2
        L[p3, k] = ci * v3 + sg * x3
        L[p4, k] = ci * v4 + sg * x4
        L[p5, k] = ci * v5 + sg * x5
        L[p6, k] = ci * v6 + sg * x6
        L[p7, k] = ci * v7 + sg * x7
        x0 = ci * x0 - sg * v0
        x1 = ci * x1 - sg * v1
        x2 = ci * x2 - sg * v2
        x3 = ci * x3 - sg * v3
        x4 = ci * x4 - sg * v4
        x5 = ci * x5 - sg * v5
        x6 = ci * x6 - sg * v6
        x7 = ci * x7 - sg * v7
    x[0] = x0
    x[1] = x1
    x[2] = x2
    x[3] = x3
    x[4] = x4
    x[5] = x5
    x[6] = x6
    x[7] = x7


@njit(cache=True, nogil=True, fastmath={"contract"})
def _chol_remove(L, rp, n, t, co, si, xs):
    """Drop position ``t`` from the Cholesky factor of order ``n``, in place.

    Row ``i`` of the factor is stored in ``L[rp[i]]``, so rows never move: the rows below ``t``
    are renumbered, their entries right of column ``t`` shift left, and the trailing block absorbs
    the removed column through Givens rotations ``(co, si)`` (kept for :func:`_rotate`). Rows are
    processed eight at a time so that their rotation recurrences overlap.
    """
    m = n - 1 - t
    freed = rp[t]
    for i in range(t, n - 1):
        rp[i] = rp[i + 1]
    rp[n - 1] = freed
    for r in range(m):
        xs[r] = L[rp[t + r], t]
    x8 = np.empty(8)
    for r0 in range(0, m, 8):
        r1 = min(r0 + 8, m)
        if r1 - r0 == 8 and r0 > 0:
            for q in range(8):
                x8[q] = xs[r0 + q]
            _rot8(L, rp[t + r0], rp[t + r0 + 1], rp[t + r0 + 2], rp[t + r0 + 3],
                  rp[t + r0 + 4], rp[t + r0 + 5], rp[t + r0 + 6], rp[t + r0 + 7], t, r0, co, si,
                  x8)
            for q in range(8):
                xs[r0 + q] = x8[q]
        else:
            for i in range(r0):
                ci = co[i]
                sg = si[i]
                for r in range(r0, r1):
                    p = rp[t + r]
                    lv = L[p, t + i + 1]
                    xr = xs[r]
                    L[p, t + i] = ci * lv + sg * xr
                    xs[r] = ci * xr - sg * lv
        for r in range(r0, r1):
            p = rp[t + r]
            xr = xs[r]
            for i in range(r0, r):
                lv = L[p, t + i + 1]
                L[p, t + i] = co[i] * lv + si[i] * xr
                xr = co[i] * xr - si[i] * lv
            d = L[p, t + r + 1]
            rr = np.sqrt(d * d + xr * xr)
            co[r] = d / rr
            si[r] = xr / rr
            L[p, t + r] = rr


@njit(cache=True, nogil=True)
def _rotate(v, n, t, co, si):
    """Carry ``v = L^{-1} g`` (length ``n``) through the removal of position ``t``."""
    vx = v[t]
    for r in range(n - 1 - t):
        vi = v[t + r + 1]
        v[t + r] = co[r] * vi + si[r] * vx
        vx = co[r] * vx - si[r] * vi


@njit(cache=True, nogil=True)
def _remove(L, rp, pidx, n_p, in_p, a, c, pos, co, si, xs):
    in_p[pidx[pos]] = False
    a[pidx[pos]] = 0.0
    _chol_remove(L, rp, n_p, pos, co, si, xs)
    _rotate(c, n_p, pos, co, si)
    for t in range(pos, n_p - 1):
        pidx[t] = pidx[t + 1]
    return n_p - 1


@njit(cache=True, nogil=True)
def _append(L, rp, pidx, n_p, in_p, c, j, l, d):
    row = L[rp[n_p]]
    for k in range(n_p):
        row[k] = l[k]
    row[n_p] = d
    c[n_p] = (1.0 - _dotn(l, c, n_p)) / d
    pidx[n_p] = j
    in_p[j] = True
    return n_p + 1


@njit(cache=True, nogil=True)
def _rebuild_w(Z, pidx, n_p, a, w):
    w[:] = 0.0
    for t in range(n_p):
        i = pidx[t]
        _axpy_neg(w, Z[i], -a[i], w.shape[0])


@njit(cache=True, nogil=True)
def _price(Z, w, widx, n_w, in_p, banned, tol, full, mall, hot, n_h, n_hot, viol, cand, bmax):
    """Write the (at most ``bmax``) most violated constraints to ``cand``, most violated first.

    A full scan ranks the whole working set and refreshes the hot list (its ``n_hot`` least
    stable non-passive members); otherwise only the hot list is priced, falling back to a full
    scan when it holds no violator. Returns ``(n_candidates, n_hot_list, full_scan_done)``.
    """
    nv = 0
    if not full:
        for t in range(n_h):
            j = hot[t]
            if in_p[j] or j == banned:
                continue
            g = 1.0 - _dot(Z[j], w)
            if g > tol:
                viol[nv] = -g
                cand[nv] = j
                nv += 1
        if nv > 0:
            nb = min(nv, bmax)
            top = cand[np.argsort(viol[:nv], kind="mergesort")[:nb]]
            cand[:nb] = top
            return nb, n_h, False
    for t in range(n_w):
        j = widx[t]
        mall[t] = np.inf if in_p[j] else _dot(Z[j], w)
    order = np.argsort(mall[:n_w], kind="mergesort")
    n_h = 0
    for t in range(min(n_hot, n_w)):
        if mall[order[t]] == np.inf:
            break
        hot[n_h] = widx[order[t]]
        n_h += 1
    for t in range(n_w):
        g = 1.0 - mall[order[t]]
        if not g > tol:
            break
        j = widx[order[t]]
        if j == banned:
            continue
        cand[nv] = j
        nv += 1
        if nv == bmax:
            break
    return nv, n_h, True


@njit(cache=True, nogil=True)
def active_set(Z, zz, widx, n_w, a, pidx, n_p, in_p, L, rp, c, w, tol, max_iter, bmax, n_hot):
    """Blocked Lawson-Hanson iterations on the working set ``widx[:n_w]``.

    Parameters are updated in place: ``a`` (P,) dual coefficients, ``pidx`` / ``n_p`` the passive
    set in factor order, ``in_p`` (P,) its indicator, ``L`` (cap, cap) the Cholesky factor of its
    Gram block with row ``i`` stored in ``L[rp[i]]``, ``c`` (cap,) ``L^{-1} 1`` and ``w`` (N,)
    the primal vector ``Z^T a``. ``zz`` (P,) holds ``|z_mu|^2``, ``bmax`` is the largest block
    of constraints offered per pricing pass and ``n_hot`` the hot-list length.
    Returns ``(status, n_p, iterations)``; an iteration is one pricing pass.
    """
    cap = L.shape[0]
    s = np.empty(cap)
    xs = np.empty(cap)
    co = np.empty(cap)
    si = np.empty(cap)
    T = np.empty((bmax, cap))
    GBB = np.empty((bmax, bmax))
    B = np.empty(bmax, dtype=np.int64)
    viol = np.empty(n_w)
    cand = np.empty(n_w, dtype=np.int64)
    mall = np.empty(n_w)
    hot = np.empty(n_w, dtype=np.int64)
    n_h = 0
    since = _REFRESH
    _forward_ones(L, rp, n_p, c)
    banned = -1
    single = False
    it = 0
    while it < max_iter:
        it += 1
        nv, n_h, full = _price(Z, w, widx, n_w, in_p, banned, tol, since >= _REFRESH, mall, hot,
                               n_h, n_hot, viol, cand, bmax)
        since = 1 if full else since + 1
        if nv == 0:
            return CONVERGED, n_p, it
        nb = 1 if single else nv
        for q in range(nb):
            B[q] = cand[q]
        # Gram columns of the block against the passive set and among themselves, then
        # T[q, :n_p] = L^{-1} G[P, B[q]] (one pass over L for the whole block).
        _gram_block(Z, B, nb, pidx, n_p, T)
        _gram_lower(Z, B, nb, GBB)
        _forward_block(L, rp, n_p, T, nb)
        # Append, in order, every candidate independent of the passive set (at a = 0).
        start = n_p
        for q in range(nb):
            j = B[q]
            Tq = T[q]
            d2 = zz[j] - _dotn(Tq, Tq, n_p)
            if d2 <= _DEP * zz[j] or n_p == cap:
                continue
            d = np.sqrt(d2)
            n_p = _append(L, rp, pidx, n_p, in_p, c, j, Tq, d)
            a[j] = 0.0
            for q2 in range(q + 1, nb):
                T2 = T[q2]
                T2[n_p - 1] = (GBB[q2, q] - _dotn(T2, Tq, n_p - 1)) / d
        progress = False
        if n_p == start:
            # Every candidate lies in the span of the passive vectors: exchange the most violated
            # one for a blocking passive vector (the objective decreases linearly along e_j - u,
            # u = G_P^{-1} G[P, j]); no blocking index means the data are not separable.
            j = B[0]
            l = T[0]
            _backward(L, rp, n_p, l, s)
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
            n_p = _remove(L, rp, pidx, n_p, in_p, a, c, kmin, co, si, xs)
            _rotate(l, n_p + 1, kmin, co, si)
            d2 = zz[j] - _dotn(l, l, n_p)
            if d2 <= 0.0:
                return NOT_SEPARABLE, n_p, it
            n_p = _append(L, rp, pidx, n_p, in_p, c, j, l, np.sqrt(d2))
            a[j] = tmin
            progress = tmin > 0.0
            start = n_p if progress else n_p - 1
        _backward(L, rp, n_p, c, s)
        # Entering coefficients sit at zero: those whose passive-set solution is not positive
        # block at once (a zero step), so drop them and re-solve.
        while n_p > start:
            dropped = False
            for t in range(n_p - 1, start - 1, -1):
                if s[t] <= 0.0:
                    n_p = _remove(L, rp, pidx, n_p, in_p, a, c, t, co, si, xs)
                    dropped = True
            if not dropped:
                break
            _backward(L, rp, n_p, c, s)
        if n_p > start:
            progress = True
        if not progress:
            if nb > 1:
                single = True  # retry with the most violated constraint alone
            else:
                banned = B[0]  # round-off: skip it until another constraint enters
            continue
        banned = -1
        single = False
        # Lawson-Hanson inner loop: move towards the passive-set solution s, dropping the first
        # coefficient that reaches zero, until s is feasible.
        while True:
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
            a[pidx[tb]] = 0.0
            for t in range(n_p - 1, -1, -1):
                if a[pidx[t]] <= 0.0:
                    n_p = _remove(L, rp, pidx, n_p, in_p, a, c, t, co, si, xs)
            if n_p == 0:
                break
            _backward(L, rp, n_p, c, s)
        _rebuild_w(Z, pidx, n_p, a, w)
    return MAX_ITER, n_p, it
