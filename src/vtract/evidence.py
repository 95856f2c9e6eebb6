"""Evidence intake: decode an audio file without touching it, and hash it.

The only public entry point is :func:`load`, which returns an immutable
:class:`Evidence`. The file is opened read-only, hashed byte for byte
(``sha256``), decoded with libsndfile through :mod:`soundfile`, mixed down to
mono (or one channel is picked), resampled with a polyphase filter and hashed
again as decoded PCM (``pcm_sha256``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from . import ffmpeg_audio
from .container import PREFIX, container_findings, with_findings
from .errors import (
    EmptyAudioError,
    InputFileError,
    InvalidAudioError,
    SampleRateError,
    SilentAudioError,
    TooShortError,
    UnsupportedFormatError,
)
from .ogg import RepairedStream, repair_truncated, walk_pages
from .provenance import path_text

__all__ = [
    "ANALYSIS_WINDOW_SECONDS",
    "AUDIO_EXTENSIONS",
    "MAX_DECODED_FRAMES",
    "MAX_DURATION_SECONDS",
    "MAX_FILE_BYTES",
    "MAX_METADATA_CHARS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "Evidence",
    "HeaderText",
    "load",
    "resample",
]

#: File name endings taken for audio when a folder is searched (lower case): libsndfile's
#: formats, then those :mod:`vtract.ffmpeg_audio` decodes (video files for their sound).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au",
     ".snd", ".sph", ".nist", ".caf", ".w64", ".rf64"}
    | {".m4a", ".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".webm", ".mka", ".mkv", ".amr",
       ".awb", ".aac", ".wma", ".asf"}
)  # fmt: skip
#: Lowest original sample rate accepted (Hz); below it no formant fits under Nyquist.
MIN_SAMPLE_RATE = 4000
#: Highest original sample rate accepted (Hz).
MAX_SAMPLE_RATE = 384_000
#: Shortest usable audio: one published analysis window (565 samples at 16 kHz).
ANALYSIS_WINDOW_SECONDS = 565 / 16000
#: Longest evidence accepted in one piece (seconds): 2 hours.
MAX_DURATION_SECONDS = 2 * 3600.0
#: Largest evidence file accepted (bytes): 2 GiB.
MAX_FILE_BYTES = 2 * 1024**3
#: Most sample frames decoded from one file: 2 hours at 48 kHz. The decoded channel is held
#: as float64 at the file's rate before it is resampled (8 bytes a frame, and the
#: resampler's copies), so memory follows the frame count, not the duration: a 2-hour
#: 384 kHz file (about 10 MB of FLAC silence) would otherwise need about 24 GB. A header
#: that declares more is refused before decoding; a stream without a length stops here.
MAX_DECODED_FRAMES = int(MAX_DURATION_SECONDS * 48_000)
#: A sample this close to full scale counts as clipped (full scale: the largest
#: magnitude the encoding decodes to, see ``_FULL_SCALE``).
CLIP_LEVEL = 0.999
#: Energy of a mix-down below the mean energy of its channels (dB, for two channels;
#: for N channels the limit is lowered by 10*log10(N/2) dB) at which the channels are
#: said to cancel. Channels of one source in phase mix to about 0 dB, uncorrelated
#: channels to -10*log10(N) dB (-3 dB for stereo), so those stay at least 7 dB clear of
#: it; a polarity-inverted copy one sample late mixes to -16.6 dB and two samples late to
#: -11.5 dB (the bundled 16 kHz example), and an inverted copy 2 % weaker to -40 dB.
MIX_CANCEL_DB = 10.0
#: Share of clipped samples above which a warning is issued.
CLIP_WARN_FRACTION = 1e-3
#: |mean| / rms above which a DC-offset warning is issued.
DC_WARN_RATIO = 0.1
#: Peak amplitude at or below which the audio is considered silent.
SILENCE_PEAK = 1e-6
#: Longest header text field kept in :attr:`Evidence.metadata` (characters).
MAX_METADATA_CHARS = 500
#: Largest magnitude an encoding decodes to, as libsndfile converts it to float (u-law's
#: largest code 32124/32768, A-law's 32256/32768, 8-bit PCM's 127/128): a clipped signal
#: stored in it never reaches :data:`CLIP_LEVEL`, so its clip level is scaled by this.
_FULL_SCALE = {
    "ULAW": 32124 / 32768,
    "ALAW": 32256 / 32768,
    "PCM_U8": 127 / 128,
    "PCM_S8": 127 / 128,
}
#: Quantisation step of integer encodings (full scale 1.0): channels that cancel to within
#: it leave a mix-down of rounding alone (one channel the other inverted, each rounded).
_ROUNDING_STEP = {
    "PCM_S8": 2.0**-7,
    "PCM_U8": 2.0**-7,
    "PCM_16": 2.0**-15,
    "PCM_24": 2.0**-23,
    "PCM_32": 2.0**-31,
    "ALAC_16": 2.0**-15,
    "ALAC_20": 2.0**-19,
    "ALAC_24": 2.0**-23,
    "ALAC_32": 2.0**-31,
}
#: Float encodings: samples beyond full scale are stored as they are, not clipped.
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})


class HeaderText(Mapping[str, str]):
    """Read-only, picklable mapping of a file header's text fields (:attr:`Evidence.metadata`)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self._fields = dict(fields)

    def __getitem__(self, key: str) -> str:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"HeaderText({self._fields!r})"


