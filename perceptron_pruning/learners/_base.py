"""The learner interface: train on ``(X, y)`` with a certificate, and supply the theory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..registry import Plugin

__all__ = ["Fit", "Learner", "TheoryValues"]


@dataclass(frozen=True)
class Fit:
    """A trained student.

    Attributes
    ----------
    w : ndarray, shape (N,)
        The student's weights (the learner's own normalisation; only the direction is measured).
    objective : float
        The training objective at ``w`` (for max-margin: the margin ``kappa``).
    certificate : float
        How far from optimal ``w`` may be: a duality gap or a gradient norm (learner-defined,
        documented by each learner).
    stats : dict of str to float or int
        Learner-specific per-trial quantities (for max-margin ``kappa`` and ``n_support``); they
        become columns of the sweep CSV and get means and standard errors in
        :class:`~perceptron_pruning.results.SimulationResult`.
    """

    w: np.ndarray
    objective: float
    certificate: float
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TheoryValues:
    """What a learner's theory returns along a grid of ``alpha_prune``.

    Attributes
    ----------
    values : dict of str to ndarray, shape (K,)
        Must hold ``R``, ``rho``, ``eps`` and ``residual`` (largest absolute residual of the
        learner's equations); may hold more (max-margin: ``kappa``, ``alpha_support``).
    jumps : tuple of int
        Grid indices before which the solution jumped to another branch (first-order
        transitions); empty for closed forms.
    """

    values: dict
    jumps: tuple = ()


class Learner(Plugin):
    """Base class of learners. Subclasses are frozen dataclasses whose fields are the learner's
    hyper-parameters, registered with :func:`~perceptron_pruning.registry.register_learner`.

    A subclass implements

    - ``fit(X, y) -> Fit``: the exact minimiser on inputs ``X`` (shape ``(P, N)``) and labels ``y``
      in {-1, +1}, with a certificate; it raises ``ValueError`` when there is no answer (e.g. the
      data are not separable for max-margin). A learner that supports importance reweighting
      also takes ``sample_weight=`` (shape ``(P,)``, positive: each example's loss is multiplied
      by its weight) and sets the class attribute ``weighted = True``; the engine passes
      ``sample_weight`` only to such learners, and only when a metric reweights;
    - ``theory(law, alpha_prune) -> TheoryValues``: the ``N -> infinity`` prediction on the kept
      law ``law`` (a :class:`~perceptron_pruning.metrics.KeptLaw`) at each ``alpha_prune``
      (ndarray, shape ``(K,)``, any order; the result keeps that order).

    The simulation's default sampling path writes the inputs in a basis where the teacher is the
    first axis, so ``fit`` must be rotation-equivariant (``fit(X Q, y).w = Q^T fit(X, y).w`` for
    any rotation ``Q``), as every isotropically regularised loss is.
    """

    name: ClassVar[str] = ""
    weighted: ClassVar[bool] = False

    def fit(self, X, y) -> Fit:  # pragma: no cover - interface
        """Train on ``(X, y)``; see the class docstring."""
        raise NotImplementedError

    def theory(self, law, alpha_prune) -> TheoryValues:  # pragma: no cover - interface
        """Replica / Gordon prediction along ``alpha_prune``; see the class docstring."""
        raise NotImplementedError(f"learner {self.name!r} has no theory")
