"""The explorer's page state and plot data: plain functions, no web framework.

Everything here can be checked without a browser or Bokeh: the page state and its URL form
(:class:`ViewState`, :func:`parse_state`, :func:`to_query`), the data of each plot
(:func:`learning_curves`, :func:`eps_at_budget`, :func:`kept_picture`,
:func:`simulation_plan`) and the CSV export (:func:`view_csv`). Solved theory curves are cached
(``functools.lru_cache`` keyed on parameters rounded to six significant digits), so a slider
moved back and forth answers from memory. :mod:`perceptron_pruning.explore` turns them into a
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

from ._validation import KEEP_RULES, check_int, check_real
from .metrics.margin import SCORES

__all__ = ["ALPHA_GRID", "LIMITS", "MAX_F_VALUES", "ViewState", "check_state", "eps_at_budget",
           "kept_picture", "learning_curves", "metric_of", "parse_f", "parse_state",
           "simulation_plan", "takes_score", "to_query", "view_csv"]

#: ``alpha_prune`` grid of the learning curves (panel a).
ALPHA_GRID = np.geomspace(0.1, 1000.0, 40)
#: Range of each numeric parameter of the page.
LIMITS = {"theta": (0.0, 90.0), "alpha_tot": (0.1, 1000.0), "f": (0.01, 1.0),
          "fpic": (0.01, 1.0), "n": (10, 400), "seeds": (1, 32)}
MAX_F_VALUES = 8
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


def _real(name, value):
    lo, hi = LIMITS[name]
    return float(f"{check_real(name, value, low=lo, high=hi):.6g}")


def _int(name, value):
    lo, hi = LIMITS[name]
    return check_int(name, check_real(name, value, low=lo, high=hi), minimum=lo, maximum=hi)


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
        n=_int("n", state.n), seeds=_int("seeds", state.seeds))


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


def takes_score(metric_name) -> bool:
    """Whether the registered metric ``metric_name`` has a ``score`` option."""
    from .registry import get_metric

    return "score" in get_metric(metric_name).options()


def metric_of(state: ViewState):
    """The metric instance the page draws: its name, with ``score`` when it takes one."""
    from .registry import get_metric

    if takes_score(state.metric):
        return get_metric(state.metric, score=state.score)
    return get_metric(state.metric)


def to_query(state: ViewState) -> str:
    """URL query string of ``state`` (:func:`parse_state` reads it back)."""
    d = dataclasses.asdict(state)
    d["f"] = ",".join(f"{x:g}" for x in state.f)
    return urlencode({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in d.items()},
                     safe=",")


# ----------------------------------------------------------------------------- plot data


def _r(x) -> float:
    return float(f"{float(x):.6g}")


@functools.lru_cache(maxsize=4096)
def _curve_eps(f, keep, theta, learner, metric):
    from .theory import curve

    eps = curve(ALPHA_GRID, f=f, keep=keep, theta=theta, learner=learner, metric=metric).eps
    eps = np.array(eps, dtype=float)
    eps.flags.writeable = False
    return eps


@functools.lru_cache(maxsize=4096)
def _eps_vs_f(alpha_tot, fs, keep, theta, learner, metric):
    from .frontier import eps_vs_f

    eps = eps_vs_f(alpha_tot, list(fs), keep=keep, theta=theta, learner=learner, metric=metric)
    eps = np.array(eps, dtype=float)
    eps.flags.writeable = False
    return eps


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
        ``unpruned`` (K,) (the ``f = 1`` curve), ``colors`` (F,).
    """
    key = (state.keep, _r(state.theta), state.learner, metric_of(state))
    eps = np.vstack([_curve_eps(_r(f), *key) for f in state.f])
    k = np.argmin(eps, axis=0)
    return {"alpha_prune": ALPHA_GRID, "f": np.array(state.f), "eps": eps,
            "frontier": eps[k, np.arange(ALPHA_GRID.size)], "f_best": np.array(state.f)[k],
            "unpruned": _curve_eps(1.0, *key), "colors": f_colors(state.f)}


