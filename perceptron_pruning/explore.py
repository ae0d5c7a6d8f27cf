"""Live explorer: ``perceptron-pruning explore`` serves a Bokeh app of the theory, for teaching.

The page state, its URL form and the data of each plot are plain functions in
:mod:`perceptron_pruning.explore_view` (re-exported here); this module only turns them into
widgets and figures (:class:`Explorer`, :func:`make_document`, :func:`make_server`,
:func:`serve`). Bokeh is imported inside them, so the plain layer works without the ``[app]``
extra.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

from .explore_view import (  # noqa: F401 - re-exported: the public face of the explorer
    ALPHA_GRID,
    KEEP_RULES,
    LIMITS,
    MAX_F_VALUES,
    SEPARABLE_ONLY,
    ViewState,
    _capacity,
    _curve_eps,
    _eps_vs_f,
    _r,
    check_state,
    eligible_fraction,
    eps_at_budget,
    f_colors,
    kept_picture,
    learner_of,
    learning_curves,
    metric_of,
    parse_bool,
    parse_f,
    parse_state,
    shown_controls,
    simulation_plan,
    takes_option,
    takes_score,
    to_query,
    view_csv,
)
from .metrics.margin import SCORES

__all__ = ["ALPHA_GRID", "Explorer", "ViewState", "check_state", "eps_at_budget", "kept_picture",
           "learning_curves", "make_document", "make_server", "parse_state", "serve",
           "serve_in_thread", "simulation_plan", "to_query", "view_csv"]


# ----------------------------------------------------------------------------- Bokeh app

_SIM_KEY = ("keep", "theta", "learner", "metric", "score", "n", "seeds", "lam", "flip",
            "score_noise", "label_aware")
# Fields each panel depends on: a redraw resends a panel only when one of them changed.
_CURVE_KEY = ("keep", "theta", "f", "learner", "metric", "score", "lam", "flip", "score_noise",
              "label_aware")
_PICTURE_KEY = ("keep", "theta", "fpic", "metric", "score", "flip", "score_noise",
                "label_aware")
_LOOPBACK = ("127.0.0.1", "localhost")
_PNG_JS = """
const view = Bokeh.index.find_one(grid)
view.export().to_blob().then((blob) => {
  const a = document.createElement("a")
  a.href = URL.createObjectURL(blob)
  a.download = "perceptron-pruning-explore.png"
  document.body.appendChild(a); a.click(); a.remove()
})
"""
_CSV_JS = """
const text = cb_obj.text.slice(cb_obj.text.indexOf("\\n") + 1)
const a = document.createElement("a")
a.href = URL.createObjectURL(new Blob([text], {type: "text/csv"}))
a.download = "perceptron-pruning-explore.csv"
document.body.appendChild(a); a.click(); a.remove()
"""
_URL_JS = "window.history.replaceState(null, '', '?' + url.text)"


@functools.cache
def _pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="explore-theory")


def _html(text) -> str:
    import html

    return html.escape(str(text))


class Explorer:
    """The widgets, figures and callbacks of one browser session.

    Parameters
    ----------
    doc : bokeh.document.Document
        The session's document; the layout is added to it.
    arguments : mapping, optional
        URL query arguments (see :func:`parse_state`).

    Attributes
    ----------
    state : ViewState
        The last view drawn without error (what the page shows).
    sources : dict of str to ColumnDataSource
        The plotted data, by name (``curves``, ``frontier``, ``unpruned``, ``markers``,
        ``budget``, ``optimum``, ``sim_a``, ``sim_b``, ``picture``).
    last_redraw_ms : float
        Server time of the last redraw (theory, picture and source updates), milliseconds.
    """

    def __init__(self, doc, arguments=None):
        self.doc = doc
        state, messages = parse_state(arguments or {})
        self._pending = None
        self._scheduled = False
        self._sims: list[dict] = []
        self._sim_token = 0
        self._sim_cancel: threading.Event | None = None
        self._sim_thread: threading.Thread | None = None
        self._csv_count = 0
        self.last_redraw_ms = math.nan
        self.state = ViewState()
        self._drawn = None
        self._build_widgets(state)
        self._build_figures()
        self._build_layout()
        if not self.redraw(state):  # a URL state the solver rejects: fall back to the default
            messages.append(f"the URL's view cannot be drawn ({self._last_error}); "
                            "showing the default view")
            self._set_controls(ViewState())
            self.redraw(ViewState())
        self._connect()
        self.show_message("\n".join(messages))
        doc.on_session_destroyed(lambda _ctx: self.cancel_simulation())

    # ------------------------------------------------------------------ construction
    def _build_widgets(self, s):
        from bokeh.models import (
            Button,
            Checkbox,
            Div,
            RadioButtonGroup,
            Select,
            Slider,
            Spinner,
            TextInput,
        )
        from bokeh.models.formatters import CustomJSTickFormatter

        from .registry import learner_names, metric_names

        self.keep = RadioButtonGroup(labels=list(KEEP_RULES), name="keep")
        self.f = TextInput(title="kept fractions f (the curves of panel a)", name="f")
        self.theta = Slider(title="probe angle theta (degrees)", start=0, end=90, step=0.5,
                            value=0, name="theta")
        lo, hi = (math.log10(x) for x in LIMITS["alpha_tot"])
        self.alpha_tot = Slider(title="alpha_tot (panel b)", start=lo, end=hi, step=0.05,
                                value=1, name="alpha_tot", format=CustomJSTickFormatter(
                                    code="return (10**tick).toPrecision(3)"))
        self.fpic = Slider(title="f in the picture (panel c)", start=0.05, end=1, step=0.05,
                           value=0.3, name="fpic")
        self.flip = Slider(title="label flip probability", start=LIMITS["flip"][0],
                           end=LIMITS["flip"][1], step=0.01, value=0, name="flip")
        self.learner = Select(title="learner", options=list(learner_names()), name="learner")
        # Shown for a learner with a ridge penalty (svm, logistic, ridge); a log10 slider.
        lo, hi = (math.log10(x) for x in LIMITS["lam"])
        self.lam = Slider(title="ridge penalty lam", start=lo, end=hi, step=0.25, value=-1,
                          name="lam", format=CustomJSTickFormatter(
                              code="return (10**tick).toPrecision(2)"))
        self.metric = Select(title="metric", options=list(metric_names()), name="metric")
        # Shown for a metric with a score option (the margin metric: |t| or y t).
        self.score = RadioButtonGroup(labels=list(SCORES), name="score")
        self.score_label = Div(text="score: rank by |J_probe.x| (abs) or y J_probe.x (signed)")
        # Shown for a metric with these options (the margin metric).
        self.score_noise = Slider(
            title="score noise sigma_s (theory: seconds per redraw)",
            start=LIMITS["score_noise"][0], end=LIMITS["score_noise"][1], step=0.1, value=0,
            name="score_noise")
        self.label_aware = Checkbox(label="label-aware: drop labels that disagree with the probe",
                                    active=False, name="label_aware")
        self.n = Spinner(title="simulation N", low=LIMITS["n"][0], high=LIMITS["n"][1], step=10,
                         value=100, name="n", width=120)
        self.seeds = Spinner(title="seeds per point", low=LIMITS["seeds"][0],
                             high=LIMITS["seeds"][1], step=1, value=4, name="seeds", width=120)
        self.simulate_button = Button(label="simulate", button_type="primary", name="simulate")
        self.cancel_button = Button(label="cancel", disabled=True, name="cancel")
        self.progress = Div(text="", name="progress", width=280, height=20)
        self.png_button = Button(label="PNG", name="png", width=80)
        self.csv_button = Button(label="CSV", name="csv", width=80)
        self.message = Div(text="", name="message", width=280,
                           styles={"color": "#b00020", "font-weight": "bold"})
        self.status = Div(text="", name="status", width=280, height=40)
        self.timing = Div(text="", name="timing", width=280, height=16,
                          styles={"color": "#666666"})
        self.url = Div(text="", visible=False, name="url")
        self.csv_sink = Div(text="", visible=False, name="csv_sink")
        # Event callbacks go on before the widgets join the document: Bokeh subscribes a
        # model's events when it is attached, not when a callback is added later.
        self.simulate_button.on_click(self.start_simulation)
        self.cancel_button.on_click(self.cancel_simulation)
        self.csv_button.on_click(self.export_csv)
        self._set_controls(s)

    def _set_controls(self, s):
        self.keep.active = KEEP_RULES.index(s.keep)
        self.f.value = ", ".join(f"{x:g}" for x in s.f)
        self.theta.value = s.theta
        self.alpha_tot.value = math.log10(s.alpha_tot)
        self.fpic.value = s.fpic
        self.flip.value = s.flip
        self.learner.value = s.learner
        self.lam.value = math.log10(s.lam)
        self.metric.value = s.metric
        self.score.active = SCORES.index(s.score)
        self.score_noise.value = s.score_noise
        self.label_aware.active = s.label_aware
        self._show_controls(s.learner, s.metric)
        self.n.value = s.n
        self.seeds.value = s.seeds

    def _show_controls(self, learner, metric):
        """Show the controls of the options the learner and metric take, hide the others."""
        shown = shown_controls(ViewState(learner=learner, metric=metric))
        self.score.visible = self.score_label.visible = shown["score"]
        for name in ("lam", "score_noise", "label_aware"):
            getattr(self, name).visible = shown[name]

    def _build_figures(self):
        from bokeh.models import ColumnDataSource, LinearColorMapper, Span, Whisker
        from bokeh.plotting import figure

        src = {name: ColumnDataSource(name=name) for name in
               ("curves", "frontier", "unpruned", "markers", "budget", "optimum", "sim_a",
                "sim_b", "picture", "probe")}
        self.sources = src
        empty_sim = {"x": [], "y": [], "lower": [], "upper": [], "color": [], "f": []}
        src["sim_a"].data = dict(empty_sim)
        src["sim_b"].data = dict(empty_sim)
        opts = {"width": 460, "height": 340, "tools": "pan,wheel_zoom,box_zoom,reset,save"}
        a = figure(x_axis_type="log", y_axis_type="log", name="panel_a",
                   x_axis_label="alpha_prune = P/N (examples kept per dimension)",
                   y_axis_label="test error eps", title="(a) learning curves", **opts)
        a.multi_line("xs", "ys", color="color", line_width=2, legend_field="label",
                     source=src["curves"])
        a.line("x", "y", color="black", line_dash="dashed", line_width=2,
               legend_label="Pareto frontier", source=src["frontier"])
        a.line("x", "y", color="#777777", line_dash="dotted", line_width=2,
               legend_label="unpruned (all data)", source=src["unpruned"])
        a.scatter("x", "y", color="color", size=9, marker="diamond", source=src["markers"])
        a.scatter("x", "y", color="color", size=7, line_color="black", source=src["sim_a"],
                  legend_label="simulation")
        a.add_layout(Whisker(base="x", lower="lower", upper="upper", source=src["sim_a"]))
        a.legend.location = "bottom_left"
        a.legend.label_text_font_size = "9pt"
        b = figure(x_axis_type="log", y_axis_type="log", name="panel_b",
                   x_axis_label="f (fraction kept)", y_axis_label="test error eps",
                   title="(b) error against f at fixed alpha_tot", **opts)
        b.line("x", "y", color="#333333", line_width=2, source=src["budget"])
        b.scatter(x="f", y="y", color="color", size=9, marker="diamond", source=src["markers"])
        b.scatter("x", "y", marker="star", size=16, color="#d62728", source=src["optimum"],
                  legend_label="optimal f")
        b.scatter("x", "y", color="color", size=7, line_color="black", source=src["sim_b"])
        b.add_layout(Whisker(base="x", lower="lower", upper="upper", source=src["sim_b"]))
        self.all_data_span = Span(dimension="width", line_dash="dotted", line_color="#777777",
                                  line_width=2, location=0.5)
        b.add_layout(self.all_data_span)
        b.legend.location = "top_left"
        c = figure(name="panel_c", match_aspect=True, x_range=(-3.2, 3.2), y_range=(-3.2, 3.2),
                   x_axis_label="teacher field u", y_axis_label="probe field orthogonal to u",
                   title="(c) kept examples", **opts)
        kinds = LinearColorMapper(palette=["#bbbbbb", "#1f77b4", "#d62728"], low=0, high=2)
        c.scatter("u", "w", color={"field": "kind", "transform": kinds}, alpha=0.7, size=4,
                  source=src["picture"])
        c.add_layout(Span(dimension="height", location=0, line_color="black"))
        c.line("x", "y", color="#ff7f0e", line_width=3, source=src["probe"],
               legend_label="probe direction")
        c.legend.location = "top_left"
        self.figures = (a, b, c)

    def _build_layout(self):
        from bokeh.layouts import column, gridplot, row
        from bokeh.models import CustomJS, Div, SaveTool

        a, b, c = self.figures
        self.grid = gridplot([[a, b], [c, None]], toolbar_location="right")
        self.grid.name = "grid"
        for tool in self.grid.toolbar.tools:
            if isinstance(tool, SaveTool):
                tool.filename = "perceptron-pruning-explore"
        self.png_button.js_on_event("button_click", CustomJS(args={"grid": self.grid},
                                                              code=_PNG_JS))
        self.csv_sink.js_on_change("text", CustomJS(code=_CSV_JS))
        self.url.js_on_change("text", CustomJS(args={"url": self.url}, code=_URL_JS))
        self.doc.js_on_event("document_ready", CustomJS(args={"url": self.url}, code=_URL_JS))
        controls = column(
            Div(text="<h3 style='margin:0'>perceptron-pruning explorer</h3>"),
            Div(text="keep"), self.keep, self.f, self.theta, self.alpha_tot, self.fpic,
            self.flip, self.learner, self.lam, self.metric, self.score_label, self.score,
            self.score_noise, self.label_aware, self.message, self.status, self.timing,
            Div(text="<b>simulation</b> (finite N, mean &plusmn; s.e.m.)"),
            row(self.n, self.seeds), row(self.simulate_button, self.cancel_button),
            self.progress, Div(text="<b>export</b> (the address bar holds this view)"),
            row(self.png_button, self.csv_button), self.url, self.csv_sink, width=300)
        self.layout = row(controls, self.grid, name="layout")
        self.doc.add_root(self.layout)
        self.doc.title = "perceptron-pruning explorer"

    def _connect(self):
        self.keep.on_change("active", self._changed)
        self.score.on_change("active", self._changed)
        self.label_aware.on_change("active", self._changed)
        for w in (self.f, self.theta, self.alpha_tot, self.fpic, self.learner, self.metric,
                  self.n, self.seeds, self.lam, self.flip, self.score_noise):
            w.on_change("value", self._changed)

    # ------------------------------------------------------------------ state and redraw
    def controls_state(self) -> ViewState:
        """The state the controls ask for (raises ``ValueError`` for a bad value)."""
        active = self.keep.active if self.keep.active is not None else 0
        score = SCORES[self.score.active if self.score.active is not None else 0]
        self._show_controls(self.learner.value, self.metric.value)
        return check_state(ViewState(
            keep=KEEP_RULES[active], f=self.f.value, theta=self.theta.value,
            alpha_tot=10.0 ** float(self.alpha_tot.value), learner=self.learner.value,
            metric=self.metric.value, score=score, fpic=self.fpic.value,
            n=self.n.value if self.n.value is not None else math.nan,
            seeds=self.seeds.value if self.seeds.value is not None else math.nan,
            lam=10.0 ** float(self.lam.value), flip=self.flip.value,
            score_noise=self.score_noise.value, label_aware=bool(self.label_aware.active)))

    def _changed(self, _attr, _old, _new):
        try:
            self._pending = self.controls_state()
        except ValueError as exc:
            self.show_message(f"{exc}; showing the last good view")
            return
        # Coalesce: events that arrive while a redraw runs end in one redraw of the newest state.
        if not self._scheduled:
            self._scheduled = True
            self.doc.add_next_tick_callback(self._flush)

    def _flush(self):
        self._scheduled = False
        state, self._pending = self._pending, None
        if state is not None:
            self.redraw(state)

    def show_message(self, text):
        """Show ``text`` (escaped, one line per line) in the page's message; "" clears it."""
        self.message.text = "<br>".join(_html(line) for line in str(text).splitlines())

    def redraw(self, state: ViewState) -> bool:
        """Draw ``state``; on any error keep the last good view and show a message."""
        import time

        t0 = time.perf_counter()
        try:
            state = check_state(state)
            # The two panels' solves run side by side (the kernels release the GIL).
            pending = _pool().submit(eps_at_budget, state)
            curves = learning_curves(state)
            pic = kept_picture(state)
            budget = pending.result()
        except Exception as exc:  # noqa: BLE001 - whatever fails, the page keeps working
            self._last_error = exc
            self.show_message(f"cannot draw this view: {exc}; showing the last good view")
            return False
        if any(getattr(state, k) != getattr(self.state, k) for k in _SIM_KEY):
            self.cancel_simulation()
            self._sims = []
        self.state = state
        self._curves, self._budget = curves, budget
        self._update_sources(state, curves, budget, pic)
        self.url.text = to_query(state)
        self.show_message("")
        self.last_redraw_ms = 1e3 * (time.perf_counter() - t0)
        self.timing.text = f"redrawn in {self.last_redraw_ms:.0f} ms (server)"
        return True

    def _update_sources(self, s, curves, budget, pic):
        src = self.sources
        colors = dict(zip(curves["f"], curves["colors"]))
        # Only what changed goes to the browser: moving alpha_tot resends panel (b) alone.
        drawn, self._drawn = self._drawn, s

        def same(*keys):
            return drawn is not None and all(getattr(drawn, k) == getattr(s, k) for k in keys)

        if not same(*_CURVE_KEY):
            self._update_curves(s, curves)
        if not same(*_PICTURE_KEY):
            src["picture"].data = {"u": pic["u"], "w": pic["w"],
                                   "kind": np.where(pic["kept"], 1 + (pic["y"] < 0), 0)}
            p = pic["probe"]
            src["probe"].data = {"x": [0.0, 2.8 * p[0]], "y": [0.0, 2.8 * p[1]]}
            extra = "".join([f", flip {s.flip:g}" if s.flip else "",
                             ", label-aware" if metric_of(s).options().get("label_aware")
                             else ""])
            self.figures[2].title.text = (f"(c) keep {s.keep}, f = {s.fpic:g}{extra}: kept "
                                          f"examples (coloured by label)")
        src["markers"].data = {"x": budget["alpha_prune_marked"], "f": budget["f_marked"],
                               "y": budget["eps_marked"],
                               "color": [colors[f] for f in budget["f_marked"]]}
        src["budget"].data = {"x": budget["f"], "y": budget["eps"]}
        src["optimum"].data = {"x": [budget["f_opt"]], "y": [budget["eps_opt"]]}
        all_fits = math.isfinite(budget["eps_all"])
        self.all_data_span.visible = all_fits
        if all_fits:
            self.all_data_span.location = budget["eps_all"]
        self.figures[1].title.text = f"(b) error against f at alpha_tot = {s.alpha_tot:.3g}"
        verdict = ("less data wins" if budget["less_data_wins"]
                   else "keeping all the data is best")
        with_all = (f"{budget['eps_all']:.4g} with all data" if all_fits else
                    f"no {s.learner} solution with all data: not separable")
        self.status.text = (f"at alpha_tot = {s.alpha_tot:.3g}: optimal f = "
                            f"{budget['f_opt']:.3g} (eps {budget['eps_opt']:.4g} vs "
                            f"{with_all}): <b>{verdict}</b>")
        self._update_sims()

    def _update_curves(self, s, curves):
        src, ap = self.sources, curves["alpha_prune"]
        src["curves"].data = {"xs": [ap] * len(s.f), "ys": list(curves["eps"]),
                              "color": curves["colors"], "f": list(curves["f"]),
                              "label": [f"f = {f:g}" for f in s.f]}
        src["frontier"].data = {"x": ap, "y": curves["frontier"], "f": curves["f_best"]}
        src["unpruned"].data = {"x": ap, "y": curves["unpruned"]}
        cut = (f"; {s.learner} curves end where the noisy data stop being separable"
               if np.isnan(curves["eps"]).any() else "")
        self.figures[0].title.text = (f"(a) keep {s.keep}, theta = {s.theta:g} deg: learning "
                                      f"curves, frontier, unpruned{cut}")

    def _update_sims(self):
        colors = dict(zip(self._curves["f"], self._curves["colors"]))
        at = self.state.alpha_tot
        for name, pts, x in (("sim_a", self._sims, "alpha_prune"),
                             ("sim_b", [p for p in self._sims if p["alpha_tot"] == at], "f")):
            y = np.array([p["eps"] for p in pts], dtype=float)
            sem = np.array([p["eps_sem"] for p in pts], dtype=float)
            self.sources[name].data = {
                "x": [p[x] for p in pts], "y": y, "f": [p["f"] for p in pts],
                "lower": np.maximum(y - sem, 0.5 * y), "upper": y + sem,
                "color": [colors.get(p["f"], "#999999") for p in pts]}

    # ------------------------------------------------------------------ simulation
    def start_simulation(self):
        """Start simulating :func:`simulation_plan` in a background thread."""
        self.cancel_simulation()
        state, plan = self.state, simulation_plan(self.state)
        self._sim_token += 1
        cancel = threading.Event()
        self._sim_cancel = cancel
        self._sims = [p for p in self._sims if (p["f"], p["alpha_tot"]) not in plan]
        self._update_sims()
        self.simulate_button.disabled = True
        self.cancel_button.disabled = False
        self._show_progress(0, len(plan) * state.seeds)
        self._sim_thread = threading.Thread(
            target=self._sim_worker, args=(self._sim_token, cancel, state, plan), daemon=True,
            name="explore-simulate")
        self._sim_thread.start()

    def cancel_simulation(self):
        """Ask a running simulation to stop after its current trial."""
        if self._sim_cancel is not None:
            self._sim_cancel.set()
            self._sim_cancel = None
            self._sim_token += 1  # results still in flight are dropped
            self.simulate_button.disabled = False
            self.cancel_button.disabled = True
            self.progress.text = "simulation cancelled"

    def _push(self, callback):
        try:
            self.doc.add_next_tick_callback(callback)
        except Exception:  # noqa: BLE001 - the session has closed
            pass

    def _sim_worker(self, token, cancel, state, plan):
        from .sweep import aggregate, make_tasks, run_sweep

        total, done, skipped = len(plan) * state.seeds, 0, []
        # Max-margin on noisy labels: a sample that is not separable has no student; such a
        # point is skipped (and reported), the others are still simulated.
        may_fail = state.learner in SEPARABLE_ONLY and state.flip > 0.0
        try:
            for f, at in plan:
                tasks = make_tasks(n=state.n, alpha_tot=at, f=f, keep=state.keep,
                                   theta=state.theta, learner=learner_of(state),
                                   metric=metric_of(state), flip=state.flip,
                                   replicates=state.seeds, seed=0)
                trials, start = [], done
                try:
                    for task in tasks:  # one trial at a time, so cancel answers quickly
                        if cancel.is_set():
                            return
                        trials += run_sweep([task], progress=False)
                        done += 1
                        self._push(functools.partial(self._show_progress, done, total, token))
                except ValueError as exc:
                    if not may_fail:
                        raise
                    skipped.append(f"f = {f:g}, alpha_tot = {at:g}: {str(exc)[:120]}")
                    done = start + len(tasks)
                    self._push(functools.partial(self._show_progress, done, total, token))
                    continue
                (res,) = aggregate(trials)
                point = {"f": f, "alpha_tot": at, "alpha_prune": float(res.alpha_prune),
                         "eps": float(res.eps_mean), "eps_sem": float(res.eps_sem)}
                self._push(functools.partial(self._sim_point, token, point))
            self._push(functools.partial(self._sim_done, token, None, skipped))
        except Exception as exc:  # noqa: BLE001 - reported in the page
            self._push(functools.partial(self._sim_done, token, str(exc)))

    def _show_progress(self, done, total, token=None):
        if token is not None and token != self._sim_token:
            return
        self.progress.text = (f"<progress value='{done}' max='{total}'></progress> "
                              f"{done}/{total} trials")

    def _sim_point(self, token, point):
        if token == self._sim_token:
            self._sims.append(point)
            self._update_sims()

    def _sim_done(self, token, error, skipped=()):
        if token != self._sim_token:
            return
        self._sim_cancel = None
        self.simulate_button.disabled = False
        self.cancel_button.disabled = True
        if error:
            self.progress.text = _html(f"simulation failed: {error}")
        else:
            text = f"simulated {len(self._sims)} points (N = {self.state.n})"
            if skipped:
                text += (f"; skipped {len(skipped)} with no {self.state.learner} solution "
                         f"(first: {skipped[0]})")
            self.progress.text = _html(text)

    # ------------------------------------------------------------------ export
    def export_csv(self):
        """Send the plotted data to the browser as a CSV download."""
        self._csv_count += 1
        self.csv_sink.text = f"{self._csv_count}\n" + view_csv(
            self.state, curves=self._curves, budget=self._budget, sims=self._sims)


