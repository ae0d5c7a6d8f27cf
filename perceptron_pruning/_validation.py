"""Argument checks shared by the public API: one clear ``ValueError`` per bad parameter."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

KEEP_RULES = ("hard", "easy", "random", "uncertainty")


def check_int(name: str, value, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in ``[minimum, maximum]``."""
    rng = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer {rng}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {rng}, got {value!r}")
    return int(value)


def check_real(name: str, value, *, low: float, high: float = math.inf,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float inside the stated interval, or raise naming the interval."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    lo_ok = x > low if low_open else x >= low
    hi_ok = x < high if high_open else x <= high
    if not math.isfinite(x) or not (lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open or high == math.inf else "]"
        hi = "inf" if high == math.inf else f"{high:g}"
        raise ValueError(f"{name} must be in {lb}{low:g}, {hi}{rb}, got {value!r}")
    return x


def check_keep(keep) -> str:
    """Return the pruning rule, or raise listing the valid names."""
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}; got {keep!r}")
    return keep


def check_theta(theta) -> float:
    """Probe angle in degrees, in [0, 90]."""
    return check_real("theta", theta, low=0.0, high=90.0)


def renamed_theta(func):
    """Accept the old keyword ``theta_deg`` for ``theta`` (degrees), with a FutureWarning."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "theta_deg" in kwargs:
            if "theta" in kwargs:
                raise ValueError("give theta (degrees), not both theta and theta_deg")
            warnings.warn(f"{func.__name__}(theta_deg=...) is renamed theta=... (degrees)",
                          FutureWarning, stacklevel=2)
            kwargs["theta"] = kwargs.pop("theta_deg")
        return func(*args, **kwargs)

    return wrapper


def check_f(f) -> float:
    """Kept fraction, in (0, 1]."""
    return check_real("f", f, low=0.0, high=1.0, low_open=True)
