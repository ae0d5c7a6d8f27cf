"""Command-line interface: ``perceptron-pruning SUBCOMMAND ...`` (also ``python -m perceptron_pruning``)."""

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


def _json_default(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    raise TypeError(type(x))


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _print_json(obj):
    print(json.dumps(_clean(obj), indent=None, default=_json_default))


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
        print(f"note: the solution jumps (first-order transition) before grid points {list(c.jumps)}")
    return 0


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
    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return parser


# Subcommands registered by other modules of this package (theory, figures).
_EXTRA_COMMANDS: list = []


def main(argv=None) -> int:
    """Run the CLI; returns the exit status (2 for bad input, printed as one line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
