"""What must hold before the detector may give a verdict, and whether it holds.

The detector is calibrated on clean full-band recordings measured by the
reference's own tract-estimator code. :func:`verdict_conditions` states the
six conditions :func:`vtract.analyze` checks, each with this recording's
value, the required one and its status; the first condition that is not met
turns the verdict into ``inconclusive`` with that condition's reason, and
the HTML report lists all six. Stating them once here keeps the decision
and the report that explains it from drifting apart.

The conditions, in the order their reasons take precedence:

``sample_rate``
    the lower of the file's own rate and the rate it was decoded to is at
    least :data:`MIN_CALIBRATED_RATE_HZ`;
``high_band_level``
    its 6-7 kHz band is not below :data:`vtract.bandwidth.MIN_HIGH_BAND_DB`
    in its long-term spectrum nor below
    :data:`vtract.bandwidth.MIN_QUIET_HIGH_BAND_DB` in its quieter frames'
    (telephone audio stored at a full-band rate, also when clipped or
    saturated: :func:`vtract.bandwidth.band_limit_measures`);
``spectral_edge``
    neither spectrum falls :data:`vtract.bandwidth.MIN_EDGE_DROP_DB`
    (long-term) or :data:`vtract.bandwidth.MIN_QUIET_EDGE_DROP_DB` (quieter
    frames) or more off an edge between 3 and 6.3 kHz (audio low-passed
    before it was converted to a full-band rate);
``noise_floor``
    its loud frames rise at least
    :data:`vtract.noise_floor.MIN_SPEECH_TO_FLOOR_DB` above its quiet ones
    at 2-6 kHz (noise hides synthetic speech from the detector), and at least
    :data:`vtract.noise_floor.MIN_SPEECH_TO_VALLEY_FLOOR_DB` above the floor
    in the spectral valleys of its sounding frames (since session 29: noise
    that continues under the speech while a gate left only dither or
    low-level noise in the pauses);
``reverberation``
    its 0.3-4 kHz level falls at least
    :data:`vtract.reverberation.MIN_STEEPEST_DECAY_DB` within 30 ms at its
    steepest (a room's echoes hide synthetic speech from the detector);
    both leave out frames of digital silence
    (:func:`vtract.frame_power.digital_silence`), whose share they show, and
    the report warns when the pauses between sounds are digital silence
    (:func:`gated_pauses_warning`);
``estimator_code``
    the reference records the running estimator fingerprint
    (:func:`vtract.reference.estimator_fingerprint`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bandwidth import (
    EDGE_SEARCH_HZ,
    HIGH_BAND_HZ,
    LOUD_FRAME_EXCESS_DB,
    MIN_EDGE_DROP_DB,
    MIN_HIGH_BAND_DB,
    MIN_QUIET_EDGE_DROP_DB,
    MIN_QUIET_HIGH_BAND_DB,
    QUIET_FRAMES_BELOW_LOUDEST_DB,
    QUIET_FRAMES_QUANTILE,
    SPEECH_BAND_HZ,
    band_limit_measures,
)
from .frame_power import DIGITAL_SILENCE_DB, ZERO_RUN_SECONDS
from .noise_floor import (
    FLOOR_BANDS_HZ,
    FLOOR_FRAME_SECONDS,
    MIN_FLOOR_FRAMES,
    MIN_SPEECH_TO_FLOOR_DB,
    MIN_SPEECH_TO_VALLEY_FLOOR_DB,
    QUIET_QUANTILE,
    VALLEY_BAND_HZ,
    floor_measures,
)
from .reverberation import (
    DECAY_BAND_HZ,
    DECAY_FRAME_SECONDS,
    DECAY_HOP_SECONDS,
    MIN_DECAY_FRAMES,
    MIN_STEEPEST_DECAY_DB,
    steepest_decay_db,
)

__all__ = [
    "BLOCKING_WHEN_NOT_MEASURED",
    "GATED_PAUSES_SHARE",
    "MIN_CALIBRATED_RATE_HZ",
    "SIGNAL_MEASURES",
    "VerdictCondition",
    "gated_pauses_warning",
    "signal_measures",
    "verdict_conditions",
    "verdict_thresholds",
]

#: Evidence recorded below this rate holds nothing above half of it (8 kHz
#: telephone audio: nothing above 4 kHz). The shipped reference and
#: calibration come from recordings of 16 kHz or more, and on telephone-band
#: copies of them the default detector's statistic stops separating synthetic
#: from organic speech (``benchmarks/bench_band_limited.py``,
#: ``docs/LIMITS.md``), so such evidence gets no verdict.
MIN_CALIBRATED_RATE_HZ = 16000

#: The measurements of the evidence's signal the conditions judge, by the names
#: they have in a report's provenance parameters and in :func:`verdict_conditions`;
#: the last two are the shares of digital silence the noise-floor and
#: reverberation measures leave out (:func:`vtract.noise_floor.digital_silence_shares`).
#: ``speech_to_valley_floor_db`` (:func:`vtract.noise_floor.speech_to_valley_floor_db`)
#: was added in session 29; a report written before does not record it.
SIGNAL_MEASURES: tuple[str, ...] = (
    "high_band_level_db",
    "spectral_edge_hz",
    "spectral_edge_drop_db",
    "quiet_high_band_level_db",
    "quiet_spectral_edge_hz",
    "quiet_spectral_edge_drop_db",
    "speech_to_floor_db",
    "steepest_decay_db",
    "digital_silence_share",
    "digital_silence_between_sounds_share",
    "speech_to_valley_floor_db",
)

#: When at least this share of the 20 ms frames between the first and last sound
#: of the evidence is digital silence, its pauses were gated or edited to silence
#: and :func:`gated_pauses_warning` says so: the noise-floor measure's quiet
#: quantile (:data:`vtract.noise_floor.QUIET_QUANTILE`, 5 %) would have fallen
#: into them, so the pauses those checks read were mostly taken away.
GATED_PAUSES_SHARE = QUIET_QUANTILE

_NOT_MEASURED = "not measured"

#: Conditions on the evidence's signal that must be *measured*, not merely
#: not failed, before a verdict: a noise floor or a room that could not be
#: measured (less than about 1 s of evidence that is not digital silence:
#: :data:`vtract.noise_floor.MIN_FLOOR_FRAMES` 20 ms frames,
#: :data:`vtract.reverberation.MIN_DECAY_FRAMES` 10 ms hops; or a level that never
#: varies, a steady tone) has not been ruled out. :func:`vtract.analyze` gives ``inconclusive`` with the
#: condition's reason when one of them is ``not measured`` on the evidence it
#: measures (a report read back from an older vtract keeps its verdict).
BLOCKING_WHEN_NOT_MEASURED: tuple[str, ...] = (
    "high_band_level",
    "noise_floor",
    "reverberation",
)


@dataclass(frozen=True)
class VerdictCondition:
    """One condition for a verdict, as measured on one recording.

    Attributes
    ----------
    key : str
        ``sample_rate``, ``high_band_level``, ``spectral_edge``,
        ``noise_floor``, ``reverberation`` or ``estimator_code``.
    what : str
        What the condition is about, in words.
    measured : str
        This recording's value (``"–"`` when not measured).
    required : str
        What the value must be.
    status : str
        ``"met"``, ``"not met"``, ``"not measured"`` or ``"not checked"``
        (the reference records no estimator fingerprint).
    reason : str
        Why there is no verdict, when the status is ``"not met"``, or
        ``"not measured"`` for a condition of :data:`BLOCKING_WHEN_NOT_MEASURED`
        (else ``""``).
    """

    key: str
    what: str
    measured: str
    required: str
    status: str
    reason: str = ""

    @property
    def withholds_verdict(self) -> bool:
        """Whether this condition makes :func:`vtract.analyze` give ``inconclusive``.

        ``not met``, or ``not measured`` for a condition of
        :data:`BLOCKING_WHEN_NOT_MEASURED`.
        """
        return self.status == "not met" or (
            self.status == _NOT_MEASURED and self.key in BLOCKING_WHEN_NOT_MEASURED
        )


def verdict_thresholds() -> dict[str, Any]:
    """The thresholds of the measured conditions, as they are in this vtract.

    A batch table records them with every answer (``analysis_settings``),
    so a run resumed after a rule changed does not mix verdicts made under
    different rules.

    Returns
    -------
    dict
        ``min_calibrated_rate_hz``, ``min_high_band_db``, ``edge_search_hz``,
        ``min_edge_drop_db``, the quieter-frame band-limit rule
        (``quiet_frames_below_loudest_db``, ``quiet_frames_quantile``,
        ``min_quiet_high_band_db``, ``min_quiet_edge_drop_db``; session 28),
        ``min_speech_to_floor_db``, ``min_steepest_decay_db``, and the rule by
        which those two measures leave digital silence out (since session 28:
        ``digital_silence_db``, :data:`vtract.frame_power.DIGITAL_SILENCE_DB`,
        and ``zero_run_seconds``, :data:`vtract.frame_power.ZERO_RUN_SECONDS`;
        a table made before records none of these, so it is not resumed with
        measures taken the new way), and ``min_speech_to_valley_floor_db``
        (since session 29, :data:`vtract.noise_floor.MIN_SPEECH_TO_VALLEY_FLOOR_DB`)
        (JSON-able).
    """
    return {
        "min_calibrated_rate_hz": MIN_CALIBRATED_RATE_HZ,
        "min_high_band_db": MIN_HIGH_BAND_DB,
        "edge_search_hz": list(EDGE_SEARCH_HZ),
        "min_edge_drop_db": MIN_EDGE_DROP_DB,
        "quiet_frames_below_loudest_db": list(QUIET_FRAMES_BELOW_LOUDEST_DB),
        "quiet_frames_quantile": QUIET_FRAMES_QUANTILE,
        "min_quiet_high_band_db": MIN_QUIET_HIGH_BAND_DB,
        "min_quiet_edge_drop_db": MIN_QUIET_EDGE_DROP_DB,
        "min_speech_to_floor_db": MIN_SPEECH_TO_FLOOR_DB,
        "min_steepest_decay_db": MIN_STEEPEST_DECAY_DB,
        "digital_silence_db": DIGITAL_SILENCE_DB,
        "zero_run_seconds": ZERO_RUN_SECONDS,
        "min_speech_to_valley_floor_db": MIN_SPEECH_TO_VALLEY_FLOOR_DB,
    }


def signal_measures(samples: np.ndarray, sr: int) -> dict[str, float]:
    """The :data:`SIGNAL_MEASURES` of a decoded recording.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    dict
        :func:`vtract.bandwidth.band_limit_measures` (the high-band level
        and the spectral edge of the long-term spectrum and of the quieter
        frames' spectrum),
        :func:`vtract.noise_floor.speech_to_floor_db`,
        :func:`vtract.reverberation.steepest_decay_db`,
        :func:`vtract.noise_floor.digital_silence_shares` and
        :func:`vtract.noise_floor.speech_to_valley_floor_db` (the three of
        :mod:`vtract.noise_floor` from one pass, :func:`vtract.noise_floor.floor_measures`), keyed by
        :data:`SIGNAL_MEASURES`; ``nan`` where a measure cannot be taken,
        including a rate too low for its bands.
    """
    bands = band_limit_measures(samples, sr)
    floor = floor_measures(samples, sr)  # the 20 ms frames' four measures, in one pass
    decay = steepest_decay_db(samples, sr) if sr >= 2 * DECAY_BAND_HZ[1] else math.nan
    values = (
        *bands,
        floor.speech_to_floor_db,
        decay,
        floor.digital_silence_share,
        floor.digital_silence_between_sounds_share,
        floor.speech_to_valley_floor_db,
    )
    return dict(zip(SIGNAL_MEASURES, values, strict=True))


def gated_pauses_warning(digital_silence_between_sounds_share: float | None) -> str | None:
    """The report's warning when the evidence's pauses are digital silence, else ``None``.

    Parameters
    ----------
    digital_silence_between_sounds_share : float or None
        :func:`vtract.noise_floor.digital_silence_shares`' second value
        (``None`` / NaN: not measured).

    Returns
    -------
    str or None
        A warning when the share reaches :data:`GATED_PAUSES_SHARE`.
    """
    share = _measured(digital_silence_between_sounds_share)
    if share is None or share < GATED_PAUSES_SHARE:
        return None
    return (
        f"{100 * share:.0f} % of the 20 ms frames between the first and last sound of the "
        "evidence are digital silence (exact zeros: pauses cut by a noise gate or an editor): "
        "the noise-floor and reverberation checks measured only the other frames, and a gate "
        "takes away the noise and the room's echo tail in the pauses that those checks look "
        "for, so noise or a room that hides synthetic speech from the detector may have gone "
        "unseen"
    )


def _silence_note(share: float | None, between_sounds: float | None) -> str:
    """What the noise-floor and reverberation values left out, for their ``measured`` text."""
    if share is None or share <= 0.0:
        return ""
    note = f"; digital silence left out: {100 * share:.0f} % of the frames"
    if between_sounds is not None and between_sounds > 0.0:
        note += f", {100 * between_sounds:.0f} % of those between the first and last sound"
    return note


def _measured(value: float | None) -> float | None:
    """``value`` as a float, ``None`` when it was not measured (``None`` or NaN).

    An infinite level was measured: nothing at all in a band.
    """
    if value is None or math.isnan(value):
        return None
    return float(value)


def _measured_condition(
    key: str,
    what: str,
    value: float | None,
    shown: Callable[[float], str],
    required: str,
    holds: Callable[[float], bool],
    reason: Callable[[float], str],
    unmeasured: str = "",
) -> VerdictCondition:
    """A condition on a measured value: ``not measured`` without one, else whether it holds.

    ``unmeasured`` is the reason a verdict cannot be given when the value could
    not be measured on the evidence (see :data:`BLOCKING_WHEN_NOT_MEASURED`).
    """
    if value is None:
        return VerdictCondition(key, what, "–", required, _NOT_MEASURED, unmeasured)
    if holds(value):
        return VerdictCondition(key, what, shown(value), required, "met")
    return VerdictCondition(key, what, shown(value), required, "not met", reason(value))


def _paired_condition(
    key: str,
    what: str,
    values: tuple[float | None, float | None],
    shown: Callable[[float], str],
    required: str,
    holds: tuple[Callable[[float], bool], Callable[[float], bool]],
    reasons: tuple[Callable[[float], str], Callable[[float], str]],
    unmeasured: str = "",
    shown_at: tuple[float, float] | None = None,
    note: str = "",
    first_is_needed: bool = False,
) -> VerdictCondition:
    """A condition on two values: a band limit (long-term, quieter frames) or the noise floor
    (quiet frames, spectral valleys).

    ``not measured`` when neither value was measured, or with
    ``first_is_needed`` when the first was not (``unmeasured`` is then the
    reason, see :data:`BLOCKING_WHEN_NOT_MEASURED`); else ``not met`` when a
    measured value fails its test (the first one's reason first), ``met``
    otherwise. A value that was not measured (the quieter frames' with fewer
    than :data:`vtract.bandwidth.MIN_QUIET_FRAMES` of them, or in a report
    written by an older vtract: the quieter-frame values before session 28,
    the valley floor before session 29) is shown as ``–`` and leaves the
    other to decide. ``shown_at`` adds each value's frequency (kHz) to what
    is shown, ``note`` follows both values.
    """
    if (values[0] is None) if first_is_needed else all(value is None for value in values):
        return VerdictCondition(key, what, "–", required, _NOT_MEASURED, unmeasured)
    parts = []
    for i, value in enumerate(values):
        if value is None:
            parts.append("–")
        else:
            at = "" if shown_at is None else f" near {shown_at[i]:.3g} kHz"
            parts.append(shown(value) + at)
    measured = "; ".join(parts) + note
    for value, test, reason in zip(values, holds, reasons, strict=True):
        if value is not None and not test(value):
            return VerdictCondition(key, what, measured, required, "not met", reason(value))
    return VerdictCondition(key, what, measured, required, "met")


def verdict_conditions(
    rate_hz: float | None,
    reference_code: str | None,
    running_code: str | None,
    *,
    high_band_level_db: float | None = None,
    spectral_edge_hz: float | None = None,
    spectral_edge_drop_db: float | None = None,
    quiet_high_band_level_db: float | None = None,
    quiet_spectral_edge_hz: float | None = None,
    quiet_spectral_edge_drop_db: float | None = None,
    speech_to_floor_db: float | None = None,
    steepest_decay_db: float | None = None,
    digital_silence_share: float | None = None,
    digital_silence_between_sounds_share: float | None = None,
    speech_to_valley_floor_db: float | None = None,
) -> list[VerdictCondition]:
    """The six conditions for a verdict, in the order their reasons take precedence.

    Parameters
    ----------
    rate_hz : float or None
        The lower of the evidence's own rate and the rate it was decoded to.
    reference_code : str or None
        The estimator fingerprint the reference records
        (:func:`vtract.reference.recorded_estimator_fingerprint`).
    running_code : str or None
        The running estimator fingerprint (``None``: not recorded, e.g. in
        a report written by an older vtract).
    high_band_level_db : float or None
        :func:`vtract.bandwidth.high_band_level_db` (``None`` / NaN: not
        measured). The eleven measures are :data:`SIGNAL_MEASURES`, as
        :func:`signal_measures` returns them or a report records them.
    spectral_edge_hz, spectral_edge_drop_db : float or None
        :func:`vtract.bandwidth.spectral_edge` (``None`` / NaN: not measured).
    quiet_high_band_level_db, quiet_spectral_edge_hz, quiet_spectral_edge_drop_db : float or None
        The same level and edge of the quieter frames' spectrum
        (:func:`vtract.bandwidth.band_limit_measures`; ``None`` / NaN: not
        measured, e.g. fewer than :data:`vtract.bandwidth.MIN_QUIET_FRAMES`
        such frames, or a report written by an older vtract: the long-term
        values then decide alone).
    speech_to_floor_db : float or None
        :func:`vtract.noise_floor.speech_to_floor_db` (``None`` / NaN: not
        measured, e.g. in a report written by an older vtract).
    steepest_decay_db : float or None
        :func:`vtract.reverberation.steepest_decay_db` (``None`` / NaN: not
        measured).
    digital_silence_share : float or None
        :func:`vtract.noise_floor.digital_silence_shares`' first value: the
        share of frames the noise-floor and reverberation values leave out,
        shown with them (``None`` / NaN: not recorded).
    digital_silence_between_sounds_share : float or None
        Its second value, shown with them too (it makes no condition: the
        report warns, :func:`gated_pauses_warning`).
    speech_to_valley_floor_db : float or None
        :func:`vtract.noise_floor.speech_to_valley_floor_db` (``None`` / NaN:
        not measured, e.g. in a report written before session 29: the
        speech-to-floor value then decides alone).

    Returns
    -------
    list of VerdictCondition
    """
    rate = _measured(rate_hz)
    level = _measured(high_band_level_db)
    drop = _measured(spectral_edge_drop_db)
    floor = _measured(speech_to_floor_db)
    valley = _measured(speech_to_valley_floor_db)
    decay = _measured(steepest_decay_db)
    edge = _measured(spectral_edge_hz)
    if edge is None:
        drop = None
    quiet_level = _measured(quiet_high_band_level_db)
    quiet_drop = _measured(quiet_spectral_edge_drop_db)
    quiet_edge = _measured(quiet_spectral_edge_hz)
    if quiet_edge is None:
        quiet_drop = None
    silence_share = _measured(digital_silence_share)
    silence_note = _silence_note(silence_share, _measured(digital_silence_between_sounds_share))
    left_out = (
        f" (measured without the {100 * silence_share:.0f} % of the frames that are digital "
        "silence)"
        if silence_share is not None and silence_share > 0.0
        else ""
    )
    why = (
        "the detector is calibrated on full-band recordings of at least "
        f"{MIN_CALIBRATED_RATE_HZ} Hz, and on band-limited copies of them its statistic "
        "stops separating synthetic from organic speech"
    )
    sampled = (
        "" if rate is None else f"the evidence is band-limited although sampled at {rate:.0f} Hz"
    )

    lo, hi = HIGH_BAND_HZ
    s_lo, s_hi = SPEECH_BAND_HZ
    e_lo, e_hi = EDGE_SEARCH_HZ
    edge_at = 0.0 if edge is None else edge / 1000  # kHz; unused when not measured
    quiet_edge_at = 0.0 if quiet_edge is None else quiet_edge / 1000
    near, far = QUIET_FRAMES_BELOW_LOUDEST_DB
    quiet_frames = f"{near:.0f}-{far:.0f} dB below the loudest"
    # the high band mainly in the loudest frames: distortion of band-limited audio
    excess = None if level is None or quiet_level is None else level - quiet_level
    distorted = (
        ""
        if excess is None or not excess >= LOUD_FRAME_EXCESS_DB
        else (
            f"; its long-term level is {excess:.0f} dB higher: the band holds energy mainly "
            "in its loudest frames, as clipping, a limiter or other distortion of "
            "band-limited audio puts there (even when the peaks stay below full scale)"
        )
    )
    conditions = [
        _measured_condition(
            "sample_rate",
            "sample rate of the evidence (the lower of the file's and the decoded)",
            rate,
            lambda v: f"{v:.0f} Hz",
            f"≥ {MIN_CALIBRATED_RATE_HZ} Hz",
            lambda v: v >= MIN_CALIBRATED_RATE_HZ,
            lambda v: (
                f"the evidence is sampled at {v:.0f} Hz and holds nothing above "
                f"{v / 2:.0f} Hz; {why}"
            ),
        ),
        _paired_condition(
            "high_band_level",
            f"level of the {lo / 1000:g}–{hi / 1000:g} kHz band re the "
            f"{s_lo / 1000:g}–{s_hi / 1000:g} kHz band (long-term; quieter frames)",
            (level, quiet_level),
            lambda v: f"{v:.3g} dB",
            f"≥ {MIN_HIGH_BAND_DB:g} dB; ≥ {MIN_QUIET_HIGH_BAND_DB:g} dB",
            (lambda v: v >= MIN_HIGH_BAND_DB, lambda v: v >= MIN_QUIET_HIGH_BAND_DB),
            (
                lambda v: (
                    f"{sampled}: its {lo / 1000:g}-{hi / 1000:g} kHz band lies {-v:.0f} dB "
                    f"below its speech band (full-band speech: above {MIN_HIGH_BAND_DB:.0f} "
                    f"dB), as in telephone audio converted to a higher rate; {why}"
                ),
                lambda v: (
                    f"{sampled}: in its quieter frames ({quiet_frames}) its "
                    f"{lo / 1000:g}-{hi / 1000:g} kHz band lies {-v:.0f} dB below their "
                    f"speech band (full-band speech: above {MIN_QUIET_HIGH_BAND_DB:.0f} dB), "
                    f"as in telephone audio converted to a higher rate{distorted}; {why}"
                ),
            ),
            (
                f"the level of the evidence's {lo / 1000:g}-{hi / 1000:g} kHz band could not "
                f"be measured (no power in its {s_lo / 1000:g}-{s_hi / 1000:g} kHz speech "
                f"band), so band-limited audio is not ruled out; {why}"
            ),
        ),
        _paired_condition(
            "spectral_edge",
            f"deepest low-pass edge of the spectrum between {e_lo / 1000:g} and "
            f"{e_hi / 1000:g} kHz (long-term; quieter frames)",
            (drop, quiet_drop),
            lambda v: f"{v:.3g} dB",
            f"< {MIN_EDGE_DROP_DB:g} dB; < {MIN_QUIET_EDGE_DROP_DB:g} dB",
            (lambda v: v < MIN_EDGE_DROP_DB, lambda v: v < MIN_QUIET_EDGE_DROP_DB),
            (
                lambda v: (
                    f"{sampled}: its spectrum falls {v:.0f} dB near {edge_at:.1f} kHz and "
                    f"stays down above it (full-band speech: less than {MIN_EDGE_DROP_DB:.0f} "
                    "dB), as in audio low-pass filtered or recorded at a lower rate (e.g. "
                    f"11.025 kHz) before it was converted; {why}"
                ),
                lambda v: (
                    f"{sampled}: in its quieter frames ({quiet_frames}) its spectrum falls "
                    f"{v:.0f} dB near {quiet_edge_at:.1f} kHz and stays down above it "
                    f"(full-band speech: less than {MIN_QUIET_EDGE_DROP_DB:.0f} dB), as in "
                    "audio low-pass filtered or recorded at a lower rate (e.g. 11.025 kHz) "
                    f"before it was converted; {why}"
                ),
            ),
            shown_at=(edge_at, quiet_edge_at),
        ),
        _paired_condition(
            "noise_floor",
            f"rise of the loud over the quiet 20 ms frames at "
            f"{FLOOR_BANDS_HZ[0][0] / 1000:g}–{FLOOR_BANDS_HZ[-1][1] / 1000:g} kHz; "
            "over the floor in the spectral valleys of the sounding frames",
            (floor, valley),
            lambda v: f"{v:.3g} dB",
            f"≥ {MIN_SPEECH_TO_FLOOR_DB:g} dB; ≥ {MIN_SPEECH_TO_VALLEY_FLOOR_DB:g} dB",
            (
                lambda v: v >= MIN_SPEECH_TO_FLOOR_DB,
                lambda v: v >= MIN_SPEECH_TO_VALLEY_FLOOR_DB,
            ),
            (
                lambda v: (
                    f"the loud frames of the evidence rise only {v:.0f} dB above its quiet ones "
                    f"at {FLOOR_BANDS_HZ[0][0] / 1000:g}-{FLOOR_BANDS_HZ[-1][1] / 1000:g} kHz "
                    f"(clean speech: {MIN_SPEECH_TO_FLOOR_DB:.0f} dB or more), as in noisy "
                    "audio; noise hides synthetic speech from the detector (with white noise "
                    "at 20 dB SNR no synthetic recording of its benchmark corpus stays above "
                    f"the threshold), so an organic verdict would say little{left_out}"
                ),
                lambda v: (
                    f"the loud frames of the evidence rise only {v:.1f} dB above the floor in "
                    "the spectral valleys of its sounding frames at "
                    f"{VALLEY_BAND_HZ[0] / 1000:g}-{VALLEY_BAND_HZ[1] / 1000:g} kHz "
                    f"(speech_to_valley_floor_db; clean speech: "
                    f"{MIN_SPEECH_TO_VALLEY_FLOOR_DB:g} dB or more), although they rise "
                    f"{0.0 if floor is None else floor:.0f} dB above its quiet frames: noise "
                    "continues under the speech while the pauses look quiet, as when a noise "
                    "gate left only dither or low-level noise in them; noise hides synthetic "
                    "speech from the detector, so an organic verdict would say little"
                    f"{left_out}"
                ),
            ),
            (
                "the noise floor of the evidence could not be measured (it needs at least "
                f"{MIN_FLOOR_FRAMES * FLOOR_FRAME_SECONDS:g} s of audio that is not digital "
                f"silence, and power in its {FLOOR_BANDS_HZ[0][0] / 1000:g}-"
                f"{FLOOR_BANDS_HZ[-1][1] / 1000:g} kHz bands), so noise that hides synthetic "
                "speech from the detector is not ruled out"
            ),
            note=silence_note,
            first_is_needed=True,  # the valley is measured on the floor's frames
        ),
        _measured_condition(
            "reverberation",
            f"steepest 30 ms fall of the {DECAY_BAND_HZ[0] / 1000:g}–"
            f"{DECAY_BAND_HZ[1] / 1000:g} kHz level (99th percentile)",
            decay,
            lambda v: f"{v:.3g} dB{silence_note}",
            f"≥ {MIN_STEEPEST_DECAY_DB:g} dB",
            lambda v: v >= MIN_STEEPEST_DECAY_DB,
            lambda v: (
                f"the level of the evidence falls at most {v:.0f} dB within 30 ms (clean "
                f"close-microphone speech: {MIN_STEEPEST_DECAY_DB:.0f} dB or more), as in a "
                "reverberant room or very smooth synthesis; a room's echoes hide synthetic speech "
                "from the detector (in a simulated room with a 0.3 s reverberation time 19 % of "
                "the synthetic recordings of its benchmark corpus stay above the threshold, "
                f"54 % clean), so an organic verdict would say little{left_out}"
            ),
            (
                "the level decay of the evidence could not be measured (it needs at least "
                f"{(MIN_DECAY_FRAMES - 1) * DECAY_HOP_SECONDS + DECAY_FRAME_SECONDS:.2f} s of "
                f"audio that is not digital silence, power in its {DECAY_BAND_HZ[0] / 1000:g}-"
                f"{DECAY_BAND_HZ[1] / 1000:g} kHz band, and a level that varies: a steady tone "
                "never falls), so a room whose echoes hide synthetic speech from the detector "
                "is not ruled out"
            ),
        ),
    ]

    what = "tract-estimator code of the reference and of this vtract"
    if running_code is None:
        code = VerdictCondition(
            "estimator_code", what, "not recorded in this report", "the same", _NOT_MEASURED
        )
    elif reference_code is None:
        code = VerdictCondition(
            "estimator_code", what, "the reference records none", "the same", "not checked"
        )
    elif reference_code == running_code:
        code = VerdictCondition("estimator_code", what, "the same", "the same", "met")
    else:
        code = VerdictCondition(
            "estimator_code",
            what,
            f"reference {reference_code[:12]}…, this vtract {running_code[:12]}…",
            "the same",
            "not met",
            f"the reference was measured with other tract-estimator code (estimator "
            f"fingerprint {reference_code[:12]}..., this vtract's is {running_code[:12]}...): "
            "its organic statistics and calibrated thresholds are not comparable with areas "
            "measured now; rebuild the reference with this vtract (vtract reference build)",
        )
    conditions.append(code)
    return conditions
