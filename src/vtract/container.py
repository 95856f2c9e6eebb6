"""Does an audio file's container agree with the audio in it?

A file whose header declares more audio than the file holds was cut short:
copied incompletely, carved from a disk image, or edited without its header
being rewritten. A file with bytes after its declared end, or a data chunk
that declares less than follows it, carries data its header does not
account for. libsndfile decodes what it can and says nothing: a truncated
WAV or AIFF reports only the frames present, and an MP3 whose Xing/LAME
header declares its length decodes fewer frames than it reports. For
evidence each of these is a finding. :func:`vtract.load` analyses the part
that decodes and puts the findings in :attr:`vtract.Evidence.warnings`, so
every report says what the header declared and what the file holds.

Checked (:func:`container_findings`):

* RIFF / RIFX / RF64 WAV (``data`` chunk) and IFF AIFF / AIFC (``SSND``
  chunk, the ``COMM`` frame count): the container's declared size against
  the file's size (RF64: the 64-bit sizes of its ``ds64`` chunk), the audio
  chunk's declared size against the bytes present, a chunk that runs past
  the end of the file, a data size left at a placeholder (0 or
  ``0xFFFFFFFF``: a header its writer never finalised), bytes after the
  audio chunk that are not a chunk, and an AIFF ``COMM`` frame count below
  what its ``SSND`` chunk decodes to;
* Sony Wave64 (the ``data`` chunk's 64-bit size), Sun / NeXT AU (the
  header's data size) and NIST SPHERE (``sample_count``): the declared
  length against the bytes present or the frames decoded (libsndfile
  reports only the frames present for these, as for WAV); for any other
  format libsndfile reads, the length the decoder takes from its header;
* Ogg (Vorbis, Opus; the pages walked by :func:`vtract.ogg.walk_pages`): a
  file that ends inside a page (cut short), a stream without its
  end-of-stream page (cut at a page boundary, or never finished), pages
  that fail their CRC (damaged or altered: the decoder skips them), jumps
  in the page sequence (forward: pages missing; back: out of order or
  spliced), a stream that begins again under the same serial number (Ogg
  files joined end to end, not pages missing), bytes that are not pages,
  more than one logical stream (only the first is decoded), and the last
  granule position against the frames decoded;
* MP4 / M4A (decoded by FFmpeg, :mod:`vtract.ffmpeg_audio`): a top-level
  box cut short, a missing ``moov`` box (the index), and the track's
  declared length against the frames decoded; CAF: the declared length
  against the frames decoded, within one packet;
* Matroska / WebM (decoded by FFmpeg): a Segment or one of its top-level
  elements (a Cluster of audio) cut short, and bytes after the Segment (the
  walk stops at an element of unknown size, as live recorders write them);
  then the Info element's Duration against the audio decoded; ASF / WMA:
  the play duration (less its preroll) against the audio decoded (both
  with :data:`_DURATION_TOLERANCE_SECONDS` to spare; a shortfall is a cut
  only when the file's one track is audio: the durations span every track,
  and a video's audio may end before its picture in an intact file, so
  there it is a note);
* FLAC (the frames walked by :func:`vtract.flac.walk_frames`): the
  declared frame count against the frames decoded (tolerance
  :data:`FRAME_TOLERANCE`), frames beyond a STREAMINFO length, bytes after
  the last frame (ID3v1 / APEv2 / Lyrics3 v2 tags there are named, read by
  :func:`vtract.mpeg_audio.end_tags` as for MP3), and a second FLAC stream
  joined to the first (only the
  first is decoded); a FLAC whose STREAMINFO gives no length (written to a
  pipe) is said to be unchecked;
* MP3 (the frames walked by :func:`vtract.mpeg_audio.walk_frames`): with a
  Xing / Info / VBRI header in the first frame (read by
  :func:`vtract.mpeg_audio.frame_at`), the declared frame count against the frames
  decoded (an MP3 without one declares no length: libsndfile estimates
  one); MP3 files joined end to end (an ID3v2 tag or a length header after
  the audio has begun, a change of sample rate), and audio frames beyond
  what decodes;
* a decoder that stopped part of the way through (a truncated FLAC: "flac
  decoder lost sync"; :func:`vtract.load` keeps what decoded before it):
  where it stopped, of how much the header declares, and why (a FLAC that
  stops where its last frame ends, at bytes that follow it, is reported as
  those bytes, not as truncated).

The checks read the bytes :func:`vtract.load` already holds; they never
raise on malformed input (a container too damaged to walk is itself
reported), and they walk at most :data:`MAX_CHUNKS` chunks.
"""

from __future__ import annotations

import itertools
import re
import struct
from typing import TypeVar

from . import flac, mpeg_audio, ogg
from .ogg import MAX_PAGES, OggPage, OggWalk, walk_pages

__all__ = ["FRAME_TOLERANCE", "MAX_CHUNKS", "PREFIX", "container_findings", "with_findings"]

#: How every finding begins (in reports and batch tables, where the warnings stand together).
PREFIX = "container: "
#: Frames a decoder may fall short of a declared length before it is reported
#: (one MPEG-1 Layer III frame: decoders differ in how they trim the last one).
FRAME_TOLERANCE = 1152
#: Chunks walked in a RIFF or IFF container before the walk gives up (and says so).
MAX_CHUNKS = 4096

