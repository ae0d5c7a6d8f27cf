"""Pruning by the margin of a probe: keep the hardest, the easiest or a random subset."""

from __future__ import annotations

import numpy as np

from ._validation import check_f, check_int, check_keep

__all__ = ["n_kept", "n_kept_eligible", "prune", "select_by_score", "smallest"]


def n_kept(p_tot, f):
    """Number of examples kept: ``round(f * p_tot)`` (half to even), as an int."""
    p_tot = check_int("p_tot", p_tot, minimum=1)
    f = check_f(f)
    k = int(round(f * p_tot))
    if k < 1:
        raise ValueError(f"f * P_tot must keep at least one example: f = {f:g} with "
                         f"P_tot = {p_tot} "
                         f"keeps round({f * p_tot:g}) = 0; need f >= {0.5 / p_tot:g}")
    return k


def n_kept_eligible(eligible, p_tot, f, metric):
    """Number kept by a metric that filtered ``p_tot`` examples down to ``eligible``:
    ``round(f * eligible)``, or a ``ValueError`` naming the filter and both counts when that
    is zero (a plain :func:`n_kept` error when nothing was filtered).
    """
    if eligible < p_tot and int(round(f * eligible)) < 1:
        raise ValueError(f"metric {metric} left P_eligible = {eligible} of P_tot = {p_tot} "
                         f"examples, and f = {f:g} keeps round({f * eligible:g}) = 0 of them: "
                         "raise f or alpha_tot")
    return n_kept(eligible, f)


def prune(X, probe, *, f, keep="hard", rng=None):
    """Indices of the examples kept by probe-margin pruning.

    Parameters
    ----------
    X : ndarray, shape (P_tot, N)
        Inputs.
    probe : ndarray, shape (N,)
        Probe vector; the score of example ``mu`` is ``|probe . x_mu|``.
    f : float
        Fraction kept, in (0, 1]; exactly ``round(f * P_tot)`` examples are kept.
    keep : {"hard", "easy", "random"}, default "hard"
        ``hard`` keeps the smallest scores, ``easy`` the largest, ``random`` a uniform subset.
    rng : numpy.random.Generator, optional
        Needed for ``keep="random"`` only.

    Returns
    -------
    ndarray of int, shape (round(f * P_tot),)
        Kept row indices in increasing order. Ties in the score are broken by the row index
        (stable sort), so the result is deterministic.
    """
    X = np.asarray(X, dtype=np.float64)
    return select_by_score(np.abs(X @ np.asarray(probe, dtype=np.float64)), f=f, keep=keep,
                           rng=rng)


def select_by_score(score, *, f, keep="hard", rng=None):
    """Indices of the ``round(f * P_tot)`` examples with the smallest (hard) or largest (easy)
    score, or a uniform subset (random).

    Parameters
    ----------
    score : array_like, shape (P_tot,)
        One score per example; smaller means harder.
    f : float
        Fraction kept, in (0, 1].
    keep : {"hard", "easy", "random"}
        Rule.
    rng : numpy.random.Generator, optional
        Needed for ``keep="random"`` only.

    Returns
    -------
    ndarray of int, shape (round(f * P_tot),)
        Kept indices in increasing order; ties are broken by index (stable sort).
    """
    keep = check_keep(keep)
    score = np.asarray(score, dtype=np.float64)
    k = n_kept(score.shape[0], f)
    if keep == "random":
        if rng is None:
            raise ValueError("rng must be a numpy.random.Generator for keep='random'")
        idx = rng.permutation(score.shape[0])[:k]
    else:
        order = np.argsort(score if keep == "hard" else -score, kind="stable")
        idx = order[:k]
    return np.sort(idx)


def smallest(key, k):
    """Indices (increasing) of the ``k`` smallest keys; ties go to the smaller index.

    Parameters
    ----------
    key : array_like, shape (P,)
        Sort keys.
    k : int
        How many to keep, ``1 <= k <= P``.

    Returns
    -------
    ndarray of int, shape (k,)
    """
    key = np.asarray(key, dtype=np.float64)
    return np.sort(np.argsort(key, kind="stable")[:k])
