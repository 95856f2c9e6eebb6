"""CSV manifests: a list of evidence files with what is known about each.

A manifest is a UTF-8 CSV file (a byte-order mark is allowed) with a header
row. Columns (case-insensitive, extra columns are ignored):

``path`` (required; ``file`` or ``audio`` are accepted as synonyms)
    Audio file. Relative paths are resolved against the manifest's folder,
    not the current directory, so a manifest travels with its data.
``transcript`` (optional)
    Either the words spoken, or a path ending in ``.txt`` or ``.lab`` whose
    text is read (resolved like ``path``).
``textgrid`` (optional)
    Alignment file (TextGrid, HTS ``.lab``, TIMIT, CSV) used instead of
    aligning; resolved like ``path``.
``speaker`` (optional)
    Speaker identifier.
``label`` (optional)
    ``organic``, ``synthetic`` or empty.

Empty cells mean "unknown". Rows keep their order. A row naming a file that
does not exist, or giving a bad label, becomes an input with a ``problem``
(an error row of the batch) so one bad row does not stop the others; a file
that is not a manifest at all (no path column, not UTF-8 CSV, no rows) is
refused as a whole.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import InputFileError
from .inputs import BatchInput, read_transcript

__all__ = ["LABELS", "MANIFEST_COLUMNS", "read_manifest"]

#: Columns a manifest may carry (after synonyms are mapped).
MANIFEST_COLUMNS = ("path", "transcript", "textgrid", "speaker", "label")
#: Ground-truth labels a manifest may give.
LABELS = ("organic", "synthetic", "")

_PATH_SYNONYMS = ("path", "file", "audio")
_TRANSCRIPT_FILE_SUFFIXES = (".txt", ".lab")


def read_manifest(path: str | os.PathLike[str]) -> list[BatchInput]:
    """Read a CSV manifest into :class:`~vtract.batch.inputs.BatchInput` items.

    Parameters
    ----------
    path : str or os.PathLike
        The manifest file.

    Returns
    -------
    list of BatchInput
        One item per data row, in file order, with absolute paths; rows
        naming a missing file or a label other than :data:`LABELS` carry a
        :attr:`~vtract.batch.inputs.BatchInput.problem`.

    Raises
    ------
    InputFileError
        The manifest cannot be read, is not UTF-8 CSV, has no path column
        or no rows.
    """
    manifest = Path(os.path.abspath(Path(path).expanduser()))
    base = manifest.parent
    try:
        with open(manifest, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
            path_col = next((header[s] for s in _PATH_SYNONYMS if s in header), None)
            if path_col is None:
                raise InputFileError(
                    f"manifest {str(manifest)!r} has no 'path' column "
                    f"(columns: {', '.join(header) or 'none'})"
                )
            cols = {name: header.get(name) for name in MANIFEST_COLUMNS[1:]}
            items = []
            for line, row in enumerate(reader, start=2):
                items.append(_row_item(row, path_col, cols, base, manifest, line))
    except InputFileError:  # an OSError subclass: do not re-wrap it below
        raise
    except UnicodeDecodeError as exc:
        raise InputFileError(f"manifest {str(manifest)!r} is not UTF-8: {exc.reason}") from None
    except csv.Error as exc:
        raise InputFileError(f"manifest {str(manifest)!r} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read manifest {str(manifest)!r}: {exc.strerror}") from None
    if not items:
        raise InputFileError(f"manifest {str(manifest)!r} lists no files")
    return items


def _cell(row: dict[str, str | None], col: str | None) -> str:
    if col is None:
        return ""
    value = row.get(col)
    return value.strip() if isinstance(value, str) else ""


def _raw_cell(row: dict[str, str | None], col: str) -> str:
    value = row.get(col)
    return value if isinstance(value, str) else ""


def _resolve(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return Path(os.path.abspath(p if p.is_absolute() else base / p))


def _resolve_file(raw: str, base: Path) -> Path:
    """The file a cell names: as written (names may start or end with spaces), else stripped."""
    exact = _resolve(raw, base)
    if exact.is_file() or raw == raw.strip():
        return exact
    return _resolve(raw.strip(), base)


def _row_item(
    row: dict[str, str | None],
    path_col: str,
    cols: dict[str, str | None],
    base: Path,
    manifest: Path,
    line: int,
) -> BatchInput:
    where = f"manifest {manifest.name!r} line {line}"
    problems: list[str] = []
    audio = _raw_cell(row, path_col)
    if not audio.strip():
        return BatchInput(path=manifest, source=str(manifest), problem=f"{where}: empty path")
    audio_path = _resolve_file(audio, base)
    if not audio_path.is_file():
        problems.append(f"no such audio file {str(audio_path)!r}")

    transcript: str | None = None
    transcript_path: Path | None = None
    t = _cell(row, cols["transcript"])
    if t and t.lower().endswith(_TRANSCRIPT_FILE_SUFFIXES):
        transcript_path = _resolve_file(t, base)
        if not transcript_path.is_file():
            problems.append(f"no such transcript file {str(transcript_path)!r}")
        else:
            try:
                transcript = read_transcript(transcript_path)
            except InputFileError as exc:
                problems.append(str(exc))
    elif t:
        transcript = " ".join(t.split())

    textgrid: Path | None = None
    tg_col = cols["textgrid"]
    tg = _raw_cell(row, tg_col) if tg_col is not None else ""
    if tg.strip():
        textgrid = _resolve_file(tg, base)
        if not textgrid.is_file():
            problems.append(f"no such alignment file {str(textgrid)!r}")

    label = _cell(row, cols["label"]).lower()
    if label not in LABELS:
        problems.append(f"label {label!r} is not one of 'organic', 'synthetic' or empty")
        label = ""
    return BatchInput(
        path=audio_path,
        transcript=transcript,
        transcript_path=transcript_path,
        textgrid=textgrid,
        speaker=_cell(row, cols["speaker"]),
        label=label,
        source=str(manifest),
        problem=f"{where}: {'; '.join(problems)}" if problems else None,
    )
