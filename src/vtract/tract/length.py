"""Vocal-tract length from formant frequencies.

A uniform tube closed at the glottis and open at the lips resonates at
``F_i = (2 i - 1) c / (4 L)``. Following the formant-spacing regression
(Reby & McComb 2003; Lammert & Narayanan 2015 show the higher formants carry
most of the length information), ``Delta F`` is the least-squares slope of
``F_i`` against ``(i - 1/2)`` through the origin over the first formants and
``L = c / (2 Delta F)``. The slope weights each formant by ``(i - 1/2)^2``,
so F3 and F4 dominate, which is what makes the estimate robust to the
articulation-driven movement of F1 and F2.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "HUMAN_LENGTH_RANGE_CM",
    "SPEED_OF_SOUND_CM_S",
    "length_from_formants",
    "sections_for_length",
]

#: Speed of sound in warm humid air (cm/s), as in Wakita (1973) and DESIGN.md.
SPEED_OF_SOUND_CM_S = 35000.0

#: Plausible adult and child tract lengths (cm); estimates are clipped to this range.
HUMAN_LENGTH_RANGE_CM = (10.0, 22.0)


@njit(cache=True)
def length_from_formants(formants_hz: np.ndarray, n_use: int, c: float) -> float:
    """Tube length (cm) from the first ``n_use`` formants; ``nan`` if there are none.

    ``L = c / (2 Delta F)`` with ``Delta F = sum (i-1/2) F_i / sum (i-1/2)^2``.
    """
    n = min(n_use, formants_hz.shape[0])
    if n == 0:
        return np.nan
    num = 0.0
    den = 0.0
    for i in range(n):
        x = i + 0.5
        num += x * formants_hz[i]
        den += x * x
    spacing = num / den
    if spacing <= 0.0:
        return np.nan
    return c / (2.0 * spacing)


def sections_for_length(length_cm: float, sr: float, c: float = SPEED_OF_SOUND_CM_S) -> int:
    """Number of lossless-tube sections ``N = round(2 L fs / c)`` (at least 2)."""
    return max(2, round(2.0 * length_cm * sr / c))
