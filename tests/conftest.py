"""Test-suite configuration. Independent reference implementations live in ``reference.py``.

The tests expect ``NUMBA_CACHE_DIR`` to point at a writable directory (CI sets it; locally use
e.g. ``export NUMBA_CACHE_DIR=/tmp/nbc``): Numba reads it when the package is first imported, so
it cannot be defaulted from here.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Property tests draw the same examples on every run (reproducible CI) and keep no example
# database; HYPOTHESIS_PROFILE=explore searches afresh each run. (Hypothesis still caches source
# constants under .hypothesis/, which belongs in .gitignore.)
settings.register_profile("repro", derandomize=True, database=None)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))
