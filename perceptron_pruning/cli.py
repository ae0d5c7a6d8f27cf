"""Command-line interface: ``perceptron-pruning SUBCOMMAND ...``.

Also available as ``python -m perceptron_pruning``. Every input ends either in a result (status 0)
or in one line on stderr and status 2: usage errors, invalid parameters (``ValueError`` from the
engine), output folders that cannot be written and requests too large for memory.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from ._saddle_maxmargin import TheoryError

__all__ = ["build_parser", "main"]

PROG = "perceptron-pruning"
MAX_SEEDS = 1_000_000
MAX_JOBS = 1024
MAX_N = 1_000_000
MAX_SEED = 2**64 - 1  # root seeds are uint64
_PROGRESS_HELP = "progress bar on stderr (default: only when stderr is a terminal)"


def _one_line(text) -> str:
    """``text`` with line breaks and other control characters escaped, so it prints as one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text).strip())


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message):  # pragma: no cover - exercised through main()
        self.exit(2, f"{self.prog}: error: {_one_line(message)}\n")


def _int_in(low: int, high: int):
    """Parse an argparse integer in ``[low, high]``, with a message naming the range."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            # Huge integers are refused here and never reach numpy; long input is cut short.
            shown = text if len(text) <= 30 else text[:27] + "..."
            raise argparse.ArgumentTypeError(f"must be an integer in {low}..{high}, "
                                             f"got {shown!r}")
        return value

    parse.__name__ = "integer"
    return parse


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _print_json(obj):
    print(json.dumps(_clean(obj)))


def _table(header, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


# Column order of the tables; a learner's other quantities follow in their own order.
_ORDER = ("eps", "eps_noisy", "R", "rho", "norm", "frac_mislabelled_kept", "kappa", "n_support",
          "alpha_support")


def _columns(values, options) -> list:
    """Table columns for a learner's quantities (``residual`` is left to ``--json``, and so are
    the noise columns when the labels are clean: there ``eps_noisy = eps`` and nothing is
    mislabelled).
    """
    hidden = {"residual"}
    noisy = (options.get("flip") or options.get("teacher_noise")
             or options.get("link", "sign") != "sign")
    if not noisy:
        hidden.add("frac_mislabelled_kept")
        if options.get("truth_cos", 1.0) == 1.0:  # else eps (truth) and eps_noisy differ
            hidden.add("eps_noisy")
    learned = options.get("probe_alpha") is not None
    if not learned:  # a fixed probe's angle is the point's: it is in the header
        hidden.add("theta")
    if not options.get("label_aware"):  # every drawn example is eligible: alpha_prune is fixed
        hidden.add("alpha_prune")
        if not learned:
            hidden.add("p_agree")
    keys = [k for k in _ORDER if k in values and k not in hidden]
    return keys + [k for k in values if k not in keys and k not in hidden]


def _fmt(key, value, *, theory=False) -> str:
    """One table cell: counts as integers, overlaps signed, more digits for theory."""
    if key == "n_support":
        return str(int(value)) if math.isfinite(value) else "nan"
    if key == "alpha_support":
        return f"{value:.4f}"
    digits = (8 if key in ("eps", "R") else 6) if theory else 5
    sign = "+" if key == "rho" else ""
    return f"{value:{sign}.{digits}f}"


def _check_plugins(args):
    """Raise ``ValueError`` naming the registered choices for an unknown learner or metric.

    Checked at run time, not with argparse ``choices``: plug-ins may be registered after the
    parser is built.
    """
    from .registry import get_metric

    _learner(args)
    get_metric(args.metric)
    metric = _metric(args)
    # A learned probe's angle is an outcome; the figures set the probe angle themselves.
    if getattr(metric, "probe_alpha", None) is not None and args.command in ("reproduce",
                                                                              "figure"):
        raise ValueError("--probe-alpha applies to simulate and theory only: the figures set "
                         "the probe angle theta themselves")
    # A label-aware filter changes alpha_prune = f p_agree alpha_tot; the figures' axes assume f.
    if getattr(metric, "label_aware", False) and args.command in ("reproduce", "figure"):
        raise ValueError("--label-aware applies to simulate and theory only: the figures map "
                         "alpha_tot to alpha_prune = f alpha_tot (the metrics figure draws "
                         "label-aware pruning itself)")


def _learner(args):
    """The learner to run: its name, or an instance with ``--lam`` (a learner that takes no
    ``lam``, such as max-margin or hebb, raises the registry's ``ValueError``).
    """
    from .registry import get_learner

    if getattr(args, "lam", None) is None:
        get_learner(args.learner)  # an unknown name fails here, naming the choices
        return args.learner
    return get_learner(args.learner, lam=args.lam)


def _noise(args) -> dict:
    """The label model's options (``ValueError`` naming the flags for a bad combination)."""
    if args.link_scale is not None and args.link != "logistic":
        raise ValueError(f"--link-scale applies to --link logistic only (its slope S > 0); got "
                         f"--link {args.link}")
    if args.link == "logistic" and args.link_scale is None:
        raise ValueError("--link logistic needs --link-scale S, its slope S in (0, 1e8]: "
                         "P(y = 1 | u) = 1 / (1 + exp(-S u))")
    if args.teacher_noise and args.link != "sign":
        raise ValueError(f"--teacher-noise applies to --link sign only (the sign link with "
                         f"teacher noise is already the probit link); got --link {args.link}")
    return {"flip": args.flip, "teacher_noise": args.teacher_noise, "link": args.link,
            "link_scale": args.link_scale, "truth_cos": args.truth_cos,
            "probe_truth_cos": args.probe_truth_cos}


def _noise_note(d) -> str:
    """The label model's options that differ from the defaults, e.g. ``, flip 0.1, link logistic
    (scale 4), truth cos 0.9``.
    """
    parts = [f"{k.replace('_', ' ')} {d[k]:g}" for k in ("flip", "teacher_noise") if d.get(k)]
    if d.get("link", "sign") != "sign":
        scale = f" (scale {d['link_scale']:g})" if d.get("link_scale") is not None else ""
        parts.append(f"link {d['link']}{scale}")
    if d.get("truth_cos", 1.0) != 1.0:
        parts.append(f"truth cos {d['truth_cos']:g}")
    if d.get("probe_truth_cos") is not None:
        parts.append(f"probe truth cos {d['probe_truth_cos']:g}")
    return (", " + ", ".join(parts)) if parts else ""


# Metric options with a flag: ``--score``, ``--score-noise``, ``--probe-alpha``,
# ``--probe-learner`` (None when not given) and ``--label-aware`` (False when not given).
_METRIC_OPTIONS = ("score", "score_noise", "label_aware", "probe_alpha", "probe_learner")


def _metric_options(args) -> dict:
    """The metric options the user gave on the command line, and only those."""
    opts = {}
    for k in _METRIC_OPTIONS:
        v = getattr(args, k, None)
        if v is not None and v is not False:
            opts[k] = v
    return opts


def _metric(args):
    """The metric to run: its name, or an instance when a metric option (``--score``,
    ``--score-noise``, ``--label-aware``, ``--probe-alpha``, ``--probe-learner``) is given; a
    metric that does not take one raises the registry's ``ValueError``, and so does a bad value
    or combination.
    """
    from .registry import get_metric

    opts = _metric_options(args)
    soft = {k: v for k in ("exponent", "score_scale", "reweight")
            if (v := getattr(args, k, None)) is not None and v is not False}
    if getattr(args, "keep", None) == "uncertainty":
        # Bernoulli selection is the soft metric's; name it for the user unless they chose one.
        name = "soft" if args.metric == "margin" else args.metric
        return get_metric(name, **opts, **soft)
    if soft:
        flag = "--" + next(iter(soft)).replace("_", "-")
        raise ValueError(f"{flag} applies to --keep uncertainty only (Bernoulli selection by "
                         f"pi = min(c [s'(S t)]^a, 1)); got --keep {args.keep}")
    if not opts:
        return args.metric
    metric = get_metric(args.metric, **opts)
    if "probe_learner" in opts and "probe_alpha" not in opts:
        # Even --probe-learner max-margin, the default, which the metric cannot tell apart.
        raise ValueError("--probe-learner needs --probe-alpha (the examples per dimension the "
                         "probe is trained on), in (0, 1e4]")
    return metric


def _writable_dir(path, what):
    """Create folder ``path`` (and its parents) and check a file can be written in it."""
    import tempfile
    from pathlib import Path

    if not str(path).strip():
        raise ValueError(f"the {what} must not be empty")
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"cannot write to the {what} {str(path)!r}: {reason}") from None
    return path


