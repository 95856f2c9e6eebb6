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

from ..errors import ReferenceError_, VtractError

__all__ = [
    "AREA_FLOOR_CM2",
    "LEVEL_WEIGHTS",
    "MIN_LOG_SCALE",
    "Z_CAP",
    "ReferenceLike",
    "bigram_deviations",
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
#: Span of one analysis window (published: 565 samples at 16 kHz), for evidence time spans.
WINDOW_SECONDS = 565 / 16000
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


_TABLE_COLUMNS = ("lo", "q25", "median", "q75", "hi", "ref_min", "ref_max")
#: Per-reference memo of looked-up statistics (references are immutable).
_LOOKUPS: weakref.WeakKeyDictionary[Any, dict[tuple[str, int], tuple[str, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _lookup(reference: ReferenceLike, bigram: str, n_sec: int) -> tuple[str, np.ndarray]:
    """Level and a (n, 1 + 7) array: section, lo, q25, median, q75, hi, min, max."""
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
    memo[key] = (level, table)
    return level, table


def reference_table(reference: ReferenceLike, keys: pd.DataFrame) -> pd.DataFrame:
    """Reference statistics for every (bigram, n_sections) in ``keys``.

    Returns
    -------
    pandas.DataFrame
        One row per (bigram, n_sections, section) with ``level``, ``lo``
        (q01 or min), ``q25``, ``median``, ``q75``, ``hi`` (q99 or max),
        ``ref_min``, ``ref_max``.
    """
    bigrams: list[str] = []
    n_secs: list[int] = []
    levels: list[str] = []
    tables: list[np.ndarray] = []
    for bigram, n_sec in keys[["bigram", "n_sections"]].drop_duplicates().itertuples(index=False):
        level, table = _lookup(reference, str(bigram), int(n_sec))
        bigrams += [str(bigram)] * len(table)
        n_secs += [int(n_sec)] * len(table)
        levels += [level] * len(table)
        tables.append(table)
    data = np.vstack(tables) if tables else np.empty((0, 1 + len(_TABLE_COLUMNS)))
    out = pd.DataFrame(
        {
            "bigram": pd.Series(bigrams, dtype=object),
            "n_sections": np.asarray(n_secs, dtype=np.int64),
            "section": data[:, 0].astype(np.int64),
            "level": pd.Series(levels, dtype=object),
        }
    )
    for k, name in enumerate(_TABLE_COLUMNS, start=1):
        out[name] = data[:, k]
    return out


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
    ref = reference_table(reference, df)
    # merge only the key and area columns: a left merge keeps the rows of ``df`` in order
    keys = ["bigram", "n_sections", "section"]
    merged = df[[*keys, "area_cm2"]].merge(ref, on=keys, how="left", validate="many_to_one")
    if merged["median"].isna().any():
        bad = merged.loc[merged["median"].isna(), ["bigram", "section"]].drop_duplicates().head(3)
        raise ReferenceError_(
            f"reference has no statistics for some sections, e.g. {bad.to_dict('records')}"
        )
    la = log_areas(merged["area_cm2"])
    lm = log_areas(merged["median"])
    s_hi = np.maximum((log_areas(merged["q75"]) - lm) / _Q75_SIGMAS, MIN_LOG_SCALE)
    s_lo = np.maximum((lm - log_areas(merged["q25"])) / _Q75_SIGMAS, MIN_LOG_SCALE)
    z = np.where(la >= lm, (la - lm) / s_hi, (lm - la) / s_lo)
    z = np.minimum(z, Z_CAP)
    a = merged["area_cm2"].to_numpy(np.float64)
    exceed = (a < merged["lo"].to_numpy(np.float64)) | (a > merged["hi"].to_numpy(np.float64))
    out = df.copy(deep=False)  # copy-on-write: the new columns never reach ``features``
    out["level"] = merged["level"].to_numpy()
    out["weight"] = merged["level"].map(LEVEL_WEIGHTS).to_numpy(np.float64)
    out["z"] = z
    out["exceed"] = exceed
    out["ref_min"] = merged["ref_min"].to_numpy(np.float64)
    out["ref_max"] = merged["ref_max"].to_numpy(np.float64)
    return out


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
        ``n_windows``, ``start_s``, ``end_s``, ``word``, ``bigram_ipa``,
        ``length_cm`` (median), ``areas_cm2`` (median area function of the
        window nearest the boundary).
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
    df = rows.copy(deep=False)  # copy-on-write: ``rows`` is not modified
    for c, default in (("word", ""), ("bigram_ipa", ""), ("offset_s", 0.0), ("length_cm", np.nan)):
        if c not in df.columns:
            df[c] = default
    df["exceed"] = df["exceed"].astype(np.float64)
    g = df.groupby(keys, sort=True)
    out = g.agg(
        word=("word", "first"),
        bigram_ipa=("bigram_ipa", "first"),
        level=("level", "first"),
        weight=("weight", "first"),
        deviation=("z", "mean"),
        exceed_share=("exceed", "mean"),
        n_windows=("window_index", "nunique"),
        off_min=("offset_s", "min"),
        off_max=("offset_s", "max"),
        length_cm=("length_cm", "median"),
    ).reset_index()
    out["start_s"] = out["boundary_s"] + out["off_min"] - WINDOW_SECONDS / 2
    out["end_s"] = out["boundary_s"] + out["off_max"] + WINDOW_SECONDS / 2
    # median area function of the window(s) nearest the boundary
    absw = df["window_index"].abs()
    nearest = absw == absw.groupby([df[k] for k in keys]).transform("min")
    centre = (
        df.loc[nearest, [*keys, "section", "area_cm2"]]
        .groupby([*keys, "section"], sort=True)["area_cm2"]
        .median()
        .reset_index()
    )
    shapes = centre.groupby(keys, sort=True)["area_cm2"].agg(lambda a: [float(v) for v in a])
    out = out.merge(shapes.rename("areas_cm2").reset_index(), on=keys, how="left")
    return out[cols]
