"""Benchmark: what soft (Bernoulli) selection and importance reweighting cost, against the
deterministic rule at the same point.

Usage::

    python benchmarks/bench_soft.py            # best of 3
    python benchmarks/bench_soft.py --quick    # best of 1

- **theory**: one :func:`perceptron_pruning.theory.solve` in Kolossov et al.'s setting (logistic,
  ``lam = 2.29e-3``, ``alpha_tot = 2.29``, 5% flips, ``f = 0.3``), with the perfect probe and
  with one at 20 degrees. The peer is keep hard with the margin metric (a band: two half-planes)
  at the same point. The soft window is a stack of strips of ``t`` (its quadrature holds more
  nodes); at ``theta = 0`` the law is even and nodes sharing ``yu`` are merged, at 20 degrees
  they are not. Reweighting solves the proximal map per node.
- **simulation**: one ``"fields"`` trial over ``P_tot = 4 million`` examples (``N = 50``,
  ``f = 0.001``: the selection pass dominates). The peer is keep hard's running top-k.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import perceptron_pruning  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perceptron_pruning import get_metric, simulate, theory
from perceptron_pruning.peers import kolossov

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_time, cpu_name, fmt_time, table  # noqa: E402

RULES = {
    "keep hard, margin (peer)": None,
    "uncertainty a = +1": dict(exponent=1.0),
    "uncertainty a = -1": dict(exponent=-1.0),
    "uncertainty a = -1, reweighted": dict(exponent=-1.0, reweight=True),
}


def bench_theory(theta, repeats):
    out = {}
    for name, opts in RULES.items():
        kw = kolossov(exponent=opts["exponent"] if opts else 1.0,
                      reweight=bool(opts and opts.get("reweight")))
        if opts is None:
            kw.update(keep="hard", metric="margin")

        def run(kw=kw):
            theory.solve(f=0.3, theta=theta, **kw)

        run()  # warm-up: compiled kernels, the rule's constant
        out[name] = best_time(run, repeats)
    return out


def bench_selection(repeats):
    out = {}
    for name, opts in RULES.items():
        if opts is None:
            kw = dict(keep="hard")
        else:
            kw = dict(keep="uncertainty", metric=get_metric("soft", **opts))

        def run(kw=kw):
            simulate(50, 80000.0, f=0.001, learner="svm", seeds=1, **kw)

        out[name] = best_time(run, repeats)
    return out


def _rows(times):
    peer = times["keep hard, margin (peer)"]
    return [[name, fmt_time(t), f"{t / peer:.2f}"] for name, t in times.items()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="best of 1 instead of 3")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 3
    print(f"CPU: {cpu_name()}")
    simulate(20, 5.0, f=0.2, seeds=1)  # warm-up: load compiled kernels
    for theta in (0.0, 20.0):
        print(f"\ntheory, Kolossov et al.'s setting, f = 0.3, theta = {theta:g} (one solve)")
        print(table(["rule", "time", "/ peer"], _rows(bench_theory(theta, repeats))))
    print("\nsimulation, selection of 4e6 examples (N = 50, f = 0.001, one trial)")
    print(table(["rule", "time", "/ peer"], _rows(bench_selection(repeats))))


if __name__ == "__main__":
    main()
