"""Soft (Bernoulli) selection, ``get_metric("soft")`` with ``keep="uncertainty"`` (issue 13).

References are independent of the code under test: ``scipy.integrate.quad`` for ``E[pi] = f``
(with the clip's corner found in closed form), Monte Carlo counts with binomial standard errors,
the deterministic rules (keep hard / easy) as the ``|a| -> inf`` limits, keep random as the
``pi = f`` case, and the simulator against the ``N -> infinity`` theory with the tolerance of
``test_metrics.py`` (4 s.e.m. + 1/N + 1% of eps for max-margin's extreme-statistic bias).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import log_expit

import perceptron_pruning as pp
from perceptron_pruning import theory
from perceptron_pruning._law_nodes import law_nodes
from perceptron_pruning.metrics import Fields
from perceptron_pruning.metrics.soft import SoftSelection
from perceptron_pruning.registry import metric_names
from perceptron_pruning.trial import kept_fields, make_task

N = 400


def soft(**kw):
    return pp.get_metric("soft", **kw)


def _log_sprime(z):
    return float(log_expit(z) + log_expit(-z))  # log p(1 - p), p the logistic


def _mean_pi_quad(a, S, c):
    """``E[min(c s'(S t)^a, 1)]`` by scipy quad, the corner from brentq on the closed form."""
    def g(t):
        return math.log(c) + a * _log_sprime(S * t)

    def pi(t):
        return math.exp(min(g(t), 0.0))

    pts = []
    if a != 0.0 and g(0.0) * g(12.0) < 0.0:
        pts.append(brentq(g, 0.0, 12.0, xtol=1e-14))
    val, _ = quad(lambda t: 2.0 * pi(t) * math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi),
                  0.0, 12.0, points=pts or None, limit=400, epsabs=1e-14, epsrel=1e-12)
    return val


@pytest.mark.parametrize("a", [-3.0, -1.0, 0.0, 0.5, 1.0, 4.0, 50.0])
@pytest.mark.parametrize("S", [1.0, 5.0])
@pytest.mark.parametrize("f", [0.05, 0.3, 0.9])
def test_constant_gives_exact_kept_fraction(a, S, f):
    m = soft(exponent=a, score_scale=S)
    c = math.exp(m.log_c(f))
    assert _mean_pi_quad(a, S, c) == pytest.approx(f, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("a,th", [(2.0, 0.0), (-1.0, 30.0)])
def test_kept_law_mass_and_monte_carlo(a, th):
    m = soft(exponent=a, score_scale=2.0)
    law = m.kept_law(f=0.3, keep="uncertainty", theta=th)
    assert law_nodes(law).mass == pytest.approx(1.0, abs=1e-10)
    # E[pi u^2] over the law against Monte Carlo of the Bernoulli draw itself.
    rng = np.random.default_rng(1)
    u, w = rng.standard_normal(2_000_000), rng.standard_normal(2_000_000)
    c, s = math.cos(math.radians(th)), math.sin(math.radians(th))
    t = c * u + s * w
    kept = m.draw(Fields(u=u, w=w, t=t, y=np.sign(u)), f=0.3, rng=rng)
    se = math.sqrt(0.3 * 0.7 / u.size)
    assert abs(kept.mean() - 0.3) < 4 * se
    nd = law_nodes(law)
    mc = np.mean(u[kept] ** 2)
    assert float(nd.wt @ nd.yu ** 2) == pytest.approx(mc, abs=4 * np.std(u[kept] ** 2)
                                                      / math.sqrt(kept.sum()))


def test_a_to_infinity_tends_to_keep_hard_and_easy():
    for sign, keep in ((1.0, "hard"), (-1.0, "easy")):
        ref = theory.solve(alpha_tot=8, f=0.4, keep=keep, learner="svm").eps
        gaps = [abs(theory.solve(alpha_tot=8, f=0.4, keep="uncertainty", learner="svm",
                                 metric=soft(exponent=sign * a)).eps - ref)
                for a in (5.0, 40.0, 300.0, 1000.0)]
        # The soft edge has width ~1 / a in t: the gap closes like 1 / a^2 (measured 7e-5 of
        # eps at a = 1000).
        assert gaps[0] > gaps[1] > gaps[2] > gaps[3]
        assert gaps[3] < 0.2 * gaps[2] and gaps[3] < 2e-4 * ref


def test_a_to_infinity_simulation_keeps_the_hard_band():
    """At a = 300 the Bernoulli rule keeps almost exactly keep hard's examples."""
    task_s = make_task(N, 8, f=0.4, keep="uncertainty", metric=soft(exponent=300.0), seed=3)
    task_h = make_task(N, 8, f=0.4, keep="hard", seed=3)
    i_s = set(kept_fields(task_s)[0].tolist())
    i_h = set(kept_fields(task_h)[0].tolist())
    assert len(i_s & i_h) / len(i_h) > 0.97


def test_constant_pi_is_random_pruning():
    f = 0.35
    m = soft(pi=lambda m: np.full(m.shape, f))
    assert m.log_c(f) == pytest.approx(0.0, abs=1e-10)
    for learner in ("svm", "max-margin"):
        a = theory.solve(alpha_tot=6, f=f, keep="uncertainty", learner=learner, metric=m)
        b = theory.solve(alpha_tot=6, f=f, keep="random", learner=learner)
        assert a.eps == pytest.approx(b.eps, rel=1e-8)
    # Simulation: the kept count is Binomial(P_tot, f), and the fields are not selected.
    res = pp.simulate(N, 6, f=f, keep="uncertainty", metric=m, learner="svm", seeds=8)
    p_tot = 6 * N
    se = math.sqrt(f * (1 - f) / p_tot / 8)
    assert abs(res.alpha_prune_mean / 6 - f) < 4 * se
    rnd = theory.solve(alpha_prune=res.alpha_prune_mean, learner="svm")
    assert abs(res.eps_mean - rnd.eps) < 4 * res.eps_sem + 1.0 / N


_GRID = [("svm", 4.0, 0.0), ("svm", -2.0, 20.0), ("svm", 1.0, 10.0),
         ("max-margin", 4.0, 0.0), ("max-margin", -2.0, 20.0), ("logistic", -1.0, 0.0)]


@pytest.mark.slow
@pytest.mark.parametrize("learner,a,th", _GRID)
def test_theory_matches_simulation(learner, a, th):
    m = soft(exponent=a, score_scale=1.0 if learner != "logistic" else 5.0)
    seeds = 12
    res = pp.simulate(N, 8, f=0.4, keep="uncertainty", theta=th, metric=m, learner=learner,
                      seeds=seeds, seed=11)
    # The theory at the realised kept count (Bernoulli: alpha_prune varies by trial).
    th_eps = theory.solve(alpha_prune=res.alpha_prune_mean, f=0.4, keep="uncertainty", theta=th,
                          metric=m, learner=learner).eps
    tol = 4 * res.eps_sem + 1.0 / N + (0.01 * th_eps if learner == "max-margin" else 0.0)
    assert abs(res.eps_mean - th_eps) < tol


def test_same_numbers_with_one_or_two_workers():
    kw = dict(f=0.3, keep="uncertainty", metric=soft(exponent=-1.0), learner="svm", seeds=3)
    with ThreadPoolExecutor(1) as ex1, ThreadPoolExecutor(2) as ex2:
        a = pp.simulate(200, 4, executor=ex1, **kw)
        b = pp.simulate(200, 4, executor=ex2, **kw)
    assert np.array_equal(a.eps, b.eps) and np.array_equal(a.alpha_prune, b.alpha_prune)


def test_full_and_fields_paths_agree_in_law():
    kw = dict(f=0.3, keep="uncertainty", metric=soft(exponent=2.0), learner="svm", seeds=10)
    a = pp.simulate(200, 4, sampling="fields", **kw)
    b = pp.simulate(200, 4, sampling="full", **kw)
    assert abs(a.eps_mean - b.eps_mean) < 4 * math.hypot(a.eps_sem, b.eps_sem)


def test_options_and_cache_identity():
    def my_rule(m):
        return np.exp(-m)

    m = soft(pi=my_rule)
    opts = m.options()
    assert opts["exponent"] is None and opts["score_scale"] is None
    assert opts["pi"].startswith("test_options_and_cache_identity.<locals>.my_rule#")
    assert soft(pi=my_rule).options() == opts
    assert soft(exponent=2.0).options() == {"exponent": 2.0, "score_scale": 1.0, "pi": None,
                                            "reweight": False}


@pytest.mark.parametrize("kw,msg", [
    (dict(exponent=1e4), "exponent must be in"),
    (dict(exponent=float("nan")), "exponent must be in"),
    (dict(score_scale=0.0), "score_scale must be in"),
    (dict(pi=3.0), "pi must be a callable"),
    (dict(reweight="yes"), "reweight must be True or False"),
])
def test_bad_options(kw, msg):
    with pytest.raises(ValueError, match=msg):
        soft(**kw)


def test_bad_combinations():
    with pytest.raises(ValueError, match="keep must be one of uncertainty, random with metric"):
        theory.solve(alpha_tot=4, f=0.5, keep="hard", metric="soft")
    with pytest.raises(ValueError, match="keep must be one of hard, easy, random with metric"):
        theory.solve(alpha_tot=4, f=0.5, keep="uncertainty", metric="margin")
    with pytest.raises(ValueError, match="reweight needs keep 'uncertainty'"):
        theory.solve(alpha_tot=4, f=0.5, keep="random", metric=soft(reweight=True),
                     learner="svm")
    # A rule that is zero beyond |t| = 1 cannot keep more than P(|t| < 1) = 0.683.
    with pytest.raises(ValueError, match="f must be at most 0.68"):
        soft(pi=lambda m: (m < 1.0).astype(float)).log_c(0.9)
    with pytest.raises(ValueError, match="f must be at most 0.68"):  # f = 1 too: not all data
        theory.solve(alpha_tot=4, f=1.0, keep="uncertainty", learner="svm",
                     metric=soft(pi=lambda m: (m < 1.0).astype(float)))
    with pytest.raises(ValueError, match="pi\\(m\\) must return finite values >= 0"):
        soft(pi=lambda m: -np.ones_like(m)).log_c(0.5)


def test_registered_and_documented():
    assert "soft" in metric_names()
    assert isinstance(soft(), SoftSelection)


# -- importance reweighting ------------------------------------------------------------------


@pytest.mark.parametrize("learner", ["svm", "logistic", "ridge"])
def test_reweighting_at_a0_is_the_unweighted_fit_at_lam_times_f(learner):
    """At ``a = 0``, ``pi = f``: ``sum (1/f) loss + lam/2 |J|^2 = (1/f) (sum loss + f lam/2
    |J|^2)``, the unweighted fit at ``lam f`` in this package's convention (sum of losses).
    (Kolossov et al. normalise the unweighted objective by the kept count instead of the pool,
    for which the same statement reads "at lam / f" of theirs.)
    """
    f, lam = 0.3, 1.0
    rw = soft(exponent=0.0, reweight=True)
    plain = soft(exponent=0.0)
    a = theory.solve(alpha_tot=6, f=f, keep="uncertainty", metric=rw,
                     learner=pp.get_learner(learner, lam=lam))
    b = theory.solve(alpha_tot=6, f=f, keep="uncertainty", metric=plain,
                     learner=pp.get_learner(learner, lam=lam * f))
    c = theory.solve(alpha_tot=6, f=f, keep="uncertainty", metric=plain,
                     learner=pp.get_learner(learner, lam=lam))
    assert a.eps == pytest.approx(b.eps, rel=1e-8) and a.norm == pytest.approx(b.norm, rel=1e-8)
    assert abs(a.norm - c.norm) > 1e-2 * c.norm  # the weights matter: not the fit at lam
    # Simulation: the same kept examples (the draw does not depend on the weights).
    sa = pp.simulate(200, 6, f=f, keep="uncertainty", metric=rw, seeds=3,
                     learner=pp.get_learner(learner, lam=lam))
    sb = pp.simulate(200, 6, f=f, keep="uncertainty", metric=plain, seeds=3,
                     learner=pp.get_learner(learner, lam=lam * f))
    np.testing.assert_allclose(sa.R, sb.R, rtol=1e-7)
    assert np.array_equal(sa.alpha_prune, sb.alpha_prune)


_RW_GRID = [("logistic", -1.0, 5.0, 0.0), ("logistic", 1.0, 5.0, 0.0), ("svm", 2.0, 1.0, 10.0),
            ("ridge", -1.0, 1.0, 20.0)]


@pytest.mark.slow
@pytest.mark.parametrize("learner,a,S,th", _RW_GRID)
def test_reweighted_theory_matches_simulation(learner, a, S, th):
    m = soft(exponent=a, score_scale=S, reweight=True)
    L = pp.get_learner(learner, lam=0.05)
    res = pp.simulate(N, 4, f=0.3, keep="uncertainty", theta=th, metric=m, learner=L,
                      flip=0.05, seeds=12, seed=21)
    th_eps = theory.solve(alpha_prune=res.alpha_prune_mean, f=0.3, keep="uncertainty",
                          theta=th, metric=m, learner=L, flip=0.05).eps
    assert abs(res.eps_mean - th_eps) < 4 * res.eps_sem + 1.0 / N


def test_reweighting_needs_a_weighted_learner():
    from dataclasses import dataclass

    from perceptron_pruning.learners import Fit, Learner
    from perceptron_pruning.registry import register_learner

    @register_learner("soft-test-unweighted")
    @dataclass(frozen=True)
    class Unweighted(Learner):  # a plug-in without sample weights
        def fit(self, X, y):
            return Fit(w=X.T @ y, objective=0.0, certificate=0.0)

    for call in (lambda: make_task(50, 2, f=0.5, keep="uncertainty",
                                   metric=soft(reweight=True), learner=Unweighted()),
                 lambda: theory.solve(alpha_tot=2, f=0.5, keep="uncertainty",
                                      metric=soft(reweight=True), learner=Unweighted())):
        with pytest.raises(ValueError, match="reweight needs a learner that takes loss"):
            call()