def make_document(doc):
    """Bokeh application function: build the explorer in ``doc`` from the URL's arguments."""
    ctx = doc.session_context
    request = getattr(ctx, "request", None) if ctx is not None else None
    arguments = dict(request.arguments) if request is not None else {}
    Explorer(doc, arguments)


def _free_port(host) -> int:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def make_server(*, port=5006, host="127.0.0.1", io_loop=None):
    """A Bokeh server for the explorer (not started).

    Parameters
    ----------
    port : int, default 5006
        TCP port; 0 picks a free one (``server.port`` tells which).
    host : str, default "127.0.0.1"
        Address to listen on. Loopback by default: other machines cannot connect unless
        ``host`` says so (e.g. ``0.0.0.0``), and then any origin may open the page.
    io_loop : tornado.ioloop.IOLoop, optional
        Loop to run on (default: the current one).

    Returns
    -------
    bokeh.server.server.Server
    """
    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import Server

    if port == 0:
        port = _free_port(host)
    if host in _LOOPBACK:
        origins = [f"localhost:{port}", f"127.0.0.1:{port}"]
    else:
        origins = ["*"]
    # Warm the caches and the compiled kernels, so the first page answers at full speed.
    learning_curves(ViewState())
    eps_at_budget(ViewState())
    return Server({"/": Application(FunctionHandler(make_document))}, port=port, address=host,
                  allow_websocket_origin=origins, io_loop=io_loop, num_procs=1)


