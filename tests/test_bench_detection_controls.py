"""The detection benchmark's controls: content-only spread and same-sentence AUC.

They decide how the benchmark's headline figures are read, so their logic is
checked on small tables with hand-computed answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_detection.py")


def _windows(file: str, bigrams: list[str], areas: list[list[float]]) -> pd.DataFrame:
    rows = []
    for w, (bigram, sections) in enumerate(zip(bigrams, areas, strict=True)):
        for k, a in enumerate(sections):
            rows.append(
                {
                    "file": file,
                    "bigram": bigram,
                    "phone2": bigram.split("-")[1],
                    "window_index": 0,
                    "boundary_s": float(w),
                    "section": k,
                    "area_cm2": a,
                }
            )
    return pd.DataFrame(rows)


def test_normalised_text_ignores_case_and_punctuation(bench) -> None:
    assert bench.normalised_text("Don\u2019t ask me, Philip!") == "don't ask me philip"
    assert bench.normalised_text("  ") is None
    assert bench.normalised_text(None) is None


def test_content_spread_uses_organic_medians_not_the_test_audio(bench) -> None:
    # organic training windows: bigram A-B has areas (1, 1), C-D has (e^2, e^2);
    # five windows each so the bigram level is used (CONTENT_MIN_COUNT = 5)
    e2 = float(np.exp(2.0))
    train = pd.concat(
        [_windows("org", ["A-B"] * 5 + ["C-D"] * 5, [[1.0, 1.0]] * 5 + [[e2, e2]] * 5)]
    )
    # the test recording says A-B then C-D, with arbitrary audio-derived areas
    test = _windows("rec", ["A-B", "C-D"], [[50.0, 0.1], [0.2, 30.0]])
    spread = bench.content_spread(train, test)
    # per section the log-areas it uses are (0, 2): sample std sqrt(2)
    assert spread.loc["rec"] == pytest.approx(np.sqrt(2.0))
    # the test areas do not matter
    test2 = _windows("rec", ["A-B", "C-D"], [[1.0, 1.0], [1.0, 1.0]])
    assert bench.content_spread(train, test2).loc["rec"] == pytest.approx(np.sqrt(2.0))


def test_content_spread_backs_off_to_the_section_median(bench) -> None:
    # an unseen bigram falls back to the section median over all organic windows
    train = _windows("org", ["A-B"] * 5, [[1.0, float(np.exp(1.0))]] * 5)
    test = _windows("rec", ["X-Y", "A-B"], [[5.0, 5.0], [5.0, 5.0]])
    spread = bench.content_spread(train, test)
    # X-Y gets (0, 1) from the section level, A-B (0, 1) from its own: no spread
    assert spread.loc["rec"] == pytest.approx(0.0)


def test_matched_text_keeps_only_sentences_said_by_both_labels(bench) -> None:
    sc = pd.DataFrame(
        {
            "label": ["organic", "synthetic", "synthetic", "organic", "synthetic"],
            "statistic": [0.0, 1.0, -1.0, 5.0, 9.0],
        },
        index=["o1", "s1", "s2", "o2", "s3"],
    )
    texts = pd.Series(
        {"o1": "one", "s1": "one", "s2": "one", "o2": "two", "s3": "three"}, dtype=object
    )
    out = bench.matched_text(sc, texts)
    # only sentence "one" is shared: o1 (0.0) against s1 (1.0) and s2 (-1.0)
    assert out["n_sentences"] == 1
    assert (out["n_organic"], out["n_synthetic"]) == (1, 2)
    assert out["auc"] == pytest.approx(0.5)
    # nothing shared -> no figure
    assert bench.matched_text(sc.loc[["o2", "s3"]], texts) is None


def test_gated_log_odds_routes_like_the_default_detector(bench) -> None:
    """Dry (decay >= DRY_DECAY_DB, shimmer statistic defined) -> the voice model, else the four."""
    from types import SimpleNamespace

    from vtract.reverberation import DRY_DECAY_DB

    four = SimpleNamespace(slope=2.0, threshold=1.0)
    voice = SimpleNamespace(slope=0.5, threshold=-1.0)
    stat4 = np.array([3.0, 3.0, 3.0, 3.0, 0.0])
    stat5 = np.array([1.0, 1.0, 1.0, np.nan, 5.0])
    decay = np.array([DRY_DECAY_DB, DRY_DECAY_DB - 0.1, np.nan, 30.0, 30.0])
    log_odds, used = bench.gated_log_odds(four, voice, stat4, stat5, decay)
    assert used.tolist() == [True, False, False, False, True]
    # voice: 0.5 * (1 - -1) = 1; four: 2 * (3 - 1) = 4; voice: 0.5 * (5 + 1) = 3
    np.testing.assert_allclose(log_odds, [1.0, 4.0, 4.0, 4.0, 3.0])


def test_speaker_mean_fpr_weighs_every_speaker_once(bench) -> None:
    # speaker "a": 1 of 10 recordings called synthetic; "b": its only one; "c": none of 3
    organic = pd.DataFrame(
        {
            "speaker": ["a"] * 10 + ["b"] + ["c"] * 3,
            "pred": [True] + [False] * 9 + [True] + [False] * 3,
        }
    )
    assert bench.speaker_mean_fpr(organic) == pytest.approx((0.1 + 1.0 + 0.0) / 3)
    # counted per recording the same calls give 2 / 14
    assert organic["pred"].mean() == pytest.approx(2 / 14)


def test_clustered_intervals_resample_whole_clusters(bench):
    """Session 31 benchmark audit F1: recordings of one sentence or speaker are not
    independent draws. Ten copies of each of 4 fake sentences look like 40 fakes to the
    recording bootstrap; the cluster bootstrap sees 4, and its interval is wider."""
    rng = np.random.default_rng(3)
    org = rng.normal(0.0, 1.0, 60)
    sentences = rng.normal(1.0, 1.0, 4)
    syn = np.repeat(sentences, 10) + rng.normal(0.0, 0.05, 40)
    y = np.r_[np.zeros(60, bool), np.ones(40, bool)]
    stat = np.r_[org, syn]
    clusters = np.r_[
        [f"speaker:{i}" for i in range(60)], np.repeat([f"s{i}" for i in range(4)], 10)
    ]
    pred = stat > 1.5
    out = bench.clustered_intervals(y, stat, clusters, pred)
    assert out["n_organic_clusters"] == 60 and out["n_synthetic_clusters"] == 4
    lo, hi = out["auc_ci95"]
    rlo, rhi = bench.auc_interval(y, stat)
    assert lo <= bench.roc_auc(y, stat) <= hi
    assert hi - lo > 1.5 * (rhi - rlo)
    # recall moves in steps of whole sentences; no FPR interval (rare events)
    assert out["recall_ci95"][0] <= pred[60:].mean() <= out["recall_ci95"][1]
    assert "fpr_ci95" not in out
    single = bench.clustered_intervals(y, stat, np.arange(100).astype(str))
    assert single["n_synthetic_clusters"] == 40 and "recall_ci95" not in single


def test_resampling_clusters_are_speakers_and_sentences(bench):
    scored = pd.DataFrame(
        {"label": ["organic", "organic", "synthetic", "synthetic", "synthetic"],
         "speaker": ["a", "a", "v1", "v2", "v2"]},
        index=["o1", "o2", "x1", "x2", "x3"],
    )  # fmt: skip
    texts = pd.Series({"x1": "hello there", "x2": "hello there", "x3": None})
    clusters = bench.resampling_clusters(scored, texts)
    assert list(clusters) == [
        "speaker:a", "speaker:a", "sentence:hello there", "sentence:hello there", "file:x3",
    ]  # fmt: skip
