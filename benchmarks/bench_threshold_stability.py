"""How steady is the shipped 1 % threshold? A bootstrap over the organic speakers.

Run: ``python benchmarks/bench_threshold_stability.py [--boot 2000] [--fpr 0.01]``
-> prints figures and writes ``benchmarks/results/threshold_stability.json``.

The packaged threshold is the conformal 1 % point of the out-of-fold
statistics of the organic calibration recordings (459 recordings of 328
speakers; ``scripts/calibrate_default_reference.py``), counted per speaker
since session 22 (``docs/DETECTION.md``, "Counting speakers"). A 1 % point of
about 330 speakers rests on the two or three most extreme of them, so it
moves with the sample. This script computes the same out-of-fold statistics
as the calibration script (same recordings, same
:func:`vtract.detect.fitting.dynamics_calibration`; the full-sample thresholds
must equal the packaged reference's when it was built from them, or the script
stops),
then draws the organic *speakers* with replacement ``--boot`` times (a speaker
drawn twice counts as two speakers) and sets the threshold on every draw with
both rules: ``speaker`` (shipped) and ``recording`` (until session 21). The
descriptor model is held fixed: this measures the threshold's sampling
variability only, not the model's.

Per rule it reports the threshold on the full sample, the bootstrap 5 / 50 /
95 % quantiles of the threshold, of the recall of the out-of-fold fakes at it,
and of the plug-in false-positive rate: the share of all organic out-of-fold
statistics at or above the bootstrap threshold, per recording and with every
speaker weighing one (the rate the speaker rule's guarantee bounds), and the
share of draws whose plug-in speaker-weighted rate exceeds the target.
Needs ``../shared/data`` and the benchmark cache of ``bench_detection.py``
(alignments and features; about a minute when cached).
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

import vtract
from _detection_corpus import SHARED, calibration_recordings, corpus_items
from _harness import emit_result
from vtract.detect.calibration import threshold_at_fpr
from vtract.detect.default import MIN_BIGRAMS
from vtract.detect.dynamics import DESCRIPTORS, recording_descriptors
from vtract.detect.fitting import dynamics_calibration

RULES = ("speaker", "recording")


def out_of_fold_statistics(
    fpr: float,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, float], dict[str, Any]]:
    """Organic out-of-fold statistics with their speakers, the fakes' ones, and the
    full-sample thresholds of both rules, as ``scripts/calibrate_default_reference.py``
    computes them for the packaged reference."""
    ref = vtract.default_reference()
    feats, stats = calibration_recordings(ref, corpus_items())
    feats = feats[feats["file"].isin(set(stats["file"]))]
    desc = recording_descriptors(feats)
    cal, s_org, s_syn = dynamics_calibration(feats, stats, target_fpr=fpr, descriptors=desc)
    # the organic files behind s_org, in dynamics_calibration's order (sorted by file,
    # at least MIN_BIGRAMS bigrams, every descriptor defined)
    meta = feats.groupby("file", sort=True).agg(
        label=("label", "first"), speaker=("speaker", "first")
    )
    enough = stats.set_index("file")["n_bigrams"].reindex(meta.index).fillna(0) >= MIN_BIGRAMS
    finite = np.all(np.isfinite(desc.reindex(meta.index)[list(DESCRIPTORS)].to_numpy()), axis=1)
    organic = meta[enough.to_numpy() & finite & (meta["label"] == "organic").to_numpy()]
    if len(organic) != s_org.size:
        raise RuntimeError(f"{len(organic)} organic files for {s_org.size} statistics")
    organic = organic.assign(statistic=s_org)
    # the out-of-fold statistics do not depend on the rule, only the cut does
    full = {
        "speaker": float(cal.threshold),
        "recording": threshold_at_fpr(s_org, fpr),
    }
    if threshold_at_fpr(s_org, fpr, groups=organic["speaker"].to_numpy()) != full["speaker"]:
        raise RuntimeError("the speakers behind the statistics are not the calibration's")
    stored = ref.calibration.get("default", {})
    # checked, not only recorded (benchmark audit F7, session 31): a packaged calibration
    # built from these very recordings must have this full-sample threshold
    files = stored.get("metrics", {}).get("calibration_files", {})
    built_from_these = sorted(files.get("organic", [])) == sorted(map(str, organic.index))
    packaged = stored.get("threshold")
    if built_from_these and not (
        isinstance(packaged, float) and abs(packaged - full["speaker"]) <= 1e-9
    ):
        raise RuntimeError(
            f"the packaged threshold {packaged} was set on these recordings but they give "
            f"{full['speaker']}: the cache, the code or the reference differ from the calibration's"
        )
    check = {
        "packaged_threshold": packaged,
        "packaged_built_from_these_recordings": built_from_these,
        "packaged_rule": stored.get("metrics", {}).get("threshold_rule"),
        "n_organic": int(s_org.size),
        "n_speakers": int(organic["speaker"].nunique()),
        "n_synthetic": int(s_syn.size),
    }
    return organic, s_syn, full, check


def speaker_weighted_share(organic: pd.DataFrame, threshold: float) -> float:
    """Mean over speakers of the share of their statistics at or above ``threshold``."""
    above = organic["statistic"].to_numpy() >= threshold
    return float(pd.Series(above, index=organic.index).groupby(organic["speaker"]).mean().mean())


def bootstrap(
    organic: pd.DataFrame, synthetic: np.ndarray, fpr: float, n_boot: int, seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """Thresholds, fake recall and plug-in FPRs of ``n_boot`` speaker resamples, per rule."""
    rng = np.random.default_rng(seed)
    speakers = organic["speaker"].astype(str).to_numpy()
    names, codes = np.unique(speakers, return_inverse=True)
    members = [np.flatnonzero(codes == k) for k in range(names.size)]
    stat = organic["statistic"].to_numpy(np.float64)
    out: dict[str, dict[str, list[float]]] = {
        r: {"threshold": [], "recall": [], "fpr_recordings": [], "fpr_speakers": []} for r in RULES
    }
    for _ in range(n_boot):
        drawn = rng.integers(0, names.size, names.size)
        idx = np.concatenate([members[k] for k in drawn])
        groups = np.repeat(np.arange(drawn.size), [members[k].size for k in drawn])
        for rule in RULES:
            thr = threshold_at_fpr(stat[idx], fpr, groups=groups if rule == "speaker" else None)
            out[rule]["threshold"].append(thr)
            out[rule]["recall"].append(float(np.mean(synthetic >= thr)))
            out[rule]["fpr_recordings"].append(float(np.mean(stat >= thr)))
            out[rule]["fpr_speakers"].append(speaker_weighted_share(organic, thr))
    return {r: {k: np.asarray(v) for k, v in d.items()} for r, d in out.items()}


def summarise(
    draws: dict[str, dict[str, np.ndarray]],
    organic: pd.DataFrame,
    synthetic: np.ndarray,
    full: dict[str, float],
    fpr: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rule, d in draws.items():
        thr = full[rule]
        out[rule] = {
            "full_sample": {
                "threshold": thr,
                "recall": float(np.mean(synthetic >= thr)),
                "fpr_recordings": float(np.mean(organic["statistic"].to_numpy() >= thr)),
                "fpr_speakers": speaker_weighted_share(organic, thr),
            },
            **{
                name: {
                    f"q{int(q * 100):02d}": round(float(np.quantile(v, q)), 5)
                    for q in (0.05, 0.5, 0.95)
                }
                for name, v in d.items()
            },
            "share_of_draws_fpr_speakers_above_target": float(np.mean(d["fpr_speakers"] > fpr)),
            "share_of_draws_fpr_recordings_above_target": float(np.mean(d["fpr_recordings"] > fpr)),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boot", type=int, default=2000, help="speaker resamples")
    ap.add_argument("--fpr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    t0 = time.time()
    organic, synthetic, full, check = out_of_fold_statistics(args.fpr)
    print(f"full-sample thresholds {full}; packaged {check['packaged_threshold']}", flush=True)
    draws = bootstrap(organic, synthetic, args.fpr, args.boot, args.seed)
    figures = {
        "corpus": check,
        "rules": summarise(draws, organic, synthetic, full, args.fpr),
        "seconds": round(time.time() - t0, 1),
    }
    params = {"boot": args.boot, "fpr": args.fpr, "seed": args.seed}
    emit_result("threshold_stability", figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
