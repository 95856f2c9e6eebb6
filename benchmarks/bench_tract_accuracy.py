"""Accuracy of vocal-tract estimators against known area functions.

Run (from the repository root)::

    /work/venv/bin/python benchmarks/bench_tract_accuracy.py --quick      # ~1 min, subset
    /work/venv/bin/python benchmarks/bench_tract_accuracy.py              # all cases
    /work/venv/bin/python benchmarks/bench_tract_accuracy.py --methods default,lpc --split dev

Ground truth (see ``tests/_tract_truth.py``): analytic two/three-tube vowels
(vtract's synthesiser), Fant's (1960) vowels from Praat (rendered by vtract's
synthesiser, by Praat's own tube model, and shrunk to female size at 200 Hz)
and VocalTractLab JD3 vowels (``synth_block`` audio, ``tract_state_to_tube_state``
areas), and area functions of two real speakers measured with MRI (Story et
al. 1996, Story 2008, Story et al. 1998: 32 vowels rendered by vtract's
synthesiser and by Praat's tube model). Splits: ``dev`` (analytic + 8 VTL
vowels) for tuning, ``heldout`` (Fant + 8 other VTL vowels + every MRI vowel)
for honest reporting; the ``src:*`` groups summarise each source.

Sanity rows (not in the targets): ``*/vtract-wakita-ideal`` are Wakita's exact
all-pole tube (16 sections of c/(2 fs) at 16 kHz, 17.5 cm; matched glottis,
lossless, flow impulses, no pre-emphasis needed): plain autocorrelation LPC of
order 16 recovers them with r = 1.00, and so does Praat with pre-emphasis off
(``tests/test_synth.py``). An LPC method that misses them has a convention,
order or pre-emphasis problem. ``*/vtract-impulse-lossless`` have a closed
glottis and radiation only (very sharp formants).

Methods: every ``vtract.estimate_tract`` method that exists (``paper``,
``lpc``, ``lpc-refined``, ``default``; missing ones are listed as unavailable) and ``praat``:
Praat's ``Sound: To LPC (burg)`` (order ``round(2 L fs / c)`` with L = 17 cm,
c = 353 m/s; window = frame; pre-emphasis from 50 Hz - note 0 Hz would mean a
full first difference) then ``LPC: To VocalTract (slice)`` (length 0.17 m).

Metric, per case: frames of ``--frame-ms`` (default 35.3 ms = 565 samples at
16 kHz, the paper's window) from the steady part; per frame the Pearson r of
log-areas on 40 points at the midpoints of equal cells of each tube's *own*
normalised length (glottis = 0, lips = 1; areas piecewise constant), and the
length error (estimate - truth, cm). The case's value is the median over its
frames. Summaries per split and method over the *realistic* cases (glottal
pulses + losses; the uniform tube has no shape, so only its length counts):
median r, minimum r, median |length error|, against the targets
median r >= 0.85, no case below 0.5, median |length error| <= 1 cm.

Writes ``benchmarks/results/tract_accuracy.json`` (with provenance) and prints
a table. Figures are deterministic (seeded synthesis).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _tract_truth import TractCase, all_cases  # noqa: E402
from vtract.provenance import provenance  # noqa: E402
from vtract.synth import log_area_correlation  # noqa: E402

TARGETS = {"median_r": 0.85, "min_r": 0.5, "median_abs_length_error_cm": 1.0}
VTRACT_METHODS = ("paper", "lpc", "lpc-refined", "default")
PRAAT_LENGTH_CM = 17.0
PRAAT_C_CM_S = 35300.0
PRAAT_PREEMPHASIS_HZ = 50.0


def praat_lpc_tract(frame: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Praat's Burg LPC -> VocalTract on one frame: (areas glottis->lips, section length cm)."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(np.asarray(frame, dtype=np.float64), sampling_frequency=sr)
    order = round(2.0 * PRAAT_LENGTH_CM * sr / PRAAT_C_CM_S)
    dur = frame.size / sr
    lpc = call(sound, "To LPC (burg)", order, dur, dur, PRAAT_PREEMPHASIS_HZ)
    vt = call(lpc, "To VocalTract (slice)", dur / 2.0, PRAAT_LENGTH_CM / 100.0)
    matrix = call(vt, "To Matrix")
    # Praat's VocalTract x axis runs from the glottis (0) to the lips
    return np.array(matrix.values[0], dtype=np.float64) * 1e4, float(matrix.dx) * 100.0


def _vtract_estimator(method: str):
    import vtract

    def run(frame: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
        est = vtract.estimate_tract(frame, sr, method=method)
        return (
            np.asarray(est.areas, dtype=np.float64),
            float(est.section_length_cm),
            float(est.length_cm),
        )

    return run


def _praat_estimator(frame: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
    areas, dx = praat_lpc_tract(frame, sr)
    return areas, dx, dx * areas.size


def available_methods(requested: list[str], probe: TractCase) -> dict[str, Any]:
    """Estimators to run: name -> callable, or an error string if unavailable."""
    out: dict[str, Any] = {}
    frame = probe.frames(565, 1, 1)[0]
    for m in requested:
        fn = _praat_estimator if m == "praat" else _vtract_estimator(m)
        try:
            fn(frame, probe.sr)
        except Exception as exc:  # report, do not hide
            out[m] = f"unavailable: {type(exc).__name__}: {exc}"
            continue
        out[m] = fn
    return out


def _leave_speaker_out(case: TractCase) -> None:
    """Give the ``default`` prior the MRI codebook without this case's speaker (if it is one).

    The shipped prior (:data:`vtract.tract.default.MRI_PRIOR_CODEBOOK`) holds
    every MRI vowel; scoring an MRI vowel with it would test the prior on its
    own data, so MRI cases are scored with the other speaker's vowels only.
    """
    from vtract.tract import default
    from vtract.tract.mri_shapes import mri_speaker
    from vtract.tract.shape_prior import mri_codebook

    exclude = [mri_speaker(str(case.info["dataset"]))] if case.source == "mri" else []
    default.MRI_PRIOR_CODEBOOK = mri_codebook(default.N_COSINES, exclude_speakers=exclude)


def score_case(case: TractCase, fn, frames: list[np.ndarray]) -> dict[str, Any]:
    rs, errs, lengths = [], [], []
    first: dict[str, Any] | None = None
    t0 = time.perf_counter()
    error = None
    for frame in frames:
        try:
            areas, dx, length = fn(frame, case.sr)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            rs.append(float("nan"))
            errs.append(float("nan"))
            lengths.append(float("nan"))
            continue
        if areas.size < 2 or not np.all(np.isfinite(areas)) or np.any(areas <= 0):
            r = float("nan")
            error = error or "non-positive or non-finite areas"
        elif case.shape == "uniform":
            r = float("nan")  # a constant truth has no shape to correlate with
        else:
            r = log_area_correlation(areas, dx, case.areas_cm2, case.section_lengths_cm)
        if first is None:
            first = {"areas_cm2": areas.tolist(), "section_length_cm": dx}
        rs.append(r)
        lengths.append(length)
        errs.append(length - case.length_cm)
    seconds = time.perf_counter() - t0
    valid_r = [r for r in rs if math.isfinite(r)]
    valid_e = [e for e in errs if math.isfinite(e)]
    return {
        "r_frames": rs,
        "r": float(np.median(valid_r)) if valid_r else None,
        # stability: how much the shape changes when the window moves
        "r_spread": float(np.ptp(valid_r)) if len(valid_r) > 1 else None,
        "length_cm_frames": lengths,
        "length_error_cm": float(np.median(valid_e)) if valid_e else None,
        "first_frame_estimate": first,
        "seconds_per_frame": seconds / max(1, len(frames)),
        "error": error,
    }


def _median_or_none(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def summarise(rows: list[dict[str, Any]], method: str) -> dict[str, Any]:
    """Target statistics over realistic cases (failed cases count as r = -1)."""
    real = [row for row in rows if row["realistic"] and method in row["methods"]]
    rs = []
    for row in real:
        if row["shape"] == "uniform":
            continue
        r = row["methods"][method]["r"]
        rs.append(-1.0 if r is None else r)
    le = [
        abs(row["methods"][method]["length_error_cm"])
        for row in real
        if row["methods"][method]["length_error_cm"] is not None
    ]
    if not rs:
        return {"n_cases": 0}
    out = {
        "n_cases": len(rs),
        "median_r": float(np.median(rs)),
        "min_r": float(np.min(rs)),
        "worst_case": min(
            (row for row in real if row["shape"] != "uniform"),
            key=lambda row: (
                -1.0 if row["methods"][method]["r"] is None else row["methods"][method]["r"]
            ),
        )["name"],
        "n_below_0.5": int(sum(r < 0.5 for r in rs)),
        "median_r_spread": _median_or_none(
            [row["methods"][method]["r_spread"] for row in real if row["shape"] != "uniform"]
        ),
        "median_abs_length_error_cm": float(np.median(le)) if le else None,
    }
    out["meets_targets"] = bool(
        out["median_r"] >= TARGETS["median_r"]
        and out["min_r"] >= TARGETS["min_r"]
        and le
        and out["median_abs_length_error_cm"] <= TARGETS["median_abs_length_error_cm"]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset, 2 frames per case")
    ap.add_argument(
        "--methods", default="paper,lpc,lpc-refined,default,praat", help="comma-separated"
    )
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--cases", default="", help="only cases whose name contains this text")
    ap.add_argument(
        "--snr-db", type=float, default=None, help="add white noise at this SNR (dB, seeded)"
    )
    ap.add_argument("--sr", type=int, default=16000, help="rate given to the estimators (Hz)")
    ap.add_argument("--frame-ms", type=float, default=35.3125)
    ap.add_argument("--frames", type=int, default=None, help="frames per case (default 5, quick 2)")
    ap.add_argument("--hop-ms", type=float, default=7.3, help="spacing of frames (ms)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tract_accuracy.json"))
    ap.add_argument("--no-json", action="store_true", help="print only")
    args = ap.parse_args(argv)

    n_frames = args.frames or (2 if args.quick else 5)
    t_build = time.perf_counter()
    cases = all_cases(args.sr, quick=args.quick)
    if args.split != "all":
        cases = [c for c in cases if c.split == args.split]
    cases = [c for c in cases if args.cases in c.name]
    if not cases:
        ap.error("no case matches --split/--cases")
    t_build = time.perf_counter() - t_build
    frame_len = round(args.frame_ms * 1e-3 * args.sr)
    hop = round(args.hop_ms * 1e-3 * args.sr)
    methods = available_methods([m.strip() for m in args.methods.split(",") if m.strip()], cases[0])
    runnable = {m: fn for m, fn in methods.items() if callable(fn)}
    for m, fn in methods.items():
        if not callable(fn):
            print(f"[{m}] {fn}", file=sys.stderr)

    rows = []
    noise = np.random.default_rng(2022)
    for case in cases:
        _leave_speaker_out(case)
        frames = case.frames(frame_len, n_frames, hop)
        if args.snr_db is not None:
            power = float(np.mean(case.audio**2))
            scale = math.sqrt(power / 10.0 ** (args.snr_db / 10.0))
            frames = [f + scale * noise.standard_normal(f.size) for f in frames]
        row: dict[str, Any] = {
            "name": case.name,
            "source": case.source,
            "shape": case.shape,
            "renderer": case.renderer,
            "realistic": case.realistic,
            "split": case.split,
            "true_length_cm": case.length_cm,
            "true_areas_cm2": case.areas_cm2.tolist(),
            "true_section_lengths_cm": case.section_lengths_cm.tolist(),
            "synthesis": case.info,
            "methods": {},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for m, fn in runnable.items():
                row["methods"][m] = score_case(case, fn, frames)
        rows.append(row)

    names = list(runnable)
    header = f"{'case':<56}{'split':<8}{'L_true':>7} " + "".join(
        f"{m + ' r/dL':>17}" for m in names
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = []
        for m in names:
            res = row["methods"][m]
            r = "  -  " if res["r"] is None else f"{res['r']:+.2f}"
            dl = "  - " if res["length_error_cm"] is None else f"{res['length_error_cm']:+.1f}"
            cells.append(f"{r:>10} {dl:>6}")
        flag = "" if row["realistic"] else " (lossless)"
        print(
            f"{row['name'] + flag:<56}{row['split']:<8}{row['true_length_cm']:>7.1f} "
            + "".join(cells)
        )

    summary: dict[str, dict[str, Any]] = {}
    print(
        "\nRealistic cases (glottal pulses + losses); targets: median r >= 0.85, min r >= 0.5,"
        " median |dL| <= 1 cm"
    )
    print(
        f"{'group':<13}{'method':<12}{'n':>4}{'med r':>8}{'min r':>8}{'<0.5':>6}{'med|dL|':>9}"
        f"{'spread':>8}  ok  worst"
    )
    groups = {
        "dev": lambda row: row["split"] == "dev",
        "heldout": lambda row: row["split"] == "heldout",
        "all": lambda row: True,
        **{
            f"src:{src}": (lambda row, s=src: row["source"] == s)
            for src in ("analytic", "vtl", "fant", "mri")
        },
    }
    for split, keep in groups.items():
        sel = [row for row in rows if keep(row)]
        summary[split] = {}
        truths = [row["true_length_cm"] for row in sel if row["realistic"]]
        if truths:
            # trivial baseline: always answer 17 cm
            summary[split]["const_17cm_median_abs_length_error_cm"] = float(
                np.median(np.abs(np.array(truths) - 17.0))
            )
        for m in names:
            s = summarise(sel, m)
            summary[split][m] = s
            if s.get("n_cases"):
                dl = s["median_abs_length_error_cm"]
                print(
                    f"{split:<13}{m:<12}{s['n_cases']:>4}{s['median_r']:>8.2f}{s['min_r']:>8.2f}"
                    f"{s['n_below_0.5']:>6}{(dl if dl is not None else float('nan')):>9.2f}"
                    f"{(s['median_r_spread'] or float('nan')):>8.2f}"
                    f"  {'yes' if s['meets_targets'] else 'no ':<3} {s['worst_case']}"
                )
        if "const_17cm_median_abs_length_error_cm" in summary[split]:
            print(
                f"{split:<13}{'(17 cm)':<12}{'':>26}"
                f"{summary[split]['const_17cm_median_abs_length_error_cm']:>9.2f}"
                "  <- constant-length baseline"
            )
    if not args.no_json:
        result = {
            "benchmark": "tract_accuracy",
            "targets": TARGETS,
            "settings": {
                "quick": args.quick,
                "split": args.split,
                "sr": args.sr,
                "frame_len_samples": frame_len,
                "frames_per_case": n_frames,
                "snr_db": args.snr_db,
                "hop_samples": hop,
                "metric": "Pearson r of ln(area) at 40 cell midpoints of each tube's own "
                "normalised glottis-to-lips length (piecewise-constant areas); median over frames",
                "praat": {
                    "lpc": "Sound: To LPC (burg), order round(2*L*fs/c)",
                    "length_cm": PRAAT_LENGTH_CM,
                    "c_cm_s": PRAAT_C_CM_S,
                    "preemphasis_from_hz": PRAAT_PREEMPHASIS_HZ,
                },
                "case_build_seconds": t_build,
                "mri_prior": "default method: MRI vowels scored with a prior codebook of the "
                "other speaker only (leave-one-speaker-out); other cases with all MRI vowels",
            },
            "unavailable_methods": {m: v for m, v in methods.items() if not callable(v)},
            "summary": summary,
            "cases": rows,
            "provenance": provenance(parameters={"argv": sys.argv[1:]}),
        }
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_finite_or_none(result), indent=1, allow_nan=False, default=_json_default)
        out.write_text(text)
        print(f"\nwrote {out}")
    return 0


def _finite_or_none(obj: Any) -> Any:
    """Round floats; NaN/inf (undefined r, failed frames) become JSON null, recursively."""
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, float | np.floating):
        # NaN/inf -> null; 6 significant digits keep the file small and diffable
        return float(f"{float(obj):.6g}") if math.isfinite(float(obj)) else None
    return obj


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


if __name__ == "__main__":
    raise SystemExit(main())
