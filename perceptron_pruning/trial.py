"""One trial, the unit of every simulation: generate -> select -> train -> measure.

:func:`run_trial` is the single path that both :func:`~perceptron_pruning.simulate` and the
sweeps run. A :class:`Task` is validated once, when it is made (:func:`make_task`); a
:class:`Trial` carries its task and everything an aggregate needs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from ._validation import check_f, check_int, check_keep, check_real, check_theta
from .data import make_problem, probe_cos_sin
from .metrics import Fields
from .noise import CLEAN, LabelNoise
from .pruning import n_kept, n_kept_eligible
from .registry import get_learner, get_metric

__all__ = ["Task", "Trial", "make_task", "memory_limit", "run_trial"]


@dataclass(frozen=True)
class Task:
    """One trial to run. Make it with :func:`make_task` (which validates it).

    Attributes
    ----------
    n : int
        Input dimension ``N``.
    alpha_tot : float
        Examples drawn per dimension; ``P_tot = round(alpha_tot N)``.
    f : float
        Kept fraction; ``round(f P_tot)`` examples are kept.
    keep : str
        ``"hard"``, ``"easy"`` or ``"random"``.
    theta : float
        Probe angle to the teacher in degrees.
    learner, metric : Learner, Metric
        Plug-in instances.
    replicate : int
        Index of the trial among its point's replicates.
    seed : int
        The trial's own seed: everything the trial draws comes from ``SeedSequence(seed)``.
    sampling : {"fields", "full"}
        How the data are drawn (:func:`run_trial`); both give the same law.
    noise : LabelNoise
        Label model of the drawn examples: channel, flips and ground truth (clean by default).
    """

    n: int
    alpha_tot: float
    f: float
    keep: str
    theta: float
    learner: object
    metric: object
    replicate: int
    seed: int
    sampling: str = "fields"
    noise: LabelNoise = CLEAN

    @property
    def p_tot(self) -> int:
        """Examples drawn."""
        return int(round(self.alpha_tot * self.n))

    @property
    def p_kept(self) -> int:
        """Examples kept."""
        return n_kept(self.p_tot, self.f)

    @property
    def point(self) -> tuple:
        """The parameter point, shared by the task's replicates."""
        return (self.n, self.alpha_tot, self.f, self.keep, self.theta, self.learner, self.metric,
                self.noise, self.sampling)

    def options(self) -> dict:
        """The plug-ins' hyper-parameters and the label noise: the JSON keys and CSV columns
        that sit next to the point's parameters.
        """
        return {**self.learner.options(), **self.metric.options(), **self.noise.options()}

    def key(self, version: str) -> str:
        """Content address of this task's result under code version ``version``."""
        blob = json.dumps([self.n, self.alpha_tot, self.f, self.keep, self.theta,
                           self.learner.spec(), self.metric.spec(), self.replicate, self.seed,
                           self.sampling, self.noise.spec(), version], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Trial:
    """A finished task.

    Attributes
    ----------
    task : Task
        What ran.
    values : dict of str to float or int
        Per-trial quantities: ``eps = arccos(R) / pi`` (error against the clean rule of the
        ground truth), ``R`` (overlap of the student's direction with the ground truth: the
        teacher, unless ``truth_cos < 1``), ``rho`` (overlap with the probe's direction
        orthogonal to the teacher), ``norm = |J| / sqrt(N)`` (in the learner's convention),
        ``eps_noisy`` (test error on fresh labels from the teacher's channel),
        ``frac_mislabelled_kept`` (fraction of kept examples labelled against ``sign(T . x)``),
        ``theta`` (the probe's angle in degrees: the task's, or what a learned probe achieved),
        ``p_agree`` (fraction of drawn examples labelled with the sign of the probe field),
        ``alpha_prune`` (examples kept per dimension: ``round(f P_tot) / N``, or with a metric
        that filters examples out ``round(f P_eligible) / N``, or the number a Bernoulli
        selection kept over ``N``), and the learner's own
        (max-margin: ``kappa``, ``n_support``).
    """

    task: Task
    values: dict

    def row(self) -> dict:
        """One flat row (the sweep CSV's columns)."""
        t = self.task
        return {"n": t.n, "alpha_tot": t.alpha_tot, "f": t.f, "keep": t.keep, "theta": t.theta,
                "learner": t.learner.name, "metric": t.metric.name, **t.options(),
                "sampling": t.sampling,
                "replicate": t.replicate, "seed": t.seed, "p_tot": t.p_tot,
                "p_kept": int(round(self.values["alpha_prune"] * t.n)), **self.values}


def memory_limit() -> int:
    """Bytes one trial may use: half the machine's physical memory (8 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


SAMPLINGS = ("fields", "full")
_PROBE_STREAM = 0x5EED9B0B  # second entropy word of a learned probe's random stream
_TRUTH_STREAM = 0x7E0_7A11  # ... and of the full path's third direction of the ground truth
CHUNK = 1 << 20  # examples drawn at once on the "fields" path; part of the seeding, keep fixed


def _trial_bytes(n, p_tot, k, sampling):
    if sampling == "full":
        # The drawn inputs, their four fields, the kept copy and the solver's working copy.
        return 8 * (n * (p_tot + 2 * k) + 6 * p_tot)
    # One chunk of fields and its sort, the kept candidates, the kept inputs and the solver's.
    return 8 * (12 * min(p_tot, CHUNK) + 12 * k + 2 * n * k)


def make_task(n, alpha_tot, *, f=1.0, keep="hard", theta=0.0, learner="max-margin",
              metric="margin", replicate=0, seed=0, sampling="fields", flip=0.0,
              teacher_noise=0.0, link="sign", link_scale=None, truth_cos=1.0,
              probe_truth_cos=None):
    """Validate one trial and return its :class:`Task` (``flip``, ``teacher_noise``, ``link``,
    ``link_scale``, ``truth_cos``, ``probe_truth_cos``: the label model,
    :class:`~perceptron_pruning.noise.LabelNoise`).

    Raises
    ------
    ValueError
        Naming the parameter and its valid range, or, when the trial would not fit in memory
        (:func:`memory_limit`), naming ``n``, ``alpha_tot`` and the limit.
    """
    n = check_int("n", n, minimum=1)
    alpha_tot = check_real("alpha_tot", alpha_tot, low=0.0, low_open=True)
    f = check_f(f)
    keep = check_keep(keep)
    theta = check_theta(theta)
    learner, metric = get_learner(learner), get_metric(metric)
    noise = LabelNoise(flip=flip, teacher_noise=teacher_noise, link=link,
                       link_scale=link_scale, truth_cos=truth_cos,
                       probe_truth_cos=probe_truth_cos)
    replicate = check_int("replicate", replicate, minimum=0)
    seed = check_int("seed", seed, minimum=0, maximum=2**64 - 1)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {', '.join(SAMPLINGS)}; got {sampling!r}")
    if alpha_tot * n > 2**53:
        raise ValueError(f"alpha_tot * n must be at most 2^53 examples; got alpha_tot = "
                         f"{alpha_tot:g}, n = {n}")
    if round(alpha_tot * n) < 1:
        raise ValueError(f"alpha_tot * n must be at least 1 example; got alpha_tot = "
                         f"{alpha_tot:g}, n = {n}")
    if n == 1 and theta != 0.0:
        raise ValueError("theta must be 0 when n = 1 (no direction is orthogonal to the teacher)")
    metric.check_pairing(keep=keep, learner=learner)
    metric.check_point(theta=theta, noise=noise)
    _check_truth(noise, theta, n, metric)
    p_tot = int(round(alpha_tot * n))
    k = n_kept(p_tot, f)
    share = metric.eligible_fraction(theta=theta, noise=noise)
    if share < 1.0 and getattr(metric, "probe_alpha", None) is not None:
        # A filter's share depends on the probe's angle: a learned probe's, as predicted.
        share = metric.eligible_fraction(theta=metric.probe_theta(noise), noise=noise)
    if share < 1.0 and int(round(f * share * p_tot)) < 1:
        raise ValueError(f"f * P_tot * eligible fraction must keep at least one example: f = "
                         f"{f:g}, P_tot = {p_tot}, and metric {metric} leaves about "
                         f"{share:.3g} of the examples; raise f or alpha_tot")
    need, limit = _trial_bytes(n, p_tot, k, sampling), memory_limit()
    probe_alpha = getattr(metric, "probe_alpha", None)
    if probe_alpha is not None:  # the learned probe's training set and the solver's copy
        need = max(need, 16 * n * max(1, round(probe_alpha * n)))
    if need > limit:
        raise ValueError(f"n = {n} with alpha_tot = {alpha_tot:g} (P_tot = {p_tot}, f = {f:g}) "
                         f"needs about {need / 2**30:.3g} GiB per trial, over the limit of "
                         f"{limit / 2**30:.3g} GiB (half this machine's memory); lower n, "
                         "alpha_tot or f")
    return Task(n, alpha_tot, f, keep, theta, learner, metric, replicate, seed, sampling, noise)


def _check_truth(noise, theta, n, metric):
    """Refuse a ground truth the trial cannot place: invalid cosines at this ``theta``, an
    explicit ``probe_truth_cos`` for a learned probe (whose angle is an outcome), or a ``T*``
    leaving the teacher/probe plane in fewer than 3 dimensions.
    """
    if noise.standard_truth and noise.probe_truth_cos is None:
        return
    if noise.probe_truth_cos is not None and getattr(metric, "probe_alpha", None) is not None:
        raise ValueError("probe_truth_cos needs a fixed probe: a learned probe's angle is an "
                         "outcome; leave probe_truth_cos at None (cos(theta) truth_cos)")
    _, _, c3 = noise.truth_geometry(theta)
    if c3 > 0.0 and n < 3:
        raise ValueError(f"n must be at least 3 when the ground truth leaves the generator/probe "
                         f"plane (truth_cos = {noise.truth_cos:g}, probe_truth_cos = "
                         f"{noise.probe_truth_cos}); got n = {n}")


def _truth_full(task, theta, teacher, perp):
    """The ground truth ``T*`` on the ``"full"`` path: ``a T + b v + c3 e2`` with ``e2`` a random
    unit direction orthogonal to ``T`` and ``v``, from a stream of its own so that every other
    draw of the trial is unchanged.
    """
    a, b, c3 = task.noise.truth_geometry(theta)
    truth = a * teacher + b * perp
    if c3 > 0.0:
        rng = np.random.default_rng(np.random.SeedSequence([task.seed, _TRUTH_STREAM]))
        e2 = rng.standard_normal(task.n)
        for _ in range(2):  # Gram-Schmidt twice: orthogonal to round-off
            e2 -= (e2 @ teacher) * teacher + (e2 @ perp) * perp
        truth = truth + c3 * e2 / np.linalg.norm(e2)
    return truth


def run_trial(task: Task) -> Trial:
    """Run one task; the numbers depend only on the task, never on threads or workers.

    ``sampling="fields"`` (the default) draws, for every example, only what a selection rule
    looks at: the teacher field ``u`` and the field ``w`` along the probe's direction orthogonal
    to the teacher, in chunks of :data:`CHUNK` examples, keeping the running ``round(f P_tot)``
    smallest metric keys. Only then are the other ``N - 2`` Gaussian coordinates drawn, for the
    kept examples alone. The inputs are written in the basis where the teacher is the first
    axis and the probe lies in the plane of the first two; by rotation invariance of the
    Gaussian inputs and of the learners this is exact in distribution, at cost
    ``O(P_tot + P_kept N)`` and memory ``O(CHUNK + P_kept N)``. Each example's bulk coordinates
    come from its own counter-based stream, so trials of the same seed at different ``f`` share
    their examples, as on the full path. ``sampling="full"`` draws the
    whole ``P_tot x N`` matrix, a random teacher and probe: the reference path.

    With a ground truth other than the generator (``truth_cos < 1``), ``R`` and ``eps`` are
    measured against ``T* = a w_g + b v + c3 e2`` (:meth:`LabelNoise.truth_geometry`): on the
    ``"fields"`` path ``e2`` is the first bulk axis, exact in distribution because the bulk is
    independent of the selection; ``eps_noisy`` stays the error on the generator's labels.

    Parameters
    ----------
    task : Task

    Returns
    -------
    Trial
    """
    theta = probe_angle(task)
    if task.sampling == "full":
        w, fit, teacher, perp, kept = _run_full(task, theta)
        R_num, rho_num = w @ teacher, w @ perp
        if not task.noise.standard_truth:
            T_num = w @ _truth_full(task, theta, teacher, perp)
    else:
        w, fit, kept = _run_fields(task, theta)
        R_num, rho_num = w[0], (w[1] if w.size > 1 else 0.0)
        if not task.noise.standard_truth:
            a, b, c3 = task.noise.truth_geometry(theta)
            T_num = a * w[0] + (b * w[1] if b else 0.0) + (c3 * w[2] if c3 else 0.0)
    nrm = float(np.linalg.norm(w))
    R_gen = float(np.clip(R_num / nrm, -1.0, 1.0))  # overlap with the labels' generator
    R = R_gen if task.noise.standard_truth else float(np.clip(T_num / nrm, -1.0, 1.0))
    rho = float(rho_num / nrm)
    return Trial(task=task, values={"eps": float(np.arccos(R) / np.pi), "R": R, "rho": rho,
                                    "norm": nrm / float(np.sqrt(task.n)),
                                    "eps_noisy": float(task.noise.eps_noisy(R_gen)),
                                    "frac_mislabelled_kept": kept.frac_wrong,
                                    "theta": theta, "p_agree": kept.p_agree,
                                    "alpha_prune": kept.k / task.n, **fit.stats})


def probe_angle(task: Task) -> float:
    """The probe's angle to the teacher in degrees: ``task.theta``, or for a metric that learns
    its probe (``probe_alpha``) the angle the probe it trains achieves. That probe's training set
    comes from a stream of its own (``SeedSequence([seed, _PROBE_STREAM])``, whose entropy
    differs from every stream of the examples), so the scored examples are the same whatever
    the probe. The angle is in [0, 180]: a probe trained on very few examples can point away
    from the teacher.
    """
    ss = np.random.SeedSequence([task.seed, _PROBE_STREAM])
    th = task.metric.learned_probe(task.n, task.noise, np.random.default_rng(ss))
    return task.theta if th is None else float(th)


@dataclass(frozen=True)
class _Kept:
    k: int  # examples kept
    frac_wrong: float  # of them, labelled against sign(u)
    p_agree: float  # of all drawn, labelled with the sign of the probe field


def _frac_wrong(u, y):
    return float(np.mean(y != np.where(u >= 0.0, 1.0, -1.0)))


def _run_full(task, theta):
    rng = np.random.default_rng(task.seed)
    prob = make_problem(task.n, task.p_tot, theta=0.0, rng=rng)
    # The probe at the (possibly learned) angle, from the problem's random orthogonal direction:
    # the same draws as make_problem(theta=theta) for a fixed probe.
    c, s = probe_cos_sin(theta)
    probe = c * prob.teacher + s * prob.probe_perp
    X = prob.X
    u = X @ prob.teacher
    y = task.noise.labels(u, rng) if not task.noise.clean else prob.y
    t = X @ probe
    fields = Fields(u=u, w=X @ prob.probe_perp, t=t, y=y)
    idx = task.metric.select(fields, f=task.f, keep=task.keep, rng=rng)
    fit = _fit(task, X[idx], y[idx], Fields(u=u[idx], w=fields.w[idx], t=t[idx], y=y[idx]))
    return (np.asarray(fit.w, dtype=float), fit, prob.teacher, prob.probe_perp,
            _Kept(idx.size, _frac_wrong(u[idx], y[idx]), float(np.mean(y * t > 0.0))))


def kept_fields(task: Task, theta=None):
    """The kept examples on the ``"fields"`` path, in the order they were drawn.

    Parameters
    ----------
    task : Task
    theta : float, optional
        The probe's angle in degrees (default ``task.theta``; a learned probe's realised angle,
        :func:`probe_angle`).

    Returns
    -------
    index : ndarray of int, shape (P_kept,)
        Each kept example's position in the stream of ``P_tot`` draws.
    fields : Fields
        Their fields, arrays of shape ``(P_kept,)``.
    p_agree : float
        Fraction of the drawn examples whose label has the sign of the probe field.
    """
    p = task.p_tot
    # A metric may filter examples out (an infinite key) and keep round(f P_eligible) of the
    # rest; P_eligible is known only at the end, so keep the round(f P_tot) >= that smallest.
    k = task.p_kept
    # A Bernoulli selection keeps every example it draws: no running top-k.
    bern = task.metric.bernoulli(task.keep)
    c, s = probe_cos_sin(task.theta if theta is None else theta)
    n_chunks = -(-p // CHUNK)
    streams = np.random.SeedSequence(task.seed).spawn(1 + n_chunks)[1:]
    cand = None  # running candidates: (key, index, u, w, y)
    eligible = agree = 0
    for ci, ss in enumerate(streams):
        m = min(CHUNK, p - ci * CHUNK)
        rng = np.random.default_rng(ss)
        u = rng.standard_normal(m)
        w = rng.standard_normal(m) if task.n > 1 else np.zeros(m)
        y = task.noise.labels(u, rng)
        t = c * u + s * w
        fields = Fields(u=u, w=w, t=t, y=y)
        if bern:
            kept = task.metric.draw(fields, f=task.f, rng=rng)
            key = np.where(kept, 0.0, np.inf)
        else:
            key = np.asarray(task.metric.key(fields, keep=task.keep, rng=rng), dtype=np.float64)
        eligible += int(np.count_nonzero(key < np.inf))
        agree += int(np.count_nonzero(y * t > 0.0))
        new = (key, np.arange(ci * CHUNK, ci * CHUNK + m), u, w, y)
        if bern:
            new = tuple(z[kept] for z in new)
        cand = new if cand is None else tuple(np.concatenate(z) for z in zip(cand, new))
        if not bern and cand[0].size > k:
            order = np.lexsort((cand[1], cand[0]))[:k]  # smallest keys, ties to the first drawn
            cand = tuple(z[order] for z in cand)
    k_final = eligible if bern else n_kept_eligible(eligible, p, task.f, task.metric)
    if k_final == 0:
        raise ValueError(f"the Bernoulli selection kept no example of P_tot = {p} at f = "
                         f"{task.f:g}; raise f or alpha_tot")
    if k_final < cand[0].size:
        order = np.lexsort((cand[1], cand[0]))[:k_final]
        cand = tuple(z[order] for z in cand)
    order = np.argsort(cand[1])
    _, index, u, w, y = (z[order] for z in cand)
    return index, Fields(u=u, w=w, t=c * u + s * w, y=y), agree / p


def _bulk(task, index):
    # Example i's N - 2 bulk coordinates come from its own counter-based stream (Philox at
    # counter (0, i, 0, 0)), so an example has the same input whichever others are kept: runs
    # at different f share their data (common random numbers), as on the full path.
    key = np.random.SeedSequence(task.seed).spawn(1)[0].generate_state(2, dtype=np.uint64)
    bits = np.random.Philox(key=key)
    gen = np.random.Generator(bits)
    state = bits.state  # resetting the state is much cheaper than a new generator per row
    ctr = np.zeros(4, dtype=np.uint64)
    Z = np.empty((index.size, task.n - 2))
    for r, i in enumerate(index):
        ctr[1] = i
        state["state"]["counter"] = ctr
        state.update(buffer_pos=4, has_uint32=0, uinteger=0)
        bits.state = state
        gen.standard_normal(out=Z[r])
    return Z


def _run_fields(task, theta):
    index, kept, agree = kept_fields(task, theta)
    X = np.empty((index.size, task.n))
    X[:, 0] = kept.u
    if task.n > 1:
        X[:, 1] = kept.w
    if task.n > 2:
        X[:, 2:] = _bulk(task, index)
    fit = _fit(task, X, kept.y, kept)
    return (np.asarray(fit.w, dtype=float), fit,
            _Kept(index.size, _frac_wrong(kept.u, kept.y), agree))


def _fit(task, X, y, fields):
    """Train the learner on the kept examples, with the metric's loss weights if it has any."""
    sw = task.metric.loss_weight(fields, f=task.f)
    if sw is None:
        return task.learner.fit(X, y)
    return task.learner.fit(X, y, sample_weight=sw)
