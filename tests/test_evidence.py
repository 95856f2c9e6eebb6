"""Evidence intake: formats, rates, channels, hashes and every bad-input case."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import sys
import wave

import numpy as np
import pytest
import soundfile as sf
from scipy.io import wavfile

import vtract
from _shared import SHARED_DATA, needs_shared
from hardening.corpus import truncate
from vtract.container import PREFIX as CONTAINER
from vtract.errors import (
    EmptyAudioError,
    InputFileError,
    InvalidAudioError,
    SampleRateError,
    SilentAudioError,
    TooShortError,
    UnsupportedFormatError,
    VtractError,
)
from vtract.evidence import MAX_METADATA_CHARS, resample

AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".sph", ".nist"}


def tone(sr: int, seconds: float = 0.5, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float64)


def peak_frequency(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / sr)[np.argmax(spec)])


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext", "tol"),
    [
        ("WAV", "PCM_U8", ".wav", 1e-2),
        ("WAV", "PCM_16", ".wav", 1e-4),
        ("WAV", "PCM_24", ".wav", 1e-6),
        ("WAV", "PCM_32", ".wav", 1e-6),
        ("WAV", "FLOAT", ".wav", 1e-7),
        ("WAV", "DOUBLE", ".wav", 1e-7),
        ("FLAC", "PCM_16", ".flac", 1e-4),
        ("FLAC", "PCM_24", ".flac", 1e-6),
        ("NIST", "PCM_16", ".sph", 1e-4),
    ],
)
def test_lossless_formats_decode_to_written_samples(tmp_path, fmt, subtype, ext, tol):
    x = tone(16000)
    path = tmp_path / f"tone{ext}"
    sf.write(path, x, 16000, format=fmt, subtype=subtype)
    ev = vtract.load(path)
    assert ev.sr == ev.original_sr == 16000
    assert ev.channels == 1
    assert ev.format == fmt and ev.subtype == subtype
    assert ev.samples.dtype == np.float32
    np.testing.assert_allclose(ev.samples, x, atol=tol)
    assert ev.duration == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext"), [("OGG", "VORBIS", ".ogg"), ("MP3", "MPEG_LAYER_III", ".mp3")]
)
def test_lossy_formats_keep_the_tone(tmp_path, fmt, subtype, ext):
    x = tone(16000, seconds=1.0, freq=440.0)
    path = tmp_path / f"tone{ext}"
    sf.write(path, x, 16000, format=fmt, subtype=subtype)
    ev = vtract.load(path)
    assert ev.format == fmt
    assert peak_frequency(ev.samples, ev.sr) == pytest.approx(440.0, abs=2.0)
    rms = float(np.sqrt(np.mean(ev.samples[2000:-2000].astype(np.float64) ** 2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_int16_wav_matches_scipy_reader(tmp_path):
    rng = np.random.default_rng(0)
    ints = (rng.standard_normal(8000) * 3000).astype(np.int16)
    path = tmp_path / "noise.wav"
    wavfile.write(path, 16000, ints)
    ev = vtract.load(path)
    np.testing.assert_array_equal(ev.samples, (ints / 32768.0).astype(np.float32))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000, 96000])
def test_odd_rates_resample_polyphase(tmp_path, rate):
    path = tmp_path / f"tone_{rate}.wav"
    sf.write(path, tone(rate, seconds=1.0, freq=1000.0), rate, subtype="PCM_16")
    ev = vtract.load(path)
    assert ev.original_sr == rate
    assert ev.sr == 16000
    assert ev.samples.size == int(np.ceil(rate * 1.0 * 16000 / rate))
    assert peak_frequency(ev.samples, 16000) == pytest.approx(1000.0, abs=1.0)
    core = ev.samples[800:-800].astype(np.float64)
    assert np.sqrt(np.mean(core**2)) == pytest.approx(0.5 / np.sqrt(2), rel=2e-3)
    assert any("resampled" in w for w in ev.warnings)


def test_resampling_removes_content_above_new_nyquist():
    sr = 48000
    x = tone(sr, seconds=1.0, freq=12000.0)  # above 8 kHz Nyquist of 16 kHz
    y = resample(x, sr, 16000)
    assert np.sqrt(np.mean(y[800:-800] ** 2)) < 1e-3 * np.sqrt(np.mean(x**2))


def test_keep_native_rate(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, tone(44100), 44100)
    ev = vtract.load(path, sr=None)
    assert ev.sr == ev.original_sr == 44100
    assert not any("resampled" in w for w in ev.warnings)


def test_stereo_mixdown_and_channel_pick(tmp_path):
    left = tone(16000, freq=300.0, amp=0.4)
    right = tone(16000, freq=700.0, amp=0.2)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.column_stack([left, right]), 16000, subtype="FLOAT")
    mixed = vtract.load(path)
    assert mixed.channels == 2 and mixed.channel is None
    np.testing.assert_allclose(mixed.samples, (left + right) / 2, atol=1e-6)
    right_only = vtract.load(path, channel=1)
    np.testing.assert_allclose(right_only.samples, right, atol=1e-6)
    assert right_only.pcm_sha256 != mixed.pcm_sha256
    assert right_only.sha256 == mixed.sha256
    with pytest.raises(InputFileError, match="channel 2 requested, file has 2"):
        vtract.load(path, channel=2)
    # the mix-down is reported; a picked channel is not a mix-down
    assert any("2 channels averaged to one" in w for w in mixed.warnings)
    assert not any("averaged" in w for w in right_only.warnings)


def test_channels_that_cancel_out_name_the_way_out(tmp_path):
    voice = tone(16000, freq=300.0, amp=0.4)
    path = tmp_path / "antiphase.wav"
    sf.write(path, np.column_stack([voice, -voice]), 16000, subtype="FLOAT")
    with pytest.raises(SilentAudioError, match=r"after averaging its 2 channels.*single channel"):
        vtract.load(path)
    left = vtract.load(path, channel=0)
    np.testing.assert_allclose(left.samples, voice, atol=1e-6)


def test_six_channel_audio(tmp_path):
    data = np.column_stack([tone(16000, freq=200.0 * (k + 1), amp=0.1) for k in range(6)])
    path = tmp_path / "six.wav"
    sf.write(path, data, 16000, subtype="PCM_24")
    ev = vtract.load(path)
    assert ev.channels == 6
    np.testing.assert_allclose(ev.samples, data.mean(axis=1), atol=1e-5)


def test_hashes_match_file_bytes_and_decoded_pcm(tmp_path):
    path = tmp_path / "t.flac"
    sf.write(path, tone(16000), 16000)
    ev = vtract.load(path)
    assert ev.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ev.pcm_sha256 == hashlib.sha256(ev.samples.astype("<f4").tobytes()).hexdigest()
    assert vtract.load(path).pcm_sha256 == ev.pcm_sha256  # deterministic


def test_samples_are_read_only(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, tone(16000), 16000)
    ev = vtract.load(path)
    with pytest.raises(ValueError):
        ev.samples[0] = 1.0


def test_file_is_not_modified_and_read_only_file_loads(tmp_path):
    path = tmp_path / "evidence.wav"
    sf.write(path, tone(16000), 16000)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    path.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        vtract.load(path)
    finally:
        tmp_path.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_clipping_and_dc_offset_are_warnings(tmp_path):
    x = np.clip(tone(16000, amp=2.0), -1.0, 1.0)
    path = tmp_path / "clipped.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    assert any(w.startswith("clipping") for w in vtract.load(path).warnings)
    dc = tone(16000, amp=0.1) + 0.3
    path2 = tmp_path / "dc.wav"
    sf.write(path2, dc, 16000, subtype="FLOAT")
    assert any(w.startswith("DC offset") for w in vtract.load(path2).warnings)
    clean = tmp_path / "clean.wav"
    sf.write(clean, tone(16000), 16000, subtype="FLOAT")
    assert not [w for w in vtract.load(clean).warnings if not w.startswith("resampled")]


# ---------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        vtract.load(tmp_path / "nope.wav")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputFileError, match="not a regular file"):
        vtract.load(tmp_path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="0 bytes"):
        vtract.load(path)


def test_random_bytes_are_not_audio(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(UnsupportedFormatError, match="not decodable audio"):
        vtract.load(path)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.flac"
    path.write_text("hello")
    with pytest.raises(UnsupportedFormatError) as info:
        vtract.load(path)
    assert "BytesIO" not in str(info.value)


def test_header_only_wav_is_empty(tmp_path):
    path = tmp_path / "header.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    with pytest.raises(EmptyAudioError, match="0 samples"):
        vtract.load(path)


def test_shorter_than_one_window(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(16000, seconds=0.01), 16000)
    with pytest.raises(TooShortError, match="one analysis window"):
        vtract.load(path)


def test_digital_silence_and_pure_dc(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000), 16000)
    with pytest.raises(SilentAudioError, match="digital silence"):
        vtract.load(path)
    dc = tmp_path / "dc.wav"
    sf.write(dc, np.full(16000, 0.25), 16000, subtype="FLOAT")
    with pytest.raises(SilentAudioError, match="pure DC"):
        vtract.load(dc)


def test_nan_samples(tmp_path):
    x = tone(16000)
    x[100] = np.nan
    x[200] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    with pytest.raises(InvalidAudioError, match="2 sample"):
        vtract.load(path)


@pytest.mark.parametrize("rate", [1, 100, 10_000_000])
def test_absurd_header_rates(tmp_path, rate):
    path = tmp_path / f"rate_{rate}.wav"
    ints = (tone(16000) * 20000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(ints.tobytes())
    raw = bytearray(path.read_bytes())
    raw[24:28] = int(rate).to_bytes(4, "little")
    raw[28:32] = int(rate * 2).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises((SampleRateError, UnsupportedFormatError)) as info:
        vtract.load(path)
    assert isinstance(info.value, VtractError)


def test_requested_rate_is_validated(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, tone(16000), 16000)
    with pytest.raises(SampleRateError, match="requested sample rate is 10 Hz"):
        vtract.load(path, sr=10)


def test_truncated_wav_header_claims_more_data(tmp_path):
    path = tmp_path / "trunc.wav"
    sf.write(path, tone(16000, seconds=1.0), 16000, subtype="PCM_16")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    ev = vtract.load(path)  # libsndfile reads what is there, vtract says what is missing
    assert ev.duration == pytest.approx(0.5, abs=0.01)
    assert ev.warnings[0].startswith(
        CONTAINER + "truncated: the WAV data chunk declares 1.000 s of audio (32000 bytes) but "
        "the file holds 0.499 s (15978 bytes)"
    )


def test_truncated_flac_keeps_what_decodes_and_says_where_it_stopped(tmp_path):
    path = tmp_path / "trunc.flac"
    sf.write(path, tone(16000, seconds=10.0), 16000, format="FLAC", subtype="PCM_16")
    whole = sf.read(path, dtype="float32")[0]
    truncate(path, 0.6)  # an even tone compresses evenly: about 6 s are left
    cut = path.read_bytes()
    ev = vtract.load(path)
    # what decodes before the cut is exact (FLAC is lossless), to the frame: the decoder
    # is reopened where it failed and read on in steps of 64 frames, then of 1
    n = ev.samples.size
    assert 5.5 < ev.duration <= 6.0
    np.testing.assert_array_equal(ev.samples, whole[:n])
    with sf.SoundFile(path) as snd:  # libsndfile alone, one frame at a time: no more than that
        one_by_one = 0
        with pytest.raises(sf.LibsndfileError):
            while snd.read(1).size:
                one_by_one += 1
    assert n == one_by_one
    assert ev.warnings[0] == (
        f"{CONTAINER}truncated: decoding stopped after {n / 16000:.3f} s of the 10.000 s the "
        "header declares (Error : flac decoder lost sync.); the file was cut short or damaged, "
        "and only the part before that is analysed"
    )
    # a cut followed by zeros (a carved or preallocated file): the same, not refused
    path.write_bytes(cut + bytes(30000))
    padded = vtract.load(path)
    np.testing.assert_array_equal(padded.samples, ev.samples)
    assert padded.warnings == ev.warnings
    path.write_bytes(cut)
    truncate(path, 0.03)  # nothing decodes: refused, saying so
    with pytest.raises(
        UnsupportedFormatError,
        match=r"trunc\.flac: decoding failed after 0\.000 s of the 10\.000 s it declares "
        r"\(.*lost sync.*\); the file is truncated or damaged",
    ):
        vtract.load(path)


def _flac_total_samples(raw: bytes, total: int) -> bytes:
    """``raw`` (a FLAC file) with its STREAMINFO total-samples field set to ``total``."""
    out = bytearray(raw)
    out[21] = (out[21] & 0xF0) | (total >> 32 & 0x0F)
    out[22:26] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(out)


@pytest.mark.parametrize("seconds", [2.0, 10.0])  # shorter and longer than one read (65536)
def test_flac_without_a_length_decodes_to_its_end(tmp_path, seconds):
    # STREAMINFO total samples 0 ("unknown"), as FFmpeg writes FLAC to a pipe: libsndfile
    # fails on the read that passes the end, and cannot seek back after that
    path = tmp_path / "pipe.flac"
    x = tone(16000, seconds=seconds, freq=330.0)
    sf.write(path, x, 16000, format="FLAC", subtype="PCM_16")
    whole = sf.read(path, dtype="float32")[0]
    path.write_bytes(_flac_total_samples(path.read_bytes(), 0))
    ev = vtract.load(path)
    # all of it but the last frame, which libsndfile never returns from such a stream
    assert ev.samples.size == x.size - 1
    np.testing.assert_array_equal(ev.samples, whole[:-1])
    assert not any("truncated" in w for w in ev.warnings)
    assert ev.warnings == (
        f"{CONTAINER}the FLAC header declares no length (STREAMINFO total samples 0, as FFmpeg "
        "writes to a pipe): the stream is decoded to its end, but a cut at a frame boundary "
        "cannot be told from the end of the recording",
    )


def test_flac_whose_header_overstates_its_length(tmp_path):
    path = tmp_path / "double.flac"
    x = tone(16000, seconds=2.0, freq=330.0)
    sf.write(path, x, 16000, format="FLAC", subtype="PCM_16")
    whole = sf.read(path, dtype="float32")[0]
    path.write_bytes(_flac_total_samples(path.read_bytes(), 2 * x.size))
    ev = vtract.load(path)  # was refused: "decoding failed after 0.000 s"
    np.testing.assert_array_equal(ev.samples, whole[:-1])
    assert ev.warnings == (
        f"{CONTAINER}truncated: decoding stopped after 2.000 s of the 4.000 s the header "
        "declares (the stream ends there; libsndfile: Internal psf_fseek() failed.); the file "
        "was cut short or damaged, and only the part before that is analysed",
    )


def test_decoded_frames_are_bounded_as_well_as_the_duration(tmp_path, monkeypatch):
    from vtract import evidence

    assert evidence.MAX_DECODED_FRAMES == 2 * 3600 * 48000
    # a 384 kHz FLAC declaring 15 min + 1 frame: within the 2-hour limit, but about 3 GB
    # of float64 before resampling; refused from its header, before decoding
    path = tmp_path / "rate384.flac"
    sf.write(path, tone(384000, seconds=0.1), 384000, format="FLAC", subtype="PCM_16")
    path.write_bytes(_flac_total_samples(path.read_bytes(), evidence.MAX_DECODED_FRAMES + 1))
    with pytest.raises(
        InputFileError,
        match=r"rate384\.flac: 345600001 sample frames \(900 s at 384000 Hz\), above the limit "
        r"of 345600000 frames \(2 hours at 48 kHz\)",
    ):
        vtract.load(path)
    # a stream without a length is decoded only up to the limit (lowered here to 20000)
    monkeypatch.setattr(evidence, "MAX_DECODED_FRAMES", 20000)
    pipe = tmp_path / "pipe.flac"
    sf.write(pipe, tone(16000, seconds=2.0), 16000, format="FLAC", subtype="PCM_16")
    pipe.write_bytes(_flac_total_samples(pipe.read_bytes(), 0))
    with pytest.raises(InputFileError, match=r"more than 20001 sample frames \(1 s at 16000 Hz\)"):
        vtract.load(pipe)


@pytest.mark.parametrize(
    ("subtype", "top"), [("PCM_U8", 127 / 128), ("ULAW", 32124 / 32768), ("ALAW", 32256 / 32768)]
)
def test_clipping_is_counted_at_each_encodings_full_scale(tmp_path, subtype, top):
    # u-law and A-law decode to at most 0.9803 and 0.9844, 8-bit PCM to +127/128: below
    # CLIP_LEVEL (0.999), so clipping went unreported (u-law, A-law) or half counted (8-bit)
    x = np.clip(tone(16000, seconds=1.0, amp=1.25), -1.0, 1.0)  # 41 % of samples clipped
    path = tmp_path / f"clipped_{subtype}.wav"
    sf.write(path, x, 16000, subtype=subtype)
    decoded = sf.read(path)[0]
    assert decoded.max() == pytest.approx(top)  # the encoding's largest code
    at_top = np.mean(np.abs(decoded) >= top * 0.999)  # all samples at its largest codes
    assert at_top >= np.mean(np.abs(x) >= 1.0) > 0.4
    (clipping,) = [w for w in vtract.load(path).warnings if w.startswith("clipping")]
    assert clipping.startswith(f"clipping: {at_top * 100:.2f}% of samples at full scale")
    quiet = tmp_path / f"quiet_{subtype}.wav"
    sf.write(quiet, 0.9 * x, 16000, subtype=subtype)  # 1 dB below full scale: not clipped
    assert not any(w.startswith("clipping") for w in vtract.load(quiet).warnings)


def test_float_samples_beyond_full_scale_are_not_called_clipping(tmp_path):
    x = tone(16000, seconds=1.0, amp=1.0)
    loud = tmp_path / "loud.wav"
    sf.write(loud, 1000 * x, 16000, subtype="FLOAT")  # lossless: nothing in it is clipped
    warnings_ = vtract.load(loud).warnings
    assert not any(w.startswith("clipping") for w in warnings_)
    share = np.mean(np.abs(1000 * x.astype(np.float32)) > 1.0) * 100
    assert (
        f"float samples exceed full scale: {share:.2f}% of samples beyond +-1.0 " in (warnings_[0])
    )
    assert "(peak +60.0 dBFS)" in warnings_[0] and "not clipping" in warnings_[0]
    # a clipped source stored as float (samples at exactly +-1.0) is clipping
    clipped = tmp_path / "clipped.wav"
    sf.write(clipped, np.clip(2 * x, -1.0, 1.0), 16000, subtype="DOUBLE")
    (warning,) = vtract.load(clipped).warnings
    assert warning.startswith("clipping: ")


def test_channels_that_nearly_cancel_are_flagged(tmp_path):
    voice = tone(16000, seconds=1.0, freq=300.0, amp=0.4) * np.hanning(16000)
    pair = tmp_path / "inverted_late.wav"  # right = left inverted and 1 sample late
    sf.write(pair, np.column_stack([voice, -np.r_[0.0, voice[:-1]]]), 16000, subtype="FLOAT")
    ev = vtract.load(pair)
    mix = (voice - np.r_[0.0, voice[:-1]]) / 2
    expected_db = -10 * np.log10(np.sum(mix**2) / np.mean([np.sum(voice**2)] * 2))
    (cancel,) = [w for w in ev.warnings if w.startswith("the channels cancel")]
    assert cancel.startswith(
        f"the channels cancel when averaged: the mix holds {expected_db:.1f} dB less energy "
        "than its 2 channels on average"
    )
    assert expected_db > 20 and "--channel" in cancel
    # channels of one source in phase, and unrelated channels: no such warning
    other = tone(16000, seconds=1.0, freq=700.0, amp=0.4)
    for name, right in [("same", voice), ("unrelated", other)]:
        path = tmp_path / f"{name}.wav"
        sf.write(path, np.column_stack([voice, right]), 16000, subtype="FLOAT")
        assert not any("cancel" in w for w in vtract.load(path).warnings)


def test_messages_say_what_is_wrong(tmp_path):
    # finite float64 samples far beyond the float32 range: not "NaN or infinite"
    huge = tmp_path / "huge.wav"
    sf.write(huge, tone(16000) * 1e300, 16000, subtype="DOUBLE")
    with pytest.raises(
        InvalidAudioError, match=r"sample\(s\) exceed the float32 range \(peak 5e\+299"
    ):
        vtract.load(huge)
    stereo = tmp_path / "huge_stereo.wav"  # the channel mean must not overflow either
    sf.write(
        stereo,
        np.full((16000, 2), 1e308) * np.sign(tone(16000, seconds=1.0))[:, None],
        16000,
        subtype="DOUBLE",
    )
    with pytest.raises(InvalidAudioError, match=r"exceed the float32 range \(peak 1e\+308"):
        vtract.load(stereo)
    # a faint recording is not "digital silence"
    faint = tmp_path / "faint.wav"
    sf.write(faint, tone(16000, amp=5e-7), 16000, subtype="FLOAT")
    with pytest.raises(
        SilentAudioError,
        match=r"audio is below the silence threshold: its peak is 5e-07, at or below 1e-06",
    ):
        vtract.load(faint)
    # libsndfile's "SF_INFO struct incomplete" for a sample rate of 0
    rate0 = tmp_path / "rate0.wav"
    sf.write(rate0, tone(16000), 16000, subtype="PCM_16")
    raw = bytearray(rate0.read_bytes())
    raw[24:32] = bytes(8)
    rate0.write_bytes(bytes(raw))
    with pytest.raises(
        UnsupportedFormatError,
        match=r"the header is inconsistent \(a sample rate of 0, or several data chunks",
    ):
        vtract.load(rate0)


def test_header_text_fields_are_kept_and_bounded(tmp_path):
    path = tmp_path / "tagged.wav"
    with sf.SoundFile(path, "w", 16000, 1, format="WAV", subtype="PCM_16") as snd:
        snd.software = "Lavf58.29.100"
        snd.comment = "x" * 2000
        snd.write(tone(16000))
    ev = vtract.load(path)
    assert ev.metadata["software"].startswith("Lavf58.29.100")
    assert ev.metadata["comment"] == "x" * MAX_METADATA_CHARS + "... (+1500 characters)"
    assert ev.summary()["metadata"] == dict(ev.metadata)
    with pytest.raises(TypeError):
        ev.metadata["software"] = "edited"  # type: ignore[index]
    again = pickle.loads(pickle.dumps(ev))  # evidence still crosses process boundaries
    assert again.metadata == ev.metadata and again.sha256 == ev.sha256
    assert vtract.Evidence.from_array(tone(16000), 16000).metadata == {}


def test_from_array_validates():
    ev = vtract.Evidence.from_array(tone(16000), 16000)
    assert ev.path is None and ev.sha256 == ev.pcm_sha256
    with pytest.raises(InvalidAudioError):
        vtract.Evidence.from_array(np.zeros((2, 100)), 16000)
    with pytest.raises(SilentAudioError):
        vtract.Evidence.from_array(np.zeros(16000), 16000)


# ---------------------------------------------------------------- shared data


def shared_audio_files() -> list[str]:
    if not SHARED_DATA.is_dir():
        return []
    return sorted(
        str(p.relative_to(SHARED_DATA))
        for p in SHARED_DATA.rglob("*")
        if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
    )


@needs_shared
def test_every_shared_audio_file_loads_with_sha256sum_hash():
    files = shared_audio_files()
    assert len(files) > 400
    sums = subprocess.run(
        ["sha256sum", *files], cwd=SHARED_DATA, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    expected = {line.split(None, 1)[1].lstrip("*"): line.split()[0] for line in sums}
    failures, container, software = [], {}, {}
    for rel in files:
        try:
            ev = vtract.load(SHARED_DATA / rel)
        except VtractError as exc:  # pragma: no cover - reported below
            failures.append(f"{rel}: {exc}")
            continue
        assert ev.sha256 == expected[rel], rel
        assert ev.sr == 16000 and ev.samples.ndim == 1 and np.isfinite(ev.samples).all()
        if found := [w for w in ev.warnings if w.startswith(CONTAINER)]:
            container[rel] = found
        if "software" in ev.metadata:
            software[rel] = ev.metadata["software"]
    assert not failures, failures
    # real files from many writers: no container finding is a false alarm
    assert container == {}
    # the three Common Voice MP3s (organic/mfa) were written by FFmpeg (libavformat 57)
    assert sorted(set(software.values())) == ["Lavf57.56.101"] and len(software) == 3


@needs_shared
def test_shared_formats_are_all_exercised():
    formats = set()
    for rel in shared_audio_files():
        info = sf.info(str(SHARED_DATA / rel))
        formats.add((info.format, info.subtype))
    assert {"WAV", "FLAC", "MP3"} <= {f for f, _ in formats}


def test_cli_inspect_reports_error_without_traceback(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    good = tmp_path / "good.wav"
    sf.write(good, tone(16000), 16000)
    proc = subprocess.run(
        [sys.executable, "-m", "vtract", "inspect", str(good), str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and '"error"' in lines[1] and '"sha256"' in lines[0]


def test_channels_that_cancel_to_their_rounding_are_refused_as_rounding_noise(tmp_path):
    rng = np.random.default_rng(0)
    left = np.round(tone(16000, seconds=1.0, amp=0.4) * 32767).astype(np.int16)
    right = (-left.astype(np.int32) + rng.integers(-1, 2, left.size)).astype(np.int16)
    path = tmp_path / "inverted_copy.wav"
    wavfile.write(path, 16000, np.column_stack([left, right]))
    with pytest.raises(SilentAudioError) as refused:
        vtract.load(path)
    message = str(refused.value)
    assert message.startswith(
        "inverted_copy.wav: audio is only rounding noise after averaging its 2 channels: they "
        "cancel to within the PCM_16 rounding step (what is left has an RMS of "
    )
    assert "analyse a single channel" in message and "DC offset" not in message
    np.testing.assert_allclose(vtract.load(path, channel=0).samples, left / 32768, atol=1e-6)


def test_dc_offset_of_a_cancelling_mix_is_measured_against_the_channels(tmp_path):
    # the residual is above the rounding (so analysed, with the cancellation warning), and
    # biased by 2 LSB: 53 % of its own RMS, a negligible part of the channels'
    rng = np.random.default_rng(1)
    left = np.round(tone(16000, seconds=1.0, amp=0.4) * 32767).astype(np.int32)
    right = -left + rng.integers(-3, 8, left.size)
    path = tmp_path / "inverted_biased.wav"
    wavfile.write(path, 16000, np.column_stack([left, right]).astype(np.int16))
    ev = vtract.load(path)
    assert not any(w.startswith("DC offset") for w in ev.warnings)
    assert any(w.startswith("the channels cancel when averaged") for w in ev.warnings)
    # a small offset is written with its digits, not as "+0.0000"
    faint = tmp_path / "faint_dc.wav"
    sf.write(faint, tone(16000, amp=1e-4) + 5e-5, 16000, subtype="FLOAT")
    (dc,) = [w for w in vtract.load(faint).warnings if w.startswith("DC offset")]
    assert dc.startswith("DC offset: mean +5.00e-05 is ")


def test_from_array_says_what_is_wrong_with_the_values():
    signs = np.sign(tone(16000, seconds=1.0))
    with pytest.raises(
        InvalidAudioError,
        match=r"^array: 16000 sample\(s\) exceed the float32 range \(peak 1e\+300: the largest "
        r"magnitude; float32 holds at most 3\.4e\+38\)",
    ):
        vtract.Evidence.from_array(np.where(signs >= 0, 1e300, -1e300), 16000)
    nan = tone(16000, seconds=1.0)
    nan[[3, 70, 900]] = [np.nan, np.inf, -np.inf]
    with pytest.raises(InvalidAudioError, match=r"^array: 3 sample\(s\) are NaN or infinite$"):
        vtract.Evidence.from_array(nan, 16000)
    ev = vtract.Evidence.from_array(tone(16000).astype(np.float64), 16000)  # in range: as before
    assert ev.samples.dtype == np.float32
