"""Finite-size simulation at one parameter point: the one-point case of a sweep."""

from __future__ import annotations

import os
from concurrent.futures import Executor, ThreadPoolExecutor

from ._validation import check_int, renamed_theta
from .results import SimulationResult
from .sweep import MAX_REPLICATES, aggregate, make_tasks, run_sweep
from .trial import Trial, run_trial

__all__ = ["SimulationResult", "Trial", "run_trial", "simulate"]


@renamed_theta
def simulate(n, alpha_tot, *, f=1.0, keep="hard", theta=0.0, learner="max-margin",
             metric="margin", flip=0.0, teacher_noise=0.0, link="sign", link_scale=None,
             truth_cos=1.0, probe_truth_cos=None, seeds=8, seed=0, sampling="fields",
             executor: Executor | None = None, progress=False) -> SimulationResult:
    """Simulate learning on pruned teacher-student data, over several seeds.

    This is exactly the sweep of one grid point (:func:`~perceptron_pruning.sweep.make_tasks`
    with the same ``seed``), so it reproduces any point that ``reproduce`` or a sweep drew.

    Parameters
    ----------
    n : int
        Input dimension ``N >= 1``.
    alpha_tot : float
        Examples drawn per dimension, ``> 0``; ``P_tot = round(alpha_tot * n)``.
    f : float, default 1
        Fraction kept, in (0, 1]; ``round(f * P_tot)`` examples are kept (at least one).
    keep : {"hard", "easy", "random"}, default "hard"
        Pruning rule.
    theta : float, default 0
        Angle between probe and teacher in degrees, in [0, 90]; 0 is the perfect metric.
    learner : str or Learner, default "max-margin"
        A registered learner (:func:`~perceptron_pruning.registry.learner_names`) or instance.
    metric : str or Metric, default "margin"
        A registered pruning metric or instance.
    flip : float, default 0
        Probability in [0, 0.5) that a label is flipped
        (:class:`~perceptron_pruning.noise.LabelNoise`).
    teacher_noise : float, default 0
        Standard deviation ``sigma >= 0`` of the noise on the teacher field:
        ``y = sign(u + sigma xi)``.
    link : {"sign", "logistic", "misspec2"} or PiecewiseLink, default "sign"
        Label channel ``P(y = 1 | u)`` on the generator's (teacher's) field ``u``, before the
        flips (:class:`~perceptron_pruning.noise.LabelNoise`).
    link_scale : float, optional
        Slope ``S`` in (0, 1e8] of the logistic link (required with it).
    truth_cos : float, default 1
        Cosine in [-1, 1] between the ground truth ``T*`` and the generator: ``eps`` and ``R``
        are measured against ``T*``, ``eps_noisy`` on the generator's labels.
    probe_truth_cos : float, optional
        Cosine between the probe and ``T*`` (default ``cos(theta) truth_cos``); it must be
        within ``cos(theta +- arccos(truth_cos))``.
    seeds : int, default 8
        Number of trials (replicates), in [1, 1e6].
    seed : int, default 0
        Root seed: replicate ``r`` uses the ``r``-th child of ``SeedSequence(seed)``.
    sampling : {"fields", "full"}, default "fields"
        ``"fields"`` draws the ``N - 2`` bulk coordinates only for the kept examples (cost
        ``O(P_tot + P_kept N)``); ``"full"`` draws the whole ``P_tot x N`` matrix (the reference).
        Same law, different numbers for a given seed
        (:func:`~perceptron_pruning.trial.run_trial`).
    executor : concurrent.futures.Executor, optional
        Runs the trials (threads, processes, Dask's ``client.get_executor()``). Default: a
        thread pool with one thread per core, made for this call and closed after it. The
        numbers never depend on it.
    progress : bool or None, default False
        Show a progress bar (None: only when stderr is a terminal).

    Returns
    -------
    SimulationResult
    """
    seeds = check_int("seeds", seeds, minimum=1, maximum=MAX_REPLICATES)
    tasks = make_tasks(n=n, alpha_tot=alpha_tot, f=f, keep=keep, theta=theta, learner=learner,
                       metric=metric, replicates=seeds, seed=seed, sampling=sampling, flip=flip,
                       teacher_noise=teacher_noise, link=link, link_scale=link_scale,
                       truth_cos=truth_cos, probe_truth_cos=probe_truth_cos)
    if executor is None:
        workers = min(os.cpu_count() or 1, len(tasks))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            trials = run_sweep(tasks, executor=pool, progress=progress, desc="simulate")
    else:
        trials = run_sweep(tasks, executor=executor, progress=progress, desc="simulate")
    (result,) = aggregate(trials)
    return result
