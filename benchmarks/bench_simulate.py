"""Benchmark: the "fields" sampling path against the full-matrix reference path of ``simulate``.

Usage::

    python benchmarks/bench_simulate.py            # the target case and the peer comparison
    python benchmarks/bench_simulate.py --quick    # the peer comparison only

Each case runs in a fresh child process (so its peak resident memory is its own), with the
Numba cache warm. Both paths run the same engine (:func:`perceptron_pruning.simulate`), same
point, same seeds; they differ only in how the data are drawn:

- ``fields``: draw the teacher and probe fields of all ``P_tot`` examples in chunks, select, then
  draw the other ``N - 2`` coordinates for the kept examples only;
- ``full`` (the peer): draw the whole ``P_tot x N`` matrix.

Target (the scale issue): keep hard, ``f = 0.001``, ``N = 500``, ``alpha_prune = 5``
(``P_tot = 2.5 million``), 2 seeds, under 20 s and under 1 GB peak memory on 2 cores. The full
path would need about 10 GB there, so the ratio is measured on a case both can run
(``N = 200``, ``f = 0.01``, ``alpha_prune = 5``: ``P_tot = 100 000``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CASES = {
    "target": dict(n=500, alpha_tot=5000.0, f=0.001, keep="hard", seeds=2),
    "peer": dict(n=200, alpha_tot=500.0, f=0.01, keep="hard", seeds=2),
}

_CHILD = """
import json, resource, sys, time
import perceptron_pruning as pp
case, sampling = json.loads(sys.argv[1]), sys.argv[2]
pp.simulate(20, 5.0, f=0.2, seeds=1, sampling=sampling)  # warm-up: load compiled kernels
t0 = time.perf_counter()
r = pp.simulate(case.pop("n"), case.pop("alpha_tot"), sampling=sampling, **case)
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": dt, "peak_bytes": rss, "eps": r.eps_mean, "p_tot": r.p_tot}))
"""


def run(case, sampling):
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(case), sampling],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="peer comparison only")
    args = ap.parse_args(argv)
    print(f"cores: {os.cpu_count()}; peak memory per child process (ru_maxrss)")
    rows = []
    peer = {s: run(CASES["peer"], s) for s in ("full", "fields")}
    for s, r in peer.items():
        rows.append(("peer case", s, r))
    if not args.quick:
        rows.append(("target case", "fields", run(CASES["target"], "fields")))
    print(f"{'case':12} {'path':7} {'P_tot':>9} {'time (s)':>9} {'peak (MB)':>10} {'eps':>8}")
    for name, s, r in rows:
        print(f"{name:12} {s:7} {r['p_tot']:>9} {r['seconds']:>9.2f} "
              f"{r['peak_bytes'] / 1e6:>10.0f} {r['eps']:>8.4f}")
    f, g = peer["full"], peer["fields"]
    print(f"fields vs full on the peer case: {f['seconds'] / g['seconds']:.1f}x faster, "
          f"{f['peak_bytes'] / g['peak_bytes']:.1f}x less peak memory")
    if not args.quick:
        t = rows[-1][2]
        ok = t["seconds"] < 20 and t["peak_bytes"] < 1e9
        print(f"target (< 20 s, < 1 GB): {t['seconds']:.1f} s, {t['peak_bytes'] / 1e6:.0f} MB: "
              f"{'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
