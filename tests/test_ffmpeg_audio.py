"""Containers libsndfile does not read, decoded through FFmpeg (PyAV)."""

from __future__ import annotations

import hashlib
import io
import sys
from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

import vtract
from vtract.container import PREFIX
from vtract.errors import InputFileError, UnsupportedFormatError
from vtract.ffmpeg_audio import sniff

av = pytest.importorskip("av")

SR = 16000


def _speechlike(seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    return (0.2 * voice * envelope).astype(np.float32)


def _encode(path, fmt: str, codec: str, channels: np.ndarray, rate: int = SR, **opts) -> bytes:
    """Encode ``channels`` (shape (n_channels, n)) with PyAV; timestamps set, as real writers do."""
    layout = "mono" if channels.shape[0] == 1 else "stereo"
    out = av.open(str(path), "w", format=fmt, options=opts.pop("options", {}))
    stream = out.add_stream(codec, rate=rate, layout=layout)
    stream.time_base = Fraction(1, rate)
    for key, value in opts.items():
        setattr(stream.codec_context, key, value)
    step = 960
    for i in range(0, channels.shape[1], step):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(channels[:, i : i + step]), format="fltp", layout=layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return path.read_bytes()


def _lag_and_snr(decoded: np.ndarray, original: np.ndarray) -> tuple[int, float]:
    """Best alignment lag of ``decoded`` against ``original`` and the SNR there (dB)."""
    n = original.size
    lags = range(0, 3000)
    scores = [
        float(np.dot(decoded[lag : lag + n], original[: decoded[lag : lag + n].size]))
        for lag in lags
    ]
    lag = int(np.argmax(scores))
    part = decoded[lag : lag + n]
    ref = original[: part.size]
    return lag, 10 * np.log10(np.sum(ref**2) / np.sum((part - ref) ** 2))


def test_sniff_recognises_the_containers_by_their_first_bytes(tmp_path):
    x = _speechlike()[None, :]
    assert sniff(_encode(tmp_path / "a.m4a", "ipod", "aac", x)) == "MP4"
    assert sniff(_encode(tmp_path / "a.webm", "webm", "libopus", resample_poly(x, 3, 1, axis=1),
                         48000)) == "MATROSKA"  # fmt: skip
    amr = resample_poly(x, 1, 2, axis=1).astype(np.float32)
    assert sniff(_encode(tmp_path / "a.amr", "amr", "libopencore_amrnb", amr, 8000)) == "AMR"
    assert sniff(_encode(tmp_path / "a.aac", "adts", "aac", x)) == "AAC"
    assert sniff(bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes(20)) == "ASF"
    for fmt, subtype in (("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "OPUS"), ("MP3", None)):
        buf = io.BytesIO()
        sf.write(buf, x[0], SR, format=fmt, subtype=subtype)
        assert sniff(buf.getvalue()) is None  # libsndfile's formats stay with libsndfile


def test_m4a_decodes_the_recorded_signal(tmp_path):
    x = _speechlike()
    path = tmp_path / "memo.m4a"
    raw = _encode(path, "ipod", "aac", x[None, :], bit_rate=96000)
    ev = vtract.load(path, sr=None)
    assert ev.sha256 == hashlib.sha256(raw).hexdigest() and path.read_bytes() == raw
    assert (ev.format, ev.subtype, ev.original_sr, ev.channels) == ("MP4", "AAC", SR, 1)
    # the edit list's encoder delay is dropped: the signal starts at sample 0, coded well
    lag, snr = _lag_and_snr(ev.samples.astype(np.float64), x.astype(np.float64))
    assert lag == 0 and snr > 30  # 40.8 dB measured at 96 kbit/s
    assert x.size <= ev.samples.size <= x.size + 1024  # at most one AAC frame of padding
    assert ev.warnings[0].startswith(f"decoded with FFmpeg {av.ffmpeg_version_info} (PyAV ")
    assert "libsndfile does not read MP4 / M4A / 3GP / MOV files (AAC audio)" in ev.warnings[0]
    assert ev.metadata["major_brand"].startswith("M4A") and "encoder" in ev.metadata
    assert not any(w.startswith(PREFIX) for w in ev.warnings)  # intact: no container finding


def test_webm_channels_are_picked_or_averaged(tmp_path):
    x = resample_poly(_speechlike(), 3, 1).astype(np.float32)
    path = tmp_path / "call.webm"
    _encode(path, "webm", "libopus", np.stack([x, -0.5 * x]), 48000, bit_rate=128000)
    left = vtract.load(path, sr=None, channel=0).samples.astype(np.float64)
    right = vtract.load(path, sr=None, channel=1).samples.astype(np.float64)
    mixed = vtract.load(path, sr=None)
    assert (mixed.format, mixed.subtype, mixed.channels, mixed.original_sr) == (
        "MATROSKA",
        "OPUS",
        2,
        48000,
    )
    np.testing.assert_allclose(mixed.samples, ((left + right) / 2).astype(np.float32), atol=1e-7)
    assert np.corrcoef(left, right)[0, 1] < -0.95  # the second channel is the inverted one
    assert any("channels averaged" in w for w in mixed.warnings)
    with pytest.raises(InputFileError, match="channel 2 requested, file has 2 channel"):
        vtract.load(path, channel=2)


def test_amr_is_telephone_band_audio_resampled(tmp_path):
    x = resample_poly(_speechlike(), 1, 2).astype(np.float32)
    path = tmp_path / "voicemail.amr"
    _encode(path, "amr", "libopencore_amrnb", x[None, :], 8000)
    ev = vtract.load(path)
    assert (ev.format, ev.subtype, ev.original_sr, ev.sr) == ("AMR", "AMRNB", 8000, 16000)
    assert abs(ev.duration - 2.0) < 0.05
    assert any(w.startswith("resampled from 8000 Hz") for w in ev.warnings)


def test_video_streams_are_named_and_left_out(tmp_path):
    path = tmp_path / "clip.mp4"
    out = av.open(str(path), "w", format="mp4")
    audio = out.add_stream("aac", rate=SR, layout="mono")
    video = out.add_stream("mpeg4", rate=10)
    video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
    for i in range(20):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 5 * i, np.uint8), format="rgb24")
        frame.pts = i
        for packet in video.encode(frame):
            out.mux(packet)
    for packet in video.encode(None):
        out.mux(packet)
    x = _speechlike()
    for i in range(0, x.size, 1024):
        frame = av.AudioFrame.from_ndarray(
            x[None, i : i + 1024].copy(), format="flt", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = SR, i, Fraction(1, SR)
        for packet in audio.encode(frame):
            out.mux(packet)
    for packet in audio.encode(None):
        out.mux(packet)
    out.close()
    ev = vtract.load(path)
    assert (
        "the MP4 / M4A / 3GP / MOV file also holds 1 video stream(s); only its first audio "
        "stream is analysed"
    ) in ev.warnings


def test_cut_mp4_files(tmp_path):
    x = _speechlike()
    indexed_first = _encode(tmp_path / "fs.m4a", "ipod", "aac", x[None, :],
                            options={"movflags": "faststart"})  # fmt: skip
    path = tmp_path / "cut.m4a"
    path.write_bytes(indexed_first[: len(indexed_first) // 2])
    ev = vtract.load(path)  # the index comes first: the part present decodes
    assert 0.7 < ev.duration < 1.2
    stopped = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert stopped[0].startswith(
        f"{PREFIX}truncated: decoding stopped after {ev.duration:.3f} s of the 2.000 s the "
        "header declares"
    )
    indexed_last = _encode(tmp_path / "end.m4a", "ipod", "aac", x[None, :])
    path.write_bytes(indexed_last[: len(indexed_last) // 2])
    with pytest.raises(
        UnsupportedFormatError,
        match=r"not a decodable MP4 / M4A / 3GP / MOV file: .*; container: truncated: the MP4 "
        r"'mdat' box at byte \d+ declares \d+ bytes but the file holds \d+ of them: the file "
        r"was cut short; the file has no 'moov' box",
    ):
        vtract.load(path)


def test_without_pyav_the_refusal_says_how_to_install_it(tmp_path, monkeypatch):
    path = tmp_path / "memo.m4a"
    _encode(path, "ipod", "aac", _speechlike()[None, :])
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(
        UnsupportedFormatError,
        match=r"memo\.m4a: an MP4 / M4A / 3GP / MOV file, which libsndfile cannot decode; "
        r"install the optional FFmpeg decoder to analyse it: pip install 'vtract\[av\]'",
    ):
        vtract.load(path)


def test_garbage_after_a_recognised_signature_is_refused_clearly(tmp_path):
    path = tmp_path / "fake.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormatError, match=r"fake\.m4a: "):
        vtract.load(path)
