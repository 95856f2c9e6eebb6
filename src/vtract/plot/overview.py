"""One-glance summary of a report: per-bigram atypicality over time, and the recording's score."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    LITERAL_TEXT,
    PlotInputError,
    literal_legend,
    new_axes,
    score_thresholds,
    shown_text,
)

__all__ = ["report_overview"]

_VERDICT_COLOURS = {"organic": "C2", "synthetic": "C3", "inconclusive": "0.5"}


def report_overview(report: Any, *, ax: Any = None) -> Any:
    """Per-bigram atypicality against time, with the recording's score and its thresholds.

    The points are each bigram occurrence's ``score``: how atypical its
    tract shapes are against the organic reference (and its anatomical
    flags), *not* a probability of synthesis, and not what the verdict rests
    on. The solid line is the recording's score, and the dashed lines are
    the thresholds named ``score_*`` (on the 0..1 scale of the recording's
    score; thresholds on the detector's internal statistic are not drawn).
    Until session 31 the axis read "synthetic score", as if the points were
    weighed against those thresholds.

    Parameters
    ----------
    report : Report
        An analysed recording (an empty one gives an annotated, empty plot).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        A scatter whose points are ``(boundary, score)`` of ``report.bigrams``.
    """
    if not hasattr(report, "bigrams"):
        raise PlotInputError(f"expected a vtract Report, got {type(report).__name__}")
    ax = new_axes(ax, figsize=(8.0, 3.2))
    bigrams = list(report.bigrams)
    x = np.array([b.boundary for b in bigrams], dtype=float)
    y = np.array([b.score for b in bigrams], dtype=float)
    flagged = np.array([bool(b.flags) for b in bigrams], dtype=bool)
    ax.scatter(
        x,
        y,
        c=np.where(flagged, "C3", "C0") if bigrams else "C0",
        s=28,
        zorder=3,
        label="bigram atypicality (red = flagged)",
    )
    for b in bigrams:
        if np.isfinite(b.boundary) and np.isfinite(b.score):
            ax.annotate(
                shown_text(b.bigram),
                (b.boundary, b.score),
                fontsize=6,
                xytext=(2, 3),
                textcoords="offset points",
                **LITERAL_TEXT,
            )
    for name, value in score_thresholds(report.thresholds).items():
        ax.axhline(value, color="0.4", linestyle="--", linewidth=0.8)
        ax.text(1.0, value, shown_text(f" recording {name}"), transform=ax.get_yaxis_transform(), fontsize=6,
                va="center", ha="left", clip_on=False, **LITERAL_TEXT)  # fmt: skip
    if report.score is not None and np.isfinite(report.score):
        ax.axhline(
            report.score,
            color=_VERDICT_COLOURS.get(report.verdict, "k"),
            linewidth=2,
            label=f"recording score {report.score:.2f}",
        )
    if not bigrams:
        ax.text(0.5, 0.5, "no bigram evidence", transform=ax.transAxes, ha="center", va="center")
    duration = (getattr(report, "evidence", None) or {}).get("duration")
    if isinstance(duration, (int, float)) and np.isfinite(duration) and duration > 0:
        ax.set_xlim(0.0, float(duration))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bigram atypicality;\nrecording score")
    ax.set_title(
        f"Verdict: {report.verdict}",
        color=_VERDICT_COLOURS.get(report.verdict, "k"),
        **LITERAL_TEXT,
    )
    literal_legend(ax, fontsize=7, loc="upper left")
    return ax
