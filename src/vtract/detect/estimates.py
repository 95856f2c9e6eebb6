"""Rebuild :class:`~vtract.tract.result.TractEstimate` objects from a feature table.

The feature table (FEATURES.md) stores one row per (window, section). The
anatomical plausibility checks take estimates, so the analysis turns the
rows of each window back into an estimate instead of estimating twice.
Bandwidths are not in the table and come back as an empty array.

The areas are the table's (resampled to its fixed section count on the
glottis-to-lips axis), not the estimator's native sections. Analysis,
calibration and benchmarks all compute flags this way, from the table, so a
recording's statistic is the same whichever of them computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import VtractError
from ..report import Flag
from ..tract.result import TractEstimate

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
    """

    bigram: str
    boundary_s: float
    estimates: list[TractEstimate]
    times: np.ndarray
    phones: list[str]


def _estimate(rows: pd.DataFrame) -> TractEstimate:
    rows = rows.sort_values("section")
    areas = rows["area_cm2"].to_numpy(np.float64)
    n = areas.size
    length = float(rows["length_cm"].iloc[0]) if "length_cm" in rows else float("nan")
    refl = (areas[1:] - areas[:-1]) / (areas[1:] + areas[:-1]) if n > 1 else np.empty(0)
    first = rows.iloc[0]
    formants = np.array(
        [
            float(first[c])
            for c in ("f1_hz", "f2_hz", "f3_hz")
            if c in rows and np.isfinite(first[c])
        ]
    )
    return TractEstimate(
        areas=areas,
        section_length_cm=length / n if n else float("nan"),
        length_cm=length,
        reflection=refl,
        formants_hz=formants,
        bandwidths_hz=np.empty(0),
        fit_error_db=float(first["fit_error_db"]) if "fit_error_db" in rows else float("nan"),
        method=str(first["method"]) if "method" in rows else "",
    )


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
    need = ("bigram", "boundary_s", "window_index", "section", "area_cm2")
    missing = [c for c in need if c not in features.columns]
    if missing:
        raise VtractError(f"feature table lacks column(s) {missing}")
    out = []
    for (bigram, boundary), grp in features.groupby(["bigram", "boundary_s"], sort=False):
        wins = sorted(grp.groupby("window_index"), key=lambda kv: kv[0])
        ests = [_estimate(w) for _, w in wins]
        offsets = np.array(
            [float(w["offset_s"].iloc[0]) if "offset_s" in w else 0.0 for _, w in wins]
        )
        times = float(boundary) + offsets
        p1, _, p2 = str(bigram).partition("-")
        phones = [p1 if off < 0 else p2 for off in offsets]
        out.append(BigramOccurrence(str(bigram), float(boundary), ests, times, phones))
    out.sort(key=lambda o: o.boundary_s)
    return out


def plausibility_flags(features: pd.DataFrame) -> list[Flag]:
    """Anatomical plausibility flags of one recording's feature table.

    Runs :func:`vtract.plausibility.check_plausibility` on every bigram
    occurrence (its windows in time order), as :func:`vtract.analyze` does.
    """
    from ..plausibility import check_plausibility

    flags: list[Flag] = []
    for occ in occurrences_from_features(features):
        flags.extend(
            check_plausibility(occ.estimates, bigram=occ.bigram, times=occ.times, phones=occ.phones)
        )
    return flags
