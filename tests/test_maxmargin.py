"""``max_margin`` against the Clarabel QP oracle, its KKT conditions and its input checks."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from reference import clarabel_max_margin, teacher_problem

from perceptron_pruning import make_problem, max_margin, prune

MARGIN_RTOL = 1e-7  # agreement with the oracle (the oracle is the less accurate of the two)
W_ATOL = 1e-6  # |w - w_oracle|
CERT_TOL = 1e-9  # our own certificate: duality gap, KKT violation


def _check_kkt(X, y, res):
    """KKT conditions of ``min |v|^2/2  s.t.  z . v >= 1`` at ``v = w / kappa``."""
    Z = X * y[:, None]
    a = res.dual
    v = res.w / res.kappa
    margins = Z @ v
    assert np.all(a >= 0.0), "dual must be non-negative"
    assert margins.min() >= 1.0 - CERT_TOL, "primal feasibility"
    assert np.max(a * np.abs(margins - 1.0)) <= CERT_TOL * a.max(), "complementary slackness"
    # Stationarity: v = sum_mu a_mu y_mu x_mu (so w is proportional to it) and sum(a) = |v|^2.
    np.testing.assert_allclose(Z.T @ a, v, rtol=0, atol=1e-9 * np.linalg.norm(v))
    np.testing.assert_allclose(a.sum(), v @ v, rtol=1e-9)
    assert res.n_support == np.count_nonzero(a > 0.0)
    assert 1 <= res.n_support <= min(X.shape)
    # Certificate fields.
    assert abs(np.linalg.norm(res.w) - 1.0) < 1e-13
    assert res.kappa == pytest.approx(np.min(Z @ res.w), rel=1e-13)
    assert -1e-12 <= res.duality_gap <= CERT_TOL
    assert 0.0 <= res.kkt_violation <= CERT_TOL
    assert res.kappa_upper >= res.kappa * (1 - 1e-12)


def _check_vs_oracle(X, y, res=None):
    res = max_margin(X, y) if res is None else res
    v, _ = clarabel_max_margin(X, y)
    kappa_o = 1.0 / np.linalg.norm(v)
    assert abs(res.kappa - kappa_o) <= MARGIN_RTOL * kappa_o, (res.kappa, kappa_o)
    np.testing.assert_allclose(res.w, v * kappa_o, rtol=0, atol=W_ATOL)
    _check_kkt(X, y, res)
    return res


# ------------------------------------------------------------------------------------------
# Agreement with the oracle on many small random problems.


@pytest.mark.parametrize("seed", range(25))
def test_random_labels_fewer_examples_than_dimensions(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(2, 30))
    p = int(rng.integers(1, n + 1))  # P <= N: separable through the origin almost surely
    X = rng.standard_normal((p, n))
    y = rng.choice([-1.0, 1.0], size=p)
    _check_vs_oracle(X, y)


@pytest.mark.parametrize("seed", range(25))
def test_teacher_many_more_examples_than_dimensions(seed):
    rng = np.random.default_rng(2000 + seed)
    n = int(rng.integers(1, 20))
    p = int(rng.integers(5, 40)) * n  # alpha = P / N between 5 and 40
    X, y = teacher_problem(rng, n, p)
    _check_vs_oracle(X, y)


@pytest.mark.parametrize("seed", range(10))
def test_teacher_moderate_size(seed):
    rng = np.random.default_rng(3000 + seed)
    n = int(rng.integers(30, 60))
    X, y = teacher_problem(rng, n, int(rng.integers(1, 6)) * n)
    _check_vs_oracle(X, y)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("theta", [0.0, 20.0])
def test_keep_hard_pruned(seed, theta):
    rng = np.random.default_rng(4000 + seed)
    n = int(rng.integers(10, 50))
    prob = make_problem(n, 20 * n, theta=theta, rng=rng)
    idx = prune(prob.X, prob.probe, f=0.2, keep="hard")
    _check_vs_oracle(prob.X[idx], prob.y[idx])


@pytest.mark.parametrize("seed", range(15))
def test_duplicated_rows(seed):
    rng = np.random.default_rng(5000 + seed)
    n = int(rng.integers(2, 25))
    X, y = teacher_problem(rng, n, int(rng.integers(1, 8)) * n)
    rep = rng.integers(0, X.shape[0], size=X.shape[0])  # duplicates, some rows 3+ times
    X2, y2 = np.vstack([X, X[rep]]), np.concatenate([y, y[rep]])
    perm = rng.permutation(X2.shape[0])
    res = _check_vs_oracle(X2[perm], y2[perm])
    # Duplicates do not change the solution.
    ref = max_margin(X, y)
    np.testing.assert_allclose(res.w, ref.w, atol=1e-12)
    assert res.kappa == pytest.approx(ref.kappa, rel=1e-12)


@pytest.mark.parametrize("seed", range(15))
def test_rows_scaled_by_positive_constants(seed):
    rng = np.random.default_rng(6000 + seed)
    n = int(rng.integers(2, 25))
    X, y = teacher_problem(rng, n, int(rng.integers(1, 10)) * n)
    X *= np.exp(rng.uniform(-3.0, 3.0, size=(X.shape[0], 1)))
    _check_vs_oracle(X, y)


def test_single_example_and_single_dimension():
    x = np.array([[3.0, -4.0]])
    res = max_margin(x, np.array([-1]))
    np.testing.assert_allclose(res.w, [-0.6, 0.8], atol=1e-15)
    assert res.kappa == pytest.approx(5.0, rel=1e-15)
    res = max_margin(np.array([[2.0], [-0.5], [7.0]]), np.array([1, -1, 1]))
    np.testing.assert_allclose(res.w, [1.0])
    assert res.kappa == pytest.approx(0.5, rel=1e-15)


def test_known_two_point_solution():
    # z1 = (1, 0), z2 = (0, 2): v = (1, 1/2), kappa = 1 / |v| = 2 / sqrt(5).
    res = max_margin(np.array([[1.0, 0.0], [0.0, -2.0]]), np.array([1, -1]))
    np.testing.assert_allclose(res.w, np.array([2.0, 1.0]) / np.sqrt(5.0), atol=1e-15)
    assert res.kappa == pytest.approx(2.0 / np.sqrt(5.0), rel=1e-15)
    np.testing.assert_allclose(res.dual, [1.0, 0.25], rtol=1e-14)


# ------------------------------------------------------------------------------------------
# Invariances.


@pytest.mark.parametrize("c", [1e-3, 0.37, 7.5, 1e4])
def test_scaling_x_scales_kappa_and_leaves_w(c):
    rng = np.random.default_rng(7)
    X, y = teacher_problem(rng, 30, 300)
    ref = max_margin(X, y)
    res = max_margin(c * X, y)
    np.testing.assert_allclose(res.w, ref.w, rtol=0, atol=1e-9)
    assert res.kappa == pytest.approx(c * ref.kappa, rel=1e-9)


def test_row_order_and_label_flip_invariance():
    rng = np.random.default_rng(8)
    X, y = teacher_problem(rng, 20, 200)
    ref = max_margin(X, y)
    perm = rng.permutation(200)
    res = max_margin(X[perm], y[perm])
    np.testing.assert_allclose(res.w, ref.w, atol=1e-10)
    # (x, y) -> (-x, -y) is the same constraint.
    flip = rng.random(200) < 0.5
    s = np.where(flip, -1.0, 1.0)
    res = max_margin(X * s[:, None], y * s)
    np.testing.assert_allclose(res.w, ref.w, atol=1e-10)


def test_repeatable_and_thread_independent():
    rng = np.random.default_rng(9)
    X, y = teacher_problem(rng, 60, 600)
    ref = max_margin(X, y)
    out = [None] * 4

    def work(i):
        out[i] = max_margin(X, y)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in out:
        assert np.array_equal(r.w, ref.w) and np.array_equal(r.dual, ref.dual)
        assert r.kappa == ref.kappa and r.iterations == ref.iterations


@pytest.mark.parametrize("opts", [dict(block=1), dict(block=3), dict(block=500),
                                  dict(working_set=1), dict(working_set=7, block=2),
                                  dict(working_set=10_000)])
def test_solver_options_do_not_change_the_answer(opts):
    rng = np.random.default_rng(12)
    X, y = teacher_problem(rng, 40, 400)
    ref = max_margin(X, y)
    res = max_margin(X, y, **opts)
    assert res.kappa == pytest.approx(ref.kappa, rel=1e-12)
    np.testing.assert_allclose(res.w, ref.w, atol=1e-10)
    _check_kkt(X, y, res)


@pytest.mark.parametrize("opts, name", [(dict(block=0), "block"), (dict(block=2.5), "block"),
                                        (dict(working_set=0), "working_set"),
                                        (dict(max_iter=0), "max_iter")])
def test_bad_options_raise(opts, name):
    with pytest.raises(ValueError, match=name):
        max_margin(np.eye(2), [1, 1], **opts)


def test_accepts_lists_and_integer_labels():
    res = max_margin([[1.0, 2.0], [2.0, -1.0]], [1, -1])
    assert res.w.shape == (2,) and res.dual.shape == (2,)


# ------------------------------------------------------------------------------------------
# Errors.


@pytest.mark.parametrize("case", ["identical_opposite", "random_labels", "zero_row",
                                  "opposite_pair_plus_third", "antipodal_same_label"])
def test_not_separable_raises(case):
    rng = np.random.default_rng(10)
    if case == "identical_opposite":
        X = rng.standard_normal((6, 4))
        X[5] = X[2]
        y = np.array([1, -1, 1, 1, -1, -1])
    elif case == "random_labels":
        X = rng.standard_normal((200, 5))
        y = rng.choice([-1, 1], size=200)
    elif case == "zero_row":
        X, y = teacher_problem(rng, 5, 20)
        X[3] = 0.0
    elif case == "opposite_pair_plus_third":
        X, y = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.array([1, 1, 1])
    else:
        X, y = np.array([[1.0, 2.0], [-1.0, -2.0]]), np.array([1, 1])
    with pytest.raises(ValueError, match="not linearly separable"):
        max_margin(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_raises(bad):
    X = np.ones((3, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match="finite"):
        max_margin(X, [1, 1, 1])


@pytest.mark.parametrize("labels", [[1, 0, 1], [1, 2, -1], [1.0, -1.0, 0.5], [1, -1, np.nan]])
def test_bad_labels_raise(labels):
    with pytest.raises(ValueError, match="y must"):
        max_margin(np.eye(3), labels)


@pytest.mark.parametrize("X, y", [
    (np.ones(3), [1, 1, 1]),  # 1-D X
    (np.ones((2, 3, 1)), [1, 1]),  # 3-D X
    (np.ones((3, 2)), [1, 1]),  # wrong length
    (np.ones((3, 2)), [[1], [1], [1]]),  # 2-D y
    (np.ones((0, 2)), []),  # no examples
    (np.ones((2, 0)), [1, 1]),  # no dimensions
])
def test_bad_shapes_raise(X, y):
    with pytest.raises(ValueError, match="must"):
        max_margin(X, y)


@pytest.mark.parametrize("tol", [0.0, -1e-3, 0.5, np.nan])
def test_bad_tol_raises(tol):
    with pytest.raises(ValueError, match="tol"):
        max_margin(np.eye(2), [1, 1], tol=tol)


def test_iteration_cap_raises_runtime_error():
    rng = np.random.default_rng(11)
    X, y = teacher_problem(rng, 20, 200)
    with pytest.raises(RuntimeError, match="converge"):
        max_margin(X, y, max_iter=2, block=1)
