"""Independent reference for short-time band power: scipy's STFT."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import stft


def stft_band_powers(
    x: np.ndarray,
    sr: int,
    bands_hz: Sequence[tuple[float, float]],
    frame_seconds: float,
    hop_seconds: float,
) -> np.ndarray:
    """Power of every whole frame in each band ``lo <= f < hi``, shape ``(bands, frames)``:
    periodic Hann window, per-frame mean removed, no padding, unscaled FFT magnitudes."""
    n, hop = round(frame_seconds * sr), round(hop_seconds * sr)
    f, _, z = stft(
        x,
        sr,
        window="hann",
        nperseg=n,
        noverlap=n - hop,
        detrend="constant",
        boundary=None,
        padded=False,
        scaling="spectrum",
    )
    power = np.abs(z * np.hanning(n + 1)[:-1].sum()) ** 2  # scipy divides by the window sum
    return np.array([power[(f >= lo) & (f < hi)].sum(axis=0) for lo, hi in bands_hz])
