"""MPEG audio frames: how much audio an MP3 file holds, and where a second one begins.

An MP3 file is a run of MPEG audio frames, each with a 4-byte header (sync
code, version, layer, bit rate, sample rate, padding) from which its length
follows, often behind an ID3v2 tag and followed by ID3v1 / APEv2 / Lyrics3
tags. Nothing marks the end of a recording, so two MP3 files joined end to
end are still a valid MP3. A LAME encoder's first frame holds no audio but a
Xing / Info header (VBRI for Fraunhofer's) that declares the number of
frames, and libsndfile decodes that many: a second recording appended to
the first is never decoded. Without such a header libsndfile estimates the
length from the file size and the first frames' bit rate, and decodes no
further than its estimate. Neither is reported.

:func:`walk_frames` steps from frame header to frame header (a header at the
expected place, or, after bytes that are not a frame, a header followed by a
second one), and notes what marks a join: an ID3v2 tag after the audio has
begun, a second Xing / Info / VBRI header, a change of sample rate or MPEG
version. :mod:`vtract.container` turns the walk into findings. The walk
reads only the bytes it is given, never raises on malformed input, and
takes time linear in the file's size however often it loses sync (each
byte is scanned a bounded number of times; the next ID3v2 tag is found once
and kept until the walk passes it). :func:`end_tags` reads the tags at the
end of a file, for the MP3 and the FLAC checks alike.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_FRAMES",
    "EndTag",
    "MpegFrame",
    "MpegJoin",
    "MpegWalk",
    "end_tags",
    "frame_at",
    "id3v2_end",
    "walk_frames",
]

#: Frames walked before the walk stops (about 7 hours at 44.1 kHz).
MAX_FRAMES = 1_000_000
#: Consecutive frames of one version, layer and rate on each side of a change before it
#: counts as a join (a header found in damaged bytes is one frame, not a run).
_RUN = 3

_BITRATES = {  # kbit/s by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[False, 3] = _BITRATES[False, 2]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_VERSION_NAMES = {3: "MPEG-1", 2: "MPEG-2", 0: "MPEG-2.5"}


@dataclass(frozen=True)
class MpegFrame:
    """One frame header, where it is, and the length header it carries, if any."""

    offset: int  #: byte offset of the frame
    version: int  #: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer: int  #: 1, 2 or 3
    rate: int  #: sample rate (Hz)
    samples: int  #: samples per channel in the frame
    length: int  #: bytes
    length_header: str | None  #: ``"Xing"``, ``"Info"`` or ``"VBRI"``: a frame without audio
    declared_frames: int | None  #: frames its length header declares (``None``: none)

    @property
    def stream(self) -> tuple[int, int, int]:
        """What stays the same through one encoding: version, layer, rate."""
        return self.version, self.layer, self.rate

    @property
    def kind(self) -> str:
        """``"MPEG-1 Layer III, 44100 Hz"``."""
        return f"{_VERSION_NAMES[self.version]} Layer {'I' * self.layer}, {self.rate} Hz"


@dataclass(frozen=True)
class MpegJoin:
    """A place where another recording begins inside the file."""

    offset: int  #: byte offset
    samples_before: int  #: samples per channel in the audio frames before it
    what: str  #: what marks it (``"an ID3v2 tag"``, ``"a Xing header"``, a change of rate)


@dataclass(frozen=True)
class MpegWalk:
    """The frames of an MPEG audio file, and the places where another recording begins."""

    first: MpegFrame  #: the first frame
    audio_frames: int  #: frames holding audio (length-header frames left out)
    samples: int  #: samples per channel in them, at the first frame's rate where it changes
    joins: tuple[MpegJoin, ...]  #: where further recordings begin (audio follows each)
    end: int  #: byte offset just after the last frame
    capped: bool  #: the walk stopped at :data:`MAX_FRAMES`
    free_format: bool  #: a free-format frame (no length in its header) stopped the walk


def frame_at(raw: bytes, offset: int) -> MpegFrame | None:
    """The MPEG audio frame whose header is at ``offset``, if a valid one is."""
    if offset + 4 > len(raw) or raw[offset] != 0xFF or raw[offset + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = raw[offset + 1], raw[offset + 2], raw[offset + 3]
    version, layer_code = b1 >> 3 & 3, b1 >> 1 & 3
    bitrate_index, rate_index = b2 >> 4, b2 >> 2 & 3
    if version == 1 or layer_code == 0 or bitrate_index == 15 or rate_index == 3:
        return None
    if b3 & 3 == 2:  # reserved emphasis
        return None
    layer, mpeg1 = 4 - layer_code, version == 3
    rate, padding = _RATES[version][rate_index], b2 >> 1 & 1
    samples = 384 if layer == 1 else 1152 if layer == 2 or mpeg1 else 576
    if bitrate_index == 0:  # free format: the header gives no length
        return MpegFrame(offset, version, layer, rate, samples, 0, None, None)
    bitrate = _BITRATES[mpeg1, layer][bitrate_index - 1] * 1000
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = samples // 8 * bitrate // rate + padding
    mono = b3 >> 6 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    crc = 0 if b1 & 1 else 2
    tag_at = offset + 4 + crc + side_info
    name, declared = None, None
    if layer == 3 and raw[tag_at : tag_at + 4] in (b"Xing", b"Info"):
        name = raw[tag_at : tag_at + 4].decode()
        if tag_at + 12 <= len(raw) and raw[tag_at + 7] & 1:
            declared = int.from_bytes(raw[tag_at + 8 : tag_at + 12], "big")
    elif raw[offset + 36 : offset + 40] == b"VBRI" and offset + 54 <= len(raw):
        name, declared = "VBRI", int.from_bytes(raw[offset + 50 : offset + 54], "big")
    return MpegFrame(offset, version, layer, rate, samples, length, name, declared)


def walk_frames(raw: bytes, *, max_frames: int = MAX_FRAMES) -> MpegWalk | None:
    """Walk the MPEG audio frames of ``raw``; ``None`` when no frame follows its ID3v2 tag.

    Parameters
    ----------
    raw : bytes
        The whole file.
    max_frames : int, default :data:`MAX_FRAMES`
        Stop after this many frames (``capped`` is then true).

    Returns
    -------
    MpegWalk or None
    """
    audio_end = _audio_end(raw)
    tags = _TagFinder(raw, audio_end)
    offset = id3v2_end(raw, 0) or 0
    if frame_at(raw, offset) is None:
        found = _resync(raw, offset, audio_end, tags)
        if found is None or id3v2_end(raw, found) is not None:
            return None
        offset = found
    first = frame_at(raw, offset)
    if first is None:
        return None
    frames = samples = 0
    joins: list[MpegJoin] = []
    previous, capped, free_format, end = first, False, False, offset
    walked = run = 0
    pending: MpegJoin | None = None
    while offset < audio_end:
        if walked >= max_frames:
            capped = True
            break
        tag_end = id3v2_end(raw, offset)
        if tag_end is not None:
            if frames:
                joins.append(MpegJoin(offset, samples, "an ID3v2 tag"))
            offset = tag_end
            continue
        frame = frame_at(raw, offset)
        if frame is None or frame.length == 0 or offset + frame.length > audio_end:
            if frame is not None and frame.length == 0:
                free_format = True
                break
            resync = _resync(raw, offset + 1, audio_end, tags)
            if resync is None:
                break
            offset = resync
            continue
        walked += 1
        if frame.stream != previous.stream:  # a join once both sides are runs of frames
            change = f"the audio changes from {previous.kind} to {frame.kind}"
            pending = MpegJoin(offset, samples, change) if run >= _RUN else None
            run = 1
        else:
            run += 1
            if pending is not None and run >= _RUN:
                joins.append(pending)
                pending = None
        if frame.length_header is not None:
            if frames:
                article = "an" if frame.length_header == "Info" else "a"
                joins.append(MpegJoin(offset, samples, f"{article} {frame.length_header} header"))
        else:
            frames += 1
            samples += frame.samples * first.rate // frame.rate
        previous, offset = frame, offset + frame.length
        end = offset
    return MpegWalk(
        first=first,
        audio_frames=frames,
        samples=samples,
        joins=tuple(join for join in joins if join.samples_before < samples),
        end=end,
        capped=capped,
        free_format=free_format,
    )


class _TagFinder:
    """The next well-formed ID3v2 tag header at or after an offset, found by one forward scan.

    The walk asks with offsets that only grow, so each ``ID3`` in the file is
    looked at once: the answer is kept until the walk passes it, and the next
    search starts after it. (Searching to the end of the file at every lost
    sync made a file that loses sync every few frames cost its size squared.)
    """

    def __init__(self, raw: bytes, limit: int) -> None:
        self._raw, self._limit = raw, limit
        self._searched = 0  #: no tag header begins in ``[_searched, _found)``
        self._found = -1  #: the tag found last (-1: none yet; ``limit``: none left)

    def next_at(self, offset: int) -> int:
        """Where the first tag at or after ``offset`` begins (``-1``: none before the limit)."""
        if not self._searched <= offset <= self._found:  # past the tag found last: look on
            at = self._raw.find(b"ID3", offset, self._limit)
            while at >= 0 and id3v2_end(self._raw, at) is None:
                at = self._raw.find(b"ID3", at + 1, self._limit)
            self._searched, self._found = offset, self._limit if at < 0 else at
        return -1 if self._found >= self._limit else self._found


def _resync(raw: bytes, offset: int, limit: int, tags: _TagFinder) -> int | None:
    """The next place, from ``offset``, where a frame or an ID3v2 tag begins.

    A frame counts when a second frame (or an ID3v2 tag) follows it, or it
    ends where the audio does. The scan stops at the frame (or the tag) it
    finds and the walk goes on from there, so the scans of successive
    resyncs do not overlap.
    """
    tag = tags.next_at(offset)
    stop = limit if tag < 0 else tag
    while (offset := raw.find(b"\xff", offset, stop)) >= 0:
        frame = frame_at(raw, offset)
        if frame is not None and frame.length > 0 and offset + frame.length <= limit:
            after = offset + frame.length
            if after == limit or frame_at(raw, after) is not None or id3v2_end(raw, after):
                return offset
        offset += 1
    return tag if tag >= 0 else None


def id3v2_end(raw: bytes, offset: int) -> int | None:
    """Where the ID3v2 tag at ``offset`` ends, if a well-formed tag header is there.

    Examples
    --------
    >>> id3v2_end(b"ID3" + bytes([4, 0, 0, 0, 0, 1, 0]) + bytes(128), 0)
    138
    """
    head = raw[offset : offset + 10]
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or head[4] == 0xFF:
        return None
    if any(byte & 0x80 for byte in head[6:10]):
        return None
    size = head[6] << 21 | head[7] << 14 | head[8] << 7 | head[9]
    return offset + 10 + size + (10 if head[5] & 0x10 else 0)


@dataclass(frozen=True)
class EndTag:
    """A tag at the end of a file: metadata a tagging tool appended, not audio."""

    name: str  #: ``"an ID3v1 tag"``, ``"an APEv2 tag"`` or ``"a Lyrics3 v2 tag"``
    offset: int  #: byte offset where it begins
    length: int  #: bytes


def end_tags(raw: bytes, floor: int = 0, end: int | None = None) -> tuple[EndTag, ...]:
    """The ID3v1, APEv2 and Lyrics3 v2 tags that end ``raw`` (or end at ``end``), in file order.

    Taggers put these after the audio of MP3 files, and some (foobar2000,
    Mp3tag, MusicBrainz Picard with APE tags) after FLAC and other files
    too; no decoder reads them as audio. A tag is taken only when its frame
    is well formed and it begins at or after ``floor`` (where the audio is
    known to end). Both the MP3 and the FLAC checks use this one reading.

    Examples
    --------
    >>> ape = b"APETAGEX" + (2000).to_bytes(4, "little") + (32).to_bytes(4, "little") + bytes(16)
    >>> [(t.name, t.offset, t.length) for t in end_tags(bytes(100) + ape + b"TAG" + bytes(125))]
    [('an APEv2 tag', 100, 32), ('an ID3v1 tag', 132, 128)]
    """
    found: list[EndTag] = []
    end = len(raw) if end is None else min(end, len(raw))
    for _ in range(3):
        tag = _end_tag(raw, end)
        if tag is None or tag.offset < floor:
            break
        found.append(tag)
        end = tag.offset
    return tuple(reversed(found))


def _end_tag(raw: bytes, end: int) -> EndTag | None:
    """The ID3v1, Lyrics3 v2 or APEv2 tag that ends at ``end``, if one does."""
    if end >= 128 and raw[end - 128 : end - 125] == b"TAG":
        return EndTag("an ID3v1 tag", end - 128, 128)
    if end >= 15 and raw[end - 9 : end] == b"LYRICS200" and raw[end - 15 : end - 9].isdigit():
        length = 15 + int(raw[end - 15 : end - 9])
        if length <= end and raw[end - length : end - length + 11] == b"LYRICSBEGIN":
            return EndTag("a Lyrics3 v2 tag", end - length, length)
        return None
    if end >= 32 and raw[end - 32 : end - 24] == b"APETAGEX":
        size = int.from_bytes(raw[end - 20 : end - 16], "little")  # items and footer
        length = size + (32 if raw[end - 9] & 0x80 else 0)  # and the header, if it has one
        if 32 <= size and length <= end:
            return EndTag("an APEv2 tag", end - length, length)
    return None


def _audio_end(raw: bytes) -> int:
    """Where the tags at the end of the file (:func:`end_tags`) begin."""
    tags = end_tags(raw)
    return tags[0].offset if tags else len(raw)
