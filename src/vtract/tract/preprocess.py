"""Frame preparation: validation, rate conversion, pre-emphasis and windows.

Every estimator starts here. :func:`validate_frame` turns bad input into an
:class:`~vtract.errors.EstimationError` naming what was wrong, and
:func:`to_rate` makes the sampling-rate policy explicit (see
:mod:`vtract.tract.estimate`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import EstimationError
from ..evidence import resample

__all__ = [
    "MAX_RATE",
    "MIN_RATE",
    "PUBLISHED_INPUT_METHODS",
    "apply_window",
    "detrended_frame",
    "estimator_input",
    "pre_emphasis",
    "remove_linear_trend",
    "to_rate",
    "validate_frame",
    "validate_rate",
    "window",
]

#: Lowest and highest input sampling rates (Hz) the estimators accept.
MIN_RATE = 8000
MAX_RATE = 48000

#: Peak amplitude at or below which a frame counts as silent.
SILENCE_PEAK = 1e-7

#: Largest accepted sample magnitude: the estimators' autocorrelations and power
#: spectra sum squared samples, which overflow float64 from about 1e154.
MAX_PEAK = 1e150

#: Estimators that take their input as published: no straight line is removed
#: from their frames (:func:`estimator_input`) and the feature extraction does
#: not high-pass the recording for them (:mod:`vtract.tract.highpass`).
PUBLISHED_INPUT_METHODS = frozenset({"paper"})


def validate_rate(sr: float) -> int:
    """Check a sampling rate and return it as an ``int``.

    Raises
    ------
    EstimationError
        When ``sr`` is not an integer number of Hz within 8000..48000.
    """
    try:
        rate = int(sr)
    except (TypeError, ValueError, OverflowError):
        raise EstimationError(f"sample rate must be a finite number of Hz, got {sr!r}") from None
    if rate != sr or not MIN_RATE <= rate <= MAX_RATE:
        raise EstimationError(
            f"sample rate is {sr!r} Hz; expected an integer from {MIN_RATE} to {MAX_RATE} Hz"
        )
    return rate


def validate_frame(frame: object, sr: int, *, min_ms: float = 10.0) -> np.ndarray:
    """Check one analysis window and return it as contiguous float64.

    Parameters
    ----------
    frame : array_like
        1-D samples.
    sr : int
        Sampling rate (Hz), already validated.
    min_ms : float
        Shortest accepted duration (ms).

    Raises
    ------
    EstimationError
        Not 1-D, non-finite samples, shorter than ``min_ms``, silent, or
        samples beyond :data:`MAX_PEAK` (from the mean).
    """
    x = np.ascontiguousarray(frame, dtype=np.float64)
    if x.ndim != 1:
        raise EstimationError(f"frame must be 1-D samples, got an array of shape {x.shape}")
    finite, spread = _frame_stats(x)
    if not finite:
        raise EstimationError("frame contains NaN or infinite samples; expected finite audio")
    need = int(np.ceil(min_ms * 1e-3 * sr))
    if x.size < need:
        raise EstimationError(
            f"frame has {x.size} samples ({x.size / sr * 1000:.1f} ms at {sr} Hz); "
            f"expected at least {need} ({min_ms:g} ms)"
        )
    if spread <= SILENCE_PEAK:
        raise EstimationError(
            "frame is silent (digital silence or constant); no vocal tract can be estimated"
        )
    if spread > MAX_PEAK:
        raise EstimationError(
            f"frame samples reach {spread:.3g}; expected at most {MAX_PEAK:g} in magnitude "
            "(the squared samples of the analysis would overflow): scale the audio down"
        )
    return x


@njit(cache=True)
def _frame_stats(x: np.ndarray) -> tuple[bool, float]:
    """``(all finite, largest deviation from the mean)`` in one pass plus one."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        if not np.isfinite(x[i]):
            return False, 0.0
        s += x[i]
    mean = s / max(n, 1)
    peak = 0.0
    for i in range(n):
        d = abs(x[i] - mean)
        if d > peak:
            peak = d
    return True, peak


