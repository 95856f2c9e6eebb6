"""Group-wise statistics of feature-table columns, in NumPy.

The detectors pool a feature table per recording, per bigram occurrence and
per window. pandas ``groupby`` does this correctly but costs tens of
milliseconds of fixed overhead per call, which on a short recording was
most of :func:`vtract.analyze`'s scoring time. These functions compute the
same statistics from integer group codes: :func:`group_codes` numbers the
groups of one or more key columns in sorted key order (as
``groupby(sort=True)`` does), and the reductions skip ``nan`` values as
pandas does (a group without a valid value gives ``nan``).

``tests/test_detect_grouped.py`` checks every function against pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "group_codes",
    "group_count",
    "group_first",
    "group_mean",
    "group_quantile",
    "group_std",
]


def group_codes(keys: Sequence[Any]) -> tuple[np.ndarray, int, np.ndarray]:
    """Number the groups of rows that share the values of every key.

    Parameters
    ----------
    keys : sequence of array-like or pandas.Series
        Key columns of equal length (strings or numbers).

    Returns
    -------
    codes : numpy.ndarray of int64
        Group number of every row, ``-1`` where a key is missing (``nan`` /
        ``None``: pandas ``groupby`` leaves such rows out too). Groups are
        numbered in the sorted order of their keys (first key first).
    n_groups : int
    first_row : numpy.ndarray of int64
        Index of the first row of every group.
    """
    if len(keys) == 0:
        raise ValueError("group_codes needs at least one key column")
    key_codes = []
    for k in keys:
        # a Series is factorised in its own dtype (fast for Arrow-backed strings)
        values = k if isinstance(k, pd.Series) else np.asarray(k)
        codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
        key_codes.append(codes.astype(np.int64))
    n = len(key_codes[0])
    missing = np.zeros(n, dtype=bool)
    for c in key_codes:
        missing |= c < 0
    order = np.lexsort(key_codes[::-1])  # stable; first key is the primary one
    order = order[~missing[order]]
    codes = np.full(n, -1, dtype=np.int64)
    if len(order) == 0:
        return codes, 0, np.empty(0, dtype=np.int64)
    change = np.zeros(len(order), dtype=bool)
    change[0] = True
    for c in key_codes:
        sc = c[order]
        change[1:] |= sc[1:] != sc[:-1]
    group_of_sorted = np.cumsum(change) - 1
    codes[order] = group_of_sorted
    return codes, int(group_of_sorted[-1]) + 1, order[change]


def _valid(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return (codes >= 0) & ~np.isnan(v)


def group_count(codes: np.ndarray, n_groups: int, values: Any) -> np.ndarray:
    """Number of non-``nan`` values per group."""
    ok = _valid(codes, values)
    return np.bincount(codes[ok], minlength=n_groups).astype(np.int64)


def group_mean(codes: np.ndarray, n_groups: int, values: Any) -> np.ndarray:
    """Mean of the non-``nan`` values of every group (``nan`` for none)."""
    v = np.asarray(values, dtype=np.float64)
    ok = _valid(codes, v)
    count = np.bincount(codes[ok], minlength=n_groups)
    total = np.bincount(codes[ok], weights=v[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def group_std(codes: np.ndarray, n_groups: int, values: Any) -> np.ndarray:
    """Sample standard deviation (``ddof=1``) of the non-``nan`` values per
    group (``nan`` with fewer than two), computed in two passes."""
    v = np.asarray(values, dtype=np.float64)
    ok = _valid(codes, v)
    g, x = codes[ok], v[ok]
    count = np.bincount(g, minlength=n_groups)
    mean = np.bincount(g, weights=x, minlength=n_groups) / np.maximum(count, 1)
    ss = np.bincount(g, weights=(x - mean[g]) ** 2, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 1, np.sqrt(ss / np.maximum(count - 1, 1)), np.nan)


def group_quantile(codes: np.ndarray, n_groups: int, values: Any, q: float) -> np.ndarray:
    """Quantile ``q`` of the non-``nan`` values of every group, linear
    interpolation between order statistics (pandas' and NumPy's default);
    ``q=0.5`` is the median."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must lie in [0, 1], got {q}")
    v = np.asarray(values, dtype=np.float64)
    ok = _valid(codes, v)
    g, x = codes[ok], v[ok]
    order = np.lexsort((x, g))
    g, x = g[order], x[order]
    count = np.bincount(g, minlength=n_groups)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    out = np.full(n_groups, np.nan)
    has = count > 0
    pos = q * (count[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, count[has] - 1)
    frac = pos - lo
    x_lo = x[start[has] + lo]
    x_hi = x[start[has] + hi]
    out[has] = x_lo + (x_hi - x_lo) * frac
    return out


def group_first(codes: np.ndarray, n_groups: int, values: Any) -> np.ndarray:
    """First non-missing value of every group in row order (pandas' ``first``).

    Returns an object array for non-numeric values; ``nan`` (numeric) or
    ``None`` (object) for a group without one.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    ok = (codes >= 0) & ~series.isna().to_numpy()
    rows = np.flatnonzero(ok)
    # np.unique's return_index gives the first occurrence of every group code
    present, at = np.unique(codes[rows], return_index=True)
    # only the chosen rows are converted (converting a whole Arrow string column is slow)
    chosen = series.iloc[rows[at]].to_numpy()
    if chosen.dtype.kind in "fiub":
        out = np.full(n_groups, np.nan)
    else:
        out = np.full(n_groups, None, dtype=object)
    out[present] = chosen
    return out
