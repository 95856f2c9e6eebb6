"""Detection benchmark on ../shared/data: default vs paper detector, honest splits.

Run: ``python benchmarks/bench_detection.py [--quick] [--folds K] [--libri N]``
-> prints figures and writes ``benchmarks/results/detection.json``.

Protocol
--------
Corpus: every labelled recording of ``../shared/data``
(:mod:`_detection_corpus`; every LibriSpeech file unless ``--libri N``
keeps N per subset - they have no transcripts and need word recognition, the
slow part; runs before session 7 used 100 of the 251 train-clean-100 files). Alignment:
given alignment > known transcript (forced) > word recognition.

Leave-speaker-out cross-fitting: organic speakers are split into ``K`` folds
(grouped by speaker). For fold ``k`` a reference ``R_k`` is fitted to the
organic files of the other folds only. Every file gets ONE out-of-fold
statistic: organic files from the reference that never saw their speaker;
synthetic files are assigned to the fold of the voice they imitate (LJ,
LibriTTS speakers), so that reference never saw the genuine voice either
(other synthetic voices are spread over folds by a hash of the speaker).

Default detector, tract-dynamics statistic (the shipped one; ``run_dynamics``):
per test fold, the descriptor model and its threshold are fitted on the other
folds exactly as ``dynamics_calibration`` does for shipping - one-class
(organic only), leave-one-generator-out (without any fake of the held-out
family), and with every family. A reference calibrated with ``vtract
calibrate --with-shimmer`` holds two such calibrations: the four tract
descriptors, and the dry-voice model (the four and the voice shimmer) that
decides recordings whose steepest level decay reaches
:data:`vtract.reverberation.DRY_DECAY_DB` (no room; :func:`recording_decay`)
and whose shimmer is defined. Both are fitted per fold and every test file
is scored as the detector routes it (:func:`_scored`; the statistic is then
the deciding calibration's log-odds). ``default`` is what the packaged
reference (or ``--reference``) holds: the four descriptors everywhere, with
the gated pair beside it as ``dry_voice_gated``; or, for a reference with a
dry-voice model, the gated pair, with ``default_four_descriptors_only``
beside it (``results/dry_voice/``: session 21, when the packaged reference
briefly held one).

Every threshold counts speakers (``--threshold-by speaker``, the shipped rule
since session 22): its conformal 1 % guarantee is for a recording of a new
speaker, each training speaker weighing one however many recordings it has
(:func:`vtract.detect.calibration.threshold_at_fpr` with ``groups``).
``--threshold-by recording`` counts recordings, the rule until session 21
(``results/threshold_by_recording/``). ``fpr_speaker_mean`` is the organic
false-positive rate with every speaker weighing one, the rate that guarantee
bounds.

Default detector, legacy reference-deviation statistic (no fakes used at
all): the threshold for fold ``k`` is set at ``--fpr`` on the out-of-fold
organic statistics of the OTHER folds (which are themselves
out-of-reference), then applied to fold ``k``. Because it never uses fakes,
its per-family figures are leave-one-generator-out by construction.

Paper detector: (a) organic-range rule (published rule without fakes; share
of values outside ``R_k``'s bigram-level min/max, sentence threshold
:data:`vtract.detect.paper.DEFAULT_SENTENCE_THRESHOLD`); (b) ideal-feature
vote, leave-one-generator-out: for fold ``k`` and held-out family ``F``,
ideal features are fitted on the training-fold organic windows and the
training-fold fakes of all families except ``F`` against ``R_k``'s ranges,
then fold ``k``'s organic files and family ``F``'s fakes are scored.

Figures: ROC AUC, EER, FPR on organic (overall, per voice-quality subset of
``organic/mfa``), precision/recall at the threshold, per generator family;
inconclusive counts (too few bigrams, low-confidence alignment).

Two controls (tract dynamics): ``content_only_control`` - the AUC of the
shape spread that a recording's bigram content alone predicts
(:func:`content_spread`; organic and synthetic recordings of this corpus say
different sentences), and ``matched_text_leave_one_generator_out`` - per held-out family (and
the ESPnet toolkit), the AUC on the recordings whose sentence (transcript)
is said by organic and synthetic recordings alike (:func:`matched_text`;
e.g. the ESPnet real recordings and their fakes, the same sentences in the
same voice). The alignment source also goes with the label (most organic
recordings have no transcript and are aligned by recognition, most fakes
are force-aligned): ``alignment_source_only_control`` is the AUC of that
fact alone, and ``by_alignment_source_leave_toolkit_out`` the ESPnet fakes'
AUC within each source.

``--matched`` (implies ``--generated``) also makes one Piper and one espeak-ng
fake of what every organic recording says - its transcript, else the words
recognition found - aligned the way the organic recording was (forced, or
by recognition), and writes ``results/detection_matched.json``: a
same-sentence comparison with many organic speakers, for the clean TTS
families only (:func:`_generated_fakes.matched_items`).

``--generated`` adds clean Piper VITS and espeak-ng fakes synthesised on this
machine (:mod:`_generated_fakes`; the shared data has only 3 + 1 of them) to
the ``vits-piper`` and ``espeakng`` families and writes
``results/detection_generated.json`` instead.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vtract
from _detection_corpus import (
    SHARED,
    Item,
    cached_features,
    code_version,
    corpus_items,
    is_alignment_cached,
    recording_decay,
)
from _harness import emit_result
from vtract.detect.calibration import (
    binomial_interval,
    calibrate,
    equal_error_rate,
    roc_auc,
)
from vtract.detect.default import (
    DRY_VOICE,
    FLAG_BASELINE_QUANTILE,
    MIN_BIGRAMS,
    MIN_BIGRAMS_LOW_CONFIDENCE,
    MIN_REFERENCE_WEIGHT,
    combine,
    file_statistics,
)
from vtract.detect.dynamics import (
    DESCRIPTORS,
    WITH_SHIMMER,
    DescriptorModel,
    recording_descriptors,
)
from vtract.detect.fitting import THRESHOLD_BY, dynamics_calibration, file_speakers, flags_by_file
from vtract.detect.paper import (
    DEFAULT_SENTENCE_THRESHOLD,
    VOTE_THRESHOLD,
    PaperDetector,
    reference_ranges,
)
from vtract.features import DETECTION_METHOD
from vtract.reference import Reference
from vtract.reverberation import DRY_DECAY_DB

SETTINGS: dict[str, Any] = {"method": DETECTION_METHOD}


def load_features(items: list[Item], jobs: int = 1) -> pd.DataFrame:
    from joblib import Parallel, delayed

    t0 = time.time()
    tables = Parallel(n_jobs=jobs, verbose=5 if jobs > 1 else 0)(
        delayed(cached_features)(it, SETTINGS) for it in items
    )
    print(f"  features of {len(items)} recordings in {time.time() - t0:.0f} s", flush=True)
    return pd.concat([t for t in tables if len(t)], ignore_index=True)


def assign_folds(files: pd.DataFrame, k: int) -> pd.Series:
    """Fold per file: organic speakers grouped; fakes follow the voice they imitate."""
    org_speakers = sorted(set(files.loc[files["label"] == "organic", "speaker"]))
    # deterministic shuffle of speakers, then round-robin
    order = sorted(org_speakers, key=lambda s: zlib.crc32(s.encode()))
    fold_of = {s: i % k for i, s in enumerate(order)}
    return files["speaker"].map(lambda s: fold_of.get(s, zlib.crc32(s.encode()) % k))


def file_meta(feats: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per file of a feature table: label, speaker, family, generator, subset, alignment
    confidence and speaker fold (:func:`assign_folds`)."""
    meta = feats.groupby("file", sort=True).agg(
        label=("label", "first"),
        speaker=("speaker", "first"),
        family=("family", "first"),
        generator=("generator", "first"),
        subset=("subset", "first"),
        low_confidence=("low_confidence", "first"),
    )
    meta["fold"] = assign_folds(meta, k)
    return meta


