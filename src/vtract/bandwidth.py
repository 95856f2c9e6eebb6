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
caught that way only in part (6 % of such copies): the resampling filter's
stopband leaves the 6-7 kHz band near -47 dB (median), within the range of
full-band speech. What such audio has instead is an edge: its long-term
spectrum falls steeply and stays down. :func:`spectral_edge` measures the
deepest such fall between 3 and 6.3 kHz; the same 524 recordings fall
20.5 dB at the most, their 11.025 kHz copies 20.1 dB at the least and
99.8 % of them 25 dB or more (:data:`MIN_EDGE_DROP_DB`). Edges above
6.3 kHz are not looked for: 16 kHz recordings have their own anti-aliasing
filter there, and 6.5 kHz copies (13 kHz audio) fall only 1-27 dB (median
7-11 dB), so they are not caught (2 of the 524 are).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import VtractError

__all__ = [
    "EDGE_BELOW_HZ",
    "EDGE_SEARCH_HZ",
    "EDGE_TOP_HZ",
    "HIGH_BAND_HZ",
    "MIN_EDGE_DROP_DB",
    "MIN_HIGH_BAND_DB",
    "SPEECH_BAND_HZ",
    "band_limit_measures",
    "high_band_level_db",
    "spectral_edge",
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

#: Where :func:`spectral_edge` looks for a low-pass edge (Hz): above the
#: telephone band's, below the transition of 16 kHz recordings' own filters.
EDGE_SEARCH_HZ = (3000.0, 6300.0)
#: Band below a candidate edge whose mean level is compared (Hz).
EDGE_BELOW_HZ = 1000.0
#: Top of the bands above a candidate edge (Hz).
EDGE_TOP_HZ = 7500.0
#: Evidence whose spectrum drops this far (dB) at an edge in
#: :data:`EDGE_SEARCH_HZ` is taken as band-limited: the corpus's recordings
#: reach 20.5 dB at the most, their 5.5 kHz (11.025 kHz audio) copies 20.1 dB
#: at the least and 99.8 % of them exceed 25 dB.
MIN_EDGE_DROP_DB = 25.0
_EDGE_SUB_BAND_HZ = 250.0
_EDGE_GAP_HZ = 150.0

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
    _check_rate(sr, HIGH_BAND_HZ[1], "high_band_level_db")
    spectrum = _long_term_spectrum(samples, sr)
    return math.nan if spectrum is None else _high_band_level(*spectrum)


def _high_band_level(freqs: np.ndarray, psd: np.ndarray) -> float:
    """:func:`high_band_level_db` of a long-term spectrum."""
    high = psd[(freqs >= HIGH_BAND_HZ[0]) & (freqs <= HIGH_BAND_HZ[1])].mean()
    speech = psd[(freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])].mean()
    if not speech > 0.0:
        return math.nan
    if not high > 0.0:
        return -math.inf
    return float(10.0 * math.log10(high / speech))


def spectral_edge(samples: np.ndarray, sr: int) -> tuple[float, float]:
    """The steepest fall of the long-term spectrum between 3 and 6.3 kHz: where, and how deep.

    For every candidate edge frequency ``fc`` in :data:`EDGE_SEARCH_HZ` (each
    bin of the Welch spectrum of :func:`high_band_level_db`) the drop is the
    mean power density of the :data:`EDGE_BELOW_HZ` below ``fc`` over the
    *highest* mean density of the 250 Hz sub-bands (half-overlapping) from
    ``fc + 150 Hz`` up to :data:`EDGE_TOP_HZ`, in dB. Speech falls off
    gradually, so every band above a point of a full-band spectrum holds
    some sub-band near the level just below it; audio that was low-pass
    filtered (an 11.025 kHz recording, a low-bitrate encoder's low-pass)
    keeps nothing above its edge but the resampling filter's stopband.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz); at least twice :data:`EDGE_TOP_HZ`.

    Returns
    -------
    (edge_hz, drop_db) : tuple of float
        The candidate with the largest drop and that drop (at or above
        :data:`MIN_EDGE_DROP_DB`: band-limited); ``(nan, nan)`` when it
        cannot be measured (shorter than one segment, or no power below
        the edge), ``drop_db = inf`` when nothing at all lies above it.

    Raises
    ------
    VtractError
        The rate is too low to hold the bands above the edge.
    """
    _check_rate(sr, EDGE_TOP_HZ, "spectral_edge")
    spectrum = _long_term_spectrum(samples, sr)
    return (math.nan, math.nan) if spectrum is None else _edge(*spectrum)


