"""The explorer's page state and plot data: plain functions, no web framework.

Everything here can be checked without a browser or Bokeh: the page state and its URL form
(:class:`ViewState`, :func:`parse_state`, :func:`to_query`), the data of each plot
(:func:`learning_curves`, :func:`eps_at_budget`, :func:`kept_picture`,
:func:`simulation_plan`), which optional controls a state shows (:func:`shown_controls`) and the
CSV export (:func:`view_csv`). Solved theory curves are cached (``functools.lru_cache`` keyed on
parameters rounded to six significant digits), so a slider moved back and forth answers from
memory. :mod:`perceptron_pruning.explore` turns them into a
Bokeh app.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from ._validation import check_int, check_real
from .metrics.margin import SCORES, ProbeMargin

# The explorer's rules: the margin metric's (soft selection, keep "uncertainty", has its own
# metric and options and is not among its controls).
KEEP_RULES = ProbeMargin.keeps

__all__ = ["ALPHA_GRID", "KEEP_RULES", "LIMITS", "MAX_F_VALUES", "OPTIONAL_CONTROLS",
           "SEPARABLE_ONLY", "ViewState", "check_state", "eligible_fraction", "eps_at_budget",
           "kept_picture",
           "learner_of", "learning_curves", "metric_of", "parse_bool", "parse_f", "parse_state",
           "shown_controls", "simulation_plan", "takes_option", "takes_score", "to_query",
           "view_csv"]

#: ``alpha_prune`` grid of the learning curves (panel a).
ALPHA_GRID = np.geomspace(0.1, 1000.0, 40)
#: Range of each numeric parameter of the page.
LIMITS = {"theta": (0.0, 90.0), "alpha_tot": (0.1, 1000.0), "f": (0.01, 1.0),
          "fpic": (0.01, 1.0), "n": (10, 400), "seeds": (1, 32), "lam": (0.001, 1.0),
          "flip": (0.0, 0.4), "score_noise": (0.0, 2.0)}
MAX_F_VALUES = 8
#: Page fields that are plug-in options, by plug-in kind: a control is shown only when the
#: chosen learner or metric takes the option (the state keeps its value either way).
OPTIONAL_CONTROLS = {"lam": "learner", "score": "metric", "score_noise": "metric",
                     "label_aware": "metric"}
#: Learners whose solution exists only on separable data (theory refuses beyond the capacity
#: that label noise puts on the kept law; the fit raises on non-separable samples).
SEPARABLE_ONLY = ("max-margin",)
_SIM_ALPHA_PRUNE = (1.0, 3.0, 10.0, 30.0)  # simulated along each curve, besides alpha_tot


# ----------------------------------------------------------------------------- page state


@dataclass(frozen=True)
class ViewState:
    """Everything the page shows; its URL query holds the same fields.

    Attributes
    ----------
    keep : {"hard", "easy", "random"}
        Pruning rule.
    f : tuple of float
        Kept fractions drawn in the learning curves (1 to 8 values in [0.01, 1], sorted
        decreasing); the Pareto frontier is their lower envelope.
    theta : float
        Probe angle to the teacher in degrees, [0, 90].
    alpha_tot : float
        Examples drawn per dimension for the error-against-``f`` panel, [0.1, 1000].
    learner, metric : str
        Registered plug-in names.
    score : {"abs", "signed"}
        Ranking score of a metric that takes one (the margin metric); ignored by others.
    fpic : float
        Kept fraction of the kept-examples picture, [0.01, 1].
    n : int
        Simulation dimension ``N``, [10, 400].
    seeds : int
        Simulation seeds per point, [1, 32].
    lam : float
        Ridge penalty of a learner that takes one (svm, logistic, ridge), [0.001, 1]; ignored
        by others.
    flip : float
        Label flip probability, [0, 0.4] (theory, picture and simulation). Max-margin has no
        solution once the kept noisy data stop being separable: its curves end at the capacity.
    score_noise : float
        Score noise ``sigma_s`` of a metric that takes it (the margin metric), [0, 2]; ignored
        by others. Its theory is much slower (seconds per redraw, not tens of milliseconds).
    label_aware : bool
        Label-aware filter of a metric that takes it (drop examples whose label disagrees with
        the probe's sign; ``f`` is then the fraction kept of the rest); ignored by others.
    """

    keep: str = "hard"
    f: tuple = (1.0, 0.5, 0.2, 0.1)
    theta: float = 0.0
    alpha_tot: float = 10.0
    learner: str = "max-margin"
    metric: str = "margin"
    score: str = "abs"
    fpic: float = 0.3
    n: int = 100
    seeds: int = 4
    lam: float = 0.1
    flip: float = 0.0
    score_noise: float = 0.0
    label_aware: bool = False


def _real(name, value):
    lo, hi = LIMITS[name]
    return float(f"{check_real(name, value, low=lo, high=hi):.6g}")


def _int(name, value):
    lo, hi = LIMITS[name]
    return check_int(name, check_real(name, value, low=lo, high=hi), minimum=lo, maximum=hi)


def parse_bool(name, value) -> bool:
    """``True``/``False`` from a bool or a URL word (``true``/``false``, ``1``/``0``,
    ``on``/``off``, ``yes``/``no``; any case); ``ValueError`` naming ``name`` otherwise.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    word = value.strip().lower() if isinstance(value, str) else None
    if word in ("true", "1", "on", "yes"):
        return True
    if word in ("false", "0", "off", "no"):
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


def parse_f(text) -> tuple:
    """Kept fractions from ``"1, 0.5, 0.2"`` (commas or spaces), sorted decreasing, unique."""
    if isinstance(text, str):
        parts = [p for p in text.replace(",", " ").split() if p]
    else:
        parts = list(np.atleast_1d(text))
    if not 1 <= len(parts) <= MAX_F_VALUES:
        raise ValueError(f"f needs 1 to {MAX_F_VALUES} values in [0.01, 1], got {text!r}")
    return tuple(sorted({_real("f", p) for p in parts}, reverse=True))


def check_state(state: ViewState) -> ViewState:
    """Validate every field; return the state with numbers rounded to 6 digits.

    Raises
    ------
    ValueError
        Naming the first bad field and its range.
    """
    from .registry import learner_names, metric_names

    if state.keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}; got {state.keep!r}")
    for name, names in (("learner", learner_names()), ("metric", metric_names())):
        if getattr(state, name) not in names:
            raise ValueError(f"{name} must be one of {', '.join(names)}; "
                             f"got {getattr(state, name)!r}")
    if state.score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}; got {state.score!r}")
    return dataclasses.replace(
        state, f=parse_f(state.f), theta=_real("theta", state.theta),
        alpha_tot=_real("alpha_tot", state.alpha_tot), fpic=_real("fpic", state.fpic),
        n=_int("n", state.n), seeds=_int("seeds", state.seeds), lam=_real("lam", state.lam),
        flip=_real("flip", state.flip), score_noise=_real("score_noise", state.score_noise),
        label_aware=parse_bool("label_aware", state.label_aware))


