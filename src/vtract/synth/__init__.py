"""Vowel synthesis from known vocal-tract area functions (ground truth for estimators).

- :func:`tube_vowel` - steady vowel from areas (glottis to lips), glottal
  source (LF, Rosenberg or impulses) with jitter/shimmer, optional losses.
- :func:`transfer_function`, :func:`chain_matrix`, :func:`tube_resonances`,
  :func:`radiation_impedance` - the frequency-domain tube model.
- :func:`glottal_source`, :func:`lf_flow_derivative`, :func:`rosenberg_flow`.
- :func:`log_area_correlation`, :func:`area_profile` - compare an estimated
  area function with a true one on a normalised glottis-to-lips axis.

Example
-------
>>> import numpy as np
>>> from vtract.synth import tube_vowel
>>> x = tube_vowel(np.full(17, 4.0), 1.0, 16000, f0=110, duration=0.3)
"""

from __future__ import annotations

from .compare import area_profile, log_area_correlation
from .glottal import (
    GLOTTAL_MODELS,
    GlottalModelError,
    LFParameters,
    glottal_source,
    lf_flow_derivative,
    lf_parameters,
    rosenberg_flow,
)
from .tube import (
    AIR,
    GLOTTIS_MODELS,
    AirConstants,
    TubeShapeError,
    chain_matrix,
    radiation_impedance,
    transfer_function,
    tube_resonances,
)
from .vowel import tube_impulse_response, tube_vowel

__all__ = [
    "AIR",
    "GLOTTAL_MODELS",
    "GLOTTIS_MODELS",
    "AirConstants",
    "GlottalModelError",
    "LFParameters",
    "TubeShapeError",
    "area_profile",
    "chain_matrix",
    "glottal_source",
    "lf_flow_derivative",
    "lf_parameters",
    "log_area_correlation",
    "radiation_impedance",
    "rosenberg_flow",
    "transfer_function",
    "tube_impulse_response",
    "tube_resonances",
    "tube_vowel",
]
