"""vtract.reverberation: how steeply the 0.3-4 kHz level falls within 30 ms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import vtract
from _rooms import in_room
from _stft_reference import stft_band_powers
from vtract.errors import VtractError
from vtract.reverberation import (
    DECAY_BAND_HZ,
    DECAY_FRAME_SECONDS,
    DECAY_HOP_SECONDS,
    DECAY_HOPS,
    DECAY_QUANTILE,
    MIN_STEEPEST_DECAY_DB,
    steepest_decay_db,
)

EXAMPLES = Path(vtract.__file__).resolve().parent / "data" / "examples"


def _reference(x: np.ndarray, sr: int) -> float:
    """Independent reference: the band power from scipy's STFT."""
    (power,) = stft_band_powers(x, sr, [DECAY_BAND_HZ], DECAY_FRAME_SECONDS, DECAY_HOP_SECONDS)
    level = 10 * np.log10(power)
    falls = level[:-DECAY_HOPS] - level[DECAY_HOPS:]
    return float(np.quantile(falls[level[:-DECAY_HOPS] > np.median(level)], DECAY_QUANTILE))


def _syllables(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """Noise bursts of 150 ms cut off abruptly, 40 dB above a faint floor, every 250 ms."""
    x = rng.standard_normal(int(seconds * sr))
    on = (np.arange(x.size) % int(0.25 * sr)) < int(0.15 * sr)
    return np.where(on, 1.0, 0.01) * x


@pytest.mark.parametrize("sr", [16000, 44100])
def test_equals_a_scipy_stft_reference(sr):
    x = _syllables(np.random.default_rng(1), sr, 5.0) + 0.2  # a DC offset, removed per frame
    assert steepest_decay_db(x, sr) == pytest.approx(_reference(x, sr), abs=1e-9)


def test_block_by_block_equals_the_reference_on_a_long_signal():
    x = _syllables(np.random.default_rng(2), 16000, 50.0)  # 5000 frames: more than one block
    assert steepest_decay_db(x, 16000) == pytest.approx(_reference(x, 16000), abs=1e-9)


def test_abrupt_offsets_fall_about_as_far_as_the_bursts_rise():
    """A burst ending 40 dB above the floor: its level falls about 40 dB within 30 ms."""
    value = steepest_decay_db(_syllables(np.random.default_rng(3), 16000, 10.0), 16000)
    assert 35.0 < value < 45.0


@pytest.mark.parametrize("rt60_s", [0.3, 0.7])
def test_a_room_limits_the_fall_to_its_decay_rate(rt60_s):
    """After the direct sound (half the energy: -3 dB) the tail falls 60 dB per RT60:
    60 * 0.03 / RT60 dB in 30 ms (6 dB at 0.3 s, 2.6 dB at 0.7 s), a few dB more where the
    20 ms frames straddle the offset."""
    rng = np.random.default_rng(4)
    x = in_room(_syllables(rng, 16000, 10.0), 16000, rt60_s, rng)
    value = steepest_decay_db(x, 16000)
    assert 3.0 + 60 * 0.03 / rt60_s < value < MIN_STEEPEST_DECAY_DB


def test_level_does_not_matter():
    x = _syllables(np.random.default_rng(5), 16000, 5.0)
    assert steepest_decay_db(1e-3 * x, 16000) == pytest.approx(steepest_decay_db(x, 16000))


def _gated(x: np.ndarray, sr: int, depth_db: float) -> np.ndarray:
    """A noise gate: samples whose 10 ms RMS lies ``depth_db`` below its peak set to zero."""
    w = int(0.01 * sr)
    envelope = np.sqrt(np.convolve(x**2, np.ones(w) / w, "same"))
    return np.where(envelope < envelope.max() * 10 ** (-depth_db / 20), 0.0, x)


def _short_syllables(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """Noise bursts of 100 ms, 40 dB above a faint floor, every 400 ms."""
    x = rng.standard_normal(int(seconds * sr))
    on = (np.arange(x.size) % int(0.4 * sr)) < int(0.1 * sr)
    return np.where(on, 1.0, 0.01) * x


def test_a_noise_gate_does_not_turn_a_room_into_steep_falls():
    """A room (RT60 0.3 s) whose echo tails a gate cuts to zero 20 dB below the peak: a
    fall into the zeros is no decay of the room, so the room stays visible (until session
    28 such falls counted, up to 120 dB, and the gated copy passed: the probe's F2)."""
    rng = np.random.default_rng(4)
    room = in_room(_short_syllables(np.random.default_rng(3), 16000, 10.0), 16000, 0.3, rng)
    gated = _gated(room, 16000, 20.0)
    assert np.mean(gated == 0) > 0.1
    assert steepest_decay_db(room, 16000) < MIN_STEEPEST_DECAY_DB
    assert steepest_decay_db(gated, 16000) < MIN_STEEPEST_DECAY_DB


def test_zero_padding_leaves_the_decay_where_it_was():
    x = in_room(
        _syllables(np.random.default_rng(3), 16000, 10.0), 16000, 0.3, np.random.default_rng(4)
    )
    pad = np.zeros(int(0.3 * 16000) + 7)
    assert steepest_decay_db(np.r_[pad, x, pad], 16000) == pytest.approx(
        steepest_decay_db(x, 16000), abs=0.5
    )


def test_a_steady_tone_has_no_fall_to_measure():
    """A 200 Hz tone whose period divides the 10 ms hop: every frame has one level, none
    lies above the median, and there is no fall to take (it raised IndexError: F4)."""
    tone = np.tile(0.3 * np.sin(2 * np.pi * np.arange(80) / 80), 600)  # 3 s at 16 kHz
    assert math.isnan(steepest_decay_db(tone, 16000))
    assert math.isnan(steepest_decay_db(np.r_[tone, np.zeros(16000)], 16000))


def test_what_cannot_be_measured():
    assert math.isnan(steepest_decay_db(np.ones(16000 // 2), 16000))  # < 100 frames
    assert math.isnan(steepest_decay_db(np.zeros(16000 * 3), 16000))  # no power at all
    noise = np.random.default_rng(7).standard_normal(16000 * 3)
    noise[8000:40000] = 0.0  # 2 s of zeros: 99 frames are left, fewer than 100
    assert math.isnan(steepest_decay_db(noise, 16000))
    with pytest.raises(VtractError, match="at least 8000 Hz"):
        steepest_decay_db(np.zeros(16000), 6000)


@pytest.mark.parametrize("name", ["piper_joe.flac", "espeak_en_us.flac"])
def test_shipped_tts_examples_fall_steeply_and_their_room_copies_do_not(name):
    ev = vtract.load(EXAMPLES / name)
    x = np.asarray(ev.samples, dtype=np.float64)
    assert steepest_decay_db(x, ev.sr) >= MIN_STEEPEST_DECAY_DB + 5
    room = in_room(x, ev.sr, 0.7, np.random.default_rng(6))  # 0.3 s rooms: about 80 % caught
    assert steepest_decay_db(room, ev.sr) < MIN_STEEPEST_DECAY_DB
