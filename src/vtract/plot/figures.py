"""The set of figures that goes into an HTML or PDF report.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot),
so rendering a report leaves no global state behind and works headless.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import VtractError
from .overview import report_overview
from .reference import bigram_distribution
from .timeline import timeline
from .tract import area_function, tract

__all__ = ["ReportFigure", "figure_png", "report_figures"]

#: How many of the most deviant bigrams get their own plots.
TOP_BIGRAMS = 3


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report with the text shown beside it."""

    title: str
    caption: str
    figure: Any


def report_figures(
    report: Any, *, evidence: Any = None, reference: Any = None
) -> list[ReportFigure]:
    """Figures for a report, most informative first.

    Parameters
    ----------
    report : Report
        The analysed recording.
    evidence : Evidence, optional
        When given, the timeline (spectrogram, tiers, flagged spans) is drawn.
    reference : Reference, optional
        When given, the organic distribution of the most deviant bigrams is drawn.
    """
    from matplotlib.figure import Figure

    out: list[ReportFigure] = []
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    report_overview(report, ax=fig.add_subplot())
    out.append(
        ReportFigure(
            "Scores over time",
            "Each dot is one phone pair (bigram) at its boundary time; its height is how "
            "unlike organic speech its vocal-tract shape is (0 = typical, 1 = unlike any "
            "human reference). Dashed lines are the decision thresholds.",
            fig,
        )
    )
    if evidence is not None:
        fig = Figure(figsize=(10.0, 4.2))
        timeline(evidence, report.alignment or None, report, ax=fig.add_subplot())
        out.append(
            ReportFigure(
                "Evidence timeline",
                "Spectrogram of the recording with the word and phone alignment used. "
                "Red spans carry anatomical or statistical flags.",
                fig,
            )
        )
    ranked = _most_deviant(report)
    if ranked:
        fig = Figure(figsize=(8.0, 3.6), layout="constrained")
        labels = [f"{b.bigram} @ {b.boundary:.2f} s" for b in ranked]
        area_function(*ranked, ax=fig.add_subplot(), labels=labels)
        out.append(
            ReportFigure(
                "Area functions of the most deviant bigrams",
                "Cross-sectional area of the reconstructed tube from the glottis (left) to the "
                "lips (right). The grey band is the range of areas measured in human vocal tracts.",
                fig,
            )
        )
        fig = Figure(figsize=(8.0, 3.2), layout="constrained")
        tract(ranked[0], ax=fig.add_subplot(), label=labels[0])
        out.append(
            ReportFigure(
                f"Tube profile of {ranked[0].bigram}",
                "The same reconstruction drawn as a tube (radius mirrored about its axis). "
                "Human tubes stay inside the grey bands and end (lips) in the green span.",
                fig,
            )
        )
    if reference is not None:
        for big in _unique_bigrams(ranked)[:2]:
            fig = Figure(figsize=(8.0, 3.4), layout="constrained")
            try:
                bigram_distribution(reference, report, big, ax=fig.add_subplot())
            except VtractError:  # the reference holds nothing comparable: no plot
                continue
            out.append(
                ReportFigure(
                    f"{big} against the organic reference",
                    "Blue bands: areas per section measured in organic (human) speech for this "
                    "bigram; coloured lines: this recording.",
                    fig,
                )
            )
    return out


def figure_png(fig: Any, *, dpi: int = 96) -> bytes:
    """PNG bytes of a figure (no timestamp or software metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _most_deviant(report: Any) -> list[Any]:
    usable = [
        b
        for b in report.bigrams
        if len(b.areas_cm2) > 0 and np.isfinite(b.length_cm) and b.length_cm > 0
    ]
    usable.sort(key=lambda b: (-(b.deviation if np.isfinite(b.deviation) else -1.0), b.boundary))
    return usable[:TOP_BIGRAMS]


def _unique_bigrams(bigrams: list[Any]) -> list[str]:
    seen: list[str] = []
    for b in bigrams:
        if b.bigram not in seen:
            seen.append(b.bigram)
    return seen
