"""Label noise (theory-erm.md): teacher noise, then uniform flips.

An example's label is ``y = sign(u + sigma xi)`` with ``xi ~ N(0, 1)`` (teacher noise: the hard
examples, small ``|u|``, are the likely mislabelled ones), then flipped independently with
probability ``eta`` (uniform label noise). ``sigma = eta = 0`` is the clean rule ``y = sign(u)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ._validation import check_real

__all__ = ["CLEAN", "LabelNoise", "label_noise"]


@dataclass(frozen=True)
class LabelNoise:
    """The two label-noise models of theory-erm.md, usable together.

    Parameters
    ----------
    flip : float, default 0
        Probability ``eta`` in [0, 0.5) that a label is flipped.
    teacher_noise : float, default 0
        Standard deviation ``sigma >= 0`` of the Gaussian noise added to the teacher field before
        the sign is taken.
    """

    flip: float = 0.0
    teacher_noise: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "flip", check_real("flip", self.flip, low=0.0, high=0.5,
                                                    high_open=True))
        object.__setattr__(self, "teacher_noise",
                           check_real("teacher_noise", self.teacher_noise, low=0.0, high=1e6))

    @property
    def clean(self) -> bool:
        """No noise at all: ``y = sign(u)``."""
        return self.flip == 0.0 and self.teacher_noise == 0.0

    def labels(self, u, rng):
        """Noisy labels of examples with teacher fields ``u``.

        Draws, in this order and only for the models that are on: ``xi`` (one normal per
        example), then one uniform per example for the flips. Clean labels draw nothing, so a
        noise-free run consumes the random stream exactly as before noise existed.

        Parameters
        ----------
        u : ndarray, shape (P,)
            Teacher fields.
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (P,)
            Labels in {-1, +1} (float64).
        """
        u = np.asarray(u, dtype=np.float64)
        field = u + self.teacher_noise * rng.standard_normal(u.size) if self.teacher_noise else u
        y = np.where(field >= 0.0, 1.0, -1.0)
        if self.flip:
            y = np.where(rng.random(u.size) < self.flip, -y, y)
        return y

    def p_correct(self, u):
        """Probability that an example's label is ``sign(u)``.

        ``(1 - eta) Phi(|u| / sigma) + eta (1 - Phi(|u| / sigma))``; ``1 - eta`` when
        ``sigma = 0``.

        Parameters
        ----------
        u : array_like
            Teacher fields.

        Returns
        -------
        ndarray, the shape of ``u``
        """
        u = np.abs(np.asarray(u, dtype=np.float64))
        if self.teacher_noise == 0.0:
            return np.full(u.shape, 1.0 - self.flip)
        q = ndtr(u / self.teacher_noise)
        return (1.0 - self.flip) * q + self.flip * (1.0 - q)

    def u_levels(self):
        """Teacher fields ``u > 0`` where ``p_correct`` changes on its own scale: the kept-law
        quadrature (:mod:`perceptron_pruning._law_nodes`) cuts its pieces there.
        """
        sig = self.teacher_noise
        return (0.5 * sig, 2.0 * sig, 5.0 * sig, 10.0 * sig) if sig > 0.0 else ()

    def eps_noisy(self, R):
        """Test error on fresh noisy labels of a student at teacher overlap ``R``.

        ``eta + (1 - 2 eta) arccos(R / sqrt(1 + sigma^2)) / pi``.
        """
        R = np.asarray(R, dtype=np.float64)
        e = np.arccos(np.clip(R / math.sqrt(1.0 + self.teacher_noise ** 2), -1.0, 1.0)) / np.pi
        return self.flip + (1.0 - 2.0 * self.flip) * e

    def p_agree(self, c):
        """Probability that an example's label has the sign of a probe field ``t`` whose
        correlation with the teacher field is ``c`` (``t = c u + sqrt(1 - c^2) w``).

        ``t`` and ``u + sigma xi`` are jointly normal with correlation ``c / sqrt(1 + sigma^2)``,
        so their signs agree with probability ``A = 1 - arccos(c / sqrt(1 + sigma^2)) / pi``;
        the flips make it ``(1 - eta) A + eta (1 - A)``.

        Parameters
        ----------
        c : float or ndarray
            ``cos(theta)`` of the probe, in [-1, 1].

        Returns
        -------
        float or ndarray
        """
        c = np.asarray(c, dtype=np.float64)
        r = c / math.sqrt(1.0 + self.teacher_noise ** 2)
        a = 1.0 - np.arccos(np.clip(r, -1.0, 1.0)) / np.pi
        out = (1.0 - self.flip) * a + self.flip * (1.0 - a)
        return float(out) if out.ndim == 0 else out

    def options(self) -> dict:
        """``{"flip": eta, "teacher_noise": sigma}``: the JSON keys and CSV columns."""
        return {"flip": self.flip, "teacher_noise": self.teacher_noise}


CLEAN = LabelNoise()


def label_noise(flip=0.0, teacher_noise=0.0) -> LabelNoise:
    """Validated :class:`LabelNoise` (``ValueError`` naming ``flip`` or ``teacher_noise``)."""
    return LabelNoise(flip=flip, teacher_noise=teacher_noise)
