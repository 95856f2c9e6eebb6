"""The mean human vowel shape, as cosine coefficients of the log-area function.

The default estimator (:mod:`vtract.tract.default`) centres its
formant-matching refinement halfway between the shape of its formant-pole
polynomial and the mean shape of real vowels measured with MRI
(:mod:`vtract.tract.mri_shapes`: one man imaged twice, one woman; 32 vowels).
Formants fix only part of a tract's shape (to first order the odd cosine
components of ``ln A``; Mermelstein 1967); the rest has to come from a prior,
and a measured human mean is a better centre for it than an acoustic
construction alone.

Representation: ``ln A(x)`` on the normalised glottis-to-lips axis ``x``
(areas piecewise constant over each section), sampled at
:data:`N_SAMPLES` cell midpoints and fitted by least squares with
``sum_{m=0}^{K} c_m cos(m pi x)``; ``c_0`` (the scale) is dropped, so a
shape's coefficients do not depend on its size.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .mri_shapes import MRI_SETS, mri_area_function, mri_speaker, mri_vowels

__all__ = ["N_SAMPLES", "log_area_cosines", "mri_mean_log_area_cosines"]

#: Points on the normalised axis at which a measured area function is sampled.
N_SAMPLES = 40


def log_area_cosines(
    areas_cm2: np.ndarray, section_lengths_cm: np.ndarray | float, n_cosines: int
) -> np.ndarray:
    """Cosine coefficients ``c_1 .. c_K`` of a piecewise-constant log-area function.

    Parameters
    ----------
    areas_cm2 : numpy.ndarray
        Areas, glottis to lips (positive).
    section_lengths_cm : numpy.ndarray or float
        Length of each section, or one length for all.
    n_cosines : int
        ``K``, the number of coefficients returned.

    Returns
    -------
    numpy.ndarray
        ``K`` least-squares coefficients of ``cos(m pi x)``, ``m = 1 .. K``, on
        the normalised axis (the constant term is fitted and dropped).
    """
    areas = np.asarray(areas_cm2, dtype=np.float64)
    if areas.ndim != 1 or areas.size < 1 or not np.all(areas > 0):
        raise ValueError("areas_cm2 must be a 1-D array of positive areas")
    lengths = np.broadcast_to(np.asarray(section_lengths_cm, dtype=np.float64), areas.shape)
    edges = np.concatenate(([0.0], np.cumsum(lengths)))
    x = (np.arange(N_SAMPLES) + 0.5) / N_SAMPLES
    section = np.clip(np.searchsorted(edges / edges[-1], x, side="right") - 1, 0, areas.size - 1)
    basis = np.cos(np.pi * np.outer(x, np.arange(n_cosines + 1)))
    coef, *_ = np.linalg.lstsq(basis, np.log(areas[section]), rcond=None)
    return np.ascontiguousarray(coef[1:])


def mri_mean_log_area_cosines(
    n_cosines: int, *, exclude_speakers: Iterable[str] = ()
) -> np.ndarray:
    """Mean :func:`log_area_cosines` of the MRI vowels, optionally without some speakers.

    Parameters
    ----------
    n_cosines : int
        Number of coefficients.
    exclude_speakers : iterable of str
        Speakers (:func:`~vtract.tract.mri_shapes.mri_speaker`) to leave out, for
        leave-one-speaker-out evaluation.
    """
    skip = set(exclude_speakers)
    rows = [
        log_area_cosines(*mri_area_function(d, v), n_cosines)
        for d in MRI_SETS
        if mri_speaker(d) not in skip
        for v in mri_vowels(d)
    ]
    if not rows:
        raise ValueError(f"no MRI vowel left after excluding {sorted(skip)}")
    return np.ascontiguousarray(np.mean(rows, axis=0))
