"""Read TIMIT ``.PHN`` / ``.WRD`` files (sample indices at 16 kHz).

Each line is ``start_sample end_sample label``. Phones use TIMIT's 61-label
set; normalisation folds them to CMUdict ARPAbet (see
:mod:`vtract.alignment.labels`). Stop closures are handled here:

- a closure followed directly by its release (``bcl b``, ``tcl t``, also
  ``tcl ch`` and ``dcl jh``) becomes ONE phone spanning closure start to
  release end, labelled with the release (B, T, CH, JH) and with
  ``raw_label`` ``"bcl+b"``. The closure is part of the stop's articulation,
  and the published method's bigram boundary is the stop onset;
- a closure without a following release (unreleased stop) becomes the stop
  itself (``tcl`` alone -> T);
- ``h#``, ``pau`` and ``epi`` are silence (``sil``); ``q`` (glottal stop) is
  ``sil`` too since CMUdict has no glottal stop.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AlignmentError
from ..provenance import path_text
from .model import Alignment
from .textgrid_reader import decode_text

__all__ = ["TIMIT_SAMPLE_RATE", "merge_closures", "read_timit"]

TIMIT_SAMPLE_RATE = 16000

_CLOSURE_RELEASE = {
    "bcl": ("b",),
    "dcl": ("d", "jh"),
    "gcl": ("g",),
    "pcl": ("p",),
    "tcl": ("t", "ch"),
    "kcl": ("k",),
}


def _read_lines(path: Path, sr: int) -> list[tuple[float, float, str]]:
    try:
        text = decode_text(path.read_bytes(), path.name)
    except OSError as exc:
        raise AlignmentError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    rows: list[tuple[float, float, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=2)
        try:
            s, e = int(parts[0]), int(parts[1])
            lab = parts[2].strip()
        except (IndexError, ValueError):
            raise AlignmentError(
                f"{path.name} line {n}: {line.strip()!r}; expected 'start_sample end_sample label'"
            ) from None
        rows.append((s / sr, e / sr, lab))
    return rows


def merge_closures(phones: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Merge each TIMIT stop closure with the release that follows it.

    Parameters
    ----------
    phones : list of (start, end, label)
        TIMIT phones in order.

    Returns
    -------
    list of (start, end, label)
        Closure+release pairs joined as ``(closure start, release end,
        "bcl+b")``; everything else unchanged.
    """
    out: list[tuple[float, float, str]] = []
    i = 0
    while i < len(phones):
        s, e, lab = phones[i]
        low = lab.lower()
        if low in _CLOSURE_RELEASE and i + 1 < len(phones):
            s2, e2, lab2 = phones[i + 1]
            if lab2.lower() in _CLOSURE_RELEASE[low] and abs(s2 - e) < 1e-9:
                out.append((s, e2, f"{lab}+{lab2}"))
                i += 2
                continue
        out.append((s, e, lab))
        i += 1
    return out


def read_timit(
    path: str | os.PathLike[str], *, sr: int = TIMIT_SAMPLE_RATE, merge: bool = True
) -> Alignment:
    """Read a TIMIT ``.PHN`` file and its sibling ``.WRD`` file if present.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.PHN`` (or ``.WRD``) file; the other one is looked up beside it
        with the same stem (any case of the extension).
    sr : int, default 16000
        Sample rate the indices refer to.
    merge : bool, default True
        Merge closures with their releases (:func:`merge_closures`).

    Returns
    -------
    Alignment
        ``source="timit"``; ``raw_label`` of a merged stop is ``"bcl+b"``.

    Raises
    ------
    AlignmentError
        No ``.PHN`` file, a malformed line, or a ``.PHN`` without phones.
    """
    p = Path(path)
    if sr <= 0:
        raise AlignmentError(f"sample rate {sr} Hz; expected a positive rate")
    # compare stems: glob(stem + ".*") took "[", "*", "?" in a name as patterns
    stem_files = (
        {f.suffix.lower(): f for f in sorted(p.parent.iterdir()) if f.stem == p.stem}
        if p.parent.is_dir()
        else {}
    )
    phn = p if p.suffix.lower() == ".phn" else stem_files.get(".phn")
    wrd = p if p.suffix.lower() == ".wrd" else stem_files.get(".wrd")
    if phn is None:
        raise AlignmentError(f"{p.name}: no .PHN file beside it; TIMIT phones are needed")
    phones = _read_lines(phn, sr)
    if not phones:
        raise AlignmentError(f"{phn.name}: no phones: the file holds no labelled intervals")
    # in time order before closures are merged and raw labels assigned: from_intervals
    # sorts the phones, and until session 30 raw_label was then set in file order
    phones = sorted(phones, key=lambda interval: interval[0])
    if merge:
        phones = merge_closures(phones)
    words = _read_lines(wrd, sr) if wrd is not None else []
    merged = [lab for _, _, lab in phones]
    labels = [lab.split("+")[-1] for lab in merged]
    alignment = Alignment.from_intervals(
        [(s, e, lab) for (s, e, _), lab in zip(phones, labels)],
        words,
        source="timit",
        scheme="timit",
        meta={
            "path": path_text(phn),
            "words_path": None if wrd is None else str(wrd),
            "format": "timit",
            "sample_rate": sr,
            "closures_merged": merge,
        },
    )
    alignment.phones["raw_label"] = merged
    return alignment