_PLACEHOLDER = 0xFFFFFFFF
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
#: Top-level Matroska elements walked before the walk stops (an hour holds about 700 clusters).
_MAX_ELEMENTS = 1_000_000
_EBML_NAMES = {
    0x1F43B675: "Cluster",
    0x1549A966: "Info",
    0x1654AE6B: "Tracks",
    0x114D9B74: "SeekHead",
    0x1C53BB6B: "Cues",
    0x1254C367: "Tags",
    0x1043A770: "Chapters",
    0x1941A469: "Attachments",
    0xEC: "Void",
}
#: Shortfall of the decoded audio below a duration declared in time (Matroska, ASF) that is
#: not reported, beyond :data:`FRAME_TOLERANCE` frames (see :func:`_duration_findings`).
_DURATION_TOLERANCE_SECONDS = 0.05
#: The GUIDs of an ASF file's header object and its File Properties object (as stored).
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_ASF_FILE_PROPERTIES = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")
#: ASF's Stream Properties object, and the stream type it gives to audio (as stored).
_ASF_STREAM_PROPERTIES = bytes.fromhex("9107dcb7b7a9cf118ee600c00c205365")
_ASF_AUDIO_MEDIA = bytes.fromhex("409e69f84d5bcf11a8fd00805f5c442b")
_MATROSKA_DURATION = "Matroska header (Info Duration)"
#: The GUIDs that open a Sony Wave64 file ("riff") and its audio chunk ("data").
_W64_RIFF = bytes.fromhex("726966662e91cf11a5d628db04c10000")
_W64_DATA = bytes.fromhex("64617461f3acd3118cd100c04f8edb8a")
_W64_FMT = bytes.fromhex("666d7420f3acd3118cd100c04f8edb8a")
#: Bytes per sample of the Sun / NeXT AU encodings libsndfile writes (by encoding number).
_AU_SAMPLE_BYTES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}
_NO_FLAC_LENGTH = (
    "the FLAC header declares no length (STREAMINFO total samples 0, as FFmpeg writes "
    "to a pipe): the stream is decoded to its end, but a cut at a frame boundary cannot be "
    "told from the end of the recording"
)
E = TypeVar("E", bound=Exception)
_CUT_SHORT = "; the file was cut short or its header altered, and only the part present is analysed"


def container_findings(
    raw: bytes,
    *,
    declared_frames: int | None,
    decoded_frames: int,
    sample_rate: float,
    decoder_error: str | None = None,
    ogg_pages: OggWalk | None = None,
) -> list[str]:
    """Where a file's header and its content disagree, one sentence each.

    Parameters
    ----------
    raw : bytes
        The whole file, as read.
    declared_frames : int or None
        Frames the decoder reports from the header (``soundfile.SoundFile.frames``),
        or ``None`` when the header gives no length.
    decoded_frames : int
        Frames actually decoded.
    sample_rate : float
        The file's sample rate (Hz), to say lengths in seconds.
    decoder_error : str, optional
        Why the decoder stopped part of the way through, if it did (a
        truncated FLAC: "flac decoder lost sync"); the frames before it were
        kept.
    ogg_pages : OggWalk, optional
        The pages of an Ogg file, when the caller has walked them already
        (:func:`vtract.ogg.walk_pages`); walked here otherwise.

    Returns
    -------
    list of str
        Findings for :attr:`vtract.Evidence.warnings`, each beginning with
        :data:`PREFIX`; empty when the container is consistent (or of a kind
        not checked).

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(16000), 16000, format="WAV", subtype="PCM_16")
    >>> container_findings(buf.getvalue()[:20044], declared_frames=6000,
    ...                    decoded_frames=6000, sample_rate=16000)  # doctest: +ELLIPSIS
    ['container: truncated: the WAV data chunk declares 1.000 s of audio (32000 bytes) but the file holds 0.625 s ...']
    """
    magic = raw[:4]
    flac_at = _flac_start(raw)
    if flac_at is not None:
        findings = _flac_findings(
            raw, flac_at, declared_frames, decoded_frames, sample_rate, decoder_error
        )
    elif decoder_error is not None:
        findings = [_stopped_finding(decoder_error, declared_frames, decoded_frames, sample_rate)]
    elif magic in (b"RIFF", b"RIFX", b"RF64", b"BW64") and raw[8:12] == b"WAVE":
        findings = _riff_findings(raw)
    elif magic == b"FORM" and raw[8:12] in (b"AIFF", b"AIFC"):
        findings = _aiff_findings(raw, decoded_frames, sample_rate)
    elif magic == b"OggS":
        walk = walk_pages(raw) if ogg_pages is None else ogg_pages
        findings = _ogg_findings(raw, walk, declared_frames, decoded_frames, sample_rate)
    elif magic == _EBML_MAGIC:
        findings = _matroska_findings(raw, decoded_frames, sample_rate)
    elif raw[:16] == _ASF_GUID:
        findings = _asf_findings(raw, decoded_frames, sample_rate)
    elif raw[4:8] == b"ftyp":
        findings = _mp4_findings(raw) or _frame_count_findings(
            declared_frames, decoded_frames, sample_rate
        )
    elif raw[:16] == _W64_RIFF:
        findings = _w64_findings(raw)
    elif magic in (b".snd", b"dns."):
        findings = _au_findings(raw)
    elif raw[:8] == b"NIST_1A\n":
        findings = _nist_findings(raw, decoded_frames, sample_rate)
    elif magic == b"caff":
        findings = _caf_findings(raw, declared_frames, decoded_frames, sample_rate)
    elif _looks_like_mpeg(raw):
        findings = _mp3_findings(raw, declared_frames, decoded_frames, sample_rate)
    else:  # any other format: the length its header declares, as the decoder reads it
        findings = _frame_count_findings(declared_frames, decoded_frames, sample_rate)
    return [PREFIX + finding for finding in findings]


def with_findings(exc: E, findings: list[str]) -> E:
    """``exc`` again, its message followed by the findings that may explain it.

    Returns ``exc`` itself when there are none. For the refusals of
    :func:`vtract.load` (a file that decodes to nothing, or too little) and an
    alignment that fails on a file that was cut short.
    """
    return type(exc)("; ".join([str(exc), *findings])) if findings else exc


def _stopped_finding(reason: str, declared: int | None, decoded: int, sample_rate: float) -> str:
    of = "" if declared is None else f" of the {declared / sample_rate:.3f} s the header declares"
    return (
        f"truncated: decoding stopped after {decoded / sample_rate:.3f} s{of} ({reason}); the "
        "file was cut short or damaged, and only the part before that is analysed"
    )