# ----------------------------------------------------------------------------- simulate


def _score_note(options) -> str:
    """The margin metric's options, e.g. `` (score signed, score noise 0.3, label-aware, probe
    hebb on 5 examples/dim)``; empty for a metric without them.
    """
    parts = []
    if "score" in options:
        parts.append(f"score {options['score']}")
    if options.get("score_noise"):
        parts.append(f"score noise {options['score_noise']:g}")
    if options.get("label_aware"):
        parts.append("label-aware")
    if options.get("probe_alpha") is not None:
        parts.append(f"probe {options.get('probe_learner', 'max-margin')} on "
                     f"{options['probe_alpha']:g} examples/dim")
    if options.get("exponent") is not None:
        parts.append(f"exponent {options['exponent']:g}, score scale "
                     f"{options['score_scale']:g}")
    if options.get("reweight"):
        parts.append("reweighted 1/pi")
    return f" ({', '.join(parts)})" if parts else ""


def _theta_note(options, what) -> str:
    """`` (predicted for the learned probe)`` and the like; empty for a fixed probe."""
    return f" ({what} the learned probe)" if options.get("probe_alpha") is not None else ""


def _cmd_simulate(args):
    from concurrent.futures import ThreadPoolExecutor

    from .simulate import simulate

    _check_plugins(args)
    jobs = args.jobs
    if args.threads is not None:
        jobs = args.threads if jobs is None else jobs
    kwargs = dict(f=args.f, keep=args.keep, theta=args.theta, learner=_learner(args),
                  metric=_metric(args), seeds=args.seeds, seed=args.seed, sampling=args.sampling,
                  progress=args.progress, **_noise(args))
    if jobs is None:  # the engine's default: one thread per core
        res = simulate(args.n, args.alpha_tot, **kwargs)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            res = simulate(args.n, args.alpha_tot, executor=ex, **kwargs)
    if args.threads is not None:  # after the run, so an error stays the only line on stderr
        print(f"{PROG} simulate: warning: --threads is deprecated; use --jobs", file=sys.stderr)
    d = res.to_dict()
    if args.json:
        _print_json(d)
        return 0
    print(f"N = {d['n']}, alpha_tot = {d['alpha_tot']:g}, f = {d['f']:g} "
          f"(alpha_prune = {d['alpha_prune']:g}), keep {d['keep']}, theta = {d['theta']:g} deg"
          f"{_theta_note(d, 'mean over seeds achieved by')}, "
          f"learner {_learner(args)}, metric {d['metric']}{_score_note(d)}{_noise_note(d)}, "
          f"root seed {args.seed}")
    keys = _columns(res.trials[0].values, d)
    rows = [[str(t.task.replicate)] + [_fmt(k, t.values[k]) for k in keys] for t in res.trials]
    print(_table(["replicate", *keys], rows))
    means = ", ".join(f"{k} = {d[k + '_mean']:.1f}" if k == "n_support"
                      else f"{k} = {_fmt(k, d[k + '_mean'])}" for k in keys[1:] if k + "_mean" in d)
    print(f"eps = {d['eps_mean']:.5f} +- {d['eps_sem']:.5f} (mean +- s.e.m. over "
          f"{len(rows)} seeds); {means}")
    return 0