def parse_state(arguments, *, base: ViewState | None = None) -> tuple[ViewState, list[str]]:
    """Page state from URL query arguments; bad or unknown ones are reported and skipped.

    Parameters
    ----------
    arguments : mapping of str to str, bytes or a list of them
        Query arguments (Tornado's ``request.arguments`` gives lists of bytes; the last value
        of a repeated argument wins).
    base : ViewState, optional
        Values for the arguments that are missing or bad (default :class:`ViewState`).

    Returns
    -------
    state : ViewState
        A valid state.
    messages : list of str
        One line per argument that was not used.
    """
    state = check_state(base or ViewState())
    fields = {f.name for f in dataclasses.fields(ViewState)}
    messages = []
    for key, raw in arguments.items():
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else ""
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        if key not in fields:
            messages.append(f"unknown URL parameter {key[:40]!r} ignored")
            continue
        try:
            state = check_state(dataclasses.replace(state, **{key: raw}))
        except ValueError as exc:
            messages.append(f"URL parameter {key}={shown!r} ignored: {exc}")
    return state, messages


def takes_option(kind, name, option) -> bool:
    """Whether the registered ``kind`` (``"learner"`` or ``"metric"``) ``name`` has ``option``."""
    from .registry import get_learner, get_metric

    plugin = get_learner(name) if kind == "learner" else get_metric(name)
    return option in plugin.options()


def takes_score(metric_name) -> bool:
    """Whether the registered metric ``metric_name`` has a ``score`` option."""
    return takes_option("metric", metric_name, "score")


def shown_controls(state: ViewState) -> dict:
    """Which optional controls the page shows for ``state``: ``{field: bool}`` over
    :data:`OPTIONAL_CONTROLS` (``lam`` for a learner with a ridge penalty; ``score``,
    ``score_noise`` and ``label_aware`` for a metric with those options).
    """
    plugin = {"learner": state.learner, "metric": state.metric}
    return {field: takes_option(kind, plugin[kind], field)
            for field, kind in OPTIONAL_CONTROLS.items()}


