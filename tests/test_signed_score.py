"""The margin metric's ``score="signed"``: rank by ``y J_probe . x``, not ``|J_probe . x|``.

References: the kept law's moments against the examples it selects (brute-force quadrature,
``plugin_checks.law_moments``, no theory kernels); the threshold against ``scipy.integrate.quad``,
``scipy.stats.multivariate_normal`` and closed forms; the replica theory against simulation at
``N = 400`` with standard-error tolerances (the allowances of ``test_theory_vs_simulation.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
from plugin_checks import law_moments
from scipy.integrate import quad
from scipy.special import ndtr, ndtri
from scipy.stats import multivariate_normal

from perceptron_pruning import get_metric, simulate, theory
from perceptron_pruning.cli import main
from perceptron_pruning.metrics import Fields, Metric, whole_plane
from perceptron_pruning.metrics.margin import ProbeMargin, kept_threshold
from perceptron_pruning.registry import register_metric

SIGNED = get_metric("margin", score="signed")
ABS = get_metric("margin")


def _fields(p, theta, rng):
    c, s = (0.0, 1.0) if theta == 90 else (math.cos(math.radians(theta)),
                                             math.sin(math.radians(theta)))
    u, w = rng.standard_normal(p), rng.standard_normal(p)
    return Fields(u=u, w=w, t=c * u + s * w, y=np.where(u >= 0, 1.0, -1.0))


def _sem(x):
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / math.sqrt(x.size))


# --------------------------------------------------------------------------------------------
# Options and keys
# --------------------------------------------------------------------------------------------
def test_score_option_defaults_and_validation():
    assert ABS.score == "abs" and SIGNED.score == "signed"
    rest = {"score_noise": 0.0, "label_aware": False, "probe_alpha": None,
            "probe_learner": "max-margin"}
    assert ABS.options() == {"score": "abs", **rest}
    assert SIGNED.spec() == {"name": "margin", "score": "signed", **rest}
    assert str(SIGNED) == "margin(score='signed')" and str(ABS) == "margin"
    for bad in ("bogus", "ABS", None, 1):
        with pytest.raises(ValueError, match=r"^score must be one of abs, signed"):
            get_metric("margin", score=bad)
        with pytest.raises(ValueError, match="score"):
            ProbeMargin(score=bad)
    with pytest.raises(ValueError, match="score"):
        kept_threshold(0.3, "hard", score="bogus")


def test_signed_keys():
    fields = _fields(1000, 30.0, np.random.default_rng(0))
    yt = fields.y * fields.t
    np.testing.assert_array_equal(SIGNED.key(fields, keep="hard", rng=None), yt)
    np.testing.assert_array_equal(SIGNED.key(fields, keep="easy", rng=None), -yt)
    r1 = SIGNED.key(fields, keep="random", rng=np.random.default_rng(5))
    r2 = ABS.key(fields, keep="random", rng=np.random.default_rng(5))
    np.testing.assert_array_equal(r1, r2)
    # Keep hard takes the probe's misclassified examples first.
    idx = SIGNED.select(fields, f=0.05, keep="hard", rng=None)
    assert np.all(np.sign(fields.t[idx]) != fields.y[idx])


# --------------------------------------------------------------------------------------------
# Threshold
# --------------------------------------------------------------------------------------------
def _half_mass_quad(tau, theta, keep):
    """``2 P(u >= 0, t < tau)`` (hard) or ``2 P(u >= 0, t > tau)`` (easy) by 1-D quadrature."""
    th = math.radians(theta)
    c, s = math.cos(th), math.sin(th)
    sgn = 1.0 if keep == "hard" else -1.0
    val, _ = quad(lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
                  * ndtr(sgn * (tau - c * u) / s), 0.0, np.inf, epsabs=1e-14, epsrel=1e-13,
                  limit=200)
    return 2 * val


@pytest.mark.parametrize("keep", ["hard", "easy"])
@pytest.mark.parametrize("theta", [5.0, 10.0, 30.0, 60.0, 89.0])
@pytest.mark.parametrize("f", [0.01, 0.2, 0.5, 0.9])
def test_threshold_solves_the_mass_equation(keep, theta, f):
    tau = kept_threshold(f, keep, score="signed", theta=theta)
    assert _half_mass_quad(tau, theta, keep) == pytest.approx(f, abs=1e-12)
    # scipy's bivariate normal: P(u >= 0, t < tau) = Phi(tau) - P(u < 0, t < tau).
    c = math.cos(math.radians(theta))
    below = ndtr(tau) - multivariate_normal.cdf([0.0, tau], mean=[0.0, 0.0],
                                                cov=[[1.0, c], [c, 1.0]], abseps=1e-12,
                                                releps=1e-12)
    assert 2 * (below if keep == "hard" else 0.5 - below) == pytest.approx(f, abs=1e-8)


def test_threshold_closed_forms_and_monte_carlo():
    for f in (0.05, 0.3, 0.8):
        # theta = 0: y t = |u|, the abs threshold; theta = 90: t = w, independent of u >= 0.
        for keep in ("hard", "easy"):
            assert kept_threshold(f, keep, score="signed", theta=0.0) == kept_threshold(f, keep)
        assert kept_threshold(f, "hard", score="signed", theta=90.0) == pytest.approx(
            ndtri(f), abs=1e-13)
        assert kept_threshold(f, "easy", score="signed", theta=90.0) == pytest.approx(
            -ndtri(f), abs=1e-13)
    assert kept_threshold(1.0, "hard", score="signed", theta=20.0) == math.inf
    assert kept_threshold(1.0, "easy", score="signed", theta=20.0) == -math.inf
    assert math.isnan(kept_threshold(0.3, "random", score="signed", theta=20.0))
    assert kept_threshold(0.3, "easy", theta=20.0) == kept_threshold(0.3, "easy")  # abs: no theta
    # Monte Carlo: the fraction of examples with y t below tau.
    fields = _fields(2_000_000, 20.0, np.random.default_rng(7))
    yt = fields.y * fields.t
    for keep, f in (("hard", 0.1), ("easy", 0.3)):
        tau = kept_threshold(f, keep, score="signed", theta=20.0)
        hit = (yt < tau) if keep == "hard" else (yt > tau)
        assert abs(hit.mean() - f) <= 4 * math.sqrt(f * (1 - f) / hit.size)


# --------------------------------------------------------------------------------------------
# Kept law against the selection
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keep, f, theta", [("hard", 0.2, 10.0), ("easy", 0.2, 10.0),
                                            ("hard", 0.3, 30.0), ("easy", 0.5, 60.0),
                                            ("hard", 0.05, 40.0), ("hard", 0.2, 90.0),
                                            ("easy", 0.4, 90.0), ("hard", 0.3, 0.0)])
def test_kept_law_matches_the_selection(keep, f, theta):
    law = SIGNED.kept_law(f=f, keep=keep, theta=theta)
    assert law.symmetric == (theta == 0.0)
    mass, yu, yw = law_moments(law)
    assert mass == pytest.approx(1.0, abs=1e-4)
    p = 400_000
    fields = _fields(p, theta, np.random.default_rng(3))
    idx = SIGNED.select(fields, f=f, keep=keep, rng=np.random.default_rng(4))
    for emp, th in ((fields.y[idx] * fields.u[idx], yu), (fields.y[idx] * fields.w[idx], yw)):
        se = np.std(emp) / math.sqrt(emp.size)
        assert abs(emp.mean() - th) <= 4 * se + 1e-4, (emp.mean(), th, se)
    if theta == 90.0:
        # Not even in w: y w is shifted (down for hard, up for easy) although u is untouched.
        assert (yw < -0.5) if keep == "hard" else (yw > 0.5)
        assert yu == pytest.approx(math.sqrt(2 / math.pi), abs=1e-4)


# --------------------------------------------------------------------------------------------
# theta = 0: signed and abs coincide
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", ["hard", "easy", "random"])
def test_theta_zero_theory_equals_abs(keep):
    a = np.geomspace(0.5, 40.0, 25)
    for f in (0.2, 0.6):
        c_abs = theory.curve(alpha_tot=a, f=f, keep=keep, theta=0.0)
        c_sig = theory.curve(alpha_tot=a, f=f, keep=keep, theta=0.0, metric=SIGNED)
        assert c_sig.options["score"] == "signed" and c_abs.options["score"] == "abs"
        for q in ("eps", "R", "rho", "kappa", "alpha_support"):
            np.testing.assert_allclose(c_sig.values[q], c_abs.values[q], rtol=0, atol=1e-12)


@pytest.mark.parametrize("sampling", ["fields", "full"])
@pytest.mark.parametrize("keep", ["hard", "easy"])
def test_theta_zero_simulation_equals_abs(keep, sampling):
    kw = dict(f=0.3, keep=keep, theta=0.0, seeds=3, seed=11, sampling=sampling)
    s_abs = simulate(60, 5.0, metric=ABS, **kw)
    s_sig = simulate(60, 5.0, metric=SIGNED, **kw)
    for q in ("eps", "R", "rho", "kappa", "n_support"):
        np.testing.assert_array_equal(getattr(s_sig, q), getattr(s_abs, q))


def test_theta_ninety_hard_and_easy_mirror():
    # At 90 deg keep hard keeps u >= 0, w < tau and keep easy u >= 0, w > -tau: mirror images
    # under w -> -w, so the same error and opposite rho (and, unlike abs, rho != 0).
    a = [1.0, 5.0, 20.0]
    hard = theory.curve(alpha_tot=a, f=0.2, keep="hard", theta=90.0, metric=SIGNED)
    easy = theory.curve(alpha_tot=a, f=0.2, keep="easy", theta=90.0, metric=SIGNED)
    np.testing.assert_allclose(hard.eps, easy.eps, rtol=1e-9)
    np.testing.assert_allclose(hard.rho, -easy.rho, rtol=1e-9)
    assert np.all(hard.rho < -0.5)


# --------------------------------------------------------------------------------------------
# Theory against simulation (allowances as in test_theory_vs_simulation.py)
# --------------------------------------------------------------------------------------------
N, SEEDS = 400, 16
STEEP = {("hard", 10.0, 10.0)}  # keep hard f = 0.2 at alpha_tot = 10, theta = 10: the steep drop


def _cases():
    for keep in ("hard", "easy"):
        for theta in (10.0, 30.0):
            for alpha_tot in (2.0, 10.0):
                marks = [pytest.mark.slow] if alpha_tot == 10.0 else []
                yield pytest.param(keep, theta, alpha_tot, marks=marks,
                                   id=f"{keep}-th{theta:g}-a{alpha_tot:g}")


@pytest.mark.parametrize("keep, theta, alpha_tot", list(_cases()))
def test_signed_simulation_matches_theory(keep, theta, alpha_tot):
    sim = simulate(N, alpha_tot, f=0.2, keep=keep, theta=theta, metric=SIGNED, seeds=SEEDS)
    th = theory.solve(alpha_tot=alpha_tot, f=0.2, keep=keep, theta=theta, metric=SIGNED)
    allowance = 0.08 if (keep, theta, alpha_tot) in STEEP else 0.04
    tol = 3 * _sem(sim.eps) + allowance * th.eps
    assert abs(np.mean(sim.eps) - th.eps) <= tol, (np.mean(sim.eps), _sem(sim.eps), th.eps)
    assert abs(np.mean(sim.rho) - th.rho) <= 3 * _sem(sim.rho) + 0.02, (np.mean(sim.rho), th.rho)
    assert abs(np.mean(sim.kappa) - th.kappa) <= 3 * _sem(sim.kappa) + 0.04 * th.kappa
    nsv = sim.n_support / N
    assert abs(np.mean(nsv) - th.alpha_support) <= 3 * _sem(nsv) + 0.02 * th.alpha_support


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
@register_metric("no-score-demo")
@dataclass(frozen=True)
class _NoScore(Metric):
    """A metric without a ``score`` option (uniform random keys; the law of random pruning)."""

    def key(self, fields, *, keep, rng):
        return rng.random(fields.t.size)

    def kept_law(self, *, f, keep, theta, noise):
        return whole_plane(noise)


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and match in err, err


def test_cli_score(capsys):
    point = ["--f", "0.3", "--keep", "hard", "--theta", "20"]
    assert main(["theory", "--alpha-tot", "2", "5", *point, "--score", "signed", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    ref = theory.curve(alpha_tot=[2.0, 5.0], f=0.3, keep="hard", theta=20.0, metric=SIGNED)
    assert [r["score"] for r in recs] == ["signed", "signed"]
    assert [r["eps"] for r in recs] == pytest.approx(list(ref.eps), abs=1e-14)
    assert main(["simulate", "--n", "30", "--alpha-tot", "3", *point, "--seeds", "2",
                 "--jobs", "1", "--score", "signed", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    ref = simulate(30, 3.0, f=0.3, keep="hard", theta=20.0, seeds=2, metric=SIGNED)
    assert rec["score"] == "signed" and rec["eps_mean"] == ref.eps_mean
    assert main(["theory", "--alpha-tot", "2", *point, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["score"] == "abs"
    assert main(["theory", "--alpha-tot", "2", *point, "--score", "signed"]) == 0
    assert "(score signed)" in capsys.readouterr().out
    for cmd in (["theory", "--alpha-tot", "2"], ["simulate", "--alpha-tot", "2", "--n", "10"],
                ["figure", "scaling", "--quick"], ["reproduce", "--quick"]):
        _one_line_error(capsys, [*cmd, "--score", "bogus"], "score must be one of abs, signed")
    _one_line_error(capsys, ["theory", "--alpha-tot", "2", "--metric", "no-score-demo",
                             "--score", "signed"], "does not take score")
