"""Generator of the bad-input corpus (hostile audio, alignments, transcripts).

Every case is written into a temporary folder by :func:`build_corpus`; nothing
binary is committed. Each :class:`Case` states what vtract must do with it:

``REFUSE``
    a clear one-line reason (exit 1, ``error`` object in the JSON);
``NOT_CONFIDENT``
    a clear error *or* a documented degraded result (``inconclusive`` with a
    reason) -- never ``organic``/``synthetic`` (noise, silence, music, broken
    alignments, transcripts that do not match);
``CLEAN``
    real speech in an awkward container: any verdict, or a clear error;
``ANALYSES``
    real speech that must be analysed (exit 0, any verdict).

Cases marked ``needs_speech`` derive from CMU ARCTIC ``arctic_a0009.wav``
(shared data) and are skipped when that file is absent.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfiltfilt

REFUSE = "refuse"
NOT_CONFIDENT = "not_confident"
CLEAN = "clean"
ANALYSES = "analyses"

#: Orthographic transcript of ``arctic_a0009.wav``.
SPEECH_TEXT = "He turned sharply, and faced Gregson across the table."
#: Words of SPEECH_TEXT and how many phones each spans in the HTS labels.
SPEECH_WORDS = (
    ("he", 2),
    ("turned", 4),
    ("sharply", 6),
    ("and", 3),
    ("faced", 4),
    ("gregson", 7),
    ("across", 5),
    ("the", 2),
    ("table", 5),
)


@dataclass(frozen=True)
class Case:
    """One hostile input and what vtract must do with it.

    Attributes
    ----------
    name : str
        Identifier used as pytest id.
    group : str
        ``"audio"``, ``"speech"``, ``"textgrid"`` or ``"transcript"``.
    audio : pathlib.Path
        Audio file to analyse.
    expect : str
        One of REFUSE, NOT_CONFIDENT, CLEAN, ANALYSES.
    loads : bool or None
        Whether :func:`vtract.load` must succeed (True), must raise a
        VtractError (False), or may do either (None).
    textgrid : pathlib.Path or None
        Alignment passed with ``--textgrid``.
    transcript : str or None
        Transcript passed with ``--transcript``.
    alignment_reads : bool or None
        For TextGrid cases: whether :func:`vtract.read_alignment` must
        succeed (True), raise an AlignmentError (False) or either (None).
    note : str
        Why the case exists.
    warns : str
        For a case that loads: text one of :attr:`vtract.Evidence.warnings`
        must contain (a container finding, :mod:`vtract.container`); empty
        means the container is sound and no container finding may appear.
    """

    name: str
    group: str
    audio: Path
    expect: str
    loads: bool | None = None
    textgrid: Path | None = None
    transcript: str | None = None
    alignment_reads: bool | None = None
    note: str = ""
    warns: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def cli_args(self) -> list[str]:
        """Options that go with the audio file on the ``vtract analyze`` command line."""
        if self.textgrid is not None:
            return ["--textgrid", str(self.textgrid)]
        if self.transcript is not None:
            return ["--transcript", self.transcript]
        return []


# ----------------------------------------------------------------- signals


def music(sr: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Music-like sound without speech: chords of harmonic notes and noise hits.

    Half a second per chord, three notes of six harmonics with a decaying
    envelope, plus a short burst of high-passed noise on each beat.
    """
    rng = np.random.default_rng(seed)
    n = round(sr * seconds)
    t = np.arange(n) / sr
    out = np.zeros(n)
    beat = int(sr * 0.5)
    for start in range(0, n, beat):
        seg = slice(start, min(n, start + beat))
        tt = t[seg] - t[start]
        env = np.exp(-tt * 4.0)
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        for ratio in (1.0, 1.26, 1.5):
            for h in range(1, 7):
                f = root * ratio * h
                if f < sr / 2.2:
                    out[seg] += env * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi)) / h
        hit = min(int(sr * 0.03), seg.stop - seg.start)
        out[start : start + hit] += rng.standard_normal(hit) * np.linspace(1, 0, hit) * 0.5
    return 0.5 * out / np.max(np.abs(out))


