"""Cycle-to-cycle perturbation of the voice source: Praat's jitter and shimmer.

The tube model sees the glottis only as its far end; how regularly the
vocal folds open and close is information the tract estimate does not
carry. :func:`voice_perturbation` measures it over a whole recording the
way Praat's voice report does (Boersma & Weenink, Praat manual "Voice 2.
Jitter" and "Voice 3. Shimmer"), through parselmouth:

1. ``Sound: To Pitch (cc)`` with floor :data:`PITCH_FLOOR_HZ` and ceiling
   :data:`PITCH_CEILING_HZ` (Praat's defaults otherwise);
2. ``Sound & Pitch: To PointProcess (cc)``: one point per glottal period;
3. ``PointProcess: Get jitter (local)``: the mean absolute difference of
   consecutive periods divided by the mean period;
   ``Sound & PointProcess: Get shimmer (local)``: the mean absolute
   difference of the peak amplitudes of consecutive periods divided by the
   mean amplitude. Both with Praat's standard limits
   (:data:`PERIOD_FLOOR_S`, :data:`PERIOD_CEILING_S`,
   :data:`MAX_PERIOD_FACTOR`, :data:`MAX_AMPLITUDE_FACTOR`): periods
   outside them (voicing breaks, octave errors) are skipped.

Why it is here. Session 19 tested ``ln`` shimmer as a fifth descriptor
beside the four tract-dynamics descriptors (:mod:`vtract.detect.dynamics`,
``docs/DETECTION.md``), under a rule written before the measurement. On
the labelled corpus synthetic speech has a larger shimmer than organic
speech (organic median 0.093; ESPnet families 0.13-0.17, Piper 0.12-0.13,
espeak-ng 0.15-0.17; festival 0.10 and flite 0.11 close to organic), and
the leave-one-generator-out AUC rose from 0.885 to 0.934. But shimmer is a
property of the source *and the recording chain*: a 0.3 s room pushed
8.5 % of the organic recordings over the calibrated threshold (0.7 %
clean), and the organic recordings just above the noise gate have a
larger shimmer. So it is an option (``vtract calibrate --with-shimmer``),
not the shipped calibration. The feature table carries it
(``shimmer_local``) so that either calibration can be used.

The measure is taken on the evidence as loaded (its own rate, no
high-pass): Praat's pitch and period marks need the fundamental.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import VtractError

__all__ = [
    "MAX_AMPLITUDE_FACTOR",
    "MAX_PERIOD_FACTOR",
    "MIN_PERIODS",
    "PERIOD_CEILING_S",
    "PERIOD_FLOOR_S",
    "PITCH_CEILING_HZ",
    "PITCH_FLOOR_HZ",
    "VoicePerturbation",
    "voice_perturbation",
]

#: Pitch floor of ``To Pitch (cc)`` (Hz; Praat's default).
PITCH_FLOOR_HZ = 75.0
#: Pitch ceiling (Hz): Praat's voice-report default for ``(cc)``, covering
#: children's and falsetto voices.
PITCH_CEILING_HZ = 600.0
#: Shortest and longest period counted (s; Praat's standard 0.1 ms and 20 ms).
PERIOD_FLOOR_S = 0.0001
PERIOD_CEILING_S = 0.02
#: Largest ratio of consecutive periods counted (Praat's standard).
MAX_PERIOD_FACTOR = 1.3
#: Largest ratio of consecutive peak amplitudes counted (Praat's standard).
MAX_AMPLITUDE_FACTOR = 1.6
#: Fewer glottal periods than this and jitter and shimmer are undefined
#: (``nan``): a handful of period pairs gives a number, not a measurement.
MIN_PERIODS = 10


@dataclass(frozen=True)
class VoicePerturbation:
    """Jitter and shimmer of one recording.

    Attributes
    ----------
    jitter_local : float
        Praat's jitter (local), a fraction (0.01 = 1 %); ``nan`` when
        undefined.
    shimmer_local : float
        Praat's shimmer (local), a fraction; ``nan`` when undefined.
    n_periods : int
        Glottal period marks Praat found (points of the PointProcess).
    """

    jitter_local: float
    shimmer_local: float
    n_periods: int


def voice_perturbation(samples: np.ndarray, sr: float) -> VoicePerturbation:
    """Praat's local jitter and shimmer of a recording (module docstring).

    Parameters
    ----------
    samples : numpy.ndarray
        1-D mono samples.
    sr : float
        Their sample rate (Hz).

    Returns
    -------
    VoicePerturbation
        ``nan`` jitter and shimmer when Praat finds fewer than
        :data:`MIN_PERIODS` periods (unvoiced, silent or too short audio).

    Raises
    ------
    VtractError
        ``samples`` is not 1-D, holds non-finite values, or ``sr`` is not
        positive.
    """
    import parselmouth
    from parselmouth.praat import call

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise VtractError(f"expected 1-D mono samples, got shape {x.shape}")
    if not (math.isfinite(sr) and sr > 0):
        raise VtractError(f"sample rate must be positive, got {sr}")
    if not np.all(np.isfinite(x)):
        raise VtractError("samples hold NaN or infinite values")
    undefined = VoicePerturbation(math.nan, math.nan, 0)
    # Praat's pitch analysis needs three periods of the floor in the window
    if x.size < 3.0 * sr / PITCH_FLOOR_HZ or not np.any(x):
        return undefined
    sound = parselmouth.Sound(x, sampling_frequency=float(sr))
    pitch = sound.to_pitch_cc(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    points = call([sound, pitch], "To PointProcess (cc)")
    n = int(call(points, "Get number of points"))
    if n < MIN_PERIODS:
        return VoicePerturbation(math.nan, math.nan, n)
    limits = (0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR)
    jitter = float(call(points, "Get jitter (local)", *limits))
    shimmer = float(call([sound, points], "Get shimmer (local)", *limits, MAX_AMPLITUDE_FACTOR))
    return VoicePerturbation(jitter, shimmer, n)
