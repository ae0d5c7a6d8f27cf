"""Shared fixtures and helpers for the test suite.

The tests expect ``NUMBA_CACHE_DIR`` to point at a writable directory (CI sets it; locally use
e.g. ``export NUMBA_CACHE_DIR=/tmp/nbc``): Numba reads it when the package is first imported, so
it cannot be defaulted from here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp


def clarabel_max_margin(X, y, *, tol=1e-11):
    """Independent oracle: solve ``min |v|^2 / 2  s.t.  y_mu v . x_mu >= 1`` with Clarabel.

    Returns ``(v, z)``: the primal solution and the constraint multipliers. The margin of the
    max-margin perceptron is ``1 / |v|`` and its unit weight vector ``v / |v|``.
    """
    import clarabel

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    P, N = X.shape
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = tol
    settings.tol_gap_rel = tol
    settings.tol_feas = tol
    settings.tol_ktratio = 1e-10
    settings.max_iter = 500
    settings.presolve_enable = False
    solver = clarabel.DefaultSolver(
        sp.identity(N, format="csc"), np.zeros(N),
        sp.csc_matrix(-(X * y[:, None])), -np.ones(P),
        [clarabel.NonnegativeConeT(P)], settings,
    )
    sol = solver.solve()
    assert str(sol.status) == "Solved", f"oracle failed: {sol.status}"
    return np.array(sol.x), np.array(sol.z)


@pytest.fixture
def oracle():
    """The Clarabel QP oracle (see :func:`clarabel_max_margin`)."""
    return clarabel_max_margin


def teacher_problem(rng, n, p):
    """``p`` Gaussian inputs in ``n`` dimensions labelled by a random teacher (no package code)."""
    t = rng.standard_normal(n)
    X = rng.standard_normal((p, n))
    y = np.where(X @ t >= 0.0, 1.0, -1.0)
    return X, y
