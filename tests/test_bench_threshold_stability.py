"""The threshold-stability benchmark's bootstrap over speakers, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_threshold_stability.py")


def test_speaker_weighted_share_weighs_every_speaker_once(bench) -> None:
    organic = pd.DataFrame({"speaker": ["a"] * 4 + ["b"], "statistic": [0.0, 0.0, 0.0, 5.0, 5.0]})
    # a: 1 of 4 at or above 1, b: 1 of 1 -> (0.25 + 1) / 2; per recording 2 / 5
    assert bench.speaker_weighted_share(organic, 1.0) == pytest.approx(0.625)


def test_bootstrap_rules_agree_when_every_speaker_has_one_recording(bench) -> None:
    rng = np.random.default_rng(4)
    organic = pd.DataFrame(
        {"speaker": [f"s{i}" for i in range(300)], "statistic": rng.standard_normal(300)}
    )
    draws = bench.bootstrap(organic, rng.standard_normal(50) + 2.0, 0.01, 30, seed=1)
    # a speaker drawn twice counts as two speakers, so with singletons the rules coincide
    np.testing.assert_array_equal(draws["speaker"]["threshold"], draws["recording"]["threshold"])
    assert np.ptp(draws["speaker"]["threshold"]) > 0  # the draws differ


def test_bootstrap_speaker_rule_discounts_a_many_recording_speaker(bench) -> None:
    # 199 singletons around 0 and one speaker with 20 recordings far above them: counted per
    # recording the big speaker fills the allowed places, counted per speaker it weighs one
    rng = np.random.default_rng(5)
    organic = pd.DataFrame(
        {
            "speaker": [f"s{i}" for i in range(199)] + ["big"] * 20,
            "statistic": np.r_[rng.standard_normal(199), np.full(20, 10.0)],
        }
    )
    draws = bench.bootstrap(organic, np.array([20.0]), 0.05, 40, seed=2)
    assert np.all(draws["speaker"]["threshold"] <= draws["recording"]["threshold"])
    assert np.mean(draws["speaker"]["threshold"] < 10.0) > 0.5
