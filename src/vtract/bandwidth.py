"""Is the evidence band-limited? The level of its high band against its speech band.

Telephone audio holds nothing above about 4 kHz. Stored or converted at
16 kHz or more it keeps a full-band sample rate but not a full-band
spectrum, and the default detector, calibrated on full-band recordings,
stops separating synthetic from organic speech on such audio
(``benchmarks/bench_band_limited.py``). The sample rate cannot reveal it;
the spectrum can: :func:`high_band_level_db` compares the mean power
density of the 6-7 kHz band with that of the 0.3-3.4 kHz telephone band.

Band-limiting at 5.5 kHz (11.025 kHz audio stored at a higher rate) is
caught that way only in part: the resampling filter's stopband leaves the
6-7 kHz band near -47 dB (median), within the range of full-band speech.
What such audio has instead is an edge: its spectrum falls steeply and
stays down. :func:`spectral_edge` measures the deepest such fall between 3
and 6.3 kHz. Edges above 6.3 kHz are not looked for: 16 kHz recordings have
their own anti-aliasing filter there, and 6.5 kHz copies (13 kHz audio)
fall only a few dB, so they are not caught (3 of 568 are).

Both measures are taken twice (:func:`band_limit_measures`):

- on the long-term (Welch) spectrum. On the 524 recordings that
  ``bench_band_limited.py`` scores (session 28), the originals lie at
  -45.2 dB or above and their telephone-band copies at -64.6 dB or below
  (:data:`MIN_HIGH_BAND_DB`: -55 dB); the originals fall 20.5 dB at the
  most off an edge, their 11.025 kHz copies 20.1 dB at the least and all
  but 0-0.2 % of them 25 dB or more (:data:`MIN_EDGE_DROP_DB`).
- on the spectrum of the quieter frames (:func:`quiet_frames_spectrum`:
  those 20-50 dB below the loudest, per-bin upper quartile). The long-term
  spectrum alone is defeated by any memoryless nonlinearity (session-28
  probe F1): a telephone copy with 0.1 % of its samples hard-clipped, or
  through a tanh limiter that takes 2.4 dB off its peak, gets its high band
  refilled with harmonics and intermodulation of its loud segments, and
  only 19 % (clipped at 0.1 %), 1.3 % (1 %) and 55 % (tanh) of the 524
  telephone copies were still called band-limited. The distortion products
  grow with the level and sit in the loudest frames; the quieter frames
  keep the band limit. Their high band lies at -60.5 dB or below on every
  telephone copy, distorted or not, and at -33.4 dB or above on every
  original, distorted or not (:data:`MIN_QUIET_HIGH_BAND_DB`: -45 dB);
  their spectrum falls 26.3 dB or more off an edge on every 11.025 kHz
  copy, distorted or not, and 20.7 dB at the most on the originals (one
  LibriSpeech recording; the next 17.7 dB; :data:`MIN_QUIET_EDGE_DROP_DB`:
  22 dB).

Evidence is band-limited when any of the four is past its threshold
(:meth:`BandLimitMeasures.band_limited`). On the 524 recordings: no
original (none before), also none clipped or saturated the three ways; all
telephone copies, and 99.8 % of them clipped at 0.1 % or 1 % or saturated
(the one left is 0.9 s long: too few quieter frames, and too short for the
noise-floor measure, so ``vtract.analyze`` gives no verdict on it anyway);
all 11.025 kHz copies, and 99.8 % of them distorted (14 %, 2.5 % and 47 %
before). The long-term measures stay: 16-bit storage of a telephone copy
puts quantisation noise into the quieter frames' high band (on a
227-recording subset, 12 % of such copies pass the quieter-frame level and
2 % both quieter-frame measures, none the long-term ones). The thresholds
of the quieter-frame measures were set on that subset
(``bench_band_limited.py --libri 5``) before the corpus was run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .errors import VtractError

__all__ = [
    "EDGE_BELOW_HZ",
    "EDGE_SEARCH_HZ",
    "EDGE_TOP_HZ",
    "HIGH_BAND_HZ",
    "LOUD_FRAME_EXCESS_DB",
    "MIN_EDGE_DROP_DB",
    "MIN_HIGH_BAND_DB",
    "MIN_QUIET_EDGE_DROP_DB",
    "MIN_QUIET_FRAMES",
    "MIN_QUIET_HIGH_BAND_DB",
    "QUIET_FRAMES_BELOW_LOUDEST_DB",
    "QUIET_FRAMES_QUANTILE",
    "SPEECH_BAND_HZ",
    "BandLimitMeasures",
    "band_limit_measures",
    "high_band_level_db",
    "quiet_frames_spectrum",
    "spectral_edge",
]

#: Band whose level tells full-band from telephone-band audio (Hz): well
#: above the telephone band and its resampling filters' transition, below 8 kHz.
HIGH_BAND_HZ = (6000.0, 7000.0)
#: The telephone speech band the level is relative to (Hz).
SPEECH_BAND_HZ = (300.0, 3400.0)
#: Evidence whose long-term high band lies below this (dB re the speech band)
#: is taken as band-limited: the corpus's full-band recordings reach -45.2 dB
#: at the lowest, their telephone-band copies -64.6 dB at the highest.
MIN_HIGH_BAND_DB = -55.0

#: Where :func:`spectral_edge` looks for a low-pass edge (Hz): above the
#: telephone band's, below the transition of 16 kHz recordings' own filters.
EDGE_SEARCH_HZ = (3000.0, 6300.0)
#: Band below a candidate edge whose mean level is compared (Hz).
EDGE_BELOW_HZ = 1000.0
#: Top of the bands above a candidate edge (Hz).
EDGE_TOP_HZ = 7500.0
#: Evidence whose long-term spectrum drops this far (dB) at an edge in
#: :data:`EDGE_SEARCH_HZ` is taken as band-limited: the corpus's recordings
#: reach 20.5 dB at the most, their 5.5 kHz (11.025 kHz audio) copies 20.1 dB
#: at the least and 99.8 % of them exceed 25 dB.
MIN_EDGE_DROP_DB = 25.0
_EDGE_SUB_BAND_HZ = 250.0
_EDGE_GAP_HZ = 150.0

#: The quieter frames (:func:`quiet_frames_spectrum`): those whose speech-band
#: power lies this far below the loudest frame's (dB, from, to). Distortion
#: products of a memoryless nonlinearity (clipping, a limiter, saturation)
#: grow with the level and sit in the loudest frames; 20 dB below them they
#: are weak, and 50 dB below them begins the noise floor.
QUIET_FRAMES_BELOW_LOUDEST_DB = (20.0, 50.0)
#: The per-bin quantile taken over the quieter frames' spectra: the upper
#: quartile, so that a quarter of the frames with energy in a bin (fricatives,
#: breath, the noise floor of full-band audio) is enough to show it.
QUIET_FRAMES_QUANTILE = 0.75
#: Fewer quieter frames than this (32 ms each) and the quieter-frame measures
#: are not taken (``nan``).
MIN_QUIET_FRAMES = 8
#: Evidence whose quieter frames' high band lies below this (dB re their
#: speech band) is taken as band-limited. Set on a development subset (227
#: recordings, ``bench_band_limited.py --libri 5``) between its full-band
#: originals, also clipped, saturated or MP3/Opus-coded (-24.6 dB at the
#: lowest), and its telephone-band copies, also clipped or saturated (-57.7 dB
#: at the highest). On the 524 recordings of the corpus: originals -33.4 dB
#: or above, telephone copies -60.5 dB or below (distorted or not).
MIN_QUIET_HIGH_BAND_DB = -45.0
#: Evidence whose quieter frames' spectrum drops this far (dB) at an edge in
#: :data:`EDGE_SEARCH_HZ` is taken as band-limited. Set on the same subset
#: between its full-band originals, also distorted or coded (12.8 dB at the
#: most), and its 5.5 kHz copies (31.2 dB at the least). On the 524
#: recordings of the corpus the margins are thinner: originals 20.7 dB at the
#: most (one LibriSpeech recording, the next 17.7 dB), 11.025 kHz copies
#: 26.3 dB at the least (distorted or not); the threshold stays nearer the
#: originals, where an error costs a verdict, not a wrong one.
MIN_QUIET_EDGE_DROP_DB = 22.0
#: A long-term high band this far (dB) above the quieter frames' means that
#: the high band holds energy mainly in the loudest frames, as distortion of
#: band-limited audio puts there (said in the reason). On the 524 recordings
#: of the corpus: on no original and no undistorted telephone copy, on 1 of
#: the 524 undistorted 11.025 kHz copies, and on 95-100 % of the telephone
#: copies clipped at 0.1 % or 1 % and 59-64 % of the tanh-saturated ones (on
#: the development subset the difference reached 12.7 dB at the most without
#: distortion).
LOUD_FRAME_EXCESS_DB = 15.0

_SEGMENT = 512  # Welch segment (32 ms at 16 kHz)
_BLOCK = 1 << 20  # samples per block: bounded memory on long recordings


class BandLimitMeasures(NamedTuple):
    """The band-limit measures of one recording (``nan``: not measured).

    Attributes
    ----------
    high_band_level_db : float
        :func:`high_band_level_db` of the long-term spectrum.
    spectral_edge_hz, spectral_edge_drop_db : float
        :func:`spectral_edge` of the long-term spectrum.
    quiet_high_band_level_db : float
        The same level of :func:`quiet_frames_spectrum`.
    quiet_spectral_edge_hz, quiet_spectral_edge_drop_db : float
        The same edge of :func:`quiet_frames_spectrum`.
    """

    high_band_level_db: float
    spectral_edge_hz: float
    spectral_edge_drop_db: float
    quiet_high_band_level_db: float
    quiet_spectral_edge_hz: float
    quiet_spectral_edge_drop_db: float

    def band_limited(self) -> bool:
        """Whether any measured value is past its threshold (what ``vtract.analyze`` checks).

        A level below :data:`MIN_HIGH_BAND_DB` (long-term) or
        :data:`MIN_QUIET_HIGH_BAND_DB` (quieter frames), or an edge drop of at
        least :data:`MIN_EDGE_DROP_DB` or :data:`MIN_QUIET_EDGE_DROP_DB`;
        a measure that was not taken (``nan``) counts as not past it.
        """
        return bool(
            self.high_band_level_db < MIN_HIGH_BAND_DB
            or self.quiet_high_band_level_db < MIN_QUIET_HIGH_BAND_DB
            or self.spectral_edge_drop_db >= MIN_EDGE_DROP_DB
            or self.quiet_spectral_edge_drop_db >= MIN_QUIET_EDGE_DROP_DB
        )

    def loud_frame_excess_db(self) -> float:
        """How far the long-term high band lies above the quieter frames' (dB; ``nan``: either
        not measured). :data:`LOUD_FRAME_EXCESS_DB` or more: mainly in the loudest frames."""
        return float(self.high_band_level_db - self.quiet_high_band_level_db)


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


def quiet_frames_spectrum(samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The spectrum of the quieter frames, each relative to its own speech band.

    The signal is cut into the segments of :func:`high_band_level_db` (512
    samples, periodic Hann, no overlap). The frames whose mean power density
    in :data:`SPEECH_BAND_HZ` lies :data:`QUIET_FRAMES_BELOW_LOUDEST_DB` (20
    to 50 dB) below the loudest frame's are kept; each one's power spectrum
    is divided by that density, and the result is the per-bin
    :data:`QUIET_FRAMES_QUANTILE` (upper quartile) of these spectra in dB,
    as power. Full-band speech has energy above 4 kHz in many such frames
    (fricatives, breath, its noise floor); band-limited audio has none in
    any, and the distortion products that clipping or saturation adds grow
    with the level, so they fill the loudest frames' high band, not these
    (:func:`band_limit_measures`).

    Memory: the kept frames' spectra are held as float32, about half the
    size of the float32 samples when every frame is kept, and copied twice
    on the way to the quantile: at peak about 1.5 times the size of the
    float32 samples (an hour at 16 kHz in which every frame is a quieter
    one raised the band measures' peak memory by 346 MB, against 104 MB for
    the long-term spectrum alone; session-28 review).

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    (freqs, spectrum) : tuple of numpy.ndarray or None
        The bin frequencies (Hz) and the spectrum (1 at a bin as strong as
        the frames' speech band); ``None`` with fewer than
        :data:`MIN_QUIET_FRAMES` such frames (shorter than about 0.3 s, no
        speech-band power, or a level that hardly varies).
    """
    return _spectra(samples, sr)[1]


