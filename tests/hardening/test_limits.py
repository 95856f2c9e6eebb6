"""Documented limits (docs/LIMITS.md): refused clearly, before memory is spent."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import vtract
from vtract import evidence
from vtract.errors import InputFileError, SampleRateError


def _flac(seconds: float = 1.0, sr: int = 16000) -> bytearray:
    buf = io.BytesIO()
    t = np.arange(int(seconds * sr)) / sr
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 300 * t), sr, format="FLAC")
    return bytearray(buf.getvalue())


def _set_flac_total_samples(raw: bytearray, n: int) -> bytearray:
    """Patch the 36-bit total-samples field of the STREAMINFO block."""
    raw[21] = (raw[21] & 0xF0) | ((n >> 32) & 0x0F)
    raw[22:26] = (n & 0xFFFFFFFF).to_bytes(4, "big")
    return raw


def test_header_declaring_days_is_refused_before_decoding(tmp_path):
    """A 30 kB FLAC claiming 69 hours: refused from the header, nothing decoded."""
    path = tmp_path / "bomb.flac"
    path.write_bytes(bytes(_set_flac_total_samples(_flac(), 16000 * 3600 * 69)))
    assert sf.info(str(path)).frames == 16000 * 3600 * 69
    with pytest.raises(InputFileError, match=r"248400 s of audio, above the limit of 7200 s"):
        vtract.load(path)


def test_decompression_bomb_keeps_memory_bounded(tmp_path):
    """10 minutes of near-silence in a small FLAC, limit lowered to 60 s, in a fresh process:
    refused with peak memory far below what decoding it all would take."""
    path = tmp_path / "long.flac"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, format="FLAC") as f:
        block = np.zeros(8000 * 60, dtype=np.int16)
        block[::997] = 3
        for _ in range(10):
            f.write(block)
    code = (
        "import json, resource, sys, vtract\n"
        "from vtract import evidence\n"
        "evidence.MAX_DURATION_SECONDS = 60.0\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    vtract.load(sys.argv[1]); err = None\n"
        "except vtract.VtractError as exc:\n    err = str(exc)\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'error': err, 'extra_mb': (peak - base) / 1024}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    assert "above the limit of 60 s" in result["error"]
    # decoding all 4.8 M samples as float64 would need > 38 MB
    assert result["extra_mb"] < 20, result


def test_file_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.flac"
    path.write_bytes(bytes(_flac()))
    monkeypatch.setattr(evidence, "MAX_FILE_BYTES", 1000)
    with pytest.raises(InputFileError, match=r"above the limit of 1000 bytes"):
        vtract.load(path)


def test_duration_limit_after_decoding(tmp_path, monkeypatch):
    path = tmp_path / "two_seconds.wav"
    sf.write(path, 0.1 * np.sin(np.arange(32000) / 3), 16000)
    monkeypatch.setattr(evidence, "MAX_DURATION_SECONDS", 1.5)
    with pytest.raises(InputFileError, match=r"2 s of audio, above the limit of 2 s"):
        vtract.load(path)
    monkeypatch.setattr(evidence, "MAX_DURATION_SECONDS", 2.0)
    assert vtract.load(path).duration == pytest.approx(2.0)


def test_stream_without_length_is_decoded_to_its_end(tmp_path):
    """A FLAC whose header gives no length (total samples 0: FFmpeg writing to a pipe) is
    decoded to its end (refused until session 26); libsndfile never returns the last
    frame of such a stream, so one frame at most is lost, and it is not called truncated."""
    path = tmp_path / "nolength.flac"
    path.write_bytes(bytes(_set_flac_total_samples(_flac(), 0)))
    ev = vtract.load(path)
    assert 1.0 - 1.5 / ev.sr < ev.duration <= 1.0
    assert not any("truncated" in w for w in ev.warnings)


@pytest.mark.parametrize("rate", [evidence.MIN_SAMPLE_RATE - 1, evidence.MAX_SAMPLE_RATE + 1])
def test_rates_just_outside_the_limits(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, 0.1 * np.sin(np.arange(rate) / 3), rate)
    with pytest.raises(SampleRateError, match=f"{rate} Hz"):
        vtract.load(path)


@pytest.mark.parametrize("rate", [evidence.MIN_SAMPLE_RATE, evidence.MAX_SAMPLE_RATE])
def test_rates_at_the_limits_load(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, 0.1 * np.sin(np.arange(rate) / 3), rate)
    assert vtract.load(path).duration == pytest.approx(1.0, abs=1e-3)
