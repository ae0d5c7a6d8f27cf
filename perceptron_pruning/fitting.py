"""One public entry to every learner: ``fit(X, y, *, learner, lam, tol)``."""

from __future__ import annotations

from .learners import Fit
from .maxmargin import _check_xy
from .registry import get_learner

__all__ = ["fit"]


def fit(X, y, *, learner="max-margin", lam=None, tol=None) -> Fit:
    """Train a learner on ``(X, y)`` exactly, with a certificate.

    The regularised learners minimise ``sum_mu loss(y_mu, J . x_mu / sqrt(N)) + (lam / 2) |J|^2``
    (theory-erm.md): ``svm`` (hinge), ``logistic`` and ``ridge`` (square loss). ``max-margin``
    minimises ``|J|^2 / 2`` subject to ``y_mu J . x_mu / sqrt(N) >= 1``, and ``hebb`` is
    ``J = sum_mu y_mu x_mu / sqrt(N)``. In scikit-learn's terms ``C = 1 / (lam N)`` for
    ``LinearSVC(loss="hinge")`` and ``LogisticRegression``, and ``Ridge(alpha = lam N)``, all
    without intercept, have the same minimiser.

    Parameters
    ----------
    X : array_like, shape (P, N)
        Inputs, one example per row.
    y : array_like, shape (P,)
        Labels in {-1, +1}.
    learner : str or Learner, default "max-margin"
        A registered learner (:func:`~perceptron_pruning.registry.learner_names`) or instance.
    lam : float, optional
        Ridge penalty ``lam > 0`` of ``svm``, ``logistic`` and ``ridge`` (default: the
        learner's, 0.1). ``max-margin`` and ``hebb`` take none.
    tol : float, optional
        The learner's certificate tolerance (default: the learner's, 1e-10): the relative
        duality gap (``max-margin``, ``svm``), the relative gradient norm (``logistic``) or the
        relative residual of the normal equations (``ridge``). ``hebb`` takes none.

    Returns
    -------
    Fit
        ``w`` (the minimiser ``J``, shape ``(N,)``, not normalised), ``objective``,
        ``certificate`` and the learner's ``stats``.

    Raises
    ------
    ValueError
        Bad shapes or labels; a ``lam`` or ``tol`` the learner does not take or out of range;
        data that are not separable for ``max-margin``.
    RuntimeError
        The solver could not certify its answer to ``tol``.
    """
    options = {k: v for k, v in (("lam", lam), ("tol", tol)) if v is not None}
    model = get_learner(learner, **options)
    X, y = _check_xy(X, y)
    return model.fit(X, y)
