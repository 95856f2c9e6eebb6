"""Peak memory of loading and analysing long recordings (1 hour and shorter).

Run: ``python benchmarks/bench_memory.py [--minutes 1,10,60] [--analyze-minutes 1,10,60]``.
Writes ``benchmarks/results/memory.json``.

Recordings are generated in a temporary folder: CMU ARCTIC ``arctic_a0009``
(shared data) tiled to the requested length, with a TextGrid tiled from its
HTS phone labels so the analysis runs on a known alignment (phone
recognition of an hour, at about real time, would measure pocketsphinx, not
vtract). Without the shared data a speech-like signal is used and only
loading is measured. Each measurement runs in a fresh interpreter; the peak
resident set size (``ru_maxrss``) is reported next to the interpreter's peak
after importing the modules involved, so the difference is what the work
itself costs. Formats: 16 kHz mono 16-bit WAV (the analysis rate) and 48 kHz
stereo 16-bit WAV (a common recorder format, resampled and mixed down on load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _harness import write_result  # noqa: E402
from hardening.corpus import fill_gaps, hts_phones, textgrid_text  # noqa: E402

SHARED = Path(os.environ.get("VTRACT_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
SPEECH = SHARED / "organic" / "arctic" / "arctic_a0009.wav"

#: Child interpreter: import, note the peak, do the work, print the peaks as JSON.
_CHILD = r"""
import json, resource, sys, time
mode, path, grid, ref_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
import vtract
if mode == "analyze":
    import vtract.analysis, vtract.alignment, vtract.tract, vtract.reference
    ref = vtract.Reference.load(ref_path) if ref_path else vtract.default_reference()
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
base = peak()
t0 = time.perf_counter()
out = {}
if mode == "load":
    ev = vtract.load(path)
    out["duration_s"] = ev.duration
else:
    report = vtract.analyze(path, alignment=grid, reference=ref)
    out["verdict"] = report.verdict
    out["n_bigrams"] = report.n_bigrams
    out["duration_s"] = report.evidence.get("duration")
out.update(seconds=time.perf_counter() - t0, import_peak_mb=base, peak_mb=peak())
print(json.dumps(out))
"""


def speech_like(seconds: float, sr: int) -> np.ndarray:
    """Formant-filtered, syllable-modulated noise (when the shared speech is absent)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(0)
    n = int(seconds * sr)
    x = lfilter([1.0], [1.0, -1.3, 0.8], rng.standard_normal(n))
    x *= 0.5 * (1 + np.sin(2 * np.pi * 4.0 * np.arange(n) / sr))
    return 0.3 * x / np.max(np.abs(x))


def write_long(
    path: Path, clip: np.ndarray, clip_sr: int, minutes: float, sr: int, ch: int
) -> None:
    """Tile ``clip`` to ``minutes`` at ``sr`` with ``ch`` channels, written in blocks."""
    from scipy.signal import resample_poly

    x = clip if sr == clip_sr else resample_poly(clip, sr, clip_sr)
    total = int(minutes * 60 * sr)
    block = np.tile(x, max(1, int(60 * sr / x.size)))  # about a minute per block
    with sf.SoundFile(path, "w", samplerate=sr, channels=ch, subtype="PCM_16") as f:
        written = 0
        while written < total:
            part = block[: total - written]
            f.write(np.column_stack([part] * ch) if ch > 1 else part)
            written += part.size


def write_tiled_textgrid(path: Path, lab: Path, clip_seconds: float, minutes: float) -> int:
    """TextGrid of the HTS phones repeated every ``clip_seconds``; returns the phone count."""
    phones = [p for p in hts_phones(lab) if p[2] != "sil"]
    total = minutes * 60
    reps = int(total // clip_seconds)
    tiled = [
        (a + k * clip_seconds, b + k * clip_seconds, lab_)
        for k in range(reps)
        for a, b, lab_ in phones
        if b + k * clip_seconds <= total
    ]
    path.write_text(textgrid_text({"phones": fill_gaps(tiled, total)}, total), encoding="utf-8")
    return len(tiled)


def measure(mode: str, audio: Path, grid: Path | None, reference: str = "") -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(audio), str(grid or ""), reference],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["work_mb"] = out["peak_mb"] - out["import_peak_mb"]
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--minutes", default="1,10,60", help="load lengths (comma-separated)")
    ap.add_argument("--analyze-minutes", default="1,10,60", help="analysis lengths ('' = none)")
    ap.add_argument("--reference", default="", help="reference file (default: the shipped one)")
    args = ap.parse_args()
    load_minutes = [float(m) for m in args.minutes.split(",") if m]
    analyze_minutes = [float(m) for m in args.analyze_minutes.split(",") if m]
    have_speech = SPEECH.is_file()
    if have_speech:
        clip, clip_sr = sf.read(SPEECH, dtype="float64")
    else:
        print(f"shared speech not found at {SPEECH}: loading a speech-like signal, no analysis")
        clip, clip_sr = speech_like(3.0, 16000), 16000
        analyze_minutes = []
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for minutes in sorted(set(load_minutes) | set(analyze_minutes)):
            for sr, ch in ((16000, 1), (48000, 2)):
                if minutes not in load_minutes and (sr, ch) != (16000, 1):
                    continue
                audio = folder / f"long_{minutes:g}min_{sr}_{ch}ch.wav"
                write_long(audio, clip, clip_sr, minutes, sr, ch)
                key = f"{minutes:g}min_{sr // 1000}k_{ch}ch"
                if minutes in load_minutes:
                    res = measure("load", audio, None)
                    res["file_mb"] = round(audio.stat().st_size / 2**20, 1)
                    figures[f"load_{key}"] = res
                    print(f"load    {key:18s} {res}", flush=True)
                if minutes in analyze_minutes and (sr, ch) == (16000, 1):
                    grid = folder / f"long_{minutes:g}min.TextGrid"
                    n_phones = write_tiled_textgrid(
                        grid,
                        SPEECH.with_name("arctic_a0009_phone.lab"),
                        clip.size / clip_sr,
                        minutes,
                    )
                    res = measure("analyze", audio, grid, args.reference)
                    res["n_phones"] = n_phones
                    figures[f"analyze_textgrid_{key}"] = res
                    print(f"analyze {key:18s} {res}", flush=True)
                audio.unlink()
    hour = [
        v
        for k, v in figures.items()
        if k.startswith("analyze") and k.startswith("analyze_textgrid_60min")
    ]
    if hour and "peak_mb" in hour[0]:
        figures["summary"] = {"analyze_1h_peak_mb": hour[0]["peak_mb"]}
    write_result(
        "memory",
        figures,
        {
            "load_minutes": load_minutes,
            "analyze_minutes": analyze_minutes,
            "speech": have_speech,
            "reference": args.reference or "default",
        },
    )


if __name__ == "__main__":
    main()
