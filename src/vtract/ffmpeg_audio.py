"""Decoding through FFmpeg (PyAV) for the containers libsndfile does not read.

libsndfile (:mod:`soundfile`) reads WAV, AIFF, FLAC, Ogg, MP3, NIST SPHERE
and more, but not the containers phones, messengers and browsers record
into: MP4 / M4A / 3GP (AAC, ALAC, AMR; a phone's voice memo, a video's
sound), Matroska / WebM (Opus, Vorbis; browser and messenger recordings),
raw AMR (``#!AMR``), raw AAC (ADTS) and ASF (WMA). :func:`sniff` recognises
them by their first bytes, and :func:`read_audio` decodes them with FFmpeg
through PyAV, the optional dependency ``pip install 'vtract[av]'``. Without
it :func:`vtract.load` refuses such a file and says how to install it. A
CAF or WAV file in an encoding libsndfile does not decode (ALAC in a CAF
whose format flags libsndfile refuses, FLAC in CAF, G.722 or G.726 in WAV;
:func:`foreign_codec` reads it from the header) goes to FFmpeg too,
after libsndfile has refused it; the refusal without PyAV names the
encoding.

Only the recognised containers reach FFmpeg, each with its demuxer named
(no probing across every format FFmpeg knows), and :func:`vtract.load` hands
FFmpeg the same bytes it hashed. The samples are FFmpeg's decoder output as
it is (the decoder drops the encoder delay a container marks - an MP4 edit
list, an Opus pre-skip - as FFmpeg's own tools do), converted to float64;
lossy codecs decode to floating point, so values beyond full scale count as
clipped. Every evidence loaded this way says in its warnings which decoder
(FFmpeg and PyAV versions) decoded it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np

from .errors import UnsupportedFormatError

__all__ = [
    "CONTAINERS",
    "LIBSNDFILE_CONTAINERS",
    "MIN_OPUS_INPUT_RATE",
    "FFmpegAudio",
    "ForeignCodec",
    "decoder_version",
    "foreign_codec",
    "opus_input_rate",
    "read_audio",
    "sniff",
]

#: Recognised containers: label -> (FFmpeg demuxer, what it holds).
CONTAINERS = {
    "MP4": ("mov", "MP4 / M4A / 3GP / MOV"),
    "MATROSKA": ("matroska", "Matroska / WebM"),
    "AMR": ("amr", "AMR"),
    "AAC": ("aac", "AAC (ADTS)"),
    "ASF": ("asf", "ASF / WMA"),
    "OGG_OPUS": ("ogg", "Ogg Opus"),
    "CAF": ("caf", "CAF"),
    "WAV": ("wav", "WAV"),
}
#: Containers libsndfile reads, some of whose encodings it cannot decode (found by
#: :func:`foreign_codec` after libsndfile has refused the file).
LIBSNDFILE_CONTAINERS = frozenset({"CAF", "WAV"})
#: Below this, an Ogg Opus header's informational input sample rate says nothing
#: about the stream (RFC 7845: 0 is "unspecified"), yet libsndfile decodes at it
#: (a wideband stream whose field is 0 came out at 8 kHz, band-limited to 4 kHz):
#: such a file goes to FFmpeg, which decodes Opus at its own 48 kHz.
MIN_OPUS_INPUT_RATE = 8000

_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
#: CAF encodings (``desc`` format IDs) libsndfile decodes; others go to FFmpeg. ALAC is one
#: of them, but libsndfile 1.2 refuses ALAC whose format flags do not give its bit depth
#: (FFmpeg's CAF writer leaves them 0), so a refused ALAC file goes to FFmpeg too.
_CAF_LIBSNDFILE = frozenset({b"lpcm", b"ulaw", b"alaw"})
_CAF_NAMES = {
    b"alac": "ALAC", b"aac ": "AAC", b"opus": "Opus", b"flac": "FLAC", b".mp3": "MP3",
    b"ima4": "IMA ADPCM", b"samr": "AMR", b"ilbc": "iLBC", b"QDM2": "QDesign",
}  # fmt: skip
#: WAV format tags libsndfile decodes (PCM, MS ADPCM, IEEE float, A-law, u-law, IMA ADPCM,
#: GSM 6.10, G.721, MPEG layer III, and the extensible format, read by its sub-format).
_WAV_LIBSNDFILE = frozenset(
    {0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0x0040, 0x0055}
)
_WAV_EXTENSIBLE = 0xFFFE
_WAV_NAMES = {
    0x0045: "G.726 ADPCM", 0x0050: "MPEG audio layer I/II", 0x0064: "G.726 ADPCM",
    0x00FF: "AAC", 0x0161: "WMA", 0x0162: "WMA", 0x0163: "WMA", 0x028F: "G.722 ADPCM",
    0x1610: "AAC", 0x2000: "AC-3",
}  # fmt: skip
#: Sample formats FFmpeg decoders produce, and the scale to full-scale float.
_SCALE = {"flt": 1.0, "dbl": 1.0, "s16": 2.0**15, "s32": 2.0**31, "u8": 2.0**7}
_DTYPE = {"flt": np.float32, "dbl": np.float64, "s16": np.int16, "s32": np.int32, "u8": np.uint8}


@dataclass
class FFmpegAudio:
    """What :func:`read_audio` found in the container (the samples go to ``on_block``)."""

    container: str  #: label in :data:`CONTAINERS`
    codec: str  #: FFmpeg's codec name, upper case (``"AAC"``, ``"OPUS"``, ``"AMRNB"``)
    rate: int  #: sample rate (Hz)
    channels: int
    declared_frames: int | None  #: length the container declares (``None``: none)
    metadata: dict[str, str]  #: container and stream tags (``creation_time``, ``encoder``, ...)
    notes: list[str] = field(default_factory=list)  #: other streams, the decoder used
    frames: int = 0  #: frames decoded
    decoder_error: str | None = None  #: why decoding stopped part of the way through


def sniff(raw: bytes) -> str | None:
    """The :data:`CONTAINERS` label of ``raw``'s container, from its first bytes, or ``None``.

    Examples
    --------
    >>> sniff(b"\\x00\\x00\\x00\\x20ftypM4A \\x00\\x00\\x02\\x00")
    'MP4'
    >>> sniff(b"RIFF....WAVE") is None
    True
    """
    if raw[4:8] == b"ftyp":
        return "MP4"
    if raw[:4] == b"\x1a\x45\xdf\xa3":
        return "MATROSKA"
    if raw[:6] == b"#!AMR\n" or raw[:9] == b"#!AMR-WB\n":
        return "AMR"
    if raw[:16] == _ASF_GUID:
        return "ASF"
    if len(raw) >= 7 and raw[0] == 0xFF and raw[1] & 0xF6 == 0xF0:  # ADTS: MPEG layer bits 00
        return "AAC"
    rate = opus_input_rate(raw)
    if rate is not None and rate < MIN_OPUS_INPUT_RATE:
        return "OGG_OPUS"
    return None


@dataclass(frozen=True)
class ForeignCodec:
    """A container libsndfile reads, holding an encoding it does not decode."""

    label: str  #: the container's label in :data:`CONTAINERS`
    codec: str  #: the encoding as the header names it (``"ALAC ('alac')"``)


def foreign_codec(raw: bytes) -> ForeignCodec | None:
    """The encoding of a CAF or WAV file that libsndfile cannot decode, from its header.

    ``None`` for other files, and for encodings libsndfile decodes (a file
    of those that libsndfile refuses is damaged, and stays refused).

    Examples
    --------
    >>> desc = b"desc" + (32).to_bytes(8, "big") + bytes(8) + b"alac" + bytes(20)
    >>> foreign_codec(b"caff" + bytes([0, 1, 0, 0]) + desc)
    ForeignCodec(label='CAF', codec="ALAC ('alac')")
    >>> pcm = b"fmt " + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + bytes(14)
    >>> foreign_codec(b"RIFF" + bytes(4) + b"WAVE" + pcm) is None
    True
    """
    if raw[:4] == b"caff" and raw[8:12] == b"desc" and len(raw) >= 32:
        fourcc = raw[28:32]  # after the chunk's size and the sample rate (float64)
        if fourcc in _CAF_LIBSNDFILE:
            return None
        name = _CAF_NAMES.get(fourcc)
        quoted = repr(fourcc.decode("latin-1"))
        return ForeignCodec("CAF", quoted if name is None else f"{name} ({quoted})")
    if raw[:4] in (b"RIFF", b"RF64", b"BW64") and raw[8:12] == b"WAVE":
        tag = _wav_format_tag(raw)
        if tag is None or tag in _WAV_LIBSNDFILE:
            return None
        name = _WAV_NAMES.get(tag)
        number = f"format tag 0x{tag:04X}"
        return ForeignCodec("WAV", number if name is None else f"{name} ({number})")
    return None


def _wav_format_tag(raw: bytes) -> int | None:
    """The ``fmt `` chunk's format tag (an extensible format's sub-format), if there is one."""
    offset = 12
    for _ in range(64):
        if offset + 8 > len(raw):
            return None
        size = int.from_bytes(raw[offset + 4 : offset + 8], "little")
        if raw[offset : offset + 4] == b"fmt ":
            if size < 16 or offset + 10 > len(raw):
                return None
            tag = int.from_bytes(raw[offset + 8 : offset + 10], "little")
            if tag == _WAV_EXTENSIBLE:
                if size < 40 or offset + 34 > len(raw):
                    return None
                tag = int.from_bytes(raw[offset + 32 : offset + 34], "little")
            return tag
        offset += 8 + size + (size & 1)
    return None


def opus_input_rate(raw: bytes) -> int | None:
    """The input sample rate an Ogg Opus file's header states, or ``None`` for other files.

    The field (bytes 12-15 of the ``OpusHead`` packet, little-endian) is
    informational: the rate of the audio before it was encoded, 0 when
    unspecified (RFC 7845, section 5.1). It is read from the first page only.

    Examples
    --------
    >>> page = b"OggS" + bytes(22) + b"\\x01\\x13" + b"OpusHead\\x01\\x01\\x38\\x01" + bytes(7)
    >>> opus_input_rate(page)
    0
    """
    if raw[:4] != b"OggS" or len(raw) < 27:
        return None
    start = 27 + raw[26]
    head = raw[start : start + 19]
    if len(head) < 16 or not head.startswith(b"OpusHead"):
        return None
    return int.from_bytes(head[12:16], "little")


def decoder_version() -> str:
    """``"FFmpeg <version> (PyAV <version>)"``; raises ``ImportError`` without PyAV."""
    import av

    return f"FFmpeg {av.ffmpeg_version_info} (PyAV {metadata.version('av')})"


def read_audio(
    raw: bytes,
    name: str,
    label: str,
    *,
    max_seconds: float,
    max_frames: int | None = None,
    min_rate: int,
    max_rate: int,
    on_open: Callable[[FFmpegAudio], None],
    on_block: Callable[[np.ndarray], None],
    foreign: ForeignCodec | None = None,
    refused: str | None = None,
) -> FFmpegAudio:
    """Decode the first audio stream of ``raw`` (a ``label`` container) block by block.

    Parameters
    ----------
    raw : bytes
        The whole file.
    name : str
        The file's name, for messages.
    label : str
        Its container, from :func:`sniff`.
    max_seconds : float
        Decode at most this much audio (+ 1 frame).
    max_frames : int, optional
        Decode at most this many frames (+ 1), whichever of the two limits is lower.
    min_rate, max_rate : int
        Accepted sample rates; outside them nothing is decoded (the caller refuses).
    on_open : callable
        Called with what the container declares before anything is decoded
        (to refuse a channel the file lacks, or a declared length above a limit).
    on_block : callable
        Called with every decoded block, float64 of shape ``(frames, channels)``.
    foreign : ForeignCodec, optional
        For a container libsndfile reads (:data:`LIBSNDFILE_CONTAINERS`): the
        encoding its header names, which libsndfile does not decode.
    refused : str, optional
        libsndfile's reason for refusing that file, for the notes.

    Returns
    -------
    FFmpegAudio

    Raises
    ------
    UnsupportedFormatError
        PyAV is not installed, the container cannot be opened, holds no audio
        stream, or nothing of it decodes.
    """
    demuxer, kind = CONTAINERS[label]
    try:
        import av
    except ImportError:
        article = "a" if label in ("MATROSKA", "CAF", "WAV") else "an"
        what = f"{article} {kind} file"
        if foreign is not None:
            what += f" holding {foreign.codec} audio"
        raise UnsupportedFormatError(
            f"{name}: {what}, which libsndfile cannot decode; install the optional FFmpeg "
            "decoder to analyse it: pip install 'vtract[av]'"
        ) from None
    try:
        container = av.open(io.BytesIO(raw), mode="r", format=demuxer)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        codec = "" if foreign is None else f" holding {foreign.codec} audio"
        raise UnsupportedFormatError(f"{name}: not a decodable {kind} file{codec}: {exc}") from None
    with container:
        audio = list(container.streams.audio)
        if not audio:
            raise UnsupportedFormatError(f"{name}: the {kind} file holds no audio stream")
        stream = audio[0]
        context = stream.codec_context
        if context is None:  # a codec this FFmpeg has no decoder for
            codec = "" if foreign is None else f" ({foreign.codec})"
            raise UnsupportedFormatError(
                f"{name}: the {kind} file's audio stream is in a codec{codec} FFmpeg cannot decode"
            )
        context.thread_count = 1  # one decoding order, whatever the machine
        rate = int(context.sample_rate or 0)
        channels = int(context.layout.nb_channels) if context.layout else 0
        result = FFmpegAudio(
            container=label,
            codec=str(context.name).upper(),
            rate=rate,
            channels=channels,
            declared_frames=_declared_frames(stream, rate, label),
            metadata={**_tags(container.metadata), **_tags(stream.metadata, "stream ")},
        )
        if label == "OGG_OPUS":
            result.notes.append(
                f"decoded with {decoder_version()} at Opus's own {rate} Hz: the Opus header "
                f"states an input sample rate of {opus_input_rate(raw)} Hz (0: unspecified), "
                "at which libsndfile would decode it"
            )
        elif foreign is not None:
            why = "" if refused is None else f" (libsndfile: {refused})"
            result.notes.append(
                f"decoded with {decoder_version()}: libsndfile reads {kind} files but not this "
                f"one's {foreign.codec} audio{why}"
            )
        else:
            result.notes.append(
                f"decoded with {decoder_version()}: libsndfile does not read {kind} files "
                f"({result.codec} audio)"
            )
        others = [s.type for s in container.streams if s is not stream]
        if others:
            counts = {t: others.count(t) for t in sorted(set(others))}
            listed = ", ".join(f"{n} {t}" for t, n in counts.items())
            result.notes.append(
                f"the {kind} file also holds {listed} stream(s); only its first audio stream "
                "is analysed"
            )
        on_open(result)
        if channels < 1 or not min_rate <= rate <= max_rate:
            return result
        limit = int(max_seconds * rate) + 1
        if max_frames is not None:
            limit = min(limit, max_frames + 1)
        try:
            for frame in container.decode(stream):
                changed = _changed(frame, channels, rate)
                if changed is not None:  # a damaged stream (or one spliced from others)
                    if result.frames == 0:
                        raise UnsupportedFormatError(f"{name}: the {kind} file's {changed}")
                    result.decoder_error = changed
                    break
                block = _to_float(frame, channels)[: limit - result.frames]
                on_block(block)
                result.frames += block.shape[0]
                if result.frames >= limit:
                    break
        except (av.error.FFmpegError, ValueError) as exc:
            if result.frames == 0:
                raise UnsupportedFormatError(
                    f"{name}: decoding failed after 0.000 s ({exc}); the file is truncated "
                    "or damaged"
                ) from None
            result.decoder_error = str(exc)
    return result


def _declared_frames(stream: object, rate: int, label: str) -> int | None:
    """The audio's length as an MP4 or CAF declares it, in frames (``None``: not declared).

    Only the MP4 family's length (the track's duration, after its edit list)
    and CAF's (its packet table's valid frames) are taken as a declaration:
    raw AMR and ADTS AAC store none (FFmpeg estimates one from the bit rate),
    and the lengths of Matroska (block timestamps, the codec delay included)
    and ASF (packet times) run ahead of the decoded audio by more than a
    frame in intact files.
    """
    if label not in ("MP4", "CAF") or rate <= 0:
        return None
    duration, time_base = getattr(stream, "duration", None), getattr(stream, "time_base", None)
    if not duration or time_base is None or duration <= 0:
        return None
    return round(float(duration * time_base) * rate)


def _tags(tags: dict[str, str], prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{key}": str(value) for key, value in tags.items()}


def _changed(frame: object, channels: int, rate: int) -> str | None:
    """How a decoded frame departs from the stream's channel count and rate, if it does."""
    found = len(frame.layout.channels)  # type: ignore[attr-defined]
    if found != channels:
        return f"channel count changes from {channels} to {found} while it decodes"
    if frame.sample_rate != rate:  # type: ignore[attr-defined]
        return f"sample rate changes from {rate} to {frame.sample_rate} Hz while it decodes"  # type: ignore[attr-defined]
    return None


