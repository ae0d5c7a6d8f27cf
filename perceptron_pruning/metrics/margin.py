"""The paper's metric and its variants as users meet them: the margin of a probe at angle
``theta`` to the teacher, ranked by its absolute value ``|J_probe . x|`` (``score="abs"``) or by
its signed value ``y J_probe . x`` (``score="signed"``), optionally with score noise, a label-aware
filter, and a probe learned from examples of its own (theory-erm.md, "Pruning metrics").
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri, owens_t

from .._validation import check_f, check_keep, check_real, check_theta
from ..data import probe_cos_sin
from ..noise import CLEAN
from ..registry import get_learner, learner_names, register_metric
from ._base import KeptLaw, Metric, Window, keep_probability, t_strip, whole_plane

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


def _closed_form_labels(noise) -> bool:
    """``p_correct`` is the constant ``1 - eta``: the sign link without teacher noise."""
    return noise.link_name == "sign" and noise.teacher_noise == 0.0


def _signed_mass(tau, keep, c, s, noise):
    """Kept fraction of the signed score at threshold ``tau`` with label noise: closed form when
    ``p_correct`` is constant (flips alone), else the kept law's quadrature (any channel).
    """
    if _closed_form_labels(noise):
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
    closed form with flips alone, the kept law's quadrature with teacher noise or any other
    label channel (:class:`~perceptron_pruning.noise.LabelNoise`).

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
    xtol = 1e-15 if _closed_form_labels(noise) else 1e-12
    return float(brentq(lambda tau: _signed_mass(tau, keep, c, s, noise) - f, -12.0, 12.0,
                        xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200))


_Z_CUTS = (-8.0, -6.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
_T_MAX = 10.0  # |t| beyond this carries < 1e-22 of the mass
_GL = leggauss(24)


def _agree_prob(t, c, s, noise):
    """``P(y = sign(t) | t)`` for probe field ``t >= 0``: ``u | t ~ N(c t, s^2)``, so it is the
    channel's ``P(y = 1 | u)`` averaged over that normal (:meth:`LabelNoise.p_plus`; with the
    sign link ``Phi(c |t| / sqrt(s^2 + sigma^2))``, then the flips).
    """
    if noise.link_name == "sign":
        scale = math.hypot(s, noise.teacher_noise)
        b = np.ones_like(t) if scale == 0.0 else ndtr(c * t / scale)
        return (1.0 - noise.flip) * b + noise.flip * (1.0 - b)
    return noise.p_plus(c * np.asarray(t, dtype=np.float64), s)


def _t_cuts(tau, sigma, c, s, noise):
    """Breakpoints in ``t >= 0`` of the one-dimensional mass integrand."""
    cuts = [0.0, _T_MAX]
    zs = (0.0,) if sigma == 0.0 else _Z_CUTS
    cuts += [abs(tau + z * sigma) for z in zs]
    if noise.link_name == "sign":
        scale = math.hypot(s, noise.teacher_noise)
        if c > 0.0 and scale > 0.0:  # the agreement probability turns on the scale scale / c
            cuts += [k * scale / c for k in (0.5, 2.0, 5.0)]
    elif c > 0.0:
        # The agreement probability turns where c t crosses the link's levels (and 0), smoothed
        # over the width s of u | t: at theta = 0 a piecewise link's jumps are cut exactly.
        zs = (0.0,) if s == 0.0 else (-2.0, -0.5, 0.0, 0.5, 2.0)
        cuts += [(lv + z * s) / c for lv in (0.0, *noise.u_levels()) for z in zs]
    return np.unique([x for x in cuts if 0.0 <= x <= _T_MAX])


def _general_mass(tau, *, keep, signed, sigma, label_aware, c, s, noise):
    """Fraction of drawn examples kept at threshold ``tau``, by quadrature over ``t``.

    ``2 int_0^inf phi(t) [a(t) K(t) + (1 - a(t)) K'(t)] dt`` with ``a`` the probability that the
    label agrees with ``sign(t)``: an agreeing example has score ``t`` (abs or signed), a
    disagreeing one ``t`` (abs) or ``-t`` (signed), and none when the metric is label-aware.
    """
    x, wx = _GL
    edges = _t_cuts(tau, sigma, c, s, noise)
    total = 0.0
    for e0, e1 in zip(edges[:-1], edges[1:]):
        t = 0.5 * (e1 - e0) * x + 0.5 * (e0 + e1)
        w = 0.5 * (e1 - e0) * wx * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
        a = _agree_prob(t, c, s, noise)
        val = a * keep_probability(t, tau, sigma, keep)
        if not label_aware:
            val = val + (1.0 - a) * keep_probability(t if not signed else -t, tau, sigma, keep)
        total += float(w @ val)
    return 2.0 * total


def _strip_law(tau, *, keep, signed, sigma, label_aware, c, s, noise, weight, symmetric):
    """Kept law on ``u >= 0`` as strips of the probe field ``t``: a soft window (``sigma > 0``)
    changes only across them, and with a label-aware filter the strips ``t > 0`` hold the
    correctly labelled examples, those with ``t < 0`` the mislabelled ones.
    """
    if sigma > 0.0:
        pts = [tau + z * sigma for z in _Z_CUTS]
        cuts = sorted({x for p in pts for x in (p, -p) if abs(x) < _T_MAX} | {0.0})
        window = Window(c=c, s=s, tau=tau, sigma=sigma, keep=keep, signed=signed)
    else:  # hard thresholds: agreeing examples kept where |t| < tau (hard) or > tau (easy)
        cuts = [-abs(tau), 0.0, abs(tau)] if tau != 0.0 else [0.0]
        window = None
    edges = [-math.inf, *cuts, math.inf]
    regions, labels = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        if sigma == 0.0:
            mid = 0.5 * (max(lo, -_T_MAX) + min(hi, _T_MAX))
            if not (abs(mid) < tau if keep == "hard" else abs(mid) > tau):
                continue
        regions.append(t_strip(lo, hi, c, s))
        labels.append((1 if lo >= 0.0 else -1) if label_aware else 0)
    return KeptLaw.from_regions(regions, weight=weight, symmetric=symmetric, labels=labels,
                                noise=noise, window=window)


@functools.lru_cache(maxsize=256)
def _probe_R(learner, probe_alpha, noise):
    law = whole_plane(noise)
    return float(get_learner(learner).theory(law, np.array([probe_alpha])).values["R"][0])


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
    score_noise : float, default 0
        Standard deviation ``sigma_s >= 0`` of Gaussian noise added to each example's score
        (fresh per example): a noisy metric whose errors are not an angle. The theory's kept law
        gets a soft window, ``Phi((tau - score) / sigma_s)`` for keep hard. ``sigma_s -> inf``
        is random pruning.
    label_aware : bool, default False
        First drop the examples whose label disagrees with ``sign(t)``; ``f`` is then the
        fraction kept of the rest, so ``alpha_prune = f p_agree alpha_tot`` with ``p_agree``
        the fraction that agrees. (On the rest ``y t = |t|``: both scores rank alike.) With
        clean labels and the perfect probe (``theta = 0``) every label agrees and the filter
        changes nothing.
    probe_alpha : float or None, default None
        Learn the probe: train ``probe_learner`` on ``round(probe_alpha N)`` fresh examples of
        the same teacher and label noise, in (0, 1e4]. The probe's angle is then an outcome,
        not a parameter (``theta`` must be left at 0): each trial reports the angle its probe
        achieved, and the theory uses ``cos(theta) = R`` of ``probe_learner``'s own unpruned
        curve at ``probe_alpha``. The labels spent are ``probe_alpha + alpha_tot`` per dimension.
    probe_learner : str, default "max-margin"
        A registered learner name, with its default options; used only with ``probe_alpha``.
        Max-margin needs clean labels (noisy data may not be separable).
    """

    score: str = "abs"
    score_noise: float = 0.0
    label_aware: bool = False
    probe_alpha: float = None
    probe_learner: str = "max-margin"

    def __post_init__(self):
        _check_score(self.score)
        object.__setattr__(self, "score_noise", check_real("score_noise", self.score_noise,
                                                           low=0.0, high=1e12))
        if not isinstance(self.label_aware, (bool, np.bool_)):
            raise ValueError(f"label_aware must be True or False; got {self.label_aware!r}")
        object.__setattr__(self, "label_aware", bool(self.label_aware))
        if self.probe_learner not in learner_names():
            raise ValueError(f"probe_learner must be one of {', '.join(learner_names())}; "
                             f"got {self.probe_learner!r}")
        if self.probe_alpha is None:
            if self.probe_learner != "max-margin":
                raise ValueError("probe_learner needs probe_alpha (the examples per dimension "
                                 "the probe is trained on), in (0, 1e4]")
        else:
            object.__setattr__(self, "probe_alpha", check_real(
                "probe_alpha", self.probe_alpha, low=0.0, high=1e4, low_open=True))

    # -- the probe ---------------------------------------------------------------------------

    def check_point(self, *, theta, noise=CLEAN):
        """Refuse combinations the metric cannot honour (a ``ValueError`` naming them)."""
        if self.probe_alpha is None:
            return
        if theta != 0.0:
            raise ValueError(f"theta must be left at 0 with a learned probe (probe_alpha = "
                             f"{self.probe_alpha:g}): its angle is an outcome; got {theta:g}")
        if self.probe_learner == "max-margin" and not noise.clean:
            raise ValueError("probe_learner 'max-margin' needs clean labels (flip = 0 and "
                             "teacher_noise = 0); with label noise use svm, logistic, ridge "
                             "or hebb")

    def learned_probe(self, n, noise, rng):
        """Train the probe on ``max(1, round(probe_alpha n))`` fresh examples drawn from ``rng``
        (the teacher is the first axis) and return the angle in degrees, in [0, 180], that it
        makes with the teacher (above 90 only for a probe trained on very few examples); None
        for a fixed probe.
        """
        if self.probe_alpha is None:
            return None
        self.check_point(theta=0.0, noise=noise)
        p0 = max(1, int(round(self.probe_alpha * n)))
        X = rng.standard_normal((p0, n))
        y = noise.labels(X[:, 0], rng)
        J = np.asarray(get_learner(self.probe_learner).fit(X, y).w, dtype=float)
        nrm = float(np.linalg.norm(J))
        cos = J[0] / nrm if nrm > 0.0 else 0.0
        return math.degrees(math.acos(min(1.0, max(-1.0, cos))))

    def probe_theta(self, noise=CLEAN):
        """Theory's probe angle in degrees: ``arccos R`` of ``probe_learner`` trained on
        ``probe_alpha`` clean-or-noisy examples per dimension (None for a fixed probe).
        """
        if self.probe_alpha is None:
            return None
        self.check_point(theta=0.0, noise=noise)
        return math.degrees(math.acos(min(1.0, _probe_R(self.probe_learner, self.probe_alpha,
                                                           noise))))

    # -- selection -----------------------------------------------------------------------------

    def key(self, fields, *, keep, rng):
        """``|t|`` or ``y t`` (hard), its negative (easy), or a uniform random key (random);
        plus ``score_noise`` times a fresh normal, and ``+inf`` (filtered out) where a
        label-aware metric sees the label disagree with ``sign(t)``.
        """
        self.check_keep(keep)
        if keep == "random":
            k = rng.random(fields.t.size)
        else:
            s = np.abs(fields.t) if self.score == "abs" else fields.y * fields.t
            if self.score_noise:
                s = s + self.score_noise * rng.standard_normal(fields.t.size)
            k = s if keep == "hard" else -s
        if self.label_aware:
            k = np.where(fields.y * fields.t > 0.0, k, np.inf)
        return k

    def eligible_fraction(self, *, theta, noise=CLEAN) -> float:
        """``p_agree`` (:meth:`LabelNoise.p_agree`) when label-aware, else 1."""
        if not self.label_aware:
            return 1.0
        return noise.p_agree(probe_cos_sin(theta)[0])

    def threshold(self, *, f, keep, theta, noise=CLEAN) -> float:
        """Threshold ``tau`` of the (noisy) score at which the kept fraction is ``f`` (of the
        eligible examples); see :func:`kept_threshold` for the sharp cases.
        """
        if self.score_noise == 0.0 and not self.label_aware:
            return kept_threshold(f, keep, score=self.score, theta=theta, noise=noise)
        f, keep, theta = check_f(f), check_keep(keep), check_theta(theta)
        if keep == "random":
            return math.nan
        c, s = probe_cos_sin(theta)
        target = f * self.eligible_fraction(theta=theta, noise=noise)
        sig = self.score_noise
        kw = dict(keep=keep, signed=self.score == "signed", sigma=sig,
                  label_aware=self.label_aware, c=c, s=s, noise=noise)
        span = _T_MAX + 12.0 * sig
        lo = 0.0 if (sig == 0.0 and (self.label_aware or self.score == "abs")) else -span
        return float(brentq(lambda tau: _general_mass(tau, **kw) - target, lo, span,
                            xtol=1e-13 * max(1.0, sig), rtol=4 * np.finfo(float).eps,
                            maxiter=300))

    def kept_law(self, *, f, keep, theta, noise=CLEAN) -> KeptLaw:
        """``abs``: a band ``|t| < gamma`` (hard) or its complement (easy) in the ``(u, w)``
        plane, whatever the labels. ``signed``: on ``u >= 0``, the correctly labelled examples
        (``y = +1``) where ``t < tau`` (hard) or ``t > tau`` (easy), and with label noise the
        mislabelled ones (``y = -1``) where ``-t < tau`` or ``-t > tau``. Score noise makes the
        edge a soft window; a label-aware filter keeps, on ``u >= 0``, the correctly labelled
        examples with ``t > 0`` and the mislabelled ones with ``t < 0``.
        """
        f, keep, theta = check_f(f), check_keep(keep), check_theta(theta)
        self.check_keep(keep)
        c, s = probe_cos_sin(theta)
        elig = self.eligible_fraction(theta=theta, noise=noise)
        if keep == "random" or f == 1.0:
            if not self.label_aware:
                return whole_plane(noise)
            return KeptLaw.from_regions([[(0.0, 1.0, 0.0), (0.0, c, s)],
                                         [(0.0, 1.0, 0.0), (0.0, -c, -s)]], weight=2.0 / elig,
                                        symmetric=theta == 0.0, labels=[1, -1], noise=noise)
        half = (0.0, 1.0, 0.0)
        if self.score_noise > 0.0 or self.label_aware:
            tau = self.threshold(f=f, keep=keep, theta=theta, noise=noise)
            symmetric = theta == 0.0 or (theta == 90.0 and not self.label_aware
                                         and self.score == "abs")
            return _strip_law(tau, keep=keep, signed=self.score == "signed",
                              sigma=self.score_noise, label_aware=self.label_aware, c=c, s=s,
                              noise=noise, weight=2.0 / (f * elig), symmetric=symmetric)
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
