"""Finite-size extrapolation: recovers a synthetic law with honest error bars, falls back to a
fixed exponent when the data cannot fix it, and the study is the simulations it says it is."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import numpy as np
import pytest

from perceptron_pruning import figures, simulate, theory
from perceptron_pruning import finite_size as fs

matplotlib.use("Agg")

N = np.array([100, 200, 400, 800, 1600, 3200], dtype=float)


def _synthetic(rng, *, eps_inf=0.1, a=2.0, b=0.8, sem=None):
    sem = np.full(N.size, 5e-4) if sem is None else sem
    return eps_inf + a * N ** (-b) + rng.normal(0.0, sem), sem


def test_noiseless_law_is_recovered_exactly():
    eps = 0.1 + 2.0 * N**-0.8
    sem = np.full(N.size, 1e-3)
    fit = fs.extrapolate(N, eps, sem)
    assert fit.b_fitted and fit.reason == "" and fit.dof == 3
    assert (fit.eps_inf, fit.a, fit.b) == pytest.approx((0.1, 2.0, 0.8), rel=1e-8)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(fit.predict(N), eps, rtol=1e-10)
    fixed = fs.extrapolate(N, 0.1 + 2.0 / N, sem, b=1)
    assert not fixed.b_fitted and fixed.reason == "b given" and math.isnan(fixed.b_se)
    assert (fixed.eps_inf, fixed.a, fixed.b, fixed.dof) == pytest.approx((0.1, 2.0, 1.0, 4))


@pytest.mark.parametrize("a, sem_scale, shape", [(2.0, 5e-4, 0.25), (-1.5, 3e-4, 0.25),
                                                   (2.0, 1e-3, 0.0)])
def test_standard_errors_are_honest_on_a_synthetic_law(a, sem_scale, shape):
    """Over many noisy draws of eps_N = eps_inf + a N^-b with b well determined, the z-scores
    of eps_inf, a and b have mean ~0 and unit spread, and chi2 averages the degrees of freedom.
    (``sem ~ N^0.25`` is the shape the default seed schedule gives.)"""
    rng = np.random.default_rng(12345)
    sem = sem_scale * (N / 100.0) ** shape
    z_inf, z_b, z_a, chi2 = [], [], [], []
    for _ in range(300):
        eps, _ = _synthetic(rng, a=a, sem=sem)
        fit = fs.extrapolate(N, eps, sem)
        assert fit.b_fitted, fit.reason
        z_inf.append((fit.eps_inf - 0.1) / fit.eps_inf_se)
        z_a.append((fit.a - a) / fit.a_se)
        z_b.append((fit.b - 0.8) / fit.b_se)
        chi2.append(fit.chi2)
    for z in (z_inf, z_a, z_b):
        # 300 draws: the mean has s.e. 0.06 and the spread ~0.04; allow for the small
        # nonlinearity of the model in b.
        assert abs(np.mean(z)) < 0.25
        assert 0.85 < np.std(z) < 1.25
    assert np.mean(chi2) == pytest.approx(3.0, abs=0.5)


def test_fixed_exponent_errors_are_honest():
    rng = np.random.default_rng(7)
    sem = np.full(N.size, 1e-3)
    z = []
    for _ in range(300):
        eps = 0.1 + 1.0 / N + rng.normal(0.0, sem)
        fit = fs.extrapolate(N, eps, sem, b=1.0)
        z.append((fit.eps_inf - 0.1) / fit.eps_inf_se)
    assert abs(np.mean(z)) < 0.2 and 0.85 < np.std(z) < 1.15


def test_falls_back_to_a_fixed_exponent_when_b_is_not_determined():
    rng = np.random.default_rng(3)
    sem = np.full(N.size, 2e-3)
    fallbacks = 0
    for _ in range(20):
        fit = fs.extrapolate(N, 0.1 + rng.normal(0.0, sem), sem)  # no finite-size trend
        if not fit.b_fitted:
            fallbacks += 1
            assert fit.b == 1.0 and math.isnan(fit.b_se) and fit.dof == 4 and fit.reason
    assert fallbacks >= 18
    fit = fs.extrapolate(N[:3], 0.1 + 1.0 / N[:3], sem[:3], b_fallback=0.5)
    assert not fit.b_fitted and fit.b == 0.5 and fit.dof == 1 and "too few" in fit.reason
    p = fs.extrapolate(N, 0.1 + 1.0 / N, sem, b=1).p_value
    assert p == pytest.approx(1.0)


@pytest.mark.parametrize("args, kwargs, match", [
    ((N, N, N[:3]), {}, "same length"),
    ((N[:2], N[:2], N[:2]), {}, "at least 3"),
    ((-N, N, N), {}, "n must be"),
    ((np.r_[N[:3], N[2]], N[:4], N[:4]), {}, "n must be"),
    ((N, np.r_[np.nan, N[1:]], N), {}, "eps_mean"),
    ((N, N, 0 * N), {}, "eps_sem"),
    ((N, N, np.full(N.size, np.inf)), {}, "eps_sem"),
    ((N, N, N), {"b": 0.0}, "b must be in"),
    ((N, N, N), {"b_fallback": 9}, "b_fallback must be in"),
])
def test_extrapolate_rejects_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fs.extrapolate(*args, **kwargs)


def test_default_seeds():
    s = fs.default_seeds(fs.N_VALUES)
    assert s[-1] == 10 and list(s) == sorted(s, reverse=True)
    assert s == tuple(math.ceil(10 * (3200 / n) ** 1.5 - 1e-9) for n in fs.N_VALUES)
    assert fs.default_seeds((10, 20, 40), largest=4, power=1) == (16, 8, 4)
    for kwargs, match in (({"largest": 1}, "largest"), ({"power": -1}, "power")):
        with pytest.raises(ValueError, match=match):
            fs.default_seeds(fs.N_VALUES, **kwargs)


SMALL = {"n_values": (20, 40, 80), "seeds": (6, 4, 3)}


def test_study_is_the_simulations_and_the_theory():
    st = fs.study(4.0, f=0.5, keep="hard", seed=2, **SMALL)
    assert list(st.n) == [20, 40, 80] and list(st.seeds) == [6, 4, 3]
    for k, (n, s) in enumerate(zip(*SMALL.values())):
        ref = simulate(n, 4.0, f=0.5, keep="hard", seeds=s, seed=2)
        assert st.eps_mean[k] == pytest.approx(ref.eps_mean, rel=1e-14)
        assert st.eps_sem[k] == pytest.approx(ref.eps_sem, rel=1e-12)
        np.testing.assert_array_equal(st.results[k].eps, ref.eps)
    assert st.eps_theory == theory.solve(alpha_tot=4.0, f=0.5, keep="hard").eps
    assert st.gap == st.fit.eps_inf - st.eps_theory and st.gap_se == st.fit.eps_inf_se
    assert not st.fit.b_fitted  # three points: b = 1
    row = st.summary()
    assert row["gap"] == st.gap and row["trials"] == 13 and row["n_max"] == 80


def test_studies_run_together_match_one_by_one(tmp_path):
    pts = [{"alpha_tot": 2.0}, {"alpha_tot": 6.0, "f": 0.3, "keep": "easy", "theta": 10.0}]
    with ThreadPoolExecutor(2) as ex:
        both = fs.studies(pts, executor=ex, cache_dir=tmp_path, seed=1, **SMALL)
    for p, st in zip(pts, both):
        one = fs.study(**p, seed=1, **SMALL)
        np.testing.assert_array_equal(st.eps_mean, one.eps_mean)
        assert st.fit == one.fit
    assert len(list(tmp_path.rglob("*.json"))) == 2 * sum(SMALL["seeds"])


@pytest.mark.parametrize("kwargs, match", [
    ({"n_values": (100, 200)}, "n_values"),
    ({"n_values": (100, 100, 200)}, "n_values"),
    ({"n_values": (1, 100, 200)}, "n_values"),
    ({"n_values": 100}, "n_values"),
    ({"seeds": 1}, "seeds"),
    ({"seeds": (4, 4)}, "seeds"),
    ({"alpha_tot": -1.0}, "alpha_tot"),
    ({"f": 1.5}, "f must be"),
    ({"keep": "medium"}, "keep"),
    ({"theta": 100.0}, "theta"),
    ({"b": 10.0}, "b must be"),
])
def test_study_rejects_bad_input(kwargs, match):
    args = {"alpha_tot": 2.0, **SMALL, **kwargs}
    with pytest.raises(ValueError, match=match):
        fs.study(**args)


def test_studies_reject_bad_points():
    with pytest.raises(ValueError, match="alpha_tot"):
        fs.studies([{"f": 0.5}], **SMALL)
    with pytest.raises(ValueError, match="only set"):
        fs.studies([{"alpha_tot": 2.0, "n": 10}], **SMALL)
    with pytest.raises(ValueError, match="empty"):
        fs.studies([], **SMALL)


def test_quick_figure_rows_and_plot():
    import matplotlib.pyplot as plt

    data = figures.compute("finite_size", figures.FigureConfig.quick())
    for label, panel, p in figures.FS_POINTS:
        sims = data.select(panel=panel, series="simulation")
        assert [r["n"] for r in sims] == list(figures.FS_N_QUICK)
        assert all(r["yerr"] > 0 and r["x"] == 1 / r["n"] for r in sims)
        (ex,) = data.select(panel=panel, series="extrapolation")
        th = data.select(panel=panel, series="theory")
        eps_th = theory.solve(**p).eps
        assert all(r["y"] == eps_th for r in th)
        assert ex["gap"] == pytest.approx(ex["y"] - eps_th, abs=1e-15)
        assert data.notes[f"{label}_gap"] == ex["gap"]
        fit = data.select(panel=panel, series="fit")
        assert fit[0]["x"] == 0.0 and fit[0]["y"] == ex["y"]
    fig = figures.plot(data)
    try:
        assert len(fig.axes) == 3
        for ax, (_, panel, _) in zip(fig.axes, figures.FS_POINTS):
            rows = data.select(panel=panel)
            xy = {(r["x"], r["y"]) for r in rows}
            xy |= {(r["x"], r["y"] + s * r["yerr"]) for r in rows for s in (-1, 1)}
            for line in ax.get_lines():  # lines, markers and error-bar caps
                assert {tuple(map(float, q)) for q in line.get_xydata()} <= xy
    finally:
        plt.close(fig)