def _to_float(frame: object, channels: int) -> np.ndarray:
    """A decoded frame as float64 ``(frames, channels)``, full scale 1.0.

    Read from the frame's planes with their sizes checked (``np.frombuffer``
    with a count refuses a plane too small), not with PyAV's ``to_ndarray``,
    which a frame whose planes disagree with its layout crashes (found by
    fuzzing: a mutated M4A whose AAC stream switched to 41 channels).
    """
    fmt = frame.format  # type: ignore[attr-defined]
    base = fmt.name.rstrip("p")
    if base not in _SCALE:
        raise UnsupportedFormatError(f"decoder output in an unexpected sample format {fmt.name!r}")
    n = int(frame.samples)  # type: ignore[attr-defined]
    planes = frame.planes  # type: ignore[attr-defined]
    dtype = _DTYPE[base]
    try:
        if fmt.is_planar:
            if len(planes) < channels:
                raise ValueError(f"{len(planes)} planes for {channels} channels")
            block = np.stack(
                [np.frombuffer(plane, dtype=dtype, count=n) for plane in planes[:channels]], axis=1
            )
        else:
            block = np.frombuffer(planes[0], dtype=dtype, count=n * channels).reshape(n, channels)
    except ValueError as exc:
        raise UnsupportedFormatError(f"a decoded frame does not hold its samples ({exc})") from None
    out = block.astype(np.float64)
    if base == "u8":
        out -= 128.0
    return out / _SCALE[base]
