"""The :class:`Decision` every detector returns for one recording."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["VERDICTS", "Decision"]

#: The three verdicts a detector may give.
VERDICTS = ("organic", "synthetic", "inconclusive")


@dataclass
class Decision:
    """Outcome of scoring one recording.

    Attributes
    ----------
    verdict : str
        ``"organic"``, ``"synthetic"`` or ``"inconclusive"``.
    score : float or None
        Calibrated score in [0, 1]; ``None`` when inconclusive.
    statistic : float
        Uncalibrated statistic (``nan`` with no bigrams).
    reason : str
        One sentence: why this verdict.
    bigrams : pandas.DataFrame
        Per-occurrence evidence (see :func:`~vtract.detect.deviation.bigram_deviations`)
        with ``flag_share``, ``flags`` and ``score`` columns.
    thresholds : dict
        Calibration threshold, slope and the evidence minimums used.
    warnings : list of str
        Degradations to report.
    descriptors : dict
        Recording-level descriptors the statistic was computed from (the
        tract dynamics of :mod:`vtract.detect.dynamics`; empty for statistics
        that have none).
    descriptor_ranges : dict
        For each descriptor, its 5 %, 50 % and 95 % points over the organic
        recordings the descriptor model was trained on (empty when unknown).
    """

    verdict: str
    score: float | None
    statistic: float
    reason: str
    bigrams: pd.DataFrame
    thresholds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    descriptors: dict[str, float] = field(default_factory=dict)
    descriptor_ranges: dict[str, list[float]] = field(default_factory=dict)