def _options(state, kind):
    shown = shown_controls(state)
    return {k: getattr(state, k) for k, v in OPTIONAL_CONTROLS.items() if v == kind and shown[k]}


def learner_of(state: ViewState):
    """The learner instance the page draws: its name, with ``lam`` when it takes one."""
    from .registry import get_learner

    return get_learner(state.learner, **_options(state, "learner"))


def metric_of(state: ViewState):
    """The metric instance the page draws: its name, with ``score``, ``score_noise`` and
    ``label_aware`` when it takes them.
    """
    from .registry import get_metric

    return get_metric(state.metric, **_options(state, "metric"))


def to_query(state: ViewState) -> str:
    """URL query string of ``state`` (:func:`parse_state` reads it back)."""
    d = dataclasses.asdict(state)
    d["f"] = ",".join(f"{x:g}" for x in state.f)
    d["label_aware"] = "true" if state.label_aware else "false"
    return urlencode({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in d.items()},
                     safe=",")


# ----------------------------------------------------------------------------- plot data


def _r(x) -> float:
    return float(f"{float(x):.6g}")


def _frozen(eps):
    eps = np.array(eps, dtype=float)
    eps.flags.writeable = False
    return eps


def _may_be_unseparable(learner, flip) -> bool:
    return learner.name in SEPARABLE_ONLY and flip > 0.0


@functools.lru_cache(maxsize=1024)
def _capacity(f, keep, theta, metric, flip):
    from .theory import capacity

    return capacity(f=f, keep=keep, theta=theta, metric=metric, flip=flip)


@functools.lru_cache(maxsize=4096)
def _curve_eps(f, keep, theta, learner, metric, flip):
    """``eps`` along :data:`ALPHA_GRID`; NaN where a separable-only learner (max-margin) has no
    solution because label noise makes the kept data non-separable (``alpha_prune`` at or
    beyond :func:`~perceptron_pruning.theory.capacity`). Other failures propagate.
    """
    from .theory import TheoryError, curve

    kw = {"f": f, "keep": keep, "theta": theta, "learner": learner, "metric": metric,
          "flip": flip}
    try:
        return _frozen(curve(ALPHA_GRID, **kw).eps)
    except TheoryError:
        if not _may_be_unseparable(learner, flip):
            raise
        ok = ALPHA_GRID < _capacity(f, keep, theta, metric, flip)
        if ok.all():
            raise
    eps = np.full(ALPHA_GRID.size, np.nan)
    if ok.any():
        eps[ok] = curve(ALPHA_GRID[ok], **kw).eps
    return _frozen(eps)


@functools.lru_cache(maxsize=4096)
def _eps_vs_f(alpha_tot, fs, keep, theta, learner, metric, flip):
    """``eps`` at fixed ``alpha_tot`` for each ``f`` (as
    :func:`~perceptron_pruning.frontier.eps_vs_f`), NaN where max-margin has no solution.
    """
    from .noise import LabelNoise
    from .theory import TheoryError, solve

    kw = {"keep": keep, "theta": theta, "learner": learner, "metric": metric, "flip": flip}
    out = []
    for f in fs:
        try:
            out.append(solve(alpha_tot=alpha_tot, f=f, **kw).eps)
        except TheoryError:
            if not _may_be_unseparable(learner, flip):
                raise
            elig = metric.eligible_fraction(theta=theta, noise=LabelNoise(flip=flip))
            if f * elig * alpha_tot < _capacity(f, keep, theta, metric, flip):
                raise
            out.append(math.nan)
    return _frozen(out)


def _all_data(state: ViewState):
    """Curve-cache key of "all the data": every drawn example, unpruned and unfiltered (the
    library's reference, :func:`~perceptron_pruning.frontier.optimal_f`'s ``eps_unpruned``).
    A metric that keeps everything at ``f = 1`` gives it as is; a filtering one (label-aware,
    where some labels disagree with the probe) does not, and the plain margin metric stands in.
    """
    metric = metric_of(state) if eligible_fraction(state) == 1.0 else "margin"
    return (1.0, state.keep, _r(state.theta), learner_of(state), metric, state.flip)


def eligible_fraction(state: ViewState) -> float:
    """Fraction of the drawn examples the metric may keep (``p_agree`` for a label-aware one,
    else 1): ``alpha_prune = f * eligible * alpha_tot``.
    """
    from .noise import LabelNoise

    return float(metric_of(state).eligible_fraction(theta=state.theta,
                                                    noise=LabelNoise(flip=state.flip)))