def band_limit_measures(samples: np.ndarray, sr: int) -> BandLimitMeasures:
    """The band-limit measures of the long-term and of the quieter frames' spectrum.

    :func:`high_band_level_db` and :func:`spectral_edge` of the long-term
    (Welch) spectrum, and the same level and edge of
    :func:`quiet_frames_spectrum`, from one pass over the frames (and a
    second over the quieter ones).

    The long-term spectrum alone is defeated by any memoryless nonlinearity:
    0.1 % of the samples of a telephone-band recording hard-clipped, or a
    tanh limiter that takes 2.4 dB off its peak, refills its 6-7 kHz band
    with harmonics and intermodulation of the loud segments (session-28
    probe F1: -72 dB to -43 dB, edge 39 to 17 dB). Those products sit in the
    loudest frames; the quieter frames' spectrum keeps the band limit
    (``benchmarks/bench_band_limited.py``: module docstring).

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    BandLimitMeasures
        ``nan`` for a measure that cannot be taken (shorter than one
        segment, no speech-band power, fewer than :data:`MIN_QUIET_FRAMES`
        quieter frames) or whose bands the rate is too low to hold (instead
        of an error); :meth:`BandLimitMeasures.band_limited` applies the
        thresholds.
    """
    nan3 = (math.nan, math.nan, math.nan)
    if sr < 2 * HIGH_BAND_HZ[1]:
        return BandLimitMeasures(*nan3, *nan3)
    long_term, quiet = _spectra(samples, sr)
    measured = []
    for spectrum in (long_term, quiet):
        if spectrum is None:
            measured.append(nan3)
            continue
        edge = _edge(*spectrum) if sr >= 2 * EDGE_TOP_HZ else (math.nan, math.nan)
        measured.append((_high_band_level(*spectrum), *edge))
    return BandLimitMeasures(*measured[0], *measured[1])


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
    return _spectra(samples, sr, quiet=False)[0]


