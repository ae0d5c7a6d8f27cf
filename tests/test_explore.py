"""The explorer without a browser: URL state, plot data, and the Bokeh document's callbacks."""

from __future__ import annotations

import csv
import io
import math
import re
import sys
import urllib.request
from urllib.parse import parse_qsl

import numpy as np
import pytest
from plugin_checks import PLAIN_METRIC

import perceptron_pruning as pp
from perceptron_pruning import explore as ex
from perceptron_pruning.cli import main
from perceptron_pruning.noise import LabelNoise


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1.0)))


# ----------------------------------------------------------------------------- URL state


def test_state_round_trips_through_the_query():
    s = ex.ViewState(keep="easy", f=(0.8, 0.3), theta=12.5, alpha_tot=3.0, fpic=0.45, n=60,
                     seeds=3, score="signed")
    q = ex.to_query(s)
    assert "f=0.8,0.3" in q
    args = dict(kv.split("=") for kv in q.split("&"))
    back, messages = ex.parse_state({k: [v.replace("%2C", ",").encode()] for k, v in args.items()})
    assert messages == []
    assert back == s


@pytest.mark.parametrize(("key", "value", "word"), [
    ("theta", "500", "theta"), ("theta", "nan", "theta"), ("alpha_tot", "1e9", "alpha_tot"),
    ("f", "abc", "f"), ("f", "0", "f"), ("f", ",".join(["0.5"] * 9), "f"), ("keep", "med", "keep"),
    ("n", "2.5", "n"), ("seeds", "-1", "seeds"), ("learner", "svm?", "learner"),
    ("metric", "<script>", "metric"), ("score", "sign", "score"), ("zzz", "1", "zzz"),
    ("lam", "0", "lam"), ("lam", "2", "lam"), ("lam", "x", "lam"), ("flip", "0.45", "flip"),
    ("flip", "-0.01", "flip"), ("score_noise", "2.5", "score_noise"),
    ("score_noise", "inf", "score_noise"), ("label_aware", "maybe", "label_aware"),
    ("label_aware", "", "label_aware")])
def test_bad_url_parameter_is_reported_and_skipped(key, value, word):
    base = ex.ViewState(theta=7.0)
    state, messages = ex.parse_state({key: [value.encode()], "fpic": "0.5"}, base=base)
    assert len(messages) == 1 and word in messages[0]
    assert state == ex.ViewState(theta=7.0, fpic=0.5)


def test_new_fields_round_trip_through_the_query():
    s = ex.ViewState(learner="svm", lam=0.0316228, flip=0.15, score="signed", score_noise=0.7,
                     label_aware=True, theta=5.0)
    q = ex.to_query(s)
    parts = q.split("&")
    for part in ("lam=0.0316228", "flip=0.15", "score_noise=0.7", "label_aware=true"):
        assert part in parts
    back, messages = ex.parse_state(dict(parse_qsl(q)))  # str values, as a dict of the query
    assert messages == [] and back == s
    default, messages = ex.parse_state(dict(parse_qsl(ex.to_query(ex.ViewState()))))
    assert messages == [] and default == ex.ViewState()
    assert "label_aware=false" in ex.to_query(default).split("&")
    # Tornado's form: lists of bytes, the last one wins.
    state, messages = ex.parse_state({"label_aware": [b"false", b"ON"], "lam": [b"1"]})
    assert messages == [] and state.label_aware is True and state.lam == 1.0


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("On", True), ("1", True), ("YES", True), (" false ", False), ("0", False),
    ("off", False), ("No", False), (True, True), (np.False_, False)])
def test_label_aware_words(value, expected):
    assert ex.parse_bool("label_aware", value) is expected
    assert ex.check_state(ex.ViewState(label_aware=value)).label_aware is expected


