"""Robust deviation of feature values from an organic reference.

Every (window, section) area in a feature table is compared with the organic
reference statistics of its (bigram, section): a robust z-score in the log
domain (areas are positive and spread multiplicatively) and an exceedance
flag (outside the organic [q01, q99] band). Rows are then pooled per bigram
occurrence (one phone boundary of one file).

The reference is anything with ``lookup(bigram, n_sections) -> (stats, level)``
where ``stats`` is a DataFrame indexed by section holding at least
``q25``, ``median``, ``q75`` and, for exceedance, ``q01``/``q99`` (or
``min``/``max``); ``level`` is one of :data:`LEVEL_WEIGHTS`.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..anatomy import PUBLISHED_WINDOW_S
from ..errors import ReferenceError_, VtractError
from .grouped import group_codes, group_first, group_mean, group_quantile

__all__ = [
    "AREA_FLOOR_CM2",
    "LEVEL_WEIGHTS",
    "MIN_LOG_SCALE",
    "Z_CAP",
    "ReferenceLike",
    "bigram_deviations",
    "distinct_boundaries",
    "has_window_spans",
    "log_areas",
    "row_deviations",
]

#: Weight of a bigram occurrence by the reference level it was scored against.
#: A backed-off reference (phone pair class, phone, class, global) pools more
#: varied shapes, so its band is wider and a deviation from it says less.
LEVEL_WEIGHTS: dict[str, float] = {"bigram": 1.0, "phone": 0.5, "class": 0.25, "global": 0.1}
#: Robust z-scores are capped here so one wild section cannot decide a file.
Z_CAP = 8.0
#: Areas below this are treated as this value before taking logs (cm^2).
AREA_FLOOR_CM2 = 1e-4
#: Smallest robust log-scale (a band narrower than +-5 % is widened to it).
MIN_LOG_SCALE = 0.05
#: Span of one analysis window (published: 565 samples at 16 kHz), for the evidence
#: time spans of a feature table without ``window_start_s`` / ``window_end_s``: the
#: same constant the flags' spans fall back to (:data:`vtract.anatomy.PUBLISHED_WINDOW_S`).
WINDOW_SECONDS = PUBLISHED_WINDOW_S
#: Normal-distribution constant: quartile distance from the median in sigmas.
_Q75_SIGMAS = 0.6744897501960817

#: Columns of the feature table the detectors need.
FEATURE_COLUMNS = ("bigram", "boundary_s", "window_index", "section", "n_sections", "area_cm2")


class ReferenceLike(Protocol):
    """What the detectors need from :class:`vtract.Reference`."""

    def lookup(self, bigram: str, n_sections: int) -> tuple[pd.DataFrame, str]: ...


def _col(stats: pd.DataFrame, *names: str) -> pd.Series | None:
    lower = {str(c).lower(): c for c in stats.columns}
    for n in names:
        if n.lower() in lower:
            return stats[lower[n.lower()]]
    return None


def _check_features(features: pd.DataFrame) -> None:
    if not isinstance(features, pd.DataFrame):
        raise VtractError(f"features must be a pandas DataFrame, got {type(features).__name__}")
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise VtractError(
            f"feature table lacks column(s) {missing}; expected {list(FEATURE_COLUMNS)}"
        )


#: The statistics of a reference row, in the order of :func:`_lookup`'s columns after the section.
_TABLE_COLUMNS = ("lo", "q25", "median", "q75", "hi", "ref_min", "ref_max")
#: Per-reference memo of looked-up statistics (references are immutable).
_LOOKUPS: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], tuple[str, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _lookup(reference: ReferenceLike, bigram: str, n_sec: int) -> tuple[str, np.ndarray]:
    """Level and a (n, 1 + 7) array: section, lo, q25, median, q75, hi, min, max,
    its rows sorted by section (a section listed twice is a :class:`ReferenceError_`)."""
    try:
        memo = _LOOKUPS.setdefault(reference, {})
    except TypeError:  # not weak-referenceable: no memo
        memo = {}
    key = (bigram, n_sec)
    if key in memo:
        return memo[key]
    try:
        stats, level = reference.lookup(bigram, n_sec)
    except VtractError:
        raise
    except Exception as exc:  # a reference that cannot answer is a reference problem
        raise ReferenceError_(f"reference lookup failed for bigram {bigram!r}: {exc}") from exc
    if level not in LEVEL_WEIGHTS:
        raise ReferenceError_(
            f"reference returned level {level!r} for {bigram!r}; expected one of {list(LEVEL_WEIGHTS)}"
        )
    q25, med, q75 = _col(stats, "q25"), _col(stats, "median", "q50"), _col(stats, "q75")
    if q25 is None or med is None or q75 is None:
        raise ReferenceError_(
            f"reference statistics for {bigram!r} lack q25/median/q75 (columns {list(stats.columns)})"
        )
    rmin, rmax = _col(stats, "min"), _col(stats, "max")
    lo, hi = _col(stats, "q01"), _col(stats, "q99")
    lo = lo if lo is not None else rmin
    hi = hi if hi is not None else rmax
    n = len(stats)

    def arr(c: pd.Series | None) -> np.ndarray:
        return np.full(n, np.nan) if c is None else c.to_numpy(np.float64)

    table = np.column_stack(
        [
            np.asarray(stats.index, dtype=np.float64),
            *(arr(c) for c in (lo, q25, med, q75, hi, rmin, rmax)),
        ]
    )
    table = table[np.argsort(table[:, 0], kind="stable")]
    if np.any(table[1:, 0] == table[:-1, 0]):
        raise ReferenceError_(
            f"reference lists a section twice for bigram {bigram!r} ({n_sec} sections)"
        )
    memo[key] = (level, table)
    return level, table


def log_areas(x: Any) -> np.ndarray:
    """Natural log of areas (cm^2), floored at :data:`AREA_FLOOR_CM2`."""
    return np.log(np.maximum(np.asarray(x, dtype=np.float64), AREA_FLOOR_CM2))


def row_deviations(features: pd.DataFrame, reference: ReferenceLike) -> pd.DataFrame:
    """Per-row robust deviation of areas from the organic reference.

    For an area ``a`` with reference quartiles ``q25 <= m <= q75``::

        z = (log a - log m) / s_hi   if a >= m,   s_hi = (log q75 - log m) / 0.6745
        z = (log m - log a) / s_lo   otherwise,   s_lo = (log m - log q25) / 0.6745

    (an asymmetric robust z; each scale at least :data:`MIN_LOG_SCALE`),
    capped at :data:`Z_CAP`. ``exceed`` is ``a < q01 or a > q99``.

    Returns
    -------
    pandas.DataFrame
        ``features`` with added columns ``level``, ``weight``, ``z``,
        ``exceed``, ``ref_min``, ``ref_max``.
    """
    _check_features(features)
    # rows without a finite positive area carry no shape (the estimator failed there)
    area = features["area_cm2"].to_numpy(np.float64)
    usable = np.isfinite(area) & (area > 0)
    # no copy of the whole table when every row is usable (the usual case)
    df = (features if usable.all() else features[usable]).reset_index(drop=True)
    if df.empty:
        return df.assign(
            level=pd.Series(dtype=str),
            weight=pd.Series(dtype=float),
            z=pd.Series(dtype=float),
            exceed=pd.Series(dtype=bool),
        )
    stats, level, weight = _reference_rows(reference, df)
    a = area[usable]
    la = log_areas(a)
    lm = log_areas(stats[:, 2])
    s_hi = np.maximum((log_areas(stats[:, 3]) - lm) / _Q75_SIGMAS, MIN_LOG_SCALE)
    s_lo = np.maximum((lm - log_areas(stats[:, 1])) / _Q75_SIGMAS, MIN_LOG_SCALE)
    z = np.where(la >= lm, (la - lm) / s_hi, (lm - la) / s_lo)
    z = np.minimum(z, Z_CAP)
    exceed = (a < stats[:, 0]) | (a > stats[:, 4])
    out = df.copy(deep=False)  # copy-on-write: the new columns never reach ``features``
    out["level"] = level
    out["weight"] = weight
    out["z"] = z
    out["exceed"] = exceed
    out["ref_min"] = stats[:, 5]
    out["ref_max"] = stats[:, 6]
    return out


def _reference_rows(
    reference: ReferenceLike, df: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference statistics of every row's (bigram, n_sections, section).

    Returns an (n, 7) array of lo, q25, median, q75, hi, min, max (the
    statistics :func:`_lookup` keeps per bigram), the level of every row and its
    weight (:data:`LEVEL_WEIGHTS`). Raises
    :class:`ReferenceError_` when the reference has no statistics for a
    section of the table or lists a section twice.
    """
    pair, n_pairs, pair_first = group_codes([df["bigram"], df["n_sections"]])
    section = df["section"].to_numpy(np.float64)
    stats = np.full((len(df), len(_TABLE_COLUMNS)), np.nan)
    levels = np.empty(n_pairs, dtype=object)
    bigrams = df["bigram"].iloc[pair_first].to_numpy()
    n_secs = df["n_sections"].iloc[pair_first].to_numpy()
    order = np.argsort(pair, kind="stable")
    split = np.searchsorted(pair[order], np.arange(n_pairs + 1))
    missing: list[dict[str, Any]] = []
    for p in range(n_pairs):
        level, table = _lookup(reference, str(bigrams[p]), int(n_secs[p]))
        levels[p] = level
        rows = order[split[p] : split[p + 1]]
        sections = table[:, 0]  # sorted by _lookup
        at = np.minimum(np.searchsorted(sections, section[rows]), len(table) - 1)
        found = sections[at] == section[rows] if len(table) else np.zeros(len(rows), bool)
        stats[rows[found]] = table[at[found], 1:]
        missing += [
            {"bigram": str(bigrams[p]), "section": int(v)} for v in np.unique(section[rows[~found]])
        ]
    no_median = np.isnan(stats[:, 2])
    if missing or no_median.any():
        bad = missing[:3] or [
            {"bigram": str(df["bigram"].iloc[i]), "section": int(section[i])}
            for i in np.flatnonzero(no_median)[:3]
        ]
        raise ReferenceError_(f"reference has no statistics for some sections, e.g. {bad}")
    weights = np.array([LEVEL_WEIGHTS[v] for v in levels], dtype=np.float64)
    return stats, levels[pair], weights[pair]


