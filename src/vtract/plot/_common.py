"""Shared plumbing of :mod:`vtract.plot`: axes creation, input checks, ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import VtractError

__all__ = [
    "HUMAN_AREA_CM2",
    "HUMAN_LENGTH_CM",
    "PlotInputError",
    "Profile",
    "as_profile",
    "new_axes",
]

#: Cross-sectional areas seen in human vocal tracts (cm^2): about 0.1 to 15
#: (Fant 1960; Story, Titze & Hoffman 1996 MRI area functions). Shaded on plots.
HUMAN_AREA_CM2 = (0.1, 15.0)
#: Adult vocal-tract length (cm): about 13 to 20 (Fitch & Giedd 1999;
#: about 17 cm for men, 14.5 cm for women). Shaded on plots.
HUMAN_LENGTH_CM = (13.0, 20.0)


class PlotInputError(VtractError, ValueError):
    """Data handed to a plot function cannot be drawn."""


@dataclass(frozen=True)
class Profile:
    """An area function ready to draw: areas (glottis to lips) and section length."""

    areas: np.ndarray
    section_length_cm: float
    label: str

    @property
    def edges_cm(self) -> np.ndarray:
        """Section boundaries (cm from the glottis), ``len(areas) + 1`` values."""
        return np.arange(self.areas.size + 1, dtype=float) * self.section_length_cm


def new_axes(ax: Any = None, *, figsize: tuple[float, float] = (6.0, 3.5)) -> Any:
    """Return ``ax`` or a fresh axes on a new pyplot figure (never shown)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def as_profile(obj: Any, label: str | None = None) -> Profile:
    """Area function of a :class:`~vtract.TractEstimate` or a
    :class:`~vtract.report.BigramEvidence` (anything with areas and a length).

    Raises
    ------
    PlotInputError
        No areas, areas not 1-D, or a non-positive / non-finite length.
    """
    if hasattr(obj, "areas"):
        areas = np.asarray(obj.areas, dtype=float)
        seg = float(getattr(obj, "section_length_cm", np.nan))
        default_label = str(getattr(obj, "method", "estimate"))
    elif hasattr(obj, "areas_cm2"):
        areas = np.asarray(obj.areas_cm2, dtype=float)
        n = max(areas.size, 1)
        seg = float(obj.length_cm) / n
        default_label = str(getattr(obj, "bigram", "estimate"))
    else:
        raise PlotInputError(
            f"expected a TractEstimate or BigramEvidence (with areas), got {type(obj).__name__}"
        )
    if areas.ndim != 1 or areas.size == 0:
        raise PlotInputError(f"expected a non-empty 1-D area function, got shape {areas.shape}")
    if not (np.isfinite(seg) and seg > 0):
        raise PlotInputError(f"section length must be a positive number of cm, got {seg!r}")
    return Profile(areas=areas, section_length_cm=seg, label=label or default_label)
