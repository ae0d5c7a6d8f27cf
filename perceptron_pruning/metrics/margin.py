"""The paper's metric: the margin of a probe at angle ``theta`` to the teacher, ranked by its
absolute value ``|J_probe . x|`` (``score="abs"``) or by its signed value ``y J_probe . x``
(``score="signed"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri, owens_t

from .._validation import check_f, check_keep, check_theta
from ..data import probe_cos_sin
from ..noise import CLEAN
from ..registry import register_metric
from ._base import KeptLaw, Metric, whole_plane

__all__ = ["SCORES", "ProbeMargin", "kept_threshold"]

SCORES = ("abs", "signed")


def _check_score(score) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}; got {score!r}")
    return score


def _half_mass_below(tau, c, s):
    """``P(u >= 0, t < tau)`` for ``t = c u + s w``, ``u, w`` independent standard normals.

    Owen's T gives the bivariate normal probability in closed form,
    ``P(u < 0, t < tau) = Phi(tau) / 2 + T(tau, c / s)``, so this is
    ``Phi(tau) / 2 - T(tau, c / s)`` (``s > 0``); accurate to about 1e-16 absolute.
    """
    if s == 0.0:  # the perfect probe: t = u
        return max(float(ndtr(tau)) - 0.5, 0.0)
    return max(0.5 * float(ndtr(tau)) - float(owens_t(tau, c / s)), 0.0)


def _half_mass_above(tau, c, s):
    """``P(u >= 0, t > tau)``: ``1/2 - P(u >= 0, t < tau)`` without the cancellation."""
    if s == 0.0:
        return float(ndtr(-max(tau, 0.0)))
    return max(0.5 * float(ndtr(-tau)) + float(owens_t(tau, c / s)), 0.0)


def _signed_mass(tau, keep, c, s, noise):
    """Kept fraction of the signed score at threshold ``tau`` with label noise."""
    if noise.teacher_noise == 0.0:
        # Correct labels (prob 1 - eta) are kept where t < tau (hard), mislabelled ones where
        # -t < tau; on u >= 0, doubled by the symmetry.
        if keep == "hard":
            return 2.0 * ((1.0 - noise.flip) * _half_mass_below(tau, c, s)
                          + noise.flip * _half_mass_above(-tau, c, s))
        return 2.0 * ((1.0 - noise.flip) * _half_mass_above(tau, c, s)
                      + noise.flip * _half_mass_below(-tau, c, s))
    from .._law_nodes import law_nodes

    return law_nodes(_signed_law(tau, keep, c, s, noise, 1.0, False)).mass


def _signed_law(tau, keep, c, s, noise, f, symmetric):
    half = (0.0, 1.0, 0.0)
    sign = -1.0 if keep == "hard" else 1.0  # hard: tau - y t >= 0; easy: y t - tau >= 0
    regions = [[half, (-sign * tau, sign * c, sign * s)]]
    labels = [1]
    if not noise.clean:  # mislabelled examples on u >= 0 have y = -1: y t = -t
        regions.append([half, (-sign * tau, -sign * c, -sign * s)])
        labels.append(-1)
    return KeptLaw.from_regions(regions, weight=2.0 / f, symmetric=symmetric, labels=labels,
                                noise=noise)


def kept_threshold(f, keep, *, score="abs", theta=0.0, noise=CLEAN):
    """Probe-field threshold of the kept region.

    ``score="abs"``: keep hard keeps ``|t| < gamma`` with ``f = 1 - 2 H(gamma)``; keep easy keeps
    ``|t| > gamma`` with ``f = 2 H(gamma)`` (independent of ``theta``). Returns ``inf`` (hard) or
    ``0`` (easy) at ``f = 1``.

    ``score="signed"``: keep hard keeps ``y t < tau`` with ``2 P(u >= 0, t < tau) = f``; keep easy
    keeps ``y t > tau`` with ``2 P(u >= 0, t > tau) = f``, where ``t = cos(theta) u + sin(theta) w``
    (a bivariate normal probability with correlation ``cos(theta)``, from Owen's T; ``tau`` is
    solved to about 1e-15). At ``theta = 0``, ``y t = |u|`` and ``tau`` is the ``abs`` threshold.
    Returns ``inf`` (hard) or ``-inf`` (easy) at ``f = 1`` for ``theta > 0``. With label noise
    the mislabelled examples have ``y t = -sign(u) t``, and the kept fraction counts them:
    closed form with flips alone, the kept law's quadrature with teacher noise.

    Both return NaN for keep random.

    Parameters
    ----------
    f : float
        Kept fraction, in (0, 1].
    keep : {"hard", "easy", "random"}
        Pruning rule.
    score : {"abs", "signed"}, default "abs"
        Ranking score, as in :class:`ProbeMargin`.
    theta : float, default 0
        Probe angle to the teacher in degrees, in [0, 90] (used by ``score="signed"`` only).
    noise : LabelNoise, default clean
        Label noise (used by ``score="signed"`` only).

    Returns
    -------
    float
    """
    f = check_f(f)
    keep = check_keep(keep)
    score = _check_score(score)
    theta = check_theta(theta)
    if keep == "random":
        return math.nan
    if score == "abs" or (theta == 0.0 and noise.clean):
        if keep == "hard":
            return math.inf if f == 1.0 else float(ndtri(0.5 + 0.5 * f))
        return float(-ndtri(0.5 * f))
    if f == 1.0:
        return math.inf if keep == "hard" else -math.inf
    c, s = probe_cos_sin(theta)
    if noise.clean:
        mass = _half_mass_below if keep == "hard" else _half_mass_above
        return float(brentq(lambda tau: mass(tau, c, s) - 0.5 * f, -40.0, 40.0,
                            xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))
    xtol = 1e-15 if noise.teacher_noise == 0.0 else 1e-12
    return float(brentq(lambda tau: _signed_mass(tau, keep, c, s, noise) - f, -12.0, 12.0,
                        xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200))


@register_metric("margin")
@dataclass(frozen=True)
class ProbeMargin(Metric):
    """Rank examples by the probe field ``t = J_probe . x``: keep hard keeps the smallest
    scores, keep easy the largest, keep random a uniform subset.

    Parameters
    ----------
    score : {"abs", "signed"}, default "abs"
        ``"abs"`` (the paper's) ranks by the margin ``|t|``; ``"signed"`` ranks by ``y t``, so
        keep hard takes the probe's misclassified examples first. With the perfect probe
        (``theta = 0``) and clean labels ``y t = |u|``: both scores keep the same examples.
    """

    score: str = "abs"

    def __post_init__(self):
        _check_score(self.score)

    def key(self, fields, *, keep, rng):
        """``|t|`` or ``y t`` (hard), its negative (easy), or a uniform random key (random)."""
        if keep == "random":
            return rng.random(fields.t.size)
        s = np.abs(fields.t) if self.score == "abs" else fields.y * fields.t
        return s if keep == "hard" else -s

    def kept_law(self, *, f, keep, theta, noise=CLEAN) -> KeptLaw:
        """``abs``: a band ``|t| < gamma`` (hard) or its complement (easy) in the ``(u, w)``
        plane, whatever the labels. ``signed``: on ``u >= 0``, the correctly labelled examples
        (``y = +1``) where ``t < tau`` (hard) or ``t > tau`` (easy), and with label noise the
        mislabelled ones (``y = -1``) where ``-t < tau`` or ``-t > tau``.
        """
        if keep == "random" or f == 1.0:
            return whole_plane(noise)
        c, s = probe_cos_sin(theta)
        half = (0.0, 1.0, 0.0)
        if self.score == "signed":
            tau = kept_threshold(f, keep, score="signed", theta=theta, noise=noise)
            # Even in w only with the perfect probe, where y t = +-|u| (at 90 deg it is y w).
            return _signed_law(tau, keep, c, s, noise, f, theta == 0.0)
        g = kept_threshold(f, keep)
        if keep == "hard":
            regions = [[half, (g, -c, -s), (g, c, s)]]
        else:
            regions = [[half, (-g, c, s)], [half, (-g, -c, -s)]]
        # With the perfect metric, or a probe orthogonal to the teacher, the band is even in w.
        return KeptLaw.from_regions(regions, weight=2.0 / f, symmetric=theta in (0.0, 90.0),
                                    noise=noise)
