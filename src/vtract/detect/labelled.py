"""Labelled calibration recordings: each counted once, with one label, measured like the reference.

A threshold's false-positive guarantee counts organic recordings (or
speakers), so the recordings behind it must be what they claim:

- **one label per recording** (:func:`check_labels`): a file, or two files
  with the same content (SHA-256), labelled both organic and synthetic is
  refused, naming them; taking whichever label came first would put a fake
  among the organic recordings;
- **each recording once** (:func:`drop_duplicate_recordings`,
  :func:`combine_tables`): copies of one recording under other names, and a
  file given again in another input, are left out with a note (as ``vtract
  reference build`` does, :func:`vtract.corpus.drop_duplicate_recordings`),
  so that five copies of one recording do not count as five recordings or,
  with no speaker given, five speakers;
- **measured the way the reference was** (:func:`check_measured_like`):
  ``analyze`` measures evidence with the reference's estimator, number of
  sections, rate, windows and analysis high-pass, so a table measured
  otherwise trains a model and sets a threshold that do not apply, and a
  reference whose recorded estimator fingerprint is not this vtract's makes
  every later analysis inconclusive. Both are refused. Tables record their
  measurement in the ``extraction`` column (since 28 Nov 2026,
  :func:`vtract.features.measurement_settings`); an older table without it
  gets a warning, as it cannot be checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import ReferenceError_, VtractError

__all__ = [
    "LabelConflictError",
    "check_labels",
    "check_measured_like",
    "combine_tables",
    "drop_duplicate_recordings",
    "measurement_differences",
]


class LabelConflictError(VtractError):
    """One recording is labelled both organic and synthetic."""


def _named(files: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(repr(str(f)) for f in list(files)[:most])
    return shown + (f" and {len(files) - most} more" if len(files) > most else "")


def check_labels(features: pd.DataFrame) -> None:
    """Refuse a recording labelled both organic and synthetic.

    Parameters
    ----------
    features : pandas.DataFrame
        Labelled multi-file feature table (``file``, ``label``; ``sha256``
        when known).

    Raises
    ------
    LabelConflictError
        A file with rows of both labels, or files with the same non-empty
        SHA-256 and different labels, named.
    """
    per_file = features.groupby("file", sort=True)["label"].agg(lambda s: sorted(set(s)))
    both = [str(f) for f, labels in per_file.items() if len(labels) > 1]
    if both:
        raise LabelConflictError(
            f"{len(both)} recording(s) are labelled both organic and synthetic: {_named(both)}; "
            "give each recording one label"
        )
    if "sha256" not in features.columns:
        return
    files = features.groupby("file", sort=False).agg(
        sha256=("sha256", "first"), label=("label", "first")
    )
    files = files[files["sha256"].astype(str) != ""]
    for sha, group in files.groupby("sha256", sort=True):
        if group["label"].nunique() > 1:
            raise LabelConflictError(
                f"the files {_named(list(group.index.astype(str)))} hold the same recording "
                f"(SHA-256 {str(sha)[:16]}...) with different labels "
                f"({', '.join(sorted(set(group['label'])))}); give each recording one label"
            )


def drop_duplicate_recordings(
    features: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Keep one file of each recording (files with the same non-empty SHA-256).

    The file that comes first in the table is kept. Run :func:`check_labels`
    first: copies with different labels are a conflict, not a duplicate.

    Returns
    -------
    features : pandas.DataFrame
        Without the rows of the copies left out.
    dropped : list of dict
        ``{"file", "reason"}`` for each file left out, naming the one kept.
    """
    if "sha256" not in features.columns or features.empty:
        return features, []
    order = features.drop_duplicates("file")[["file", "sha256"]]
    kept: dict[str, str] = {}
    dropped: list[dict[str, str]] = []
    for file, sha in zip(order["file"].astype(str), order["sha256"].astype(str), strict=True):
        if not sha:
            continue
        if sha in kept:
            dropped.append(
                {
                    "file": file,
                    "reason": f"same content (SHA-256 {sha[:16]}...) as {kept[sha]}",
                }
            )
        else:
            kept[sha] = file
    if not dropped:
        return features, []
    gone = {d["file"] for d in dropped}
    return features[~features["file"].astype(str).isin(gone)], dropped


