"""The :class:`Alignment` container: words and phones with times.

Phones and words are pandas DataFrames with at least the columns
``start``, ``end`` (seconds), ``label`` (ARPAbet without stress digits, or
``sil``/``spn`` for silence/noise), ``word`` (the enclosing word, lowercase,
``""`` for silence) and, where known, ``raw_label`` (the label as written in
the source), ``confidence``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AlignmentError
from .labels import NOISE, SILENCE, clean_label, normalize_label, normalize_labels, scheme_warning

__all__ = ["PHONE_COLUMNS", "WORD_COLUMNS", "Alignment", "clean_word", "is_word_label"]

PHONE_COLUMNS = ("start", "end", "label", "word", "raw_label", "confidence")
WORD_COLUMNS = ("start", "end", "label", "confidence")

#: Word labels meaning "no word here" (silence / noise markers of aligners).
_NON_WORDS = frozenset(
    {"", "<sil>", "sil", "sp", "<s>", "</s>", "<eps>", "[sil]", "#", "pau", "h#"}
)
_VARIANT = re.compile(r"\(\d+\)$")
# A time line of a long-format TextGrid whose value has an exponent.
_TIME_LINE = re.compile(r"^(\s*(?:xmin|xmax|number) = )(\S*[eE]\S*)(?=\s*$)", re.MULTILINE)


def clean_word(word: str) -> str:
    """Lowercase a word label, drop a pronunciation-variant suffix (``and(2)``) and silence marks."""
    w = _VARIANT.sub("", str(word).strip()).lower()
    return "" if w in _NON_WORDS else w


#: English words among the silence and noise tokens of phone tiers
#: (:mod:`vtract.alignment.labels`): in a word tier they are what the speaker said.
ENGLISH_MARKER_WORDS = frozenset({"garbage", "noise", "silence"})


def is_word_label(label: str) -> bool:
    """Whether a word-tier label names a spoken word, not a silence or noise mark.

    Not words: an empty label, an aligner's silence mark (:func:`clean_word`) and a
    noise token (``<unk>``, ``[noise]``, ``+breath+``, ``spn``). The English words
    :data:`ENGLISH_MARKER_WORDS` are words, although phone tiers use them as marks
    (until session 30 "silence", "noise" and "garbage" gave no bigram).

    Parameters
    ----------
    label : str
        A word label as an aligner or TextGrid writes it.

    Returns
    -------
    bool
    """
    w = clean_word(label)
    return bool(w) and (w in ENGLISH_MARKER_WORDS or normalize_label(w) not in (SILENCE, NOISE))


@dataclass(eq=False)
class Alignment:
    """Time-aligned words and phones of one recording.

    Attributes
    ----------
    phones : pandas.DataFrame
        One row per phone: ``start``, ``end`` (s), ``label`` (normalised
        ARPAbet, no stress), ``word``, ``raw_label``, ``confidence``; forced
        alignments add ``score`` (pocketsphinx acoustic score per frame,
        0 = best, more negative = worse fit).
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

    @classmethod
    def from_intervals(
        cls,
        phones: Sequence[tuple[float, float, str]],
        words: Sequence[tuple[float, float, str]] = (),
        *,
        source: str,
        scheme: str = "auto",
        phone_confidence: Sequence[float] | None = None,
        word_confidence: Sequence[float] | None = None,
        low_confidence: bool = False,
        meta: dict[str, Any] | None = None,
        extra_phone_columns: dict[str, Sequence[Any]] | None = None,
    ) -> Alignment:
        """Build an alignment from raw ``(start, end, label)`` intervals.

        Phone labels are normalised with
        :func:`vtract.alignment.labels.normalize_labels` (unknown labels kept
        and listed in :attr:`unknown_labels`); each phone gets the word whose
        interval contains its midpoint; word labels are lowercased with
        pronunciation-variant suffixes removed.

        Parameters
        ----------
        phones, words : sequence of (float, float, str)
            Intervals in seconds, as in the source.
        source : str
            Value of :attr:`source`.
        scheme : str, default "auto"
            Phone labelling scheme (see :func:`~vtract.alignment.labels.detect_scheme`).
        phone_confidence, word_confidence : sequence of float, optional
            Per-interval confidence in [0, 1]; NaN where unknown.
        low_confidence : bool, default False
            Value of :attr:`low_confidence`.
        meta : dict, optional
            Value of :attr:`meta`; ``label_scheme`` is added, and with
            ``scheme="auto"`` a :func:`~vtract.alignment.labels.scheme_warning`
            is appended to ``meta["warnings"]`` when the scheme was ambiguous.
        extra_phone_columns : dict, optional
            Further per-phone columns (e.g. acoustic ``score``).

        Raises
        ------
        AlignmentError
            A time is not finite, negative, an interval ends before it starts,
            or two phone intervals overlap by more than :data:`OVERLAP_TOLERANCE_S`.
        """
        p_start, p_end, p_raw = _columns(phones, "phone")
        refuse_overlaps(p_start, p_end, p_raw, "phone")
        w_start, w_end, w_raw = _columns(words, "word")
        labels, unknown, used = normalize_labels(p_raw, scheme)
        word_labels = [clean_word(w) for w in w_raw]
        keep = [i for i, w in enumerate(word_labels) if w]
        w_start, w_end = w_start[keep], w_end[keep]
        word_labels = [word_labels[i] for i in keep]
        wconf = _confidence(word_confidence, len(w_raw), "word")[keep]
        pconf = _confidence(phone_confidence, len(p_raw), "phone")

        phone_word = _enclosing_words(p_start, p_end, labels, w_start, w_end, word_labels)
        phone_df = pd.DataFrame(
            {
                "start": p_start,
                "end": p_end,
                "label": pd.Series(labels, dtype=object),
                "word": pd.Series(phone_word, dtype=object),
                "raw_label": pd.Series([str(x) for x in p_raw], dtype=object),
                "confidence": pconf,
            }
        )
        for name, values in (extra_phone_columns or {}).items():
            if len(values) != len(phone_df):
                raise AlignmentError(
                    f"column {name!r} has {len(values)} values for {len(phone_df)} phones"
                )
            phone_df[name] = list(values)
        word_df = pd.DataFrame(
            {
                "start": w_start,
                "end": w_end,
                "label": pd.Series(word_labels, dtype=object),
                "confidence": wconf,
            }
        )
        info = dict(meta or {})
        info.setdefault("label_scheme", used)
        ambiguous = scheme_warning(p_raw) if scheme == "auto" else None
        if ambiguous is not None:
            info["warnings"] = [*info.get("warnings", ()), ambiguous]
        return cls(
            phones=phone_df.sort_values("start", kind="stable").reset_index(drop=True),
            words=word_df.sort_values("start", kind="stable").reset_index(drop=True),
            source=source,
            low_confidence=low_confidence,
            unknown_labels=unknown,
            meta=info,
        )

    def to_textgrid(self, path: str | os.PathLike[str], *, xmax: float | None = None) -> Path:
        """Write a Praat TextGrid (long text format, UTF-8) with ``words`` and ``phones`` tiers.

        Phone intervals carry the normalised labels; gaps are written as empty
        intervals, as Praat expects. Times are written in plain decimal form
        (``0.0000625``, not ``6.25e-05``), which every TextGrid reader parses.
        Reading the file back with :func:`vtract.read_alignment` gives the
        same intervals and labels, except zero-length intervals (start ==
        end): a TextGrid interval must have a positive duration (Praat and
        praatio refuse one that has none), so they are left out; and two
        intervals that overlap by no more than :data:`OVERLAP_TOLERANCE_S`
        (rounding the readers accept), where the earlier one is written to end
        where the next begins. Labels that were not understood
        (:attr:`unknown_labels`) are written as they were read, beside
        ARPAbet ones: read them back with ``scheme="arpabet"`` to keep them
        unknown; guessing the scheme again from such a mixed tier may read
        them as another scheme's phones (an X-SAMPA tier's stray ``x`` as
        IPA's HH).

        Parameters
        ----------
        path : str or os.PathLike
            Output file (overwritten).
        xmax : float, optional
            End of the TextGrid (s); default: ``meta["duration"]`` or the last
            interval's end.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        AlignmentError
            Intervals of one tier overlap by more than
            :data:`OVERLAP_TOLERANCE_S` (or one starts with another), ``xmax``
            is not a finite number or is before the last interval, or the file
            cannot be written.
        """
        from praatio import textgrid
        from praatio.utilities import textgrid_io
        from praatio.utilities.constants import Interval

        from .textgrid_reader import plain_time

        end = self.duration
        if xmax is None:
            xmax = max(float(self.meta.get("duration", 0.0) or 0.0), end)
        try:
            xmax = float(xmax)
        except (TypeError, ValueError):
            raise AlignmentError(f"xmax={xmax!r}; expected the end of the TextGrid in s") from None
        if not math.isfinite(xmax):
            raise AlignmentError(f"xmax={xmax} s; expected a finite end of the TextGrid in s")
        if xmax < end - 1e-9:
            raise AlignmentError(f"xmax={xmax} s is before the last interval ending at {end} s")
        xmax = max(xmax, end, 1e-3)
        tg = textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=xmax)
        for name, df in (("words", self.words), ("phones", self.phones)):
            spans = sorted(
                (float(s), float(e), str(lab))
                for s, e, lab in zip(df["start"], df["end"], df["label"])
                if e > s
            )
            for i in range(1, len(spans)):
                (a_start, a_end, a_label), (b_start, _, b_label) = spans[i - 1], spans[i]
                if b_start >= a_end:
                    continue
                if a_end - b_start > OVERLAP_TOLERANCE_S or b_start <= a_start:
                    raise AlignmentError(
                        f"{name} tier: interval {b_label!r} at {b_start} s overlaps "
                        f"{a_label!r} ending at {a_end} s; a TextGrid tier cannot hold overlaps"
                    )
                # an overlap the readers accept (rounding): the earlier interval ends where
                # the next begins (until session 30 praatio refused one of up to 1e-9 s)
                spans[i - 1] = (a_start, b_start, a_label)
            entries = [Interval(s, e, lab) for s, e, lab in spans]
            try:
                tg.addTier(textgrid.IntervalTier(name, entries, 0.0, xmax))
            except Exception as exc:  # praatio's own errors: say it as an alignment error
                raise AlignmentError(
                    f"{name} tier cannot be written as a TextGrid: {exc}"
                ) from None
        try:
            tg.validate("error")
        except Exception as exc:
            raise AlignmentError(f"the alignment cannot be written as a TextGrid: {exc}") from None
        # the dictionary praatio's own save() writes from (its _tgToDictionary is private)
        tiers = [
            {"class": t.tierType, "name": t.name, "xmin": t.minTimestamp,
             "xmax": t.maxTimestamp, "entries": t.entries}
            for t in tg.tiers
        ]  # fmt: skip
        text = textgrid_io.getTextgridAsStr(
            {"xmin": tg.minTimestamp, "xmax": tg.maxTimestamp, "tiers": tiers},
            "long_textgrid",
            includeBlankSpaces=True,
            minimumIntervalLength=None,
        )
        # praatio writes repr(): exponent form below 1e-4 s, which its own parser refuses
        text = _TIME_LINE.sub(lambda m: m.group(1) + plain_time(float(m.group(2))), text)
        out = Path(path)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AlignmentError(f"cannot write TextGrid {str(out)!r}: {exc.strerror}") from None
        return out

    def unknown_phones(self) -> np.ndarray:
        """Which phones carry a label that was not understood (bool, in row order).

        A phone is unknown when its ``raw_label`` (as :func:`clean_label` reads it) is one
        of :attr:`unknown_labels`; without a ``raw_label`` column its ``label`` is
        compared. A known phone whose normalised label spells an unknown raw label (an
        X-SAMPA ``A``, read as ``AA``, beside a stray ``AA``) therefore stays known
        (until session 30 it was skipped with the stray one).

        Returns
        -------
        numpy.ndarray of bool
        """
        unknown = set(self.unknown_labels)
        if not unknown or not len(self.phones):
            return np.zeros(len(self.phones), dtype=bool)
        column = "raw_label" if "raw_label" in self.phones.columns else "label"
        return np.array([clean_label(x) in unknown for x in self.phones[column]], dtype=bool)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description: counts, duration, source, flags, unknown labels, meta."""
        return {
            "source": self.source,
            "n_words": len(self.words),
            "n_phones": int(np.count_nonzero(~self.phones["label"].isin([SILENCE, NOISE])))
            if len(self.phones)
            else 0,
            "duration": round(self.duration, 6),
            "low_confidence": bool(self.low_confidence),
            "unknown_labels": list(self.unknown_labels),
            "words": [str(w) for w in self.words["label"]],
            "meta": _jsonable(self.meta),
        }


#: Phone intervals may overlap by this much (s) before the alignment is refused
#: (rounding in sample-index and 10 ms-frame formats).
OVERLAP_TOLERANCE_S = 1e-3


def refuse_overlaps(start: np.ndarray, end: np.ndarray, raw: Sequence[Any], what: str) -> None:
    """Raise :class:`AlignmentError` when two intervals of one tier overlap."""
    if len(start) < 2:
        return
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    bad = np.flatnonzero(s[1:] < e[:-1] - OVERLAP_TOLERANCE_S)
    if bad.size:
        i = int(bad[0])
        a, b = int(order[i]), int(order[i + 1])
        raise AlignmentError(
            f"{what} intervals overlap: {str(raw[b])!r} starts at {s[i + 1]:.3f} s before "
            f"{str(raw[a])!r} ends at {e[i]:.3f} s ({bad.size} overlap(s)); "
            "a phone tier must be a sequence of non-overlapping intervals"
        )


def _columns(
    intervals: Sequence[tuple[float, float, str]], what: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    starts = np.empty(len(intervals), dtype=np.float64)
    ends = np.empty(len(intervals), dtype=np.float64)
    labels: list[str] = []
    for i, item in enumerate(intervals):
        try:
            s, e, lab = item
            s, e = float(s), float(e)
        except (TypeError, ValueError):
            raise AlignmentError(
                f"{what} interval {i} is {item!r}; expected (start, end, label) with times in seconds"
            ) from None
        if not (math.isfinite(s) and math.isfinite(e)) or s < 0 or e < s:
            raise AlignmentError(
                f"{what} interval {i} ({lab!r}) has start={s}, end={e}; expected 0 <= start <= end"
            )
        starts[i], ends[i] = s, e
        labels.append("" if lab is None else str(lab))
    return starts, ends, labels


def _confidence(values: Sequence[float] | None, n: int, what: str) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise AlignmentError(f"{len(arr)} {what} confidences given for {n} {what}s")
    return arr


def _enclosing_words(
    p_start: np.ndarray,
    p_end: np.ndarray,
    labels: list[str],
    w_start: np.ndarray,
    w_end: np.ndarray,
    words: list[str],
) -> list[str]:
    out: list[str] = []
    order = np.argsort(w_start, kind="stable")
    ws, we = w_start[order], w_end[order]
    for s, e, lab in zip(p_start, p_end, labels):
        if lab in (SILENCE,) or not len(ws):
            out.append("")
            continue
        mid = 0.5 * (s + e)
        k = int(np.searchsorted(ws, mid, side="right")) - 1
        out.append(words[order[k]] if k >= 0 and we[k] >= mid else "")
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
