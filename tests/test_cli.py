"""The ``simulate`` subcommand: table, JSON, flags and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perceptron_pruning import cli
from perceptron_pruning.cli import main
from perceptron_pruning.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SIM_MODULE = sys.modules["perceptron_pruning.simulate"]
POINT = ["--n", "30", "--alpha-tot", "3", "--f", "0.5", "--keep", "hard", "--theta", "10",
         "--seeds", "3", "--jobs", "1"]
TOP_KEYS = {"n", "alpha_tot", "alpha_prune", "f", "keep", "theta", "learner", "metric", "seeds",
            "eps_mean", "eps_sem", "R_mean", "kappa_mean", "rho_mean", "per_seed"}
SEED_KEYS = {"eps", "R", "kappa", "rho", "n_support"}


def _reference(seed=0):
    return simulate(30, 3.0, f=0.5, keep="hard", theta=10.0, seeds=3, seed=seed)


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]
    return lines[0]


def test_simulate_prints_a_table(capsys):
    assert main(["simulate", *POINT]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.strip().splitlines()
    assert "learner max-margin" in lines[0] and "metric margin" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["replicate", "eps"])
    assert lines[header].split() == ["replicate", "eps", "R", "rho", "norm", "kappa", "n_support"]
    rows = [line.split() for line in lines[header + 1:header + 4]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    ref = _reference()
    for r, t in zip(rows, ref.trials):
        assert float(r[1]) == pytest.approx(t.values["eps"], abs=1e-5)
        assert float(r[4]) == pytest.approx(t.values["norm"], abs=1e-5)
        assert float(r[5]) == pytest.approx(t.values["kappa"], abs=1e-5)
        assert int(r[6]) == t.values["n_support"]
    assert f"{ref.to_dict()['eps_mean']:.5f}" in lines[-1]


def test_simulate_json_is_one_object_with_the_documented_keys(capsys):
    assert main(["simulate", *POINT, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.strip().splitlines()) == 1
    obj = json.loads(out)
    assert TOP_KEYS <= set(obj)
    assert len(obj["per_seed"]) == 3
    for rec in obj["per_seed"]:
        assert SEED_KEYS <= set(rec)
    ref = _reference()
    assert obj["n"] == 30 and obj["seeds"] == 3 and obj["keep"] == "hard"
    assert obj["learner"] == "max-margin" and obj["metric"] == "margin"
    assert obj["alpha_tot"] == 3.0 and obj["f"] == 0.5 and obj["theta"] == 10.0
    assert obj["alpha_prune"] == pytest.approx(45 / 30)
    assert obj == json.loads(json.dumps(cli._clean(ref.to_dict())))
    assert [r["eps"] for r in obj["per_seed"]] == [t.values["eps"] for t in ref.trials]


def test_root_seed_reproduces_the_api(capsys):
    assert main(["simulate", *POINT, "--seed", "7", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    ref = _reference(seed=7)
    assert [r["eps"] for r in obj["per_seed"]] == [t.values["eps"] for t in ref.trials]
    assert obj["eps_mean"] != _reference(seed=0).to_dict()["eps_mean"]


def test_jobs_do_not_change_the_result_and_threads_is_a_deprecated_alias(capsys):
    assert main(["simulate", *POINT, "--json"]) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main(["simulate", *POINT[:-2], "--jobs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == serial
    assert main(["simulate", *POINT[:-2], "--threads", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == serial
    assert "deprecated" in err and "--jobs" in err


@pytest.mark.parametrize("flags,expected", [([], None), (["--progress"], True),
                                            (["--no-progress"], False)])
def test_progress_flag_is_passed_through(monkeypatch, flags, expected):
    seen = {}

    def fake(n, alpha_tot, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(SIM_MODULE, "simulate", fake)
    assert main(["simulate", "--n", "5", "--alpha-tot", "1", "--learner", "max-margin",
                 "--metric", "margin", *flags]) == 2
    assert seen["progress"] is expected
    assert str(seen["learner"]) == "max-margin" and seen["metric"] == "margin"


def test_progress_help_states_the_default(capsys):
    assert main(["simulate", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--progress, --no-progress" in out
    assert "only when stderr is a terminal" in out
    assert "--threads" not in out


def test_single_seed_json_has_null_sem(capsys):
    assert main(["simulate", "--n", "20", "--alpha-tot", "2", "--seeds", "1", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["eps_sem"] is None  # NaN is not JSON; it is written as null


@pytest.mark.parametrize("extra,needle", [
    (["--n", "30", "--alpha-tot", "3", "--f", "1.5"], "f must"),
    (["--n", "30", "--alpha-tot", "3", "--f", "0"], "f must"),
    (["--n", "0", "--alpha-tot", "3"], "--n"),
    (["--n", "30", "--alpha-tot", "-1"], "alpha_tot"),
    (["--n", "30", "--alpha-tot", "3", "--keep", "middle"], "keep"),
    (["--n", "30", "--alpha-tot", "3", "--theta", "91"], "theta"),
    (["--n", "30", "--alpha-tot", "3", "--seeds", "0"], "--seeds"),
    (["--n", "30", "--alpha-tot", "3", "--seeds", "99999999999999999999"], "1..1000000"),
    (["--n", "99999999999999999999", "--alpha-tot", "3"], "--n"),
    (["--n", "30", "--alpha-tot", "3", "--jobs", "0"], "--jobs"),
    (["--n", "30", "--alpha-tot", "3", "--jobs", "5000"], "--jobs"),
    (["--n", "30", "--alpha-tot", "3", "--seed", "-1"], "--seed"),
    (["--n", "30", "--alpha-tot", "3", "--f", "0.001"], "at least one example"),
    (["--n", "30", "--alpha-tot", "nan"], "alpha_tot"),
    (["--n", "30", "--alpha-tot", "1e309"], "alpha_tot"),
    (["--n", "30", "--alpha-tot", "3", "--learner", "nope"], "learner must be one of"),
    (["--n", "30", "--alpha-tot", "3", "--metric", "nope"], "metric must be one of"),
    (["--n", "thirty", "--alpha-tot", "3"], "--n"),
    (["--n", "30"], "--alpha-tot"),  # --alpha-tot missing
    (["--n", "30", "--alpha-tot", "3", "--bogus"], "--bogus"),
    (["--n", "30", "--alpha-tot", "3", "--keep", "a\nb"], "keep"),
])
def test_bad_input_exits_2_with_one_line(capsys, extra, needle):
    assert needle in _one_line_error(capsys, ["simulate", *extra])


def test_value_errors_are_returned_not_raised(capsys):
    msg = _one_line_error(capsys, ["simulate", "--n", "30", "--alpha-tot", "3", "--f", "1.5"])
    assert msg.startswith("perceptron-pruning simulate: error: ") and "f must be in" in msg


def test_memory_error_is_one_line(capsys, monkeypatch):
    def fake(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(SIM_MODULE, "simulate", fake)
    assert "memory" in _one_line_error(capsys, ["simulate", "--n", "5", "--alpha-tot", "1"])


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
    assert TOP_KEYS <= set(obj) and obj["seeds"] == 2
    for argv in (["--n", "20", "--alpha-tot", "0"], ["--n", "100000", "--alpha-tot", "100"],
                 ["--n", "20", "--alpha-tot", "2", "--seeds", "99999999999999999999"]):
        bad = subprocess.run([sys.executable, "-m", "perceptron_pruning", "simulate", *argv],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                             check=False)
        assert bad.returncode == 2, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_a_solver_refusal_is_one_line_not_a_traceback(monkeypatch, capsys):
    # max_margin refuses an uncertified answer with RuntimeError (seen at keep hard, f = 1e-4,
    # P_tot = 1e8, where every kept margin is ~1e-6); the CLI reports it as one line.
    import perceptron_pruning.learners.max_margin as mm

    def refuse(*args, **kwargs):
        raise RuntimeError("max_margin stopped short of the optimum: relative duality gap 1e-3")

    monkeypatch.setattr(mm, "max_margin", refuse)
    assert main(["simulate", "--n", "10", "--alpha-tot", "2", "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stopped short" in err and "Traceback" not in err
