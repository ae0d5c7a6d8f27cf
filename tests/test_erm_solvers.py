"""Exact regularised linear learners (``perceptron_pruning._erm_solvers``).

Convention: ``objective(J) = sum_mu loss(y_mu, J . x_mu / sqrt(N)) + lam |J|^2 / 2``. Scikit-learn
minimises ``|w|^2 / 2 + C sum_mu loss(y_mu, w . x_mu)``; with ``w = J / sqrt(N)`` and
``C = 1 / (lam N)`` that is ``objective / (lam N)``, so ``J = sqrt(N) coef_``; ``Ridge`` minimises
``|y - X w|^2 + alpha |w|^2`` = ``2 objective`` for ``alpha = lam N``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from reference import clarabel_hinge, erm_gradient, erm_objective, teacher_student

from perceptron_pruning import _erm_solvers as es
from perceptron_pruning._erm_solvers import LOSSES, Solution, hebb, solve

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

# (N, P, lam, flip): P < N, P ~ N and P > N, clean and 10%-noisy teacher labels.
CASES = [
    (30, 15, 0.1, False),
    (30, 15, 1.0, True),
    (20, 60, 0.1, True),
    (20, 60, 0.5, False),
    (50, 100, 0.05, True),
    (40, 40, 0.02, False),
]


def sklearn_J(X, y, loss, lam):
    """Minimiser from scikit-learn, converted to our convention (``J = sqrt(N) coef_``)."""
    N = X.shape[1]
    C = 1.0 / (lam * N)
    if loss == "hinge":
        # liblinear's stopping test (spread of the projected gradient) is out of reach at 1e-12
        # in double precision: it then runs to max_iter and can stop off the optimum (3e-2
        # relative error at N=40, P=200). 1e-10 converges on every case here; we check it did.
        model = LinearSVC(loss="hinge", dual=True, fit_intercept=False, C=C, tol=1e-10,
                          max_iter=10**6)
    elif loss == "logistic":
        model = LogisticRegression(solver="newton-cholesky", fit_intercept=False, C=C,
                                   tol=1e-14, max_iter=1000)
    else:
        model = Ridge(alpha=lam * N, fit_intercept=False, solver="cholesky")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning fails the test
        model.fit(X, y)
    if loss != "square":
        assert np.max(model.n_iter_) < model.max_iter
    return math.sqrt(N) * model.coef_.ravel()


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# ----------------------------------------------------------------------------------------------
# Agreement with scikit-learn and with a QP oracle


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("N,P,lam,flip", CASES)
def test_matches_sklearn(loss, N, P, lam, flip):
    X, y = teacher_student(N, P, seed=N + P, flip=flip)
    sol = solve(X, y, loss=loss, lam=lam)
    J_sk = sklearn_J(X, y, loss, lam)
    assert rel(sol.w, J_sk) < 1e-6
    # Objectives: ours is the minimum, and sklearn's (recomputed in our convention) agrees.
    obj_sk = erm_objective(X, y, J_sk, loss, lam)
    obj = erm_objective(X, y, sol.w, loss, lam)
    assert sol.objective == pytest.approx(obj, rel=1e-12)
    assert obj <= obj_sk * (1 + 1e-12)
    assert (obj_sk - obj) / obj < 1e-9


@pytest.mark.parametrize("N,P,lam,flip", CASES + [(40, 200, 0.01, True), (60, 30, 0.003, False)])
def test_hinge_matches_qp_oracle(N, P, lam, flip):
    X, y = teacher_student(N, P, seed=7 * N + P, flip=flip)
    sol = solve(X, y, loss="hinge", lam=lam)
    J_or = clarabel_hinge(X, y, lam)
    assert rel(sol.w, J_or) < 1e-6
    assert sol.objective <= erm_objective(X, y, J_or, "hinge", lam) * (1 + 1e-12)


def test_objective_scale_matches_sklearn_objective():
    # sklearn's own objective |w|^2/2 + C sum loss equals objective(J) / (lam N).
    N, P, lam = 25, 40, 0.2
    X, y = teacher_student(N, P, seed=3, flip=True)
    C = 1.0 / (lam * N)
    for loss in ("hinge", "logistic"):
        sol = solve(X, y, loss=loss, lam=lam)
        w = sol.w / math.sqrt(N)
        m = y * (X @ w)
        data = np.maximum(0.0, 1.0 - m) if loss == "hinge" else np.logaddexp(0.0, -m)
        sk_obj = 0.5 * w @ w + C * data.sum()
        assert sk_obj == pytest.approx(sol.objective / (lam * N), rel=1e-12)
    sol = solve(X, y, loss="square", lam=lam)
    w = sol.w / math.sqrt(N)
    ridge_obj = np.sum((y - X @ w) ** 2) + lam * N * w @ w
    assert ridge_obj == pytest.approx(2 * sol.objective, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# Optimality conditions and certificates


@pytest.mark.parametrize("N,P,lam,flip", CASES)
def test_hinge_kkt(N, P, lam, flip):
    """Recover the dual variables from J and check the box and complementary slackness."""
    X, y = teacher_student(N, P, seed=N * P, flip=flip)
    sol = solve(X, y, loss="hinge", lam=lam, tol=1e-12)
    J = sol.w
    m = y * (X @ J) / math.sqrt(N)
    on = np.abs(m - 1.0) < 1e-8  # margin set: 0 <= alpha <= 1
    inside = m < 1.0 - 1e-8  # violators: alpha = 1
    outside = m > 1.0 + 1e-8  # alpha = 0
    assert on.sum() + inside.sum() + outside.sum() == P
    # Stationarity lam sqrt(N) J = sum_mu alpha_mu y_mu x_mu, solved for the margin alphas.
    Zt = (X * y[:, None]).T  # columns y_mu x_mu
    rhs = lam * math.sqrt(N) * J - Zt[:, inside].sum(axis=1)
    alpha_on, *_ = np.linalg.lstsq(Zt[:, on], rhs, rcond=None)
    resid = np.linalg.norm(Zt[:, on] @ alpha_on - rhs) / (lam * math.sqrt(N) * np.linalg.norm(J))
    assert resid < 1e-9
    assert np.all(alpha_on > -1e-7) and np.all(alpha_on < 1 + 1e-7)
    # Complementarity: the duality gap of this alpha vanishes.
    alpha = np.zeros(P)
    alpha[inside] = 1.0
    alpha[on] = np.clip(alpha_on, 0.0, 1.0)
    gap = np.sum(np.maximum(0.0, 1.0 - m) - alpha * (1.0 - m))
    assert gap / sol.objective < 1e-9
    assert 0.0 <= sol.certificate <= 1e-12


@pytest.mark.parametrize("loss", ["logistic", "square"])
@pytest.mark.parametrize("N,P,lam,flip", CASES)
def test_gradient_vanishes(loss, N, P, lam, flip):
    X, y = teacher_student(N, P, seed=N + 2 * P, flip=flip)
    sol = solve(X, y, loss=loss, lam=lam)
    g = erm_gradient(X, y, sol.w, loss, lam)
    assert np.linalg.norm(g) <= 1e-9 * lam * np.linalg.norm(sol.w)
    if loss == "logistic":
        assert sol.certificate == pytest.approx(
            np.linalg.norm(g) / (lam * np.linalg.norm(sol.w)), rel=1e-3, abs=1e-14)
    else:
        b = X.T @ y / math.sqrt(N)
        assert sol.certificate == pytest.approx(np.linalg.norm(g) / np.linalg.norm(b), rel=1e-3,
                                                abs=1e-14)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("tol", [1e-2, 1e-6, 1e-10, 1e-12])
def test_certificate_below_tol(loss, tol):
    X, y = teacher_student(60, 90, seed=11, flip=True)
    sol = solve(X, y, loss=loss, lam=0.03, tol=tol)
    assert isinstance(sol, Solution)
    assert sol.w.shape == (60,)
    assert 0.0 <= sol.certificate <= tol
    assert sol.iterations >= 1
    assert math.isfinite(sol.objective)


@pytest.mark.parametrize("loss", LOSSES)
def test_uncertifiable_tol_raises(loss):
    X, y = teacher_student(30, 50, seed=5, flip=True)
    with pytest.raises(RuntimeError, match="certif"):
        solve(X, y, loss=loss, lam=0.1, tol=1e-300)


def test_certificates_detect_a_wrong_answer():
    # The certificate functions are not vacuous: a perturbed J is flagged.
    X, y = teacher_student(30, 50, seed=6, flip=True)
    lam = 0.1
    for loss in ("logistic", "square"):
        J = solve(X, y, loss=loss, lam=lam).w * 1.001
        cert = (es._logistic_value if loss == "logistic" else es._square_value)(X, y, J, lam)[1]
        assert cert > 1e-4


# ----------------------------------------------------------------------------------------------
# Closed forms, scaling and algorithm paths


@pytest.mark.parametrize("N,P", [(30, 80), (80, 30), (40, 40)])
def test_square_closed_form(N, P):
    X, y = teacher_student(N, P, seed=2)
    lam = 0.07
    J = np.linalg.solve(X.T @ X / N + lam * np.eye(N), X.T @ y / math.sqrt(N))
    assert rel(solve(X, y, loss="square", lam=lam).w, J) < 1e-12


@pytest.mark.parametrize("loss", LOSSES)
def test_scaling_relations(loss):
    X, y = teacher_student(25, 50, seed=9, flip=True)
    lam = 0.05
    J = solve(X, y, loss=loss, lam=lam, tol=1e-12).w
    # Scaling the inputs by a and lam by a^2 leaves h invariant for J / a.
    a = 3.0
    Ja = solve(a * X, y, loss=loss, lam=lam * a * a, tol=1e-12).w
    assert rel(Ja, J / a) < 1e-8
    # Duplicating every feature (N -> 2N) is solved by [J, J] / sqrt(2): checks the 1/sqrt(N).
    J2 = solve(np.hstack([X, X]), y, loss=loss, lam=lam, tol=1e-12).w
    assert rel(J2, np.concatenate([J, J]) / math.sqrt(2.0)) < 1e-8
    # Permuting the examples changes nothing.
    perm = np.random.default_rng(0).permutation(len(y))
    assert rel(solve(X[perm], y[perm], loss=loss, lam=lam, tol=1e-12).w, J) < 1e-8


@pytest.mark.parametrize("N,P", [(60, 20), (20, 60)])
def test_logistic_direct_and_cg_agree(N, P):
    # The Cholesky fallback (representer form when P < N, primal otherwise) and Newton-CG.
    X, y = teacher_student(N, P, seed=4, flip=True)
    a = es._solve_logistic(X, y, 0.02, 1e-11, method="cg")
    b = es._solve_logistic(X, y, 0.02, 1e-11, method="direct")
    assert a.certificate <= 1e-11 and b.certificate <= 1e-11
    assert rel(a.w, b.w) < 1e-9


def test_logistic_tiny_lambda_separable():
    # Separable data and tiny lam: |J| grows large, CG is ill-conditioned; still certified.
    X, y = teacher_student(40, 20, seed=8)
    sol = solve(X, y, loss="logistic", lam=1e-6)
    g = erm_gradient(X, y, sol.w, "logistic", 1e-6)
    assert sol.certificate <= 1e-10
    assert np.linalg.norm(g) <= 1e-9 * 1e-6 * np.linalg.norm(sol.w)


def test_logistic_cg_budget_fallback():
    # CG stops after 3 passes; the Cholesky Newton fallback takes over from where it stopped.
    X, y = teacher_student(30, 70, seed=10, flip=True)
    ref = es._solve_logistic(X, y, 0.05, 1e-11, method="direct")
    sol = es._solve_logistic(X, y, 0.05, 1e-11, method="auto", cg_budget=3)
    assert sol.certificate <= 1e-11
    assert rel(sol.w, ref.w) < 1e-9
    with pytest.raises(RuntimeError, match="certif"):
        es._solve_logistic(X, y, 0.05, 1e-11, method="cg", cg_budget=3)


def _degenerate(N, P, seed):
    # Few dimensions, many noisy and duplicated examples: the margin set is rank deficient.
    X, y = teacher_student(N, P, seed=seed, flip=True)
    return np.vstack([X, X[: P // 3]]), np.concatenate([y, y[: P // 3]])


@pytest.mark.parametrize("N,P,lam,seed", [(2, 86, 1e-4, 193), (20, 77, 7e-4, 270),
                                          (3, 150, 1e-3, 1), (15, 120, 2e-4, 2)])
def test_hinge_degenerate_small_lambda(N, P, lam, seed):
    # Coordinate descent crawls here (C = 1/lam large); the interior point fallback certifies.
    X, y = _degenerate(N, P, seed)
    sol = solve(X, y, loss="hinge", lam=lam)
    assert sol.certificate <= 1e-10
    J_or = clarabel_hinge(X, y, lam)
    obj_or = erm_objective(X, y, J_or, "hinge", lam)
    assert sol.objective <= obj_or * (1 + 1e-9)
    assert (obj_or - sol.objective) / obj_or < 1e-7  # the oracle is accurate to its tolerance


@pytest.mark.parametrize("N,P", [(30, 12), (12, 60)])
def test_hinge_interior_point_path(N, P):
    # The interior point method (Gram form for P <= N, Woodbury for P > N) on its own.
    X, y = teacher_student(N, P, seed=N + P, flip=True)
    lam = 0.05
    Z = X * (y / math.sqrt(N))[:, None]
    qd = np.einsum("ij,ij->i", Z, Z)
    rows = es._Rows(X, y, Z.astype(np.float32))
    res = es._hinge_ipm(rows, qd, 1.0 / lam, lam, X, y, 1e-11)
    assert res is not None
    J, obj, cert, _ = res
    assert cert <= 1e-11
    assert rel(J, solve(X, y, loss="hinge", lam=lam).w) < 1e-8


@pytest.mark.parametrize("lam", [1e-2, 1e-1])
def test_pruned_instance(lam):
    # Benchmark-like data: P_tot = 4 N, keep the half with the smallest |x_0| (keep hard).
    N = 150
    X, y = teacher_student(N, 4 * N, seed=21)
    keep = np.sort(np.argsort(np.abs(X[:, 0]), kind="stable")[: 2 * N])
    X, y = X[keep], y[keep]
    hinge = solve(X, y, loss="hinge", lam=lam)
    assert rel(hinge.w, clarabel_hinge(X, y, lam)) < 1e-6
    logistic = solve(X, y, loss="logistic", lam=lam)
    assert rel(logistic.w, sklearn_J(X, y, "logistic", lam)) < 1e-6
    assert hinge.certificate <= 1e-10 and logistic.certificate <= 1e-10


@pytest.mark.parametrize("loss", LOSSES)
def test_edge_cases(loss):
    # One example; one feature; all labels equal; duplicated examples; a zero example.
    rng = np.random.default_rng(1)
    cases = [
        (rng.standard_normal((1, 5)), np.array([1.0])),
        (rng.standard_normal((7, 1)), np.array([1, -1, 1, 1, -1, 1, -1], dtype=float)),
        (rng.standard_normal((10, 4)), np.ones(10)),
    ]
    X, y = teacher_student(8, 12, seed=2, flip=True)
    cases.append((np.vstack([X, X[:3]]), np.concatenate([y, y[:3]])))
    X0 = X.copy()
    X0[4] = 0.0
    cases.append((X0, y))
    for X, y in cases:
        lam = 0.3
        sol = solve(X, y, loss=loss, lam=lam)
        assert sol.certificate <= 1e-10
        assert sol.objective == pytest.approx(erm_objective(X, y, sol.w, loss, lam), rel=1e-12)
        # Compare with a generic minimiser started at our answer and at zero.
        from scipy.optimize import minimize

        res = minimize(lambda J, X=X, y=y, lam=lam: erm_objective(X, y, J, loss, lam),
                       np.zeros(X.shape[1]), method="Powell",
                       options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 200000})
        assert sol.objective <= res.fun + 1e-9 * abs(res.fun)


def test_accepts_lists_and_ints():
    X, y = teacher_student(6, 9, seed=3)
    a = solve(X.tolist(), y.astype(int).tolist(), loss="square", lam=0.5)
    b = solve(X, y, loss="square", lam=0.5)
    np.testing.assert_array_equal(a.w, b.w)


def test_deterministic():
    X, y = teacher_student(50, 120, seed=12, flip=True)
    for loss in LOSSES:
        a = solve(X, y, loss=loss, lam=0.02)
        b = solve(X, y, loss=loss, lam=0.02)
        np.testing.assert_array_equal(a.w, b.w)


# ----------------------------------------------------------------------------------------------
# Hebb and validation


def test_hebb():
    X, y = teacher_student(13, 29, seed=1)
    sol = hebb(X, y)
    np.testing.assert_array_equal(sol.w, X.T @ y)
    assert math.isnan(sol.objective)
    assert sol.certificate == 0.0
    assert sol.iterations == 0
    with pytest.raises(ValueError, match="y"):
        hebb(X, y[:-1])


def test_solution_is_frozen():
    sol = hebb(*teacher_student(3, 4))
    with pytest.raises(AttributeError):
        sol.objective = 1.0


GOOD = dict(loss="hinge", lam=0.1, tol=1e-10)


@pytest.mark.parametrize("name,value", [
    ("loss", "squared"), ("loss", None), ("loss", 1),
    ("lam", 0.0), ("lam", -1.0), ("lam", math.nan), ("lam", math.inf), ("lam", "big"),
    ("lam", True),
    ("tol", 0.0), ("tol", -1e-3), ("tol", 0.5), ("tol", math.nan), ("tol", None),
])
def test_invalid_parameters(name, value):
    X, y = teacher_student(4, 6)
    kwargs = dict(GOOD, **{name: value})
    with pytest.raises(ValueError, match=rf"^{name} must be") as err:
        solve(X, y, **kwargs)
    if name == "loss":
        assert "hinge" in str(err.value) and "square" in str(err.value)
    elif name == "lam":
        assert "> 0" in str(err.value)
    else:
        assert "(0, 0.01]" in str(err.value)


@pytest.mark.parametrize("X,y,name", [
    (np.ones(5), np.ones(5), "X"),
    (np.ones((2, 3, 4)), np.ones(2), "X"),
    (np.ones((0, 3)), np.ones(0), "X"),
    (np.ones((3, 0)), np.ones(3), "X"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2), "X"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), np.ones(2), "X"),
    (np.array([["a", "b"]]), np.ones(1), "X"),
    (np.ones((3, 2)), np.ones(2), "y"),
    (np.ones((3, 2)), np.ones((3, 1)), "y"),
    (np.ones((3, 2)), np.array([1.0, 0.0, 1.0]), "y"),
    (np.ones((3, 2)), np.array([1.0, -1.0, 2.0]), "y"),
    (np.ones((3, 2)), np.array([1.0, -1.0, np.nan]), "y"),
    (np.ones((3, 2)), np.array(["a", "b", "c"]), "y"),
])
def test_invalid_data(X, y, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        solve(X, y, **GOOD)
    with pytest.raises(ValueError, match=rf"^{name} must"):
        hebb(X, y)