@pytest.mark.parametrize(("field", "value", "text"), [
    ("lam", 0.0, "lam must be in [0.001, 1], got 0.0"),
    ("lam", 1.5, "lam must be in [0.001, 1], got 1.5"),
    ("flip", 0.41, "flip must be in [0, 0.4], got 0.41"),
    ("flip", math.nan, "flip must be in [0, 0.4], got nan"),
    ("score_noise", -0.1, "score_noise must be in [0, 2], got -0.1"),
    ("score_noise", "2.01", "score_noise must be in [0, 2], got '2.01'"),
    ("label_aware", "maybe", "label_aware must be true or false, got 'maybe'"),
    ("label_aware", 1.0, "label_aware must be true or false, got 1.0"),
    ("label_aware", None, "label_aware must be true or false, got None")])
def test_new_fields_are_validated_with_their_range(field, value, text):
    with pytest.raises(ValueError, match=re.escape(text)):
        ex.check_state(ex.ViewState(**{field: value}))


def test_new_fields_are_rounded_to_six_digits():
    s = ex.check_state(ex.ViewState(lam=0.0123456789, flip=0.123456789, score_noise="1.23456789",
                                    label_aware="true"))
    assert (s.lam, s.flip, s.score_noise, s.label_aware) == (0.0123457, 0.123457, 1.23457, True)


def test_optional_controls_are_shown_only_for_plugins_that_take_them():
    for name in ("max-margin", "hebb"):
        assert not ex.shown_controls(ex.ViewState(learner=name))["lam"]
    for name in ("svm", "logistic", "ridge"):
        assert ex.shown_controls(ex.ViewState(learner=name))["lam"]
    assert ex.shown_controls(ex.ViewState(metric="margin")) == {
        "lam": False, "score": True, "score_noise": True, "label_aware": True}
    assert ex.shown_controls(ex.ViewState(learner="ridge", metric=PLAIN_METRIC)) == {
        "lam": True, "score": False, "score_noise": False, "label_aware": False}
    # The plug-ins drawn get an option exactly when its control is shown.
    assert ex.learner_of(ex.ViewState(learner="hebb", lam=0.01)) == pp.get_learner("hebb")
    assert ex.learner_of(ex.ViewState(learner="svm", lam=0.01)) == pp.get_learner("svm",
                                                                                   lam=0.01)
    opts = {"score": "signed", "score_noise": 1.0, "label_aware": True}
    assert ex.metric_of(ex.ViewState(metric=PLAIN_METRIC, **opts)) == \
        pp.get_metric(PLAIN_METRIC)
    assert ex.metric_of(ex.ViewState(**opts)) == pp.get_metric("margin", **opts)


def test_f_values_are_sorted_unique_and_rounded():
    assert ex.parse_f("0.2 1, 0.5,0.2") == (1.0, 0.5, 0.2)
    assert ex.parse_f("0.1234567891") == (0.123457,)


def test_controls_come_from_the_registry(monkeypatch):
    bokeh = pytest.importorskip("bokeh.document")
    from perceptron_pruning.registry import learner_names, metric_names

    e = ex.Explorer(bokeh.Document())
    assert tuple(e.learner.options) == learner_names()
    assert tuple(e.metric.options) == metric_names()


# ----------------------------------------------------------------------------- plot data


def test_learning_curves_match_the_library():
    s = ex.ViewState(keep="hard", f=(1.0, 0.4, 0.1), theta=10.0)
    d = ex.learning_curves(s)
    for f, eps in zip(d["f"], d["eps"]):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, keep="hard", theta=10.0).eps
        np.testing.assert_allclose(eps, ref, rtol=1e-12)
    pf = pp.frontier.pareto_frontier(ex.ALPHA_GRID, [1.0, 0.4, 0.1], keep="hard", theta=10.0)
    np.testing.assert_allclose(d["frontier"], pf.eps, rtol=1e-12)
    np.testing.assert_array_equal(d["f_best"], pf.f_best)
    np.testing.assert_allclose(d["unpruned"], d["eps"][0], rtol=1e-12)


