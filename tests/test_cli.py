"""The ``simulate`` subcommand: table, JSON and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perceptron_pruning import simulate
from perceptron_pruning.cli import main

ROOT = Path(__file__).resolve().parents[1]
POINT = ["--n", "30", "--alpha-tot", "3", "--f", "0.5", "--keep", "hard", "--theta", "10",
         "--seeds", "3", "--threads", "1"]
TOP_KEYS = {"n", "alpha_tot", "alpha_prune", "f", "keep", "theta", "seeds", "eps_mean",
            "eps_sem", "R_mean", "kappa_mean", "rho_mean", "per_seed"}
SEED_KEYS = {"seed", "eps", "R", "kappa", "rho", "n_support"}


def test_simulate_prints_a_table(capsys):
    assert main(["simulate", *POINT]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.strip().splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["seed", "eps"])
    assert lines[header].split() == ["seed", "eps", "R", "kappa", "rho", "n_support"]
    rows = [line.split() for line in lines[header + 1:header + 4]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    ref = simulate(30, 3.0, 0.5, "hard", 10.0, 3, n_threads=1)
    for r, eps, k in zip(rows, ref.eps, ref.kappa):
        assert float(r[1]) == pytest.approx(eps, abs=1e-5)
        assert float(r[3]) == pytest.approx(k, abs=1e-5)
    assert f"{ref.eps_mean:.5f}" in lines[-1]


def test_simulate_json_is_one_object_with_the_documented_keys(capsys):
    assert main(["simulate", *POINT, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.strip().splitlines()) == 1
    obj = json.loads(out)
    assert set(obj) == TOP_KEYS
    assert len(obj["per_seed"]) == 3
    for rec in obj["per_seed"]:
        assert set(rec) == SEED_KEYS
    ref = simulate(30, 3.0, 0.5, "hard", 10.0, 3, n_threads=1)
    assert obj["n"] == 30 and obj["seeds"] == 3 and obj["keep"] == "hard"
    assert obj["alpha_tot"] == 3.0 and obj["f"] == 0.5 and obj["theta"] == 10.0
    assert obj["alpha_prune"] == pytest.approx(45 / 30)
    assert obj["eps_mean"] == ref.eps_mean and obj["eps_sem"] == ref.eps_sem
    assert [r["eps"] for r in obj["per_seed"]] == ref.eps.tolist()
    assert [r["n_support"] for r in obj["per_seed"]] == ref.n_support.tolist()
    assert [r["seed"] for r in obj["per_seed"]] == [0, 1, 2]


def test_single_seed_json_has_null_sem(capsys):
    assert main(["simulate", "--n", "20", "--alpha-tot", "2", "--seeds", "1", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["eps_sem"] is None  # NaN is not JSON; it is written as null


@pytest.mark.parametrize("extra", [
    ["--n", "30", "--alpha-tot", "3", "--f", "1.5"],
    ["--n", "30", "--alpha-tot", "3", "--f", "0"],
    ["--n", "0", "--alpha-tot", "3"],
    ["--n", "30", "--alpha-tot", "-1"],
    ["--n", "30", "--alpha-tot", "3", "--keep", "middle"],
    ["--n", "30", "--alpha-tot", "3", "--theta", "91"],
    ["--n", "30", "--alpha-tot", "3", "--seeds", "0"],
    ["--n", "30", "--alpha-tot", "3", "--f", "0.001"],
    ["--n", "thirty", "--alpha-tot", "3"],
    ["--n", "30"],  # --alpha-tot missing
    ["--n", "30", "--alpha-tot", "3", "--bogus"],
])
def test_bad_input_exits_2_with_one_line(capsys, extra):
    assert main(["simulate", *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error" in err


def test_value_errors_are_returned_not_raised(capsys):
    assert main(["simulate", "--n", "30", "--alpha-tot", "3", "--f", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "f must be in (0, 1]" in err


def test_python_dash_m_runs():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "perceptron_pruning", "simulate", "--n", "20", "--alpha-tot", "2",
         "--seeds", "2", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert set(obj) == TOP_KEYS and obj["seeds"] == 2
    bad = subprocess.run(
        [sys.executable, "-m", "perceptron_pruning", "simulate", "--n", "20", "--alpha-tot", "0"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
