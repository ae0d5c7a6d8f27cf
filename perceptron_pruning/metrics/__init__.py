"""Pruning metrics: which examples are kept, in simulation and in the theory's kept law.

Every module in this package is imported on first use and registers its metric by name
(:func:`perceptron_pruning.registry.register_metric`); see :class:`Metric` for the interface.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._base import Fields, KeptLaw, Metric, whole_plane

__all__ = ["Fields", "KeptLaw", "Metric", "whole_plane"]

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
