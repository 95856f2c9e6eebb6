"""Load + resample throughput: seconds of audio decoded per second of wall time.

Run: ``python benchmarks/bench_load.py [--minutes 10]``. Writes
``benchmarks/results/load.json``. The input is a speech-like signal (noise
shaped by a moving formant filter, amplitude-modulated at a syllable rate)
written as 16-bit FLAC at 44.1 kHz, then loaded with :func:`vtract.load`
(decode, hash, mono, polyphase resample to 16 kHz) and at its own rate; with
PyAV installed (``vtract[av]``) also as AAC in an M4A (the FFmpeg path).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import vtract
from _harness import best_of, write_result


def speech_like(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    noise = rng.standard_normal(n)
    shaped = lfilter([1.0], [1.0, -1.3, 0.8], noise)
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4.0 * np.arange(n) / sr))
    x = shaped * envelope
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def _write_m4a(path: Path, x: np.ndarray, rate: int) -> Path | None:
    """``x`` as AAC (128 kbit/s) in an M4A, with PyAV; ``None`` without it."""
    try:
        import av  # noqa: F401
    except ImportError:
        return None
    from _encoded_audio import encode  # tests/

    return encode(path, x, rate, bit_rate=128000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=44100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        sf.write(path, speech_like(seconds, args.rate), args.rate, subtype="PCM_16")
        size = path.stat().st_size
        t_resample, ev = best_of(lambda: vtract.load(path, sr=16000), args.repeats)
        t_native, _ = best_of(lambda: vtract.load(path, sr=None), args.repeats)
        t_decode, _ = best_of(lambda: sf.read(path, dtype="float64"), args.repeats)
        m4a = _write_m4a(Path(tmp) / "long.m4a", speech_like(seconds, args.rate), args.rate)
        if m4a is not None:  # the FFmpeg path (vtract[av]): AAC in an M4A
            t_m4a, _ = best_of(lambda: vtract.load(m4a, sr=16000), args.repeats)
    figures = {
        "audio_seconds": seconds,
        "file_mb": round(size / 1e6, 2),
        "load_resample_to_16k_s": round(t_resample, 3),
        "load_resample_audio_s_per_s": round(seconds / t_resample, 1),
        "load_native_rate_audio_s_per_s": round(seconds / t_native, 1),
        "bare_soundfile_decode_audio_s_per_s": round(seconds / t_decode, 1),
        "output_samples": int(ev.samples.size),
    }
    if m4a is not None:
        figures["m4a_aac_load_resample_audio_s_per_s"] = round(seconds / t_m4a, 1)
    write_result(
        "load", figures, {"minutes": args.minutes, "rate": args.rate, "repeats": args.repeats}
    )


if __name__ == "__main__":
    main()
