"""Labels from a generator that is not the ground truth (Dohmatob, Pezeshki, Askari-Hemmat 2025).

The generator ``w_g`` (the code's teacher) labels the data and the probe's angle ``theta`` is
measured against it; ``eps`` and ``R`` are measured against the ground truth ``T*``, at cosine
``truth_cos`` to ``w_g`` and ``probe_truth_cos`` to the probe. Checks: the standard model is
unchanged bit for bit at ``truth_cos = 1``; the geometry's validation; the two sampling paths
agree; and the theory (``R_truth = truth_cos R + b rho``) matches simulation at ``N = 400``
(``4 s.e.m. + 1/N`` per point, as tests/test_erm_vs_simulation.py), for a strong and a weak
generator, keep hard, keep easy and "keep valid" (the label-aware margin metric).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import perceptron_pruning as pp
from perceptron_pruning import frontier, theory
from perceptron_pruning.noise import LabelNoise
from perceptron_pruning.trial import make_task, run_trial

N = 400
RIDGE = pp.get_learner("ridge", lam=0.1)
SVM = pp.get_learner("svm", lam=0.1)
VALID = pp.get_metric("margin", label_aware=True)  # Dohmatob et al.'s "keep valid" filter


# ---------------------------------------------------------------------------- the geometry


def _b_c3(truth_cos, probe_truth_cos, theta):
    """``T*`` in the basis (w_g, v, e2), written out from the cosines."""
    th = math.radians(theta)
    b = (probe_truth_cos - math.cos(th) * truth_cos) / math.sin(th)
    return b, math.sqrt(1 - truth_cos ** 2 - b ** 2)


def test_truth_geometry_solves_the_cosines():
    a, b, c3 = LabelNoise(truth_cos=0.9, probe_truth_cos=0.97).truth_geometry(20.0)
    assert (a, b) == pytest.approx((0.9, _b_c3(0.9, 0.97, 20.0)[0]), abs=1e-15)
    assert a * a + b * b + c3 * c3 == pytest.approx(1.0, abs=1e-15)
    # T* . probe = a cos(theta) + b sin(theta) = probe_truth_cos
    th = math.radians(20.0)
    assert a * math.cos(th) + b * math.sin(th) == pytest.approx(0.97, abs=1e-15)
    assert LabelNoise(truth_cos=0.5).truth_geometry(30.0) == pytest.approx((0.5, 0.0,
                                                                            math.sqrt(0.75)))
    assert LabelNoise().truth_geometry(30.0) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("kw, theta", [
    (dict(truth_cos=0.9, probe_truth_cos=0.5), 20.0),   # below cos(theta + arccos 0.9)
    (dict(truth_cos=0.9, probe_truth_cos=0.999), 20.0),  # above cos(theta - arccos 0.9)
    (dict(truth_cos=1.0, probe_truth_cos=0.9), 20.0),   # T* = w_g fixes it at cos(theta)
    (dict(truth_cos=0.8, probe_truth_cos=0.7), 0.0),    # at theta = 0 it must equal truth_cos
])
def test_invalid_cosines_are_refused_everywhere(kw, theta):
    msg = "probe_truth_cos.*truth_cos.*theta"
    with pytest.raises(ValueError, match=msg):
        make_task(50, 2.0, theta=theta, learner=RIDGE, **kw)
    with pytest.raises(ValueError, match=msg):
        theory.solve(alpha_tot=2.0, f=0.5, theta=theta, learner=RIDGE, **kw)
    with pytest.raises(ValueError, match=msg):
        pp.simulate(50, 2.0, f=0.5, theta=theta, learner=RIDGE, seeds=1, **kw)
    with pytest.raises(ValueError, match=msg):
        frontier.eps_vs_f(2.0, [0.5], theta=theta, learner=RIDGE, **kw)


def test_the_error_message_gives_the_valid_range():
    with pytest.raises(ValueError, match=r"\[0\.69\d*, 0\.99\d*\]"):
        theory.solve(alpha_tot=2.0, theta=20.0, learner=RIDGE, truth_cos=0.9,
                     probe_truth_cos=0.5)


def test_a_truth_outside_the_plane_needs_three_dimensions():
    with pytest.raises(ValueError, match="n must be at least 3"):
        make_task(2, 4.0, theta=10.0, learner=RIDGE, truth_cos=0.9)
    # In the plane (c3 = 0) two dimensions suffice.
    b = math.sqrt(1 - 0.9 ** 2)
    ptc = 0.9 * math.cos(math.radians(10)) + b * math.sin(math.radians(10))
    run_trial(make_task(2, 4.0, theta=10.0, learner=RIDGE, truth_cos=0.9, probe_truth_cos=ptc))


def test_a_learned_probe_takes_the_default_probe_truth_cos_only():
    probe = pp.get_metric("margin", probe_alpha=2.0, probe_learner="hebb")
    with pytest.raises(ValueError, match="probe_truth_cos needs a fixed probe"):
        make_task(50, 2.0, metric=probe, learner=RIDGE, truth_cos=0.9, probe_truth_cos=0.9)
    with pytest.raises(ValueError, match="probe_truth_cos needs a fixed probe"):
        theory.solve(alpha_tot=2.0, metric=probe, learner=RIDGE, truth_cos=0.9,
                     probe_truth_cos=0.9)
    p = theory.solve(alpha_tot=2.0, metric=probe, learner=RIDGE, truth_cos=0.9)
    q = theory.solve(alpha_tot=2.0, metric=probe, learner=RIDGE)
    assert p.R == pytest.approx(0.9 * q.R, abs=1e-14)  # b = 0: R_truth = truth_cos R


# ---------------------------------------------------------------------------- standard model


@pytest.mark.parametrize("sampling", ["fields", "full"])
def test_truth_cos_one_is_the_standard_model_bit_for_bit(sampling):
    kw = dict(f=0.5, keep="hard", theta=10.0, learner=SVM, flip=0.1, seeds=2, seed=5,
              sampling=sampling)
    a = pp.simulate(60, 3.0, **kw)
    b = pp.simulate(60, 3.0, truth_cos=1.0, probe_truth_cos=math.cos(math.radians(10.0)), **kw)
    for q in ("eps", "R", "rho", "eps_noisy", "norm"):
        np.testing.assert_array_equal(getattr(a, q), getattr(b, q))
    # ... and R is the overlap with the generator, eps_noisy its noisy error (no truth at all).
    np.testing.assert_array_equal(a.eps_noisy, LabelNoise(flip=0.1).eps_noisy(a.R))
    th = dict(alpha_tot=4.0, f=0.5, keep="easy", theta=10.0, learner=SVM, flip=0.1)
    p, q = theory.solve(**th), theory.solve(truth_cos=1.0, **th)
    assert p.values == q.values


def test_theory_is_the_generator_overlap_projected_on_the_truth():
    """``R_truth = a R + b rho`` from the generator's ``(R, rho)`` (with ``b`` from the
    cosines, written out here), while ``eps_noisy`` and everything else stay the generator's.
    """
    th = dict(alpha_tot=6.0, f=0.5, keep="hard", theta=20.0, learner=RIDGE, flip=0.1)
    gen = theory.solve(**th)
    tru = theory.solve(truth_cos=0.9, probe_truth_cos=0.97, **th)
    b, _ = _b_c3(0.9, 0.97, 20.0)
    assert tru.R == pytest.approx(0.9 * gen.R + b * gen.rho, abs=1e-13)
    assert tru.eps == pytest.approx(math.acos(tru.R) / math.pi, abs=1e-13)
    for q in ("rho", "norm", "eps_noisy", "frac_mislabelled_kept", "p_agree"):
        assert getattr(tru, q) == getattr(gen, q), q


# ---------------------------------------------------------------------------- vs simulation


def test_sampling_paths_agree_on_the_truth():
    """The "full" path builds ``T*`` from the drawn teacher, the probe's normal and a random
    third direction; the "fields" path from the basis. Same law.
    """
    kw = dict(f=0.5, keep="hard", theta=20.0, learner=RIDGE, truth_cos=0.5,
              probe_truth_cos=0.75, seeds=16)
    a = pp.simulate(80, 4.0, sampling="fields", seed=1, **kw)
    b = pp.simulate(80, 4.0, sampling="full", seed=2, **kw)
    for q in ("eps", "R"):
        ma, mb = getattr(a, f"{q}_mean"), getattr(b, f"{q}_mean")
        se = math.hypot(getattr(a, f"{q}_sem"), getattr(b, f"{q}_sem"))
        assert abs(ma - mb) <= 4.0 * se, (q, ma, mb, se)


def _check(sim, th):
    assert abs(sim.eps_mean - th.eps) <= 4.0 * sim.eps_sem + 1.0 / N, (
        sim.eps_mean, sim.eps_sem, th.eps)
    return (sim.eps_mean - th.eps) / sim.eps_sem


GEOMETRIES = [dict(truth_cos=0.9), dict(truth_cos=0.9, probe_truth_cos=0.97),
              dict(truth_cos=0.5), dict(truth_cos=0.5, probe_truth_cos=0.75)]
RULES = [("hard", "margin"), ("easy", "margin"), ("hard", VALID)]


@pytest.fixture(scope="module")
def grid():
    out = []
    for geo in GEOMETRIES:
        for learner in (RIDGE, SVM):
            for keep, metric in RULES:
                kw = dict(keep=keep, theta=20.0, learner=learner, metric=metric, alpha_tot=6.0,
                          f=0.5, flip=0.1, **geo)
                sim = pp.simulate(N, seeds=10, seed=3000 + len(out), **kw)
                out.append((kw, sim, theory.solve(**kw)))
    return out


@pytest.mark.slow
def test_geometry_theory_matches_simulation_on_the_grid(grid):
    """{strong (0.9), weak (0.5) generator} x {probe_truth_cos given, default} x {ridge, svm}
    x {keep hard, keep easy, keep valid}, ``theta = 20 deg``, ``flip = 0.1``,
    ``alpha_tot = 6``, ``f = 0.5``, ``N = 400``, 10 seeds (measured: mean z^2 = 0.81).
    """
    z = np.array([_check(sim, th) for _, sim, th in grid])
    assert np.mean(z ** 2) <= 2.0, np.round(z, 2)


@pytest.mark.parametrize("geo, learner, keep, metric", [
    (dict(truth_cos=0.5, probe_truth_cos=0.75), RIDGE, "hard", VALID),
    (dict(truth_cos=0.9), SVM, "easy", "margin"),
])
def test_geometry_theory_matches_simulation(geo, learner, keep, metric):
    """Two points of the slow grid, in the quick suite."""
    kw = dict(keep=keep, theta=20.0, learner=learner, metric=metric, alpha_tot=6.0, f=0.5,
              flip=0.1, **geo)
    _check(pp.simulate(N, seeds=10, seed=99, **kw), theory.solve(**kw))


def test_keep_valid_pays_when_the_probe_is_closer_to_the_truth():
    """Dohmatob et al.'s point, in theory and simulation: with a probe closer to the truth
    than the generator is, keeping only the labels the probe agrees with beats keep hard.
    """
    base = dict(theta=20.0, learner=RIDGE, alpha_tot=6.0, f=0.5, flip=0.1, truth_cos=0.9,
                probe_truth_cos=0.97)
    valid = theory.solve(keep="hard", metric=VALID, **base)
    hard = theory.solve(keep="hard", **base)
    assert valid.eps < hard.eps - 0.05
