"""Read HTS / HTK label files (``.lab``): ``start end label`` in 100 ns units.

Full-context HTS labels (``x^sil-hh+iy=t@...``) carry the current phone
between the first ``-`` and the following ``+``; plain (mono-phone) labels
are the phone itself. Phone names are festival's lower-case ARPAbet
(``pau`` = silence, ``ax`` = schwa), normalised with the ``timit`` scheme.
HTS labels carry no word identities, so the words table is empty.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import AlignmentError
from ..provenance import path_text
from .model import Alignment
from .textgrid_reader import decode_text

__all__ = ["HTK_TIME_UNIT", "context_phone", "read_hts"]

#: Seconds per HTK time unit (100 ns).
HTK_TIME_UNIT = 1e-7

_FULL_CONTEXT = re.compile(r"^[^-+]*-([^+]+)\+")


def context_phone(label: str) -> str:
    """The current phone of a full-context label (between ``-`` and ``+``), or the label itself."""
    m = _FULL_CONTEXT.match(label)
    return m.group(1) if m else label


def read_hts(path: str | os.PathLike[str]) -> Alignment:
    """Read an HTS full-context or HTK mono-phone label file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.lab`` file with lines ``start end label`` (times in 100 ns).

    Returns
    -------
    Alignment
        ``source="hts"``; ``raw_label`` holds the phone extracted from the
        context label; ``meta["full_context"]`` tells which kind it was.

    Raises
    ------
    AlignmentError
        A line is not ``start end label`` with integer times, or there is
        no line at all (no phones).
    """
    p = Path(path)
    try:
        text = decode_text(p.read_bytes(), p.name)
    except OSError as exc:
        raise AlignmentError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    phones: list[tuple[float, float, str]] = []
    full_context = False
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 3:
            raise AlignmentError(
                f"{p.name} line {n}: {line.strip()[:60]!r}; expected 'start end label' with "
                "times in 100 ns units (a .lab holding only a transcript is not an alignment)"
            )
        try:
            s, e = int(parts[0]), int(parts[1])
        except ValueError:
            raise AlignmentError(
                f"{p.name} line {n}: times {parts[0]!r} {parts[1]!r} are not integers (100 ns "
                "units); a .lab holding only a transcript is not an alignment"
            ) from None
        phone = context_phone(parts[2])
        full_context = full_context or phone != parts[2]
        phones.append((s * HTK_TIME_UNIT, e * HTK_TIME_UNIT, phone))
    if not phones:
        raise AlignmentError(f"{p.name}: no phones: the file holds no labelled intervals")
    return Alignment.from_intervals(
        phones,
        [],
        source="hts",
        scheme="timit",
        meta={"path": path_text(p), "format": "hts", "full_context": full_context},
    )
