"""Soft (Bernoulli) selection: each example is kept independently with a probability ``pi`` of
its probe margin, as in Kolossov, Montanari and Tandon (ICLR 2024), optionally with importance
reweighting of the kept examples' losses by ``1 / pi``.

The shipped rule is their uncertainty sampling, ``pi(t) = min(c [s'(S t)]^a, 1)`` with
``s'(z) = p (1 - p)`` for the logistic ``p = 1 / (1 + e^-z)``: ``a > 0`` favours the hard
examples (small ``|t|``), ``a < 0`` the easy ones, ``a = 0`` is random. ``c`` is solved so that
``E[pi(t)] = f`` exactly for the probe field ``t ~ N(0, 1)``, by composite
Gauss-Legendre quadrature with breakpoints at the clip's kinks (where ``c g(t)`` crosses 1), not
by a trapezoid on a grid.

Because ``s'`` is even the rule depends on the margin ``|t|``; a user's own rule (``pi=``) is a
function of ``|t|`` too, which keeps the kept law symmetric under ``(u, w, y) -> (-u, -w, -y)``
(the form the theory integrates).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq

from .._validation import check_f, check_real, check_theta
from ..data import probe_cos_sin
from ..noise import CLEAN
from ..registry import register_metric
from ._base import KeptLaw, Metric, t_strip, whole_plane

__all__ = ["SoftSelection", "SoftWindow", "log_uncertainty"]

_T_MAX = 10.0  # |t| beyond this carries < 1e-22 of the Gaussian mass
_GL = leggauss(20)
_SCAN = np.linspace(0.0, _T_MAX, 4001)  # where kinks of the clip are looked for
EXPONENT_MAX = 1e3
SCALE_MAX = 1e6


def log_uncertainty(m, *, exponent, score_scale):
    """``a log s'(S m)``: the log of the uncertainty rule's shape at margins ``m >= 0``.

    ``s'(z) = e^-|z| / (1 + e^-|z|)^2``, so ``log s'(z) = -|z| - 2 log(1 + e^-|z|)`` (no
    overflow at any ``z``).

    Parameters
    ----------
    m : ndarray
        Margins ``|t|``.
    exponent, score_scale : float
        ``a`` and ``S``.

    Returns
    -------
    ndarray, the shape of ``m``
    """
    z = np.abs(score_scale * np.asarray(m, dtype=np.float64))
    return exponent * (-z - 2.0 * np.log1p(np.exp(-z)))


@dataclass(frozen=True)
class SoftWindow:
    """The theory's view of a soft selection: keep probability ``pi`` of each kept-law node.

    Attributes
    ----------
    c, s : float
        ``cos`` and ``sin`` of the probe angle.
    metric : SoftSelection
        The rule.
    log_c : float
        ``log c`` solved for the kept fraction.
    reweight : bool
        The kept examples' losses are weighted by ``1 / pi`` (read by the quadrature).
    """

    c: float
    s: float
    metric: object
    log_c: float
    reweight: bool

    def prob(self, yu, yw):
        """``pi(|t|)`` at label-times-fields ``(yu, yw)``, arrays ``(M,)``."""
        t = self.c * np.asarray(yu) + self.s * np.asarray(yw)
        return self.metric._pi(np.abs(t), self.log_c)


def _callable_id(fn) -> str:
    """A stable name for a user's rule, for JSON and cache keys: its qualified name and a hash
    of its source (its ``repr`` when the source is not available, which never matches twice).
    """
    name = getattr(fn, "__qualname__", type(fn).__name__)
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return f"{name}@{id(fn):x}"
    return f"{name}#{hashlib.sha256(src.encode()).hexdigest()[:12]}"


@register_metric("soft")
@dataclass(frozen=True)
class SoftSelection(Metric):
    """Keep each example independently with probability ``pi(|t|)`` of its probe margin
    (``keep="uncertainty"``), or a uniform subset (``keep="random"``).

    Parameters
    ----------
    exponent : float, default 1
        ``a`` in ``pi = min(c [s'(S t)]^a, 1)``, in [-1e3, 1e3]: ``a > 0`` keeps the hard
        examples preferentially, ``a < 0`` the easy ones, ``a = 0`` is random; as ``|a|`` grows
        the rule tends to keep hard (``a > 0``) or keep easy (``a < 0``) at the same ``f``.
    score_scale : float, default 1
        ``S > 0``, the surrogate's scale: the probe's logit is ``S t``.
    pi : callable or None, default None
        A rule of your own instead of the uncertainty rule: ``pi(m)`` takes an array of margins
        ``m = |t| >= 0`` and returns the shape ``g(m) >= 0`` (same shape), and the keep
        probability is ``min(c g(m), 1)`` with ``c`` solved for ``E = f``. A ``g`` whose values
        are already probabilities with mean ``f`` gives ``c = 1``; ``g = f`` constant is random
        pruning. Python only (not on the command line).
    reweight : bool, default False
        Weight each kept example's loss by ``1 / pi`` (the "unbiased" importance weights), in
        the simulation's solver and in the theory (the loss is scaled inside the Moreau
        envelope). Needs a learner that takes weights (``learner.weighted``).

    Notes
    -----
    The number kept is random, ``Binomial(P_tot, f)``; each trial reports the realised
    ``alpha_prune``. The engine draws one uniform per example, after its label.
    """

    exponent: float = 1.0
    score_scale: float = 1.0
    pi: object = None
    reweight: bool = False

    keeps: ClassVar[tuple] = ("uncertainty", "random")

    def __post_init__(self):
        object.__setattr__(self, "exponent", check_real("exponent", self.exponent,
                                                        low=-EXPONENT_MAX, high=EXPONENT_MAX))
        object.__setattr__(self, "score_scale", check_real(
            "score_scale", self.score_scale, low=0.0, high=SCALE_MAX, low_open=True))
        if self.pi is not None and not callable(self.pi):
            raise ValueError(f"pi must be a callable of the margin |t| (or None); got {self.pi!r}")
        if not isinstance(self.reweight, (bool, np.bool_)):
            raise ValueError(f"reweight must be True or False; got {self.reweight!r}")
        object.__setattr__(self, "reweight", bool(self.reweight))

    def options(self) -> dict:
        """``exponent`` and ``score_scale`` (None with a rule of your own), ``pi`` (None, or the
        rule's name and a hash of its source) and ``reweight``.
        """
        own = self.pi is not None
        return {"exponent": None if own else self.exponent,
                "score_scale": None if own else self.score_scale,
                "pi": _callable_id(self.pi) if own else None, "reweight": self.reweight}

    # -- the rule ------------------------------------------------------------------------------

    def _log_shape(self, m):
        if self.pi is None:
            return log_uncertainty(m, exponent=self.exponent, score_scale=self.score_scale)
        m = np.asarray(m, dtype=np.float64)
        g = np.asarray(self.pi(m), dtype=np.float64)
        if g.shape != m.shape or not np.all(np.isfinite(g)) or np.any(g < 0.0):
            raise ValueError("pi(m) must return finite values >= 0 of the shape of m (the "
                             "margins |t|)")
        with np.errstate(divide="ignore"):
            return np.log(g)

    def _pi(self, m, log_c):
        return np.exp(np.minimum(log_c + self._log_shape(m), 0.0))

    def log_c(self, f) -> float:
        """``log c`` such that ``E[min(c g(|t|), 1)] = f`` for ``t ~ N(0, 1)``."""
        return _solve_log_c(self, check_f(f))

    def keep_probability(self, t, *, f):
        """``pi(t)``: the probability that an example of probe field ``t`` is kept.

        Parameters
        ----------
        t : ndarray
            Probe fields.
        f : float
            Kept fraction, in (0, 1] (``E[pi] = f``).

        Returns
        -------
        ndarray, the shape of ``t``, values in [0, 1]
        """
        return self._pi(np.abs(np.asarray(t, dtype=np.float64)), self.log_c(f))

    # -- selection -----------------------------------------------------------------------------

    def check_keep(self, keep):
        """Soft selection keeps ``"uncertainty"`` (Bernoulli by ``pi``) or ``"random"``."""
        if keep not in self.keeps:
            raise ValueError(f"keep must be one of {', '.join(self.keeps)} with metric 'soft' "
                             f"(Bernoulli selection by pi); got {keep!r}")
        if keep == "random" and self.reweight:
            raise ValueError("reweight needs keep 'uncertainty' (importance weights 1/pi of a "
                             "soft selection); keep 'random' keeps a fixed count")

    def check_pairing(self, *, keep, learner):
        """:meth:`check_keep`, and with ``reweight`` a learner that takes loss weights."""
        self.check_keep(keep)
        if self.reweight and keep == "uncertainty" and not getattr(learner, "weighted", False):
            raise ValueError(f"reweight needs a learner that takes loss weights (svm, logistic, "
                             f"ridge, hebb, max-margin); learner {learner.name!r} does not")

    def bernoulli(self, keep) -> bool:
        """Whether ``keep`` draws each example independently (``"uncertainty"``)."""
        return keep == "uncertainty"

    def key(self, fields, *, keep, rng):
        """A uniform random key (``keep="random"``; Bernoulli draws go through :meth:`draw`)."""
        self.check_keep(keep)
        if keep != "random":
            raise ValueError("keep 'uncertainty' is a Bernoulli selection: use draw()")
        return rng.random(fields.t.size)

    def draw(self, fields, *, f, rng):
        """Which examples a Bernoulli selection keeps: one uniform per example, ``< pi(t)``.

        Returns
        -------
        ndarray of bool, shape (P,)
        """
        return rng.random(fields.t.size) < self.keep_probability(fields.t, f=f)

    def loss_weight(self, fields, *, f):
        """``1 / pi(t)`` of the kept examples' fields when reweighting, else None."""
        if not self.reweight:
            return None
        return 1.0 / self.keep_probability(fields.t, f=f)

    def select(self, fields, *, f, keep, rng):
        """Indices (increasing) of the kept examples."""
        self.check_keep(keep)
        if keep == "random":
            return super().select(fields, f=f, keep=keep, rng=rng)
        return np.flatnonzero(self.draw(fields, f=f, rng=rng))

    # -- theory --------------------------------------------------------------------------------

    def kept_law(self, *, f, keep, theta, noise=CLEAN) -> KeptLaw:
        """The whole plane with the window ``pi(|t|) / f``, cut into strips of ``t`` where the
        window changes (its kinks, and steps of its own scale), so the quadrature resolves it.
        """
        f, theta = check_f(f), check_theta(theta)
        self.check_keep(keep)
        if keep == "random":
            return whole_plane(noise)
        log_c = self.log_c(f)  # (refuses an f the rule cannot reach)
        if f == 1.0:
            return whole_plane(noise)  # everything kept, with weights 1
        if self.pi is None and self.exponent == 0.0 and not self.reweight:
            return whole_plane(noise)  # pi = f everywhere
        c, s = probe_cos_sin(theta)
        cuts = _cuts(self, log_c)
        edges = [-math.inf, *sorted({-x for x in cuts if x > 0.0} | set(cuts)), math.inf]
        regions = [t_strip(lo, hi, c, s) for lo, hi in zip(edges[:-1], edges[1:])]
        window = SoftWindow(c=c, s=s, metric=self, log_c=log_c, reweight=self.reweight)
        return KeptLaw.from_regions(regions, weight=2.0 / f, symmetric=theta in (0.0, 90.0),
                                    noise=noise, window=window)


def _kinks(metric, log_c):
    """Margins in (0, T_MAX) where ``log c + log g`` crosses 0 (the clip's corners)."""
    h = log_c + metric._log_shape(_SCAN)
    sgn = np.sign(np.where(np.isfinite(h), h, -1.0))
    out = []
    for i in np.flatnonzero(sgn[:-1] * sgn[1:] < 0.0):
        a, b = _SCAN[i], _SCAN[i + 1]
        out.append(brentq(lambda m: log_c + float(metric._log_shape(np.array([m]))[0]), a, b,
                          xtol=1e-14))
    return out


def _step(metric):
    """Spacing of the fixed breakpoints: the rule's own scale in ``|t|``."""
    if metric.pi is None:
        # log g changes at this rate; 16-point Gauss-Legendre integrates exp(-rate t) over a
        # width of 8 / rate to ~1e-15, so wider pieces would do, but the Gaussian wants ~1.
        rate = abs(metric.exponent) * metric.score_scale
        return min(2.0, max(1.0, 8.0 / rate)) if rate > 0.0 else _T_MAX
    return 0.5


def _cuts(metric, log_c):
    """Breakpoints in ``[0, T_MAX]`` of the window: a grid at the rule's scale, its kinks, and
    geometric steps away from each kink (on the clipped side ``pi`` is constant, on the other
    it relaxes like ``exp(-|a| S d)``, as sharp as a step when ``|a| S`` is large).
    """
    h = _step(metric)
    grid = np.arange(0.0, _T_MAX + 0.5 * h, h)
    kinks = _kinks(metric, log_c)
    rate = abs(metric.exponent) * metric.score_scale if metric.pi is None else 2.0
    near = [k + sgn * d / rate for k in kinks for sgn in (-1.0, 1.0)
            for d in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
            if rate * h > 8.0 and d / rate < h]
    return sorted({0.0, _T_MAX, *grid.tolist(), *kinks,
                   *(x for x in near if 0.0 < x < _T_MAX)})


def _mean_pi(metric, log_c):
    """``E[pi(|t|)]`` for ``t ~ N(0, 1)``: ``2 int_0^T_MAX phi(t) pi(t) dt``."""
    x, wx = _GL
    edges = np.asarray(_cuts(metric, log_c))
    total = 0.0
    for e0, e1 in zip(edges[:-1], edges[1:]):
        t = 0.5 * (e1 - e0) * x + 0.5 * (e0 + e1)
        w = 0.5 * (e1 - e0) * wx * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
        total += float(w @ metric._pi(t, log_c))
    return 2.0 * total


@functools.lru_cache(maxsize=512)
def _solve_log_c(metric, f):
    logs = metric._log_shape(_SCAN)
    finite = logs[np.isfinite(logs)]
    if finite.size == 0:
        raise ValueError("pi is zero at every margin: nothing can be kept")
    # At log c = -max log g nothing is clipped; at -min log g everything the rule reaches is.
    lo, hi = -float(finite.max()), -float(finite.min())
    while _mean_pi(metric, lo) > f:
        lo -= max(1.0, abs(lo))
    top = _mean_pi(metric, hi)
    if top < f:
        top = _mean_pi(metric, hi + 50.0)
        if top < f * (1.0 - 1e-12):
            raise ValueError(f"f must be at most {top:.6g} for this rule (pi is zero on the rest "
                             f"of the margins); got {f:g}")
        if abs(top - f) <= 1e-12 * f:
            return hi + 50.0
        hi += 50.0
    if _mean_pi(metric, hi) == f:
        return hi
    return float(brentq(lambda lc: _mean_pi(metric, lc) - f, lo, hi, xtol=1e-13,
                        rtol=4 * np.finfo(float).eps, maxiter=300))