def has_window_spans(features: pd.DataFrame) -> bool:
    """Whether a feature table's ``window_start_s`` / ``window_end_s`` give the windows' spans.

    True when both columns are there, finite, and every window ends after it
    starts (a table made by :func:`vtract.features.extract_features`); the
    evidence spans of :func:`bigram_deviations` and the flag spans of
    :func:`vtract.detect.estimates.plausibility_flags` then come from them,
    else both from the window centres and the published window
    (:data:`WINDOW_SECONDS`), so that the two always agree.
    """
    if not {"window_start_s", "window_end_s"} <= set(features.columns):
        return False
    start = features["window_start_s"].to_numpy(np.float64)
    end = features["window_end_s"].to_numpy(np.float64)
    return bool(np.all(np.isfinite(start) & np.isfinite(end) & (end > start)))


def distinct_boundaries(occurrences: pd.DataFrame) -> int:
    """Bigram occurrences counted by distinct phone boundary, as the detectors' minimums count.

    Two rows of :func:`bigram_deviations` at one boundary (of one ``file``)
    are one transition measured twice, not two pieces of evidence: until
    session 28 zero-length phones made several bigrams at one boundary, each
    counted toward the minimum (:func:`vtract.windows.pair_census` now leaves
    them out; this count keeps a feature table made otherwise from doing so).

    Parameters
    ----------
    occurrences : pandas.DataFrame
        One row per bigram occurrence, with ``boundary_s`` (and ``file``).

    Returns
    -------
    int
    """
    if occurrences.empty:
        return 0
    keys = [k for k in ("file", "boundary_s") if k in occurrences.columns]
    return len(occurrences[keys].drop_duplicates())


