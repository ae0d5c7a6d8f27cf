"""Replica theory against finite-size simulations of the exact max-margin student.

Pattern: Monte-Carlo at finite ``N`` (fixed seeds) against the ``N -> infinity`` theory, with an
explicit statistical tolerance (3 standard errors over seeds) plus a stated finite-size allowance.

Allowances (measured with this simulator, N = 400, 16 seeds unless said otherwise):

* ``eps``: 4% of the theory value. Away from sharp transitions the measured gaps are within
  2.5% (largest: keep easy f = 0.2, alpha_tot = 10, theta = 60: -2.5%; keep easy f = 0.2,
  alpha_tot = 2, theta = 30: -1.7%; keep hard f = 0.2, alpha_tot = 2, theta = 60: -1.3%).
* The keep-hard curve at f = 0.2 has its steep transition at alpha_prune ~ 2 (alpha_tot ~ 10),
  where the seed-to-seed spread is large and skewed (std 0.025 at N = 400 for eps ~ 0.1: a few
  seeds have not yet "crossed"). With 8 seeds one sees 0.110 +- 0.005 against 0.097 (13%), but
  that is mostly the skewed spread: with 128 seeds N = 400 gives +4.3 +- 2.3%. The mean gap,
  measured with 1024 / 512 / 128 / 48 seeds at N = 100 / 200 / 400 / 800, is
  +6.8 +- 1.4%, +4.0 +- 1.4%, +4.3 +- 2.3%, +1.1 +- 1.9%, and the spread shrinks
  (0.044, 0.031, 0.025, 0.012). There the allowance is 8%, and a separate test checks the
  direction of the finite-size bias at small N and the convergence at N = 800.
* ``rho`` (student overlap with the probe's direction orthogonal to the teacher): 3 s.e.m. + 0.02.
* The margin ``kappa`` and the support vectors per dimension (theory: ``alpha <Phi(a)>``):
  3 s.e.m. + 4% and 3 s.e.m. + 2% (measured: within 3.5% and 1.4%).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from perceptron_pruning import simulate, theory

N = 400
SEEDS = 16
EPS_ALLOWANCE = 0.04
STEEP_ALLOWANCE = 0.08
RHO_ALLOWANCE = 0.02
# Keep hard at f = 0.2, alpha_tot = 10 sits in the steep transition (theta = 10 as well: the
# curve's transition moves with theta and the seed spread there is as large).
STEEP = {("hard", 0.2, 10.0, 0.0), ("hard", 0.2, 10.0, 10.0)}


def _sem(x):
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


def _cases():
    for keep, f, alpha_tot, theta in itertools.product(("hard", "easy"), (0.2, 0.5), (2.0, 10.0),
                                                       (0.0, 10.0, 30.0, 60.0)):
        marks = [pytest.mark.slow] if alpha_tot == 10.0 else []
        yield pytest.param(keep, f, alpha_tot, theta, marks=marks,
                           id=f"{keep}-f{f:g}-a{alpha_tot:g}-th{theta:g}")


@pytest.mark.parametrize("keep,f,alpha_tot,theta", list(_cases()))
def test_simulation_matches_theory(keep, f, alpha_tot, theta):
    sim = simulate(N, alpha_tot, f=f, keep=keep, theta=theta, seeds=SEEDS)
    th = theory.solve(alpha_tot=alpha_tot, f=f, keep=keep, theta=theta)
    assert sim.alpha_prune == pytest.approx(th.alpha_prune, rel=1e-12)  # same kept count / N
    eps, eps_sem = float(np.mean(sim.eps)), _sem(sim.eps)
    allowance = STEEP_ALLOWANCE if (keep, f, alpha_tot, theta) in STEEP else EPS_ALLOWANCE
    tol = 3 * eps_sem + allowance * th.eps
    assert abs(eps - th.eps) <= tol, (
        f"eps: simulation {eps:.4f} +- {eps_sem:.4f} vs theory {th.eps:.4f} (tol {tol:.4f})")
    rho, rho_sem = float(np.mean(sim.rho)), _sem(sim.rho)
    tol = 3 * rho_sem + RHO_ALLOWANCE
    assert abs(rho - th.rho) <= tol, (
        f"rho: simulation {rho:+.4f} +- {rho_sem:.4f} vs theory {th.rho:+.4f} (tol {tol:.4f})")
    kappa, kappa_sem = float(np.mean(sim.kappa)), _sem(sim.kappa)
    assert abs(kappa - th.kappa) <= 3 * kappa_sem + 0.04 * th.kappa, (kappa, kappa_sem, th.kappa)
    nsv = sim.n_support / N
    assert abs(np.mean(nsv) - th.alpha_support) <= 3 * _sem(nsv) + 0.02 * th.alpha_support, (
        np.mean(nsv), th.alpha_support)
    # rho is the overlap with the probe's orthogonal direction: its sign is a physical
    # prediction (keep hard pushes the student away from the probe, keep easy towards it).
    if abs(th.rho) > 5 * rho_sem + RHO_ALLOWANCE:
        assert np.sign(rho) == np.sign(th.rho)


@pytest.mark.slow
def test_steep_transition_finite_size_effect():
    # Keep hard, f = 0.2, alpha_tot = 10, perfect metric: the steepest point of the comparison.
    th = theory.solve(alpha_tot=10.0, f=0.2, keep="hard", theta=0.0).eps
    small = simulate(100, 10.0, f=0.2, keep="hard", seeds=1024)
    large = simulate(800, 10.0, f=0.2, keep="hard", seeds=48)
    gap_small = float(np.mean(small.eps)) - th
    gap_large = float(np.mean(large.eps)) - th
    # At N = 100 the finite-size bias is resolved and positive (finite systems lag behind the
    # transition; measured +6.8 +- 1.4%) ...
    assert gap_small > 2 * _sem(small.eps)
    assert gap_small < 0.15 * th
    # ... while at N = 800 the simulation agrees with the theory to 2% + 3 s.e.m. (measured
    # +1.1 +- 1.9%) and the seed-to-seed spread has shrunk (self-averaging; measured 0.044 ->
    # 0.012).
    assert abs(gap_large) <= 3 * _sem(large.eps) + 0.02 * th
    assert np.std(large.eps) < 0.5 * np.std(small.eps)