def combine_tables(tables: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Concatenate labelled feature tables, each file taken from the first table that has it.

    A file given again in a later input (a manifest row repeated, a table
    passed twice) would otherwise have its rows counted twice.

    Raises
    ------
    LabelConflictError
        A file given again with another label.
    """
    seen: dict[str, str] = {}
    parts: list[pd.DataFrame] = []
    dropped: list[dict[str, str]] = []
    for table in tables:
        if table.empty:
            continue
        labels = table.groupby("file", sort=False)["label"].first()
        again = [str(f) for f in labels.index if str(f) in seen]
        for file in again:
            if labels[file] != seen[file]:
                raise LabelConflictError(
                    f"{file!r} is labelled {seen[file]!r} in one input and {labels[file]!r} in "
                    "another; give each recording one label"
                )
            dropped.append({"file": file, "reason": "given again in another input"})
        seen.update({str(f): str(v) for f, v in labels.items() if str(f) not in seen})
        parts.append(table[~table["file"].astype(str).isin(set(again))])
    if not parts:
        return pd.DataFrame(), dropped
    return pd.concat(parts, ignore_index=True), dropped


def check_measured_like(reference: Any, features: pd.DataFrame) -> list[str]:
    """Refuse a table not measured the way ``analyze`` measures evidence against ``reference``.

    Parameters
    ----------
    reference : Reference
        The reference the calibration is stored in. A duck-typed reference
        without a ``method`` (or ``meta``) is not checked for it.
    features : pandas.DataFrame
        The labelled feature table (``method``, ``n_sections``).

    Returns
    -------
    list of str
        Warnings: the reference records no estimator fingerprint, so that
        its statistics fit this vtract's estimator could not be checked;
        rows without an ``extraction`` record could not be checked against
        the reference's measurement settings.

    Raises
    ------
    ReferenceError_
        The table's estimator ``method`` or ``n_sections`` differ from the
        reference's, a row's ``extraction`` record differs from the
        reference's ``settings["extract_features"]`` in a setting ``analyze``
        takes from the reference
        (:data:`vtract.features.FIXED_MEASUREMENT_SETTINGS`: rate, window,
        overlap, policy, sections, high-pass cutoff), or the reference
        records another estimator fingerprint
        (:func:`vtract.reference.estimator_fingerprint`).
    """
    from ..reference import estimator_fingerprint, recorded_estimator_fingerprint

    method = str(getattr(reference, "method", "") or "")
    if method and "method" in features.columns:
        other = sorted(set(features["method"].astype(str)) - {method})
        if other:
            raise ReferenceError_(
                f"the feature tables were measured with the estimator {other} but the "
                f"reference with {method!r}: analyze measures evidence with the reference's "
                "estimator, so a calibration fitted on these tables would not apply; measure "
                f"the recordings with {method!r} (a CSV manifest does) or calibrate a reference "
                "built with their estimator"
            )
    meta = getattr(reference, "meta", None)
    held = meta.get("n_sections") if isinstance(meta, dict) else None
    if isinstance(held, list) and held and "n_sections" in features.columns:
        other_n = sorted(set(int(n) for n in features["n_sections"]) - {int(n) for n in held})
        if other_n:
            raise ReferenceError_(
                f"the feature tables have {other_n} tube sections per window but the reference "
                f"holds {list(held)}: measure them the way the reference was"
            )
    if not isinstance(meta, dict):
        return []
    settings = meta.get("settings")
    recorded_settings = settings.get("extract_features") if isinstance(settings, dict) else None
    warnings = measurement_differences(
        features,
        recorded_settings if isinstance(recorded_settings, dict) else None,
        what="the reference",
    )
    recorded = recorded_estimator_fingerprint(reference)
    if recorded is None:
        return [
            *warnings,
            "the reference does not record the estimator code that measured it, so that its "
            "statistics fit this vtract's estimator could not be checked",
        ]
    if recorded != estimator_fingerprint():
        raise ReferenceError_(
            f"the reference was measured with other tract-estimator code (fingerprint "
            f"{recorded[:16]}..., this vtract's is {estimator_fingerprint()[:16]}...): every "
            "analysis with it is inconclusive, so a calibration stored in it could never be "
            "used; rebuild the reference with this vtract first"
        )
    return warnings


def measurement_differences(
    features: pd.DataFrame, settings: dict[str, Any] | None, *, what: str
) -> list[str]:
    """Refuse rows measured otherwise than ``settings``; warn about rows that do not say.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table; its ``extraction`` column (JSON of
        :func:`vtract.features.measurement_settings`) is read where present.
    settings : dict or None
        The recorded ``settings["extract_features"]`` to compare with, or
        ``None`` to check only that the table was measured one way.
    what : str
        What ``settings`` belong to, for the messages ("the reference").

    Returns
    -------
    list of str
        A warning when ``settings`` are given and some rows carry no
        ``extraction`` record (tables written before 28 Nov 2026, or made by
        :func:`vtract.features.features_from_estimates`).

    Raises
    ------
    ReferenceError_
        A record is not readable, the table holds recordings measured in
        different ways, or one differs from ``settings`` in a setting of
        :data:`vtract.features.FIXED_MEASUREMENT_SETTINGS`.
    """
    import json

    from ..features import FIXED_MEASUREMENT_SETTINGS

    if len(features) == 0:
        return []
    if "extraction" in features.columns:
        column = features["extraction"]
        present = column.notna() & (column.astype(str) != "")
    else:
        column = None
        present = pd.Series(False, index=features.index)
    out: list[str] = []
    if settings is not None and not bool(present.all()):
        files = features.loc[~present, "file"].astype(str).nunique() if "file" in features else 0
        out.append(
            f"{files} recording(s) of the feature tables do not record how they were measured "
            "(the extraction column, written since 28 Nov 2026), so their rate, windows and "
            f"high-pass could not be checked against {what}'s"
        )
    if column is None or not bool(present.any()):
        return out
    records: dict[str, dict[str, Any]] = {}
    for text in pd.unique(column[present].astype(str)):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise ReferenceError_(f"a feature table's extraction record is not readable: {text!a}")
        records[text] = {k: record.get(k) for k in FIXED_MEASUREMENT_SETTINGS}
    distinct = {json.dumps(r, sort_keys=True): r for r in records.values()}
    if len(distinct) > 1:
        shown = "; ".join(_settings_text(r) for r in distinct.values())
        raise ReferenceError_(
            f"the feature tables hold recordings measured in {len(distinct)} different ways "
            f"({shown}); measure them all the way {what} was"
        )
    if settings is None:
        return out
    (measured,) = distinct.values()
    differ = [
        k
        for k in FIXED_MEASUREMENT_SETTINGS
        if k in settings and not _same(measured[k], settings[k])
    ]
    if differ:
        raise ReferenceError_(
            "the feature tables were measured with "
            + ", ".join(f"{k}={measured[k]!r}" for k in differ)
            + f" but {what} with "
            + ", ".join(f"{k}={settings[k]!r}" for k in differ)
            + ": analyze measures evidence the way the reference was, so a calibration fitted "
            "on these tables would not apply; measure the recordings with the reference's "
            "settings (a CSV manifest does)"
        )
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal settings, numbers compared as numbers (80 and 80.0 are the same cutoff)."""
    numbers = (int, float)
    if (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return float(a) == float(b)
    return bool(a == b)


def _settings_text(record: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in record.items())
