"""A learner and a metric defined here, outside the package, plug into every part of the engine
through the registry: simulate, sweeps and their cache, theory, frontier and the CLI.

The toy learner is Hebb's rule ``J = sum_mu y_mu x_mu``, whose theory is closed-form
(theory-erm.md): ``R = a / sqrt(a^2 + b^2 + 1/alpha)`` with ``a = E_K[y u]``, ``b = E_K[y w]``.
The toy metric keeps the examples in the order they were drawn, which, the examples being
i.i.d., is a uniform random subset: its kept law is the whole plane.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from plugin_checks import law_moments

import perceptron_pruning as pp
from perceptron_pruning import cli, sweep
from perceptron_pruning.learners import Fit, Learner, TheoryValues
from perceptron_pruning.metrics import Metric, whole_plane
from perceptron_pruning.registry import register_learner, register_metric


@register_learner("toy-hebb")
@dataclasses.dataclass(frozen=True)
class ToyHebb(Learner):
    def fit(self, X, y):
        return Fit(w=X.T @ y, objective=0.0, certificate=0.0, stats={})

    def theory(self, law, alpha_prune):
        _, a, b = law_moments(law)
        alpha = np.asarray(alpha_prune, dtype=float)
        R = a / np.sqrt(a * a + b * b + 1.0 / alpha)
        rho = b / np.sqrt(a * a + b * b + 1.0 / alpha)
        return TheoryValues(values={"R": R, "rho": rho, "eps": np.arccos(R) / np.pi,
                                    "residual": np.zeros_like(R)})


@register_metric("toy-first")
@dataclasses.dataclass(frozen=True)
class ToyFirst(Metric):
    def key(self, fields, *, keep, rng):
        return np.zeros(fields.u.size)  # all tied: the engine keeps the first drawn

    def kept_law(self, *, f, keep, theta, noise):
        return whole_plane(noise)


def test_toy_plugins_are_registered():
    assert "toy-hebb" in pp.registry.learner_names()
    assert "toy-first" in pp.registry.metric_names()
    assert isinstance(pp.get_learner("toy-hebb"), ToyHebb)
    with pytest.raises(ValueError, match="toy-hebb"):  # the message lists what exists
        pp.get_learner("toy-hebbb")
    with pytest.raises(ValueError, match="does not take lam"):
        pp.get_learner("toy-hebb", lam=1.0)


def test_registry_refuses_bad_plugins():
    class NotFrozen(Learner):
        pass

    with pytest.raises(TypeError, match="frozen dataclass"):
        register_learner("not-frozen")(NotFrozen)

    @dataclasses.dataclass(frozen=True)
    class Other(Learner):
        pass

    with pytest.raises(ValueError, match="taken"):
        register_learner("max-margin")(Other)


@pytest.mark.parametrize("keep, f, theta", [("random", 1.0, 0.0), ("hard", 0.5, 0.0),
                                            ("easy", 0.3, 20.0)])
def test_toy_learner_simulation_matches_its_theory(keep, f, theta):
    # Hebb on the paper's metric: the metric's kept law and the toy learner's closed form
    # combine in the engine; simulation agrees within 3 standard errors plus the O(1/N)
    # finite-size term ((N - 2) / P against N / P in |J|^2, about 1% of 1/alpha here).
    n, alpha_tot = 200, 6.0
    sim = pp.simulate(n, alpha_tot, f=f, keep=keep, theta=theta, learner="toy-hebb", seeds=24)
    th = pp.theory.solve(alpha_tot=alpha_tot, f=f, keep=keep, theta=theta, learner="toy-hebb")
    assert th.learner == sim.learner == "toy-hebb"
    assert abs(sim.eps_mean - th.eps) <= 3 * sim.eps_sem + 0.01 * th.eps, (sim.eps_mean, th.eps)
    assert abs(sim.rho_mean - th.rho) <= 3 * sim.rho_sem + 0.01, (sim.rho_mean, th.rho)


def test_toy_metric_equals_random_pruning_in_theory_and_distribution():
    a = np.array([0.5, 2.0, 8.0])
    toy = pp.theory.curve(a, f=0.3, keep="hard", metric="toy-first")
    rnd = pp.theory.curve(a, f=0.3, keep="random")
    np.testing.assert_allclose(toy.eps, rnd.eps, rtol=1e-12)
    # Simulation: keeping the first k i.i.d. examples is a random subset; compare the two rules
    # at the same seeds (common random numbers) with a paired tolerance.
    kw = dict(f=0.3, keep="random", seeds=24, seed=5)
    s1 = pp.simulate(60, 5.0, metric="toy-first", **kw)
    s2 = pp.simulate(60, 5.0, **kw)
    d = s1.eps - s2.eps
    assert abs(d.mean()) <= 3 * d.std(ddof=1) / math.sqrt(d.size)
    assert s1.metric == "toy-first"


def test_toy_plugins_through_frontier():
    o = pp.frontier.optimal_f(4.0, keep="hard", learner="toy-hebb", n_grid=6)
    e1 = pp.theory.solve(alpha_tot=4.0, learner="toy-hebb").eps
    assert o.eps <= e1 * (1 + 1e-12) and 0 < o.f <= 1


def test_toy_plugins_through_sweep_and_cache(tmp_path, monkeypatch):
    tasks = sweep.make_tasks(n=20, alpha_tot=3.0, f=(0.5, 1.0), keep="hard",
                             learner=["max-margin", "toy-hebb"], metric="toy-first",
                             replicates=2)
    assert len(tasks) == 8
    first = sweep.run_sweep(tasks, cache_dir=tmp_path)
    assert {t.task.learner.name for t in first} == {"max-margin", "toy-hebb"}
    # A rerun reads everything from the cache.
    calls = []
    real = sweep.run_trial
    monkeypatch.setattr(sweep, "run_trial", lambda t: calls.append(t) or real(t))
    assert sweep.run_sweep(tasks, cache_dir=tmp_path) == first and calls == []
    # The cache key of an out-of-package plug-in covers its source file.
    v = sweep.code_version(ToyHebb, ToyFirst)
    assert v != sweep.code_version(type(pp.get_learner("max-margin")), ToyFirst)


def test_toy_plugins_through_cli(capsys):
    assert cli.main(["theory", "--alpha-prune", "1", "2", "--learner", "toy-hebb",
                     "--metric", "toy-first", "--f", "0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["learner"] for p in out] == ["toy-hebb"] * 2
    a = math.sqrt(2 / math.pi)
    assert out[1]["R"] == pytest.approx(a / math.sqrt(a * a + 0.5), rel=1e-4)
    assert cli.main(["simulate", "--n", "20", "--alpha-tot", "2", "--seeds", "2",
                     "--learner", "toy-hebb", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["learner"] == "toy-hebb"


@register_learner("toy-numpy-stats")
@dataclasses.dataclass(frozen=True)
class ToyNumpyStats(ToyHebb):
    """Hebb again, reporting numpy scalars, as a learner written with numpy naturally does."""

    def fit(self, X, y):
        w = X.T @ y
        return Fit(w=w, objective=np.float64(0.0), certificate=np.float64(0.0),
                   stats={"norm": np.float64(np.linalg.norm(w)), "rows": np.int64(X.shape[0])})


def test_numpy_scalars_from_a_plugin_are_cached(tmp_path):
    tasks = sweep.make_tasks(n=10, alpha_tot=2.0, learner="toy-numpy-stats", replicates=2)
    first = sweep.run_sweep(tasks, cache_dir=tmp_path)
    again = sweep.run_sweep(tasks, cache_dir=tmp_path)
    assert [t.values["rows"] for t in again] == [20, 20]
    assert [t.values["norm"] for t in again] == [t.values["norm"] for t in first]
