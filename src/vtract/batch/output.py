"""The output of a batch run: results table, per-bigram table, journal, lock.

:class:`BatchOutput` makes a run safe to interrupt and to repeat:

- rows stream into temporary files (:mod:`vtract.batch.sinks`) and every
  finished file is also appended to a journal (``.<out>.journal.jsonl``
  beside the output, flushed and fsync'ed), so a crash loses nothing;
- :meth:`BatchOutput.commit` publishes the tables atomically and removes the
  journal;
- on start, rows of an existing output and of a journal left by a crash are
  carried over, and their input keys (path + audio SHA-256 + alignment
  SHA-256 + transcript + speaker + label) are reported as done so the caller
  skips those inputs (files that failed before are retried unless asked
  not to). Rows of the existing table keep their place at the top; rows
  carried from the journal wait for their input's turn, so a resumed table
  is in input order, as an uninterrupted run's, whatever order the files
  finished (and were journaled) in;
- a carried row for a path this run lists again, but not with that row's
  key (the file's content, label, speaker, transcript or alignment
  changed), is replaced by this run's row, with a note; when only the
  ground-truth label changed (the label is never an input of the analysis)
  the carried row is relabelled instead: its ``input_key`` and ``label``
  are rewritten, its per-bigram rows get the new key, its report is kept,
  and the file is not analysed again. The same holds for a corrected
  speaker when the analysis is :func:`vtract.analyze`, which does not use
  the speaker (``speaker_in_analysis=False``); a ``--per-file`` plugin is
  passed the speaker and may use it, so there a speaker change is analysed
  again;
- a carried copy row (``copy_of`` set) whose original's row is replaced
  no longer names it: the copy is analysed again when this run lists it,
  and otherwise keeps its row with ``copy_of`` cleared and a warning saying
  whose analysis its results are, with a note;
- the table has an identity, ``table_id`` (drawn when it is first
  written, kept by every resume, stamped on every results and per-bigram
  row): a per-bigram table is only carried beside the results table it was
  written with, so another table's per-bigram rows are never mixed in or
  silently dropped;
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

import bisect
import json
import os
import re
import socket
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..provenance import path_from_text, path_text
from .errors import OutputError
from .inputs import BatchInput, input_key
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
        not in it is analysed again when this run lists its file (so every
        row of a listed file has its report); a row of a file not listed is
        kept, with a warning that it has no report.
    inputs : sequence of BatchInput, optional
        This run's inputs (hashed), in input order. They give the place of
        each row carried from the journal (it is written when its input's
        turn comes, see :meth:`write`), and the analyses this run lists per
        path: on resume a carried row for a listed path whose ``input_key``
        is not among this run's keys for that path (other content, label,
        speaker, transcript or alignment) is dropped, this run's analysis
        gets the row, and it is counted in :attr:`superseded` with a note;
        if it differs from one of them only in its label (or, without
        ``speaker_in_analysis``, in its label and speaker) it is relabelled
        instead (counted in :attr:`relabelled`, with a note). Inputs with a
        problem do not replace anything.
    speaker_in_analysis : bool, default True
        Whether the per-file function's answer may depend on the speaker it
        is passed (a ``--per-file`` plugin may use it). ``False`` for
        :func:`vtract.analyze`, which only writes it into a feature table it
        does not keep (nothing of its report depends on it): a carried row
        whose speaker alone (or speaker and label) was corrected is then
        relabelled like a label-only correction, not analysed again.

    Notes
    -----
    On resume with ``per_bigram``, an existing per-bigram table holding rows
    whose ``table_id`` is not the results table's (it was written beside
    another results table, or the results table was replaced since) is
    refused, even when it covers exactly the same files. Its rows of this
    table whose analysis is no longer in it (a results row replaced by a
    run without ``--per-bigram``: same path, another key) are dropped with
    a note. A carried successful row without bigram rows
    (the earlier run had no ``--per-bigram``) is analysed again when this
    run lists its file; otherwise it is kept, with a warning on the row and
    a note (:attr:`kept_incomplete`): it is not dropped. A journal
    line that is not a well-formed entry (not a JSON object, a key that is
    not 32 hex digits, bigram rows that are not rows of that key, values of
    the wrong type, no analysis settings) is skipped with a note naming the
    journal and the line: that file is analysed again.
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
        inputs: Sequence[BatchInput] | None = None,
        speaker_in_analysis: bool = True,
    ) -> None:
        self.reports_dir = (
            None if reports_dir is None else Path(os.path.abspath(Path(reports_dir).expanduser()))
        )
        items = list(inputs or ())
        # Input order: key -> place of its first listing (where a journaled row goes).
        self._position: dict[str, int] = {}
        # Path (as in the table) -> the keys this run lists for it, and its analyses.
        self._path_keys: dict[str, set[str]] = {}
        self._listed: dict[str, list[BatchInput]] = {}
        for i, item in enumerate(items):
            key = item.key
            if key is None:
                continue
            self._position.setdefault(key, i)
            self._path_keys.setdefault(path_text(item.path), set()).add(key)
            if item.problem is None:
                self._listed.setdefault(path_text(item.path), []).append(item)
        self._listed_sha = {i.sha256 for v in self._listed.values() for i in v}
        #: Things the caller should tell the user (damaged journal lines, replaced rows...).
        self.notes: list[str] = []
        #: Carried rows left out because their path is listed again with another key.
        self.superseded = 0
        self._replaced: Counter[str] = Counter()  # why -> rows replaced
        self._moved = 0  # kept rows of gone files whose content is listed under another path
        # Journal entries waiting for their input's turn: (place, line offset), sorted.
        self._waiting: list[tuple[int, int]] = []
        self._journal_reader: Any = None
        #: Carried rows left out to be analysed again (no bigram rows / report for them).
        self.incomplete = 0
        #: Carried rows without bigram rows / report whose file this run does not list:
        #: kept, with a warning on the row (they are not analysed again).
        self.kept_incomplete = 0
        #: Carried rows reused with a corrected ground-truth label (or, without
        #: ``speaker_in_analysis``, speaker): not analysed again.
        self.relabelled = 0
        self.speaker_in_analysis = speaker_in_analysis
        self._rekeyed: dict[str, _Correction] = {}  # old key -> what it becomes
        self._rekeyed_to: dict[str, str] = {}  # new key -> old key
        self._corrected: Counter[str] = Counter()  # what was corrected -> rows relabelled
        # (path, sha256, transcript, speaker) of the kept rows that hold an analysis: what a
        # carried copy row's copy_of must still name
        self._holders: set[tuple[str, str, str, str | None]] = set()
        #: Carried copy rows analysed again / kept with copy_of cleared: their original's
        #: row was replaced (listed again with other content, transcript, alignment...).
        self._rechecked = 0
        self._unlinked = 0
        self._known: set[str] = set()  # every key of the results table and the journal
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
        #: Identity of the results table (32 hex digits), known once :meth:`open` ran:
        #: the existing table's (or its journal's), or a new one.
        self.table_id: str | None = None
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
            if self.table_id is None:
                self.table_id = uuid.uuid4().hex
            self._journal = open(self.journal_path, "a", encoding="utf-8")
            if self._waiting:
                self._journal_reader = open(self.journal_path, "rb")
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

    def record(
        self,
        row: dict[str, Any],
        bigrams: Iterable[dict[str, Any]] = (),
        *,
        position: int | None = None,
    ) -> None:
        """Write one file's results row (and its bigram rows), journal first.

        ``position`` is as for :meth:`journal` and :meth:`write`.
        """
        bigrams = list(bigrams)
        self.journal(row, bigrams, position=position)
        self.write(row, bigrams, position=position)

    def journal(
        self,
        row: dict[str, Any],
        bigrams: Iterable[dict[str, Any]] = (),
        *,
        position: int | None = None,
    ) -> None:
        """Append one finished file to the journal (flushed and fsync'ed).

        An ordered run journals each file as it finishes and writes it to the
        table (:meth:`write`) later, in input order: an interrupt or crash
        in between loses nothing, the next run carries it over.

        Parameters
        ----------
        row : dict
            The results row.
        bigrams : iterable of dict, optional
            Its per-bigram rows.
        position : int, optional
            The input's place in this run's inputs, kept in the entry: a
            later run that no longer lists the input writes such carried
            rows in this order (not in the order the files finished).
        """
        if self._journal is None:
            raise OutputError("BatchOutput.journal called before open()")
        bigrams = self._stamp(row, bigrams)
        entry: dict[str, Any] = {"row": row, "bigrams": bigrams}
        if position is not None:
            entry["position"] = int(position)
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def write(
        self,
        row: dict[str, Any],
        bigrams: Iterable[dict[str, Any]] = (),
        *,
        position: int | None = None,
    ) -> None:
        """Write one file's rows to the tables (already journaled by :meth:`journal`).

        Rows carried from a journal whose inputs come before this one are
        written first, so a table written in input order stays in input
        order after a resume.

        Parameters
        ----------
        row : dict
            The results row.
        bigrams : iterable of dict, optional
            Its per-bigram rows.
        position : int, optional
            The input's place in this run's inputs (default: the place of
            the row's ``input_key`` among the ``inputs`` given, if any).
        """
        if self._results is None:
            raise OutputError("BatchOutput.write called before open()")
        bigrams = self._stamp(row, bigrams)
        if position is None:
            position = self._position.get(str(row.get("input_key") or ""))
        if position is not None:
            self._write_waiting(before=position)
        self._write(row, bigrams)

    def commit(self) -> None:
        """Publish the tables atomically, then drop the journal and the lock."""
        try:
            if self._results is not None:
                self._write_waiting(before=None)
                self._results.commit()
            if self._bigrams is not None:
                self._bigrams.commit()
            if self._journal is not None:
                self._journal.close()
            self.journal_path.unlink(missing_ok=True)
        finally:
            self._release()

    def abort(self) -> None:
        """Drop the temporary tables; keep the journal so a re-run resumes."""
        for w in (self._results, self._bigrams):
            if w is not None:
                w.discard()
        if self._journal is not None:
            self._journal.close()
        self._release()

    # ------------------------------------------------------------------ internals

    def _release(self) -> None:
        """Forget the tables and the journal of this run and give up its locks."""
        self._close_reader()
        self._results = self._bigrams = self._journal = None
        self._unlock()

    def _close_reader(self) -> None:
        if self._journal_reader is not None:
            self._journal_reader.close()
        self._journal_reader = None
        self._waiting = []

    def _write_waiting(self, *, before: int | None) -> None:
        """Write the journaled rows whose input comes before ``before`` (all when ``None``)."""
        if not self._waiting:
            return
        end = len(self._waiting) if before is None else bisect.bisect_left(self._waiting, (before,))
        due, self._waiting = self._waiting[:end], self._waiting[end:]
        for _place, offset in due:
            assert self._journal_reader is not None
            self._journal_reader.seek(offset)
            entry = json.loads(self._journal_reader.readline().decode("utf-8"))
            row, bigrams = entry["row"], list(entry.get("bigrams") or [])
            self._rekey(row, bigrams)  # a label or speaker corrected by this run (_relabel)
            self._write(row, bigrams)

    def _stamp(
        self, row: dict[str, Any], bigrams: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Put this table's ``table_id`` on a new row and its bigram rows (in place)."""
        bigrams = list(bigrams)
        for r in (row, *bigrams):
            r["table_id"] = self.table_id
        return bigrams

    def _write(self, row: dict[str, Any], bigrams: list[dict[str, Any]]) -> None:
        assert self._results is not None
        self._results.write([row])
        if self._bigrams is not None and bigrams:
            self._bigrams.write(bigrams)

    def _carry(self, row: dict[str, Any], source: str, bigram_keys: set[str]) -> bool:
        """Whether a carried row is kept (written to the table and skipped by this run).

        Besides :meth:`_keep` and :meth:`_missing_parts`: a copy row (``copy_of``
        set) is only kept naming its original while a carried row of that
        path still holds the analysis it names (:meth:`_holds`). When that
        row was replaced, the copy is analysed again if this run lists its
        path, and otherwise kept with ``copy_of`` cleared and a warning
        saying whose analysis its results are (:meth:`_unlink_copy`).
        Rows are decided in the order they were written, so an original
        (always written before its copies, in input order or right before
        them) is decided first.
        """
        orphan = bool(row.get("copy_of")) and not self._holds(row)
        if not self._keep(row, source, reuse=not orphan):
            return False
        path = str(row.get("path") or "")
        if orphan and path in self._listed:
            self._rechecked += 1  # listed again: this run analyses it (it may be a copy again)
            return False
        missing = self._missing_parts(row, bigram_keys)
        if missing:
            key = str(row.get("input_key") or "")
            if key in self._position or path in self._listed:
                self._incomplete(key)  # listed: this run analyses it again, completely
                if not row.get("copy_of") and key in self._position:
                    self._register(row)  # analysed again by this run, the same analysis
                return False
            # not listed, so not analysed again: its results stay, saying what they lack
            self._keep_incomplete(row, missing)
        if orphan:
            self._unlink_copy(row)
        elif not row.get("copy_of"):
            self._register(row)
        return True

    def _analysis_of(self, row: dict[str, Any], path: str) -> tuple[str, str, str, str | None]:
        """What a copy shares with the row of ``path`` that holds its analysis."""
        speaker = str(row.get("speaker") or "") if self.speaker_in_analysis else None
        return (path, str(row.get("sha256") or ""), str(row.get("transcript") or ""), speaker)

    def _register(self, row: dict[str, Any]) -> None:
        """Note that a kept row (not a copy) holds the analysis of its path."""
        if not row.get("alignment_file"):
            self._holders.add(self._analysis_of(row, str(row.get("path") or "")))

    def _holds(self, row: dict[str, Any]) -> bool:
        """A kept row of the path a copy row names holds the copy's analysis."""
        return self._analysis_of(row, str(row.get("copy_of") or "")) in self._holders

    def _unlink_copy(self, row: dict[str, Any]) -> None:
        """Clear the ``copy_of`` of a copy row whose original's row was replaced, saying so."""
        said = (
            f"not analysed itself: its results are those of the analysis of "
            f"{row.get('copy_of')} (the same bytes, SHA-256 {row.get('sha256')}) in an earlier "
            "run; the row of that path was replaced since"
        )
        row["warnings"] = " | ".join(w for w in (str(row.get("warnings") or ""), said) if w)
        row["copy_of"] = None
        self._unlinked += 1

    def _keep(self, row: dict[str, Any], source: str, *, reuse: bool = True) -> bool:
        """Whether a carried row stays (settings checked; ``reuse``: it may be relabelled)."""
        self._check_settings(row, source)
        key = row.get("input_key")
        if not key or key in self.done:
            return False
        if self.retry_failed and row.get("error_type"):
            return False
        path = str(row.get("path") or "")
        if path in self._listed and key not in self._path_keys.get(path, ()):
            if reuse and self._relabel(row, self._listed[path]):
                return True  # the same analysis, only its ground-truth label corrected
            # listed again, but not this analysis: this run's row replaces it
            self.superseded += 1
            self._replaced[_replaced_because(row, self._listed[path])] += 1
            return False
        if path not in self._path_keys and row.get("sha256") in self._listed_sha:
            try:
                gone = not os.path.lexists(path_from_text(path))
            except (TypeError, ValueError):
                gone = False
            self._moved += gone
        return True

    def _relabel(self, row: dict[str, Any], listed: list[BatchInput]) -> bool:
        """Give a carried row the key and label of this run's listing of the same analysis.

        The ground-truth label is never passed to the per-file function: it
        is only written into the results row. A carried successful row whose
        path, audio, alignment, transcript and speaker are those of an input
        of this run that differs only in its label is that input's analysis;
        its ``input_key`` and ``label`` are rewritten (its per-bigram rows
        get the new key as they are carried) instead of analysing the file
        again. Without :attr:`speaker_in_analysis` (:func:`vtract.analyze`)
        the speaker may differ too, and is rewritten as well. Returns
        whether it was.
        """
        if row.get("error_type"):
            return False
        old = str(row.get("input_key") or "")
        speaker = str(row.get("speaker") or "")
        label = str(row.get("label") or "")
        for item in listed:
            new = item.key
            if (
                new is None
                or item.sha256 is None
                or new in self._known
                or new in self._rekeyed_to
                or item.sha256 != row.get("sha256")
                or (item.alignment_sha256 or "") != (row.get("alignment_sha256") or "")
                or (item.transcript or "") != (row.get("transcript") or "")
                or (self.speaker_in_analysis and item.speaker != speaker)
                or ("" if item.textgrid is None else path_text(item.textgrid))
                != (row.get("alignment_file") or "")
            ):
                continue
            was = input_key(
                item.sha256,
                item.alignment_sha256,
                item.transcript,
                speaker=speaker,
                label=label,
                path=item.path,
            )
            if was != old:  # the row's key does not describe its own fields: not reused
                continue
            what = " and ".join(
                name
                for name, before, now in (
                    ("label", label, item.label),
                    ("speaker", speaker, item.speaker),
                )
                if before != now
            )
            change = _Correction(new, item.label, item.speaker, what)
            self._rekeyed[old] = change
            self._rekeyed_to[new] = old
            self._apply(change, row, [])
            self.relabelled += 1
            self._corrected[what] += 1
            return True
        return False

    def _rekey(self, row: dict[str, Any], bigrams: list[dict[str, Any]]) -> None:
        """Apply a :meth:`_relabel` of the carried row ``row`` (and its bigram rows), in place."""
        change = self._rekeyed.get(str(row.get("input_key") or ""))
        if change is not None:
            self._apply(change, row, bigrams)

    @staticmethod
    def _apply(change: _Correction, row: dict[str, Any], bigrams: list[dict[str, Any]]) -> None:
        row["input_key"], row["label"], row["speaker"] = change.key, change.label, change.speaker
        for b in bigrams:
            b["input_key"] = change.key

    def _missing_parts(self, row: dict[str, Any], bigram_keys: set[str]) -> list[str]:
        """What this run writes for a carried successful row that the row lacks.

        ``"bigram rows"`` (this run has ``--per-bigram`` and the row's
        bigrams are not in that table) and ``"report"`` (``--reports`` and
        its report file is not there); empty when it lacks nothing.
        """
        if row.get("error_type"):
            return []
        missing: list[str] = []
        n_bigrams = row.get("n_bigrams")
        try:
            n = int(float(n_bigrams)) if n_bigrams not in (None, "") else 0
        except (TypeError, ValueError):
            n = 0
        key = str(row.get("input_key") or "")
        if (
            self._bigrams is not None
            and n > 0
            and key not in bigram_keys
            and self._rekeyed_to.get(key) not in bigram_keys
        ):
            missing.append("bigram rows")
        if self.reports_dir is not None:
            name = row.get("report_file")
            if not name or not (self.reports_dir / str(name)).is_file():
                missing.append("report")
        return missing

    def _incomplete(self, key: str) -> None:
        """Count a carried row analysed again for its missing parts (it is then not relabelled)."""
        self.incomplete += 1
        if key in self._rekeyed_to:
            self.relabelled -= 1
            self._corrected[self._rekeyed[self._rekeyed_to[key]].what] -= 1

    def _keep_incomplete(self, row: dict[str, Any], missing: list[str]) -> None:
        """Keep a carried row that lacks ``missing`` parts because its file is not listed."""
        said = (
            f"carried from an earlier run without its {' and '.join(missing)} for this "
            "table: list the file again to make them"
        )
        if said not in str(row.get("warnings") or ""):
            row["warnings"] = " | ".join(w for w in (str(row.get("warnings") or ""), said) if w)
        self.kept_incomplete += 1

    def _check_settings(self, row: dict[str, Any], source: str) -> None:
        """Refuse a carried row made with other settings; ``source`` names where it is."""
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
        elif ("per_file_sha256:" in diff or "per_file_state_sha256:" in diff) and (
            '"unreadable' in diff
        ):
            what = (
                f"made by a per-file function whose source could not be read or whose state "
                f"could not be pickled ({diff}): without them a resume cannot show the "
                "function is the same, so tables written with it are never resumed"
            )
        elif "per_file_sha256:" in diff:
            what = (
                f"made by another version of the per-file function ({diff}): the source "
                "of the --per-file plugin changed since those rows were written"
            )
        elif "per_file_state_sha256:" in diff:
            what = (
                f"made by a per-file function whose bound state pickles differently ({diff}): "
                "the source of the --per-file plugin is the same, but what it is bound to or "
                "captures (bound arguments, attributes, captured values) either changed or "
                "holds a value whose pickle differs from process to process (a random number, "
                "a memory address, the time, or a set written into text, such as the "
                "docstring dataclasses generate for a class defined inside a function; sets "
                "and dicts held as values are fingerprinted in a fixed order); vtract cannot "
                "tell which"
            )
        elif "code_sha256" in diff or "libraries." in diff:
            what = (
                f"made by other analysis code ({diff}): the vtract source or a library it "
                "uses changed since those rows were written"
            )
        else:
            what = f"made with other analysis settings ({diff})"
        if source == "journal":
            where = (
                f"the journal {str(self.journal_path)!r} (rows of an interrupted run of "
                f"{str(self.out)!r}, not yet in that table)"
            )
            advice = "Write to another file, or start afresh (--no-resume, resume=False)"
        else:
            where = repr(str(self.out))
            advice = "Write to another file, or replace it (--no-resume, resume=False)"
        raise OutputError(f"{where} holds results {what}; resuming would mix them. {advice}")

    def _count(self, row: dict[str, Any]) -> None:
        self.carried += 1
        if row.get("verdict"):
            self.carried_verdicts[str(row["verdict"])] += 1

    def _journal_entries(self, *, note: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(offset, entry)`` of the journal's well-formed entries.

        A damaged line (see :meth:`_entry_problem`) is skipped, with a note
        naming the journal and the line when ``note``.
        """
        if not self.journal_path.exists():
            return
        with open(self.journal_path, "rb") as fh:
            number, offset = 0, 0
            for raw in fh:
                number, start, offset = number + 1, offset, offset + len(raw)
                if not raw.endswith(b"\n"):
                    continue  # a line cut short by the crash: that file runs again
                try:
                    entry = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                    entry = None
                problem = self._entry_problem(entry)
                if problem is not None:
                    if note:
                        self.notes.append(
                            f"journal {str(self.journal_path)!r} line {number} is damaged "
                            f"({problem}); skipped, that file is analysed again"
                        )
                    continue
                yield start, entry

    def _entry_problem(self, entry: Any) -> str | None:
        """Why a journal entry is damaged, or ``None`` when it is well formed."""
        row = entry.get("row") if isinstance(entry, dict) else None
        if not isinstance(row, dict):
            return "not a journal entry"
        key = row.get("input_key")
        if key not in (None, "") and not (isinstance(key, str) and _KEY.fullmatch(key)):
            return "its input_key is not a key of 32 hex digits"
        bad = _wrong_type(row, RESULT_COLUMNS)
        if bad is not None:
            return f"its {bad} has the wrong type"
        if self.settings is not None and not row.get("analysis_settings"):
            return "it has no analysis settings"
        bigrams = entry.get("bigrams", [])
        if not isinstance(bigrams, list) or not all(isinstance(b, dict) for b in bigrams):
            return "its bigrams are not a list of rows"
        for b in bigrams:
            if b.get("input_key") != key or b.get("table_id") != row.get("table_id"):
                return "its bigram rows are not rows of its file"
            bad = _wrong_type(b, BIGRAM_COLUMNS)
            if bad is not None:
                return f"its bigram {bad} has the wrong type"
        position = entry.get("position")
        if position is not None and (type(position) is not int or position < 0):
            return "its position is not a place in the inputs"
        return None

    def _carry_over(self) -> None:
        journal = list(self._journal_entries(note=True))
        # Every key and table id of the results table and the journal.
        known: set[str] = set()
        ids: list[str] = []
        if self.out.exists():
            for rows in iter_table(self.out, RESULT_COLUMNS):
                known.update(str(r["input_key"]) for r in rows if r.get("input_key"))
                ids += [str(r["table_id"]) for r in rows if r.get("table_id")]
        for _offset, entry in journal:
            if entry["row"].get("input_key"):
                known.add(str(entry["row"]["input_key"]))
            if entry["row"].get("table_id"):
                ids.append(str(entry["row"]["table_id"]))
        # The table keeps the identity it was first written with (a journal left by its
        # first, interrupted run holds it when there is no table yet).
        self._known = known
        self.table_id = ids[0] if ids else uuid.uuid4().hex
        own_ids = set(ids) | {self.table_id}
        bigram_keys: set[str] = set()
        orphans: set[str] = set()  # this table's analyses no longer in it (replaced rows)
        if self._bigrams is not None and self.per_bigram is not None and self.per_bigram.exists():
            for rows in iter_table(self.per_bigram, BIGRAM_COLUMNS):
                for r in rows:
                    key = str(r.get("input_key") or "")
                    if str(r.get("table_id") or "") not in own_ids:
                        theirs = str(r.get("table_id") or "") or "none recorded"
                        raise OutputError(
                            f"per-bigram table {str(self.per_bigram)!r} holds rows written "
                            f"beside another results table (table_id {theirs}; "
                            f"{str(self.out)!r} is {self.table_id}): it belongs to another "
                            "results table, or the results table was replaced since; give "
                            "another --per-bigram file, or replace both (--no-resume)"
                        )
                    if key in known:
                        bigram_keys.add(key)
                    else:
                        orphans.add(key)
        if self.out.exists():
            for rows in iter_table(self.out, RESULT_COLUMNS):
                kept = [r for r in rows if self._carry(r, "table", bigram_keys)]
                self.done.update(r["input_key"] for r in kept)
                assert self._results is not None
                self._results.write(kept)
                for r in kept:
                    self._count(r)
        if self._bigrams is not None and self.per_bigram is not None and self.per_bigram.exists():
            for rows in iter_table(self.per_bigram, BIGRAM_COLUMNS):
                for r in rows:
                    change = self._rekeyed.get(str(r.get("input_key") or ""))
                    if change is not None:
                        r["input_key"] = change.key
                self._bigrams.write([r for r in rows if r.get("input_key") in self.done])
        # Journal rows of this run's inputs wait for their turn (input order, not the
        # order the files finished in); the others are written now, in their own run's order.
        now: list[tuple[int, int, dict[str, Any]]] = []
        for number, (offset, entry) in enumerate(journal):
            row, bigrams = entry["row"], entry.get("bigrams") or []
            keys = bigram_keys | ({str(row.get("input_key"))} if bigrams else set())
            if self._carry(row, "journal", keys):
                self.done.add(row["input_key"])
                self._count(row)
                place = self._position.get(row["input_key"])
                if place is not None:
                    self._waiting.append((place, offset))
                else:
                    stored = entry.get("position")
                    now.append((number if stored is None else stored, number, entry))
        for _place, _number, entry in sorted(now, key=lambda t: (t[0], t[1])):
            self._write(entry["row"], list(entry.get("bigrams") or []))
        self._waiting.sort()
        if self.journal_path.exists():
            _drop_partial_line(self.journal_path)
        for why, n in sorted(self._replaced.items()):
            self.notes.append(
                f"{n} earlier row(s) replaced: the file at that path is listed again with "
                f"{why} (this run's analysis gets the row)"
            )
        if orphans:
            self.notes.append(
                f"per-bigram rows of {len(orphans)} earlier analysis(es) dropped "
                f"from {str(self.per_bigram)!r} (rows of this table): their results rows were "
                "replaced (same path, other content, label, speaker, transcript or alignment) "
                "by a run without "
                "--per-bigram"
            )
        if self._moved:
            self.notes.append(
                f"{self._moved} earlier row(s) name files that are gone from their path while "
                "this run lists the same content under another path (a moved or renamed "
                "folder?): every path is an exhibit of its own, so both rows are kept; drop "
                "the old rows yourself or start a new table (--no-resume)"
            )
        if self._corrected["label"]:
            self.notes.append(
                f"{self._corrected['label']} earlier row(s) relabelled: the file at that path is "
                "listed again with only another label (the label is not an input of the "
                "analysis, so its analysis, bigram rows and report are kept, not made again)"
            )
        for what in ("speaker", "label and speaker"):
            if self._corrected[what]:
                self.notes.append(
                    f"{self._corrected[what]} earlier row(s) given the corrected {what}: the file "
                    f"at that path is listed again with only another {what} (vtract.analyze "
                    "does not use the speaker, and the label is not an input of the analysis, "
                    "so its analysis, bigram rows and report are kept, not made again)"
                )
        if self._rechecked:
            self.notes.append(
                f"{self._rechecked} earlier copy row(s) analysed again: the row of the file "
                "they were copies of (copy_of) was replaced, so it no longer holds their "
                "analysis"
            )
        if self._unlinked:
            self.notes.append(
                f"{self._unlinked} earlier copy row(s) no longer name the file they were copies "
                "of: its row was replaced and they are not listed in this run, so their "
                "copy_of is cleared and their warnings say whose analysis (of the same bytes, "
                "in an earlier run) their results are"
            )
        if self.incomplete:
            self.notes.append(
                f"{self.incomplete} earlier row(s) analysed again: they had no bigram rows or "
                "report for this run's --per-bigram / --reports"
            )
        if self.kept_incomplete:
            self.notes.append(
                f"{self.kept_incomplete} earlier row(s) kept without bigram rows or report for "
                "this run's --per-bigram / --reports: their files are not listed in this run, "
                "so they were not analysed again (their warnings say so; list them to complete "
                "them)"
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


_KEY = re.compile(r"[0-9a-f]{32}")


class _Correction(NamedTuple):
    """What a carried row reused for a corrected listing becomes (:meth:`BatchOutput._relabel`)."""

    key: str  #: the new ``input_key``
    label: str
    speaker: str
    what: str  #: what was corrected: "label", "speaker" or "label and speaker"


#: Row fields that make one analysis of a path differ from another (besides content).
_KEY_FIELDS = (
    ("label", "label"),
    ("speaker", "speaker"),
    ("transcript", "transcript"),
    ("alignment_sha256", "alignment"),
)


def _replaced_because(row: dict[str, Any], listed: list[BatchInput]) -> str:
    """What a carried row differs in from this run's analyses of its path, for a note."""
    if row.get("sha256") not in {i.sha256 for i in listed}:
        return "other content"
    same = [i for i in listed if i.sha256 == row.get("sha256")]
    differ = [
        name
        for field, name in _KEY_FIELDS
        if all(str(row.get(field) or "") != str(getattr(i, field) or "") for i in same)
    ]
    if not differ:
        return "another label, speaker, transcript or alignment"
    return "another " + " and ".join(differ)


def _wrong_type(row: dict[str, Any], columns: dict[str, str]) -> str | None:
    """The first column of ``row`` whose value cannot go into a table column of its kind."""
    for name, kind in columns.items():
        value = row.get(name)
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "str":
            ok = isinstance(value, str)
        elif kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "float":
            ok = number
        else:  # "floats"
            ok = isinstance(value, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
            )
        if not ok:
            return f"{name} value ({type(value).__name__})"
    return None


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
