"""Resumable simulation sweeps over ``(N, alpha_tot, f, keep, theta, replicate)``.

Every task is one trial. Replicate ``r`` draws its seed from the ``r``-th child of
``SeedSequence(seed).spawn``, at every grid point (common random numbers: curves over ``f`` share
their data pool), so the numbers never depend on task order or on how many workers ran them.
Finished tasks are cached on disk, one small JSON file each, keyed by a hash of the task and of
the simulator's source code, and written atomically; a rerun recomputes only what is missing.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._validation import check_int
from .simulate import _check_point, run_trial

__all__ = ["Task", "aggregate", "code_version", "make_tasks", "read_csv", "run_sweep",
           "write_csv"]

_SIM_MODULES = ("data.py", "pruning.py", "maxmargin.py", "_mm_kernels.py", "simulate.py",
                "_validation.py")
RESULT_FIELDS = ("n", "alpha_tot", "f", "keep", "theta", "replicate", "seed", "p_tot", "p_kept",
                 "alpha_prune", "eps", "R", "kappa", "rho", "n_support")


@dataclass(frozen=True)
class Task:
    """One trial of a sweep (``seed`` is the trial's own integer seed)."""

    n: int
    alpha_tot: float
    f: float
    keep: str
    theta: float
    replicate: int
    seed: int

    def key(self, version: str) -> str:
        """Content address of this task's result under code version ``version``."""
        blob = json.dumps([asdict(self), version], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def code_version() -> str:
    """Hash of the simulator's source files: a change there invalidates cached trials."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _SIM_MODULES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _seeds(seed: int, replicates: int) -> list[int]:
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


def make_tasks(*, n, alpha_tot, f=(1.0,), keep=("hard",), theta=(0.0,), replicates=8, seed=0):
    """Cartesian grid of tasks.

    Parameters
    ----------
    n, alpha_tot, f, keep, theta : scalar or sequence
        Grid axes (dimension, examples drawn per dimension, kept fraction, rule, probe angle in
        degrees). Each must be non-empty; every point is validated.
    replicates : int, default 8
        Trials per grid point.
    seed : int, default 0
        Root of the ``SeedSequence`` tree.

    Returns
    -------
    list of Task
    """
    axes = {}
    for name, val in (("n", n), ("alpha_tot", alpha_tot), ("f", f), ("keep", keep),
                      ("theta", theta)):
        vals = [val] if np.isscalar(val) else list(val)
        if not vals:
            raise ValueError(f"{name} grid must not be empty")
        axes[name] = vals
    replicates = check_int("replicates", replicates, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    seeds = _seeds(seed, replicates)
    tasks = []
    for nn, at, ff, kk, th in itertools.product(*axes.values()):
        nn, at, ff, kk, th, _, _ = _check_point(nn, at, ff, kk, th)
        for r, s in enumerate(seeds):
            tasks.append(Task(nn, at, ff, kk, th, r, s))
    return tasks


def _run_task(task: Task) -> dict:
    # Top-level so that process pools and Dask can pickle it.
    t = run_trial(task.n, task.alpha_tot, task.f, task.keep, task.theta, task.seed)
    *_, p_tot, k = _check_point(task.n, task.alpha_tot, task.f, task.keep, task.theta)
    return {**asdict(task), "p_tot": p_tot, "p_kept": k, "alpha_prune": k / task.n,
            "eps": t.eps, "R": t.R, "kappa": t.kappa, "rho": t.rho, "n_support": t.n_support}


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _atomic_write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _NoBar:
    def update(self, k=1):
        pass

    def close(self):
        pass


def _progress(total, enabled, desc):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="trial", leave=False)


def run_sweep(tasks, *, cache_dir=None, executor: Executor | None = None, progress=None,
              desc="sweep"):
    """Run (or resume) a sweep; returns one result row (dict) per task, in task order.

    Parameters
    ----------
    tasks : sequence of Task
        From :func:`make_tasks` (concatenations are fine; duplicates run once).
    cache_dir : str or Path, optional
        Where finished trials are kept. Without it nothing is cached.
    executor : concurrent.futures.Executor, optional
        Runs the trials (a ``ProcessPoolExecutor``, Dask's ``client.get_executor()``...).
        Default: in this process, one after another.
    progress : bool, optional
        Show a tqdm bar; default: only when stderr is a terminal.
    desc : str
        Progress-bar label.

    Returns
    -------
    list of dict
        Keys :data:`RESULT_FIELDS`.
    """
    tasks = list(tasks)
    version = code_version()
    cache = Path(cache_dir) if cache_dir is not None else None
    results: dict[Task, dict] = {}
    todo = []
    for t in dict.fromkeys(tasks):
        if cache is not None:
            p = _cache_path(cache, t.key(version))
            if p.exists():
                try:
                    results[t] = json.loads(p.read_text())
                    continue
                except (OSError, json.JSONDecodeError):
                    pass  # a damaged entry is recomputed
        todo.append(t)
    bar = _progress(len(todo), progress, desc)

    def done(t, row):
        results[t] = row
        if cache is not None:
            _atomic_write(_cache_path(cache, t.key(version)), row)
        bar.update()

    try:
        if executor is None:
            for t in todo:
                done(t, _run_task(t))
        else:
            futs = {executor.submit(_run_task, t): t for t in todo}
            try:
                pending = set(futs)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fu in finished:
                        done(futs[fu], fu.result())
            except BaseException:
                for fu in futs:
                    fu.cancel()
                raise
    finally:
        bar.close()
    return [results[t] for t in tasks]


def _sem(x):
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def aggregate(rows):
    """Mean and standard error over replicates at each grid point.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_sweep`.

    Returns
    -------
    list of dict
        One per ``(n, alpha_tot, f, keep, theta)`` in first-seen order, with ``alpha_prune``,
        ``eps_mean``, ``eps_sem``, ``R_mean``, ``rho_mean``, ``rho_sem``, ``kappa_mean`` and
        ``replicates``.
    """
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["n"], r["alpha_tot"], r["f"], r["keep"], r["theta"]), []).append(r)
    out = []
    for (n, at, f, keep, th), rs in groups.items():
        eps = np.array([r["eps"] for r in rs])
        rho = np.array([r["rho"] for r in rs])
        k = eps.size
        out.append({"n": n, "alpha_tot": at, "f": f, "keep": keep, "theta": th,
                    "alpha_prune": rs[0]["alpha_prune"], "replicates": k,
                    "eps_mean": float(eps.mean()), "eps_sem": _sem(eps),
                    "R_mean": float(np.mean([r["R"] for r in rs])),
                    "rho_mean": float(rho.mean()), "rho_sem": _sem(rho),
                    "kappa_mean": float(np.mean([r["kappa"] for r in rs]))})
    return out


def write_csv(rows, path) -> None:
    """Write rows (list of dicts with the same keys) as CSV, atomically."""
    rows = list(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".csv")
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would make shared results unreadable to others
    with os.fdopen(fd, "w", newline="") as fh:
        if rows:
            w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(tmp, path)


def read_csv(path):
    """Read a CSV written by :func:`write_csv`; numbers come back as int or float."""
    def conv(v):
        for typ in (int, float):
            try:
                return typ(v)
            except ValueError:
                pass
        return v

    with open(path, newline="") as fh:
        return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(fh)]
