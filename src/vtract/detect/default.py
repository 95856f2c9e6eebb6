"""The default detector: tract dynamics (or reference deviation), calibrated.

Every bigram occurrence of the recording is scored by how far its areas lie
from the organic reference (:mod:`vtract.detect.deviation`: robust
log-domain z per section, pooled over the windows of the occurrence) and
carries its anatomical flags: that is the per-bigram *evidence* of a report.
The recording's *statistic* - the number the verdict is based on - is one
of two, chosen by the calibration stored with the reference
(:attr:`Calibration.statistic`):

``"dynamics"`` (the shipped calibration)
    The descriptor model of :mod:`vtract.detect.dynamics` applied to the
    recording's tract dynamics (shape spread and jitter, length and F1
    spread; with ``descriptors=WITH_SHIMMER`` also the voice shimmer, for
    research: see the dry-voice model below). Trained by
    :func:`vtract.detect.fitting.fit_thresholds` /
    ``vtract calibrate``: discriminative when labelled fakes are given, a
    one-class (organic-only) Mahalanobis distance otherwise. The per-bigram
    ``score`` is then the bigram's *atypicality* against the organic
    reference (:data:`PRIOR_CALIBRATION` applied to its deviation and
    flags), not a probability of synthesis.

``"deviation"`` (calibrations made with ``--statistic deviation`` or before the dynamics statistic)
    ::

        statistic = weighted mean of bigram deviations            (weights by reference level)
                  + FLAG_WEIGHT * max(0, flagged - flag_baseline)

    where ``flagged`` is the share of bigram occurrences with anatomical
    flags (critical = 1, warning = 0.5; recording-level flags count once
    each) and ``flag_baseline`` (stored in the calibration) is the flagged
    share organic recordings reach anyway: :data:`FLAG_BASELINE_QUANTILE`
    of the organic calibration recordings. A calibration made with
    ``--no-flags`` (``Calibration.use_flags`` False) sets ``flagged`` to 0,
    as its threshold was set; the flags stay in the evidence. On the benchmark corpus this
    statistic is *lower* for synthetic speech than for unseen organic
    speakers (AUC below 0.5, ``docs/DETECTION.md``).

**The dry-voice model.** A reference calibrated with ``--with-shimmer``
(:func:`~vtract.detect.fitting.fit_thresholds` with ``voice_descriptors``)
holds a second calibration, ``"dry_voice"`` (:data:`DRY_VOICE`): a
dynamics model of the four descriptors *and* the recording's voice-source
shimmer (:mod:`vtract.voice_source`), with its own threshold. A room raises
the shimmer of organic speech, so that model decides only when the
evidence shows no room - its steepest level decay
(:func:`vtract.reverberation.steepest_decay_db`, passed to
:meth:`DefaultDetector.decide`) reaches
:data:`~vtract.reverberation.DRY_DECAY_DB` - and its shimmer is defined;
otherwise the default calibration decides. The reason says which and why
(``docs/DETECTION.md``, "Session 20").

:class:`~vtract.detect.calibration.Calibration` turns the statistic into a
score in [0, 1] (0.5 at the threshold set for the target false-positive
rate on organic recordings). The verdict is ``"inconclusive"`` (score
``None``, with the reason) when the evidence is too thin to say anything:
no or too few bigram occurrences, too few when the alignment came from
recognition (low confidence), a score within :data:`LOW_CONFIDENCE_MARGIN`
of 0.5 when the alignment came from recognition, a reference that covers too
few of the bigrams at a specific level, or a dynamics descriptor that cannot
be computed.

The threshold always comes from organic data alone. Labelled fakes, when
given to the calibration, train the discriminative descriptor model (and fit
the score slope); without them the detector is one-class and never sees a
fake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import VtractError
from ..report import Flag
from ..reverberation import DRY_DECAY_DB
from ..voice_source import MIN_PERIODS
from .calibration import Calibration, CalibrationError
from .decision import Decision
from .deviation import ReferenceLike, bigram_deviations, distinct_boundaries, row_deviations
from .dynamics import DescriptorModel, recording_descriptors

__all__ = [
    "DRY_VOICE",
    "FLAG_BASELINE_QUANTILE",
    "FLAG_WEIGHT",
    "LOW_CONFIDENCE_MARGIN",
    "MIN_BIGRAMS",
    "MIN_BIGRAMS_LOW_CONFIDENCE",
    "MIN_REFERENCE_WEIGHT",
    "PRIOR_CALIBRATION",
    "SEVERITY_WEIGHTS",
    "Decision",
    "DefaultDetector",
    "combine",
    "file_statistics",
]

#: Key of the optional second calibration of a reference: the model with the
#: voice shimmer, used only on recordings without a room (module docstring).
DRY_VOICE = "dry_voice"
#: Fewest bigram occurrences for a verdict.
MIN_BIGRAMS = 5
#: Fewest bigram occurrences for a verdict when phones were recognised, not aligned to a transcript.
MIN_BIGRAMS_LOW_CONFIDENCE = 15
#: With recognised phones (low confidence), a verdict needs |score - 0.5| >= this.
LOW_CONFIDENCE_MARGIN = 0.3
#: Smallest sum of level weights (bigram-level occurrence = 1) for a verdict.
MIN_REFERENCE_WEIGHT = 2.5
#: Statistic units added per fully flagged bigram occurrence (above the baseline).
FLAG_WEIGHT = 1.0
#: Quantile of the organic calibration recordings' flagged share used as baseline.
FLAG_BASELINE_QUANTILE = 0.95
#: How much each flag severity counts toward the flagged share.
SEVERITY_WEIGHTS: Mapping[str, float] = {"critical": 1.0, "warning": 0.5, "info": 0.0}
#: Mapping used when the reference carries no calibration. For organic
#: speech scored against its own reference the capped robust z averages about
#: 0.8 (mean of a half-normal); threshold 2.0 is 2.5x that, and the organic
#: expectation maps to 0.05. Reports say loudly when this prior is used.
PRIOR_CALIBRATION = Calibration(
    threshold=2.0,
    slope=math.log(19.0) / 1.2,
    target_fpr=float("nan"),
    method="uncalibrated-prior",
    flag_baseline=0.5,
)


def _flag_shares(
    bigrams: pd.DataFrame, flags: Iterable[Flag]
) -> tuple[np.ndarray, list[list[str]], float]:
    """Severity share per occurrence, flag codes per occurrence, recording-level severity sum.

    A flag with a bigram belongs to the occurrences of that bigram whose span
    (``start_s`` to ``end_s``) lies within the flag's; without a span, to every
    occurrence of it; without a bigram, to the recording.
    """
    n = len(bigrams)
    share = np.zeros(n)
    codes: list[list[str]] = [[] for _ in range(n)]
    recording_level = 0.0
    names = bigrams["bigram"].to_numpy() if n else np.empty(0, dtype=object)
    starts = bigrams["start_s"].to_numpy(np.float64) if n else np.empty(0)
    ends = bigrams["end_s"].to_numpy(np.float64) if n else np.empty(0)
    for fl in flags:
        w = SEVERITY_WEIGHTS.get(fl.severity, 0.0)
        if fl.bigram is None:
            recording_level += w
            continue
        hit = names == fl.bigram
        if fl.start is not None and fl.end is not None:
            # the occurrence's windows lie within the flag's: the flag's own occurrence
            # (a flag spans all its windows, the occurrence those with an estimate), not a
            # neighbouring one of the same bigram whose windows merely overlap (F5)
            hit &= (starts >= fl.start - 1e-9) & (ends <= fl.end + 1e-9)
        for i in np.nonzero(hit)[0]:
            share[i] = max(share[i], w)
            if fl.code not in codes[i]:
                codes[i].append(fl.code)
    return share, codes, recording_level


def _components(
    bigrams: pd.DataFrame, share: np.ndarray, recording_level: float
) -> tuple[float, float]:
    """Weighted mean deviation and flagged share of a recording."""
    if bigrams.empty:
        return math.nan, math.nan
    w = bigrams["weight"].to_numpy(np.float64)
    dev = float(np.sum(w * bigrams["deviation"].to_numpy(np.float64)) / np.sum(w))
    flagged = min(1.0, (float(share.sum()) + recording_level) / len(bigrams))
    return dev, flagged


def combine(deviation: Any, flagged: Any, flag_baseline: float = 0.0) -> Any:
    """The default statistic from its components (arrays or floats)."""
    excess = np.maximum(np.asarray(flagged, dtype=np.float64) - flag_baseline, 0.0)
    out = np.asarray(deviation, dtype=np.float64) + FLAG_WEIGHT * excess
    return float(out) if out.ndim == 0 else out


@dataclass
class DefaultDetector:
    """Generator-agnostic detector scored against an organic reference.

    Parameters
    ----------
    reference : Reference
        Organic reference (anything with ``lookup(bigram, n_sections)``).
    calibration : Calibration, optional
        Score mapping. By default taken from ``reference.calibration["default"]``
        when present, else :data:`PRIOR_CALIBRATION` (with a warning).
    min_bigrams, min_bigrams_low_confidence : int
        Evidence minimums for a verdict.
    min_reference_weight : float
        Smallest sum of level weights for a verdict.
    """

    reference: ReferenceLike
    calibration: Calibration | None = None
    min_bigrams: int = MIN_BIGRAMS
    min_bigrams_low_confidence: int = MIN_BIGRAMS_LOW_CONFIDENCE
    min_reference_weight: float = MIN_REFERENCE_WEIGHT

    def __post_init__(self) -> None:
        if not hasattr(self.reference, "lookup"):
            raise VtractError(
                f"reference must provide lookup(bigram, n_sections); got {type(self.reference).__name__}"
            )
        if self.min_bigrams < 1 or self.min_bigrams_low_confidence < self.min_bigrams:
            raise VtractError(
                f"need 1 <= min_bigrams <= min_bigrams_low_confidence, got {self.min_bigrams}, "
                f"{self.min_bigrams_low_confidence}"
            )

    def resolved_calibration(self) -> tuple[Calibration, list[str]]:
        """The calibration in use and warnings about it."""
        if self.calibration is not None:
            return self.calibration, self.calibration.warnings
        cal = self._stored_calibration("default")
        if cal is not None:
            return cal, cal.warnings
        return PRIOR_CALIBRATION, [
            "the reference carries no calibration (run `vtract calibrate`); the score uses the "
            f"uncalibrated prior mapping (threshold {PRIOR_CALIBRATION.threshold:g}) and its "
            "false-positive rate is unknown"
        ]

    def _stored_calibration(self, key: str) -> Calibration | None:
        """The reference's calibration stored under ``key`` (``None`` when it has none)."""
        stored = getattr(self.reference, "calibration", None) or {}
        if not (isinstance(stored, Mapping) and key in stored):
            return None
        if not isinstance(stored[key], Mapping):
            raise VtractError(
                f"reference carries a malformed {key} calibration: a "
                f"{type(stored[key]).__name__}, not a record"
            )
        try:
            return Calibration.from_dict(dict(stored[key]))
        except CalibrationError as exc:
            raise VtractError(f"reference carries a malformed {key} calibration: {exc}") from None

    def evaluate(
        self, features: pd.DataFrame, flags: Iterable[Flag] = ()
    ) -> tuple[float, pd.DataFrame]:
        """Statistic and per-occurrence evidence, without a verdict.

        Parameters
        ----------
        features : pandas.DataFrame
            Feature table of ONE recording (:mod:`vtract.features`).
        flags : iterable of Flag
            Plausibility flags of that recording.
        """
        cal, _ = self.resolved_calibration()
        stat, big, _ = self._evaluate(cal, features, flags)
        return stat, big

    def _evaluate(
        self,
        cal: Calibration,
        features: pd.DataFrame,
        flags: Iterable[Flag],
        dynamics: tuple[float, dict[str, float]] | None = None,
    ) -> tuple[float, pd.DataFrame, dict[str, float]]:
        """Statistic, per-occurrence evidence and descriptor values under ``cal``.

        ``dynamics`` is ``cal``'s :func:`_dynamics_statistic` when the caller
        has it already.
        """
        rows = row_deviations(features, self.reference)
        big = bigram_deviations(rows)
        share, codes, rec_level = _flag_shares(big, list(flags))
        big = big.assign(flag_share=share, flags=codes)
        if cal.statistic != "dynamics":
            if (
                not cal.flags_in_statistic
            ):  # calibrated without flags: the statistic leaves them out
                share, rec_level = np.zeros_like(share), 0.0
            dev, flagged = _components(big, share, rec_level)
            return combine(dev, flagged, cal.flag_baseline), big, {}
        stat, values = dynamics if dynamics is not None else _dynamics_statistic(cal, features)
        return stat, big, values

    def resolved_voice_calibration(self) -> Calibration | None:
        """The reference's ``"dry_voice"`` calibration, or ``None`` (module docstring).

        Only with the reference's own calibration: a ``calibration`` given to
        the detector replaces both.
        """
        if self.calibration is not None:
            return None
        cal = self._stored_calibration(DRY_VOICE)
        if cal is None:
            return None
        if cal.statistic != "dynamics" or "log_shimmer" not in cal.model.get("names", ()):
            raise VtractError(
                f"the reference's {DRY_VOICE} calibration must be a tract-dynamics model with "
                "log_shimmer"
            )
        return cal

    def _route(
        self, cal: Calibration, features: pd.DataFrame, steepest_decay_db: float | None
    ) -> tuple[Calibration, str, tuple[float, dict[str, float]] | None]:
        """The calibration that decides this recording, why (``""`` without a choice),
        and the dry-voice model's statistic and descriptors when it decides."""
        voice = self.resolved_voice_calibration()
        if voice is None:
            return cal, "", None
        not_used = "the voice-shimmer model was not used: "
        if steepest_decay_db is None or not math.isfinite(steepest_decay_db):
            return cal, not_used + "the level decay that shows a room was not measured", None
        if steepest_decay_db < DRY_DECAY_DB:
            room = (
                f"the steepest level decay {steepest_decay_db:.1f} dB is below "
                f"{DRY_DECAY_DB:g} dB (a room, which raises the shimmer of organic speech)"
            )
            return cal, not_used + room, None
        dynamics = _dynamics_statistic(voice, features)
        if not math.isfinite(dynamics[0]):
            unmeasured = (
                "its shimmer could not be measured "
                f"(fewer than {MIN_PERIODS} glottal periods, or no shimmer_local column)"
            )
            return cal, not_used + unmeasured, None
        dry = (
            f"the voice-shimmer model decided: the steepest level decay "
            f"{steepest_decay_db:.1f} dB reaches {DRY_DECAY_DB:g} dB (no room)"
        )
        return voice, dry, dynamics

    def decide(
        self,
        features: pd.DataFrame,
        flags: Iterable[Flag] = (),
        *,
        low_confidence: bool = False,
        steepest_decay_db: float | None = None,
    ) -> Decision:
        """Score one recording's features and give a verdict.

        Parameters
        ----------
        features : pandas.DataFrame
            Feature table of one recording.
        flags : iterable of Flag
            Its plausibility flags.
        low_confidence : bool
            True when the alignment was recognised without a transcript.
        steepest_decay_db : float, optional
            :func:`vtract.reverberation.steepest_decay_db` of the evidence.
            With a reference holding a ``"dry_voice"`` calibration, that
            model decides when this reaches
            :data:`~vtract.reverberation.DRY_DECAY_DB` and the shimmer is
            defined; otherwise (and when not given) the default calibration.
        """
        default, warnings = self.resolved_calibration()
        cal, route, dynamics = self._route(default, features, steepest_decay_db)
        if cal is not default:
            warnings = cal.warnings
        stat, big, descriptors = self._evaluate(cal, features, flags, dynamics)
        n = distinct_boundaries(big)  # occurrences, for the minimums and the reason
        bigram_cal = cal if cal.statistic == "deviation" else PRIOR_CALIBRATION
        counted = big["flag_share"] if bigram_cal.flags_in_statistic else 0.0
        per_bigram = (
            bigram_cal.score(combine(big["deviation"], counted, bigram_cal.flag_baseline))
            if len(big)
            else np.empty(0)
        )
        big = big.assign(score=np.atleast_1d(per_bigram))
        weight_sum = float(big["weight"].sum()) if len(big) else 0.0
        thresholds = {
            "score_synthetic_above": 0.5,
            "threshold": cal.threshold,
            "slope": cal.slope,
            "target_fpr": cal.target_fpr,
            "fpr_bound": float(cal.metrics.get("fpr_bound") or math.nan),
            # set when the guarantee counts speakers (threshold_at_fpr's groups)
            **(
                {"fpr_bound_speakers": float(cal.metrics["n_speakers"])}
                if "n_speakers" in cal.metrics
                else {}
            ),
            "flag_baseline": cal.flag_baseline,
            "min_bigrams": float(self.min_bigrams),
            "min_bigrams_low_confidence": float(self.min_bigrams_low_confidence),
            "min_reference_weight": float(self.min_reference_weight),
            "low_confidence_margin": LOW_CONFIDENCE_MARGIN,
        }
        if route:
            thresholds["dry_decay_db"] = DRY_DECAY_DB
        ranges = cal.model.get("info", {}).get("organic_quantiles", {})

        def decision(verdict: str, score: float | None, reason: str) -> Decision:
            return Decision(
                verdict,
                score,
                stat,
                reason,
                big,
                thresholds,
                warnings,
                descriptors,
                {k: list(v) for k, v in ranges.items()},
            )

        reason = _inconclusive_reason(n, weight_sum, big, low_confidence, self)
        if reason is None and not math.isfinite(stat):
            undefined = [k for k, v in descriptors.items() if not math.isfinite(v)]
            why = (
                ["too few windows per bigram occurrence"]
                if set(undefined) - {"log_shimmer"}
                else []
            )
            if "log_shimmer" in undefined:
                why.append(
                    f"log_shimmer: fewer than {MIN_PERIODS} glottal periods found, or a "
                    "feature table without shimmer_local"
                )
            reason = (
                f"the recording descriptor(s) {', '.join(undefined) or 'statistic'} could not "
                f"be computed ({'; '.join(why) or 'undefined statistic'})"
            )
        if reason is not None:
            return decision("inconclusive", None, reason)
        score = float(cal.score(stat))
        if low_confidence and abs(score - 0.5) < LOW_CONFIDENCE_MARGIN:
            return decision(
                "inconclusive",
                None,
                f"phones were recognised without a transcript (low confidence) and the score "
                f"{score:.2f} is within {LOW_CONFIDENCE_MARGIN:g} of the decision point 0.5; "
                "recognition errors move the score that much",
            )
        verdict = "synthetic" if score >= 0.5 else "organic"
        # ranked by the deviation from the reference, as the report's figures of the most
        # deviant bigrams are (until session 31 by the score, which adds the anatomical
        # flags: the reason and the figures named different bigrams)
        worst = (
            big.sort_values("deviation", ascending=False, kind="stable").head(3)["bigram"].tolist()
        )
        side = "at or above" if verdict == "synthetic" else "below"
        if cal.statistic == "dynamics":
            kind = str(cal.model.get("kind", ""))
            values = ", ".join(f"{k} {v:.3g}" for k, v in descriptors.items())
            what = (
                "tract dynamics and voice shimmer"
                if "log_shimmer" in descriptors
                else "tract dynamics"
            )
            reason = (
                f"statistic of the {what} {stat:.3f} ({kind} model; {values}) is {side} the "
                f"threshold {cal.threshold:.3f} ({cal.method}); {n} bigram occurrences, most "
                f"atypical against the organic reference: {', '.join(worst)}"
            )
            if route:
                reason += f"; {route}"
        else:
            left_out = (
                "" if cal.flags_in_statistic else " (plausibility flags left out, as calibrated)"
            )
            reason = (
                f"statistic {stat:.3f}{left_out} is {side} the threshold {cal.threshold:.3f} "
                f"({cal.method}); {n} bigram occurrences, most deviant: {', '.join(worst)}"
            )
        return decision(verdict, score, reason)


