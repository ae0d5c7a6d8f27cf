"""Learners: how a student is trained on the kept examples, in simulation and in theory.

Every module in this package is imported on first use and registers its learner by name
(:func:`perceptron_pruning.registry.register_learner`); see :class:`Learner` for the interface.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._base import Fit, Learner, TheoryValues

__all__ = ["Fit", "Learner", "TheoryValues"]

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