def test_eps_at_budget_matches_the_library_and_marks_the_optimum():
    s = ex.ViewState(keep="easy", f=(1.0, 0.3), alpha_tot=1.0, theta=0.0)
    d = ex.eps_at_budget(s)
    np.testing.assert_allclose(d["eps"], pp.frontier.eps_vs_f(1.0, d["f"], keep="easy"),
                               rtol=1e-12)
    assert d["eps_opt"] == d["eps"].min() and d["eps_all"] == d["eps"][-1]
    assert d["less_data_wins"]  # keep easy helps when data are scarce
    opt = pp.frontier.optimal_f(1.0, keep="easy")
    assert d["eps_opt"] >= opt.eps * (1 - 1e-9)  # the library's refined optimum is no worse
    assert d["eps_opt"] <= opt.eps * 1.05
    # Keep hard at fixed alpha_tot never beats all the data (a plateau down to f_c).
    hard = ex.eps_at_budget(ex.ViewState(keep="hard", alpha_tot=10.0))
    assert not hard["less_data_wins"]


def test_learning_curves_with_lam_and_flip_match_the_library():
    s = ex.ViewState(learner="ridge", lam=0.01, flip=0.2, theta=10.0, f=(1.0, 0.3))
    d = ex.learning_curves(s)
    ridge = pp.get_learner("ridge", lam=0.01)
    for f, eps in zip(d["f"], d["eps"]):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, keep="hard", theta=10.0, learner=ridge,
                              flip=0.2).eps
        np.testing.assert_allclose(eps, ref, rtol=1e-12)
    assert np.isfinite(d["eps"]).all()  # a regularised learner has no separability limit
    # Each option moves the curve, so the comparison above would catch one being dropped.
    other_lam = pp.theory.curve(ex.ALPHA_GRID, f=0.3, theta=10.0, learner="ridge", flip=0.2).eps
    clean = pp.theory.curve(ex.ALPHA_GRID, f=0.3, theta=10.0, learner=ridge).eps
    assert _rel(d["eps"][1], other_lam) > 0.02 and _rel(d["eps"][1], clean) > 0.02