def white_noise(sr: int, seconds: float = 3.0, seed: int = 1, amp: float = 0.3) -> np.ndarray:
    """Gaussian white noise, clipped to +-1."""
    x = np.random.default_rng(seed).standard_normal(round(sr * seconds)) * amp
    return np.clip(x, -1.0, 1.0)


def bandpass(x: np.ndarray, sr: int, lo: float, hi: float) -> np.ndarray:
    """Zero-phase 6th-order Butterworth band-pass."""
    sos = butter(6, [lo, hi], btype="bandpass", fs=sr, output="sos")
    return sosfiltfilt(sos, x)


# ----------------------------------------------------------------- writers


def write_wav_pcm16(path: Path, samples: np.ndarray, sr: int, channels: int = 1) -> Path:
    """Write a canonical 44-byte-header PCM_16 WAV with the stdlib (fixed offsets)."""
    ints = np.clip(np.round(np.asarray(samples) * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(ints.tobytes())
    return path


def patch_bytes(path: Path, offset: int, value: int, size: int = 4) -> Path:
    """Overwrite a little-endian unsigned integer inside a file."""
    raw = bytearray(path.read_bytes())
    raw[offset : offset + size] = int(value).to_bytes(size, "little")
    path.write_bytes(bytes(raw))
    return path


def truncate(path: Path, fraction: float) -> Path:
    """Keep only the first ``fraction`` of the file's bytes."""
    raw = path.read_bytes()
    path.write_bytes(raw[: max(1, int(len(raw) * fraction))])
    return path


def hts_phones(lab: Path) -> list[tuple[float, float, str]]:
    """(start s, end s, phone) from an HTS full-context label file."""
    out = []
    for line in lab.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        phone = parts[2].split("-", 1)[1].split("+", 1)[0]
        out.append((int(parts[0]) / 1e7, int(parts[1]) / 1e7, phone))
    return out


def words_from_phones(phones: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Word intervals of SPEECH_TEXT laid over its phones (silences stay empty)."""
    speech = [p for p in phones if p[2] != "sil"]
    words, i = [], 0
    for word, count in SPEECH_WORDS:
        words.append((speech[i][0], speech[i + count - 1][1], word))
        i += count
    if i != len(speech):
        raise ValueError(f"word spans cover {i} phones, labels have {len(speech)}")
    return words


def fill_gaps(
    intervals: list[tuple[float, float, str]], xmax: float
) -> list[tuple[float, float, str]]:
    """Insert empty intervals so the tier covers [0, xmax] (TextGrid convention)."""
    out, t = [], 0.0
    for a, b, lab in intervals:
        if a > t:
            out.append((t, a, ""))
        out.append((a, b, lab))
        t = b
    if t < xmax:
        out.append((t, xmax, ""))
    return out


def textgrid_text(tiers: dict[str, list[tuple[float, float, str]]], xmax: float) -> str:
    """Praat long text TextGrid with interval tiers (no validation on purpose)."""
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {xmax!r} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    for k, (name, intervals) in enumerate(tiers.items(), start=1):
        lines += [
            f"    item [{k}]:",
            '        class = "IntervalTier" ',
            f'        name = "{name}" ',
            "        xmin = 0 ",
            f"        xmax = {xmax!r} ",
            f"        intervals: size = {len(intervals)} ",
        ]
        for j, (a, b, lab) in enumerate(intervals, start=1):
            lines += [
                f"        intervals [{j}]:",
                f"            xmin = {a!r} ",
                f"            xmax = {b!r} ",
                f'            text = "{lab}" ',
            ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- the corpus

Builder = Callable[[Path], Case]
SPECS: dict[str, tuple[str, Builder]] = {}


def case(name: str, group: str) -> Callable[[Builder], Builder]:
    """Register a builder under ``name`` (the builder gets the case folder)."""

    def register(fn: Builder) -> Builder:
        SPECS[name] = (group, fn)
        return fn

    return register


SR = 16000


@case("zero_byte", "audio")
def _zero_byte(d: Path) -> Case:
    p = d / "zero.wav"
    p.write_bytes(b"")
    return Case("zero_byte", "audio", p, REFUSE, loads=False)


@case("random_bytes_wav", "audio")
def _random_wav(d: Path) -> Case:
    p = d / "random.wav"
    p.write_bytes(np.random.default_rng(2).bytes(48_000))
    return Case("random_bytes_wav", "audio", p, REFUSE, loads=False)


@case("random_bytes_flac", "audio")
def _random_flac(d: Path) -> Case:
    p = d / "random.flac"
    p.write_bytes(b"fLaC" + np.random.default_rng(3).bytes(48_000))
    return Case("random_bytes_flac", "audio", p, REFUSE, loads=False, note="valid magic, junk")


@case("random_bytes_mp3", "audio")
def _random_mp3(d: Path) -> Case:
    p = d / "random.mp3"
    p.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + np.random.default_rng(4).bytes(48_000))
    return Case("random_bytes_mp3", "audio", p, NOT_CONFIDENT, note="ID3 tag then junk")


@case("truncated_wav_header", "audio")
def _trunc_header(d: Path) -> Case:
    p = truncate(write_wav_pcm16(d / "trunc_header.wav", music(SR), SR), 30 / 96_044)
    return Case("truncated_wav_header", "audio", p, REFUSE, loads=False)


@case("truncated_wav", "audio")
def _trunc_wav(d: Path) -> Case:
    p = truncate(write_wav_pcm16(d / "trunc.wav", music(SR), SR), 0.5)
    return Case(
        "truncated_wav", "audio", p, NOT_CONFIDENT, loads=True,
        warns="truncated: the WAV data chunk declares 3.000 s of audio (96000 bytes) but the "
        "file holds 1.499 s (47978 bytes)",  # (96044 // 2 - 44) bytes at 32000 B/s
    )  # fmt: skip


@case("truncated_flac", "audio")
def _trunc_flac(d: Path) -> Case:
    p = d / "trunc.flac"
    sf.write(p, music(SR), SR, format="FLAC")
    return Case(
        "truncated_flac", "audio", truncate(p, 0.5), NOT_CONFIDENT,
        warns="truncated: decoding stopped after",
    )  # fmt: skip


@case("truncated_mp3", "audio")
def _trunc_mp3(d: Path) -> Case:
    p = d / "trunc.mp3"
    sf.write(p, music(SR), SR, format="MP3")
    return Case(
        "truncated_mp3", "audio", truncate(p, 0.5), NOT_CONFIDENT,
        warns="truncated: the header declares 3.000 s of audio (48000 frames)",
    )  # fmt: skip


@case("truncated_ogg", "audio")
def _trunc_ogg(d: Path) -> Case:
    p = d / "trunc.ogg"  # cut inside its first audio page: libsndfile alone refuses it
    sf.write(p, music(48000), 48000, format="OGG", subtype="OPUS")
    return Case(
        "truncated_ogg", "audio", truncate(p, 0.2), NOT_CONFIDENT,
        warns="the incomplete last Ogg page still holds",
    )  # fmt: skip


def _write_m4a(path: Path, x: np.ndarray, sr: int) -> Path:
    """AAC in an M4A (index at the end, as most writers put it), with PyAV (vtract[av])."""
    from _encoded_audio import encode

    return encode(path, x, sr)


@case("m4a_music", "audio")
def _m4a(d: Path) -> Case:
    p = _write_m4a(d / "music.m4a", music(SR), SR)
    return Case(
        "m4a_music", "audio", p, NOT_CONFIDENT, loads=True, note="decoded by FFmpeg (PyAV)",
    )  # fmt: skip


@case("truncated_m4a", "audio")
def _trunc_m4a(d: Path) -> Case:
    p = truncate(_write_m4a(d / "trunc.m4a", music(SR), SR), 0.5)
    return Case("truncated_m4a", "audio", p, REFUSE, loads=False, note="index (moov) cut off")


@case("wav_claims_more_data", "audio")
def _claims_more(d: Path) -> Case:
    p = write_wav_pcm16(d / "claims_more.wav", music(SR, 1.0), SR)
    patch_bytes(p, 4, 0x7FFF_FFF0)  # RIFF size
    patch_bytes(p, 40, 0x7FFF_FFC0)  # data size: ~2 GiB claimed, 32 kB present
    return Case(
        "wav_claims_more_data", "audio", p, NOT_CONFIDENT,
        warns="truncated: the WAV data chunk declares 67108.862 s of audio (2147483584 bytes) "
        "but the file holds 1.000 s (32000 bytes)",
    )  # fmt: skip


@case("wav_absurd_channels", "audio")
def _absurd_channels(d: Path) -> Case:
    p = write_wav_pcm16(d / "channels.wav", music(SR, 1.0), SR)
    patch_bytes(p, 22, 4000, size=2)  # 4000 channels, block align left at 2
    return Case("wav_absurd_channels", "audio", p, NOT_CONFIDENT)


@case("rate_0_hz", "audio")
def _rate0(d: Path) -> Case:
    p = write_wav_pcm16(d / "rate0.wav", music(SR, 1.0), SR)
    patch_bytes(patch_bytes(p, 24, 0), 28, 0)
    return Case("rate_0_hz", "audio", p, REFUSE, loads=False)


@case("rate_1_hz", "audio")
def _rate1(d: Path) -> Case:
    p = write_wav_pcm16(d / "rate1.wav", music(SR, 1.0), SR)
    patch_bytes(patch_bytes(p, 24, 1), 28, 2)
    return Case("rate_1_hz", "audio", p, REFUSE, loads=False)


@case("rate_10_mhz", "audio")
def _rate10m(d: Path) -> Case:
    p = write_wav_pcm16(d / "rate10M.wav", music(SR, 1.0), SR)
    patch_bytes(patch_bytes(p, 24, 10_000_000), 28, 20_000_000)
    return Case("rate_10_mhz", "audio", p, REFUSE, loads=False)


@case("one_sample", "audio")
def _one_sample(d: Path) -> Case:
    p = write_wav_pcm16(d / "one_sample.wav", np.array([0.5]), SR)
    return Case("one_sample", "audio", p, REFUSE, loads=False)


@case("ten_ms", "audio")
def _ten_ms(d: Path) -> Case:
    p = write_wav_pcm16(d / "ten_ms.wav", music(SR, 0.01), SR)
    return Case("ten_ms", "audio", p, REFUSE, loads=False)


@case("silence_10_min", "audio")
def _silence(d: Path) -> Case:
    p = d / "silence_10min.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(bytes(2 * SR * 600))
    return Case("silence_10_min", "audio", p, REFUSE, loads=False)


@case("lsb_dither", "audio")
def _dither(d: Path) -> Case:
    x = np.random.default_rng(5).integers(-1, 2, SR * 3) / 32767
    p = write_wav_pcm16(d / "dither.wav", x, SR)
    return Case("lsb_dither", "audio", p, NOT_CONFIDENT, loads=True, note="silence as recorded")


@case("pure_dc", "audio")
def _dc(d: Path) -> Case:
    p = d / "dc.wav"
    sf.write(p, np.full(SR * 2, 0.25), SR, subtype="FLOAT")
    return Case("pure_dc", "audio", p, REFUSE, loads=False)


@case("clipped_square", "audio")
def _square(d: Path) -> Case:
    t = np.arange(SR * 3) / SR
    x = np.sign(np.sin(2 * np.pi * 150.0 * t))
    x[x == 0] = 1.0
    p = write_wav_pcm16(d / "square.wav", x, SR)
    return Case("clipped_square", "audio", p, NOT_CONFIDENT, loads=True)


@case("nan_inf_float", "audio")
def _nan(d: Path) -> Case:
    x = music(SR)
    x[1000] = np.nan
    x[2000] = np.inf
    x[3000] = -np.inf
    p = d / "nan.wav"
    sf.write(p, x, SR, subtype="FLOAT")
    return Case("nan_inf_float", "audio", p, REFUSE, loads=False)


@case("huge_float_values", "audio")
def _huge(d: Path) -> Case:
    p = d / "huge.wav"
    sf.write(p, music(SR) * 1e30, SR, subtype="FLOAT")
    return Case("huge_float_values", "audio", p, NOT_CONFIDENT, note="finite but absurd scale")


@case("six_channel", "audio")
def _six(d: Path) -> Case:
    p = d / "six.wav"
    sf.write(p, np.column_stack([music(SR, seed=k) for k in range(6)]), SR, subtype="PCM_16")
    return Case("six_channel", "audio", p, NOT_CONFIDENT, loads=True)


@case("pcm_u8", "audio")
def _u8(d: Path) -> Case:
    p = d / "u8.wav"
    sf.write(p, music(SR), SR, subtype="PCM_U8")
    return Case("pcm_u8", "audio", p, NOT_CONFIDENT, loads=True)


@case("pcm_24", "audio")
def _p24(d: Path) -> Case:
    p = d / "p24.wav"
    sf.write(p, music(SR), SR, subtype="PCM_24")
    return Case("pcm_24", "audio", p, NOT_CONFIDENT, loads=True)


@case("telephone_8k", "audio")
def _tel(d: Path) -> Case:
    p = d / "tel8k.wav"
    sf.write(p, bandpass(music(8000), 8000, 300, 3400), 8000, subtype="PCM_16")
    return Case("telephone_8k", "audio", p, NOT_CONFIDENT, loads=True)


@case("hires_96k", "audio")
def _hires(d: Path) -> Case:
    p = d / "hires.flac"
    sf.write(p, music(96000), 96000, subtype="PCM_24")
    return Case("hires_96k", "audio", p, NOT_CONFIDENT, loads=True)


@case("music_no_speech", "audio")
def _music(d: Path) -> Case:
    p = d / "music.flac"
    sf.write(p, music(44100, 5.0, seed=7), 44100)
    return Case("music_no_speech", "audio", p, NOT_CONFIDENT, loads=True)


@case("music_30s", "audio")
def _music_long(d: Path) -> Case:
    # long enough for phone recognition to "find" more bigrams than the detector asks for
    p = d / "music_30s.wav"
    sf.write(p, music(SR, 30.0, seed=12), SR, subtype="PCM_16")
    return Case("music_30s", "audio", p, NOT_CONFIDENT, loads=True, note="no speech gate")


@case("white_noise", "audio")
def _noise(d: Path) -> Case:
    p = write_wav_pcm16(d / "noise.wav", white_noise(SR), SR)
    return Case("white_noise", "audio", p, NOT_CONFIDENT, loads=True)


@case("flac_named_wav", "audio")
def _flac_as_wav(d: Path) -> Case:
    p = d / "really_flac.wav"
    sf.write(p, music(SR), SR, format="FLAC")
    return Case("flac_named_wav", "audio", p, NOT_CONFIDENT, loads=True, note="sniffed")


# ------------------------------------------------- real speech, awkward containers


def _speech(speech: Path) -> tuple[np.ndarray, int]:
    x, sr = sf.read(speech, dtype="float64")
    return x, sr


def _speech_case(
    name: str,
    expect: str,
    writer: Callable[[Path, np.ndarray, int], Path],
    loads: bool | None = True,
    warns: str = "",
) -> None:
    def build(d: Path, speech: Path) -> Case:
        x, sr = _speech(speech)
        # with its transcript: forced alignment is ~10x faster than phone recognition
        return Case(
            name, "speech", writer(d, x, sr), expect, loads=loads, transcript=SPEECH_TEXT,
            warns=warns,
        )  # fmt: skip

    SPEECH_SPECS[name] = build


SPEECH_SPECS: dict[str, Callable[[Path, Path], Case]] = {}


def _w(subtype: str, fname: str) -> Callable[[Path, np.ndarray, int], Path]:
    def write(d: Path, x: np.ndarray, sr: int) -> Path:
        sf.write(d / fname, x, sr, subtype=subtype)
        return d / fname

    return write


def _six_speech(d: Path, x: np.ndarray, sr: int) -> Path:
    gains = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    sf.write(d / "speech_6ch.wav", np.outer(x, gains), sr, subtype="PCM_16")
    return d / "speech_6ch.wav"


def _tel_speech(d: Path, x: np.ndarray, sr: int) -> Path:
    y = bandpass(resample_poly(x, 8000, sr), 8000, 300, 3400)
    sf.write(d / "speech_tel8k.wav", y, 8000, subtype="PCM_16")
    return d / "speech_tel8k.wav"


def _tel_speech_upsampled(d: Path, x: np.ndarray, sr: int) -> Path:
    """Telephone audio converted back to 44.1 kHz: a full-band rate, a telephone spectrum."""
    y = resample_poly(bandpass(resample_poly(x, 8000, sr), 8000, 300, 3400), 441, 80)
    sf.write(d / "speech_tel_44k.wav", y, 44100, subtype="PCM_16")
    return d / "speech_tel_44k.wav"


def _low_passed_speech_at_48k(d: Path, x: np.ndarray, sr: int) -> Path:
    """11.025 kHz audio converted to 48 kHz: its 6-7 kHz band keeps the resampler's
    stopband (above the telephone threshold), its spectrum an edge near 5.5 kHz."""
    y = resample_poly(resample_poly(x, 11025, sr), 48000, 11025)
    sf.write(d / "speech_11k_at_48k.wav", y, 48000, subtype="PCM_16")
    return d / "speech_11k_at_48k.wav"


def _noisy_speech(d: Path, x: np.ndarray, sr: int) -> Path:
    """White noise at 10 dB SNR: a full-band spectrum without an edge, its quiet frames filled."""
    noise = np.random.default_rng(13).standard_normal(x.size)
    y = x + noise * np.sqrt(np.mean(x**2) / 10.0)
    sf.write(d / "speech_noise_10db.wav", 0.5 * y / np.max(np.abs(y)), sr, subtype="PCM_16")
    return d / "speech_noise_10db.wav"


def _reverberant_speech(d: Path, x: np.ndarray, sr: int) -> Path:
    """A simulated room (RT60 0.7 s): the level never falls steeply."""
    from _rooms import in_room  # tests/ is on sys.path (tests/conftest.py)

    y = in_room(x, sr, 0.7, np.random.default_rng(15))
    sf.write(d / "speech_room.wav", 0.5 * y / np.max(np.abs(y)), sr, subtype="PCM_16")
    return d / "speech_room.wav"


def _hires_speech(d: Path, x: np.ndarray, sr: int) -> Path:
    sf.write(d / "speech_96k.flac", resample_poly(x, 96000, sr), 96000, subtype="PCM_24")
    return d / "speech_96k.flac"


def _trunc_speech(fmt: str, ext: str) -> Callable[[Path, np.ndarray, int], Path]:
    def write(d: Path, x: np.ndarray, sr: int) -> Path:
        p = d / f"speech_truncated{ext}"
        sf.write(p, x, sr, format=fmt)
        return truncate(p, 0.6)

    return write


def _odd_path(d: Path, x: np.ndarray, sr: int) -> Path:
    folder = d / "evidence folder ñ 名前"
    folder.mkdir(exist_ok=True)
    p = folder / "speech file é 声.wav"
    sf.write(p, x, sr, subtype="PCM_16")
    return p


_speech_case("speech_pcm_u8", CLEAN, _w("PCM_U8", "speech_u8.wav"))
_speech_case("speech_pcm_24", ANALYSES, _w("PCM_24", "speech_24.wav"))
_speech_case("speech_float_wav", ANALYSES, _w("FLOAT", "speech_float.wav"))
_speech_case("speech_six_channel", ANALYSES, _six_speech)
_speech_case("speech_telephone_8k", NOT_CONFIDENT, _tel_speech)  # band-limited: no verdict
_speech_case("speech_telephone_at_44k", NOT_CONFIDENT, _tel_speech_upsampled)  # the same
_speech_case("speech_11k_at_48k", NOT_CONFIDENT, _low_passed_speech_at_48k)  # spectral edge
_speech_case("speech_white_noise_10db", NOT_CONFIDENT, _noisy_speech)  # noise floor
_speech_case("speech_reverberant_room", NOT_CONFIDENT, _reverberant_speech)  # steep falls
_speech_case("speech_hires_96k", ANALYSES, _hires_speech)
# libsndfile stops a truncated FLAC at "lost sync": what decoded before it is kept.
_speech_case(
    "speech_truncated_flac", CLEAN, _trunc_speech("FLAC", ".flac"),
    warns="truncated: decoding stopped after",
)  # fmt: skip
_speech_case(
    "speech_truncated_mp3", CLEAN, _trunc_speech("MP3", ".mp3"),
    warns="truncated: the header declares 3.095 s of audio",
)  # fmt: skip
_speech_case("speech_odd_path", ANALYSES, _odd_path)


# ------------------------------------------------- alignments and transcripts


def _valid_tiers(lab: Path) -> dict[str, list[tuple[float, float, str]]]:
    phones = hts_phones(lab)
    xmax = phones[-1][1]
    speech = [p for p in phones if p[2] != "sil"]
    return {
        "words": fill_gaps(words_from_phones(phones), xmax),
        "phones": fill_gaps(speech, xmax),
    }


def _tg(name: str, expect: str, reads: bool | None, make: Callable[[dict, float], str | bytes]):
    def build(d: Path, speech: Path) -> Case:
        lab = speech.with_name(speech.stem + "_phone.lab")
        tiers = _valid_tiers(lab)
        speech = _copy(speech, d)
        xmax = float(sf.info(str(speech)).duration)
        content = make(tiers, xmax)
        p = d / f"{name}.TextGrid"
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return Case(name, "textgrid", speech, expect, loads=True, textgrid=p, alignment_reads=reads)

    SPEECH_SPECS[name] = build


def _copy(src: Path, folder: Path) -> Path:
    dst = folder / src.name
    dst.write_bytes(src.read_bytes())
    return dst


def _shift(tiers: dict, fn: Callable[[float, float], tuple[float, float]]) -> dict:
    return {k: [(*fn(a, b), lab) for a, b, lab in v] for k, v in tiers.items()}


def _overlapping(tiers: dict, xmax: float) -> str:
    ph = list(tiers["phones"])
    for i in range(2, len(ph) - 1, 3):  # every third phone starts 30 ms early
        a, b, lab = ph[i]
        ph[i] = (a - 0.03, b, lab)
    return textgrid_text({"words": tiers["words"], "phones": ph}, xmax)


def _negative(tiers: dict, xmax: float) -> str:
    return textgrid_text(_shift(tiers, lambda a, b: (a - 1.0, b - 1.0)), xmax)


def _reversed(tiers: dict, xmax: float) -> str:
    return textgrid_text(_shift(tiers, lambda a, b: (b, a)), xmax)


def _longer(tiers: dict, xmax: float) -> str:
    return textgrid_text(_shift(tiers, lambda a, b: (a * 20, b * 20)), xmax * 20)


def _unknown(tiers: dict, xmax: float) -> str:
    bad = {
        "words": tiers["words"],
        "phones": [(a, b, "Q#" if lab else "") for a, b, lab in tiers["phones"]],
    }
    return textgrid_text(bad, xmax)


def _no_intervals(tiers: dict, xmax: float) -> str:
    return textgrid_text({"words": [(0.0, xmax, "")], "phones": [(0.0, xmax, "")]}, xmax)


_tg("textgrid_valid", ANALYSES, True, lambda t, x: textgrid_text(t, x))
_tg("textgrid_utf16", ANALYSES, True, lambda t, x: textgrid_text(t, x).encode("utf-16"))
_tg(
    "textgrid_malformed",
    REFUSE,
    False,
    lambda t, x: 'File type = "ooTextFile"\nthis is { not a TextGrid',
)
_tg("textgrid_truncated", REFUSE, False, lambda t, x: textgrid_text(t, x)[:700])
_tg("textgrid_empty_file", REFUSE, False, lambda t, x: b"")
_tg("textgrid_binary_junk", REFUSE, False, lambda t, x: np.random.default_rng(9).bytes(3000))
_tg("textgrid_no_labels", NOT_CONFIDENT, None, _no_intervals)
_tg("textgrid_overlapping", NOT_CONFIDENT, None, _overlapping)
_tg("textgrid_negative_times", NOT_CONFIDENT, None, _negative)
_tg("textgrid_end_before_start", NOT_CONFIDENT, None, _reversed)
_tg("textgrid_longer_than_audio", NOT_CONFIDENT, None, _longer)
_tg("textgrid_unknown_labels", NOT_CONFIDENT, None, _unknown)


def _tr(name: str, expect: str, text: str) -> None:
    def build(d: Path, speech: Path) -> Case:
        return Case(name, "transcript", _copy(speech, d), expect, loads=True, transcript=text)

    SPEECH_SPECS[name] = build


_tr("transcript_matching", ANALYSES, SPEECH_TEXT)
_tr(
    "transcript_mismatch",
    NOT_CONFIDENT,
    "The quick brown fox jumps over the lazy dog by the river bank.",
)
_tr("transcript_empty", NOT_CONFIDENT, "")
_tr("transcript_punctuation_only", NOT_CONFIDENT, " ... !!! ?? ")
_tr("transcript_oov", NOT_CONFIDENT, "Zorglub blimfth quaxxle vrrndt snorfwizzle plonq.")


AUDIO_CASES = tuple(SPECS)
SPEECH_CASES = tuple(SPEECH_SPECS)


def require(corpus: dict[str, Case], name: str) -> Case:
    """The case called ``name``, or a pytest skip when it needs absent shared speech."""
    if name not in corpus:
        import pytest

        pytest.skip(f"case {name!r} needs arctic_a0009.wav from the shared data")
    return corpus[name]


def build_corpus(root: Path, speech: Path | None) -> dict[str, Case]:
    """Write every case under ``root`` and return them by name.

    Parameters
    ----------
    root : pathlib.Path
        Empty folder to write into (one sub-folder per case).
    speech : pathlib.Path or None
        ``arctic_a0009.wav`` (its ``_phone.lab`` beside it); ``None`` skips
        the cases that need real speech.
    """
    out: dict[str, Case] = {}
    for name, (_, build) in SPECS.items():
        d = root / name
        d.mkdir(parents=True)
        out[name] = build(d)
    if speech is not None:
        for name, build_speech in SPEECH_SPECS.items():
            d = root / name
            d.mkdir(parents=True)
            out[name] = build_speech(d, speech)
    return out
