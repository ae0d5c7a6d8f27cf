"""The two sampling paths agree in distribution; chunked draws are deterministic and exact."""

from __future__ import annotations

import concurrent.futures as cf
import math

import numpy as np
import pytest
from plugin_checks import law_moments
from scipy import stats

from perceptron_pruning import get_metric, sweep, trial
from perceptron_pruning.metrics import Fields
from perceptron_pruning.metrics.margin import kept_threshold
from perceptron_pruning.pruning import smallest


def _tasks(sampling, replicates, **point):
    return sweep.make_tasks(**point, replicates=replicates, seed=1, sampling=sampling)


@pytest.mark.slow
@pytest.mark.parametrize("point", [
    dict(n=40, alpha_tot=6.0, f=0.25, keep="hard", theta=20.0),
    dict(n=40, alpha_tot=4.0, f=0.3, keep="easy", theta=0.0),
    dict(n=30, alpha_tot=3.0, f=0.5, keep="random", theta=45.0),
])
def test_paths_agree_in_distribution(point):
    # 300 trials per path: a two-sample KS test on eps, rho and kappa at the 0.1% level (the
    # three tests on nine samples would all pass by chance with probability > 99%); the two
    # paths use different random streams, so the samples are independent.
    res = {}
    for s in ("full", "fields"):
        (res[s],) = sweep.aggregate(sweep.run_sweep(_tasks(s, 300, **point)))
    for q in ("eps", "rho", "kappa"):
        p = stats.ks_2samp(getattr(res["full"], q), getattr(res["fields"], q)).pvalue
        assert p > 1e-3, (q, p)
    assert res["full"].n_support_mean == pytest.approx(res["fields"].n_support_mean, rel=0.05)


@pytest.mark.parametrize("keep, f, theta", [("hard", 0.2, 0.0), ("easy", 0.1, 30.0),
                                            ("hard", 0.05, 10.0), ("random", 0.3, 60.0)])
def test_kept_fields_have_the_kept_law(keep, f, theta):
    # The fields path selects from exactly Gaussian fields: the kept examples' moments match the
    # metric's kept law (computed by brute-force quadrature) within Monte Carlo error.
    task = trial.make_task(50, 4000.0, f=f, keep=keep, theta=theta, seed=3)  # P_tot = 200000
    _, kept, _ = trial.kept_fields(task)
    assert kept.u.size == task.p_kept
    law = get_metric("margin").kept_law(f=f, keep=keep, theta=theta)
    _, yu, yw = law_moments(law)
    for emp, th in ((kept.y * kept.u, yu), (kept.y * kept.w, yw)):
        assert abs(emp.mean() - th) <= 4 * emp.std() / math.sqrt(emp.size) + 1e-4
    # The kept band's edge sits at the law's threshold (the empirical f-quantile of |t|).
    gamma = kept_threshold(f, keep)
    if keep == "hard":
        assert np.abs(kept.t).max() == pytest.approx(gamma, abs=0.01)
    elif keep == "easy":
        assert np.abs(kept.t).min() == pytest.approx(gamma, abs=0.01)


def test_streaming_selection_equals_selection_on_all_examples(monkeypatch):
    # Small chunks: the running top-k over chunks keeps exactly the k smallest keys of the whole
    # stream (ties to the first drawn), whatever the chunking.
    monkeypatch.setattr(trial, "CHUNK", 997)
    task = trial.make_task(20, 500.0, f=0.013, keep="hard", theta=15.0, seed=9)  # P = 10000
    index, kept, _ = trial.kept_fields(task)
    # Redraw the whole stream chunk by chunk and select on all of it at once.
    streams = np.random.SeedSequence(task.seed).spawn(1 + math.ceil(task.p_tot / 997))[1:]
    us, ws = [], []
    for i, ss in enumerate(streams):
        m = min(997, task.p_tot - i * 997)
        rng = np.random.default_rng(ss)
        us.append(rng.standard_normal(m))
        ws.append(rng.standard_normal(m))
    u, w = np.concatenate(us), np.concatenate(ws)
    th = math.radians(15.0)
    t = math.cos(th) * u + math.sin(th) * w
    idx = smallest(np.abs(t), task.p_kept)
    np.testing.assert_array_equal(index, idx)
    np.testing.assert_array_equal(kept.u, u[idx])
    np.testing.assert_array_equal(kept.w, w[idx])


