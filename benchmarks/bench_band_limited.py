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
:data:`~vtract.bandwidth.MIN_EDGE_DROP_DB` (``called_band_limited_<kind>``: what ``vtract.analyze`` calls band-limited
even when stored at a full-band rate, since session 28 by all four thresholds
of :meth:`vtract.bandwidth.BandLimitMeasures.band_limited`;
``called_band_limited_long_term_<kind>``: by the two long-term ones alone,
the rule until session 27). The shipped calibration was fitted on these
recordings, so the "original" figures are in-sample (optimistic); the
comparison between the two columns is what this measures. ``vtract.analyze``
gives ``inconclusive`` for evidence below
:data:`vtract.analysis.MIN_CALIBRATED_RATE_HZ` because of it.

The band-limit decision on distorted audio (``band_limit_decision``):
clipping, a limiter or saturation refills the high band of band-limited audio
with distortion products (session-28 probe F1), so each recording and its
band-limited copy are also distorted three ways (:data:`DISTORTIONS`, the
probe's: ``clip_0.1pct`` and ``clip_1pct``, the peak brought down to where
0.1 % or 1 % of the samples exceed it, those samples clipped and the peak then
scaled to 0.9; ``tanh``, ``tanh(x / peak) / tanh(1)`` scaled to 0.9, which
compresses the peak by 2.4 dB). Per kind (``original``, ``band_limited``,
each also ``_clip_0.1pct``, ``_clip_1pct``, ``_tanh``) and label: ``n``, the
share called band-limited by the whole rule (``called_band_limited``) and by
the long-term thresholds alone (``called_band_limited_long_term``), the
min / median / max of the quieter frames' high-band level and edge drop and
the share of recordings on which they could not be measured, and the share
whose band-limit reason would say the high band sits mainly in the loudest
frames (``loud_frame_note``: band-limited, and the long-term level at least
:data:`~vtract.bandwidth.LOUD_FRAME_EXCESS_DB` above the quieter frames').
Only the audio is measured, so these figures need no tract analysis:
``--measures-only`` gives them alone, for every recording of the corpus (not
only those with enough bigram occurrences to be scored), in
``results/band_limited_measures.json`` (``band_limited_measures_<rate>.json``)
in a fraction of the time.

Usage: ``python benchmarks/bench_band_limited.py [--libri N] [--rate 8000]
[--measures-only]``
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
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
    LOUD_FRAME_EXCESS_DB,
    MIN_EDGE_DROP_DB,
    MIN_HIGH_BAND_DB,
    MIN_QUIET_EDGE_DROP_DB,
    MIN_QUIET_HIGH_BAND_DB,
    QUIET_FRAMES_BELOW_LOUDEST_DB,
    QUIET_FRAMES_QUANTILE,
    BandLimitMeasures,
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


def clipped(x: np.ndarray, share: float) -> np.ndarray:
    """``x`` with its peak brought down to where ``share`` of the samples exceed it (clipped
    there), then scaled to a peak of 0.9: no sample at full scale."""
    level = float(np.quantile(np.abs(x), 1.0 - share))
    return np.clip(x, -level, level) / level * 0.9


def saturated(x: np.ndarray) -> np.ndarray:
    """``tanh(x / peak) / tanh(1)`` scaled to a peak of 0.9 (the peak compressed by 2.4 dB)."""
    return np.tanh(x / np.abs(x).max()) / np.tanh(1.0) * 0.9


#: The distortions applied to each recording and its band-limited copy (session-28 probe F1).
DISTORTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "clip_0.1pct": lambda x: clipped(x, 0.001),
    "clip_1pct": lambda x: clipped(x, 0.01),
    "tanh": saturated,
}


def called_long_term(m: BandLimitMeasures) -> bool:
    """The band-limit rule until session 27: the long-term level and edge alone."""
    return bool(
        m.high_band_level_db < MIN_HIGH_BAND_DB or m.spectral_edge_drop_db >= MIN_EDGE_DROP_DB
    )


def decision_rows(item: Item, x: np.ndarray, narrow: np.ndarray, sr: int) -> list[dict[str, Any]]:
    """The band-limit measures and decisions of the recording, its band-limited copy and their
    :data:`DISTORTIONS`, one row per kind."""
    rows = []
    for base, signal in (("original", x), ("band_limited", narrow)):
        kinds = {base: signal} | {f"{base}_{d}": f(signal) for d, f in DISTORTIONS.items()}
        for kind, y in kinds.items():
            m = band_limit_measures(y.astype(np.float32), sr)
            called = m.band_limited()
            rows.append(
                {
                    "file": item.key,
                    "label": item.label,
                    "kind": kind,
                    **m._asdict(),
                    "called": called,
                    "called_long_term": called_long_term(m),
                    "loud_frame_note": called and m.loud_frame_excess_db() >= LOUD_FRAME_EXCESS_DB,
                }
            )
    return rows


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


