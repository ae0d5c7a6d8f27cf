"""Exact maximum-margin (maximal-stability) perceptron: hard-margin SVM without bias."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _mm_kernels as _k

__all__ = ["MaxMarginResult", "max_margin"]


@dataclass(frozen=True)
class MaxMarginResult:
    """Solution of the max-margin problem with its optimality certificate.

    Attributes
    ----------
    w : ndarray, shape (N,)
        Unit weight vector.
    kappa : float
        Margin (stability) ``min_mu y_mu w . x_mu``, in the units of ``X``.
    dual : ndarray, shape (P,)
        Dual coefficients ``a_mu >= 0`` of the problem ``min |v|^2/2 s.t. y_mu v . x_mu >= 1``;
        ``v = sum_mu a_mu y_mu x_mu`` and ``w = v / |v|``.
    n_support : int
        Number of examples with ``a_mu > 0``.
    kappa_upper : float
        Dual upper bound ``|sum a y x| / sum a`` on the best achievable margin.
    duality_gap : float
        ``(kappa_upper - kappa) / kappa``: relative distance from optimality (>= 0 up to round-off).
    kkt_violation : float
        Largest violation of the KKT conditions in the ``>= 1`` normalisation: primal
        ``max(0, 1 - y v . x)`` and complementarity ``a_mu |y_mu v . x_mu - 1| / max(a)``.
    iterations : int
        Active-set iterations taken.
    """

    w: np.ndarray
    kappa: float
    dual: np.ndarray
    n_support: int
    kappa_upper: float
    duality_gap: float
    kkt_violation: float
    iterations: int


def _check_xy(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (P, N), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape (P,) = ({X.shape[0]},), got {y.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (found NaN or inf)")
    if not np.all((y == 1) | (y == -1)):
        raise ValueError("y must contain only the labels -1 and +1")
    return X, y.astype(np.float64)


def max_margin(X, y, *, tol=1e-10, max_iter=None, working_set=None):
    """Exact maximum-margin perceptron through the origin.

    Solves ``max_{|w|=1} min_mu y_mu w . x_mu`` (hard-margin SVM without bias) with a
    Lawson-Hanson active-set method on the dual, restricted to a growing working set of the
    least-stable examples; every sub-solve is exact (Cholesky factor of the support vectors' Gram
    block, updated in O(k^2)). The answer carries a certificate: the dual bound and the KKT
    violation.

    Parameters
    ----------
    X : array_like, shape (P, N)
        Inputs, one example per row.
    y : array_like, shape (P,)
        Labels in {-1, +1}.
    tol : float, optional
        Stop when every example has ``y v . x >= 1 - tol`` in the ``>= 1`` normalisation; the
        relative margin error is then at most about ``tol``.
    max_iter : int, optional
        Cap on active-set iterations (default ``50 (P + N)``).
    working_set : int, optional
        Initial working-set size (default ``min(P, N + 50)``).

    Returns
    -------
    MaxMarginResult

    Raises
    ------
    ValueError
        If the shapes are wrong, an entry is NaN or inf, a label is not +-1, or the data are not
        linearly separable through the origin.
    """
    X, y = _check_xy(X, y)
    if not (0.0 < tol < 1e-2):
        raise ValueError(f"tol must be in (0, 0.01), got {tol!r}")
    P, N = X.shape
    Z = np.ascontiguousarray(X * y[:, None])
    if max_iter is None:
        max_iter = 50 * (P + N)
    cap = min(P, N)
    a = np.zeros(P)
    pidx = np.zeros(cap, dtype=np.int64)
    in_p = np.zeros(P, dtype=np.bool_)
    L = np.zeros((cap, cap))
    w = np.zeros(N)
    m = np.empty(P)

    # Seed the working set with the least stable examples of the Hebbian direction.
    _k.margins(Z, Z.sum(axis=0), m)
    k0 = min(P, working_set if working_set is not None else N + 50)
    order = np.argsort(m, kind="stable")
    in_w = np.zeros(P, dtype=np.bool_)
    in_w[order[:k0]] = True
    widx = np.empty(P, dtype=np.int64)
    widx[:k0] = order[:k0]
    n_w = k0
    n_p = 0
    total_it = 0
    chunk = max(50, N // 2)
    while True:
        status, n_p, it = _k.active_set(Z, widx, n_w, a, pidx, n_p, in_p, L, w, tol,
                                        max_iter - total_it)
        total_it += it
        if status == _k.NOT_SEPARABLE:
            raise ValueError("data are not linearly separable through the origin")
        if status == _k.MAX_ITER:
            raise RuntimeError(f"max_margin did not converge in {max_iter} iterations")
        _k.margins(Z, w, m)
        viol = np.flatnonzero((m < 1.0 - tol) & ~in_w)
        if viol.size == 0:
            break
        viol = viol[np.argsort(m[viol], kind="stable")[:chunk]]
        widx[n_w:n_w + viol.size] = viol
        in_w[viol] = True
        n_w += viol.size

    norm = np.sqrt(_k._dot(w, w))
    if norm == 0.0:
        raise ValueError("data are not linearly separable through the origin")
    w_unit = w / norm
    _k.margins(Z, w_unit, m)
    kappa = float(m.min())
    if not kappa > 0.0:
        raise ValueError("data are not linearly separable through the origin")
    asum = float(a.sum())
    kappa_upper = norm / asum
    mv = m * norm  # margins in the >= 1 normalisation
    kkt = max(0.0, float(1.0 - mv.min()), float(np.max(a * np.abs(mv - 1.0)) / a.max()))
    return MaxMarginResult(
        w=w_unit,
        kappa=kappa,
        dual=a,
        n_support=int(np.count_nonzero(a > 0.0)),
        kappa_upper=float(kappa_upper),
        duality_gap=float((kappa_upper - kappa) / kappa),
        kkt_violation=kkt,
        iterations=int(total_it),
    )
