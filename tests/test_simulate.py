"""Finite-size simulations against the textbook learning curve; determinism; input checks."""

from __future__ import annotations

import concurrent.futures as cf
import math

import numpy as np
import pytest
from reference import kappa_at, maxmargin_curve_point

from perceptron_pruning import simulate, sweep
from perceptron_pruning.trial import run_trial

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
    res = simulate(N, alpha, f=1.0, seeds=n_seeds)
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
    ref = simulate(50, 3.0, f=1.0, keep="hard", seeds=3)
    for keep in ("easy", "random"):
        res = simulate(50, 3.0, f=1.0, keep=keep, seeds=3)
        assert np.array_equal(res.eps, ref.eps) and np.array_equal(res.kappa, ref.kappa)


# ------------------------------------------------------------------------------------------
# Determinism.


@pytest.mark.parametrize("keep, theta", [("hard", 0.0), ("easy", 15.0), ("random", 40.0)])
def test_executor_does_not_change_results(keep, theta):
    kw = dict(f=0.4, keep=keep, theta=theta, seeds=6, seed=3)
    with cf.ThreadPoolExecutor(max_workers=1) as ex:
        one = simulate(80, 6.0, executor=ex, **kw)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        two = simulate(80, 6.0, executor=ex, **kw)
    default = simulate(80, 6.0, **kw)
    for name in ("seeds", "eps", "R", "kappa", "rho", "n_support"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
        assert np.array_equal(getattr(one, name), getattr(default, name)), name


def test_simulate_is_the_one_point_sweep_under_every_executor():
    # The same point and root seed through the sweep machinery, serially, on threads and on
    # processes, gives the same numbers as simulate: one path, one seeding.
    point = dict(n=40, alpha_tot=2.0, f=0.5, keep="hard", theta=10.0)
    res = simulate(**point, seeds=3, seed=11)
    tasks = sweep.make_tasks(**point, replicates=3, seed=11)
    children = np.random.SeedSequence(11).spawn(3)
    assert res.seeds.tolist() == [int(c.generate_state(1, dtype=np.uint64)[0])
                                  for c in children]
    with cf.ThreadPoolExecutor(2) as th, cf.ProcessPoolExecutor(2) as pr:
        for ex in (None, th, pr):
            (agg,) = sweep.aggregate(sweep.run_sweep(tasks, executor=ex))
            for q in ("eps", "R", "rho", "kappa", "n_support"):
                assert np.array_equal(getattr(agg, q), getattr(res, q)), (ex, q)
    for i, t in enumerate(tasks):
        tr = run_trial(t)
        assert tr.values["eps"] == res.eps[i] and tr.values["kappa"] == res.kappa[i]
        assert tr.values["eps"] == pytest.approx(math.acos(tr.values["R"]) / math.pi, abs=1e-15)
    other = simulate(**point, seeds=1, seed=12)
    assert other.eps[0] != res.eps[0]


def test_result_fields():
    res = simulate(30, 4.0, f=0.25, keep="hard", seeds=4)
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
    (dict(theta=-0.1), "theta"),
    (dict(theta=90.01), "theta"),
    (dict(keep="medium"), "keep"),
    (dict(keep=None), "keep"),
    (dict(seeds=0), "seeds"),
    (dict(seeds=-2), "seeds"),
    (dict(seeds=[]), "seeds"),
    (dict(seeds=10**20), "seeds"),
    (dict(seed=-1), "seed"),
    (dict(learner="no-such-learner"), "learner"),
    (dict(metric="no-such-metric"), "metric"),
    (dict(n=100_000, alpha_tot=100.0), "alpha_tot"),  # would need ~7 TiB: refused up front
    (dict(f=0.001), "f"),  # keeps round(0.001 * 40) = 0 examples
    (dict(n=10, alpha_tot=0.01), "alpha_tot"),  # draws no examples at all
])
def test_bad_parameters_raise_naming_them(kwargs, name):
    args = dict(n=20, alpha_tot=2.0, f=0.5, keep="hard", theta=0.0, seeds=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        simulate(**args)
