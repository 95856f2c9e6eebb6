"""Rebuild :class:`~vtract.tract.result.TractEstimate` objects from a feature table.

The feature table (:mod:`vtract.features`) stores one row per (window, section). The
anatomical plausibility checks take estimates, so the analysis turns the
rows of each window back into an estimate instead of estimating twice.
Bandwidths are not in the table and come back as an empty array.

The areas are the table's (resampled to its fixed section count on the
glottis-to-lips axis), not the estimator's native sections. Analysis,
calibration and benchmarks all compute flags this way, from the table, so a
recording's statistic is the same whichever of them computes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import VtractError
from ..report import Flag
from ..tract.result import TractEstimate
from .deviation import has_window_spans

__all__ = ["BigramOccurrence", "occurrences_from_features", "plausibility_flags"]


@dataclass(frozen=True)
class BigramOccurrence:
    """The windows of one bigram occurrence as estimates, in time order.

    Attributes
    ----------
    bigram : str
        ARPAbet bigram.
    boundary_s : float
        Phone boundary (s).
    estimates : list of TractEstimate
        One per window, ordered by window index.
    times : numpy.ndarray
        Window centres (s).
    phones : list of str
        Phone each window centre lies in (first phone before the boundary).
    window_span : (float, float) or None
        Start of the first window and end of the last (s), from the table's
        ``window_start_s`` / ``window_end_s``; ``None`` for a table without
        usable ones (:func:`vtract.detect.deviation.has_window_spans`).
    """

    bigram: str
    boundary_s: float
    estimates: list[TractEstimate]
    times: np.ndarray
    phones: list[str]
    window_span: tuple[float, float] | None = None


def _column(df: pd.DataFrame, name: str) -> np.ndarray:
    if name in df.columns:
        return df[name].to_numpy(np.float64)
    return np.full(len(df), np.nan)


#: Columns of a feature table the estimates are rebuilt from (when present).
_ESTIMATE_COLUMNS = (
    "length_cm",
    "offset_s",
    "fit_error_db",
    "f1_hz",
    "f2_hz",
    "f3_hz",
    "method",
    "window_start_s",
    "window_end_s",
)


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each value's text and the texts (``names[codes[i]] == str(values[i])``)."""
    codes, names = pd.factorize(values.astype(str), use_na_sentinel=False)
    return codes, np.asarray(names, dtype=object)


def occurrences_from_features(features: pd.DataFrame) -> list[BigramOccurrence]:
    """Group a one-recording feature table into bigram occurrences of estimates.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table with at least ``bigram``, ``boundary_s``,
        ``window_index``, ``section``, ``area_cm2``.

    Returns
    -------
    list of BigramOccurrence
        Sorted by boundary time.
    """
    return list(_iter_occurrences(features))


def _iter_occurrences(features: pd.DataFrame) -> Iterator[BigramOccurrence]:
    """:func:`occurrences_from_features` one occurrence at a time (checked on call)."""
    need = ("bigram", "boundary_s", "window_index", "section", "area_cm2")
    missing = [c for c in need if c not in features.columns]
    if missing:
        raise VtractError(f"feature table lacks column(s) {missing}")
    if features.empty:
        return iter(())
    # sort only the columns used, not a copy of the whole table
    used = [*need, *(c for c in _ESTIMATE_COLUMNS if c in features.columns)]
    df = features[used].sort_values(
        ["boundary_s", "bigram", "window_index", "section"], kind="stable"
    )
    return _occurrences(df)


def _occurrences(df: pd.DataFrame) -> Iterator[BigramOccurrence]:
    # integer codes instead of one Python string per row (equal codes <=> equal strings)
    bigram, bigram_names = _codes(df["bigram"])
    boundary = df["boundary_s"].to_numpy(np.float64)
    window = df["window_index"].to_numpy(np.int64)
    areas = df["area_cm2"].to_numpy(np.float64)
    length = _column(df, "length_cm")
    offset = _column(df, "offset_s")
    offset = np.where(np.isfinite(offset), offset, 0.0)
    fit = _column(df, "fit_error_db")
    formants = np.column_stack([_column(df, c) for c in ("f1_hz", "f2_hz", "f3_hz")])
    method, method_names = _codes(
        df["method"] if "method" in df.columns else pd.Series([""] * len(df))
    )
    spans = has_window_spans(df)
    window_start = _column(df, "window_start_s")
    window_end = _column(df, "window_end_s")
    # a new window starts where (boundary, bigram, window_index) changes
    change = np.ones(len(df), dtype=bool)
    change[1:] = (
        (boundary[1:] != boundary[:-1]) | (bigram[1:] != bigram[:-1]) | (window[1:] != window[:-1])
    )
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], len(df)]
    del df
    current: tuple[str, float] | None = None
    ests: list[TractEstimate] = []
    offs: list[float] = []
    first_row = 0  # of the current occurrence

    def occurrence(key: tuple[str, float], stop: int) -> BigramOccurrence:
        p1, _, p2 = key[0].partition("-")
        times = key[1] + np.asarray(offs)
        phones = [p1 if o < 0 else p2 for o in offs]
        span = None
        if spans:
            first = float(np.min(window_start[first_row:stop]))
            span = (first, float(np.max(window_end[first_row:stop])))
        return BigramOccurrence(key[0], key[1], list(ests), times, phones, span)

    for a, b in zip(starts, ends):
        key = (str(bigram_names[bigram[a]]), float(boundary[a]))
        if key != current:
            if current is not None:
                yield occurrence(current, int(a))
            current, ests, offs, first_row = key, [], [], int(a)
        ar = areas[a:b]
        n = ar.size
        refl = (ar[1:] - ar[:-1]) / (ar[1:] + ar[:-1]) if n > 1 else np.empty(0)
        f = formants[a]
        ests.append(
            TractEstimate.from_length(
                ar.copy(),
                float(length[a]),
                refl,
                f[np.isfinite(f)].copy(),
                np.empty(0),
                str(method_names[method[a]]),
                fit_error_db=float(fit[a]),
            )
        )
        offs.append(float(offset[a]))
    if current is not None:
        yield occurrence(current, len(boundary))


def plausibility_flags(features: pd.DataFrame) -> list[Flag]:
    """Anatomical plausibility flags of one recording's feature table.

    Runs :func:`vtract.plausibility.check_plausibility` on every bigram
    occurrence (its windows in time order), as :func:`vtract.analyze` does;
    a flag's span is the occurrence's windows' (``window_start_s`` to
    ``window_end_s``), the span :func:`vtract.detect.deviation.bigram_deviations`
    gives the occurrence, so the default detector attaches the flag to it
    and to no other occurrence.
    """
    from ..plausibility import check_plausibility

    flags: list[Flag] = []
    for occ in _iter_occurrences(features):
        flags.extend(
            check_plausibility(
                occ.estimates,
                bigram=occ.bigram,
                times=occ.times,
                phones=occ.phones,
                window_span=occ.window_span,
            )
        )
    return flags
