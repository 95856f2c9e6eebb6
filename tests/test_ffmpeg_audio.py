"""Containers libsndfile does not read, decoded through FFmpeg (PyAV)."""

from __future__ import annotations

import hashlib
import io
import sys

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

import vtract
from _encoded_audio import encode, speechlike
from vtract.container import PREFIX
from vtract.errors import InputFileError, UnsupportedFormatError
from vtract.ffmpeg_audio import sniff

av = pytest.importorskip("av")

SR = 16000


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
    x = speechlike()[None, :]
    assert sniff(encode(tmp_path / "a.m4a", x, SR).read_bytes()) == "MP4"
    webm = encode(tmp_path / "a.webm", resample_poly(x, 3, 1, axis=1), 48000, fmt="webm",
                  codec="libopus")  # fmt: skip
    assert sniff(webm.read_bytes()) == "MATROSKA"
    amr = resample_poly(x, 1, 2, axis=1).astype(np.float32)
    amr_file = encode(tmp_path / "a.amr", amr, 8000, fmt="amr", codec="libopencore_amrnb")
    assert sniff(amr_file.read_bytes()) == "AMR"
    assert sniff(encode(tmp_path / "a.aac", x, SR, fmt="adts").read_bytes()) == "AAC"
    assert sniff(bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes(20)) == "ASF"
    for fmt, subtype in (("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "OPUS"), ("MP3", None)):
        buf = io.BytesIO()
        sf.write(buf, x[0], SR, format=fmt, subtype=subtype)
        assert sniff(buf.getvalue()) is None  # libsndfile's formats stay with libsndfile


def test_m4a_decodes_the_recorded_signal(tmp_path):
    x = speechlike()
    path = tmp_path / "memo.m4a"
    raw = encode(path, x, SR, bit_rate=96000).read_bytes()
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
    x = resample_poly(speechlike(), 3, 1).astype(np.float32)
    path = tmp_path / "call.webm"
    encode(path, np.stack([x, -0.5 * x]), 48000, fmt="webm", codec="libopus", bit_rate=128000)
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


def test_a_cut_webm_says_so(tmp_path):
    x = resample_poly(speechlike(4.0), 3, 1)
    raw = encode(tmp_path / "call.webm", x, 48000, fmt="webm", codec="libopus").read_bytes()
    path = tmp_path / "cut.webm"
    path.write_bytes(raw[: len(raw) // 2])
    ev = vtract.load(path)  # FFmpeg decodes the part present without a word; vtract says why
    assert 1.0 < ev.duration < 3.0
    (cut,) = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert cut.startswith(PREFIX + "truncated: the Matroska Cluster element at byte ")
    assert cut.endswith("of them: the file was cut short")


def test_amr_is_telephone_band_audio_resampled(tmp_path):
    x = resample_poly(speechlike(), 1, 2).astype(np.float32)
    path = tmp_path / "voicemail.amr"
    encode(path, x, 8000, fmt="amr", codec="libopencore_amrnb")
    ev = vtract.load(path)
    assert (ev.format, ev.subtype, ev.original_sr, ev.sr) == ("AMR", "AMRNB", 8000, 16000)
    assert abs(ev.duration - 2.0) < 0.05
    assert any(w.startswith("resampled from 8000 Hz") for w in ev.warnings)


def test_video_streams_are_named_and_left_out(tmp_path):
    path = encode(tmp_path / "clip.mp4", speechlike(), SR, fmt="mp4", video_frames=20)
    ev = vtract.load(path)
    assert (
        "the MP4 / M4A / 3GP / MOV file also holds 1 video stream(s); only its first audio "
        "stream is analysed"
    ) in ev.warnings


def test_cut_mp4_files(tmp_path):
    x = speechlike()
    indexed_first = encode(tmp_path / "fs.m4a", x, SR, options={"movflags": "faststart"})
    indexed_first = indexed_first.read_bytes()
    path = tmp_path / "cut.m4a"
    path.write_bytes(indexed_first[: len(indexed_first) // 2])
    ev = vtract.load(path)  # the index comes first: the part present decodes
    assert 0.7 < ev.duration < 1.2
    stopped = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert stopped[0].startswith(
        f"{PREFIX}truncated: decoding stopped after {ev.duration:.3f} s of the 2.000 s the "
        "header declares"
    )
    indexed_last = encode(tmp_path / "end.m4a", x, SR).read_bytes()
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
    encode(path, speechlike(), SR)
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


def test_audio_beyond_the_declared_length_is_kept(tmp_path, monkeypatch):
    """The buffer is sized from the MP4's declared length; more audio spills over, kept."""
    path = encode(tmp_path / "memo.m4a", speechlike(), SR)
    whole = vtract.load(path, sr=None)
    with av.open(str(path)) as container:
        declared = container.streams.audio[0].duration  # frames (time base 1 / SR)
    assert whole.samples.size > declared  # the encoder's padding after the edit list's end
    monkeypatch.setattr("vtract.evidence._PADDING_FRAMES", 0)  # no room: spill at once
    spilled = vtract.load(path, sr=None)
    np.testing.assert_array_equal(spilled.samples, whole.samples)
    assert spilled.pcm_sha256 == whole.pcm_sha256


def test_caf_holding_alac_that_libsndfile_refuses_goes_to_ffmpeg(tmp_path):
    x = speechlike()
    path = encode(tmp_path / "memo.caf", x, SR, fmt="caf", codec="alac")
    with pytest.raises(sf.LibsndfileError, match="unsupported encoding"):
        sf.info(path)  # FFmpeg's writer leaves ALAC's format flags 0, which libsndfile refuses
    ev = vtract.load(path, sr=None)
    assert (ev.format, ev.subtype, ev.original_sr) == ("CAF", "ALAC", SR)
    assert ev.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    (note,) = ev.warnings
    assert note.startswith("decoded with FFmpeg ")
    assert note.endswith(
        "libsndfile reads CAF files but not this one's ALAC ('alac') audio (libsndfile: "
        "Supported file format but unsupported encoding.)"
    )
    # lossless, to the last ALAC packet (which FFmpeg 8.1 decodes 768 samples short: within
    # one packet of the length the CAF declares, so not a finding)
    pcm = np.round(x * 32767) / 32768
    assert x.size - 4096 < ev.samples.size <= x.size
    np.testing.assert_allclose(ev.samples, pcm[: ev.samples.size], atol=1.5 / 32768)
    # the ALAC CAF libsndfile writes (its format flags set) stays with libsndfile
    own = tmp_path / "own.caf"
    sf.write(own, x, SR, format="CAF", subtype="ALAC_16")
    ev = vtract.load(own, sr=None)
    assert (ev.format, ev.subtype, ev.warnings) == ("CAF", "ALAC_16", ())


def test_wav_in_an_encoding_libsndfile_lacks_goes_to_ffmpeg(tmp_path):
    path = encode(tmp_path / "call.wav", speechlike(), SR, fmt="wav", codec="g722")
    with pytest.raises(sf.LibsndfileError):
        sf.info(path)
    ev = vtract.load(path, sr=None)
    assert (ev.format, ev.subtype, ev.duration) == ("WAV", "G722", 2.0)
    assert ev.warnings[0].endswith(
        "libsndfile reads WAV files but not this one's G.722 ADPCM (format tag 0x028F) audio "
        "(libsndfile: Error in WAV/W64/RF64 file. Malformed 'fmt ' chunk.)"
    )
    assert len(ev.warnings) == 1  # the RIFF checks hold: no container finding
    # a WAV libsndfile refuses in an encoding it does read is damaged: still refused
    rate0 = tmp_path / "rate0.wav"
    sf.write(rate0, speechlike(), SR, subtype="PCM_16")
    raw = bytearray(rate0.read_bytes())
    raw[24:32] = bytes(8)
    rate0.write_bytes(bytes(raw))
    with pytest.raises(UnsupportedFormatError, match="the header is inconsistent"):
        vtract.load(rate0)


def test_without_pyav_a_caf_refusal_names_its_codec(tmp_path, monkeypatch):
    path = encode(tmp_path / "memo.caf", speechlike(), SR, fmt="caf", codec="alac")
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(
        UnsupportedFormatError,
        match=r"memo\.caf: a CAF file holding ALAC \('alac'\) audio, which libsndfile cannot "
        r"decode; install the optional FFmpeg decoder to analyse it: pip install 'vtract\[av\]'",
    ):
        vtract.load(path)


@pytest.mark.parametrize(
    ("name", "fmt", "codec", "sr", "options"),
    [
        ("v.mkv", "matroska", "aac", 16000, {}),
        ("v.asf", "asf", "wmav2", 22050, {"bit_rate": 64000}),
    ],
)
def test_a_video_whose_audio_ends_first_is_not_called_truncated(
    tmp_path, name, fmt, codec, sr, options
):
    """Session 27 review R2: Matroska's Duration and ASF's play duration span every track, so
    an intact video (3 s) whose audio stops after 0.5 s (a microphone stopped early, an edit)
    was reported as 'truncated ... cut short or its header altered'. A shortfall is called a
    cut only when the audio is the file's one track (test_container checks that it still is
    then); with a video it is a note that says both readings."""
    audio = speechlike(0.5, sr)
    video = encode(tmp_path / name, audio, sr, fmt=fmt, codec=codec, video_frames=30, **options)
    ev = vtract.load(video, sr=None)
    assert ev.duration == pytest.approx(0.5, abs=0.05)
    assert not [w for w in ev.warnings if w.startswith(PREFIX + "truncated")]
    (note,) = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert "for the file's 2 tracks (1 of them not audio)" in note
    assert "the sound ends before the file does" in note and "a note, not a finding" in note
    declared = float(note.split(" declares ")[1].split(" s ")[0])
    assert declared == pytest.approx(3.0, abs=0.1)  # the picture's 3 s, not the audio's
    assert any("also holds 1 video stream(s)" in w for w in ev.warnings)


def test_a_matroska_file_missing_its_last_cluster_falls_short_of_its_duration(tmp_path):
    from vtract.container import _ebml_element

    path = encode(tmp_path / "a.webm", speechlike(7.3, 48000), 48000, fmt="webm", codec="libopus")
    raw = path.read_bytes()
    ev = vtract.load(path, sr=None)
    assert ev.duration == pytest.approx(7.3) and not ev.warnings[1:]
    header = _ebml_element(raw, 0)
    segment_at = header[1] + header[2]
    _, body, size = _ebml_element(raw, segment_at)
    offset, clusters = body, []
    while offset < len(raw):  # the Segment's top-level elements
        ident, start, length = _ebml_element(raw, offset)
        if ident == 0x1F43B675:
            clusters.append((offset, start + length))
        offset = start + length
    first, last = clusters[-1]
    cut = bytearray(raw[:first] + raw[last:])  # the last Cluster removed, the Segment resized
    cut[segment_at + 4 : body] = ((1 << 56) | (size - (last - first))).to_bytes(8, "big")
    path.write_bytes(bytes(cut))
    ev = vtract.load(path, sr=None)
    assert ev.duration < 6.0
    assert ev.warnings[1:] == (
        PREFIX + "truncated: the Matroska header (Info Duration) declares 7.308 s of audio but "
        f"only {ev.duration:.3f} s decode; the file was cut short or its header altered, and "
        "only the part present is analysed",
    )
