"""CLI surface of the margin metric's options: ``--score``, ``--score-noise``, ``--label-aware``,
``--probe-alpha`` and ``--probe-learner``; their ``--json`` keys, the learned probe's angle and
``p_agree``, the tables, and one-line errors for bad combinations.

Every number is compared with the library called directly with the same metric.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from plugin_checks import PLAIN_METRIC

import perceptron_pruning as pp
from perceptron_pruning import cli, theory
from perceptron_pruning.cli import main
from perceptron_pruning.registry import get_metric

OPTION_KEYS = ("score", "score_noise", "label_aware", "probe_alpha", "probe_learner")
DEFAULTS = {"score": "abs", "score_noise": 0.0, "label_aware": False, "probe_alpha": None,
            "probe_learner": "max-margin"}
SIM = ["--n", "100", "--alpha-tot", "3", "--f", "0.4", "--seeds", "2", "--jobs", "1"]

# (flags, the metric options they stand for, probe angle)
CASES = [
    ([], {}, 0.0),
    (["--score", "signed"], {"score": "signed"}, 20.0),
    (["--score-noise", "0.3"], {"score_noise": 0.3}, 20.0),
    (["--label-aware"], {"label_aware": True}, 20.0),
    (["--probe-alpha", "5", "--probe-learner", "hebb"],
     {"probe_alpha": 5.0, "probe_learner": "hebb"}, 0.0),
    (["--score", "signed", "--score-noise", "0.2", "--label-aware", "--probe-alpha", "3",
      "--probe-learner", "ridge"],
     {"score": "signed", "score_noise": 0.2, "label_aware": True, "probe_alpha": 3.0,
      "probe_learner": "ridge"}, 0.0),
]
IDS = ["defaults", "signed", "score-noise", "label-aware", "learned-hebb", "all"]


def _run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.strip().splitlines()) == 1, err
    return json.loads(out)


def _as_json(obj):
    return json.loads(json.dumps(cli._clean(obj)))


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0] and match in lines[0], err
    return lines[0]


# ------------------------------------------------------------------------------- JSON keys


@pytest.mark.parametrize("flags, opts, theta", CASES, ids=IDS)
def test_simulate_json_has_the_metric_options(capsys, flags, opts, theta):
    obj = _run_json(capsys, ["simulate", *SIM, "--theta", str(theta), *flags])
    metric = get_metric("margin", **opts)
    for k in OPTION_KEYS:  # from the metric's options: the flag's value, else the default
        assert obj[k] == opts.get(k, DEFAULTS[k]) == metric.options()[k], k
    ref = pp.simulate(100, 3.0, f=0.4, theta=theta, seeds=2, metric=metric)
    assert obj == _as_json(ref.to_dict())
    # p_agree: the mean over seeds of each trial's agreement
    per_seed = [r["p_agree"] for r in obj["per_seed"]]
    assert obj["p_agree"] == pytest.approx(np.mean(per_seed), rel=1e-15)
    assert obj["p_agree"] == pytest.approx(float(np.mean(ref.p_agree)), rel=1e-15)
    if theta > 0.0 or "probe_alpha" in opts:
        assert 0.5 < obj["p_agree"] < 1.0  # an imperfect probe: some labels disagree


@pytest.mark.parametrize("flags, opts, theta", CASES, ids=IDS)
def test_theory_json_has_the_metric_options(capsys, flags, opts, theta):
    recs = _run_json(capsys, ["theory", "--alpha-tot", "3", "6", "--f", "0.4", "--theta",
                              str(theta), *flags])
    metric = get_metric("margin", **opts)
    ref = theory.curve(alpha_tot=[3.0, 6.0], f=0.4, theta=theta, metric=metric).points()
    assert len(recs) == 2
    for rec, p in zip(recs, ref):
        for k in OPTION_KEYS:
            assert rec[k] == opts.get(k, DEFAULTS[k]) == metric.options()[k], k
        assert "p_agree" in rec
        assert rec == _as_json(p.to_dict())
        expected = 1.0 if (theta == 0.0 and "probe_alpha" not in opts) else \
            pp.noise.CLEAN.p_agree(np.cos(np.radians(rec["theta"])))
        assert rec["p_agree"] == pytest.approx(expected, rel=1e-12)


def test_flags_not_given_are_not_passed(capsys):
    # A metric without the options runs when none is given; each given one is refused by name.
    recs = _run_json(capsys, ["theory", "--alpha-tot", "3", "--f", "0.4",
                              "--metric", PLAIN_METRIC])
    assert not set(OPTION_KEYS) & set(recs[0])
    ref = theory.solve(alpha_tot=3.0, f=0.4, metric=PLAIN_METRIC)
    assert recs[0]["eps"] == pytest.approx(ref.eps, rel=1e-12)


# ------------------------------------------------------------------------ the learned probe


def test_learned_probe_theta_in_simulate_is_the_mean_achieved(capsys):
    obj = _run_json(capsys, ["simulate", *SIM, "--probe-alpha", "2", "--probe-learner", "hebb"])
    thetas = [r["theta"] for r in obj["per_seed"]]
    assert obj["theta"] == pytest.approx(np.mean(thetas), rel=1e-15)
    assert obj["theta"] > 10.0 and len(set(thetas)) == 2  # realised per seed, not the flag's 0
    ref = pp.simulate(100, 3.0, f=0.4, seeds=2,
                      metric=get_metric("margin", probe_alpha=2.0, probe_learner="hebb"))
    assert thetas == list(ref.values["theta"])
    assert obj["theta"] == ref.theta


def test_learned_probe_theta_in_theory_is_the_predicted_angle(capsys):
    recs = _run_json(capsys, ["theory", "--alpha-tot", "3", "6", "--f", "0.4",
                              "--probe-alpha", "2", "--probe-learner", "hebb"])
    metric = get_metric("margin", probe_alpha=2.0, probe_learner="hebb")
    predicted = metric.probe_theta()
    assert predicted > 10.0
    assert [r["theta"] for r in recs] == [predicted, predicted]
    # the default probe learner, max-margin
    (rec,) = _run_json(capsys, ["theory", "--alpha-tot", "3", "--f", "0.4", "--probe-alpha", "2"])
    mm = get_metric("margin", probe_alpha=2.0).probe_theta()
    assert rec["theta"] == mm and rec["probe_learner"] == "max-margin" and mm != predicted


def test_label_aware_alpha_prune_in_theory(capsys):
    recs = _run_json(capsys, ["theory", "--alpha-tot", "3", "6", "--f", "0.4", "--theta", "30",
                              "--label-aware"])
    for rec, at in zip(recs, (3.0, 6.0)):
        assert rec["alpha_tot"] == pytest.approx(at, rel=1e-14)
        assert rec["p_agree"] < 0.9  # a 30 degree probe: the filter drops some examples
        assert rec["alpha_prune"] == pytest.approx(0.4 * rec["p_agree"] * at, rel=1e-12)
    # without --label-aware every drawn example is eligible
    (rec,) = _run_json(capsys, ["theory", "--alpha-tot", "3", "--f", "0.4", "--theta", "30"])
    assert rec["alpha_prune"] == pytest.approx(1.2, rel=1e-14) and not rec["label_aware"]


# ------------------------------------------------------------------------------- tables


def _header_and_columns(out, first):
    lines = out.strip().splitlines()
    cols = next(line.split() for line in lines if line.split()[:1] == [first])
    return lines[0], cols


def test_tables_show_the_realised_probe_and_filter_only_when_relevant(capsys):
    assert main(["simulate", *SIM, "--theta", "20"]) == 0
    head, cols = _header_and_columns(capsys.readouterr().out, "replicate")
    assert not {"theta", "p_agree", "alpha_prune"} & set(cols)
    assert "(score abs)" in head and "theta = 20 deg," in head

    argv = ["simulate", *SIM, "--probe-alpha", "2", "--probe-learner", "hebb"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    head, cols = _header_and_columns(out, "replicate")
    assert "theta" in cols and "p_agree" in cols and "alpha_prune" not in cols
    ref = pp.simulate(100, 3.0, f=0.4, seeds=2,
                      metric=get_metric("margin", probe_alpha=2.0, probe_learner="hebb"))
    rows = [line.split() for line in out.splitlines()[2:4]]
    realised = [float(r[cols.index("theta")]) for r in rows]
    assert realised == pytest.approx(list(ref.values["theta"]), abs=1e-5)
    assert f"theta = {ref.theta:g} deg (mean over seeds" in head
    assert "(score abs, probe hebb on 2 examples/dim)" in head

    argv = ["simulate", *SIM, "--theta", "20", "--label-aware", "--score", "signed",
            "--score-noise", "0.3"]
    assert main(argv) == 0
    head, cols = _header_and_columns(capsys.readouterr().out, "replicate")
    assert "p_agree" in cols and "alpha_prune" in cols and "theta" not in cols
    assert "(score signed, score noise 0.3, label-aware)" in head

    assert main(["theory", "--alpha-tot", "3", "--theta", "20"]) == 0
    head, cols = _header_and_columns(capsys.readouterr().out, "alpha_prune")
    assert "p_agree" not in cols and "(score abs)" in head

    argv = ["theory", "--alpha-tot", "3", "--label-aware", "--probe-alpha", "5",
            "--probe-learner", "hebb"]
    assert main(argv) == 0
    head, cols = _header_and_columns(capsys.readouterr().out, "alpha_prune")
    assert "p_agree" in cols
    predicted = get_metric("margin", probe_alpha=5.0, probe_learner="hebb").probe_theta()
    assert f"theta = {predicted:g} deg (predicted for the learned probe)" in head
    assert "(score abs, label-aware, probe hebb on 5 examples/dim)" in head


# ------------------------------------------------------------------------------- errors

BAD = [
    (["--score-noise", "-1"], "score_noise must be in"),
    (["--score-noise", "nan"], "score_noise must be in"),
    (["--score-noise", "x"], "--score-noise"),
    (["--probe-alpha", "0"], "probe_alpha must be in"),
    (["--probe-alpha", "1e5"], "probe_alpha must be in"),
    (["--probe-learner", "nosuch"], "probe_learner must be one of"),
    (["--probe-learner", "nosuch", "--probe-alpha", "5"], "probe_learner must be one of"),
    (["--probe-learner", "hebb"], "learner needs "),
    (["--probe-learner", "max-margin"], "learner needs "),
    (["--theta", "10", "--probe-alpha", "5"], "theta must be left at 0"),
    (["--probe-alpha", "5", "--flip", "0.1"], "'max-margin' needs clean labels"),
    (["--probe-alpha", "5", "--teacher-noise", "0.2"], "'max-margin' needs clean labels"),
    (["--score", "bogus", "--score-noise", "0.1"], "score must be one of"),
    (["--metric", PLAIN_METRIC, "--score-noise", "0.3"], "does not take score_noise"),
    (["--metric", PLAIN_METRIC, "--label-aware"], "does not take label_aware"),
    (["--metric", PLAIN_METRIC, "--probe-alpha", "5"], "does not take probe_alpha"),
    (["--metric", PLAIN_METRIC, "--probe-learner", "hebb"],
     "does not take probe_learner"),
]


@pytest.mark.parametrize("command", [["theory", "--alpha-tot", "3"],
                                     ["simulate", "--n", "20", "--alpha-tot", "3",
                                      "--seeds", "1"]], ids=["theory", "simulate"])
@pytest.mark.parametrize("extra, match", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_metric_options_are_one_line_errors(capsys, command, extra, match):
    _one_line_error(capsys, [*command, *extra], match)


def test_library_refuses_what_the_cli_refuses():
    # The messages above are the library's own (no second copy of the checks in the CLI) ...
    with pytest.raises(ValueError, match="score_noise must be in"):
        get_metric("margin", score_noise=-1.0)
    with pytest.raises(ValueError, match="theta must be left at 0"):
        theory.solve(alpha_tot=3.0, theta=10.0, metric=get_metric("margin", probe_alpha=5.0))
    # ... except --probe-learner without --probe-alpha, which the metric cannot see for its
    # default learner
    assert get_metric("margin", probe_learner="max-margin").probe_alpha is None


@pytest.mark.parametrize("command", [["figure", "keep_hard", "--quick"], ["reproduce", "--quick"]])
def test_figures_take_the_metric_flags_and_refuse_a_learned_probe(capsys, tmp_path, command):
    out = ["--out", str(tmp_path / "figs")]
    _one_line_error(capsys, [*command, *out, "--probe-alpha", "5"], "simulate and theory only")
    _one_line_error(capsys, [*command, *out, "--label-aware"], "simulate and theory only")
    _one_line_error(capsys, [*command, *out, "--score-noise", "-1"], "score_noise must be in")
    _one_line_error(capsys, [*command, *out, "--metric", PLAIN_METRIC,
                             "--label-aware"], "does not take label_aware")
    assert not (tmp_path / "figs").exists()  # refused before any work
