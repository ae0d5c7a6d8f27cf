"""Finite-size simulations against the textbook learning curve; determinism; input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import kappa_at, maxmargin_curve_point

from perceptron_pruning import simulate
from perceptron_pruning.simulate import run_trial

# ------------------------------------------------------------------------------------------
# The independent reference itself.


def test_reference_reproduces_known_limits():
    # Gardner's capacity: with random labels (R = 0) the largest alpha at kappa = 0 is 2.
    assert abs(kappa_at(0.0, 2.0)) < 1e-10
    # Large alpha: alpha * eps -> 0.5005 (Opper et al.), kappa -> 0, R -> 1.
    big = maxmargin_curve_point(1e4)
    assert big.alpha * big.eps == pytest.approx(0.5005, abs=2e-4)
    assert big.kappa < 2e-4 and big.R > 1 - 1e-7
    # Small alpha: R -> 0, eps -> 1/2, kappa large.
    small = maxmargin_curve_point(0.01)
    assert small.eps > 0.45 and small.kappa > 5.0
    # The variational solution satisfies the stationarity equation (eq. 2) too.
    for alpha in (0.5, 2.0, 10.0):
        p = maxmargin_curve_point(alpha)
        assert abs(p.eq2_residual) < 1e-7
        assert 0.0 < p.support_per_dim < 1.0


# ------------------------------------------------------------------------------------------
# Unpruned simulation against the replica curve.

N = 400
# Finite-size allowance: at N = 400 the seed-averaged error of the max-margin student differs
# from the N -> infinity curve by O(1/N) corrections. We allow 2 % of the theoretical value on
# top of 3 standard errors of the seed average (measured: |deviation| < 1 % at this N, with 32-64
# seeds). The margin gets the same allowance and the support-vector fraction 0.01 absolute.
FINITE_SIZE_REL = 0.02
SUPPORT_ABS = 0.01


def _sem(x):
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


@pytest.mark.slow
@pytest.mark.parametrize("alpha, n_seeds", [(1.0, 64), (2.0, 64), (10.0, 48)])
def test_unpruned_simulation_matches_learning_curve(alpha, n_seeds):
    theory = maxmargin_curve_point(alpha)
    res = simulate(N, alpha, f=1.0, seeds=n_seeds, n_threads=2)
    assert res.p_kept == res.p_tot == round(alpha * N)
    tol = 3.0 * res.eps_sem + FINITE_SIZE_REL * theory.eps
    assert abs(res.eps_mean - theory.eps) <= tol, (res.eps_mean, res.eps_sem, theory.eps)
    tol = 3.0 * _sem(res.kappa) + FINITE_SIZE_REL * theory.kappa
    assert abs(res.kappa_mean - theory.kappa) <= tol, (res.kappa_mean, theory.kappa)
    sv = res.n_support / N
    tol = 3.0 * _sem(sv) + SUPPORT_ABS
    assert abs(sv.mean() - theory.support_per_dim) <= tol, (sv.mean(), theory.support_per_dim)
    # With the perfect metric (theta = 0) the probe's orthogonal direction is random: rho ~ 0.
    assert abs(res.rho_mean) <= 4.0 * _sem(res.rho)


def test_f_one_keeps_everything_whatever_the_rule():
    ref = simulate(50, 3.0, f=1.0, keep="hard", seeds=3, n_threads=1)
    for keep in ("easy", "random"):
        res = simulate(50, 3.0, f=1.0, keep=keep, seeds=3, n_threads=1)
        assert np.array_equal(res.eps, ref.eps) and np.array_equal(res.kappa, ref.kappa)


# ------------------------------------------------------------------------------------------
# Determinism.


@pytest.mark.parametrize("keep, theta", [("hard", 0.0), ("easy", 15.0), ("random", 40.0)])
def test_thread_count_does_not_change_results(keep, theta):
    kw = dict(f=0.4, keep=keep, theta_deg=theta, seeds=6)
    one = simulate(80, 6.0, n_threads=1, **kw)
    two = simulate(80, 6.0, n_threads=2, **kw)
    for name in ("seeds", "eps", "R", "kappa", "rho", "n_support"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    again = simulate(80, 6.0, n_threads=2, **kw)
    assert np.array_equal(again.eps, two.eps) and np.array_equal(again.rho, two.rho)


def test_explicit_seeds_match_run_trial():
    res = simulate(40, 2.0, f=0.5, keep="hard", theta_deg=10.0, seeds=[5, 2, 11], n_threads=2)
    assert res.seeds.tolist() == [5, 2, 11]
    for i, s in enumerate([5, 2, 11]):
        t = run_trial(40, 2.0, 0.5, "hard", 10.0, s)
        assert t.seed == s and t.eps == res.eps[i] and t.kappa == res.kappa[i]
        assert t.eps == pytest.approx(math.acos(t.R) / math.pi, abs=1e-15)
    other = simulate(40, 2.0, f=0.5, keep="hard", theta_deg=10.0, seeds=[6], n_threads=1)
    assert other.eps[0] != res.eps[0]


def test_result_fields():
    res = simulate(30, 4.0, f=0.25, keep="hard", seeds=4, n_threads=1)
    assert res.p_tot == 120 and res.p_kept == 30
    assert res.alpha_prune == pytest.approx(1.0)
    assert res.eps.shape == res.R.shape == res.kappa.shape == res.rho.shape == (4,)
    np.testing.assert_array_equal(res.eps, np.arccos(res.R) / np.pi)
    assert res.eps_sem == pytest.approx(np.std(res.eps, ddof=1) / 2.0)
    d = res.to_dict()
    assert d["seeds"] == 4 and len(d["per_seed"]) == 4


# ------------------------------------------------------------------------------------------
# Input checks: one ValueError per bad parameter, naming it.


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=0), "n"),
    (dict(n=-3), "n"),
    (dict(n=2.5), "n"),
    (dict(alpha_tot=0.0), "alpha_tot"),
    (dict(alpha_tot=-1.0), "alpha_tot"),
    (dict(alpha_tot=math.nan), "alpha_tot"),
    (dict(f=0.0), "f"),
    (dict(f=1.5), "f"),
    (dict(f=-0.2), "f"),
    (dict(theta_deg=-0.1), "theta_deg"),
    (dict(theta_deg=90.01), "theta_deg"),
    (dict(keep="medium"), "keep"),
    (dict(keep=None), "keep"),
    (dict(seeds=0), "seeds"),
    (dict(seeds=-2), "seeds"),
    (dict(seeds=[]), "seeds"),
    (dict(seeds=[1, -1]), "seed"),
    (dict(f=0.001), "f"),  # keeps round(0.001 * 40) = 0 examples
    (dict(n=10, alpha_tot=0.01), "alpha_tot"),  # draws no examples at all
    (dict(n_threads=0), "n_threads"),
])
def test_bad_parameters_raise_naming_them(kwargs, name):
    args = dict(n=20, alpha_tot=2.0, f=0.5, keep="hard", theta_deg=0.0, seeds=2, n_threads=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        simulate(**args)
