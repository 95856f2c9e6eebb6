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
