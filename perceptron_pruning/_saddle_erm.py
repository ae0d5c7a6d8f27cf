"""Saddle point of regularised ERM on a kept law (theory-erm.md), for every convex learner.

The student's field on a kept example is ``h = m u + rho w + s g``. Gordon's min-max of
theory-erm.md,

    min_{m, rho, s}  max_beta  min_tau  (lam/2)(m^2 + rho^2 + s^2) - beta s + beta tau / 2
                                         + alpha E[M_{tau/beta}(y, m u + rho w + s g)],

is stationary where (with ``V = tau / beta``, ``z = y h``, ``P`` the loss's proximal map; the
averages are :mod:`perceptron_pruning._erm_theory_kernels`'s ``A``, ``D``, ``C``)

- ``d/dtau``, ``d/dbeta``: ``tau = s`` and ``s^2 = alpha E[(P(z) - z)^2]``;
- ``d/ds`` (Stein's lemma on ``g``): ``lam V + alpha E[1 - P'(z)] = 1``;
- ``d/dm``, ``d/drho``: ``lam V m = alpha E[(P(z) - z) y u]`` and the same with ``y w``.

Four equations in ``(m, rho, s, V)`` (three when the law is even in ``w``: ``rho = 0``), solved by
Powell's hybrid method, continued along the sorted grid of ``alpha`` from a small ``alpha``
where the student is Hebb's rule (:meth:`_Problem.start`).

The max-margin student is the hard-constraint envelope ``(1 - z)_+^2 / (2 V)`` at ``lam -> 0``:
``lam V`` tends to ``Lambda = 1 - alpha E[1(z < 1)]`` (one minus the support vectors per
example), and the equations for ``(m, rho, s)`` are the three others with ``lam V`` replaced by
``Lambda``; this is theory.md's max-margin in the normalisation ``kappa = 1``. It has a solution
only below the capacity ``alpha_c = max over directions of s^2 / E[(-z)_+^2]``
(:func:`capacity`): with clean labels ``alpha_c`` is infinite; with label noise beyond it the
kept data are not separable and there is no max-margin student.

Importance weights (a window with ``reweight``: :class:`~perceptron_pruning._law_nodes.LawNodes`
``vw``). With losses ``v_mu l(y_mu h_mu)`` the envelope at a kept example is
``min_h [v l(h) + (h - omega)^2 / (2 V)] = v M_{vV}(omega)``, whose ``omega``- and
``V``-derivatives are ``(omega - P) / V`` and ``-(omega - P)^2 / (2 V^2)`` with ``P`` the proximal
map at ``v V``: exactly the unweighted ones with ``P`` evaluated at ``v V``. Redoing the four
derivatives above with them (``d/dtau``: ``beta^2 V^2 = alpha E[(P - z)^2]``; ``d/dbeta`` then
``tau = s``; ``d/ds`` by Stein; ``d/dm``, ``d/drho``) gives the same four equations, with ``A``,
``D``, ``C`` averaged node by node at ``v V`` (``_erm_theory_kernels.averages_weighted``). A
constant ``v`` is the unweighted problem at ``lam / v``. At small ``alpha`` every example is
orthogonal to the others and its field is ``P_v(0)``, the proximal point of 0 at ``v / lam``:
``J = sum P_v(0) y x / sqrt(N)``, the Hebb-like start (:meth:`_Problem.start`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize, root

from . import _erm_theory_kernels as _k
from ._law_nodes import R_MAX, LawNodes, law_nodes
from ._saddle_maxmargin import TheoryError

__all__ = ["LOSSES", "capacity", "hebb_curve", "solve_curve"]

LOSSES = {"hinge": 0, "logistic": 1, "square": 2, "hard": 3}
_GH_X, _GH_W = _k.gauss_hermite(24)
_TOL = 1e-9
_KINK_STEPS = (-6.0, -3.0, -1.5, -0.75, 0.0, 0.75, 1.5, 3.0, 6.0)  # breakpoints, in kink widths
_RATIO = 4.0  # largest step of the continuation in alpha (halved on failure)


class _Problem:
    def __init__(self, law, loss, lam):
        self.law = law
        self.planar = law.symmetric
        self.base = self.nodes = self._nodes()
        if not self.nodes.mass > 0.5:  # a metric's law must be normalised
            raise ValueError(f"the kept law has mass {self.nodes.mass:g}, not 1")
        self.noise = law.noise
        self.loss, self.code, self.lam = loss, LOSSES[loss], lam
        nd = self.nodes
        self.a = float(nd.wt @ nd.yu) / nd.mass
        self.b = 0.0 if self.planar else float(nd.wt @ nd.yw) / nd.mass
        self.weighted = nd.vw is not None and self.code != 3  # (positive weights: no effect)
        self.v_typ = _typical(nd.vw, nd.wt) if self.weighted else (1.0,)

    def _nodes(self, **kw):
        nd = law_nodes(self.law, **kw)
        return _merge_planar(nd) if self.planar else nd

    def avg(self, m, rho, s, V):
        nd = self.nodes
        if self.weighted:
            return _k.averages_weighted(self.code, nd.yu, nd.yw, nd.wt, nd.vw, m, rho, s, V,
                                        _GH_X, _GH_W)
        return _k.averages(self.code, nd.yu, nd.yw, nd.wt, m, rho, s, V, _GH_X, _GH_W)

    def unpack(self, x):
        s = math.exp(min(max(x[0], -300.0), 300.0))  # hybr's trial steps can be wild
        if self.code == 3:
            return x[1], (0.0 if self.planar else x[2]), s, math.inf
        return x[2], (0.0 if self.planar else x[3]), s, math.exp(min(max(x[1], -300.0), 300.0))

    def pack(self, m, rho, s, V):
        head = [math.log(s)] + ([] if self.code == 3 else [math.log(V)]) + [m]
        return np.array(head + ([] if self.planar else [rho]))

    def residual(self, x, alpha):
        m, rho, s, V = self.unpack(x)
        if not (abs(m) < 1e12 and abs(rho) < 1e12):  # a wild trial step: steer it back
            return np.full(x.size, 1e6)
        EA, ED, ECu, ECw = self.avg(m, rho, s, V)
        nrm = math.sqrt(m * m + rho * rho + s * s)
        r = [alpha * EA / (s * s) - 1.0]
        if self.code == 3:
            lv = 1.0 - alpha * ED  # Lambda = lim lam V
        else:
            lv = self.lam * V
            r.append(lv + alpha * ED - 1.0)
        r.append((lv * m - alpha * ECu) / nrm)
        if not self.planar:
            r.append((lv * rho - alpha * ECw) / nrm)
        return np.array(r)

    def start(self, alpha):
        """The small-``alpha`` solution: Hebb's direction, ``lam V = 1``, and every training
        field at the proximal point of 0, ``P0 = P(0)`` (for the hinge and the hard constraint
        ``P0 = 1``): ``m = alpha E[y u] P0``, ``s^2 = alpha P0^2``. With loss weights ``P0``
        is the node's own (proximal map at ``v V``): ``m = alpha E[P0 y u]``,
        ``rho = alpha E[P0 y w]``, ``s^2 = alpha E[P0^2]``.
        """
        V = 1.0 if self.code == 3 else 1.0 / self.lam
        if self.weighted:
            # C = P0 - z and A = (P0 - z)^2 at z ~ 0: the averages are E[P0 y u], E[P0^2], ...
            EA, _, ECu, ECw = self.avg(0.0, 0.0, 1e-9, V)
            return self.pack(alpha * ECu, 0.0 if self.planar else alpha * ECw,
                             math.sqrt(alpha * EA), V)
        p0 = 1.0 if self.code == 3 else math.sqrt(self.avg(0.0, 0.0, 1e-9, V)[0])
        return self.pack(alpha * self.a * p0, alpha * self.b * p0, math.sqrt(alpha) * p0, V)

    def refine(self, x):
        """Nodes that resolve the averaged kernel at ``x``.

        The averages are sharp along the student's direction ``(m, rho)`` when the kernel's
        kinks (hinge: ``z = 1`` and ``1 - V``; hard constraint: ``z = 1``; logistic: soft kinks
        near ``z = -V``, ``0`` and ``log(1 + V)``) are narrower, in the plane, than the
        Gaussian's scale: width ``w / M`` with ``w = s`` (``max(s, 1)`` for the logistic) and
        ``M = |(m, rho)|``. Then the quadrature is rebuilt with that direction as its outer
        coordinate and breakpoints around every kink.

        With loss weights the kinks at ``-V v``, ``log(1 + V v)`` (logistic) and ``1 - V v``
        (hinge) move from node to node; breakpoints go around them for the typical weights
        (:func:`_typical`: exact for a window of a few levels, a compromise otherwise).
        """
        m, rho, s, V = self.unpack(x)
        M = math.hypot(m, rho)
        if self.code == 2 or M == 0.0:
            return self.base
        if self.code == 1:
            # Soft kinks: the base rule resolves them down to a quarter of the Gaussian's
            # scale (measured: 5e-11 in eps at lam = 0.1, 2e-7 at lam = 1e-3 without refining).
            kinks = (0.0,) + tuple(k for v in self.v_typ for k in (-V * v, math.log1p(V * v)))
            w, sharp = max(s, 1.0), 0.25
        elif self.code == 0:
            kinks, w, sharp = (1.0,) + tuple(1.0 - V * v for v in self.v_typ), s, 1.0
        else:
            kinks, w, sharp = (1.0,), s, 1.0
        if w / M >= sharp:
            return self.base
        breaks = np.unique([(c + k * w) / M for c in kinks for k in _KINK_STEPS])
        breaks = breaks[np.abs(breaks) < R_MAX]
        keep = np.append(True, np.diff(breaks) > 0.3 * w / M)  # merge near-duplicates
        return self._nodes(direction=(m / M, rho / M), p_breaks=breaks[keep])

    def _scales(self, x):
        m, rho, s, V = self.unpack(x)
        M = math.hypot(m, rho)
        return M, (max(s, 1.0) if self.code == 1 else s), math.atan2(rho, m)

    def solve(self, alpha, x0):
        x = np.asarray(x0, dtype=float)
        for _ in range(3):
            self.nodes = self.refine(x)
            sol = root(self.residual, x, args=(alpha,), method="hybr", options={"xtol": 1e-13})
            (M0, w0, a0), (M1, w1, a1) = self._scales(x), self._scales(sol.x)
            x = sol.x
            # The nodes were placed for the start: still good if the kinks moved by a small
            # fraction of their width; otherwise place them again at the solution and re-solve.
            if self.nodes is self.base:
                nxt = self.refine(x)
                if nxt is self.base:
                    break
            elif (M0 > 0.0 and abs(M1 / M0 - 1.0) < 0.02 and abs(w1 / w0 - 1.0) < 0.1
                  and abs(a1 - a0) * M1 < 0.1 * w1):
                break
        res = np.abs(self.residual(x, alpha)).max()
        return x, res


def _typical(vw, wt):
    """Loss weights around which :meth:`_Problem.refine` places breakpoints: the 10%, 50% and
    90% quantiles of ``vw`` under the kept law, distinct to 1e-3 relative.
    """
    order = np.argsort(vw)
    cdf = np.cumsum(wt[order]) / wt.sum()
    q = vw[order][np.minimum(np.searchsorted(cdf, (0.1, 0.5, 0.9)), vw.size - 1)]
    out = [float(q[0])]
    for v in q[1:]:
        if v > out[-1] * (1.0 + 1e-3):
            out.append(float(v))
    return tuple(out)


def _merge_planar(nd):
    """Nodes of an even law with equal ``yu`` (and loss weight and label) merged into one.

    When the law is even in ``w`` the student's ``rho`` is 0, so every average depends on a
    node through ``yu`` (and its loss weight) alone. A rule whose outer coordinate is the
    teacher's field (a strip of ``t = u``, the whole plane) repeats each ``yu`` at all its
    inner nodes: merging them divides the kernels' work by the inner order, exactly.
    """
    vw = np.zeros(nd.yu.size) if nd.vw is None else nd.vw
    key = np.stack([nd.yu, vw, nd.wrong.astype(float)])
    uniq, inv = np.unique(key, axis=1, return_inverse=True)
    if uniq.shape[1] == nd.yu.size:
        return nd
    wt = np.bincount(inv.ravel(), weights=nd.wt, minlength=uniq.shape[1])
    return LawNodes(yu=uniq[0], yw=np.zeros(uniq.shape[1]), wt=wt, wrong=uniq[2] > 0.5,
                    vw=None if nd.vw is None else uniq[1])


def capacity(law) -> float:
    """Largest ``alpha_prune`` at which the kept data are separable (``inf`` with clean labels).

    ``alpha_c = max over unit directions (m, rho, s) of s^2 / E[(-z)_+^2]``,
    ``z = m y u + rho y w + s g`` (Gardner's capacity at zero margin on the kept law).
    """
    if law.noise.clean:
        return math.inf
    nd = law_nodes(law)
    planar = law.symmetric
    if _plane_separates(nd.yu, nd.yw):
        # A direction of the teacher/probe plane has every kept y (u, w) on its positive side
        # (a label-aware filter keeps only what the probe classifies right): no capacity.
        return math.inf

    def neg(v):
        psi, chi = v[0], (v[1] if not planar else 0.0)
        m, rho, s = math.cos(psi), math.sin(psi) * math.sin(chi), math.sin(psi) * math.cos(chi)
        if s <= 1e-12:
            return 0.0
        e = _k.negative_part_sq(nd.yu, nd.yw, nd.wt, m, rho, s)
        return -(s * s) / max(e, 1e-300)

    best = None
    for psi in np.linspace(0.05, math.pi - 0.05, 25):
        for chi in ([0.0] if planar else np.linspace(-1.4, 1.4, 9)):
            v = np.array([psi, chi][: 1 if planar else 2])
            val = neg(v)
            if best is None or val < best[0]:
                best = (val, v)
    res = minimize(neg, best[1], method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    return float(-min(res.fun, best[0]))


def _plane_separates(yu, yw) -> bool:
    """Whether the points ``(yu, yw)`` lie in an open half-plane through the origin: their
    angles leave a gap wider than pi.
    """
    if yu.size == 0:
        return True
    ang = np.sort(np.arctan2(yw, yu))
    gaps = np.diff(np.concatenate([ang, ang[:1] + 2.0 * math.pi]))
    return bool(gaps.max() > math.pi + 1e-12)


def solve_curve(law, alpha, *, loss, lam):
    """Saddle point along ``alpha`` (any order) for ``loss`` in :data:`LOSSES`.

    Returns
    -------
    values : dict of str to ndarray, shape (K,)
        ``R``, ``rho`` (overlaps of the student's direction), ``norm`` (``|J| / sqrt(N)``),
        ``eps``, ``eps_noisy``, ``frac_mislabelled_kept``, ``residual``; for ``loss="hard"``
        also ``alpha_support`` (support vectors per dimension).
    jumps : tuple
        Always empty (the problem is convex: one solution).

    Raises
    ------
    TheoryError
        When a point cannot be solved to tolerance, or (``loss="hard"``) when ``alpha`` is at or
        beyond the capacity of the kept law.
    """
    alpha = np.asarray(alpha, dtype=float)
    prob = _Problem(law, loss, lam)
    if prob.code == 3:
        ac = capacity(law)
        if np.any(alpha >= ac):
            raise TheoryError(
                f"the kept data are not separable at alpha_prune = {float(alpha.max()):g}: the "
                f"label noise puts the max-margin capacity of this kept law at alpha_prune = "
                f"{ac:.4g}; use a regularised learner (svm) or a smaller alpha")
    order = np.argsort(alpha)
    a0 = min(float(alpha[order[0]]), 1e-3)
    hist = [(a0, prob.start(a0))]  # solved points (alpha, x), for a secant predictor

    def guess(a):
        if len(hist) < 2:
            return hist[-1][1]
        (a_0, x0), (a_1, x1) = hist[-2], hist[-1]
        return x1 + (x1 - x0) * (math.log(a / a_1) / math.log(a_1 / a_0))

    def step_to(a):
        xn, res = prob.solve(a, guess(a))
        if res > _TOL:  # the predictor can overshoot near a sharp turn: restart from the last
            xn, res = prob.solve(a, hist[-1][1])
        return xn, res

    out = {k: np.empty(alpha.size) for k in ("R", "rho", "norm", "residual", "alpha_support")}
    for i in order:
        target = float(alpha[i])
        while hist[-1][0] < target:
            a_prev = hist[-1][0]
            step = min(target, a_prev * _RATIO)
            xn, res = step_to(step)
            while res > _TOL and step > a_prev * (1.0 + 1e-6):
                step = a_prev * math.sqrt(step / a_prev)
                xn, res = step_to(step)
            if res > _TOL:
                raise TheoryError(f"the {loss} saddle point did not converge at alpha_prune = "
                                  f"{step:g} (residual {res:.2g})")
            hist.append((step, xn))
        x = hist[-1][1]
        res = float(np.abs(prob.residual(x, target)).max())
        m, rho, s, V = prob.unpack(x)
        nrm = math.sqrt(m * m + rho * rho + s * s)
        out["R"][i], out["rho"][i], out["norm"][i], out["residual"][i] = (
            m / nrm, rho / nrm, nrm, res)
        if prob.code == 3:
            out["alpha_support"][i] = target * prob.avg(m, rho, s, V)[1]
    if prob.code != 3:
        del out["alpha_support"]
    R = np.clip(out["R"], -1.0, 1.0)
    out["eps"] = np.arccos(R) / np.pi
    out["eps_noisy"] = law.noise.eps_noisy(R)
    out["frac_mislabelled_kept"] = np.full(alpha.size, prob.base.frac_wrong)
    return out, ()


def hebb_curve(law, alpha):
    """Hebb's rule ``J = sum y x / sqrt(N)`` in closed form: ``R = a / sqrt(a^2 + b^2 + 1/alpha)``
    with ``a = E[y u]``, ``b = E[y w]``; ``norm^2 = alpha^2 (a^2 + b^2) + alpha``.

    With loss weights ``v`` (a reweighting window) ``J = sum v y x / sqrt(N)``:
    its overlaps with the teacher and with the probe's orthogonal direction tend to
    ``alpha a`` and ``alpha b`` with ``a = E[v y u]``,
    ``b = E[v y w]``, and the ``N - 2`` other directions add ``alpha E[v^2]`` to ``|J|^2 / N``
    (the cross terms between examples average out), so
    ``R = a / sqrt(a^2 + b^2 + E[v^2] / alpha)``.
    """
    alpha = np.asarray(alpha, dtype=float)
    nd = law_nodes(law)
    v = np.ones(nd.wt.size) if nd.vw is None else nd.vw
    a = float(nd.wt @ (v * nd.yu)) / nd.mass
    b = 0.0 if law.symmetric else float(nd.wt @ (v * nd.yw)) / nd.mass
    q = 1.0 if nd.vw is None else float(nd.wt @ (v * v)) / nd.mass
    den = np.sqrt(a * a + b * b + q / alpha)
    R = a / den
    return {"R": R, "rho": b / den, "norm": np.sqrt(alpha ** 2 * (a * a + b * b) + alpha * q),
            "eps": np.arccos(np.clip(R, -1.0, 1.0)) / np.pi, "eps_noisy": law.noise.eps_noisy(R),
            "frac_mislabelled_kept": np.full(alpha.size, nd.frac_wrong),
            "residual": np.zeros(alpha.size)}, ()
