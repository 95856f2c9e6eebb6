"""The analysis high-pass: its response against the analytic Butterworth, block-wise
filtering against whole-signal filtering, and its purpose end to end (mains hum in the
quiet windows no longer moves the tract estimates)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import sosfiltfilt

import vtract
from vtract.errors import VtractError
from vtract.features import extract_features
from vtract.tract import highpass as hp_mod
from vtract.tract.highpass import (
    ANALYSIS_HIGHPASS_HZ,
    HIGHPASS_ORDER,
    analysis_highpass_hz,
    highpass,
)

SR = 16000


def _zero_phase_gain(f_hz: float, cutoff_hz: float = ANALYSIS_HIGHPASS_HZ) -> float:
    """Amplitude gain of a Butterworth high-pass run forwards and backwards (analytic):
    one pass has |H|^2 = 1 / (1 + (fc / f)^(2n)); two passes multiply the amplitudes."""
    return 1.0 / (1.0 + (cutoff_hz / f_hz) ** (2 * HIGHPASS_ORDER))


@pytest.mark.parametrize("f_hz", [40.0, 50.0, 60.0, 80.0, 100.0, 150.0, 300.0, 1000.0])
def test_sine_gain_and_phase_match_the_analytic_zero_phase_butterworth(f_hz):
    t = np.arange(4 * SR) / SR
    x = np.sin(2 * np.pi * f_hz * t + 0.3)
    y = highpass(x, SR)
    mid = slice(SR, 3 * SR)  # away from the ends' transients
    # least-squares fit of y = a sin + b cos over the middle: amplitude and phase
    basis = np.column_stack(
        [np.sin(2 * np.pi * f_hz * t[mid] + 0.3), np.cos(2 * np.pi * f_hz * t[mid] + 0.3)]
    )
    (a, b), *_ = np.linalg.lstsq(basis, y[mid], rcond=None)
    assert np.hypot(a, b) == pytest.approx(_zero_phase_gain(f_hz), rel=2e-3, abs=1e-6)
    assert abs(b) <= 1e-6 + 1e-3 * abs(a)  # zero phase: no quadrature component


def test_documented_attenuations():
    """The figures the module docstring gives."""
    for f_hz, db in [(50.0, -33), (60.0, -21), (80.0, -6), (100.0, -1.3)]:
        assert 20 * np.log10(_zero_phase_gain(f_hz)) == pytest.approx(db, abs=0.5)
    assert 20 * np.log10(_zero_phase_gain(200.0)) > -0.01


def test_block_wise_filtering_equals_filtering_the_whole_signal():
    rng = np.random.default_rng(7)
    sr = 8000
    n = int(2.6 * hp_mod.BLOCK_SECONDS * sr) + 123  # three blocks, the last one short
    x = rng.standard_normal(n) + 0.5 * np.sin(2 * np.pi * 50 * np.arange(n) / sr)
    y = highpass(x, sr)
    sos = hp_mod._design(sr, ANALYSIS_HIGHPASS_HZ)
    whole = sosfiltfilt(sos, x, padlen=3 * (2 * sos.shape[0] + 1))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-9)
    y32 = highpass(x.astype(np.float32), sr)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, whole, rtol=0, atol=1e-5)


def test_short_signals_and_bad_input():
    assert highpass(np.array([0.1, -0.2, 0.3]), SR).shape == (3,)
    with pytest.raises(VtractError, match="1-D"):
        highpass(np.zeros((10, 2)), SR)
    with pytest.raises(VtractError, match="at least 2"):
        highpass(np.zeros(1), SR)
    with pytest.raises(VtractError, match="NaN"):
        highpass(np.array([0.0, np.nan, 1.0]), SR)
    with pytest.raises(VtractError, match="between 0 and 4000"):
        highpass(np.zeros(100), 8000, 4000.0)
    with pytest.raises(VtractError, match="positive"):
        highpass(np.zeros(100), 0)


def test_paper_keeps_the_published_input():
    assert analysis_highpass_hz("paper") == 0.0
    for method in ("lpc", "default", "lpc-refined"):
        assert analysis_highpass_hz(method) == ANALYSIS_HIGHPASS_HZ


@pytest.fixture(scope="module")
def example():
    from vtract.demo import example_recordings

    rec = next(r for r in example_recordings() if r.alignment is not None)
    x, sr = sf.read(rec.path, dtype="float64")
    return x, sr, vtract.read_alignment(rec.alignment)


def _log_areas(x, sr, aln, **options):
    ev = vtract.Evidence.from_array(np.ascontiguousarray(x, dtype=np.float32), sr)
    df = extract_features(ev, aln, **options)
    return df.set_index(["boundary_s", "window_index", "section"])["area_cm2"].pipe(np.log)


def test_hum_no_longer_moves_the_estimates(example):
    """A 50 Hz hum 30 dB below the recording's power moves the LPC-pole estimates of its
    quieter windows (on the shipped articulatory example by up to 0.12 in mean |d ln A|
    per window); after the analysis high-pass it moves them by a hundredth of that."""
    x, sr, aln = example
    hum = np.sqrt(2 * np.mean(x**2) / 10**3) * np.sin(2 * np.pi * 50 * np.arange(x.size) / sr)
    clean = _log_areas(x, sr, aln)
    hummed = _log_areas(x + hum, sr, aln)
    clean_raw = _log_areas(x, sr, aln, highpass_hz=0)
    hummed_raw = _log_areas(x + hum, sr, aln, highpass_hz=0)
    filtered_change = np.abs(hummed - clean).groupby(level=[0, 1]).mean()
    raw_change = np.abs(hummed_raw - clean_raw).groupby(level=[0, 1]).mean()
    assert raw_change.max() > 0.05
    assert filtered_change.max() < 0.05 * raw_change.max()
    # on the clean recording the filter changes the estimates little (median 0.008)
    assert np.median(np.abs(clean - clean_raw)) < 0.02


def test_paper_features_are_unfiltered_by_default(example):
    x, sr, aln = example
    short = vtract.Alignment(phones=aln.phones.iloc[:8], words=aln.words.iloc[:0], source="test")
    a = _log_areas(x, sr, short, method="paper")
    b = _log_areas(x, sr, short, method="paper", highpass_hz=0)
    assert len(a) > 0
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_negative_or_nan_cutoff_is_refused(example):
    x, sr, aln = example
    for bad in (-1, float("nan")):
        with pytest.raises(VtractError, match="highpass_hz"):
            _log_areas(x, sr, aln, highpass_hz=bad)


def test_a_table_records_the_cutoff_it_was_measured_with(example):
    """Feature tables record their measurement (``extraction``), so that a table measured
    with another high-pass than a reference cannot be calibrated into it (s27 left this)."""
    import json

    from vtract.corpus import extraction_settings

    x, sr, aln = example
    ev = vtract.Evidence.from_array(np.ascontiguousarray(x, dtype=np.float32), sr)
    short = vtract.Alignment(phones=aln.phones.iloc[:8], words=aln.words.iloc[:0], source="test")
    records = {
        options.get("highpass_hz", "default"): json.loads(
            extract_features(ev, short, cross_word=True, **options)["extraction"].iloc[0]
        )
        for options in ({}, {"highpass_hz": 0}, {"highpass_hz": 120.0})
    }
    assert records["default"]["highpass_hz"] == ANALYSIS_HIGHPASS_HZ
    assert records[0]["highpass_hz"] == 0.0 and records[120.0]["highpass_hz"] == 120.0
    # the default measurement is what a reference built by `vtract reference build` records
    assert records["default"] == extraction_settings("lpc-refined", 15, True)
    paper = extract_features(ev, short, cross_word=True, method="paper")
    assert json.loads(paper["extraction"].iloc[0])["highpass_hz"] == 0.0
