"""Statistical mechanics of data pruning in the teacher-student perceptron.

Public API: :func:`max_margin` (exact max-margin student), :func:`simulate` (finite-size trials),
:func:`make_problem` and :func:`prune` (data and pruning) and the :mod:`.theory` module.
"""

from .data import Problem, make_problem
from .maxmargin import MaxMarginResult, max_margin
from .pruning import prune
from .simulate import SimulationResult, Trial, simulate

__version__ = "0.1.0"
__all__ = ["MaxMarginResult", "Problem", "SimulationResult", "Trial", "__version__",
           "make_problem", "max_margin", "prune", "simulate"]
