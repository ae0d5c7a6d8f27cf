"""Teacher-student data: a teacher on the sphere, Gaussian inputs and a probe at a fixed angle."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import check_int, check_theta

__all__ = ["Problem", "make_problem", "probe_cos_sin", "probe_vector"]


@dataclass(frozen=True)
class Problem:
    """One draw of the teacher-student model.

    Attributes
    ----------
    X : ndarray, shape (P_tot, N)
        Inputs ``x ~ N(0, I_N)``.
    y : ndarray, shape (P_tot,)
        Labels ``sign(T . x)`` in {-1, +1}.
    teacher : ndarray, shape (N,)
        Unit teacher ``T``.
    probe : ndarray, shape (N,)
        Unit probe ``J_probe`` with ``J_probe . T = cos(theta)`` exactly (to round-off).
    probe_perp : ndarray, shape (N,)
        Unit vector of the probe orthogonal to ``T`` (a random one when ``theta = 0``).
    theta : float
        Probe angle in degrees.
    """

    X: np.ndarray
    y: np.ndarray
    teacher: np.ndarray
    probe: np.ndarray
    probe_perp: np.ndarray
    theta: float


def probe_cos_sin(theta):
    """``(cos, sin)`` of the probe angle ``theta`` in degrees, exactly ``(0, 1)`` at 90.

    The probe field of an example is ``t = cos u + sin w`` (teacher field ``u``, field ``w``
    along the probe's direction orthogonal to the teacher).
    """
    if theta == 90.0:
        return 0.0, 1.0
    th = math.radians(theta)
    return math.cos(th), math.sin(th)


def probe_vector(teacher, theta, *, rng):
    """Return ``(probe, perp)``: a unit probe at ``theta`` to ``teacher``, and its normal part.

    Parameters
    ----------
    teacher : ndarray, shape (N,)
        Unit teacher vector.
    theta : float
        Angle in degrees, in [0, 90].
    rng : numpy.random.Generator
        Source of the random orthogonal direction.

    Returns
    -------
    probe, perp : ndarray, shape (N,)
        ``probe = cos(theta) T + sin(theta) perp`` with ``perp`` a unit vector orthogonal to ``T``.
        For ``N = 1`` no orthogonal direction exists and ``perp`` is zero (only ``theta = 0``).
    """
    theta = check_theta(theta)
    teacher = np.asarray(teacher, dtype=np.float64)
    n = teacher.shape[0]
    g = rng.standard_normal(n)
    g -= (g @ teacher) * teacher
    g -= (g @ teacher) * teacher  # a second pass removes the round-off of the first
    nrm = np.linalg.norm(g)
    if n == 1 or nrm == 0.0:
        if theta != 0.0:
            raise ValueError("theta must be 0 when n = 1 "
                             "(no direction is orthogonal to the teacher)")
        return teacher.copy(), np.zeros(n)
    perp = g / nrm
    th = np.deg2rad(theta)
    return np.cos(th) * teacher + np.sin(th) * perp, perp


def make_problem(n, p_tot, *, theta=0.0, rng):
    """Draw a teacher, ``p_tot`` labelled Gaussian inputs and a probe at ``theta``.

    Parameters
    ----------
    n : int
        Input dimension ``N >= 1``.
    p_tot : int
        Number of examples ``>= 1``.
    theta : float, default 0
        Probe angle to the teacher in degrees, in [0, 90].
    rng : numpy.random.Generator
        All randomness comes from here, in a fixed order (teacher, probe, inputs).

    Returns
    -------
    Problem
    """
    n = check_int("n", n, minimum=1)
    p_tot = check_int("p_tot", p_tot, minimum=1)
    theta = check_theta(theta)
    t = rng.standard_normal(n)
    teacher = t / np.linalg.norm(t)
    probe, perp = probe_vector(teacher, theta, rng=rng)
    X = rng.standard_normal((p_tot, n))
    u = X @ teacher
    y = np.where(u >= 0.0, 1.0, -1.0)
    return Problem(X=X, y=y, teacher=teacher, probe=probe, probe_perp=perp, theta=theta)
