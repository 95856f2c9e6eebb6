"""The :class:`Alignment` container: words and phones with times.

Phones and words are pandas DataFrames with at least the columns
``start``, ``end`` (seconds), ``label`` (ARPAbet without stress digits, or
``sil``/``spn`` for silence/noise), ``word`` (the enclosing word, lowercase,
``""`` for silence) and, where known, ``raw_label`` (the label as written in
the source), ``confidence``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["PHONE_COLUMNS", "WORD_COLUMNS", "Alignment"]

PHONE_COLUMNS = ("start", "end", "label", "word", "raw_label", "confidence")
WORD_COLUMNS = ("start", "end", "label", "confidence")


@dataclass(eq=False)
class Alignment:
    """Time-aligned words and phones of one recording.

    Attributes
    ----------
    phones : pandas.DataFrame
        One row per phone: ``start``, ``end`` (s), ``label`` (normalised
        ARPAbet, no stress), ``word``, ``raw_label``, ``confidence``.
    words : pandas.DataFrame
        One row per word: ``start``, ``end`` (s), ``label`` (lowercase word),
        ``confidence``.
    source : str
        Where the alignment came from (``"textgrid"``, ``"timit"``, ``"hts"``,
        ``"csv"``, ``"pocketsphinx-align"``, ``"pocketsphinx-recognize"`` ...).
    low_confidence : bool
        True when no transcript was given and phones were recognised.
    unknown_labels : tuple of str
        Source labels the normaliser could not map (kept as-is, reported).
    meta : dict
        Source-specific details (file path and hash, beams used, model ...).
    """

    phones: pd.DataFrame
    words: pd.DataFrame
    source: str
    low_confidence: bool = False
    unknown_labels: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """End time of the last interval (s), 0.0 when empty."""
        ends = [float(df["end"].max()) for df in (self.phones, self.words) if len(df)]
        return max(ends) if ends else 0.0
