"""Speed of the vocal-tract estimators, one core (``NUMBA_NUM_THREADS=1``).

Run from the repository root::

    /work/venv/bin/python benchmarks/bench_tract_speed.py            # ~1-2 min
    /work/venv/bin/python benchmarks/bench_tract_speed.py --quick    # ~20 s

Windows: 565-sample (35.3 ms) windows at 16 kHz, cut every 37 samples from
synthetic vowels (vtract.synth: two- and three-tube shapes, LF pulses, lossy
tract, radiation), plus LibriSpeech windows from ``../shared/data`` when
present. Figures:

- ``paper``: per-window time of ``solver="published"`` (1500-step
  central-difference descent) and of the default fast solver on the same
  windows (target spectrum included in both), their ratio (target >= 200)
  and the share of windows where the fast objective is <= the published one
  (target >= 95%).
- ``lpc`` and ``default`` windows per second through
  ``vtract.estimate_tracts`` after JIT warm-up (targets 20,000 and 2,000).
- Praat ``Sound: To LPC (burg)`` + ``LPC: To VocalTract (slice)`` through
  parselmouth, windows per second, side by side.
- JIT start: wall time of a fresh process importing vtract and estimating one
  window per method, with an empty Numba cache (cold: compiles) and again with
  the cache it left (warm).

Writes ``benchmarks/results/tract_speed.json``.
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"  # one-core figures; must precede numba import

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vtract
from _harness import write_result
from vtract.synth import tube_vowel
from vtract.tract import paper as paper_mod
from vtract.tract.estimate import PAPER_FAST_ITERATIONS as FAST_ITERATIONS

ROOT = Path(__file__).resolve().parents[1]
SHAPES = [
    ([1.0, 7.0], [8.0, 9.0]),
    ([8.0, 1.0], [9.0, 6.0]),
    ([5.0, 0.6, 6.0], [8.0, 3.0, 5.0]),
    ([2.0, 6.0, 0.8], [6.0, 8.0, 2.5]),
]
WINDOW = 565
HOP = 37


def synthetic_windows(n: int) -> np.ndarray:
    out = []
    per = int(np.ceil(n / len(SHAPES)))
    for i, (a, lens) in enumerate(SHAPES):
        x = tube_vowel(a, lens, 16000, f0=100.0 + 15 * i, duration=0.15 + per * HOP / 16000, seed=i)
        out += [x[1600 + j * HOP : 1600 + j * HOP + WINDOW] for j in range(per)]
    return np.ascontiguousarray(np.stack(out[:n]), dtype=np.float64)


def speech_windows(n: int) -> np.ndarray | None:
    root = ROOT.parent / "shared" / "data" / "organic" / "librispeech" / "test-other"
    files = sorted(root.rglob("*.flac"))[:10]
    if not files:
        return None
    import soundfile as sf

    out = []
    rng = np.random.default_rng(0)
    for f in files:
        x, sr = sf.read(f)
        if sr != 16000:
            continue
        for s in rng.integers(0, x.size - WINDOW, 4 * n // len(files) + 4):
            w = x[s : s + WINDOW]
            if np.max(np.abs(w)) > 0.02:
                out.append(w)
    return np.ascontiguousarray(np.stack(out[:n]), dtype=np.float64) if out else None


def bench_paper(frames: np.ndarray) -> dict[str, object]:
    omega = paper_mod.paper_omega()
    x0 = frames[0]
    paper_mod.fit_fast(x0, paper_mod.paper_target(x0), omega, 15, FAST_ITERATIONS)  # warm up
    paper_mod.fit_published(paper_mod.paper_target(x0), omega, 15, 2)
    t_pub, t_fast, wins, e_pub_all, e_fast_all = [], [], 0, [], []
    for x in frames:
        t0 = time.perf_counter()
        target = paper_mod.paper_target(x)
        r_pub = paper_mod.fit_published(target, omega, 15, paper_mod.PUBLISHED_STEPS)
        t1 = time.perf_counter()
        target = paper_mod.paper_target(x)
        _, e_fast = paper_mod.fit_fast(x, target, omega, 15, FAST_ITERATIONS)
        t2 = time.perf_counter()
        e_pub = paper_mod.paper_objective(r_pub, target, omega)
        t_pub.append(t1 - t0)
        t_fast.append(t2 - t1)
        wins += bool(e_fast <= e_pub)
        e_pub_all.append(e_pub)
        e_fast_all.append(e_fast)
    ratio = float(np.sum(t_pub) / np.sum(t_fast))
    share = wins / len(frames)
    return {
        "windows": len(frames),
        "published_s_per_window": float(np.mean(t_pub)),
        "fast_ms_per_window": float(np.mean(t_fast) * 1e3),
        "speedup": ratio,
        "share_fast_objective_le_published": share,
        "median_objective_published_db": float(np.median(e_pub_all)),
        "median_objective_fast_db": float(np.median(e_fast_all)),
        "meets_targets": bool(ratio >= 200 and share >= 0.95),
    }


def windows_per_second(method: str, frames: np.ndarray, repeats: int = 3) -> float:
    vtract.estimate_tracts(frames[:4], 16000, method=method)  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        vtract.estimate_tracts(frames, 16000, method=method)
        best = min(best, time.perf_counter() - t0)
    return len(frames) / best


def praat_windows_per_second(frames: np.ndarray) -> float:
    import parselmouth
    from parselmouth.praat import call

    def one(x: np.ndarray) -> None:
        snd = parselmouth.Sound(x, sampling_frequency=16000.0)
        dur = x.size / 16000
        lpc = call(snd, "To LPC (burg)", 16, dur, dur, 50.0)
        call(lpc, "To VocalTract (slice)", dur / 2, 0.17)

    one(frames[0])
    t0 = time.perf_counter()
    for x in frames:
        one(x)
    return len(frames) / (time.perf_counter() - t0)


JIT_SCRIPT = """
import time, numpy as np
t0 = time.perf_counter()
import vtract
from vtract.synth import tube_vowel
x = tube_vowel([1.0, 7.0], [8.0, 9.0], 16000, duration=0.2)[1600:2165]
t1 = time.perf_counter()
for m in ("lpc", "default", "lpc-refined", "paper"):
    vtract.estimate_tract(x, 16000, method=m)