def _frame_count_findings(
    declared: int | None,
    decoded: int,
    sample_rate: float,
    *,
    header: str = "the header",
    tolerance: int = FRAME_TOLERANCE,
) -> list[str]:
    """``header`` declares more frames than decode (by more than ``tolerance``)."""
    if declared is None or declared - decoded <= tolerance:
        return []
    return [
        f"truncated: {header} declares {declared / sample_rate:.3f} s of audio "
        f"({declared} frames) but only {decoded / sample_rate:.3f} s decode{_CUT_SHORT}"
    ]


def _flac_start(raw: bytes) -> int | None:
    """Where a FLAC file's ``fLaC`` marker is: at the start, or after an ID3v2 tag."""
    if raw[:4] == b"fLaC":
        return 0
    tag_end = mpeg_audio.id3v2_end(raw, 0)
    if tag_end is not None and raw[tag_end : tag_end + 4] == b"fLaC":
        return tag_end
    return None


def _flac_findings(
    raw: bytes,
    start: int,
    declared: int | None,
    decoded: int,
    sample_rate: float,
    decoder_error: str | None,
) -> list[str]:
    """The declared length, and what follows the stream's last frame (:mod:`vtract.flac`)."""
    walk = flac.walk_frames(raw, start)
    end = None if walk is None else walk.end
    streams = []
    if walk is not None:
        streams = flac.find_streams(raw, end if end is not None else walk.stream.audio_start or 4)
    gap = [] if end is None else _flac_gap(raw, end, streams)
    joined = [_joined_flac(streams, decoded / sample_rate)] if streams else []
    if decoder_error is not None:
        if (
            walk is not None
            and end is not None
            and end < len(raw)
            and decoded >= walk.samples - walk.last_block
        ):
            # the decoder stopped where the stream ends, at the bytes that follow it
            (gap or joined)[0] += f" (the decoder stops there: {decoder_error})"
            return gap + joined + ([_NO_FLAC_LENGTH] if declared is None else [])
        return [_stopped_finding(decoder_error, declared, decoded, sample_rate), *joined]
    findings = _frame_count_findings(declared, decoded, sample_rate)
    if walk is not None and walk.samples - decoded > FRAME_TOLERANCE:
        findings.append(
            f"the FLAC frames hold {walk.samples / sample_rate:.3f} s of audio "
            f"({walk.samples} samples) but only {decoded / sample_rate:.3f} s decode (STREAMINFO "
            f"declares {walk.stream.total_samples} samples): audio the header does not count "
            "(the header altered, or a faulty writer); the rest is not analysed"
        )
    findings += gap + joined
    if walk is not None and walk.capped:
        findings.append(
            f"the FLAC stream has more than {flac.MAX_FRAMES} frames; what follows them was "
            "not checked"
        )
    if declared is None:
        findings.append(_NO_FLAC_LENGTH)
    return findings


def _flac_gap(raw: bytes, end: int, streams: list[flac.FlacStream]) -> list[str]:
    """The bytes between the stream's last frame (ending at ``end``) and the next stream or EOF.

    Tags a tagging tool appended (ID3v1, APEv2, Lyrics3 v2: read by
    :func:`vtract.mpeg_audio.end_tags`, as for MP3) are named, not called
    undeclared data.
    """
    stop = streams[0].offset if streams else len(raw)
    tags = mpeg_audio.end_tags(raw, floor=end, end=stop)
    before = tags[0].offset if tags else stop
    gap = raw[end:before]
    last = f"the FLAC stream's last frame (which ends at byte {end})"
    findings = []
    if gap.count(0) == len(gap) > 0:
        findings.append(
            f"{len(gap)} zero bytes follow {last}: padding (a preallocated file, or one carved "
            "from a disk), not audio"
        )
    elif gap:
        findings.append(
            f"{len(gap)} bytes follow {last} and are not decoded: data the stream does not "
            "account for (appended, or hidden after the audio), or damage"
        )
    if tags:
        named = ", then ".join(f"{tag.name} ({tag.length} bytes)" for tag in tags)
        where = last if not gap else f"them (from byte {before})"
        one = len(tags) == 1
        findings.append(
            f"{named} follow{'s' if one else ''} {where}: written by a tagging tool; "
            f"{'it holds' if one else 'they hold'} no audio"
        )
    return findings


def _joined_flac(streams: list[flac.FlacStream], decoded_seconds: float) -> str:
    """Further FLAC streams in the file, which are not decoded."""

    def length(stream: flac.FlacStream) -> str:
        if stream.total_samples == 0:
            return f"its STREAMINFO declares no length, at {stream.rate} Hz"
        return (
            f"its STREAMINFO declares {stream.total_samples / stream.rate:.3f} s at "
            f"{stream.rate} Hz"
        )

    if len(streams) == 1:
        begins = f"a second FLAC stream begins at byte {streams[0].offset} ({length(streams[0])})"
    else:
        at = ", ".join(str(stream.offset) for stream in streams)
        begins = f"{len(streams)} further FLAC streams begin, at bytes {at}"
    return (
        f"{begins}: FLAC files joined end to end; only the first stream "
        f"({decoded_seconds:.3f} s) is decoded and analysed"
    )


