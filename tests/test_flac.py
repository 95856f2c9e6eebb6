"""FLAC frames: where a stream ends, and the streams that follow it (vtract.flac)."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from _encoded_audio import encode, speechlike
from vtract.flac import find_streams, read_stream, walk_frames


def _flac(
    seconds: float = 2.0, sr: int = 16000, channels: int = 1, subtype: str = "PCM_16"
) -> tuple[bytes, int]:
    x = speechlike(seconds, sr)
    data = x if channels == 1 else np.c_[x, -0.5 * np.roll(x, 7)]
    buf = io.BytesIO()
    sf.write(buf, data, sr, format="FLAC", subtype=subtype)
    return buf.getvalue(), int(seconds * sr)


@pytest.mark.parametrize(
    ("sr", "channels", "subtype"),
    [(16000, 1, "PCM_16"), (22050, 2, "PCM_24"), (8000, 1, "PCM_S8"), (48000, 2, "PCM_16")],
)
def test_the_walk_ends_at_the_end_of_the_last_frame(sr, channels, subtype):
    raw, samples = _flac(3.3, sr, channels, subtype)
    walk = walk_frames(raw)
    assert walk is not None and not walk.capped
    assert (walk.samples, walk.end) == (samples, len(raw))
    assert walk.stream.total_samples == samples and walk.stream.channels == channels
    for after in (bytes(3000), bytes(range(256)) * 4, raw):  # what follows is not read into it
        assert walk_frames(raw + after).end == len(raw)


def test_ffmpeg_written_flac_and_silence_walk_to_their_end(tmp_path):
    pytest.importorskip("av")  # FFmpeg's encoder: its own block size (1152) and subframes
    path = encode(tmp_path / "a.flac", speechlike(2.0, 44100), 44100, fmt="flac", codec="flac")
    raw = path.read_bytes()
    walk = walk_frames(raw)
    assert walk is not None and (walk.samples, walk.end) == (88200, len(raw))
    buf = io.BytesIO()
    sf.write(buf, np.zeros(20000), 16000, format="FLAC")  # constant subframes
    silent = buf.getvalue()
    assert walk_frames(silent).end == len(silent)


def test_further_streams_are_found_by_their_streaminfo():
    first, _ = _flac(2.0)
    second, _ = _flac(1.0, 22050, 2)
    joined = first + bytes(10) + second
    (found,) = find_streams(joined, walk_frames(joined).end)
    assert (found.offset, found.rate, found.channels, found.total_samples) == (
        len(first) + 10,
        22050,
        2,
        22050,
    )
    assert find_streams(first + b"fLaC" + bytes(60), 4) == []  # a marker without STREAMINFO
    assert read_stream(b"RIFF" + bytes(60)) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=20),
       st.integers(0, 10**6))  # fmt: skip
def test_never_raises_on_damaged_streams(edits, cut):
    raw, _ = _flac(0.5)
    data = bytearray(raw + raw)
    for position, value in edits:
        data[position % len(data)] = value
    damaged = bytes(data[: cut % (len(data) + 1)])
    walk = walk_frames(damaged)
    assert walk is None or walk.end is None or walk.end <= len(damaged)
    find_streams(damaged, 4)


class _CountingBytes(bytes):
    """Bytes that count the reads made of them one index or slice at a time."""

    reads = 0

    def __getitem__(self, key):  # type: ignore[override]
        self.reads += 1
        return super().__getitem__(key)


def _markers_then(raw: bytes, tail: int) -> bytes:
    """The review's file (R3): 64 appended ``fLaC`` markers, each with ``raw``'s STREAMINFO
    (marked "not last") and a padding block that leads to the next, then ``tail`` zero bytes:
    empty block headers, 4 bytes each, that never say "last"."""
    info = bytes([raw[4] & 0x7F]) + raw[5:42]
    markers = b"".join(
        b"fLaC" + info + bytes([1]) + ((63 - k) * 46).to_bytes(3, "big") for k in range(64)
    )
    return raw + markers + bytes(tail)


def test_appended_markers_cost_the_same_however_long_the_file_runs_on():
    """Session 27 review R3: each marker's metadata was read 4 bytes at a time to the end of
    the file, 64 times over (4 MB took 21.7 s to load). Now at most MAX_METADATA_BLOCKS block
    headers are read per marker: the work does not grow with the bytes after them."""
    raw, _ = _flac(1.0)
    end = walk_frames(raw).end
    reads = []
    for tail in (40_000, 160_000):
        crafted = _CountingBytes(_markers_then(raw, tail))
        streams = find_streams(crafted, end)
        assert len(streams) == 64 and all(s.audio_start is None for s in streams)
        reads.append(crafted.reads)
    assert reads[0] == reads[1], reads
    crafted = _markers_then(raw, 4_000_000)  # the review's 4 MB file
    started = time.perf_counter()
    walk = walk_frames(crafted)
    assert walk is not None and walk.end == len(raw)
    assert len(find_streams(crafted, walk.end)) == 64
    assert time.perf_counter() - started < 2.0
