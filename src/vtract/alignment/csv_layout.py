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
  ``speaker_id``) -- a CSV holding several utterances needs ``utterance=``,
  or ``for_audio=`` naming the recording (``vtract.analyze``, ``vtract
  batch`` and the corpus readers pass the evidence's path): by its base name
  or stem, and among several of that name by its path (a ``filepath`` equal
  to it, or a relative one its path ends with: ``FAEM0/SA1.WAV``); a name
  that still matches more than one utterance is refused rather than resolved
  to the first;
- ``sample_rate`` or ``fs`` column overrides ``sr``; the chosen utterance's
  rows must agree on it (and on both columns when both are present; empty
  cells are left out, so a rate given on the first row only holds for all).
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


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _path_tail_matches(value: str, recording: Path) -> bool:
    """Whether ``value`` names ``recording``: the same absolute path, or a relative path
    (``FAEM0/SA1.WAV``) that the recording's path ends with."""
    named = Path(value.replace("\\", "/"))
    if named.is_absolute():
        return os.path.normpath(named) == os.path.normpath(recording.absolute())
    parts = [q for q in named.parts if q not in (".", "")]
    return bool(parts) and list(recording.absolute().parts[-len(parts) :]) == parts


def _choose_utterance(
    p: Path, values: list[str], want: str, what: str, recording: Path | None = None
) -> str:
    """The one utterance named ``want`` (full value, base name or stem), or an error.

    When several have that name, ``recording`` (the recording's path) picks the one
    whose value is its path or a tail of it (TIMIT's ``FAEM0/SA1.WAV`` beside
    ``FBCG1/SA1.WAV``).
    """
    stem = Path(want).stem
    match = [v for v in values if want in (v, Path(v).name, Path(v).stem)]
    if not match and what == "recording":
        match = [v for v in values if stem in (Path(v).name, Path(v).stem)]
    if len(match) > 1 and recording is not None:
        match = [v for v in match if _path_tail_matches(v, recording)] or match
    if not match:
        raise AlignmentError(
            f"{p.name}: no utterance for {what} {want!r} among its {len(values)} "
            f"({', '.join(values[:5])}{', ...' if len(values) > 5 else ''})"
        )
    if len(match) > 1:
        raise AlignmentError(
            f"{p.name}: {what} {want!r} matches {len(match)} utterances "
            f"({', '.join(match[:5])}); name it by its full filepath"
        )
    return match[0]


def read_published_csv(
    path: str | os.PathLike[str],
    *,
    sr: int = 16000,
    utterance: str | None = None,
    for_audio: str | os.PathLike[str] | None = None,
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
    for_audio : str or os.PathLike, optional
        The recording this alignment is for. When the CSV holds several
        utterances and ``utterance`` is not given, the one whose
        ``filepath`` / ``filename`` has this recording's base name (or
        stem) is read. Ignored for a CSV of one utterance.

    Returns
    -------
    Alignment
        ``source="csv"``; ``meta`` holds the columns used.

    Raises
    ------
    AlignmentError
        Required columns are missing, several utterances and none chosen,
        the chosen one is absent or ambiguous, its rows disagree on the
        sample rate, or there are no rows (no phones).
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
    chosen: str | None = None
    if key is not None:
        values = list(dict.fromkeys(key))
        if utterance is not None:
            chosen = _choose_utterance(p, values, str(utterance), "utterance")
        elif len(values) > 1:
            if for_audio is None:
                raise AlignmentError(
                    f"{p.name} holds {len(values)} utterances ({', '.join(values[:3])}, ...); "
                    "pass utterance= to choose one"
                )
            chosen = _choose_utterance(
                p, values, Path(for_audio).name, "recording", Path(for_audio)
            )
        if chosen is not None:
            df = df[key == chosen]
    elif utterance is not None:
        raise AlignmentError(
            f"{p.name}: no filepath/filename/sample_id column to select {utterance!r}"
        )

    rate = float(sr)
    rate_columns = [c for c in ("sample_rate", "fs") if c in df.columns]
    if rate_columns and len(df):
        # a rate given on some rows only (the first, say) holds for the others
        stated = {str(v).strip() for c in rate_columns for v in df[c]} - {""}
        try:
            rates = {float(v) for v in stated}
        except ValueError:
            bad = next(v for v in stated if not _is_float(v))
            raise AlignmentError(
                f"{p.name}: {'/'.join(rate_columns)} column holds {bad!r}; expected a rate in Hz"
            ) from None
        if len(rates) > 1:
            raise AlignmentError(
                f"{p.name}: the rows disagree on the sample rate "
                f"({', '.join(sorted(stated)[:5])} in {'/'.join(rate_columns)}); "
                "the sample-index times cannot be read with one rate"
            )
        if rates:
            rate = rates.pop()
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
            "utterance": chosen,
        },
    )
