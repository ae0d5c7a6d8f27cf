"""Simulation results: per-trial values with means and standard errors of every quantity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Quantities", "SimulationResult", "sem"]


def sem(x) -> float:
    """Standard error of the mean, ``std(x, ddof=1) / sqrt(n)`` (NaN for fewer than two values).

    Parameters
    ----------
    x : array_like, shape (S,)
        Per-trial values.

    Returns
    -------
    float
    """
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


class Quantities:
    """Attribute access to a result's ``values`` dict: ``result.R`` is ``result.values["R"]``.

    Subclasses may derive more names in :meth:`_derived` (e.g. ``q_mean``).
    """

    def _derived(self, name, values):
        raise KeyError(name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        try:
            return self._derived(name, values)
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no quantity {name!r}; it has "
                                 f"{', '.join(self._names(values))}") from None

    def _names(self, values):
        return list(values)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._names(self.__dict__.get("values", {}))))


@dataclass(frozen=True)
class SimulationResult(Quantities):
    """All trials at one parameter point.

    Every per-trial quantity ``q`` (``eps``, ``R``, ``rho``, ``norm``, ``eps_noisy``,
    ``frac_mislabelled_kept``, and the learner's own, for max-margin ``kappa`` and
    ``n_support``) is readable as ``result.q`` (ndarray, shape ``(S,)``,
    replicate order), ``result.q_mean`` and ``result.q_sem`` (standard error of the mean);
    ``theta`` and ``alpha_prune``, realised per trial by a learned probe or a filtering metric,
    are point attributes (their means), so their per-trial arrays are ``result.values["theta"]``
    and ``result.values["alpha_prune"]``.

    Attributes
    ----------
    n, p_tot, p_kept : int
        Dimension, examples drawn and examples kept (with a filtering metric, the mean over
        trials, rounded).
    alpha_tot, alpha_prune, f : float
        ``p_tot / n`` requested, ``p_kept / n`` realised (mean over trials), and the kept
        fraction.
    keep : str
        Pruning rule.
    theta : float
        Probe angle in degrees (a learned probe's: the mean over trials of the angle achieved).
    learner, metric : str
        The names of the plug-ins that ran.
    options : dict
        Their hyper-parameters (for max-margin ``tol``) and the label model (``flip``,
        ``teacher_noise``, ``link``, ``link_scale``, ``truth_cos``, ``probe_truth_cos``); they are
        keys of :meth:`summary`.
    sampling : str
        How the data were drawn (``"fields"`` or ``"full"``).
    seeds : ndarray of uint64, shape (S,)
        Each trial's seed (``numpy.random.default_rng(seed)`` reproduces it).
    trials : tuple of Trial
        The trials, in replicate order.
    values : dict of str to ndarray, shape (S,)
        Per-trial quantities.
    """

    n: int
    p_tot: int
    p_kept: int
    alpha_tot: float
    alpha_prune: float
    f: float
    keep: str
    theta: float
    learner: str
    metric: str
    options: dict
    sampling: str
    seeds: np.ndarray
    trials: tuple
    values: dict

    def _derived(self, name, values):
        for suffix, fn in (("_mean", lambda v: float(np.mean(v))), ("_sem", sem)):
            if name.endswith(suffix) and name[: -len(suffix)] in values:
                return fn(values[name[: -len(suffix)]])
        raise KeyError(name)

    def _names(self, values):
        return [f"{k}{s}" for k in values for s in ("", "_mean", "_sem")]

    @property
    def replicates(self) -> int:
        """Number of trials."""
        return len(self.trials)

    def summary(self) -> dict:
        """The point and ``q_mean``, ``q_sem`` for every quantity ``q``: one row of a table
        (``lam`` is None for a learner without one).
        """
        row = {"n": self.n, "alpha_tot": self.alpha_tot, "f": self.f, "keep": self.keep,
               "theta": self.theta, "learner": self.learner, "metric": self.metric,
               "lam": None, **self.options,
               "sampling": self.sampling, "p_tot": self.p_tot, "p_kept": self.p_kept,
               "alpha_prune": self.alpha_prune, "replicates": self.replicates}
        if "p_agree" in self.values:
            row["p_agree"] = float(np.mean(self.values["p_agree"]))
        for q, v in self.values.items():
            row[f"{q}_mean"] = float(np.mean(v))
            row[f"{q}_sem"] = sem(v)
        return row

    def to_dict(self) -> dict:
        """JSON-ready summary (the CLI's ``--json`` keys): the summary, ``seeds`` (the count) and
        ``per_seed`` (one object per trial with its seed and quantities).
        """
        d = self.summary()
        d["seeds"] = self.replicates
        if "n_support" in self.values:
            d["alpha_support_mean"] = float(np.mean(self.values["n_support"])) / self.n
        d["per_seed"] = [{"replicate": t.task.replicate, "seed": t.task.seed, **t.values}
                         for t in self.trials]
        return d
