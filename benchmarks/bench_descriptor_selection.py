"""How much of the detector's leave-one-generator-out AUC is owed to choosing its descriptors?

Run: ``python benchmarks/bench_descriptor_selection.py [--generated | --matched] [--jobs 2]``
-> prints figures and writes ``benchmarks/results/descriptor_selection[_generated|_matched].json``.

The shipped tract-dynamics statistic (:data:`vtract.detect.dynamics.DESCRIPTORS`)
was chosen by looking at this corpus, fakes included (``docs/DETECTION.md``),
so its leave-one-generator-out (LOGO) AUC is out-of-sample for speakers and
generators but not for the choice of descriptors. This benchmark measures
what a *selection procedure* achieves when the choice is made without the
held-out generator (nested cross-validation):

- a pool of :data:`CANDIDATES` recording-level descriptors
  (:func:`candidate_descriptors`; the shipped four among them, and since
  session 19 the voice shimmer ``log_shimmer``, which is not a tract measure);
- greedy forward selection (:func:`forward_select`): add the candidate that
  most raises the mean LOGO AUC of the class-balanced logistic model, stop
  when the gain is below ``--tol`` or at ``--max-descriptors``;
- **nested LOGO**: for every held-out family F and speaker fold k, the
  selection runs on the training part only (organic recordings of the other
  folds, fakes of the other families; its own LOGO over those families and
  folds), the model with the selected descriptors is fitted on that part and
  scores fold k's organic recordings and F's fakes. This is an honest
  estimate of "select descriptors on this kind of corpus, then meet a new
  generator";
- for comparison, in the same protocol: the shipped four (fixed), the four
  with ``log_shimmer`` (:data:`vtract.detect.dynamics.WITH_SHIMMER`, the
  measured option of session 19), all
  candidates at once, and the selection made on everything (optimistic).

Protocol details, shared with ``bench_detection.py``: the same corpus and
cached features (``--generated`` / ``--matched`` add the Piper / espeak-ng
fakes made on this machine), the same speaker folds (:func:`assign_folds`),
the model of :func:`vtract.detect.dynamics.fit_discriminative` (re-solved by
Newton's method for speed; checked against it at start-up). Simplified: no
threshold step (AUC only), and a recording counts if it has at least
:data:`vtract.detect.default.MIN_BIGRAMS` bigram boundaries (15 when its phones
were recognised), without ``bench_detection``'s reference-coverage rule, so
the shipped four's figure here differs from ``detection.json`` by about 0.01.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _detection_corpus import SHARED, code_version, corpus_items
from _harness import emit_result
from bench_detection import SETTINGS, file_meta, load_features
from vtract.detect.calibration import roc_auc
from vtract.detect.default import MIN_BIGRAMS, MIN_BIGRAMS_LOW_CONFIDENCE
from vtract.detect.deviation import log_areas
from vtract.detect.dynamics import (
    DESCRIPTORS,
    DISCRIMINATIVE_L2,
    WITH_SHIMMER,
    fit_discriminative,
    interquartile_range,
    recording_descriptors,
    window_log_areas,
)

#: The candidate pool, name -> what it measures (per recording; "window" =
#: one analysis window of a bigram occurrence, "occurrence" = its windows).
CANDIDATES: dict[str, str] = {
    "shape_spread": "median over tube sections of the std of log-area over all windows (shipped)",
    "shape_jitter": "median over occurrences of the mean |log-area change| between windows (shipped)",
    "length_spread": "IQR of the per-window tract length (shipped)",
    "f1_spread": "IQR of the per-window F1 (shipped)",
    "log_shimmer": "ln of Praat's local shimmer of the recording (voice source, not tract; "
    "an option since session 19, not shipped)",
    "log_n_windows": "log of the number of windows",
    "f2_spread": "IQR of the per-window F2",
    "f3_spread": "IQR of the per-window F3",
    "length_median": "median per-window tract length",
    "f1_median": "median per-window F1",
    "f2_median": "median per-window F2",
    "length_jitter": "median |tract-length change| between consecutive windows of an occurrence",
    "f1_jitter": "median relative |F1 change| between consecutive windows of an occurrence",
    "f2_jitter": "median relative |F2 change| between consecutive windows of an occurrence",
    "back_spread": "shape_spread over the glottis half of the sections only",
    "front_spread": "shape_spread over the lip half of the sections only",
    "shape_spread_mean": "shape_spread with the mean over sections instead of the median",
    # equal to shape_spread when the estimator scales every window to one geometric-mean
    # area (lpc-refined does), so it cannot win a selection there; kept for other methods
    "profile_spread": "shape_spread of the mean-free log-area profiles (shape without size)",
    "repeat_diff": "median over bigrams said twice of the least RMS difference between the "
    "occurrences' mean-free profiles (windows -1..1); organic median if no bigram repeats",
}

_WINDOW = ["file", "boundary_s", "window_index"]
#: Descriptors whose per-family medians the JSON records (DETECTION.md quotes them).
MEDIANS_OF = ("shape_spread", "shape_jitter", "back_spread", "front_spread", "log_shimmer")


def _repeat_difference(profiles: pd.DataFrame, bigram: pd.Series) -> pd.Series:
    """Per file: median over repeated bigrams of the least RMS difference between occurrences."""
    out: dict[str, float] = {}
    joined = profiles.join(bigram)
    for file, rows in joined.groupby(level="file"):
        values = []
        for _, occ in rows.groupby("bigram"):
            if len(occ) < 2:
                continue
            m = occ.drop(columns="bigram").to_numpy(np.float64)
            d = np.sqrt(np.nanmean((m[:, None, :] - m[None, :, :]) ** 2, axis=2))
            np.fill_diagonal(d, np.inf)
            values.append(float(d.min()))
        out[str(file)] = float(np.median(values)) if values else np.nan
    return pd.Series(out, dtype=np.float64)


def candidate_descriptors(features: pd.DataFrame) -> pd.DataFrame:
    """Every :data:`CANDIDATES` descriptor of every recording of a feature table.

    ``repeat_diff`` is ``nan`` for a recording without a repeated bigram (filled
    later with the organic median); the shipped four and ``log_shimmer`` come from
    :func:`vtract.detect.dynamics.recording_descriptors` itself.
    """
    df = features[np.isfinite(features["area_cm2"].to_numpy(np.float64))]
    df = df.assign(log_area=log_areas(df["area_cm2"].to_numpy(np.float64)))
    out = recording_descriptors(df)
    win = df.groupby(_WINDOW, sort=True).agg(
        length=("length_cm", "first"),
        f1=("f1_hz", "first"),
        f2=("f2_hz", "first"),
        f3=("f3_hz", "first"),
        bigram=("bigram", "first"),
    )
    per_file = win.groupby(level="file")
    out["log_n_windows"] = np.log(out["n_windows"])
    out["f2_spread"] = interquartile_range(per_file["f2"])
    out["f3_spread"] = interquartile_range(per_file["f3"])
    out["length_median"] = per_file["length"].median()
    out["f1_median"] = per_file["f1"].median()
    out["f2_median"] = per_file["f2"].median()
    steps = win.groupby(level=["file", "boundary_s"])[["length", "f1", "f2"]].diff().abs()
    out["length_jitter"] = steps["length"].groupby(level="file").median()
    out["f1_jitter"] = (steps["f1"] / win["f1"]).groupby(level="file").median()
    out["f2_jitter"] = (steps["f2"] / win["f2"]).groupby(level="file").median()
    shapes = window_log_areas(df)
    sd = shapes.groupby(level="file").std(ddof=1)
    half = sd.shape[1] // 2
    out["back_spread"] = sd.iloc[:, :half].median(axis=1)
    out["front_spread"] = sd.iloc[:, half:].median(axis=1)
    out["shape_spread_mean"] = sd.mean(axis=1)
    profiles = shapes.sub(shapes.mean(axis=1), axis=0)
    out["profile_spread"] = profiles.groupby(level="file").std(ddof=1).median(axis=1)
    near = profiles[np.abs(profiles.index.get_level_values("window_index")) <= 1]
    occurrence = near.groupby(level=["file", "boundary_s"]).mean()
    bigram = win.groupby(level=["file", "boundary_s"])["bigram"].first()
    out["repeat_diff"] = _repeat_difference(occurrence, bigram)
    return out[list(CANDIDATES)]


def balanced_logistic(x: np.ndarray, y: np.ndarray, l2: float = DISCRIMINATIVE_L2) -> Any:
    """:func:`~vtract.detect.dynamics.fit_discriminative`'s model, solved by Newton's method.

    Returns a function mapping a descriptor matrix to the log-odds statistic.
    """
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = np.c_[(x - mu) / sd, np.ones(len(x))]
    w = np.where(y, 0.5 * len(y) / y.sum(), 0.5 * len(y) / (~y).sum())
    pen = np.eye(z.shape[1]) * 2.0 * l2
    pen[-1, -1] = 0.0
    b = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ b)))
        grad = z.T @ (w * (p - y)) + pen @ b
        hess = (z * (w * p * (1.0 - p))[:, None]).T @ z + pen
        step = np.linalg.solve(hess, grad)
        b -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return lambda xs: ((xs - mu) / sd) @ b[:-1] + b[-1]


class Corpus:
    """Descriptor matrix, labels, families and folds of the counted recordings."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.x = table[list(CANDIDATES)].to_numpy(np.float64)
        self.y = (table["label"] == "synthetic").to_numpy()
        self.family = table["family"].astype(str).to_numpy()
        self.fold = table["fold"].to_numpy()
        self.column = {c: i for i, c in enumerate(CANDIDATES)}

    def families(self, mask: np.ndarray) -> list[str]:
        return sorted(set(self.family[mask & self.y]))

    def held_out_auc(
        self,
        fam: str,
        mask: np.ndarray,
        folds: Sequence[int],
        descriptors_for: Callable[[np.ndarray, int], Sequence[str]],
    ) -> float:
        """AUC of family ``fam`` against organic recordings, fold by fold within ``mask``.

        Fold ``k``'s organic recordings and ``fam``'s fakes are scored by a
        model fitted on the other folds without ``fam``, with the descriptors
        ``descriptors_for(train_mask, k)`` chooses from that training part.
        """

        def fitted(train: np.ndarray, test: np.ndarray, k: int) -> np.ndarray:
            cols = [self.column[n] for n in descriptors_for(train, k)]
            model = balanced_logistic(self.x[train][:, cols], self.y[train])
            return model(self.x[test][:, cols])

        return self.held_out_auc_of(fam, mask, folds, fitted)

    def held_out_auc_of(
        self,
        fam: str,
        mask: np.ndarray,
        folds: Sequence[int],
        score: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    ) -> float:
        """:meth:`held_out_auc` with any ``score(train_mask, test_mask, k)`` -> test statistics."""
        stat = np.full(len(self.y), np.nan)
        for k in folds:
            train = mask & (self.fold != k) & (~self.y | (self.family != fam))
            test = mask & (self.fold == k) & (~self.y | (self.family == fam))
            if not test.any() or not self.y[train].any():
                continue
            stat[test] = score(train, test, k)
        ok = np.isfinite(stat)
        return roc_auc(self.y[ok], stat[ok])

    def logo(
        self, names: Sequence[str], mask: np.ndarray, families: Sequence[str], folds: Sequence[int]
    ) -> list[float]:
        """AUC per held-out family with the descriptors ``names``."""
        return [self.held_out_auc(fam, mask, folds, lambda _train, _k: names) for fam in families]

    def forward_select(
        self,
        mask: np.ndarray,
        families: Sequence[str],
        folds: Sequence[int],
        max_descriptors: int,
        tol: float,
    ) -> tuple[list[str], float]:
        """Greedy forward selection by mean LOGO AUC over ``families`` within ``mask``."""
        chosen: list[str] = []
        best = 0.0
        while len(chosen) < max_descriptors:
            gains = {
                c: float(np.mean(self.logo([*chosen, c], mask, families, folds)))
                for c in CANDIDATES
                if c not in chosen
            }
            name, score = max(gains.items(), key=lambda t: t[1])
            if score < best + tol:
                break
            chosen.append(name)
            best = score
        return chosen, best

    def nested_logo(
        self, max_descriptors: int, tol: float
    ) -> tuple[dict[str, float], list[list[str]]]:
        """Per held-out family, the AUC when descriptors are selected without that family or fold."""
        picks: list[list[str]] = []
        folds = sorted(set(self.fold))

        def select(train: np.ndarray, k: int) -> list[str]:
            inner = [j for j in folds if j != k]
            chosen, _ = self.forward_select(
                train, self.families(train), inner, max_descriptors, tol
            )
            picks.append(chosen)
            return chosen

        auc: dict[str, float] = {}
        everything = np.ones(len(self.y), dtype=bool)
        for fam in self.families(everything):
            auc[fam] = self.held_out_auc(fam, everything, folds, select)
            print(f"  nested LOGO {fam:<12} AUC {auc[fam]:.3f}", flush=True)
        return auc, picks

    def pooled(self, names: Sequence[str]) -> float:
        """Out-of-fold AUC with every family in training (the shipped configuration)."""
        cols = [self.column[n] for n in names]

        def fitted(train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return balanced_logistic(self.x[train][:, cols], self.y[train])(self.x[test][:, cols])

        return roc_auc(self.y, self.out_of_fold(fitted))

    def out_of_fold(self, score: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Every recording's statistic from ``score(train_mask, test_mask)`` fitted without its fold."""
        stat = np.full(len(self.y), np.nan)
        for k in sorted(set(self.fold)):
            stat[self.fold == k] = score(self.fold != k, self.fold == k)
        return stat


def counted_recordings(feats: pd.DataFrame, k: int) -> pd.DataFrame:
    """Candidate descriptors, labels and folds of the recordings with enough bigrams."""
    feats = feats[np.isfinite(feats["area_cm2"])]
    meta = file_meta(feats, k)[["label", "speaker", "family", "low_confidence", "fold"]]
    meta["n_bigrams"] = feats.groupby("file")["boundary_s"].nunique()
    need = np.where(meta["low_confidence"].astype(bool), MIN_BIGRAMS_LOW_CONFIDENCE, MIN_BIGRAMS)
    meta = meta[meta["n_bigrams"].to_numpy() >= need]
    table = candidate_descriptors(feats).join(meta, how="inner")
    organic = table["label"] == "organic"
    table["repeat_diff"] = table["repeat_diff"].fillna(table.loc[organic, "repeat_diff"].median())
    return table[np.all(np.isfinite(table[list(CANDIDATES)].to_numpy(np.float64)), axis=1)]


def check_solver(corpus: Corpus) -> float:
    """Largest difference between :func:`balanced_logistic` and ``fit_discriminative``."""
    train = corpus.fold != 0
    t = corpus.table
    model = fit_discriminative(t[train & ~corpus.y], t[train & corpus.y], list(DESCRIPTORS))
    cols = [corpus.column[n] for n in DESCRIPTORS]
    ours = balanced_logistic(corpus.x[train][:, cols], corpus.y[train])(corpus.x[~train][:, cols])
    return float(np.max(np.abs(np.asarray(model.statistic(t[~train])) - ours)))


def _summary(per_family: dict[str, float]) -> dict[str, Any]:
    values = list(per_family.values())
    return {
        "mean": round(float(np.mean(values)), 4),
        "min": round(float(np.min(values)), 4),
        "per_family": {f: round(a, 4) for f, a in per_family.items()},
    }


def run(
    table: pd.DataFrame,
    max_descriptors: int,
    tol: float,
    evaluate: Sequence[Sequence[str]] = (),
) -> dict[str, Any]:
    corpus = Corpus(table)
    diff = check_solver(corpus)
    if diff > 1e-3:
        raise RuntimeError(f"Newton solver disagrees with fit_discriminative by {diff:.2g}")
    everything = np.ones(len(corpus.y), dtype=bool)
    families = corpus.families(everything)
    folds = sorted(set(corpus.fold))

    def fixed(names: Sequence[str]) -> dict[str, Any]:
        out = _summary(dict(zip(families, corpus.logo(names, everything, families, folds))))
        out["descriptors"] = list(names)
        out["pooled_out_of_fold_auc"] = round(corpus.pooled(names), 4)
        return out

    t0 = time.time()
    shipped = fixed(list(DESCRIPTORS))
    print(f"shipped four: LOGO mean {shipped['mean']:.3f} min {shipped['min']:.3f}", flush=True)
    shimmer = fixed(list(WITH_SHIMMER))
    print(f"with log_shimmer: LOGO mean {shimmer['mean']:.3f} min {shimmer['min']:.3f}", flush=True)
    all_candidates = fixed(list(CANDIDATES))
    chosen, _ = corpus.forward_select(everything, families, folds, max_descriptors, tol)
    optimistic = fixed(chosen)
    print(f"selected on everything: {chosen} LOGO mean {optimistic['mean']:.3f}", flush=True)
    evaluated = [fixed(names) for names in evaluate]
    for e in evaluated:
        print(f"given {e['descriptors']}: LOGO mean {e['mean']:.3f} min {e['min']:.3f}", flush=True)
    nested_auc, picks = corpus.nested_logo(max_descriptors, tol)
    nested = _summary(nested_auc)
    frequency = Counter(c for p in picks for c in p)
    sets = Counter(tuple(sorted(p)) for p in picks)
    print(f"nested LOGO mean {nested['mean']:.3f} min {nested['min']:.3f}", flush=True)
    y = corpus.y
    return {
        "corpus": {
            "n_organic": int((~y).sum()),
            "n_synthetic": int(y.sum()),
            "synthetic_per_family": {f: int((y & (corpus.family == f)).sum()) for f in families},
        },
        "candidates": CANDIDATES,
        # each candidate alone, pooled (> 0.5: higher in synthetic recordings)
        "candidate_auc": {
            c: round(roc_auc(y, corpus.x[:, j]), 4) for c, j in corpus.column.items()
        },
        # shape spread, jitter and the half-tube spreads per family (DETECTION.md quotes them)
        "family_medians": {
            f"{label}/{fam}": {
                "n": len(g),
                **{c: round(float(g[c].median()), 3) for c in MEDIANS_OF},
            }
            for (label, fam), g in table.groupby(["label", "family"])
        },
        "selection": {
            "rule": "greedy forward, mean LOGO AUC",
            "max_descriptors": max_descriptors,
            "min_gain": tol,
        },
        "solver_max_abs_difference": diff,
        "shipped_four": shipped,
        "with_shimmer": shimmer,
        "all_candidates": all_candidates,
        "selected_on_everything": optimistic,
        "given_sets": evaluated,
        "nested_logo": {
            **nested,
            "n_selections": len(picks),
            "selection_frequency": dict(frequency.most_common()),
            "most_common_sets": [
                {"descriptors": list(s), "times": n} for s, n in sets.most_common(5)
            ],
        },
        "seconds": round(time.time() - t0, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--libri", type=int, default=None, help="LibriSpeech files per subset")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1, help="processes for feature extraction")
    ap.add_argument("--max-descriptors", type=int, default=6)
    ap.add_argument("--tol", type=float, default=0.002, help="least mean-AUC gain to add one")
    ap.add_argument("--generated", action="store_true", help="add the Piper/espeak-ng fakes")
    ap.add_argument("--matched", action="store_true", help="add the same-sentence fakes too")
    ap.add_argument(
        "--evaluate",
        action="append",
        default=[],
        metavar="A,B,...",
        help="also report this descriptor set in the same protocol (repeatable)",
    )
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    evaluate = [[n.strip() for n in spec.split(",") if n.strip()] for spec in args.evaluate]
    unknown = sorted({n for names in evaluate for n in names} - set(CANDIDATES))
    if unknown:
        ap.error(f"unknown descriptors {unknown}; candidates: {', '.join(CANDIDATES)}")
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    items = corpus_items(librispeech_per_subset=args.libri)
    args.generated = args.generated or args.matched
    if args.generated:
        from _generated_fakes import generated_items

        items += generated_items()[0]
    if args.matched:
        from _generated_fakes import matched_items

        items += matched_items([it for it in items if it.label == "organic"])[0]
    table = counted_recordings(load_features(items, args.jobs), args.folds)
    figures = run(table, args.max_descriptors, args.tol, evaluate)
    params = {
        "settings": SETTINGS,
        "feature_code_version": code_version(),
        "folds": args.folds,
        "librispeech_per_subset": args.libri,
        "generated": bool(args.generated),
        "matched": bool(args.matched),
        "evaluate": evaluate,
    }
    name = "descriptor_selection"
    name += "_matched" if args.matched else "_generated" if args.generated else ""
    emit_result(name, figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
