"""How far the loud frames of a recording rise above its quiet frames and valleys, at 2-6 kHz.

Noise hides synthetic speech from the default detector: with white noise at
20 dB SNR none of the corpus's synthetic recordings stays above the
calibrated threshold (54 % clean), and organic ones are not pushed over it
(``benchmarks/bench_degradations.py``, ``docs/LIMITS.md``), so an
``organic`` verdict on noisy evidence says little. Noise fills the quiet
frames of a recording (pauses, stop closures, weak consonants) most visibly
where speech is weak and the noise is not: above 2 kHz.
:func:`speech_to_floor_db` measures it without an alignment: the power of
every 20 ms frame in the 2-3, 3-4 and 4-6 kHz bands, and in each band the
99th over the 5th percentile of those powers, in dB; the mean of the bands.
Frames of digital silence (:func:`vtract.frame_power.digital_silence`: zero
padding, gated or edited pauses) are left out: they hold no noise floor, and
until session 28 a 5 % share of them set the floor to zero and the ratio to
its 120 dB cap, so that noisy evidence padded with zeros passed the check.
:func:`digital_silence_shares` says how much was left out, and how much of it
lies between the first and last sound (pauses gated to silence).

It is a floor measure, not an SNR: a recording with few quiet frames (no
pauses, continuous voicing) has a low value even when clean, and a room
moves it less than noise (its tail fills the quiet frames with speech). On
the 524 recordings the benchmark scores (418 organic / 106 synthetic),
1.4 % / 0 % of the clean ones lie below :data:`MIN_SPEECH_TO_FLOOR_DB`,
against 98 % / 100 % of their copies with white noise at 20 dB SNR,
60 % / 47 % at 30 dB, 76 % / 92 % with pink noise at 20 dB (the measure of
session 12, at 2-4 kHz with the 95th percentile and 22 dB: 35 % / 12 %),
and on noises the choice never saw: 36 % / 41 % with stationary
speech-shaped noise at 20 dB, 12 % / 4 % with six-talker babble at 20 dB,
10 % / 3 % with pink noise at 30 dB.

How it was chosen (session 13, ``docs/LIMITS.md``): the bands, percentiles
and combination among 608 variants by how many noisy synthetic copies the
check lets through as ``organic`` on white noise at 30 and 20 dB and pink
noise at 20 dB, each at the threshold that keeps at most 6 of the 418 clean
organic and 2 of the 106 clean synthetic recordings; a rule written before
any measurement required it to let fewer through on four held-out noises
(pink 30 dB, brown 20 dB, speech-shaped 20 dB, babble 20 dB) than the
earlier measure: 63 % against 74 % on average at 32 dB. Those selection
figures are in-sample; the held-out ones depend steeply on the threshold
near speech-shaped noise (at 32.5 dB 25 % of its synthetic copies pass as
organic, at 32 dB 56 %).

A noise gate that leaves dither or low-level noise in the pauses (not exact
zeros, which are left out as digital silence) gives the quiet frames its own
floor, and the check sees clean audio: on the corpus's copies with white
noise at 20 dB SNR it caught 98 %, and 4.6-8.3 % once gated (session 29,
``docs/LIMITS.md``). A gate cannot take the noise out from under the sound,
and noise fills the spectral valleys of speech (between its harmonics and
formants), where clean speech is far weaker than its band power.
:func:`speech_to_valley_floor_db` measures that: in 20 ms frames, the 99th
percentile over the frames of the mean bin power at 2-6 kHz over the 5th
percentile, among the frames within 30 dB of the loud ones (where a gate is
open), of each frame's 10th-percentile bin power there. Its threshold
:data:`MIN_SPEECH_TO_VALLEY_FLOOR_DB` (38.5 dB) lies 1 dB below the lowest
value of the 560 clean originals of the benchmark corpus that pass
:data:`MIN_SPEECH_TO_FLOOR_DB` (39.76 dB, a LibriSpeech test-other reader; then
MFA falsetto 40.9 and whisper 41.4 dB), rounded down to 0.5 dB; with each corpus
subset and synthetic family left out of that minimum in turn, none of the
left-out recordings falls below the threshold set without it (smallest
margin 0.26 dB, LibriSpeech test-other). With it, 91-93 % of the gated copies
are caught (white noise at 20 dB, the pauses gated to 16-bit TPDF dither, to
white noise 60 or 80 dB below the loudest frame, or by an 80 dB
attack/release gate), 98-99 % of the synthetic ones; pink noise at 20 dB
gated the same way only 50 %. It is a partial fix: the 95 % a first rule
asked for is not met, and it adds no catch on ungated noisy copies.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .errors import VtractError
from .frame_power import (
    WHOLE_SPECTRUM_HZ,
    digital_silence,
    frame_band_powers,
    frame_band_powers_and_bin_quantiles,
)

__all__ = [
    "FLOOR_BANDS_HZ",
    "FLOOR_FRAME_SECONDS",
    "FLOOR_TOP_HZ",
    "LOUD_QUANTILE",
    "MAX_SPEECH_TO_FLOOR_DB",
    "MIN_FLOOR_FRAMES",
    "MIN_SPEECH_TO_FLOOR_DB",
    "MIN_SPEECH_TO_VALLEY_FLOOR_DB",
    "QUIET_QUANTILE",
    "SOUNDING_FRAMES_WITHIN_DB",
    "VALLEY_BAND_HZ",
    "VALLEY_QUANTILE",
    "FloorMeasures",
    "digital_silence_shares",
    "floor_measures",
    "speech_to_floor_db",
    "speech_to_valley_floor_db",
]

#: Bands whose loud-to-quiet ratio is measured (Hz): above most of the speech
#: power, below the 6-7 kHz band the band-limit check measures.
FLOOR_BANDS_HZ: tuple[tuple[float, float], ...] = (
    (2000.0, 3000.0),
    (3000.0, 4000.0),
    (4000.0, 6000.0),
)
#: The highest band edge (Hz): the measure needs a rate of at least twice it.
FLOOR_TOP_HZ = max(hi for _, hi in FLOOR_BANDS_HZ)
#: Frame length (s); frames do not overlap.
FLOOR_FRAME_SECONDS = 0.02
#: Percentile of the frame powers taken as the speech level.
LOUD_QUANTILE = 0.99
#: Percentile of the frame powers taken as the floor.
QUIET_QUANTILE = 0.05
#: Fewer frames than this (1 s) that are not digital silence are not measured.
MIN_FLOOR_FRAMES = 50
#: Evidence below this (dB) is taken as too noisy for a verdict: 1.4 % of the
#: corpus's clean organic recordings (6 of 418, none of the 106 synthetic) and
#: 98 % of their copies with white noise at 20 dB SNR (100 % of the synthetic
#: ones) lie below it.
MIN_SPEECH_TO_FLOOR_DB = 32.0
#: The ratio is capped here (dB): a band with (almost) nothing in its quiet
#: frames although they are not digital silence.
MAX_SPEECH_TO_FLOOR_DB = 120.0
#: Band whose spectral valleys :func:`speech_to_valley_floor_db` measures (Hz):
#: the span of :data:`FLOOR_BANDS_HZ`.
VALLEY_BAND_HZ = (FLOOR_BANDS_HZ[0][0], FLOOR_TOP_HZ)
#: Quantile of a frame's bin powers in :data:`VALLEY_BAND_HZ` taken as the
#: floor of its spectral valleys.
VALLEY_QUANTILE = 0.10
#: The valley floor is taken from the frames whose whole-spectrum power lies
#: within this many dB of the :data:`LOUD_QUANTILE` of all frames' (dB): frames
#: where a noise gate is open; pauses a gate lowered further are left out.
SOUNDING_FRAMES_WITHIN_DB = 30.0
#: Evidence below this (dB) holds noise under its speech although its pauses
#: may look quiet (session 29): 1 dB below the lowest value of the 560 clean
#: originals of the benchmark corpus whose noise floor passes
#: :data:`MIN_SPEECH_TO_FLOOR_DB` (39.76 dB, rounded down to 0.5 dB), so none of
#: them fails it; the margin held with each corpus subset left out (at least
#: 0.26 dB, LibriSpeech test-other).
MIN_SPEECH_TO_VALLEY_FLOOR_DB = 38.5


def speech_to_floor_db(samples: np.ndarray, sr: int) -> float:
    """Loud-to-quiet ratio of 20 ms frame powers in the 2-3, 3-4 and 4-6 kHz bands (dB).

    Each frame (:data:`FLOOR_FRAME_SECONDS`, no overlap, mean removed,
    periodic Hann window) is transformed; its power in a band is the sum of
    the squared magnitudes of the bins ``lo <= f < hi``. Frames of digital
    silence (:func:`vtract.frame_power.digital_silence`) are left out. In
    each band of :data:`FLOOR_BANDS_HZ` the ratio of the
    :data:`LOUD_QUANTILE` to the :data:`QUIET_QUANTILE` of the other frames'
    powers (linear interpolation) is taken in dB; the result is the mean
    over the bands (:func:`vtract.frame_power.frame_band_powers`, block by
    block, so memory stays bounded on long recordings).

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz); at least twice :data:`FLOOR_TOP_HZ`.

    Returns
    -------
    float
        The ratio in dB (below :data:`MIN_SPEECH_TO_FLOOR_DB`: too noisy for
        a verdict), at most :data:`MAX_SPEECH_TO_FLOOR_DB`; ``nan`` when it
        cannot be measured (fewer than :data:`MIN_FLOOR_FRAMES` frames that
        are not digital silence, or a band without power in its loud frames).

    Raises
    ------
    VtractError
        The rate is too low to hold the bands.
    """
    _check_rate(sr, "speech_to_floor_db")
    powers = frame_band_powers(
        samples, sr, (*FLOOR_BANDS_HZ, WHOLE_SPECTRUM_HZ), FLOOR_FRAME_SECONDS, FLOOR_FRAME_SECONDS
    )
    return _floor_ratio(powers[:-1], _silent_frames(samples, sr, powers[-1]))


def digital_silence_shares(samples: np.ndarray, sr: int) -> tuple[float, float]:
    """How much of a recording is digital silence, overall and between its sounds.

    Counted on the frames of :func:`speech_to_floor_db`
    (:data:`FLOOR_FRAME_SECONDS`, no overlap) with
    :func:`vtract.frame_power.digital_silence`.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    overall : float
        Share of all frames that are digital silence (``nan`` without a
        whole frame).
    between_sounds : float
        Share of the frames from the first to the last frame that is not
        digital silence that are (pauses gated or edited to silence, not
        padding at the ends); ``nan`` when no frame holds sound.
    """
    (power,) = frame_band_powers(
        samples, sr, (WHOLE_SPECTRUM_HZ,), FLOOR_FRAME_SECONDS, FLOOR_FRAME_SECONDS
    )
    return _silence_shares(_silent_frames(samples, sr, power))


def speech_to_valley_floor_db(samples: np.ndarray, sr: int) -> float:
    """How far the speech level rises above the floor in the valleys of its 2-6 kHz spectrum (dB).

    Each frame is that of :func:`speech_to_floor_db`
    (:data:`FLOOR_FRAME_SECONDS`, no overlap, mean removed, periodic Hann
    window), frames of digital silence left out. The speech level is the
    :data:`LOUD_QUANTILE` over the frames of their mean bin power in
    :data:`VALLEY_BAND_HZ`; the valley floor is the :data:`QUIET_QUANTILE`,
    over the frames whose whole-spectrum power lies within
    :data:`SOUNDING_FRAMES_WITHIN_DB` of the :data:`LOUD_QUANTILE` of all
    frames', of their :data:`VALLEY_QUANTILE` bin power in that band (linear
    interpolation throughout;
    :func:`vtract.frame_power.frame_band_powers_and_bin_quantiles`, one pass
    block by block, so memory stays bounded on long recordings).

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz); at least twice :data:`FLOOR_TOP_HZ`.

    Returns
    -------
    float
        The ratio in dB (below :data:`MIN_SPEECH_TO_VALLEY_FLOOR_DB`: noise
        under the speech), at most :data:`MAX_SPEECH_TO_FLOOR_DB`; ``nan``
        when it cannot be measured (fewer than :data:`MIN_FLOOR_FRAMES`
        frames that are not digital silence, or no power in the band of its
        loud frames).

    Raises
    ------
    VtractError
        The rate is too low to hold the band.
    """
    _check_rate(sr, "speech_to_valley_floor_db")
    powers, (valleys,) = frame_band_powers_and_bin_quantiles(
        samples,
        sr,
        (VALLEY_BAND_HZ, WHOLE_SPECTRUM_HZ),
        VALLEY_BAND_HZ,
        (VALLEY_QUANTILE,),
        FLOOR_FRAME_SECONDS,
        FLOOR_FRAME_SECONDS,
    )
    silent = _silent_frames(samples, sr, powers[-1])
    return _valley_ratio(powers[0], powers[-1], valleys, silent, sr)


class FloorMeasures(NamedTuple):
    """The measures of this module for one recording (``nan``: not measured)."""

    speech_to_floor_db: float
    speech_to_valley_floor_db: float
    digital_silence_share: float
    digital_silence_between_sounds_share: float


def floor_measures(samples: np.ndarray, sr: int) -> FloorMeasures:
    """:func:`speech_to_floor_db`, :func:`speech_to_valley_floor_db` and
    :func:`digital_silence_shares` from one pass over the 20 ms frames.

    Each frame is transformed once (:func:`vtract.frame_power.frame_band_powers_and_bin_quantiles`)
    and its digital silence found once, where the three functions alone would
    do it four and three times; the values are the same.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    FloorMeasures
        The two ratios are ``nan`` at a rate below twice :data:`FLOOR_TOP_HZ`
        (instead of an error); the silence shares are measured at any rate.
    """
    if sr < 2 * FLOOR_TOP_HZ:
        return FloorMeasures(math.nan, math.nan, *digital_silence_shares(samples, sr))
    n_bands = len(FLOOR_BANDS_HZ)
    powers, (valleys,) = frame_band_powers_and_bin_quantiles(
        samples,
        sr,
        (*FLOOR_BANDS_HZ, VALLEY_BAND_HZ, WHOLE_SPECTRUM_HZ),
        VALLEY_BAND_HZ,
        (VALLEY_QUANTILE,),
        FLOOR_FRAME_SECONDS,
        FLOOR_FRAME_SECONDS,
    )
    silent = _silent_frames(samples, sr, powers[-1])
    return FloorMeasures(
        _floor_ratio(powers[:n_bands], silent),
        _valley_ratio(powers[n_bands], powers[-1], valleys, silent, sr),
        *_silence_shares(silent),
    )


def _check_rate(sr: int, name: str) -> None:
    if sr < 2 * FLOOR_TOP_HZ:
        raise VtractError(f"{name} needs a rate of at least {2 * FLOOR_TOP_HZ:.0f} Hz, got {sr}")


def _silent_frames(samples: np.ndarray, sr: int, whole_spectrum_power: np.ndarray) -> np.ndarray:
    """:func:`vtract.frame_power.digital_silence` of the 20 ms frames."""
    return digital_silence(
        samples, sr, FLOOR_FRAME_SECONDS, FLOOR_FRAME_SECONDS, whole_spectrum_power
    )


def _floor_ratio(band_powers: np.ndarray, silent: np.ndarray) -> float:
    """:func:`speech_to_floor_db` from the frames' powers in :data:`FLOOR_BANDS_HZ`."""
    sounding = ~silent
    if np.count_nonzero(sounding) < MIN_FLOOR_FRAMES:
        return math.nan
    ratios = []
    cap = MAX_SPEECH_TO_FLOOR_DB
    for band in band_powers[:, sounding]:
        quiet, loud = np.quantile(band, [QUIET_QUANTILE, LOUD_QUANTILE])
        if not loud > 0.0:
            return math.nan
        ratios.append(10.0 * math.log10(loud / max(quiet, loud * 10.0 ** (-cap / 10.0))))
    return float(np.mean(ratios))