def f_colors(fs) -> list[str]:
    """Viridis hex colour of each kept fraction (by rank, as in the paper figures)."""
    import matplotlib
    from matplotlib.colors import to_hex

    order = sorted(fs)
    cmap = matplotlib.colormaps["viridis"]
    return [to_hex(cmap(order.index(f) / max(1, len(order) - 1) * 0.9)) for f in fs]


def learning_curves(state: ViewState) -> dict:
    """Panel (a): ``eps(alpha_prune)`` per kept fraction, their Pareto frontier, the unpruned.

    Returns
    -------
    dict
        ``alpha_prune`` (K,), ``f`` (F,), ``eps`` (F, K), ``frontier`` (K,), ``f_best`` (K,),
        ``unpruned`` (K,) (every drawn example: ``f = 1`` and no filter, so a label-aware
        metric's ``f = 1`` curve is not it), ``colors`` (F,). With label noise, max-margin
        curves are NaN beyond the capacity (no separating student); so are the frontier and
        ``f_best`` where every curve is.
    """
    key = (state.keep, _r(state.theta), learner_of(state), metric_of(state), state.flip)
    eps = np.vstack([_curve_eps(_r(f), *key) for f in state.f])
    k = np.argmin(np.where(np.isnan(eps), np.inf, eps), axis=0)
    cols = np.arange(ALPHA_GRID.size)
    none = np.isnan(eps).all(axis=0)
    return {"alpha_prune": ALPHA_GRID, "f": np.array(state.f), "eps": eps,
            "frontier": eps[k, cols], "f_best": np.where(none, np.nan, np.array(state.f)[k]),
            "unpruned": _curve_eps(*_all_data(state)), "colors": f_colors(state.f)}


def budget_f_grid(state: ViewState) -> np.ndarray:
    """Kept fractions of panel (b): 13 log-spaced in [0.01, 1] plus the chosen ones."""
    grid = np.geomspace(LIMITS["f"][0], 1.0, 13)
    return np.unique(np.round(np.concatenate([grid, state.f]), 6))


def eps_at_budget(state: ViewState, *, rtol=1e-9) -> dict:
    """Panel (b): ``eps(f)`` at fixed ``alpha_tot``, the optimal ``f`` and whether it beats all
    the data.

    Returns
    -------
    dict
        ``f`` (M,), ``eps`` (M,), ``f_opt``, ``eps_opt``, ``eps_all`` (error with all the drawn
        data: ``f = 1`` and no filter, as ``eps_unpruned`` of
        :func:`~perceptron_pruning.frontier.optimal_f`), ``less_data_wins`` (bool),
        ``f_marked`` / ``eps_marked`` (the chosen fractions), ``alpha_prune_marked``
        (``f * eligible * alpha_tot``), ``eligible`` (:func:`eligible_fraction`). On a plateau
        of ties (within ``rtol``) the smallest ``f`` is the optimum. With label noise
        max-margin has no solution where the kept data are not separable: ``eps`` is NaN there
        (``eps_all`` too when all the data are not separable, and then any ``f`` that has a
        solution wins).

    Raises
    ------
    ValueError
        No ``f`` has a solution (max-margin on noisy labels at a large ``alpha_tot``).
    """
    fs = budget_f_grid(state)
    eps = _eps_vs_f(_r(state.alpha_tot), tuple(float(x) for x in fs), state.keep,
                    _r(state.theta), learner_of(state), metric_of(state), state.flip)
    ok = ~np.isnan(eps)
    if not ok.any():
        raise ValueError(f"{state.learner} has no solution at any f at alpha_tot = "
                         f"{state.alpha_tot:g} with flip = {state.flip:g}: the noisy kept data "
                         f"are not separable; lower alpha_tot or flip, or use a regularised "
                         f"learner")
    i = int(np.nanargmin(eps))
    j = int(np.flatnonzero(ok & (eps <= eps[i] * (1.0 + rtol))).min())
    elig = eligible_fraction(state)
    if elig == 1.0:
        eps_all = float(eps[-1])  # the grid ends at f = 1, which keeps every drawn example
    else:
        _, keep, theta, learner, metric, flip = _all_data(state)
        eps_all = float(_eps_vs_f(_r(state.alpha_tot), (1.0,), keep, theta, learner, metric,
                                  flip)[0])
    marked = np.searchsorted(fs, np.round(state.f, 6))
    wins = math.isnan(eps_all) or eps[j] < eps_all * (1.0 - rtol)
    return {"f": fs, "eps": eps, "f_opt": float(fs[j]), "eps_opt": float(eps[j]),
            "eps_all": eps_all, "less_data_wins": bool(wins),
            "f_marked": fs[marked], "eps_marked": eps[marked],
            "alpha_prune_marked": fs[marked] * elig * state.alpha_tot, "eligible": elig}


