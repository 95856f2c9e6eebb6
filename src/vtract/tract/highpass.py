"""Analysis high-pass: what lies below every vocal-tract resonance is removed before windowing.

A vocal tract has no resonance below about 200 Hz (the lowest first formant
of an adult, closed-lip /u/ or /i/, lies near 250 Hz), and the LPC-based
estimators pre-emphasise their input, so the content of a recording below
80 Hz carries no information about the tract. It does carry the recording
chain: mains hum (50/60 Hz), handling and wind rumble, drift. In the quiet
windows of a recording (stop closures, weak fricatives; 20-30 dB below the
speech power) such content is most of the signal, and the estimated tract
follows it. Measured (session 14, ``benchmarks/bench_degradations.py``
condition ``hum50_snr30``): a 50 Hz sine 30 dB below the speech lowered the
shape spread of ESPnet fakes by about 0.1 and raised their F1 spread by about
40 Hz, enough to halve the detector's recall; with this filter the change is
below 0.001.

The filter is a Butterworth high-pass of order :data:`HIGHPASS_ORDER` at
:data:`ANALYSIS_HIGHPASS_HZ`, run forwards and backwards
(:func:`scipy.signal.sosfiltfilt`), so it shifts no phone boundary: zero
phase, -6 dB at 80 Hz, -1.3 dB at 100 Hz, -33 dB at 50 Hz, -21 dB at 60 Hz,
flat (< 0.01 dB) above 200 Hz. The cutoff was fixed by that principle (below
the tract's resonances and the modal F0 of nearly all adult voices, above the
mains), not tuned on the detection corpus. It is applied by
:func:`vtract.features.extract_features` to the whole recording for every
estimator except ``"paper"``, which keeps the published input (as it keeps a
DC offset, :mod:`vtract.tract.preprocess`). :func:`vtract.estimate_tract` on a
single frame does not filter: a 35 ms frame is too short for an 80 Hz filter;
a straight line per frame is removed instead.

The evidence itself is never changed; the filtered signal exists only during
the feature extraction. Long recordings are filtered in blocks with
:data:`BLOCK_MARGIN_SECONDS` of overlap, which equals filtering the whole
signal at once (the filter's slowest pole decays by a factor of about
``e^-190`` per second), without a float64 copy of the whole recording.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ..errors import VtractError
from .preprocess import PUBLISHED_INPUT_METHODS

__all__ = [
    "ANALYSIS_HIGHPASS_HZ",
    "BLOCK_MARGIN_SECONDS",
    "HIGHPASS_ORDER",
    "analysis_highpass_hz",
    "highpass",
]

#: Cutoff (Hz, -3 dB of one pass) of the analysis high-pass.
ANALYSIS_HIGHPASS_HZ = 80.0
#: Butterworth order of one pass (the zero-phase filter has twice this order).
HIGHPASS_ORDER = 4
#: Overlap (s) on each side of a block when a long signal is filtered in blocks.
BLOCK_MARGIN_SECONDS = 1.0
#: Block length (s) of the block-wise filtering.
BLOCK_SECONDS = 60.0


def analysis_highpass_hz(method: str) -> float:
    """Cutoff the feature extraction uses for ``method`` (0 = no filter).

    Parameters
    ----------
    method : str
        Estimator name (:func:`vtract.estimate_tract`).

    Returns
    -------
    float
        :data:`ANALYSIS_HIGHPASS_HZ`, or 0.0 for the methods of
        :data:`~vtract.tract.preprocess.PUBLISHED_INPUT_METHODS` (``"paper"``).
    """
    return 0.0 if method in PUBLISHED_INPUT_METHODS else ANALYSIS_HIGHPASS_HZ


def _design(sr: int, cutoff_hz: float) -> np.ndarray:
    return np.asarray(butter(HIGHPASS_ORDER, cutoff_hz, btype="highpass", fs=sr, output="sos"))


def _filtfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    # scipy's default pad length, shortened for signals shorter than it
    padlen = min(3 * (2 * sos.shape[0] + 1), x.shape[0] - 1)
    return np.asarray(sosfiltfilt(sos, np.asarray(x, dtype=np.float64), padlen=padlen))


def highpass(samples: np.ndarray, sr: int, cutoff_hz: float = ANALYSIS_HIGHPASS_HZ) -> np.ndarray:
    """Zero-phase Butterworth high-pass of a mono signal.

    Parameters
    ----------
    samples : numpy.ndarray
        1-D mono samples (float32 or float64), finite, at least 2 samples.
    sr : int
        Sample rate (Hz).
    cutoff_hz : float, default :data:`ANALYSIS_HIGHPASS_HZ`
        Cutoff of one pass; must lie strictly between 0 and ``sr / 2``.

    Returns
    -------
    numpy.ndarray
        The filtered signal, same length, with the input's floating dtype
        (float32 input stays float32, so a long recording needs no float64
        copy; the filtering itself is in float64).

    Raises
    ------
    VtractError
        For a non-1-D or non-finite signal, fewer than 2 samples, a
        non-positive rate, or a cutoff outside ``(0, sr / 2)``.
    """
    x = np.asarray(samples)
    if x.ndim != 1:
        raise VtractError(f"highpass expects 1-D mono samples, got shape {x.shape}")
    if x.shape[0] < 2:
        raise VtractError(f"highpass needs at least 2 samples, got {x.shape[0]}")
    if int(sr) <= 0:
        raise VtractError(f"sample rate must be positive, got {sr}")
    if not 0.0 < float(cutoff_hz) < 0.5 * int(sr):
        raise VtractError(
            f"high-pass cutoff must lie between 0 and {0.5 * int(sr):g} Hz (half the rate "
            f"{int(sr)} Hz), got {cutoff_hz}"
        )
    if not np.all(np.isfinite(x)):
        raise VtractError("highpass: the signal contains NaN or infinite samples")
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    sos = _design(int(sr), float(cutoff_hz))
    n = x.shape[0]
    block = int(BLOCK_SECONDS * sr)
    margin = math.ceil(BLOCK_MARGIN_SECONDS * sr)
    if n <= block + 2 * margin:
        return _filtfilt(sos, x).astype(dtype, copy=False)
    out = np.empty(n, dtype=dtype)
    for start in range(0, n, block):
        stop = min(n, start + block)
        lo, hi = max(0, start - margin), min(n, stop + margin)
        out[start:stop] = _filtfilt(sos, x[lo:hi])[start - lo : stop - lo]
    return out
