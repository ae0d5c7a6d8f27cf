"""Statistical mechanics of data pruning in the teacher-student perceptron.

Public API: :func:`simulate` (finite-size trials), the :mod:`.theory` and :mod:`.frontier`
modules (``N -> infinity``), :func:`max_margin` (exact max-margin student), :func:`make_problem`
and :func:`prune` (data and pruning), and the plug-in registries of learners and metrics
(:mod:`.registry`, :mod:`.learners`, :mod:`.metrics`).
"""

from . import frontier, learners, metrics, registry, sweep, theory
from .data import Problem, make_problem
from .maxmargin import MaxMarginResult, max_margin
from .pruning import prune
from .registry import get_learner, get_metric, register_learner, register_metric
from .results import SimulationResult
from .simulate import simulate
from .trial import Task, Trial

__version__ = "0.2.0.dev0"
__all__ = ["MaxMarginResult", "Problem", "SimulationResult", "Task", "Trial", "__version__",
           "frontier", "get_learner", "get_metric", "learners", "make_problem", "max_margin",
           "metrics", "prune", "register_learner", "register_metric", "registry", "simulate",
           "sweep", "theory"]
