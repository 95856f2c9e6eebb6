"""Do the measured formants prefer the true shape over the ``default`` estimate?

Run: ``python benchmarks/bench_tract_identifiability.py`` (~1 min)
-> prints a table and writes ``benchmarks/results/tract_identifiability.json``.

The ``default`` estimator (``vtract.tract.default``) fits a smooth tube's
resonances to the measured F1-F3, under a prior. When its shape is wrong
(``bench_tract_accuracy.py``: six realistic cases below r = 0.5), one of two
things is true:

- the fit failed: a shape close to the truth would explain the measured
  formants clearly better, and a better search or model would find it; or
- the formants are ambiguous: the truth and the estimate explain them
  equally well, and only the prior chooses (Mermelstein 1967: the
  resonances of a closed-open tube fix, to first order, only the odd
  cosine components of ``ln A``).

Per realistic case of the accuracy harness (same frames: 5 of 565 samples,
117 apart, from the steady part) this script measures, for each frame:

- ``estimate``: the ``default`` estimate (leave-one-speaker-out MRI codebook
  for MRI cases, as in the accuracy benchmark). Its Pearson r with the truth
  (log-areas on the common axis) and its formant misfit;
- ``truth_fit``: the truth's own smooth version (its first
  :data:`~vtract.tract.default.N_COSINES` cosine coefficients of ``ln A``,
  true length) refined by the estimator's own fit
  (:func:`~vtract.tract.formant_fit.fit_formants`, same constants, 10
  iterations) to the *same measured formants*, with the prior centred on
  the truth. Its r and misfit.

Bandwidths are the one acoustic cue formants lack: an open mouth radiates
more, which widens the front-cavity resonances. Per case the script also
reports B1-B3 (Hz) three ways: ``measured`` (the estimator's LPC bandwidths,
median over frames), and ``model_truth`` / ``model_estimate`` (-3 dB widths
of the lossy tube with lip radiation, :func:`vtract.synth.transfer_function`,
for the true and the estimated areas), and the correlation over all cases of
log lip area with B2 from the model and as measured.

The misfit is ``sum_n ((ln F_n^model - ln F_n^measured) / sigma)^2`` over
F1-F3, ``sigma`` = :data:`~vtract.tract.default.SIGMA_FORMANT` (3 %). The
resonances of both shapes come from the same tube model
(:func:`~vtract.tract.formant_fit.tube_resonances_fast`: lossless, closed
glottis, lip radiation inertance). A misfit below 3 means the shape explains
the three formants to about one sigma each. Case values are medians over
frames.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import find_peaks

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _harness import write_result  # noqa: E402
from _tract_truth import all_cases  # noqa: E402
from bench_tract_accuracy import _leave_speaker_out  # noqa: E402
from vtract.synth import log_area_correlation, transfer_function  # noqa: E402
from vtract.tract import default, estimate_tract  # noqa: E402
from vtract.tract.formant_fit import cosine_log_areas, fit_formants, tube_resonances_fast  # noqa: E402
from vtract.tract.length import SPEED_OF_SOUND_CM_S  # noqa: E402
from vtract.tract.shape_prior import log_area_cosines  # noqa: E402
from vtract.tract.wakita import LPC_MEAN_AREA_CM2  # noqa: E402

#: Cosine-shape resolution of the truth's smooth version (the fit's own grid).
TRUTH_SECTIONS = 40
#: Misfit (sum of squared sigma units over F1-F3) that counts as explaining the formants.
EXPLAINS = 3.0
TRUTH_FIT_ITERATIONS = 10


def formant_misfit(areas: np.ndarray, length_cm: float, formants_hz: np.ndarray) -> float:
    """Sum over F1-F3 of squared log-frequency errors in units of ``SIGMA_FORMANT``."""
    n = min(default.N_FIT_FORMANTS, formants_hz.size)
    fmax = float(formants_hz[n - 1]) * 1.6 + 500.0
    res = tube_resonances_fast(
        np.ascontiguousarray(areas, dtype=np.float64), length_cm, SPEED_OF_SOUND_CM_S, fmax, n
    )
    if res.size < n:
        return float("inf")
    e = (np.log(res) - np.log(formants_hz[:n])) / default.SIGMA_FORMANT
    return float(np.sum(e * e))


def model_bandwidths(areas: np.ndarray, section_cm: Any, n: int = 3) -> list[float]:
    """-3 dB bandwidths (Hz) of the first ``n`` peaks of the lossy tube with lip radiation."""
    f = np.arange(50.0, 5000.0, 1.0)
    h = 20.0 * np.log10(np.abs(transfer_function(areas, section_cm, f)))
    # resonances only: peaks that stand at least 3 dB above their surroundings
    peaks = list(find_peaks(h, prominence=3.0)[0][:n])
    out = []
    for p in peaks:
        lo, hi = p, p
        while lo > 0 and h[lo] > h[p] - 3.0:
            lo -= 1
        while hi < f.size - 1 and h[hi] > h[p] - 3.0:
            hi += 1
        out.append(float(f[hi] - f[lo]))
    return out + [float("nan")] * (n - len(out))


def truth_fit(case: Any, formants_hz: np.ndarray) -> tuple[np.ndarray, float]:
    """The truth's smooth shape refined to ``formants_hz`` (areas, length)."""
    k = default.N_COSINES
    theta0 = np.empty(k + 1)
    theta0[:k] = log_area_cosines(case.areas_cm2, case.section_lengths_cm, k)
    theta0[k] = np.log(case.length_cm)
    theta = fit_formants(
        theta0,
        theta0,
        formants_hz,
        default.N_FIT_FORMANTS,
        SPEED_OF_SOUND_CM_S,
        LPC_MEAN_AREA_CM2,
        default.SIGMA_FORMANT,
        np.full(k, default.SIGMA_SHAPE),
        default.SIGMA_LOG_LENGTH,
        TRUTH_FIT_ITERATIONS,
    )
    ln_a = cosine_log_areas(np.r_[0.0, theta[:k]], TRUTH_SECTIONS)
    return np.exp(ln_a - ln_a.mean()) * LPC_MEAN_AREA_CM2, float(np.exp(theta[k]))


