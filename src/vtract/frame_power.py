"""Short-time band power: the power of every frame of a recording in a few bands.

The noise-floor and reverberation measures of :mod:`vtract.noise_floor` and
:mod:`vtract.reverberation` both follow how the power of a band changes from
frame to frame; :func:`frame_band_powers` is that one computation, block by
block so that memory stays bounded on hour-long recordings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["frame_band_powers"]

_BLOCK_FRAMES = 4096  # frames transformed at a time


def frame_band_powers(
    samples: np.ndarray,
    sr: int,
    bands_hz: Sequence[tuple[float, float]],
    frame_seconds: float,
    hop_seconds: float,
) -> np.ndarray:
    """Power of every frame in each band.

    Frames are ``round(frame_seconds * sr)`` samples long and start every
    ``round(hop_seconds * sr)`` samples (only whole frames); each has its
    mean removed and a periodic Hann window applied before its real FFT.
    A band's power is the sum of the squared magnitudes of the bins
    ``lo <= f < hi``.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal (any float or integer dtype; converted block by block,
        so no float64 copy of the whole recording is made).
    sr : int
        Its sample rate (Hz).
    bands_hz : sequence of (float, float)
        ``(lo, hi)`` of each band (Hz).
    frame_seconds, hop_seconds : float
        Frame length and hop (s).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(bands_hz), n_frames)``; ``n_frames`` is 0 for a signal
        shorter than one frame.
    """
    x = np.asarray(samples).ravel()
    n = round(frame_seconds * sr)
    hop = round(hop_seconds * sr)
    n_frames = 0 if x.size < n else 1 + (x.size - n) // hop
    window = np.hanning(n + 1)[:-1]
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    in_band = [(freqs >= lo) & (freqs < hi) for lo, hi in bands_hz]
    powers = np.empty((len(in_band), n_frames))
    for first in range(0, n_frames, _BLOCK_FRAMES):
        last = min(n_frames, first + _BLOCK_FRAMES)
        chunk = np.asarray(x[first * hop : (last - 1) * hop + n], dtype=np.float64)
        frames = np.lib.stride_tricks.sliding_window_view(chunk, n)[::hop]
        frames = frames - frames.mean(axis=1, keepdims=True)
        spectra = np.fft.rfft(frames * window, axis=1)
        power = spectra.real**2 + spectra.imag**2
        for b, sel in enumerate(in_band):
            powers[b, first:last] = power[:, sel].sum(axis=1)
    return powers
