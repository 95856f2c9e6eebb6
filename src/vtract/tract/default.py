"""The project's default estimator: Wakita inversion with loss correction, ensembled, smoothed.

Why: a single LPC inversion (:mod:`vtract.tract.wakita`) is fragile. Wakita's
model puts every loss at the glottis, so the measured formant bandwidths
(which in a real tract come from the walls, the lips and the open glottis)
are turned into area changes; the area function also jumps with the section
count. The default estimator keeps the Wakita model and removes those
sources of error:

1. Length ``L`` from the formant spacing (as ``"lpc"``), or ``length_cm``.
2. ``N0 = round(2 L fs / c)`` sections (or ``n_sections``).
3. Loss correction: for each LPC polynomial, every complex pole keeps its
   frequency but gets the same bandwidth :data:`POLE_BANDWIDTH_HZ` (100 Hz, a
   typical vowel-formant bandwidth); the reflection coefficients are read from
   the corrected polynomial (step-down).
4. Several section counts ``N0 - 1 .. N0 + 1`` (:data:`SECTION_SPREAD`), each
   log-area function resampled to ``N0`` sections on the normalised
   glottis-to-lips axis, centred and averaged.
5. The mean log-area function is projected on the first :data:`N_COSINES` + 1
   cosines ``cos(m pi x / L)``: regularisation toward smooth shapes.
6. Areas are scaled to the geometric mean
   :data:`~vtract.tract.wakita.LPC_MEAN_AREA_CM2`.

Measured on the ground-truth harness (``benchmarks/bench_tract_accuracy.py``,
realistic vowels) it beats ``"lpc"``, ``"paper"`` and Praat's LPC ->
VocalTract on both the development and the held-out vowels, but it does not
reach the issue's targets (median r >= 0.85, none < 0.5): see
``benchmarks/results/tract_accuracy.json``. Tried and rejected on the same
harness: spectral analysis-by-synthesis with a smooth tube (ill-posed even
with the true transfer function), IAIF glottal inverse filtering, the
closed-glottis (glottis-first) reading of the PARCOR coefficients, sub-window
averaging (no gain), an anatomical larynx-tube prior (no held-out gain).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .formants import roots_of_predictor
from .length import SPEED_OF_SOUND_CM_S
from .lpc import autocorrelation, levinson_durbin, step_down
from .preprocess import apply_window, pre_emphasis, window
from .result import TractEstimate
from .tube import areas_from_reflection, reflection_from_areas
from .wakita import LPC_MEAN_AREA_CM2, wakita_core

__all__ = [
    "DEFAULT_RATE",
    "default_core",
    "default_result",
    "equalise_bandwidths",
    "estimate_default",
]

DEFAULT_RATE = 16000
SECTION_SPREAD = 1
N_COSINES = 6
PRE_EMPHASIS = 0.97
POLE_BANDWIDTH_HZ = 100.0


@njit(cache=True)
def _cosine_smooth(ln_a: np.ndarray, n_cos: int) -> np.ndarray:
    n = ln_a.shape[0]
    m = min(n_cos + 1, n)
    b = np.empty((n, m))
    for i in range(n):
        x = (i + 0.5) / n
        for j in range(m):
            b[i, j] = np.cos(j * np.pi * x)
    coef = np.linalg.solve(b.T @ b, b.T @ ln_a)
    return b @ coef


@njit(cache=True)
def equalise_bandwidths(a: np.ndarray, fs: float, bandwidth_hz: float) -> np.ndarray:
    """Predictor polynomial with every complex pole moved to ``bandwidth_hz``, same frequency.

    Real poles are kept. Returns the input unchanged if the roots do not
    pair up into a polynomial of the same order (numerically degenerate input).
    """
    p = a.shape[0] - 1
    roots = roots_of_predictor(a)
    rho = np.exp(-np.pi * bandwidth_hz / fs)
    out = np.zeros(p + 1)
    out[0] = 1.0
    deg = 0
    for z in roots:
        if z.imag > 1e-9:
            theta = np.arctan2(z.imag, z.real)
            c1 = -2.0 * rho * np.cos(theta)
            c2 = rho * rho
            if deg + 2 > p:
                return a.copy()
            for j in range(deg + 2, 1, -1):
                out[j] += c1 * out[j - 1] + c2 * out[j - 2]
            out[1] += c1 * out[0]
            deg += 2
        elif z.imag >= -1e-9:
            if deg + 1 > p:
                return a.copy()
            for j in range(deg + 1, 0, -1):
                out[j] -= z.real * out[j - 1]
            deg += 1
    if deg != p:
        return a.copy()
    return out


@njit(cache=True)
def default_core(
    x: np.ndarray, fs: float, length_cm: float, n_sections: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Default estimate of one frame at rate ``fs``.

    ``length_cm`` <= 0 estimates the length; ``n_sections`` <= 0 derives it.
    Returns ``(areas, formants_hz, bandwidths_hz, length_cm, raw_length_cm)``.
    """
    _, _, freqs, bws, length, raw_length = wakita_core(x, fs, length_cm, -1)
    n0 = n_sections
    if n0 <= 0:
        n0 = max(4, int(np.floor(2.0 * length * fs / SPEED_OF_SOUND_CM_S + 0.5)))
    lo = max(3, n0 - SECTION_SPREAD)
    hi = n0 + SECTION_SPREAD
    grid = (np.arange(n0) + 0.5) / n0
    acc = np.zeros(n0)
    y = apply_window(pre_emphasis(x, PRE_EMPHASIS), window(2, x.shape[0]))
    r = autocorrelation(y, hi)
    r[0] *= 1.0 + 1e-9
    for nn in range(lo, hi + 1):
        a, _, _ = levinson_durbin(r, nn - 1)
        k = step_down(equalise_bandwidths(a, fs, POLE_BANDWIDTH_HZ))
        rr = np.empty(nn - 1)
        for j in range(nn - 1):
            rr[j] = min(0.99, max(-0.99, k[nn - 2 - j]))
        ln_a = np.log(areas_from_reflection(rr, 1.0))
        v = np.interp(grid, (np.arange(nn) + 0.5) / nn, ln_a)
        acc += v - np.mean(v)
    ln_a = _cosine_smooth(acc / (hi - lo + 1), N_COSINES)
    areas = np.exp(ln_a - np.mean(ln_a)) * LPC_MEAN_AREA_CM2
    return areas, freqs, bws, length, raw_length


