"""Derived theory (:mod:`perceptron_pruning.frontier`) against brute force over ``f``.

The references are dense scans of :func:`perceptron_pruning.theory.solve` (itself tested in
test_theory.py against independent quadrature), so the frontier logic (envelopes, argmins,
refinement, tie handling, bracketing) is checked without re-implementing it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from perceptron_pruning import frontier, simulate, theory


def _solve_eps(alpha_tot, f, keep, theta):
    return theory.solve(alpha_tot=alpha_tot, f=float(f), keep=keep, theta=theta).eps


def _dense_f_grid(alpha_tot):
    # Log-spaced in f, plus log-spaced in 1 - f: keep easy's optimum can sit close to f = 1.
    f_min = max(theory.F_MIN, theory.ALPHA_MIN / alpha_tot)
    fs = np.concatenate([np.geomspace(f_min, 1.0, 160), 1.0 - np.geomspace(1e-5, 0.5, 100)])
    return np.unique(fs)


# --------------------------------------------------------------------------------------------
# Pareto frontier
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keep,theta", [("hard", 0.0), ("easy", 10.0), ("hard", 10.0)])
def test_pareto_envelope_is_the_min_of_the_curves(keep, theta):
    alpha = np.geomspace(0.3, 60.0, 14)
    fs = np.array([0.1, 0.2, 0.5, 1.0])
    pf = frontier.pareto_frontier(alpha, fs, keep=keep, theta=theta)
    curves = np.vstack([theory.curve(alpha, f=f, keep=keep, theta=theta).eps for f in fs])
    np.testing.assert_allclose(pf.eps_by_f, curves, rtol=1e-10)
    np.testing.assert_array_equal(pf.alpha_prune, alpha)
    np.testing.assert_array_equal(pf.f_grid, fs)
    np.testing.assert_allclose(pf.eps, curves.min(axis=0), rtol=1e-10)
    np.testing.assert_array_equal(pf.f_best, fs[np.argmin(curves, axis=0)])
    assert pf.keep == keep and pf.theta == theta
    assert np.all(pf.eps <= curves[-1] * (1 + 1e-12))  # never worse than no pruning


def test_perfect_metric_frontier_and_the_allowed_f():
    # theory.md: keep hard with the perfect metric is a support-vector effect. Once past its
    # transition (alpha_prune >~ 7), eps(alpha_prune, f) is the unpruned error at
    # alpha_tot = alpha_prune / f, so the envelope over an f grid is set by the grid's smallest f:
    # eps = 0.5005 f_min / alpha_prune (unpruned asymptote), far below the unpruned curve.
    alpha = np.geomspace(2.0, 200.0, 9)
    fs = np.geomspace(1e-3, 1.0, 13)
    pf = frontier.pareto_frontier(alpha, fs, keep="hard", theta=0.0)
    unpruned = pf.eps_by_f[-1]
    assert np.all(pf.eps[1:] < 0.05 * unpruned[1:])
    big = alpha >= 10
    np.testing.assert_array_equal(pf.f_best[big], fs[0])
    np.testing.assert_allclose(pf.eps[big] * alpha[big] / fs[0], 0.5005, rtol=1e-3)


def test_easy_when_scarce_hard_when_abundant():
    # Paper: at fixed alpha_prune and f, keeping the easy examples wins when data are scarce,
    # keeping the hard ones when they are abundant (perfect metric).
    for f in (0.1, 0.3):
        easy = theory.curve([0.3, 30.0], f=f, keep="easy").eps
        hard = theory.curve([0.3, 30.0], f=f, keep="hard").eps
        assert easy[0] < hard[0] and hard[1] < easy[1]


# --------------------------------------------------------------------------------------------
# Optimal f
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha_tot,keep,theta", [(1.0, "easy", 0.0), (10.0, "easy", 0.0),
                                                  (2.0, "easy", 10.0)])
def test_optimal_f_interior_optimum_matches_dense_scan(alpha_tot, keep, theta):
    fs = _dense_f_grid(alpha_tot)
    eps = np.array([_solve_eps(alpha_tot, f, keep, theta) for f in fs])
    i = int(np.argmin(eps))
    assert 0 < i < fs.size - 1  # interior optimum: pruning helps at this alpha_tot
    o = frontier.optimal_f(alpha_tot, keep=keep, theta=theta)
    assert o.keep == keep and o.alpha_tot == alpha_tot and o.theta == theta
    # At least as good as the best scanned point, and consistent with the theory at its f.
    assert o.eps <= eps[i] * (1 + 1e-9)
    assert o.eps == pytest.approx(_solve_eps(alpha_tot, o.f, keep, theta), rel=1e-10)
    # The optimum lies between the scan's neighbours of its best point (eps(f) is unimodal).
    assert fs[i - 1] <= o.f <= fs[i + 1]
    assert o.eps_unpruned == pytest.approx(eps[-1], rel=1e-12)
    assert o.eps < o.eps_unpruned


def test_optimal_f_on_the_keep_hard_plateau_reports_its_smallest_f():
    # Keep hard, perfect metric, alpha_tot = 100: eps(f) equals the unpruned error (to 1e-13)
    # down to f alpha_tot ~ 10 and rises below; the documented answer is the smallest f of the
    # plateau on optimal_f's own 25-point log grid.
    alpha_tot = 100.0
    o = frontier.optimal_f(alpha_tot, keep="hard", theta=0.0)
    e1 = _solve_eps(alpha_tot, 1.0, "hard", 0.0)
    assert o.eps == pytest.approx(e1, rel=1e-9)
    fs = np.geomspace(0.01, 0.3, 120)
    eps = np.array([_solve_eps(alpha_tot, f, "hard", 0.0) for f in fs])
    edge = fs[np.argmax(eps <= e1 * (1 + 1e-9))]  # smallest f of the plateau (dense scan)
    step = (1.0 / max(theory.F_MIN, theory.ALPHA_MIN / alpha_tot)) ** (1 / 24)
    assert edge * (1 - 1e-9) <= o.f <= edge * step * (1 + 1e-9)


def test_optimal_f_best_rule():
    # Scarce data: keep easy wins (keep hard never beats keeping everything at alpha_tot = 1).
    o = frontier.optimal_f(1.0)
    assert o.keep == "easy" and o.f == o.f_easy and o.eps == o.eps_easy
    assert o.eps_easy < o.eps_unpruned
    assert o.eps_hard == pytest.approx(o.eps_unpruned, rel=1e-9)
    assert o.eps == min(o.eps_easy, o.eps_hard)
    single = frontier.optimal_f(1.0, keep="hard")
    assert math.isnan(single.eps_easy) and math.isnan(single.f_easy)
    assert single.keep == "hard"


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(alpha_tot=0.0), "alpha_tot"),
    (dict(alpha_tot=-1.0), "alpha_tot"),
    (dict(alpha_tot=1e5), "alpha_tot"),
    (dict(alpha_tot=10.0, keep="random"), "keep"),
    (dict(alpha_tot=10.0, theta=100.0), "theta"),
    (dict(alpha_tot=10.0, f_min=2.0), "f_min"),
])
def test_optimal_f_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        frontier.optimal_f(**kwargs)


# --------------------------------------------------------------------------------------------
# The keep-hard plateau (support-vector effect)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha_tot", [10.0, 100.0])
def test_keep_hard_plateau_in_theory(alpha_tot):
    e1 = _solve_eps(alpha_tot, 1.0, "hard", 0.0)
    fs = np.array([1.0, 0.8, 0.5, 0.3, 0.1]) if alpha_tot == 100 else np.array([1.0, 0.9, 0.8])
    fs = fs[fs * alpha_tot >= 8.0]
    np.testing.assert_allclose(frontier.eps_vs_f(alpha_tot, fs, keep="hard", theta=0.0), e1,
                               rtol=1e-10)
    # Below f alpha_tot ~ 3.6 the error rises steeply (theory.md).
    assert _solve_eps(alpha_tot, 3.0 / alpha_tot, "hard", 0.0) > 1.03 * e1
    assert _solve_eps(alpha_tot, 2.0 / alpha_tot, "hard", 0.0) > 1.5 * e1


@pytest.mark.slow
def test_keep_hard_plateau_in_simulation():
    # The same support-vector effect at N = 400, same seeds: the hardest 60% of the examples
    # contain every support vector of the full data, so the student is (nearly) unchanged.
    full = simulate(400, 10.0, f=1.0, keep="hard", theta=0.0, seeds=8)
    pruned = simulate(400, 10.0, f=0.6, keep="hard", theta=0.0, seeds=8)
    np.testing.assert_allclose(pruned.eps, full.eps, rtol=1e-6)
    np.testing.assert_array_equal(pruned.n_support, full.n_support)
    # Below the plateau the simulation's error rises, as the theory says.
    low = simulate(400, 10.0, f=0.2, keep="hard", theta=0.0, seeds=8)
    assert np.mean(low.eps) > 1.5 * np.mean(full.eps)


# --------------------------------------------------------------------------------------------
# Smallest useful f
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha_tot,keep,theta,rtol", [
    (10.0, "hard", 0.0, 1e-2),
    (10.0, "hard", 10.0, 1e-6),
    (1.0, "easy", 0.0, 1e-6),
    (100.0, "easy", 0.0, 1e-6),
])
def test_smallest_useful_f_brackets_the_crossing(alpha_tot, keep, theta, rtol):
    fu = frontier.smallest_useful_f(alpha_tot, keep=keep, theta=theta, rtol=rtol)
    e1 = _solve_eps(alpha_tot, 1.0, keep, theta)
    thr = e1 * (1 + rtol)
    assert 0 < fu < 1
    assert _solve_eps(alpha_tot, fu, keep, theta) == pytest.approx(thr, rel=1e-4 + rtol / 10)
    # No worse just above, worse just below (eps(f) crosses the threshold there).
    assert _solve_eps(alpha_tot, fu * 1.01, keep, theta) <= thr
    assert _solve_eps(alpha_tot, fu / 1.01, keep, theta) > thr
    # And it is the first crossing coming down from f = 1 on a dense scan.
    fs = np.geomspace(fu * 1.02, 1.0, 40)
    assert np.all(frontier.eps_vs_f(alpha_tot, fs, keep=keep, theta=theta) <= thr)


def test_smallest_useful_f_levels_off_for_keep_hard():
    # theory.md: f_c alpha_tot levels off at about 3.6 (a 1% loss) for large alpha_tot.
    fa = [frontier.smallest_useful_f(a, keep="hard", theta=0.0, rtol=1e-2) * a
          for a in (100.0, 1000.0)]
    assert fa[0] == pytest.approx(fa[1], rel=0.02)
    assert 3.3 < fa[1] < 4.0


def test_smallest_useful_f_when_pruning_never_hurts():
    # alpha_tot = 1e4, keep hard, perfect metric: even f = 1e-3 keeps f alpha_tot = 10 >= the
    # plateau edge, so the smallest f scanned is returned.
    assert frontier.smallest_useful_f(1e4, keep="hard", theta=0.0) == pytest.approx(theory.F_MIN)


@pytest.mark.parametrize("theta", [0.0, 10.0, 30.0])
def test_optimal_frontier_beats_a_dense_scan_and_agrees_with_optimal_f(theta):
    # Independent reference: a dense log scan of f (161 values) at each alpha_prune. The
    # continuous optimum is no worse than any scanned f, and within the scan's resolution of
    # its best f; at theta = 0 the optimum sits on f_min (keep hard, perfect metric).
    alpha = np.array([3.0, 30.0, 300.0])
    of = frontier.optimal_frontier(alpha, keep="hard", theta=theta, n_grid=13)
    fs = np.geomspace(1e-3, 1.0, 161)
    for k, a in enumerate(alpha):
        scan = np.array([theory.solve(a, f=float(f), keep="hard", theta=theta).eps for f in fs])
        assert of.eps[k] <= scan.min() * (1 + 1e-9), (a, of.eps[k], scan.min())
        j = int(np.argmin(scan))
        assert fs[max(j - 1, 0)] * 0.999 <= of.f_opt[k] <= fs[min(j + 1, 160)] * 1.001
        assert of.alpha_tot[k] == pytest.approx(a / of.f_opt[k])
    if theta == 0.0:
        np.testing.assert_allclose(of.f_opt[1:], 1e-3)


def test_optimal_frontier_bad_input():
    with pytest.raises(ValueError, match="f_min"):
        frontier.optimal_frontier([1.0], f_min=1e-4)
    with pytest.raises(ValueError, match="theta"):
        frontier.optimal_frontier([1.0], theta=91.0)
    with pytest.raises(ValueError, match="alpha_prune_grid"):
        frontier.optimal_frontier([])


# --------------------------------------------------------------------------------------------
# Label budget of a learned probe


def _ridge():
    from perceptron_pruning.registry import get_learner

    return get_learner("ridge", lam=0.01)


def test_label_budget_ridge_pays_and_beats_every_scanned_split():
    # Reference: a dense scan of the split, each point solved on its own by optimal_f, and the
    # unpruned theory at the whole budget. The chosen split must be at least as good as every
    # scanned one (up to optimal_f's own refinement tolerance) and its numbers must be those of
    # optimal_f at that split.
    from perceptron_pruning.registry import get_metric

    b = frontier.label_budget(20.0, probe_learner="max-margin", learner=_ridge(), n_split=8)
    unpruned = theory.solve(alpha_prune=20.0, f=1.0, learner=_ridge()).eps
    assert b.eps_unpruned == pytest.approx(unpruned, rel=1e-12)
    assert b.pays and b.eps < 0.8 * unpruned
    assert b.probe_alpha + b.alpha_tot == pytest.approx(20.0, rel=1e-12)
    for a0 in np.geomspace(0.5, 15.0, 6):
        m = get_metric("margin", probe_alpha=float(a0))
        o = frontier.optimal_f(20.0 - a0, keep="best", learner=_ridge(), metric=m, n_grid=15)
        assert b.eps <= o.eps * (1.0 + 1e-6)
    m = get_metric("margin", probe_alpha=b.probe_alpha)
    direct = theory.solve(alpha_tot=b.alpha_tot, f=b.f, keep=b.keep, learner=_ridge(), metric=m)
    assert direct.eps == pytest.approx(b.eps, rel=1e-9)
    assert direct.theta == pytest.approx(b.theta, rel=1e-12)


def test_label_budget_never_pays_for_max_margin():
    # With the max-margin student pruning at fixed alpha_tot never beats all the data (the
    # support-vector plateau), and a probe spends labels: the best split is to spend as little
    # as the scan allows on the probe and keep everything.
    b = frontier.label_budget(10.0, probe_learner="hebb", n_split=6)
    assert not b.pays
    assert b.probe_alpha == pytest.approx(b.probe_alphas.min(), rel=0.5)
    assert b.eps >= b.eps_unpruned
    assert np.all(np.diff(b.theta_by_split) < 0)  # a bigger probe set, a better probe


@pytest.mark.parametrize("kwargs, pattern", [
    ({"budget": 0.0}, "budget"),
    ({"budget": 2e4}, "budget"),
    ({"budget": 10.0, "probe_learner": "nosuch"}, "probe_learner"),
    ({"budget": 10.0, "probe_learner": "max-margin", "flip": 0.1}, "probe_learner"),
    ({"budget": 10.0, "n_split": 1}, "n_split"),
])
def test_label_budget_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        frontier.label_budget(**kwargs)


def test_all_data_reference_ignores_a_label_aware_filter():
    # "Unpruned" is every drawn example: a label-aware metric at f = 1 still drops the disputed
    # labels, so its f = 1 error is not the reference. Reference: the plain metric at f = 1.
    from perceptron_pruning.registry import get_learner, get_metric

    svm, la = get_learner("svm", lam=0.01), get_metric("margin", label_aware=True)
    kw = dict(theta=10.0, learner=svm, flip=0.2)
    all_data = theory.solve(alpha_tot=256.0, f=1.0, **kw).eps
    filtered = theory.solve(alpha_tot=256.0, f=1.0, metric=la, **kw).eps
    assert filtered > 1.2 * all_data  # the filter alone hurts here: the test can fail
    o = frontier.optimal_f(256.0, keep="hard", metric=la, n_grid=6, **kw)
    assert o.eps_unpruned == pytest.approx(all_data, rel=1e-12)
    assert o.beats_unpruned == (o.eps < all_data * (1 - 1e-8))
    assert math.isnan(frontier.smallest_useful_f(256.0, keep="hard", metric=la, n_grid=4,
                                                 **kw))