def _mp3_findings(raw: bytes, declared: int | None, decoded: int, sample_rate: float) -> list[str]:
    """The declared length, further recordings joined on, frames that do not decode."""
    walk = mpeg_audio.walk_frames(raw)
    if walk is None:
        return []
    findings = []
    if walk.first.length_header is not None:  # without one, libsndfile's length is an estimate
        findings = _frame_count_findings(declared, decoded, sample_rate)
    joins: list[mpeg_audio.MpegJoin] = []
    for join in walk.joins:  # an ID3v2 tag then a Xing header: one join
        if joins and joins[-1].samples_before == join.samples_before:
            joins[-1] = mpeg_audio.MpegJoin(
                joins[-1].offset, join.samples_before, f"{joins[-1].what}, then {join.what}"
            )
        else:
            joins.append(join)
    rate = walk.first.rate
    extra = walk.samples - decoded
    beyond = extra > FRAME_TOLERANCE + 2 * walk.first.samples
    if joins:
        listed = "; ".join(
            f"at byte {join.offset}, after {join.samples_before / rate:.3f} s ({join.what})"
            for join in joins[:5]
        )
        more = "" if len(joins) <= 5 else f"; and {len(joins) - 5} more"
        count = (
            "a second MP3 recording" if len(joins) == 1 else f"{len(joins)} further MP3 recordings"
        )
        decodes = "" if beyond else "; all of it decodes and is analysed as one recording"
        findings.append(
            f"{count} begin{'s' if len(joins) == 1 else ''} {listed}{more}: MP3 files joined end to end{decodes}"
        )
    if beyond:
        first = walk.first
        if first.length_header is not None and first.declared_frames is not None:
            why = (
                f"the {first.length_header} header in the first frame declares "
                f"{first.declared_frames} frames, and {walk.audio_frames} follow it"
            )
        else:
            why = (
                "the file has no length header, and libsndfile estimates the length from the "
                "file's size and its first frames' bit rate"
            )
        findings.append(
            f"the MPEG audio frames hold {walk.samples / rate:.3f} s of audio "
            f"({walk.audio_frames} frames) but only {decoded / sample_rate:.3f} s decode ({why}): "
            f"the remaining {extra / rate:.3f} s are not analysed"
        )
    if walk.capped:
        findings.append(
            f"the MP3 file has more than {mpeg_audio.MAX_FRAMES} frames; the rest was not checked"
        )
    return findings


def _ogg_findings(
    raw: bytes, walk: OggWalk, declared: int | None, decoded: int, sample_rate: float
) -> list[str]:
    """Pages that are cut, damaged, missing or not decoded (:mod:`vtract.ogg`), and the length."""
    findings = []
    serials = walk.serials
    if len(serials) > 1:
        findings.append(
            f"the file holds {len(serials)} logical Ogg streams (chained recordings, or "
            "audio multiplexed with other data): only the first is decoded and analysed"
        )
    damaged = [page for page in walk.pages if page.checksum_ok is False]
    if damaged:
        findings.append(
            f"{_count(len(damaged), 'Ogg page')} {'fails its' if len(damaged) == 1 else 'fail their'}"
            f" checksum ({_pages(damaged)}): damaged or altered after they were written; the "
            "decoder skips such pages, so their audio is missing from the analysis"
        )
    streams: dict[int, list[OggPage]] = {}
    for page in walk.pages:
        streams.setdefault(page.serial, []).append(page)
    jumps = [
        (before, after)
        for pages in streams.values()
        for before, after in itertools.pairwise(pages)
        if after.sequence != before.sequence + 1
    ]
    restarts: list[tuple[OggPage, OggPage]] = []  # a new stream under the same serial
    backward: list[tuple[OggPage, OggPage]] = []
    missing: list[tuple[OggPage, OggPage]] = []
    for before, after in jumps:
        if after.is_first:
            restarts.append((before, after))
        elif after.sequence < before.sequence or 0 <= after.granule < before.granule:
            backward.append((before, after))
        else:
            missing.append((before, after))
    if restarts:
        findings.append(_ogg_restart(raw, streams, restarts, decoded / sample_rate))
    if backward:
        findings.append(
            f"the Ogg page sequence goes back {_jumps(backward)}: pages out of order, or "
            "spliced in from another recording of the same stream"
        )
    if missing:
        findings.append(
            f"the Ogg page sequence jumps {_jumps(missing)}: pages are missing (removed or "
            "lost), or out of order"
        )
    unfinished = [pages[-1] for pages in streams.values() if pages[-1].whole]
    unfinished = [page for page in unfinished if not page.is_last]
    if len(unfinished) == 1:
        last = unfinished[0]
        findings.append(
            f"the Ogg stream has no end-of-stream page (its last page, {last.sequence} "
            f"at byte {last.offset}, is whole): the file was cut short at a page "
            "boundary, or its writer never finished it"
        )
    elif unfinished:
        findings.append(
            f"{len(unfinished)} Ogg streams have no end-of-stream page: the file was cut "
            "short at a page boundary, or its writers never finished them"
        )
    if walk.junk:
        offset = walk.junk[0][0]
        total = sum(length for _, length in walk.junk)
        more = "" if len(walk.junk) == 1 else f" in {len(walk.junk)} stretches, the first"
        findings.append(
            f"{total} bytes{more} at byte {offset} are not Ogg pages: data the container "
            "does not account for, or damage"
        )
    if walk.pages and not walk.pages[-1].whole:
        last = walk.pages[-1]
        findings.append(
            f"truncated: the file ends inside Ogg page {last.sequence} (at byte {last.offset}, "
            f"{last.present} of its {last.size} bytes are present): the file was cut short"
        )
    if walk.capped:
        findings.append(f"the file has more than {MAX_PAGES} Ogg pages; the rest was not checked")
    if restarts:  # the last granule position is the last recording's, not the decoded one's
        return findings
    if findings and declared is not None and declared - decoded > FRAME_TOLERANCE:
        findings.append(
            f"the stream's last granule position declares {declared / sample_rate:.3f} s of "
            f"audio ({declared} frames) but {decoded / sample_rate:.3f} s decode"
        )
        return findings
    return findings or _frame_count_findings(declared, decoded, sample_rate)


def _jumps(jumps: list[tuple[OggPage, OggPage]]) -> str:
    """Where the page sequence jumps: ``from 4 to 0 at byte 12537`` (five listed)."""
    listed = ", ".join(
        f"from {before.sequence} to {after.sequence} at byte {after.offset}"
        for before, after in jumps[:5]
    )
    more = "" if len(jumps) <= 5 else f" and {len(jumps) - 5} more"
    return listed if len(jumps) == 1 else f"{len(jumps)} times ({listed}{more})"


