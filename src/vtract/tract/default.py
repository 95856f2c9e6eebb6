"""The project's default estimator (first version: Wakita with formant length).

Replaced by the tuned estimator once the ground-truth harness is in place.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .result import TractEstimate

__all__ = ["estimate_default"]


def estimate_default(
    x: np.ndarray, rate: int, *, n_sections: int | None = None, length_cm: float | None = None
) -> TractEstimate:
    """Default estimate of one validated frame (see module docstring)."""
    from .estimate import _estimate_lpc

    est = _estimate_lpc(x, rate, n_sections, length_cm)
    return replace(est, method="default")
