"""Vocal-tract shape plots: the tube profile, area functions and their change in time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._common import (
    HUMAN_AREA_CM2,
    HUMAN_LENGTH_CM,
    LITERAL_TEXT,
    PlotInputError,
    as_profile,
    literal_label,
    literal_legend,
    new_axes,
    shown_text,
)

__all__ = ["area_function", "tract", "tract_sequence"]


def tract(estimate: Any, *, ax: Any = None, color: str = "C0", label: str | None = None) -> Any:
    """Draw the tube as a glottis-to-lips profile, mirrored about its axis.

    Each section is drawn as a step of radius ``sqrt(area / pi)`` above and
    below the axis. The band of radii of human tracts
    (:data:`~vtract.plot._common.HUMAN_AREA_CM2`) is shaded grey, and the span
    of adult tract lengths (where the lips should be) is shaded along x.
    Sections with a non-finite area are left as gaps.

    Parameters
    ----------
    estimate : TractEstimate or BigramEvidence
        The area function (glottis to lips) and its section length.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.
    color : str, default "C0"
        Colour of the tube.
    label : str, optional
        Legend label (defaults to the method or bigram name), drawn as given
        (a ``$`` is not mathtext).

    Returns
    -------
    matplotlib.axes.Axes
    """
    prof = as_profile(estimate, label)
    ax = new_axes(ax, figsize=(7.0, 3.0))
    radius = np.sqrt(prof.areas / np.pi)  # NaN stays NaN; negative areas -> NaN
    edges = prof.edges_cm
    r_lo, r_hi = (float(np.sqrt(a / np.pi)) for a in HUMAN_AREA_CM2)
    ax.axhspan(r_lo, r_hi, color="0.85", zorder=0, label="human radius range")
    ax.axhspan(-r_hi, -r_lo, color="0.85", zorder=0)
    ax.axvspan(*HUMAN_LENGTH_CM, color="C2", alpha=0.12, zorder=0, label="human lips position")
    ax.stairs(
        radius, edges, baseline=None, color=color, linewidth=2, label=literal_label(prof.label)
    )
    ax.stairs(-radius, edges, baseline=None, color=color, linewidth=2)
    ax.stairs(radius, edges, baseline=-radius, fill=True, color=color, alpha=0.25)
    ax.axhline(0.0, color="0.4", linewidth=0.6, linestyle=":")
    finite = radius[np.isfinite(radius)]
    top = max(r_hi, float(finite.max()) if finite.size else r_hi) * 1.1
    ax.set_ylim(-top, top)
    ax.set_xlim(0.0, max(float(edges[-1]), HUMAN_LENGTH_CM[1]) * 1.02)
    ax.set_xlabel("distance from glottis (cm)")
    ax.set_ylabel("radius (cm)")
    ax.set_title(f"Vocal tract profile ({prof.areas.size} sections, {edges[-1]:.1f} cm)")
    ax.text(0.0, -top * 0.95, " glottis", ha="left", va="bottom", fontsize=8)
    ax.text(float(edges[-1]), -top * 0.95, "lips ", ha="right", va="bottom", fontsize=8)
    literal_legend(ax, loc="upper left", fontsize=7)
    return ax


def area_function(
    *estimates: Any,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    log: bool = True,
) -> Any:
    """Overlay area functions (area per section against distance from the glottis).

    Parameters
    ----------
    *estimates : TractEstimate or BigramEvidence
        One or more area functions; sections may differ between them.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    labels : sequence of str, optional
        One legend label per estimate, drawn as given (a ``$`` is not mathtext).
    log : bool, default True
        Logarithmic area axis (areas span two decades in humans).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    PlotInputError
        No estimates, or a number of labels different from the estimates.
    """
    if not estimates:
        raise PlotInputError("area_function needs at least one estimate")
    if labels is not None and len(labels) != len(estimates):
        raise PlotInputError(f"got {len(labels)} labels for {len(estimates)} estimates")
    ax = new_axes(ax)
    ax.axhspan(*HUMAN_AREA_CM2, color="0.9", zorder=0, label="human area range")
    for i, est in enumerate(estimates):
        prof = as_profile(est, None if labels is None else labels[i])
        ax.stairs(
            prof.areas, prof.edges_cm, baseline=None, linewidth=1.8, label=literal_label(prof.label)
        )
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("distance from glottis (cm)")
    ax.set_ylabel("area (cm²)")
    ax.set_title("Area function (glottis → lips)")
    literal_legend(ax, fontsize=7)
    return ax


def tract_sequence(
    estimates: Sequence[Any],
    *,
    times: Sequence[float] | None = None,
    boundary: float | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Heat map of the area function over time (for example across a bigram).

    Colour is ``log10(area / cm²)``; x is the window centre time (or the
    window number when ``times`` is omitted), y the distance from the glottis
    in cm. Estimates may differ in section count and length (estimators that
    fit the tract length do): each is drawn on a common grid of the smallest
    section length, and the cells beyond its lips are left blank.

    Parameters
    ----------
    estimates : sequence of TractEstimate or BigramEvidence
        Consecutive estimates.
    times : sequence of float, optional
        Window centre times (s), increasing, one per estimate.
    boundary : float, optional
        Phone boundary time (s) drawn as a dashed line.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    title : str, optional
        Axes title, drawn as given (a ``$`` is not mathtext).

    Returns
    -------
    matplotlib.axes.Axes
        The axes; its mesh (``ax.collections[0]``) holds ``log10`` areas with
        shape ``(n_grid_cells, n_estimates)`` (``n_sections`` rows when all
        estimates share one section length).

    Raises
    ------
    PlotInputError
        Empty input, or ``times`` of the wrong length or not increasing.
    """
    estimates = list(estimates)  # any iterable, a generator too
    if len(estimates) == 0:
        raise PlotInputError("tract_sequence needs at least one estimate")
    profiles = [as_profile(e) for e in estimates]
    areas, y_edges = _on_common_grid(profiles)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_area = np.log10(np.where(areas > 0, areas, np.nan))
    if times is None:
        t = np.arange(len(profiles), dtype=float)
        xlabel = "window"
    else:
        t = np.asarray(times, dtype=float)
        if t.shape != (len(profiles),):
            raise PlotInputError(f"got {t.size} times for {len(profiles)} estimates")
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise PlotInputError("times must be strictly increasing")
        xlabel = "time (s)"
    x_edges = _centres_to_edges(t, 0.5 if times is None else 0.01)
    ax = new_axes(ax)
    mesh = ax.pcolormesh(
        x_edges, y_edges, np.ma.masked_invalid(log_area), cmap="viridis", shading="flat"
    )
    cbar = ax.figure.colorbar(mesh, ax=ax)
    cbar.set_label("log10 area (cm²)")
    if boundary is not None:
        ax.axvline(float(boundary), color="w", linestyle="--", linewidth=1.2, label="boundary")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("distance from glottis (cm)")
    ax.set_title(shown_text(title or "Area function over time"), **LITERAL_TEXT)
    return ax


def _on_common_grid(profiles: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Areas of every profile sampled on one grid of cells (cm), NaN past the lips."""
    step = min(p.section_length_cm for p in profiles)
    top = max(p.areas.size * p.section_length_cm for p in profiles)
    n_cells = max(1, int(np.ceil(top / step - 1e-9)))
    centres = (np.arange(n_cells) + 0.5) * step
    out = np.full((n_cells, len(profiles)), np.nan)
    for j, p in enumerate(profiles):
        idx = np.floor(centres / p.section_length_cm).astype(int)
        inside = idx < p.areas.size
        out[inside, j] = p.areas[idx[inside]]
    return out, np.arange(n_cells + 1, dtype=float) * step


def _centres_to_edges(t: np.ndarray, half_width: float) -> np.ndarray:
    if t.size == 1:
        return np.array([t[0] - half_width, t[0] + half_width])
    mid = (t[1:] + t[:-1]) / 2
    return np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