def _ogg_restart(
    raw: bytes,
    streams: dict[int, list[OggPage]],
    restarts: list[tuple[OggPage, OggPage]],
    decoded_seconds: float,
) -> str:
    """A stream that begins again under the same serial number: Ogg files joined end to end."""
    before, after = restarts[0]
    end = "its end-of-stream page" if before.is_last else f"its page {before.sequence}"
    granule = (
        f", its granule position going back from {before.granule} to {after.granule}"
        if 0 <= after.granule < before.granule
        else ""
    )
    where = (
        f"at byte {after.offset}, after {end} (the page sequence starting again at "
        f"{after.sequence}{granule})"
    )
    if len(restarts) > 1:
        where += f", and {len(restarts) - 1} more time{'s' if len(restarts) > 2 else ''}"
    pages = streams[before.serial]
    first = ogg.stream_seconds(raw, pages[0], before) if pages[0].is_first else None
    if first is None:
        decodes = f"{decoded_seconds:.3f} s decode"
    elif decoded_seconds <= first + 0.1:  # Vorbis and Opus packets are at most 0.06 s
        decodes = f"only the first ({first:.3f} s) is decoded and analysed"
    else:
        decodes = (
            f"the decoder runs on into the next recording: {decoded_seconds:.3f} s decode (the "
            f"first ends at {first:.3f} s) and are analysed as one recording"
        )
    return (
        f"the Ogg stream begins again {where}: a new beginning-of-stream page with the same "
        f"serial number ({before.serial:#010x}), so Ogg files were joined end to end, not "
        f"pages lost; {decodes}"
    )


def _mp4_findings(raw: bytes) -> list[str]:
    """Top-level MP4 boxes (ISO/IEC 14496-12): one cut short, and the index (``moov``) missing."""
    offset, size = 0, len(raw)
    boxes: list[bytes] = []
    while offset + 8 <= size and len(boxes) < MAX_CHUNKS:
        box_size, kind = struct.unpack_from(">I4s", raw, offset)
        header = 8
        if box_size == 1 and offset + 16 <= size:  # 64-bit size
            box_size, header = struct.unpack_from(">Q", raw, offset + 8)[0], 16
        elif box_size == 0:  # to the end of the file
            box_size = size - offset
        if box_size < header:
            return [
                f"the MP4 box at byte {offset} declares an impossible size ({box_size}): a damaged container"
            ]
        boxes.append(kind)
        if offset + box_size > size:
            name = kind.decode("latin-1")
            missing = (
                ""
                if b"moov" in boxes
                else (
                    "; the file has no 'moov' box (the index that locates the audio), which "
                    "this writer puts at the end, so nothing can be decoded"
                )
            )
            return [
                f"truncated: the MP4 {name!r} box at byte {offset} declares {box_size} bytes but "
                f"the file holds {size - offset} of them: the file was cut short{missing}"
            ]
        offset += box_size
    if b"moov" not in boxes:
        return ["the MP4 file has no 'moov' box (the index that locates the audio)"]
    return []


def _matroska_findings(raw: bytes, decoded: int, sample_rate: float) -> list[str]:
    """The Segment and its top-level elements (RFC 9559): one cut short, bytes after the end.

    A live recording (a browser's MediaRecorder, a stream) may leave sizes
    "unknown" (all ones): the walk stops there, as nothing more can be
    compared. When the structure holds, the Info element's Duration (if it
    has one) is compared with the audio decoded (:func:`_duration_findings`):
    a shortfall is a cut only when the Tracks element lists a single track,
    of audio; the Duration spans every track, and a video's audio may end
    before its picture (a microphone started late or stopped early, an
    edit) in an intact file, so with other tracks it is a note.
    """
    size = len(raw)
    header = _ebml_element(raw, 0)
    if header is None or header[0] != 0x1A45DFA3 or header[2] is None:
        return []
    segment = _ebml_element(raw, header[1] + header[2])
    if segment is None or segment[0] != 0x18538067:
        return []
    _, body, declared = segment
    offset, end = body, size if declared is None else min(size, body + declared)
    seconds: float | None = None
    tracks: list[int] | None = None
    for _ in range(_MAX_ELEMENTS):
        if offset >= end:
            break
        element = _ebml_element(raw, offset)
        if element is None:
            return [f"the bytes at byte {offset} of the Matroska Segment are not an element: "
                    "a damaged container"]  # fmt: skip
        ident, start, length = element
        if length is None:  # unknown size: nothing more can be compared
            return _duration_findings(_MATROSKA_DURATION, seconds, decoded, sample_rate, tracks)
        if ident == 0x1549A966 and start + length <= size:  # Info
            seconds = _matroska_duration(raw, start, start + length)
        if ident == 0x1654AE6B and start + length <= size:  # Tracks
            tracks = _matroska_track_types(raw, start, start + length)
        if start + length > size:
            name = _EBML_NAMES.get(ident, f"0x{ident:X}")
            return [
                f"truncated: the Matroska {name} element at byte {offset} declares "
                f"{start + length - offset} bytes but the file holds {size - offset} of them: "
                "the file was cut short"
            ]
        offset = start + length
    if declared is not None and body + declared > size:
        return [
            f"truncated: the Matroska Segment declares {declared} bytes but the file holds "
            f"{size - body} of them: the file was cut short"
        ]
    if declared is not None and body + declared < size:
        return [
            f"{size - body - declared} bytes follow the end of the Matroska Segment "
            f"({declared} bytes declared): data the header does not declare, or a second "
            "recording appended (only the first is decoded)"
        ]
    return _duration_findings(_MATROSKA_DURATION, seconds, decoded, sample_rate, tracks)


