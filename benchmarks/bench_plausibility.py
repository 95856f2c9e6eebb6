"""How often each anatomical plausibility flag fires on organic and synthetic speech.

For every recording of the labelled corpus in ``../shared/data``
(:mod:`_detection_corpus`, alignments cached), cut the bigram windows, estimate
the tracts with ``--method`` and run :func:`vtract.plausibility.check_plausibility`
per bigram. Prints and writes ``results/plausibility_<method>.json``: per flag
code, the share of bigrams flagged for organic and synthetic speech overall
and per family, and the per-file share of bigrams with any warning/critical
flag (median per label). A useful flag fires much more on synthetic speech
than on organic speech; a flag that fires on organic speech measures the
estimator's error as much as the speaker's anatomy.

Usage: ``python benchmarks/bench_plausibility.py [--method lpc-refined] [--libri 5] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vtract
from _detection_corpus import Item, cached_alignment, corpus_items
from _harness import write_result
from vtract.features import analysis_signal, estimate_windows
from vtract.plausibility import CHECKS, check_plausibility
from vtract.windows import bigram_windows


def file_flags(item: Item, method: str) -> dict[str, Any]:
    """Flag codes per bigram of one recording."""
    ev = vtract.load(item.path)
    aln = cached_alignment(item, ev)
    out: dict[str, Any] = {"label": item.label, "family": item.family, "bigrams": []}
    if aln is None:
        return out
    # cut as vtract.features.extract_features cuts them: after the analysis high-pass
    windows = bigram_windows(*analysis_signal(ev, 16000, method=method), aln)
    for bw, ests in zip(windows, estimate_windows(windows, method=method)):
        keep = [i for i, e in enumerate(ests) if e is not None]
        if not keep:
            continue
        flags = check_plausibility(
            [ests[i] for i in keep],
            bigram=bw.bigram,
            times=bw.centres_s[keep],
            phones=[bw.phone1 if bw.offsets_s[i] < 0 else bw.phone2 for i in keep],
        )
        out["bigrams"].append(sorted({(f.code, f.severity) for f in flags}))
    return out


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    per_label: dict[str, Counter] = defaultdict(Counter)
    per_family: dict[str, Counter] = defaultdict(Counter)
    n_label: Counter = Counter()
    n_family: Counter = Counter()
    file_any: dict[str, list[float]] = defaultdict(list)
    for r in results:
        fam = f"{r['label']}/{r['family']}"
        for flags in r["bigrams"]:
            n_label[r["label"]] += 1
            n_family[fam] += 1
            for code in {c for c, _ in flags}:
                per_label[r["label"]][code] += 1
                per_family[fam][code] += 1
        if r["bigrams"]:
            hit = [any(s != "info" for _, s in flags) for flags in r["bigrams"]]
            file_any[r["label"]].append(float(np.mean(hit)))

    def rates(counter: Counter, n: int) -> dict[str, float]:
        return {c: round(counter[c] / n, 4) if n else 0.0 for c in CHECKS}

    return {
        "bigrams": dict(n_label),
        "rate_by_label": {k: rates(per_label[k], n_label[k]) for k in sorted(n_label)},
        "rate_by_family": {k: rates(per_family[k], n_family[k]) for k in sorted(n_family)},
        "median_file_share_flagged": {
            k: round(float(np.median(v)), 4) for k, v in sorted(file_any.items())
        },
        "files": {k: len(v) for k, v in sorted(file_any.items())},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--method", default="lpc-refined", choices=["lpc-refined", "default", "paper", "lpc"]
    )
    ap.add_argument("--libri", type=int, default=5, help="LibriSpeech files per subset")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    items = corpus_items(librispeech_per_subset=args.libri)
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=args.jobs)(delayed(file_flags)(it, args.method) for it in items)
    write_result(
        f"plausibility_{args.method}",
        summarise(results),
        {"method": args.method, "librispeech_per_subset": args.libri, "n_items": len(items)},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