# ----------------------------------------------------------------------------- theory


def _cmd_theory(args):
    from .theory import curve

    if (args.alpha_prune is None) == (args.alpha_tot is None):
        raise ValueError("give exactly one of --alpha-prune and --alpha-tot")
    _check_plugins(args)
    c = curve(args.alpha_prune, alpha_tot=args.alpha_tot, f=args.f, keep=args.keep,
              theta=args.theta, learner=_learner(args), metric=_metric(args), **_noise(args))
    pts = c.points()
    if args.json:
        _print_json([p.to_dict() for p in pts])
        return 0
    print(f"replica theory: f = {args.f:g}, keep {args.keep}, theta = {c.theta:g} deg"
          f"{_theta_note(c.options, 'predicted for')}, "
          f"learner {_learner(args)}, metric {c.metric}{_score_note(c.options)}"
          f"{_noise_note(c.options)}")
    keys = _columns(pts[0].values, c.options)
    rows = [[f"{p.alpha_prune:.6g}", f"{p.alpha_tot:.6g}"]
            + [_fmt(k, p.values[k], theory=True) for k in keys] for p in pts]
    print(_table(["alpha_prune", "alpha_tot", *keys], rows))
    if c.jumps:
        print("note: the solution jumps (first-order transition) before grid points "
              f"{list(c.jumps)}")
    return 0


