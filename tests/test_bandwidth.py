"""vtract.bandwidth: the high-band level and the spectral edge that tell band-limited audio
stored at full-band rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import welch

from vtract.bandwidth import (
    EDGE_BELOW_HZ,
    EDGE_SEARCH_HZ,
    EDGE_TOP_HZ,
    HIGH_BAND_HZ,
    MIN_EDGE_DROP_DB,
    MIN_HIGH_BAND_DB,
    SPEECH_BAND_HZ,
    band_limit_measures,
    high_band_level_db,
    spectral_edge,
)
from vtract.errors import VtractError
from vtract.evidence import resample


def _reference_level(x: np.ndarray, sr: int) -> float:
    """Independent reference: one Welch average over the whole signal."""
    f, p = welch(x, sr, window="hann", nperseg=512, noverlap=0, detrend=False)
    high = p[(f >= HIGH_BAND_HZ[0]) & (f <= HIGH_BAND_HZ[1])].mean()
    speech = p[(f >= SPEECH_BAND_HZ[0]) & (f <= SPEECH_BAND_HZ[1])].mean()
    return 10 * math.log10(high / speech)


def test_block_by_block_equals_one_welch_average():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.standard_normal(int(2.6 * (1 << 20)))) * 1e-3  # red noise, > 2 blocks
    x -= np.convolve(x, np.ones(64) / 64, mode="same")  # keep it bounded
    assert high_band_level_db(x, 16000) == pytest.approx(_reference_level(x, 16000), abs=1e-9)


def test_white_noise_is_flat_and_its_telephone_copy_is_not():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000 * 5)
    assert high_band_level_db(x, 16000) == pytest.approx(0.0, abs=0.3)  # flat spectrum: 0 dB
    phone = resample(resample(x, 16000, 8000), 8000, 16000)  # what vtract.load does to 8 kHz
    assert high_band_level_db(phone, 16000) < MIN_HIGH_BAND_DB
    # a low-pass at 7.5 kHz leaves the 6-7 kHz band within 1 dB (the filter's roll-off)
    wide = resample(resample(x, 16000, 15000), 15000, 16000)
    assert high_band_level_db(wide, 16000) == pytest.approx(0.0, abs=1.0)


def test_unmeasurable_and_refused_inputs():
    assert math.isnan(high_band_level_db(np.ones(100), 16000))  # shorter than a segment
    assert math.isnan(high_band_level_db(np.zeros(16000), 16000))  # no speech-band power
    with pytest.raises(VtractError, match="at least 14000 Hz"):
        high_band_level_db(np.ones(16000), 8000)


def test_shipped_examples_are_full_band():
    from vtract.demo import example_recordings
    from vtract.evidence import load

    for rec in example_recordings():
        ev = load(rec.path)
        assert high_band_level_db(ev.samples, ev.sr) > MIN_HIGH_BAND_DB + 10, rec.path.name
        assert spectral_edge(ev.samples, ev.sr)[1] < MIN_EDGE_DROP_DB - 5, rec.path.name


def _reference_edge(x: np.ndarray, sr: int) -> tuple[float, float]:
    """Independent reference of the definition: scipy's Welch spectrum, plain loops."""
    f, p = welch(x, sr, window="hann", nperseg=512, noverlap=0, detrend=False)
    best = (math.nan, -math.inf)
    for fc in f[(f >= EDGE_SEARCH_HZ[0]) & (f <= EDGE_SEARCH_HZ[1])]:
        below = p[(f > fc - EDGE_BELOW_HZ) & (f <= fc)].mean()
        above = []
        start = fc + 156.25  # the first bin at least 150 Hz above (31.25 Hz bins)
        while start + 250.0 <= EDGE_TOP_HZ:
            above.append(p[(f >= start) & (f < start + 250.0)].mean())
            start += 125.0
        drop = 10 * math.log10(below / max(above))
        if drop > best[1]:
            best = (float(fc), drop)
    return best


def test_spectral_edge_equals_a_plain_reference_of_its_definition():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(16000 * 4)
    narrow = resample(resample(x, 16000, 11025), 11025, 16000)
    pink = np.cumsum(x) * 1e-2
    pink -= np.convolve(pink, np.ones(32) / 32, mode="same")
    for signal in (x, narrow, pink):
        edge_hz, drop_db = spectral_edge(signal, 16000)
        ref_hz, ref_db = _reference_edge(signal, 16000)
        assert edge_hz == ref_hz and drop_db == pytest.approx(ref_db, rel=1e-9, abs=1e-9)


def test_white_noise_has_no_edge_and_its_11025_hz_copy_has_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000 * 5)
    assert abs(spectral_edge(x, 16000)[1]) < 1.0  # flat: every band above is as high
    edge_hz, drop_db = spectral_edge(resample(resample(x, 16000, 11025), 11025, 16000), 16000)
    assert drop_db > MIN_EDGE_DROP_DB + 10 and 5000 <= edge_hz <= EDGE_SEARCH_HZ[1]
    # a 6.5 kHz low-pass is beyond the search (16 kHz recordings' own filters live there)
    assert (
        spectral_edge(resample(resample(x, 16000, 13000), 13000, 16000), 16000)[1]
        < MIN_EDGE_DROP_DB - 10
    )
    assert spectral_edge(np.ones(100), 16000) == pytest.approx((math.nan, math.nan), nan_ok=True)
    with pytest.raises(VtractError, match="at least 15000 Hz"):
        spectral_edge(x, 14000)


def test_band_limit_measures_are_the_two_measures_from_one_spectrum():
    rng = np.random.default_rng(21)
    x = resample(resample(rng.standard_normal(16000 * 4), 16000, 11025), 11025, 16000)
    for sr, y in [(16000, x), (44100, rng.standard_normal(44100 * 2))]:
        level = high_band_level_db(y, sr)
        edge_hz, drop = spectral_edge(y, sr)
        assert band_limit_measures(y, sr) == (level, edge_hz, drop)
    # a rate that holds the 6-7 kHz band but not the bands above an edge, and one holding neither
    y = rng.standard_normal(14500 * 2)
    measures = band_limit_measures(y, 14500)
    assert measures[0] == high_band_level_db(y, 14500) and all(map(math.isnan, measures[1:]))
    assert all(map(math.isnan, band_limit_measures(y, 12000)))
