"""The max-margin (maximal-stability) student: exact active-set solver and replica theory."""

from __future__ import annotations

from dataclasses import dataclass

from .. import _saddle_maxmargin
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
    ``fit`` returns the unit ``w``, ``objective`` = the margin ``kappa`` and ``certificate`` = the
    relative duality gap; ``stats`` are ``kappa`` and ``n_support`` (a count). ``theory`` solves
    theory.md's saddle point and reports ``kappa`` and ``alpha_support`` (support vectors per
    dimension).
    """

    tol: float = 1e-10

    def fit(self, X, y) -> Fit:
        """Exact max-margin student on ``(X, y)``; ``ValueError`` if not separable."""
        r = max_margin(X, y, tol=self.tol)
        return Fit(w=r.w, objective=r.kappa, certificate=r.duality_gap,
                   stats={"kappa": r.kappa, "n_support": r.n_support})

    def theory(self, law, alpha_prune) -> TheoryValues:
        """Saddle point of theory.md on the kept law, continued along the grid."""
        values, jumps = _saddle_maxmargin.solve_curve(law, alpha_prune)
        return TheoryValues(values=values, jumps=jumps)
