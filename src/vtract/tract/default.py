"""The project's default estimator: loss-corrected Wakita shape refined by formant matching.

Why: a single LPC inversion (:mod:`vtract.tract.wakita`) is fragile. Wakita's
model puts every loss at the glottis, so the measured formant bandwidths
(which in a real tract come from the walls, the lips and the open glottis)
are turned into area changes; the area function also jumps with the section
count; and its boundary conditions (matched glottis, ideal open lips) are not
those of a real tract. The default estimator keeps the Wakita model for the
shape and then corrects it with a physical tube:

1. Length ``L0`` from the formant spacing (as ``"lpc"``), or ``length_cm``.
2. ``N0 = round(2 L0 fs / c)`` sections.
3. Loss correction: for each LPC polynomial, every complex pole keeps its
   frequency but gets the same bandwidth :data:`POLE_BANDWIDTH_HZ` (100 Hz, a
   typical vowel-formant bandwidth); the reflection coefficients are read from
   the corrected polynomial (step-down).
4. Several section counts ``N0 - 1 .. N0 + 1`` (:data:`SECTION_SPREAD`), each
   log-area function resampled to ``N0`` sections on the normalised
   glottis-to-lips axis, centred and averaged.
5. The mean log-area function is projected on the first :data:`N_COSINES` + 1
   cosines ``cos(m pi x)`` (regularisation toward smooth shapes):
   :func:`wakita_shape`.
6. Formant-matching refinement (:mod:`vtract.tract.formant_fit`): the cosine
   coefficients and ``ln L`` are fitted (Levenberg-Marquardt,
   :data:`FIT_ITERATIONS` iterations) so that the resonances of a lossless
   tube with a *closed* glottis and the lip radiation inertance match the
   measured formants F1 .. F(:data:`N_FIT_FORMANTS`) (misfit scale
   :data:`SIGMA_FORMANT`), under a Gaussian prior centred on the step-5
   shape (:data:`SIGMA_SHAPE` per coefficient) and on ``L0``
   (:data:`SIGMA_LOG_LENGTH`; held fixed when ``length_cm`` is given). The
   fitted length is clipped to 10-22 cm and gives the output
   ``N = round(2 L fs / c)`` (or ``n_sections``).
7. Areas are scaled to the geometric mean
   :data:`~vtract.tract.wakita.LPC_MEAN_AREA_CM2`.

Measured on the ground-truth harness (``benchmarks/bench_tract_accuracy.py``,
realistic vowels; tuned on the dev split only) it beats ``"lpc"``,
``"paper"`` and Praat's LPC -> VocalTract on both the development and the
held-out vowels, but it does NOT reach the issue's shape targets (median
r >= 0.85, none < 0.5): see ``benchmarks/results/tract_accuracy.json``.
Step 6 mainly improves the length (median error on dev 0.99 -> ~0.6 cm) and
adds ~0.01 to the median r; three formants cannot pin down a 7-parameter
shape, so the prior (the Wakita shape) decides the rest, and its systematic
errors remain: both tube ends come out too narrow (the Wakita model's
matched glottis and ideal lips) and constrictions of back vowels (/u/, velar
three-tube) are misplaced.

Limits: the formant-spacing length assumes a closed glottis; on Wakita's own
all-pole model (matched, absorbing glottis, e.g. the ``wakita-ideal`` sanity
rows of the harness) only the front-cavity resonances exist and the length
comes out far too short (clipped to 10 cm). Pass ``length_cm`` for such
signals; this is not a pre-emphasis problem (the adaptive pre-emphasis
coefficient is ~0 there).

Tried and rejected on the same harness: spectral analysis-by-synthesis with a
smooth tube (ill-posed even with the true transfer function), IAIF glottal
inverse filtering, the closed-glottis (glottis-first) reading of the PARCOR
coefficients, sub-window averaging (no gain), an anatomical larynx-tube prior
(no held-out gain), fitting F1-F4 instead of F1-F3 (the VTL F4 is perturbed by
side branches), a prior centred on the neutral tube (helps the analytic
two-tube shapes, hurts the VTL vowels), 5 or 8 cosines instead of 6.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .formant_fit import cosine_log_areas, fit_formants
from .formants import roots_of_predictor
from .length import SPEED_OF_SOUND_CM_S
from .lpc import autocorrelation, levinson_durbin, step_down
from .preprocess import apply_window, pre_emphasis, window
from .result import TractEstimate
from .tube import areas_from_reflection, reflection_from_areas
from .wakita import LENGTH_MAX_CM, LENGTH_MIN_CM, LPC_MEAN_AREA_CM2, wakita_core

__all__ = [
    "DEFAULT_RATE",
    "default_core",
    "default_result",
    "equalise_bandwidths",
    "estimate_default",
    "wakita_shape",
]

DEFAULT_RATE = 16000
SECTION_SPREAD = 1
N_COSINES = 6
PRE_EMPHASIS = 0.97
POLE_BANDWIDTH_HZ = 100.0
#: Formants (F1..) the refinement matches.
N_FIT_FORMANTS = 3
#: Formant misfit scale (relative frequency, i.e. 3 %).
SIGMA_FORMANT = 0.03
#: Prior width of each cosine coefficient around the Wakita shape.
SIGMA_SHAPE = 0.5
#: Prior width of ln(length) around the formant-spacing length.
SIGMA_LOG_LENGTH = 0.2
#: Gauss-Newton iterations of the refinement.
FIT_ITERATIONS = 3


@njit(cache=True)
def _cosine_coefficients(ln_a: np.ndarray, n_cos: int) -> np.ndarray:
    n = ln_a.shape[0]
    m = min(n_cos + 1, n)
    b = np.empty((n, m))
    for i in range(n):
        x = (i + 0.5) / n
        for j in range(m):
            b[i, j] = np.cos(j * np.pi * x)
    out = np.zeros(n_cos + 1)
    out[:m] = np.linalg.solve(b.T @ b, b.T @ ln_a)
    return out


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
def wakita_shape(
    x: np.ndarray, fs: float, length_cm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Steps 1-5 of the module docstring: the smoothed, loss-corrected Wakita shape.

    Returns ``(coef, formants_hz, bandwidths_hz, length_cm, raw_length_cm)``
    with ``coef`` the :data:`N_COSINES` + 1 cosine coefficients of the
    mean-free log-area function on the normalised glottis-to-lips axis.
    """
    _, _, freqs, bws, length, raw_length = wakita_core(x, fs, length_cm, -1)
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
    coef = _cosine_coefficients(acc / (hi - lo + 1), N_COSINES)
    coef[0] = 0.0
    return coef, freqs, bws, length, raw_length


