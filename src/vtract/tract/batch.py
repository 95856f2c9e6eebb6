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


@njit(cache=True)
def _padded_outputs(
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Zeroed ``(areas, n_areas, formants, bandwidths, n_formants, lengths)`` for ``n`` rows."""
    return (
        np.zeros((n, MAX_SECTIONS)),
        np.zeros(n, dtype=np.int64),
        np.zeros((n, MAX_FORMANTS)),
        np.zeros((n, MAX_FORMANTS)),
        np.zeros(n, dtype=np.int64),
        np.zeros((n, 2)),
    )


@njit(cache=True)
def _store_row(
    i: int,
    a: np.ndarray,
    f: np.ndarray,
    b: np.ndarray,
    length: float,
    raw: float,
    areas: np.ndarray,
    n_areas: np.ndarray,
    freqs: np.ndarray,
    bws: np.ndarray,
    n_f: np.ndarray,
    lengths: np.ndarray,
) -> int:
    """Write one window's results into row ``i`` of the padded outputs; returns its area count."""
    k = min(a.shape[0], MAX_SECTIONS)
    areas[i, :k] = a[:k]
    n_areas[i] = k
    m = min(f.shape[0], MAX_FORMANTS)
    freqs[i, :m] = f[:m]
    bws[i, :m] = b[:m]
    n_f[i] = m
    lengths[i, 0] = length
    lengths[i, 1] = raw
    return k


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
    areas, n_areas, freqs, bws, n_f, lengths = _padded_outputs(n)
    refl = np.zeros((n, MAX_SECTIONS))
    for i in prange(n):
        a, r, f, b, length, raw = wakita_core(frames[i], fs, length_cm, n_sections)
        k = _store_row(i, a, f, b, length, raw, areas, n_areas, freqs, bws, n_f, lengths)
        refl[i, :k] = r[:k]
    return areas, refl, n_areas, freqs, bws, n_f, lengths


@njit(cache=True, parallel=True)
def default_batch(
    frames: np.ndarray,
    fs: float,
    length_cm: float,
    n_sections: int,
    prior: int,
    codebook_log_formants: np.ndarray,
    codebook_shapes: np.ndarray,
    codebook_width: float,
    mean_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~vtract.tract.default.default_core` over rows of ``frames``.

    Returns ``(areas, n_areas, formants, bandwidths, n_formants, lengths)``.
    """
    n = frames.shape[0]
    areas, n_areas, freqs, bws, n_f, lengths = _padded_outputs(n)
    for i in prange(n):
        a, f, b, length, raw = default_core(
            frames[i], fs, length_cm, n_sections, prior,
            codebook_log_formants, codebook_shapes, codebook_width, mean_weight,
        )  # fmt: skip
        _store_row(i, a, f, b, length, raw, areas, n_areas, freqs, bws, n_f, lengths)
    return areas, n_areas, freqs, bws, n_f, lengths
