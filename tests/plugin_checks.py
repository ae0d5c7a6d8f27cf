"""Independent checks of a kept law: brute-force moments on a fine grid (no theory kernels);
and a plain demo metric without options, for tests of what takes (or refuses) metric options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perceptron_pruning.metrics import Metric, whole_plane
from perceptron_pruning.noise import CLEAN
from perceptron_pruning.registry import register_metric

PLAIN_METRIC = "plain-demo"


@register_metric(PLAIN_METRIC)
@dataclass(frozen=True)
class PlainMetric(Metric):
    """A metric without options: uniform random keys, the law of random pruning."""

    def key(self, fields, *, keep, rng):
        return rng.random(fields.t.size)

    def kept_law(self, *, f, keep, theta, noise=CLEAN):
        return whole_plane(noise)

_H = 0.004
_G = np.arange(-8.0 + _H / 2, 8.0, _H)


def law_moments(law):
    """Mass, ``E[y u]`` and ``E[y w]`` of a kept law by the midpoint rule on [-8, 8]^2.

    Cells cut by a region's edge count with the fraction of the cell inside (from the signed
    distance to the edge), so the rule is accurate to about 1e-4. The law lives on ``u >= 0``
    with ``y = +1``; the mirror half adds the same, which ``law.weight`` already counts. A
    law's window (soft selection) multiplies each cell by its keep probability.
    """
    u = _G[_G > 0][:, None]
    w = _G[None, :]
    dens = law.weight * np.exp(-(u * u + w * w) / 2) / (2 * np.pi) * _H * _H
    kept = np.zeros(np.broadcast(u, w).shape)
    for k in range(law.ncon.size):
        inside = np.ones_like(kept)
        for i in range(law.ncon[k]):
            a, b, c = law.c0[k, i], law.cu[k, i], law.cw[k, i]
            d = (a + b * u + c * w) / math.hypot(b, c)
            inside *= np.clip(0.5 + d / _H, 0.0, 1.0)
        kept += inside  # the regions are disjoint
    if law.window is not None:  # a soft selection: each cell kept with its probability
        kept = kept * law.window.prob(np.broadcast_to(u, kept.shape),
                                      np.broadcast_to(w, kept.shape))
    m = dens * kept
    return float(m.sum()), float((m * u).sum()), float((m * w).sum())
