"""The published detector of Blue et al. (USENIX Security 2022), reproduced.

What the paper describes
------------------------
1. *Organic ranges*: for every (bigram, section) the minimum and maximum
   cross-sectional area seen in organic speech.
2. *Ideal features*: a (bigram, section) whose area, thresholded on one side,
   separates labelled deepfakes from organic speech with precision and recall
   both >= 0.9.
3. *Sentence verdict*: the share of a sentence's ideal-feature values voting
   "deepfake" (>= 0.5 means deepfake); without labelled fakes (no ideal
   features), the share of its values falling outside the organic ranges.

What the authors' code does (``find_ideal_features``-style script of the
USENIX revision, reproduced here; where it differs from the text, the code is
followed and the difference is listed)
------------------------------------------------------------------------------
- Ranges: ``min``/``max`` of the areas of every (bigram, section) over all
  organic windows (all windows of every occurrence, not one per occurrence).
- Ideal-feature search: 25 evenly spaced thresholds from the organic ``min``
  to ``max`` (``numpy.linspace(min, max, 25)``), in increasing order; a window
  is predicted fake when its area is **greater than** the threshold (the
  "one side" is always the upper side: a feature whose fakes are *smaller*
  than organic speech can never be ideal; the text does not say this). The
  first threshold reaching precision >= 0.9 and recall >= 0.9 on the labelled
  windows (organic + fakes) of that (bigram, section) makes it ideal.
  Precision and recall are computed per *window*, not per occurrence or
  sentence; a (bigram, section) with no fake windows has recall 0 (never
  ideal). Thresholds are only searched inside the organic range.
- Ideal voting: every window x ideal-section value of the sentence votes
  (``area > threshold``); the sentence is a deepfake when the mean vote is
  ``>= 0.5``. A sentence with no ideal-feature value gets no prediction at
  all (the code drops it in a merge); here it is ``"inconclusive"``.
- Range rule: the code computes three shares per sentence -- values above
  ``max``, values below ``min``, values outside either -- over *all* values
  of the sentence, including values of bigrams absent from the organic
  ranges (they count as inside, diluting the share), and calls a sentence
  fake when a share is strictly greater than a sentence threshold found by
  sweeping thresholds on labelled fakes (``linspace(0.004, 0.2, 100)`` for
  above-max, ``linspace(0.039, 0.2, 100)`` for below-min and
  ``linspace(0.2, 0, 100)`` for either, first value reaching precision and
  recall >= 0.9). A bug in the code stores the "either" threshold in the
  variable of the "min" threshold, so the "either" rule is applied with the
  threshold ``-1`` (every sentence is called fake) and the "min" rule with
  the "either" threshold. vtract implements the "either" rule (the one the
  text describes) with its own threshold and does not reproduce the bug;
  dilution by unseen bigrams is reproduced.
- Without labelled fakes the published code has no sentence threshold;
  vtract uses :data:`DEFAULT_SENTENCE_THRESHOLD` (a vtract choice, not a
  published value), overridable.

The detector's score is the published statistic itself (vote share or
outside-range share), not a calibrated probability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReferenceError_, VtractError
from ..json_values import is_finite_number
from .calibration import CalibrationError
from .decision import Decision
from .default import MIN_BIGRAMS, MIN_BIGRAMS_LOW_CONFIDENCE
from .deviation import FEATURE_COLUMNS, ReferenceLike, bigram_deviations, distinct_boundaries

__all__ = [
    "DEFAULT_SENTENCE_THRESHOLD",
    "IDEAL_PRECISION",
    "IDEAL_RECALL",
    "N_THRESHOLDS",
    "VOTE_THRESHOLD",
    "PaperDetector",
    "ideal_features",
    "organic_ranges",
    "outside_share_threshold",
    "reference_ranges",
    "stored_paper_calibration",
]

#: Thresholds tried per (bigram, section) between the organic min and max.
N_THRESHOLDS = 25
#: Precision and recall an ideal feature must reach (both, on windows).
IDEAL_PRECISION = 0.9
IDEAL_RECALL = 0.9
#: Share of ideal-feature votes at or above which a sentence is a deepfake.
VOTE_THRESHOLD = 0.5
#: Share of values outside organic ranges above which a sentence is a deepfake
#: when no labelled fakes gave a threshold (vtract choice, not published).
DEFAULT_SENTENCE_THRESHOLD = 0.05
#: Sentence thresholds swept (in this order) for the range rule, as published.
SENTENCE_SWEEP = np.linspace(0.2, 0.0, 100)

_KEY = ["bigram", "n_sections", "section"]


def _check(features: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise VtractError(f"{what} must be a pandas DataFrame, got {type(features).__name__}")
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise VtractError(f"{what} lacks column(s) {missing}")
    return features


def organic_ranges(organic: pd.DataFrame) -> pd.DataFrame:
    """Per (bigram, section) organic ``min`` and ``max`` area (published step 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``bigram``, ``n_sections``, ``section``, ``min``, ``max``, ``count``.
    """
    _check(organic, "organic features")
    g = organic.groupby(_KEY, sort=True)["area_cm2"]
    return g.agg(["min", "max", "count"]).reset_index()


def _precision_recall(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    precision = tp / (tp + fp) if tp + fp else 0.0  # scikit-learn's zero_division default
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def ideal_features(
    organic: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    ranges: pd.DataFrame | None = None,
    n_thresholds: int = N_THRESHOLDS,
    min_precision: float = IDEAL_PRECISION,
    min_recall: float = IDEAL_RECALL,
) -> pd.DataFrame:
    """Find the ideal features (published step 2).

    Parameters
    ----------
    organic, synthetic : pandas.DataFrame
        Feature tables of labelled organic and fake speech.
    ranges : pandas.DataFrame, optional
        Organic ranges; computed from ``organic`` by default.
    n_thresholds : int
        Thresholds tried between the organic min and max (published: 25).
    min_precision, min_recall : float
        Required window-level precision and recall (published: 0.9 each).

    Returns
    -------
    pandas.DataFrame
        One row per ideal (bigram, section): ``bigram``, ``section``,
        ``threshold``, ``precision``, ``recall``, ``min``, ``max``.
    """
    _check(synthetic, "synthetic features")
    if ranges is None:
        ranges = organic_ranges(organic)
    both = pd.concat(
        [
            organic[[*_KEY, "area_cm2"]].assign(_fake=False),
            synthetic[[*_KEY, "area_cm2"]].assign(_fake=True),
        ],
        ignore_index=True,
    )
    groups = {k: g for k, g in both.groupby(_KEY, sort=False)}
    out = []
    for r in ranges.itertuples(index=False):
        grp = groups.get((r.bigram, r.n_sections, r.section))
        if grp is None:
            continue
        y = grp["_fake"].to_numpy(bool)
        if not y.any():
            continue
        x = grp["area_cm2"].to_numpy(np.float64)
        for t in np.linspace(r.min, r.max, n_thresholds):
            p, rec = _precision_recall(y, x > t)
            if p >= min_precision and rec >= min_recall:
                out.append(
                    {
                        "bigram": r.bigram,
                        "n_sections": int(r.n_sections),
                        "section": int(r.section),
                        "threshold": float(t),
                        "precision": p,
                        "recall": rec,
                        "min": float(r.min),
                        "max": float(r.max),
                    }
                )
                break
    return pd.DataFrame(
        out,
        columns=[
            "bigram",
            "n_sections",
            "section",
            "threshold",
            "precision",
            "recall",
            "min",
            "max",
        ],
    )


def _outside(features: pd.DataFrame, ranges: pd.DataFrame) -> pd.DataFrame:
    """Rows with ``in_ranges`` (bigram known) and ``outside`` (either side)."""
    m = features.merge(ranges[[*_KEY, "min", "max"]], on=_KEY, how="left")
    a = m["area_cm2"].to_numpy(np.float64)
    lo = m["min"].to_numpy(np.float64)
    hi = m["max"].to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        outside = (a < lo) | (a > hi)  # NaN ranges (unseen bigram) compare False, as published
    return m.assign(in_ranges=np.isfinite(lo), outside=outside)


def _sentence_shares(features: pd.DataFrame, ranges: pd.DataFrame) -> pd.Series:
    if "file" not in features.columns:
        raise VtractError("labelled feature tables need a 'file' column (one sentence per file)")
    return _outside(features, ranges).groupby("file")["outside"].mean()


def outside_share_threshold(
    organic: pd.DataFrame,
    synthetic: pd.DataFrame,
    ranges: pd.DataFrame,
    *,
    min_precision: float = IDEAL_PRECISION,
    min_recall: float = IDEAL_RECALL,
) -> float | None:
    """Sentence threshold of the range rule, swept as published (``None`` if none works)."""
    s_org = _sentence_shares(organic, ranges)
    s_syn = _sentence_shares(synthetic, ranges)
    share = np.r_[s_org.to_numpy(np.float64), s_syn.to_numpy(np.float64)]
    y = np.r_[np.zeros(len(s_org), bool), np.ones(len(s_syn), bool)]
    for t in SENTENCE_SWEEP:
        p, r = _precision_recall(y, share > t)
        if p >= min_precision and r >= min_recall:
            return float(t)
    return None


def reference_ranges(reference: ReferenceLike, features: pd.DataFrame) -> pd.DataFrame:
    """Organic ``min``/``max`` per (bigram, section) from a Reference, bigram level only.

    Bigrams the reference holds only at a backed-off level are left out
    (unseen, as in the published code).
    """
    parts = []
    for bigram, n_sec in (
        features[["bigram", "n_sections"]].drop_duplicates().itertuples(index=False)
    ):
        try:
            # the published ranges: every bigram seen at all, however rarely
            stats, level = reference.lookup(  # type: ignore[call-arg]
                str(bigram), int(n_sec), levels=("bigram",), min_count=1
            )
        except ReferenceError_:
            continue  # not in the reference at bigram level: unseen
        if level != "bigram":
            continue
        cols = {str(c).lower(): c for c in stats.columns}
        if "min" not in cols or "max" not in cols:
            raise VtractError(f"reference statistics for {bigram!r} lack min/max")
        parts.append(
            pd.DataFrame(
                {
                    "bigram": str(bigram),
                    "n_sections": int(n_sec),
                    "section": np.asarray(stats.index, dtype=np.int64),
                    "min": stats[cols["min"]].to_numpy(np.float64),
                    "max": stats[cols["max"]].to_numpy(np.float64),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[*_KEY, "min", "max"])
    return pd.concat(parts, ignore_index=True)


def stored_paper_calibration(record: Any) -> tuple[pd.DataFrame, float]:
    """The ideal features and sentence threshold of a stored ``"paper"`` calibration.

    Parameters
    ----------
    record : mapping
        ``Reference.calibration["paper"]`` (:meth:`PaperDetector.to_dict`):
        ``ideal`` (records of ``bigram``, ``n_sections``, ``section``,
        ``threshold``), ``sentence_threshold`` (a share in [0, 1]) and, since
        session 31, ``fitted_with_fakes`` (a bool, checked here and read by
        :meth:`PaperDetector.from_reference`).

    Returns
    -------
    ideal : pandas.DataFrame
        Columns ``bigram, n_sections, section, threshold``.
    sentence_threshold : float

    Raises
    ------
    CalibrationError
        A field missing or of the wrong type, naming it.
    """
    where = "calibration.paper"
    if not isinstance(record, Mapping):
        raise CalibrationError(f"{where} is {type(record).__name__}, expected an object")
    thr = record.get("sentence_threshold", DEFAULT_SENTENCE_THRESHOLD)
    if not (is_finite_number(thr) and 0.0 <= thr <= 1.0):
        raise CalibrationError(
            f"{where}.sentence_threshold is {thr!r}, expected a share between 0 and 1"
        )
    fitted = record.get("fitted_with_fakes", None)
    if fitted is not None and not isinstance(fitted, bool):
        raise CalibrationError(f"{where}.fitted_with_fakes is {fitted!r}, expected true or false")
    ideal = record.get("ideal", [])
    if not isinstance(ideal, list):
        raise CalibrationError(f"{where}.ideal is {type(ideal).__name__}, expected a list")
    rows = []
    for i, item in enumerate(ideal):
        field_ok = isinstance(item, Mapping) and (
            isinstance(item.get("bigram"), str)
            and len(str(item["bigram"]).split("-")) == 2
            and all(_is_count(item.get(k)) for k in ("n_sections", "section"))
            and is_finite_number(item.get("threshold"))
        )
        if not field_ok:
            raise CalibrationError(
                f"{where}.ideal[{i}] is {item!r}, expected a bigram ('AH-N'), integer "
                "n_sections and section, and a finite threshold"
            )
        rows.append({k: item[k] for k in (*_KEY, "threshold")})
    frame = pd.DataFrame(rows, columns=[*_KEY, "threshold"]).astype(
        {"bigram": str, "n_sections": "int64", "section": "int64", "threshold": "float64"}
    )
    return frame, float(thr)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass
class PaperDetector:
    """The published detector (see the module notes for code-vs-text details).

    Attributes
    ----------
    ranges : pandas.DataFrame or None
        Organic ``min``/``max`` per (bigram, section); ``None`` to look them
        up in :attr:`reference` (bigram level only; backed-off statistics are
        not published and count as unseen).
    ideal : pandas.DataFrame
        Ideal features (empty without labelled fakes).
    sentence_threshold : float
        Range-rule threshold on the outside-range share.
    reference : Reference, optional
        Source of ranges when :attr:`ranges` is ``None``.
    fitted_with_fakes : bool
        Whether labelled fakes were used (then the ideal-vote rule applies).
    notes : list of str
        What the fit could not do as published (copied into every decision's warnings).
    calibrated : bool
        False when the range rule's :attr:`sentence_threshold` is
        :data:`DEFAULT_SENTENCE_THRESHOLD` because nothing set it (no labelled
        fakes, no stored ``"paper"`` calibration, no value given): decisions
        then warn that the threshold is a vtract choice, not a published or
        calibrated value.
    min_bigrams, min_bigrams_low_confidence : int
        Evidence minimums for a verdict, as the default detector's
        (:data:`vtract.detect.default.MIN_BIGRAMS`,
        :data:`~vtract.detect.default.MIN_BIGRAMS_LOW_CONFIDENCE`); the range
        rule also needs ``min_bigrams`` occurrences whose bigram has organic
        ranges (:meth:`decide`).
    """

    ranges: pd.DataFrame | None = None
    ideal: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*_KEY, "threshold"]))
    sentence_threshold: float = DEFAULT_SENTENCE_THRESHOLD
    reference: ReferenceLike | None = None
    fitted_with_fakes: bool = False
    notes: list[str] = field(default_factory=list)
    calibrated: bool = True
    min_bigrams: int = MIN_BIGRAMS
    min_bigrams_low_confidence: int = MIN_BIGRAMS_LOW_CONFIDENCE

    @classmethod
    def fit(
        cls,
        organic: pd.DataFrame,
        synthetic: pd.DataFrame | None = None,
        *,
        sentence_threshold: float | None = None,
        ranges: pd.DataFrame | None = None,
    ) -> PaperDetector:
        """Fit organic ranges and, with labelled fakes, ideal features.

        Parameters
        ----------
        organic : pandas.DataFrame
            Feature table of organic speech.
        synthetic : pandas.DataFrame, optional
            Feature table of labelled fakes. Required for ideal features.
        sentence_threshold : float, optional
            Range-rule threshold; swept on the labelled data as published when
            fakes are given, else :data:`DEFAULT_SENTENCE_THRESHOLD`.
        ranges : pandas.DataFrame, optional
            Organic ranges to use (e.g. a Reference's, see
            :meth:`reference_ranges`); by default those of ``organic``.
        """
        _check(organic, "organic features")
        if organic.empty:
            raise VtractError("the paper detector needs organic features; got an empty table")
        ranges = organic_ranges(organic) if ranges is None else ranges
        notes: list[str] = []
        if synthetic is None or synthetic.empty:
            thr = (
                DEFAULT_SENTENCE_THRESHOLD
                if sentence_threshold is None
                else float(sentence_threshold)
            )
            return cls(
                ranges=ranges,
                sentence_threshold=thr,
                fitted_with_fakes=False,
                notes=notes,
                calibrated=sentence_threshold is not None,
            )
        ideal = ideal_features(organic, synthetic, ranges=ranges)
        if sentence_threshold is None:
            found = outside_share_threshold(organic, synthetic, ranges)
            if found is None:
                notes.append(
                    "no sentence threshold reached precision and recall >= 0.9 on the labelled "
                    f"data; the range rule uses {DEFAULT_SENTENCE_THRESHOLD}"
                )
                found = DEFAULT_SENTENCE_THRESHOLD
            sentence_threshold = found
        return cls(
            ranges=ranges,
            ideal=ideal,
            sentence_threshold=float(sentence_threshold),
            fitted_with_fakes=True,
            notes=notes,
        )

    @classmethod
    def from_reference(cls, reference: ReferenceLike) -> PaperDetector:
        """Detector using a Reference's ranges and any paper thresholds stored in it.

        ``reference.calibration["paper"]`` (written by ``vtract calibrate``)
        may hold ``ideal`` (records of bigram, section, threshold) and
        ``sentence_threshold``.
        """
        stored = getattr(reference, "calibration", None) or {}
        record = stored.get("paper") if isinstance(stored, Mapping) else None
        if record is None:
            return cls(ranges=None, reference=reference, calibrated=False)
        ideal, sentence_threshold = stored_paper_calibration(record)
        # a record written before session 31 does not say whether fakes were given; a
        # calibration with fakes that found no ideal feature then reads as one without
        fitted = record.get("fitted_with_fakes")
        return cls(
            ranges=None,
            ideal=ideal,
            sentence_threshold=sentence_threshold,
            reference=reference,
            fitted_with_fakes=bool(len(ideal)) if fitted is None else bool(fitted),
            calibrated="sentence_threshold" in record,
        )

    def to_dict(self) -> dict[str, Any]:
        """Thresholds to store in a Reference (``Reference.calibration["paper"]``)."""
        return {
            "ideal": [
                {
                    "bigram": str(r.bigram),
                    "n_sections": int(r.n_sections),
                    "section": int(r.section),
                    "threshold": float(r.threshold),
                }
                for r in self.ideal.itertuples(index=False)
            ],
            "sentence_threshold": float(self.sentence_threshold),
            "vote_threshold": VOTE_THRESHOLD,
            "fitted_with_fakes": bool(self.fitted_with_fakes),
        }

    def _ranges_for(self, features: pd.DataFrame) -> pd.DataFrame:
        if self.ranges is not None:
            return self.ranges
        if self.reference is None:
            raise VtractError("paper detector has neither fitted ranges nor a reference")
        return reference_ranges(self.reference, features)

    def statistic(self, features: pd.DataFrame) -> tuple[float, str]:
        """Sentence statistic and the rule used (``"ideal-vote"`` or ``"organic-range"``)."""
        _check(features, "features")
        if self.fitted_with_fakes:
            votes = features.merge(self.ideal[[*_KEY, "threshold"]], on=_KEY, how="inner")
            if votes.empty:
                return math.nan, "ideal-vote"
            return float(
                np.mean(votes["area_cm2"].to_numpy() > votes["threshold"].to_numpy())
            ), "ideal-vote"
        rows = _outside(features, self._ranges_for(features))
        return (float(rows["outside"].mean()) if len(rows) else math.nan), "organic-range"

    def decide(self, features: pd.DataFrame, *, low_confidence: bool = False) -> Decision:
        """Published sentence verdict for one recording's features.

        ``"inconclusive"`` (score ``None``, with the reason) when the
        evidence is too thin, as with the default detector: no bigram
        window; fewer than :attr:`min_bigrams` bigram occurrences (fewer
        than :attr:`min_bigrams_low_confidence` with ``low_confidence``);
        for the range rule, fewer than :attr:`min_bigrams` occurrences
        whose bigram has organic ranges (an unseen bigram's values count as
        inside, as published, so they cannot show anything); for the
        ideal-vote rule, no ideal-feature value. The default detector's
        low-confidence score margin does not apply: this score is the
        published share, not a calibrated score around 0.5.
        """
        _check(features, "features")
        stat, rule = self.statistic(features)
        ranges = self._ranges_for(features)
        rows = (
            _outside(features, ranges)
            if len(features)
            else features.assign(outside=False, in_ranges=False)
        )
        big = self._occurrences(rows)
        # the score is the published share itself, so its threshold is on the score scale
        thresholds = (
            {"vote_threshold": VOTE_THRESHOLD, "score_synthetic_above": VOTE_THRESHOLD}
            if rule == "ideal-vote"
            else {
                "sentence_threshold": float(self.sentence_threshold),
                "score_synthetic_above": float(self.sentence_threshold),
            }
        )
        thresholds.update(
            min_bigrams=float(self.min_bigrams),
            min_bigrams_low_confidence=float(self.min_bigrams_low_confidence),
        )
        warnings = list(self.notes)
        if low_confidence:
            warnings.append(
                "paper detector on recognised (low-confidence) phones: the published "
                "method assumes correct transcripts"
            )
        if rule == "organic-range" and not self.calibrated:
            warnings.append(
                f"the paper detector's range-rule threshold ({self.sentence_threshold:.0%} of "
                "area values outside the organic ranges) is a vtract choice, not a published or "
                "calibrated value: its false-positive rate is unknown (`vtract calibrate` with "
                "labelled fakes fits the published rules)"
            )

        def inconclusive(reason: str) -> Decision:
            return Decision("inconclusive", None, stat, reason, big, thresholds, warnings)

        n = distinct_boundaries(big)  # occurrences, as the default detector counts them
        if len(features) == 0 or n == 0:
            return inconclusive("no usable bigram windows")
        if n < self.min_bigrams:
            return inconclusive(
                f"only {n} usable bigram occurrence(s); at least {self.min_bigrams} are needed "
                "for a verdict"
            )
        if low_confidence and n < self.min_bigrams_low_confidence:
            return inconclusive(
                f"phones were recognised without a transcript (low confidence) and only {n} "
                f"bigram occurrences were found; at least {self.min_bigrams_low_confidence} "
                "are needed then"
            )
        if not math.isfinite(stat):
            return inconclusive(
                "none of the ideal features (bigram, section) occurs in this recording; the "
                "published detector gives no prediction"
            )
        if rule == "ideal-vote":
            fake = stat >= VOTE_THRESHOLD
            reason = (
                f"{stat:.1%} of ideal-feature values vote deepfake (threshold {VOTE_THRESHOLD:.0%})"
            )
        else:
            seen = distinct_boundaries(big[big["level"] == "bigram"])
            if seen < self.min_bigrams:
                return inconclusive(
                    f"only {seen} of the {n} bigram occurrences have organic ranges in the "
                    f"reference (at bigram level); at least {self.min_bigrams} are needed for a "
                    "verdict: the values of unseen bigrams count as inside the ranges (as "
                    "published), so they cannot show a deepfake"
                )
            fake = stat > self.sentence_threshold
            reason = (
                f"{stat:.1%} of area values fall outside the organic ranges "
                f"(threshold {self.sentence_threshold:.1%}; {seen} of {n} bigram occurrences "
                "have organic ranges, the others count as inside)"
            )
        return Decision(
            "synthetic" if fake else "organic", stat, stat, reason, big, thresholds, warnings
        )

    def _occurrences(self, rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return bigram_deviations(rows)
        seen = rows["in_ranges"].to_numpy(bool)
        r = rows.assign(
            z=rows["outside"].astype(float),
            exceed=rows["outside"].to_numpy(bool),
            level=np.where(seen, "bigram", "unseen"),
            weight=seen.astype(float),
        )
        big = bigram_deviations(r)
        if self.fitted_with_fakes and len(self.ideal):
            votes = rows.merge(self.ideal[[*_KEY, "threshold"]], on=_KEY, how="inner")
            votes = votes.assign(v=votes["area_cm2"] > votes["threshold"])
            share = votes.groupby(["bigram", "boundary_s"])["v"].mean()
            big["score"] = [
                float(share.get((b, t), 0.0)) for b, t in zip(big["bigram"], big["boundary_s"])
            ]
        else:
            big["score"] = big["deviation"]
        big["flags"] = [[] for _ in range(len(big))]
        return big
