"""The voice shimmer only on dry recordings: a room gate for session 19's option.

Session 19's calibration with the voice shimmer (``vtract calibrate
--with-shimmer``) separates synthetic speech better than the shipped four
tract descriptors, but a room raises the shimmer of organic speech, and no
other way of measuring the shimmer escapes that
(``bench_shimmer_invariance.py``). Fakes come out of their generator dry.
So: use the shimmer model only where the recording shows no room, and the
four descriptors elsewhere. "No room" is :func:`vtract.reverberation.steepest_decay_db`
(the 0.3-4 kHz level's steepest fall within 30 ms; ``vtract.analyze``
already calls a recording below 13 dB reverberant) at or above
:data:`DRY_DECAY_DB`. Three parts, each under a rule written before its
numbers (``docs/DETECTION.md``, "Session 20"):

``gate`` (organic recordings only; no fakes looked at)
    the decay and the shimmer (:func:`vtract.voice_source.voice_perturbation`)
    of every organic recording of ``../shared/data`` at 16 kHz, clean and in
    ``bench_degradations``' two rooms (0.3 and 0.7 s); per candidate gate
    13-30 dB, how many room copies pass it and how many of those have a
    shimmer above the clean 95th percentile, and how many clean recordings
    it would send to the four descriptors. The gate chosen is the lowest
    for which the passing room copies are at most 6 % above (5 % + 1
    point), or none pass.
``logo``
    the protocol of ``bench_descriptor_selection.py`` (5 speaker folds,
    class-balanced logistic models, leave-one-generator-out AUC over the 7
    families) on the shared corpus, with the generated fakes and with the
    same-sentence fakes: the four descriptors, the five everywhere, and the
    gated pair (each fold fits both; a held-out recording gets the five's
    log-odds if its decay is at least :data:`DRY_DECAY_DB`, else the
    four's). Also the pooled out-of-fold false-positive rate and recall at
    the 1 % threshold, and false positives among the organic/mfa voices.
``degradations`` (``--degradations``; organic recordings, slow)
    the gated detector made of the two calibrations of a reference made by
    ``scripts/calibrate_default_reference.py --with-shimmer --out PATH``
    (``--dry-voice-reference``; its ``"default"`` is the shipped
    four-descriptor calibration, its ``"dry_voice"`` the shimmer model) -
    on every organic recording clean and under each condition of
    ``bench_degradations.py``: the share above the chosen calibration's
    threshold (the criterion: at most 1 point above clean), and what
    ``vtract.analyze``'s signal checks would leave as synthetic verdicts.

Printed and written to ``results/dry_gate.json``.

Usage: ``python benchmarks/bench_dry_gate.py [--jobs 2] [--degradations
--dry-voice-reference PATH] [--rows-dir DIR | --from-rows-dir DIR]``
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _detection_corpus import (
    SHARED,
    Item,
    corpus_items,
    recording_decay,
)
from _harness import emit_result
from bench_degradations import (
    _gates,
    conditions,
    degraded_copies,
    recording_rows,
    shipped_calibrations,
)
from bench_descriptor_selection import Corpus, balanced_logistic, counted_recordings
from bench_detection import SETTINGS, gated_log_odds, load_features
from vtract.detect.calibration import Calibration, roc_auc, threshold_at_fpr
from vtract.detect.default import DRY_VOICE
from vtract.detect.dynamics import (
    DESCRIPTORS,
    WITH_SHIMMER,
    DescriptorModel,
)
from vtract.reverberation import DRY_DECAY_DB, steepest_decay_db
from vtract.voice_source import voice_perturbation

#: Candidate gates of the ``gate`` part (dB).
GATE_GRID = tuple(float(g) for g in range(13, 31))
ROOMS = ("reverb_rt0.3", "reverb_rt0.7")
#: Largest share of passing room copies above the clean 95th percentile.
MAX_ROOM_SHARE = 0.06


# --------------------------------------------------------------------------- gate


def room_rows(item: Item) -> list[dict[str, Any]]:
    """Decay and shimmer of one organic recording, clean and in the two rooms."""
    return [
        {
            "file": item.path.name,
            "kind": kind,
            "decay_db": steepest_decay_db(y, sr),
            "shimmer": voice_perturbation(y, sr).shimmer_local,
        }
        for kind, y, sr, _ in degraded_copies(item, ROOMS)
    ]


def choose_gate(rows: pd.DataFrame) -> dict[str, Any]:
    """Per candidate gate: room copies passing, their share above the clean p95, clean blocked."""
    clean = rows[rows["kind"] == "original"]
    p95 = float(np.nanpercentile(clean["shimmer"], 95))
    table = []
    chosen = None
    for g in GATE_GRID:
        entry: dict[str, Any] = {
            "gate_db": g,
            "clean_below_gate": round(float((clean["decay_db"] < g).mean()), 4),
        }
        ok = True
        for room in ROOMS:
            passing = rows[(rows["kind"] == room) & (rows["decay_db"] >= g)]
            share = float((passing["shimmer"] > p95).mean()) if len(passing) else 0.0
            entry[room] = {"passing": len(passing), "above_clean_p95": round(share, 4)}
            ok &= share <= MAX_ROOM_SHARE
        table.append(entry)
        if ok and chosen is None:
            chosen = g
    decay = {
        kind: np.round(np.nanpercentile(g["decay_db"], [5, 25, 50, 75, 95]), 1).tolist()
        for kind, g in rows.groupby("kind")
    }
    return {
        "n_recordings": len(clean),
        "clean_shimmer_p95": round(p95, 4),
        "decay_db_percentiles_5_25_50_75_95": decay,
        "candidates": table,
        "chosen_gate_db": chosen,
    }


# --------------------------------------------------------------------------- logo


def fold_gated_log_odds(
    c: Corpus, train: np.ndarray, test: np.ndarray, dry: np.ndarray
) -> np.ndarray:
    """Fit the four and the five on ``train``; the five's log-odds where dry, else the four's."""
    four = [c.column[n] for n in DESCRIPTORS]
    five = [c.column[n] for n in WITH_SHIMMER]
    s4 = balanced_logistic(c.x[train][:, four], c.y[train])(c.x[test][:, four])
    s5 = balanced_logistic(c.x[train][:, five], c.y[train])(c.x[test][:, five])
    return np.where(dry[test], s5, s4)


def logo_figures(c: Corpus, dry: np.ndarray, mfa: np.ndarray) -> dict[str, Any]:
    """LOGO AUC per family, pooled out-of-fold AUC, FPR and recall at 1 %, MFA false positives."""
    folds = sorted(set(c.fold))
    families = c.families(np.ones(len(c.y), dtype=bool))

    def gated(train: np.ndarray, test: np.ndarray, _k: int = 0) -> np.ndarray:
        return fold_gated_log_odds(c, train, test, dry)

    everything = np.ones(len(c.y), dtype=bool)
    per_family = {
        fam: round(c.held_out_auc_of(fam, everything, folds, gated), 4) for fam in families
    }
    stat = c.out_of_fold(gated)
    t = threshold_at_fpr(stat[~c.y], 0.01)
    values = list(per_family.values())
    return {
        "logo_mean": round(float(np.mean(values)), 4),
        "logo_min": round(float(np.min(values)), 4),
        "logo_per_family": per_family,
        "pooled_out_of_fold_auc": round(roc_auc(c.y, stat), 4),
        "out_of_fold_fpr": round(float(np.mean(stat[~c.y] > t)), 4),
        "out_of_fold_recall": round(float(np.mean(stat[c.y] > t)), 4),
        "mfa_false_positives": int(np.sum((stat > t) & mfa)),
        "mfa_organic": int(mfa.sum()),
    }


def logo_part(jobs: int) -> dict[str, Any]:
    """The ``logo`` part on the three corpora."""
    from joblib import Parallel, delayed

    from _generated_fakes import generated_items, matched_items

    shared = corpus_items()
    generated = shared + generated_items()[0]
    everything = generated + matched_items([it for it in generated if it.label == "organic"])[0]
    decay = dict(Parallel(n_jobs=jobs)(delayed(recording_decay)(it) for it in everything))
    table = counted_recordings(load_features(everything, jobs), 5)
    n_counted = len(table)
    table = table[np.all(np.isfinite(table[list(WITH_SHIMMER)].to_numpy(np.float64)), axis=1)]
    out: dict[str, Any] = {
        "gate_db": DRY_DECAY_DB,
        "dropped_without_shimmer": n_counted - len(table),
    }
    for corpus, items in (("shared", shared), ("generated", generated), ("matched", everything)):
        keys = {it.key for it in items}
        tab = table[table.index.isin(keys)]
        c = Corpus(tab)
        d = pd.Series(decay).reindex(tab.index).to_numpy(np.float64)
        is_dry = np.nan_to_num(d, nan=-np.inf) >= DRY_DECAY_DB  # unmeasured: not dry
        subset = np.asarray(tab.index.str.split("/").str[1])
        mfa = (subset == "mfa") & ~c.y
        families = c.families(np.ones(len(c.y), dtype=bool))
        out[corpus] = {
            "n_organic": int((~c.y).sum()),
            "n_synthetic": int(c.y.sum()),
            "dry_share_organic": round(float(is_dry[~c.y].mean()), 4),
            "dry_share_by_family": {
                f: round(float(is_dry[c.y & (c.family == f)].mean()), 4) for f in families
            },
            "four": logo_figures(c, np.zeros(len(c.y), dtype=bool), mfa),
            "five_everywhere": logo_figures(c, np.ones(len(c.y), dtype=bool), mfa),
            "gated": logo_figures(c, is_dry, mfa),
        }
        g, f = out[corpus]["gated"], out[corpus]["four"]
        print(
            f"{corpus}: four {f['logo_mean']:.3f} / {f['logo_min']:.3f}, gated "
            f"{g['logo_mean']:.3f} / {g['logo_min']:.3f}, FPR {g['out_of_fold_fpr']:.4f}",
            flush=True,
        )
    return out


# --------------------------------------------------------------------------- degradations


@functools.cache
def _models(reference: Path) -> tuple[Calibration, Calibration]:
    """The ``"default"`` (four descriptors) and ``"dry_voice"`` calibrations of ``reference``."""
    four, five = shipped_calibrations(reference)
    if five is None:
        raise SystemExit(
            f"{reference} has no {DRY_VOICE} calibration; make one with "
            "scripts/calibrate_default_reference.py --with-shimmer --out PATH"
        )
    if list(four.model.get("names", [])) != list(DESCRIPTORS):
        raise SystemExit(f"{reference}'s default calibration is not the four descriptors")
    return four, five


def degraded_rows(item: Item, reference: Path) -> list[dict[str, Any]]:
    """Both statistics and the signal measures of one recording, clean and degraded.

    :func:`bench_degradations.recording_rows` with the four-descriptor model and
    the dry-voice model; their statistics are kept as ``stat4`` and ``stat5``
    (the columns of session 20's rows, which ``--from-rows-dir`` reads).
    """
    four, five = _models(reference)
    rows = recording_rows(
        item,
        DescriptorModel.from_dict(four.model),
        list(conditions()),
        DescriptorModel.from_dict(five.model),
    )
    dropped = {"statistic", "statistic_dry_voice", "log_shimmer", *DESCRIPTORS}
    return [
        {
            **{k: v for k, v in row.items() if k not in dropped},
            "stat4": row["statistic"],
            "stat5": row["statistic_dry_voice"],
        }
        for row in rows
    ]


def summarise_degradations(rows: pd.DataFrame, four: Calibration, five: Calibration) -> dict:
    """Per condition: organic share above the gated detector's threshold, and its verdicts."""
    rows = _gates(rows)
    log_odds, dry = gated_log_odds(
        four, five, rows["stat4"], rows["stat5"], rows["steepest_decay_db"]
    )
    rows = rows.assign(
        dry=dry,
        above_four=rows["stat4"] > four.threshold,
        above_five=rows["stat5"] > five.threshold,
        above_gated=log_odds > 0,
    )
    blocked = rows["band_limited"] | rows["noisy"] | rows["reverberant"]
    rows["synthetic_verdict"] = rows["above_gated"] & ~blocked
    organic = rows[rows["label"] == "organic"]
    clean = organic[organic["kind"] == "original"].set_index("file")
    out: dict[str, Any] = {
        "thresholds": {"four": four.threshold, "five": five.threshold},
        "conditions": {},
    }
    for kind, g in organic.groupby("kind"):
        g = g.set_index("file")
        base = clean.reindex(g.index)
        out["conditions"][kind] = {
            "n": len(g),
            "dry_share": round(float(g["dry"].mean()), 4),
            "above_gated": round(float(g["above_gated"].mean()), 4),
            "above_gated_clean_same_files": round(float(base["above_gated"].mean()), 4),
            "above_four": round(float(g["above_four"].mean()), 4),
            "above_five": round(float(g["above_five"].mean()), 4),
            "synthetic_verdicts": round(float(g["synthetic_verdict"].mean()), 4),
        }
    worst = max(
        (k for k in out["conditions"] if k != "original"),
        key=lambda k: (
            out["conditions"][k]["above_gated"]
            - out["conditions"][k]["above_gated_clean_same_files"]
        ),
    )
    w = out["conditions"][worst]
    out["worst_condition"] = worst
    out["worst_rise_points"] = round(
        100 * (w["above_gated"] - w["above_gated_clean_same_files"]), 2
    )
    out["clean_above_gated"] = out["conditions"]["original"]["above_gated"]
    return out


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=1, help="recordings processed in parallel")
    ap.add_argument("--degradations", action="store_true", help="also run the slow third part")
    ap.add_argument(
        "--dry-voice-reference",
        type=Path,
        default=None,
        help="reference with a dry_voice calibration (for --degradations)",
    )
    ap.add_argument("--rows-dir", type=Path, default=None, help="keep per-recording rows here")
    ap.add_argument("--from-rows-dir", type=Path, default=None, help="reuse rows kept there")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    if args.degradations and args.dry_voice_reference is None:
        ap.error("--degradations needs --dry-voice-reference")
    from joblib import Parallel, delayed

    t0 = time.time()
    organic = [it for it in corpus_items() if it.label == "organic"]

    def part_rows(name: str, func: Any, *extra: Any) -> pd.DataFrame:
        if args.from_rows_dir is not None:
            return pd.read_parquet(args.from_rows_dir / f"{name}.parquet")
        per_item = Parallel(n_jobs=args.jobs, verbose=5 if args.jobs > 1 else 0)(
            delayed(func)(it, *extra) for it in organic
        )
        rows = pd.DataFrame([r for rs in per_item for r in rs])
        if args.rows_dir is not None:
            args.rows_dir.mkdir(parents=True, exist_ok=True)
            rows.to_parquet(args.rows_dir / f"{name}.parquet")
        return rows

    figures: dict[str, Any] = {"gate": choose_gate(part_rows("gate", room_rows))}
    chosen = figures["gate"]["chosen_gate_db"]
    figures["gate"]["matches_dry_decay_db"] = chosen == DRY_DECAY_DB
    print(f"gate chosen: {chosen} dB (DRY_DECAY_DB {DRY_DECAY_DB:g})", flush=True)
    if chosen != DRY_DECAY_DB:
        print("WARNING: the parts below use DRY_DECAY_DB, not the gate chosen here", flush=True)
    figures["logo"] = logo_part(args.jobs)
    if args.degradations:
        four, five = _models(args.dry_voice_reference)
        rows = part_rows("degradations", degraded_rows, args.dry_voice_reference)
        figures["degradations"] = summarise_degradations(rows, four, five)
    figures["seconds"] = round(time.time() - t0, 1)
    params = {
        "settings": SETTINGS,
        "dry_decay_db": DRY_DECAY_DB,
        "gate_grid": list(GATE_GRID),
        "max_room_share": MAX_ROOM_SHARE,
        "dry_voice_reference": (
            None if args.dry_voice_reference is None else str(args.dry_voice_reference)
        ),
        "from_rows_dir": None if args.from_rows_dir is None else str(args.from_rows_dir),
    }
    emit_result("dry_gate", figures, params, write=not args.no_json)


if __name__ == "__main__":
    # run the importable module so joblib workers find the row functions by reference
    import bench_dry_gate

    bench_dry_gate.main()
