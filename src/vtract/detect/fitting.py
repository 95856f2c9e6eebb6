"""Fit detector thresholds from labelled feature tables and store them in a Reference.

This is what ``vtract calibrate`` runs:

- default detector, ``statistic="dynamics"`` (the default): the
  tract-dynamics descriptors of every labelled file
  (:mod:`vtract.detect.dynamics`) train a descriptor model - discriminative
  when labelled fakes are given, one-class otherwise. The threshold for the
  target false-positive rate is set on *out-of-fold* organic statistics
  (:data:`CROSS_FIT_FOLDS` folds grouped by speaker: each file scored by a
  model that never saw its speaker), so it is not set on the model's own
  training recordings, and it counts speakers, each weighing one however
  many recordings it has (``threshold_by``, :data:`THRESHOLD_BY`), so its
  guarantee is for a new speaker's recording; the stored model is then
  refitted on everything;
- default detector, ``statistic="deviation"``: the statistic of every
  labelled file is computed exactly as :func:`vtract.analyze` computes it
  (reference deviations + plausibility flags), then
  :func:`~vtract.detect.calibration.calibrate` sets the threshold for the
  target false-positive rate on the organic files (and the score slope from
  the synthetic files when there are any);
- paper detector (only with labelled fakes): ideal features searched against
  the Reference's organic ranges, and the range-rule sentence threshold.

The labelled recordings are checked first (:mod:`vtract.detect.labelled`):
one label per recording, copies of a recording (same SHA-256) counted once,
and tables measured with the reference's estimator and sections.

Organic files that went into the reference deviate less than new organic
speech, so calibrating on them sets a threshold that is too low; they are
reported (``in_reference``) and should be held out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import VtractError
from ..features import speaker_key
from ..report import Flag
from .calibration import Calibration, calibrate
from .default import (
    DRY_VOICE,
    FLAG_BASELINE_QUANTILE,
    MIN_BIGRAMS,
    combine,
    file_statistics,
)
from .deviation import ReferenceLike
from .dynamics import (
    DESCRIPTORS,
    WITH_SHIMMER,
    DescriptorModel,
    fit_discriminative,
    fit_one_class,
    recording_descriptors,
)
from .estimates import plausibility_flags
from .labelled import check_labels, check_measured_like, drop_duplicate_recordings
from .paper import PaperDetector, reference_ranges

__all__ = [
    "CROSS_FIT_FOLDS",
    "THRESHOLD_BY",
    "dynamics_calibration",
    "file_speakers",
    "fit_thresholds",
    "flags_by_file",
    "merged_calibrations",
]

#: Folds (grouped by speaker) for the out-of-fold organic statistics behind a threshold.
CROSS_FIT_FOLDS = 5
#: What the threshold's conformal false-positive guarantee counts
#: (:func:`~vtract.detect.calibration.threshold_at_fpr`): ``"recording"`` (a new
#: recording exchangeable with the calibration recordings) or ``"speaker"`` (a
#: new recording of a new speaker; each calibration speaker weighs one).
THRESHOLD_BY = ("recording", "speaker")


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
    statistic: str = "dynamics",
    descriptors: Sequence[str] = DESCRIPTORS,
    voice_descriptors: Sequence[str] | None = None,
    threshold_by: str = "speaker",
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
        Include plausibility flags in the statistic (``statistic="deviation"``
        only; False is refused with ``"dynamics"``). The choice is stored
        with the calibration (``use_flags``), so that ``analyze`` computes
        the statistic the way the threshold was set.
    statistic : {"dynamics", "deviation"}
        Which default-detector statistic to calibrate (module docstring).
    descriptors : sequence of str, default :data:`~vtract.detect.dynamics.DESCRIPTORS`
        Descriptors of the ``"dynamics"`` model (:func:`dynamics_calibration`'s
        ``names``; :data:`~vtract.detect.dynamics.WITH_SHIMMER` adds the voice
        shimmer for every recording, a research option: rooms raise it).
    voice_descriptors : sequence of str, optional
        Also fit the ``"dry_voice"`` calibration
        (:data:`~vtract.detect.default.DRY_VOICE`) on these descriptors, which
        must include ``log_shimmer`` (``vtract calibrate --with-shimmer``
        passes :data:`~vtract.detect.dynamics.WITH_SHIMMER`): the model the
        default detector uses on recordings without a room
        (:mod:`vtract.detect.default`). Needs ``statistic="dynamics"`` and
        feature tables with ``shimmer_local``.
    threshold_by : {"recording", "speaker"}, default "speaker"
        What the false-positive guarantee of the default (and dry-voice)
        threshold counts (:data:`THRESHOLD_BY`; ``vtract calibrate
        --threshold-by``).

    Returns
    -------
    calibration : dict
        ``{"default": ..., "paper": ...}`` to pass to
        ``Reference.with_calibration`` (``"paper"`` only with fakes;
        ``"dry_voice"`` with ``voice_descriptors``).
    summary : dict
        Counts, statistics per file, and the measured figures;
        ``duplicates_left_out`` (``{"file", "reason"}`` for each copy of a
        recording left out), ``warnings`` and ``file_sha256`` (every
        labelled file's hash, as its table records it). Each calibration's
        ``metrics["calibration_files"]`` lists the organic and synthetic
        files its threshold was set on.

    Raises
    ------
    VtractError
        Bad labels, a recording labelled both organic and synthetic
        (:class:`~vtract.detect.labelled.LabelConflictError`), a table
        measured with another estimator or number of sections than the
        reference, or a reference measured with other estimator code
        (:func:`~vtract.detect.labelled.check_measured_like`).
    """
    if "label" not in features.columns or "file" not in features.columns:
        raise VtractError("calibration features need 'file' and 'label' columns")
    labels = set(features["label"].astype(str))
    if not labels <= {"organic", "synthetic"}:
        raise VtractError(
            f"every calibration row must be labelled 'organic' or 'synthetic'; found {sorted(labels)}"
        )
    # one label per recording, each recording once, measured as analyze will measure evidence
    check_labels(features)
    features, duplicates = drop_duplicate_recordings(features)
    warnings = check_measured_like(reference, features)
    org = features[features["label"] == "organic"]
    syn = features[features["label"] == "synthetic"]
    if org["file"].nunique() < 2:
        raise VtractError(
            f"calibration needs at least 2 organic files, got {org['file'].nunique()}"
        )
    if statistic not in ("dynamics", "deviation"):
        raise VtractError(f"statistic must be 'dynamics' or 'deviation', got {statistic!r}")
    _check_threshold_by(threshold_by)
    if not use_flags and statistic != "deviation":
        raise VtractError(
            "leaving the plausibility flags out (use_flags=False, --no-flags) is for the "
            "deviation statistic; the dynamics statistic has no flags"
        )
    if voice_descriptors is not None and (
        statistic != "dynamics" or "log_shimmer" not in voice_descriptors
    ):
        raise VtractError(
            "the dry-voice calibration is a tract-dynamics model with log_shimmer: give "
            "statistic='dynamics' and voice descriptors that include log_shimmer"
        )
    flags = flags_by_file(features) if use_flags and statistic == "deviation" else None
    stats = file_statistics(features, reference, flags)
    stats = stats[np.isfinite(stats["statistic"])]
    if statistic == "dynamics":
        cal, s_org, s_syn = dynamics_calibration(
            features, stats, target_fpr=target_fpr, names=descriptors, threshold_by=threshold_by
        )
    else:
        organic = stats["label"] == "organic"
        baseline = float(np.quantile(stats.loc[organic, "flagged"], FLAG_BASELINE_QUANTILE))
        stats["statistic"] = combine(stats["deviation"], stats["flagged"], baseline)
        s_org = stats.loc[organic, "statistic"].to_numpy(np.float64)
        s_syn = stats.loc[~organic, "statistic"].to_numpy(np.float64)
        groups = None
        if threshold_by == "speaker":
            groups = file_speakers(features).reindex(stats.loc[organic, "file"]).to_numpy()
        cal = replace(
            calibrate(
                s_org, s_syn if s_syn.size else None, target_fpr=target_fpr, organic_groups=groups
            ),
            flag_baseline=baseline,
            use_flags=bool(use_flags),
        )
        files = _files_by_label(stats["file"], ~organic.to_numpy())
        cal = replace(cal, metrics={**cal.metrics, "calibration_files": files})
    result: dict[str, Any] = {"default": cal.to_dict()}
    summary: dict[str, Any] = {
        "n_organic_files": int(s_org.size),
        "n_synthetic_files": int(s_syn.size),
        "default": cal.to_dict(),
        "in_reference": _in_reference(reference, org),
        "duplicates_left_out": duplicates,
        "warnings": warnings,
        "file_sha256": _file_hashes(features),
    }
    if voice_descriptors is not None:
        voice, v_org, v_syn = dynamics_calibration(
            features,
            stats,
            target_fpr=target_fpr,
            names=voice_descriptors,
            threshold_by=threshold_by,
        )
        result[DRY_VOICE] = voice.to_dict()
        summary[DRY_VOICE] = {
            **voice.to_dict(),
            "n_organic_files": int(v_org.size),
            "n_synthetic_files": int(v_syn.size),
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


def _file_hashes(features: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of every labelled file (as its feature table records it; unknown ones left out)."""
    if "sha256" not in features.columns:
        return {}
    first = features.groupby("file", sort=True)["sha256"].first().astype(str)
    return {str(f): h for f, h in first.items() if h}


def merged_calibrations(
    stored: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """A reference's calibrations ``stored`` updated with ``new`` ones.

    A dry-voice model (:data:`~vtract.detect.default.DRY_VOICE`) belongs to
    the default calibration it was fitted with, so a stored one that ``new``
    does not renew is dropped, never kept beside another default.

    Returns
    -------
    calibrations : dict
        What to pass to ``Reference.with_calibration``.
    dropped_dry_voice : bool
        True when a stored dry-voice calibration was dropped.
    """
    dropped = DRY_VOICE in stored and DRY_VOICE not in new
    kept = {k: v for k, v in stored.items() if k != DRY_VOICE}
    return {**kept, **new}, dropped


def _in_reference(reference: ReferenceLike, organic: pd.DataFrame) -> int:
    files = getattr(reference, "files", None)
    if not isinstance(files, pd.DataFrame) or "sha256" not in files or "sha256" not in organic:
        return 0
    inside = set(files["sha256"].astype(str))
    return int(organic.groupby("file")["sha256"].first().astype(str).isin(inside).sum())


def _check_threshold_by(threshold_by: str) -> None:
    if threshold_by not in THRESHOLD_BY:
        raise VtractError(f"threshold_by must be one of {THRESHOLD_BY}, got {threshold_by!r}")


def file_speakers(features: pd.DataFrame) -> pd.Series:
    """Who every file of a multi-file feature table belongs to, indexed by file.

    The speaker id, or the file itself when the speaker is unknown
    (:func:`vtract.features.speaker_key`): the groups a threshold counting
    speakers weighs (``threshold_by="speaker"``).
    """
    rows = features if "speaker" in features.columns else features[["file"]].assign(speaker="")
    return speaker_key(rows).groupby(rows["file"]).first()


def _fold_groups(meta: pd.DataFrame) -> np.ndarray:
    """Speaker of each file (indexed by file), the file itself when the speaker is unknown.

    Unknown is ``""`` or null (None, NaN: a Parquet table keeps them), as in
    :func:`vtract.features.speaker_key`; until session 31 every null speaker
    was one speaker "nan", so all such files shared one fold.
    """
    files = meta.index.astype(str).to_numpy()
    if "speaker" not in meta.columns:
        return files
    spk = meta["speaker"]
    text = spk.astype(object).where(spk.notna(), "").astype(str).to_numpy()
    return np.where(text != "", text, files)


def _speaker_folds(meta: pd.DataFrame, k: int) -> np.ndarray:
    """Fold of each file, grouped by speaker (by file when the speaker is unknown)."""
    import zlib

    group = _fold_groups(meta)
    order = sorted(set(group), key=lambda g: (zlib.crc32(str(g).encode()), str(g)))
    fold_of = {g: i % k for i, g in enumerate(order)}
    return np.array([fold_of[g] for g in group], dtype=np.int64)


def _check_folds(meta: pd.DataFrame, fold: np.ndarray, is_syn: np.ndarray) -> None:
    """Refuse folds whose training split keeps fewer than 2 organic recordings (or, with
    fakes, fewer than 2 synthetic ones), saying why.

    The out-of-fold statistics are grouped by speaker whatever the threshold
    counts (a model that saw a recording's speaker scores it optimistically
    low), so one speaker holding all but one of the organic recordings
    leaves its fold nothing to train on.
    """
    organic = ~is_syn
    group = _fold_groups(meta)
    thin = _thin_fold(organic, fold, group, np.unique(fold[organic]))
    if thin is not None:
        k, left, held = thin
        raise VtractError(
            f"dynamics calibration scores each organic recording with a model that never saw "
            f"its speaker (out-of-fold, folds grouped by speaker, whatever --threshold-by "
            f"counts); the fold of speaker(s) {_short(held)} holds "
            f"{int((organic & (fold == k)).sum())} of the {int(organic.sum())} organic "
            f"recordings and leaves {left} to train on, fewer than 2: give organic recordings "
            f"of more speakers (these come from {len(set(group[organic]))} speaker(s); a "
            "recording without a speaker counts as its own)"
        )
    if int(is_syn.sum()) < 2:
        return  # one-class in every fold and in the stored model
    thin = _thin_fold(is_syn, fold, group, np.unique(fold))
    if thin is not None:
        _, left, held = thin
        raise VtractError(
            f"dynamics calibration with fakes fits a discriminative model, and scores every "
            f"recording with one fitted without its speaker (folds grouped by speaker); the "
            f"fold of speaker(s) {_short(held)} leaves {left} of the {int(is_syn.sum())} "
            "synthetic recordings to train on, fewer than 2, so its model could not be of "
            "the stored kind and its statistics would not be comparable with the threshold: "
            "give fakes of more voices (a recording without a speaker counts as its own), or "
            "calibrate without fakes (organic only: --no-fakes)"
        )


def _thin_fold(
    kind: np.ndarray, fold: np.ndarray, group: np.ndarray, folds: np.ndarray
) -> tuple[int, int, list[str]] | None:
    """The first of ``folds`` whose training split keeps fewer than 2 files of ``kind``:
    (fold, files left to train on, the groups it holds), or None."""
    for k in folds:
        left = int((kind & (fold != k)).sum())
        if left < 2:
            return int(k), left, sorted(set(group[kind & (fold == k)]))
    return None


def _short(names: list[str], most: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def dynamics_calibration(
    features: pd.DataFrame,
    stats: pd.DataFrame,
    *,
    target_fpr: float = 0.01,
    folds: int = CROSS_FIT_FOLDS,
    descriptors: pd.DataFrame | None = None,
    names: Sequence[str] = DESCRIPTORS,
    threshold_by: str = "speaker",
) -> tuple[Calibration, np.ndarray, np.ndarray]:
    """Descriptor model + threshold for the ``"dynamics"`` statistic.

    Parameters
    ----------
    features : pandas.DataFrame
        Labelled multi-file feature table.
    stats : pandas.DataFrame
        :func:`~vtract.detect.default.file_statistics` of it (for the bigram
        counts: files with fewer than :data:`MIN_BIGRAMS` are left out, as
        the detector would call them inconclusive).
    target_fpr : float
        False-positive rate for the threshold.
    folds : int
        Speaker-grouped cross-fitting folds for the out-of-fold statistics
        (fewer with fewer than ``folds + 2`` organic files; at least 4 are
        needed, and leaving out any fold's speakers must leave at least 2
        organic files to train on: organic files of one speaker only are
        refused, whatever ``threshold_by`` counts; with fakes, at least 2
        synthetic files too, so that every fold's model is discriminative
        like the stored one: fakes of one voice only are refused).
    descriptors : pandas.DataFrame, optional
        :func:`~vtract.detect.dynamics.recording_descriptors` of (at least)
        these files, when the caller already has them; computed otherwise.
    names : sequence of str, default :data:`~vtract.detect.dynamics.DESCRIPTORS`
        Descriptors of the model: the four tract descriptors, or
        :data:`~vtract.detect.dynamics.WITH_SHIMMER` for the measured option
        with the voice shimmer (``docs/DETECTION.md``; it needs feature
        tables with ``shimmer_local``).
    threshold_by : {"recording", "speaker"}, default "speaker"
        What the threshold's false-positive guarantee counts
        (:data:`THRESHOLD_BY`): with ``"speaker"`` each organic speaker
        (the ``speaker`` column; a file whose speaker is unknown is its own)
        weighs one, so the guarantee holds for a new speaker's recording.

    Returns
    -------
    calibration : Calibration
        ``statistic="dynamics"`` with the model fitted on all files; its
        metrics hold the out-of-fold figures.
    organic, synthetic : numpy.ndarray
        The out-of-fold statistics of the organic and synthetic files the
        threshold and figures come from.
    """
    names = list(names)
    _check_threshold_by(threshold_by)
    unknown = [n for n in names if n not in WITH_SHIMMER]
    if unknown or not names:
        raise VtractError(f"unknown descriptor(s) {unknown}; choose from {list(WITH_SHIMMER)}")
    if "log_shimmer" in names and descriptors is None and "shimmer_local" not in features.columns:
        raise VtractError(
            "the feature tables lack the shimmer_local column of the log_shimmer descriptor; "
            "measure it with extract_features(..., voice_source=True), or give vtract "
            "calibrate --with-shimmer a CSV manifest of the recordings"
        )
    desc = recording_descriptors(features) if descriptors is None else descriptors
    meta = features.groupby("file", sort=True).agg(label=("label", "first"))
    if "speaker" in features.columns:
        meta["speaker"] = features.groupby("file", sort=True)["speaker"].first()
    enough = stats.set_index("file")["n_bigrams"].reindex(meta.index).fillna(0) >= MIN_BIGRAMS
    desc = desc.reindex(meta.index)
    ok = enough & np.all(np.isfinite(desc[names].to_numpy(np.float64)), axis=1)
    meta, desc = meta[ok], desc[ok]
    is_syn = (meta["label"] == "synthetic").to_numpy()
    n_org = int((~is_syn).sum())
    if n_org < 4:
        raise VtractError(
            f"dynamics calibration needs at least 4 organic files with every descriptor defined "
            f"(and at least {MIN_BIGRAMS} bigram occurrences), got {n_org}"
        )
    # every training split keeps at least 2 organic files
    folds = max(2, min(folds, n_org - 2))

    # one kind for every fold and the stored model (until session 31 a fold whose training
    # split kept fewer than 2 fakes was one-class, and the threshold was set on Mahalanobis
    # distances and log-odds mixed, then stored with the log-odds model)
    discriminative = int(is_syn.sum()) >= 2

    def fit(mask: np.ndarray) -> DescriptorModel:
        org, syn = desc[mask & ~is_syn], desc[mask & is_syn]
        return fit_discriminative(org, syn, names) if discriminative else fit_one_class(org, names)

    fold = _speaker_folds(meta, folds)
    _check_folds(meta, fold, is_syn)
    oof = np.full(len(meta), np.nan)
    for k in range(folds):
        test = fold == k
        if test.any():
            oof[test] = fit(~test).statistic(desc[test])
    model = fit(np.ones(len(meta), dtype=bool))
    s_org, s_syn = oof[~is_syn], oof[is_syn]
    groups = None
    if threshold_by == "speaker":
        groups = file_speakers(features).reindex(meta.index[~is_syn]).to_numpy()
    cal = calibrate(
        s_org, s_syn if s_syn.size >= 2 else None, target_fpr=target_fpr, organic_groups=groups
    )
    metrics = dict(cal.metrics)
    metrics.update(
        cross_fit_folds=folds,
        model_kind=model.kind,
        calibration_files=_files_by_label(meta.index, is_syn),
    )
    return replace(cal, statistic="dynamics", model=model.to_dict(), metrics=metrics), s_org, s_syn


def _files_by_label(files: Any, synthetic: Any) -> dict[str, list[str]]:
    """The files a threshold was set on, sorted, per label (``metrics["calibration_files"]``)."""
    names = np.asarray([str(f) for f in files], dtype=object)
    fake = np.asarray(synthetic, dtype=bool)
    return {
        "organic": sorted(names[~fake].tolist()),
        "synthetic": sorted(names[fake].tolist()),
    }