def test_chunked_draws_are_deterministic(monkeypatch):
    monkeypatch.setattr(trial, "CHUNK", 1000)
    tasks = sweep.make_tasks(n=30, alpha_tot=200.0, f=0.01, keep=("hard", "random"),
                             replicates=3, seed=4)  # 6000 examples drawn in 6 chunks
    serial = sweep.run_sweep(tasks)
    with cf.ThreadPoolExecutor(2) as ex:
        assert sweep.run_sweep(list(reversed(tasks)), executor=ex)[::-1] == serial
    assert sweep.run_sweep(tasks) == serial


def test_fields_path_memory_is_independent_of_p_tot():
    # A point whose full matrix would need ~37 GiB is accepted on the fields path and refused on
    # the full path, with a message naming the parameters and the limit.
    trial.make_task(500, 20000.0, f=0.001, keep="hard")
    with pytest.raises(ValueError, match=r"n = 500 with alpha_tot = 20000.*GiB"):
        trial.make_task(500, 20000.0, f=0.001, keep="hard", sampling="full")


def test_bad_sampling_is_refused():
    with pytest.raises(ValueError, match="sampling must be one of fields, full"):
        trial.make_task(10, 2.0, sampling="fast")


def test_fields_in_one_and_two_dimensions():
    for n in (1, 2):
        (r,) = sweep.aggregate(sweep.run_sweep(sweep.make_tasks(n=n, alpha_tot=5.0, f=0.6,
                                                                 replicates=2)))
        assert np.all(np.isfinite(r.eps))
    # The selection sees the fields it is given: theta = 90 is an uninformative probe.
    f = Fields(u=np.array([1.0, -2.0]), w=np.array([0.5, 0.1]), t=np.array([0.5, 0.1]),
               y=np.array([1.0, -1.0]))
    assert get_metric("margin").select(f, f=0.5, keep="hard", rng=None).tolist() == [1]


def test_runs_at_different_f_share_their_examples():
    # Common random numbers on the fields path: with the same seed, the examples kept at f = 0.3
    # are rows of the examples kept at f = 1, bulk coordinates included.
    small = trial.make_task(12, 5.0, f=0.3, keep="hard", seed=2)
    full = trial.make_task(12, 5.0, f=1.0, keep="hard", seed=2)
    i_s, _, _ = trial.kept_fields(small)
    i_f, _, _ = trial.kept_fields(full)
    assert set(i_s) <= set(i_f)
    pos = np.searchsorted(i_f, i_s)
    np.testing.assert_array_equal(trial._bulk(small, i_s), trial._bulk(full, i_f)[pos])
    Z = trial._bulk(full, np.arange(20000))  # 200000 values: standard normal, uncorrelated
    se = 1 / math.sqrt(Z.size)
    assert abs(Z.mean()) < 5 * se and abs(Z.var() - 1) < 5 * math.sqrt(2) * se
    assert abs(np.corrcoef(Z[:-1].ravel(), Z[1:].ravel())[0, 1]) < 5 * se


def test_bulk_rows_are_philox_streams_at_the_example_index():
    # The reference: numpy's own Philox at counter (0, i, 0, 0) with the task's key.
    task = trial.make_task(7, 5.0, seed=13)
    idx = np.array([0, 3, 4, 31])
    Z = trial._bulk(task, idx)
    key = np.random.SeedSequence(13).spawn(1)[0].generate_state(2, dtype=np.uint64)
    for r, i in enumerate(idx):
        bits = np.random.Philox(key=key, counter=np.array([0, i, 0, 0], dtype=np.uint64))
        np.testing.assert_array_equal(Z[r], np.random.Generator(bits).standard_normal(5))
