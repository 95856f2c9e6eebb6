"""vtract.bandwidth: the high-band level and the spectral edge, of the long-term spectrum and
of the quieter frames', that tell band-limited audio stored at full-band rates (also when it
is clipped or saturated)."""

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
    LOUD_FRAME_EXCESS_DB,
    MIN_EDGE_DROP_DB,
    MIN_HIGH_BAND_DB,
    MIN_QUIET_EDGE_DROP_DB,
    MIN_QUIET_FRAMES,
    MIN_QUIET_HIGH_BAND_DB,
    QUIET_FRAMES_BELOW_LOUDEST_DB,
    QUIET_FRAMES_QUANTILE,
    SPEECH_BAND_HZ,
    _edge,
    _high_band_level,
    band_limit_measures,
    high_band_level_db,
    quiet_frames_spectrum,
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


def test_band_limit_measures_are_the_two_measures_of_the_two_spectra():
    rng = np.random.default_rng(21)
    x = resample(resample(rng.standard_normal(16000 * 4), 16000, 11025), 11025, 16000)
    x *= np.repeat(rng.uniform(0.001, 1.0, x.size // 512 + 1), 512)[: x.size]  # varied levels
    for sr, y in [(16000, x), (44100, rng.standard_normal(44100 * 2))]:
        level = high_band_level_db(y, sr)
        edge_hz, drop = spectral_edge(y, sr)
        got = band_limit_measures(y, sr)
        assert got[:3] == (level, edge_hz, drop)
        quiet = quiet_frames_spectrum(y, sr)
        if sr == 16000:
            assert quiet is not None
            assert got.quiet_high_band_level_db == _high_band_level(*quiet)
            assert (got.quiet_spectral_edge_hz, got.quiet_spectral_edge_drop_db) == _edge(*quiet)
        else:  # white noise at one level: no frame 20-50 dB below the loudest
            assert quiet is None and all(map(math.isnan, got[3:]))
    # a rate that holds the 6-7 kHz band but not the bands above an edge, and one holding neither
    measures = band_limit_measures(x, 14500)
    assert measures[0] == high_band_level_db(x, 14500) and math.isfinite(measures[3])
    assert all(map(math.isnan, measures[1:3] + measures[4:]))
    assert all(map(math.isnan, band_limit_measures(x, 12000)))


def _reference_quiet_spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Independent reference of the definition: every frame at once, plain numpy."""
    n = x.size // 512
    frames = x[: n * 512].reshape(n, 512) * np.hanning(513)[:-1]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    f = np.fft.rfftfreq(512, 1 / sr)
    speech = power[:, (f >= SPEECH_BAND_HZ[0]) & (f <= SPEECH_BAND_HZ[1])].mean(axis=1)
    below = 10 * np.log10(speech.max() / speech)
    near, far = QUIET_FRAMES_BELOW_LOUDEST_DB
    kept = (below >= near) & (below <= far)
    if kept.sum() < MIN_QUIET_FRAMES:
        return None
    relative = 10 * np.log10(power[kept] / speech[kept, None])
    return f, 10 ** (np.quantile(relative, QUIET_FRAMES_QUANTILE, axis=0) / 10)


def test_quiet_frames_spectrum_equals_a_plain_reference_of_its_definition():
    x = _speech_like(seed=2)
    got = quiet_frames_spectrum(x, 16000)
    ref = _reference_quiet_spectrum(x, 16000)
    assert got is not None and ref is not None
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-5)  # the dB values are kept as float32
    # the same across blocks (more than 2**20 samples)
    long = np.tile(x, 5)
    tiled, ref_long = quiet_frames_spectrum(long, 16000), _reference_quiet_spectrum(long, 16000)
    assert tiled is not None and ref_long is not None
    np.testing.assert_allclose(tiled[1], ref_long[1], rtol=1e-5)
    # too few frames 20-50 dB below the loudest: not measured
    assert quiet_frames_spectrum(x[:4096], 16000) is None
    assert quiet_frames_spectrum(np.zeros(16000), 16000) is None


def _speech_like(seconds: float = 4.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A full-band speech-like signal: a harmonic source (120 +- 20 Hz, harmonics falling
    6 dB an octave up to 7.5 kHz) in four syllables a second that rise from silence,
    fricative noise (rising with frequency) in the gaps, and a faint noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120.0 + 20.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k * (k * f0 < 7500.0) for k in range(1, 64))
    syllables = np.sin(2 * np.pi * 2.0 * t) ** 2
    gaps = np.cos(2 * np.pi * 2.0 * t) ** 8
    hiss = np.diff(rng.standard_normal(t.size + 1))
    x = voiced * syllables + 0.05 * hiss * gaps + 1e-4 * rng.standard_normal(t.size)
    return 0.5 * x / np.abs(x).max()


def _clipped(x: np.ndarray, share: float) -> np.ndarray:
    """The probe's clipping: ``share`` of the samples clipped, the peak then at 0.9."""
    level = np.quantile(np.abs(x), 1.0 - share)
    return np.clip(x, -level, level) / level * 0.9


def _saturated(x: np.ndarray) -> np.ndarray:
    """The probe's saturation: ``tanh(x / peak) / tanh(1)``, the peak compressed by 2.4 dB."""
    return np.tanh(x / np.abs(x).max()) / np.tanh(1.0) * 0.9


_DISTORTIONS = {
    "clip_1pct": lambda x: _clipped(x, 0.01),
    "tanh": _saturated,
}


@pytest.mark.parametrize("distortion", sorted(_DISTORTIONS))
def test_clipped_or_saturated_telephone_band_speech_is_band_limited(distortion):
    """Session-28 probe F1: the distortion refills the long-term high band (the two long-term
    measures pass it as full-band), but not the quieter frames'."""
    from vtract.verdict_conditions import signal_measures, verdict_conditions

    phone = resample(resample(_speech_like(), 16000, 8000), 8000, 16000)
    y = _DISTORTIONS[distortion](phone)
    measures = signal_measures(y, 16000)
    assert measures["high_band_level_db"] > MIN_HIGH_BAND_DB  # refilled: -31 / -33 dB
    assert measures["spectral_edge_drop_db"] < MIN_EDGE_DROP_DB
    conditions = {c.key: c for c in verdict_conditions(16000, None, None, **measures)}
    assert conditions["high_band_level"].status == "not met"
    assert conditions["spectral_edge"].status == "not met"
    assert "quieter frames" in conditions["high_band_level"].reason
    assert "loudest frames" in conditions["high_band_level"].reason  # the distortion note


@pytest.mark.parametrize("distortion", [*sorted(_DISTORTIONS), "clip_0.1pct", "none"])
def test_clipped_or_saturated_full_band_speech_is_not_band_limited(distortion):
    shape = {"clip_0.1pct": lambda x: _clipped(x, 0.001), "none": lambda x: x} | _DISTORTIONS
    for seed in range(3):
        m = band_limit_measures(shape[distortion](_speech_like(seed=seed)), 16000)
        assert not m.band_limited()
        assert m.quiet_high_band_level_db > MIN_QUIET_HIGH_BAND_DB + 20
        assert m.quiet_spectral_edge_drop_db < MIN_QUIET_EDGE_DROP_DB - 10
        assert m.loud_frame_excess_db() < LOUD_FRAME_EXCESS_DB  # no distortion note


def test_a_clipped_11025_hz_copy_keeps_its_edge_in_the_quieter_frames():
    """Clipping fills the long-term spectrum above a 5.5 kHz edge too; the quieter frames keep it."""
    narrow = resample(resample(_speech_like(seed=1), 16000, 11025), 11025, 16000)
    m = band_limit_measures(_clipped(narrow, 0.01), 16000)
    assert m.spectral_edge_drop_db < MIN_EDGE_DROP_DB  # refilled: 11 dB
    assert m.quiet_spectral_edge_drop_db >= MIN_QUIET_EDGE_DROP_DB + 10
    assert 5000 <= m.quiet_spectral_edge_hz <= EDGE_SEARCH_HZ[1] and m.band_limited()


def test_a_telephone_band_copy_is_not_said_to_be_distorted():
    """The loud-frame note needs the long-term band well above the quieter frames': an
    undistorted telephone copy is band-limited without it."""
    from vtract.verdict_conditions import signal_measures, verdict_conditions

    phone = resample(resample(_speech_like(), 16000, 8000), 8000, 16000)
    measures = signal_measures(phone, 16000)
    conditions = {c.key: c for c in verdict_conditions(16000, None, None, **measures)}
    assert conditions["high_band_level"].status == "not met"
    assert "loudest frames" not in conditions["high_band_level"].reason
    # a report of an older vtract (no quieter-frame values) is judged on the long-term ones
    old = {k: v for k, v in measures.items() if not k.startswith("quiet_")}
    older = {c.key: c for c in verdict_conditions(16000, None, None, **old)}
    assert older["high_band_level"].status == "not met"
    assert older["high_band_level"].measured.endswith("; –")