def verdict_rules(files: pd.DataFrame) -> pd.Series:
    """Inconclusive as the default detector decides it (counts only)."""
    n = files["n_bigrams"]
    thin = (n < MIN_BIGRAMS) | (files["low_confidence"] & (n < MIN_BIGRAMS_LOW_CONFIDENCE))
    thin |= files["weight_sum"] < MIN_REFERENCE_WEIGHT
    return ~thin


def auc_interval(y: np.ndarray, stat: np.ndarray, n_boot: int = 1000) -> list[float]:
    """95 % percentile-bootstrap interval of the ROC AUC (classes resampled separately, seeded).

    With 1-4 fakes in a family (festival, flite, espeak-ng, Piper) the
    interval is wide: their per-family AUCs are anecdotes, not estimates.
    """
    rng = np.random.default_rng(2022)
    org, syn = stat[~y], stat[y]
    lab = np.r_[np.zeros(org.size, bool), np.ones(syn.size, bool)]
    aucs = [
        roc_auc(lab, np.r_[rng.choice(org, org.size), rng.choice(syn, syn.size)])
        for _ in range(n_boot)
    ]
    return [float(v) for v in np.percentile(aucs, [2.5, 97.5])]


def clustered_intervals(
    y: np.ndarray,
    stat: np.ndarray,
    clusters: np.ndarray,
    pred: np.ndarray | None = None,
    n_boot: int = 1000,
) -> dict[str, Any]:
    """95 % percentile intervals of the AUC (and recall) resampling *clusters*.

    The recordings are not independent: the ESPnet fakes are ten sentences said by up
    to 13 systems, and the organic side holds speakers with ten or 37 recordings. So
    each class's clusters (organic: speakers; synthetic: sentences) are drawn with
    replacement, every drawn cluster bringing all its recordings (session 31 benchmark
    audit F1: the recording bootstrap of :func:`auc_interval` is too narrow). No FPR
    interval: with two or three false positives a percentile bootstrap cannot see
    the tail (it came out narrower than the exact Clopper-Pearson one); the exact
    interval stays the one to quote, knowing it assumes independent recordings.
    """
    rng = np.random.default_rng(2022)
    groups = {}
    for label in (False, True):
        idx = np.flatnonzero(y == label)
        _, inverse = np.unique(clusters[idx], return_inverse=True)
        groups[label] = [idx[inverse == g] for g in range(inverse.max() + 1)]
    aucs, recalls = [], []
    for _ in range(n_boot):
        take = {
            lab: np.concatenate([gs[i] for i in rng.integers(0, len(gs), len(gs))])
            for lab, gs in groups.items()
        }
        both = np.r_[take[False], take[True]]
        aucs.append(roc_auc(y[both], stat[both]))
        if pred is not None:
            recalls.append(float(pred[take[True]].mean()))
    out: dict[str, Any] = {
        "n_organic_clusters": len(groups[False]),
        "n_synthetic_clusters": len(groups[True]),
        "auc_ci95": [float(v) for v in np.percentile(aucs, [2.5, 97.5])],
    }
    if pred is not None:
        out["recall_ci95"] = [float(v) for v in np.percentile(recalls, [2.5, 97.5])]
    return out


