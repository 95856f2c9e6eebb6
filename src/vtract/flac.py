"""FLAC frames: where a FLAC stream ends, and what follows it in the file.

A native FLAC file (RFC 9639) is the marker ``fLaC``, metadata blocks (the
first, STREAMINFO, gives the sample rate, the channels and the total number
of samples), then audio *frames*. A frame's header holds a sync code, its
block size, and its frame number (or first sample number), protected by a
CRC-8; the frame ends with a CRC-16 of all of it. Nothing in the format says
how long a frame is, and nothing marks the end of the stream. libsndfile
(through libFLAC) decodes the frames and stops at the last one, or at the
length STREAMINFO declares, and says nothing about the bytes that follow:

* bytes appended after the last frame (a tag written by a tool that does not
  know FLAC, data hidden after the audio, the rest of a carved disk region);
* a second FLAC file joined to the first (a second ``fLaC`` marker with its
  own STREAMINFO after the first stream's last frame): only the first
  stream is decoded.

:func:`walk_frames` finds each frame's header (the sync code, a header that
passes its CRC-8, and the frame number that follows the one before), reads
the last frame's subframes bit by bit to find where it ends, and checks that
end against the frame's CRC-16. :func:`find_streams` finds further
``fLaC`` markers followed by a STREAMINFO block (at most ``_MAX_MARKERS``,
64, each reading at most :data:`MAX_METADATA_BLOCKS` block headers, so
markers appended in bulk cost a bounded amount of work).
:mod:`vtract.container` turns both into findings. The walk reads only the
bytes it is given and never raises on malformed input: a stream it cannot
follow gives an end of ``None``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "MAX_FRAMES",
    "MAX_METADATA_BLOCKS",
    "FlacStream",
    "FlacWalk",
    "find_streams",
    "read_stream",
    "walk_frames",
]

#: Frames walked before the walk gives up (about 26 hours at 44.1 kHz in blocks of 4096).
MAX_FRAMES = 1_000_000
#: Further ``fLaC`` markers examined after the first stream (each is checked for a STREAMINFO).
_MAX_MARKERS = 64
#: Metadata blocks read before the first frame; a stream with more is taken as unreadable.
#: Real files hold a handful (STREAMINFO, SEEKTABLE, VORBIS_COMMENT, PICTUREs, PADDING); without
#: a bound, a chain of empty 4-byte block headers made each marker a walk to the end of the file.
MAX_METADATA_BLOCKS = 1024

_MAGIC = b"fLaC"
_STREAMINFO = 0
_BLOCK_SIZES = {1: 192, 2: 576, 3: 1152, 4: 2304, 5: 4608} | {n: 1 << n for n in range(8, 16)}
_RATES = {
    1: 88200, 2: 176400, 3: 192000, 4: 8000, 5: 16000, 6: 22050, 7: 24000,
    8: 32000, 9: 44100, 10: 48000, 11: 96000,
}  # fmt: skip
_SAMPLE_BITS = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}


def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly if crc & top else crc << 1) & mask
        table.append(crc)
    return tuple(table)


_CRC8 = _crc_table(0x07, 8)
_CRC16 = _crc_table(0x8005, 16)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


@dataclass(frozen=True)
class FlacStream:
    """A stream's STREAMINFO, and where its audio frames begin."""

    offset: int  #: byte offset of the ``fLaC`` marker
    rate: int  #: sample rate (Hz)
    channels: int
    bits: int  #: bits per sample
    total_samples: int  #: samples per channel (0: not declared)
    max_block: int  #: largest block size (samples)
    #: byte offset of the first frame (``None``: the metadata is cut, or runs on for more than
    #: :data:`MAX_METADATA_BLOCKS` blocks)
    audio_start: int | None


@dataclass(frozen=True)
class FlacWalk:
    """How far the frames of the first stream go."""

    stream: FlacStream
    frames: int  #: frames found
    samples: int  #: samples per channel in the frames found
    last_block: int  #: samples per channel in the last frame found
    end: int | None  #: byte offset just after the last frame (``None``: not found)
    capped: bool  #: the walk stopped at :data:`MAX_FRAMES`


