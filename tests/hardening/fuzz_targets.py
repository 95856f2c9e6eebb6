"""Fuzz targets for the readers: anything but a VtractError escaping is a bug.

Shared by the brief in-suite fuzzing (``test_fuzz_readers.py``, hypothesis)
and the long on-demand run (``benchmarks/fuzz_readers.py``, atheris when
installed). Inputs are built from small valid seeds by byte- and token-level
mutations, which reach far deeper into the parsers than random bytes.
"""

from __future__ import annotations

import io
import os
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import vtract
from vtract.errors import VtractError

#: target name -> file suffix the bytes are written under
TARGETS = {
    "wav": ".wav",
    "flac": ".flac",
    "mp3": ".mp3",
    "ogg": ".ogg",
    "ffmpeg": ".m4a",
    "textgrid": ".TextGrid",
    "timit": ".PHN",
    "hts": ".lab",
    "festival": ".segs",
    "csv": ".csv",
}

#: targets read by vtract.load (the others by vtract.read_alignment)
AUDIO_TARGETS = ("wav", "flac", "mp3", "ogg", "ffmpeg")

_SEEDS: dict[str, list[bytes]] = {}


def _audio_seed(
    fmt: str, subtype: str | None, sr: int = 16000, channels: int = 1, seconds: float = 0.08
) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    x = 0.4 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 1700 * t)
    data = np.column_stack([x] * channels) if channels > 1 else x
    buf = io.BytesIO()
    sf.write(buf, data, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def _tagged_wav() -> bytes:
    """A WAV with a LIST/INFO chunk (software, comment) after its data chunk."""
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", 16000, 1, format="WAV", subtype="PCM_16") as snd:
        snd.software, snd.comment = "fuzz seed", "odd"
        snd.write(0.3 * np.sin(np.arange(1280) * 0.1))
    return buf.getvalue()


def _ffmpeg_seeds() -> list[bytes]:
    """M4A (AAC, index first), WebM (Opus) and AMR files, made with PyAV (vtract[av])."""
    from _encoded_audio import encode

    seeds = []
    for fmt, codec, sr, options in (
        ("ipod", "aac", 16000, {"movflags": "faststart"}),
        ("webm", "libopus", 48000, {}),
        ("amr", "libopencore_amrnb", 8000, {}),
    ):
        t = np.arange(int(0.3 * sr)) / sr
        fd, name = tempfile.mkstemp()  # faststart rewrites the file: a real one
        os.close(fd)
        path = encode(name, 0.4 * np.sin(2 * np.pi * 220 * t), sr, fmt=fmt, codec=codec,
                      options=options)  # fmt: skip
        seeds.append(path.read_bytes())
        os.unlink(name)
    return seeds


def _pcm16_wav(sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.sin(np.arange(2000) / 7) * 9000).astype("<i2").tobytes())
    return buf.getvalue()


_TEXTGRID_LONG = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.2
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.2
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 0.6
            text = "hello"
        intervals [2]:
            xmin = 0.6
            xmax = 1.2
            text = ""
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.2
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 0.1
            text = "HH"
        intervals [2]:
            xmin = 0.1
            xmax = 0.3
            text = "AH0"
        intervals [3]:
            xmin = 0.3
            xmax = 0.45
            text = "L"
        intervals [4]:
            xmin = 0.45
            xmax = 0.6
            text = "OW1"
"""

_TEXTGRID_SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
1.2
<exists>
1
"IntervalTier"
"phones"
0
1.2
3
0
0.4
"s"
0.4
0.8
"iy"
0.8
1.2
""
"""


