"""Human vowel shapes as a prior: the MRI mean and a formant-indexed MRI codebook.

The default estimator (:mod:`vtract.tract.default`) centres its
formant-matching refinement halfway between the shape of its formant-pole
polynomial and a human shape taken from real vowels measured with MRI
(:mod:`vtract.tract.mri_shapes`: one man imaged twice, one woman; 32 vowels).
Formants fix only part of a tract's shape (to first order the odd cosine
components of ``ln A``; Mermelstein 1967); the rest has to come from a prior,
and measured human vowels are a better source for it than an acoustic
construction alone.

Two human shapes are available:

* the mean of all MRI vowels (:func:`mri_mean_log_area_cosines`);
* a *codebook* (:func:`mri_codebook`, :func:`codebook_prior_mean`): each MRI
  vowel is indexed by its formant pattern, the resonances F1-F3 of its
  measured tube in the refinement's own acoustic model
  (:func:`vtract.tract.formant_fit.tube_resonances_fast`: closed glottis,
  lip radiation inertance). A frame's prior shape is the kernel-weighted mean
  of the codebook shapes, weights ``exp(-d^2 / (2 w^2))`` with ``d`` the
  Euclidean distance between the *length-free* keys ``ln F_n - mean_n ln F_n``
  (formant ratios) of the frame and of each vowel. Vowels with a formant
  pattern like the frame's thus supply the components the formants do not
  fix; with a very wide kernel the codebook mean is the plain MRI mean.

Representation: ``ln A(x)`` on the normalised glottis-to-lips axis ``x``
(areas piecewise constant over each section), sampled at
:data:`N_SAMPLES` cell midpoints and fitted by least squares with
``sum_{m=0}^{K} c_m cos(m pi x)``; ``c_0`` (the scale) is dropped, so a
shape's coefficients do not depend on its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .mri_shapes import MRI_SETS, mri_area_function, mri_speaker, mri_vowels

__all__ = [
    "N_KEY_FORMANTS",
    "N_SAMPLES",
    "ShapeCodebook",
    "codebook_prior_mean",
    "formant_key",
    "log_area_cosines",
    "mri_codebook",
    "mri_mean_log_area_cosines",
]

#: Points on the normalised axis at which a measured area function is sampled.
N_SAMPLES = 40
#: Formants (F1..) that index the codebook.
N_KEY_FORMANTS = 3


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

    The mean of the :func:`mri_codebook` shapes (the codebook prior's
    wide-kernel limit).

    Parameters
    ----------
    n_cosines : int
        Number of coefficients.
    exclude_speakers : iterable of str
        Speakers (:func:`~vtract.tract.mri_shapes.mri_speaker`) to leave out, for
        leave-one-speaker-out evaluation.
    """
    shapes = mri_codebook(n_cosines, exclude_speakers=exclude_speakers).shapes
    return np.ascontiguousarray(shapes.mean(axis=0))


class ShapeCodebook(NamedTuple):
    """Human vowel shapes indexed by their formant pattern.

    Attributes
    ----------
    log_formants : numpy.ndarray
        ``(n_vowels, N_KEY_FORMANTS)`` natural logs of each tube's resonances
        F1-F3 (Hz) in the refinement's model (closed glottis, lip radiation
        inertance); C-contiguous float64.
    shapes : numpy.ndarray
        ``(n_vowels, K)`` :func:`log_area_cosines` of each tube.
    names : tuple of str
        ``"set/vowel"`` of each row.
    """

    log_formants: np.ndarray
    shapes: np.ndarray
    names: tuple[str, ...]


def formant_key(log_formants: np.ndarray) -> np.ndarray:
    """Length-free formant pattern: ``ln F_n - mean_n ln F_n`` along the last axis.

    A uniform change of tract length scales every formant by the same factor,
    which the centring removes; what remains are the formant ratios.
    """
    lf = np.asarray(log_formants, dtype=np.float64)
    return lf - lf.mean(axis=-1, keepdims=True)


@lru_cache(maxsize=8)
def _codebook(n_cosines: int, excluded: frozenset[str]) -> ShapeCodebook:
    from .formant_fit import tube_resonances_fast
    from .length import SPEED_OF_SOUND_CM_S

    keys, shapes, names = [], [], []
    for dataset in MRI_SETS:
        if mri_speaker(dataset) in excluded:
            continue
        for vowel in mri_vowels(dataset):
            areas, dx = mri_area_function(dataset, vowel)
            length = float(dx) * areas.size
            res = tube_resonances_fast(
                np.ascontiguousarray(areas, dtype=np.float64), length, SPEED_OF_SOUND_CM_S,
                8000.0, N_KEY_FORMANTS,
            )  # fmt: skip
            if res.shape[0] < N_KEY_FORMANTS:  # pragma: no cover - every MRI vowel has F1-F3
                raise ValueError(f"MRI vowel {dataset}/{vowel} has fewer than 3 resonances")
            keys.append(np.log(res))
            shapes.append(log_area_cosines(areas, dx, n_cosines))
            names.append(f"{dataset}/{vowel}")
    if not keys:
        raise ValueError(f"no MRI vowel left after excluding {sorted(excluded)}")
    log_formants = np.ascontiguousarray(keys, dtype=np.float64)
    shape_rows = np.ascontiguousarray(shapes, dtype=np.float64)
    log_formants.flags.writeable = False
    shape_rows.flags.writeable = False
    return ShapeCodebook(log_formants, shape_rows, tuple(names))


def mri_codebook(n_cosines: int, *, exclude_speakers: Iterable[str] = ()) -> ShapeCodebook:
    """The MRI vowels as a :class:`ShapeCodebook` (cached; arrays read-only).

    Parameters
    ----------
    n_cosines : int
        Number of cosine coefficients per shape.
    exclude_speakers : iterable of str
        Speakers (:func:`~vtract.tract.mri_shapes.mri_speaker`) to leave out, for
        leave-one-speaker-out evaluation.
    """
    return _codebook(int(n_cosines), frozenset(exclude_speakers))


def codebook_prior_mean(
    codebook: ShapeCodebook, formants_hz: np.ndarray, width: float
) -> np.ndarray:
    """Kernel-weighted mean codebook shape for measured formants (NumPy reference).

    Parameters
    ----------
    codebook : ShapeCodebook
        Shapes and their formant keys.
    formants_hz : numpy.ndarray
        Measured formants, ascending (Hz). The first ``min(3, n)`` index the
        codebook; with fewer than two the plain mean of the codebook shapes is
        returned (one formant has no length-free pattern).
    width : float
        Kernel width ``w`` in units of the key (natural-log formant ratios).

    Returns
    -------
    numpy.ndarray
        ``K`` cosine coefficients.
    """
    f = np.asarray(formants_hz, dtype=np.float64)
    m = min(N_KEY_FORMANTS, f.size)
    if m < 2:
        return np.asarray(codebook.shapes.mean(axis=0))
    d2 = np.sum(
        (formant_key(codebook.log_formants[:, :m]) - formant_key(np.log(f[:m]))) ** 2, axis=1
    )
    weights = np.exp(-0.5 * (d2 - d2.min()) / width**2)
    return np.asarray(weights @ codebook.shapes / weights.sum())