def kept_picture(state: ViewState, *, points=1200, seed=0) -> dict:
    """Panel (c): Gaussian examples in the teacher/probe plane, marked kept or pruned.

    The metric (:func:`metric_of`: score noise and the label-aware filter included) selects a
    fraction ``fpic`` of ``points`` examples (of the eligible ones, for a label-aware metric)
    whose teacher field is ``u`` (horizontal axis) and whose field along the probe's component
    orthogonal to the teacher is ``w`` (vertical axis); the probe points at ``theta`` degrees
    from the teacher. Labels are ``sign(u)``, each flipped with probability ``flip``.

    Returns
    -------
    dict
        ``u``, ``w``, ``y`` (labels), ``kept`` (bool) of shape (points,), ``probe`` (2,).
    """
    from .data import probe_cos_sin
    from .metrics import Fields
    from .noise import LabelNoise

    rng = np.random.default_rng(seed)
    u, w = rng.standard_normal((2, points))
    c, s = probe_cos_sin(state.theta)
    y = LabelNoise(flip=state.flip).labels(u, np.random.default_rng(seed + 2))
    fields = Fields(u=u, w=w, t=c * u + s * w, y=y)
    idx = metric_of(state).select(fields, f=state.fpic, keep=state.keep,
                                          rng=np.random.default_rng(seed + 1))
    kept = np.zeros(points, dtype=bool)
    kept[idx] = True
    return {"u": u, "w": w, "y": y, "kept": kept, "probe": np.array([c, s])}


def simulation_plan(state: ViewState) -> list[tuple[float, float]]:
    """``(f, alpha_tot)`` points that "simulate" runs: every chosen ``f`` at the page's
    ``alpha_tot`` first (they appear in both panels), then at ``alpha_prune`` = 1, 3, 10, 30.
    """
    plan = [(f, state.alpha_tot) for f in state.f]
    for ap in _SIM_ALPHA_PRUNE:
        for f in state.f:
            at = _r(ap / f)
            if at <= LIMITS["alpha_tot"][1] and (f, at) not in plan:
                plan.append((f, at))
    return plan


def view_csv(state: ViewState, *, curves=None, budget=None, sims=()) -> str:
    """The plotted data as CSV: one row per point, the page state in a comment line.

    Parameters
    ----------
    state : ViewState
    curves, budget : dict, optional
        From :func:`learning_curves` and :func:`eps_at_budget` (computed when missing).
    sims : iterable of dict
        Simulation points with keys ``f``, ``alpha_tot``, ``alpha_prune``, ``eps``, ``eps_sem``.
    """
    curves = learning_curves(state) if curves is None else curves
    budget = eps_at_budget(state) if budget is None else budget
    elig = budget["eligible"]  # alpha_prune = f * eligible * alpha_tot
    out = io.StringIO()
    out.write(f"# perceptron-pruning explore: {to_query(state)}\n")
    out.write("panel,series,f,alpha_prune,alpha_tot,eps,eps_sem\n")

    def row(panel, series, f, ap, eps, sem=math.nan, at=None):
        if at is None:
            at = ap / (f * elig) if f > 0 else math.nan
        out.write(f"{panel},{series},{f:.6g},{ap:.8g},{at:.8g},{eps:.10g},{sem:.6g}\n")

    ap = curves["alpha_prune"]
    for f, eps in zip(curves["f"], curves["eps"]):
        for a, e in zip(ap, eps):
            row("a", "theory", f, a, e)
    for a, e, fb in zip(ap, curves["frontier"], curves["f_best"]):
        row("a", "pareto_frontier", fb, a, e)
    for a, e in zip(ap, curves["unpruned"]):
        row("a", "unpruned", 1.0, a, e, at=a)  # every drawn example: no filter either
    at = state.alpha_tot
    for f, e in zip(budget["f"], budget["eps"]):
        row("b", "theory", f, f * elig * at, e)
    row("b", "optimal_f", budget["f_opt"], budget["f_opt"] * elig * at, budget["eps_opt"])
    for s in sims:
        row("a" if s["alpha_tot"] != at else "ab", "simulation", s["f"], s["alpha_prune"],
            s["eps"], s["eps_sem"], at=s["alpha_tot"])
    return out.getvalue()