def test_learning_curves_with_score_noise_match_the_library():
    # Slow theory (a few seconds): one curve of f < 1 at the perfect probe.
    s = ex.ViewState(f=(0.3,), score_noise=0.5)
    d = ex.learning_curves(s)
    noisy = pp.get_metric("margin", score_noise=0.5)
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", metric=noisy).eps
    np.testing.assert_allclose(d["eps"][0], ref, rtol=1e-12)
    assert _rel(ref, pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard").eps) > 0.05


def test_label_aware_curves_and_budget_match_the_library():
    s = ex.ViewState(learner="hebb", f=(1.0, 0.3), flip=0.2, label_aware=True, theta=10.0,
                     alpha_tot=5.0, keep="easy")
    aware = pp.get_metric("margin", label_aware=True)
    kw = {"keep": "easy", "theta": 10.0, "learner": "hebb", "flip": 0.2}
    d = ex.learning_curves(s)
    for f, eps in zip(d["f"], d["eps"]):
        ref = pp.theory.curve(ex.ALPHA_GRID, f=f, metric=aware, **kw).eps
        np.testing.assert_allclose(eps, ref, rtol=1e-12)
    plain = pp.theory.curve(ex.ALPHA_GRID, f=0.3, **kw).eps
    assert _rel(d["eps"][1], plain) > 0.02
    # "Unpruned" is every drawn example, no filter (the library's all-data reference): the
    # label-aware f = 1 curve still drops the disputed labels.
    all_data = pp.theory.curve(ex.ALPHA_GRID, f=1.0, **kw).eps
    np.testing.assert_allclose(d["unpruned"], all_data, rtol=1e-12)
    assert _rel(d["eps"][0], all_data) > 0.02
    b = ex.eps_at_budget(s)
    np.testing.assert_allclose(b["eps"], pp.frontier.eps_vs_f(5.0, b["f"], metric=aware, **kw),
                               rtol=1e-12)
    o = pp.frontier.optimal_f(5.0, metric=aware, n_grid=6, **kw)
    assert b["eps_all"] == pytest.approx(o.eps_unpruned, rel=1e-12)
    assert abs(b["eps_all"] / b["eps"][-1] - 1) > 0.01
    assert b["less_data_wins"] == (b["eps_opt"] < b["eps_all"] * (1 - 1e-9))
    # The filter drops a fraction 1 - p_agree first: alpha_prune = f p_agree alpha_tot.
    p_agree = LabelNoise(flip=0.2).p_agree(math.cos(math.radians(10.0)))
    assert b["eligible"] == pytest.approx(p_agree, rel=1e-12) and p_agree < 0.85
    np.testing.assert_allclose(b["alpha_prune_marked"], b["f_marked"] * p_agree * 5.0)
    rows = list(csv.DictReader(io.StringIO(ex.view_csv(s).split("\n", 1)[1])))
    for r in (r for r in rows if r["panel"] == "b"):
        assert float(r["alpha_prune"]) == pytest.approx(float(r["f"]) * p_agree * 5.0,
                                                        rel=1e-6)
        assert float(r["alpha_tot"]) == pytest.approx(5.0, rel=1e-6)
    for r in (r for r in rows if r["series"] == "theory" and r["panel"] == "a"):
        assert float(r["alpha_tot"]) == pytest.approx(
            float(r["alpha_prune"]) / (float(r["f"]) * p_agree), rel=1e-6)
    for r in (r for r in rows if r["series"] == "unpruned"):
        assert float(r["alpha_tot"]) == pytest.approx(float(r["alpha_prune"]), rel=1e-6)


def test_max_margin_curves_end_where_noisy_data_stop_being_separable():
    s = ex.ViewState(f=(1.0, 0.3), flip=0.1, alpha_tot=10.0)
    with pytest.raises(pp.theory.TheoryError, match="not separable"):
        pp.theory.curve(ex.ALPHA_GRID, f=0.3, flip=0.1)  # the library refuses the whole grid
    d = ex.learning_curves(s)
    for f, eps in zip(d["f"], d["eps"]):
        ok = ex.ALPHA_GRID < pp.theory.capacity(f=f, keep="hard", flip=0.1)
        assert 5 < ok.sum() < ok.size
        np.testing.assert_array_equal(np.isnan(eps), ~ok)
        ref = pp.theory.curve(ex.ALPHA_GRID[ok], f=f, keep="hard", flip=0.1).eps
        np.testing.assert_allclose(eps[ok], ref, rtol=1e-12)
    both_nan = np.isnan(d["eps"]).all(axis=0)
    np.testing.assert_array_equal(np.isnan(d["frontier"]), both_nan)
    np.testing.assert_array_equal(np.isnan(d["f_best"]), both_nan)
    b = ex.eps_at_budget(s)
    for f, eps in zip(b["f"], b["eps"]):
        if f * 10.0 < pp.theory.capacity(f=f, keep="hard", flip=0.1):
            assert eps == pytest.approx(pp.theory.solve(alpha_tot=10.0, f=f, flip=0.1).eps,
                                        rel=1e-12)
        else:
            assert math.isnan(eps)
    # All the data are not separable at alpha_tot = 10: any f with a student wins.
    assert math.isnan(b["eps_all"]) and b["less_data_wins"] and math.isfinite(b["eps_opt"])
    assert b["eps_opt"] == np.nanmin(b["eps"])
    with pytest.raises(ValueError, match="no solution at any f"):
        ex.eps_at_budget(ex.ViewState(flip=0.1, alpha_tot=1000.0))


def test_kept_picture_flips_labels_and_filters_them_when_label_aware():
    clean = ex.kept_picture(ex.ViewState(theta=20.0), points=4000)
    noisy = ex.kept_picture(ex.ViewState(theta=20.0, flip=0.2), points=4000)
    sign = np.where(noisy["u"] >= 0, 1.0, -1.0)
    assert np.all(clean["y"] == sign)
    assert 0.17 < np.mean(noisy["y"] != sign) < 0.23
    np.testing.assert_array_equal(noisy["kept"], clean["kept"])  # |t| does not look at labels
    aware = ex.kept_picture(ex.ViewState(theta=20.0, flip=0.2, label_aware=True), points=4000)
    c, s = aware["probe"]
    t = c * aware["u"] + s * aware["w"]
    agree = aware["y"] * t > 0
    assert not aware["kept"][~agree].any()
    assert aware["kept"].sum() == round(0.3 * agree.sum())
    # Keep hard among the eligible: the smallest |t|.
    assert np.abs(t[aware["kept"]]).max() <= np.abs(t[agree & ~aware["kept"]]).min()


def test_kept_picture_with_score_noise_blurs_the_threshold():
    sharp = ex.kept_picture(ex.ViewState(fpic=0.25), points=1000)
    blurred = ex.kept_picture(ex.ViewState(fpic=0.25, score_noise=0.5), points=1000)
    assert blurred["kept"].sum() == 250
    u = np.abs(blurred["u"])
    assert u[blurred["kept"]].max() > u[~blurred["kept"]].min()  # the ranks mix
    assert np.mean(blurred["kept"] == sharp["kept"]) > 0.6  # but still mostly small |u|


def test_kept_picture_keeps_the_fraction_asked_for():
    s = ex.ViewState(keep="hard", fpic=0.25, theta=0.0)
    d = ex.kept_picture(s, points=1000)
    assert d["kept"].sum() == 250
    # Perfect metric, keep hard: the kept are the smallest |u|.
    assert np.abs(d["u"][d["kept"]]).max() <= np.abs(d["u"][~d["kept"]]).min()
    easy = ex.kept_picture(ex.ViewState(keep="easy", fpic=0.25, theta=90.0), points=1000)
    assert np.abs(easy["w"][easy["kept"]]).min() >= np.abs(easy["w"][~easy["kept"]]).max()


def test_simulation_plan_starts_at_the_pages_budget():
    s = ex.ViewState(f=(1.0, 0.1), alpha_tot=5.0)
    plan = ex.simulation_plan(s)
    assert plan[:2] == [(1.0, 5.0), (0.1, 5.0)]
    assert (0.1, 300.0) in plan and len(plan) == len(set(plan))
    assert all(at <= ex.LIMITS["alpha_tot"][1] for _, at in plan)


def test_view_csv_holds_every_plotted_series():
    s = ex.ViewState(f=(1.0, 0.5))
    text = ex.view_csv(s, sims=[{"f": 0.5, "alpha_tot": 10.0, "alpha_prune": 5.0, "eps": 0.1,
                                 "eps_sem": 0.01}])
    first, body = text.split("\n", 1)
    assert first == "# perceptron-pruning explore: " + ex.to_query(s)
    rows = list(csv.DictReader(io.StringIO(body)))
    series = {r["series"] for r in rows}
    assert series == {"theory", "pareto_frontier", "unpruned", "optimal_f", "simulation"}
    k = ex.ALPHA_GRID.size
    assert sum(r["panel"] == "a" and r["series"] == "theory" for r in rows) == 2 * k
    sim = [r for r in rows if r["series"] == "simulation"]
    assert sim[0]["panel"] == "ab" and float(sim[0]["eps_sem"]) == 0.01


# ----------------------------------------------------------------------------- the document


@pytest.fixture
def explorer():
    bokeh = pytest.importorskip("bokeh.document")
    e = ex.Explorer(bokeh.Document(), {"f": [b"1,0.3"], "alpha_tot": [b"4"]})
    queue = []
    e._push = queue.append  # run "next tick" callbacks by hand
    e.queue = queue
    yield e
    e.cancel_simulation()


def _run_ticks(e):
    """Run the document's pending next-tick callbacks and those pushed by the worker."""
    for cb in list(e.doc.session_callbacks):
        e.doc.remove_next_tick_callback(cb)
        cb.callback()
    while e.queue:
        e.queue.pop(0)()


def test_score_control_switches_the_metric_to_the_signed_margin(explorer):
    # The metric's score option appears as a control; choosing "signed" redraws with the
    # signed-margin theory and selection.
    e = explorer
    assert e.score.visible and e.score.labels == ["abs", "signed"]
    e.theta.value = 30.0
    e.score.active = 1
    _run_ticks(e)
    assert e.state.score == "signed" and "score=signed" in e.url.text
    signed = pp.get_metric("margin", score="signed")
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", theta=30.0, metric=signed).eps
    np.testing.assert_allclose(e.sources["curves"].data["ys"][1], ref, rtol=1e-12)
    absolute = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", theta=30.0).eps
    assert np.max(np.abs(ref / absolute - 1)) > 0.05  # the two scores differ at 30 degrees


def test_optional_controls_follow_the_learner_and_metric(explorer):
    e = explorer
    assert not e.lam.visible
    assert e.score.visible and e.score_noise.visible and e.label_aware.visible
    e.learner.value = "svm"
    _run_ticks(e)
    assert e.lam.visible and e.state.learner == "svm"
    e.learner.value = "hebb"
    _run_ticks(e)
    assert not e.lam.visible
    e.metric.value = PLAIN_METRIC
    _run_ticks(e)
    assert not (e.score.visible or e.score_label.visible or e.score_noise.visible
                or e.label_aware.visible)
    e.metric.value = "margin"
    _run_ticks(e)
    assert e.score.visible and e.score_noise.visible and e.label_aware.visible
    # A URL opens with the controls of its learner shown.
    bokeh = pytest.importorskip("bokeh.document")
    f = ex.Explorer(bokeh.Document(), {"learner": [b"ridge"], "lam": [b"0.01"]})
    assert f.lam.visible and f.lam.value == pytest.approx(-2.0)


def test_lam_and_flip_controls_redraw_the_theory(explorer):
    e = explorer
    e.learner.value = "ridge"
    e.lam.value = -2.0  # log10
    e.flip.value = 0.15
    _run_ticks(e)
    assert (e.state.learner, e.state.lam, e.state.flip) == ("ridge", 0.01, 0.15)
    assert {"lam=0.01", "flip=0.15"} <= set(e.url.text.split("&"))
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", flip=0.15,
                          learner=pp.get_learner("ridge", lam=0.01)).eps
    np.testing.assert_allclose(e.sources["curves"].data["ys"][1], ref, rtol=1e-12)
    budget = ex.eps_at_budget(e.state)
    np.testing.assert_array_equal(e.sources["budget"].data["y"], budget["eps"])
    assert e.message.text == ""


