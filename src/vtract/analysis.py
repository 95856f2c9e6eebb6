"""End-to-end analysis of one recording: :func:`analyze`.

Pipeline (DESIGN.md): evidence -> alignment -> bigram windows -> tract
estimates -> feature table -> anatomical plausibility -> detector ->
:class:`~vtract.report.Report` with provenance.

The alignment comes, in order of preference, from an alignment given by the
caller (object or file: TextGrid, HTS ``.lab``, TIMIT, CSV), from forced
alignment of a transcript, or from phone recognition. Recognition is marked
low-confidence in the report and the detector then asks for more bigrams
before it gives a verdict.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .container import PREFIX as CONTAINER_PREFIX
from .container import with_findings
from .errors import AlignmentError, ReferenceError_, VtractError
from .evidence import Evidence, load
from .features import DETECTION_METHOD
from .provenance import file_sha256, path_text, provenance
from .reference import (
    FORMAT_VERSION,
    estimator_fingerprint,
    few_speakers_warning,
    recorded_estimator_fingerprint,
)
from .report import BigramEvidence, Flag, Report
from .tract.highpass import analysis_highpass_hz
from .verdict_conditions import (
    MIN_CALIBRATED_RATE_HZ,
    gated_pauses_warning,
    signal_measures,
    verdict_conditions,
)
from .windows import SILENCE_LABELS, pair_census, short_phone_warning

if TYPE_CHECKING:
    from .alignment.model import Alignment
    from .detect.decision import Decision

__all__ = [
    "ANALYSIS_RATE",
    "MIN_CALIBRATED_RATE_HZ",
    "RECOGNITION_MIN_SCORE_PER_FRAME",
    "analyze",
    "check_alignment",
    "reference_features",
]

#: Rate (Hz) the evidence is decoded to for analysis (the published rate).
ANALYSIS_RATE = 16000

PathLike = str | os.PathLike[str]


def _load_evidence(evidence_or_path: Evidence | PathLike, channel: int | None = None) -> Evidence:
    if isinstance(evidence_or_path, Evidence):
        if channel is not None:
            raise VtractError(
                "channel is for a path; this evidence is already decoded (pick the channel "
                "with vtract.load(path, channel=...))"
            )
        return evidence_or_path
    if isinstance(evidence_or_path, (str, os.PathLike)):
        return load(evidence_or_path, sr=ANALYSIS_RATE, channel=channel)
    raise VtractError(
        f"analyze expects an Evidence or a path, got {type(evidence_or_path).__name__}"
    )


def _get_alignment(
    ev: Evidence,
    transcript: str | None,
    alignment: Alignment | PathLike | None,
    pronunciations: Mapping[str, str] | None = None,
) -> tuple[Alignment | None, dict[str, Any], str | None]:
    """Alignment, its input hashes, and a reason when recognition found nothing."""
    from .alignment import align, read_alignment
    from .alignment.model import Alignment

    if alignment is not None and transcript is not None:
        raise VtractError("give either a transcript or an alignment, not both")
    inputs: dict[str, Any] = {}
    if alignment is not None:
        if isinstance(alignment, Alignment):
            return alignment, inputs, None
        if isinstance(alignment, (str, os.PathLike)):
            inputs["alignment"] = file_sha256(alignment) if Path(alignment).is_file() else None
            return read_alignment(alignment, for_audio=ev.path), inputs, None
        raise VtractError(
            f"alignment must be an Alignment or a file path, got {type(alignment).__name__}"
        )
    if transcript is not None:
        if not isinstance(transcript, str) or not transcript.strip():
            raise VtractError(f"transcript must be non-empty text, got {transcript!r}")
        try:
            return align(ev, transcript, pronunciations=pronunciations), inputs, None
        except AlignmentError as exc:
            # less audio decodes than the header declares (each finding says by how much
            # and what may explain it), so the transcript may cover speech that is not there;
            # a duration shared with a video track is only noted, not a "truncated" finding
            # (container._duration_findings)
            truncated = [w for w in ev.warnings if w.startswith(CONTAINER_PREFIX + "truncated")]
            if not truncated:
                raise
            hint = (
                "less audio decodes than the file's header declares, so the transcript may "
                "cover speech that is not in the part analysed"
            )
            raise with_findings(exc, [hint, *truncated]) from None
    try:
        recognised = align(ev, None)
    except AlignmentError as exc:
        # Recognition that finds no speech is thin evidence, not a broken input.
        return None, inputs, f"phone recognition found no usable speech ({exc})"
    fit = recognised.meta.get("score_per_frame")
    if fit is not None and float(fit) < RECOGNITION_MIN_SCORE_PER_FRAME:
        return (
            None,
            inputs,
            f"recognised phones fit the audio poorly (mean acoustic score per frame "
            f"{float(fit):.1f} < {RECOGNITION_MIN_SCORE_PER_FRAME:.0f}): the recording may "
            "not contain speech (music, noise); give a transcript or an alignment to analyse it",
        )
    return recognised, inputs, None


def _low_confidence_warning(aln: Alignment) -> str:
    """Why the alignment is low-confidence, in the report's words."""
    rules = "the verdict needs more bigrams and a clear margin"
    if aln.source == "pocketsphinx-recognize":
        return (
            "no transcript or alignment was given: phones were recognised automatically "
            f"(low confidence; recognition errors mislabel bigrams; {rules})"
        )
    if aln.source == "pocketsphinx-align":
        return (
            "the transcript was force-aligned but fits the audio badly (low confidence; "
            f"phone boundaries are unreliable; {rules})"
        )
    return f"the alignment is marked low-confidence ({aln.source}; {rules})"


