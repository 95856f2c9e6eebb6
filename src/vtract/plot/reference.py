"""Organic reference distribution of one bigram against this recording."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    HUMAN_AREA_CM2,
    LITERAL_TEXT,
    PlotInputError,
    as_profile,
    literal_label,
    literal_legend,
    new_axes,
    shown_text,
)

__all__ = ["MAX_OCCURRENCE_ENTRIES", "bigram_distribution"]

#: Up to this many occurrences of the bigram get their own colour and legend
#: entry; more are drawn in one colour under a single entry, so that a
#: frequent bigram does not bury the plot under its legend.
MAX_OCCURRENCE_ENTRIES = 4

# (low column, high column, alpha, label) bands drawn from widest to narrowest
_BANDS = (
    ("min", "max", 0.12, "organic min-max"),
    ("q05", "q95", 0.22, "organic 5-95 %"),
    ("q25", "q75", 0.35, "organic 25-75 %"),
)


def bigram_distribution(
    reference: Any,
    report: Any,
    bigram: str,
    *,
    ax: Any = None,
    log: bool = True,
) -> Any:
    """Organic area distribution per section for ``bigram`` vs this recording.

    Parameters
    ----------
    reference : Reference or pandas.DataFrame
        A :class:`vtract.Reference` (its ``lookup(bigram, n_sections)`` gives
        per-section statistics and the back-off level) or such a statistics
        table directly (indexed by section; columns among ``min``, ``max``,
        ``q05``, ``q25``, ``median``, ``q75``, ``q95``).
    report : Report
        The analysed recording; every occurrence of ``bigram`` in
        ``report.bigrams`` is drawn as a line with markers. Up to
        :data:`MAX_OCCURRENCE_ENTRIES` occurrences get one colour and legend
        entry each (word and time, drawn as given: a ``$`` is not mathtext);
        more share one colour and one entry that counts them.
    bigram : str
        ARPAbet bigram such as ``"AH-N"``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    log : bool, default True
        Logarithmic area axis.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    PlotInputError
        The report has no evidence for ``bigram`` and the reference gives no
        statistics either (nothing to draw), or the statistics lack a median.
    """
    occurrences = [b for b in getattr(report, "bigrams", []) if b.bigram == bigram]
    n_sections = len(occurrences[0].areas_cm2) if occurrences else None
    stats, level = _stats(reference, bigram, n_sections)
    if stats is None and not occurrences:
        raise PlotInputError(f"no evidence and no reference statistics for bigram {bigram!r}")
    ax = new_axes(ax)
    ax.axhspan(*HUMAN_AREA_CM2, color="0.93", zorder=0)
    if stats is not None:
        if "median" not in stats.columns:
            raise PlotInputError(
                f"reference statistics lack a 'median' column (have {list(stats.columns)})"
            )
        sections = np.asarray(stats.index, dtype=float)
        for lo, hi, alpha, label in _BANDS:
            if lo in stats.columns and hi in stats.columns:
                ax.fill_between(
                    sections,
                    np.asarray(stats[lo], dtype=float),
                    np.asarray(stats[hi], dtype=float),
                    color="C0",
                    alpha=alpha,
                    linewidth=0,
                    label=label,
                )
        ax.plot(
            sections, np.asarray(stats["median"], dtype=float), color="C0", label="organic median"
        )
    each = len(occurrences) <= MAX_OCCURRENCE_ENTRIES
    for i, occ in enumerate(occurrences):
        prof = as_profile(occ)
        if each:
            where = f"{occ.word!r} at {occ.boundary:.2f} s" if occ.word else f"{occ.boundary:.2f} s"
            style = {"color": f"C{i + 1}", "linewidth": 1.4, "markersize": 6.0}
            label = literal_label(f"this recording: {where}")
        else:  # one entry for all of them, drawn once
            style = {"color": "C1", "linewidth": 0.9, "markersize": 3.0, "alpha": 0.6}
            label = f"this recording: {len(occurrences)} occurrences" if i == 0 else "_nolegend_"
        ax.plot(np.arange(prof.areas.size), prof.areas, marker="o", label=label, **style)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("section (0 = glottis)")
    ax.set_ylabel("area (cm²)")
    level_note = "" if level in (None, "bigram") else f", reference backed off to {level} level"
    ax.set_title(
        shown_text(f"{bigram}: organic reference vs this recording{level_note}"),
        fontsize=9,
        **LITERAL_TEXT,
    )
    literal_legend(ax, fontsize=6)
    return ax


def _stats(reference: Any, bigram: str, n_sections: int | None) -> tuple[Any, str | None]:
    if reference is None:
        return None, None
    if hasattr(reference, "lookup"):
        if n_sections is None:
            held = (getattr(reference, "meta", None) or {}).get("n_sections") or [15]
            if len(held) != 1:
                raise PlotInputError(
                    f"the reference holds statistics for {held} sections; give occurrences "
                    "so that their section count chooses"
                )
            n_sections = int(held[0])
        stats, level = reference.lookup(bigram, n_sections)
        return stats, str(level)
    if hasattr(reference, "columns"):
        return reference, None
    raise PlotInputError(
        f"reference must be a vtract.Reference or a statistics DataFrame, got {type(reference).__name__}"
    )
