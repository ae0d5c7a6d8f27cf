"""Importance-weighted training: ``sum_mu v_mu loss(y_mu, J . x_mu / sqrt(N)) + lam |J|^2 / 2``.

Independent references: a primal QP solved by Clarabel for the hinge loss, scikit-learn's
``sample_weight`` for the logistic and square losses (``C = 1 / (lam N)``, ``Ridge(alpha = lam
N)``, ``J = sqrt(N) coef_``; scikit-learn weighs each example's loss, so the minimisers agree),
duplicated rows for integer weights, and the exact identity ``c sum loss + lam |J|^2 / 2 =
c [sum loss + (lam / c) |J|^2 / 2]`` for constant weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from reference import clarabel_hinge, erm_gradient, erm_objective, teacher_student

from perceptron_pruning import get_learner
from perceptron_pruning._erm_solvers import LOSSES, hebb, solve

# (N, P, lam, flip): P < N (kernel forms), P ~ N and P > N, clean and 10%-noisy labels.
CASES = [
    (30, 15, 0.1, False),
    (20, 60, 0.1, True),
    (50, 100, 0.05, True),
    (40, 40, 0.02, False),
]


def lognormal_weights(P, seed, spread=1.0):
    """Positive weights spanning about ``exp(+-2 spread)``."""
    return np.exp(spread * np.random.default_rng(seed).standard_normal(P))


def selection(N, P, seed, decades=4):
    """Kept examples with importance weights ``1 / pi`` spanning ``1 .. 10^decades``.

    ``pi`` is log-uniform on ``[10^-decades, 1]`` and falls with ``|x_0|`` (easy examples are
    the rare, heavily weighted ones, as when keeping hard examples); 10% of the labels flipped.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, N))
    y = np.where(X[:, 0] >= 0.0, 1.0, -1.0)
    y[rng.random(P) < 0.1] *= -1.0
    log_pi = np.sort(rng.uniform(-decades, 0.0, P))[::-1]
    log_pi[[0, -1]] = 0.0, -decades
    v = np.empty(P)
    v[np.argsort(np.abs(X[:, 0]))] = 10.0 ** -log_pi
    return X, y, v


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def sklearn_weighted_J(X, y, loss, lam, v):
    """Minimiser from scikit-learn with ``sample_weight``, in our convention."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression, Ridge

    N = X.shape[1]
    if loss == "logistic":
        model = LogisticRegression(solver="newton-cholesky", fit_intercept=False,
                                   C=1.0 / (lam * N), tol=1e-14, max_iter=1000)
    else:
        model = Ridge(alpha=lam * N, fit_intercept=False, solver="cholesky")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning fails the test
        model.fit(X, y, sample_weight=v)
    if loss == "logistic":
        assert np.max(model.n_iter_) < model.max_iter
    return math.sqrt(N) * model.coef_.ravel()


# ----------------------------------------------------------------------------------------------
# Independent references


@pytest.mark.parametrize("N,P,lam,flip", CASES + [(40, 200, 0.01, True)])
def test_hinge_weighted_matches_clarabel(N, P, lam, flip):
    X, y = teacher_student(N, P, seed=3 * N + P, flip=flip)
    v = lognormal_weights(P, seed=P)
    sol = solve(X, y, loss="hinge", lam=lam, sample_weight=v)
    assert sol.certificate <= 1e-10
    J_or = clarabel_hinge(X, y, lam, v, max_iter=500)
    obj_or = erm_objective(X, y, J_or, "hinge", lam, v)
    obj = erm_objective(X, y, sol.w, "hinge", lam, v)
    assert sol.objective == pytest.approx(obj, rel=1e-12)
    assert abs(obj - obj_or) / obj_or < 1e-8
    # Any J bounds the minimum from above, so the certified gap bounds our excess over it.
    assert obj - obj_or <= (sol.certificate + 1e-13) * obj
    assert rel(sol.w, J_or) < 1e-5
    # Weights act through the examples inside the margin (dual variables at their bound
    # v_mu); without any (P < N can interpolate) the weighted student is the unweighted one.
    plain = solve(X, y, loss="hinge", lam=lam).w
    if np.all(y * (X @ J_or) / math.sqrt(N) > 1.0 - 1e-6):
        assert rel(plain, J_or) < 1e-5
    else:
        assert rel(plain, J_or) > 1e-2


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("N,P,lam,flip", CASES)
def test_smooth_weighted_matches_sklearn(loss, N, P, lam, flip):
    X, y = teacher_student(N, P, seed=N + 5 * P, flip=flip)
    v = lognormal_weights(P, seed=N)
    sol = solve(X, y, loss=loss, lam=lam, sample_weight=v)
    J_sk = sklearn_weighted_J(X, y, loss, lam, v)
    assert rel(sol.w, J_sk) < 1e-7
    obj = erm_objective(X, y, sol.w, loss, lam, v)
    obj_sk = erm_objective(X, y, J_sk, loss, lam, v)
    assert sol.objective == pytest.approx(obj, rel=1e-12)
    assert obj <= obj_sk * (1 + 1e-12)
    assert (obj_sk - obj) / obj < 1e-10
    # The certificate is the weighted one: an independent gradient vanishes.
    g = erm_gradient(X, y, sol.w, loss, lam, v)
    assert np.linalg.norm(g) <= 1e-9 * lam * np.linalg.norm(sol.w)
    assert rel(solve(X, y, loss=loss, lam=lam).w, J_sk) > 1e-2


# ----------------------------------------------------------------------------------------------
# Exact identities


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("N,P", [(30, 12), (12, 45)])
def test_integer_weights_equal_duplicated_rows(loss, N, P):
    X, y = teacher_student(N, P, seed=N * P, flip=True)
    k = np.random.default_rng(N).integers(1, 4, size=P)  # each example 1, 2 or 3 times
    lam = 0.05
    sol = solve(X, y, loss=loss, lam=lam, sample_weight=k, tol=1e-12)
    Xd, yd = np.repeat(X, k, axis=0), np.repeat(y, k)
    dup = solve(Xd, yd, loss=loss, lam=lam, tol=1e-12)
    assert rel(sol.w, dup.w) < 1e-8
    assert sol.objective == pytest.approx(dup.objective, rel=1e-10)
    if loss != "hinge" or P > N:  # with P < N the hinge student interpolates: y h = 1 for all
        assert rel(solve(X, y, loss=loss, lam=lam).w, dup.w) > 1e-3


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("c", [0.25, 7.0, 300.0])
def test_constant_weights_rescale_lam(loss, c):
    # c sum loss + lam |J|^2 / 2 = c [sum loss + (lam / c) |J|^2 / 2]: same minimiser.
    X, y = teacher_student(25, 50, seed=11, flip=True)
    lam = 0.2
    sol = solve(X, y, loss=loss, lam=lam, sample_weight=np.full(50, c), tol=1e-12)
    ref = solve(X, y, loss=loss, lam=lam / c, tol=1e-12)
    assert rel(sol.w, ref.w) < 1e-9
    assert sol.objective == pytest.approx(c * ref.objective, rel=1e-10)


@pytest.mark.parametrize("loss", LOSSES)
def test_unit_weights_equal_unweighted(loss):
    X, y = teacher_student(20, 60, seed=4, flip=True)
    a = solve(X, y, loss=loss, lam=0.05)
    b = solve(X, y, loss=loss, lam=0.05, sample_weight=np.ones(60))
    assert rel(b.w, a.w) < 1e-10
    assert b.objective == pytest.approx(a.objective, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# Weights spanning orders of magnitude (1 / pi of a Bernoulli selection)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("N,P,lam,seed", [(40, 160, 0.05, 1), (60, 30, 0.01, 2),
                                          (30, 300, 0.1, 3), (50, 200, 0.01, 4)])
def test_selection_weights_certified(loss, N, P, lam, seed):
    X, y, v = selection(N, P, seed)
    assert v.min() == 1.0 and v.max() == pytest.approx(1e4)
    sol = solve(X, y, loss=loss, lam=lam, sample_weight=v)
    assert 0.0 <= sol.certificate <= 1e-10
    obj = erm_objective(X, y, sol.w, loss, lam, v)
    # Rounding in the margins is amplified by the weights: 1e-12 relative is not attainable.
    assert sol.objective == pytest.approx(obj, rel=1e-10)
    if loss == "hinge":
        J_or = clarabel_hinge(X, y, lam, v, max_iter=500)
        obj_or = erm_objective(X, y, J_or, loss, lam, v)
        # Any J bounds the minimum from above, so the certified gap bounds our excess over it.
        assert obj - obj_or <= (sol.certificate + 1e-12) * obj
        assert abs(obj_or - obj) / obj_or < 1e-8
    else:
        g = erm_gradient(X, y, sol.w, loss, lam, v)
        assert np.linalg.norm(g) <= 1e-8 * lam * np.linalg.norm(sol.w)
        assert rel(sol.w, sklearn_weighted_J(X, y, loss, lam, v)) < 1e-6


@pytest.mark.parametrize("loss", LOSSES)
def test_extreme_weights_certified(loss):
    # Weights from 1 to 1e6 on a few examples: the hinge box spans six decades.
    X, y = teacher_student(30, 90, seed=8, flip=True)
    v = np.ones(90)
    v[::9] = 10.0 ** np.arange(1, 7, 0.6)
    lam = 0.05
    sol = solve(X, y, loss=loss, lam=lam, sample_weight=v)
    assert sol.certificate <= 1e-10
    if loss == "hinge":
        obj_or = erm_objective(X, y, clarabel_hinge(X, y, lam, v, max_iter=500), loss, lam, v)
        assert abs(sol.objective - obj_or) / obj_or < 1e-8
    else:
        g = erm_gradient(X, y, sol.w, loss, lam, v)
        assert np.linalg.norm(g) <= 1e-8 * lam * np.linalg.norm(sol.w)


# ----------------------------------------------------------------------------------------------
# Learners


def test_hebb_weighted_closed_form():
    X, y = teacher_student(13, 29, seed=1, flip=True)
    v = lognormal_weights(29, seed=2)
    J = np.zeros(13)
    for mu in range(29):
        J += v[mu] * y[mu] * X[mu]
    np.testing.assert_allclose(hebb(X, y, sample_weight=v).w, J, rtol=1e-12, atol=1e-12)
    learner = get_learner("hebb")
    assert learner.weighted
    fit = learner.fit(X, y, sample_weight=v)
    np.testing.assert_allclose(fit.w, J / math.sqrt(13), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(learner.fit(X, y).w, hebb(X, y).w / math.sqrt(13))


def test_max_margin_ignores_weights():
    X, y = teacher_student(30, 40, seed=5)  # separable: noise-free teacher labels
    learner = get_learner("max-margin")
    assert learner.weighted
    plain = learner.fit(X, y)
    weighted = learner.fit(X, y, sample_weight=lognormal_weights(40, seed=6, spread=3.0))
    np.testing.assert_array_equal(weighted.w, plain.w)
    assert weighted.stats == plain.stats
    # ... and it equals the weighted svm in its lam -> 0 limit.
    # (Once lam is below the dual variables' scale the hinge solution is the hard-margin one.)
    svm = solve(X, y, loss="hinge", lam=1e-4, sample_weight=lognormal_weights(40, seed=6))
    assert rel(svm.w, plain.w) < 1e-8


@pytest.mark.parametrize("name,loss", [("svm", "hinge"), ("logistic", "logistic"),
                                       ("ridge", "square")])
def test_erm_learners_pass_weights(name, loss):
    X, y = teacher_student(20, 50, seed=9, flip=True)
    v = lognormal_weights(50, seed=10)
    learner = get_learner(name, lam=0.05)
    assert learner.weighted
    fit = learner.fit(X, y, sample_weight=v)
    np.testing.assert_array_equal(fit.w, solve(X, y, loss=loss, lam=0.05, sample_weight=v).w)
    assert fit.objective == pytest.approx(erm_objective(X, y, fit.w, loss, 0.05, v), rel=1e-12)
    # train_error stays a plain fraction of the examples.
    assert fit.stats["train_error"] == np.mean(y * (X @ fit.w) <= 0.0)
    np.testing.assert_array_equal(learner.fit(X, y).w, solve(X, y, loss=loss, lam=0.05).w)


# ----------------------------------------------------------------------------------------------
# Validation


P_BAD = 6
BAD_WEIGHTS = [
    np.ones(P_BAD - 1),
    np.ones((P_BAD, 1)),
    np.ones((2, P_BAD)),
    np.float64(1.0),
    np.array([1.0, 2.0, 0.0, 1.0, 1.0, 1.0]),
    np.array([1.0, -2.0, 1.0, 1.0, 1.0, 1.0]),
    np.array([1.0, 2.0, 1.0, np.nan, 1.0, 1.0]),
    np.array([1.0, 2.0, 1.0, 1.0, np.inf, 1.0]),
    np.array([1.0, 2.0, 1.0, 1.0, 1.0, -np.inf]),
    np.array(["a"] * P_BAD),
    np.ones(P_BAD, dtype=bool),
]


@pytest.mark.parametrize("v", BAD_WEIGHTS)
def test_invalid_sample_weight(v):
    X, y = teacher_student(4, P_BAD, seed=1)
    calls = [lambda loss=loss: solve(X, y, loss=loss, lam=0.1, sample_weight=v)
             for loss in LOSSES]
    calls.append(lambda: hebb(X, y, sample_weight=v))
    calls += [lambda name=name: get_learner(name).fit(X, y, sample_weight=v)
              for name in ("svm", "logistic", "ridge", "hebb", "max-margin")]
    for call in calls:
        with pytest.raises(ValueError, match=r"^sample_weight must") as err:
            call()
        assert "finite values > 0" in str(err.value) and f"({P_BAD},)" in str(err.value)


def test_valid_sample_weight_types():
    # Lists and integer arrays are accepted and mean the same as float weights.
    X, y = teacher_student(5, 8, seed=2)
    v = [1, 2, 3, 1, 2, 3, 1, 2]
    a = solve(X, y, loss="square", lam=0.3, sample_weight=v)
    b = solve(X, y, loss="square", lam=0.3, sample_weight=np.array(v, dtype=float))
    np.testing.assert_array_equal(a.w, b.w)
