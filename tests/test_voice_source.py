"""Praat's jitter and shimmer (vtract.voice_source) against pulse trains with known perturbation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vtract.errors import VtractError
from vtract.voice_source import MIN_PERIODS, voice_perturbation

SR = 16000
N_PERIODS = 150


def pulse_train(periods_s: list[float], amplitudes: list[float]) -> np.ndarray:
    """One damped 700 Hz resonance per glottal period: a vowel-like source with exact periods."""
    x = np.zeros(int(sum(periods_s) * SR) + 400)
    start = 0.0
    for period, amplitude in zip(periods_s, amplitudes, strict=True):
        i = round(start * SR)
        k = np.arange(int(period * SR))
        x[i : i + k.size] += amplitude * np.exp(-300.0 * k / SR) * np.sin(2 * np.pi * 700 * k / SR)
        start += period
    return x


def test_a_perfectly_regular_source_has_no_jitter_or_shimmer() -> None:
    got = voice_perturbation(pulse_train([0.01] * N_PERIODS, [0.5] * N_PERIODS), SR)
    assert got.n_periods == N_PERIODS - 1  # Praat marks every period but the last
    assert got.jitter_local < 1e-6
    assert got.shimmer_local < 1e-4


def test_alternating_amplitudes_give_the_analytic_shimmer() -> None:
    # local shimmer = mean |a_i - a_i+1| / mean a = 0.1 / 0.45
    amplitudes = [0.5 if i % 2 else 0.4 for i in range(N_PERIODS)]
    got = voice_perturbation(pulse_train([0.01] * N_PERIODS, amplitudes), SR)
    assert got.shimmer_local == pytest.approx(0.1 / 0.45, rel=0.02)
    assert got.jitter_local < 1e-3


def test_alternating_periods_give_the_analytic_jitter() -> None:
    # local jitter = mean |T_i - T_i+1| / mean T = 0.5 ms / 10.25 ms
    periods = [0.01 if i % 2 else 0.0105 for i in range(N_PERIODS)]
    got = voice_perturbation(pulse_train(periods, [0.5] * N_PERIODS), SR)
    assert got.jitter_local == pytest.approx(0.0005 / 0.01025, rel=0.05)


def test_the_measure_does_not_depend_on_the_level_or_the_rate() -> None:
    amplitudes = [0.5 if i % 2 else 0.4 for i in range(N_PERIODS)]
    x = pulse_train([0.01] * N_PERIODS, amplitudes)
    loud = voice_perturbation(x, SR)
    quiet = voice_perturbation(0.01 * x, SR)
    assert quiet.shimmer_local == pytest.approx(loud.shimmer_local, rel=1e-6)
    from scipy.signal import resample_poly

    fast = voice_perturbation(resample_poly(x, 3, 1), 3 * SR)
    assert fast.shimmer_local == pytest.approx(0.1 / 0.45, rel=0.02)


def test_unvoiced_silent_or_short_audio_is_undefined_not_an_error() -> None:
    rng = np.random.default_rng(0)
    for x in (np.zeros(SR), np.zeros(100), 0.1 * rng.normal(size=SR)):
        got = voice_perturbation(x, SR)
        assert math.isnan(got.jitter_local) and math.isnan(got.shimmer_local)
        assert got.n_periods < MIN_PERIODS
    few = voice_perturbation(pulse_train([0.01] * 8, [0.5] * 8), SR)
    assert few.n_periods < MIN_PERIODS and math.isnan(few.shimmer_local)


def test_bad_input_is_refused() -> None:
    with pytest.raises(VtractError, match="1-D"):
        voice_perturbation(np.zeros((2, SR)), SR)
    with pytest.raises(VtractError, match="NaN"):
        voice_perturbation(np.full(SR, np.nan), SR)
    with pytest.raises(VtractError, match="positive"):
        voice_perturbation(np.zeros(SR), 0)


def test_the_analysis_measures_the_shimmer_only_for_a_model_that_uses_it() -> None:
    from types import SimpleNamespace

    from test_windows import CAT
    from vtract.analysis import reference_features
    from vtract.evidence import Evidence

    # a vowel-like source with alternating amplitudes under the "cat" alignment (0.5 s)
    n = 50
    x = pulse_train([0.01] * n, [0.5 if i % 2 else 0.4 for i in range(n)])[: SR // 2]
    ev = Evidence.from_array(x, SR)

    def reference(names: list[str], dry_voice: list[str] | None = None) -> SimpleNamespace:
        calibration = {"default": {"model": {"names": names}}}
        if dry_voice is not None:
            calibration["dry_voice"] = {"model": {"names": dry_voice}}
        return SimpleNamespace(meta={}, method="lpc", calibration=calibration)

    plain, settings, _ = reference_features(ev, CAT, reference(["shape_spread"]))
    assert settings["voice_source"] is False and "shimmer_local" not in plain.columns
    # the dry-voice model of a reference calibrated with --with-shimmer needs it too
    _, settings, _ = reference_features(
        ev, CAT, reference(["shape_spread"], ["shape_spread", "log_shimmer"])
    )
    assert settings["voice_source"] is True
    voiced, settings, _ = reference_features(ev, CAT, reference(["shape_spread", "log_shimmer"]))
    assert settings["voice_source"] is True
    assert set(voiced["shimmer_local"]) == {voice_perturbation(ev.samples, ev.sr).shimmer_local}
    assert voiced["shimmer_local"].iloc[0] == pytest.approx(0.1 / 0.45, rel=0.03)