def test_label_aware_toggle_filters_the_picture(explorer):
    e = explorer
    e.learner.value = "hebb"
    e.flip.value = 0.2
    e.theta.value = 20.0
    _run_ticks(e)
    before = np.array(e.sources["picture"].data["kind"])
    e.label_aware.active = True
    _run_ticks(e)
    assert e.state.label_aware and "label_aware=true" in e.url.text
    assert "label-aware" in e.figures[2].title.text and "flip 0.2" in e.figures[2].title.text
    pic = ex.kept_picture(e.state)
    kind = np.array(e.sources["picture"].data["kind"])
    np.testing.assert_array_equal(kind > 0, pic["kept"])
    assert not np.array_equal(kind, before)
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", theta=20.0, learner="hebb",
                          flip=0.2, metric=pp.get_metric("margin", label_aware=True)).eps
    np.testing.assert_allclose(e.sources["curves"].data["ys"][1], ref, rtol=1e-12)
    # Panel (a)'s markers sit at alpha_prune = f p_agree alpha_tot.
    p_agree = LabelNoise(flip=0.2).p_agree(math.cos(math.radians(20.0)))
    np.testing.assert_allclose(e.sources["markers"].data["x"], np.array([1.0, 0.3]) * p_agree
                               * 4.0)


def test_score_noise_control_redraws_the_theory(explorer):
    e = explorer  # slow: score noise theory takes seconds
    e.score_noise.value = 0.5
    _run_ticks(e)
    assert e.state.score_noise == 0.5 and "score_noise=0.5" in e.url.text.split("&")
    noisy = pp.get_metric("margin", score_noise=0.5)
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", metric=noisy).eps
    np.testing.assert_allclose(e.sources["curves"].data["ys"][1], ref, rtol=1e-12)
    assert e.message.text == ""