def bigram_deviations(rows: pd.DataFrame) -> pd.DataFrame:
    """Pool per-row deviations into one row per bigram occurrence.

    Parameters
    ----------
    rows : pandas.DataFrame
        Output of :func:`row_deviations`.

    Returns
    -------
    pandas.DataFrame
        One row per (file, bigram, boundary_s): ``deviation`` (mean capped z
        over windows and sections), ``exceed_share``, ``level``, ``weight``,
        ``n_windows``, ``start_s``, ``end_s`` (the start of its first window
        and the end of its last, from the table's ``window_start_s`` and
        ``window_end_s``; in a table without usable ones, :func:`has_window_spans`,
        the window centres ``boundary_s + offset_s`` minus and plus half the
        published window :data:`WINDOW_SECONDS`), ``word``, ``bigram_ipa``, ``length_cm``
        (median), ``areas_cm2`` (median area function of the window nearest
        the boundary).
    """
    keys = [k for k in ("file", "bigram", "boundary_s") if k in rows.columns]
    cols = [
        *keys,
        "word",
        "bigram_ipa",
        "level",
        "weight",
        "deviation",
        "exceed_share",
        "n_windows",
        "start_s",
        "end_s",
        "length_cm",
        "areas_cm2",
    ]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    n = len(rows)

    def column(name: str, default: Any) -> Any:
        return rows[name] if name in rows.columns else np.full(n, default)

    occ, n_occ, occ_first = group_codes([rows[k] for k in keys])
    # the columns are gathered first and the table made once (setting columns one by one
    # on a DataFrame cost more than computing them)
    out: dict[str, Any] = {k: rows[k].iloc[occ_first].to_numpy() for k in keys}
    for name, default in (("word", ""), ("bigram_ipa", ""), ("level", None)):
        out[name] = group_first(occ, n_occ, column(name, default))
    out["weight"] = group_first(occ, n_occ, column("weight", np.nan))
    out["deviation"] = group_mean(occ, n_occ, rows["z"].to_numpy(np.float64))
    out["exceed_share"] = group_mean(occ, n_occ, rows["exceed"].to_numpy(np.float64))
    window = rows["window_index"].to_numpy(np.float64)
    # distinct (occurrence, window) pairs; rows outside every occurrence have no pair
    _, _, pair_first = group_codes([occ, np.where(occ >= 0, window, np.nan)])
    out["n_windows"] = np.bincount(occ[pair_first], minlength=n_occ).astype(np.int64)
    if has_window_spans(rows):
        # the windows as cut, whatever window length the table was measured with
        first = rows["window_start_s"].to_numpy(np.float64)
        last = rows["window_end_s"].to_numpy(np.float64)
        out["start_s"] = group_quantile(occ, n_occ, first, 0.0)
        out["end_s"] = group_quantile(occ, n_occ, last, 1.0)
    else:
        offset = np.asarray(column("offset_s", 0.0), dtype=np.float64)
        boundary = np.asarray(out["boundary_s"], dtype=np.float64)
        out["start_s"] = boundary + group_quantile(occ, n_occ, offset, 0.0) - WINDOW_SECONDS / 2
        out["end_s"] = boundary + group_quantile(occ, n_occ, offset, 1.0) + WINDOW_SECONDS / 2
    out["length_cm"] = group_quantile(
        occ, n_occ, np.asarray(column("length_cm", np.nan), dtype=np.float64), 0.5
    )
    # median area function of the window(s) nearest the boundary
    distance = np.abs(window)
    nearest = np.full(n_occ, np.inf)
    np.minimum.at(nearest, occ[occ >= 0], distance[occ >= 0])
    at_centre = (occ >= 0) & (distance == nearest[np.maximum(occ, 0)])
    section = rows["section"].to_numpy(np.float64)
    cell, n_cells, cell_first = group_codes([occ[at_centre], section[at_centre]])
    median_area = group_quantile(
        cell, n_cells, rows["area_cm2"].to_numpy(np.float64)[at_centre], 0.5
    )
    cell_occ = occ[at_centre][cell_first]  # cells are sorted by occurrence, then section
    split = np.searchsorted(cell_occ, np.arange(n_occ + 1))
    out["areas_cm2"] = [
        [float(v) for v in median_area[split[i] : split[i + 1]]] for i in range(n_occ)
    ]
    return pd.DataFrame({c: out[c] for c in cols})
