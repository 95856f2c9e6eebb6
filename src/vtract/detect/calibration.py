"""Calibration: ROC analysis, equal error rate and thresholds at a chosen FPR.

Conventions used throughout :mod:`vtract.detect`:

- a *statistic* is a real number per recording, larger = more likely synthetic;
- ``labels`` are booleans, ``True`` = synthetic (the positive class);
- a recording is called synthetic when ``statistic >= threshold``.

:class:`Calibration` maps a statistic to a score in [0, 1] with a logistic
curve whose midpoint (score 0.5) is the decision threshold, so the verdict
"synthetic" is exactly "score >= 0.5". The threshold is set from organic
recordings alone (the conformal ``target_fpr`` quantile, so that a new
organic recording reaches it with probability at most ``target_fpr``), the slope from labelled
synthetic recordings when there are any (maximum likelihood with the midpoint
held fixed) and otherwise from the spread of the organic statistics. Labelled
fakes therefore refine the calibration but are never required.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import VtractError
from ..json_values import finite_or_null

__all__ = [
    "Calibration",
    "CalibrationError",
    "binomial_interval",
    "calibrate",
    "equal_error_rate",
    "fpr_bound",
    "grouped_fpr_bound",
    "precision_recall_at",
    "roc_auc",
    "roc_curve",
    "threshold_at_fpr",
]

#: Score given to the median organic statistic when no synthetic data fixes the slope.
ORGANIC_MEDIAN_SCORE = 0.05


class CalibrationError(VtractError):
    """Calibration data are missing, degenerate or malformed."""


def _as_scores(values: Any, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size and not np.all(np.isfinite(x)):
        raise CalibrationError(f"{name} contains NaN or infinite values; expected finite numbers")
    return x


def _as_labels(labels: Any, scores: np.ndarray, *, both_classes: bool = True) -> np.ndarray:
    """Boolean labels (True = synthetic) from booleans or 0/1, one per score.

    Strings ("organic", "synthetic") and other numbers are refused: cast to
    bool they would all be True.
    """
    y = np.asarray(labels).ravel()
    if y.shape != scores.shape:
        raise CalibrationError(
            f"labels have {y.size} entries but scores have {scores.size}; expected one label per score"
        )
    if y.dtype != bool:
        uniq = set(np.unique(y).tolist())
        if not uniq <= {0, 1}:
            raise CalibrationError(
                f"labels must be booleans or 0/1 (True = synthetic), got {sorted(uniq)!r}"
            )
        y = y.astype(bool)
    if both_classes and (y.all() or not y.any()):
        raise CalibrationError(
            "ROC analysis needs both classes; got "
            f"{int(y.sum())} synthetic and {int((~y).sum())} organic recordings"
        )
    return y


def roc_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic of a statistic.

    Parameters
    ----------
    labels : array_like of bool
        ``True`` for synthetic (positive) recordings.
    scores : array_like of float
        Statistic per recording, larger = more likely synthetic.

    Returns
    -------
    fpr, tpr : numpy.ndarray
        False- and true-positive rates, starting at (0, 0) and ending at (1, 1).
    thresholds : numpy.ndarray
        Decision thresholds (``score >= threshold`` is positive), decreasing;
        the first is ``+inf``.

    Notes
    -----
    Tied scores form a single ROC point (the curve then has a diagonal
    segment), as in scikit-learn's ``roc_curve`` without dropping points.
    """
    s = _as_scores(scores, "scores")
    y = _as_labels(labels, s)
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order]
    # last index of each run of equal scores
    distinct = np.nonzero(np.diff(s_sorted))[0]
    ends = np.r_[distinct, s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[ends]
    fps = (ends + 1) - tps
    tpr = np.r_[0.0, tps / y.sum()]
    fpr = np.r_[0.0, fps / (~y).sum()]
    thresholds = np.r_[np.inf, s_sorted[ends]]
    return fpr, tpr, thresholds


def roc_auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve (trapezoidal; ties count one half).

    Equals the probability that a random synthetic recording has a larger
    statistic than a random organic one (Mann-Whitney U / (n_pos n_neg)).
    """
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def equal_error_rate(labels: Any, scores: Any) -> tuple[float, float]:
    """Equal error rate and the threshold where it is reached.

    The EER is where the false-positive rate equals the false-negative rate
    (1 - TPR). Between two ROC points the curve is interpolated linearly, and
    the threshold is interpolated between the two points' thresholds (the
    first point's ``+inf`` is replaced by the largest score).

    Returns
    -------
    eer : float
        Equal error rate in [0, 1].
    threshold : float
        Statistic at which it is reached.
    """
    fpr, tpr, thr = roc_curve(labels, scores)
    thr = thr.copy()
    thr[0] = thr[1]
    fnr = 1.0 - tpr
    diff = fpr - fnr  # increasing from -1 to +1
    k = int(np.nonzero(diff >= 0)[0][0])
    if diff[k] == 0 or k == 0:
        return float(fpr[k]), float(thr[k])
    # crossing between k-1 (diff < 0) and k (diff > 0)
    w = -diff[k - 1] / (diff[k] - diff[k - 1])
    eer = fpr[k - 1] + w * (fpr[k] - fpr[k - 1])
    threshold = thr[k - 1] + w * (thr[k] - thr[k - 1])
    return float(eer), float(threshold)


def threshold_at_fpr(
    organic_scores: Any, fpr: float, *, rule: str = "conformal", groups: Any | None = None
) -> float:
    """Threshold that keeps the false-positive rate at or below ``fpr``.

    The ``n`` organic statistics are sorted in decreasing order and the
    threshold is placed half-way between the ``k``-th and ``(k+1)``-th
    largest (just above the largest one when ``k = 0``), so the ``k``
    largest are called synthetic (fewer when they tie). ``rule`` sets ``k``:

    - ``"conformal"`` (default): ``k = floor(fpr (n + 1)) - 1``. If a new
      organic recording is exchangeable with the ``n`` calibration
      recordings, the probability that it reaches the threshold is at most
      ``(k + 1) / (n + 1) <= fpr`` (the split-conformal bound; Vovk et al.
      2005, Lei et al. 2018). When ``fpr (n + 1) < 1`` no threshold can give
      that guarantee: it is placed above the largest statistic and the bound
      is ``1 / (n + 1)``; see :func:`fpr_bound`.
    - ``"empirical"``: ``k = floor(fpr n)``, the rate on the calibration
      statistics themselves. A new recording reaches that threshold with a
      probability between ``k / (n + 1)`` and ``(k + 1) / (n + 1)``, which
      can exceed ``fpr`` (0.9-1.4 % for ``fpr = 0.01`` and ``n = 216``;
      1.1 % in the simulation of ``tests/test_detect_calibration.py``).

    With ``groups`` (the speaker of each statistic; conformal rule only) the
    rule counts *speakers*, not recordings: the guarantee is then for a new
    recording of a *new* speaker, when speakers are exchangeable and the
    recording is any one of its speaker's (hierarchical conformal prediction;
    Lee, Barber & Willett 2023; Dunn, Wasserman & Ramdas 2023). A speaker's
    recordings resemble each other more than other speakers', so counted per
    recording a speaker with many recordings would weigh as many speakers.
    Each of the ``K`` speakers weighs ``1 / (K + 1)``, spread evenly over its
    recordings, and the largest statistics are called synthetic as long as
    their summed weight ``W`` stays within ``fpr (K + 1) - 1``; the new
    recording then reaches the threshold with probability at most
    ``(W + 1) / (K + 1) <= fpr`` (:func:`grouped_fpr_bound`). With one
    recording per speaker this is the rule above.

    Parameters
    ----------
    organic_scores : array_like of float
        Statistics of organic recordings.
    fpr : float
        Target false-positive rate in [0, 1).
    rule : {"conformal", "empirical"}, default "conformal"
        Whether the target holds for new recordings or for these ones.
    groups : array_like, optional
        Speaker (or other group) label of every statistic, for the
        speaker-level conformal rule.

    Returns
    -------
    float
        The threshold.
    """
    s = _as_scores(organic_scores, "organic_scores")
    if s.size == 0:
        raise CalibrationError("threshold_at_fpr needs at least one organic statistic, got none")
    if groups is not None:
        if rule != "conformal":
            raise CalibrationError(f"groups need the conformal rule, got rule={rule!r}")
        return _grouped_cut(s, fpr, _as_groups(groups, s))[0]
    k = _n_above(s.size, fpr, rule)
    desc = np.sort(s)[::-1]
    if k == 0:
        top = float(desc[0])
        return float(np.nextafter(top, np.inf)) if top != 0 else float(np.finfo(float).tiny)
    hi, lo = float(desc[k - 1]), float(desc[k])
    if hi == lo:
        return float(np.nextafter(hi, np.inf))
    return (hi + lo) / 2.0


def _n_above(n: int, fpr: float, rule: str) -> int:
    """How many of ``n`` organic statistics :func:`threshold_at_fpr` puts above it."""
    if not 0.0 <= fpr < 1.0:
        raise CalibrationError(f"fpr must be in [0, 1), got {fpr!r}")
    if rule == "conformal":
        return max(math.floor(fpr * (n + 1) + 1e-9) - 1, 0)
    if rule == "empirical":
        return min(math.floor(fpr * n + 1e-9), n - 1)
    raise CalibrationError(f"rule must be 'conformal' or 'empirical', got {rule!r}")


def _as_groups(groups: Any, scores: np.ndarray) -> np.ndarray:
    """Integer group code of every statistic (validated against ``scores``)."""
    g = np.asarray(groups, dtype=object).ravel()
    if g.size != scores.size:
        raise CalibrationError(
            f"groups has {g.size} labels for {scores.size} organic statistics; give one per statistic"
        )
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in g):
        raise CalibrationError(
            "every organic statistic needs a group (speaker) label; found None/NaN"
        )
    return np.unique(g.astype(str), return_inverse=True)[1].astype(np.int64)


def _grouped_cut(s: np.ndarray, fpr: float, codes: np.ndarray) -> tuple[float, float, int]:
    """Speaker-level conformal threshold, the weight ``W`` above it and the speaker count ``K``."""
    if not 0.0 <= fpr < 1.0:
        raise CalibrationError(f"fpr must be in [0, 1), got {fpr!r}")
    counts = np.bincount(codes)
    n_groups = int(counts.size)
    allowed = fpr * (n_groups + 1) - 1.0
    order = np.argsort(-s, kind="stable")
    desc = s[order]
    above = np.r_[0.0, np.cumsum(1.0 / counts[codes[order]])]  # weight of the m largest
    fits = above <= allowed + 1e-9
    fits[0] = True  # above every statistic when even one speaker is too many
    most = int(np.flatnonzero(fits)[-1])
    # a cut after the m largest must not split tied statistics: as the recording
    # rule does, the threshold then goes just above the tied value
    cuttable = np.r_[True, desc[:-1] > desc[1:], False]
    m = int(np.flatnonzero(cuttable[: most + 1])[-1])
    if m == 0 or m < most:
        value = float(desc[m])
        thr = float(np.nextafter(value, np.inf)) if value != 0 else float(np.finfo(float).tiny)
    else:
        thr = (float(desc[m - 1]) + float(desc[m])) / 2.0
    return thr, float(above[m]), n_groups


def grouped_fpr_bound(organic_scores: Any, groups: Any, fpr: float) -> float:
    """Guaranteed false-positive rate of the speaker-level conformal threshold.

    An upper bound on the probability that a new organic recording of a new
    speaker, the speakers being exchangeable, reaches the threshold that
    :func:`threshold_at_fpr` sets with these ``groups``: ``(W + 1) / (K + 1)``,
    ``W`` the summed speaker weight of the calibration statistics above it
    (each speaker's recordings share a weight of one) and ``K`` the number of
    speakers. At most ``fpr`` whenever ``K >= 1 / fpr - 1`` (99 speakers for
    1 %), otherwise ``1 / (K + 1)``.

    Parameters
    ----------
    organic_scores : array_like of float
        Statistics of organic recordings.
    groups : array_like
        Speaker label of every statistic.
    fpr : float
        Target false-positive rate in [0, 1).

    Returns
    -------
    float
    """
    s = _as_scores(organic_scores, "organic_scores")
    if s.size == 0:
        raise CalibrationError("grouped_fpr_bound needs at least one organic statistic, got none")
    _, weight, n_groups = _grouped_cut(s, fpr, _as_groups(groups, s))
    return (weight + 1.0) / (n_groups + 1)


def fpr_bound(n_organic: int, fpr: float) -> float:
    """Guaranteed false-positive rate of the conformal threshold on new recordings.

    An upper bound on the probability that a new organic recording,
    exchangeable with the ``n_organic`` calibration recordings, reaches the
    threshold that :func:`threshold_at_fpr` sets with ``rule="conformal"``:
    ``(k + 1) / (n_organic + 1)`` with ``k`` the number of calibration
    statistics above it. It is at most ``fpr`` whenever ``n_organic >= 1 / fpr - 1``
    (99 recordings for 1 %), otherwise ``1 / (n_organic + 1)``.

    Parameters
    ----------
    n_organic : int
        Number of organic calibration statistics (>= 1).
    fpr : float
        Target false-positive rate in [0, 1).

    Returns
    -------
    float
    """
    if n_organic < 1:
        raise CalibrationError(f"fpr_bound needs at least one organic statistic, got {n_organic}")
    return (_n_above(n_organic, fpr, "conformal") + 1) / (n_organic + 1)


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a rate ``k / n``.

    A false-positive rate measured on a few hundred organic recordings is
    itself uncertain: 0 false positives in 270 recordings is compatible with
    a true rate up to 1.4 % (95 %), so a target of 1 % can only be shown on
    more than ~370 recordings. The interval is exact (never too narrow).

    Parameters
    ----------
    k : int
        Events (e.g. false positives), ``0 <= k <= n``.
    n : int
        Trials (e.g. organic recordings), ``n >= 1``.
    level : float, default 0.95
        Two-sided confidence level in (0, 1).

    Returns
    -------
    (float, float)
        Lower and upper bound; ``0`` when ``k == 0`` and ``1`` when ``k == n``.

    Raises
    ------
    CalibrationError
        Counts or level out of range.
    """
    from scipy.stats import beta

    if not (isinstance(k, (int, np.integer)) and isinstance(n, (int, np.integer))):
        raise CalibrationError(f"k and n must be integers, got {k!r} and {n!r}")
    if n < 1 or not 0 <= k <= n:
        raise CalibrationError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0.0 < level < 1.0:
        raise CalibrationError(f"level must be in (0, 1), got {level!r}")
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def precision_recall_at(labels: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Confusion counts and rates when ``score >= threshold`` is called synthetic.

    Parameters
    ----------
    labels : array_like of bool
        ``True`` (or 1) for synthetic recordings, ``False`` (or 0) for
        organic ones; anything else is refused.
    scores : array_like of float
        Statistic per recording.
    threshold : float
        Decision threshold.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``tn``, ``fn``, ``precision`` (``nan`` with no positive
        call), ``recall`` (= TPR), ``fpr``, ``accuracy``, and the exact 95 %
        intervals ``fpr_ci95`` and ``recall_ci95`` (:func:`binomial_interval`;
        ``None`` without recordings of that class).

    Raises
    ------
    CalibrationError
        Labels that are not booleans or 0/1, or not one per score.
    """
    s = _as_scores(scores, "scores")
    y = _as_labels(labels, s, both_classes=False)
    pred = s >= threshold
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    tn = int(np.sum(~pred & ~y))
    fn = int(np.sum(~pred & y))
    return {
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else math.nan,
        "recall": tp / (tp + fn) if tp + fn else math.nan,
        "fpr": fp / (fp + tn) if fp + tn else math.nan,
        "accuracy": (tp + tn) / s.size if s.size else math.nan,
        "fpr_ci95": list(binomial_interval(fp, fp + tn)) if fp + tn else None,
        "recall_ci95": list(binomial_interval(tp, tp + fn)) if tp + fn else None,
    }


def _fit_slope(stat: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """Maximum-likelihood slope ``a`` of ``sigmoid(a (s - t))`` with ``t`` fixed.

    The log-likelihood is concave in ``a``; Newton steps from a moderate start,
    bounded so perfectly separated data give a steep but finite slope.
    """
    d = stat - threshold
    spread = float(np.std(d)) or 1.0
    a_max = 50.0 / spread
    a = 1.0 / spread
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * d, -500, 500)))
        grad = float(np.sum((y - p) * d))
        hess = float(np.sum(p * (1 - p) * d * d))
        if hess <= 1e-12:
            break
        step = grad / hess
        a_new = min(max(a + step, 1e-6 / spread), a_max)
        if abs(a_new - a) <= 1e-9 * max(1.0, abs(a)):
            a = a_new
            break
        a = a_new
    return float(a)


@dataclass(frozen=True)
class Calibration:
    """Maps a detector statistic to a score in [0, 1] and a verdict.

    Attributes
    ----------
    threshold : float
        Statistic at which the score is 0.5 (``>=`` means synthetic).
    slope : float
        Logistic slope (per unit of statistic), > 0.
    target_fpr : float
        False-positive rate the threshold was set for (on organic data).
    method : str
        How the slope was set: ``"organic-spread"`` or ``"logistic-ml"``.
    metrics : dict
        Figures measured on the calibration data (n, AUC, EER, precision,
        recall and FPR at the threshold when fakes were given).
    flag_baseline : float
        Share of flagged bigrams that organic recordings reach anyway (the
        default detector counts only the flagged share above it).
    statistic : str
        Which default-detector statistic the threshold applies to:
        ``"deviation"`` (reference deviation + flags) or ``"dynamics"``
        (:mod:`vtract.detect.dynamics`).
    model : dict
        For ``"dynamics"``: the :class:`~vtract.detect.dynamics.DescriptorModel`
        as a dict.
    use_flags : bool or None
        For ``"deviation"``: whether the statistic includes the plausibility
        flags (``vtract calibrate --no-flags`` sets False). The default
        detector computes the statistic the way its threshold was set.
        ``None``: not recorded (a ``"deviation"`` calibration made before
        vtract recorded it, 28 Nov 2026); the statistic then includes the
        flags, as that vtract computed it, and every report carries
        :attr:`use_flags_warning`.
    """

    threshold: float
    slope: float
    target_fpr: float = 0.01
    method: str = "organic-spread"
    metrics: dict[str, Any] = field(default_factory=dict)
    flag_baseline: float = 0.0
    statistic: str = "deviation"
    model: dict[str, Any] = field(default_factory=dict)
    use_flags: bool | None = True

    def __post_init__(self) -> None:
        if not (isinstance(self.use_flags, bool) or self.use_flags is None):
            raise CalibrationError(f"use_flags must be true, false or null, got {self.use_flags!r}")
        if self.statistic == "dynamics" and self.use_flags is not True:
            raise CalibrationError(
                "use_flags=False is for the 'deviation' statistic; the 'dynamics' statistic "
                "has no flags to leave out"
            )
        if self.statistic not in ("deviation", "dynamics"):
            raise CalibrationError(
                f"calibration statistic must be 'deviation' or 'dynamics', got {self.statistic!r}"
            )
        if self.statistic == "dynamics" and not self.model:
            raise CalibrationError("a 'dynamics' calibration needs its descriptor model")
        if not (math.isfinite(self.threshold) and math.isfinite(self.slope) and self.slope > 0):
            raise CalibrationError(
                f"calibration needs a finite threshold and a positive slope, got "
                f"threshold={self.threshold!r}, slope={self.slope!r}"
            )

    @property
    def flags_in_statistic(self) -> bool:
        """Whether the default detector adds the plausibility flags to the statistic.

        False only for a calibration recorded as made without them
        (``use_flags`` False); an unrecorded choice (``None``) is read the way
        the vtract that made it computed the statistic: with the flags.
        """
        return self.use_flags is not False

    @property
    def use_flags_warning(self) -> str | None:
        """The warning for a ``"deviation"`` calibration that does not record ``use_flags``.

        vtract before 28 Nov 2026 did not store whether ``vtract calibrate
        --no-flags`` was used, and always added the flags in analysis. A
        threshold set without them then calls organic recordings synthetic;
        which one it was cannot be told from the file.
        """
        if self.use_flags is not None:
            return None
        return (
            "the calibration was made by an older vtract that did not record whether the "
            "plausibility flags were in its statistic; they are counted here. If it was made "
            "with 'vtract calibrate --no-flags', calibrate again: the threshold is then too low"
        )

    @property
    def warnings(self) -> list[str]:
        """What every report made with this calibration warns of.

        :attr:`target_fpr_warning` and :attr:`use_flags_warning`, those that apply.
        """
        return [w for w in (self.target_fpr_warning, self.use_flags_warning) if w]

    @property
    def keeps_target_fpr(self) -> bool:
        """False when the threshold cannot guarantee ``target_fpr`` on new recordings.

        That is when the recorded guarantee ``metrics["fpr_bound"]``
        (:func:`fpr_bound`) exceeds the target: too few organic recordings
        were calibrated on. Calibrations without a recorded guarantee (made
        before the conformal rule) or without a target count as keeping it.
        """
        bound = self.metrics.get("fpr_bound")
        if bound is None or not math.isfinite(self.target_fpr):
            return True
        return bool(bound <= self.target_fpr + 1e-12)

    @property
    def target_fpr_warning(self) -> str | None:
        """The warning every report and ``vtract calibrate`` print, or None.

        Worded once here for both: set when :attr:`keeps_target_fpr` is
        False, naming the organic count, the target and the rate the
        threshold does guarantee.
        """
        if self.keeps_target_fpr:
            return None
        n_speakers = self.metrics.get("n_speakers")
        counted = (
            f"{self.metrics.get('n_organic')} organic recordings"
            if n_speakers is None
            else f"organic recordings of {n_speakers} speakers"
        )
        return (
            f"the calibration threshold was set on {counted}, too few to keep the "
            f"false-positive rate at {self.target_fpr:.2%}: "
            f"the guaranteed rate is {self.metrics['fpr_bound']:.2%}"
        )

    def score(self, statistic: Any) -> Any:
        """Score(s) in [0, 1] for statistic value(s); 0.5 at the threshold."""
        s = np.asarray(statistic, dtype=np.float64)
        z = np.clip(self.slope * (s - self.threshold), -500.0, 500.0)
        out = 1.0 / (1.0 + np.exp(-z))
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (stored in ``Reference.calibration["default"]``).

        Undefined figures (``nan``, e.g. precision with no positive call)
        become ``None``.
        """
        return finite_or_null(asdict(self))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                threshold=float(data["threshold"]),
                slope=float(data["slope"]),
                target_fpr=math.nan
                if data.get("target_fpr") is None
                else float(data["target_fpr"]),
                method=str(data.get("method", "organic-spread")),
                metrics=dict(data.get("metrics", {})),
                flag_baseline=float(data.get("flag_baseline", 0.0)),
                statistic=str(data.get("statistic", "deviation")),
                model=dict(data.get("model") or {}),
                use_flags=data.get(
                    "use_flags",
                    None if str(data.get("statistic", "deviation")) == "deviation" else True,
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"malformed calibration record {data!r}: {exc}") from None


#: A threshold this close to the organic median (relative to the statistics' size) is
#: the median itself: with tied organic statistics the conformal threshold sits one
#: floating-point step above them, which would give a slope of 1 / ulp.
_RELATIVE_GAP = 1e-9


def _organic_gap(org: np.ndarray, threshold: float) -> float:
    """The statistic distance the organic-spread slope spans (median to threshold).

    When the threshold is not meaningfully above the organic median (a target
    FPR of one half or more, or tied statistics) the standard deviation of the
    organic statistics is used instead; statistics that do not spread at all
    are refused.
    """
    median = float(np.median(org))
    size = float(np.max(np.abs(org)))  # the statistics' own scale (0: all zero)
    gap = threshold - median
    if size > 0 and gap > _RELATIVE_GAP * size:
        return gap
    spread = float(np.std(org))
    if not (size > 0 and spread > _RELATIVE_GAP * size):
        raise CalibrationError(
            f"the {org.size} organic statistics do not spread (all about {median:.6g}): no score "
            "slope can be set from them; give organic recordings that differ, or labelled "
            "synthetic ones (their statistics fit the slope)"
        )
    return spread


def calibrate(
    organic: Any,
    synthetic: Any | None = None,
    *,
    target_fpr: float = 0.01,
    organic_groups: Any | None = None,
) -> Calibration:
    """Set the decision threshold and score mapping from labelled statistics.

    Parameters
    ----------
    organic : array_like of float
        Statistics of organic recordings (required, at least 2).
    synthetic : array_like of float, optional
        Statistics of synthetic recordings. When given, the slope is fitted
        by maximum likelihood and AUC/EER/precision/recall are recorded.
    target_fpr : float, default 0.01
        False-positive rate the threshold must not exceed on new organic
        recordings like ``organic`` (the conformal rule of
        :func:`threshold_at_fpr`). ``metrics["fpr_bound"]`` records the
        guaranteed rate, which exceeds ``target_fpr`` when there are fewer
        than ``1 / target_fpr - 1`` organic statistics.
    organic_groups : array_like, optional
        Speaker of every organic statistic: the threshold then keeps
        ``target_fpr`` for a recording of a new speaker (the speaker-level
        conformal rule of :func:`threshold_at_fpr`; ``metrics["threshold_rule"]``
        is ``"conformal-by-speaker"``, ``metrics["n_speakers"]`` the count,
        and the guarantee needs ``1 / target_fpr - 1`` speakers).

    Returns
    -------
    Calibration

    Raises
    ------
    CalibrationError
        Fewer than 2 organic statistics, non-finite values, a bad
        ``target_fpr``, or (without synthetic statistics) organic statistics
        that do not spread, so that no slope can be set from them.
    """
    org = _as_scores(organic, "organic")
    if org.size < 2:
        raise CalibrationError(f"calibration needs at least 2 organic statistics, got {org.size}")
    metrics: dict[str, Any] = {"n_organic": int(org.size), "organic_median": float(np.median(org))}
    if organic_groups is None:
        thr = threshold_at_fpr(org, target_fpr)
        metrics.update(threshold_rule="conformal", fpr_bound=fpr_bound(int(org.size), target_fpr))
    else:
        thr, weight, n_speakers = _grouped_cut(org, target_fpr, _as_groups(organic_groups, org))
        metrics.update(
            threshold_rule="conformal-by-speaker",
            n_speakers=n_speakers,
            fpr_bound=(weight + 1.0) / (n_speakers + 1),
        )
    syn = _as_scores(synthetic, "synthetic") if synthetic is not None else np.empty(0)
    if syn.size:
        stat = np.r_[org, syn]
        y = np.r_[np.zeros(org.size, bool), np.ones(syn.size, bool)]
        slope = _fit_slope(stat, y.astype(np.float64), thr)
        method = "logistic-ml"
        eer, eer_thr = equal_error_rate(y, stat)
        metrics.update(
            n_synthetic=int(syn.size),
            auc=roc_auc(y, stat),
            eer=eer,
            eer_threshold=eer_thr,
            at_threshold=precision_recall_at(y, stat, thr),
        )
    else:
        gap = _organic_gap(org, thr)
        slope = math.log((1 - ORGANIC_MEDIAN_SCORE) / ORGANIC_MEDIAN_SCORE) / gap
        method = "organic-spread"
        n_fp = int(np.sum(org >= thr))
        metrics["at_threshold"] = {
            "fpr": n_fp / org.size,
            "fp": n_fp,
            "fpr_ci95": list(binomial_interval(n_fp, int(org.size))),
        }
    return Calibration(
        threshold=float(thr),
        slope=float(slope),
        target_fpr=float(target_fpr),
        method=method,
        metrics=metrics,
    )
