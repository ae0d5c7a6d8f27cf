"""Quadrature of a kept law: weighted nodes ``(y u, y w)`` for any loss's averages.

The regularised learners' saddle point (theory-erm.md) needs averages over the kept law of
functions of ``y (m u + rho w)``, ``y u`` and ``y w``. A
:class:`~perceptron_pruning.metrics.KeptLaw` describes that law on ``u >= 0`` as a union of
convex regions (intersections of half-planes), each holding the correctly labelled examples, the
mislabelled ones, or both. This module turns it
into a composite Gauss-Legendre product rule in coordinates ``(p, q)`` rotated to each region: ``p``
is normal to the region's first line off the origin (for the margin metric, the probe field
itself), so a thin band is one short interval of ``p`` and the rule stays accurate however small
``f`` is. Between consecutive breakpoints in ``p`` the ends of the inner interval of ``q`` are
linear in ``p``, so the rule converges geometrically. The Gaussian is cut at ``|p|, |q| <= R_MAX``
(mass beyond: ``< 1e-18``). With teacher noise or a label channel the label probability varies
on its own scale in ``u`` (``LabelNoise.u_levels``: ``sigma / 2, 2 sigma, ...`` for teacher
noise, ``k / S`` for the logistic link, the breaks of a piecewise one); the pieces are split
where they cross those levels so the rule resolves it.

The nodes carry the labels: a region of label 0 yields each node twice, once correctly labelled
(``y = +1`` on ``u >= 0``, weight ``p_correct(u)``) and once mislabelled (``y = -1``, weight
``1 - p_correct(u)``). A law with a soft window (a noisy score) multiplies each node's weight
by its keep probability; the law's regions are cut where the window changes. By the symmetry
``(u, w, y) -> (-u, -w, -y)`` every average of a margin loss over the whole plane equals the
average over these nodes. A window with ``reweight`` set also gives each node the loss weight
``1 / pi`` (importance reweighting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss

__all__ = ["LawNodes", "law_nodes"]

R_MAX = 9.0
_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class LawNodes:
    """Quadrature nodes of a kept law, arrays of shape ``(M,)``.

    Attributes
    ----------
    yu, yw : ndarray
        Label times the teacher field and times the probe's orthogonal field.
    wt : ndarray
        Probability weights (they sum to the law's mass, 1 up to the rule's error).
    wrong : ndarray of bool
        The node's label differs from ``sign(u)``.
    vw : ndarray or None
        Loss weight of each node (importance reweighting: the kept examples' losses are
        multiplied by ``1 / pi``); None when every loss has weight 1.
    """

    yu: np.ndarray
    yw: np.ndarray
    wt: np.ndarray
    wrong: np.ndarray
    vw: np.ndarray = None

    @property
    def mass(self) -> float:
        """Total weight (1 for a normalised law, 0 for an empty one)."""
        return float(self.wt.sum())

    @property
    def frac_wrong(self) -> float:
        """Fraction of kept examples whose label differs from ``sign(u)``."""
        return float(self.wt[self.wrong].sum() / self.wt.sum())


_SPLITS = (-3.0, 0.0, 3.0)  # the Gaussian's shoulders: composite rules resolve them
_SHORT, _N_SHORT = 0.25, 8  # pieces shorter than this (refinements) take this many nodes


def _pieces(lo, hi, extra=()):
    """``[lo, hi]`` cut at the fixed splits and at ``extra`` points inside it."""
    cuts = [lo, hi] + [c for c in (*_SPLITS, *extra) if lo < c < hi]
    return np.unique(cuts)


def _region_nodes(c0, cu, cw, n_out, n_in, u_levels, direction=None, p_breaks=()):
    """Nodes ``(u, w, weight)`` of the standard 2-D Gaussian restricted to one convex region.

    Coordinates ``(p, q)`` are rotated so that ``p`` is normal to the region's first line off
    the origin (a band's probe field): lines parallel to it bound ``p`` directly, the others
    bound ``q`` linearly in ``p``. The outer rule in ``p`` is composite between breakpoints
    (lines crossing, a bound meeting the truncation ``|q| = R_MAX`` or the Gaussian's shoulders
    ``q = 0, +-3``, the shoulders in ``p``), so the inner integral is smooth on each piece even
    when a bound is steep. ``direction`` (a unit ``(u, w)``
    vector) replaces that choice of ``p``, and ``p_breaks`` adds breakpoints along it: how a
    solver resolves an integrand that is sharp along the student's direction.
    """
    if direction is None:
        nz = [i for i in range(len(c0)) if c0[i] != 0.0]
        i0 = nz[0] if nz else 0
        nrm = math.hypot(cu[i0], cw[i0])
        n_u, n_w = cu[i0] / nrm, cw[i0] / nrm
    else:
        n_u, n_w = direction
    a = cu * n_u + cw * n_w
    b = -cu * n_w + cw * n_u
    par = np.abs(b) <= 1e-14 * np.hypot(a, b)
    p_lo, p_hi = -R_MAX, R_MAX
    for i in np.flatnonzero(par):
        if a[i] > 0.0:
            p_lo = max(p_lo, -c0[i] / a[i])
        elif a[i] < 0.0:
            p_hi = min(p_hi, -c0[i] / a[i])
        elif c0[i] < 0.0:
            return np.empty(0), np.empty(0), np.empty(0)
    if p_hi <= p_lo:
        return np.empty(0), np.empty(0), np.empty(0)
    slanted = np.flatnonzero(~par)
    extra = list(p_breaks)
    if u_levels and abs(n_u) > 0.5:
        # Along (or near) the teacher's axis u varies with p: the label probability's scale must
        # be resolved by the outer rule too (at n_w = 0 the inner splits below never see it).
        extra += [lv / n_u for lv in u_levels]
    for i in slanted:
        if a[i] != 0.0:  # where this line's q-bound meets the truncation
            extra += [(-c0[i] - b[i] * q) / a[i] for q in (-R_MAX, R_MAX)]
        if abs(a[i]) > 2.0 * abs(b[i]):  # a steep bound crosses the shoulders in a short p-range
            extra += [(-c0[i] - b[i] * q) / a[i] for q in _SPLITS]
        for j in slanted:
            den = a[i] * b[j] - a[j] * b[i]
            if j > i and den != 0.0:  # the two lines cross at this p
                extra.append((c0[j] * b[i] - c0[i] * b[j]) / den)
    rules = {n: leggauss(n) for n in {n_out, _N_SHORT}}
    xi, wi = leggauss(n_in)
    U, W, WT = [], [], []
    edges = _pieces(p_lo, p_hi, extra)
    lev_of_p = bool(u_levels) and abs(n_w) > 1e-12
    for e0, e1 in zip(edges[:-1], edges[1:]):
        xo, wo = rules[_N_SHORT if e1 - e0 < _SHORT else n_out]
        pp = 0.5 * (e1 - e0) * xo + 0.5 * (e0 + e1)
        wp = 0.5 * (e1 - e0) * wo * np.exp(-0.5 * pp * pp) / math.sqrt(_TWO_PI)
        # Inner interval of q at every outer node at once: bounds linear in p.
        q_lo = np.full(pp.size, -R_MAX)
        q_hi = np.full(pp.size, R_MAX)
        for i in slanted:
            bound = (-c0[i] - a[i] * pp) / b[i]
            if b[i] > 0.0:
                q_lo = np.maximum(q_lo, bound)
            else:
                q_hi = np.minimum(q_hi, bound)
        ok = q_hi > q_lo
        if not ok.any():
            continue
        pp, wp, q_lo, q_hi = pp[ok], wp[ok], q_lo[ok], q_hi[ok]
        # Cut points of each inner interval: the shoulders and, with teacher noise, where
        # u = level along the line of constant p; clipped into the interval, a cut outside it
        # makes an empty piece (zero weight), so every outer node has the same piece count.
        cuts = [np.broadcast_to(np.float64(c), pp.shape) for c in _SPLITS]
        if lev_of_p:
            cuts += [(lv - pp * n_u) / -n_w for lv in u_levels]
        inner = np.sort(np.clip(np.stack(cuts, axis=1), q_lo[:, None], q_hi[:, None]), axis=1)
        ends = np.concatenate([q_lo[:, None], inner, q_hi[:, None]], axis=1)  # (M, C + 2)
        f0, f1 = ends[:, :-1, None], ends[:, 1:, None]  # (M, C + 1, 1)
        q = 0.5 * (f1 - f0) * xi + 0.5 * (f0 + f1)  # (M, C + 1, n_in)
        wq = 0.5 * (f1 - f0) * wi * np.exp(-0.5 * q * q) / math.sqrt(_TWO_PI)
        P = pp[:, None, None]
        U.append((P * n_u - q * n_w).ravel())
        W.append((P * n_w + q * n_u).ravel())
        WT.append((wp[:, None, None] * wq).ravel())
    if not U:
        return np.empty(0), np.empty(0), np.empty(0)
    return np.concatenate(U), np.concatenate(W), np.concatenate(WT)


def law_nodes(law, *, n_out=16, n_in=16, direction=None, p_breaks=()) -> LawNodes:
    """Quadrature nodes of a kept law (see the module docstring).

    Parameters
    ----------
    law : KeptLaw
        The kept law, with its label noise.
    n_out, n_in : int
        Gauss-Legendre nodes per piece of the outer and of the inner coordinate.
    direction : (float, float), optional
        Unit vector in the ``(u, w)`` plane to use as the outer coordinate ``p`` of every region
        (default: normal to the region's first line off the origin).
    p_breaks : sequence of float
        Extra breakpoints of the outer coordinate (with ``direction``).

    Returns
    -------
    LawNodes
    """
    noise = law.noise
    u_levels = list(noise.u_levels())
    yu, yw, wt, wrong = [], [], [], []
    for k in range(law.ncon.size):
        n = int(law.ncon[k])
        u, w, g = _region_nodes(law.c0[k, :n], law.cu[k, :n], law.cw[k, :n], n_out, n_in,
                                u_levels, direction, p_breaks)
        if u.size == 0:
            continue
        g = g * law.weight
        pc = noise.p_correct(u)
        if law.labels[k] >= 0:
            yu.append(u)
            yw.append(w)
            wt.append(g * pc)
            wrong.append(np.zeros(u.size, dtype=bool))
        if law.labels[k] <= 0 and not noise.clean:
            yu.append(-u)
            yw.append(-w)
            wt.append(g * (1.0 - pc))
            wrong.append(np.ones(u.size, dtype=bool))
    if not yu:  # an empty law (a threshold search can probe one): no nodes, mass 0
        return LawNodes(yu=np.empty(0), yw=np.empty(0), wt=np.empty(0),
                        wrong=np.empty(0, dtype=bool))
    yu, yw, wt, wrong = (np.concatenate(z) for z in (yu, yw, wt, wrong))
    vw = None
    if law.window is not None:
        pk = law.window.prob(yu, yw)
        wt = wt * pk
        if getattr(law.window, "reweight", False):
            # Importance weights 1 / pi; where pi = 0 the node carries no weight and is dropped.
            vw = 1.0 / np.where(pk > 0.0, pk, 1.0)
    keep = wt > 0.0
    return LawNodes(yu=yu[keep], yw=yw[keep], wt=wt[keep], wrong=wrong[keep],
                    vw=None if vw is None else vw[keep])
