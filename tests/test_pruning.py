"""Property tests of probe-margin pruning and of the probe vector."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from perceptron_pruning import make_problem, prune
from perceptron_pruning.data import probe_vector
from perceptron_pruning.pruning import n_kept

fractions = st.floats(min_value=1e-3, max_value=1.0, allow_nan=False)
angles = st.floats(min_value=0.0, max_value=90.0, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def inputs_and_probe(draw):
    """A data matrix with ties, zeros and repeated rows allowed, and a probe vector."""
    p = draw(st.integers(1, 120))
    n = draw(st.integers(1, 6))
    elems = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False, width=16)
    X = draw(arrays(np.float64, (p, n), elements=elems))
    probe = draw(arrays(np.float64, (n,), elements=elems))
    return X, probe


def _expected_k(p_tot, f):
    return int(round(f * p_tot))


@settings(max_examples=200, deadline=None)
@given(data=inputs_and_probe(), f=fractions, keep=st.sampled_from(["hard", "easy"]))
def test_hard_and_easy_keep_the_extreme_scores(data, f, keep):
    X, probe = data
    k = _expected_k(X.shape[0], f)
    assume(k >= 1)
    idx = prune(X, probe, f=f, keep=keep)
    assert idx.shape == (k,) and idx.dtype.kind == "i"
    assert np.all(np.diff(idx) > 0), "indices sorted and unique"
    assert idx[0] >= 0 and idx[-1] < X.shape[0]
    score = np.abs(X @ probe)
    kept = np.zeros(X.shape[0], dtype=bool)
    kept[idx] = True
    if kept.all():
        return
    if keep == "hard":
        assert score[kept].max() <= score[~kept].min()
    else:
        assert score[kept].min() >= score[~kept].max()


@settings(max_examples=100, deadline=None)
@given(data=inputs_and_probe(), f=fractions, seed=seeds)
def test_random_keep_is_a_subset_of_the_right_size(data, f, seed):
    X, probe = data
    k = _expected_k(X.shape[0], f)
    assume(k >= 1)
    idx = prune(X, probe, f=f, keep="random", rng=np.random.default_rng(seed))
    assert idx.shape == (k,)
    assert np.all(np.diff(idx) > 0)
    assert idx[0] >= 0 and idx[-1] < X.shape[0]
    again = prune(X, probe, f=f, keep="random", rng=np.random.default_rng(seed))
    assert np.array_equal(idx, again)


def test_random_keep_is_uniform():
    # Each index is kept with probability k / P_tot: a chi-square-free check on the counts.
    X = np.zeros((10, 2))
    rng = np.random.default_rng(0)
    counts = np.zeros(10)
    reps = 4000
    for _ in range(reps):
        counts[prune(X, np.ones(2), f=0.3, keep="random", rng=rng)] += 1
    expected = reps * 0.3
    sd = math.sqrt(reps * 0.3 * 0.7)
    assert np.all(np.abs(counts - expected) < 5 * sd)


@settings(max_examples=200, deadline=None)
@given(p_tot=st.integers(1, 10**6), f=fractions)
def test_n_kept_is_round_f_p(p_tot, f):
    k = _expected_k(p_tot, f)
    if k >= 1:
        assert n_kept(p_tot, f) == k
    else:
        with pytest.raises(ValueError, match="f"):
            n_kept(p_tot, f)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 300), theta=angles, seed=seeds)
def test_probe_overlap_is_cos_theta(n, theta, seed):
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(n)
    t /= np.linalg.norm(t)
    probe, perp = probe_vector(t, theta, rng=rng)
    th = math.radians(theta)
    assert abs(probe @ t - math.cos(th)) <= 1e-12
    assert abs(np.linalg.norm(probe) - 1.0) <= 1e-12
    assert abs(perp @ t) <= 1e-12
    assert abs(np.linalg.norm(perp) - 1.0) <= 1e-12
    assert abs(probe @ perp - math.sin(th)) <= 1e-12


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), p=st.integers(1, 60), theta=angles, seed=seeds)
def test_make_problem_is_consistent(n, p, theta, seed):
    assume(n > 1 or theta == 0.0)
    prob = make_problem(n, p, theta=theta, rng=np.random.default_rng(seed))
    assert prob.X.shape == (p, n) and prob.y.shape == (p,)
    assert abs(np.linalg.norm(prob.teacher) - 1.0) <= 1e-12
    assert abs(prob.probe @ prob.teacher - math.cos(math.radians(theta))) <= 1e-12
    assert abs(np.linalg.norm(prob.probe) - 1.0) <= 1e-12
    u = prob.X @ prob.teacher
    assert np.all(prob.y == np.where(u >= 0, 1.0, -1.0))
    again = make_problem(n, p, theta=theta, rng=np.random.default_rng(seed))
    assert np.array_equal(prob.X, again.X) and np.array_equal(prob.probe, again.probe)


def test_perfect_probe_is_the_teacher():
    prob = make_problem(50, 10, theta=0.0, rng=np.random.default_rng(3))
    np.testing.assert_allclose(prob.probe, prob.teacher, atol=1e-15)


@pytest.mark.parametrize("f", [0.0, -0.1, 1.0000001, 2.0, np.nan, np.inf, "half", None])
def test_invalid_f_raises_naming_f(f):
    X = np.ones((10, 2))
    with pytest.raises(ValueError, match=r"\bf\b"):
        prune(X, np.ones(2), f=f, keep="hard")


def test_f_keeping_nothing_raises_naming_f():
    with pytest.raises(ValueError, match=r"\bf\b"):
        prune(np.ones((10, 2)), np.ones(2), f=0.04, keep="hard")


@pytest.mark.parametrize("keep", ["Hard", "middle", "", None, 1])
def test_invalid_keep_raises_naming_keep(keep):
    with pytest.raises(ValueError, match="keep"):
        prune(np.ones((10, 2)), np.ones(2), f=0.5, keep=keep)


def test_random_keep_without_rng_raises():
    with pytest.raises(ValueError, match="rng"):
        prune(np.ones((10, 2)), np.ones(2), f=0.5, keep="random")


@pytest.mark.parametrize("theta", [-1.0, 90.5, np.nan])
def test_invalid_theta_raises_naming_theta(theta):
    t = np.array([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="theta"):
        probe_vector(t, theta, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="theta"):
        make_problem(3, 5, theta=theta, rng=np.random.default_rng(0))


def test_theta_nonzero_in_one_dimension_raises():
    with pytest.raises(ValueError, match="theta"):
        make_problem(1, 5, theta=10.0, rng=np.random.default_rng(0))
