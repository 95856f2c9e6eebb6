"""Detectors: from a recording's feature table to a verdict.

- :mod:`~vtract.detect.default`: the calibrated default detector (statistic:
  tract dynamics, :mod:`~vtract.detect.dynamics`; evidence: per-bigram
  organic reference deviations + anatomical flags).
- :mod:`~vtract.detect.dynamics`: recording-level tract-dynamics descriptors
  and their one-class / discriminative models.
- :mod:`~vtract.detect.paper`: the published detector of Blue et al. (2022).
- :mod:`~vtract.detect.calibration`: ROC, AUC, EER, threshold at a false-
  positive rate, and the score mapping.
"""

from __future__ import annotations

from .calibration import (
    Calibration,
    CalibrationError,
    binomial_interval,
    calibrate,
    equal_error_rate,
    fpr_bound,
    grouped_fpr_bound,
    precision_recall_at,
    roc_auc,
    roc_curve,
    threshold_at_fpr,
)
from .decision import VERDICTS, Decision
from .default import DefaultDetector, file_statistics

__all__ = [
    "DETECTORS",
    "VERDICTS",
    "Calibration",
    "CalibrationError",
    "Decision",
    "DefaultDetector",
    "binomial_interval",
    "calibrate",
    "equal_error_rate",
    "file_statistics",
    "fpr_bound",
    "grouped_fpr_bound",
    "precision_recall_at",
    "roc_auc",
    "roc_curve",
    "threshold_at_fpr",
]

#: Detector names accepted by :func:`vtract.analyze`.
DETECTORS = ("default", "paper")