@pytest.mark.parametrize(("widget", "value"), [
    ("lam", -2.0), ("flip", 0.05), ("score_noise", 0.5), ("label_aware", True)])
def test_new_fields_clear_the_simulation(explorer, widget, value):
    e = explorer
    e.metric.value = PLAIN_METRIC  # takes no options: redraws stay fast
    _run_ticks(e)
    e._sims = [{"f": 1.0, "alpha_tot": 4.0, "alpha_prune": 4.0, "eps": 0.1, "eps_sem": 0.01}]
    e.fpic.value = 0.4
    _run_ticks(e)
    assert len(e._sims) == 1  # the picture's f is no simulation setting: the points stay
    if widget == "label_aware":
        e.label_aware.active = value
    else:
        getattr(e, widget).value = value
    _run_ticks(e)
    assert getattr(e.state, widget) != getattr(ex.ViewState(), widget)
    assert e._sims == []


def test_simulation_gets_lam_flip_and_the_metric_options(explorer, monkeypatch):
    from perceptron_pruning import sweep

    seen = []
    real = sweep.make_tasks

    def spy(**kw):
        seen.append(kw)
        return real(**kw)

    monkeypatch.setattr(sweep, "make_tasks", spy)
    e = explorer
    e.learner.value = "ridge"
    e.lam.value = -2.0
    e.flip.value = 0.1
    e.label_aware.active = True
    e.n.value, e.seeds.value = 20, 1
    _run_ticks(e)
    e.start_simulation()
    e._sim_thread.join(timeout=300)
    _run_ticks(e)
    assert seen and all(kw["learner"] == pp.get_learner("ridge", lam=0.01) for kw in seen)
    assert all(kw["flip"] == 0.1 for kw in seen)
    assert all(kw["metric"] == pp.get_metric("margin", label_aware=True) for kw in seen)
    assert "simulated" in e.progress.text
    # The label-aware filter keeps f p_agree of the drawn examples: the points sit there.
    sim = e.sources["sim_a"].data
    p_agree = LabelNoise(flip=0.1).p_agree(1.0)
    i = next(i for i, (f, x) in enumerate(zip(sim["f"], sim["x"])) if f == 1.0)
    assert sim["x"][i] == pytest.approx(4.0 * p_agree, rel=0.1)
    assert sim["x"][i] < 4.0


