"""vtract.noise_floor: how far the loud frames rise above the quiet ones at 2-6 kHz."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import vtract
from _stft_reference import stft_band_powers
from vtract.errors import VtractError
from vtract.noise_floor import (
    FLOOR_BANDS_HZ,
    FLOOR_FRAME_SECONDS,
    LOUD_QUANTILE,
    MAX_SPEECH_TO_FLOOR_DB,
    MIN_SPEECH_TO_FLOOR_DB,
    QUIET_QUANTILE,
    speech_to_floor_db,
)

EXAMPLES = Path(vtract.__file__).resolve().parent / "data" / "examples"


def _reference(x: np.ndarray, sr: int) -> float:
    """Independent reference: band powers from scipy's STFT."""
    powers = stft_band_powers(x, sr, FLOOR_BANDS_HZ, FLOOR_FRAME_SECONDS, FLOOR_FRAME_SECONDS)
    ratios = []
    for band in powers:
        quiet, loud = np.quantile(band, [QUIET_QUANTILE, LOUD_QUANTILE])
        ratios.append(10 * math.log10(loud / quiet))
    return float(np.mean(ratios))


def _bursts(rng: np.random.Generator, sr: int, seconds: float, contrast_db: float) -> np.ndarray:
    """White noise whose level alternates every 0.2 s between two levels ``contrast_db`` apart."""
    x = rng.standard_normal(int(seconds * sr))
    loud = (np.arange(x.size) // int(0.2 * sr)) % 2 == 0
    return np.where(loud, 1.0, 10 ** (-contrast_db / 20)) * x


@pytest.mark.parametrize("sr", [16000, 44100])
def test_equals_a_scipy_stft_reference(sr):
    rng = np.random.default_rng(5)
    x = _bursts(rng, sr, 6.0, 30.0) + 0.3  # a DC offset, removed per frame
    assert speech_to_floor_db(x, sr) == pytest.approx(_reference(x, sr), abs=1e-9)


def test_block_by_block_equals_the_reference_on_a_long_signal():
    rng = np.random.default_rng(6)
    x = _bursts(rng, 16000, 90.0, 25.0)  # 4500 frames: more than one block
    assert speech_to_floor_db(x, 16000) == pytest.approx(_reference(x, 16000), abs=1e-9)


def test_two_levels_40_db_apart_give_40_db_plus_less_than_the_spread_of_one_level():
    """Loud frames at one level, quiet ones 40 dB below (half the frames each): the
    loud quantile falls among the loud frames and the quiet one among the quiet, so
    the ratio is 40 dB plus the spread of a frame's band power around its level
    between two less extreme quantiles than for stationary noise of one level."""
    rng = np.random.default_rng(7)
    x = _bursts(rng, 16000, 20.0, 40.0)
    one_level = speech_to_floor_db(rng.standard_normal(x.size), 16000)
    assert 40.0 < speech_to_floor_db(x, 16000) < 40.0 + one_level


def test_stationary_noise_has_almost_no_rise():
    """White noise: only the spread of a Hann-windowed 20 ms frame's band power between
    its 5th and 99th percentiles (about 5 dB), against 32 dB and more for clean speech."""
    x = np.random.default_rng(8).standard_normal(16000 * 10)
    assert 3.0 < speech_to_floor_db(x, 16000) < 8.0


def test_level_does_not_matter():
    x = _bursts(np.random.default_rng(9), 16000, 5.0, 30.0)
    assert speech_to_floor_db(1e-3 * x, 16000) == pytest.approx(speech_to_floor_db(x, 16000))


def test_digital_silence_in_the_quiet_frames_gives_the_cap():
    x = _bursts(np.random.default_rng(10), 16000, 5.0, 30.0)
    x[: 16000 * 1] = 0.0  # one second of zeros: more than 5 % of the frames
    assert speech_to_floor_db(x, 16000) == MAX_SPEECH_TO_FLOOR_DB


def test_what_cannot_be_measured():
    assert math.isnan(speech_to_floor_db(np.ones(16000 // 2), 16000))  # < 50 frames
    assert math.isnan(speech_to_floor_db(np.zeros(16000 * 3), 16000))  # no power at all
    with pytest.raises(VtractError, match="at least 12000 Hz"):
        speech_to_floor_db(np.zeros(16000), 11025)


def _noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Gaussian noise with power density ``f ** -exponent`` (0 white, 1 pink), unit power."""
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    y = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / f ** (exponent / 2), n)
    return y / np.sqrt(np.mean(y**2))


@pytest.mark.parametrize("name", ["piper_joe.flac", "espeak_en_us.flac", "vtl_articulatory.flac"])
@pytest.mark.parametrize(("exponent", "snr_db"), [(0.0, 10.0), (1.0, 20.0)])
def test_shipped_examples_are_clean_and_their_noisy_copies_are_not(name, exponent, snr_db):
    """White noise at 10 dB and pink noise at 20 dB SNR (of the whole file's power) fill
    the quiet frames at 2-6 kHz; pink noise is weak there, and session 12's measure
    (2-4 kHz, 95th percentile, 22 dB) let most of the corpus's pink-noise copies pass."""
    ev = vtract.load(EXAMPLES / name)
    x = np.asarray(ev.samples, dtype=np.float64)
    assert speech_to_floor_db(x, ev.sr) >= MIN_SPEECH_TO_FLOOR_DB + 20
    noise = _noise(np.random.default_rng(11), x.size, exponent)
    noisy = x + noise * math.sqrt(np.mean(x**2) / 10 ** (snr_db / 10))
    assert speech_to_floor_db(noisy, ev.sr) < MIN_SPEECH_TO_FLOOR_DB
