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
  The lock and the journal are named after the *resolved* output (symlinks
  followed, as the table writer does), so two spellings of one file (a
  symlink, a symlinked folder, ``dir/../``) share one lock; the per-bigram
  table is locked the same way;
- once the lock is held, temporary tables (``.<out>.<pid>.tmp``) left by
  runs of this output whose process is gone (SIGKILL, power loss) are
  removed.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
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
    reports_dir : path-like, optional
        The run's reports folder: on resume a successful row whose report is
        not in it is analysed again (so every row has its report).
    listed : mapping, optional
        ``path`` (as written in the table) -> SHA-256 of the files this run
        lists. On resume a carried row for one of these paths with another
        SHA-256 is dropped (the file changed; its new content gets the row)
        and counted in :attr:`superseded`.

    Notes
    -----
    On resume with ``per_bigram``, an existing per-bigram table holding rows
    of files that are not in the results table (it belongs to another
    results table) is refused, and a carried successful row without bigram
    rows (the earlier run had no ``--per-bigram``) is analysed again. A
    journal line that is not a JSON object (damaged) is skipped with a note
    naming the journal: that file is analysed again.
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
        reports_dir: str | os.PathLike[str] | None = None,
        listed: Mapping[str, str] | None = None,
    ) -> None:
        self.reports_dir = (
            None if reports_dir is None else Path(os.path.abspath(Path(reports_dir).expanduser()))
        )
        self.listed = dict(listed or {})
        #: Things the caller should tell the user (damaged journal lines, replaced rows...).
        self.notes: list[str] = []
        #: Carried rows left out because the file at their path now has other content.
        self.superseded = 0
        #: Carried rows left out to be analysed again (no bigram rows / report for them).
        self.incomplete = 0
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
        # Named after the resolved destination: every spelling of one file shares them.
        real = Path(os.path.realpath(self.out))
        self.journal_path = real.with_name(f".{real.name}.journal.jsonl")
        self.lock_path = real.with_name(f".{real.name}.lock")
        self._lock_paths = [self.lock_path]
        if self.per_bigram is not None:
            real_bigram = Path(os.path.realpath(self.per_bigram))
            self._lock_paths.append(real_bigram.with_name(f".{real_bigram.name}.lock"))
        #: Input keys already in the output (successful, or failed when not retried).
        self.done: set[str] = set()
        #: Rows carried over from earlier runs.
        self.carried = 0
        #: Verdict -> count over the carried rows.
        self.carried_verdicts: Counter[str] = Counter()
        self._results: TableWriter | None = None
        self._bigrams: TableWriter | None = None
        self._journal: Any = None
        self._held: list[Path] = []

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> BatchOutput:
        """Take the lock, carry over earlier rows and open the writers."""
        self._lock()
        try:
            self._remove_stale_temporaries()
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
        if self.retry_failed and row.get("error_type"):
            return False
        path, sha = row.get("path"), row.get("sha256")
        if sha and path in self.listed and self.listed[path] != sha:
            self.superseded += 1  # the file at this path changed: its new content gets the row
            return False
        return True

    def _complete(self, row: dict[str, Any], bigram_keys: set[str]) -> bool:
        """A carried successful row has what this run writes for it (bigram rows, report)."""
        if row.get("error_type"):
            return True
        n_bigrams = row.get("n_bigrams")
        try:
            n = int(float(n_bigrams)) if n_bigrams not in (None, "") else 0
        except (TypeError, ValueError):
            n = 0
        if self._bigrams is not None and n > 0 and row.get("input_key") not in bigram_keys:
            self.incomplete += 1
            return False
        if self.reports_dir is not None:
            name = row.get("report_file")
            if not name or not (self.reports_dir / str(name)).is_file():
                self.incomplete += 1
                return False
        return True

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

    def _journal_entries(self, *, note: bool = False) -> Iterator[dict[str, Any]]:
        """The journal's entries; damaged lines are skipped (noted once when ``note``)."""
        if not self.journal_path.exists():
            return
        with open(self.journal_path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    continue  # a line cut short by the crash: that file runs again
                try:
                    entry = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    entry = None
                row = entry.get("row") if isinstance(entry, dict) else None
                if not isinstance(row, dict) or not isinstance(entry.get("bigrams", []), list):
                    if note:
                        self.notes.append(
                            f"journal {str(self.journal_path)!r} line {number} is damaged "
                            "(not a journal entry); skipped, that file is analysed again"
                        )
                    continue
                yield entry

    def _carry_over(self) -> None:
        known: set[str] = set()  # every key of the results table and the journal
        if self.out.exists():
            for rows in iter_table(self.out, RESULT_COLUMNS):
                known.update(str(r["input_key"]) for r in rows if r.get("input_key"))
        for entry in self._journal_entries(note=True):
            if entry["row"].get("input_key"):
                known.add(str(entry["row"]["input_key"]))
        bigram_keys: set[str] = set()
        if self._bigrams is not None and self.per_bigram is not None and self.per_bigram.exists():
            for rows in iter_table(self.per_bigram, BIGRAM_COLUMNS):
                keys = {str(r.get("input_key") or "") for r in rows}
                foreign = keys - known
                if foreign:
                    raise OutputError(
                        f"per-bigram table {str(self.per_bigram)!r} holds rows of files that are "
                        f"not in {str(self.out)!r} (it belongs to another results table); "
                        "give another --per-bigram file, or replace both (--no-resume)"
                    )
                bigram_keys |= keys
        if self.out.exists():
            for rows in iter_table(self.out, RESULT_COLUMNS):
                kept = [r for r in rows if self._keep(r) and self._complete(r, bigram_keys)]
                self.done.update(r["input_key"] for r in kept)
                assert self._results is not None
                self._results.write(kept)
                for r in kept:
                    self._count(r)
        if self._bigrams is not None and self.per_bigram is not None and self.per_bigram.exists():
            for rows in iter_table(self.per_bigram, BIGRAM_COLUMNS):
                self._bigrams.write([r for r in rows if r.get("input_key") in self.done])
        for entry in self._journal_entries():
            row, bigrams = entry["row"], entry.get("bigrams") or []
            keys = bigram_keys | ({str(row.get("input_key"))} if bigrams else set())
            if self._keep(row) and self._complete(row, keys):
                self.done.add(row["input_key"])
                self._write(row, bigrams)
                self._count(row)
        if self.journal_path.exists():
            _drop_partial_line(self.journal_path)
        if self.superseded:
            self.notes.append(
                f"{self.superseded} earlier row(s) dropped: the file at that path now has other "
                "content (its new content gets the row)"
            )
        if self.incomplete:
            self.notes.append(
                f"{self.incomplete} earlier row(s) analysed again: they had no bigram rows or "
                "report for this run's --per-bigram / --reports"
            )

    def _lock(self) -> None:
        """Take the lock of the results table (and of the per-bigram table)."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            for path in self._lock_paths:
                self._lock_one(path)
        except BaseException:
            self._unlock()
            raise

    def _lock_one(self, lock_path: Path) -> None:
        me = f"{socket.gethostname()} {os.getpid()}"
        table = lock_path.with_name(lock_path.name[1 : -len(".lock")])
        for _ in range(2):
            try:
                lock_path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _stale_lock(lock_path):
                    lock_path.unlink(missing_ok=True)
                    continue
                raise OutputError(
                    f"another 'vtract batch' is writing {str(table)!r} (lock file "
                    f"{str(lock_path)!r}); wait for it or remove the lock if it is stale"
                ) from None
            except OSError as exc:
                raise OutputError(f"cannot write beside {str(table)!r}: {exc.strerror}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            self._held.append(lock_path)
            return

    def _remove_stale_temporaries(self) -> None:
        """Remove ``.<table>.<pid>.tmp`` files of this run's tables left by dead processes.

        Called with the locks held, so no live run is writing these tables.
        A temporary of a process still alive on this host is left alone.
        """
        for table in (self.out, self.per_bigram):
            if table is None:
                continue
            real = Path(os.path.realpath(table))
            prefix = f".{real.name}."
            try:
                names = os.listdir(real.parent)
            except OSError:
                continue
            for name in names:
                pid = name[len(prefix) : -len(".tmp")]
                if not (name.startswith(prefix) and name.endswith(".tmp") and pid.isdigit()):
                    continue
                if int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    (real.parent / name).unlink(missing_ok=True)

    def _unlock(self) -> None:
        while self._held:
            self._held.pop().unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def _stale_lock(lock_path: Path) -> bool:
    """The lock was taken on this host by a process that is gone."""
    try:
        host, pid = lock_path.read_text().split()
    except (OSError, ValueError):
        return False
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _pid_alive(int(pid))


def _drop_partial_line(path: Path) -> None:
    """Cut a journal back to its last complete line (a crash may leave half a line)."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)