# ----------------------------------------------------------------------------- figures


def _executor(args):
    """Context manager yielding the executor named by --jobs / --dask (or None)."""
    import contextlib

    @contextlib.contextmanager
    def cm():
        if args.dask:
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError:
                raise ValueError("--dask needs the optional extra: pip install "
                                 "'perceptron-pruning[dask]'") from None
            if args.dask == "local":
                cluster = LocalCluster(n_workers=args.jobs or None, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                cluster = None
                try:
                    client = Client(args.dask, timeout="5s")
                except (OSError, TimeoutError, ValueError, TypeError) as exc:
                    raise ValueError(f"cannot reach the Dask scheduler at {args.dask!r} "
                                     f"({type(exc).__name__})") from None
            try:
                yield client.get_executor()
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        elif args.jobs and args.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=args.jobs) as ex:
                yield ex
        else:
            yield None

    return cm()


def _figure_config(args):
    import dataclasses

    from .figures import FigureConfig

    cfg = FigureConfig.quick() if args.quick else FigureConfig.full()
    changes = {"learner": _learner(args), "metric": _metric(args)}
    if args.n is not None:
        changes["n"] = args.n
    if args.seeds is not None:
        changes["replicates"] = args.seeds
    return dataclasses.replace(cfg, **changes)


def _cmd_figures(args, names):
    import time
    from pathlib import Path

    from . import figures

    for name in names:
        if name not in figures.FIGURES:
            raise ValueError(f"figure name must be one of {', '.join(figures.FIGURES)}; "
                             f"got {name!r}")
    _check_plugins(args)
    cfg = _figure_config(args)
    # Output folders are checked before any computation: a bad path fails in a second, not
    # after minutes of sweeps.
    out = _writable_dir(args.out, "output folder")
    cache = None
    if not args.no_cache:
        cache = _writable_dir(Path(args.cache) if args.cache else out / ".cache", "cache folder")
    with _executor(args) as ex:
        for name in names:
            t0 = time.perf_counter()
            data = figures.make_figure(name, out, cfg, cache_dir=cache, executor=ex,
                                       progress=args.progress)
            notes = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                              for k, v in data.notes.items())
            print(f"{name}: {out / (name + '.png')} ({time.perf_counter() - t0:.1f} s) {notes}")
    return 0


def _cmd_reproduce(args):
    from .figures import FIGURES

    return _cmd_figures(args, list(FIGURES))


def _cmd_figure(args):
    return _cmd_figures(args, args.names)


def _cmd_explore(args):
    try:
        import bokeh  # noqa: F401
    except ImportError:
        raise ValueError("the explorer needs the optional extra: pip install "
                         "'perceptron-pruning[app]'") from None
    from .explore import serve

    serve(port=args.port, host=args.host, open_browser=not args.no_browser)
    return 0


# ----------------------------------------------------------------------------- parser


