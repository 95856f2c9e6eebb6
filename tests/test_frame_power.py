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