def test_max_margin_simulation_skips_unseparable_points(explorer):
    e = explorer
    e.f.value = "1"
    e.alpha_tot.value = 0.0  # alpha_tot = 1
    e.flip.value = 0.2
    e.n.value, e.seeds.value = 20, 1
    _run_ticks(e)
    assert e.message.text == "" and e.state.flip == 0.2
    e.start_simulation()
    e._sim_thread.join(timeout=300)
    _run_ticks(e)
    assert "skipped" in e.progress.text and "simulation failed" not in e.progress.text
    n = len(e.sources["sim_a"].data["x"])
    assert 1 <= n < len(ex.simulation_plan(e.state))


def test_slider_move_redraws_the_theory(explorer):
    e = explorer
    e.theta.value = 15.0
    e.theta.value = 20.0  # two events, one redraw of the newest state
    assert e.state.theta == 0.0
    _run_ticks(e)
    assert e.state.theta == 20.0
    ys = e.sources["curves"].data["ys"]
    ref = pp.theory.curve(ex.ALPHA_GRID, f=0.3, keep="hard", theta=20.0).eps
    np.testing.assert_allclose(ys[1], ref, rtol=1e-12)
    assert "theta=20" in e.url.text
    assert e.message.text == ""
    assert e.last_redraw_ms > 0 and "redrawn in" in e.timing.text