def estimate_default(
    x: np.ndarray, rate: int, *, n_sections: int | None = None, length_cm: float | None = None
) -> TractEstimate:
    """Default estimate of one validated frame (see module docstring).

    Inputs at 16 kHz or more are resampled to 16 kHz; 8-16 kHz inputs are
    analysed at their own rate with proportionally fewer sections.
    """
    from .preprocess import to_rate

    fs = min(rate, DEFAULT_RATE)
    y = to_rate(x, rate, fs)
    areas, freqs, bws, length, raw_length = default_core(
        y,
        float(fs),
        -1.0 if length_cm is None else float(length_cm),
        -1 if n_sections is None else int(n_sections),
    )
    return default_result(areas, freqs, bws, length, raw_length, rate, fs, length_cm)


def default_result(
    areas: np.ndarray,
    freqs: np.ndarray,
    bws: np.ndarray,
    length: float,
    raw_length: float,
    rate: int,
    fs: int,
    length_cm: float | None,
) -> TractEstimate:
    """Wrap :func:`default_core` outputs in a :class:`TractEstimate`."""
    n = areas.shape[0]
    refl = np.empty(n)
    refl[: n - 1] = reflection_from_areas(areas)
    refl[n - 1] = 1.0
    return TractEstimate(
        areas=areas,
        section_length_cm=float(length) / n,
        length_cm=float(length),
        reflection=refl,
        formants_hz=freqs,
        bandwidths_hz=bws,
        fit_error_db=float("nan"),
        method="default",
        params={
            "input_rate": rate,
            "analysis_rate": fs,
            "pole_bandwidth_hz": POLE_BANDWIDTH_HZ,
            "section_spread": SECTION_SPREAD,
            "cosines": N_COSINES,
            "pre_emphasis": PRE_EMPHASIS,
            "glottal_reflection": 0.0,
            "lip_reflection": 1.0,
            "formant_length_cm": float(raw_length),
            "length_source": "given" if length_cm is not None else "formants",
        },
    )