#: Speech-presence gate for recognised alignments (pocketsphinx mean acoustic
#: score per frame, 0 = perfect, more negative = worse). Measured on 25 Nov 2026:
#: organic LibriSpeech, MFA creaky and whispered speech, and classic TTS voices
#: scored -7.8 to -22.1; 30 s of synthetic music -38.2. A recording below the gate
#: is inconclusive, never given a verdict. A heuristic from a small sample: it does
#: not prove that audio above it is speech.
RECOGNITION_MIN_SCORE_PER_FRAME = -30.0


#: An alignment may run this far past the end of the audio (s, or this share of
#: its duration if larger) before it is refused as not this recording's: decoders
#: differ by tens of ms in the padding they keep, and a TextGrid's last silence
#: often ends at its own ``xmax``.
ALIGNMENT_OVERRUN_S = 0.25
ALIGNMENT_OVERRUN_SHARE = 0.02

#: Below this share of the recording covered by the alignment's phones the report
#: warns (an annotation of part of a recording is legitimate; a TIMIT file at twice
#: the audio's rate, or another recording's shorter alignment, looks the same).
ALIGNMENT_MIN_COVERAGE = 0.5


def check_alignment(aln: Alignment, duration_s: float | None = None) -> list[str]:
    """Check an alignment against itself and against the recording it is used with.

    Phone intervals must not overlap (alignments read from files or made by
    the aligner are checked when they are built; this covers
    :class:`Alignment` objects assembled by hand). With ``duration_s``, the
    phones must end within :data:`ALIGNMENT_OVERRUN_S` (or
    :data:`ALIGNMENT_OVERRUN_SHARE` of the duration) of the audio's end: an
    alignment that runs further belongs to another recording, or has its
    times in other units or at another sample rate, and its bigrams would be
    cut from the wrong sounds.

    Parameters
    ----------
    aln : Alignment
        The alignment.
    duration_s : float, optional
        Duration of the recording it is used with (s).

    Returns
    -------
    list of str
        Warnings for the report: the phones cover less than
        :data:`ALIGNMENT_MIN_COVERAGE` of the recording.

    Raises
    ------
    AlignmentError
        Naming the first overlap found, or how far the phones run past the audio.
    """
    from .alignment.model import refuse_overlaps

    ph = aln.phones
    starts = ph["start"].to_numpy(np.float64)
    ends = ph["end"].to_numpy(np.float64)
    refuse_overlaps(starts, ends, ph["label"].astype(str).tolist(), "phone")
    if duration_s is None or ends.size == 0:
        return []
    last = float(ends.max())
    allowed = duration_s + max(ALIGNMENT_OVERRUN_S, ALIGNMENT_OVERRUN_SHARE * duration_s)
    if last > allowed:
        raise AlignmentError(
            f"the alignment's phones run to {last:.3f} s but the audio lasts {duration_s:.3f} s: "
            "it belongs to another recording, or its times are in other units or at another "
            "sample rate (a TIMIT file's sample counts must be at the audio's rate)"
        )
    speech = ~ph["label"].astype(str).str.lower().isin(list(SILENCE_LABELS))
    if duration_s > 0 and speech.any():
        covered = float(ends[speech].max() - starts[speech].min())
        if covered < ALIGNMENT_MIN_COVERAGE * duration_s:
            return [
                f"the alignment's phones cover {covered:.2f} s of the {duration_s:.2f} s "
                f"recording ({100 * covered / duration_s:.0f} %): if it was made for this "
                "recording at another rate or in other time units, its bigrams are wrong"
            ]
    return []


