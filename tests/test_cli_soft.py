"""CLI surface of soft selection: ``--keep uncertainty --exponent A --score-scale S`` and
``--reweight`` on ``simulate`` and ``theory``, their ``--json`` keys, and one-line errors (exit
status 2) for bad combinations. Numbers are compared with the library called directly.
"""

from __future__ import annotations

import json

import pytest
from cli_checks import one_line_error, run_json

import perceptron_pruning as pp
from perceptron_pruning import cli, theory
from perceptron_pruning.cli import main

KEYS = {"exponent", "score_scale", "pi", "reweight"}


@pytest.mark.parametrize("flags, opts", [
    ([], {}),
    (["--exponent", "-1", "--score-scale", "5"], {"exponent": -1.0, "score_scale": 5.0}),
    (["--exponent", "2", "--reweight"], {"exponent": 2.0, "reweight": True}),
])
def test_theory_json(capsys, flags, opts):
    pts = run_json(capsys, ["theory", "--alpha-tot", "3", "6", "--f", "0.4", "--keep",
                             "uncertainty", "--learner", "svm", *flags])
    m = pp.get_metric("soft", **opts)
    ref = theory.curve(alpha_tot=[3.0, 6.0], f=0.4, keep="uncertainty", learner="svm",
                       metric=m).points()
    for got, want in zip(pts, ref):
        assert KEYS <= set(got) and got["metric"] == "soft" and got["keep"] == "uncertainty"
        assert {k: got[k] for k in KEYS} == m.options()
        assert got["eps"] == json.loads(json.dumps(cli._clean(want.eps)))


def test_simulate_json_is_the_library(capsys):
    got = run_json(capsys, ["simulate", "--n", "60", "--alpha-tot", "4", "--f", "0.3",
                             "--keep", "uncertainty", "--exponent", "-1", "--learner", "svm",
                             "--seeds", "2", "--jobs", "1"])
    ref = pp.simulate(60, 4, f=0.3, keep="uncertainty", learner="svm",
                      metric=pp.get_metric("soft", exponent=-1.0), seeds=2)
    assert got["metric"] == "soft" and got["exponent"] == -1.0 and got["reweight"] is False
    assert got["eps_mean"] == pytest.approx(ref.eps_mean, rel=1e-12)
    assert got["alpha_prune_mean"] == pytest.approx(ref.alpha_prune_mean, rel=1e-12)


def test_table_names_the_rule(capsys):
    assert main(["theory", "--alpha-tot", "4", "--f", "0.4", "--keep", "uncertainty",
                 "--exponent", "3", "--score-scale", "2", "--reweight", "--learner",
                 "ridge"]) == 0
    out = capsys.readouterr().out
    assert "metric soft (exponent 3, score scale 2, reweighted 1/pi)" in out


@pytest.mark.parametrize("argv, match", [
    (["--keep", "hard", "--exponent", "2"], "--exponent applies to --keep uncertainty only"),
    (["--score-scale", "2"], "--score-scale applies to --keep uncertainty only"),
    (["--keep", "easy", "--reweight"], "--reweight applies to --keep uncertainty only"),
    (["--keep", "random", "--metric", "soft", "--reweight"],
     "--reweight applies to --keep uncertainty only"),
    (["--keep", "uncertainty", "--exponent", "1e5"], "exponent must be in [-1000, 1000]"),
    (["--keep", "uncertainty", "--score-scale", "0"], "score_scale must be in (0"),
    (["--keep", "uncertainty", "--score", "signed"], "metric 'soft' does not take score"),
    (["--keep", "hard", "--metric", "soft"], "keep must be one of uncertainty, random"),
    (["--keep", "uncertainty", "--exponent", "1", "--f", "1.5"], "f must be in"),
])
@pytest.mark.parametrize("command", ["theory", "simulate"])
def test_bad_combinations_are_one_line(capsys, command, argv, match):
    base = ["--alpha-tot", "4", "--f", "0.4"] if command == "theory" else [
        "--n", "40", "--alpha-tot", "4", "--f", "0.4", "--seeds", "1"]
    one_line_error(capsys, [command, *base, "--learner", "svm", *argv], match)


def test_figures_do_not_take_the_flags(capsys, tmp_path):
    for flag in (["--exponent", "1"], ["--reweight"], ["--score-scale", "2"]):
        assert main(["figure", "peers", "--quick", "--out", str(tmp_path), *flag]) == 2
        assert "unrecognized arguments" in capsys.readouterr().err