def score(case: Any, frames: list[np.ndarray]) -> dict[str, Any]:
    per_frame: dict[str, list[float]] = {k: [] for k in ("r_est", "mis_est", "r_true", "mis_true")}
    bandwidths: list[np.ndarray] = []
    first: Any = None  # the first usable estimate, whose model bandwidths are reported
    for frame in frames:
        est = estimate_tract(np.ascontiguousarray(frame), case.sr, method="default")
        formants = np.asarray(est.formants_hz, dtype=np.float64)
        if formants.size < default.N_FIT_FORMANTS:
            continue
        areas = np.asarray(est.areas, dtype=np.float64)
        first = est if first is None else first
        bandwidths.append(np.asarray(est.bandwidths_hz, dtype=np.float64)[:3])
        per_frame["r_est"].append(
            log_area_correlation(
                areas, est.section_length_cm, case.areas_cm2, case.section_lengths_cm
            )
        )
        per_frame["mis_est"].append(formant_misfit(areas, est.length_cm, formants))
        t_areas, t_length = truth_fit(case, formants)
        per_frame["r_true"].append(
            log_area_correlation(
                t_areas, t_length / TRUTH_SECTIONS, case.areas_cm2, case.section_lengths_cm
            )
        )
        per_frame["mis_true"].append(formant_misfit(t_areas, t_length, formants))
    med = {k: float(np.median(v)) if v else None for k, v in per_frame.items()}
    none = [float("nan")] * 3
    return {
        "bandwidths_hz": {
            "measured": [round(float(b), 1) for b in np.median(bandwidths, axis=0)]
            if bandwidths
            else none,
            "model_truth": model_bandwidths(case.areas_cm2, case.section_lengths_cm),
            "model_estimate": model_bandwidths(first.areas, first.section_length_cm)
            if first is not None
            else none,
        },
        "lip_area_cm2": float(np.asarray(case.areas_cm2)[-1]),
        "estimate": {"r": med["r_est"], "misfit": med["mis_est"]},
        "truth_fit": {"r": med["r_true"], "misfit": med["mis_true"]},
        "frames": len(per_frame["r_est"]),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    failing = [r for r in rows if r["estimate"]["r"] is not None and r["estimate"]["r"] < 0.5]
    both = [
        r
        for r in failing
        if r["estimate"]["misfit"] < EXPLAINS and r["truth_fit"]["misfit"] < EXPLAINS
    ]

    def present(shape: str, key: str) -> list[float]:
        return [r[shape][key] for r in rows if r[shape][key] is not None]

    misfit_est, misfit_truth = present("estimate", "misfit"), present("truth_fit", "misfit")
    r_truth = present("truth_fit", "r")
    log_lip = np.log([r["lip_area_cm2"] for r in rows])

    def lip_correlation(kind: str) -> float:
        b2 = np.array([r["bandwidths_hz"][kind][1] for r in rows], dtype=np.float64)
        ok = np.isfinite(b2)
        return float(np.corrcoef(log_lip[ok], np.log(b2[ok]))[0, 1])

    return {
        "n_cases": len(rows),
        # what the smooth shape model can reach when it starts at the truth
        "median_truth_fit_r": float(np.median(r_truth)),
        "min_truth_fit_r": float(np.min(r_truth)),
        "median_estimate_misfit": float(np.median(misfit_est)),
        "n_estimate_explains": int(sum(m < EXPLAINS for m in misfit_est)),
        "n_truth_fit_explains": int(sum(m < EXPLAINS for m in misfit_truth)),
        "corr_log_lip_area_log_b2": {
            "model_truth": lip_correlation("model_truth"),
            "measured": lip_correlation("measured"),
        },
        "cases_below_0.5": [r["name"] for r in failing],
        "below_0.5_both_explain_the_formants": [r["name"] for r in both],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="", help="only cases whose name contains this text")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cases = [
        c for c in all_cases(16000) if c.realistic and c.shape != "uniform" and args.cases in c.name
    ]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            _leave_speaker_out(case)
            rows.append(
                {"name": case.name, "split": case.split, **score(case, case.frames(565, 5, 117))}
            )
    print(
        f"{'case':<46}{'split':<8}{'r est':>7}{'misfit':>8}{'r truth':>9}{'misfit':>8}"
        f"{'lip cm2':>9}{'B2 true':>9}{'B2 est':>8}{'B2 meas':>9}"
    )
    for r in rows:
        e, t, b = r["estimate"], r["truth_fit"], r["bandwidths_hz"]
        print(
            f"{r['name']:<46}{r['split']:<8}{e['r']:>+7.2f}{e['misfit']:>8.2f}"
            f"{t['r']:>+9.2f}{t['misfit']:>8.2f}{r['lip_area_cm2']:>9.2f}"
            f"{b['model_truth'][1]:>9.0f}{b['model_estimate'][1]:>8.0f}{b['measured'][1]:>9.0f}"
        )
    figures = {
        "summary": summarise(rows),
        "cases": rows,
        "explains_threshold": EXPLAINS,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(figures["summary"])
    if not args.no_json:
        write_result("tract_identifiability", figures, {"cases": args.cases})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
