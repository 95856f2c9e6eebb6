"""The project's default estimator: an ensemble of Wakita inversions, smoothed.

Why: a single LPC inversion (:mod:`vtract.tract.wakita`) is fragile - the
area function jumps with the section count, with the window position
relative to the glottal pulses, and with noise in single coefficients (see
DESIGN.md: up to 30% for a one-sample shift). The default estimator keeps the
Wakita model and removes those sources of variance:

1. Length ``L`` from the formant spacing (as ``"lpc"``), or ``length_cm``.
2. ``N0 = round(2 L fs / c)`` sections (or ``n_sections``).
3. Several windows: :data:`N_SUBWINDOWS` sub-windows covering
   :data:`SUBWINDOW_FRACTION` of the frame, evenly spaced (pitch-asynchronous
   averaging of the harmonic structure).
4. Several section counts: ``N0 - 2 .. N0 + 2`` per sub-window (one
   Levinson-Durbin run gives all of them), each log-area function resampled
   to ``N0`` sections on the normalised glottis-to-lips axis and centred.
5. The mean log-area function is projected on the first
   :data:`N_COSINES` + 1 cosines ``cos(m pi x / L)``: regularisation toward
   smooth, anatomically plausible shapes (a tract is not a staircase at the
   section scale).
6. Areas are scaled to the geometric mean :data:`~vtract.tract.wakita.LPC_MEAN_AREA_CM2`.

Measured on the ground-truth harness (``benchmarks/bench_tract_accuracy.py``),
it beats ``"lpc"`` and ``"paper"`` on both the development and the held-out
vowels, but does not reach the issue's targets (see the benchmark JSON).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .length import SPEED_OF_SOUND_CM_S
from .lpc import autocorrelation, levinson_durbin
from .preprocess import apply_window, pre_emphasis, window
from .result import TractEstimate
from .tube import areas_from_reflection, reflection_from_areas
from .wakita import LPC_MEAN_AREA_CM2, wakita_core

__all__ = ["DEFAULT_RATE", "default_core", "estimate_default"]

DEFAULT_RATE = 16000
N_SUBWINDOWS = 5
SUBWINDOW_FRACTION = 0.8
SECTION_SPREAD = 2
N_COSINES = 6
PRE_EMPHASIS = 0.97


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
    count = 0
    n = x.shape[0]
    m = int(n * SUBWINDOW_FRACTION)
    w = window(2, m)
    for s in range(N_SUBWINDOWS):
        off = int(np.floor(s * (n - m) / (N_SUBWINDOWS - 1) + 0.5))
        y = apply_window(pre_emphasis(x[off : off + m], PRE_EMPHASIS), w)
        r = autocorrelation(y, hi)
        r[0] *= 1.0 + 1e-9
        _, k, _ = levinson_durbin(r, hi)
        for nn in range(lo, hi + 1):
            rr = np.empty(nn - 1)
            for j in range(nn - 1):
                rr[j] = min(0.99, max(-0.99, k[nn - 2 - j]))
            ln_a = np.log(areas_from_reflection(rr, 1.0))
            pos = (np.arange(nn) + 0.5) / nn
            v = np.interp(grid, pos, ln_a)
            acc += v - np.mean(v)
            count += 1
    ln_a = _cosine_smooth(acc / count, N_COSINES)
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
            "subwindows": N_SUBWINDOWS,
            "subwindow_fraction": SUBWINDOW_FRACTION,
            "section_spread": SECTION_SPREAD,
            "cosines": N_COSINES,
            "pre_emphasis": PRE_EMPHASIS,
            "glottal_reflection": 0.0,
            "lip_reflection": 1.0,
            "formant_length_cm": float(raw_length),
            "length_source": "given" if length_cm is not None else "formants",
        },
    )
