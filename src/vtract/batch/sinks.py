"""Table writers that stream rows to disk and publish the file atomically.

A writer appends rows to a hidden temporary file beside the destination as
they arrive (Parquet: one row group per ``row_group_size`` rows through
:class:`pyarrow.parquet.ParquetWriter`; CSV: one line per row, flushed) and
:meth:`TableWriter.commit` renames it over the destination in one step
(:func:`os.replace`), so readers never see a half-written table. The format
follows the destination's suffix: ``.parquet`` / ``.pq`` or ``.csv``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..output_files import OutputFileError, prepare_output
from .errors import OutputError

__all__ = ["FORMATS", "TableWriter", "iter_table", "open_writer", "table_format"]

#: Destination suffix -> format.
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def table_format(path: str | os.PathLike[str]) -> str:
    """``"parquet"`` or ``"csv"`` from the file name.

    Raises
    ------
    OutputError
        The suffix is neither ``.parquet``/``.pq`` nor ``.csv``.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(
            f"output {os.fspath(path)!r} must end in .parquet, .pq or .csv (got {suffix or 'none'!r})"
        )
    return FORMATS[suffix]


def _arrow_schema(columns: dict[str, str]) -> Any:
    import pyarrow as pa

    kinds = {
        "str": pa.string(),
        "float": pa.float64(),
        "int": pa.int64(),
        "floats": pa.list_(pa.float64()),
    }
    return pa.schema([(name, kinds[kind]) for name, kind in columns.items()])


class TableWriter:
    """Stream rows into a temporary file, then publish it atomically.

    Parameters
    ----------
    path : path-like
        Destination (``.parquet``, ``.pq`` or ``.csv``).
    columns : dict
        Column name -> kind (``"str"``, ``"float"``, ``"int"``, ``"floats"``).
    row_group_size : int, default 64
        Rows per Parquet row group (rows held in memory at most).
    metadata : dict, optional
        Key-value pairs stored in the Parquet schema metadata (CSV has no
        place for them).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: dict[str, str],
        *,
        row_group_size: int = 64,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.path = _table_destination(Path(path))
        self.format = table_format(self.path)
        self.columns = dict(columns)
        self.row_group_size = max(1, int(row_group_size))
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.n_rows = 0
        self._buffer: list[dict[str, Any]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.format == "parquet":
                import pyarrow.parquet as pq

                self._schema = _arrow_schema(self.columns)
                if metadata:
                    self._schema = self._schema.with_metadata(metadata)
                self._pq = pq.ParquetWriter(self.tmp, self._schema, compression="zstd")
            else:
                self._fh = open(self.tmp, "w", encoding="utf-8", newline="")
                self._csv = csv.writer(self._fh)
                self._csv.writerow(list(self.columns))
                self._fh.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {str(self.path)!r}: {exc.strerror or exc}") from None

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append rows (missing columns are null, extra keys are ignored)."""
        if not rows:
            return
        self.n_rows += len(rows)
        if self.format == "csv":
            for row in rows:
                self._csv.writerow([_csv_cell(row.get(c), k) for c, k in self.columns.items()])
            self._fh.flush()
            return
        self._buffer.extend(rows)
        if len(self._buffer) >= self.row_group_size:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._buffer:
            cols = list(self.columns)
            table = pa.Table.from_pylist(
                [{c: r.get(c) for c in cols} for r in self._buffer], schema=self._schema
            )
            self._pq.write_table(table)
            self._buffer = []

    def commit(self) -> Path:
        """Finish the file and move it over the destination atomically."""
        if self.format == "parquet":
            self._flush_parquet()
            self._pq.close()
        else:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        """Drop the temporary file (the destination is left untouched)."""
        try:
            if self.format == "parquet":
                self._pq.close()
            else:
                self._fh.close()
        except Exception:  # closing a broken writer: nothing more to save
            pass
        self.tmp.unlink(missing_ok=True)


def _table_destination(path: Path) -> Path:
    """Where a results table is published: a symlink's final target (the link is kept).

    :func:`vtract.output_files.prepare_output` follows the links and creates
    the folder. A table is read back to resume a run, so it must be a regular
    file: a FIFO or device at ``path`` (which ``prepare_output`` would have an
    output written into directly) is refused rather than replaced.
    """
    try:
        target = prepare_output(path)
    except OutputFileError as exc:
        raise OutputError(str(exc)) from None
    if target.exists() and not target.is_file():
        raise OutputError(
            f"cannot write table {os.fspath(path)!r}: it is not a regular file (a results "
            "table is read back to resume a run); give a file path"
        )
    return target


def open_writer(
    path: str | os.PathLike[str],
    columns: dict[str, str],
    *,
    row_group_size: int = 64,
    metadata: dict[str, str] | None = None,
) -> TableWriter:
    """Open a :class:`TableWriter` for ``path`` (format from its suffix)."""
    return TableWriter(path, columns, row_group_size=row_group_size, metadata=metadata)


#: A text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any, kind: str = "str") -> Any:
    """One CSV cell; text that a spreadsheet would run as a formula gets a leading ``'``.

    Evidence names and error messages quoting them are adversary-controlled:
    a name like ``=HYPERLINK(...).wav`` would become a live formula when the
    table is opened in Excel or LibreOffice (CWE-1236). Text cells starting
    with ``=``, ``+``, ``-``, ``@``, tab or carriage return are written with
    a single quote in front (the usual neutralisation); numeric columns are
    left alone. Parquet tables hold the exact text.
    """
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    if kind == "str" and isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def iter_table(
    path: str | os.PathLike[str], columns: dict[str, str], *, batch_size: int = 1024
) -> Iterator[list[dict[str, Any]]]:
    """Read an existing results table in batches of rows (bounded memory).

    CSV cells come back as strings (``""`` for null), Parquet values typed.

    Raises
    ------
    OutputError
        The file cannot be read or its columns differ from ``columns``.
    """
    p = Path(path)
    fmt = table_format(p)
    expected = list(columns)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(p)
            _check_columns(p, pf.schema_arrow.names, expected)
            for batch in pf.iter_batches(batch_size=batch_size):
                yield batch.to_pylist()
            return
        with open(p, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            _check_columns(p, reader.fieldnames or [], expected)
            rows: list[dict[str, Any]] = []
            for row in reader:
                rows.append(row)
                if len(rows) >= batch_size:
                    yield rows
                    rows = []
            if rows:
                yield rows
    except OSError as exc:
        raise OutputError(f"cannot read existing output {str(p)!r}: {exc}") from None
    except (ValueError, csv.Error) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
        raise OutputError(f"existing output {str(p)!r} is not a readable table: {exc}") from None


def _check_columns(path: Path, found: Sequence[str], expected: list[str]) -> None:
    if list(found) != expected:
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        differ = "; ".join(
            part
            for part in (
                f"it lacks {missing}" if missing else "",
                f"it has {extra} besides" if extra else "",
                "" if missing or extra else f"its columns are in another order: {list(found)}",
            )
            if part
        )
        raise OutputError(
            f"existing output {str(path)!r} was not written by this version of 'vtract "
            f"batch' ({differ}); choose another output, or start afresh with --no-resume"
        )
