"""Benchmark: what the metrics as users meet them cost, against the paper's metric.

Usage::

    python benchmarks/bench_metrics.py            # theory and simulation, best of 3
    python benchmarks/bench_metrics.py --quick    # best of 1

The peer of every row is the paper's metric (``score="abs"``, a probe at a fixed angle) at the
same point, in the same run, so each ratio is the price of the variant alone:

- **theory**: one :func:`perceptron_pruning.theory.solve` (a fresh kept law and saddle point),
  ``alpha_tot = 8``, ``f = 0.4``, ``theta = 20`` deg, keep hard, for the max-margin and the svm
  (``lam = 0.1``) students. A noisy score cuts the kept law into strips where its window
  changes, so its quadrature holds more nodes; label-aware adds one threshold search; the learned
  probe solves its learner's own curve first (cached across calls, so it is timed cold).
- **simulation**: the selection pass of one ``"fields"`` trial with ``P_tot = 4 million`` examples
  (``N = 50``, ``f = 0.001``: learning is negligible), where every example's key is computed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import perceptron_pruning  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perceptron_pruning import get_learner, get_metric, simulate, theory
from perceptron_pruning.metrics import margin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_time  # noqa: E402

VARIANTS = {
    "abs (peer)": dict(),
    "signed": dict(score="signed"),
    "score_noise 0.3": dict(score_noise=0.3),
    "label_aware": dict(label_aware=True),
    "label_aware + score_noise": dict(label_aware=True, score_noise=0.3),
    "learned probe (hebb, 5)": dict(probe_alpha=5.0, probe_learner="hebb"),
}


def bench_theory(learner, repeats):
    out = {}
    for name, opts in VARIANTS.items():
        m = get_metric("margin", **opts)
        theta = 0.0 if "probe_alpha" in opts else 20.0

        def run(m=m, theta=theta):
            margin._probe_R.cache_clear()
            theory.solve(alpha_tot=8.0, f=0.4, keep="hard", theta=theta, learner=learner,
                         metric=m)

        run()  # warm-up: compiled kernels
        out[name] = best_time(run, repeats)
    return out


def bench_selection(repeats):
    out = {}
    for name, opts in VARIANTS.items():
        m = get_metric("margin", **opts)
        theta = 0.0 if "probe_alpha" in opts else 20.0

        def run(m=m, theta=theta):
            simulate(50, 80000.0, f=0.001, keep="hard", theta=theta, metric=m, seeds=1)

        out[name] = best_time(run, repeats)
    return out


def _table(title, times):
    peer = times["abs (peer)"]
    print(f"\n{title}")
    print(f"  {'metric':28s} {'seconds':>9s} {'/ abs':>7s}")
    for name, t in times.items():
        print(f"  {name:28s} {t:9.3f} {t / peer:7.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="best of 1 instead of 3")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 3
    simulate(20, 5.0, f=0.2, seeds=1)  # warm-up: load compiled kernels
    _table("theory, max-margin student (one solve)", bench_theory("max-margin", repeats))
    _table("theory, svm student, lam = 0.1 (one solve)",
           bench_theory(get_learner("svm", lam=0.1), repeats))
    _table("simulation, selection of 4e6 examples (N = 50, f = 0.001, one trial)",
           bench_selection(repeats))


if __name__ == "__main__":
    main()
