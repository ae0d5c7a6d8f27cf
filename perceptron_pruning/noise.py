"""The label model (theory-erm.md): a label channel on the generator's field, uniform flips, and
the direction that defines the test error.

**Channels.** Labels come from a generator ``w_g`` (the "teacher" ``T`` of the code: the direction
whose field ``u = T . x`` the channel sees, and against which the probe's angle ``theta`` is
measured). An example is labelled ``+1`` with probability ``q(u)``, the *link*:

- ``"sign"`` (the default): ``y = sign(u + sigma xi)`` with ``xi ~ N(0, 1)`` (teacher noise: the
  hard examples, small ``|u|``, are the likely mislabelled ones), i.e. the probit link
  ``q(u) = Phi(u / sigma)``; ``sigma = 0`` is the clean rule ``y = sign(u)``;
- ``"logistic"``: ``q(u) = 1 / (1 + exp(-S u))`` with slope ``S = link_scale``;
- ``"misspec2"`` (Kolossov, Montanari, Tandon, ICLR 2024): ``q = 0.3, 0.05, 0.95, 0.7`` on
  ``u < -0.1``, ``[-0.1, 0)``, ``[0, 0.1)``, ``u >= 0.1``, and any :class:`PiecewiseLink`.

Then each label is flipped independently with probability ``eta`` (uniform label noise), which for
any link is ``q -> (1 - eta) q + eta (1 - q)``.

**Why the half-plane theory stays exact for every channel.** Every selection rule and every learner
depends on an example only through ``z = y x`` (margin losses; ridge's
``(y - h)^2 = (1 - y h)^2``; the metrics' ``|t| = |y t|`` and ``y t``; ``y != sign(u)`` iff
``z . T < 0``). The law of ``z`` has density ``phi(z) [q(z_u) + 1 - q(-z_u)]``, using that
``x -> -x`` preserves the Gaussian law. So a channel ``q`` gives exactly the same law of ``y x`` as
its symmetrisation ``qbar(u) = (q(u) + 1 - q(-u)) / 2``, which satisfies
``qbar(-u) = 1 - qbar(u)``; the theory needs only ``p_correct(u) = qbar(|u|)``, the probability that
the label is ``sign(u)``, even for an asymmetric channel (the simulation draws from ``q`` itself).

**Ground truth.** The test error ``eps`` is measured against a ground truth ``T*`` that need not be
the generator (Dohmatob, Pezeshki, Askari-Hemmat 2025): ``T* . w_g = truth_cos`` and
``T* . J_probe = probe_truth_cos``. In the basis ``(e0 = w_g, e1 = v, e2)``, with ``v`` the
probe's unit direction orthogonal to ``w_g`` and ``e2`` a third direction,
``T* = (truth_cos, b, c3)``, ``b = (probe_truth_cos - cos(theta) truth_cos) / sin(theta)``,
``c3 = sqrt(1 - truth_cos^2 - b^2)`` (:meth:`LabelNoise.truth_geometry`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import expit, ndtr

from ._validation import check_real

__all__ = ["CLEAN", "LINKS", "MISSPEC2", "LabelNoise", "PiecewiseLink", "label_noise"]

LINKS = ("sign", "logistic", "misspec2")
LINK_SCALE_MAX = 1e8
_GEOM_TOL = 1e-12  # round-off allowed in the cosines' consistency (c3^2 >= -tol)


@dataclass(frozen=True)
class PiecewiseLink:
    """A piecewise-constant link: ``P(y = 1 | u) = probs[k]`` on the ``k``-th interval of ``u``.

    The intervals are ``(-inf, breaks[0])``, ``[breaks[0], breaks[1])``, ...,
    ``[breaks[-1], inf)``.

    Parameters
    ----------
    breaks : sequence of float, shape (K,)
        Interval edges in units of the generator's field ``u``; finite and strictly increasing,
        ``K >= 1``.
    probs : sequence of float, shape (K + 1,)
        ``P(y = 1)`` on each interval, in [0, 1].
    """

    breaks: tuple
    probs: tuple
    name: ClassVar[str] = "piecewise"

    def __post_init__(self):
        try:
            br = tuple(float(b) for b in self.breaks)
            pr = tuple(float(p) for p in self.probs)
        except (TypeError, ValueError):
            raise ValueError("breaks and probs must be sequences of numbers") from None
        if not br or not all(math.isfinite(b) for b in br):
            raise ValueError(f"breaks must be a non-empty sequence of finite numbers; got "
                             f"{self.breaks!r}")
        if any(b1 <= b0 for b0, b1 in zip(br[:-1], br[1:])):
            raise ValueError(f"breaks must be strictly increasing; got {br!r}")
        if len(pr) != len(br) + 1:
            raise ValueError(f"probs must have len(breaks) + 1 = {len(br) + 1} entries; got "
                             f"{len(pr)}")
        if not all(0.0 <= p <= 1.0 for p in pr):
            raise ValueError(f"probs must be in [0, 1]; got {pr!r}")
        object.__setattr__(self, "breaks", br)
        object.__setattr__(self, "probs", pr)

    def q(self, u):
        """``P(y = 1 | u)`` (ndarray, the shape of ``u``)."""
        idx = np.searchsorted(np.asarray(self.breaks), np.asarray(u, dtype=np.float64),
                              side="right")
        return np.asarray(self.probs)[idx]


MISSPEC2 = PiecewiseLink(breaks=(-0.1, 0.0, 0.1), probs=(0.3, 0.05, 0.95, 0.7))

# Composite Gauss-Legendre rules of the one-dimensional averages below.
_GL24 = leggauss(24)
_GL16 = leggauss(16)
_U_CUTS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)  # shoulders of phi(u) on [0, _U_MAX]
_U_MAX = 10.0  # phi beyond: < 1e-22
_G_MAX = 9.0
_LOGISTIC_LEVELS = (0.5, 2.0, 5.0, 10.0, 20.0, 40.0)  # S u where 1 / (1 + e^{S u}) turns


@dataclass(frozen=True)
class LabelNoise:
    """The label model: a link on the generator's field, uniform flips, and the ground truth.

    Parameters
    ----------
    flip : float, default 0
        Probability ``eta`` in [0, 0.5) that a label is flipped (any link).
    teacher_noise : float, default 0
        Standard deviation ``sigma`` in [0, 1e6] of the Gaussian noise added to the generator's
        field before the sign is taken (the sign link only: with it the sign link is already the
        probit link).
    link : {"sign", "logistic", "misspec2"} or PiecewiseLink, default "sign"
        ``P(y = 1 | u)`` before the flips (module docstring).
    link_scale : float or None, default None
        Slope ``S`` in (0, 1e8] of the logistic link (required with it, refused otherwise), in
        inverse units of ``u``.
    truth_cos : float, default 1
        Cosine in [-1, 1] between the ground truth ``T*`` (which ``eps`` and ``R`` measure) and
        the generator. 1 is the standard model (``T* = w_g``).
    probe_truth_cos : float or None, default None
        Cosine in [-1, 1] between the probe and ``T*``; None means ``cos(theta) truth_cos``
        (``T*`` has no component along the probe's direction orthogonal to the generator).
        Checked against ``theta`` where the point is assembled (:meth:`truth_geometry`).
    """

    flip: float = 0.0
    teacher_noise: float = 0.0
    link: object = "sign"
    link_scale: float = None
    truth_cos: float = 1.0
    probe_truth_cos: float = None

    def __post_init__(self):
        object.__setattr__(self, "flip", check_real("flip", self.flip, low=0.0, high=0.5,
                                                    high_open=True))
        object.__setattr__(self, "teacher_noise",
                           check_real("teacher_noise", self.teacher_noise, low=0.0, high=1e6))
        if not (isinstance(self.link, PiecewiseLink)
                or (isinstance(self.link, str) and self.link in LINKS)):
            raise ValueError(f"link must be one of {', '.join(LINKS)} or a PiecewiseLink; got "
                             f"{self.link!r}")
        if self.link == "logistic":
            if self.link_scale is None:
                raise ValueError(f"link 'logistic' needs link_scale, its slope S in (0, "
                                 f"{LINK_SCALE_MAX:g}]: P(y = 1 | u) = 1 / (1 + exp(-S u))")
            object.__setattr__(self, "link_scale", check_real(
                "link_scale", self.link_scale, low=0.0, high=LINK_SCALE_MAX, low_open=True))
        elif self.link_scale is not None:
            raise ValueError(f"link_scale applies to link 'logistic' only (its slope S in (0, "
                             f"{LINK_SCALE_MAX:g}]); got link_scale = {self.link_scale!r} with "
                             f"link {self.link_name!r}")
        if self.teacher_noise > 0.0 and self.link_name != "sign":
            raise ValueError(f"teacher_noise applies to link 'sign' only (the sign link with "
                             f"teacher noise is already the probit link); got teacher_noise = "
                             f"{self.teacher_noise:g} with link {self.link_name!r}")
        object.__setattr__(self, "truth_cos",
                           check_real("truth_cos", self.truth_cos, low=-1.0, high=1.0))
        if self.probe_truth_cos is not None:
            object.__setattr__(self, "probe_truth_cos", check_real(
                "probe_truth_cos", self.probe_truth_cos, low=-1.0, high=1.0))

    # -- the channel ----------------------------------------------------------------------------

    @property
    def link_name(self) -> str:
        """``"sign"``, ``"logistic"``, ``"misspec2"``, or ``"piecewise"`` (a custom link)."""
        return self.link if isinstance(self.link, str) else self.link.name

    @property
    def _sign(self) -> bool:
        return self.link_name == "sign"

    @property
    def _piecewise(self):
        return MISSPEC2 if self.link == "misspec2" else (
            self.link if isinstance(self.link, PiecewiseLink) else None)

    @property
    def clean(self) -> bool:
        """No noise at all: ``y = sign(u)`` (False for any link but the sign link)."""
        return self._sign and self.flip == 0.0 and self.teacher_noise == 0.0

    def _flipped(self, q):
        return (1.0 - self.flip) * q + self.flip * (1.0 - q) if self.flip else q

    def _q(self, u):
        """``P(y = 1 | u)`` of a link other than sign, flips included."""
        if self.link_name == "logistic":
            q = expit(self.link_scale * u)
        else:
            q = self._piecewise.q(u)
        return self._flipped(q)

    def _q_plus(self, u):
        """``P(y = 1 | u)`` of the symmetrised channel (``qbar``), any sign of ``u``."""
        if self.link_name == "logistic":  # already symmetric: expit(-x) = 1 - expit(x)
            return self._q(u)
        pc = self.p_correct(u)
        return np.where(u >= 0.0, pc, 1.0 - pc)

    def labels(self, u, rng):
        """Labels of examples with generator fields ``u``, drawn from the channel.

        The sign link draws, in this order and only for the models that are on: ``xi`` (one
        normal per example), then one uniform per example for the flips; clean labels draw
        nothing, so a noise-free run consumes the random stream exactly as before noise existed.
        Any other link draws one uniform ``U`` per example: ``y = +1`` iff ``U < q(u)``, the
        flips composed into ``q``.

        Parameters
        ----------
        u : ndarray, shape (P,)
            Generator fields.
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (P,)
            Labels in {-1, +1} (float64).
        """
        u = np.asarray(u, dtype=np.float64)
        if not self._sign:
            return np.where(rng.random(u.size) < self._q(u), 1.0, -1.0)
        field = u + self.teacher_noise * rng.standard_normal(u.size) if self.teacher_noise else u
        y = np.where(field >= 0.0, 1.0, -1.0)
        if self.flip:
            y = np.where(rng.random(u.size) < self.flip, -y, y)
        return y

    def p_correct(self, u):
        """Probability that an example's label is ``sign(u)``, as the theory sees it:
        ``qbar(|u|)`` (module docstring), flips included.

        Sign link: ``(1 - eta) Phi(|u| / sigma) + eta (1 - Phi(|u| / sigma))``, ``1 - eta`` when
        ``sigma = 0``.

        Parameters
        ----------
        u : array_like
            Generator fields.

        Returns
        -------
        ndarray, the shape of ``u``
        """
        u = np.abs(np.asarray(u, dtype=np.float64))
        if self._sign:
            if self.teacher_noise == 0.0:
                return np.full(u.shape, 1.0 - self.flip)
            q = ndtr(u / self.teacher_noise)
            return (1.0 - self.flip) * q + self.flip * (1.0 - q)
        return 0.5 * (self._q(u) + 1.0 - self._q(-u))

    def u_levels(self):
        """Generator fields ``u > 0`` where ``p_correct`` changes on its own scale: the kept-law
        quadrature (:mod:`perceptron_pruning._law_nodes`) cuts its pieces there (for a piecewise
        link, exactly at its jumps).
        """
        if self._sign:
            sig = self.teacher_noise
            return (0.5 * sig, 2.0 * sig, 5.0 * sig, 10.0 * sig) if sig > 0.0 else ()
        if self.link_name == "logistic":
            return tuple(k / self.link_scale for k in _LOGISTIC_LEVELS)
        return tuple(sorted({abs(b) for b in self._piecewise.breaks if b != 0.0}))

    def p_plus(self, mean, sd):
        """``E[P(y = 1 | u)]`` of the symmetrised channel for ``u ~ N(mean, sd^2)``: for a
        probe field ``t >= 0`` with ``u | t ~ N(c t, s^2)``, the probability that the label
        agrees with ``sign(t)``.

        Closed forms for the sign link (``(1 - eta) Phi(mean / sqrt(sd^2 + sigma^2))`` plus the
        flips) and the piecewise links (sums of ``Phi`` differences); composite Gauss-Legendre
        in ``u`` for the logistic link.

        Parameters
        ----------
        mean : array_like, shape (M,)
            Means of ``u``.
        sd : float
            Standard deviation of ``u``, ``>= 0``.

        Returns
        -------
        ndarray, shape (M,)
        """
        mean = np.asarray(mean, dtype=np.float64)
        if self._sign:
            scale = math.hypot(sd, self.teacher_noise)
            b = np.where(mean >= 0.0, 1.0, 0.0) if scale == 0.0 else ndtr(mean / scale)
            return (1.0 - self.flip) * b + self.flip * (1.0 - b)
        if sd == 0.0:
            return self._q_plus(mean)
        pw = self._piecewise
        if pw is not None:
            lv = self.u_levels()
            edges = np.array([-np.inf, *(-x for x in reversed(lv)), 0.0, *lv, np.inf])
            mids = np.concatenate([[-(lv[-1] + 1.0) if lv else -1.0],
                                   0.5 * (edges[1:-2] + edges[2:-1]),
                                   [(lv[-1] + 1.0) if lv else 1.0]])
            vals = self._q_plus(mids)  # the symmetrised link's value on each piece
            cdf = ndtr((edges[None, :] - mean.reshape(-1, 1)) / sd)
            return (np.diff(cdf, axis=1) @ vals).reshape(mean.shape)
        # Logistic: u = mean + sd g; the pieces in g cut where S u crosses 0 and its levels.
        m = mean.reshape(-1, 1)
        lv = [0.0, *self.u_levels(), *(-x for x in self.u_levels())]
        cuts = [np.broadcast_to(np.float64(c), (m.shape[0], 1)) for c in (-3.0, 0.0, 3.0)]
        cuts += [(x - m) / sd for x in lv]
        inner = np.sort(np.clip(np.concatenate(cuts, axis=1), -_G_MAX, _G_MAX), axis=1)
        ends = np.concatenate([np.full_like(m, -_G_MAX), inner, np.full_like(m, _G_MAX)],
                              axis=1)
        x, wx = _GL16
        g0, g1 = ends[:, :-1, None], ends[:, 1:, None]
        g = 0.5 * (g1 - g0) * x + 0.5 * (g0 + g1)
        wg = 0.5 * (g1 - g0) * wx * np.exp(-0.5 * g * g) / math.sqrt(2.0 * math.pi)
        return (wg * self._q_plus(m[:, :, None] + sd * g)).sum(axis=(1, 2)).reshape(mean.shape)

    def _disagree(self, r):
        """``P(y != sign(h))`` for a field ``h`` of correlation ``r`` with the generator's,
        ``2 int_0^inf phi(u) [(1 - qbar(u)) Phi(r u / s) + qbar(u) Phi(-r u / s)] du`` with
        ``s = sqrt(1 - r^2)`` (composite Gauss-Legendre, cut at the link's levels and where
        ``Phi(r u / s)`` turns).
        """
        r = np.clip(np.asarray(r, dtype=np.float64), -1.0, 1.0)
        out = np.empty(r.shape)
        x, wx = _GL24
        base = [0.0, _U_MAX, *_U_CUTS, *self.u_levels()]
        for i, ri in np.ndenumerate(r):
            s = math.sqrt(max(0.0, 1.0 - ri * ri))
            cuts = list(base)
            if s > 0.0 and ri != 0.0:
                cuts += [k * s / abs(ri) for k in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)]
            edges = np.unique([c for c in cuts if 0.0 <= c <= _U_MAX])
            e0, e1 = edges[:-1, None], edges[1:, None]
            u = 0.5 * (e1 - e0) * x + 0.5 * (e0 + e1)
            w = 0.5 * (e1 - e0) * wx * np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
            pc = self.p_correct(u)
            if s == 0.0:
                right = np.full(u.shape, 1.0 if ri > 0.0 else 0.0)
            else:
                right = ndtr(ri * u / s)
            out[i] = 2.0 * float((w * ((1.0 - pc) * right + pc * (1.0 - right))).sum())
        return out

    def eps_noisy(self, R):
        """Test error on fresh labels from the channel of a student at generator overlap ``R``.

        Sign link: ``eta + (1 - 2 eta) arccos(R / sqrt(1 + sigma^2)) / pi``. Other links:
        ``int phi(u) [(1 - q(u)) Phi(R u / sqrt(1 - R^2)) + q(u) Phi(-R u / sqrt(1 - R^2))] du``
        by quadrature (with ``qbar``, which gives the same value).

        Parameters
        ----------
        R : float or ndarray
            Overlap of the student's direction with the generator ``w_g``.

        Returns
        -------
        ndarray, the shape of ``R``
        """
        R = np.asarray(R, dtype=np.float64)
        if not self._sign:
            return self._disagree(R)
        e = np.arccos(np.clip(R / math.sqrt(1.0 + self.teacher_noise ** 2), -1.0, 1.0)) / np.pi
        return self.flip + (1.0 - 2.0 * self.flip) * e

    def p_agree(self, c):
        """Probability that an example's label has the sign of a probe field ``t`` whose
        correlation with the generator's field is ``c`` (``t = c u + sqrt(1 - c^2) w``).

        Sign link: ``t`` and ``u + sigma xi`` are jointly normal with correlation
        ``c / sqrt(1 + sigma^2)``, so their signs agree with probability
        ``A = 1 - arccos(c / sqrt(1 + sigma^2)) / pi``; the flips make it
        ``(1 - eta) A + eta (1 - A)``. Other links: ``1 - eps_noisy(c)`` by quadrature.

        Parameters
        ----------
        c : float or ndarray
            ``cos(theta)`` of the probe, in [-1, 1].

        Returns
        -------
        float or ndarray
        """
        c = np.asarray(c, dtype=np.float64)
        if self._sign:
            r = c / math.sqrt(1.0 + self.teacher_noise ** 2)
            a = 1.0 - np.arccos(np.clip(r, -1.0, 1.0)) / np.pi
            out = (1.0 - self.flip) * a + self.flip * (1.0 - a)
        else:
            out = 1.0 - self._disagree(c)
        return float(out) if out.ndim == 0 else out

    # -- the ground truth -----------------------------------------------------------------------

    def truth_geometry(self, theta):
        """Coordinates ``(a, b, c3)`` of the ground truth ``T*`` in the basis ``(w_g, v, e2)``
        for a probe at ``theta`` degrees to the generator (module docstring); ``(1, 0, 0)`` in
        the standard model.

        Parameters
        ----------
        theta : float
            Probe angle to the generator in degrees, in [0, 180].

        Returns
        -------
        (float, float, float)

        Raises
        ------
        ValueError
            The cosines admit no unit ``T*``: names ``truth_cos``, ``probe_truth_cos``, the
            angle and the valid range of ``probe_truth_cos``.
        """
        a = self.truth_cos
        rest = max(0.0, 1.0 - a * a)
        if self.probe_truth_cos is None:
            return a, 0.0, math.sqrt(rest)
        th = math.radians(theta)
        c, s = (0.0, 1.0) if theta == 90.0 else (math.cos(th), math.sin(th))
        lo = c * a - s * math.sqrt(rest)
        hi = c * a + s * math.sqrt(rest)
        p = self.probe_truth_cos
        if not lo - _GEOM_TOL <= p <= hi + _GEOM_TOL:
            rng = f"{lo:.6g}" if hi - lo <= 2 * _GEOM_TOL else f"[{lo:.6g}, {hi:.6g}]"
            raise ValueError(f"probe_truth_cos = {p:g} is not a valid geometry with truth_cos = "
                             f"{a:g} and a probe at theta = {theta:g} deg to the generator: "
                             f"probe_truth_cos must be {rng} (cos(theta +- arccos(truth_cos)))")
        if s <= _GEOM_TOL:
            return a, 0.0, math.sqrt(rest)
        b = (p - c * a) / s
        if b * b > rest:  # round-off at the edge of the valid range
            b = math.copysign(math.sqrt(rest), b)
        c3sq = rest - b * b
        # At the edge of the range T* lies in the plane: round-off must not push it out.
        return a, b, (math.sqrt(c3sq) if c3sq > _GEOM_TOL else 0.0)

    @property
    def standard_truth(self) -> bool:
        """The ground truth is the generator (``truth_cos = 1``, and so ``T* = w_g``)."""
        return self.truth_cos == 1.0

    def options(self) -> dict:
        """The JSON keys and CSV columns: ``flip``, ``teacher_noise``, ``link`` (its name,
        ``"piecewise"`` for a custom :class:`PiecewiseLink`), ``link_scale`` (None unless
        logistic), ``truth_cos`` and ``probe_truth_cos``.
        """
        return {"flip": self.flip, "teacher_noise": self.teacher_noise, "link": self.link_name,
                "link_scale": self.link_scale, "truth_cos": self.truth_cos,
                "probe_truth_cos": self.probe_truth_cos}

    def spec(self) -> dict:
        """:meth:`options` plus a custom link's ``link_breaks`` and ``link_probs``: everything
        that defines the label model (cache keys).
        """
        d = self.options()
        if isinstance(self.link, PiecewiseLink):
            d.update(link_breaks=list(self.link.breaks), link_probs=list(self.link.probs))
        return d


CLEAN = LabelNoise()


def label_noise(flip=0.0, teacher_noise=0.0, *, link="sign", link_scale=None, truth_cos=1.0,
                probe_truth_cos=None) -> LabelNoise:
    """Validated :class:`LabelNoise` (``ValueError`` naming the parameter and its range)."""
    return LabelNoise(flip=flip, teacher_noise=teacher_noise, link=link, link_scale=link_scale,
                      truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