@njit(cache=True)
def default_core(
    x: np.ndarray, fs: float, length_cm: float, n_sections: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Default estimate of one frame at rate ``fs``.

    ``length_cm`` <= 0 estimates the length; ``n_sections`` <= 0 derives it.
    Returns ``(areas, formants_hz, bandwidths_hz, length_cm, raw_length_cm)``.
    """
    coef, freqs, bws, length, raw_length = wakita_shape(x, fs, length_cm)
    if freqs.shape[0] > 0:
        # step 6: formant-matching refinement, prior centred on the Wakita shape
        theta0 = np.empty(N_COSINES + 1)
        theta0[:N_COSINES] = coef[1:]
        theta0[N_COSINES] = np.log(length)
        sig = np.full(N_COSINES, SIGMA_SHAPE)
        # a given length is held (practically) fixed
        sig_len = SIGMA_LOG_LENGTH if length_cm <= 0.0 else 1e-6
        theta = fit_formants(
            theta0, theta0, freqs, N_FIT_FORMANTS, SPEED_OF_SOUND_CM_S, LPC_MEAN_AREA_CM2,
            SIGMA_FORMANT, sig, sig_len, FIT_ITERATIONS,
        )  # fmt: skip
        coef[1:] = theta[:N_COSINES]
        if length_cm <= 0.0:
            length = min(LENGTH_MAX_CM, max(LENGTH_MIN_CM, np.exp(theta[N_COSINES])))
    n0 = n_sections
    if n0 <= 0:
        n0 = max(4, int(np.floor(2.0 * length * fs / SPEED_OF_SOUND_CM_S + 0.5)))
    ln_a = cosine_log_areas(coef, n0)
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
            "fit_formants": N_FIT_FORMANTS,
            "sigma_formant": SIGMA_FORMANT,
            "sigma_shape": SIGMA_SHAPE,
            "sigma_log_length": SIGMA_LOG_LENGTH,
            "fit_iterations": FIT_ITERATIONS,
            "glottal_reflection": 0.0,
            "lip_reflection": 1.0,
            # formant-spacing length (the refinement's prior centre)
            "formant_length_cm": float(raw_length),
            "length_source": "given" if length_cm is not None else "formants",
        },
    )
