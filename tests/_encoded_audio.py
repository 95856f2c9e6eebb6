"""Test audio, and its encoding with FFmpeg (PyAV), for tests, fuzz seeds and benchmarks.

PyAV is in the test extra (``vtract[av]``); :func:`encode` imports it when
called, so modules that merely import this one do not need it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def speechlike(seconds: float = 2.0, sr: int = 16000) -> np.ndarray:
    """A gliding harmonic tone with a syllable envelope (deterministic, float32)."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    rng = np.random.default_rng(3)
    return (0.2 * voice * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def encode(
    path: str | Path,
    samples: np.ndarray,
    sr: int,
    *,
    fmt: str = "ipod",
    codec: str = "aac",
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
    video_frames: int = 0,
) -> Path:
    """Write ``samples`` ((n,) or (channels, n), float) with PyAV; return the path.

    Timestamps are set, as real writers set them, so an MP4 gets an edit list
    marking the encoder delay. ``video_frames`` > 0 adds a small MPEG-4 video
    stream (10 frames per second) before the audio.
    """
    import av

    data = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    layout = "mono" if data.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        stream.time_base = Fraction(1, sr)
        if bit_rate is not None:
            stream.codec_context.bit_rate = bit_rate
        if video_frames:
            video = out.add_stream("mpeg4", rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
            for i in range(video_frames):
                picture = np.full((48, 64, 3), 5 * i % 256, np.uint8)
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = i
                for packet in video.encode(frame):
                    out.mux(packet)
            for packet in video.encode(None):
                out.mux(packet)
        step = 960
        for i in range(0, data.shape[1], step):
            block = np.ascontiguousarray(data[:, i : i + step])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = sr, i, Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)