def _get_reference(reference: Any) -> Any:
    from .reference import Reference, default_reference

    if reference is None:
        return default_reference()
    if isinstance(reference, (str, os.PathLike)):
        return Reference.load(reference)
    if not hasattr(reference, "lookup"):
        raise ReferenceError_(
            f"reference must be a Reference or a path to one, got {type(reference).__name__}"
        )
    return reference


def _bigram_evidence(big: pd.DataFrame) -> list[BigramEvidence]:
    out = []
    for r in big.itertuples(index=False):
        out.append(
            BigramEvidence(
                bigram=str(r.bigram),
                ipa=str(getattr(r, "bigram_ipa", "")),
                word=str(getattr(r, "word", "")),
                boundary=float(r.boundary_s),
                start=float(r.start_s),
                end=float(r.end_s),
                areas_cm2=[float(a) for a in r.areas_cm2],
                length_cm=float(r.length_cm),
                deviation=float(r.deviation),
                score=float(r.score),
                reference_level=str(r.level),
                flags=list(getattr(r, "flags", []) or []),
            )
        )
    return out


def _alignment_summary(aln: Alignment | None) -> dict[str, Any]:
    if aln is None:
        return {"source": "none", "low_confidence": True, "phones": [], "words": []}

    def rows(df: pd.DataFrame, cols: tuple[str, ...]) -> list[dict[str, Any]]:
        keep = [c for c in cols if c in df.columns]
        recs = df[keep].to_dict("records")
        return [
            {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in r.items()}
            for r in recs
        ]

    return {
        "source": aln.source,
        "low_confidence": bool(aln.low_confidence),
        "unknown_labels": list(aln.unknown_labels),
        "meta": _jsonable(aln.meta),
        "phones": rows(aln.phones, ("start", "end", "label", "word", "confidence")),
        "words": rows(aln.words, ("start", "end", "label", "confidence")),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _reference_summary(ref: Any, sha256: str | None) -> dict[str, Any]:
    meta = getattr(ref, "meta", {}) or {}
    version = meta.get("format_version")
    calibration = getattr(ref, "calibration", None) or {}
    summary: dict[str, Any] = {
        "name": str(getattr(ref, "name", "") or ""),
        "version": None if version is None else str(version),
        "vtract_version": meta.get("vtract_version"),
        "sha256": sha256,
        "method": getattr(ref, "method", None),
        "estimator_code_sha256": recorded_estimator_fingerprint(ref),
        "n_files": meta.get("n_files"),
        "n_speakers": meta.get("n_speakers"),
        "calibrated": sorted(calibration) if isinstance(calibration, dict) else [],
    }
    if isinstance(version, int) and version < FORMAT_VERSION:
        # the file is in an older format, read in today's terms; sha256 is the file's own
        summary["upgraded_from_format"] = version
    return summary


def _extract_settings(ref: Any, method: str | None) -> dict[str, Any]:
    """Feature-extraction keyword arguments that reproduce how ``ref`` was measured."""
    meta = getattr(ref, "meta", {}) or {}
    stored = dict((meta.get("settings") or {}).get("extract_features") or {})
    ref_method = str(getattr(ref, "method", "") or stored.get("method", ""))
    stored.pop("method", None)
    if method is not None and ref_method and method != ref_method:
        raise ReferenceError_(
            f"estimator method {method!r} differs from the reference's {ref_method!r}; "
            "areas from different estimators are not comparable (use a reference built "
            "with this method)"
        )
    stored["method"] = method or ref_method or DETECTION_METHOD
    # recorded in every report: the cutoff the windows were cut after (0 = unfiltered)
    stored.setdefault("highpass_hz", analysis_highpass_hz(stored["method"]))
    return stored


def _calibrated_descriptors(ref: Any) -> list[str]:
    """Descriptor names of the default detector's stored models (empty without one).

    Both the ``"default"`` calibration's and the ``"dry_voice"`` one's
    (:data:`vtract.detect.default.DRY_VOICE`).
    """
    from .detect.default import DRY_VOICE

    calibration = getattr(ref, "calibration", {}) or {}
    names: list[str] = []
    for key in ("default", DRY_VOICE):
        stored = calibration.get(key) if isinstance(calibration, dict) else None
        model = stored.get("model") if isinstance(stored, dict) else None
        listed = model.get("names") if isinstance(model, dict) else None
        if isinstance(listed, list):
            names += [str(n) for n in listed if str(n) not in names]
    return names


def reference_features(
    evidence: Evidence,
    alignment: Alignment,
    reference: Any,
    *,
    speaker: str = "",
    label: str = "",
    method: str | None = None,
    cross_word: bool | None = None,
    voice_source: bool | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Feature table of a recording measured the way ``reference`` was built.

    ``voice_source`` (measure the voice shimmer too) defaults to whether one
    of the reference's default-detector calibrations uses ``log_shimmer``.

    Returns
    -------
    features : pandas.DataFrame
    settings : dict
        The keyword arguments given to :func:`vtract.features.extract_features`.
    warnings : list of str
        What the examiner must know (e.g. bigrams taken across words, phone
        pairs left out for a zero-length phone).
    """
    from .features import extract_features

    warnings: list[str] = []
    settings = _extract_settings(reference, method)
    if cross_word is not None:
        settings["cross_word"] = bool(cross_word)
    if voice_source is None:
        voice_source = "log_shimmer" in _calibrated_descriptors(reference)
    settings["voice_source"] = bool(voice_source)
    if len(alignment.words) == 0 and not settings.get("cross_word", False):
        settings["cross_word"] = True
        warnings.append(
            "the alignment has no word intervals: bigrams were taken across word "
            "boundaries too (cross_word=True)"
        )
    short_phones = short_phone_warning(
        pair_census(alignment, cross_word=bool(settings.get("cross_word", False)))
    )
    if short_phones is not None:
        warnings.append(short_phones)
    features = extract_features(evidence, alignment, speaker=speaker, label=label, **settings)
    return features, settings, warnings


def _has_estimates(features: pd.DataFrame) -> bool:
    """Whether a feature table holds a window with a tract estimate (a finite positive area)."""
    if "area_cm2" not in features.columns or features.empty:
        return False
    area = features["area_cm2"].to_numpy(np.float64)
    return bool(np.any(np.isfinite(area) & (area > 0)))


def _no_bigram_reason(aln: Alignment, cross_word: bool, features: pd.DataFrame) -> str:
    """Why a recording has no usable bigram, named from its alignment and feature table.

    The first of: the alignment gives no pair (:func:`vtract.windows.no_pair_reason`
    says which rules left its phones out), no pair has a window inside the audio, or
    the tract estimator measured none of the windows.
    """
    from .detect.deviation import distinct_boundaries
    from .windows import no_pair_reason

    census = pair_census(aln, cross_word=cross_word)
    n_pairs = len(census.pairs)
    head = "no usable bigram: "
    if n_pairs == 0:
        return head + no_pair_reason(census)
    if features.empty:
        return head + (
            f"none of the alignment's {n_pairs} phone pair(s) has a window inside the audio "
            "(its boundary lies within half a window of the audio's start or end, or past it)"
        )
    windows = features[["boundary_s", "window_index"]].drop_duplicates()
    return head + (
        f"the tract estimator measured none of the {len(windows)} window(s) of the "
        f"{distinct_boundaries(features)} phone pair(s) with windows (they hold no signal "
        "it can estimate, e.g. digital silence)"
    )


def _rounded_measure(name: str, value: float) -> float | None:
    """A signal measure as the report records it: ``None`` when not measured, dB to
    0.01 dB, shares to 0.0001, others (the edge frequency: a spectrum bin) as found."""
    if not math.isfinite(value):
        return None
    if name.endswith("_db"):
        return round(value, 2)
    if name.endswith("_share"):
        return round(value, 4)
    return value


def _decide(
    detector: str,
    ref: Any,
    features: pd.DataFrame,
    flags: list[Flag],
    low_confidence: bool,
    steepest_decay_db: float,
) -> Decision:
    if detector == "default":
        from .detect.default import DefaultDetector

        return DefaultDetector(ref).decide(
            features, flags, low_confidence=low_confidence, steepest_decay_db=steepest_decay_db
        )
    if detector == "paper":
        from .detect.paper import PaperDetector

        return PaperDetector.from_reference(ref).decide(features, low_confidence=low_confidence)
    raise VtractError(f"unknown detector {detector!r}; expected 'default' or 'paper'")


def analyze(
    evidence_or_path: Evidence | PathLike,
    *,
    transcript: str | None = None,
    alignment: Alignment | PathLike | None = None,
    reference: Any = None,
    detector: str = "default",
    method: str | None = None,
    speaker: str = "",
    cross_word: bool | None = None,
    pronunciations: Mapping[str, str] | None = None,
    channel: int | None = None,
) -> Report:
    """Analyse one recording and return a :class:`~vtract.report.Report`.

    Parameters
    ----------
    evidence_or_path : Evidence or path
        The recording (decoded to 16 kHz when a path is given).
    transcript : str, optional
        Words spoken; phones are force-aligned to it.
    alignment : Alignment or path, optional
        A ready alignment (TextGrid, HTS ``.lab``, TIMIT, CSV) used as is.
        Without ``transcript`` and ``alignment`` phones are recognised and
        the report is marked low-confidence.
    reference : Reference or path, optional
        Organic reference; :func:`vtract.default_reference` by default.
    detector : {"default", "paper"}
        ``"default"``: calibrated tract-dynamics statistic, with per-bigram
        reference deviations and anatomical flags as evidence;
        ``"paper"``: the published detector of Blue et al. (2022).
    method : str, optional
        Tract estimator. By default the reference's own (features must be
        measured the way the reference was); a different one is refused.
    speaker : str, optional
        Speaker identifier recorded in the features.
    cross_word : bool, optional
        Also use bigrams across word boundaries. By default as the reference
        was built, and always when the alignment has no word intervals (HTS
        labels), which the report then says.
    pronunciations : mapping, optional
        ``{word: "ARPABET PHONES"}`` for transcript words the aligner's
        dictionary lacks (see :func:`vtract.align`); only with ``transcript``.
    channel : int, optional
        With a path: analyse this zero-based channel instead of the average
        of all channels (see :func:`vtract.load`).

    Returns
    -------
    Report
        Verdict, score, flags, per-bigram evidence and provenance. Evidence
        whose own sample rate is below :data:`MIN_CALIBRATED_RATE_HZ` (8 kHz
        telephone audio), or whose spectrum is telephone-band at a full-band
        rate (:data:`vtract.bandwidth.MIN_HIGH_BAND_DB`; the level is in the
        provenance parameters as ``high_band_level_db``), or whose spectrum
        falls off a low-pass edge between 3 and 6.3 kHz
        (:func:`vtract.bandwidth.spectral_edge`, at least
        :data:`~vtract.bandwidth.MIN_EDGE_DROP_DB`; ``spectral_edge_hz`` and
        ``spectral_edge_drop_db`` in the provenance parameters), or whose
        quieter frames' spectrum shows either (clipped or saturated
        band-limited audio, whose long-term spectrum the distortion refills:
        :func:`vtract.bandwidth.band_limit_measures`;
        ``quiet_high_band_level_db``, ``quiet_spectral_edge_hz`` and
        ``quiet_spectral_edge_drop_db`` in the provenance parameters), or whose
        loud frames rise less than
        :data:`vtract.noise_floor.MIN_SPEECH_TO_FLOOR_DB` above its quiet
        ones at 2-6 kHz (noisy audio, :func:`vtract.noise_floor.speech_to_floor_db`;
        ``speech_to_floor_db`` in the provenance parameters) or less than
        :data:`vtract.noise_floor.MIN_SPEECH_TO_VALLEY_FLOOR_DB` above the
        floor in the spectral valleys of its sounding frames (noise under the
        speech although a gate left only dither or low-level noise in the
        pauses, :func:`vtract.noise_floor.speech_to_valley_floor_db`;
        ``speech_to_valley_floor_db`` in the provenance parameters), or whose
        0.3-4 kHz level never falls
        :data:`vtract.reverberation.MIN_STEEPEST_DECAY_DB` within 30 ms
        (reverberant audio, :func:`vtract.reverberation.steepest_decay_db`;
        ``steepest_decay_db`` in the provenance parameters), is analysed
        but gets ``inconclusive``, with the reason. So does evidence analysed
        with a reference that records another estimator fingerprint
        (:func:`vtract.reference.estimator_fingerprint`: its statistics come
        from other tract-estimator code); a reference that records none
        gets a warning. The running fingerprint is in the provenance
        parameters as ``estimator_code_sha256``. A noise floor, level decay
        or high-band level that cannot be measured (evidence shorter than
        about 1 s, or with less than that which is not digital silence; a
        steady tone) also gives ``inconclusive``: noise or a room is then not
        ruled out. The noise floor and level decay leave out frames of
        digital silence (zero padding, gated pauses); their shares are in the
        provenance parameters as ``digital_silence_share`` and
        ``digital_silence_between_sounds_share``, and the report warns when
        the pauses between sounds are digital silence. These conditions are
        stated once, in :mod:`vtract.verdict_conditions`.

    Raises
    ------
    VtractError
        The input cannot be analysed (unreadable audio, bad alignment or
        transcript, unusable reference).
    """
    from .detect import DETECTORS

    if detector not in DETECTORS:
        raise VtractError(f"unknown detector {detector!r}; expected one of {list(DETECTORS)}")
    ev = _load_evidence(evidence_or_path, channel)
    ref = _get_reference(reference)
    if pronunciations and transcript is None:
        raise VtractError("pronunciations are for aligning a transcript; no transcript was given")
    aln, aln_inputs, no_speech = _get_alignment(ev, transcript, alignment, pronunciations)
    alignment_warnings = [] if aln is None else check_alignment(aln, ev.duration)

    # what the conditions for a verdict judge: the lower of the file's rate and the rate
    # it was decoded to, and the signal's band limits, noise floor and level decay
    rate_hz = min(int(ev.original_sr), int(ev.sr))
    measures = signal_measures(ev.samples, ev.sr)
    estimator_code = estimator_fingerprint()
    conditions = verdict_conditions(
        rate_hz, recorded_estimator_fingerprint(ref), estimator_code, **measures
    )

    warnings = list(ev.warnings)
    gated = gated_pauses_warning(measures["digital_silence_between_sounds_share"])
    if gated is not None:
        warnings.append(gated)
    few_speakers = few_speakers_warning(ref)
    if few_speakers is not None:
        warnings.append(few_speakers)
    code_condition = next(c for c in conditions if c.key == "estimator_code")
    if code_condition.status == "not met":
        warnings.append(code_condition.reason)
    elif code_condition.status == "not checked":
        warnings.append(
            "the reference does not record the estimator code that measured it, so "
            "that its statistics fit this vtract's estimator could not be checked"
        )
    if aln is not None and aln.low_confidence:
        warnings.append(_low_confidence_warning(aln))
    if aln is not None:
        warnings.extend(str(w) for w in aln.meta.get("warnings", ()))
    warnings.extend(alignment_warnings)
    if aln is not None and aln.unknown_labels:
        warnings.append(f"alignment labels not understood and skipped: {list(aln.unknown_labels)}")

    # what the report needs of the evidence, so its samples can be freed after the features
    ev_file = None if ev.path is None else path_text(ev.path)
    ev_summary = ev.summary()
    inputs = {"evidence": ev.sha256, "evidence_pcm": ev.pcm_sha256}
    sha256, pcm_sha256 = ev.sha256, ev.pcm_sha256

    flags: list[Flag] = []
    settings: dict[str, Any] = {}
    if aln is None:
        from .detect.decision import Decision

        decision = Decision("inconclusive", None, float("nan"), str(no_speech), pd.DataFrame())
        big = pd.DataFrame()
    else:
        features, settings, notes = reference_features(
            ev, aln, ref, speaker=speaker, method=method, cross_word=cross_word
        )
        del ev  # frees the samples when a path was given (a caller's Evidence keeps them)
        warnings.extend(notes)
        if len(features):
            from .detect.estimates import plausibility_flags

            flags = plausibility_flags(features)
        decision = _decide(
            detector,
            ref,
            features,
            flags,
            bool(aln.low_confidence),
            measures["steepest_decay_db"],
        )
        if decision.verdict == "inconclusive" and not _has_estimates(features):
            decision = dataclasses.replace(
                decision,
                reason=_no_bigram_reason(aln, bool(settings.get("cross_word")), features),
            )
        unmet = next((c for c in conditions if c.withholds_verdict), None)
        if unmet is not None and decision.verdict != "inconclusive":
            decision = dataclasses.replace(
                decision, verdict="inconclusive", score=None, reason=unmet.reason
            )
        del features  # the report needs only the per-bigram evidence
        big = decision.bigrams
    warnings.extend(decision.warnings)

    ref_sha = getattr(ref, "sha256", None)
    if ref_sha:
        inputs["reference"] = str(ref_sha)
    inputs.update({k: v for k, v in aln_inputs.items() if v})
    params: dict[str, Any] = {
        "detector": detector,
        "features": settings,
        "analysis_rate": ANALYSIS_RATE,
        "transcript": transcript,
        "alignment_source": None if aln is None else aln.source,
        "statistic": decision.statistic,
        # the measures in dB to 0.01 dB, shares to 0.0001, the edge frequency as found
        # (a spectrum bin)
        **{k: _rounded_measure(k, v) for k, v in measures.items()},
        "estimator_code_sha256": estimator_code,
    }
    if decision.descriptors:
        params["descriptors"] = dict(decision.descriptors)
    if decision.descriptor_ranges:
        params["descriptor_organic_ranges"] = dict(decision.descriptor_ranges)
    if aln is not None:
        model = aln.meta.get("model") if isinstance(aln.meta, dict) else None
        if model is not None:
            params["aligner_model"] = _jsonable(model)

    return Report(
        file=ev_file,
        sha256=sha256,
        pcm_sha256=pcm_sha256,
        score=decision.score,
        verdict=decision.verdict,
        reason=decision.reason,
        detector=detector,
        thresholds={k: float(v) for k, v in decision.thresholds.items()},
        flags=flags,
        bigrams=_bigram_evidence(big) if len(big) else [],
        evidence=ev_summary,
        alignment=_alignment_summary(aln),
        reference=_reference_summary(ref, ref_sha),
        provenance=provenance(parameters=_jsonable(params), inputs=inputs),
        warnings=warnings,
    )
