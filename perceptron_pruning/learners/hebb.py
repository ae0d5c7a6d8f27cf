"""Hebb's rule: ``J = sum_mu y_mu x_mu / sqrt(N)``, the ``lam -> infinity`` limit of ridge."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import _saddle_erm
from ..registry import register_learner
from ._base import Fit, Learner, TheoryValues

__all__ = ["Hebb"]


@register_learner("hebb")
@dataclass(frozen=True)
class Hebb(Learner):
    """Hebb's rule, ``J = sum_mu y_mu x_mu / sqrt(N)`` (no hyper-parameters).

    Notes
    -----
    ``fit`` has no objective (NaN) and certificate 0 (it is exact). The theory is the closed
    form ``R = a / sqrt(a^2 + b^2 + 1 / alpha)``, ``a = E[y u]``, ``b = E[y w]`` over the kept
    law, and ``norm^2 = |J|^2 / N = alpha^2 (a^2 + b^2) + alpha``. With sample weights ``v``,
    ``J = sum_mu v_mu y_mu x_mu / sqrt(N)`` (the ``lam -> infinity`` limit of weighted ridge).
    """

    weighted: ClassVar[bool] = True

    def fit(self, X, y, *, sample_weight=None) -> Fit:
        """Hebb's ``J`` on ``(X, y)`` (the solvers' ``X^T (v y)``, in this convention).

        Parameters
        ----------
        X : array_like, shape (P, N)
            Inputs.
        y : array_like, shape (P,)
            Labels in {-1, +1}.
        sample_weight : array_like, shape (P,), optional
            Weights ``v_mu``, finite and > 0 (``None``: all 1).

        Returns
        -------
        Fit
            ``w = sum_mu v_mu y_mu x_mu / sqrt(N)`` (shape (N,)), ``objective`` NaN,
            ``certificate`` 0, no stats.
        """
        from .._erm_solvers import hebb

        sol = hebb(X, y, sample_weight=sample_weight)
        return Fit(w=sol.w / math.sqrt(np.shape(X)[1]), objective=sol.objective,
                   certificate=sol.certificate, stats={})

    def theory(self, law, alpha_prune) -> TheoryValues:
        """The closed form over the kept law."""
        values, jumps = _saddle_erm.hebb_curve(law, alpha_prune)
        return TheoryValues(values=values, jumps=jumps)
