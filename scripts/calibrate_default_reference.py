"""Calibrate the shipped default reference on held-out organic recordings.

The default detector's threshold must come from organic speech the
reference has NOT seen (files inside it deviate less than new speech). This
script takes the labelled corpus of ``../shared/data`` (the same listing as
``benchmarks/bench_detection.py``), keeps the ORGANIC recordings whose
SHA-256 is not among the reference's input files, computes the default
detector's statistic for each exactly as ``vtract.analyze`` does (reference
deviations + plausibility flags), and stores
``calibrate(statistics, target_fpr=...)`` as ``calibration["default"]``.
No synthetic speech is used (the default detector stays generator-agnostic).

Run: ``python scripts/calibrate_default_reference.py [--fpr 0.01] [--libri N]
[--reference IN] [--out OUT]`` (default: the packaged reference, in place).
Alignments/features are cached like the benchmark
(``$VTRACT_BENCH_CACHE``). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from _detection_corpus import SHARED, cached_features, corpus_items  # noqa: E402
from vtract.detect.calibration import calibrate  # noqa: E402
from vtract.detect.default import (  # noqa: E402
    FLAG_BASELINE_QUANTILE,
    MIN_BIGRAMS,
    MIN_REFERENCE_WEIGHT,
    combine,
    file_statistics,
)
from vtract.detect.fitting import flags_by_file  # noqa: E402
from vtract.provenance import file_sha256, provenance  # noqa: E402
from vtract.reference import Reference, default_reference_path  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", type=Path, default=default_reference_path())
    ap.add_argument("--out", type=Path, default=None, help="default: overwrite --reference")
    ap.add_argument("--fpr", type=float, default=0.01)
    ap.add_argument("--libri", type=int, default=100, help="LibriSpeech files per subset listed")
    ap.add_argument("--cached-only", action="store_true", help="only recordings already aligned")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 1
    ref = Reference.load(args.reference)
    inside = set(ref.files["sha256"].astype(str))
    settings = dict(ref.meta.get("settings", {}).get("extract_features", {}))
    settings["method"] = ref.method or "default"
    items = [
        it
        for it in corpus_items(librispeech_per_subset=args.libri)
        if it.label == "organic" and file_sha256(it.path) not in inside
    ]
    if args.cached_only:
        from _detection_corpus import is_alignment_cached

        items = [it for it in items if is_alignment_cached(it)]
    tables = [t for t in (cached_features(it, settings) for it in items) if len(t)]
    feats = pd.concat(tables, ignore_index=True)
    feats = feats[np.isfinite(feats["area_cm2"])]
    stats = file_statistics(feats, ref, flags_by_file(feats))
    ok = (stats["n_bigrams"] >= MIN_BIGRAMS) & (stats["weight_sum"] >= MIN_REFERENCE_WEIGHT)
    stats = stats[ok & np.isfinite(stats["statistic"])]
    baseline = float(np.quantile(stats["flagged"], FLAG_BASELINE_QUANTILE))
    statistic = combine(stats["deviation"], stats["flagged"], baseline)
    cal = replace(calibrate(statistic, target_fpr=args.fpr), flag_baseline=baseline)
    record = cal.to_dict()
    record["metrics"]["held_out_files"] = sorted(stats["file"].astype(str))
    record["metrics"]["provenance"] = provenance(
        {"script": "scripts/calibrate_default_reference.py", "fpr": args.fpr, "libri": args.libri},
        inputs={"reference": ref.sha256},
    )
    out = args.out or args.reference
    written = ref.with_calibration({**ref.calibration, "default": record}).save(out)
    print(
        json.dumps(
            {
                "out": str(written),
                "threshold": cal.threshold,
                "slope": cal.slope,
                "n_held_out_organic": len(stats),
                "organic_median": cal.metrics["organic_median"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