@njit(cache=True)
def remove_linear_trend(x: np.ndarray) -> np.ndarray:
    """``x`` minus its least-squares straight line: DC offset and slow drift removed.

    A constant offset of 5 % of the speech RMS, half the level at which
    :func:`vtract.load` warns (:data:`vtract.evidence.DC_WARN_RATIO`), is enough to pull the LPC shapes of quiet
    windows toward a low-frequency pole, and with them the tract-dynamics
    statistic of synthetic speech below the detector's threshold
    (``benchmarks/bench_degradations.py``: ``dc_offset_*``); the line
    through a 35 ms window is also what a drift or rumble far below the
    voice (under ~10 Hz) contributes to it.
    """
    n = x.shape[0]
    y = np.empty(n)
    if n == 0:
        return y
    centre = 0.5 * (n - 1)
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    slope_num = 0.0
    slope_den = 0.0
    for i in range(n):
        t = i - centre
        slope_num += t * (x[i] - mean)
        slope_den += t * t
    slope = slope_num / slope_den if slope_den > 0.0 else 0.0
    for i in range(n):
        y[i] = x[i] - mean - slope * (i - centre)
    return y


def detrended_frame(x: np.ndarray) -> np.ndarray:
    """:func:`remove_linear_trend` of a validated frame, refusing a frame that was only a line.

    Raises
    ------
    EstimationError
        Nothing but an offset and a straight slope (no signal left).
    """
    y = remove_linear_trend(x)
    if not np.max(np.abs(y)) > SILENCE_PEAK:
        raise EstimationError(
            "frame is a straight line (an offset and a slope, no signal); "
            "no vocal tract can be estimated"
        )
    return y


def estimator_input(x: np.ndarray, method: str) -> np.ndarray:
    """The validated frame ``method`` estimates: as given for the methods of
    :data:`PUBLISHED_INPUT_METHODS`, else :func:`detrended_frame`."""
    return x if method in PUBLISHED_INPUT_METHODS else detrended_frame(x)


def to_rate(x: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Resample ``x`` from ``sr`` to ``target_sr`` (polyphase, Kaiser window)."""
    if sr == target_sr:
        return x
    return np.ascontiguousarray(resample(x, sr, target_sr))


@njit(cache=True)
def pre_emphasis(x: np.ndarray, coefficient: float) -> np.ndarray:
    """First-order pre-emphasis ``y[n] = x[n] - coefficient * x[n-1]`` (``y[0] = x[0]``)."""
    n = x.shape[0]
    y = np.empty(n)
    if n == 0:
        return y
    y[0] = x[0]
    for i in range(1, n):
        y[i] = x[i] - coefficient * x[i - 1]
    return y


@njit(cache=True)
def window(kind: int, n: int) -> np.ndarray:
    """Symmetric window of length ``n``: 0 rectangular, 1 Hann, 2 Hamming, 3 Gaussian (Praat-like).

    Hann and Hamming use a rotating phasor (one complex multiply per sample,
    renormalised) instead of one cosine per sample.
    """
    w = np.empty(n)
    if n == 1:
        w[0] = 1.0
        return w
    if kind == 1 or kind == 2:
        a0 = 0.5 if kind == 1 else 0.54
        a1 = 1.0 - a0
        step = np.exp(2j * np.pi / (n - 1))
        ph = 1.0 + 0j
        for i in range(n):
            w[i] = a0 - a1 * ph.real
            ph = ph * step
            if i % 64 == 63:
                ph = np.exp(2j * np.pi * (i + 1) / (n - 1))
        return w
    for i in range(n):
        t = i / (n - 1)
        if kind == 0:
            w[i] = 1.0
        else:
            e = np.exp(-12.0)
            w[i] = (np.exp(-48.0 * (t - 0.5) ** 2) - e) / (1.0 - e)
    return w


WINDOW_KINDS = {"rectangular": 0, "hann": 1, "hamming": 2, "gaussian": 3}


@njit(cache=True)
def apply_window(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Element-wise product of a frame and a window of the same length."""
    n = x.shape[0]
    y = np.empty(n)
    for i in range(n):
        y[i] = x[i] * w[i]
    return y
