"""Command-line interface: ``perceptron-pruning SUBCOMMAND ...``.

Also available as ``python -m perceptron_pruning``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message):  # pragma: no cover - exercised through main()
        self.exit(2, f"{self.prog}: error: {message}\n")


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _print_json(obj):
    print(json.dumps(_clean(obj)))


def _table(header, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _cmd_simulate(args):
    from .simulate import simulate

    res = simulate(args.n, args.alpha_tot, args.f, args.keep, args.theta, args.seeds,
                   n_threads=args.threads)
    if args.json:
        _print_json(res.to_dict())
        return 0
    print(f"N = {res.n}, alpha_tot = {res.alpha_tot:g} (P_tot = {res.p_tot}), f = {res.f:g} "
          f"(P = {res.p_kept}, alpha_prune = {res.alpha_prune:g}), keep {res.keep}, "
          f"theta = {res.theta:g} deg")
    rows = [[str(t.seed), f"{t.eps:.5f}", f"{t.R:.5f}", f"{t.kappa:.5f}", f"{t.rho:+.5f}",
             str(t.n_support)] for t in res.trials()]
    print(_table(["seed", "eps", "R", "kappa", "rho", "n_support"], rows))
    print(f"eps = {res.eps_mean:.5f} +- {res.eps_sem:.5f} (mean +- s.e.m. over {res.seeds.size} "
          f"seeds); R = {res.R_mean:.5f}, kappa = {res.kappa_mean:.5f}, rho = {res.rho_mean:+.5f}")
    return 0


def _cmd_theory(args):
    from .theory import curve

    if (args.alpha_prune is None) == (args.alpha_tot is None):
        raise ValueError("give exactly one of --alpha-prune and --alpha-tot")
    c = curve(args.alpha_prune, alpha_tot=args.alpha_tot, f=args.f, keep=args.keep,
              theta_deg=args.theta)
    pts = c.points()
    if args.json:
        _print_json([p.to_dict() for p in pts])
        return 0
    print(f"replica theory: f = {c.f:g}, keep {c.keep}, theta = {c.theta:g} deg")
    rows = [[f"{p.alpha_prune:.6g}", f"{p.alpha_tot:.6g}", f"{p.eps:.8f}", f"{p.R:.8f}",
             f"{p.rho:+.6f}", f"{p.kappa:.6f}", f"{p.n_support:.4f}"] for p in pts]
    print(_table(["alpha_prune", "alpha_tot", "eps", "R", "rho", "kappa", "n_sv/N"], rows))
    if c.jumps:
        print("note: the solution jumps (first-order transition) before grid points "
              f"{list(c.jumps)}")
    return 0


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
                except (OSError, TimeoutError) as exc:
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

    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be an integer >= 1, got {args.jobs}")
    return cm()


def _figure_config(args):
    from .figures import FigureConfig

    cfg = FigureConfig.quick() if args.quick else FigureConfig.full()
    if args.n is not None:
        if args.n < 2:
            raise ValueError(f"--n must be an integer >= 2, got {args.n}")
        cfg = FigureConfig(**{**cfg.__dict__, "n": args.n})
    if args.seeds is not None:
        if args.seeds < 1:
            raise ValueError(f"--seeds must be an integer >= 1, got {args.seeds}")
        cfg = FigureConfig(**{**cfg.__dict__, "replicates": args.seeds})
    return cfg


def _cmd_figures(args, names):
    import time
    from pathlib import Path

    from .figures import FIGURES, make_figure

    for name in names:
        if name not in FIGURES:
            raise ValueError(f"figure name must be one of {', '.join(FIGURES)}; got {name!r}")
    cfg = _figure_config(args)
    out = Path(args.out)
    cache = None if args.no_cache else (Path(args.cache) if args.cache else out / ".cache")
    with _executor(args) as ex:
        for name in names:
            t0 = time.perf_counter()
            data = make_figure(name, out, cfg, cache_dir=cache, executor=ex,
                               progress=None if args.progress else False)
            notes = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                              for k, v in data.notes.items())
            print(f"{name}: {out / (name + '.png')} ({time.perf_counter() - t0:.1f} s) {notes}")
    return 0


def _cmd_reproduce(args):
    from .figures import FIGURES

    return _cmd_figures(args, list(FIGURES))


def _cmd_figure(args):
    return _cmd_figures(args, args.names)


def _add_figure_args(p):
    p.add_argument("--quick", action="store_true",
                   help="small N and few seeds (about a minute on 2 cores)")
    p.add_argument("--out", default="figures", help="output folder (default figures/)")
    p.add_argument("--jobs", type=int, default=None, help="local worker processes")
    p.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run the sweeps on a Dask scheduler at ADDRESS, or 'local'")
    p.add_argument("--n", type=int, default=None, help="override the simulation dimension N")
    p.add_argument("--seeds", type=int, default=None, help="override the seeds per point")
    p.add_argument("--cache", default=None,
                   help="trial cache folder (default OUT/.cache); reruns resume from it")
    p.add_argument("--no-cache", action="store_true", help="do not cache finished trials")
    p.add_argument("--progress", action="store_true", help="force a progress bar")


def _add_point_args(p, *, with_n=True):
    if with_n:
        p.add_argument("--n", type=int, default=400, help="input dimension N (default 400)")
    p.add_argument("--f", type=float, default=1.0, help="fraction kept, 0 < f <= 1 (default 1)")
    p.add_argument("--keep", default="hard", help="hard, easy or random (default hard)")
    p.add_argument("--theta", type=float, default=0.0,
                   help="probe angle to the teacher in degrees, 0..90 (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def build_parser():
    """Return the argument parser (exposed for documentation tools)."""
    parser = _Parser(prog="perceptron-pruning",
                     description="Data pruning in the teacher-student perceptron: "
                                 "simulations and replica theory.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("simulate", help="finite-size max-margin trials over seeds")
    _add_point_args(p)
    p.add_argument("--alpha-tot", type=float, required=True, help="examples per dimension drawn")
    p.add_argument("--seeds", type=int, default=8, help="number of seeds (default 8)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
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
                                            "imperfect_metric, scaling")
    _add_figure_args(p)
    p.set_defaults(func=_cmd_figure)
    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return parser


# Subcommands registered by other modules of this package (theory, figures).
_EXTRA_COMMANDS: list = []


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (2 for bad input, printed as one line)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"perceptron-pruning {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perceptron-pruning: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
