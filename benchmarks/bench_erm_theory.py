"""Benchmark: the regularised learners' saddle point (theory-erm.md), logistic loss.

Usage::

    python benchmarks/bench_erm_theory.py            # ours and the numpy peer
    python benchmarks/bench_erm_theory.py --quick    # fewer repeats, the peer on 10 points

Case (issue 10's target): a 50-point theory curve for ``logistic`` (``lam = 0.1``) at
``theta = 10`` deg, keep hard, ``f = 0.5``, ``alpha_prune = geomspace(0.1, 100, 50)``, clean
labels and ``flip = 0.1``. Target: under 2 s for the curve.

Ours is :func:`perceptron_pruning.theory.curve` after a warm-up call (Numba compilation and
cache loading excluded), best of ``--repeats`` runs.

The peer is what one would write from theory-erm.md with numpy and scipy alone, on the same
kept-law quadrature nodes and Gauss-Hermite rule (so the two agree to the solver tolerance): the
four stationarity equations solved by ``scipy.optimize.root`` (hybr) with continuation along the
same grid from the same start, the averages vectorised over nodes x Gauss-Hermite points with the
logistic proximal map solved by a vectorised, bracketed Newton iteration (no table). The largest
``|eps_peer - eps_ours|`` is the accuracy cross-check.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import root

try:
    import perceptron_pruning  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perceptron_pruning import _saddle_erm, get_learner, get_metric, theory
from perceptron_pruning._law_nodes import law_nodes
from perceptron_pruning.noise import LabelNoise

GRID = np.geomspace(0.1, 100.0, 50)
CASE = dict(f=0.5, keep="hard", theta=10.0)
LAM = 0.1
TARGET = 2.0  # seconds for the 50-point curve


def _prox(z, V):
    lo, hi = z.copy(), z + V
    p = z + V / (1.0 + np.exp(np.minimum(z, 700.0)))
    for _ in range(60):
        sm = 1.0 / (1.0 + np.exp(np.minimum(p, 700.0)))
        f = p - z - V * sm
        hi = np.where(f > 0, p, hi)
        lo = np.where(f > 0, lo, p)
        pn = p - f / (1.0 + V * sm * (1.0 - sm))
        pn = np.where((pn < lo) | (pn > hi), 0.5 * (lo + hi), pn)
        if np.max(np.abs(pn - p)) <= 1e-14 * (1.0 + np.max(np.abs(p))):
            p = pn
            break
        p = pn
    sm = 1.0 / (1.0 + np.exp(np.minimum(p, 700.0)))
    return p, 1.0 / (1.0 + V * sm * (1.0 - sm))


def peer_curve(law, alphas):
    """The saddle point with numpy averages (see the module docstring)."""
    nd = law_nodes(law)
    gx, gw = _saddle_erm._GH_X, _saddle_erm._GH_W
    planar = law.symmetric

    def resid(x, alpha):
        s, V, m = math.exp(x[0]), math.exp(x[1]), x[2]
        rho = 0.0 if planar else x[3]
        z = (m * nd.yu + rho * nd.yw)[:, None] + s * gx[None, :]
        p, dp = _prox(z, V)
        A = ((p - z) ** 2) @ gw
        D = (1.0 - dp) @ gw
        C = (p - z) @ gw
        EA, ED = nd.wt @ A, nd.wt @ D
        ECu, ECw = nd.wt @ (C * nd.yu), nd.wt @ (C * nd.yw)
        nrm = math.sqrt(m * m + rho * rho + s * s)
        r = [alpha * EA / s ** 2 - 1.0, LAM * V + alpha * ED - 1.0,
             (LAM * V * m - alpha * ECu) / nrm]
        if not planar:
            r.append((LAM * V * rho - alpha * ECw) / nrm)
        return np.array(r)

    prob = _saddle_erm._Problem(law, "logistic", LAM)
    x = prob.start(1e-3)
    a = 1e-3
    out = []
    for target in alphas:
        while a < target:
            a = min(target, a * 4.0)
            x = root(resid, x, args=(a,), method="hybr", options={"xtol": 1e-13}).x
        m, rho, s = x[2], (0.0 if planar else x[3]), math.exp(x[0])
        out.append(math.acos(m / math.sqrt(m * m + rho * rho + s * s)) / math.pi)
    return np.array(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    learner = get_learner("logistic", lam=LAM)
    print(f"logistic lam = {LAM}, keep hard f = 0.5, theta = 10 deg, 50-point alpha grid "
          f"0.1..100; target: ours < {TARGET:g} s")
    for noise in ({}, {"flip": 0.1}):
        t0 = time.perf_counter()
        c = theory.curve(GRID, learner=learner, **CASE, **noise)
        warm = time.perf_counter() - t0
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            c = theory.curve(GRID, learner=learner, **CASE, **noise)
            best = min(best, time.perf_counter() - t0)
        law = get_metric("margin").kept_law(f=0.5, keep="hard", theta=10.0,
                                            noise=LabelNoise(**noise))
        pts = GRID[:10] if args.quick else GRID
        t0 = time.perf_counter()
        eps_peer = peer_curve(law, pts)
        t_peer = (time.perf_counter() - t0) * GRID.size / pts.size
        gap = float(np.max(np.abs(eps_peer - c.eps[: pts.size])))
        label = "clean" if not noise else "flip 0.1"
        print(f"{label:9s} ours {best:6.3f} s (first call {warm:.2f} s)  peer {t_peer:7.2f} s"
              f"{' (extrapolated from 10 points)' if args.quick else ''}  ratio "
              f"{t_peer / best:5.1f}x  max |eps gap| {gap:.1e}  target "
              f"{'met' if best < TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