_Spectrum = tuple[np.ndarray, np.ndarray]


def _spectra(
    samples: np.ndarray, sr: int, *, quiet: bool = True
) -> tuple[_Spectrum | None, _Spectrum | None]:
    """The long-term (Welch) spectrum and :func:`quiet_frames_spectrum`, block by block.

    The first is ``None`` below one segment, the second with fewer than
    :data:`MIN_QUIET_FRAMES` quieter frames (or not asked for: ``quiet=False``).
    """
    x = np.asarray(samples).ravel()  # converted block by block: no float64 copy of an hour
    if x.size < _SEGMENT:
        return None, None
    freqs = np.fft.rfftfreq(_SEGMENT, 1.0 / sr)
    speech = (freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])
    n_segments = x.size // _SEGMENT
    total = np.zeros(freqs.size)
    speech_density = np.empty(n_segments)  # each frame's mean power density in the speech band
    for first, power in _frame_powers(x, n_segments):
        total += power.sum(axis=0)
        speech_density[first : first + power.shape[0]] = power[:, speech].mean(axis=1)
    long_term = (freqs, total / n_segments)  # the scale cancels in every ratio taken of it

    loudest = speech_density.max()
    if not quiet or not loudest > 0.0:
        return long_term, None
    nearest_db, farthest_db = QUIET_FRAMES_BELOW_LOUDEST_DB
    level_db = 10.0 * np.log10(np.maximum(speech_density, _TINY) / loudest)
    kept = (level_db <= -nearest_db) & (level_db >= -farthest_db)
    if np.count_nonzero(kept) < MIN_QUIET_FRAMES:
        return long_term, None
    relative_db = [
        (10.0 * np.log10(np.maximum(power, _TINY) / speech_density[first + rows, None])).astype(
            np.float32
        )
        for first, rows, power in _kept_frame_powers(x, n_segments, kept)
    ]
    spectrum_db = np.quantile(np.concatenate(relative_db), QUIET_FRAMES_QUANTILE, axis=0)
    return long_term, (freqs, 10.0 ** (spectrum_db.astype(np.float64) / 10.0))


