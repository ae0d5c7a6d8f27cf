"""CLI surface of the label channels and the ground truth: ``--link``, ``--link-scale``,
``--truth-cos`` and ``--probe-truth-cos`` on ``simulate`` and ``theory``; their ``--json`` keys,
the tables, and one-line errors (exit status 2) for bad combinations.

Every number is compared with the library called directly with the same options.
"""

from __future__ import annotations

import json

import pytest
from cli_checks import one_line_error, run_json

import perceptron_pruning as pp
from perceptron_pruning import cli, theory
from perceptron_pruning.cli import main

KEYS = ("link", "link_scale", "truth_cos", "probe_truth_cos")
DEFAULTS = {"link": "sign", "link_scale": None, "truth_cos": 1.0, "probe_truth_cos": None}
SIM = ["--n", "60", "--alpha-tot", "3", "--f", "0.5", "--seeds", "2", "--jobs", "1",
       "--learner", "svm"]
THEORY = ["--alpha-tot", "3", "6", "--f", "0.5", "--learner", "svm"]

# (flags, the library options they stand for)
CASES = [
    ([], {}),
    (["--link", "logistic", "--link-scale", "4"], {"link": "logistic", "link_scale": 4.0}),
    (["--link", "misspec2", "--flip", "0.05"], {"link": "misspec2", "flip": 0.05}),
    (["--truth-cos", "0.8", "--theta", "20", "--probe-truth-cos", "0.9"],
     {"truth_cos": 0.8, "theta": 20.0, "probe_truth_cos": 0.9}),
]
IDS = ["defaults", "logistic", "misspec2-flip", "truth"]


@pytest.mark.parametrize("flags, opts", CASES, ids=IDS)
def test_theory_json_keys_and_numbers(capsys, flags, opts):
    pts = run_json(capsys, ["theory", *THEORY, *flags])
    ref = theory.curve(alpha_tot=[3.0, 6.0], f=0.5, learner="svm", **opts).points()
    for got, want in zip(pts, ref):
        for k in KEYS:
            assert got[k] == {**DEFAULTS, **opts}.get(k, DEFAULTS[k]), k
        for q in ("eps", "R", "eps_noisy", "frac_mislabelled_kept"):
            assert got[q] == json.loads(json.dumps(cli._clean(want.values[q]))), q


@pytest.mark.parametrize("flags, opts", CASES, ids=IDS)
def test_simulate_json_keys_and_numbers(capsys, flags, opts):
    d = run_json(capsys, ["simulate", *SIM, *flags])
    res = pp.simulate(60, 3.0, f=0.5, seeds=2, learner="svm", **opts)
    for k in KEYS:
        assert d[k] == {**DEFAULTS, **opts}.get(k, DEFAULTS[k]), k
    assert d["eps_mean"] == res.eps_mean and d["eps_noisy_mean"] == res.eps_noisy_mean


def test_tables_show_the_options_only_when_they_differ_from_defaults(capsys):
    assert main(["theory", *THEORY]) == 0
    plain = capsys.readouterr().out
    assert "link" not in plain and "truth" not in plain and "eps_noisy" not in plain
    assert main(["theory", *THEORY, "--link", "logistic", "--link-scale", "4"]) == 0
    out = capsys.readouterr().out
    assert "link logistic (scale 4)" in out and "eps_noisy" in out
    assert "frac_mislabelled_kept" in out and "truth" not in out
    # A truth other than the generator: eps (truth) and eps_noisy (generator's labels) differ.
    assert main(["simulate", *SIM, "--truth-cos", "0.7"]) == 0
    out = capsys.readouterr().out
    assert "truth cos 0.7" in out and "eps_noisy" in out and "frac_mislabelled" not in out


@pytest.mark.parametrize("cmd", ["theory", "simulate"])
@pytest.mark.parametrize("flags, match", [
    (["--link-scale", "3"], "--link-scale applies to --link logistic only"),
    (["--link", "misspec2", "--link-scale", "3"], "--link-scale applies"),
    (["--link", "logistic"], "--link logistic needs --link-scale"),
    (["--link", "logistic", "--link-scale", "0"], "link_scale must be in"),
    (["--link", "misspec2", "--teacher-noise", "0.3"], "probit"),
    (["--truth-cos", "1.2"], "truth_cos must be in [-1, 1]"),
    (["--truth-cos", "0.9", "--theta", "20", "--probe-truth-cos", "0.5"],
     "probe_truth_cos must be [0.69"),
    (["--truth-cos", "0.9", "--probe-truth-cos", "0.8"], "probe_truth_cos must be 0.9"),
    (["--link", "probit"], "invalid choice"),
])
def test_bad_combinations_are_one_line_errors(capsys, cmd, flags, match):
    base = THEORY if cmd == "theory" else SIM
    one_line_error(capsys, [cmd, *base, *flags], match)


def test_figures_do_not_take_the_flags(capsys):
    assert main(["figure", "keep_hard", "--link", "misspec2"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
