"""End-to-end speed of ``vtract.analyze`` as a real-time factor on one core.

Run: ``python benchmarks/bench_analyze_speed.py [--quick] [--reference R]``
-> prints figures and writes ``benchmarks/results/analyze_speed.json``.

Real-time factor = audio seconds / CPU seconds of this process (numba and
BLAS limited to one thread, pocketsphinx is single-threaded), so contention
from other processes inflates wall time but not the figure much. Wall time is
reported too. Every case is run once to warm up (numba compilation, decoder
start) and then timed ``--repeats`` times (best CPU time kept).

Cases (``../shared/data``):

- ``alignment given``: TextGrid / HTS labels read from disk (alignment
  excluded from the work);
- ``transcript``: forced alignment with pocketsphinx included (the target is
  >= 10x real time here);
- ``recognition``: no transcript, word recognition + alignment included.

``stages`` splits one transcript case (arctic_a0009) into the stages of
``analyze`` (:func:`stage_breakdown`), so a run shows where the time goes.

The same VM runs this code at quite different speeds from hour to hour
(session 15: 11.9x and 7.6x with a transcript, one hour apart, same code),
so every run also times a fixed workload (:func:`fixed_workload_cpu_s`: a
pure-Python loop and NumPy FFTs, no vtract code) before and after the cases:
figures from runs whose workload times differ are not comparable.

The reference is ``--reference`` or the shipped default; when neither exists
a small reference is fitted on the fly from two aligned recordings (the
reference only affects scoring, a small part of the time).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vtract
from _harness import emit_result
from vtract.analysis import analyze
from vtract.errors import ReferenceError_

SHARED = Path(
    os.environ.get("VTRACT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)

CASES: list[dict[str, Any]] = [
    {
        "name": "arctic_a0009",
        "mode": "alignment",
        "file": "organic/arctic/arctic_a0009.wav",
        "alignment": "organic/arctic/arctic_a0009_phone.lab",
    },
    {
        "name": "mfa_acoustic_corpus",
        "mode": "alignment",
        "file": "organic/mfa/acoustic_corpus.wav",
        "alignment": "organic/mfa/acoustic_corpus.TextGrid",
    },
    {
        "name": "arctic_a0009",
        "mode": "transcript",
        "file": "organic/arctic/arctic_a0009.wav",
        "transcript": "He turned sharply, and faced Gregson across the table.",
    },
    {
        "name": "LJ001-0001",
        "mode": "transcript",
        "file": "organic/ljspeech/LJ001-0001.flac",
        "transcript": "Printing, in the only sense with which we are at present concerned, differs from "
        "most if not from all the arts and crafts represented in the Exhibition",
    },
    {
        "name": "LJ001-0005",
        "mode": "transcript",
        "file": "organic/ljspeech/LJ001-0005.flac",
        "transcript": "the invention of movable metal letters in the middle of the fifteenth century "
        "may justly be considered as the invention of the art of printing.",
    },
    {
        "name": "piper_joe_0",
        "mode": "transcript",
        "file": "synthetic/piper/joe_0.wav",
        "transcript": "She had your dark suit in greasy wash water all year.",
    },
    {"name": "arctic_a0009", "mode": "recognition", "file": "organic/arctic/arctic_a0009.wav"},
]


def fixed_workload_cpu_s() -> float:
    """CPU seconds of a fixed workload that uses no vtract code (a machine-speed yardstick):
    three million iterations of a pure-Python loop and 300 NumPy FFTs of 65536 points."""
    import numpy as np

    t0 = time.process_time()
    acc = 0
    for i in range(3_000_000):
        acc += i * i % 7
    x = np.random.default_rng(0).standard_normal(2**16)
    for _ in range(300):
        np.fft.rfft(x)
    return round(time.process_time() - t0, 3)


def small_reference() -> Any:
    from vtract.features import extract_features
    from vtract.reference import Reference

    tables = []
    for wav, tg in [
        ("organic/mfa/cold_corpus.wav", "organic/mfa/cold_corpus.TextGrid"),
        ("organic/praatio/mary.wav", "organic/praatio/mary.TextGrid"),
    ]:
        ev = vtract.load(SHARED / wav)
        tables.append(extract_features(ev, vtract.read_alignment(SHARED / tg), label="organic"))
    import pandas as pd

    return Reference.fit(
        pd.concat(tables, ignore_index=True), name="bench-small", settings={"extract_features": {}}
    )


def run_case(case: dict[str, Any], ref: Any, repeats: int) -> dict[str, Any]:
    path = SHARED / case["file"]
    kwargs: dict[str, Any] = {"reference": ref}
    if case["mode"] == "alignment":
        kwargs["alignment"] = SHARED / case["alignment"]
    elif case["mode"] == "transcript":
        kwargs["transcript"] = (
            case.get("transcript") or (SHARED / case["transcript_file"]).read_text().strip()
        )
    duration = vtract.load(path).duration
    analyze(path, **kwargs)  # warm-up
    cpu, wall = [], []
    rep = None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        rep = analyze(path, **kwargs)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    assert rep is not None
    return {
        "case": case["name"],
        "mode": case["mode"],
        "audio_s": round(duration, 3),
        "cpu_s": round(min(cpu), 4),
        "wall_s": round(min(wall), 4),
        "rtf_cpu": round(duration / min(cpu), 2),
        "rtf_wall": round(duration / min(wall), 2),
        "n_bigrams": rep.n_bigrams,
        "verdict": rep.verdict,
    }


def _best_cpu(fn: Any, repeats: int) -> tuple[float, Any]:
    """Smallest CPU time of ``repeats`` calls of ``fn`` after one warm-up, and its result."""
    out = fn()
    best = float("inf")
    for _ in range(repeats):
        c0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - c0)
    return best, out


def stage_breakdown(case: dict[str, Any], ref: Any, repeats: int) -> dict[str, Any]:
    """CPU seconds of each stage of ``analyze`` on one transcript case (best of ``repeats``).

    Stages as :func:`vtract.analyze` runs them: decode the file, force-align the
    transcript (pocketsphinx, two passes), measure the features (windows and
    tract estimates), the anatomical checks, and the detector's decision;
    ``other`` is the whole call minus these (signal measures for the verdict
    conditions, report assembly).
    """
    from vtract.analysis import reference_features
    from vtract.detect.default import DefaultDetector
    from vtract.detect.estimates import plausibility_flags

    path = SHARED / case["file"]
    stages: dict[str, float] = {}
    stages["load"], ev = _best_cpu(lambda: vtract.load(path), repeats)
    stages["align"], aln = _best_cpu(lambda: vtract.align(ev, case["transcript"]), repeats)
    stages["features"], (feats, _, _) = _best_cpu(lambda: reference_features(ev, aln, ref), repeats)
    stages["plausibility"], flags = _best_cpu(lambda: plausibility_flags(feats), repeats)
    stages["decision"], _ = _best_cpu(lambda: DefaultDetector(ref).decide(feats, flags), repeats)
    whole, _ = _best_cpu(
        lambda: analyze(path, transcript=case["transcript"], reference=ref), repeats
    )
    stages["other"] = max(whole - sum(stages.values()), 0.0)
    return {
        "case": case["name"],
        "audio_s": round(float(ev.duration), 3),
        "analyze_cpu_s": round(whole, 4),
        "stage_cpu_s": {k: round(v, 4) for k, v in stages.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, no recognition case")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reference", default=None)
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set VTRACT_SHARED_DATA)")
    from vtract.reference import Reference, default_reference

    if args.reference:
        ref, ref_name = Reference.load(args.reference), args.reference
    else:
        try:
            ref, ref_name = default_reference(), "default"
        except ReferenceError_:
            ref, ref_name = small_reference(), "bench-small (no default reference installed)"
    repeats = 1 if args.quick else args.repeats
    cases = [c for c in CASES if not (args.quick and c["mode"] == "recognition")]
    workload_before = fixed_workload_cpu_s()
    rows = []
    for case in cases:
        r = run_case(case, ref, repeats)
        print(
            f"  {r['mode']:12s} {r['case']:22s} {r['audio_s']:6.2f} s audio  "
            f"cpu {r['cpu_s']:7.3f} s  RTF {r['rtf_cpu']:6.1f}x (wall {r['rtf_wall']:.1f}x)",
            flush=True,
        )
        rows.append(r)
    breakdown = stage_breakdown(
        next(c for c in CASES if c["mode"] == "transcript"), ref, max(repeats, 3)
    )
    print(
        f"  stages of {breakdown['case']} (CPU s): "
        + ", ".join(f"{k} {v:.3f}" for k, v in breakdown["stage_cpu_s"].items()),
        flush=True,
    )
    figures: dict[str, Any] = {
        "cases": rows,
        "stages": breakdown,
        "fixed_workload_cpu_s_before_after": [workload_before, fixed_workload_cpu_s()],
    }
    for mode in ("alignment", "transcript", "recognition"):
        sel = [r for r in rows if r["mode"] == mode]
        if sel:
            audio = sum(r["audio_s"] for r in sel)
            figures[f"rtf_cpu_{mode}"] = round(audio / sum(r["cpu_s"] for r in sel), 2)
            figures[f"rtf_wall_{mode}"] = round(audio / sum(r["wall_s"] for r in sel), 2)
    figures["target_rtf_with_transcript"] = 10.0
    figures["meets_target"] = bool(figures.get("rtf_cpu_transcript", 0) >= 10.0)
    params = {
        "repeats": repeats,
        "reference": ref_name,
        "threads": {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")},
    }
    emit_result("analyze_speed", figures, params, write=not args.no_json)


if __name__ == "__main__":
    main()
