"""Resumable simulation sweeps over ``(N, alpha_tot, f, keep, theta, learner, metric)``.

Every task is one trial (:func:`~perceptron_pruning.trial.run_trial`, the path that
:func:`~perceptron_pruning.simulate` runs too). Replicate ``r`` draws its seed from the ``r``-th
child of ``SeedSequence(seed).spawn``, at every grid point (common random numbers: curves over
``f`` share their data pool), so the numbers never depend on task order or on how many workers
ran them. Finished tasks are cached on disk, one small JSON file each, keyed by a hash of the
task and of the code that runs it (:func:`code_version`), and written atomically; a rerun
recomputes only what is missing.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
import hashlib
import inspect
import itertools
import json
import os
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from pathlib import Path

import numpy as np

from ._validation import check_int
from .registry import get_learner
from .results import SimulationResult
from .trial import Task, Trial, make_task, run_trial

__all__ = ["MAX_REPLICATES", "aggregate", "code_version", "make_tasks", "read_csv", "run_sweep",
           "write_csv"]

MAX_REPLICATES = 1_000_000
_PKG_DIR = Path(__file__).resolve().parent
_PKG = __name__.rpartition(".")[0]


def _module_file(modname):
    """Source file of a module of this package (a module or a subpackage), or None."""
    rel = modname.split(".")[1:]
    base = _PKG_DIR.joinpath(*rel)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _local_imports(path, modname):
    """Modules of this package imported anywhere in the file (relative or absolute imports)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = modname.split(".")
                base = parts if is_pkg else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != _PKG:
                continue
            if target != _PKG:  # the top-level __init__ only re-exports
                out.add(target)
            for alias in node.names:  # `from . import x` may name a submodule
                out.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == _PKG)
    return out


def _closure(modnames):
    seen, stack = {}, list(modnames)
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        path = _module_file(m)
        seen[m] = path
        if path is not None:
            stack.extend(_local_imports(path, m))
    return {m: p for m, p in seen.items() if p is not None}


@functools.lru_cache(maxsize=64)
def code_version(learner_cls=None, metric_cls=None, *more_cls) -> str:
    """Hash of everything a trial's numbers depend on, besides the task itself.

    It covers the package's version, the numpy and numba versions, and the source of every
    module of this package that a trial imports (found by following the imports of
    :mod:`~perceptron_pruning.trial` and of the plug-in classes' modules), plus the source file
    of a plug-in class defined outside the package. A change to any of them invalidates cached
    trials; a change elsewhere (figures, CLI, theory) does not.

    Parameters
    ----------
    learner_cls, metric_cls, *more_cls : type, optional
        Plug-in classes whose modules are followed too (``more_cls``: plug-ins a trial reaches
        by name, such as a learned probe's learner).

    Returns
    -------
    str
        16 hex digits.
    """
    import numba

    from . import __version__

    roots = [f"{_PKG}.trial"]
    extra_files = []  # (class, its source file) for classes defined outside the package
    for cls in (learner_cls, metric_cls, *more_cls):
        if cls is None:
            continue
        mod = cls.__module__
        if mod.split(".")[0] == _PKG:
            roots.append(mod)
        else:
            try:
                extra_files.append((cls, Path(inspect.getsourcefile(cls))))
            except (TypeError, OSError):
                extra_files.append((cls, None))
            roots.extend(f"{_PKG}.{m}" for m in ("learners", "metrics"))
    h = hashlib.sha256()
    h.update(f"{__version__} numpy {np.__version__} numba {numba.__version__}".encode())
    for m, path in sorted(_closure(roots).items()):
        h.update(m.encode())
        h.update(path.read_bytes())
    for cls, path in extra_files:
        h.update(f"{cls.__module__}.{cls.__qualname__}".encode())
        if path is not None and path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _task_version(task):
    # A learned probe reaches its learner by name, through no import the closure can follow.
    probe = getattr(task.metric, "probe_alpha", None) is not None
    more = (type(get_learner(task.metric.probe_learner)),) if probe else ()
    return code_version(type(task.learner), type(task.metric), *more)


def _seeds(seed: int, replicates: int) -> list[int]:
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]


def _axis(name, val):
    if isinstance(val, str) or np.isscalar(val) or not hasattr(val, "__iter__"):
        return [val]
    vals = list(val)
    if not vals:
        raise ValueError(f"{name} grid must not be empty")
    return vals


