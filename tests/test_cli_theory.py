"""The ``theory`` subcommand: table, JSON and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from perceptron_pruning import theory
from perceptron_pruning.cli import main

ROOT = Path(__file__).resolve().parents[1]
JSON_KEYS = {"alpha_prune", "alpha_tot", "f", "keep", "theta", "learner", "metric", "tol",
             "score", "lam", "flip", "teacher_noise", "link", "link_scale", "truth_cos",
             "probe_truth_cos", "R", "rho", "norm", "kappa", "eps",
             "eps_noisy", "frac_mislabelled_kept", "alpha_support", "residual",
             "score_noise", "label_aware", "probe_alpha", "probe_learner", "p_agree"}
HEADER = ["alpha_prune", "alpha_tot", "eps", "R", "rho", "norm", "kappa", "alpha_support"]


def _table_rows(out):
    lines = out.strip().splitlines()
    i = next(k for k, line in enumerate(lines) if line.split() == HEADER)
    return [line.split() for line in lines[i + 1:] if not line.startswith("note")]


def test_theory_prints_a_table(capsys):
    argv = ["theory", "--alpha-prune", "0.5", "1", "2", "--f", "0.3", "--keep", "hard",
            "--theta", "0"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "f = 0.3" in out and "keep hard" in out and "theta = 0" in out
    assert "learner max-margin" in out and "metric margin" in out
    rows = _table_rows(out)
    assert len(rows) == 3
    ref = theory.curve([0.5, 1.0, 2.0], f=0.3, keep="hard", theta=0.0)
    for r, i in zip(rows, range(3)):
        assert float(r[0]) == pytest.approx(ref.alpha_prune[i], rel=1e-5)
        assert float(r[1]) == pytest.approx(ref.alpha_tot[i], rel=1e-5)
        assert float(r[2]) == pytest.approx(ref.eps[i], abs=1e-8)
        assert float(r[3]) == pytest.approx(ref.R[i], abs=1e-8)
        assert float(r[4]) == pytest.approx(ref.rho[i], abs=1e-6)
        assert float(r[5]) == pytest.approx(1.0 / ref.kappa[i], abs=1e-5)
        assert float(r[6]) == pytest.approx(ref.kappa[i], abs=1e-6)
        assert float(r[7]) == pytest.approx(ref.alpha_support[i], abs=1e-4)


def test_theory_json_matches_the_api(capsys):
    argv = ["theory", "--alpha-prune", "0.5", "4", "--f", "0.2", "--keep", "easy", "--theta",
            "10", "--json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.strip().splitlines()) == 1
    recs = json.loads(out)
    assert isinstance(recs, list) and len(recs) == 2
    ref = theory.curve([0.5, 4.0], f=0.2, keep="easy", theta=10.0).points()
    for rec, p in zip(recs, ref):
        assert set(rec) == JSON_KEYS
        assert rec["keep"] == "easy" and rec["f"] == 0.2 and rec["theta"] == 10.0
        assert rec["learner"] == "max-margin" and rec["metric"] == "margin"
        for k in ("alpha_prune", "alpha_tot", "R", "rho", "kappa", "eps", "alpha_support"):
            assert rec[k] == pytest.approx(getattr(p, k), rel=1e-12, abs=1e-15), k
    assert recs[0]["rho"] > 0  # keep easy with an imperfect probe tilts towards the probe


def test_theory_alpha_tot_replaces_alpha_prune(capsys):
    assert main(["theory", "--alpha-tot", "5", "10", "--f", "0.2", "--json"]) == 0
    by_tot = json.loads(capsys.readouterr().out)
    assert main(["theory", "--alpha-prune", "1", "2", "--f", "0.2", "--json"]) == 0
    by_prune = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose([r["alpha_tot"] for r in by_tot], [5.0, 10.0], rtol=1e-14)
    np.testing.assert_allclose([r["alpha_prune"] for r in by_tot], [1.0, 2.0], rtol=1e-14)
    np.testing.assert_allclose([r["eps"] for r in by_tot], [r["eps"] for r in by_prune],
                               rtol=1e-10)


def test_learner_and_metric_flags_name_the_defaults(capsys):
    argv = ["theory", "--alpha-prune", "2", "--f", "0.5", "--json"]
    assert main(argv) == 0
    default = json.loads(capsys.readouterr().out)
    assert main([*argv, "--learner", "max-margin", "--metric", "margin"]) == 0
    assert json.loads(capsys.readouterr().out) == default


def test_theory_defaults_are_the_unpruned_curve(capsys):
    assert main(["theory", "--alpha-prune", "1000", "--json"]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["f"] == 1.0 and rec["keep"] == "hard" and rec["theta"] == 0.0
    assert rec["alpha_prune"] * rec["eps"] == pytest.approx(0.5005, abs=1e-3)


@pytest.mark.parametrize("extra,needle", [
    (["--alpha-prune", "1", "--f", "1.5"], "f must"),
    (["--alpha-prune", "1", "--f", "0"], "f must"),
    (["--alpha-prune", "1", "--keep", "medium"], "keep"),
    (["--alpha-prune", "1", "--theta", "100"], "theta"),
    (["--alpha-prune", "1", "--theta", "-5"], "theta"),
    (["--alpha-prune", "1e5"], "alpha_prune"),
    (["--alpha-prune", "1", "0.0001"], "alpha_prune"),
    (["--alpha-tot", "1e-3", "--f", "0.5"], "alpha_tot"),
    (["--alpha-prune", "1", "--alpha-tot", "2"], "alpha"),
    ([], "alpha"),
    (["--alpha-prune", "abc"], "alpha-prune"),
    (["--alpha-prune", "1", "--f", "x"], "--f"),
    (["--alpha-prune", "1", "--bogus"], "bogus"),
    (["--alpha-prune", "nan"], "alpha_prune"),
    (["--alpha-prune", "inf"], "alpha_prune"),
    (["--alpha-prune", "1e309"], "alpha_prune"),
    (["--alpha-prune", "1", "--f", "nan"], "f must"),
    (["--alpha-prune", "1", "--learner", "nope"], "learner must be one of"),
    (["--alpha-prune", "1", "--metric", ""], "metric must be one of"),
    (["--alpha-prune", "1", "--n", "3"], "--n"),
])
def test_theory_bad_input_is_one_line_and_status_2(capsys, extra, needle):
    assert main(["theory", *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]
    assert needle in lines[0]


def test_theory_as_a_module():
    env = {**os.environ, "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", "/tmp/nbc")}
    run = subprocess.run([sys.executable, "-m", "perceptron_pruning", "theory", "--alpha-prune",
                          "2", "--f", "0.5", "--keep", "easy", "--json"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    (rec,) = json.loads(run.stdout)
    assert rec["eps"] == pytest.approx(theory.solve(2.0, f=0.5, keep="easy").eps, rel=1e-12)
    bad = subprocess.run([sys.executable, "-m", "perceptron_pruning", "theory", "--alpha-prune",
                          "2", "--keep", "nope"], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=120)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and bad.stdout == ""


def test_flat_valley_corner_is_solved_and_agrees_with_a_dense_walk():
    # alpha_prune = 1e4, f ~ 1e-3, keep hard, tilted probe: Gbar is flat to ~1e-5 along a curved
    # valley of directions. A single solve (ladder, global check, variational fallback) and a
    # dense continuation that walks there in small steps are independent paths to the point.
    g = np.geomspace(1e-3, 1, 25)
    for theta, f in ((10.0, g[1]), (20.0, g[3]), (60.0, g[5])):
        single = theory.solve(1e4, f=float(f), keep="hard", theta=theta)
        walk = theory.curve(np.geomspace(100, 1e4, 40), f=float(f), keep="hard", theta=theta)
        assert single.eps == pytest.approx(walk.eps[-1], rel=1e-7), theta
        assert single.residual < 1e-7


def test_a_point_the_solver_refuses_is_one_line_not_a_traceback(monkeypatch, capsys):
    from perceptron_pruning import _saddle_maxmargin

    # Every continued root is rejected and Newton never converges: the refusal path.
    monkeypatch.setattr(_saddle_maxmargin._Model, "walk",
                        lambda self, alphas, x0, out, *, start=0, check=True:
                        (start, 1.0, 0.0, 1.0))
    monkeypatch.setattr(_saddle_maxmargin._Model, "newton",
                        lambda self, x0, alpha: (np.zeros(9), False))
    with pytest.raises(theory.TheoryError, match="did not converge"):
        theory.solve(2.0, f=0.5, keep="hard", theta=10.0)
    assert main(["theory", "--alpha-prune", "2", "--f", "0.5", "--theta", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "did not converge" in err