def serve(*, port=5006, host="127.0.0.1", open_browser=True) -> None:
    """Serve the explorer until interrupted (Ctrl-C), optionally opening a browser tab."""
    server = make_server(port=port, host=host)
    server.start()
    shown = f"[{host}]" if ":" in host else host
    print(f"perceptron-pruning explorer at http://{shown}:{server.port}/ (Ctrl-C to stop)",
          flush=True)
    if open_browser:
        server.io_loop.add_callback(server.show, "/")
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def serve_in_thread(*, port=0, host="127.0.0.1"):
    """Run the explorer's server on a background thread (for notebooks, tests, benchmarks).

    Returns
    -------
    url : str
        The page's address.
    stop : callable
        Stops the server and its thread.
    """
    import asyncio

    from tornado.ioloop import IOLoop

    ready, box = threading.Event(), {}

    def run():
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        try:
            server = make_server(port=port, host=host, io_loop=loop)
            server.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
            ready.set()
            return
        box.update(server=server, loop=loop)
        ready.set()
        loop.start()
        server.stop()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, daemon=True, name="explore-server")
    thread.start()
    ready.wait()
    if "error" in box:
        raise box["error"]

    def stop():
        box["loop"].add_callback(box["loop"].stop)
        thread.join(timeout=30)

    return f"http://{host}:{box['server'].port}/", stop