def read_stream(raw: bytes, offset: int = 0) -> FlacStream | None:
    """The stream whose ``fLaC`` marker is at ``offset``, or ``None`` when it is not one.

    A marker counts only when a well-formed STREAMINFO block (34 bytes, a
    sample rate, a block size) follows it. At most :data:`MAX_METADATA_BLOCKS`
    block headers are read, so the time taken does not grow with the file.
    """
    if raw[offset : offset + 4] != _MAGIC or offset + 42 > len(raw):
        return None
    kind, length = raw[offset + 4] & 0x7F, int.from_bytes(raw[offset + 5 : offset + 8], "big")
    if kind != _STREAMINFO or length != 34:
        return None
    info = raw[offset + 8 : offset + 42]
    max_block = struct.unpack_from(">H", info, 2)[0]
    packed = int.from_bytes(info[10:18], "big")
    rate, channels = packed >> 44, (packed >> 41 & 0x7) + 1
    bits, total = (packed >> 36 & 0x1F) + 1, packed & 0xFFFFFFFFF
    if rate == 0 or max_block < 16:
        return None
    cursor, start = offset + 4, None
    for _ in range(MAX_METADATA_BLOCKS):  # the metadata blocks, to the first frame
        if cursor + 4 > len(raw):
            break
        last = bool(raw[cursor] & 0x80)
        cursor += 4 + int.from_bytes(raw[cursor + 1 : cursor + 4], "big")
        if last:
            start = cursor if cursor <= len(raw) else None
            break
    return FlacStream(offset, rate, channels, bits, total, max_block, start)


def find_streams(raw: bytes, after: int) -> list[FlacStream]:
    """Further FLAC streams (a marker and its STREAMINFO) that begin at or after ``after``."""
    found: list[FlacStream] = []
    at = raw.find(_MAGIC, after)
    for _ in range(_MAX_MARKERS):
        if at < 0:
            break
        stream = read_stream(raw, at)
        if stream is not None:
            found.append(stream)
        at = raw.find(_MAGIC, at + 1)
    return found


def walk_frames(raw: bytes, offset: int = 0, *, max_frames: int = MAX_FRAMES) -> FlacWalk | None:
    """The frames of the FLAC stream at ``offset`` in ``raw``, and where the last one ends.

    Parameters
    ----------
    raw : bytes
        The whole file.
    offset : int, default 0
        Where the stream's ``fLaC`` marker is (after an ID3v2 tag, some
        taggers put one before it).
    max_frames : int, default :data:`MAX_FRAMES`
        Stop after this many frames (``capped`` is then true).

    Returns
    -------
    FlacWalk or None
        ``None`` when no FLAC stream begins at ``offset``. ``end`` is
        ``None`` when the first frame is not where the metadata ends, or the
        last frame's subframes cannot be read to an end its CRC-16 confirms.
    """
    stream = read_stream(raw, offset)
    if stream is None:
        return None
    if stream.audio_start is None:
        return FlacWalk(stream, 0, 0, 0, None, capped=False)
    header = _frame_header(raw, stream.audio_start, stream)
    if header is None:
        return FlacWalk(stream, 0, 0, 0, None, capped=False)
    start, frames, samples = stream.audio_start, 1, header.block
    # no frame is longer than its samples stored verbatim (encoders fall back to that)
    longest = 64 + stream.channels * (stream.bits + 1) * max(stream.max_block, header.block) // 8
    sync = raw[start : start + 2]
    while frames < max_frames:
        following = _next_frame(raw, start, header, sync, longest, stream)
        if following is None:
            break
        start, header = following
        frames += 1
        samples += header.block
    else:
        return FlacWalk(stream, frames, samples, header.block, None, capped=True)
    end = _frame_end(raw, start, header, longest)
    return FlacWalk(stream, frames, samples, header.block, end, capped=False)


@dataclass(frozen=True)
class _Header:
    block: int  #: samples per channel
    number: int  #: frame number (fixed block size) or first sample number (variable)
    variable: bool
    channels: int
    assignment: int  #: channel assignment code (8-10: stereo decorrelation)
    bits: int  #: bits per sample
    length: int  #: header bytes, CRC-8 included


def _frame_header(raw: bytes, offset: int, stream: FlacStream) -> _Header | None:
    """The frame header at ``offset``, when its fields are valid and its CRC-8 matches."""
    head = raw[offset : offset + 16]
    if len(head) < 6 or head[0] != 0xFF or head[1] & 0xFE != 0xF8 or head[3] & 0x01:
        return None
    block_code, rate_code = head[2] >> 4, head[2] & 0x0F
    assignment, bits_code = head[3] >> 4, head[3] >> 1 & 0x07
    if block_code == 0 or rate_code == 15 or assignment > 10 or bits_code == 3:
        return None
    number, n = _coded_number(head, 4)
    if number is None:
        return None
    cursor = 4 + n
    if block_code in (6, 7):
        size = 1 if block_code == 6 else 2
        block = int.from_bytes(head[cursor : cursor + size], "big") + 1
        cursor += size
    else:
        block = _BLOCK_SIZES[block_code]
    cursor += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if cursor >= len(head) or _crc8(head[:cursor]) != head[cursor]:
        return None
    bits = _SAMPLE_BITS.get(bits_code, stream.bits)
    channels = assignment + 1 if assignment < 8 else 2
    return _Header(block, number, bool(head[1] & 1), channels, assignment, bits, cursor + 1)