print(time.perf_counter() - t1)
"""


def jit_start() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS="1")
        times = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", JIT_SCRIPT], env=env, capture_output=True, text=True,
                check=True,
            )  # fmt: skip
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"cold_s": times[0], "warm_s": times[1], "ratio": times[0] / times[1]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer windows (noisier)")
    ap.add_argument("--no-jit", action="store_true", help="skip the cold/warm start subprocesses")
    args = ap.parse_args(argv)
    n_paper = 8 if args.quick else 40
    n_fast = 300 if args.quick else 2000

    synth = synthetic_windows(n_fast)
    speech = speech_windows(n_paper)
    paper_frames = synth[:: max(1, n_fast // n_paper)][: n_paper // 2]
    if speech is not None:
        paper_frames = np.concatenate([paper_frames, speech[: n_paper - len(paper_frames)]])
    else:
        paper_frames = synth[:: max(1, n_fast // n_paper)][:n_paper]

    figures: dict[str, object] = {"numba_threads": 1, "window_samples": WINDOW, "rate": 16000}
    print(f"paper: published vs fast on {len(paper_frames)} windows ...", flush=True)
    figures["paper"] = bench_paper(paper_frames)
    print("lpc / default / lpc-refined / praat throughput ...", flush=True)
    lpc = windows_per_second("lpc", synth)
    default = windows_per_second("default", synth)
    lpc_refined = windows_per_second("lpc-refined", synth)
    fast_paper = windows_per_second("paper", synth[: max(20, n_fast // 20)], repeats=1)
    figures["lpc_windows_per_s"] = lpc
    figures["default_windows_per_s"] = default
    figures["lpc_refined_windows_per_s"] = lpc_refined
    figures["paper_fast_windows_per_s"] = fast_paper
    figures["praat_lpc_vocaltract_windows_per_s"] = praat_windows_per_second(synth[:500])
    figures["targets"] = {
        "lpc_windows_per_s>=20000": bool(lpc >= 20000),
        "default_windows_per_s>=2000": bool(default >= 2000),
    }
    if not args.no_jit:
        print("JIT cold/warm start ...", flush=True)
        figures["jit_start"] = jit_start()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    figures["load_average_1min"] = load
    write_result(
        "tract_speed",
        figures,
        {"quick": args.quick, "paper_windows": len(paper_frames), "throughput_windows": n_fast},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
