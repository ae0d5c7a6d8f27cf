"""Regularised learners (theory-erm.md): hinge (``svm``), ``logistic`` and square-loss (``ridge``).

Each minimises ``sum_mu loss(y_mu, J . x_mu / sqrt(N)) + (lam / 2) |J|^2`` exactly (to ``tol``,
with a certificate; :mod:`perceptron_pruning._erm_solvers`), or with sample weights ``v_mu > 0``
``sum_mu v_mu loss(...) + (lam / 2) |J|^2``, and its theory is the saddle point of theory-erm.md
(:mod:`perceptron_pruning._saddle_erm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import _saddle_erm
from .._validation import check_real
from ..registry import register_learner
from ._base import Fit, Learner, TheoryValues

__all__ = ["Logistic", "Ridge", "Svm"]

LAM_MAX = 1e6


class _Regularised(Learner):
    """Shared by the three regularised ERM learners (``loss`` is the class's)."""

    loss: ClassVar[str] = ""
    weighted: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "lam", check_real("lam", self.lam, low=0.0, high=LAM_MAX,
                                                   low_open=True))
        object.__setattr__(self, "tol", check_real("tol", self.tol, low=0.0, high=1e-2,
                                                   low_open=True))

    def fit(self, X, y, *, sample_weight=None) -> Fit:
        """The exact minimiser ``J`` (this convention, not normalised).

        Parameters
        ----------
        X : array_like, shape (P, N)
            Inputs.
        y : array_like, shape (P,)
            Labels in {-1, +1}.
        sample_weight : array_like, shape (P,), optional
            Weights ``v_mu``, finite and > 0, multiplying each example's loss (``None``: all 1).

        Returns
        -------
        Fit
            ``w = J`` (shape (N,)); ``objective`` is the (weighted) training objective at ``J``;
            ``stats`` holds ``train_error``, the unweighted fraction of the training examples
            with ``y J . x <= 0``.
        """
        from .._erm_solvers import solve

        sol = solve(X, y, loss=self.loss, lam=self.lam, tol=self.tol,
                    sample_weight=sample_weight)
        return Fit(w=sol.w, objective=sol.objective, certificate=sol.certificate,
                   stats={"train_error": _train_error(X, y, sol.w)})

    def theory(self, law, alpha_prune) -> TheoryValues:
        """Saddle point of theory-erm.md on the kept law (Powell's hybrid method, continued
        along the grid).
        """
        values, jumps = _saddle_erm.solve_curve(law, alpha_prune, loss=self.loss, lam=self.lam)
        return TheoryValues(values=values, jumps=jumps)


def _train_error(X, y, w):
    return float(np.mean(y * (np.asarray(X) @ w) <= 0.0))


@register_learner("svm")
@dataclass(frozen=True)
class Svm(_Regularised):
    """Soft-margin SVM without bias: hinge loss ``max(0, 1 - y h)``.

    Parameters
    ----------
    lam : float, default 0.1
        Ridge penalty ``lam > 0`` (scikit-learn's ``C = 1 / (lam N)``).
    tol : float, default 1e-10
        Largest relative duality gap accepted.

    Notes
    -----
    As ``lam -> 0`` on separable data the solution tends to the max-margin student.
    """

    loss: ClassVar[str] = "hinge"
    lam: float = 0.1
    tol: float = 1e-10


@register_learner("logistic")
@dataclass(frozen=True)
class Logistic(_Regularised):
    """Logistic regression without bias: loss ``log(1 + exp(-y h))``.

    Parameters
    ----------
    lam : float, default 0.1
        Ridge penalty ``lam > 0`` (scikit-learn's ``C = 1 / (lam N)``).
    tol : float, default 1e-10
        Largest relative gradient norm accepted.
    """

    loss: ClassVar[str] = "logistic"
    lam: float = 0.1
    tol: float = 1e-10


@register_learner("ridge")
@dataclass(frozen=True)
class Ridge(_Regularised):
    """Ridge regression on the labels: square loss ``(y - h)^2 / 2``.

    Parameters
    ----------
    lam : float, default 0.1
        Ridge penalty ``lam > 0`` (scikit-learn's ``Ridge(alpha = lam N)``).
    tol : float, default 1e-10
        Largest relative residual of the normal equations accepted.

    Notes
    -----
    As ``lam -> infinity``, ``lam J`` tends to Hebb's ``J``.
    """

    loss: ClassVar[str] = "square"
    lam: float = 0.1
    tol: float = 1e-10
