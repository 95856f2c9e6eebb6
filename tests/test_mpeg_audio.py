"""MPEG audio frames: how much audio an MP3 holds, and where another begins (vtract.mpeg_audio)."""

from __future__ import annotations

import io
import time

import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from _encoded_audio import encode, speechlike
from vtract.mpeg_audio import walk_frames


def _mp3(seconds: float = 2.0, sr: int = 16000) -> bytes:
    """libsndfile's MP3 (LAME, with a Xing header in its first frame)."""
    buf = io.BytesIO()
    sf.write(buf, speechlike(seconds, sr), sr, format="MP3")
    return buf.getvalue()


@pytest.mark.parametrize(("sr", "kind"), [(8000, "MPEG-2.5"), (16000, "MPEG-2"), (44100, "MPEG-1")])
def test_the_xing_header_counts_the_audio_frames_that_follow_it(sr, kind):
    raw = _mp3(2.0, sr)
    walk = walk_frames(raw)
    assert walk is not None and walk.first.kind.startswith(kind + " Layer III")
    assert walk.first.length_header == "Xing"
    assert walk.first.declared_frames == walk.audio_frames
    assert walk.end == len(raw) and walk.joins == ()
    # LAME's encoder delay and padding are in the frames, and trimmed by the decoder
    assert 0 < walk.samples - sf.info(io.BytesIO(raw)).frames < 2 * 1152


def test_joins_are_found_where_a_second_file_begins(tmp_path):
    raw = _mp3()
    walk = walk_frames(raw + raw)
    (join,) = walk.joins
    assert (join.offset, join.what) == (len(raw), "a Xing header")
    assert join.samples_before == walk_frames(raw).samples
    assert walk.audio_frames == 2 * walk_frames(raw).audio_frames
    pytest.importorskip("av")
    tagged = encode(tmp_path / "t.mp3", speechlike(), 16000, fmt="mp3", codec="libmp3lame")
    tagged_raw = tagged.read_bytes()  # an ID3v2 tag, then an Info header
    (first, second) = walk_frames(tagged_raw + tagged_raw).joins
    assert (first.what, second.what) == ("an ID3v2 tag", "an Info header")
    assert first.offset == len(tagged_raw) and first.samples_before == second.samples_before
    other = encode(tmp_path / "o.mp3", speechlike(1.0, 44100), 44100, fmt="mp3",
                   codec="libmp3lame", options={"write_xing": "0", "id3v2_version": "0"})  # fmt: skip
    (change,) = walk_frames(tagged_raw + other.read_bytes()).joins
    assert change.what == (
        "the audio changes from MPEG-2 Layer III, 16000 Hz to MPEG-1 Layer III, 44100 Hz"
    )


def test_tags_at_the_end_are_not_audio_and_not_a_join():
    raw = _mp3()
    id3v1 = b"TAG" + bytes(125)
    ape = b"APETAGEX" + (2000).to_bytes(4, "little") + (32).to_bytes(4, "little") + bytes(16)
    id3v2 = b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16)  # a tag appended at the end
    for tail in (id3v1, ape + id3v1, id3v2):
        walk = walk_frames(raw + tail)
        assert walk.joins == () and walk.end == len(raw)
        assert walk.audio_frames == walk_frames(raw).audio_frames


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=20),
       st.integers(0, 10**6))  # fmt: skip
def test_never_raises_on_damaged_streams(edits, cut):
    raw = _mp3(0.5)
    data = bytearray(b"ID3\x03\x00\x00\x00\x00\x00\x04" + bytes(4) + raw + raw)
    for position, value in edits:
        data[position % len(data)] = value
    damaged = bytes(data[: cut % (len(data) + 1)])
    walk = walk_frames(damaged)
    assert walk is None or walk.end <= len(damaged)


class _CountingBytes(bytes):
    """Bytes that count how many of them ``find`` examines (the walk's scans run in C)."""

    examined = 0

    def find(self, sub, start=None, end=None):  # type: ignore[override]
        start = 0 if start is None else start
        end = len(self) if end is None else min(end, len(self))
        at = super().find(sub, start, end)
        self.examined += max(0, (end if at < 0 else at + len(sub)) - start)
        return at


def _losing_sync(units: int, payload: bytes) -> bytes:
    """Two 72-byte MPEG-2.5 frames and a stray byte, ``units`` times: sync is lost every 145 bytes."""
    frame = bytes([0xFF, 0xE3, 0x18, 0xC4]) + (payload * 68)[:68]
    return (frame + frame + b"\x00") * units


@pytest.mark.parametrize("payload", [b"\x00", b"ID3\xff"], ids=["plain", "fake-ID3"])
def test_the_walk_is_linear_in_the_file_size_however_often_sync_is_lost(payload):
    """Session 27 review R1: every lost sync searched on to the end of the file (for an ID3v2
    tag, and once more per 'ID3' that is not one), so a file that loses sync every few frames
    cost its size squared: 464 KB took 78 s. Each byte is now examined a bounded number of
    times, and the walk finds the same frames."""
    for units in (200, 800):
        raw = _CountingBytes(_losing_sync(units, payload))
        walk = walk_frames(raw)
        assert walk is not None and walk.audio_frames == 2 * units and walk.joins == ()
        assert raw.examined <= 3 * len(raw), (units, raw.examined, len(raw))
    raw = _losing_sync(3200, payload)  # the review's 464 KB file
    started = time.perf_counter()
    walk = walk_frames(raw)
    assert time.perf_counter() - started < 2.0
    assert walk is not None and walk.audio_frames == 6400
