"""How steeply the level of a recording can fall: the mark a room leaves on speech.

Reverberation hides synthetic speech from the default detector: in a
simulated room with a reverberation time (RT60) of 0.3 s, 19 % of the
corpus's synthetic recordings stay above the calibrated threshold (54 %
clean), at 0.7 s 1 %, and organic ones are not pushed over it
(``benchmarks/bench_degradations.py``, ``docs/LIMITS.md``), so an
``organic`` verdict on reverberant evidence says little. A room's echoes
decay at a rate set by the room: the level cannot fall faster than
60 dB per RT60 once the direct sound has stopped, while close-microphone
speech falls by 20-30 dB within 30 ms at the end of every syllable.
:func:`steepest_decay_db` measures it without an alignment: the level of
the 0.3-4 kHz band in 20 ms frames every 10 ms, and the 99th percentile of
its fall over 30 ms, from the louder half of the frames. Frames of digital
silence (:func:`vtract.frame_power.digital_silence`: zero padding, gated or
edited pauses) are left out, and so is every fall into or out of one: a room
leaves its tail in the pauses, and a noise gate that cuts the tail to zero
made a fall of up to 120 dB that passed the check until session 28.

On the 524 recordings the benchmark scores (418 organic / 106 synthetic),
1.0 % / 0.9 % of the clean ones lie below :data:`MIN_STEEPEST_DECAY_DB`
(organic: MFA's noisy ``cold_corpus`` recording and ``mfa_long``), against
81 % / 80 % of their copies in a simulated room with RT60 0.3 s and 99 % in
one with 0.7 s. Very smooth synthesis falls slowly too (the project's
VocalTractLab example: 10.6 dB). The measure, its band, span, percentile and threshold were chosen
among five variants and five thresholds on those copies (session 12,
``docs/LIMITS.md``), so these figures are in-sample; the rooms are
synthetic (an exponential tail of Gaussian noise), not measured ones.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import VtractError
from .frame_power import WHOLE_SPECTRUM_HZ, digital_silence, frame_band_powers

__all__ = [
    "DECAY_BAND_HZ",
    "DECAY_FRAME_SECONDS",
    "DECAY_HOPS",
    "DECAY_HOP_SECONDS",
    "DECAY_QUANTILE",
    "DRY_DECAY_DB",
    "MIN_DECAY_FRAMES",
    "MIN_STEEPEST_DECAY_DB",
    "steepest_decay_db",
]

#: Band whose level is followed (Hz): the voiced speech band below the telephone band's top.
DECAY_BAND_HZ = (300.0, 4000.0)
#: Frame length (s).
DECAY_FRAME_SECONDS = 0.02
#: Hop between frames (s).
DECAY_HOP_SECONDS = 0.01
#: The fall is measured over this many hops (30 ms).
DECAY_HOPS = 3
#: Percentile of the falls taken (the steepest 1 %).
DECAY_QUANTILE = 0.99
#: Fewer frames than this (1 s) that are not digital silence are not measured.
MIN_DECAY_FRAMES = 100
#: Evidence whose steepest 30 ms fall is below this (dB) is taken as too
#: reverberant for a verdict: about 1 % of the corpus's clean recordings and
#: about 80 % of their copies in a simulated room with RT60 0.3 s lie below it.
MIN_STEEPEST_DECAY_DB = 13.0
#: The voice-shimmer model of a reference's ``"dry_voice"`` calibration
#: (:mod:`vtract.detect.default`) is used only on evidence whose steepest
#: fall reaches this (dB); below it the four tract descriptors decide. A
#: room raises the shimmer of organic speech (no way of measuring the
#: shimmer escapes it, ``benchmarks/bench_shimmer_invariance.py``); this is
#: the lowest gate at which the corpus's organic copies in simulated rooms
#: (RT60 0.3 and 0.7 s) that pass it are no more often above the clean 95th
#: percentile of the shimmer than 6 % (2 of 460 pass, none above; 4.8 % of
#: the clean recordings fall below it; ``benchmarks/bench_dry_gate.py``,
#: session 20).
DRY_DECAY_DB = 16.0

_DYNAMIC_RANGE_DB = 120.0  # levels more than this below the loudest frame are raised to it


def steepest_decay_db(samples: np.ndarray, sr: int) -> float:
    """The 99th percentile of the 30 ms fall of the 0.3-4 kHz level (dB).

    Each frame (:data:`DECAY_FRAME_SECONDS` long, every
    :data:`DECAY_HOP_SECONDS`, mean removed, periodic Hann window) is
    transformed; its level is ``10 log10`` of the sum of the squared
    magnitudes of the bins ``lo <= f < hi`` of :data:`DECAY_BAND_HZ`
    (levels more than 120 dB below the loudest frame are raised to that).
    Frames of digital silence (:func:`vtract.frame_power.digital_silence`)
    are left out. The fall at frame ``t`` is ``level[t] - level[t + 3]``,
    taken when neither frame is digital silence; the result is the
    :data:`DECAY_QUANTILE` (linear interpolation) of the falls from frames
    louder than the median of the frames that are not digital silence
    (:func:`vtract.frame_power.frame_band_powers`, block by block, so memory
    stays bounded on long recordings).

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz); at least twice the top of the band.

    Returns
    -------
    float
        The fall in dB (below :data:`MIN_STEEPEST_DECAY_DB`: too
        reverberant for a verdict); ``nan`` when it cannot be measured:
        fewer than :data:`MIN_DECAY_FRAMES` frames that are not digital
        silence, no power in the band, or no fall to take (no frame louder
        than the median, as in a steady tone whose frames all have one level).

    Raises
    ------
    VtractError
        The rate is too low to hold the band.
    """
    hi = DECAY_BAND_HZ[1]
    if sr < 2 * hi:
        raise VtractError(f"steepest_decay_db needs a rate of at least {2 * hi:.0f} Hz, got {sr}")
    power, whole = frame_band_powers(
        samples, sr, (DECAY_BAND_HZ, WHOLE_SPECTRUM_HZ), DECAY_FRAME_SECONDS, DECAY_HOP_SECONDS
    )
    sounding = ~digital_silence(samples, sr, DECAY_FRAME_SECONDS, DECAY_HOP_SECONDS, whole)
    if np.count_nonzero(sounding) < MIN_DECAY_FRAMES:
        return math.nan
    loudest = float(power[sounding].max())
    if not loudest > 0.0:
        return math.nan
    level = 10.0 * np.log10(np.maximum(power, loudest * 10.0 ** (-_DYNAMIC_RANGE_DB / 10.0)))
    start = level[:-DECAY_HOPS]
    falls = start - level[DECAY_HOPS:]
    taken = sounding[:-DECAY_HOPS] & sounding[DECAY_HOPS:] & (start > np.median(level[sounding]))
    if not taken.any():
        return math.nan
    return float(np.quantile(falls[taken], DECAY_QUANTILE))