def _add_plugin_args(p):
    p.add_argument("--learner", default="max-margin", metavar="NAME",
                   help="registered learner: max-margin (default), svm, logistic, ridge, hebb")
    p.add_argument("--lam", type=float, default=None,
                   help="ridge penalty lam > 0 of svm, logistic and ridge (default 0.1); the "
                        "objective is sum loss(y, J.x/sqrt(N)) + lam/2 |J|^2")
    p.add_argument("--metric", default="margin", metavar="NAME",
                   help="registered pruning metric (default margin)")
    p.add_argument("--score", default=None, metavar="abs|signed",
                   help="the margin metric's ranking: abs, |J_probe.x| (default), or signed, "
                        "y J_probe.x (keep hard takes the probe's misclassified examples first)")
    p.add_argument("--score-noise", type=float, default=None, metavar="SIGMA",
                   help="the margin metric's score noise sigma >= 0: rank by the score plus "
                        "sigma times a fresh normal (default 0)")
    p.add_argument("--label-aware", action="store_true",
                   help="the margin metric first drops the examples whose label disagrees with "
                        "the probe's sign; f is then the fraction kept of the rest")
    p.add_argument("--probe-alpha", type=float, default=None, metavar="ALPHA",
                   help="learn the margin metric's probe on ALPHA*N fresh examples, "
                        "0 < ALPHA <= 1e4 (simulate and theory; leave --theta at 0: the angle "
                        "is an outcome, reported as theta)")
    p.add_argument("--probe-learner", default=None, metavar="NAME",
                   help="registered learner training the probe with --probe-alpha "
                        "(default max-margin, which needs clean labels)")


def _add_progress_arg(p):
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help=_PROGRESS_HELP)


def _add_figure_args(p):
    p.add_argument("--quick", action="store_true",
                   help="small N and few seeds (about a minute on 2 cores)")
    p.add_argument("--out", default="figures", help="output folder (default figures/)")
    p.add_argument("--jobs", type=_int_in(1, MAX_JOBS), default=None,
                   help=f"local worker processes, 1..{MAX_JOBS}")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the sweeps on a Dask scheduler at ADDRESS, or 'local'")
    p.add_argument("--n", type=_int_in(2, MAX_N), default=None,
                   help=f"override the simulation dimension N, 2..{MAX_N}")
    p.add_argument("--seeds", type=_int_in(1, MAX_SEEDS), default=None,
                   help=f"override the seeds per point, 1..{MAX_SEEDS}")
    p.add_argument("--cache", default=None,
                   help="trial cache folder (default OUT/.cache); reruns resume from it")
    p.add_argument("--no-cache", action="store_true", help="do not cache finished trials")
    _add_plugin_args(p)
    _add_progress_arg(p)


