"""Calibrate the shipped default reference on held-out recordings.

The default detector's threshold must come from organic speech the
reference has NOT seen (files inside it deviate less than new speech). This
script takes the labelled corpus of ``../shared/data`` (the same listing as
``benchmarks/bench_detection.py``), keeps the ORGANIC recordings whose
SHA-256 is not among the reference's input files and (unless ``--no-fakes``)
every SYNTHETIC recording, and stores the default detector's calibration as
``calibration["default"]`` (and with ``--with-shimmer`` the dry-voice model
as ``calibration["dry_voice"]``, :mod:`vtract.detect.default`):

- ``--statistic dynamics`` (default): every organic recording (the
  descriptors do not depend on the reference) and the fakes train the
  tract-dynamics descriptor model
  (:func:`vtract.detect.fitting.dynamics_calibration`): discriminative with
  the fakes, one-class with ``--no-fakes``; threshold at ``--fpr`` on
  speaker-grouped out-of-fold organic statistics;
- ``--statistic deviation``: the legacy reference deviation + flags,
  organic recordings only.

The figures a user should quote are the leave-one-generator-out ones of
``benchmarks/bench_detection.py``, not the calibration's own.

Run: ``python scripts/calibrate_default_reference.py [--fpr 0.01] [--libri N]
[--statistic dynamics|deviation] [--no-fakes] [--with-shimmer] [--threshold-by
recording|speaker] [--reference IN] [--out OUT]``
(default: the packaged reference, in place).
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from _detection_corpus import SHARED, calibration_recordings, corpus_items  # noqa: E402
from vtract.detect.calibration import calibrate  # noqa: E402
from vtract.detect.default import (  # noqa: E402
    DRY_VOICE,
    FLAG_BASELINE_QUANTILE,
    combine,
)
from vtract.detect.dynamics import (  # noqa: E402
    DESCRIPTORS,
    WITH_SHIMMER,
    recording_descriptors,
)
from vtract.detect.fitting import (  # noqa: E402
    THRESHOLD_BY,
    dynamics_calibration,
    file_speakers,
    merged_calibrations,
)
from vtract.provenance import file_sha256, provenance  # noqa: E402
from vtract.reference import Reference, default_reference_path  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", type=Path, default=default_reference_path())
    ap.add_argument("--out", type=Path, default=None, help="default: overwrite --reference")
    ap.add_argument("--fpr", type=float, default=0.01)
    ap.add_argument(
        "--libri", type=int, default=None, help="LibriSpeech files per subset (default: all)"
    )
    ap.add_argument("--cached-only", action="store_true", help="only recordings already aligned")
    ap.add_argument("--statistic", choices=["dynamics", "deviation"], default="dynamics")
    ap.add_argument("--no-fakes", action="store_true", help="organic recordings only")
    ap.add_argument(
        "--with-shimmer",
        action="store_true",
        help="also store the dry-voice calibration (the four descriptors and log_shimmer, "
        "used on recordings without a room; docs/DETECTION.md, session 20)",
    )
    ap.add_argument(
        "--threshold-by",
        choices=THRESHOLD_BY,
        default="speaker",
        help="what the threshold's conformal guarantee counts (vtract calibrate --threshold-by)",
    )
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 1
    ref = Reference.load(args.reference)
    inside = set(ref.files["sha256"].astype(str))
    # the dynamics descriptors do not depend on the reference, so its own
    # organic files are as new to them as any other; the deviation statistic
    # must be calibrated on files the reference has not seen
    dynamics = args.statistic == "dynamics"
    items = [
        it
        for it in corpus_items(librispeech_per_subset=args.libri)
        if (it.label == "organic" and (dynamics or file_sha256(it.path) not in inside))
        or (it.label == "synthetic" and dynamics and not args.no_fakes)
    ]
    if args.cached_only:
        from _detection_corpus import is_alignment_cached

        items = [it for it in items if is_alignment_cached(it)]
    feats, stats = calibration_recordings(ref, items, flags=not dynamics)
    if args.with_shimmer and args.statistic != "dynamics":
        print("--with-shimmer needs --statistic dynamics", file=sys.stderr)
        return 1
    if args.with_shimmer and "shimmer_local" not in feats.columns:
        print("--with-shimmer: the feature tables lack shimmer_local", file=sys.stderr)
        return 1
    calibrations = {}
    descriptors = None
    if args.statistic == "dynamics":
        feats = feats[feats["file"].isin(set(stats["file"]))]
        descriptors = recording_descriptors(feats)  # once, for every model below
        for key, names in (("default", DESCRIPTORS), (DRY_VOICE, WITH_SHIMMER)):
            if key == "default" or args.with_shimmer:
                calibrations[key] = dynamics_calibration(
                    feats,
                    stats,
                    target_fpr=args.fpr,
                    descriptors=descriptors,
                    names=names,
                    threshold_by=args.threshold_by,
                )[0]
    else:
        baseline = float(np.quantile(stats["flagged"], FLAG_BASELINE_QUANTILE))
        statistic = combine(stats["deviation"], stats["flagged"], baseline)
        speakers = file_speakers(feats).reindex(stats["file"]).to_numpy()
        groups = speakers if args.threshold_by == "speaker" else None
        calibrations["default"] = replace(
            calibrate(statistic, target_fpr=args.fpr, organic_groups=groups),
            flag_baseline=baseline,
        )
    records, summary = {}, {}
    for key, cal in calibrations.items():
        names = list(cal.model.get("names", []))
        # the files each model was calibrated on (the dry-voice one needs a defined shimmer)
        used = np.ones(len(stats), dtype=bool)
        if names:
            defined = descriptors.reindex(stats["file"])[names].to_numpy(np.float64)
            used = np.all(np.isfinite(defined), axis=1)
        records[key] = record = cal.to_dict()
        record["metrics"]["calibration_files"] = {
            lab: sorted(stats.loc[used & (stats["label"] == lab), "file"].astype(str))
            for lab in ("organic", "synthetic")
        }
        record["metrics"]["provenance"] = provenance(
            {
                "script": "scripts/calibrate_default_reference.py",
                "fpr": args.fpr,
                "libri": args.libri,
                "statistic": args.statistic,
                "with_shimmer": args.with_shimmer,
                "threshold_by": args.threshold_by,
                "fakes": args.statistic == "dynamics" and not args.no_fakes,
            },
            inputs={"reference": ref.sha256},
        )
        summary[key] = {
            "threshold": cal.threshold,
            "slope": cal.slope,
            "statistic": cal.statistic,
            "model": cal.model.get("kind"),
            "descriptors": list(names),
            "n_organic": cal.metrics.get("n_organic"),
            "n_synthetic": cal.metrics.get("n_synthetic"),
            "out_of_fold_auc": cal.metrics.get("auc"),
            "organic_median": cal.metrics.get("organic_median"),
        }
    out = args.out or args.reference
    merged, _ = merged_calibrations(ref.calibration, records)
    written = ref.with_calibration(merged).save(out)
    print(json.dumps({"out": str(written), **summary}, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
