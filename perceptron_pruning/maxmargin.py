"""Exact maximum-margin (maximal-stability) perceptron: hard-margin SVM without bias."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _mm_kernels as _k
from ._validation import check_int

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
        Pricing passes taken (each offers a block of violated constraints).
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


def max_margin(X, y, *, tol=1e-10, max_iter=None, working_set=None, block=32):
    """Exact maximum-margin perceptron through the origin.

    Solves ``max_{|w|=1} min_mu y_mu w . x_mu`` (hard-margin SVM without bias) with a blocked
    Lawson-Hanson active-set method on the dual: each pricing pass offers the ``block`` most
    violated constraints at once, and every passive-set solve is exact (Cholesky factor of the
    support vectors' Gram block, extended by blocks and downdated by Givens rotations). Pricing
    scans all examples every few blocks and in between only the ``working_set`` least stable
    ones; convergence is declared after a full scan. The answer carries a certificate: the dual
    bound and the KKT violation. The computation is serial and deterministic: the same input
    gives bit-identical output whatever runs in other threads.

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
        Cap on pricing passes (default ``50 (P + N)``).
    working_set : int, optional
        Length of the hot list of least-stable examples priced between full scans
        (default ``min(P, N)``).
    block : int, optional
        Largest number of violated constraints offered per pricing pass (default 32).

    Returns
    -------
    MaxMarginResult

    Raises
    ------
    ValueError
        If the shapes are wrong, an entry is NaN or inf, a label is not +-1, an option is out of
        range, or the data are not linearly separable through the origin.
    RuntimeError
        If ``max_iter`` pricing passes do not reach the optimum, or the certificate shows the
        answer is not optimal (relative duality gap above ``max(1e-6, 1000 tol)``).
    """
    X, y = _check_xy(X, y)
    if not (0.0 < tol < 1e-2):
        raise ValueError(f"tol must be in (0, 0.01), got {tol!r}")
    P, N = X.shape
    max_iter = check_int("max_iter", 50 * (P + N) if max_iter is None else max_iter, minimum=1)
    n_hot = check_int("working_set", min(P, N) if working_set is None else working_set,
                      minimum=1)
    block = check_int("block", block, minimum=1)
    Z = np.ascontiguousarray(X * y[:, None])
    zz = np.empty(P)
    _k.row_norms2(Z, zz)
    cap = min(P, N)
    a = np.zeros(P)
    pidx = np.zeros(cap, dtype=np.int64)
    in_p = np.zeros(P, dtype=np.bool_)
    L = np.zeros((cap, cap))
    rp = np.arange(cap, dtype=np.int64)
    c = np.zeros(cap)
    w = np.zeros(N)
    m = np.empty(P)

    # Rank the examples by their stability under the Hebbian direction: the first block (taken
    # at w = 0, where every example is equally violated) is then its least stable examples.
    _k.margins(Z, Z.sum(axis=0), m)
    widx = np.argsort(m, kind="stable").astype(np.int64)
    status, n_p, total_it = _k.active_set(Z, zz, widx, P, a, pidx, 0, in_p, L, rp, c, w, tol,
                                          max_iter, block, n_hot)
    if status == _k.NOT_SEPARABLE:
        raise ValueError("data are not linearly separable through the origin")
    if status == _k.MAX_ITER:
        raise RuntimeError(f"max_margin did not converge in {max_iter} iterations")

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
    gap = (kappa_upper - kappa) / kappa
    if gap > max(1e-6, 1e3 * tol):
        # Never hand back an uncertified answer (round-off could in principle stall the
        # active set on its last violator).
        raise RuntimeError(f"max_margin stopped short of the optimum: relative duality gap "
                           f"{gap:.2e}, KKT violation {kkt:.2e}")
    return MaxMarginResult(
        w=w_unit,
        kappa=kappa,
        dual=a,
        n_support=int(np.count_nonzero(a > 0.0)),
        kappa_upper=float(kappa_upper),
        duality_gap=float(gap),
        kkt_violation=kkt,
        iterations=int(total_it),
    )
