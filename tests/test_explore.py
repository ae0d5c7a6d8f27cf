"""The explorer without a browser: URL state, plot data, and the Bokeh document's callbacks."""

from __future__ import annotations

import csv
import io
import sys
import urllib.request

import numpy as np
import pytest

import perceptron_pruning as pp
from perceptron_pruning import explore as ex
from perceptron_pruning.cli import main

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
    ("metric", "<script>", "metric"), ("score", "sign", "score"), ("zzz", "1", "zzz")])
def test_bad_url_parameter_is_reported_and_skipped(key, value, word):
    base = ex.ViewState(theta=7.0)
    state, messages = ex.parse_state({key: [value.encode()], "fpic": "0.5"}, base=base)
    assert len(messages) == 1 and word in messages[0]
    assert state == ex.ViewState(theta=7.0, fpic=0.5)


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