def metrics(
    y: np.ndarray,
    stat: np.ndarray,
    pred: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"n_organic": int((~y).sum()), "n_synthetic": int(y.sum())}
    if y.any() and (~y).any():
        out["auc"] = roc_auc(y, stat)
        out["auc_ci95"] = auc_interval(y, stat)
        out["eer"], _ = equal_error_rate(y, stat)
        if clusters is not None:
            # organic speakers and fake sentences resampled (audit F1); the recording
            # intervals above and below are kept beside them for comparison
            out["clustered"] = clustered_intervals(y, stat, clusters, pred)
    if pred is not None:
        tp = int((pred & y).sum())
        fp = int((pred & ~y).sum())
        out["fpr"] = fp / max(1, int((~y).sum()))
        out["recall"] = tp / max(1, int(y.sum())) if y.any() else None
        out["precision"] = tp / (tp + fp) if tp + fp else None
        out["n_false_positives"] = fp
        # exact 95 % intervals: a few hundred organic files cannot show FPR <= 1 % to +-1 %
        n_org = int((~y).sum())
        out["fpr_ci95"] = list(binomial_interval(fp, n_org)) if n_org else None
        out["recall_ci95"] = list(binomial_interval(tp, int(y.sum()))) if y.any() else None
    return out


def run(
    items: list[Item],
    k: int,
    fpr: float,
    jobs: int = 1,
    features: pd.DataFrame | None = None,
    save: Path | None = None,
    said: dict[str, str] | None = None,
    reference: Path | None = None,
    threshold_by: str = "speaker",
) -> dict[str, Any]:
    if features is None:
        print(f"{len(items)} recordings; extracting features (cached)...", flush=True)
        feats = load_features(items, jobs)
    else:
        keys = {it.key for it in items}
        feats = features[features["file"].isin(keys)].reset_index(drop=True)
    if save is not None:
        feats.assign(feature_code_version=code_version()).to_parquet(save)
    feats = feats[np.isfinite(feats["area_cm2"])]
    meta = file_meta(feats, k)
    print(
        f"{len(meta)} files with features ({(meta.label == 'organic').sum()} organic, "
        f"{(meta.label == 'synthetic').sum()} synthetic); flags...",
        flush=True,
    )
    flags = flags_by_file(feats)
    fold_of_file = meta["fold"]
    rows = []
    paper_range = []
    paper_votes = []
    families = sorted(set(meta.loc[meta.label == "synthetic", "family"]))
    for fold in range(k):
        t = time.time()
        test_files = fold_of_file.index[fold_of_file == fold]
        train_org = meta.index[(meta.label == "organic") & (fold_of_file != fold)]
        ref = Reference.fit(
            feats[feats["file"].isin(train_org)].drop(
                columns=["family", "generator", "subset", "low_confidence"]
            ),
            name=f"fold{fold}",
            settings={"extract_features": SETTINGS},
        )
        test = feats[feats["file"].isin(test_files)]
        st = file_statistics(test.drop(columns=["label", "speaker"]), ref, flags).set_index("file")
        st["fold"] = fold
        rows.append(st)
        # paper, organic-range rule
        ranges = reference_ranges(ref, test)
        det = PaperDetector(ranges=ranges)
        for f, g in test.groupby("file"):
            s, _ = det.statistic(g)
            paper_range.append({"file": f, "share": s, "fold": fold})
        # paper, ideal-feature vote, leave-one-generator-out
        train_syn = meta.index[(meta.label == "synthetic") & (fold_of_file != fold)]
        train_rows = feats[feats["file"].isin(train_org.union(train_syn))]
        tr_ranges = reference_ranges(ref, train_rows)
        for fam in families:
            org_tr = train_rows[train_rows["label"] == "organic"]
            syn_tr = train_rows[
                (train_rows["label"] == "synthetic") & (train_rows["family"] != fam)
            ]
            if syn_tr.empty:
                continue
            pdet = PaperDetector.fit(org_tr, syn_tr, ranges=tr_ranges)
            sel = test[(test["label"] == "organic") | (test["family"] == fam)]
            for f, g in sel.groupby("file"):
                s, _ = pdet.statistic(g)
                paper_votes.append(
                    {
                        "file": f,
                        "held_out_family": fam,
                        "vote": s,
                        "fold": fold,
                        "n_ideal": len(pdet.ideal),
                    }
                )
        print(
            f"  fold {fold}: {len(train_org)} reference files, {len(test_files)} test files, "
            f"{time.time() - t:.0f} s",
            flush=True,
        )
    stats = pd.concat(rows).join(meta.drop(columns=["fold"]))
    stats["conclusive"] = verdict_rules(stats)
    # thresholds per fold from the other folds' organic statistics
    stats["score"] = np.nan
    stats["pred"] = False
    cal_info = []
    speakers = file_speakers(feats)
    for fold in range(k):
        other = stats[(stats["fold"] != fold) & (stats["label"] == "organic") & stats["conclusive"]]
        baseline = float(np.quantile(other["flagged"], FLAG_BASELINE_QUANTILE))
        cal = calibrate(
            combine(other["deviation"], other["flagged"], baseline),
            target_fpr=fpr,
            organic_groups=speakers.reindex(other.index).to_numpy()
            if threshold_by == "speaker"
            else None,
        )
        m = stats["fold"] == fold
        stat = combine(stats.loc[m, "deviation"], stats.loc[m, "flagged"], baseline)
        stats.loc[m, "statistic"] = stat
        stats.loc[m, "score"] = cal.score(stat)
        stats.loc[m, "pred"] = stat >= cal.threshold
        cal_info.append(
            {
                "fold": fold,
                "threshold": cal.threshold,
                "flag_baseline": baseline,
                "n_organic": len(other),
            }
        )
    out = summarise(
        stats, pd.DataFrame(paper_range), pd.DataFrame(paper_votes), meta, cal_info, fpr
    )
    # the legacy deviation statistic is reported as such; "default" = tract dynamics
    out["default_deviation"] = out.pop("default")
    print("tract dynamics (shipping statistic)...", flush=True)
    texts = None
    if items:
        said = said or {}
        texts = pd.Series(
            {it.key: normalised_text(said.get(it.key, it.transcript)) for it in items},
            dtype=object,
        )
    # the dry-voice model decides where the recording shows no room (vtract.detect.default)
    from joblib import Parallel, delayed

    decay = pd.Series(dict(Parallel(n_jobs=jobs)(delayed(recording_decay)(it) for it in items)))
    dynamics = run_dynamics(feats, stats, meta, k, fpr, families, texts, decay, threshold_by)
    # "default" is what the shipped reference (or --reference) holds; the other model beside it
    shipped = vtract.default_reference() if reference is None else Reference.load(reference)
    gated_ships = DRY_VOICE in shipped.calibration
    other = "default_four_descriptors_only" if gated_ships else "dry_voice_gated"
    out["default"] = dynamics["gated" if gated_ships else "four"]
    out[other] = dynamics["four" if gated_ships else "gated"]
    for key in ("default", other):
        lo = out[key]["leave_one_generator_out"]
        print(
            f"  {key}: leave-one-generator-out AUC mean {lo['auc_mean']:.3f}, "
            f"min {lo['auc_min']:.3f}; largest FPR {lo['fpr_max']:.4f}",
            flush=True,
        )
    return out


