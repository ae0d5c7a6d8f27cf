"""The contract every registered learner and metric must meet (like scikit-learn's
``check_estimator``): a new plug-in is checked here the moment it is registered.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from plugin_checks import law_moments

from perceptron_pruning import get_learner, get_metric
from perceptron_pruning.learners import Fit, TheoryValues
from perceptron_pruning.metrics import Fields, KeptLaw, whole_plane
from perceptron_pruning.registry import learner_names, metric_names


def _fields(p, theta, rng):
    th = math.radians(theta)
    u, w = rng.standard_normal(p), rng.standard_normal(p)
    return Fields(u=u, w=w, t=math.cos(th) * u + math.sin(th) * w, y=np.where(u >= 0, 1.0, -1.0))


@pytest.mark.parametrize("name", learner_names())
def test_learner_fit_contract(name):
    learner = get_learner(name)
    assert str(learner) == name and learner.spec()["name"] == name
    rng = np.random.default_rng(0)
    n, p = 30, 60
    t = rng.standard_normal(n)
    X = rng.standard_normal((p, n))
    y = np.where(X @ t >= 0, 1.0, -1.0)
    fit = learner.fit(X, y)
    assert isinstance(fit, Fit) and fit.w.shape == (n,) and np.all(np.isfinite(fit.w))
    assert math.isfinite(fit.certificate) and fit.certificate >= -1e-12
    assert all(np.isscalar(v) for v in fit.stats.values())
    again = learner.fit(X.copy(), y.copy())
    np.testing.assert_array_equal(again.w, fit.w)  # deterministic
    # The student learns the rule: better than chance on fresh data.
    Xt = rng.standard_normal((4000, n))
    assert np.mean(np.sign(Xt @ fit.w) == np.sign(Xt @ t)) > 0.6


@pytest.mark.parametrize("name", learner_names())
def test_learner_theory_contract(name):
    learner = get_learner(name)
    alpha = np.array([4.0, 0.5, 2.0, 1.0])  # unsorted on purpose: the order must be kept
    out = learner.theory(whole_plane(), alpha)
    assert isinstance(out, TheoryValues)
    for q in ("R", "rho", "eps", "residual"):
        assert np.shape(out.values[q]) == alpha.shape, q
    R, eps = np.asarray(out.values["R"]), np.asarray(out.values["eps"])
    assert np.all((R > 0) & (R < 1))
    np.testing.assert_allclose(eps, np.arccos(R) / np.pi, rtol=1e-9)
    np.testing.assert_allclose(out.values["rho"], 0.0, atol=1e-12)  # even law: rho = 0
    order = np.argsort(alpha)
    assert np.all(np.diff(eps[order]) < 0)  # more data, less error, without pruning


_KEEPS = [(name, keep) for name in metric_names() for keep in get_metric(name).keeps]


@pytest.mark.parametrize("name, keep", _KEEPS)
def test_metric_select_contract(name, keep):
    metric = get_metric(name)
    assert str(metric) == name and metric.spec()["name"] == name
    p = 1001
    fields = _fields(p, 20.0, np.random.default_rng(1))
    for f in (1.0, 0.3, 1.0 / p):
        idx = metric.select(fields, f=f, keep=keep, rng=np.random.default_rng(2))
        if metric.bernoulli(keep):  # a Binomial(P, f) count
            assert abs(idx.size - f * p) <= 4 * math.sqrt(p * f * (1 - f)) + 1
        else:
            assert idx.size == round(f * p)
        assert idx.dtype.kind == "i"
        assert idx.size == 0 or (np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < p)
        again = metric.select(fields, f=f, keep=keep, rng=np.random.default_rng(2))
        np.testing.assert_array_equal(again, idx)


_LAW_CASES = [("hard", 0.3, 0.0), ("easy", 0.3, 0.0), ("hard", 0.2, 25.0), ("easy", 0.5, 60.0),
              ("random", 0.4, 10.0), ("hard", 1.0, 30.0), ("uncertainty", 0.3, 0.0),
              ("uncertainty", 0.2, 25.0), ("uncertainty", 1.0, 30.0)]


@pytest.mark.parametrize("name, keep, f, theta",
                         [(name, *case) for name in metric_names() for case in _LAW_CASES
                          if case[0] in get_metric(name).keeps])
def test_metric_kept_law_matches_its_selection(name, keep, f, theta):
    # What the theory integrates must be what the simulation keeps: the law's mass is 1 and its
    # first moments equal those of the selected examples, within Monte Carlo error.
    metric = get_metric(name)
    law = metric.kept_law(f=f, keep=keep, theta=theta)
    assert isinstance(law, KeptLaw)
    mass, yu, yw = law_moments(law)
    assert mass == pytest.approx(1.0, abs=1e-4)
    p = 400_000
    fields = _fields(p, theta, np.random.default_rng(3))
    idx = metric.select(fields, f=f, keep=keep, rng=np.random.default_rng(4))
    yu_s = fields.y[idx] * fields.u[idx]
    yw_s = fields.y[idx] * fields.w[idx]
    for emp, th in ((yu_s, yu), (yw_s, yw)):
        se = np.std(emp) / math.sqrt(emp.size)
        assert abs(emp.mean() - th) <= 4 * se + 1e-4, (emp.mean(), th, se)
    if law.symmetric:
        assert abs(yw) < 1e-6