def _coded_number(head: bytes, offset: int) -> tuple[int | None, int]:
    """The UTF-8-like coded frame or sample number at ``offset``: ``(value, bytes)``."""
    first = head[offset]
    if first < 0x80:
        return first, 1
    n = 8 - (first ^ 0xFF).bit_length()  # leading ones
    if not 2 <= n <= 7 or offset + n > len(head):
        return None, 1
    value = first & (0x7F >> n)
    for byte in head[offset + 1 : offset + n]:
        if byte & 0xC0 != 0x80:
            return None, 1
        value = value << 6 | byte & 0x3F
    return value, n


def _next_frame(
    raw: bytes, start: int, header: _Header, sync: bytes, longest: int, stream: FlacStream
) -> tuple[int, _Header] | None:
    """The frame that follows the one at ``start`` (its number is the next one), if any."""
    expected = header.number + (header.block if header.variable else 1)
    at, limit = start + header.length, min(len(raw), start + longest)
    while (at := raw.find(sync, at + 1, limit)) >= 0:
        following = _frame_header(raw, at, stream)
        if following is not None and following.number == expected:
            return at, following
    return None


def _frame_end(raw: bytes, start: int, header: _Header, longest: int) -> int | None:
    """Where the frame at ``start`` ends: its subframes read bit by bit, and its CRC-16 checked."""
    data = raw[start : start + longest]
    bits = _Bits(data, header.length * 8)
    try:
        for channel in range(header.channels):
            side = (header.assignment, channel) in ((8, 1), (9, 0), (10, 1))
            _skip_subframe(bits, header.bits + side, header.block)
    except _Unreadable:
        return None
    end = (bits.position + 7) // 8 + 2  # zero padding to a byte, then the CRC-16
    if end > len(data) or _crc16(data[:end]) != 0:
        return None
    return start + end


class _Unreadable(Exception):
    """The subframes are not well formed (or run past the bytes given)."""


class _Bits:
    """A bit reader over ``data`` (most significant bit first), for skipping fields."""

    def __init__(self, data: bytes, position: int) -> None:
        self._bits = bin(int.from_bytes(b"\x01" + data, "big"))[3:]
        self.position = position

    def read(self, n: int) -> int:
        end = self.position + n
        if end > len(self._bits):
            raise _Unreadable
        value = int(self._bits[self.position : end], 2) if n else 0
        self.position = end
        return value

    def skip(self, n: int) -> None:
        self.position += n
        if self.position > len(self._bits):
            raise _Unreadable

    def unary(self) -> int:
        """Zeros up to the next one bit (which is consumed)."""
        one = self._bits.find("1", self.position)
        if one < 0:
            raise _Unreadable
        zeros, self.position = one - self.position, one + 1
        return zeros


def _skip_subframe(bits: _Bits, sample_bits: int, block: int) -> None:
    """Read past one subframe (RFC 9639, section 9.2)."""
    if bits.read(1):
        raise _Unreadable
    kind = bits.read(6)
    if bits.read(1):
        sample_bits -= bits.unary() + 1  # wasted bits per sample
    if sample_bits < 1:
        raise _Unreadable
    if kind == 0:  # constant
        bits.skip(sample_bits)
    elif kind == 1:  # verbatim
        bits.skip(sample_bits * block)
    elif 8 <= kind <= 12:  # fixed predictor of order kind - 8
        order = kind - 8
        bits.skip(sample_bits * order)
        _skip_residual(bits, block, order)
    elif kind >= 32:  # linear predictor of order kind - 31
        order = kind - 31
        bits.skip(sample_bits * order)
        precision = bits.read(4) + 1
        if precision == 16:
            raise _Unreadable
        bits.skip(5 + precision * order)
        _skip_residual(bits, block, order)
    else:
        raise _Unreadable


def _skip_residual(bits: _Bits, block: int, order: int) -> None:
    """Read past a Rice-coded residual."""
    method = bits.read(2)
    if method > 1:
        raise _Unreadable
    parameter_bits, escape = (4, 15) if method == 0 else (5, 31)
    partition_order = bits.read(4)
    partitions = 1 << partition_order
    per_partition = block >> partition_order
    if per_partition << partition_order != block or per_partition < order:
        raise _Unreadable
    for index in range(partitions):
        count = per_partition - (order if index == 0 else 0)
        parameter = bits.read(parameter_bits)
        if parameter == escape:
            bits.skip(bits.read(5) * count)
            continue
        for _ in range(count):
            bits.unary()
            bits.skip(parameter)
