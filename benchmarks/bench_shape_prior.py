"""Kernel width of the MRI codebook prior, chosen on the MRI shapes alone.

Run (from the repository root, < 10 s)::

    /work/venv/bin/python benchmarks/bench_shape_prior.py

The ``"default"`` estimator centres its refinement partly on a human shape
predicted from the frame's formant pattern by kernel regression over a
codebook of MRI vowels (:mod:`vtract.tract.shape_prior`). The kernel width
is a property of that regression, so it is chosen where the regression's
truth is known - on the MRI area functions themselves, with no audio and no
estimator: every vowel's cosine coefficients ``c_1 .. c_K`` of ``ln A`` are
predicted from its own F1-F3 pattern (resonances of its measured tube in the
refinement's model) using only the *other* speaker's vowels
(leave-one-speaker-out), for each width of a grid. Reported per width: mean
squared error of the coefficients, median / mean / minimum Pearson r of the
predicted and true log-area profiles (40 points), and the width with the
least error (= :data:`vtract.tract.default.MRI_CODEBOOK_WIDTH`). The
``inf`` row is the plain MRI mean of the other speaker (the prior used
before the codebook).

Writes ``benchmarks/results/shape_prior.json``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_result
from vtract.tract import default
from vtract.tract.formant_fit import cosine_log_areas
from vtract.tract.mri_shapes import MRI_SETS, mri_speaker
from vtract.tract.shape_prior import codebook_prior_mean, mri_codebook

WIDTHS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, math.inf)


def profile(coefficients: np.ndarray) -> np.ndarray:
    """Mean-free ``ln A`` at 40 points from cosine coefficients ``c_1 .. c_K``."""
    return cosine_log_areas(np.append(0.0, coefficients), 40)


def leave_speaker_out(width: float) -> dict[str, float]:
    """Scores of the codebook regression at one kernel width."""
    n_cos = default.N_COSINES
    errors, rs = [], []
    for speaker in sorted({mri_speaker(d) for d in MRI_SETS}):
        own = mri_codebook(
            n_cos, exclude_speakers=[s for s in map(mri_speaker, MRI_SETS) if s != speaker]
        )
        others = mri_codebook(n_cos, exclude_speakers=[speaker])
        for log_formants, truth in zip(own.log_formants, own.shapes, strict=True):
            if math.isinf(width):
                predicted = others.shapes.mean(axis=0)
            else:
                predicted = codebook_prior_mean(others, np.exp(log_formants), width)
            errors.append(float(np.sum((predicted - truth) ** 2)))
            rs.append(float(np.corrcoef(profile(predicted), profile(truth))[0, 1]))
    return {
        "mse": float(np.mean(errors)),
        "median_r": float(np.median(rs)),
        "mean_r": float(np.mean(rs)),
        "min_r": float(np.min(rs)),
        "n_vowels": len(rs),
    }


def main() -> None:
    rows = {("inf" if math.isinf(w) else f"{w:g}"): leave_speaker_out(w) for w in WIDTHS}
    finite = {k: v for k, v in rows.items() if k != "inf"}
    best = min(finite, key=lambda k: finite[k]["mse"])
    print(f"{'width':>6s} {'mse':>7s} {'median r':>9s} {'mean r':>7s} {'min r':>6s}")
    for key, row in rows.items():
        print(
            f"{key:>6s} {row['mse']:7.4f} {row['median_r']:9.3f} {row['mean_r']:7.3f} {row['min_r']:+6.2f}"
        )
    print(f"least error at width {best} (shipped: {default.MRI_CODEBOOK_WIDTH:g})")
    write_result(
        "shape_prior",
        {"by_width": rows, "best_width": float(best), "shipped_width": default.MRI_CODEBOOK_WIDTH},
        {
            "widths": [str(w) for w in WIDTHS],
            "n_cosines": default.N_COSINES,
            "protocol": "leave-one-speaker-out kernel regression of MRI cosine coefficients from F1-F3",
        },
    )


if __name__ == "__main__":
    main()
