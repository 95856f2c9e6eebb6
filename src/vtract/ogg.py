"""Ogg pages: walk a file's pages, check them, and repair a truncated stream's end.

An Ogg file (Vorbis, Opus) is a sequence of *pages* (RFC 3533): each has a
header with a capture pattern ``OggS``, flags (continued packet, beginning
and end of a logical stream), the granule position (the stream's sample
count at the end of the last packet that ends on the page), the stream's
serial number, a page sequence number and a CRC-32 of the page, then a
lacing table and the packet data. libsndfile (through libogg) decodes what
it can and says nothing when:

* the file ends inside a page (cut short): the whole incomplete page is
  dropped, although it usually holds whole packets; with libsndfile's
  Vorbis and Opus writers a page is about a second of audio, and an Opus
  file cut inside its first audio page is refused as malformed;
* a page fails its checksum (damaged or altered): it is skipped, and so is
  its audio;
* pages are missing (their sequence numbers jump) or bytes that are not
  pages lie between them;
* the file holds more than one logical stream (chained recordings): only
  the first is decoded.

:func:`walk_pages` reads the page headers (and checks every checksum);
:mod:`vtract.container` turns what it finds into findings, and
:func:`repair_truncated` builds, in memory, a copy of a truncated Vorbis or
Opus stream whose incomplete last page is cut to the whole packets it holds
and marked as the end of the stream (granule position and checksum
recomputed), so that :func:`vtract.load` decodes those packets too. The
evidence file is never changed, and the samples decoded from the copy are
the samples the whole file decodes to (tested bit for bit).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = [
    "MAX_PAGES",
    "OggPage",
    "OggWalk",
    "RepairedStream",
    "page_checksum",
    "repair_truncated",
    "stream_seconds",
    "walk_pages",
]

#: Pages walked before the walk stops (and says so): about 4 days of Vorbis audio.
MAX_PAGES = 1_000_000

_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, n
_CONTINUED, _FIRST, _LAST = 0x01, 0x02, 0x04
_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


@dataclass(frozen=True)
class OggPage:
    """One page's header, where it is, and whether it is whole and intact."""

    offset: int  #: byte offset of the page in the file
    flags: int  #: header type flags (0x01 continued packet, 0x02 first, 0x04 last page)
    granule: int  #: granule position (-1: no packet ends on the page)
    serial: int  #: logical stream serial number
    sequence: int  #: page sequence number
    lacing: bytes  #: the lacing table (one byte per segment)
    size: int  #: the page's size as its header declares it (header + body)
    present: int  #: bytes of it in the file (``size`` unless the file ends inside it)
    checksum_ok: bool | None  #: does the CRC match? (``None``: the page is incomplete)

    @property
    def whole(self) -> bool:
        """Is all of the page in the file?"""
        return self.present == self.size

    @property
    def header_size(self) -> int:
        """Bytes before the packet data (27 + the lacing table)."""
        return _HEADER.size + len(self.lacing)

    @property
    def is_last(self) -> bool:
        """Does the page carry the end-of-stream flag?"""
        return bool(self.flags & _LAST)

    @property
    def is_first(self) -> bool:
        """Does the page carry the beginning-of-stream flag?"""
        return bool(self.flags & _FIRST)


@dataclass(frozen=True)
class OggWalk:
    """The pages of a file, the stretches that are not pages, and how far the walk got."""

    pages: tuple[OggPage, ...]
    junk: tuple[tuple[int, int], ...]  #: ``(offset, length)`` of bytes that are not pages
    capped: bool  #: the walk stopped at :data:`MAX_PAGES`

    @property
    def serials(self) -> tuple[int, ...]:
        """Serial numbers of the logical streams, in order of first appearance."""
        return tuple(dict.fromkeys(page.serial for page in self.pages))


@dataclass(frozen=True)
class RepairedStream:
    """An in-memory copy of a truncated stream whose incomplete last page was made whole."""

    data: bytes  #: the copy (the file up to its last page, then the rebuilt page)
    codec: str  #: ``"vorbis"`` or ``"opus"``
    packets: int  #: whole audio packets recovered from the incomplete page
    page: OggPage  #: the incomplete page
    whole_pages_seconds: float  #: where the audio of the whole pages ends (s)


