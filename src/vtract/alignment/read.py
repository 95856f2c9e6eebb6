"""``read_alignment``: open any supported alignment file by its format."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AlignmentError, InputFileError
from .csv_layout import read_published_csv
from .festival import read_festival_segs
from .hts import read_hts
from .model import Alignment
from .textgrid_reader import read_textgrid
from .timit import read_timit

__all__ = ["FORMATS", "read_alignment"]

#: Format name -> reader.
FORMATS: dict[str, Callable[..., Alignment]] = {
    "textgrid": read_textgrid,
    "timit": read_timit,
    "hts": read_hts,
    "festival": read_festival_segs,
    "csv": read_published_csv,
}

_BY_SUFFIX = {
    ".textgrid": "textgrid",
    ".phn": "timit",
    ".wrd": "timit",
    ".lab": "hts",
    ".segs": "festival",
    ".csv": "csv",
}


def _sniff(p: Path) -> str | None:
    """The format of a file without a known extension, from its first 512 bytes only."""
    try:
        with p.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise AlignmentError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    text = head.replace(b"\x00", b"").decode("latin-1").lstrip("\ufeff\xef\xbb\xbf\xff\xfe")
    if "ooTextFile" in text or "TextGrid" in text:
        return "textgrid"
    return None


def read_alignment(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    for_audio: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Alignment:
    """Read a phonetic alignment file into an :class:`Alignment`.

    Parameters
    ----------
    path : str or os.PathLike
        Praat ``.TextGrid`` (long/short text, UTF-8, UTF-8 BOM, UTF-16;
        MFA output included), TIMIT ``.PHN``/``.WRD``, HTS/HTK ``.lab``
        (100 ns units, full-context or mono), festival ``.segs``, or ``.csv``
        in the published code's layout.
    format : {"textgrid", "timit", "hts", "festival", "csv"}, optional
        Override detection by extension / content.
    for_audio : str or os.PathLike, optional
        The recording the alignment is for. A CSV holding several utterances
        is narrowed to the one named like this recording (its base name or
        stem; see :func:`~vtract.alignment.csv_layout.read_published_csv`);
        the other formats hold one utterance and ignore it.
    **options
        Passed to the reader: ``phone_tier``, ``word_tier``, ``scheme``
        (TextGrid); ``sr``, ``merge`` (TIMIT); ``sr``, ``utterance`` (CSV).

    Returns
    -------
    Alignment
        Phones with normalised ARPAbet labels (unknown labels kept and listed
        in ``unknown_labels``), words, ``source`` and ``meta`` (with ``sha256``
        of the file).

    Raises
    ------
    InputFileError
        The path does not exist or is not a file.
    AlignmentError
        Unknown format, a malformed file, or a file without phones (every
        reader refuses an empty alignment: "no phones").

    Examples
    --------
    >>> al = vtract.read_alignment("arctic_a0009_phone.lab")   # doctest: +SKIP
    >>> al.phones[["start", "end", "label"]].head(3)            # doctest: +SKIP
    """
    from ..provenance import file_sha256

    p = Path(path).expanduser()
    if not p.is_file():
        raise InputFileError(f"no such alignment file: {str(p)!r}")
    fmt = format or _BY_SUFFIX.get(p.suffix.lower()) or _sniff(p)
    if fmt not in FORMATS:
        raise AlignmentError(
            f"{p.name}: unknown alignment format {fmt or p.suffix!r}; expected one of "
            f"{', '.join(FORMATS)} (extensions {', '.join(_BY_SUFFIX)})"
        )
    if fmt == "csv" and for_audio is not None:
        options["for_audio"] = for_audio
    try:
        alignment = FORMATS[fmt](p, **options)
    except TypeError as exc:
        raise AlignmentError(f"{p.name}: bad option for the {fmt} reader: {exc}") from None
    alignment.meta.setdefault("sha256", file_sha256(p))
    return alignment