#: Families that share a toolkit (ESPnet LJSpeech/LibriTTS recipes), also held out together.
TOOLKITS: dict[str, list[str]] = {"espnet-all": ["tacotron2", "transformer", "fastspeech"]}


def gated_log_odds(
    four: Any,
    voice: Any,
    statistic: Any,
    dry_voice_statistic: Any,
    steepest_decay_db: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The default detector's log-odds under the gated pair, and where the dry-voice model decided.

    A recording whose steepest level decay reaches
    :data:`~vtract.reverberation.DRY_DECAY_DB` and whose dry-voice statistic
    is defined is scored by ``voice`` (descriptors
    :data:`~vtract.detect.dynamics.WITH_SHIMMER`), every other (including an
    unmeasured decay) by ``four``: the routing of
    :meth:`vtract.detect.default.DefaultDetector.decide`. The two models'
    statistics are on different scales, so the result is the deciding
    calibration's log-odds ``slope * (statistic - threshold)``: 0 at either
    threshold, the score its logistic.
    """
    s4 = np.asarray(statistic, dtype=np.float64)
    s5 = np.asarray(dry_voice_statistic, dtype=np.float64)
    decay = np.nan_to_num(np.asarray(steepest_decay_db, dtype=np.float64), nan=-np.inf)
    use = (decay >= DRY_DECAY_DB) & np.isfinite(s5)
    log_odds = np.where(
        use, voice.slope * (s5 - voice.threshold), four.slope * (s4 - four.threshold)
    )
    return log_odds, use


def _scored(
    cal: Any,
    desc: pd.DataFrame,
    files: pd.Index,
    voice: Any = None,
    decay: pd.Series | None = None,
) -> pd.DataFrame:
    """Statistic, score and call of ``files`` under ``cal``, or under the gated pair.

    With ``voice`` (a dry-voice calibration) and ``decay`` (per file: the
    steepest level decay), the statistic is :func:`gated_log_odds`.
    """
    stat = DescriptorModel.from_dict(cal.model).statistic(desc.loc[files])
    if voice is None:
        return pd.DataFrame(
            {"statistic": stat, "score": cal.score(stat), "pred": stat >= cal.threshold},
            index=files,
        )
    assert decay is not None
    v = DescriptorModel.from_dict(voice.model).statistic(desc.loc[files])
    log_odds, use = gated_log_odds(cal, voice, stat, v, decay.reindex(files))
    score = np.where(use, voice.score(v), cal.score(stat))
    return pd.DataFrame(
        {"statistic": log_odds, "score": score, "pred": log_odds >= 0, "dry_voice": use},
        index=files,
    )


#: Back-off keys of the content-only control, most specific first.
CONTENT_KEYS: tuple[tuple[str, ...], ...] = (
    ("bigram", "window_index", "section"),
    ("bigram", "section"),
    ("phone2", "section"),
    ("section",),
)
#: Organic windows a content-control median needs.
CONTENT_MIN_COUNT = 5


def content_spread(train_organic: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """Shape spread that a recording's bigram content alone predicts (a control).

    Every test window's log-area per section is replaced by the organic
    median of its (bigram, window position, section) in ``train_organic``
    (backing off to (bigram, section), (second phone, section), section when
    fewer than :data:`CONTENT_MIN_COUNT` organic windows); the statistic is
    then computed like ``shape_spread``: per section the standard deviation
    over the recording's windows, median over sections. It uses nothing of a
    recording's audio beyond which bigrams were said where, so its AUC says
    how much the corpus's content alone separates organic from synthetic.
    """
    la = np.log(train_organic["area_cm2"].to_numpy(np.float64))
    train = train_organic.assign(la=la)
    expected = pd.Series(np.nan, index=test.index)
    for keys in CONTENT_KEYS:
        g = train.groupby(list(keys))["la"]
        med = g.median()[g.count() >= CONTENT_MIN_COUNT].rename("expected")
        level = test[list(keys)].join(med, on=list(keys))["expected"]
        expected = expected.fillna(level)
    per_section = (
        test[["file", "section"]].assign(expected=expected).groupby(["file", "section"])["expected"]
    )
    return per_section.std().groupby(level=0).median()


def normalised_text(text: str | None) -> str | None:
    """Transcript reduced to lower-case words (for matching sentences across recordings)."""
    if not text:
        return None
    words = re.findall(r"[a-z']+", text.lower().replace("\u2019", "'"))
    return " ".join(words) or None


def matched_text(sc: pd.DataFrame, texts: pd.Series) -> dict[str, Any] | None:
    """AUC restricted to sentences said by organic *and* synthetic recordings.

    Across the corpus organic and synthetic recordings mostly say different
    sentences (the ESPnet fakes say five LJSpeech and five LibriTTS
    sentences); the ESPnet real recordings (``ground_truth``), the LJSpeech
    recordings and the generated fakes share some. ``sc`` holds statistics
    (index = file) and labels; ``texts`` the normalised transcript per file.
    """
    t = texts.reindex(sc.index)
    said_by = sc.assign(text=t).dropna(subset=["text"]).groupby("text")["label"].nunique()
    shared = set(said_by.index[said_by > 1])
    g = sc[t.isin(shared).to_numpy()]
    y = (g["label"] == "synthetic").to_numpy()
    if not (y.any() and (~y).any()):
        return None
    return {"n_sentences": len(shared), **metrics(y, g["statistic"].to_numpy())}


def run_dynamics(
    feats: pd.DataFrame,
    stats: pd.DataFrame,
    meta: pd.DataFrame,
    k: int,
    fpr: float,
    families: list[str],
    texts: pd.Series | None = None,
    decay: pd.Series | None = None,
    threshold_by: str = "speaker",
) -> dict[str, dict[str, Any]]:
    """Tract-dynamics statistic, exactly as ``dynamics_calibration`` fits it for shipping.

    Per test fold (speakers never seen in training), with the threshold set on
    out-of-fold organic statistics INSIDE the training folds:

    - ``one_class``: trained on organic training files only (no fakes at all);
    - ``leave_one_generator_out``: for each family F, trained on organic +
      synthetic training files of every family except F; scored on the test
      fold's organic files and F's fakes (the issue's figure);
    - ``all_families``: trained with every family's training fakes (the
      shipped configuration; same-family figures are optimistic).

    Returns ``{"four": figures}``: the four tract descriptors
    (:data:`~vtract.detect.dynamics.DESCRIPTORS`) everywhere; with ``decay``
    (per file: :func:`recording_decay`) also ``"gated"``: every model above fitted a second time on
    :data:`~vtract.detect.dynamics.WITH_SHIMMER` (the dry-voice model,
    ``vtract calibrate --with-shimmer``), the two scored as the default
    detector routes them (:func:`_scored`). ``threshold_by`` is
    ``dynamics_calibration``'s: what the thresholds' conformal guarantee counts.
    """
    desc = recording_descriptors(feats)
    counts = stats[["n_bigrams"]].reset_index()
    finite = np.all(np.isfinite(desc[list(DESCRIPTORS)].to_numpy(np.float64)), axis=1)
    conclusive = stats["conclusive"] & pd.Series(finite, index=desc.index).reindex(stats.index)
    models = ["four"] if decay is None else ["four", "gated"]
    scored: dict[str, dict[str, list[pd.DataFrame]]] = {
        m: {"one_class": [], "all_families": []} for m in models
    }
    logo: dict[str, dict[str, list[pd.DataFrame]]] = {
        m: {f: [] for f in [*families, *TOOLKITS]} for m in models
    }
    thresholds: dict[str, list[dict[str, Any]]] = {m: [] for m in models}
    content: list[pd.Series] = []

    def fitted(rows: pd.DataFrame, files: pd.Index) -> dict[str, tuple[pd.DataFrame, list]]:
        """Per model: ``files`` scored by the calibrations fitted on ``rows``, and their thresholds."""
        cal, _, _ = dynamics_calibration(
            rows, counts, target_fpr=fpr, descriptors=desc, threshold_by=threshold_by
        )
        out = {"four": (_scored(cal, desc, files), [cal.threshold])}
        if decay is not None:
            voice, _, _ = dynamics_calibration(
                rows,
                counts,
                target_fpr=fpr,
                descriptors=desc,
                names=WITH_SHIMMER,
                threshold_by=threshold_by,
            )
            gated = _scored(cal, desc, files, voice, decay)
            out["gated"] = (gated, [cal.threshold, voice.threshold])
        return out

    for fold in range(k):
        t = time.time()
        test = meta.index[(meta["fold"] == fold) & conclusive.reindex(meta.index).to_numpy(bool)]
        train = feats[feats["file"].isin(meta.index[meta["fold"] != fold])]
        content.append(
            content_spread(train[train["label"] == "organic"], feats[feats["file"].isin(test)])
        )
        for name, rows in (
            ("one_class", train[train["label"] == "organic"]),
            ("all_families", train),
        ):
            for m, (sc, cuts) in fitted(rows, test).items():
                scored[m][name].append(sc.assign(fold=fold))
                thresholds[m].append({"fold": fold, "model": name, "threshold": cuts})
        for fam in [*families, *TOOLKITS]:
            members = TOOLKITS.get(fam, [fam])
            rows = train[(train["label"] == "organic") | ~train["family"].isin(members)]
            keep = test[
                (meta.loc[test, "label"] == "organic") | meta.loc[test, "family"].isin(members)
            ]
            for m, (sc, _) in fitted(rows, keep).items():
                logo[m][fam].append(sc.assign(fold=fold))
        print(f"  dynamics fold {fold}: {time.time() - t:.0f} s", flush=True)
    c = meta.loc[conclusive.reindex(meta.index).to_numpy(bool)]
    y_all = (c["label"] == "synthetic").to_numpy()
    common: dict[str, Any] = {
        "inconclusive": {
            lab: int((~conclusive[stats["label"] == lab]).sum()) for lab in ("organic", "synthetic")
        },
        "descriptor_auc": {
            d: roc_auc(y_all, desc.loc[c.index, d].to_numpy())
            for d in WITH_SHIMMER
            if d in desc.columns
        },
    }
    # controls: what the bigram content alone gives, and same-sentence comparisons
    expected = pd.concat(content).reindex(c.index)
    ok = np.isfinite(expected.to_numpy(np.float64))
    common["content_only_control"] = {
        "statistic": "shape spread of the organic training-fold medians of the recording's "
        "bigram windows (content_spread)",
        "n": int(ok.sum()),
        "auc": roc_auc(y_all[ok], expected.to_numpy(np.float64)[ok]),
    }
    c_meta = meta.loc[c.index]
    common["alignment_source_only_control"] = {
        "statistic": "1 if the recording was force-aligned or came with an alignment, 0 if "
        "its phones were recognised",
        "auc": roc_auc(y_all, (~c_meta["low_confidence"].astype(bool)).to_numpy(np.float64)),
    }
    out = {}
    for m in models:
        out[m] = {
            "statistic": "dynamics" if m == "four" else "gated dynamics log-odds",
            "descriptors": list(DESCRIPTORS),
            **({} if m == "four" else {"dry_voice_descriptors": list(WITH_SHIMMER)}),
            **({} if m == "four" else {"dry_decay_db": DRY_DECAY_DB}),
            "thresholds": thresholds[m],
            **common,
            **dynamics_figures(scored[m], logo[m], meta, texts),
        }
    return out


def dynamics_figures(
    scored: dict[str, list[pd.DataFrame]],
    logo: dict[str, list[pd.DataFrame]],
    meta: pd.DataFrame,
    texts: pd.Series | None,
) -> dict[str, Any]:
    """Figures of one scored model: per training configuration, held-out family and control."""
    out: dict[str, Any] = {}
    for name, parts in scored.items():
        sc = pd.concat(parts).join(meta[["label", "family", "subset", "generator", "speaker"]])
        y = (sc["label"] == "synthetic").to_numpy()
        org = sc[sc["label"] == "organic"]
        false_positives = org[org["pred"]].sort_values("statistic", ascending=False)
        per_family = {}
        for fam, g in sc[sc["label"] == "synthetic"].groupby("family"):
            both = pd.concat([org, g])
            yy = (both["label"] == "synthetic").to_numpy()
            per_family[fam] = metrics(
                yy,
                both["statistic"].to_numpy(),
                both["pred"].to_numpy(bool),
                resampling_clusters(both, texts),
            )
        out[name] = {
            "pooled": metrics(
                y,
                sc["statistic"].to_numpy(),
                sc["pred"].to_numpy(bool),
                resampling_clusters(sc, texts),
            ),
            # what the speaker-level guarantee bounds: each speaker's share, averaged
            "organic_fpr_speaker_mean": speaker_mean_fpr(org),
            "per_family": per_family,
            "organic_fpr_by_source": {
                f"{fam}/{sub}" if sub else fam: {"n": len(g), "fpr": float(g["pred"].mean())}
                for (fam, sub), g in org.groupby(["family", "subset"])
            },
            # which organic recordings are called synthetic (each by its fold's model)
            "organic_false_positives": [
                {
                    "file": str(f),
                    "speaker": str(r["speaker"]),
                    "fold": int(r["fold"]),
                    "statistic": float(r["statistic"]),
                    "score": float(r["score"]),
                }
                for f, r in false_positives.iterrows()
            ],
        }
        if "dry_voice" in sc.columns:
            out[name]["dry_voice_share"] = {
                lab: round(float(g["dry_voice"].mean()), 4) for lab, g in sc.groupby("label")
            }
        aucs = [v["auc"] for v in per_family.values() if "auc" in v]
        out[name]["auc_min"] = min(aucs) if aucs else None
        out[name]["auc_mean"] = float(np.mean(aucs)) if aucs else None
    # each held-out family's (and toolkit's) scored files, gathered once for every figure below
    logo_scored = {
        fam: pd.concat(parts).join(meta[["label", "low_confidence", "speaker"]])
        for fam, parts in logo.items()
    }
    fam_figs = {}
    for fam, sc in logo_scored.items():
        y = (sc["label"] == "synthetic").to_numpy()
        fam_figs[fam] = metrics(
            y,
            sc["statistic"].to_numpy(),
            sc["pred"].to_numpy(bool),
            resampling_clusters(sc, texts),
        )
        fam_figs[fam]["fpr_speaker_mean"] = speaker_mean_fpr(sc[sc["label"] == "organic"])
    out["leave_one_toolkit_out"] = {t: fam_figs.pop(t) for t in TOOLKITS}
    # alignment source (forced vs recognised) goes with the label in this corpus:
    # the ESPnet fakes, scored by models that never saw one, within each source
    espnet = logo_scored["espnet-all"]
    out["by_alignment_source_leave_toolkit_out"] = {}
    for source, g in espnet.groupby(
        espnet["low_confidence"].map({True: "recognised", False: "forced or given"})
    ):
        yy = (g["label"] == "synthetic").to_numpy()
        if yy.any() and (~yy).any():
            out["by_alignment_source_leave_toolkit_out"][source] = metrics(
                yy, g["statistic"].to_numpy()
            )
    # the same sentences said by organic and synthetic recordings, held-out models
    if texts is not None:
        out["matched_text_leave_one_generator_out"] = {
            fam: m for fam, sc in logo_scored.items() if (m := matched_text(sc, texts)) is not None
        }
    aucs = [v["auc"] for v in fam_figs.values() if "auc" in v]
    out["leave_one_generator_out"] = {
        "per_family": fam_figs,
        "auc_mean": float(np.mean(aucs)) if aucs else None,
        "auc_min": min(aucs) if aucs else None,
        "fpr_max": max(v.get("fpr", 0.0) for v in fam_figs.values()),
        "fpr_speaker_mean_max": max(v["fpr_speaker_mean"] for v in fam_figs.values()),
    }
    return out


def resampling_clusters(scored: pd.DataFrame, texts: pd.Series | None) -> np.ndarray:
    """Cluster of each scored recording (index = file) for :func:`clustered_intervals`:
    organic recordings by speaker, fakes by sentence (their normalised transcript; the
    file itself when there is none). The MFA test files keep one speaker id each (the
    audit's F2, not fixed), so the organic side is still partly split too finely."""
    organic = (scored["label"] == "organic").to_numpy()
    speaker = "speaker:" + scored["speaker"].astype(str).to_numpy(dtype=object)
    said = (
        texts.reindex(scored.index).to_numpy(dtype=object)
        if texts is not None
        else np.full(len(scored), None, dtype=object)
    )
    sentence = np.array(
        [
            f"sentence:{t}" if isinstance(t, str) and t else f"file:{f}"
            for t, f in zip(said, scored.index)
        ],
        dtype=object,
    )
    return np.where(organic, speaker, sentence)


def speaker_mean_fpr(organic: pd.DataFrame) -> float:
    """Organic false-positive rate with every speaker weighing one: the mean over
    speakers of the share of their recordings called synthetic (``pred``)."""
    return float(organic.groupby("speaker")["pred"].mean().mean())


def summarise(stats, paper_range, paper_votes, meta, cal_info, fpr) -> dict[str, Any]:
    c = stats[stats["conclusive"]]
    y = (c["label"] == "synthetic").to_numpy()
    out: dict[str, Any] = {}
    default: dict[str, Any] = {
        "pooled": metrics(y, c["score"].to_numpy(), c["pred"].to_numpy(bool)),
        "thresholds": cal_info,
        "inconclusive": {
            lab: int((~stats.loc[stats["label"] == lab, "conclusive"]).sum())
            for lab in ("organic", "synthetic")
        },
    }
    org = c[c["label"] == "organic"]
    per_family = {}
    for fam, g in c[c["label"] == "synthetic"].groupby("family"):
        both = pd.concat([org, g])
        yy = (both["label"] == "synthetic").to_numpy()
        per_family[fam] = metrics(yy, both["score"].to_numpy(), both["pred"].to_numpy(bool))
    default["per_family_leave_one_generator_out"] = per_family
    aucs = [v["auc"] for v in per_family.values() if "auc" in v]
    default["components_auc"] = {
        comp: roc_auc(y, c[comp].to_numpy()) if y.any() and (~y).any() else None
        for comp in ("deviation", "flagged")
    }
    default["logo_auc_min"] = min(aucs) if aucs else None
    default["logo_auc_mean"] = float(np.mean(aucs)) if aucs else None
    default["organic_fpr_by_source"] = {
        f"{fam}/{sub}" if sub else fam: {"n": len(g), "fpr": float(g["pred"].mean())}
        for (fam, sub), g in org.groupby(["family", "subset"])
    }
    default["per_generator"] = {
        gen: {
            "n": len(g),
            "recall": float(g["pred"].mean()),
            "median_score": float(g["score"].median()),
        }
        for gen, g in c[c["label"] == "synthetic"].groupby("generator")
    }
    out["default"] = default
    # paper: range rule
    pr = paper_range.set_index("file").join(meta[["label", "family"]])
    pr = pr[np.isfinite(pr["share"])]
    yp = (pr["label"] == "synthetic").to_numpy()
    paper: dict[str, Any] = {
        "organic_range_rule": {
            "sentence_threshold": DEFAULT_SENTENCE_THRESHOLD,
            "pooled": metrics(
                yp, pr["share"].to_numpy(), (pr["share"] > DEFAULT_SENTENCE_THRESHOLD).to_numpy()
            ),
            "per_family": {
                fam: metrics(
                    (pd.concat([pr[pr.label == "organic"], g])["label"] == "synthetic").to_numpy(),
                    pd.concat([pr[pr.label == "organic"], g])["share"].to_numpy(),
                    (
                        pd.concat([pr[pr.label == "organic"], g])["share"]
                        > DEFAULT_SENTENCE_THRESHOLD
                    ).to_numpy(),
                )
                for fam, g in pr[pr.label == "synthetic"].groupby("family")
            },
        }
    }
    if len(paper_votes):
        pv = paper_votes.join(meta[["label", "family"]], on="file")
        fams = {}
        for fam, g in pv.groupby("held_out_family"):
            g = g[np.isfinite(g["vote"])]
            yy = (g["label"] == "synthetic").to_numpy()
            fams[fam] = {
                **metrics(yy, g["vote"].to_numpy(), (g["vote"] >= VOTE_THRESHOLD).to_numpy()),
                "no_ideal_feature_in_file": int(
                    pv[(pv.held_out_family == fam)]["vote"].isna().sum()
                ),
                "n_ideal_features_median": float(
                    pv.loc[pv.held_out_family == fam, "n_ideal"].median()
                ),
            }
        paper["ideal_vote_leave_one_generator_out"] = fams
    out["paper"] = paper
    out["corpus"] = {
        "n_files": len(stats),
        "n_organic": int((stats["label"] == "organic").sum()),
        "n_synthetic": int((stats["label"] == "synthetic").sum()),
        "n_organic_speakers": int(stats.loc[stats["label"] == "organic", "speaker"].nunique()),
        "families": sorted(set(stats.loc[stats["label"] == "synthetic", "family"])),
        "low_confidence_files": int(stats["low_confidence"].sum()),
    }
    out["target_fpr"] = fpr
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 LibriSpeech files per subset, 3 folds")
    ap.add_argument(
        "--libri", type=int, default=None, help="LibriSpeech files per subset (default: all)"
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fpr", type=float, default=0.01)
    ap.add_argument("--jobs", type=int, default=1, help="processes for feature extraction")
    ap.add_argument("--no-json", action="store_true")
    ap.add_argument(
        "--method",
        default=DETECTION_METHOD,
        help=f"estimator for the features (default: {DETECTION_METHOD})",
    )
    ap.add_argument(
        "--features",
        type=Path,
        default=None,
        help="read this combined feature table (Parquet, as written by a previous run with "
        "--save-features) instead of extracting; its code version is recorded",
    )
    ap.add_argument("--save-features", type=Path, default=None, help="write the combined table")
    ap.add_argument(
        "--generated",
        action="store_true",
        help="add Piper/espeak-ng fakes made on this machine (writes detection_generated.json)",
    )
    ap.add_argument(
        "--matched",
        action="store_true",
        help="also add Piper/espeak-ng fakes of what every organic recording says, aligned "
        "as it was (implies --generated; writes detection_matched.json)",
    )
    ap.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="a reference whose calibrations stand for the shipped ones (default: the packaged "
        "reference): with a dry-voice model, 'default' is the gated pair",
    )
    ap.add_argument(
        "--threshold-by",
        choices=THRESHOLD_BY,
        default="speaker",
        help="what every threshold's conformal guarantee counts (vtract calibrate "
        "--threshold-by, default speaker); 'recording' writes results/threshold_by_recording/",
    )
    ap.add_argument(
        "--cached-only",
        action="store_true",
        help="skip recordings whose alignment is not cached yet (recognition is slow)",
    )
    args = ap.parse_args()
    SETTINGS["method"] = args.method
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    libri = 10 if args.quick else args.libri
    folds = 3 if args.quick else args.folds
    items = corpus_items(librispeech_per_subset=libri)
    generated_notes: list[str] = []
    n_generated = 0
    args.generated = args.generated or args.matched
    said: dict[str, str] | None = None
    if args.generated:
        from _generated_fakes import generated_items

        extra, generated_notes = generated_items()
        for note in generated_notes:
            print(f"  {note}", flush=True)
        items += extra
        n_generated = len(extra)
    if args.matched:
        from _generated_fakes import matched_items

        organic = [it for it in items if it.label == "organic"]
        extra, said, matched_notes = matched_items(organic)
        for note in matched_notes:
            print(f"  {note}", flush=True)
        generated_notes += matched_notes
        items += extra
        n_generated += len(extra)
    n_listed = len(items)
    if args.cached_only:
        items = [it for it in items if is_alignment_cached(it)]
    t0 = time.time()
    table = None
    feature_version = code_version()
    if args.features is not None:
        table = pd.read_parquet(args.features)
        if "feature_code_version" in table.columns:
            feature_version = str(table["feature_code_version"].iloc[0])
            table = table.drop(columns=["feature_code_version"])
    figures = run(
        items,
        folds,
        args.fpr,
        args.jobs,
        table,
        args.save_features,
        said,
        args.reference,
        args.threshold_by,
    )
    figures["seconds"] = round(time.time() - t0, 1)
    figures["corpus"]["n_listed"] = n_listed
    figures["corpus"]["skipped_not_cached"] = n_listed - len(items)
    figures["corpus"]["generated_fakes"] = {"n": n_generated, "notes": generated_notes}
    params = {
        "settings": SETTINGS,
        "feature_code_version": feature_version,
        "folds": folds,
        "librispeech_per_subset": libri,
        "target_fpr": args.fpr,
        "generated": bool(args.generated),
        "matched": bool(args.matched),
        "reference": None if args.reference is None else str(args.reference),
        "threshold_by": args.threshold_by,
    }
    name = "detection_matched" if args.matched else "detection_generated"
    name = name if args.generated else "detection"
    if args.threshold_by != "speaker":
        name = f"threshold_by_{args.threshold_by}/{name}"
    emit_result(name, figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
