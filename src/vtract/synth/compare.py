"""Compare an estimated area function with a true one.

Both tubes are mapped onto a common *normalised* glottis-to-lips axis: point
``i`` of ``n_points`` sits at ``u_i = (i + 0.5) / n_points`` of each tube's
own length, and takes the area of the section containing it (tubes are
piecewise constant). The shape similarity is the Pearson correlation of the
natural-log areas at those points; it ignores overall scale (gain) and
length, which are judged separately (length error in cm).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .tube import TubeShapeError, _as_tube

__all__ = ["area_profile", "log_area_correlation"]


def area_profile(
    areas_cm2: ArrayLike, section_length_cm: float | ArrayLike, n_points: int = 40
) -> np.ndarray:
    """Areas at ``n_points`` equally spaced points of the normalised length.

    Parameters
    ----------
    areas_cm2 : array_like
        Areas (cm^2), glottis to lips.
    section_length_cm : float or array_like
        Section length(s) (cm).
    n_points : int, default 40
        Number of points on ``[0, 1]`` (midpoints of equal cells).

    Returns
    -------
    numpy.ndarray
        Areas (cm^2) at ``u = (i + 0.5) / n_points`` of the tube length.
    """
    if n_points < 2:
        raise TubeShapeError(f"n_points must be >= 2, got {n_points!r}")
    areas, lengths = _as_tube(areas_cm2, section_length_cm)
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    u = (np.arange(n_points) + 0.5) / n_points * edges[-1]
    idx = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, areas.size - 1)
    return areas[idx]


def log_area_correlation(
    est_areas_cm2: ArrayLike,
    est_section_length_cm: float | ArrayLike,
    true_areas_cm2: ArrayLike,
    true_section_length_cm: float | ArrayLike,
    n_points: int = 40,
) -> float:
    """Pearson r between log-areas of two tubes on the normalised axis.

    Parameters
    ----------
    est_areas_cm2, true_areas_cm2 : array_like
        Areas (cm^2), glottis to lips; must be finite and positive.
    est_section_length_cm, true_section_length_cm : float or array_like
        Section length(s) (cm).
    n_points : int, default 40
        Points on the normalised axis (see :func:`area_profile`).

    Returns
    -------
    float
        Correlation in [-1, 1]; ``nan`` if either profile is constant.
    """
    a = np.log(area_profile(est_areas_cm2, est_section_length_cm, n_points))
    b = np.log(area_profile(true_areas_cm2, true_section_length_cm, n_points))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