def page_checksum(page: bytes) -> int:
    """The Ogg CRC-32 of a page (polynomial 0x04C11DB7, unreflected, initial value 0).

    The checksum field (bytes 22-25) is taken as zero, as the format defines it.
    Computed with :func:`zlib.crc32` on bit-reversed bytes (the reflected form
    of the same polynomial), so it runs at C speed.

    Examples
    --------
    >>> page_checksum(b"OggS" + bytes(23))   # an empty page header
    2661393681
    """
    body = page[:22] + b"\0\0\0\0" + page[26:]
    reflected = zlib.crc32(body.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def stream_seconds(raw: bytes, first: OggPage, last: OggPage) -> float | None:
    """Seconds of audio from a stream's beginning-of-stream page ``first`` to ``last``.

    From ``last``'s granule position and the codec header on ``first``:
    Vorbis counts samples at its rate, Opus 48 kHz samples with the pre-skip
    included. ``None`` when the codec is neither, or ``last`` has no granule
    position.
    """
    start = first.offset + first.header_size
    ident = raw[start : start + (first.lacing[0] if first.lacing else 0)]
    codec = _codec(ident)
    if codec is None or last.granule < 0:
        return None
    if codec == "opus":
        return max(last.granule - struct.unpack_from("<H", ident, 10)[0], 0) / 48000
    return last.granule / max(struct.unpack_from("<I", ident, 12)[0], 1)


def walk_pages(raw: bytes, *, max_pages: int = MAX_PAGES) -> OggWalk:
    """Every page of an Ogg file, with the bytes between them that are not pages.

    Parameters
    ----------
    raw : bytes
        The whole file.
    max_pages : int, default :data:`MAX_PAGES`
        Stop after this many pages (``capped`` is then true).

    Returns
    -------
    OggWalk
        The pages in file order; a page the file ends inside is the last one
        (``whole`` false, ``checksum_ok`` ``None``). After bytes that are not
        a page header the walk resumes at the next ``OggS``.
    """
    pages: list[OggPage] = []
    junk: list[tuple[int, int]] = []
    offset, size = 0, len(raw)
    while offset < size:
        if len(pages) >= max_pages:
            return OggWalk(tuple(pages), tuple(junk), capped=True)
        if not _page_start(raw, offset):
            following = _next_page_start(raw, offset + 1)
            junk.append((offset, following - offset))
            offset = following
            continue
        _, _, flags, granule, serial, sequence, crc, n_segments = _HEADER.unpack_from(raw, offset)
        lacing = bytes(raw[offset + _HEADER.size : offset + _HEADER.size + n_segments])
        declared = _HEADER.size + n_segments + sum(lacing)
        if len(lacing) < n_segments:  # the file ends inside the lacing table
            declared = _HEADER.size + n_segments
        present = min(declared, size - offset)
        ok = page_checksum(raw[offset : offset + declared]) == crc if present == declared else None
        pages.append(
            OggPage(offset, flags, granule, serial, sequence, lacing, declared, present, ok)
        )
        offset += present
    return OggWalk(tuple(pages), tuple(junk), capped=False)


def repair_truncated(raw: bytes, walk: OggWalk | None = None) -> RepairedStream | None:
    """A decodable copy of a Vorbis or Opus file cut inside its last page, if one can be made.

    The copy is the file up to its last, incomplete page, then that page cut
    to the whole packets it holds, flagged as the end of the stream, with a
    granule position that lets the decoder keep every sample of those
    packets and its checksum recomputed. Opus: the exact granule position
    (the packets' durations from their TOC bytes, RFC 6716 section 3.1).
    Vorbis: an upper bound (half the long block size per packet); Vorbis
    decoders trim a last page only to a granule position *below* what
    decodes, so every sample the packets hold is kept, and none is invented.

    Returns ``None`` when there is nothing to repair or it cannot be done:
    the last page is whole, the file holds more than one logical stream, the
    codec is neither Vorbis nor Opus, or the incomplete page holds no whole
    audio packet.
    """
    walk = walk_pages(raw) if walk is None else walk
    if not walk.pages or walk.pages[-1].whole or len(walk.serials) != 1 or walk.capped:
        return None
    last = walk.pages[-1]
    ident, n_before, open_first_byte = _packets_before(raw, walk.pages[:-1])
    codec = _codec(ident)
    if codec is None:
        return None
    n_headers = 3 if codec == "vorbis" else 2
    # whole packets on the incomplete page: segments up to the last packet end present
    body = raw[last.offset + last.header_size :]
    ends, total = [], 0
    for i, lace in enumerate(last.lacing):
        total += lace
        if total > len(body):
            break
        if lace < 255:
            ends.append((i + 1, total))
    if not ends:
        return None
    starts = [0] + [end for _, end in ends[:-1]]
    continued = bool(last.flags & _CONTINUED)
    first_bytes = [
        (open_first_byte if continued and k == 0 else body[start : start + 2])
        for k, start in enumerate(starts)
    ]
    n_audio = sum(1 for k in range(len(ends)) if n_before + k >= n_headers)
    if n_audio == 0:
        return None
    audio_heads = first_bytes[len(ends) - n_audio :]
    whole_granule = max((p.granule for p in walk.pages[:-1] if p.granule >= 0), default=0)
    if codec == "opus":  # granule positions count 48 kHz samples, the pre-skip included
        added = sum(_opus_samples(head) for head in audio_heads)
        whole_seconds = max(whole_granule - struct.unpack_from("<H", ident, 10)[0], 0) / 48000
    else:
        added = n_audio * (1 << (ident[28] >> 4)) // 2  # half the long block per packet
        whole_seconds = whole_granule / max(struct.unpack_from("<I", ident, 12)[0], 1)
    n_segments, body_size = ends[-1]
    header = _HEADER.pack(
        b"OggS",
        0,
        last.flags | _LAST,
        min(whole_granule + added, 2**63 - 1),
        last.serial,
        last.sequence,
        0,
        n_segments,
    )
    page = bytearray(header + last.lacing[:n_segments] + body[:body_size])
    struct.pack_into("<I", page, 22, page_checksum(bytes(page)))
    return RepairedStream(raw[: last.offset] + bytes(page), codec, n_audio, last, whole_seconds)


def _page_start(raw: bytes, offset: int) -> bool:
    """An ``OggS`` capture pattern with stream structure version 0 and room for a header."""
    return (
        raw[offset : offset + 4] == b"OggS"
        and raw[offset + 4 : offset + 5] == b"\0"
        and (offset + _HEADER.size <= len(raw))
    )


def _next_page_start(raw: bytes, offset: int) -> int:
    while True:
        found = raw.find(b"OggS", offset)
        if found < 0:
            return len(raw)
        if _page_start(raw, found):
            return found
        offset = found + 1


def _packets_before(raw: bytes, pages: tuple[OggPage, ...]) -> tuple[bytes, int, bytes]:
    """The first packet, how many packets end on ``pages``, and the open packet's first bytes.

    The first packet is the codec's identification header (``b""`` if it
    never ends); the open packet is the one still unfinished at the end of
    ``pages`` (``b""`` if none). Linear in the number of pages and segments.
    """
    first = bytearray()
    ended = False
    for page in pages:
        start = page.offset + page.header_size
        for lace in page.lacing:
            first += raw[start : start + lace]
            start += lace
            if lace < 255:
                ended = True
                break
        if ended:
            break
    count = sum(len(page.lacing) - page.lacing.count(255) for page in pages)
    # the open packet starts after the last segment shorter than 255 bytes
    begin_page, begin_segment = 0, 0
    for k in range(len(pages) - 1, -1, -1):
        shorter = [i for i, lace in enumerate(pages[k].lacing) if lace < 255]
        if shorter:
            begin_page, begin_segment = k, shorter[-1] + 1
            break
    head = bytearray()
    for k in range(begin_page, len(pages)):
        page = pages[k]
        segment = begin_segment if k == begin_page else 0
        start = page.offset + page.header_size + sum(page.lacing[:segment])
        head += raw[start : start + sum(page.lacing[segment:])]
        if len(head) >= 2:
            break
    return (bytes(first) if ended else b""), count, bytes(head[:2])


def _codec(first_packet: bytes) -> str | None:
    if first_packet.startswith(b"\x01vorbis") and len(first_packet) >= 30:
        return "vorbis"
    if first_packet.startswith(b"OpusHead") and len(first_packet) >= 19:
        return "opus"
    return None


def _opus_samples(head: bytes) -> int:
    """Samples (at 48 kHz) in an Opus packet, from its TOC byte (and frame count byte)."""
    if not head:
        return 0
    config, code = head[0] >> 3, head[0] & 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        frame = (480, 960, 1920, 2880)[config & 3]
    elif config < 16:  # hybrid: 10, 20 ms
        frame = (480, 960)[config & 1]
    else:  # CELT: 2.5, 5, 10, 20 ms
        frame = (120, 240, 480, 960)[config & 3]
    if code == 0:
        return frame
    if code in (1, 2):
        return 2 * frame
    return frame * (head[1] & 0x3F) if len(head) > 1 else 0