@dataclass(frozen=True, eq=False)
class Evidence:
    """Decoded evidence audio with its chain-of-custody hashes.

    Attributes
    ----------
    samples : numpy.ndarray
        float32 mono samples at :attr:`sr`, read-only.
    sr : int
        Sample rate of :attr:`samples` (Hz).
    original_sr : int
        Sample rate stored in the file (Hz).
    channels : int
        Number of channels in the file.
    duration : float
        Duration in seconds.
    path : pathlib.Path or None
        Absolute path of the file, ``None`` for in-memory audio.
    sha256 : str
        SHA-256 of the file's bytes (hex).
    pcm_sha256 : str
        SHA-256 of the decoded float32 little-endian samples (hex).
    format : str
        Container format reported by libsndfile (``"WAV"``, ``"FLAC"`` ...).
    subtype : str
        Sample encoding reported by libsndfile (``"PCM_16"``, ``"FLOAT"`` ...).
    channel : int or None
        Channel picked, or ``None`` when channels were averaged.
    warnings : tuple of str
        Non-fatal findings a report must show: where the file's container
        disagrees with its content (truncated, undeclared bytes, an
        unfinalised header; :mod:`vtract.container`, each beginning with
        ``"container: "``), clipping, DC offset, resampling.
    metadata : Mapping of str to str
        Text fields the file's header carries, as libsndfile reads them
        (``title``, ``software``, ``comment``, ``date`` ...; e.g. ``software:
        Lavf58.29.100`` for a file written by FFmpeg), or for a container
        FFmpeg decodes its tags and its audio stream's (``major_brand``,
        ``encoder``, ``creation_time``, ``stream language`` ...); empty when
        there are none. Read-only; each value at most :data:`MAX_METADATA_CHARS`
        characters (longer ones are cut and say by how much).
    """

    samples: np.ndarray
    sr: int
    original_sr: int
    channels: int
    duration: float
    path: Path | None
    sha256: str
    pcm_sha256: str
    format: str = "RAW"
    subtype: str = "FLOAT"
    channel: int | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    metadata: Mapping[str, str] = field(default_factory=lambda: HeaderText({}))

    @classmethod
    def from_array(
        cls,
        samples: np.ndarray,
        sr: int,
        *,
        name: str | None = None,
    ) -> Evidence:
        """Wrap in-memory mono samples as evidence (hashes are of the samples).

        Parameters
        ----------
        samples : array_like
            1-D mono samples in [-1, 1]; stored as float32, so finite values
            beyond its range (about 3.4e38) are refused.
        sr : int
            Sample rate in Hz.
        name : str, optional
            Unused label kept for reports.
        """
        values = np.asarray(samples)
        if values.ndim != 1:
            raise InvalidAudioError(f"expected 1-D mono samples, got shape {values.shape}")
        if values.dtype.kind not in "biuf":
            values = values.astype(np.float64)
        sr = _check_rate(int(sr))
        # checked in the given precision: float64 beyond float32's range is not "infinite"
        _check_finite(values, "array")
        _check_float32_range(values, "array")
        x = np.ascontiguousarray(values, dtype=np.float32)
        _check_signal(x, sr, "array")
        digest = _pcm_sha256(x)
        x.setflags(write=False)
        return cls(
            samples=x,
            sr=sr,
            original_sr=sr,
            channels=1,
            duration=x.size / sr,
            path=None,
            sha256=digest,
            pcm_sha256=digest,
            warnings=tuple(_signal_warnings(x, _Levels.of(x, "FLOAT"))),
        )

    def summary(self) -> dict[str, object]:
        """JSON-ready description of the evidence (no samples)."""
        return {
            "path": None if self.path is None else path_text(self.path),
            "sha256": self.sha256,
            "pcm_sha256": self.pcm_sha256,
            "format": self.format,
            "subtype": self.subtype,
            "original_sr": self.original_sr,
            "sr": self.sr,
            "channels": self.channels,
            "channel": self.channel,
            "duration": round(float(self.duration), 6),
            "warnings": list(self.warnings),
            "metadata": dict(self.metadata),
        }