def _add_point_args(p, *, with_n=True):
    if with_n:
        p.add_argument("--n", type=_int_in(1, MAX_N), default=400,
                       help=f"input dimension N, 1..{MAX_N} (default 400)")
    p.add_argument("--f", type=float, default=1.0, help="fraction kept, 0 < f <= 1 (default 1)")
    p.add_argument("--keep", default="hard",
                   help="hard, easy, random or uncertainty (default hard); uncertainty keeps "
                        "each example independently with probability pi = min(c [s'(S t)]^a, 1) "
                        "(Kolossov et al. 2024; metric soft), c solved so that E[pi] = f")
    p.add_argument("--exponent", type=float, default=None, metavar="A",
                   help="--keep uncertainty's exponent a in [-1000, 1000]: a > 0 favours hard "
                        "examples, a < 0 easy ones, a = 0 is random (default 1)")
    p.add_argument("--score-scale", type=float, default=None, metavar="S",
                   help="--keep uncertainty's surrogate scale S > 0: the logit is S t "
                        "(default 1)")
    p.add_argument("--reweight", action="store_true",
                   help="with --keep uncertainty, weight each kept example's loss by 1/pi "
                        "(importance reweighting)")
    p.add_argument("--theta", type=float, default=0.0,
                   help="probe angle to the teacher in degrees, 0..90 (default 0)")
    _add_plugin_args(p)
    p.add_argument("--flip", type=float, default=0.0,
                   help="probability each label is flipped, 0 <= flip < 0.5 (default 0)")
    p.add_argument("--teacher-noise", type=float, default=0.0,
                   help="noise sigma >= 0 on the teacher field: y = sign(T.x + sigma xi) "
                        "(default 0; sign link only)")
    p.add_argument("--link", choices=("sign", "logistic", "misspec2"), default="sign",
                   help="label channel P(y = 1 | u) on the teacher field u, before the flips: "
                        "sign (default), logistic (needs --link-scale) or misspec2 (Kolossov "
                        "et al. 2024's piecewise-constant link)")
    p.add_argument("--link-scale", type=float, default=None, metavar="S",
                   help="slope S > 0 of the logistic link: P(y = 1 | u) = 1 / (1 + exp(-S u))")
    p.add_argument("--truth-cos", type=float, default=1.0, metavar="C",
                   help="cosine in [-1, 1] between the ground truth, which eps and R measure, "
                        "and the teacher that generates the labels (default 1)")
    p.add_argument("--probe-truth-cos", type=float, default=None, metavar="C",
                   help="cosine between the probe and the ground truth (default "
                        "cos(theta) * truth cos), within cos(theta +- arccos(truth cos))")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def build_parser():
    """Return the argument parser (exposed for documentation tools)."""
    parser = _Parser(prog=PROG,
                     description="Data pruning in the teacher-student perceptron: "
                                 "simulations and replica theory.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("simulate", help="finite-size trials over seeds")
    _add_point_args(p)
    p.add_argument("--alpha-tot", type=float, required=True, help="examples per dimension drawn")
    p.add_argument("--seeds", type=_int_in(1, MAX_SEEDS), default=8,
                   help=f"number of seeds, 1..{MAX_SEEDS} (default 8)")
    p.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                   help="root seed; each replicate's seed is spawned from it (default 0)")
    p.add_argument("--jobs", type=_int_in(1, MAX_JOBS), default=None,
                   help=f"threads running the seeds, 1..{MAX_JOBS} (default: one per core)")
    p.add_argument("--threads", type=_int_in(1, MAX_JOBS), default=None,
                   help=argparse.SUPPRESS)  # deprecated alias of --jobs
    p.add_argument("--sampling", default="fields",
                   help="fields (draw the N-2 bulk coordinates for kept examples only; default) "
                        "or full (draw the whole P_tot x N matrix: the reference path)")
    _add_progress_arg(p)
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("theory", help="replica-theory learning curve")
    _add_point_args(p, with_n=False)
    p.add_argument("--alpha-prune", type=float, nargs="+", default=None,
                   help="examples seen per dimension (one or more)")
    p.add_argument("--alpha-tot", type=float, nargs="+", default=None,
                   help="examples drawn per dimension, instead of --alpha-prune")
    p.set_defaults(func=_cmd_theory)

    p = sub.add_parser("reproduce", help="write every figure (PNG, PDF and CSV)")
    _add_figure_args(p)
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("figure", help="write the named figures")
    p.add_argument("names", nargs="+", help="keep_hard, keep_easy, easy_vs_hard, "
                                            "imperfect_metric, scaling, finite_size, learners, "
                                            "label_noise")
    _add_figure_args(p)
    p.set_defaults(func=_cmd_figure)

    p = sub.add_parser("explore", help="live web explorer of the theory (needs the [app] extra)")
    p.add_argument("--port", type=_int_in(0, 65535), default=5006,
                   help="TCP port, 0..65535 (default 5006; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(func=_cmd_explore)
    return parser


def _error(command, message) -> int:
    print(f"{PROG} {command}: error: {_one_line(message)}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (2 for bad input, printed as one line)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        return _error(args.command, exc)
    except TheoryError as exc:  # a point the solver cannot resolve: say which, no traceback
        return _error(args.command, f"{exc}; try a smaller alpha or a larger f")
    except RuntimeError as exc:  # a solver that refuses an uncertified answer (max_margin)
        return _error(args.command, exc)
    except MemoryError:
        return _error(args.command, "out of memory: ask for a smaller problem (a lower --n)")
    except OSError as exc:
        where = f" {str(exc.filename)!r}" if exc.filename else ""
        return _error(args.command, f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