def _matroska_track_types(raw: bytes, start: int, end: int) -> list[int] | None:
    """The TrackType of each TrackEntry in the Tracks element (1 video, 2 audio, 17 subtitle)."""
    types: list[int] = []
    for ident, data, length in _ebml_children(raw, start, end):
        if length is None:
            return None
        if ident == 0xAE:  # TrackEntry
            kind = 0
            for child, at, size in _ebml_children(raw, data, data + length):
                if child == 0x83 and size is not None and 1 <= size <= 8:  # TrackType
                    kind = int.from_bytes(raw[at : at + size], "big")
            types.append(kind)
    return types if len(types) < 256 else None


def _ebml_children(raw: bytes, start: int, end: int) -> list[tuple[int, int, int | None]]:
    """The elements from ``start`` to ``end`` (at most 256).

    The list stops at an element of unknown size, one that runs past ``end``,
    or bytes that are not an element: the last entry then has a size of ``None``.
    """
    children: list[tuple[int, int, int | None]] = []
    offset = start
    while offset < end and len(children) < 256:
        element = _ebml_element(raw, offset)
        if element is None:
            children.append((0, offset, None))
            break
        children.append(element)
        ident, data, length = element
        if length is None or data + length > end:
            children[-1] = (ident, data, None)
            break
        offset = data + length
    return children


def _matroska_duration(raw: bytes, start: int, end: int) -> float | None:
    """Seconds the Info element's Duration declares (scaled by its TimestampScale), if given."""
    scale, duration = 1_000_000, None  # TimestampScale defaults to 1 ms
    offset = start
    for _ in range(64):
        element = _ebml_element(raw, offset)
        if element is None:
            break
        ident, data, length = element
        if length is None or data + length > end:
            break
        if ident == 0x2AD7B1 and 1 <= length <= 8:  # TimestampScale (ns)
            scale = int.from_bytes(raw[data : data + length], "big")
        elif ident == 0x4489 and length in (4, 8):  # Duration (float, in TimestampScale units)
            duration = struct.unpack_from(">f" if length == 4 else ">d", raw, data)[0]
        offset = data + length
        if offset >= end:
            break
    if duration is None or not 0 < duration * scale < 1e18:  # finite, positive
        return None
    return float(duration * scale / 1e9)


def _asf_findings(raw: bytes, decoded: int, sample_rate: float) -> list[str]:
    """ASF / WMA: the File Properties object's play duration (less its preroll) against the decode.

    A broadcast file (flag bit 0) leaves its durations unset, and is not
    compared. The play duration spans every stream, so a shortfall is a cut
    only when the header describes a single stream, of audio (a WMA file);
    in a WMV, whose audio may end before its video in an intact file, it is
    a note.
    """
    if len(raw) < 30:
        return []
    offset, end = 30, min(len(raw), int.from_bytes(raw[16:24], "little"))
    for _ in range(int.from_bytes(raw[24:28], "little")):
        if offset + 24 > end:
            break
        size = int.from_bytes(raw[offset + 16 : offset + 24], "little")
        if raw[offset : offset + 16] == _ASF_FILE_PROPERTIES and offset + 92 <= len(raw):
            play, _send, preroll, flags = struct.unpack_from("<QQQI", raw, offset + 64)
            if flags & 1:
                return []
            seconds = play / 1e7 - preroll / 1000
            return _duration_findings(
                "ASF header (play duration less preroll)",
                seconds,
                decoded,
                sample_rate,
                _asf_stream_types(raw, end),
            )
        if size < 24:
            break
        offset += size
    return []


def _asf_stream_types(raw: bytes, end: int) -> list[int]:
    """The type of each Stream Properties object in the header (2 audio, 1 anything else).

    Searched for by GUID in the whole header object, so that one nested in
    the Header Extension object (an extended stream) counts too.
    """
    types: list[int] = []
    at = raw.find(_ASF_STREAM_PROPERTIES, 30, end)
    while at >= 0 and len(types) < 128:
        types.append(2 if raw[at + 24 : at + 40] == _ASF_AUDIO_MEDIA else 1)
        at = raw.find(_ASF_STREAM_PROPERTIES, at + 16, end)
    return types


def _duration_findings(
    kind: str,
    seconds: float | None,
    decoded: int,
    sample_rate: float,
    track_types: list[int] | None,
) -> list[str]:
    """A container that declares a duration (in time, not frames) longer than what decodes.

    The declaration runs ahead of the decoded audio in intact files by the
    codec's delay and the last packet's length (measured with FFmpeg 8.1:
    Opus 8 ms, MP3 25 ms, AAC 16 ms in Matroska; WMA 32 to 45 ms in ASF), so
    the shortfall must exceed :data:`_DURATION_TOLERANCE_SECONDS` and
    :data:`FRAME_TOLERANCE` frames together.

    Matroska's Duration and ASF's play duration span every track
    (``track_types``, Matroska's codes: 1 video, 2 audio; ``None`` when the
    tracks could not be read). Only when the file's one track is audio is a
    shortfall a cut ("truncated"); with a video or a second audio track the
    audio may end before the file in an intact recording (a microphone
    started late or stopped early, an edit), so the shortfall is only noted.
    """
    if seconds is None or sample_rate <= 0 or track_types is None:
        return []
    declared = round(seconds * sample_rate)
    tolerance = FRAME_TOLERANCE + round(_DURATION_TOLERANCE_SECONDS * sample_rate)
    if declared - decoded <= tolerance:
        return []
    if track_types != [2]:
        others = sum(kind != 2 for kind in track_types)
        which = "all audio" if others == 0 else f"{others} of them not audio"
        return [
            f"the {kind} declares {seconds:.3f} s for the file's {_count(len(track_types), 'track')}"
            f" ({which}), and the audio analysed decodes "
            f"{decoded / sample_rate:.3f} s: the sound ends before the file does, as in an "
            "intact video whose microphone stopped early, or the audio was cut and the header "
            "rewritten (a note, not a finding of a cut)"
        ]
    return [
        f"truncated: the {kind} declares {seconds:.3f} s of audio but only "
        f"{decoded / sample_rate:.3f} s decode{_CUT_SHORT}"
    ]


