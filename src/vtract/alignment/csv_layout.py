"""Read the CSV metadata layout of the published code (Blue et al. 2022).

The authors' scripts read one CSV row per phone with these columns
(``df_read_csv`` in their bigram analysis): ``start_phoneme``,
``end_phoneme`` (sample indices at 16 kHz), ``arpabet`` and ``ipa``
(labels), ``start_word``, ``end_word`` (sample indices), ``word``,
``index_phoneme`` (position in the word), ``filename`` / ``filepath``,
``speaker_id``, ``sample_id`` and ``sex``.

Accepted here (column names case-insensitive):

- times, one pair required: ``start_phoneme``/``end_phoneme`` or
  ``start_sample``/``end_sample`` (sample indices at ``sr``), or
  ``start``/``end`` or ``start_time``/``end_time`` (seconds);
- label, the first present of ``arpabet``, ``phoneme``, ``phone``, ``label``,
  ``ipa`` (IPA labels are normalised with the ``ipa`` scheme);
- words, optional: ``word`` with ``start_word``/``end_word`` (samples) -- one
  word interval per distinct (start, end, word); without word times, each
  phone's ``word`` is kept and each run of consecutive phones (in time order)
  with the same word is one word interval (a word said twice in a row with no
  phone between is one interval);
- utterance, optional: ``filepath``, ``filename`` or ``sample_id`` (with
  ``speaker_id``) -- a CSV holding several utterances needs ``utterance=``;
- ``sample_rate`` or ``fs`` column overrides ``sr``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from ..errors import AlignmentError
from ..provenance import path_text
from .model import Alignment
from .textgrid_reader import decode_text

__all__ = ["read_published_csv"]

_SAMPLE_PAIRS = (("start_phoneme", "end_phoneme"), ("start_sample", "end_sample"))
_SECOND_PAIRS = (("start", "end"), ("start_time", "end_time"))
_LABELS = ("arpabet", "phoneme", "phone", "label", "ipa")
_UTTERANCE = ("filepath", "filename", "sample_id")


def _utterance_key(df: pd.DataFrame) -> pd.Series | None:
    for col in _UTTERANCE:
        if col in df.columns:
            key = df[col].astype(str)
            if col == "sample_id" and "speaker_id" in df.columns:
                key = df["speaker_id"].astype(str) + "/" + key
            return key
    return None


def read_published_csv(
    path: str | os.PathLike[str], *, sr: int = 16000, utterance: str | None = None
) -> Alignment:
    """Read one utterance from a CSV in the published code's layout.

    Parameters
    ----------
    path : str or os.PathLike
        CSV file (comma separated, header row); UTF-8, UTF-16 (with BOM) or
        Latin-1, decoded as the other readers do.
    sr : int, default 16000
        Sample rate of sample-index columns.
    utterance : str, optional
        Which utterance to read when the CSV holds several: a value of
        ``filepath`` / ``filename`` (full value, base name or stem) or
        ``speaker_id/sample_id``.

    Returns
    -------
    Alignment
        ``source="csv"``; ``meta`` holds the columns used.

    Raises
    ------
    AlignmentError
        Required columns are missing, several utterances and none chosen,
        the chosen one is absent, or there are no rows (no phones).
    """
    p = Path(path)
    try:
        text = decode_text(p.read_bytes(), p.name)  # UTF-8, UTF-16, Latin-1 as the other readers
    except OSError as exc:
        raise AlignmentError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AlignmentError(f"{p.name}: not a readable CSV: {exc}") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    key = _utterance_key(df)
    if key is not None:
        values = list(dict.fromkeys(key))
        if utterance is None:
            if len(values) > 1:
                raise AlignmentError(
                    f"{p.name} holds {len(values)} utterances ({', '.join(values[:3])}, ...); "
                    "pass utterance= to choose one"
                )
        else:
            want = str(utterance)
            match = [v for v in values if want in (v, Path(v).name, Path(v).stem)]
            if not match:
                raise AlignmentError(f"{p.name}: no utterance {want!r}; it has {values[:5]}")
            df = df[key == match[0]]
    elif utterance is not None:
        raise AlignmentError(
            f"{p.name}: no filepath/filename/sample_id column to select {utterance!r}"
        )

    rate = float(sr)
    for col in ("sample_rate", "fs"):
        if col in df.columns and len(df):
            try:
                rate = float(df[col].iloc[0])
            except (TypeError, ValueError):
                raise AlignmentError(
                    f"{p.name}: {col} column holds {df[col].iloc[0]!r}; expected a rate in Hz"
                ) from None
    if not rate > 0 or rate == float("inf"):
        raise AlignmentError(f"{p.name}: sample rate {rate}; expected a positive rate")

    scale = None
    pair: tuple[str, str] | None = None
    for a, b in _SAMPLE_PAIRS:
        if a in df.columns and b in df.columns:
            pair, scale = (a, b), 1.0 / rate
            break
    if pair is None:
        for a, b in _SECOND_PAIRS:
            if a in df.columns and b in df.columns:
                pair, scale = (a, b), 1.0
                break
    label_col = next((c for c in _LABELS if c in df.columns), None)
    if pair is None or label_col is None or scale is None:
        raise AlignmentError(
            f"{p.name}: columns {list(df.columns)}; expected start_phoneme/end_phoneme (samples) "
            f"or start/end (seconds) and a label column ({', '.join(_LABELS)})"
        )
    try:
        starts = df[pair[0]].astype(float) * scale
        ends = df[pair[1]].astype(float) * scale
    except ValueError:
        raise AlignmentError(f"{p.name}: non-numeric values in {pair[0]}/{pair[1]}") from None
    phones = list(zip(starts, ends, df[label_col]))
    if not phones:
        raise AlignmentError(f"{p.name}: no phones: the CSV has a header but no rows")
    phones.sort(key=lambda r: r[0])

    words: list[tuple[float, float, str]] = []
    if "word" in df.columns and "start_word" in df.columns and "end_word" in df.columns:
        w = df[["start_word", "end_word", "word"]].drop_duplicates()
        try:
            words = [
                (float(s) / rate, float(e) / rate, str(t)) for s, e, t in w.itertuples(index=False)
            ]
        except ValueError:
            raise AlignmentError(f"{p.name}: non-numeric values in start_word/end_word") from None
    elif "word" in df.columns:
        # one word interval per run of consecutive phones with the same word: keyed by
        # the word's text, a repeated word ("the ... the") spanned everything between
        for s, e, word in sorted(zip(starts, ends, df["word"]), key=lambda r: r[0]):
            if words and words[-1][2] == word:
                words[-1] = (words[-1][0], max(words[-1][1], e), word)
            else:
                words.append((s, e, word))
    words.sort(key=lambda r: r[0])
    return Alignment.from_intervals(
        phones,
        words,
        source="csv",
        scheme="ipa" if label_col == "ipa" else "auto",
        meta={
            "path": path_text(p),
            "format": "csv",
            "time_columns": list(pair),
            "label_column": label_col,
            "sample_rate": rate if scale != 1.0 else None,
            "utterance": utterance,
        },
    )
