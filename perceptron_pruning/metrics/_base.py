"""The metric interface: select examples from their low-dimensional fields; give the kept law."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import ndtr

from ..noise import CLEAN, LabelNoise
from ..registry import Plugin

__all__ = ["Fields", "KeptLaw", "Metric", "Window", "keep_probability", "t_strip", "whole_plane"]


@dataclass(frozen=True)
class Fields:
    """What a selection rule may look at: each example's fields, arrays of shape ``(P_tot,)``.

    Attributes
    ----------
    u : ndarray
        Teacher field ``T . x``.
    w : ndarray
        Field along the unit vector of the probe orthogonal to the teacher.
    t : ndarray
        Probe field ``J_probe . x`` (``cos(theta) u + sin(theta) w`` up to round-off).
    y : ndarray
        Labels in {-1, +1}.
    """

    u: np.ndarray
    w: np.ndarray
    t: np.ndarray
    y: np.ndarray


def keep_probability(q, tau, sigma, keep):
    """Probability that an example of score ``q`` is kept at threshold ``tau`` when the score
    carries Gaussian noise of standard deviation ``sigma``: ``Phi((tau - q) / sigma)`` (keep
    hard) or ``Phi((q - tau) / sigma)`` (keep easy), a step at ``tau`` when ``sigma = 0``.
    """
    if sigma == 0.0:
        return (q < tau if keep == "hard" else q > tau).astype(float)
    z = (tau - q) / sigma
    return ndtr(z if keep == "hard" else -z)


@dataclass(frozen=True)
class Window:
    """A soft selection: the probability that an example of score ``q`` is kept.

    A metric that ranks by a noisy score ``q + sigma zeta`` (``zeta ~ N(0, 1)`` fresh per
    example) keeps, as ``N -> infinity``, an example of score ``q`` with probability
    ``Phi((tau - q) / sigma)`` (keep hard) or ``Phi((q - tau) / sigma)`` (keep easy). The score is
    the probe field of the example with its label, ``y t = c y u + s y w``, or its absolute value.

    Attributes
    ----------
    c, s : float
        ``cos`` and ``sin`` of the probe angle.
    tau : float
        Threshold of the noisy score.
    sigma : float
        Standard deviation of the score noise, ``> 0``.
    keep : {"hard", "easy"}
        Which side is kept.
    signed : bool
        The score is ``y t`` (else ``|t|``).
    """

    c: float
    s: float
    tau: float
    sigma: float
    keep: str
    signed: bool

    def prob(self, yu, yw):
        """Keep probability of examples with label-times-fields ``(yu, yw)``, arrays ``(M,)``."""
        q = self.c * np.asarray(yu) + self.s * np.asarray(yw)
        return keep_probability(q if self.signed else np.abs(q), self.tau, self.sigma, self.keep)


@dataclass(frozen=True)
class KeptLaw:
    """Kept law of the teacher-plane fields ``(u, w)``, in the form the theory kernels integrate.

    By the symmetry ``(u, w, y) -> (-u, -w, -y)`` only the half-plane ``u >= 0`` is described.
    The kept density there is ``weight * phi(u) phi(w) * P(label | u)`` on the union of disjoint
    regions; region ``k`` is the intersection of ``ncon[k]`` half-planes
    ``c0[k, i] + cu[k, i] u + cw[k, i] w >= 0`` and holds the examples whose label is
    ``labels[k]``: ``+1`` those labelled ``sign(u)`` (probability ``noise.p_correct(u)``), ``-1``
    the mislabelled ones (probability ``1 - noise.p_correct(u)``), ``0`` both (probability 1: the
    selection does not look at the label). With clean labels, regions of label ``-1`` are empty.

    Attributes
    ----------
    c0, cu, cw : ndarray, shape (K, 3)
        Half-plane coefficients (unused rows are ignored).
    ncon : ndarray of int64, shape (K,)
        Number of half-planes of each region (1 to 3).
    weight : float
        Density normalisation: 2 for the whole plane, ``2 / f`` for a kept fraction ``f``.
    symmetric : bool
        The law is even in ``w``, so the student's ``rho`` is 0 and the theory is planar.
    labels : ndarray of int64, shape (K,)
        Which labels each region holds (see above); all 0 by default.
    noise : LabelNoise
        The label noise of the examples (clean by default).
    window : Window or None
        A soft selection multiplying the density (None: the regions are kept whole). The
        regions are then cut where the window changes, so a quadrature resolves it.
    """

    c0: np.ndarray
    cu: np.ndarray
    cw: np.ndarray
    ncon: np.ndarray
    weight: float
    symmetric: bool
    labels: np.ndarray = None
    noise: LabelNoise = CLEAN
    window: Window = None

    def __post_init__(self):
        if self.labels is None:
            object.__setattr__(self, "labels", np.zeros(self.ncon.size, dtype=np.int64))

    @classmethod
    def from_regions(cls, regions, *, weight, symmetric, labels=None, noise=CLEAN, window=None):
        """Build from a list of regions, each a list of ``(c0, cu, cw)`` half-planes
        (``labels``: one of 0, +1, -1 per region, default all 0; ``window``: see the class).
        """
        k = len(regions)
        c = np.zeros((3, k, 3))
        for i, reg in enumerate(regions):
            if not 1 <= len(reg) <= 3:
                raise ValueError(f"each region needs 1 to 3 half-planes, got {len(reg)}")
            for j, hp in enumerate(reg):
                c[:, i, j] = hp
        lab = np.zeros(k, dtype=np.int64) if labels is None else np.asarray(labels, np.int64)
        if lab.shape != (k,) or not np.all(np.isin(lab, (-1, 0, 1))):
            raise ValueError("labels must hold one of -1, 0, +1 per region")
        return cls(c0=c[0], cu=c[1], cw=c[2],
                   ncon=np.array([len(r) for r in regions], dtype=np.int64),
                   weight=float(weight), symmetric=bool(symmetric), labels=lab, noise=noise,
                   window=window)

    def correctly_labelled(self) -> KeptLaw:
        """The regions that can hold examples labelled ``sign(u)`` (label 0 or +1), as regions
        of label 0: with clean labels this is the whole law, in the form the max-margin kernels
        of theory.md integrate.
        """
        keep = self.labels >= 0
        return KeptLaw(c0=self.c0[keep], cu=self.cu[keep], cw=self.cw[keep],
                       ncon=self.ncon[keep], weight=self.weight, symmetric=self.symmetric,
                       labels=np.zeros(int(keep.sum()), dtype=np.int64), noise=self.noise,
                       window=self.window)


def t_strip(lo, hi, c, s):
    """The half-planes of the region ``u >= 0``, ``lo < t < hi`` (``t = c u + s w``; an infinite
    end adds no half-plane), as :meth:`KeptLaw.from_regions` takes them.
    """
    reg = [(0.0, 1.0, 0.0)]
    if math.isfinite(lo):
        reg.append((-lo, c, s))
    if math.isfinite(hi):
        reg.append((hi, -c, -s))
    return reg


def whole_plane(noise=CLEAN) -> KeptLaw:
    """The law of unpruned (or randomly pruned) data: ``u >= 0`` with weight 2."""
    return KeptLaw.from_regions([[(0.0, 1.0, 0.0)]], weight=2.0, symmetric=True, noise=noise)


class Metric(Plugin):
    """Base class of pruning metrics. Subclasses are frozen dataclasses whose fields are the
    metric's options, registered with :func:`~perceptron_pruning.registry.register_metric`.

    A subclass implements

    - ``key(fields, *, keep, rng) -> ndarray, shape (P,)``: a sort key per example. An
      example whose key is ``+inf`` is filtered out; of the ``P_eligible`` others the engine
      keeps the ``round(f P_eligible)`` with the smallest keys (ties go to the example drawn
      first). It sees one chunk of examples at a time, so the key of an example may depend only
      on that example (and on ``rng``, its only source of randomness);
    - ``kept_law(*, f, keep, theta, noise) -> KeptLaw``: the ``N -> infinity`` law of the kept
      fields and labels for a probe at ``theta`` degrees to the teacher, when the labels carry
      ``noise`` (a :class:`~perceptron_pruning.noise.LabelNoise`; the law stores it).

    and may override

    - ``keeps`` (class attribute, default ``("hard", "easy", "random")``): the pruning rules
      it takes, checked by ``check_keep(keep)``;
    - ``bernoulli(keep) -> bool``, ``draw(fields, *, f, rng) -> ndarray of bool`` and
      ``loss_weight(fields, *, f) -> ndarray or None``: a selection that keeps each example
      independently (the engine then keeps every example ``draw`` marks, one chunk at a time,
      and passes the loss weights of the kept ones to the learner as ``sample_weight``);
    - ``check_point(*, theta, noise)``: raise ``ValueError`` for a combination it refuses;
    - ``eligible_fraction(*, theta, noise) -> float``: the ``N -> infinity`` fraction of drawn
      examples whose key is finite (default 1), so that ``alpha_prune = f * eligible * alpha_tot``;
    - ``learned_probe(n, noise, rng) -> float or None`` and ``probe_theta(noise) -> float or
      None``: for a metric whose probe is trained on examples of its own, the angle in degrees
      (in [0, 180]) that one trained probe achieves, and the angle the theory predicts
      (default None: the probe is at the angle ``theta`` the caller gives).
    """

    name: ClassVar[str] = ""
    keeps: ClassVar[tuple] = ("hard", "easy", "random")

    def check_keep(self, keep):
        """Raise ``ValueError`` unless the metric takes the pruning rule ``keep``."""
        if keep not in self.keeps:
            raise ValueError(f"keep must be one of {', '.join(self.keeps)} with metric "
                             f"{self.name!r}; got {keep!r}")

    def check_pairing(self, *, keep, learner):
        """Raise ``ValueError`` for a pruning rule or a learner the metric cannot work with
        (default: :meth:`check_keep`).
        """
        self.check_keep(keep)

    def bernoulli(self, keep) -> bool:
        """Whether ``keep`` keeps each example independently (:meth:`draw`) instead of the
        ``round(f P_eligible)`` smallest keys (default False).
        """
        return False

    def draw(self, fields, *, f, rng):  # pragma: no cover - interface
        """Bernoulli selection: a boolean array, True for the kept examples."""
        raise NotImplementedError(f"metric {self.name!r} has no Bernoulli selection")

    def loss_weight(self, fields, *, f):
        """Loss weights of the kept examples ``fields`` (importance reweighting), or None."""
        return None

    def key(self, fields, *, keep, rng):  # pragma: no cover - interface
        """Sort key per example (smallest kept first); see the class docstring."""
        raise NotImplementedError

    def select(self, fields, *, f, keep, rng):
        """Indices (increasing) of the ``round(f P_eligible)`` examples with the smallest keys
        (``P_eligible``: those whose key is finite).
        """
        from ..pruning import n_kept_eligible, smallest

        key = np.asarray(self.key(fields, keep=keep, rng=rng), dtype=np.float64)
        eligible = int(np.count_nonzero(key < np.inf))
        return smallest(key, n_kept_eligible(eligible, key.size, f, self))

    def kept_law(self, *, f, keep, theta, noise=CLEAN) -> KeptLaw:  # pragma: no cover
        """Kept law in the teacher/probe plane; see the class docstring."""
        raise NotImplementedError(f"metric {self.name!r} has no theory")

    def check_point(self, *, theta, noise=CLEAN):
        """Raise ``ValueError`` for a point the metric cannot honour (default: none)."""

    def eligible_fraction(self, *, theta, noise=CLEAN) -> float:
        """Fraction of drawn examples the metric does not filter out (1: it filters none)."""
        return 1.0

    def learned_probe(self, n, noise, rng):
        """Angle (degrees) of a probe trained on examples of its own; None for a fixed probe."""
        return None

    def probe_theta(self, noise=CLEAN):
        """Theory's angle (degrees) of a learned probe; None for a fixed probe."""
        return None
