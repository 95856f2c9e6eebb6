"""Is the evidence band-limited? The level of its high band against its speech band.

Telephone audio holds nothing above about 4 kHz. Stored or converted at
16 kHz or more it keeps a full-band sample rate but not a full-band
spectrum, and the default detector, calibrated on full-band recordings,
stops separating synthetic from organic speech on such audio
(``benchmarks/bench_band_limited.py``). The sample rate cannot reveal it;
the long-term spectrum can: :func:`high_band_level_db` compares the mean
power density of the 6-7 kHz band with that of the 0.3-3.4 kHz telephone
band.

On the 524 recordings of the labelled corpus that ``bench_band_limited.py``
scores, the originals lie at -45.2 dB or above and their telephone-band
copies at -64.6 dB or below; :data:`MIN_HIGH_BAND_DB` sits between them.
Band-limiting at 5.5 kHz (11.025 kHz audio stored at a higher rate) is
caught only in part (6 % of such copies): the resampling filter's stopband
leaves the 6-7 kHz band near -47 dB (median).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import VtractError

__all__ = [
    "HIGH_BAND_HZ",
    "MIN_HIGH_BAND_DB",
    "SPEECH_BAND_HZ",
    "high_band_level_db",
]

#: Band whose level tells full-band from telephone-band audio (Hz): well
#: above the telephone band and its resampling filters' transition, below 8 kHz.
HIGH_BAND_HZ = (6000.0, 7000.0)
#: The telephone speech band the level is relative to (Hz).
SPEECH_BAND_HZ = (300.0, 3400.0)
#: Evidence whose high band lies below this (dB re the speech band) is taken
#: as band-limited: the corpus's full-band recordings reach -45.2 dB at the
#: lowest, their telephone-band copies -64.6 dB at the highest.
MIN_HIGH_BAND_DB = -55.0

_SEGMENT = 512  # Welch segment (32 ms at 16 kHz)
_BLOCK = 1 << 20  # samples per block: bounded memory on long recordings


def high_band_level_db(samples: np.ndarray, sr: int) -> float:
    """Mean power density of :data:`HIGH_BAND_HZ` re :data:`SPEECH_BAND_HZ`, in dB.

    The long-term spectrum is a Welch average (periodic Hann, 512-sample
    segments without overlap, no detrending) computed block by block, so
    memory stays bounded on long recordings.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz); at least twice the top of :data:`HIGH_BAND_HZ`.

    Returns
    -------
    float
        The level in dB (0 for a flat spectrum; below
        :data:`MIN_HIGH_BAND_DB` for band-limited audio); ``nan`` when it
        cannot be measured (shorter than one segment, or no power in the
        speech band), ``-inf`` when the high band holds no power at all.

    Raises
    ------
    VtractError
        The rate is too low to hold the high band.
    """
    x = np.asarray(samples).ravel()  # converted block by block: no float64 copy of an hour
    if sr < 2 * HIGH_BAND_HZ[1]:
        raise VtractError(
            f"high_band_level_db needs a rate of at least {2 * HIGH_BAND_HZ[1]:.0f} Hz, got {sr}"
        )
    if x.size < _SEGMENT:
        return math.nan
    window = np.hanning(_SEGMENT + 1)[:-1]  # periodic Hann, as scipy.signal.welch uses
    total = np.zeros(_SEGMENT // 2 + 1)
    n_segments = x.size // _SEGMENT
    per_block = _BLOCK // _SEGMENT
    for first in range(0, n_segments, per_block):
        last = min(n_segments, first + per_block)
        frames = np.asarray(x[first * _SEGMENT : last * _SEGMENT], dtype=np.float64)
        spectra = np.fft.rfft(frames.reshape(-1, _SEGMENT) * window, axis=1)
        total += np.sum(spectra.real**2 + spectra.imag**2, axis=0)
    psd = total / n_segments  # the scale cancels in the ratio
    freqs = np.fft.rfftfreq(_SEGMENT, 1.0 / sr)
    high = psd[(freqs >= HIGH_BAND_HZ[0]) & (freqs <= HIGH_BAND_HZ[1])].mean()
    speech = psd[(freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])].mean()
    if not speech > 0.0:
        return math.nan
    if not high > 0.0:
        return -math.inf
    return float(10.0 * math.log10(high / speech))