def _ebml_element(raw: bytes, offset: int) -> tuple[int, int, int | None] | None:
    """``(id, data start, data size or None when unknown)`` of the element at ``offset``."""
    ident = _ebml_vint(raw, offset, keep_marker=True, max_length=4)
    if ident is None:
        return None
    length = _ebml_vint(raw, offset + ident[1], keep_marker=False, max_length=8)
    if length is None:
        return None
    value, n = length
    unknown = value == (1 << (7 * n)) - 1
    return ident[0], offset + ident[1] + n, None if unknown else value


def _ebml_vint(
    raw: bytes, offset: int, *, keep_marker: bool, max_length: int
) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``offset``: ``(value, its length)``."""
    if offset >= len(raw) or raw[offset] == 0:
        return None
    first = raw[offset]
    n = 8 - first.bit_length() + 1
    if n > max_length or offset + n > len(raw):
        return None
    value = first if keep_marker else first & ((1 << (8 - n)) - 1)
    for byte in raw[offset + 1 : offset + n]:
        value = value << 8 | byte
    return value, n


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _pages(pages: list[OggPage], shown: int = 5) -> str:
    listed = ", ".join(f"page {page.sequence} at byte {page.offset}" for page in pages[:shown])
    return listed + ("" if len(pages) <= shown else f" and {len(pages) - shown} more")


def _riff_findings(raw: bytes) -> list[str]:
    order = ">" if raw[:4] == b"RIFX" else "<"
    size = len(raw)
    riff_size = _u32(raw, 4, order)
    declared_total: int | None = riff_size + 8
    data_size64: int | None = None
    findings: list[str] = []
    if raw[:4] in (b"RF64", b"BW64"):
        # RF64 (EBU Tech 3306): 32-bit sizes of -1 defer to the ds64 chunk.
        declared_total = None
        if raw[12:16] == b"ds64" and size >= 36:
            declared_total = struct.unpack_from("<Q", raw, 20)[0] + 8
            data_size64 = struct.unpack_from("<Q", raw, 28)[0]
    elif riff_size in (0, _PLACEHOLDER):
        declared_total = None
        findings.append(f"the WAV header was never finalised: its RIFF size is {riff_size:#x}")
    walk = _walk_chunks(raw, 12, _walk_end(size, declared_total), order)
    findings += walk.notes
    byte_rate = next(
        (
            _u32(raw, start + 8, order)
            for cid, start, n in walk.chunks
            if cid == b"fmt " and n >= 12
        ),
        0,
    )
    data = next(((start, n) for cid, start, n in walk.chunks if cid == b"data"), None)
    if data is not None:
        start, declared = data
        if declared == _PLACEHOLDER and data_size64 is not None:
            declared = data_size64
        present = size - start
        if declared in (0, _PLACEHOLDER) and present > 0:
            how = "read to the end of the file" if declared else "no audio is read from it"
            return [
                *findings,
                f"the WAV header was never finalised: its data chunk declares a size of "
                f"{declared:#x} with {present} bytes after it ({how})",
            ]
        if declared > present:
            return [*findings, _data_cut("the WAV data chunk", declared, present, byte_rate)]
        if data_size64 is not None and declared == data_size64:
            # RF64: the walk stopped at the data chunk's placeholder size; walk on from
            # where its 64-bit size ends, as for a 32-bit size
            tail = _walk_chunks(
                raw, start + declared + (declared & 1), _walk_end(size, declared_total), order
            )
            walk.overrun = tail.overrun
            findings += tail.notes
    return findings + _container_end(walk, declared_total, size, "RIFF")


def _data_cut(what: str, declared: int, present: int, byte_rate: int) -> str:
    """``what`` declares ``declared`` bytes of audio, and only ``present`` follow it."""
    return (
        f"truncated: {what} declares {_seconds(declared, byte_rate)}of audio ({declared} "
        f"bytes) but the file holds {_seconds(present, byte_rate)}({present} bytes){_CUT_SHORT}"
    )


def _w64_findings(raw: bytes) -> list[str]:
    """Sony Wave64: its ``data`` chunk's 64-bit size against the bytes that follow it.

    Chunks are a 16-byte GUID and a 64-bit little-endian size that counts the
    24-byte chunk header, aligned to 8 bytes.
    """
    size, offset, byte_rate = len(raw), 40, 0
    for _ in range(MAX_CHUNKS):
        if offset + 24 > size:
            break
        guid = raw[offset : offset + 16]
        chunk_size = struct.unpack_from("<Q", raw, offset + 16)[0]
        if guid == _W64_FMT and offset + 36 <= size:
            byte_rate = _u32(raw, offset + 32, "<")
        if guid == _W64_DATA:
            declared, present = max(chunk_size - 24, 0), size - offset - 24
            if declared > present:
                return [_data_cut("the W64 data chunk", declared, present, byte_rate)]
            return []
        if chunk_size < 24:
            break
        offset += (chunk_size + 7) & ~7
    return []


def _au_findings(raw: bytes) -> list[str]:
    """Sun / NeXT AU: the data size its header declares against the bytes after the header."""
    if len(raw) < 24:
        return []
    order = ">" if raw[:4] == b".snd" else "<"
    offset, declared, encoding, rate, channels = struct.unpack_from(order + "5I", raw, 4)
    present = len(raw) - offset
    if declared == _PLACEHOLDER or offset > len(raw) or declared <= present:
        return []  # 0xFFFFFFFF: "unknown", the audio runs to the end of the file
    byte_rate = rate * channels * _AU_SAMPLE_BYTES.get(encoding, 0)
    return [_data_cut("the AU header", declared, present, byte_rate)]


def _nist_findings(raw: bytes, decoded: int, sample_rate: float) -> list[str]:
    """NIST SPHERE: the header's ``sample_count`` (frames) against the frames that decode."""
    match = re.search(rb"\nsample_count -i (\d{1,15})\s", raw[:4096])
    if match is None:
        return []
    return _frame_count_findings(
        int(match.group(1)), decoded, sample_rate, header="the NIST SPHERE header", tolerance=0
    )


