"""The output of a batch run: results table, per-bigram table, journal, lock.

:class:`BatchOutput` makes a run safe to interrupt and to repeat:

- rows stream into temporary files (:mod:`vtract.batch.sinks`) and every
  finished file is also appended to a journal (``.<out>.journal.jsonl``
  beside the output, flushed and fsync'ed), so a crash loses nothing;
- :meth:`BatchOutput.commit` publishes the tables atomically and removes the
  journal;
- on start, rows of an existing output and of a journal left by a crash are
  carried over, and their input keys (audio SHA-256 + alignment SHA-256 +
  transcript) are reported as done so the caller skips those inputs (files that failed before are retried unless asked not to);
- a run with other analysis settings (:mod:`vtract.batch.settings`) than
  the rows it would carry over is refused, so a table never mixes answers
  made in different ways;
- a lock file (``.<out>.lock``) stops two runs writing the same output.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import OutputError
from .rows import BIGRAM_COLUMNS, RESULT_COLUMNS
from .settings import settings_difference
from .sinks import TableWriter, iter_table, open_writer, table_format

__all__ = ["BatchOutput"]


class BatchOutput:
    """Results (and optional per-bigram) tables of one batch run.

    Parameters
    ----------
    out : path-like
        Results table (``.parquet``/``.pq``/``.csv``).
    per_bigram : path-like, optional
        Per-bigram table (format from its own suffix).
    resume : bool, default True
        Carry over an existing output and skip its files; ``False``
        replaces it (atomically, at commit).
    retry_failed : bool, default True
        On resume, drop earlier error rows so those files run again.
    row_group_size : int, default 64
        Parquet rows per row group.
    provenance : dict, optional
        Provenance of this run, stored as JSON under the ``vtract.provenance``
        key of the Parquet schema metadata.
    settings : str, optional
        :func:`~vtract.batch.settings.analysis_settings` of this run. On
        resume every carried row must have the same ``analysis_settings``,
        or :meth:`open` raises :class:`OutputError`.
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        per_bigram: str | os.PathLike[str] | None = None,
        resume: bool = True,
        retry_failed: bool = True,
        row_group_size: int = 64,
        provenance: dict[str, Any] | None = None,
        settings: str | None = None,
    ) -> None:
        self.metadata = (
            None
            if provenance is None
            else {"vtract.provenance": json.dumps(provenance, sort_keys=True, default=str)}
        )
        self.out = Path(os.path.abspath(Path(out).expanduser()))
        table_format(self.out)
        self.per_bigram = (
            None if per_bigram is None else Path(os.path.abspath(Path(per_bigram).expanduser()))
        )
        if self.per_bigram is not None:
            table_format(self.per_bigram)
            if os.path.realpath(self.per_bigram) == os.path.realpath(self.out):
                raise OutputError(
                    f"per-bigram table and results table are the same file: {str(self.out)!r}"
                )
        if self.out.is_dir():
            raise OutputError(f"output {str(self.out)!r} is a folder: expected a file name")
        self.resume = resume
        self.retry_failed = retry_failed
        self.settings = settings
        self.row_group_size = row_group_size
        self.journal_path = self.out.with_name(f".{self.out.name}.journal.jsonl")
        self.lock_path = self.out.with_name(f".{self.out.name}.lock")
        #: Input keys already in the output (successful, or failed when not retried).
        self.done: set[str] = set()
        #: Rows carried over from earlier runs.
        self.carried = 0
        #: Verdict -> count over the carried rows.
        self.carried_verdicts: Counter[str] = Counter()
        self._results: TableWriter | None = None
        self._bigrams: TableWriter | None = None
        self._journal: Any = None
        self._locked = False

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> BatchOutput:
        """Take the lock, carry over earlier rows and open the writers."""
        self._lock()
        try:
            self._results = open_writer(
                self.out, RESULT_COLUMNS, row_group_size=self.row_group_size, metadata=self.metadata
            )
            if self.per_bigram is not None:
                self._bigrams = open_writer(
                    self.per_bigram,
                    BIGRAM_COLUMNS,
                    row_group_size=self.row_group_size * 8,
                    metadata=self.metadata,
                )
            if self.resume:
                self._carry_over()
            elif self.journal_path.exists():
                self.journal_path.unlink()
            self._journal = open(self.journal_path, "a", encoding="utf-8")
        except BaseException:
            self.abort()
            raise
        return self

    def __enter__(self) -> BatchOutput:
        return self.open()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def record(self, row: dict[str, Any], bigrams: Iterable[dict[str, Any]] = ()) -> None:
        """Write one file's results row (and its bigram rows), journal first."""
        bigrams = list(bigrams)
        self.journal(row, bigrams)
        self.write(row, bigrams)

    def journal(self, row: dict[str, Any], bigrams: Iterable[dict[str, Any]] = ()) -> None:
        """Append one finished file to the journal (flushed and fsync'ed).

        An ordered run journals each file as it finishes and writes it to the
        table (:meth:`write`) later, in input order: an interrupt or crash
        in between loses nothing, the next run carries it over.
        """
        if self._journal is None:
            raise OutputError("BatchOutput.journal called before open()")
        self._journal.write(json.dumps({"row": row, "bigrams": list(bigrams)}) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def write(self, row: dict[str, Any], bigrams: Iterable[dict[str, Any]] = ()) -> None:
        """Write one file's rows to the tables (already journaled by :meth:`journal`)."""
        if self._results is None:
            raise OutputError("BatchOutput.write called before open()")
        self._write(row, list(bigrams))

    def commit(self) -> None:
        """Publish the tables atomically, then drop the journal and the lock."""
        try:
            if self._results is not None:
                self._results.commit()
            if self._bigrams is not None:
                self._bigrams.commit()
            if self._journal is not None:
                self._journal.close()
            self.journal_path.unlink(missing_ok=True)
        finally:
            self._results = self._bigrams = self._journal = None
            self._unlock()

    def abort(self) -> None:
        """Drop the temporary tables; keep the journal so a re-run resumes."""
        for w in (self._results, self._bigrams):
            if w is not None:
                w.discard()
        if self._journal is not None:
            self._journal.close()
        self._results = self._bigrams = self._journal = None
        self._unlock()

    # ------------------------------------------------------------------ internals

    def _write(self, row: dict[str, Any], bigrams: list[dict[str, Any]]) -> None:
        assert self._results is not None
        self._results.write([row])
        if self._bigrams is not None and bigrams:
            self._bigrams.write(bigrams)

    def _keep(self, row: dict[str, Any]) -> bool:
        self._check_settings(row)
        key = row.get("input_key")
        if not key or key in self.done:
            return False
        return not (self.retry_failed and row.get("error_type"))

    def _check_settings(self, row: dict[str, Any]) -> None:
        if self.settings is None:
            return
        before = row.get("analysis_settings") or ""
        if before == self.settings:
            return
        diff = settings_difference(before, self.settings)
        if not before:
            what = (
                "without recorded analysis settings (a row cut short, a damaged table, or "
                "one written by an older vtract)"
            )
        elif "code_sha256" in diff or "libraries." in diff:
            what = (
                f"made by other analysis code ({diff}): the vtract source or a library it "
                "uses changed since those rows were written"
            )
        else:
            what = f"made with other analysis settings ({diff})"
        raise OutputError(
            f"{str(self.out)!r} holds results {what}; resuming would mix them. "
            "Write to another file, or replace it (--no-resume, resume=False)"
        )

    def _count(self, row: dict[str, Any]) -> None:
        self.carried += 1
        if row.get("verdict"):
            self.carried_verdicts[str(row["verdict"])] += 1

    def _carry_over(self) -> None:
        if self.out.exists():
            for rows in iter_table(self.out, RESULT_COLUMNS):
                kept = [r for r in rows if self._keep(r)]
                self.done.update(r["input_key"] for r in kept)
                assert self._results is not None
                self._results.write(kept)
                for r in kept:
                    self._count(r)
        if self._bigrams is not None and self.per_bigram is not None and self.per_bigram.exists():
            for rows in iter_table(self.per_bigram, BIGRAM_COLUMNS):
                self._bigrams.write([r for r in rows if r.get("input_key") in self.done])
        if self.journal_path.exists():
            with open(self.journal_path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by the crash: that file runs again
                    row = entry.get("row") or {}
                    if self._keep(row):
                        self.done.add(row["input_key"])
                        self._write(row, entry.get("bigrams") or [])
                        self._count(row)
            _drop_partial_line(self.journal_path)

    def _lock(self) -> None:
        me = f"{socket.gethostname()} {os.getpid()}"
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale_lock():
                    self.lock_path.unlink(missing_ok=True)
                    continue
                raise OutputError(
                    f"another 'vtract batch' is writing {str(self.out)!r} (lock file "
                    f"{str(self.lock_path)!r}); wait for it or remove the lock if it is stale"
                ) from None
            except OSError as exc:
                raise OutputError(
                    f"cannot write beside {str(self.out)!r}: {exc.strerror}"
                ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            self._locked = True
            return

    def _stale_lock(self) -> bool:
        try:
            host, pid = self.lock_path.read_text().split()
        except (OSError, ValueError):
            return False
        if host != socket.gethostname():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            return False
        return False

    def _unlock(self) -> None:
        if self._locked:
            self.lock_path.unlink(missing_ok=True)
            self._locked = False


def _drop_partial_line(path: Path) -> None:
    """Cut a journal back to its last complete line (a crash may leave half a line)."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)