def load(
    path: str | os.PathLike[str],
    *,
    sr: int | None = 16000,
    channel: int | None = None,
) -> Evidence:
    """Load evidence audio read-only, hash it and bring it to one rate.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file: WAV (8/16/24/32-bit int, 32/64-bit float), FLAC, OGG,
        MP3, NIST SPHERE or anything else libsndfile decodes; with the
        optional FFmpeg decoder (``pip install 'vtract[av]'``) also MP4 / M4A
        / 3GP, Matroska / WebM, AMR, ADTS AAC and ASF / WMA, and CAF or WAV
        files in encodings libsndfile does not decode (ALAC in CAF, G.722 in
        WAV ...; :mod:`vtract.ffmpeg_audio`).
    sr : int or None, default 16000
        Target sample rate. ``None`` keeps the file's rate.
    channel : int, optional
        Zero-based channel to analyse. By default channels are averaged.

    Returns
    -------
    Evidence
        Decoded samples (float32, mono, read-only) with hashes and metadata.

    Raises
    ------
    InputFileError
        The path does not exist, is not a regular file or cannot be read.
    UnsupportedFormatError
        The file is not decodable audio.
    EmptyAudioError, TooShortError, SilentAudioError, InvalidAudioError
        The audio has no usable samples.
    SampleRateError
        The file's or the requested rate is outside
        [:data:`MIN_SAMPLE_RATE`, :data:`MAX_SAMPLE_RATE`].

    Examples
    --------
    >>> ev = vtract.load("speech.flac")            # doctest: +SKIP
    >>> ev.sr, ev.original_sr, ev.sha256[:12]       # doctest: +SKIP
    (16000, 22050, '3f1c9a0b2e4d')
    """
    p = Path(path).expanduser()
    name = path_text(p.name)  # in messages: a name that is not UTF-8 as \xNN escapes
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputFileError(f"no such file: {path_text(p)!r}") from None
    except OSError as exc:
        raise InputFileError(f"cannot access {path_text(p)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(f"not a regular file: {path_text(p)!r}")
    if st.st_size == 0:
        raise EmptyAudioError(f"{name}: file is empty (0 bytes)")
    if st.st_size > MAX_FILE_BYTES:
        raise InputFileError(
            f"{name}: file is {st.st_size} bytes, above the limit of {MAX_FILE_BYTES} bytes"
        )
    if sr is not None:
        sr = _check_rate(int(sr), what="requested sample rate")

    # Read once, read-only; hash and decode the same bytes.
    try:
        with open(p, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise InputFileError(f"cannot read {path_text(p)!r}: {exc.strerror}") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    # An Ogg file cut inside its last page: decode that page's whole packets too
    pages = walk_pages(raw) if raw[:4] == b"OggS" else None
    repaired = None if pages is None else repair_truncated(raw, pages)
    try:
        if repaired is None:
            decoded = _decode(raw, name, channel)
        else:  # the copy's header is not evidence: its length is not compared
            decoded = _decode(repaired.data, name, channel)._replace(declared_frames=None)
    except UnsupportedFormatError as exc:
        if raw[:4] not in (b"OggS", b"\x1a\x45\xdf\xa3") and raw[4:8] != b"ftyp":
            raise
        # e.g. cut inside its codec headers or before its index: the container says so
        findings = container_findings(
            raw, declared_frames=None, decoded_frames=0, sample_rate=1, ogg_pages=pages
        )
        raise with_findings(exc, findings) from None
    mono, n_channels = decoded.mono, decoded.channels
    if decoded.rate is None or not np.isfinite(decoded.rate):
        raise SampleRateError(f"{name}: file has no valid sample rate")
    file_sr = _check_rate(int(decoded.rate), what=f"{name}: sample rate in the file")
    # Does the header agree with what decoded? (truncation, undeclared bytes)
    container_notes = container_findings(
        raw,
        declared_frames=decoded.declared_frames,
        decoded_frames=mono.shape[0],
        sample_rate=file_sr,
        decoder_error=decoded.decoder_error,
        ogg_pages=pages,
    )
    if repaired is not None:
        container_notes.append(_repair_note(repaired, mono.shape[0] / file_sr))
    del raw  # only the decoded samples are needed from here on
    if mono.shape[0] == 0:
        raise with_findings(EmptyAudioError(f"{name}: file decodes to 0 samples"), container_notes)
    if mono.shape[0] / file_sr > MAX_DURATION_SECONDS or mono.shape[0] > MAX_DECODED_FRAMES:
        # only a stream without a declared length gets here: it was decoded to the limit
        raise _too_long(name, mono.shape[0], file_sr, at_least=True)
    _check_finite(mono, name)
    _check_float32_range(mono, name)

    mixed_down = n_channels > 1 and channel is None
    levels = decoded.levels
    cancel = levels.cancellation_db(n_channels) if mixed_down else None
    if cancel is not None and levels.mix_is_rounding():
        raise with_findings(_rounding_only(name, n_channels, cancel, levels), container_notes)
    notes = [
        *decoded.notes,
        *container_notes,
        *_signal_warnings(mono, levels, cancelled=cancel is not None),
    ]
    if mixed_down:
        notes.append(
            f"{n_channels} channels averaged to one; to analyse a single channel pick it "
            "(channel=..., --channel)"
        )
        if cancel is not None:
            notes.append(
                f"the channels cancel when averaged: the mix holds {cancel:.1f} dB less energy "
                f"than its {n_channels} channels on average (a channel in opposite polarity, "
                "or delayed against the others), which distorts its spectrum; analyse a single "
                "channel (channel=..., --channel)"
            )
    target = file_sr if sr is None else sr
    if target != file_sr:
        out = resample(mono, file_sr, target)
        notes.append(f"resampled from {file_sr} Hz to {target} Hz (polyphase, Kaiser window)")
    else:
        out = mono
    out = np.ascontiguousarray(out, dtype=np.float32)
    try:
        _check_signal(out, target, name)
    except SilentAudioError as exc:
        if not mixed_down:
            raise with_findings(exc, container_notes) from None
        raise SilentAudioError(
            f"{exc} after averaging its {n_channels} channels; if they cancel out (one "
            "channel in opposite polarity), analyse a single channel (channel=..., --channel)"
        ) from None
    except TooShortError as exc:
        raise with_findings(exc, container_notes) from None
    out.setflags(write=False)
    return Evidence(
        samples=out,
        sr=target,
        original_sr=file_sr,
        channels=n_channels,
        duration=out.size / target,
        path=p.resolve(),
        sha256=sha256,
        pcm_sha256=_pcm_sha256(out),
        format=decoded.format,
        subtype=decoded.subtype,
        channel=channel,
        warnings=tuple(notes),
        metadata=decoded.metadata,
    )


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with a polyphase anti-aliasing filter.

    Parameters
    ----------
    samples : numpy.ndarray
        1-D signal.
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    numpy.ndarray
        float64 signal of length ``ceil(len(samples) * target_sr / orig_sr)``.
    """
    if orig_sr == target_sr:
        return np.asarray(samples, dtype=np.float64)
    ratio = Fraction(int(target_sr), int(orig_sr))
    return resample_poly(
        np.asarray(samples, dtype=np.float64),
        ratio.numerator,
        ratio.denominator,
        window=("kaiser", 5.0),
    )


class _Decoded(NamedTuple):
    """What :func:`_decode` got out of a file."""

    mono: np.ndarray  #: one float64 channel (mix-down or the picked one)
    channels: int  #: the file's channel count
    levels: _Levels  #: clipping, float samples beyond full scale, channel and mix energies
    rate: float | None  #: the file's sample rate
    format: str
    subtype: str
    declared_frames: int | None  #: frames the header declares (None: no length)
    metadata: Mapping[str, str]  #: the header's text fields (read-only)
    decoder_error: str | None  #: why decoding stopped part of the way through, if it did
    notes: tuple[str, ...] = ()  #: what the decoder reports (FFmpeg: which decoder, other streams)


def _decode(raw: bytes, name: str, channel: int | None) -> _Decoded:
    """Decode to one float64 channel (mix-down or the picked one), block by block.

    At most :data:`MAX_DURATION_SECONDS` (+ 1 frame) are decoded; a file whose rate is
    outside the accepted range is not decoded at all (``load`` refuses it).
    The whole multichannel signal is never held in memory. Containers libsndfile
    does not read (MP4, Matroska, AMR, ADTS AAC, ASF) go to FFmpeg
    (:mod:`vtract.ffmpeg_audio`), and so do CAF and WAV files libsndfile
    refuses whose header names an encoding it does not decode.
    """
    label = ffmpeg_audio.sniff(raw)
    if label is not None:
        return _decode_ffmpeg(raw, name, channel, label)
    opened = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with sf.SoundFile(io.BytesIO(raw)) as snd:
                opened = True
                fmt, subtype = snd.format, snd.subtype
                file_sr = snd.samplerate
                n_channels = int(snd.channels)
                if channel is not None and not 0 <= channel < n_channels:
                    raise InputFileError(
                        f"{name}: channel {channel} requested, file has {n_channels} channel(s)"
                    )
                declared = int(snd.frames) if snd.frames < _UNKNOWN_LENGTH else None
                metadata = _header_text(snd)
                stopped = None
                levels = _Levels(subtype)
                if not MIN_SAMPLE_RATE <= file_sr <= MAX_SAMPLE_RATE:
                    mono = np.zeros(0)
                else:
                    # bounded decode: a small compressed file may expand to days of audio,
                    # or to hours at a rate that takes more memory than the duration says
                    limit = min(int(MAX_DURATION_SECONDS * file_sr), MAX_DECODED_FRAMES)
                    if limit < snd.frames < _UNKNOWN_LENGTH:
                        raise _too_long(name, snd.frames, file_sr)
                    mono, stopped = _read_mono(snd, raw, limit + 1, channel, levels)
    except _DecodingStopped as stop:
        declared_s = "" if declared is None else f" of the {declared / file_sr:.3f} s it declares"
        raise UnsupportedFormatError(
            f"{name}: decoding failed after {stop.frames / file_sr:.3f} s{declared_s} "
            f"({stop}); the file is truncated or damaged"
        ) from None
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        msg = re.sub(r"^Error opening .*?: ", "", str(exc).split("\n")[0])
        foreign = None if opened else ffmpeg_audio.foreign_codec(raw)
        if foreign is not None:  # a container libsndfile reads, in an encoding it does not
            return _decode_ffmpeg(raw, name, channel, foreign.label, foreign, msg)
        if "SF_INFO struct incomplete" in msg:
            msg = (
                "the header is inconsistent (a sample rate of 0, or several data chunks; "
                f"libsndfile: {msg})"
            )
        raise UnsupportedFormatError(
            f"{name}: not decodable audio (expected WAV, FLAC, OGG, MP3, NIST SPHERE, or with "
            f"FFmpeg MP4/M4A, WebM, AMR, AAC or WMA): {msg}"
        ) from None
    except MemoryError:
        raise UnsupportedFormatError(
            f"{name}: header claims more audio than fits in memory"
        ) from None
    return _Decoded(mono, n_channels, levels, file_sr, fmt, subtype, declared, metadata, stopped)


def _decode_ffmpeg(
    raw: bytes,
    name: str,
    channel: int | None,
    label: str,
    foreign: ffmpeg_audio.ForeignCodec | None = None,
    refused: str | None = None,
) -> _Decoded:
    """:func:`_decode` for a container or encoding only FFmpeg reads (same limits, same mix-down).

    ``foreign`` and ``refused``: the encoding of a container libsndfile reads but
    refused to decode (:func:`vtract.ffmpeg_audio.foreign_codec`), and its reason.
    """
    mono = _MonoBuffer(None)
    levels = _Levels("")  # lossy codecs: full scale is 1.0

    def on_open(found: ffmpeg_audio.FFmpegAudio) -> None:
        nonlocal mono
        if channel is not None and not 0 <= channel < found.channels:
            raise InputFileError(
                f"{name}: channel {channel} requested, file has {found.channels} channel(s)"
            )
        declared = found.declared_frames
        if (
            declared is not None
            and found.rate > 0
            and (declared > MAX_DURATION_SECONDS * found.rate or declared > MAX_DECODED_FRAMES)
        ):
            raise _too_long(name, declared, found.rate)
        if declared is not None:  # one buffer, with room for the encoder's padding
            mono = _MonoBuffer(declared + _PADDING_FRAMES)

    def on_block(block: np.ndarray) -> None:
        mixed = _mix(block, channel)
        levels.add(block, mixed if channel is None else None)
        mono.add(mixed)

    try:
        found = ffmpeg_audio.read_audio(
            raw,
            name,
            label,
            max_seconds=MAX_DURATION_SECONDS,
            max_frames=MAX_DECODED_FRAMES,
            min_rate=MIN_SAMPLE_RATE,
            max_rate=MAX_SAMPLE_RATE,
            on_open=on_open,
            on_block=on_block,
            foreign=foreign,
            refused=refused,
        )
    except MemoryError:
        raise UnsupportedFormatError(f"{name}: more audio than fits in memory") from None
    metadata = {key: _bounded(value) for key, value in sorted(found.metadata.items())}
    return _Decoded(
        mono.samples(),
        found.channels,
        levels,
        found.rate,
        found.container,
        found.codec,
        found.declared_frames,
        HeaderText(metadata),
        found.decoder_error,
        tuple(found.notes),
    )


def _repair_note(repaired: RepairedStream, decoded_seconds: float) -> str:
    """What :func:`vtract.ogg.repair_truncated` did, for the evidence's warnings."""
    packets = (
        "1 whole audio packet; it is"
        if repaired.packets == 1
        else f"{repaired.packets} whole audio packets; they are"
    )
    return (
        f"{PREFIX}the incomplete last Ogg page still holds {packets} decoded from "
        "a repaired copy made in memory (the page cut to those packets and marked as the end "
        f"of the stream, its granule position and checksum recomputed): {decoded_seconds:.3f} s "
        f"decode, where the whole pages end at {repaired.whole_pages_seconds:.3f} s; the "
        "evidence file is unchanged and its SHA-256 is of the file as read"
    )


def _header_text(snd: sf.SoundFile) -> Mapping[str, str]:
    """The header's text fields, without NULs, each cut to :data:`MAX_METADATA_CHARS`."""
    return HeaderText(
        {str(key): _bounded(value) for key, value in sorted(snd.copy_metadata().items())}
    )


def _bounded(value: object) -> str:
    """A header text without NULs, cut to :data:`MAX_METADATA_CHARS`."""
    text = str(value).replace("\x00", "")
    if len(text) > MAX_METADATA_CHARS:
        text = f"{text[:MAX_METADATA_CHARS]}... (+{len(text) - MAX_METADATA_CHARS} characters)"
    return text


#: libsndfile reports this many frames (SF_COUNT_MAX) when the header gives no length.
_UNKNOWN_LENGTH = 2**62
#: Frames decoded at a time.
_BLOCK_FRAMES = 1 << 16
#: Room left after an FFmpeg stream's declared length for the encoder's padding (an AAC
#: stream decodes up to about two frames of 1024 more than its MP4 edit list declares).
_PADDING_FRAMES = 8192
#: Frames decoded at a time after a decoder failure, one size after another: the decoder
#: is reopened at the last frame that decoded and read on in reads of the next size, so
#: what decoded before the failure is kept to the frame (a truncated FLAC of arctic_a0009
#: cut to 80 %: 2.048 s in reads of 4096 frames, 2.288 s in reads of 256, 2.300 s in
#: reads of 64). libsndfile never returns the last frame of a FLAC stream whose read
#: runs into its end (STREAMINFO without a length, or one that overstates it).
_RETRY_BLOCK_FRAMES = (64, 1)
#: How libsndfile's FLAC decoder fails at the clean end of a stream whose length it does
#: not know (libsndfile 1.2.2: the read past the last frame tries to seek). A stream cut
#: inside a frame, or followed by other bytes, fails with "flac decoder lost sync" first.
_END_OF_STREAM_ERROR = "psf_fseek() failed"


class _DecodingStopped(Exception):
    """The decoder failed part of the way through (``frames`` decoded before it)."""

    def __init__(self, frames: int, reason: str) -> None:
        super().__init__(reason)
        self.frames = frames


def _read_mono(
    snd: sf.SoundFile, raw: bytes, max_frames: int, channel: int | None, levels: _Levels
) -> tuple[np.ndarray, str | None]:
    """Decode at most ``max_frames`` frames; mix down (or pick ``channel``) per block.

    Row-wise means do not depend on the blocking, so the result is bit-identical
    to mixing down the whole decoded array. ``levels`` counts clipping and the
    energies as the blocks go by. Returns the samples and, when the decoder failed
    part of the way through (a truncated FLAC: "decoder lost sync"), its reason:
    the frames decoded before the failure are kept. A failed read returns
    nothing and leaves libsndfile's decoder unusable (not even ``seek`` works), so
    a new decoder is opened on ``raw`` at the last frame that decoded and read on
    in blocks of each of :data:`_RETRY_BLOCK_FRAMES` in turn. A stream whose
    header gives no length (FLAC written to a pipe) fails this way at its end:
    that is its end, not a failure (``None``). A failure before anything decoded
    raises :class:`_DecodingStopped`.
    """
    known = snd.frames < _UNKNOWN_LENGTH
    if known and snd.format == "MP3":
        # libsndfile's MPEG decoder gives block-size-dependent samples (float32-rounding
        # differences after each block boundary): decode it in one piece, as always.
        data = snd.read(frames=min(snd.frames, max_frames), dtype="float64", always_2d=True)
        mixed = _mix(data, channel)
        levels.add(data, mixed if channel is None else None)
        return mixed, None
    mono = _MonoBuffer(min(snd.frames, max_frames) if known else None)
    retries = iter(_RETRY_BLOCK_FRAMES)
    block_frames, stopped = _BLOCK_FRAMES, None
    with contextlib.ExitStack() as reopened:
        reader = snd
        while (n := mono.frames) < max_frames:
            try:
                block = reader.read(
                    frames=min(block_frames, max_frames - n), dtype="float64", always_2d=True
                )
            except sf.LibsndfileError as exc:  # e.g. a truncated FLAC: "decoder lost sync"
                stopped = stopped or _decoder_reason(str(exc).strip())
                next_size = next(retries, None)
                if next_size is None:
                    break
                block_frames = next_size
                fresh = _reopen_at(raw, n)
                if fresh is None:
                    break
                reader = reopened.enter_context(fresh)
                continue
            if block.shape[0] == 0:
                break
            mixed = _mix(block, channel)
            levels.add(block, mixed if channel is None else None)
            mono.add(mixed)
    if stopped is not None and not known and stopped.startswith(_END_OF_STREAM):
        stopped = None  # the end of a stream of unknown length
    if stopped is not None and mono.frames == 0:
        raise _DecodingStopped(0, stopped)
    return mono.samples(), stopped


#: How :func:`_decoder_reason` begins for :data:`_END_OF_STREAM_ERROR`.
_END_OF_STREAM = "the stream ends there"


def _decoder_reason(message: str) -> str:
    """libsndfile's error, put in words where it is cryptic."""
    if _END_OF_STREAM_ERROR in message:
        return f"{_END_OF_STREAM}; libsndfile: {message}"
    return message


def _reopen_at(raw: bytes, frame: int) -> sf.SoundFile | None:
    """A new decoder on ``raw``, at ``frame`` (``None`` when even that fails).

    ``seek`` is tried first; where it fails (a truncated FLAC whose seek table or
    length points past the cut) the frames before ``frame`` are decoded again.
    """
    try:
        snd = sf.SoundFile(io.BytesIO(raw))
    except (sf.LibsndfileError, RuntimeError):
        return None
    try:
        snd.seek(frame)
        return snd
    except (sf.LibsndfileError, RuntimeError):
        snd.close()
    try:
        snd = sf.SoundFile(io.BytesIO(raw))
        left = frame
        while left > 0:
            got = snd.read(frames=min(_BLOCK_FRAMES, left), dtype="float64").shape[0]
            if got == 0:
                break
            left -= got
    except (sf.LibsndfileError, RuntimeError):
        snd.close()
        return None
    if left > 0:
        snd.close()
        return None
    return snd


class _MonoBuffer:
    """Mixed-down blocks gathered into one array, in one buffer when the length is known.

    Blocks past the expected length (or all of them, when it is unknown) go to
    a list joined at the end, so no audio is lost when a header miscounts.
    """

    def __init__(self, expected_frames: int | None) -> None:
        self._out = None if expected_frames is None else np.empty(expected_frames)
        self._parts: list[np.ndarray] = []
        self.frames = 0  #: frames added so far

    def add(self, block: np.ndarray) -> None:
        n = self.frames
        if self._out is not None and n + block.size <= self._out.size:
            self._out[n : n + block.size] = block
        else:  # unknown length, or more frames than expected
            if self._out is not None:
                self._parts.append(self._out[:n].copy())
                self._out = None
            self._parts.append(np.array(block))
        self.frames = n + block.size

    def samples(self) -> np.ndarray:
        if self._out is not None:
            return self._out[: self.frames]
        return np.concatenate(self._parts) if self._parts else np.zeros(0)


def _mix(frames: np.ndarray, channel: int | None) -> np.ndarray:
    """One channel of a (frames, channels) block: the picked one or the mean."""
    if channel is not None:
        return frames[:, channel]
    if frames.shape[1] == 1:
        return frames[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        mixed = frames.mean(axis=1)
    overflowed = np.isinf(mixed) & np.all(np.isfinite(frames), axis=1)
    if np.any(overflowed):  # finite samples near the float64 limit: their sum overflowed
        mixed[overflowed] = (frames[overflowed] / frames.shape[1]).sum(axis=1)
    return mixed


class _Levels:
    """What is counted while blocks decode, for the signal warnings.

    Samples at full scale (clipped), where full scale is the largest magnitude
    ``subtype`` decodes to (:data:`_FULL_SCALE`); for float encodings, samples
    beyond full scale, which the file stores unclipped, and the peak; and for a
    mix-down, the energy of the mix and the mean energy of the channels.
    """

    def __init__(self, subtype: str) -> None:
        self.subtype = subtype
        self.clip_level = CLIP_LEVEL * _FULL_SCALE.get(subtype, 1.0)
        self.is_float = subtype in _FLOAT_SUBTYPES
        self.step = _ROUNDING_STEP.get(subtype)  #: quantisation step (None: not integer PCM)
        self.mix_frames = 0  #: frames of the mix-down counted
        self.samples = 0  #: samples counted (of every channel)
        self.clipped = 0  #: samples at full scale
        self.over = 0  #: float samples beyond full scale (|x| > 1)
        self.peak = 0.0  #: largest |x|
        self.channel_energy = 0.0  #: sum of squares, averaged over the channels
        self.mix_energy = 0.0  #: sum of squares of the mix

    @classmethod
    def of(cls, x: np.ndarray, subtype: str) -> _Levels:
        """The levels of a mono array."""
        levels = cls(subtype)
        levels.add(x.reshape(-1, 1))
        return levels

    def add(self, block: np.ndarray, mixed: np.ndarray | None = None) -> None:
        """Count a (frames, channels) block, and its mix-down when channels were averaged."""
        flat = block.reshape(-1)
        step = _BLOCK_FRAMES * 16  # in blocks: no full-size temporaries
        for i in range(0, flat.size, step):
            part = np.abs(flat[i : i + step])
            if part.size:
                self.peak = max(self.peak, float(np.max(part)))
            at_full_scale = part >= self.clip_level
            if self.is_float:
                beyond = part > 1.0
                self.over += int(np.count_nonzero(beyond))
                at_full_scale &= ~beyond
            self.clipped += int(np.count_nonzero(at_full_scale))
        self.samples += flat.size
        if mixed is not None and block.shape[1] > 1:
            with np.errstate(over="ignore", invalid="ignore"):
                self.channel_energy += float(np.einsum("ij,ij->", block, block)) / block.shape[1]
                self.mix_energy += float(np.dot(mixed, mixed))
            self.mix_frames += block.shape[0]

    def channel_rms(self) -> float:
        """RMS of the channels of a mix-down (their mean energy); 0 when nothing was mixed."""
        if self.mix_frames == 0 or not np.isfinite(self.channel_energy):
            return 0.0
        return float(np.sqrt(self.channel_energy / self.mix_frames))

    def mix_rms(self) -> float:
        """RMS of the mix-down; 0 when nothing was mixed."""
        if self.mix_frames == 0 or not np.isfinite(self.mix_energy):
            return 0.0
        return float(np.sqrt(self.mix_energy / self.mix_frames))

    def mix_is_rounding(self) -> bool:
        """Is the mix-down nothing but the integer encoding's rounding (RMS within one step)?

        An exactly silent mix is not (:func:`load` refuses it as silent).
        """
        return self.step is not None and 0 < self.mix_rms() <= self.step

    def cancellation_db(self, channels: int) -> float | None:
        """How far below the channels' mean energy the mix lies (dB), if they cancel.

        ``None`` unless the mix lies more than :data:`MIX_CANCEL_DB` (lowered by
        ``10*log10(channels / 2)`` dB) below it.
        """
        if not (np.isfinite(self.channel_energy) and self.channel_energy > 0):
            return None
        if not np.isfinite(self.mix_energy):
            return None
        limit = 10 ** (-MIX_CANCEL_DB / 10) * 2 / channels
        if self.mix_energy >= limit * self.channel_energy:
            return None
        if self.mix_energy == 0:
            return float("inf")
        return float(-10 * np.log10(self.mix_energy / self.channel_energy))


def _too_long(name: str, frames: int, rate: float, *, at_least: bool = False) -> InputFileError:
    """The refusal of audio above :data:`MAX_DURATION_SECONDS` or :data:`MAX_DECODED_FRAMES`."""
    more = "more than " if at_least else ""
    if frames / rate > MAX_DURATION_SECONDS:
        return InputFileError(
            f"{name}: {more}{frames / rate:.0f} s of audio, above the limit of "
            f"{MAX_DURATION_SECONDS:.0f} s; split the evidence first"
        )
    return InputFileError(
        f"{name}: {more}{frames} sample frames ({frames / rate:.0f} s at {rate:.0f} Hz), above "
        f"the limit of {MAX_DECODED_FRAMES} frames (2 hours at 48 kHz) that bounds the memory "
        "a decode takes; split the evidence, or resample it to 48 kHz or less, first"
    )


def _check_finite(x: np.ndarray, name: str) -> None:
    """Refuse NaN and infinite samples, saying how many there are."""
    if x.dtype.kind != "f":
        return
    step = _BLOCK_FRAMES * 16
    bad = sum(int(np.count_nonzero(~np.isfinite(x[i : i + step]))) for i in range(0, x.size, step))
    if bad:
        raise InvalidAudioError(f"{name}: {bad} sample(s) are NaN or infinite")


def _check_float32_range(x: np.ndarray, name: str) -> None:
    """Refuse finite samples too large for float32 (the analysis's precision)."""
    limit = float(np.finfo(np.float32).max)
    step = _BLOCK_FRAMES * 16
    beyond = sum(
        int(np.count_nonzero(np.abs(x[i : i + step]) > limit)) for i in range(0, x.size, step)
    )
    if beyond:
        peak = max(float(np.max(np.abs(x[i : i + step]))) for i in range(0, x.size, step))
        raise InvalidAudioError(
            f"{name}: {beyond} sample(s) exceed the float32 range (peak {peak:.3g}: the "
            f"largest magnitude; float32 holds at most {limit:.3g}); such values are not audio "
            "at any usable level, so they are not analysed"
        )


def _check_rate(rate: int, what: str = "sample rate") -> int:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise SampleRateError(
            f"{what} is {rate} Hz; expected {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
        )
    return rate


def _check_signal(x: np.ndarray, sr: int, name: str) -> None:
    if x.size == 0:
        raise EmptyAudioError(f"{name}: no samples")
    _check_finite(x, name)
    min_samples = int(np.ceil(ANALYSIS_WINDOW_SECONDS * sr))
    if x.size < min_samples:
        raise TooShortError(
            f"{name}: {x.size / sr * 1000:.1f} ms of audio; at least "
            f"{ANALYSIS_WINDOW_SECONDS * 1000:.1f} ms (one analysis window) is needed"
        )
    first = float(x[0])
    deviation = max(float(np.max(x)) - first, first - float(np.min(x)))
    if deviation <= SILENCE_PEAK:
        if abs(first) > SILENCE_PEAK:
            level = "a constant (pure DC)"
        elif deviation == 0 and first == 0:
            level = "digital silence"
        else:
            peak = max(abs(float(np.max(x))), abs(float(np.min(x))))
            level = (
                f"below the silence threshold: its peak is {peak:.2g}, at or below "
                f"{SILENCE_PEAK:g} (SILENCE_PEAK)"
            )
        raise SilentAudioError(f"{name}: audio is {level}; there is no speech to analyse")


def _rounding_only(name: str, channels: int, cancel: float, levels: _Levels) -> SilentAudioError:
    """The refusal of a mix-down that holds nothing but the encoding's rounding."""
    return SilentAudioError(
        f"{name}: audio is only rounding noise after averaging its {channels} channels: they "
        f"cancel to within the {levels.subtype} rounding step (what is left has an RMS of "
        f"{levels.mix_rms():.2g}, at most the step of {levels.step:.2g}, and {cancel:.1f} dB "
        "less energy than the channels): one channel is the other in opposite polarity, so "
        "there is no speech in the mix to analyse; analyse a single channel (channel=..., "
        "--channel)"
    )


def _signal_warnings(mono: np.ndarray, levels: _Levels, *, cancelled: bool = False) -> list[str]:
    """Clipping, float samples beyond full scale, and a DC offset.

    When the channels of a mix-down cancel (``cancelled``), the DC offset is
    measured against the channels' RMS, not the mix's: what is left of a
    cancelling mix is small, and its mean says nothing about the recording.
    """
    notes: list[str] = []
    total = max(levels.samples, 1)
    if levels.clipped / total > CLIP_WARN_FRACTION:
        notes.append(
            f"clipping: {levels.clipped / total * 100:.2f}% of samples at full scale; "
            "spectral estimates near clipped regions are distorted"
        )
    if levels.over / total > CLIP_WARN_FRACTION:
        notes.append(
            f"float samples exceed full scale: {levels.over / total * 100:.2f}% of samples "
            f"beyond +-1.0 (peak {20 * np.log10(levels.peak):+.1f} dBFS); the file stores them "
            "unclipped, so they are not clipping, but a conversion to integer PCM or a player "
            "would clip them"
        )
    if mono.size:
        step = _BLOCK_FRAMES * 16  # sums in blocks: no full-size temporaries
        power = sum(
            float(np.sum(np.square(mono[i : i + step], dtype=np.float64)))
            for i in range(0, mono.size, step)
        )
        rms = float(np.sqrt(power / mono.size))
        against = "RMS"
        if cancelled:
            rms, against = levels.channel_rms(), "the channels' RMS (their mix cancels)"
        mean = float(np.mean(mono, dtype=np.float64))
        if rms > 0 and abs(mean) / rms > DC_WARN_RATIO:
            level = f"{mean:+.4f}" if abs(mean) >= 1e-3 else f"{mean:+.2e}"
            notes.append(f"DC offset: mean {level} is {abs(mean) / rms:.0%} of {against}")
    return notes


def _pcm_sha256(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest()