def budget_f_grid(state: ViewState) -> np.ndarray:
    """Kept fractions of panel (b): 13 log-spaced in [0.01, 1] plus the chosen ones."""
    grid = np.geomspace(LIMITS["f"][0], 1.0, 13)
    return np.unique(np.round(np.concatenate([grid, state.f]), 6))


def eps_at_budget(state: ViewState, *, rtol=1e-9) -> dict:
    """Panel (b): ``eps(f)`` at fixed ``alpha_tot``, the optimal ``f`` and whether it beats f = 1.

    Returns
    -------
    dict
        ``f`` (M,), ``eps`` (M,), ``f_opt``, ``eps_opt``, ``eps_all`` (error with all the data),
        ``less_data_wins`` (bool), ``f_marked`` / ``eps_marked`` (the chosen fractions).
        On a plateau of ties (within ``rtol``) the smallest ``f`` is the optimum.
    """
    fs = budget_f_grid(state)
    eps = _eps_vs_f(_r(state.alpha_tot), tuple(float(x) for x in fs), state.keep,
                    _r(state.theta), state.learner, metric_of(state))
    i = int(np.argmin(eps))
    j = int(np.flatnonzero(eps <= eps[i] * (1.0 + rtol)).min())
    eps_all = float(eps[-1])  # the grid ends at f = 1
    marked = np.searchsorted(fs, np.round(state.f, 6))
    return {"f": fs, "eps": eps, "f_opt": float(fs[j]), "eps_opt": float(eps[j]),
            "eps_all": eps_all, "less_data_wins": bool(eps[j] < eps_all * (1.0 - rtol)),
            "f_marked": fs[marked], "eps_marked": eps[marked]}


def kept_picture(state: ViewState, *, points=1200, seed=0) -> dict:
    """Panel (c): Gaussian examples in the teacher/probe plane, marked kept or pruned.

    The metric selects a fraction ``fpic`` of ``points`` examples whose teacher field is ``u``
    (horizontal axis) and whose field along the probe's component orthogonal to the teacher is
    ``w`` (vertical axis); the probe points at ``theta`` degrees from the teacher.

    Returns
    -------
    dict
        ``u``, ``w``, ``y`` (labels), ``kept`` (bool) of shape (points,), ``probe`` (2,).
    """
    from .data import probe_cos_sin
    from .metrics import Fields

    rng = np.random.default_rng(seed)
    u, w = rng.standard_normal((2, points))
    c, s = probe_cos_sin(state.theta)
    y = np.where(u >= 0, 1.0, -1.0)
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
    out = io.StringIO()
    out.write(f"# perceptron-pruning explore: {to_query(state)}\n")
    out.write("panel,series,f,alpha_prune,alpha_tot,eps,eps_sem\n")

    def row(panel, series, f, ap, eps, sem=math.nan):
        at = ap / f if f > 0 else math.nan
        out.write(f"{panel},{series},{f:.6g},{ap:.8g},{at:.8g},{eps:.10g},{sem:.6g}\n")

    ap = curves["alpha_prune"]
    for f, eps in zip(curves["f"], curves["eps"]):
        for a, e in zip(ap, eps):
            row("a", "theory", f, a, e)
    for a, e, fb in zip(ap, curves["frontier"], curves["f_best"]):
        row("a", "pareto_frontier", fb, a, e)
    for a, e in zip(ap, curves["unpruned"]):
        row("a", "unpruned", 1.0, a, e)
    for f, e in zip(budget["f"], budget["eps"]):
        row("b", "theory", f, f * state.alpha_tot, e)
    row("b", "optimal_f", budget["f_opt"], budget["f_opt"] * state.alpha_tot, budget["eps_opt"])
    for s in sims:
        row("a" if s["alpha_tot"] != state.alpha_tot else "ab", "simulation", s["f"],
            s["alpha_prune"], s["eps"], s["eps_sem"])
    return out.getvalue()
