"""A source-independent all-pole model built from measured formants (the default estimator's prior).

Why: after the ``"lpc-refined"`` estimator gives every LPC pole the same bandwidth, its
Wakita shape depends only on the pole *frequencies* - but an LPC of order
``N - 1 ~ 2 L fs / c`` spends several poles on the spectral tilt of the
glottal source (real poles, broad pairs near 0 Hz or Nyquist), so the shape
changed with the voice source (an LF pulse with a return phase gave other
shapes than a Rosenberg pulse for the same tube). Here the polynomial is
built from the formants alone:

- the measured formants below :data:`FORMANT_BAND_HZ` (where LPC formants of
  a vowel are reliable), ascending;
- above them, the resonances of the neutral (uniform, closed-open) tube of
  the estimated length, ``(2k - 1) c / (4 L)``, each at least ``c / (4 L)``
  above the previous one; a uniform tube of ``N = 2 L fs / c`` sections has
  about ``N / 2`` resonances below ``fs / 2``, which is the number of pole
  pairs an order ``N - 1`` polynomial holds;
- every pair at the same bandwidth; an odd order gets one pole at ``z = 0``
  (a zero last coefficient). Pairs that would reach ``fs / 2`` are dropped
  (zero coefficients).

The glottal source can then only act through the measured formant
frequencies.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["FORMANT_BAND_HZ", "pole_frequencies", "pole_predictor"]

#: Measured formants above this (Hz) are replaced by the neutral-tube series.
FORMANT_BAND_HZ = 5000.0


@njit(cache=True)
def pole_frequencies(
    formants_hz: np.ndarray,
    n_pairs: int,
    length_cm: float,
    c: float,
    band_hz: float,
    nyquist_hz: float,
) -> np.ndarray:
    """Pole-pair frequencies: measured formants below ``band_hz``, then the neutral-tube series.

    ``formants_hz`` must be ascending. Returns at most ``n_pairs``
    frequencies, all below ``nyquist_hz`` (see module docstring).
    """
    out = np.empty(n_pairs)
    n = 0
    for f in formants_hz:
        if n >= n_pairs or f >= band_hz:
            break
        out[n] = f
        n += 1
    last = out[n - 1] if n > 0 else 0.0
    min_step = c / (4.0 * length_cm)
    while n < n_pairs:
        f = max(last + min_step, (2 * (n + 1) - 1) * c / (4.0 * length_cm))
        if f >= nyquist_hz:
            break
        out[n] = f
        last = f
        n += 1
    return out[:n]


@njit(cache=True)
def pole_predictor(freqs_hz: np.ndarray, order: int, fs: float, bandwidth_hz: float) -> np.ndarray:
    """Predictor polynomial (length ``order + 1``, ``a[0] = 1``) with a pole pair at each frequency.

    Every pair has radius ``exp(-pi bandwidth_hz / fs)``; remaining
    coefficients (poles at ``z = 0``) are zero. At most ``order // 2``
    frequencies are used.
    """
    a = np.zeros(order + 1)
    a[0] = 1.0
    rho = np.exp(-np.pi * bandwidth_hz / fs)
    deg = 0
    for i in range(min(freqs_hz.shape[0], order // 2)):
        c1 = -2.0 * rho * np.cos(2.0 * np.pi * freqs_hz[i] / fs)
        c2 = rho * rho
        for j in range(deg + 2, 1, -1):
            a[j] += c1 * a[j - 1] + c2 * a[j - 2]
        a[1] += c1 * a[0]
        deg += 2
    return a
