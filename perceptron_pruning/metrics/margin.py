"""The paper's metric: the margin ``|J_probe . x|`` of a probe at angle ``theta`` to the teacher."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from .._validation import check_f, check_keep
from ..registry import register_metric
from ._base import KeptLaw, Metric, whole_plane

__all__ = ["ProbeMargin", "kept_threshold"]


def kept_threshold(f, keep):
    """Probe-margin threshold ``gamma`` of the kept region.

    Keep hard keeps ``|t| < gamma`` with ``f = 1 - 2 H(gamma)``; keep easy keeps ``|t| > gamma``
    with ``f = 2 H(gamma)``. Returns ``inf`` (hard) or ``0`` (easy) at ``f = 1``, NaN for random.
    """
    f = check_f(f)
    keep = check_keep(keep)
    if keep == "random":
        return math.nan
    if keep == "hard":
        return math.inf if f == 1.0 else float(ndtri(0.5 + 0.5 * f))
    return float(-ndtri(0.5 * f))


@register_metric("margin")
@dataclass(frozen=True)
class ProbeMargin(Metric):
    """Rank examples by the probe margin ``|t|``: keep hard keeps the smallest, keep easy the
    largest, keep random a uniform subset.
    """

    def key(self, fields, *, keep, rng):
        """``|t|`` (hard), ``-|t|`` (easy) or a uniform random key (random)."""
        if keep == "hard":
            return np.abs(fields.t)
        if keep == "easy":
            return -np.abs(fields.t)
        return rng.random(fields.t.size)

    def kept_law(self, *, f, keep, theta) -> KeptLaw:
        """A band ``|t| < gamma`` (hard) or its complement (easy) in the ``(u, w)`` plane."""
        if keep == "random" or f == 1.0:
            return whole_plane()
        th = math.radians(theta)
        c, s = (0.0, 1.0) if theta == 90.0 else (math.cos(th), math.sin(th))
        g = kept_threshold(f, keep)
        half = (0.0, 1.0, 0.0)
        if keep == "hard":
            regions = [[half, (g, -c, -s), (g, c, s)]]
        else:
            regions = [[half, (-g, c, s)], [half, (-g, -c, -s)]]
        # With the perfect metric, or a probe orthogonal to the teacher, the band is even in w.
        return KeptLaw.from_regions(regions, weight=2.0 / f, symmetric=theta in (0.0, 90.0))