def make_tasks(*, n, alpha_tot, f=1.0, keep="hard", theta=0.0, learner="max-margin",
               metric="margin", replicates=8, seed=0, sampling="fields", flip=0.0,
               teacher_noise=0.0, link="sign", link_scale=None, truth_cos=1.0,
               probe_truth_cos=None):
    """Cartesian grid of validated tasks.

    Parameters
    ----------
    n, alpha_tot, f, keep, theta, learner, metric, flip, teacher_noise : scalar or sequence
        Grid axes: dimension, examples drawn per dimension, kept fraction, rule, probe angle
        in degrees, learner and metric (registered names or instances), label flip probability
        and teacher noise (:class:`~perceptron_pruning.noise.LabelNoise`). Each must be
        non-empty; every point is validated.
    link, link_scale, truth_cos, probe_truth_cos : scalar or sequence
        Grid axes of the label channel and the ground truth
        (:class:`~perceptron_pruning.noise.LabelNoise`; ``link`` a name or a
        :class:`~perceptron_pruning.noise.PiecewiseLink`, ``link_scale`` and
        ``probe_truth_cos`` may be None).
    replicates : int, default 8
        Trials per grid point, in [1, 1e6].
    seed : int, default 0
        Root of the ``SeedSequence`` tree: replicate ``r`` of every point uses its ``r``-th child.
    sampling : {"fields", "full"}, default "fields"
        How each trial draws its data (:func:`~perceptron_pruning.trial.run_trial`).

    Returns
    -------
    list of Task
    """
    axes = [_axis(k, v) for k, v in (("n", n), ("alpha_tot", alpha_tot), ("f", f),
                                      ("keep", keep), ("theta", theta), ("learner", learner),
                                      ("metric", metric), ("flip", flip),
                                      ("teacher_noise", teacher_noise), ("link", link),
                                      ("link_scale", link_scale), ("truth_cos", truth_cos),
                                      ("probe_truth_cos", probe_truth_cos))]
    replicates = check_int("replicates", replicates, minimum=1, maximum=MAX_REPLICATES)
    seed = check_int("seed", seed, minimum=0, maximum=2**128 - 1)
    seeds = _seeds(seed, replicates)
    tasks = []
    for nn, at, ff, kk, th, le, me, fl, tn, li, ls, tc, pc in itertools.product(*axes):
        first = make_task(nn, at, f=ff, keep=kk, theta=th, learner=le, metric=me,
                          replicate=0, seed=seeds[0], sampling=sampling, flip=fl,
                          teacher_noise=tn, link=li, link_scale=ls, truth_cos=tc,
                          probe_truth_cos=pc)
        tasks += [dataclasses.replace(first, replicate=r, seed=s) for r, s in enumerate(seeds)]
    return tasks


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _json_scalar(obj):
    # Plug-ins may report numpy scalars (np.float64, np.int64): store them as Python numbers.
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot store {type(obj).__name__} in the trial cache")


def _atomic_write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, default=_json_scalar)
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
    """Run (or resume) a sweep; returns one :class:`~perceptron_pruning.trial.Trial` per task.

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
        Show a tqdm bar; default (None): only when stderr is a terminal.
    desc : str
        Progress-bar label.

    Returns
    -------
    list of Trial
        In task order.
    """
    tasks = list(tasks)
    if not all(isinstance(t, Task) for t in tasks):
        raise ValueError("tasks must be Task objects from make_tasks or make_task")
    cache = Path(cache_dir) if cache_dir is not None else None
    results: dict[Task, Trial] = {}
    todo = []
    for t in dict.fromkeys(tasks):
        if cache is not None:
            p = _cache_path(cache, t.key(_task_version(t)))
            if p.exists():
                try:
                    results[t] = Trial(task=t, values=json.loads(p.read_text())["values"])
                    continue
                except (OSError, ValueError, KeyError, TypeError):
                    pass  # a damaged entry is recomputed
        todo.append(t)
    bar = _progress(len(todo), progress, desc)

    def done(t, trial):
        results[t] = trial
        if cache is not None:
            _atomic_write(_cache_path(cache, t.key(_task_version(t))),
                          {"row": trial.row(), "values": trial.values})
        bar.update()

    try:
        if executor is None:
            for t in todo:
                done(t, run_trial(t))
        else:
            futs = {executor.submit(run_trial, t): t for t in todo}
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


def aggregate(trials):
    """Group trials by parameter point: one :class:`SimulationResult` per point.

    Parameters
    ----------
    trials : sequence of Trial
        From :func:`run_sweep`.

    Returns
    -------
    list of SimulationResult
        In the order the points first appear; trials keep their order within a point.
    """
    groups: dict[tuple, list] = {}
    for t in trials:
        groups.setdefault(t.task.point, []).append(t)
    out = []
    for ts in groups.values():
        t0 = ts[0].task
        names = list(ts[0].values)
        values = {q: np.array([t.values[q] for t in ts]) for q in names}
        # Realised per trial (a filtering metric, a learned probe): the point reports the mean.
        ap = _realised(values, "alpha_prune", t0.p_kept / t0.n)
        theta = _realised(values, "theta", t0.theta)
        out.append(SimulationResult(
            n=t0.n, p_tot=t0.p_tot, p_kept=int(round(ap * t0.n)), alpha_tot=t0.alpha_tot,
            alpha_prune=ap, f=t0.f, keep=t0.keep, theta=theta,
            learner=t0.learner.name, metric=t0.metric.name,
            options=t0.options(), sampling=t0.sampling,
            seeds=np.array([t.task.seed for t in ts], dtype=np.uint64), trials=tuple(ts),
            values=values))
    return out


def _realised(values, name, planned):
    # The task's own number unless the trials realised another (no round-off from averaging).
    v = values.get(name)
    if v is None or np.all(v == planned):
        return planned
    return float(np.mean(v))


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
    """Read a CSV written by :func:`write_csv`; numbers come back as int or float, ``True`` and
    ``False`` as bools, and empty cells (``None`` when written) as None.
    """
    def conv(v):
        if v in ("True", "False"):
            return v == "True"
        if v == "":
            return None
        for typ in (int, float):
            try:
                return typ(v)
            except ValueError:
                pass
        return v

    with open(path, newline="") as fh:
        return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(fh)]