def band_limit_measures(samples: np.ndarray, sr: int) -> tuple[float, float, float]:
    """:func:`high_band_level_db` and :func:`spectral_edge` from one long-term spectrum.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    (high_band_db, edge_hz, edge_drop_db) : tuple of float
        As the two functions return them, computed once; ``nan`` for a
        measure whose bands the rate is too low to hold (instead of an
        error).
    """
    if sr < 2 * HIGH_BAND_HZ[1]:
        return math.nan, math.nan, math.nan
    spectrum = _long_term_spectrum(samples, sr)
    if spectrum is None:
        return math.nan, math.nan, math.nan
    edge = _edge(*spectrum) if sr >= 2 * EDGE_TOP_HZ else (math.nan, math.nan)
    return _high_band_level(*spectrum), *edge


def _edge(freqs: np.ndarray, psd: np.ndarray) -> tuple[float, float]:
    """:func:`spectral_edge` of a long-term spectrum."""
    step = freqs[1] - freqs[0]
    # mean density of every 250 Hz sub-band, by its first bin (cumulative sums)
    per_band = max(1, round(_EDGE_SUB_BAND_HZ / step))
    cumulative = np.concatenate(([0.0], np.cumsum(psd)))
    band_start = np.arange(freqs.size - per_band + 1)
    band_mean = (cumulative[band_start + per_band] - cumulative[band_start]) / per_band
    hop = max(1, per_band // 2)
    best_drop, best_hz = -math.inf, math.nan
    for i in np.flatnonzero((freqs >= EDGE_SEARCH_HZ[0]) & (freqs <= EDGE_SEARCH_HZ[1])):
        below = psd[(freqs > freqs[i] - EDGE_BELOW_HZ) & (freqs <= freqs[i])].mean()
        starts = np.arange(i + math.ceil(_EDGE_GAP_HZ / step), freqs.size, hop)
        starts = starts[freqs[np.minimum(starts + per_band, freqs.size - 1)] <= EDGE_TOP_HZ]
        if starts.size == 0 or not below > 0.0:
            continue
        above = band_mean[starts].max()
        drop = math.inf if not above > 0.0 else 10.0 * math.log10(below / above)
        if drop > best_drop:
            best_drop, best_hz = drop, float(freqs[i])
    if math.isnan(best_hz):
        return math.nan, math.nan
    return best_hz, float(best_drop)


def _check_rate(sr: int, top_hz: float, name: str) -> None:
    if sr < 2 * top_hz:
        raise VtractError(f"{name} needs a rate of at least {2 * top_hz:.0f} Hz, got {sr}")


def _long_term_spectrum(samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(freqs, psd)`` of the Welch average, block by block; ``None`` below one segment."""
    x = np.asarray(samples).ravel()  # converted block by block: no float64 copy of an hour
    if x.size < _SEGMENT:
        return None
    window = np.hanning(_SEGMENT + 1)[:-1]  # periodic Hann, as scipy.signal.welch uses
    total = np.zeros(_SEGMENT // 2 + 1)
    n_segments = x.size // _SEGMENT
    per_block = _BLOCK // _SEGMENT
    for first in range(0, n_segments, per_block):
        last = min(n_segments, first + per_block)
        frames = np.asarray(x[first * _SEGMENT : last * _SEGMENT], dtype=np.float64)
        spectra = np.fft.rfft(frames.reshape(-1, _SEGMENT) * window, axis=1)
        total += np.sum(spectra.real**2 + spectra.imag**2, axis=0)
    psd = total / n_segments  # the scale cancels in every ratio taken of it
    return np.fft.rfftfreq(_SEGMENT, 1.0 / sr), psd