def _dynamics_statistic(cal: Calibration, features: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """The descriptor model's statistic of one recording (``nan`` if a descriptor is undefined)."""
    model = DescriptorModel.from_dict(cal.model)
    desc = recording_descriptors(features.drop(columns=["file"], errors="ignore"))
    values = {n: float(desc[n].iloc[0]) if len(desc) else math.nan for n in model.names}
    return float(model.statistic(values)[0]), values


def _inconclusive_reason(
    n: int, weight_sum: float, big: pd.DataFrame, low_confidence: bool, det: DefaultDetector
) -> str | None:
    if n == 0:
        return "no usable bigram (the feature table holds no bigram window with a tract estimate)"
    if n < det.min_bigrams:
        return f"only {n} usable bigram occurrence(s); at least {det.min_bigrams} are needed for a verdict"
    if low_confidence and n < det.min_bigrams_low_confidence:
        return (
            f"phones were recognised without a transcript (low confidence) and only {n} bigram "
            f"occurrences were found; at least {det.min_bigrams_low_confidence} are needed then"
        )
    if weight_sum < det.min_reference_weight:
        levels = big["level"].value_counts().to_dict()
        return (
            f"the reference covers too few of these bigrams specifically (level counts {levels}, "
            f"weight {weight_sum:.2f} < {det.min_reference_weight:g})"
        )
    return None


def file_statistics(
    features: pd.DataFrame,
    reference: ReferenceLike,
    flags_by_file: Mapping[str, Iterable[Flag]] | None = None,
    *,
    flag_baseline: float = 0.0,
) -> pd.DataFrame:
    """Default-detector statistic of every file in a multi-file feature table.

    Used by calibration and benchmarks.

    Returns
    -------
    pandas.DataFrame
        One row per ``file``: ``statistic`` (:func:`combine` of ``deviation``
        and ``flagged`` with ``flag_baseline``), ``deviation``, ``flagged``,
        ``n_bigrams`` (occurrences by distinct boundary, as the detector's
        minimum counts them: :func:`~vtract.detect.deviation.distinct_boundaries`),
        ``weight_sum``
        and, when present in ``features``, ``label`` and ``speaker``.
    """
    if "file" not in features.columns:
        raise VtractError("feature table needs a 'file' column to score several files")
    # deviations of all files at once (bigram_deviations keeps 'file' in its keys)
    big = bigram_deviations(row_deviations(features, reference))
    flags_by_file = flags_by_file or {}
    out = []
    for fname, grp in big.groupby("file", sort=True):
        share, _, rec_level = _flag_shares(grp, flags_by_file.get(str(fname), ()))
        dev, flagged = _components(grp, share, rec_level)
        out.append(
            {
                "file": fname,
                "statistic": combine(dev, flagged, flag_baseline),
                "deviation": dev,
                "flagged": flagged,
                "n_bigrams": distinct_boundaries(grp),
                "weight_sum": float(grp["weight"].sum()),
            }
        )
    res = pd.DataFrame(
        out, columns=["file", "statistic", "deviation", "flagged", "n_bigrams", "weight_sum"]
    )
    for extra in ("label", "speaker"):
        if extra in features.columns:
            first = features.groupby("file", sort=True)[extra].first()
            res[extra] = res["file"].map(first)
    return res
