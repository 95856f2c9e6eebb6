"""Shared plumbing of :mod:`vtract.plot`: axes creation, input checks, ranges."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import anatomy
from ..errors import VtractError
from ..provenance import visible_text

__all__ = [
    "HUMAN_AREA_CM2",
    "HUMAN_LENGTH_CM",
    "LITERAL_TEXT",
    "SCORE_THRESHOLD_PREFIX",
    "PlotInputError",
    "Profile",
    "as_profile",
    "font_can_draw",
    "literal_label",
    "literal_legend",
    "new_axes",
    "score_thresholds",
    "shown_text",
]

#: Cross-sectional areas of human vocal tracts (cm^2), shaded on plots
#: (:data:`vtract.anatomy.AREA_RANGE_CM2`, with its citations).
HUMAN_AREA_CM2: tuple[float, float] = anatomy.AREA_RANGE_CM2
#: Adult vocal-tract length (cm), shaded where the lips should be
#: (:data:`vtract.anatomy.ADULT_LENGTH_CM`).
HUMAN_LENGTH_CM: tuple[float, float] = anatomy.ADULT_LENGTH_CM


#: Threshold names starting with this are on the score's 0..1 scale and are
#: drawn on score plots; other thresholds (on the detector's statistic) are
#: only listed.
SCORE_THRESHOLD_PREFIX = "score_"


def score_thresholds(thresholds: dict[str, Any]) -> dict[str, float]:
    """Thresholds on the 0..1 score scale (``score_*`` keys with finite values in [0, 1])."""
    out = {}
    for name, value in sorted(thresholds.items()):
        if (
            str(name).startswith(SCORE_THRESHOLD_PREFIX)
            and isinstance(value, (int, float))
            and np.isfinite(value)
            and 0.0 <= value <= 1.0
        ):
            out[str(name)] = float(value)
    return out


#: Keyword arguments that make a matplotlib ``Text`` draw its string exactly as
#: given: no mathtext (a ``$`` in a file name or label is not the start of a
#: formula) and no LaTeX even when ``rcParams["text.usetex"]`` is set. Every
#: text that comes from the input (labels, words, names) is drawn with them.
LITERAL_TEXT: dict[str, Any] = {"usetex": False, "parse_math": False}


_GENERIC_FAMILIES = ("sans-serif", "serif", "monospace", "cursive", "fantasy")


def font_can_draw(family: str | None = None) -> Callable[[str], bool]:
    """Whether the fonts matplotlib would use for ``family`` have a glyph for a character.

    Parameters
    ----------
    family : str, optional
        A font family or generic family (``"monospace"``); by default
        ``rcParams["font.family"]``. Generic families are expanded through
        their ``rcParams`` lists, as matplotlib's own font fallback does, and
        every installed font of the list counts.

    Returns
    -------
    callable
        ``can_draw(char) -> bool``.
    """
    import matplotlib

    rc: Any = matplotlib.rcParams  # typed for literal keys only
    families = [family] if family else list(rc["font.family"])
    names: list[str] = []
    for name in families:
        if name in _GENERIC_FAMILIES:
            names += list(rc[f"font.{name}"])
        else:
            names.append(name)
    charmap = _charmap(tuple(names))
    return lambda char: ord(char) in charmap


@functools.cache
def _charmap(names: tuple[str, ...]) -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    paths = []
    for name in names:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=name), fallback_to_default=False
            )
        except ValueError:  # not installed
            continue
        if path not in paths:
            paths.append(path)
    if not paths:  # matplotlib draws with its default font then
        paths.append(font_manager.findfont(font_manager.FontProperties()))
    codes: set[int] = set()
    for path in paths:
        codes.update(FT2Font(path).get_charmap())
    return frozenset(codes)


def shown_text(text: Any, family: str | None = None) -> str:
    r"""Text from the input as a figure shows it: nothing hidden, nothing drawn as a box.

    Characters that would disguise the text (bidirectional controls, zero-width
    and control characters) and characters the figure's fonts have no glyph
    for (CJK or Hebrew words under matplotlib's default DejaVu Sans) are
    written as ``\uNNNN`` escapes (:func:`vtract.provenance.visible_text`);
    the JSON report keeps the exact text.

    Parameters
    ----------
    text : object
        The text (converted with ``str``).
    family : str, optional
        The font family it is drawn with (see :func:`font_can_draw`).

    Returns
    -------
    str

    Examples
    --------
    >>> shown_text("x\u202ey")
    'x\\u202ey'
    """
    return visible_text(str(text), font_can_draw(family))


def literal_label(text: Any) -> str:
    r"""A legend label that a legend draws exactly as given.

    Legend entries take their text from the artists' labels and are drawn
    with mathtext on, so an even number of ``$`` would turn the label into a
    formula (or raise on invalid mathtext). Escaping each ``$`` as ``\$`` makes
    matplotlib draw a plain ``$``; a backslash already before a ``$`` stays
    visible. :func:`literal_legend` also turns LaTeX off for the entries.
    Characters that would be hidden or drawn as boxes are escaped first
    (:func:`shown_text`).

    Parameters
    ----------
    text : object
        The label (converted with ``str``).

    Returns
    -------
    str
        The label with every ``$`` escaped.
    """
    return shown_text(text).replace("$", "\\$")


def literal_legend(ax: Any, **kwargs: Any) -> Any:
    """``ax.legend(**kwargs)`` with its entries drawn without LaTeX.

    The labels themselves must come through :func:`literal_label`.

    Returns
    -------
    matplotlib.legend.Legend
    """
    legend = ax.legend(**kwargs)
    for text in legend.get_texts():
        text.set_usetex(False)
    return legend


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
