"""General label channels ``P(y = 1 | u)`` (noise.py): the logistic and piecewise links.

References are independent of the package: each link's ``q(u)`` is written out again below, the
one-dimensional averages are checked against Monte Carlo (tolerance: 4 binomial standard errors)
and ``scipy.integrate.quad`` on the raw, unsymmetrised ``q``; the theory against simulation at
``N = 400`` (``4 s.e.m. + 1/N`` per point, as tests/test_erm_vs_simulation.py), and the sign link
against the ``link_scale -> infinity`` limit of the logistic link.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

import perceptron_pruning as pp
from perceptron_pruning import theory
from perceptron_pruning.noise import LabelNoise, PiecewiseLink
from perceptron_pruning.trial import make_task

N = 400
SVM = pp.get_learner("svm", lam=0.1)
LOGISTIC = pp.get_learner("logistic", lam=0.1)
# Not symmetric: qbar = 0.75 on |u| < 0.3, 0.7 on [0.3, 0.5), 0.85 beyond.
ASYM = PiecewiseLink(breaks=(-0.5, 0.0, 0.3), probs=(0.1, 0.4, 0.9, 0.8))


def _q_logistic(u, S, eta=0.0):
    q = 1.0 / (1.0 + np.exp(-S * np.asarray(u, dtype=float)))
    return (1 - eta) * q + eta * (1 - q)


def _q_misspec2(u):
    u = np.asarray(u, dtype=float)
    return np.select([u < -0.1, u < 0.0, u < 0.1], [0.3, 0.05, 0.95], 0.7)


def _q_asym(u):
    u = np.asarray(u, dtype=float)
    return np.select([u < -0.5, u < 0.0, u < 0.3], [0.1, 0.4, 0.9], 0.8)


CHANNELS = [
    pytest.param(LabelNoise(link="logistic", link_scale=3.0, flip=0.1),
                 lambda u: _q_logistic(u, 3.0, 0.1), id="logistic-flip"),
    pytest.param(LabelNoise(link="misspec2"), _q_misspec2, id="misspec2"),
    pytest.param(LabelNoise(link=ASYM), _q_asym, id="asymmetric"),
]


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kw, word", [
    (dict(link="probit"), "link"),
    (dict(link="logistic"), "link_scale"),
    (dict(link="logistic", link_scale=0.0), "link_scale"),
    (dict(link="logistic", link_scale=-1.0), "link_scale"),
    (dict(link="misspec2", link_scale=2.0), "link_scale"),
    (dict(link_scale=2.0), "link_scale"),
    (dict(link="logistic", link_scale=2.0, teacher_noise=0.3), "probit"),
    (dict(link="misspec2", teacher_noise=0.3), "teacher_noise"),
    (dict(truth_cos=1.5), "truth_cos"),
    (dict(probe_truth_cos=-1.1), "probe_truth_cos"),
])
def test_invalid_options_are_refused(kw, word):
    with pytest.raises(ValueError, match=word):
        LabelNoise(**kw)


@pytest.mark.parametrize("kw", [
    dict(breaks=(), probs=(0.5,)),
    dict(breaks=(0.1, 0.0), probs=(0.1, 0.5, 0.9)),
    dict(breaks=(0.0, 0.0), probs=(0.1, 0.5, 0.9)),
    dict(breaks=(0.0, math.inf), probs=(0.1, 0.5, 0.9)),
    dict(breaks=(0.0,), probs=(0.1, 0.5, 0.9)),
    dict(breaks=(0.0,), probs=(-0.1, 0.9)),
    dict(breaks=(0.0,), probs=(0.1, 1.2)),
])
def test_invalid_piecewise_links_are_refused(kw):
    with pytest.raises(ValueError, match="breaks|probs"):
        PiecewiseLink(**kw)


def test_options_name_the_link():
    assert LabelNoise(link="logistic", link_scale=2.0).options() == {
        "flip": 0.0, "teacher_noise": 0.0, "link": "logistic", "link_scale": 2.0,
        "truth_cos": 1.0, "probe_truth_cos": None}
    assert LabelNoise(link=ASYM).options()["link"] == "piecewise"
    assert LabelNoise(link=ASYM).spec()["link_probs"] == list(ASYM.probs)
    assert LabelNoise(link="misspec2").options()["link_scale"] is None
    assert not LabelNoise(link="misspec2").clean and LabelNoise().clean


def test_sweep_keys_tell_custom_links_apart():
    other = PiecewiseLink(breaks=(-0.5, 0.0, 0.3), probs=(0.1, 0.4, 0.9, 0.7))
    a, b = (make_task(50, 2.0, learner="ridge", link=lk) for lk in (ASYM, other))
    assert a.key("v") != b.key("v")
    assert make_task(50, 2.0, learner="ridge").key("v") != a.key("v")


# ---------------------------------------------------------------------------- the streams


def test_sign_link_stream_is_unchanged():
    """Flips draw one uniform per example after the teacher noise's normals, as before links
    existed (so flip and teacher-noise runs keep their numbers).
    """
    u = np.random.default_rng(0).standard_normal(1000)
    y = LabelNoise(flip=0.2, teacher_noise=0.3).labels(u, np.random.default_rng(1))
    rng = np.random.default_rng(1)
    ref = np.where(u + 0.3 * rng.standard_normal(u.size) >= 0, 1.0, -1.0)
    ref = np.where(rng.random(u.size) < 0.2, -ref, ref)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("noise, q", CHANNELS)
def test_other_links_draw_one_uniform_per_example(noise, q):
    u = np.random.default_rng(0).standard_normal(1000)
    y = noise.labels(u, np.random.default_rng(2))
    ref = np.where(np.random.default_rng(2).random(u.size) < q(u), 1.0, -1.0)
    np.testing.assert_array_equal(y, ref)


# ---------------------------------------------------------------------------- 1-D averages


def _binomial_ok(measured, expected, m):
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / m)
    return abs(measured - expected) <= 4 * se


@pytest.mark.parametrize("noise, q", CHANNELS)
def test_p_correct_is_the_symmetrised_channel(noise, q):
    """``p_correct(u0)`` is the probability that the label is ``sign(u)`` at ``|u| = u0``,
    averaged over ``u = +-u0`` (the law of ``y x`` sees only this): Monte Carlo on raw labels.
    """
    rng = np.random.default_rng(3)
    m = 500_000
    for u0 in (0.05, 0.2, 0.4, 0.8, 2.0):
        u = np.where(rng.random(m) < 0.5, u0, -u0)
        y = noise.labels(u, rng)
        measured = float(np.mean(y == np.sign(u)))
        expected = float(noise.p_correct(u0))
        assert abs(expected - 0.5 * (q(u0) + 1 - q(-u0))) < 1e-15
        assert _binomial_ok(measured, expected, m), (u0, measured, expected)


def _quad_disagree(q, r):
    """``P(y != sign(h))`` with ``corr(h, u) = r``, by quad on the raw channel."""
    s = math.sqrt(1 - r * r)

    def integrand(u):
        right = (1.0 if r * u > 0 else 0.0) if s == 0 else norm.cdf(r * u / s)
        qu = float(q(u))
        return norm.pdf(u) * ((1 - qu) * right + qu * (1 - right))

    pts = [-0.5, -0.3, -0.1, 0.0, 0.1, 0.3, 0.5]
    return integrate.quad(integrand, -12, 12, points=pts, limit=400, epsabs=1e-13)[0]


@pytest.mark.parametrize("noise, q", CHANNELS)
def test_eps_noisy_and_p_agree_match_quad_and_monte_carlo(noise, q):
    rng = np.random.default_rng(4)
    m = 1_000_000
    for r in (0.0, 0.3, 0.8, 0.99, 1.0):
        ref = _quad_disagree(q, r)
        assert abs(float(noise.eps_noisy(r)) - ref) < 1e-9, r
        assert abs(noise.p_agree(r) - (1 - ref)) < 1e-9, r
        u = rng.standard_normal(m)
        h = r * u + math.sqrt(1 - r * r) * rng.standard_normal(m)
        y = noise.labels(u, rng)
        assert _binomial_ok(float(np.mean(y * h < 0)), ref, m), r
    np.testing.assert_allclose(noise.eps_noisy(np.array([0.3, 0.8])),
                               [_quad_disagree(q, 0.3), _quad_disagree(q, 0.8)], atol=1e-9)


@pytest.mark.parametrize("noise, q", CHANNELS)
def test_p_plus_matches_quad(noise, q):
    """``E[qbar(u)]`` for ``u ~ N(mean, sd^2)`` (the margin metric's agreement probability)."""
    def qbar(u):
        return 0.5 * (q(u) + 1 - q(-u))

    for mean, sd in ((0.05, 0.2), (0.3, 0.0), (1.0, 0.5), (-0.2, 0.1), (0.0, 3.0)):
        if sd == 0:
            ref = float(qbar(mean))
        else:
            pts = [(x - mean) / sd for x in (-0.5, -0.3, -0.1, 0.0, 0.1, 0.3, 0.5)]
            ref = integrate.quad(lambda g, m=mean, v=sd: norm.pdf(g) * float(qbar(m + v * g)),
                                 -12, 12, points=pts, limit=400, epsabs=1e-13)[0]
        assert abs(float(noise.p_plus(np.array([mean]), sd)[0]) - ref) < 1e-10, (mean, sd)


def test_sign_link_closed_forms_are_the_steep_logistic_limit():
    sign = LabelNoise(flip=0.1)
    steep = LabelNoise(flip=0.1, link="logistic", link_scale=1e6)
    for r in (0.0, 0.5, 0.9, 1.0):
        assert abs(float(steep.eps_noisy(r)) - float(sign.eps_noisy(r))) < 1e-6
        assert abs(steep.p_agree(r) - sign.p_agree(r)) < 1e-6


# ---------------------------------------------------------------------------- theory limits


@pytest.mark.parametrize("kw", [
    pytest.param(dict(keep="hard", theta=10.0), id="abs-hard-10"),
    pytest.param(dict(keep="hard", theta=10.0, flip=0.1), id="abs-hard-10-flip"),
    pytest.param(dict(keep="easy", theta=0.0, flip=0.1,
                      metric=pp.get_metric("margin", score="signed")), id="signed-easy-0-flip"),
    pytest.param(dict(keep="hard", theta=20.0, flip=0.1,
                      metric=pp.get_metric("margin", label_aware=True)), id="aware-hard-20-flip"),
])
def test_sign_link_is_the_steep_logistic_limit(kw):
    """Theory at ``S = 1e3, 1e4, 1e5`` converges to the sign link's: ``eps``, ``R`` and
    ``eps_noisy`` as ``1/S^2`` (the mislabelled mass near ``u = 0`` is ``O(1/S)`` and enters
    the error at second order), ``p_agree`` and ``frac_mislabelled_kept`` as ``1/S``.
    """
    ref = theory.solve(alpha_tot=4.0, f=0.5, learner=SVM, **kw)
    diffs = []
    for S in (1e3, 1e4, 1e5):
        p = theory.solve(alpha_tot=4.0, f=0.5, learner=SVM, link="logistic", link_scale=S, **kw)
        diffs.append([abs(getattr(p, q) - getattr(ref, q))
                      for q in ("eps", "R", "eps_noisy", "p_agree", "frac_mislabelled_kept")])
    diffs = np.array(diffs)
    assert np.all(diffs[-1] < 2e-5), diffs
    assert np.all(diffs[-1, :3] < 1e-8), diffs
    big = diffs[0] > 1e-12  # a quantity the link changes at all: it must converge
    assert np.all(diffs[1][big] < 0.2 * diffs[0][big]), diffs
    assert np.all(diffs[2][big] < 0.2 * diffs[1][big]), diffs


def test_flip_composes_with_a_link():
    """Flips compose with any link as ``(1 - eta) q + eta (1 - q)``: on the step link
    ``q = 1[u >= 0]`` (a piecewise link) they are the sign link's flips, the same ``p_correct``
    and so the same theory through the other code path (quadrature ``eps_noisy``).
    """
    a = LabelNoise(link=PiecewiseLink(breaks=(0.0,), probs=(0.0, 1.0)), flip=0.2)
    b = LabelNoise(flip=0.2)
    u = np.linspace(-3, 3, 12)  # u = 0, where qbar is 1/2 for a step link, has measure zero
    np.testing.assert_allclose(a.p_correct(u), b.p_correct(u), rtol=0, atol=1e-15)
    pa = theory.solve(alpha_tot=4.0, f=0.5, theta=10.0, learner=SVM,
                      link=PiecewiseLink(breaks=(0.0,), probs=(0.0, 1.0)), flip=0.2)
    pb = theory.solve(alpha_tot=4.0, f=0.5, theta=10.0, learner=SVM, flip=0.2)
    assert abs(pa.eps - pb.eps) < 1e-9 and abs(pa.eps_noisy - pb.eps_noisy) < 1e-12


# ---------------------------------------------------------------------------- symmetrisation


def test_law_of_yx_of_an_asymmetric_channel_is_its_symmetrisation():
    """The law of ``y x`` (here its mean along the generator, the mislabelled fraction, and the
    mean of ``y u`` on the mislabelled examples) is that of ``qbar``, by simulation of the raw
    channel against quad on ``qbar``, and the theory's kept-law nodes agree.
    """
    from perceptron_pruning._law_nodes import law_nodes
    from perceptron_pruning.metrics import whole_plane

    noise = LabelNoise(link=ASYM)
    rng = np.random.default_rng(6)
    m = 1_000_000
    u = rng.standard_normal(m)
    yu = noise.labels(u, rng) * u

    def qbar(a):
        return 0.5 * (_q_asym(a) + 1 - _q_asym(-a))

    pts = [0.3, 0.5]
    mean_ref = 2 * integrate.quad(lambda a: norm.pdf(a) * a * (2 * qbar(a) - 1), 0, 12,
                                  points=pts)[0]
    wrong_ref = 2 * integrate.quad(lambda a: norm.pdf(a) * (1 - qbar(a)), 0, 12, points=pts)[0]
    assert abs(yu.mean() - mean_ref) <= 4 * yu.std() / math.sqrt(m)
    assert _binomial_ok(float(np.mean(yu < 0)), wrong_ref, m)
    # The raw channel is not its symmetrisation: P(y = 1) = 0.519 (1/2 for any symmetric one).
    assert abs(np.mean(noise.labels(u, rng) > 0) - 0.5) > 20 * 0.5 / math.sqrt(m)
    nd = law_nodes(whole_plane(noise))
    assert abs(float(nd.wt @ nd.yu) - mean_ref) < 1e-10
    assert abs(nd.frac_wrong - wrong_ref) < 1e-10


def _check(sim, th, q="eps"):
    mean, se, ref = getattr(sim, f"{q}_mean"), getattr(sim, f"{q}_sem"), getattr(th, q)
    assert abs(mean - ref) <= 4.0 * se + 1.0 / N, (q, mean, se, ref)
    return (mean - ref) / se


def test_asymmetric_channel_theory_matches_simulation():
    """The simulation draws from the raw asymmetric ``q``; the theory uses ``qbar``."""
    kw = dict(alpha_tot=4.0, f=0.5, keep="hard", theta=10.0, learner=SVM, link=ASYM)
    sim = pp.simulate(N, seeds=10, seed=41, **kw)
    th = theory.solve(**kw)
    _check(sim, th)
    se = math.sqrt(th.frac_mislabelled_kept * (1 - th.frac_mislabelled_kept) / (10 * sim.p_kept))
    assert abs(sim.frac_mislabelled_kept_mean - th.frac_mislabelled_kept) <= 4 * se


# ---------------------------------------------------------------------------- vs simulation

LINKS = {"logistic": dict(link="logistic", link_scale=4.0), "misspec2": dict(link="misspec2")}


def _grid():
    out = []
    for name, link in LINKS.items():
        for learner in (SVM, LOGISTIC):
            for keep in ("hard", "easy"):
                for theta in (0.0, 10.0):
                    out.append((name, learner, keep, theta, link))
    return out


@pytest.fixture(scope="module")
def grid():
    out = []
    for i, (_, learner, keep, theta, link) in enumerate(_grid()):
        kw = dict(keep=keep, theta=theta, learner=learner, alpha_tot=6.0, f=0.5, **link)
        out.append((kw, pp.simulate(N, seeds=10, seed=2000 + i, **kw), theory.solve(**kw)))
    return out


@pytest.mark.slow
def test_links_theory_matches_simulation_on_the_grid(grid):
    """Logistic (``S = 4``) and misspec2 links x {svm, logistic} x {hard, easy} x {0, 10 deg},
    ``alpha_tot = 6``, ``f = 0.5``, ``N = 400``, 10 seeds (measured: mean z^2 = 1.25).
    """
    z = np.array([_check(sim, th) for _, sim, th in grid])
    assert np.mean(z ** 2) <= 2.0, np.round(z, 2)
    for _, sim, th in grid:
        f = th.frac_mislabelled_kept
        se = math.sqrt(f * (1 - f) / (sim.replicates * sim.p_kept))
        assert abs(sim.frac_mislabelled_kept_mean - f) <= 4 * se + 1.0 / N


@pytest.mark.parametrize("name, learner, keep, theta", [
    ("logistic", SVM, "hard", 10.0), ("misspec2", SVM, "easy", 0.0)])
def test_links_theory_matches_simulation(name, learner, keep, theta):
    """Two points of the slow grid, in the quick suite."""
    kw = dict(keep=keep, theta=theta, learner=learner, alpha_tot=4.0, f=0.5, **LINKS[name])
    _check(pp.simulate(N, seeds=10, seed=77, **kw), theory.solve(**kw))
