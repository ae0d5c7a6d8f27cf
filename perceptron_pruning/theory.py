"""Theory of learning on pruned data at ``N -> infinity``, for any learner and pruning metric.

The engine validates the point, asks the metric for its kept law in the teacher/probe plane
(:meth:`~perceptron_pruning.metrics.Metric.kept_law`) and the learner for its prediction on that
law (:meth:`~perceptron_pruning.learners.Learner.theory`). For the max-margin student that is the
saddle point of theory.md, solved in :mod:`perceptron_pruning._saddle_maxmargin`: Newton from
continuation, then a global check of every point on a scan of directions (a numerical check, not
a proof of optimality like the simulator's duality gap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._saddle_maxmargin import TheoryError
from ._validation import check_keep, check_real, check_theta, renamed_theta
from .data import probe_cos_sin
from .metrics.margin import kept_threshold
from .noise import LabelNoise
from .registry import get_learner, get_metric
from .results import Quantities

__all__ = ["ALPHA_MAX", "ALPHA_MIN", "F_MIN", "TheoryCurve", "TheoryError", "TheoryPoint",
           "capacity", "curve", "kept_threshold", "solve"]

ALPHA_MIN, ALPHA_MAX = 1e-3, 1e4
F_MIN = 1e-3


@dataclass(frozen=True)
class TheoryPoint(Quantities):
    """Theory at one point.

    Attributes
    ----------
    alpha_prune, alpha_tot, f : float
        Examples seen per dimension, examples drawn per dimension (``alpha_prune / f``), kept
        fraction.
    keep : str
        ``"hard"``, ``"easy"`` or ``"random"``.
    theta : float
        Probe angle in degrees.
    learner, metric : str
        The names of the plug-ins that produced the point.
    options : dict
        Their hyper-parameters and the label model (``flip``, ``teacher_noise``, ``link``,
        ``link_scale``, ``truth_cos``, ``probe_truth_cos``): JSON keys of :meth:`to_dict`.
    values : dict of str to float
        The learner's quantities, also readable as attributes (``point.eps``). Every learner gives
        ``R`` (overlap with the ground truth: the teacher unless ``truth_cos < 1``), ``rho``
        (overlap with the probe's direction orthogonal to the teacher), ``norm`` (``|J| /
        sqrt(N)`` in the learner's convention), ``eps = arccos(R) / pi`` (error against the
        ground truth's rule), ``eps_noisy`` (test error on fresh labels from the channel),
        ``frac_mislabelled_kept``, ``residual`` (largest absolute residual of its
        equations) and ``p_agree`` (fraction of drawn examples labelled with the sign of the
        probe field). Max-margin adds ``kappa`` (margin) and ``alpha_support`` (support vectors per
        dimension, ``alpha_prune <Phi(a)>``).
    """

    alpha_prune: float
    alpha_tot: float
    f: float
    keep: str
    theta: float
    learner: str
    metric: str
    options: dict
    values: dict

    def to_dict(self) -> dict:
        """The CLI's ``--json`` keys: the point's parameters and every quantity (``lam`` is None
        for a learner without one).
        """
        return {"alpha_prune": self.alpha_prune, "alpha_tot": self.alpha_tot, "f": self.f,
                "keep": self.keep, "theta": self.theta, "learner": self.learner,
                "metric": self.metric, "lam": None, **self.options, **self.values}


@dataclass(frozen=True)
class TheoryCurve(Quantities):
    """Theory along a grid of ``alpha_prune`` (arrays of shape ``(K,)``, the grid's order kept).

    Attributes are those of :class:`TheoryPoint`, with ``alpha_prune``, ``alpha_tot`` and every
    quantity in ``values`` as arrays. ``jumps`` lists grid indices ``i`` where the root continued
    from the previous point (or from an intermediate point on the way to ``i``) was rejected
    (spurious, or Newton failed) and the problem was solved afresh: a true first-order
    transition, where the minimiser moves to another basin, shows up here.
    """

    f: float
    keep: str
    theta: float
    learner: str
    metric: str
    options: dict
    alpha_prune: np.ndarray
    alpha_tot: np.ndarray
    values: dict
    jumps: tuple = field(default=())

    def points(self) -> list[TheoryPoint]:
        """The curve as a list of :class:`TheoryPoint`."""
        return [TheoryPoint(float(self.alpha_prune[i]), float(self.alpha_tot[i]), self.f,
                            self.keep, self.theta, self.learner, self.metric, self.options,
                            {k: float(v[i]) for k, v in self.values.items()})
                for i in range(self.alpha_prune.size)]


def _check_common(f, keep, theta):
    f = check_real("f", f, low=F_MIN, high=1.0)
    keep = check_keep(keep)
    theta = check_theta(theta)
    return f, keep, theta


def _alpha_grid(alpha_prune, alpha_tot, f):
    # f: the fraction of drawn examples kept (the kept fraction times a filter's eligible one)
    if (alpha_prune is None) == (alpha_tot is None):
        raise ValueError("give exactly one of alpha_prune and alpha_tot")
    name = "alpha_prune" if alpha_tot is None else "alpha_tot"
    vals = np.atleast_1d(np.asarray(alpha_prune if alpha_tot is None else alpha_tot, dtype=float))
    if vals.ndim != 1 or vals.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D grid")
    ap = vals if alpha_tot is None else vals * f
    for v, a in zip(vals, ap):
        if not (math.isfinite(v) and ALPHA_MIN <= a <= ALPHA_MAX):
            lo, hi = (ALPHA_MIN, ALPHA_MAX) if alpha_tot is None else (ALPHA_MIN / f, ALPHA_MAX / f)
            extra = "" if alpha_tot is None else (
                f" (alpha_prune = {f:.4g} * alpha_tot in [{ALPHA_MIN:g}, {ALPHA_MAX:g}])")
            raise ValueError(f"{name} must be in [{lo:g}, {hi:g}]{extra}, got {float(v)!r}")
    return ap


@renamed_theta
def curve(alpha_prune=None, *, alpha_tot=None, f=1.0, keep="hard", theta=0.0,
          learner="max-margin", metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
          link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """Theory along a grid of ``alpha_prune`` (or ``alpha_tot``).

    Parameters
    ----------
    alpha_prune : array_like, shape (K,)
        Examples seen per dimension, each in [1e-3, 1e4]. Any order; the max-margin solver
        continues along the sorted grid and checks every point globally.
    alpha_tot : array_like, shape (K,), optional
        Examples drawn per dimension, instead of ``alpha_prune`` (``alpha_prune = f alpha_tot``,
        or ``f p_agree alpha_tot`` with a label-aware metric).
    f : float, default 1
        Kept fraction, in [1e-3, 1].
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta : float, default 0
        Probe angle to the teacher, degrees in [0, 90]. A metric with a learned probe
        (``probe_alpha``) sets it: leave it at 0, and the curve's ``theta`` is the predicted
        angle ``arccos R_probe(probe_alpha)``.
    learner : str or Learner, default "max-margin"
        A registered learner name (:func:`~perceptron_pruning.registry.learner_names`) or
        instance.
    metric : str or Metric, default "margin"
        A registered metric name or instance.
    flip : float, default 0
        Label flip probability ``eta`` in [0, 0.5).
    teacher_noise : float, default 0
        Teacher-field noise ``sigma >= 0`` (``y = sign(u + sigma xi)``, then the flips).
    link : {"sign", "logistic", "misspec2"} or PiecewiseLink, default "sign"
        Label channel ``P(y = 1 | u)`` on the generator's (teacher's) field, before the flips
        (:class:`~perceptron_pruning.noise.LabelNoise`). The theory uses its symmetrisation
        ``qbar(u) = (q(u) + 1 - q(-u)) / 2``, which gives the same law of ``y x``: exact for an
        asymmetric channel too.
    link_scale : float, optional
        Slope ``S`` in (0, 1e8] of the logistic link (required with it, refused otherwise).
    truth_cos : float, default 1
        Cosine in [-1, 1] between the ground truth ``T*`` and the generator (Dohmatob et al.
        2025). ``R`` and ``eps`` are then measured against ``T*``:
        ``R_truth = truth_cos R + b rho`` from the learner's generator overlap ``R`` and
        ``rho`` (as ``N -> infinity`` the student's part outside the generator/probe plane is
        isotropic, so ``T*``'s third component ``c3`` contributes nothing); ``eps_noisy`` stays
        the error on the generator's labels.
    probe_truth_cos : float, optional
        Cosine in [-1, 1] between the probe and ``T*``; default ``cos(theta) truth_cos``
        (``b = 0``). Valid within ``cos(theta +- arccos(truth_cos))``.

    Returns
    -------
    TheoryCurve

    Raises
    ------
    ValueError
        A parameter out of range (named in the message).
    TheoryError
        The learner cannot answer at a point: for max-margin with label noise, ``alpha_prune``
        beyond the capacity where the kept data stop being separable (:func:`capacity`).
    """
    f, keep, theta, learner, metric, noise = _resolve(
        f, keep, theta, learner, metric, flip, teacher_noise, link=link, link_scale=link_scale,
        truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    kept = f * metric.eligible_fraction(theta=theta, noise=noise)
    ap = _alpha_grid(alpha_prune, alpha_tot, kept)
    law = metric.kept_law(f=f, keep=keep, theta=theta, noise=noise)
    out = learner.theory(law, ap)
    values = _to_truth({k: np.asarray(v, dtype=float) for k, v in out.values.items()}, noise,
                       theta)
    values["p_agree"] = np.full(ap.size, noise.p_agree(probe_cos_sin(theta)[0]))
    return TheoryCurve(f=f, keep=keep, theta=theta, learner=learner.name, metric=metric.name,
                       options={**learner.options(), **metric.options(), **noise.options()},
                       alpha_prune=ap, alpha_tot=ap / kept, values=values,
                       jumps=tuple(out.jumps))


def _resolve(f, keep, theta, learner, metric, flip, teacher_noise, *, link="sign",
             link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """Validate a point; a learned probe's angle is the one its learner's theory predicts."""
    f, keep, theta = _check_common(f, keep, theta)
    learner, metric = get_learner(learner), get_metric(metric)
    metric.check_pairing(keep=keep, learner=learner)
    noise = LabelNoise(flip=flip, teacher_noise=teacher_noise, link=link, link_scale=link_scale,
                       truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    theta = _probe_theta(metric, theta, noise)
    _check_truth(noise, theta, metric)
    return f, keep, theta, learner, metric, noise


def _check_truth(noise, theta, metric):
    """Validate the ground truth's cosines at the probe's angle (a ``ValueError`` naming them)."""
    if noise.standard_truth and noise.probe_truth_cos is None:
        return
    if noise.probe_truth_cos is not None and getattr(metric, "probe_alpha", None) is not None:
        raise ValueError("probe_truth_cos needs a fixed probe: a learned probe's angle is an "
                         "outcome; leave probe_truth_cos at None (cos(theta) truth_cos)")
    noise.truth_geometry(theta)


def _to_truth(values, noise, theta):
    """The learner's overlaps with the generator turned into ``R`` and ``eps`` against the
    ground truth ``T* = (a, b, c3)`` in the basis (generator, probe's orthogonal direction, bulk):
    ``R_truth = a R + b rho``, the bulk part of the student being isotropic as ``N -> infinity``.
    """
    if noise.standard_truth:
        return values
    a, b, _ = noise.truth_geometry(theta)
    R = np.clip(a * values["R"] + b * values["rho"], -1.0, 1.0)
    return {**values, "R": R, "eps": np.arccos(R) / np.pi}


def _probe_theta(metric, theta, noise):
    """The probe's angle at a point the metric accepts: ``theta``, or a learned probe's
    predicted angle.
    """
    metric.check_point(theta=theta, noise=noise)
    learned = metric.probe_theta(noise)
    return theta if learned is None else learned


@renamed_theta
def solve(alpha_prune=None, *, alpha_tot=None, f=1.0, keep="hard", theta=0.0,
          learner="max-margin", metric="margin", flip=0.0, teacher_noise=0.0, link="sign",
          link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """Theory at one point.

    Parameters
    ----------
    alpha_prune : float
        Examples seen per dimension, in [1e-3, 1e4].
    alpha_tot : float, optional
        Examples drawn per dimension, instead of ``alpha_prune``.
    f, keep, theta, learner, metric, flip, teacher_noise, link, link_scale, truth_cos
    probe_truth_cos
        As in :func:`curve`.

    Returns
    -------
    TheoryPoint
    """
    for name, v in (("alpha_prune", alpha_prune), ("alpha_tot", alpha_tot)):
        if v is not None and np.ndim(v) != 0:
            raise ValueError(f"{name} must be a single number for solve(); use curve() for grids")
    c = curve(alpha_prune, alpha_tot=alpha_tot, f=f, keep=keep, theta=theta, learner=learner,
              metric=metric, flip=flip, teacher_noise=teacher_noise, link=link,
              link_scale=link_scale, truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    return c.points()[0]


@renamed_theta
def capacity(*, f=1.0, keep="hard", theta=0.0, metric="margin", flip=0.0, teacher_noise=0.0,
             link="sign", link_scale=None, truth_cos=1.0, probe_truth_cos=None):
    """Largest ``alpha_prune`` at which the kept examples are linearly separable (``N -> inf``).

    With clean labels the teacher separates every kept set: ``inf``. With label noise it is
    Gardner's zero-margin capacity of the kept law,
    ``max over directions (m, rho, s) of s^2 / E[(-(m y u + rho y w + s g))_+^2]``; the
    max-margin student exists only below it.

    Parameters
    ----------
    f, keep, theta, metric, flip, teacher_noise, link, link_scale, truth_cos, probe_truth_cos
        As in :func:`curve` (the ground truth does not change separability).

    Returns
    -------
    float
        The capacity in examples kept per dimension.
    """
    from ._saddle_erm import capacity as _capacity

    f, keep, theta, _, metric, noise = _resolve(
        f, keep, theta, "hebb", metric, flip, teacher_noise, link=link, link_scale=link_scale,
        truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    return _capacity(metric.kept_law(f=f, keep=keep, theta=theta, noise=noise))