def _valley_ratio(
    band: np.ndarray, whole: np.ndarray, valleys: np.ndarray, silent: np.ndarray, sr: int
) -> float:
    """:func:`speech_to_valley_floor_db` from the frames' power in :data:`VALLEY_BAND_HZ`
    and the whole spectrum, and their :data:`VALLEY_QUANTILE` bin power in that band."""
    sounding = ~silent
    if np.count_nonzero(sounding) < MIN_FLOOR_FRAMES:
        return math.nan
    freqs = np.fft.rfftfreq(round(FLOOR_FRAME_SECONDS * sr), 1.0 / sr)
    n_bins = np.count_nonzero((freqs >= VALLEY_BAND_HZ[0]) & (freqs < VALLEY_BAND_HZ[1]))
    loud = float(np.quantile(band[sounding] / n_bins, LOUD_QUANTILE))
    if not loud > 0.0:
        return math.nan
    whole = whole[sounding]
    open_gate = whole >= np.quantile(whole, LOUD_QUANTILE) * 10.0 ** (
        -SOUNDING_FRAMES_WITHIN_DB / 10.0
    )
    floor = float(np.quantile(valleys[sounding][open_gate], QUIET_QUANTILE))
    cap = MAX_SPEECH_TO_FLOOR_DB
    return 10.0 * math.log10(loud / max(floor, loud * 10.0 ** (-cap / 10.0)))


def _silence_shares(silent: np.ndarray) -> tuple[float, float]:
    """:func:`digital_silence_shares` from the frames' digital silence."""
    if silent.size == 0:
        return math.nan, math.nan
    sound = np.flatnonzero(~silent)
    overall = float(np.mean(silent))
    if sound.size == 0:
        return overall, math.nan
    return overall, float(np.mean(silent[sound[0] : sound[-1] + 1]))
