"""Wakita (1973) inverse filtering: areas from the PARCOR coefficients of LPC.

Model: a lossless tube of ``N`` equal sections whose glottal end is matched
(all losses lumped at the glottis, ``r_G = 0``) and whose lip end is an ideal
open end (``r_L = +1``). Its transfer function is all-pole and the
Levinson-Durbin reflection coefficients ``k_1..k_{N-1}`` of the pre-emphasised
speech are the junction reflections read from the lips: ``k_i`` is the
junction ``r_{N-i}`` of :mod:`vtract.tract.tube` (glottis-first numbering).

Settings (documented choices):

- Estimator rate: inputs at 16 kHz or more are resampled to 16 kHz; inputs
  from 8 to 16 kHz are analysed at their own rate and the model is scaled
  (fewer sections: ``N = 2 L fs / c``).
- Pre-emphasis: adaptive first-order, coefficient ``mu = R(1) / R(0)`` of the
  Hamming-windowed frame (clipped to ``[0, 0.98]``); this removes the overall
  -6 dB/octave glottal-plus-radiation tilt of the particular frame.
- Length: from the formant spacing of an order ``fs/1000 + 2`` LPC
  (:mod:`vtract.tract.length`) unless ``length_cm`` is given; clipped to
  10-22 cm. ``N = round(2 L fs / c)`` unless ``n_sections`` is given; the
  section length is ``L / N``.
- Area scale: LPC fixes areas only up to a common factor; the areas are
  scaled so that their geometric mean is :data:`LPC_MEAN_AREA_CM2`
  (3 cm^2, a typical adult value), independent of any one section.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .formants import lpc_formants
from .length import SPEED_OF_SOUND_CM_S, length_from_formants
from .lpc import autocorrelation, levinson_durbin
from .preprocess import apply_window, pre_emphasis, window
from .tube import areas_from_reflection

__all__ = [
    "LPC_MEAN_AREA_CM2",
    "MAX_FORMANT_BANDWIDTH_HZ",
    "adaptive_emphasis",
    "areas_from_parcor",
    "wakita_core",
]

#: Geometric-mean area (cm^2) the LPC areas are scaled to.
LPC_MEAN_AREA_CM2 = 3.0
#: Roots wider than this (Hz) are not reported as formants.
MAX_FORMANT_BANDWIDTH_HZ = 700.0
#: Range (cm) tract-length estimates are clipped to.
LENGTH_MIN_CM = 10.0
LENGTH_MAX_CM = 22.0


@njit(cache=True)
def adaptive_emphasis(x: np.ndarray) -> float:
    """First-order prediction coefficient ``R(1)/R(0)`` clipped to ``[0, 0.98]``."""
    r = autocorrelation(x, 1)
    if r[0] <= 0.0:
        return 0.0
    return min(0.98, max(0.0, r[1] / r[0]))


@njit(cache=True)
def areas_from_parcor(k: np.ndarray, mean_area: float) -> tuple[np.ndarray, np.ndarray]:
    """Glottis-to-lips areas and junction reflections from lips-first PARCOR coefficients.

    ``N - 1`` coefficients give ``N`` areas; the areas are scaled to the
    geometric mean ``mean_area``. Returns ``(areas, r)`` with ``r`` the
    ``N - 1`` internal junction reflections, glottis first.
    """
    p = k.shape[0]
    r = np.empty(p)
    for j in range(p):
        r[j] = min(0.999, max(-0.999, k[p - 1 - j]))
    areas = areas_from_reflection(r, 1.0)
    log_mean = 0.0
    for a in areas:
        log_mean += np.log(a)
    log_mean /= areas.shape[0]
    scale = mean_area / np.exp(log_mean)
    for i in range(areas.shape[0]):
        areas[i] *= scale
    return areas, r


@njit(cache=True)
def wakita_core(
    x: np.ndarray, fs: float, length_cm: float, n_sections: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Wakita estimate of one frame at rate ``fs``.

    ``length_cm`` <= 0 means "estimate it"; ``n_sections`` <= 0 means
    ``round(2 L fs / c)``. Returns ``(areas, reflection, formants_hz,
    bandwidths_hz, length_cm, raw_length_cm)`` where ``reflection`` holds the
    ``N - 1`` internal junctions and the lip termination (+1).
    """
    w = window(2, x.shape[0])
    xw = apply_window(x, w)
    mu = adaptive_emphasis(xw)
    y = apply_window(pre_emphasis(x, mu), w)
    order_f = int(np.floor(fs / 1000.0 + 0.5)) + 2
    # lags for the formant LPC and for the longest tract (recomputed if n_sections is larger)
    max_lag = max(order_f, int(2.0 * LENGTH_MAX_CM * fs / SPEED_OF_SOUND_CM_S) + 1)
    rr = autocorrelation(y, max_lag)
    rr[0] *= 1.0 + 1e-9
    a_f, k_f, _ = levinson_durbin(rr, order_f)
    freqs, bws = lpc_formants(a_f, fs, MAX_FORMANT_BANDWIDTH_HZ)
    raw_length = length_from_formants(freqs, 4, SPEED_OF_SOUND_CM_S)
    if length_cm > 0.0:
        length = length_cm
    elif raw_length == raw_length:
        length = min(LENGTH_MAX_CM, max(LENGTH_MIN_CM, raw_length))
    else:
        length = 17.0
    n = n_sections
    if n <= 0:
        n = max(2, int(np.floor(2.0 * length * fs / SPEED_OF_SOUND_CM_S + 0.5)))
    if n - 1 <= order_f:
        # Levinson-Durbin's reflection coefficients do not depend on the final order
        k = k_f[: n - 1].copy()
    else:
        if n - 1 > max_lag:
            rr = autocorrelation(y, n - 1)
            rr[0] *= 1.0 + 1e-9
        _, k, _ = levinson_durbin(rr, n - 1)
    areas, r = areas_from_parcor(k, LPC_MEAN_AREA_CM2)
    refl = np.empty(n)
    refl[: n - 1] = r
    refl[n - 1] = 1.0
    return areas, refl, freqs, bws, length, raw_length
