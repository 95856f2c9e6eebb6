"""Waveform or spectrogram of the evidence with word and phone tiers and flagged spans."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import LITERAL_TEXT, PlotInputError, new_axes, shown_text

__all__ = ["DYNAMIC_RANGE_DB", "timeline"]

#: Range of levels shown on the spectrogram (dB below its maximum).
DYNAMIC_RANGE_DB = 70.0


def timeline(
    evidence: Any,
    alignment: Any = None,
    report: Any = None,
    *,
    kind: str = "spectrogram",
    ax: Any = None,
    max_hz: float = 5000.0,
) -> Any:
    """Signal over time, with word and phone tiers below and flagged spans in red.

    Parameters
    ----------
    evidence : Evidence
        Decoded evidence (``samples``, ``sr``).
    alignment : Alignment or dict, optional
        An :class:`~vtract.Alignment` or the ``alignment`` dict of a report
        (lists ``words`` and ``phones`` of ``{start, end, label}``). Falls
        back to ``report.alignment`` when omitted.
    report : Report, optional
        Its flags with a time span, and bigrams carrying flags, are shaded
        (overlapping spans merged).
    kind : {"spectrogram", "waveform"}
        What to draw in the main panel.
    ax : matplotlib.axes.Axes, optional
        Main panel; the word and phone tiers are appended below it.
    max_hz : float, default 5000
        Top of the spectrogram.

    Returns
    -------
    matplotlib.axes.Axes
        The main panel. The tier panels are ``ax.vtract_tiers`` (a dict
        ``{"words": Axes, "phones": Axes}``; absent tiers are omitted).
    """
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    if kind not in ("spectrogram", "waveform"):
        raise PlotInputError(f"kind must be 'spectrogram' or 'waveform', got {kind!r}")
    if not (np.isfinite(max_hz) and max_hz > 0):
        raise PlotInputError(f"max_hz must be a positive frequency, got {max_hz!r}")
    try:
        x = np.asarray(evidence.samples, dtype=float)
        sr = int(evidence.sr)
    except AttributeError:
        raise PlotInputError(
            f"evidence must be a vtract.Evidence (samples, sr), got {type(evidence).__name__}"
        ) from None
    if x.ndim != 1 or x.size == 0:
        raise PlotInputError(f"evidence samples must be non-empty 1-D, got shape {x.shape}")
    if alignment is None and report is not None:
        alignment = getattr(report, "alignment", None) or None
    tiers = _tiers(alignment)
    ax = new_axes(ax, figsize=(10.0, 4.0))
    duration = x.size / sr
    t = np.arange(x.size) / sr
    if kind == "waveform" or x.size < 256:
        ax.plot(t, x, color="0.2", linewidth=0.5)
        ax.set_ylabel("amplitude")
    else:
        nfft = 512 if sr >= 16000 else 256
        with np.errstate(divide="ignore"):  # digital silence gives -inf dB
            spec, _, _, image = ax.specgram(
                x,
                NFFT=nfft,
                Fs=sr,
                noverlap=nfft * 3 // 4,
                cmap="Greys",
                scale="dB",
                xextent=(0, duration),
            )
        if np.any(spec > 0):
            top = 10.0 * np.log10(float(spec.max()))
            image.set_clim(top - DYNAMIC_RANGE_DB, top)
        ax.set_ylim(0, min(max_hz, sr / 2))
        ax.set_ylabel("frequency (Hz)")
    ax.set_xlim(0.0, duration)
    spans = _flagged_spans(report)
    for start, end in spans:
        ax.axvspan(start, end, color="red", alpha=0.25, zorder=3)
    divider = make_axes_locatable(ax)
    tier_axes: dict[str, Any] = {}
    for name, rows in tiers.items():
        if not rows:
            continue
        tax = divider.append_axes("bottom", size="14%", pad=0.05, sharex=ax)
        _draw_tier(tax, rows, duration)
        tax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        for start, end in spans:
            tax.axvspan(start, end, color="red", alpha=0.25, zorder=0)
        tier_axes[name] = tax
    last = list(tier_axes.values())[-1] if tier_axes else ax
    for a in [ax, *tier_axes.values()]:
        if a is not last:
            a.tick_params(labelbottom=False)
    last.set_xlabel("time (s)")
    title = "Evidence timeline"
    if spans:
        title += f" ({len(spans)} flagged span{'s' if len(spans) != 1 else ''} in red)"
    ax.set_title(title)
    ax.vtract_tiers = tier_axes
    return ax


def _tiers(alignment: Any) -> dict[str, list[tuple[float, float, str]]]:
    out: dict[str, list[tuple[float, float, str]]] = {"words": [], "phones": []}
    if alignment is None:
        return out
    for name in out:
        table = (
            alignment.get(name) if isinstance(alignment, dict) else getattr(alignment, name, None)
        )
        if table is None:
            continue
        records = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
        for rec in records:
            try:
                start, end, label = float(rec["start"]), float(rec["end"]), str(rec["label"])
            except (KeyError, TypeError, ValueError):
                raise PlotInputError(
                    f"alignment {name} rows need start, end and label; got {rec!r}"
                ) from None
            if np.isfinite(start) and np.isfinite(end) and end > start:
                out[name].append((start, end, label))
    return out


def _draw_tier(ax: Any, rows: list[tuple[float, float, str]], duration: float) -> None:
    for start, end, label in rows:
        silent = label.lower() in ("", "sil", "sp", "spn", "<sil>", "<s>", "</s>")
        ax.axvspan(
            start,
            end,
            ymin=0.05,
            ymax=0.95,
            facecolor="0.97" if silent else "#dbe8f5",
            edgecolor="0.5",
            linewidth=0.5,
        )
        if not silent:
            ax.text(
                (start + end) / 2,
                0.5,
                shown_text(label),
                ha="center",
                va="center",
                fontsize=7,
                clip_on=True,
                **LITERAL_TEXT,  # a label is drawn as written: "$" is not mathtext
            )
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlim(0.0, duration)


def _flagged_spans(report: Any) -> list[tuple[float, float]]:
    if report is None:
        return []
    spans = []
    for flag in getattr(report, "flags", []):
        if flag.start is not None and flag.end is not None and flag.end > flag.start:
            spans.append((float(flag.start), float(flag.end)))
    for big in getattr(report, "bigrams", []):
        if big.flags and big.end > big.start:
            spans.append((float(big.start), float(big.end)))
    return _union(spans)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge overlapping or touching spans so each region is shaded once."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