_TINY = np.finfo(np.float64).tiny  # a power floor: every level in dB stays finite
_WINDOW = np.hanning(_SEGMENT + 1)[:-1]  # periodic Hann, as scipy.signal.welch uses


def _frame_powers(x: np.ndarray, n_segments: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first segment, power spectra)`` of the windowed segments, block by block."""
    per_block = _BLOCK // _SEGMENT
    for first in range(0, n_segments, per_block):
        last = min(n_segments, first + per_block)
        frames = np.asarray(x[first * _SEGMENT : last * _SEGMENT], dtype=np.float64)
        yield first, _power(frames.reshape(-1, _SEGMENT))


def _kept_frame_powers(
    x: np.ndarray, n_segments: int, kept: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(first segment, kept rows of the block, their power spectra)``, block by block."""
    per_block = _BLOCK // _SEGMENT
    for first in range(0, n_segments, per_block):
        last = min(n_segments, first + per_block)
        rows = np.flatnonzero(kept[first:last])
        if rows.size == 0:
            continue
        frames = np.asarray(x[first * _SEGMENT : last * _SEGMENT], dtype=np.float64)
        yield first, rows, _power(frames.reshape(-1, _SEGMENT)[rows])


def _power(frames: np.ndarray) -> np.ndarray:
    spectra = np.fft.rfft(frames * _WINDOW, axis=1)
    return spectra.real**2 + spectra.imag**2
