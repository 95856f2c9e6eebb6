"""Does any shimmer survive a room? Invariance of five shimmer measures on organic speech.

Session 19 found that Praat's local shimmer of a recording separates
synthetic from organic speech (leave-one-generator-out AUC 0.885 -> 0.934
beside the tract descriptors) but that a 0.3 s room pushes organic
recordings toward "synthetic" (``docs/DETECTION.md``). This benchmark asks,
on the organic recordings of ``../shared/data`` only (no fakes are looked
at), whether a differently measured shimmer is left alone by the recording
chain. All five come from the same Praat analysis (``To Pitch (cc)`` and
``To PointProcess (cc)`` with :mod:`vtract.voice_source`'s settings, and
``To AmplitudeTier (period)``: one peak amplitude per glottal period):

``shimmer_all``
    Praat's ``Get shimmer (local)`` of the whole recording (the measure of
    :func:`vtract.voice_source.voice_perturbation`);
``shimmer_apq11``
    Praat's ``Get shimmer (apq11)``: each amplitude against the mean of its
    eleven neighbours (insensitive to slow level changes);
``shimmer_vowel_mid``
    local shimmer over pairs of consecutive periods that both lie in the
    middle half of an aligned monophthong (phone class ``vowel``): the
    steady nuclei, where a linear room applied to a periodic signal would
    leave the period-to-period amplitude alone;
``shimmer_hnr15``
    local shimmer over pairs where Praat's ``Harmonicity (cc)`` (10 ms
    steps, linearly interpolated to the period) is at least
    :data:`MIN_HNR_DB` at both periods;
``shimmer_vowel_mid_hnr15``
    both restrictions.

The local shimmer of a set of pairs is the mean absolute amplitude
difference over the pairs divided by the mean amplitude of the periods in
them; pairs whose amplitude ratio exceeds Praat's 1.6 are skipped, as
Praat does; fewer than :data:`MIN_PAIRS` pairs give ``nan``.

Each organic recording is analysed at 16 kHz as loaded and degraded as
:mod:`bench_degradations` degrades it (same functions and seeds; the
conditions in :data:`CONDITIONS`). Printed and written to
``results/shimmer_invariance.json``, per measure: its coverage (share of
recordings with a defined value), median and 95th percentile on the clean
copies, and per condition the median change of ``ln`` shimmer in units of
the clean copies' interquartile range and the share of degraded copies
above the clean 95th percentile (5 % if the condition did nothing).

The rule this was run under (written before the numbers) and its outcome
are in ``docs/DETECTION.md`` ("Session 20").

Usage: ``python benchmarks/bench_shimmer_invariance.py [--jobs 2] [--libri N]
[--rows rows.parquet | --from-rows rows.parquet]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _detection_corpus import SHARED, Item, corpus_items
from _harness import emit_result
from bench_degradations import degraded_copies
from vtract.alignment.labels import CLASS_VOWEL, phone_class
from vtract.alignment.model import Alignment
from vtract.voice_source import (
    MAX_AMPLITUDE_FACTOR,
    MAX_PERIOD_FACTOR,
    MIN_PERIODS,
    PERIOD_CEILING_S,
    PERIOD_FLOOR_S,
    PITCH_CEILING_HZ,
    PITCH_FLOOR_HZ,
)

#: The degradations of :mod:`bench_degradations` measured here.
CONDITIONS = (
    "reverb_rt0.3",
    "reverb_rt0.7",
    "white_snr30",
    "white_snr20",
    "pink_snr20",
    "babble_snr20",
    "speech_shaped_snr20",
    "mp3_24kbps",
    "opus_14kbps",
    "clip_1pct",
)
MEASURES = (
    "shimmer_all",
    "shimmer_apq11",
    "shimmer_vowel_mid",
    "shimmer_hnr15",
    "shimmer_vowel_mid_hnr15",
)
#: Fewest period pairs a restricted shimmer is computed from.
MIN_PAIRS = 20
#: Harmonics-to-noise ratio a period must reach for ``shimmer_hnr15`` (dB).
MIN_HNR_DB = 15.0
#: Hop of Praat's harmonicity analysis (s).
HNR_STEP_S = 0.01


def vowel_nucleus_mask(times: np.ndarray, alignment: Alignment) -> np.ndarray:
    """True for each time inside the middle half of an aligned monophthong."""
    phones = alignment.phones
    vowels = phones[[phone_class(label) == CLASS_VOWEL for label in phones["label"]]]
    start = vowels["start"].to_numpy(np.float64)
    end = vowels["end"].to_numpy(np.float64)
    if start.size == 0:
        return np.zeros(times.size, dtype=bool)
    lo = start + (end - start) / 4
    hi = end - (end - start) / 4
    k = np.searchsorted(lo, times, side="right") - 1
    return (k >= 0) & (times <= hi[np.clip(k, 0, None)])


def pair_shimmer(amplitudes: np.ndarray, pairs: np.ndarray) -> float:
    """Local shimmer over the consecutive-period pairs ``i, i + 1`` where ``pairs[i]``."""
    if int(pairs.sum()) < MIN_PAIRS:
        return float("nan")
    used = np.zeros(amplitudes.size, dtype=bool)
    used[:-1] |= pairs
    used[1:] |= pairs
    diffs = np.abs(np.diff(amplitudes))[pairs]
    return float(diffs.mean() / amplitudes[used].mean())


def shimmer_measures(samples: np.ndarray, sr: float, alignment: Alignment) -> dict[str, float]:
    """The five measures of the module docstring for one recording."""
    import parselmouth
    from parselmouth.praat import call

    out = dict.fromkeys(MEASURES, float("nan"))
    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=float(sr))
    pitch = sound.to_pitch_cc(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    points = call([sound, pitch], "To PointProcess (cc)")
    if int(call(points, "Get number of points")) < MIN_PERIODS:
        return out
    limits = (0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR)
    out["shimmer_all"] = float(
        call([sound, points], "Get shimmer (local)", *limits, MAX_AMPLITUDE_FACTOR)
    )
    out["shimmer_apq11"] = float(
        call([sound, points], "Get shimmer (apq11)", *limits, MAX_AMPLITUDE_FACTOR)
    )
    tier = call([sound, points], "To AmplitudeTier (period)", *limits)
    if int(call(tier, "Get number of points")) < 2:
        return out
    table = call(call(tier, "Down to TableOfReal"), "To Matrix").values
    times, amplitudes = table[:, 0].copy(), table[:, 1].copy()
    # the tier keeps periods that meet the limits; a pair is two consecutive points
    point_times = call(points, "To Matrix").values[0]
    consecutive = np.diff(np.searchsorted(point_times, times)) == 1
    positive = amplitudes > 0
    lo = np.minimum(amplitudes[1:], amplitudes[:-1])
    hi = np.maximum(amplitudes[1:], amplitudes[:-1])
    pairs = consecutive & positive[1:] & positive[:-1]
    pairs &= hi <= MAX_AMPLITUDE_FACTOR * np.where(lo > 0, lo, np.inf)
    harmonicity = sound.to_harmonicity_cc(time_step=HNR_STEP_S, minimum_pitch=PITCH_FLOOR_HZ)
    hnr = np.interp(times, harmonicity.xs(), harmonicity.values[0], left=-200.0, right=-200.0)
    nucleus = vowel_nucleus_mask(times, alignment)
    harmonic = hnr >= MIN_HNR_DB
    in_nucleus = nucleus[1:] & nucleus[:-1]
    in_harmonic = harmonic[1:] & harmonic[:-1]
    out["shimmer_vowel_mid"] = pair_shimmer(amplitudes, pairs & in_nucleus)
    out["shimmer_hnr15"] = pair_shimmer(amplitudes, pairs & in_harmonic)
    out["shimmer_vowel_mid_hnr15"] = pair_shimmer(amplitudes, pairs & in_nucleus & in_harmonic)
    return out


def recording_rows(item: Item) -> list[dict[str, Any]]:
    """The measures of one recording, clean and under every condition."""
    return [
        {"file": item.path.name, "kind": kind, **shimmer_measures(y, sr, alignment)}
        for kind, y, sr, alignment in degraded_copies(item, CONDITIONS)
    ]


def summarise(rows: pd.DataFrame) -> dict[str, Any]:
    """Per measure: clean coverage and spread, per condition the shift and share above p95."""
    clean = rows[rows["kind"] == "original"].set_index("file")
    out: dict[str, Any] = {"n_recordings": len(clean), "measures": {}}
    for m in MEASURES:
        v0 = clean[m].to_numpy(np.float64)
        ok0 = np.isfinite(v0)
        ln0 = np.log(v0[ok0])
        iqr = float(np.percentile(ln0, 75) - np.percentile(ln0, 25))
        p95 = float(np.percentile(v0[ok0], 95))
        entry: dict[str, Any] = {
            "coverage_clean": round(float(ok0.mean()), 4),
            "median_clean": round(float(np.median(v0[ok0])), 4),
            "p95_clean": round(p95, 4),
            "iqr_ln_clean": round(iqr, 3),
            "conditions": {},
        }
        for kind in CONDITIONS:
            g = rows[rows["kind"] == kind].set_index("file")[m].reindex(clean.index)
            v = g.to_numpy(np.float64)
            both = ok0 & np.isfinite(v)
            entry["conditions"][kind] = {
                "coverage": round(float(np.isfinite(v).mean()), 4),
                "median_ln_shift_in_iqr": round(
                    float(np.median(np.log(v[both]) - np.log(v0[both])) / iqr), 2
                ),
                "above_clean_p95": round(float((v[both] > p95).mean()), 4),
            }
        worst = max(entry["conditions"], key=lambda k: entry["conditions"][k]["above_clean_p95"])
        entry["worst_condition"] = worst
        entry["worst_above_clean_p95"] = entry["conditions"][worst]["above_clean_p95"]
        out["measures"][m] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--libri", type=int, default=None, help="LibriSpeech files per subset")
    ap.add_argument("--jobs", type=int, default=1, help="recordings processed in parallel")
    ap.add_argument("--rows", type=Path, default=None, help="keep per-recording rows (Parquet)")
    ap.add_argument("--from-rows", type=Path, default=None, help="summarise rows kept by --rows")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    t0 = time.time()
    if args.from_rows is not None:
        rows = pd.read_parquet(args.from_rows)
    else:
        from joblib import Parallel, delayed

        items = [
            it for it in corpus_items(librispeech_per_subset=args.libri) if it.label == "organic"
        ]
        per_item = Parallel(n_jobs=args.jobs, verbose=5 if args.jobs > 1 else 0)(
            delayed(recording_rows)(item) for item in items
        )
        rows = pd.DataFrame([r for rs in per_item for r in rs])
        if args.rows is not None:
            rows.to_parquet(args.rows)
    figures = summarise(rows)
    if args.from_rows is None:
        figures["seconds"] = round(time.time() - t0, 1)
    params = {
        "conditions": list(CONDITIONS),
        "min_pairs": MIN_PAIRS,
        "min_hnr_db": MIN_HNR_DB,
        "librispeech_per_subset": args.libri,
        "from_rows": None if args.from_rows is None else str(args.from_rows),
    }
    emit_result("shimmer_invariance", figures, params, write=not args.no_json)


if __name__ == "__main__":
    # run the importable module so joblib workers find recording_rows by reference
    import bench_shimmer_invariance

    bench_shimmer_invariance.main()
