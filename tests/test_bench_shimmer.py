"""The shimmer benchmarks (session 20): restricted shimmers, the room gate and its routing.

``bench_shimmer_invariance`` and ``bench_dry_gate`` decide whether the voice
shimmer may be used and where; their parts are checked against pulse trains
with an analytic shimmer and against hand-made rows whose answer is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _scripts import load_script
from test_voice_source import SR, pulse_train
from vtract.alignment.model import Alignment
from vtract.detect.calibration import Calibration

N = 150
ALTERNATING = [0.5 if i % 2 else 0.4 for i in range(N)]


@pytest.fixture(scope="module")
def invariance():
    return load_script("benchmarks/bench_shimmer_invariance.py")


@pytest.fixture(scope="module")
def gate():
    return load_script("benchmarks/bench_dry_gate.py")


def test_pair_shimmer_is_the_mean_pair_difference_over_the_mean_amplitude(invariance) -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.0, 60)
    pairs = rng.random(59) < 0.6
    used = sorted({i for i in range(59) if pairs[i]} | {i + 1 for i in range(59) if pairs[i]})
    expected = np.mean([abs(a[i] - a[i + 1]) for i in range(59) if pairs[i]]) / np.mean(a[used])
    assert invariance.pair_shimmer(a, pairs) == pytest.approx(expected, rel=1e-12)
    few = np.zeros(59, dtype=bool)
    few[: invariance.MIN_PAIRS - 1] = True
    assert np.isnan(invariance.pair_shimmer(a, few))


def test_vowel_nuclei_are_the_middle_half_of_monophthongs(invariance) -> None:
    aln = Alignment.from_intervals(
        [(0.0, 0.4, "S"), (0.4, 0.8, "AA"), (0.8, 1.2, "AY"), (1.2, 1.6, "IY")], source="test"
    )
    t = np.array([0.2, 0.45, 0.55, 0.65, 0.75, 1.0, 1.3, 1.4, 1.55])
    got = invariance.vowel_nucleus_mask(t, aln)
    # AA's middle half is 0.5-0.7, IY's 1.3-1.5; the diphthong AY and the fricative count not
    assert got.tolist() == [False, False, True, True, False, False, True, True, False]


def test_every_restricted_shimmer_finds_the_analytic_value(invariance) -> None:
    # alternating amplitudes: local shimmer 0.1 / 0.45 wherever it is measured
    x = pulse_train([0.01] * N, ALTERNATING)
    aln = Alignment.from_intervals([(0.0, 1.5, "AA")], source="test")
    got = invariance.shimmer_measures(x, SR, aln)
    for name in ("shimmer_all", "shimmer_vowel_mid", "shimmer_hnr15", "shimmer_vowel_mid_hnr15"):
        assert got[name] == pytest.approx(0.1 / 0.45, rel=0.03), name
    # apq11 compares each amplitude with the mean of its ten closest neighbours (0.45):
    # 0.05 / 0.45 (Praat measures 8-9 % more here: each pulse rides on the last one's tail)
    assert got["shimmer_apq11"] == pytest.approx(0.05 / 0.45, rel=0.1)
    # no monophthong: the nucleus shimmers are undefined, the others not
    consonant = Alignment.from_intervals([(0.0, 1.5, "M")], source="test")
    got = invariance.shimmer_measures(x, SR, consonant)
    assert np.isnan(got["shimmer_vowel_mid"]) and np.isnan(got["shimmer_vowel_mid_hnr15"])
    assert np.isfinite(got["shimmer_hnr15"])


def test_the_gate_is_the_lowest_that_keeps_room_copies_below_the_clean_tail(gate) -> None:
    clean = pd.DataFrame(
        {
            "file": [f"f{i}" for i in range(20)],
            "kind": "original",
            "decay_db": np.linspace(14.0, 30.0, 20),
            "shimmer": np.linspace(0.05, 0.10, 20),
        }
    )
    # room copies: high shimmer, decays 12-16.5 dB; only those from 17 dB up would pass 17
    rooms = [
        pd.DataFrame(
            {
                "file": clean["file"],
                "kind": room,
                "decay_db": np.linspace(12.0, 16.5, 20),
                "shimmer": 0.2,
            }
        )
        for room in gate.ROOMS
    ]
    got = gate.choose_gate(pd.concat([clean, *rooms], ignore_index=True))
    assert got["chosen_gate_db"] == 17.0
    row = {c["gate_db"]: c for c in got["candidates"]}
    assert row[16.0]["reverb_rt0.3"] == {"passing": 3, "above_clean_p95": 1.0}
    assert row[17.0]["clean_below_gate"] == pytest.approx(np.mean(clean["decay_db"] < 17.0))


def test_degradation_summary_routes_each_copy_to_one_calibration(gate) -> None:
    four = Calibration(threshold=1.0, slope=1.0)
    five = Calibration(threshold=2.0, slope=1.0)
    dry, wet = gate.DRY_DECAY_DB + 5, gate.DRY_DECAY_DB - 5
    rows = pd.DataFrame(
        {
            "file": ["a", "b", "a", "b"],
            "label": "organic",
            "kind": ["original", "original", "reverb_rt0.3", "reverb_rt0.3"],
            # a: dry clean copy with the five below its threshold; its room copy is judged by
            # the four (above 1); b: stays below both
            "steepest_decay_db": [dry, dry, wet, wet],
            "stat4": [0.0, 0.0, 1.5, 0.5],
            "stat5": [1.5, 0.0, 9.0, 9.0],
            "high_band_level_db": -10.0,
            "spectral_edge_drop_db": 0.0,
            "quiet_high_band_level_db": 0.0,
            "quiet_spectral_edge_drop_db": 0.0,
            "speech_to_floor_db": 50.0,
            "speech_to_valley_floor_db": 50.0,
        }
    )
    got = gate.summarise_degradations(rows, four, five)
    room = got["conditions"]["reverb_rt0.3"]
    assert got["clean_above_gated"] == 0.0
    assert room["dry_share"] == 0.0 and room["above_gated"] == 0.5 and room["above_five"] == 1.0
    # the room copies fail the reverberation check, so no synthetic verdict is left
    assert room["synthetic_verdicts"] == 0.0
    assert got["worst_condition"] == "reverb_rt0.3" and got["worst_rise_points"] == 50.0
