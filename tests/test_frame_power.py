"""vtract.frame_power: the power of every frame in a few bands."""

from __future__ import annotations

import numpy as np
import pytest

from _stft_reference import stft_band_powers
from vtract.frame_power import frame_band_powers

BANDS = [(300.0, 1000.0), (2000.0, 4000.0)]


@pytest.mark.parametrize(("frame_s", "hop_s"), [(0.02, 0.02), (0.02, 0.01), (0.025, 0.005)])
def test_equals_scipy_stft_band_sums(frame_s, hop_s):
    sr = 16000
    x = np.random.default_rng(0).standard_normal(sr * 70) + 0.1  # > one block of frames
    n, hop = round(frame_s * sr), round(hop_s * sr)
    expected = stft_band_powers(x, sr, BANDS, frame_s, hop_s)
    got = frame_band_powers(x, sr, BANDS, frame_s, hop_s)
    assert got.shape == expected.shape == (2, 1 + (x.size - n) // hop)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_shorter_than_one_frame_gives_no_frames():
    assert frame_band_powers(np.ones(100), 16000, BANDS, 0.02, 0.01).shape == (2, 0)


def _frames_touching_zero_runs(x: np.ndarray, n: int, hop: int, min_run: int) -> np.ndarray:
    """Plain loops: does each frame hold a sample of a run of >= ``min_run`` exact zeros?"""
    in_run = np.zeros(x.size, dtype=bool)
    i = 0
    while i < x.size:
        if x[i] == 0:
            j = i
            while j < x.size and x[j] == 0:
                j += 1
            if j - i >= min_run:
                in_run[i:j] = True
            i = j
        else:
            i += 1
    n_frames = 1 + (x.size - n) // hop
    return np.array([in_run[k * hop : k * hop + n].any() for k in range(n_frames)])


@pytest.mark.parametrize("block", [1000, 1 << 20])
def test_digital_silence_marks_frames_holding_runs_of_zeros_as_plain_loops_do(monkeypatch, block):
    """Runs of exact zeros of 2 ms (32 samples) or more, wherever they fall (across the
    blocks the search walks in, at the signal's ends); shorter runs and single zeros do not
    count. Loud noise throughout, so no frame is silent by its power."""
    import vtract.frame_power as fp

    monkeypatch.setattr(fp, "_BLOCK_SAMPLES", block)
    sr, frame_s, hop_s = 16000, 0.02, 0.01
    x = np.random.default_rng(1).standard_normal(sr * 3)
    for first, length in [(0, 40), (995, 40), (2000, 31), (3001, 32), (5000, 1), (x.size - 33, 33)]:
        x[first : first + length] = 0.0
    (power,) = frame_band_powers(x, sr, [fp.WHOLE_SPECTRUM_HZ], frame_s, hop_s)
    got = fp.digital_silence(x, sr, frame_s, hop_s, power)
    expected = _frames_touching_zero_runs(x, 320, 160, 32)
    np.testing.assert_array_equal(got, expected)
    # frames 0, 5-6 (the run at 995), 17-18 (at 3001) and the last; not the 31-sample run
    assert np.flatnonzero(got).tolist() == [0, 5, 6, 17, 18, got.size - 1]


def test_digital_silence_marks_frames_100_db_below_the_loudest():
    """Three levels: full, 90 dB and 110 dB down (no exact zeros): only the last is silent.
    A constant frame has no power once its mean is removed: silent too."""
    from vtract.frame_power import DIGITAL_SILENCE_DB, WHOLE_SPECTRUM_HZ, digital_silence

    sr = 16000
    noise = np.random.default_rng(2).standard_normal(sr)
    x = np.concatenate(
        [noise, 10 ** (-90 / 20) * noise, 10 ** (-110 / 20) * noise, 0.3 + 0 * noise]
    )
    (power,) = frame_band_powers(x, sr, [WHOLE_SPECTRUM_HZ], 0.02, 0.02)
    silent = digital_silence(x, sr, 0.02, 0.02, power)
    assert DIGITAL_SILENCE_DB == 100.0
    np.testing.assert_array_equal(silent, np.repeat([False, False, True, True], 50))
    # the rule is relative: the same signal 60 dB quieter marks the same frames
    np.testing.assert_array_equal(digital_silence(1e-3 * x, sr, 0.02, 0.02, 1e-6 * power), silent)
    assert digital_silence(np.zeros(sr), sr, 0.02, 0.02, np.zeros(50)).all()


@pytest.mark.parametrize(("frame_s", "hop_s"), [(0.02, 0.02), (0.025, 0.01)])
def test_bin_quantiles_equal_a_one_shot_numpy_reference_across_blocks(frame_s, hop_s):
    """70 s at 16 kHz: 3500-7000 frames, more than one block of 4096; the band sums of the
    same pass equal frame_band_powers'."""
    from vtract.frame_power import frame_band_powers, frame_band_powers_and_bin_quantiles

    sr = 16000
    x = np.random.default_rng(1).standard_normal(sr * 70) * np.linspace(0.1, 2.0, sr * 70) + 0.2
    n, hop = round(frame_s * sr), round(hop_s * sr)
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(frames * np.hanning(n + 1)[:-1], axis=1)) ** 2
    f = np.fft.rfftfreq(n, 1 / sr)
    expected = np.quantile(power[:, (f >= 2000) & (f < 6000)], [0.1, 0.5], axis=1)
    bands = ((2000.0, 6000.0), (0.0, np.inf))
    sums, got = frame_band_powers_and_bin_quantiles(
        x, sr, bands, (2000.0, 6000.0), (0.1, 0.5), frame_s, hop_s
    )
    assert got.shape == expected.shape == (2, 1 + (x.size - n) // hop)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_array_equal(sums, frame_band_powers(x, sr, bands, frame_s, hop_s))


def test_bin_quantiles_of_a_band_without_bins_are_refused():
    from vtract.frame_power import frame_band_powers_and_bin_quantiles

    powers, quantiles = frame_band_powers_and_bin_quantiles(
        np.ones(100), 16000, (), (0.0, 8000.0), (0.5,), 0.02, 0.02
    )
    assert powers.shape == (0, 0) and quantiles.shape == (1, 0)
    with pytest.raises(ValueError, match="holds no bin"):
        frame_band_powers_and_bin_quantiles(
            np.ones(1000), 16000, (), (2010.0, 2020.0), (0.5,), 0.02, 0.02
        )