def seeds(target: str) -> list[bytes]:
    """Valid example inputs of ``target`` that mutations start from."""
    if not _SEEDS:
        _SEEDS["wav"] = [
            _pcm16_wav(),
            _audio_seed("WAV", "FLOAT"),
            _audio_seed("WAV", "PCM_24", 8000, 2),
            _audio_seed("WAV", "PCM_U8"),
            # containers whose chunk sizes vtract.container reads (content decides the format)
            _audio_seed("RF64", "PCM_16"),
            _audio_seed("AIFF", "PCM_16"),
            _tagged_wav(),
        ]
        _SEEDS["flac"] = [_audio_seed("FLAC", "PCM_16"), _audio_seed("FLAC", "PCM_24", 22050, 2)]
        _SEEDS["mp3"] = [_audio_seed("MP3", "MPEG_LAYER_III")]
        # Ogg pages: vtract.ogg walks them, checks their CRCs and rebuilds a cut last page
        vorbis = _audio_seed("OGG", "VORBIS", seconds=0.3)
        opus = _audio_seed("OGG", "OPUS", 48000, 2, seconds=0.3)
        _SEEDS["ogg"] = [vorbis, opus, opus[: len(opus) * 3 // 4]]
        _SEEDS["ffmpeg"] = _ffmpeg_seeds()
        _SEEDS["textgrid"] = [
            _TEXTGRID_LONG.encode(),
            _TEXTGRID_SHORT.encode(),
            _TEXTGRID_LONG.encode("utf-16"),
            b"\xef\xbb\xbf" + _TEXTGRID_SHORT.encode(),
        ]
        _SEEDS["timit"] = [b"0 3050 h#\n3050 4559 sh\n4559 5723 ix\n5723 6642 hv\n6642 8772 eh\n"]
        _SEEDS["festival"] = [b"#\n0.1750 100 pau\n0.2700 100 ao\n0.3700 100 th\n0.4650 100 er\n"]
        _SEEDS["csv"] = [
            b"start_phoneme,end_phoneme,arpabet,ipa,start_word,end_word,word\n"
            b"0,1600,HH,h,0,4800,hello\n1600,3200,AH0,@,0,4800,hello\n3200,4800,L,l,0,4800,hello\n",
            b"start,end,label,word\n0.0,0.1,s,see\n0.1,0.3,iy,see\n",
        ]
        _SEEDS["hts"] = [
            b"0 1300000 sil\n1300000 2050000 hh\n2050000 2700000 iy\n",
            b"0 1300000 x^x-sil+hh=iy@x_x/A:0_0_0\n1300000 2050000 x^sil-hh+iy=t@1_2/A:0\n",
        ]
    return _SEEDS[target]


#: Tokens spliced into text formats: numbers and strings parsers mishandle.
TOKENS = [
    b"nan", b"-inf", b"inf", b"1e308", b"-1e308", b"-1", b"0", b"1e-320", b"99999999999999999999",
    b"0x10", b"\"", b"\"\"", b"\\", b"\n", b"\r\n", b"\x00", b"<exists>", b"size = 1000000000",
    b"intervals [", b"item [", b"\xff\xfe", b"\xef\xbb\xbf", b"\xe9", b"  ", b"=", b"-",
]  # fmt: skip


def mutate(seed: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply edit operations ``(kind, position, value)`` to ``seed``.

    Kinds: 0 flip a bit, 1 set a byte, 2 delete a run, 3 duplicate a run,
    4 insert a token from :data:`TOKENS`, 5 truncate, 6 write a 32-bit
    little-endian integer (header fields).
    """
    data = bytearray(seed)
    for kind, pos, value in ops:
        n = len(data)
        p = pos % (n + 1)
        k = kind % 7
        if k == 0 and n:
            data[p % n] ^= 1 << (value % 8)
        elif k == 1 and n:
            data[p % n] = value % 256
        elif k == 2:
            del data[p : p + 1 + value % 64]
        elif k == 3:
            data[p:p] = data[p : p + 1 + value % 64]
        elif k == 4:
            data[p:p] = TOKENS[value % len(TOKENS)]
        elif k == 5:
            del data[p:]
        elif k == 6:
            data[p : p + 4] = (value % 2**32).to_bytes(4, "little")
    return bytes(data)


def _read(target: str, path: Path) -> object:
    if target in AUDIO_TARGETS:
        return vtract.load(path)
    return vtract.read_alignment(path)


def run_target(target: str, data: bytes, folder: str | os.PathLike[str] | None = None) -> str:
    """Feed ``data`` to the reader of ``target``; return ``"ok"`` or the VtractError name.

    Any other exception propagates: that is a bug.
    """
    suffix = TARGETS[target]
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            _read(target, Path(name))
        except VtractError as exc:
            return type(exc).__name__
        return "ok"
    finally:
        os.unlink(name)


def reproducer(target: str, data: bytes) -> str:
    """A Python snippet that replays one failing input."""
    return (
        "import pathlib, vtract\n"
        f"p = pathlib.Path('crash{TARGETS[target]}'); p.write_bytes({data!r})\n"
        f"vtract.{'load' if target in AUDIO_TARGETS else 'read_alignment'}(p)\n"
    )


RunTarget = Callable[[str, bytes], str]