def recording_statistics(
    item: Item, model: DescriptorModel, rate: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Descriptors and statistic of the original and the band-limited copy of one recording,
    and :func:`decision_rows`."""
    ev = vtract.load(item.path, sr=ANALYSIS_RATE)
    aln = cached_alignment(item, ev)
    if aln is None:
        return [], []
    narrow = band_limited(ev, rate)
    decisions = decision_rows(
        item, np.asarray(ev.samples, np.float64), np.asarray(narrow.samples, np.float64), ev.sr
    )
    tables = {
        "original": cached_features(item, SETTINGS),
        "band_limited": item_features(item, narrow, aln, SETTINGS),
    }
    # the band-limit measures (long-term and quieter frames), from one pass each
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
            high_band_level_db=bands[kind].high_band_level_db,
            edge_drop_db=bands[kind].spectral_edge_drop_db,
            called=float(bands[kind].band_limited()),
            called_long_term=float(called_long_term(bands[kind])),
        )
        if row is not None:
            rows.append(row)
    return rows, decisions


def recording_measures(item: Item, rate: int) -> list[dict[str, Any]]:
    """:func:`decision_rows` of one recording, without alignment or tract analysis."""
    ev = vtract.load(item.path, sr=ANALYSIS_RATE)
    narrow = band_limited(ev, rate)
    x = np.asarray(ev.samples, np.float64)
    return decision_rows(item, x, np.asarray(narrow.samples, np.float64), ev.sr)


def _spread(values: pd.Series) -> dict[str, float]:
    """Min, median and max (NaN left out), to 0.1."""
    v = values.dropna()
    if v.empty:
        return {"min": math.nan, "median": math.nan, "max": math.nan}
    return {k: round(float(getattr(v, k)()), 1) for k in ("min", "median", "max")}


def summarise_decisions(rows: pd.DataFrame) -> dict[str, Any]:
    """``band_limit_decision``: per kind and label, how the rule decides (module docstring)."""
    out: dict[str, Any] = {}
    for (kind, label), g in rows.groupby(["kind", "label"], sort=True):
        out.setdefault(kind, {})[label] = {
            "n": len(g),
            "called_band_limited": round(float(g["called"].mean()), 4),
            "called_band_limited_long_term": round(float(g["called_long_term"].mean()), 4),
            "quiet_high_band_db": _spread(g["quiet_high_band_level_db"]),
            "quiet_edge_drop_db": _spread(g["quiet_spectral_edge_drop_db"]),
            "quiet_not_measured": round(float(g["quiet_high_band_level_db"].isna().mean()), 4),
            "high_band_db": _spread(g["high_band_level_db"]),
            "edge_drop_db": _spread(g["spectral_edge_drop_db"]),
            "loud_frame_note": round(float(g["loud_frame_note"].mean()), 4),
        }
    return out


def summarise(rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Threshold crossings, shifts and AUCs of recordings measured both ways."""
    both = rows.pivot_table(index=["file", "label"], columns="kind", values="statistic")
    both = both.dropna().reset_index()
    out: dict[str, Any] = {"threshold": threshold, "per_label": {}}
    out["scored_files"] = sorted(both["file"])  # taken out again by main
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
            # what vtract.analyze calls band-limited at a full-band rate (all four
            # thresholds), and what the two long-term ones alone called it until session 27
            called = rows.loc[picked, "called"]
            out["per_label"][label][f"called_band_limited_{kind}"] = round(float(called.mean()), 4)
            long_term = rows.loc[picked, "called_long_term"]
            out["per_label"][label][f"called_band_limited_long_term_{kind}"] = round(
                float(long_term.mean()), 4
            )
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
    ap.add_argument(
        "--measures-only",
        action="store_true",
        help="only the band-limit measures and decisions (no alignment or tract analysis)",
    )
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    items = corpus_items(librispeech_per_subset=args.libri)
    rows: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    figures: dict[str, Any] = {}
    if args.measures_only:
        for n, item in enumerate(items, 1):
            decisions += recording_measures(item, args.rate)
            if n % 50 == 0:
                print(f"{n}/{len(items)} recordings", flush=True)
    else:
        cal = Calibration.from_dict(vtract.default_reference().calibration["default"])
        model = DescriptorModel.from_dict(cal.model)
        for n, item in enumerate(items, 1):
            scored, measured = recording_statistics(item, model, args.rate)
            rows += scored
            decisions += measured
            if n % 50 == 0:
                print(f"{n}/{len(items)} recordings", flush=True)
        figures = summarise(pd.DataFrame(rows), cal.threshold)
        # the decision on the recordings scored both ways, as the figures above
        scored_files = set(figures.pop("scored_files"))
        decisions = [d for d in decisions if d["file"] in scored_files]
    figures["band_limit_decision"] = summarise_decisions(pd.DataFrame(decisions))
    figures["rate_hz"] = args.rate
    figures["min_high_band_db"] = MIN_HIGH_BAND_DB
    figures["min_edge_drop_db"] = MIN_EDGE_DROP_DB
    figures["min_quiet_high_band_db"] = MIN_QUIET_HIGH_BAND_DB
    figures["min_quiet_edge_drop_db"] = MIN_QUIET_EDGE_DROP_DB
    figures["loud_frame_excess_db"] = LOUD_FRAME_EXCESS_DB
    params = {
        "settings": SETTINGS,
        "rate_hz": args.rate,
        "librispeech_per_subset": args.libri,
        "high_band_hz": list(HIGH_BAND_HZ),
        "edge_search_hz": list(EDGE_SEARCH_HZ),
        "quiet_frames_below_loudest_db": list(QUIET_FRAMES_BELOW_LOUDEST_DB),
        "quiet_frames_quantile": QUIET_FRAMES_QUANTILE,
        "distortions": list(DISTORTIONS),
        "measures_only": args.measures_only,
    }
    name = "band_limited_measures" if args.measures_only else "band_limited"
    if args.rate != 8000:
        name += f"_{args.rate}"
    emit_result(name, figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
