"""What telephone-band audio does to the default detector.

The shipped reference and calibration come from recordings made at 16 kHz or
more. Evidence recorded at 8 kHz holds nothing above 4 kHz, and the tract
estimator and its dynamics see a different spectrum. This benchmark takes every
recording of the labelled corpus in ``../shared/data`` (:mod:`_detection_corpus`,
alignments cached), band-limits its audio to the telephone band (resampled
16 kHz -> 8 kHz -> 16 kHz, the path an 8 kHz file takes through
:func:`vtract.load`), and measures the tract-dynamics statistic of the *shipped*
calibration on the original and the band-limited copy, with the same alignment
(so only the audio differs).

Printed and written to ``results/band_limited.json`` (``band_limited_<rate>.json``
for another ``--rate``): per label, how many recordings lie above the calibrated
threshold before and after, the median shift of the statistic, the ROC AUC of
the statistic before and after, the descriptor medians, and the high-band level
(:mod:`vtract.bandwidth`) of originals and copies with the share below
:data:`~vtract.bandwidth.MIN_HIGH_BAND_DB`, and their spectral-edge drop
(:func:`~vtract.bandwidth.spectral_edge`) with the share at or above
:data:`~vtract.bandwidth.MIN_EDGE_DROP_DB` (either rule: called
band-limited by ``vtract.analyze`` even when stored at a full-band rate). The shipped calibration was fitted on these recordings, so
the "original" figures are in-sample (optimistic); the comparison between the
two columns is what this measures. ``vtract.analyze`` gives ``inconclusive`` for
evidence below :data:`vtract.analysis.MIN_CALIBRATED_RATE_HZ` because of it.

Usage: ``python benchmarks/bench_band_limited.py [--libri N] [--rate 8000]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vtract
from _detection_corpus import (
    SHARED,
    Item,
    cached_alignment,
    cached_features,
    corpus_items,
    item_features,
)
from _harness import emit_result
from bench_detection import SETTINGS
from vtract.bandwidth import (
    EDGE_SEARCH_HZ,
    HIGH_BAND_HZ,
    MIN_EDGE_DROP_DB,
    MIN_HIGH_BAND_DB,
    band_limit_measures,
)
from vtract.detect.calibration import Calibration, roc_auc
from vtract.detect.default import MIN_BIGRAMS, MIN_BIGRAMS_LOW_CONFIDENCE
from vtract.detect.dynamics import DESCRIPTORS, DescriptorModel, recording_descriptors
from vtract.evidence import Evidence, resample

#: The estimator's rate: band-limited audio is brought back to it, as vtract.load does.
ANALYSIS_RATE = 16000


def band_limited(ev: Evidence, rate: int) -> Evidence:
    """``ev`` passed through ``rate`` Hz and back: nothing above ``rate / 2`` is left."""
    x = np.asarray(ev.samples, dtype=np.float64)
    y = resample(resample(x, ev.sr, rate), rate, ev.sr)[: x.size]
    return Evidence.from_array(np.ascontiguousarray(y, dtype=np.float32), ev.sr)


def scored_row(
    item: Item,
    kind: str,
    table: pd.DataFrame,
    model: DescriptorModel,
    low_confidence: bool,
    voice: DescriptorModel | None = None,
    **measures: float,
) -> dict[str, Any] | None:
    """One result row: the recording, ``kind``, ``measures``, its statistic and descriptors.

    ``None`` when the detector would have too little evidence: fewer bigram
    boundaries than its minimum (higher for recognised phones), or a
    descriptor that cannot be computed. With ``voice`` (the dry-voice
    model of a reference calibrated ``--with-shimmer``) the row also holds
    its statistic (``statistic_dry_voice``, ``nan`` without a shimmer) and
    ``log_shimmer``.
    """
    need = MIN_BIGRAMS_LOW_CONFIDENCE if low_confidence else MIN_BIGRAMS
    if table.empty or table["boundary_s"].nunique() < need:
        return None
    d = recording_descriptors(table.assign(file=item.key))
    if d[list(DESCRIPTORS)].isna().any(axis=None):
        return None
    row = {
        "file": item.key,
        "label": item.label,
        "kind": kind,
        **measures,
        "statistic": float(model.statistic(d)[0]),
        **{c: float(d[c].iloc[0]) for c in DESCRIPTORS},
    }
    if voice is not None:
        row["statistic_dry_voice"] = float(voice.statistic(d)[0])
        row["log_shimmer"] = float(d["log_shimmer"].iloc[0])
    return row


def recording_statistics(item: Item, model: DescriptorModel, rate: int) -> list[dict[str, Any]]:
    """Descriptors and statistic of the original and the band-limited copy of one recording."""
    ev = vtract.load(item.path, sr=ANALYSIS_RATE)
    aln = cached_alignment(item, ev)
    if aln is None:
        return []
    narrow = band_limited(ev, rate)
    tables = {
        "original": cached_features(item, SETTINGS),
        "band_limited": item_features(item, narrow, aln, SETTINGS),
    }
    # high-band level and spectral-edge drop, from one long-term spectrum each
    bands = {
        "original": band_limit_measures(ev.samples, ev.sr),
        "band_limited": band_limit_measures(narrow.samples, narrow.sr),
    }
    rows = []
    for kind, table in tables.items():
        row = scored_row(
            item,
            kind,
            table,
            model,
            aln.low_confidence,
            high_band_level_db=bands[kind][0],
            edge_drop_db=bands[kind][2],
        )
        if row is not None:
            rows.append(row)
    return rows


def summarise(rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Threshold crossings, shifts and AUCs of recordings measured both ways."""
    both = rows.pivot_table(index=["file", "label"], columns="kind", values="statistic")
    both = both.dropna().reset_index()
    out: dict[str, Any] = {"threshold": threshold, "per_label": {}}
    for label, g in both.groupby("label"):
        out["per_label"][label] = {
            "n": len(g),
            "above_threshold_original": round(float((g["original"] > threshold).mean()), 4),
            "above_threshold_band_limited": round(float((g["band_limited"] > threshold).mean()), 4),
            "median_statistic_shift": round(float((g["band_limited"] - g["original"]).median()), 3),
        }
        for kind in ("original", "band_limited"):
            picked = rows["file"].isin(g["file"]) & (rows["kind"] == kind)
            level = rows.loc[picked, "high_band_level_db"]
            out["per_label"][label][f"high_band_db_{kind}"] = {
                "min": round(float(level.min()), 1),
                "median": round(float(level.median()), 1),
                "max": round(float(level.max()), 1),
                # what vtract.analyze calls band-limited (inconclusive) at this level
                "below_min_high_band_db": round(float((level < MIN_HIGH_BAND_DB).mean()), 4),
            }
            drop = rows.loc[picked, "edge_drop_db"]
            out["per_label"][label][f"edge_drop_db_{kind}"] = {
                "min": round(float(drop.min()), 1),
                "median": round(float(drop.median()), 1),
                "max": round(float(drop.max()), 1),
                "at_least_min_edge_drop_db": round(float((drop >= MIN_EDGE_DROP_DB).mean()), 4),
            }
            # either rule: what vtract.analyze calls band-limited at a full-band rate
            either = (level < MIN_HIGH_BAND_DB) | (drop >= MIN_EDGE_DROP_DB)
            out["per_label"][label][f"called_band_limited_{kind}"] = round(float(either.mean()), 4)
    y = (both["label"] != "organic").to_numpy()
    for kind in ("original", "band_limited"):
        out[f"auc_{kind}"] = round(roc_auc(y, both[kind].to_numpy(np.float64)), 4)
    kept = rows[rows["file"].isin(both["file"])]
    medians = kept.groupby(["label", "kind"])[list(DESCRIPTORS)].median().round(3)
    out["descriptor_medians"] = {
        f"{label}/{kind}": medians.loc[(label, kind)].to_dict() for label, kind in medians.index
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--libri", type=int, default=None, help="LibriSpeech files per subset")
    ap.add_argument("--rate", type=int, default=8000, help="band-limiting rate (Hz)")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    cal = Calibration.from_dict(vtract.default_reference().calibration["default"])
    model = DescriptorModel.from_dict(cal.model)
    items = corpus_items(librispeech_per_subset=args.libri)
    rows: list[dict[str, Any]] = []
    for n, item in enumerate(items, 1):
        rows += recording_statistics(item, model, args.rate)
        if n % 50 == 0:
            print(f"{n}/{len(items)} recordings", flush=True)
    figures = summarise(pd.DataFrame(rows), cal.threshold)
    figures["rate_hz"] = args.rate
    figures["min_high_band_db"] = MIN_HIGH_BAND_DB
    figures["min_edge_drop_db"] = MIN_EDGE_DROP_DB
    params = {
        "settings": SETTINGS,
        "rate_hz": args.rate,
        "librispeech_per_subset": args.libri,
        "high_band_hz": list(HIGH_BAND_HZ),
        "edge_search_hz": list(EDGE_SEARCH_HZ),
    }
    name = "band_limited" if args.rate == 8000 else f"band_limited_{args.rate}"
    emit_result(name, figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
