"""Fit detector thresholds from labelled feature tables and store them in a Reference.

This is what ``vtract calibrate`` runs:

- default detector: the statistic of every labelled file is computed exactly
  as :func:`vtract.analyze` computes it (reference deviations + plausibility
  flags), then :func:`~vtract.detect.calibration.calibrate` sets the
  threshold for the target false-positive rate on the organic files (and the
  score slope from the synthetic files when there are any);
- paper detector (only with labelled fakes): ideal features searched against
  the Reference's organic ranges, and the range-rule sentence threshold.

Organic files that went into the reference deviate less than new organic
speech, so calibrating on them sets a threshold that is too low; they are
reported (``in_reference``) and should be held out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import VtractError
from ..report import Flag
from .calibration import calibrate
from .default import FLAG_BASELINE_QUANTILE, combine, file_statistics
from .deviation import ReferenceLike
from .estimates import plausibility_flags
from .paper import PaperDetector, reference_ranges

__all__ = ["fit_thresholds", "flags_by_file"]


def flags_by_file(features: pd.DataFrame) -> dict[str, list[Flag]]:
    """Plausibility flags of every file of a multi-file feature table."""
    if "file" not in features.columns:
        raise VtractError("feature table needs a 'file' column")
    return {str(f): plausibility_flags(g) for f, g in features.groupby("file", sort=True)}


def fit_thresholds(
    reference: ReferenceLike,
    features: pd.DataFrame,
    *,
    target_fpr: float = 0.01,
    use_flags: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Thresholds for both detectors from a labelled multi-file feature table.

    Parameters
    ----------
    reference : Reference
        The organic reference the detectors score against.
    features : pandas.DataFrame
        Feature tables of labelled files (``label`` = ``"organic"`` or
        ``"synthetic"`` on every row; one ``file`` per recording).
    target_fpr : float, default 0.01
        False-positive rate the default threshold must not exceed on the
        organic files.
    use_flags : bool, default True
        Include plausibility flags in the statistic (as ``analyze`` does).

    Returns
    -------
    calibration : dict
        ``{"default": ..., "paper": ...}`` to pass to
        ``Reference.with_calibration`` (``"paper"`` only with fakes).
    summary : dict
        Counts, statistics per file, and the measured figures.
    """
    if "label" not in features.columns or "file" not in features.columns:
        raise VtractError("calibration features need 'file' and 'label' columns")
    labels = set(features["label"].astype(str))
    if not labels <= {"organic", "synthetic"}:
        raise VtractError(
            f"every calibration row must be labelled 'organic' or 'synthetic'; found {sorted(labels)}"
        )
    org = features[features["label"] == "organic"]
    syn = features[features["label"] == "synthetic"]
    if org["file"].nunique() < 2:
        raise VtractError(
            f"calibration needs at least 2 organic files, got {org['file'].nunique()}"
        )
    flags = flags_by_file(features) if use_flags else None
    stats = file_statistics(features, reference, flags)
    stats = stats[np.isfinite(stats["statistic"])]
    organic = stats["label"] == "organic"
    baseline = float(np.quantile(stats.loc[organic, "flagged"], FLAG_BASELINE_QUANTILE))
    stats["statistic"] = combine(stats["deviation"], stats["flagged"], baseline)
    s_org = stats.loc[organic, "statistic"].to_numpy(np.float64)
    s_syn = stats.loc[~organic, "statistic"].to_numpy(np.float64)
    cal = replace(
        calibrate(s_org, s_syn if s_syn.size else None, target_fpr=target_fpr),
        flag_baseline=baseline,
    )
    result: dict[str, Any] = {"default": cal.to_dict()}
    summary: dict[str, Any] = {
        "n_organic_files": int(s_org.size),
        "n_synthetic_files": int(s_syn.size),
        "default": cal.to_dict(),
        "in_reference": _in_reference(reference, org),
    }
    if len(syn):
        ranges = reference_ranges(reference, features)
        paper = PaperDetector.fit(org, syn, ranges=ranges)
        result["paper"] = paper.to_dict()
        summary["paper"] = {
            "n_ideal_features": len(paper.ideal),
            "sentence_threshold": paper.sentence_threshold,
            "notes": list(paper.notes),
        }
    return result, summary


def _in_reference(reference: ReferenceLike, organic: pd.DataFrame) -> int:
    files = getattr(reference, "files", None)
    if not isinstance(files, pd.DataFrame) or "sha256" not in files or "sha256" not in organic:
        return 0
    inside = set(files["sha256"].astype(str))
    return int(organic.groupby("file")["sha256"].first().astype(str).isin(inside).sum())
