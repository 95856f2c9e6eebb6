"""Parallel batch kernels: many equal-length windows through one estimator core.

:func:`vtract.estimate_tracts` stacks the (validated, resampled) windows and
runs these kernels with Numba ``prange`` over windows (``NUMBA_NUM_THREADS``
threads). Results are written into padded arrays with per-window counts and
unpacked into :class:`~vtract.tract.result.TractEstimate` objects by the
caller; each row is computed exactly as the single-window core computes it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .default import default_core
from .wakita import wakita_core

__all__ = ["MAX_FORMANTS", "MAX_SECTIONS", "default_batch", "wakita_batch"]

#: Padding sizes of the batch outputs.
MAX_SECTIONS = 128
MAX_FORMANTS = 64


@njit(cache=True, parallel=True)
def wakita_batch(
    frames: np.ndarray, fs: float, length_cm: float, n_sections: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~vtract.tract.wakita.wakita_core` over rows of ``frames``.

    Returns ``(areas, reflection, n_areas, formants, bandwidths, n_formants,
    lengths)`` where ``lengths[:, 0]`` is the length used and ``lengths[:, 1]``
    the raw formant estimate.
    """
    n = frames.shape[0]
    areas = np.zeros((n, MAX_SECTIONS))
    refl = np.zeros((n, MAX_SECTIONS))
    n_areas = np.zeros(n, dtype=np.int64)
    freqs = np.zeros((n, MAX_FORMANTS))
    bws = np.zeros((n, MAX_FORMANTS))
    n_f = np.zeros(n, dtype=np.int64)
    lengths = np.zeros((n, 2))
    for i in prange(n):
        a, r, f, b, length, raw = wakita_core(frames[i], fs, length_cm, n_sections)
        k = min(a.shape[0], MAX_SECTIONS)
        areas[i, :k] = a[:k]
        refl[i, :k] = r[:k]
        n_areas[i] = k
        m = min(f.shape[0], MAX_FORMANTS)
        freqs[i, :m] = f[:m]
        bws[i, :m] = b[:m]
        n_f[i] = m
        lengths[i, 0] = length
        lengths[i, 1] = raw
    return areas, refl, n_areas, freqs, bws, n_f, lengths


@njit(cache=True, parallel=True)
def default_batch(
    frames: np.ndarray, fs: float, length_cm: float, n_sections: int, prior: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~vtract.tract.default.default_core` over rows of ``frames``.

    Returns ``(areas, n_areas, formants, bandwidths, n_formants, lengths)``.
    """
    n = frames.shape[0]
    areas = np.zeros((n, MAX_SECTIONS))
    n_areas = np.zeros(n, dtype=np.int64)
    freqs = np.zeros((n, MAX_FORMANTS))
    bws = np.zeros((n, MAX_FORMANTS))
    n_f = np.zeros(n, dtype=np.int64)
    lengths = np.zeros((n, 2))
    for i in prange(n):
        a, f, b, length, raw = default_core(frames[i], fs, length_cm, n_sections, prior)
        k = min(a.shape[0], MAX_SECTIONS)
        areas[i, :k] = a[:k]
        n_areas[i] = k
        m = min(f.shape[0], MAX_FORMANTS)
        freqs[i, :m] = f[:m]
        bws[i, :m] = b[:m]
        n_f[i] = m
        lengths[i, 0] = length
        lengths[i, 1] = raw
    return areas, n_areas, freqs, bws, n_f, lengths
