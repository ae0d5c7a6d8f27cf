"""The teaching notebooks run top to bottom (in fast mode) and are stored without outputs.

Every ``*.ipynb`` under ``notebooks/`` (solutions included) is executed in a fresh ``python3``
kernel with ``PERCEPTRON_PRUNING_FAST=1`` and ``MPLBACKEND=Agg``, from a temporary working
directory. A notebook committed with outputs or execution counts fails a separate, fast test.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOKS]
CELL_TIMEOUT = 600  # seconds; a fast-mode notebook takes well under a minute in total


@pytest.fixture
def kernel_env(monkeypatch, tmp_path_factory):
    """Environment inherited by the kernel: fast mode, no GUI backend, a shared Numba cache."""
    monkeypatch.setenv("PERCEPTRON_PRUNING_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    cache = os.environ.get("NUMBA_CACHE_DIR")
    # The kernel runs in a temporary directory: make a relative cache path absolute so that
    # compiled kernels are shared between notebooks (and with the rest of the test suite).
    cache = os.path.abspath(cache) if cache else str(tmp_path_factory.getbasetemp() / "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", cache)


def _run(nb, workdir):
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    return client.execute()


def test_notebooks_found():
    names = {p.name for p in NOTEBOOKS}
    for stem in ("01_power_law_learning_curves", "02_pruning_with_a_perfect_metric",
                 "03_imperfect_metrics", "04_explore", "05_learners_and_label_noise"):
        assert f"{stem}.ipynb" in names
    assert any(p.parent.name == "solutions" for p in NOTEBOOKS)


def test_kernel_is_this_interpreter(kernel_env, tmp_path):
    """``kernel_name="python3"`` must start the interpreter of this environment, not another one."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.prefix)\nprint(os.environ['PERCEPTRON_PRUNING_FAST'])")])
    out = _run(nb, tmp_path).cells[0].outputs[0]["text"].split()
    assert Path(out[0]).resolve() == Path(sys.prefix).resolve()
    assert out[1] == "1"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name}: stored widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_uses_fast_mode_and_public_api(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                       if c.cell_type == "code")
    assert 'os.environ.get("PERCEPTRON_PRUNING_FAST") == "1"' in source
    assert not re.search(r"perceptron_pruning\._|perceptron_pruning import _", source), \
        "notebooks use the public API only"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, kernel_env, tmp_path):
    nb = nbformat.read(path, as_version=4)
    try:
        _run(nb, tmp_path)
    except nbclient.exceptions.CellExecutionError as exc:  # pragma: no cover - failure report
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    assert list(tmp_path.iterdir()) == [], "notebooks must not write files to the working directory"
