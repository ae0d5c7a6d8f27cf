"""Statistical mechanics of data pruning in the teacher-student perceptron.

Public API: :func:`simulate` (finite-size trials), the :mod:`.theory` and :mod:`.frontier`
modules (``N -> infinity``), :func:`fit` (every learner, exact with a certificate) and
:func:`max_margin` (the max-margin student in detail), :func:`make_problem` and :func:`prune`
(data and pruning), :class:`LabelNoise` (flips and teacher noise), and the plug-in registries of
learners and metrics (:mod:`.registry`, :mod:`.learners`, :mod:`.metrics`).
"""

from . import frontier, learners, metrics, registry, sweep, theory
from .data import Problem, make_problem
from .fitting import fit
from .learners import Fit
from .maxmargin import MaxMarginResult, max_margin
from .noise import LabelNoise
from .pruning import prune
from .registry import get_learner, get_metric, register_learner, register_metric
from .results import SimulationResult
from .simulate import simulate
from .trial import Task, Trial

__version__ = "0.2.0.dev0"
__all__ = ["Fit", "LabelNoise", "MaxMarginResult", "Problem", "SimulationResult", "Task", "Trial",
           "__version__", "fit", "frontier", "get_learner", "get_metric", "learners",
           "make_problem", "max_margin", "metrics", "prune", "register_learner",
           "register_metric", "registry", "simulate", "sweep", "theory"]
