"""Vocal-tract estimation: from a window of speech to tube areas.

Public entry points: :func:`estimate_tract`, :func:`estimate_tracts` and the
:class:`TractEstimate` they return. Kernels live in one module per idea:
:mod:`~vtract.tract.preprocess`, :mod:`~vtract.tract.lpc`,
:mod:`~vtract.tract.formants`, :mod:`~vtract.tract.tube`,
:mod:`~vtract.tract.length`, :mod:`~vtract.tract.paper`,
:mod:`~vtract.tract.wakita`, :mod:`~vtract.tract.default` (with
:mod:`~vtract.tract.formant_poles`, :mod:`~vtract.tract.formant_fit` and the
MRI shape prior :mod:`~vtract.tract.shape_prior` /
:mod:`~vtract.tract.mri_shapes`), :mod:`~vtract.tract.batch` (parallel
windows), and :mod:`~vtract.tract.highpass` (the analysis high-pass the
feature extraction runs over a whole recording before cutting windows).
"""

from __future__ import annotations

from .estimate import METHODS, estimate_tract, estimate_tracts
from .result import TractEstimate

__all__ = ["METHODS", "TractEstimate", "estimate_tract", "estimate_tracts"]
