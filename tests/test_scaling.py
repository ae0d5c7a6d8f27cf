"""Scaling fits (:mod:`perceptron_pruning.scaling`) on synthetic curves with known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perceptron_pruning import scaling, theory


def _ols_slope_se(x, sigma):
    """Standard error of a least-squares slope with i.i.d. noise of std ``sigma``."""
    return sigma / math.sqrt(np.sum((x - x.mean()) ** 2))


def test_power_law_exact_recovery():
    alpha = np.geomspace(1.0, 1e3, 30)
    fit = scaling.fit_power_law(alpha, 0.7 * alpha ** -1.3)
    assert fit.kind == "power"
    assert fit.rate == pytest.approx(1.3, rel=1e-12)
    assert fit.prefactor == pytest.approx(0.7, rel=1e-12)
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert fit.rms_log_residual < 1e-12
    assert (fit.alpha_min, fit.alpha_max, fit.n_points) == (1.0, 1e3, 30)
    np.testing.assert_allclose(fit.predict(alpha), 0.7 * alpha ** -1.3, rtol=1e-12)
    assert "1.30" in fit.label()


def test_power_law_with_noise():
    rng = np.random.default_rng(1)
    sigma = 0.05
    alpha = np.geomspace(1.0, 1e3, 200)
    eps = 0.3 * alpha ** -0.8 * np.exp(sigma * rng.standard_normal(alpha.size))
    fit = scaling.fit_power_law(alpha, eps)
    se = _ols_slope_se(np.log(alpha), sigma)
    assert abs(fit.rate - 0.8) < 4 * se
    assert fit.prefactor == pytest.approx(0.3, rel=0.05)
    assert fit.rms_log_residual == pytest.approx(sigma, rel=0.2)
    assert 0.98 < fit.r2 < 1.0


def test_exponential_exact_and_noisy():
    alpha = np.linspace(1.0, 40.0, 50)
    fit = scaling.fit_exponential(alpha, 2.0 * np.exp(-0.25 * alpha))
    assert fit.kind == "exponential"
    assert fit.rate == pytest.approx(0.25, rel=1e-12)
    assert fit.prefactor == pytest.approx(2.0, rel=1e-12)
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fit.predict(alpha), 2.0 * np.exp(-0.25 * alpha), rtol=1e-12)
    assert "0.25" in fit.label()

    rng = np.random.default_rng(2)
    sigma = 0.1
    noisy = 2.0 * np.exp(-0.25 * alpha) * np.exp(sigma * rng.standard_normal(alpha.size))
    fit = scaling.fit_exponential(alpha, noisy)
    assert abs(fit.rate - 0.25) < 4 * _ols_slope_se(alpha, sigma)


def test_fit_range_selects_points():
    # A power law only on [10, 100]; junk outside must be ignored when the range is given.
    alpha = np.geomspace(1.0, 1e3, 61)
    eps = 5.0 * alpha ** -1.5
    eps[alpha < 10] = 0.5
    eps[alpha > 100] *= 1 + np.linspace(0, 3, np.count_nonzero(alpha > 100))
    fit = scaling.fit_power_law(alpha, eps, alpha_min=10.0, alpha_max=100.0)
    assert fit.rate == pytest.approx(1.5, rel=1e-10)
    assert fit.n_points == np.count_nonzero((alpha >= 10) & (alpha <= 100))
    assert (fit.alpha_min, fit.alpha_max) == (10.0, 100.0)
    assert scaling.fit_power_law(alpha, eps).r2 < 0.99  # the junk does matter without a range


def test_model_selection_between_power_and_exponential():
    alpha = np.geomspace(1.0, 100.0, 40)
    expo = np.exp(-0.1 * alpha)
    power = alpha ** -1.0
    assert scaling.fit_exponential(alpha, expo).r2 > scaling.fit_power_law(alpha, expo).r2
    assert scaling.fit_power_law(alpha, power).r2 > scaling.fit_exponential(alpha, power).r2


def test_unpruned_theory_is_a_power_law_with_nu_one():
    # Published: alpha eps -> 0.5005 for the max-margin perceptron (Opper et al. 1990).
    alpha = np.geomspace(100.0, 1e4, 25)
    c = theory.curve(alpha, f=1.0)
    fit = scaling.fit_power_law(alpha, c.eps)
    assert fit.rate == pytest.approx(1.0, abs=0.01)
    assert fit.r2 > 0.9999
    assert fit.prefactor == pytest.approx(0.5005, rel=0.02)
    nu = scaling.local_exponent(alpha, c.eps)
    np.testing.assert_allclose(nu, 1.0, atol=0.01)


def test_local_exponent():
    alpha = np.geomspace(1.0, 100.0, 400)
    np.testing.assert_allclose(scaling.local_exponent(alpha, 3.0 * alpha ** -0.7), 0.7,
                               rtol=1e-10)
    # eps = exp(-c alpha): -dlog eps / dlog alpha = c alpha, growing without bound.
    nu = scaling.local_exponent(alpha, np.exp(-0.05 * alpha))
    assert np.all(np.diff(nu) > 0)
    np.testing.assert_allclose(nu[1:-1], 0.05 * alpha[1:-1], rtol=1e-3)
    assert nu.shape == alpha.shape


@pytest.mark.parametrize("fit", [scaling.fit_power_law, scaling.fit_exponential])
def test_bad_input(fit):
    alpha = np.geomspace(1.0, 10.0, 10)
    eps = alpha ** -1.0
    with pytest.raises(ValueError, match="same shape"):
        fit(alpha, eps[:-1])
    with pytest.raises(ValueError, match="same shape"):
        fit(alpha.reshape(2, 5), eps.reshape(2, 5))
    with pytest.raises(ValueError, match="at least 3"):
        fit(alpha[:2], eps[:2])
    with pytest.raises(ValueError, match="at least 3"):
        fit(alpha, eps, alpha_min=20.0)
    with pytest.raises(ValueError, match="at least 3"):
        fit(alpha, eps, alpha_min=5.0, alpha_max=2.0)
    bad = eps.copy()
    bad[2:] = 0.0  # eps = 0 cannot be fitted in log space: only 2 usable points remain
    with pytest.raises(ValueError, match="at least 3"):
        fit(alpha, bad)
    nan = eps.copy()
    nan[3] = np.nan  # non-finite points are dropped, not propagated
    assert np.isfinite(fit(alpha, nan).rate)