def _caf_findings(raw: bytes, declared: int | None, decoded: int, sample_rate: float) -> list[str]:
    """CAF: the declared length against the frames decoded, within one packet.

    A decoder may end up to a packet short (FFmpeg 8.1 decodes the last ALAC
    packet of a CAF file short of the frames its packet table declares:
    2560 of 3328, in files written by libsndfile and by FFmpeg), so a
    shortfall is reported only beyond a packet's frames (the ``desc``
    chunk's frames per packet) or :data:`FRAME_TOLERANCE`.
    """
    per_packet = _u32(raw, 40, ">") if raw[8:12] == b"desc" else 0
    return _frame_count_findings(
        declared,
        decoded,
        sample_rate,
        header="the CAF header",
        tolerance=max(FRAME_TOLERANCE, per_packet),
    )


def _looks_like_mpeg(raw: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame sync at the start (an MP3, whatever its name)."""
    return raw[:3] == b"ID3" or _mpeg_sync(raw, 0)


def _aiff_findings(raw: bytes, decoded_frames: int, sample_rate: float) -> list[str]:
    size = len(raw)
    declared_total = _u32(raw, 4, ">") + 8
    walk = _walk_chunks(raw, 12, _walk_end(size, declared_total), ">")
    findings = list(walk.notes)
    for cid, start, chunk_size in walk.chunks:
        if cid == b"COMM" and chunk_size >= 8 and start + 8 <= size:
            declared_frames = _u32(raw, start + 2, ">")
            if declared_frames > decoded_frames:
                return [
                    *findings,
                    f"truncated: the AIFF header declares {declared_frames / sample_rate:.3f} s "
                    f"of audio ({declared_frames} frames) but the file holds "
                    f"{decoded_frames / sample_rate:.3f} s{_CUT_SHORT}",
                ]
            if declared_frames < decoded_frames:
                findings.append(
                    f"the AIFF COMM chunk declares {declared_frames / sample_rate:.3f} s of "
                    f"audio ({declared_frames} frames) but {decoded_frames / sample_rate:.3f} s "
                    f"({decoded_frames} frames) decode from its SSND chunk: audio the header "
                    "does not count (the header altered, or a faulty writer); all of it is analysed"
                )
    return findings + _container_end(walk, declared_total, size, "AIFF")


def _container_end(walk: _Walk, declared_total: int | None, size: int, kind: str) -> list[str]:
    """A missing end, a chunk that is not one, or bytes after the end (the audio is whole)."""
    if declared_total is not None and declared_total > size:
        inside = "" if walk.overrun is None else f", inside its {walk.overrun[0]!r} chunk"
        return [
            f"truncated: the {kind} header declares {declared_total} bytes but the file has "
            f"{size} and ends after the audio{inside}: the rest of the file is missing, or "
            "the header miscounts it"
        ]
    if walk.overrun is not None:
        cid, at, chunk_size = walk.overrun
        return [
            f"the {size - at} bytes from offset {at} to the end of the file are not a valid "
            f"chunk (a chunk {cid!r} of {chunk_size} bytes would run past the end of the "
            f"{kind} container): data the header does not declare, or a damaged container"
        ]
    if declared_total is not None and size > declared_total + 1:  # one pad byte is allowed
        return [
            f"{size - declared_total} bytes follow the end of the {kind} container "
            f"({declared_total} bytes declared): data the header does not declare"
        ]
    return []


class _Walk:
    """Chunks of a RIFF/IFF body: ``(id, payload start, declared size)`` each."""

    def __init__(self) -> None:
        self.chunks: list[tuple[bytes, int, int]] = []
        self.overrun: tuple[bytes, int, int] | None = None
        self.notes: list[str] = []


def _walk_chunks(raw: bytes, offset: int, size: int, order: str) -> _Walk:
    walk = _Walk()
    while offset + 8 <= size:
        if len(walk.chunks) >= MAX_CHUNKS:
            walk.notes.append(
                f"the container has more than {MAX_CHUNKS} chunks; the rest was not checked"
            )
            break
        cid = bytes(raw[offset : offset + 4])
        chunk_size = _u32(raw, offset + 4, order)
        start = offset + 8
        walk.chunks.append((cid, start, chunk_size))
        if chunk_size in (0, _PLACEHOLDER) and cid == b"data":
            break  # a placeholder size: the caller reports it
        if start + chunk_size > size:
            if cid not in (b"data", b"SSND"):
                walk.overrun = (cid, offset, chunk_size)
            break
        offset = start + chunk_size
        # chunks are padded to even sizes; some writers forget the pad byte
        if chunk_size & 1 and (_is_chunk_id(raw, offset + 1) or not _is_chunk_id(raw, offset)):
            offset += 1
    else:
        if 0 < size - offset < 8 and not (size - offset == 1 and raw[offset] == 0):
            walk.overrun = (bytes(raw[offset:]), offset, size - offset)
    return walk


def _is_chunk_id(raw: bytes, offset: int) -> bool:
    """Four printable ASCII characters (a chunk identifier) at ``offset``."""
    ident = raw[offset : offset + 4]
    return len(ident) == 4 and all(32 <= c < 127 for c in ident)


def _walk_end(size: int, declared_total: int | None) -> int:
    """Chunks are walked up to the container's declared end (bytes after it are reported)."""
    return size if declared_total is None else min(size, declared_total)


def _u32(raw: bytes, offset: int, order: str) -> int:
    if offset + 4 > len(raw):
        return 0
    return int(struct.unpack_from(order + "I", raw, offset)[0])


def _seconds(n_bytes: int, byte_rate: int) -> str:
    return f"{n_bytes / byte_rate:.3f} s " if byte_rate > 0 else ""


def _mpeg_sync(raw: bytes, offset: int) -> bool:
    return offset + 2 <= len(raw) and raw[offset] == 0xFF and raw[offset + 1] & 0xE0 == 0xE0
