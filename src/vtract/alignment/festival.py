"""Read festival / xwaves segment files (``.segs``): phone END times.

Layout: a header ending with a line ``#``, then one line per segment,
``end_time colour label`` (seconds). Each segment starts where the previous
one ends (the first at 0 s). Labels are festival's lower-case ARPAbet.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AlignmentError
from ..provenance import path_text
from .model import Alignment
from .textgrid_reader import decode_text

__all__ = ["read_festival_segs"]


def read_festival_segs(path: str | os.PathLike[str]) -> Alignment:
    """Read a festival ``utt.save.segs`` / xwaves label file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.segs`` file.

    Returns
    -------
    Alignment
        ``source="festival"``, no words.

    Raises
    ------
    AlignmentError
        No ``#`` header separator, a line is not ``end colour label``, or no
        segment follows the header (no phones).
    """
    p = Path(path)
    try:
        lines = decode_text(p.read_bytes(), p.name).splitlines()
    except OSError as exc:
        raise AlignmentError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    try:
        body = lines[[ln.strip() for ln in lines].index("#") + 1 :]
    except ValueError:
        raise AlignmentError(f"{p.name}: no '#' line ending the xwaves header") from None
    phones: list[tuple[float, float, str]] = []
    prev = 0.0
    for n, line in enumerate(body, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            end = float(parts[0])
            label = parts[2] if len(parts) >= 3 else ""
        except ValueError:
            raise AlignmentError(
                f"{p.name}: segment {n} {line!r}; expected 'end_time colour label'"
            ) from None
        if end < prev:
            raise AlignmentError(f"{p.name}: segment {n} ends at {end} s, before the previous one")
        phones.append((prev, end, label))
        prev = end
    if not phones:
        raise AlignmentError(f"{p.name}: no phones: no segment after the '#' header line")
    return Alignment.from_intervals(
        phones,
        [],
        source="festival",
        scheme="timit",
        meta={"path": path_text(p), "format": "festival-segs"},
    )
