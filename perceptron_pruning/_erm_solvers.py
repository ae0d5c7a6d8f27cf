"""Exact solvers for regularised linear learners on teacher-student data (private).

Convention: inputs ``X`` of shape (P, N), labels ``y`` in {-1, +1} of shape (P,), pre-activations
``h_mu = J . x_mu / sqrt(N)``. The student ``J`` minimises

    objective(J) = sum_mu loss(y_mu, h_mu) + (lam / 2) |J|^2,    lam > 0,

with ``hinge`` ``max(0, 1 - y h)``, ``logistic`` ``log(1 + exp(-y h))`` or ``square``
``(y - h)^2 / 2``. :func:`hebb` is the unregularised Hebbian student ``J = sum_mu y_mu x_mu``.

Sample weights (importance reweighting, e.g. ``v_mu = 1 / pi_mu`` for a Bernoulli selection with
keep probabilities ``pi_mu``): with ``sample_weight = v``, ``v_mu > 0``, the objective becomes

    objective(J) = sum_mu v_mu loss(y_mu, h_mu) + (lam / 2) |J|^2

and Hebb's student ``J = sum_mu v_mu y_mu x_mu``. Without weights every solver runs exactly the
unweighted computation (bit-identical results).

Relation to scikit-learn. Put ``w = J / sqrt(N)``, so ``h_mu = w . x_mu`` and
``|J|^2 = N |w|^2``; then

    objective(J) = sum_mu loss(y_mu, w . x_mu) + (lam N / 2) |w|^2
                 = lam N [ |w|^2 / 2 + C sum_mu loss(y_mu, w . x_mu) ],   C = 1 / (lam N).

The bracket is the objective of ``LinearSVC(loss="hinge", dual=True, fit_intercept=False, C=C)``
and of ``LogisticRegression(fit_intercept=False, C=C)`` (l2 penalty, the default) fitted to ``X``,
so both have the minimiser ``w = J / sqrt(N)``: ``J = sqrt(N) * model.coef_.ravel()``. For the
square loss, ``2 objective(J) = |y - X w|^2 + lam N |w|^2`` is the objective of
``Ridge(alpha=lam * N, fit_intercept=False)``, with the same relation ``J = sqrt(N) coef_``.
With weights the same holds with ``fit(X, y, sample_weight=v)``: scikit-learn multiplies each
example's loss by its weight (``C sum_mu v_mu loss`` and ``sum_mu v_mu (y_mu - w . x_mu)^2``).

Every answer carries a certificate of optimality computed from the returned ``J`` itself, and
:func:`solve` raises ``RuntimeError`` rather than return an answer whose certificate exceeds
``tol`` (definitions in :class:`Solution`). Since the objective is ``lam``-strongly convex, each
certificate also bounds the distance to the exact minimiser ``J*``:

- hinge: the duality gap bounds the objective excess, and ``lam |J - J*|^2 / 2 <= gap``
  (weighted or not);
- logistic and square: ``|J - J*| <= |grad objective(J)| / lam``; for logistic this reads
  ``|J - J*| / |J| <= certificate``, and ``objective(J) - objective(J*) <= |grad|^2 / (2 lam)``.

Algorithms:

- square: closed form by Cholesky, on the primal normal equations
  ``(X^T X / N + lam I) J = X^T y / sqrt(N)`` when ``P >= N`` and on the kernel (dual) form
  ``(X X^T / N + lam I) a = y``, ``J = X^T a / sqrt(N)`` when ``P < N``, followed by iterative
  refinement until the relative residual is below ``tol``. With weights, ``v_mu (y_mu -
  h_mu)^2 = (sqrt(v_mu) y_mu - sqrt(v_mu) h_mu)^2``: the same computation on the rows
  ``sqrt(v_mu) x_mu`` and labels ``sqrt(v_mu) y_mu`` solves the weighted normal equations
  ``(X^T V X / N + lam I) J = X^T V y / sqrt(N)``, ``V = diag(v)``, or their kernel form
  ``(V^(1/2) X X^T V^(1/2) / N + lam I) b = V^(1/2) y``, ``J = X^T V^(1/2) b / sqrt(N)``;
- hinge: the dual box QP ``min |Z^T a|^2 / 2 - sum(a)``, ``0 <= a_mu <= C_mu``, with rows
  ``z_mu = y_mu x_mu / sqrt(N)``, ``J = Z^T a``, ``C_mu = v_mu / lam`` (``1 / lam`` unweighted)
  and ``alpha = lam a`` in ``[0, v_mu]``. Weights change nothing but the box. Dual coordinate
  descent with shrinking (the liblinear algorithm, Numba kernel
  :func:`~perceptron_pruning._erm_kernels.hinge_dcd`, single-precision rows) finds the active
  sets to a moderate tolerance; an exact projected-Newton polish (:func:`_hinge_polish`) then
  solves the margin equations ``y h = 1`` of the margin set with the bound set fixed (Cholesky
  of the margin Gram matrix, updated by Schur complements as the sets change) and corrects the
  sets until the duality gap certifies; it is a primal-dual active-set method made globally
  convergent by a projected line search. If it does not certify, coordinate descent resumes at a
  ten times tighter tolerance; problems where coordinate descent crawls (large ``1 / lam``,
  degenerate margin sets with ``P >> N``) go to a Mehrotra interior point method
  (:func:`_hinge_ipm`) whose iterates are polished the same way;
- logistic: Newton's method with a backtracking line search. The Newton systems are solved by
  diagonally preconditioned conjugate gradients with matrix-free Hessian-vector products in
  single precision (one pass over a float32 copy of ``X`` each), while gradients, objective
  values and the certificate are exact float64 passes (Numba kernel
  :func:`~perceptron_pruning._erm_kernels.logistic_newton_cg`); at these sizes this beats forming
  the Hessian. Weights multiply each row's loss, gradient and curvature terms. If conjugate
  gradients need more than a budget of passes (ill-conditioned problems, very small ``lam``),
  the solver switches to Newton with the Hessian factorised by Cholesky: the ``P x P``
  representer form ``J = X^T c / sqrt(N)`` when ``P < N``, the ``N x N`` primal Hessian
  otherwise.

Large weights (``v`` spanning orders of magnitude, like ``1 / pi`` of a selection) make the
hinge box wide and the problems ill-conditioned; coordinate descent then hands over to the
interior point method and the logistic solver to its Cholesky fallback, as for small ``lam``.

Determinism: the Numba kernels are serial with a fixed summation order, so they give
bit-identical results whatever the number of threads, and the logistic solver (all Numba unless
its Cholesky fallback runs) is bit-identical across BLAS thread counts too. The matrix products
and factorisations that go to BLAS/LAPACK (the square loss, the hinge polish and interior point,
the logistic fallback) are deterministic for a given BLAS build and BLAS thread count; across
BLAS thread counts they may differ in the last bits (about 1e-15 relative in ``J`` measured),
and each result carries its own certificate either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.linalg import lapack

from perceptron_pruning import _erm_kernels as _k

__all__ = ["LOSSES", "Solution", "check_sample_weight", "hebb", "solve"]

LOSSES = ("hinge", "logistic", "square")

# Guards divisions by norms that may vanish (J = 0 is the exact answer when X^T y = 0).
_TINY = float(np.finfo(np.float64).tiny)
_TOL_MAX = 1e-2


@dataclass(frozen=True)
class Solution:
    """Minimiser of a regularised linear learner, with its certificate of optimality.

    Attributes
    ----------
    w : ndarray, shape (N,)
        The minimiser ``J`` in the convention of this module (not normalised).
    objective : float
        ``sum_mu v_mu loss(y_mu, J . x_mu / sqrt(N)) + lam |J|^2 / 2`` at ``w`` (``v_mu = 1``
        without sample weights; ``nan`` for :func:`hebb`, which minimises nothing).
    certificate : float
        Optimality measure of ``w``, computed from ``w`` itself, ``>= 0`` and ``0`` at the exact
        minimiser:

        - hinge: relative duality gap ``(primal - dual) / max(primal, tiny)``. The dual variables
          ``alpha_mu`` in ``[0, v_mu]`` give ``J = sum_mu alpha_mu y_mu x_mu / (lam sqrt(N))``
          and ``dual = sum_mu alpha_mu - lam |J|^2 / 2``; the gap is evaluated as the sum of its
          non-negative terms ``v_mu max(0, 1 - m_mu) - alpha_mu (1 - m_mu)``,
          ``m_mu = y_mu h_mu``;
        - logistic: relative gradient norm ``|grad objective(J)| / max(lam |J|, tiny)``. At the
          optimum ``lam J = X^T (v y sigma(-y h)) / sqrt(N)``, so this is the relative error of
          that stationarity equation, and it bounds ``|J - J*| / |J|``;
        - square: relative residual of the normal equations
          ``|(X^T V X / N + lam I) J - X^T V y / sqrt(N)| / max(|X^T V y / sqrt(N)|, tiny)``,
          ``V = diag(v)``;
        - hebb: ``0.0`` (closed form, nothing to certify).

        ``tiny`` is the smallest positive normal double.
    iterations : int
        Work done: hinge, coordinate-descent passes plus projected-Newton (and, if used,
        interior-point) steps; logistic, Newton steps; square, linear solves (one plus the
        refinement steps); hebb, ``0``.
    """

    w: np.ndarray
    objective: float
    certificate: float
    iterations: int


# ----------------------------------------------------------------------------------------------
# Validation


def _check_data(X, y):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array of shape (P, N) with P >= 1 and N >= 1, got "
                         f"shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
            or X.dtype == np.bool_):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("X must contain finite values only (found nan or inf)")
    y = np.asarray(y)
    P = X.shape[0]
    if y.shape != (P,):
        raise ValueError(f"y must have shape (P,) = ({P},) to match X, got shape {y.shape}")
    try:
        yf = np.ascontiguousarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("y must hold labels in {-1, +1}") from None
    if not np.all((yf == 1.0) | (yf == -1.0)):
        raise ValueError("y must hold labels in {-1, +1} only")
    return X, yf


def _check_params(loss, lam, tol):
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    for name, value, hi in (("lam", lam, math.inf), ("tol", tol, _TOL_MAX)):
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(value, bool) or not (math.isfinite(x) and 0.0 < x <= hi):
            rng = "finite and > 0" if hi == math.inf else f"in (0, {hi:g}]"
            raise ValueError(f"{name} must be {rng}, got {value!r}")
    return loss, float(lam), float(tol)


def check_sample_weight(sample_weight, P):
    """Validated sample weights.

    Parameters
    ----------
    sample_weight : array_like, shape (P,), or None
        Per-example weights, finite and > 0.
    P : int
        Number of examples.

    Returns
    -------
    ndarray, shape (P,), or None
        The weights as a C-contiguous float64 array (``None`` if ``sample_weight`` is None).

    Raises
    ------
    ValueError
        Naming ``sample_weight`` and its valid range, if it is not a real 1-D array of shape
        ``(P,)`` with finite values > 0.
    """
    if sample_weight is None:
        return None
    what = f"sample_weight must be a 1-D array of shape (P,) = ({P},) with finite values > 0"
    v = np.asarray(sample_weight)
    if v.dtype == np.bool_ or not (np.issubdtype(v.dtype, np.floating)
                                   or np.issubdtype(v.dtype, np.integer)):
        raise ValueError(f"{what}, got dtype {v.dtype}")
    if v.shape != (P,):
        raise ValueError(f"{what}, got shape {v.shape}")
    v = np.ascontiguousarray(v, dtype=np.float64)
    bad = ~(np.isfinite(v) & (v > 0.0))
    if np.any(bad):
        raise ValueError(f"{what}, got {v[bad][0]!r} at index {int(np.flatnonzero(bad)[0])}")
    return v


# ----------------------------------------------------------------------------------------------
# Public API


def solve(X, y, *, loss, lam, tol=1e-10, sample_weight=None):
    """Exact minimiser of ``sum_mu v_mu loss(y_mu, J . x_mu / sqrt(N)) + lam |J|^2 / 2``.

    Parameters
    ----------
    X : array_like, shape (P, N)
        Inputs, finite, ``P >= 1``, ``N >= 1``.
    y : array_like, shape (P,)
        Labels in {-1, +1}.
    loss : {"hinge", "logistic", "square"}
        ``max(0, 1 - y h)``, ``log(1 + exp(-y h))`` or ``(y - h)^2 / 2``.
    lam : float
        Ridge strength, finite and > 0.
    tol : float, default 1e-10
        Required certificate, in (0, 1e-2] (see :class:`Solution` for the definitions).
    sample_weight : array_like, shape (P,), optional
        Weights ``v_mu``, finite and > 0, multiplying each example's loss (e.g. ``1 / pi_mu``
        for an importance-reweighted selection). ``None`` (the default) means ``v_mu = 1`` and
        runs the unweighted computation unchanged.

    Returns
    -------
    Solution
        ``w`` (shape (N,)), objective, certificate ``<= tol`` and iteration count.

    Raises
    ------
    ValueError
        If a parameter is invalid; the message names it and its valid range.
    RuntimeError
        If the certificate cannot be brought below ``tol`` (e.g. ``tol`` below the rounding
        floor of the problem); no uncertified answer is ever returned.
    """
    loss, lam, tol = _check_params(loss, lam, tol)
    X, y = _check_data(X, y)
    v = check_sample_weight(sample_weight, X.shape[0])
    if loss == "square":
        return _solve_square(X, y, lam, tol, v=v)
    if loss == "hinge":
        return _solve_hinge(X, y, lam, tol, v=v)
    return _solve_logistic(X, y, lam, tol, v=v)


def hebb(X, y, *, sample_weight=None):
    """Hebbian student ``J = sum_mu v_mu y_mu x_mu = X^T (v y)`` (``v_mu = 1`` unweighted).

    Parameters
    ----------
    X : array_like, shape (P, N)
        Inputs, finite, ``P >= 1``, ``N >= 1``.
    y : array_like, shape (P,)
        Labels in {-1, +1}.
    sample_weight : array_like, shape (P,), optional
        Weights ``v_mu``, finite and > 0 (``None``: all ones).

    Returns
    -------
    Solution
        ``w = X^T (v y)`` (shape (N,)), ``objective = nan``, ``certificate = 0.0``,
        ``iterations = 0``.
    """
    X, y = _check_data(X, y)
    v = check_sample_weight(sample_weight, X.shape[0])
    J = X.T @ y if v is None else X.T @ (v * y)
    return Solution(w=J, objective=math.nan, certificate=0.0, iterations=0)


# ----------------------------------------------------------------------------------------------
# Objectives and certificates, always evaluated from J itself


def _wsum(x, v):
    """``sum(x)``, or ``sum(v x)`` with sample weights ``v``."""
    return x.sum() if v is None else x @ v


def _hinge_value(X, y, J, lam, v=None):
    """Objective and margins ``m = y h`` of the (weighted) hinge problem."""
    m = y * (X @ J) * (1.0 / math.sqrt(X.shape[1]))
    return float(_wsum(np.maximum(0.0, 1.0 - m), v) + 0.5 * lam * (J @ J)), m


def _hinge_certificate(m, alpha, primal, v=None):
    """Relative duality gap from margins ``m`` of ``J = J(alpha)`` and ``alpha`` in ``[0, v]``."""
    _, gap, _ = _k.hinge_terms(m, alpha, np.ones(m.shape[0]) if v is None else v)
    return max(gap, 0.0) / max(primal, _TINY)


def _logistic_value(X, y, J, lam, v=None):
    """Objective and relative gradient norm ``|grad| / max(lam |J|, tiny)`` of the logistic loss."""
    P, N = X.shape
    m, curv, g, diag = np.empty(P), np.empty(P), np.empty(N), np.empty(N)
    vk = np.ones(P) if v is None else v
    loss = _k.logistic_grad(X, y, vk, 1.0 / math.sqrt(N), J, lam, m, curv, g, diag, False)
    jn = float(np.linalg.norm(J))
    return loss + 0.5 * lam * jn * jn, float(np.linalg.norm(g)) / max(lam * jn, _TINY)


def _square_value(X, y, J, lam):
    """Objective and relative residual of the normal equations of the square loss."""
    N = X.shape[1]
    s = 1.0 / math.sqrt(N)
    r = y - (X @ J) * s  # y - h
    b = (X.T @ y) * s
    resid = lam * J - (X.T @ r) * s  # (X^T X / N + lam I) J - X^T y / sqrt(N)
    obj = 0.5 * float(r @ r) + 0.5 * lam * float(J @ J)
    return obj, float(np.linalg.norm(resid)) / max(float(np.linalg.norm(b)), _TINY)


def _uncertified(loss, cert, tol, detail):
    return RuntimeError(f"{loss}: could not certify the minimiser to tol={tol:g} (certificate "
                        f"{cert:.3g} after {detail}); tol may be below the rounding floor of "
                        f"this problem")


# ----------------------------------------------------------------------------------------------
# Square loss


def _solve_square(X, y, lam, tol, max_refine=5, v=None):
    P, N = X.shape
    if v is not None:
        # v (y - h)^2 = (sqrt(v) y - sqrt(v) h)^2: the weighted problem is the unweighted one on
        # scaled rows, and the certificate below is then that of the weighted normal equations.
        sv = np.sqrt(v)
        X = X * sv[:, None]
        y = y * sv
    s = 1.0 / math.sqrt(N)
    primal = P >= N
    A = X.T @ X if primal else X @ X.T
    A *= 1.0 / N
    A.flat[:: A.shape[0] + 1] += lam
    try:
        cf = sla.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise _uncertified("square", math.inf, tol, "a failed Cholesky factorisation "
                           "(lam is below the rounding level of X^T X / N)") from None
    if primal:
        J = sla.cho_solve(cf, (X.T @ y) * s, check_finite=False)
    else:
        a = sla.cho_solve(cf, y, check_finite=False)
        J = (X.T @ a) * s
    obj, cert = _square_value(X, y, J, lam)
    solves = 1
    while cert > tol and solves <= max_refine:
        # Iterative refinement on the system that was factorised.
        if primal:
            resid = lam * J - (X.T @ (y - (X @ J) * s)) * s
            J = J - sla.cho_solve(cf, resid, check_finite=False)
        else:
            resid = (X @ (X.T @ a)) * (1.0 / N) + lam * a - y
            a = a - sla.cho_solve(cf, resid, check_finite=False)
            J = (X.T @ a) * s
        obj, cert = _square_value(X, y, J, lam)
        solves += 1
    if cert > tol:
        raise _uncertified("square", cert, tol, f"{solves} solves")
    return Solution(w=J, objective=obj, certificate=cert, iterations=solves)


# ----------------------------------------------------------------------------------------------
# Hinge loss


class _Rows:
    """The rows ``z_mu = y_mu x_mu / sqrt(N)`` of the hinge dual, without a float64 copy of ``Z``.

    ``Z32`` is the single-precision copy used by coordinate descent and for Gram matrices.
    """

    def __init__(self, X, y, Z32):
        self.X, self.Z32 = X, Z32
        self.ys = y * (1.0 / math.sqrt(X.shape[1]))
        self.shape = X.shape

    def dot(self, w):
        """``Z w`` (the margins ``y h`` of ``J = w``)."""
        return self.ys * (self.X @ w)

    def tdot(self, a, idx=None):
        """``Z^T a``, or ``Z[idx]^T a`` for ``a`` indexed like ``idx``."""
        if idx is None:
            return (a * self.ys) @ self.X
        return (a * self.ys[idx]) @ self.X[idx]

    def take(self, idx):
        """``Z[idx]`` as a new array."""
        return self.X[idx] * self.ys[idx, None]


class _MarginSystem:
    """Solves ``(Z_M Z_M^T + delta I) x = b`` for margin sets ``M`` near a factorised reference.

    The shifted Gram matrix of a reference set ``M0`` is factorised once (Cholesky, ``L``). A set
    ``M = (M0 - R) + A`` is then handled by block elimination: the equations of the removed rows
    ``R`` are relaxed by multipliers that pin their unknowns to zero, the added rows ``A`` are
    bordered on, and only the small Schur complement (``|A| + |R|`` square) is factorised. This
    costs ``O(|M0|^2 (|A| + |R|) + |M0| N |A|)`` instead of ``O(|M|^2 N)`` for a new Gram matrix.
    The shift ``delta > 0`` keeps every factorisation defined when the margin set is rank
    deficient (more than ``N`` margin examples, duplicated examples); :func:`_hinge_polish`
    removes its effect by iterated refinement.
    """

    def __init__(self, rows, delta):
        self.rows = rows
        self.delta = delta
        self.M0 = None

    def factor(self, M):
        """Make ``M`` the reference set.

        The Gram matrix is formed from the single-precision rows (half the cost of the
        dominant product) and factorised in double precision; the callers refine every solve
        with double-precision residuals, which removes the ~1e-7 relative perturbation. If that
        factorisation fails the double-precision Gram matrix is used instead.
        """
        self.M0 = None
        ZM = self.rows.take(M)
        for exact in (False, True):
            if exact:
                G = ZM @ ZM.T
            else:
                Z32 = self.rows.Z32[M]
                G = (Z32 @ Z32.T).astype(np.float64)
            G.flat[:: M.size + 1] += self.delta
            # G is symmetric, so its transpose is the same matrix in Fortran order: LAPACK
            # works in place (the lower factor L is F-contiguous, as dtrtrs wants it).
            L, info = lapack.dpotrf(G.T, lower=1, clean=0, overwrite_a=1)
            if info == 0:
                break
        else:
            raise np.linalg.LinAlgError("margin Gram matrix not positive definite")
        self.L = L
        self.M0, self.ZM0 = M, ZM
        self.pos0 = np.full(self.rows.shape[0], -1)
        self.pos0[M] = np.arange(M.size)

    def prepare(self, M, max_changes):
        """Set up the solver for ``M``; returns False if it differs from ``M0`` by too much."""
        p = self.pos0[M]
        self.M, self.in0, self.p0 = M, p >= 0, p[p >= 0]
        A = M[~self.in0]
        keep = np.zeros(self.M0.size, dtype=bool)
        keep[self.p0] = True
        R = np.flatnonzero(~keep)
        nA, k = A.size, A.size + R.size
        self.nA, self.k = nA, k
        if k > max_changes:
            return False
        if k == 0:
            return True
        W = np.zeros((self.M0.size, k))
        if nA:
            ZA = self.ZA = self.rows.take(A)
            W[:, :nA] = self.ZM0 @ ZA.T
        W[R, nA + np.arange(R.size)] = 1.0
        self.Y = self._trsv(W, 0)
        S = -(self.Y.T @ self.Y)
        if nA:
            S[:nA, :nA] += ZA @ ZA.T
            S.flat[: nA * (k + 1): k + 1] += self.delta
        self.lu = sla.lu_factor(S, check_finite=False)
        if not np.all(np.isfinite(self.lu[0])) or np.any(np.diag(self.lu[0]) == 0.0):
            raise np.linalg.LinAlgError("singular Schur complement")
        return True

    def rows_dot(self, v):
        """``Z_M v`` for the prepared ``M`` (from the cached rows, no copy of ``Z_M``)."""
        out = np.empty(self.M.size)
        out[self.in0] = (self.ZM0 @ v)[self.p0]
        if self.nA:
            out[~self.in0] = self.ZA @ v
        return out

    def rows_T_dot(self, x):
        """``Z_M^T x`` for ``x`` indexed like the prepared ``M``."""
        x0 = np.zeros(self.M0.size)
        x0[self.p0] = x[self.in0]
        out = x0 @ self.ZM0
        if self.nA:
            out += x[~self.in0] @ self.ZA
        return out

    def _trsv(self, b, trans):
        # L^{-1} b (trans=0) or L^{-T} b (trans=1), b a vector or a matrix of columns.
        x, info = lapack.dtrtrs(self.L, b, lower=1, trans=trans)
        if info != 0:
            raise np.linalg.LinAlgError("singular margin factor")
        return x

    def solve(self, b):
        """``x`` for the prepared ``M`` (``b`` and ``x`` indexed like ``M``)."""
        rhs = np.zeros(self.M0.size)
        rhs[self.p0] = b[self.in0]
        c = self._trsv(rhs, 0)
        x = np.empty(self.M.size)
        if self.k:
            r2 = np.zeros(self.k)
            r2[: self.nA] = b[~self.in0]
            v = sla.lu_solve(self.lu, r2 - self.Y.T @ c, check_finite=False)
            c = c - self.Y @ v
            x[~self.in0] = v[: self.nA]
        a0 = self._trsv(c, 1)
        x[self.in0] = a0[self.p0]
        return x


def _hinge_polish(rows, qd, a, C, lam, X, y, tol, max_steps=40, max_refine=6, v=None):
    """Exact polish of the box QP ``min f(a) = |Z^T a|^2 / 2 - sum(a)``, ``0 <= a <= C``.

    Projected Newton (Bertsekas 1982) from a coordinate-descent or interior point ``a``. With
    ``g = Z Z^T a - 1``, the epsilon-active set ``A`` holds the coordinates within ``eps`` of a
    bound whose gradient pushes outwards (``eps`` shrinks with the projected Newton step); they
    are moved onto the bound. On the free set ``F`` the Newton direction solves
    ``Z_F Z_F^T d_F = -(g_F + Z_F Z_A^T da_A)`` (see :class:`_MarginSystem`; refined while the
    residual halves, so a rank-deficient free set still gets a well-defined direction), and the
    step ``a_F <- clip(a_F + t d_F, 0, C)`` is chosen by backtracking (Armijo) along the
    projection arc, so ``f`` decreases monotonically. Once the sets are those of the optimum the
    full step solves the margin equations ``y h = 1`` exactly: the same final step as a
    primal-dual active-set method, with global convergence on top.
    ``C`` is a scalar or per-example bounds (shape (P,), ``v / lam`` with sample weights ``v``,
    which the objective and the certificate then weigh). Returns
    ``(J, alpha, objective, certificate, steps)`` as soon as the duality gap certifies ``tol``,
    or ``None`` if the steps stop making progress first.
    """
    P, N = rows.shape
    C = np.broadcast_to(np.asarray(C, dtype=np.float64), (P,))
    acur = np.clip(a, 0.0, C)
    w = rows.tdot(acur)
    fval = 0.5 * float(w @ w) - float(acur.sum())
    system = _MarginSystem(rows, 1e-9 * float(np.max(qd)))
    prev_free = None
    for step in range(1, max_steps + 1):
        m = rows.dot(w)  # margins y h
        g = m - 1.0
        obj = float(_wsum(np.maximum(0.0, -g), v)) + 0.5 * lam * float(w @ w)
        if _hinge_certificate(m, lam * acur, obj, v) <= tol:
            # Confirm with J = Z^T a recomputed exactly and the original data before returning.
            w = rows.tdot(acur)
            obj, m = _hinge_value(X, y, w, lam, v)
            cert = _hinge_certificate(m, lam * acur, obj, v)
            if cert <= tol:
                return w, lam * acur, obj, cert, step - 1
            m = rows.dot(w)
            g = m - 1.0
        # epsilon-active set (Bertsekas): coordinates within eps of a bound whose gradient pushes
        # outwards go to the bound; eps shrinks with the projected Newton step.
        eps = np.minimum(1e-3 * C, float(np.max(np.abs(acur - np.clip(acur - g / qd, 0.0, C)))))
        low = (acur <= eps) & (g >= 0.0)
        up = (acur >= C - eps) & (g <= 0.0)
        im = np.flatnonzero(~(low | up))
        ia = np.flatnonzero(low | up)
        deltaA = np.where(up[ia], C[ia], 0.0) - acur[ia]
        moved = deltaA != 0.0  # most active coordinates already sit on their bound
        wA = rows.tdot(deltaA[moved], ia[moved]) if np.any(moved) else np.zeros(N)
        decA = float(g[ia] @ deltaA)
        if im.size:
            try:
                if system.M0 is None or not system.prepare(im, max(32, system.M0.size // 4)):
                    system.factor(im)
                    system.prepare(im, 0)
            except np.linalg.LinAlgError:
                return None
            gF = g[im]
            # Newton direction on the free set with the bound moves included: Z_F Z_F^T d_F =
            # -(g_F + Z_F wA), refined while the residual halves.
            rhs = -(gF + system.rows_dot(wA))
            d = system.solve(rhs)
            rnorm = math.inf
            floor = 1e-14 * (float(np.max(np.abs(rhs))) + 1.0)
            for _ in range(max_refine):
                r = rhs - system.rows_dot(system.rows_T_dot(d))
                rn = float(np.max(np.abs(r)))
                if not rn < 0.5 * rnorm or rn <= floor:
                    break
                rnorm = rn
                d = d + system.solve(r)
            if not np.all(np.isfinite(d)):
                return None
            aF, CF = acur[im], C[im]
        # Backtracking along the projection arc (the epsilon-active moves are taken in full).
        t = 1.0
        for _ in range(40):
            wt = w + wA
            dec = decA
            if im.size:
                aT = np.clip(aF + t * d, 0.0, CF)
                delta = aT - aF
                dec += float(gF @ delta)
                wt = wt + system.rows_T_dot(delta)
                dsum = float(delta.sum())
            else:
                dsum = 0.0
            ft = 0.5 * float(wt @ wt) - float(acur.sum() + deltaA.sum() + dsum)
            if dec < 0.0 and ft <= fval + 1e-4 * dec + 1e-13 * abs(fval):
                break
            t *= 0.5
        else:
            return None
        if ft >= fval and np.array_equal(im, prev_free):
            return None  # no progress: the rounding floor of this problem is above tol
        acur = acur.copy()
        acur[ia] = np.where(up[ia], C[ia], 0.0)
        if im.size:
            acur[im] = aT
        w, fval = wt, ft  # J = Z^T a is recomputed exactly before a certificate is returned
        prev_free = im
    return None


def _ipm_factor(Z, Gram, dg):
    """Solver ``v -> (Z Z^T + diag(dg))^{-1} v`` (Cholesky; Woodbury when ``Gram`` is None)."""
    if Gram is not None:
        M = Gram.copy()
        M.flat[:: M.shape[0] + 1] += dg
        cf = sla.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
        return lambda v: sla.cho_solve(cf, v, check_finite=False)
    Zd = Z / dg[:, None]
    K = Z.T @ Zd
    K.flat[:: K.shape[0] + 1] += 1.0
    cf = sla.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
    return lambda v: v / dg - Zd @ sla.cho_solve(cf, Zd.T @ v, check_finite=False)


def _ipm_direction(lin, rd, a, b, s, u, rho1, rho2):
    """Newton direction ``(da, ds, du)`` of the box-QP KKT system with linearised
    complementarity ``s da + a ds = rho1`` and ``-u da + b du = rho2`` (``b = C - a``).
    """
    da = lin(-rd + rho1 / a - rho2 / b)
    return da, (rho1 - s * da) / a, (rho2 + u * da) / b


def _ipm_max_step(a, b, s, u, da, ds, du):
    """Largest ``t <= 1`` keeping ``a, C - a, s, u`` non-negative along the direction."""
    t = 1.0
    for x, dx in ((a, da), (b, -da), (s, ds), (u, du)):
        neg = dx < 0.0
        if np.any(neg):
            t = min(t, float(np.min(-x[neg] / dx[neg])))
    return t


def _hinge_ipm(rows, qd, C, lam, X, y, tol, max_iter=100, v=None):
    """Mehrotra predictor-corrector interior point for the box QP of :func:`_hinge_polish`.

    The fallback for problems where coordinate descent crawls (large ``C = 1 / lam``, many
    degenerate margin examples, ``P >> N``). Each iteration solves ``(Z Z^T + D) da = rhs`` with
    ``D`` diagonal: directly with the ``P x P`` Gram matrix when ``P <= N``, by Woodbury with the
    ``N x N`` matrix ``I + Z^T D^{-1} Z`` otherwise. Every iterate is strictly inside the box, so
    it is dual feasible and its duality gap is a valid certificate; from gap 1e-5 on, the
    projected-Newton polish is tried at every further decade, and once more at the end. ``C`` is
    a scalar or per-example bounds (shape (P,), ``v / lam`` with sample weights ``v``). Returns
    ``(J, objective, certificate, iterations)``, or ``None`` if ``tol`` was not certified.
    """
    P, N = rows.shape
    C = np.broadcast_to(np.asarray(C, dtype=np.float64), (P,))
    Z = rows.take(slice(None))
    e = np.ones(P)
    a = 0.5 * C
    w = a @ Z
    r = Z @ w - e
    s = np.maximum(r, 0.0) + 1.0  # multipliers of a >= 0 and a <= C; r - s + u = 0
    u = np.maximum(-r, 0.0) + 1.0
    Gram = Z @ Z.T if P <= N else None
    next_polish = 1e-5
    for it in range(1, max_iter + 1):
        b = C - a
        rd = Z @ w - e - s + u
        mu = (a @ s + b @ u) / (2 * P)
        try:
            lin = _ipm_factor(Z, Gram, s / a + u / b)
        except np.linalg.LinAlgError:
            break
        # Predictor (affine scaling), then Mehrotra's corrector with centring sigma.
        da, ds, du = _ipm_direction(lin, rd, a, b, s, u, -a * s, -b * u)
        t = _ipm_max_step(a, b, s, u, da, ds, du)
        mu_aff = ((a + t * da) @ (s + t * ds) + (b - t * da) @ (u + t * du)) / (2 * P)
        sigma = (mu_aff / mu) ** 3
        da, ds, du = _ipm_direction(lin, rd, a, b, s, u, sigma * mu - a * s - da * ds,
                                    sigma * mu - b * u + da * du)
        t = min(1.0, 0.99 * _ipm_max_step(a, b, s, u, da, ds, du))
        a = np.clip(a + t * da, 0.0, C)
        s = s + t * ds
        u = u + t * du
        if not (np.all(a > 0.0) and np.all(a < C)):
            break  # numerically on the boundary: the barrier has broken down
        w = a @ Z
        obj, m = _hinge_value(X, y, w, lam, v)
        cert = _hinge_certificate(m, lam * a, obj, v)
        if cert <= tol:
            return w, obj, cert, it
        if cert <= next_polish:
            next_polish = cert / 10.0
            res = _hinge_polish(rows, qd, a, C, lam, X, y, tol, v=v)
            if res is not None:
                return res[0], res[2], res[3], it + res[4]
    res = _hinge_polish(rows, qd, a, C, lam, X, y, tol, v=v)
    if res is not None:
        return res[0], res[2], res[3], it + res[4]
    return None


def _solve_hinge(X, y, lam, tol, v=None):
    P, N = X.shape
    # Rows z_mu = y_mu x_mu / sqrt(N) in single precision (for coordinate descent and the Gram
    # matrices, see _MarginSystem) and their squared norms; double-precision products with Z
    # go through X (see _Rows).
    Z32, qd = np.empty((P, N), dtype=np.float32), np.empty(P)
    _k.hinge_rows(X, y, 1.0 / math.sqrt(N), Z32, qd)
    rows = _Rows(X, y, Z32)
    # A zero row has z = 0, loss v whatever J, and alpha = v at the optimum; the tiny
    # curvature sends its coordinate straight to the upper bound without touching J.
    qd = np.maximum(qd, _TINY)
    # a = alpha / lam, J = Z^T a; the kernel takes per-example bounds, weighted or not.
    C = np.full(P, 1.0 / lam) if v is None else v / lam
    a = np.zeros(P)
    w = np.zeros(N)
    # Coordinate descent is cheap per pass but crawls when the problem is degenerate; its budget
    # is a fraction of what the interior point fallback would cost.
    budget = int(min(2000, max(100, 20 * min(P, N))))
    work = 0
    # Coordinate descent only has to find the active sets: single-precision rows halve its
    # memory traffic (w is accumulated in double precision; the polish is exact).
    for k, eps in enumerate((0.1, 0.01)):
        ep = _k.hinge_dcd(Z32, qd, a, w, C, eps, budget, k + 1)
        work += abs(ep)
        res = _hinge_polish(rows, qd, a, C, lam, X, y, tol, v=v)
        if res is not None:
            J, _alpha, obj, cert, steps = res
            return Solution(w=J, objective=obj, certificate=cert, iterations=work + steps)
        if ep < 0:
            break
    res = _hinge_ipm(rows, qd, C, lam, X, y, tol, v=v)
    if res is not None:
        J, obj, cert, steps = res
        return Solution(w=J, objective=obj, certificate=cert, iterations=work + steps)
    w = rows.tdot(a)
    obj, m = _hinge_value(X, y, w, lam, v)
    cert = _hinge_certificate(m, lam * a, obj, v)
    raise _uncertified("hinge", cert, tol, f"{work} coordinate-descent passes, active-set "
                       "polish and an interior point method")


# ----------------------------------------------------------------------------------------------
# Logistic loss


def _solve_logistic(X, y, lam, tol, method="auto", max_newton=200, cg_budget=None, v=None):
    """Logistic minimiser.

    ``method`` is "auto" (Newton-CG, then Cholesky Newton from where CG stopped if it exceeds
    ``cg_budget`` passes), "cg" (no fallback) or "direct" (Cholesky Newton only); ``v`` are the
    sample weights (shape (P,), or None).
    """
    P, N = X.shape
    v = np.ones(P) if v is None else v  # the kernels take weights always (one signature)
    J = np.zeros(N)
    newton = 0
    if method in ("auto", "cg"):
        stats = np.zeros(4)
        # CG budget in passes over X: a factorisation costs about min(P, N) / 2 passes per
        # Newton step, so beyond a few of those the direct method is cheaper.
        if cg_budget is None:
            cg_budget = max(100, 4 * min(P, N)) if method == "auto" else 10**6
        Xs = np.empty((P, N), dtype=np.float32)
        _k.scaled_single(X, 1.0 / math.sqrt(N), Xs)
        status = _k.logistic_newton_cg(X, Xs, y, v, lam, J, tol, max_newton, cg_budget, stats)
        newton = int(stats[0])
        if status == 0:
            # stats[2] and stats[3] were evaluated at the returned J (exact float64 pass).
            return Solution(w=J, objective=float(stats[3]), certificate=float(stats[2]),
                            iterations=newton)
        if method == "cg":
            raise _uncertified("logistic", float(stats[2]), tol,
                               f"{newton} Newton-CG steps (status {status})")
    return _logistic_direct(X, y, lam, tol, J, newton, max_newton, v)


def _line_search(m, dm, fval, gd, quad, lam, v):
    """Backtracking (Armijo) step along ``m + t dm``; ``quad = (|J|^2, J.d, |d|^2)``."""
    jj, jd, dd = quad
    t = 1.0
    for _ in range(60):
        val, _ = _k.logistic_line(m, dm, v, t)
        phi = val + 0.5 * lam * (jj + 2.0 * t * jd + t * t * dd)
        if phi <= fval + 1e-4 * t * gd + 1e-13 * abs(fval):
            return t
        t *= 0.5
    return None


def _logistic_direct(X, y, lam, tol, J, newton, max_newton, v):
    """Newton with the Hessian factorised by Cholesky (representer form when ``P < N``);
    ``v`` are the sample weights (shape (P,), ones when unweighted).
    """
    P, N = X.shape
    s = 1.0 / math.sqrt(N)
    m, curv, g, diag = np.empty(P), np.empty(P), np.empty(N), np.empty(N)
    cert = math.inf
    if P < N:
        # J = s X^T c; h = K c with K = s^2 X X^T; Newton on c (see module docstring).
        K = X @ X.T
        K *= s * s
        c = np.zeros(P)
        J = np.zeros(N)
        h = np.zeros(P)
        for _ in range(max_newton):
            m = y * h
            dl = np.empty(P)
            loss = _k.logistic_terms(m, v, dl, curv)
            fval = loss + 0.5 * lam * float(c @ h)
            r = y * dl + lam * c  # gradient in c is K r; gradient in J is s X^T r
            gJ = (X.T @ r) * s
            cert = float(np.linalg.norm(gJ)) / max(lam * float(np.linalg.norm(J)), _TINY)
            if cert <= tol:
                break
            newton += 1
            sq = np.sqrt(curv)
            B = K * sq[:, None]
            B *= sq[None, :]
            B.flat[:: P + 1] += lam
            try:
                cf = sla.cho_factor(B, lower=True, overwrite_a=True, check_finite=False)
            except np.linalg.LinAlgError:
                break
            Kr = K @ r
            dc = -(r - sq * sla.cho_solve(cf, sq * Kr, check_finite=False)) / lam
            dh = K @ dc
            gd = float(r @ dh)  # directional derivative (K r) . dc
            if not gd < 0.0:
                break
            t = _line_search(m, y * dh, fval, gd,
                             (float(c @ h), float(dc @ h), float(dc @ dh)), lam, v)
            if t is None:
                break
            c += t * dc
            h += t * dh
            J = (X.T @ c) * s
    else:
        for _ in range(max_newton):
            loss = _k.logistic_grad(X, y, v, s, J, lam, m, curv, g, diag, False)
            jj = float(J @ J)
            fval = loss + 0.5 * lam * jj
            cert = float(np.linalg.norm(g)) / max(lam * math.sqrt(jj), _TINY)
            if cert <= tol:
                break
            newton += 1
            Xd = X * (np.sqrt(curv) * s)[:, None]
            H = Xd.T @ Xd
            H.flat[:: N + 1] += lam
            try:
                cf = sla.cho_factor(H, lower=True, overwrite_a=True, check_finite=False)
            except np.linalg.LinAlgError:
                break
            d = -sla.cho_solve(cf, g, check_finite=False)
            gd = float(g @ d)
            if not gd < 0.0:
                break
            t = _line_search(m, y * (X @ d) * s, fval, gd, (jj, float(J @ d), float(d @ d)), lam,
                             v)
            if t is None:
                break
            J = J + t * d
    obj, cert = _logistic_value(X, y, J, lam, v)
    if cert > tol:
        raise _uncertified("logistic", cert, tol, f"{newton} Newton steps")
    return Solution(w=J, objective=obj, certificate=cert, iterations=newton)
