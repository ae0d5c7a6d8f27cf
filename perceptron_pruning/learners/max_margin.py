"""The max-margin (maximal-stability) student: exact active-set solver and replica theory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import _saddle_erm, _saddle_maxmargin
from ..maxmargin import max_margin
from ..registry import register_learner
from ._base import Fit, Learner, TheoryValues

__all__ = ["MaxMargin"]


@register_learner("max-margin")
@dataclass(frozen=True)
class MaxMargin(Learner):
    """Hard-margin SVM without bias (theory.md).

    Parameters
    ----------
    tol : float, default 1e-10
        Relative margin tolerance of :func:`~perceptron_pruning.max_margin`.

    Notes
    -----
    ``fit`` returns the minimiser of ``|J|^2 / 2`` subject to ``y J . x / sqrt(N) >= 1`` (the
    ``lam -> 0`` limit of the ``svm`` learner in its convention; ``|J| / sqrt(N) = 1 / kappa``),
    ``objective = |J|^2 / 2`` and ``certificate`` = the relative duality gap; ``stats`` are the
    margin ``kappa`` of the unit student and ``n_support`` (a count). It raises ``ValueError``
    on data that are not separable.

    ``fit`` accepts ``sample_weight`` (``weighted = True``) but ignores it after validation:
    positive weights multiply the losses, not the hard constraints ``y h >= 1``, so the weighted
    max-margin student (the ``lam -> 0`` limit of the weighted ``svm``) is the unweighted one.

    ``theory`` solves theory.md's saddle point on clean labels and reports ``kappa`` and
    ``alpha_support`` (support vectors per dimension). With label noise it solves the
    hard-constraint limit of theory-erm.md's saddle point (:mod:`perceptron_pruning._saddle_erm`),
    and refuses (``TheoryError``) at or beyond the capacity where the kept data stop being
    separable.
    """

    weighted: ClassVar[bool] = True
    tol: float = 1e-10

    def fit(self, X, y, *, sample_weight=None) -> Fit:
        """Exact max-margin student on ``(X, y)``; ``ValueError`` if not separable.

        Parameters
        ----------
        X : array_like, shape (P, N)
            Inputs.
        y : array_like, shape (P,)
            Labels in {-1, +1}.
        sample_weight : array_like, shape (P,), optional
            Weights, finite and > 0: validated (``ValueError`` otherwise), then ignored, since
            positive weights leave the hard-margin problem unchanged (see the class notes).

        Returns
        -------
        Fit
            See the class notes.
        """
        from .._erm_solvers import check_sample_weight

        if np.ndim(X) == 2:  # otherwise max_margin reports the bad X
            check_sample_weight(sample_weight, np.shape(X)[0])
        r = max_margin(X, y, tol=self.tol)
        J = r.w * (math.sqrt(np.shape(X)[1]) / r.kappa)
        return Fit(w=J, objective=0.5 * float(J @ J), certificate=r.duality_gap,
                   stats={"kappa": r.kappa, "n_support": r.n_support})

    def theory(self, law, alpha_prune) -> TheoryValues:
        """Saddle point on the kept law, continued along the grid (see the class notes)."""
        alpha_prune = np.asarray(alpha_prune, dtype=float)
        if law.noise.clean and law.window is None:
            values, jumps = _saddle_maxmargin.solve_curve(law.correctly_labelled(), alpha_prune)
            values = dict(values)
            values["norm"] = 1.0 / np.asarray(values["kappa"])
            values["eps_noisy"] = np.asarray(values["eps"])
            values["frac_mislabelled_kept"] = np.zeros(alpha_prune.size)
            return TheoryValues(values=values, jumps=jumps)
        values, jumps = _saddle_erm.solve_curve(law, alpha_prune, loss="hard", lam=None)
        values["kappa"] = 1.0 / values["norm"]
        return TheoryValues(values=values, jumps=jumps)
