"""CLI and API surface of the learners and label noise (issue 10): flags, JSON keys, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import perceptron_pruning as pp
from perceptron_pruning import cli, theory
from perceptron_pruning.cli import main

NOISE_KEYS = {"learner", "lam", "flip", "teacher_noise"}


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert "Traceback" not in err and match in lines[0], err
    return lines[0]


def test_theory_json_has_the_learner_and_noise_keys(capsys):
    argv = ["theory", "--alpha-tot", "2", "8", "--f", "0.5", "--theta", "10", "--learner", "svm",
            "--lam", "0.05", "--flip", "0.1", "--teacher-noise", "0.2", "--json"]
    assert main(argv) == 0
    recs = json.loads(capsys.readouterr().out)
    ref = theory.curve(alpha_tot=[2.0, 8.0], f=0.5, theta=10.0, learner=pp.get_learner(
        "svm", lam=0.05), flip=0.1, teacher_noise=0.2)
    for rec, p in zip(recs, ref.points()):
        assert NOISE_KEYS | {"eps_noisy", "frac_mislabelled_kept", "norm"} <= set(rec)
        assert (rec["learner"], rec["lam"], rec["flip"], rec["teacher_noise"]) == \
            ("svm", 0.05, 0.1, 0.2)
        for k in ("eps", "eps_noisy", "frac_mislabelled_kept", "R", "rho", "norm"):
            assert rec[k] == pytest.approx(p.values[k], rel=1e-12, abs=1e-15), k
    # eps_noisy is the error on noisy labels: worse than the clean-rule error
    assert all(r["eps_noisy"] > r["eps"] for r in recs)


def test_lam_is_null_for_learners_without_one(capsys):
    assert main(["theory", "--alpha-prune", "1", "--json"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["lam"] is None and rec["flip"] == 0.0 and rec["teacher_noise"] == 0.0
    assert rec["eps_noisy"] == rec["eps"] and rec["frac_mislabelled_kept"] == 0.0


def test_simulate_json_has_the_learner_and_noise_keys(capsys):
    argv = ["simulate", "--n", "40", "--alpha-tot", "3", "--f", "0.5", "--learner", "ridge",
            "--lam", "0.2", "--flip", "0.2", "--seeds", "3", "--jobs", "1", "--json"]
    assert main(argv) == 0
    obj = json.loads(capsys.readouterr().out)
    assert NOISE_KEYS | {"eps_noisy_mean", "frac_mislabelled_kept_mean", "norm_mean"} <= set(obj)
    assert (obj["learner"], obj["lam"], obj["flip"], obj["teacher_noise"]) == \
        ("ridge", 0.2, 0.2, 0.0)
    ref = pp.simulate(40, 3.0, f=0.5, learner=pp.get_learner("ridge", lam=0.2), flip=0.2,
                      seeds=3)
    assert obj == json.loads(json.dumps(cli._clean(ref.to_dict())))
    for rec in obj["per_seed"]:
        assert {"eps", "eps_noisy", "frac_mislabelled_kept", "norm"} <= set(rec)
        # eps_noisy follows from R exactly: eta + (1 - 2 eta) arccos(R) / pi
        assert rec["eps_noisy"] == pytest.approx(0.2 + 0.6 * np.arccos(rec["R"]) / np.pi,
                                                 rel=1e-12)
        # 60 examples are kept (keep hard, f = 0.5 of 120 drawn): the fraction is a count / 60
        assert (rec["frac_mislabelled_kept"] * 60) == pytest.approx(
            round(rec["frac_mislabelled_kept"] * 60), abs=1e-9)


def test_tables_show_the_noise_columns_only_with_noise(capsys):
    assert main(["theory", "--alpha-prune", "1", "--learner", "hebb"]) == 0
    out = capsys.readouterr().out
    assert "eps_noisy" not in out and "frac_mislabelled_kept" not in out
    assert main(["theory", "--alpha-prune", "1", "--learner", "hebb", "--flip", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "eps_noisy" in out and "frac_mislabelled_kept" in out and "flip 0.1" in out


@pytest.mark.parametrize("argv, match", [
    (["theory", "--alpha-prune", "1", "--lam", "0.1"], "does not take lam"),
    (["theory", "--alpha-prune", "1", "--learner", "hebb", "--lam", "1"], "does not take lam"),
    (["theory", "--alpha-prune", "1", "--learner", "svm", "--lam", "0"], "lam must be in"),
    (["theory", "--alpha-prune", "1", "--learner", "svm", "--lam", "nan"], "lam must be in"),
    (["theory", "--alpha-prune", "1", "--flip", "0.5"], "flip must be in [0, 0.5)"),
    (["theory", "--alpha-prune", "1", "--flip", "-0.1"], "flip must be in"),
    (["theory", "--alpha-prune", "1", "--teacher-noise", "-1"], "teacher_noise must be in"),
    (["theory", "--alpha-prune", "1", "--learner", "perceptron"], "learner must be one of"),
    (["simulate", "--n", "20", "--alpha-tot", "2", "--flip", "0.7"], "flip must be in"),
    (["simulate", "--n", "20", "--alpha-tot", "2", "--learner", "max-margin", "--lam", "1"],
     "does not take lam"),
    # max-margin past its capacity: the kept data are not separable, no number is printed
    (["theory", "--alpha-prune", "5", "--flip", "0.1"], "not separable"),
    (["simulate", "--n", "30", "--alpha-tot", "8", "--flip", "0.3", "--seeds", "1"],
     "not linearly separable"),
])
def test_bad_combinations_are_one_line_errors(capsys, argv, match):
    _one_line_error(capsys, argv, match)


def test_fit_entry_point():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 25))
    y = np.where(X[:, 0] >= 0, 1.0, -1.0)
    mm = pp.fit(X, y)  # max-margin in the learners' convention: min y J.x / sqrt(N) = 1
    assert np.min(y * (X @ mm.w)) / np.sqrt(25) == pytest.approx(1.0, rel=1e-9)
    assert mm.objective == pytest.approx(0.5 * mm.w @ mm.w)
    assert mm.stats["kappa"] == pytest.approx(np.sqrt(25) / np.linalg.norm(mm.w), rel=1e-9)
    hb = pp.fit(X, y, learner="hebb")
    np.testing.assert_allclose(hb.w, X.T @ y / 5.0, rtol=1e-14)
    with pytest.raises(ValueError, match="does not take lam"):
        pp.fit(X, y, lam=0.1)
    with pytest.raises(ValueError, match="does not take tol"):
        pp.fit(X, y, learner="hebb", tol=1e-6)
    with pytest.raises(ValueError, match="lam must be in"):
        pp.fit(X, y, learner="svm", lam=-1.0)
    noisy = y.copy()
    noisy[0] = -noisy[0]
    X2 = np.vstack([X, X[:1]])  # the same input with both labels: not separable
    with pytest.raises(ValueError, match="not linearly separable"):
        pp.fit(X2, np.append(noisy, y[0]))