def test_bad_control_keeps_the_last_good_view(explorer):
    e = explorer
    before = list(e.sources["curves"].data["ys"][1])
    e.f.value = "2, 0.5"
    _run_ticks(e)
    assert "f must be" in e.message.text and "last good view" in e.message.text
    assert e.state.f == (1.0, 0.3)
    np.testing.assert_array_equal(e.sources["curves"].data["ys"][1], before)
    e.f.value = "0.5"  # a good value clears the message
    _run_ticks(e)
    assert e.message.text == "" and e.state.f == (0.5,)


def test_solver_failure_keeps_the_last_good_view(explorer, monkeypatch):
    e = explorer

    def boom(state):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(ex, "learning_curves", boom)
    e.theta.value = 30.0
    _run_ticks(e)
    assert "solver exploded" in e.message.text
    assert e.state.theta == 0.0


def test_url_with_bad_values_shows_a_message():
    bokeh = pytest.importorskip("bokeh.document")
    e = ex.Explorer(bokeh.Document(), {"theta": [b"500"], "keep": [b"<b>x</b>"]})
    assert "theta" in e.message.text and "keep" in e.message.text
    assert "<b>x" not in e.message.text  # escaped
    assert e.state == ex.ViewState()


def test_simulate_pushes_points_and_can_be_cancelled(explorer):
    e = explorer
    e.n.value, e.seeds.value = 20, 2
    _run_ticks(e)
    e.start_simulation()
    assert e.simulate_button.disabled and not e.cancel_button.disabled
    e._sim_thread.join(timeout=120)
    _run_ticks(e)
    plan = ex.simulation_plan(e.state)
    assert len(e.sources["sim_a"].data["x"]) == len(plan)
    assert len(e.sources["sim_b"].data["x"]) == 2  # the two f at the page's alpha_tot
    assert "simulated" in e.progress.text and not e.simulate_button.disabled
    y = np.asarray(e.sources["sim_a"].data["y"])
    assert np.all((y >= 0) & (y <= 0.5))
    # Cancel: the worker stops at the next trial, late results are dropped.
    e.seeds.value = 32
    _run_ticks(e)
    assert len(e.sources["sim_a"].data["x"]) == 0  # a new simulation setting clears points
    e.start_simulation()
    e.cancel_simulation()
    e._sim_thread.join(timeout=120)
    _run_ticks(e)
    assert "cancelled" in e.progress.text and len(e.sources["sim_a"].data["x"]) == 0


def test_buttons_answer_clicks_from_the_page(explorer):
    from bokeh.events import ButtonClick

    e = explorer
    e.doc.callbacks.trigger_event(ButtonClick(e.csv_button))
    assert e.csv_sink.text.startswith("1\n")
    e.doc.callbacks.trigger_event(ButtonClick(e.simulate_button))
    assert e._sim_thread is not None and e.simulate_button.disabled
    e.doc.callbacks.trigger_event(ButtonClick(e.cancel_button))
    e._sim_thread.join(timeout=120)
    assert "cancelled" in e.progress.text


def test_csv_export_sends_the_plotted_data(explorer):
    e = explorer
    e.export_csv()
    count, body = e.csv_sink.text.split("\n", 1)
    assert count == "1" and body == ex.view_csv(e.state)


# ----------------------------------------------------------------------------- server and CLI


def test_server_serves_on_localhost_and_survives_bad_urls():
    pytest.importorskip("bokeh")
    url, stop = ex.serve_in_thread()
    try:
        assert url.startswith("http://127.0.0.1:")
        for query in ("", "?theta=500&f=x", "?f=" + "9" * 5000, "?%ff=%00"):
            with urllib.request.urlopen(url + query, timeout=60) as resp:
                assert resp.status == 200
                assert b"bokeh" in resp.read()
    finally:
        stop()


def test_explore_without_the_extra_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "bokeh", None)
    assert main(["explore", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "perceptron-pruning[app]" in err


def test_explore_rejects_a_bad_port(capsys):
    assert main(["explore", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
