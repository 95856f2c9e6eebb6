"""``vtract.analyze_many``: analyse many evidence files in parallel into a table."""

from __future__ import annotations

import functools
import heapq
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..output_files import OutputOverInputError, os_error_reason, refuse_output_over_inputs
from ..provenance import path_text, provenance, visible_text
from .errors import BatchError, OutputError
from .inputs import BatchInput, LeftOut, discover_inputs, hash_inputs
from .output import BatchOutput
from .reports import analysis_id, write_report_json
from .rows import bigram_rows, copy_rows, error_row, report_row
from .runners import FileOutcome, map_files
from .settings import analysis_settings, describe_setting

__all__ = ["AnalyzeTask", "BatchResult", "analyze_many"]


# --------------------------------------------------------------------------- worker task


@functools.lru_cache(maxsize=4)
def _load_reference(path: str) -> Any:
    from ..reference import Reference

    return Reference.load(path)


def _default_analyze() -> Callable[..., Any]:
    from ..analysis import analyze

    return analyze


@dataclass(frozen=True)
class AnalyzeTask:
    """The per-file job of :func:`analyze_many` (picklable, runs in a worker).

    Parameters
    ----------
    per_file : callable, optional
        ``per_file(path, *, transcript=..., alignment=..., reference=...,
        speaker=..., **options) -> Report``; default
        :func:`vtract.analysis.analyze`. It receives ``alignment`` (the
        alignment file's path) when the input has one, else ``transcript``
        when it has one, and ``speaker`` when known.
    reference : str, os.PathLike or Reference, optional
        Organic reference (a path is loaded once per worker).
    options : dict
        Extra keyword arguments for ``per_file``. ``pronunciations`` is
        passed only for inputs aligned from a transcript.
    with_bigrams : bool
        Also return the per-bigram rows.
    keep_report : bool
        Also return the Report itself (in-memory runs).
    reports_dir : str, optional
        Write each report's JSON into this folder.
    """

    per_file: Callable[..., Any] | None = None
    reference: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    with_bigrams: bool = False
    keep_report: bool = False
    reports_dir: str | None = None

    def __call__(self, item: BatchInput) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
        func = self.per_file if self.per_file is not None else _default_analyze()
        kwargs = dict(self.options)
        # An alignment file wins over a transcript (the transcript is then redundant).
        if item.textgrid is not None:
            kwargs["alignment"] = item.textgrid
        elif item.transcript is not None:
            kwargs["transcript"] = item.transcript
        if "transcript" not in kwargs:
            kwargs.pop("pronunciations", None)  # dictionary entries only serve forced alignment
        if item.speaker:
            kwargs["speaker"] = item.speaker
        if self.reference is not None:
            ref = self.reference
            kwargs["reference"] = (
                _load_reference(os.fspath(ref)) if isinstance(ref, (str, os.PathLike)) else ref
            )
        report = func(item.path, **kwargs)
        if item.sha256 is not None and report.sha256 != item.sha256:
            raise InputFileError(
                f"{item.path.name}: the file changed during the batch (SHA-256 {item.sha256} "
                f"when listed, {report.sha256} when analysed)"
            )
        row = report_row(item, report)
        bigrams = bigram_rows(item, report) if self.with_bigrams else []
        if self.reports_dir is not None:
            target = write_report_json(
                self.reports_dir, report, analysis_id(item.key or report.sha256, item.path)
            )
            row["report_file"] = target.name
        return row, bigrams, (report if self.keep_report else None)


# --------------------------------------------------------------------------- result


@dataclass
class BatchResult:
    """Summary of a batch run (also printed on stderr unless quiet).

    Attributes
    ----------
    total : int
        Inputs found.
    done : int
        Files analysed in this run (successfully).
    skipped : int
        Inputs already in the output (same path, audio and alignment SHA-256,
        transcript, speaker and label) or repeated in the inputs.
    copies : int
        Inputs of this run that are copies of another input of this run
        (same bytes, transcript and file ending under another path, no
        alignment file, and with a per-file plugin the same speaker; the
        speaker is no input of :func:`vtract.analyze`'s analysis): not
        analysed again, their rows carry that analysis's
        results with ``copy_of`` naming the analysed path. Counted in
        ``done`` (or ``failed``) and ``verdicts`` like their original. Always
        0 with ``reports_dir``: a report names the file it analysed in its
        custody block, so every path is then analysed for its own report.
    failed : int
        Files that could not be analysed (error rows).
    verdicts : dict
        Verdict -> count over the files analysed in this run.
    table_verdicts : dict or None
        Verdict -> count over the whole results table (rows carried over
        from earlier runs included); ``None`` without ``out``.
    elapsed_s : float
        Wall time of the run (s).
    audio_s : float
        Seconds of audio analysed in this run.
    out, per_bigram : pathlib.Path or None
        Tables written.
    errors : list of tuple
        ``(path, error_type, error_message)`` of the failed files.
    reports : list of Report or None
        The reports in input order when no ``out`` was given.
    rows : list of dict or None
        The results rows when no ``out`` was given.
    left_out : list of tuple
        ``(path, reason)`` of entries of searched folders and globs that were
        not analysed although they might hold evidence: broken symbolic
        links, FIFOs or devices named like audio, folders named like audio
        that a glob matches without searching them, links to folders (not
        followed), folders that cannot be listed
        (:func:`~vtract.batch.inputs.discover_inputs`). Printed on stderr
        unless quiet and listed in :meth:`summary`; not counted in ``total``
        (they are not inputs) and not rows of the table.
    notes : list of str
        What the resume did besides skipping (damaged journal lines skipped,
        rows of changed files dropped, rows analysed again for a new
        ``--per-bigram`` / ``--reports``); printed on stderr unless quiet.
    """

    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    copies: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    table_verdicts: dict[str, int] | None = None
    elapsed_s: float = 0.0
    audio_s: float = 0.0
    out: Path | None = None
    per_bigram: Path | None = None
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    reports: list[Any] | None = None
    rows: list[dict[str, Any]] | None = None
    left_out: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def files_per_s(self) -> float:
        """Files processed (analysed or failed) per second of wall time."""
        n = self.done + self.failed
        return n / self.elapsed_s if self.elapsed_s > 0 else math.nan

    @property
    def audio_per_s(self) -> float:
        """Seconds of audio analysed per second of wall time."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def table(self) -> Any:
        """The results as a :class:`pandas.DataFrame` (read back from ``out`` if written)."""
        import pandas as pd

        from .rows import RESULT_COLUMNS

        if self.out is not None:
            if self.out.suffix.lower() == ".csv":
                return pd.read_csv(self.out, keep_default_na=True)
            return pd.read_parquet(self.out)
        return pd.DataFrame(self.rows or [], columns=list(RESULT_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "copies": self.copies,
            "verdicts": dict(self.verdicts),
            "table_verdicts": None if self.table_verdicts is None else dict(self.table_verdicts),
            "elapsed_s": round(self.elapsed_s, 3),
            "audio_s": round(self.audio_s, 3),
            "out": None if self.out is None else str(self.out),
            "per_bigram": None if self.per_bigram is None else str(self.per_bigram),
            "left_out": [{"path": p, "reason": r} for p, r in self.left_out],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        def counts(v: dict[str, int]) -> str:
            return ", ".join(f"{k} {n}" for k, n in sorted(v.items())) or "none"

        text = (
            f"{self.total} file(s): {self.done} analysed, {self.skipped} skipped, "
            f"{self.failed} failed; verdicts: {counts(self.verdicts)}"
        )
        if self.copies:
            text += f" ({self.copies} of them copies of another input, not analysed again)"
        if self.left_out:
            text += (
                f"; {len(self.left_out)} entr{'y' if len(self.left_out) == 1 else 'ies'} left out"
            )
        if self.table_verdicts is not None and self.table_verdicts != self.verdicts:
            text += f" (whole table: {counts(self.table_verdicts)})"
        text += (
            f"; {self.elapsed_s:.1f} s "
            f"({self.files_per_s:.2f} files/s, {self.audio_per_s:.2f} s of audio/s)"
        )
        if self.out is not None:
            text += f"; results in {self.out}"
        return text


# --------------------------------------------------------------------------- driver


def analyze_many(
    inputs: Any,
    *,
    n_jobs: int | None = None,
    backend: str = "loky",
    scheduler: Any = None,
    out: str | os.PathLike[str] | None = None,
    per_bigram: str | os.PathLike[str] | None = None,
    reference: Any = None,
    per_file: Callable[..., Any] | None = None,
    ordered: bool = True,
    resume: bool = True,
    retry_failed: bool = True,
    reports_dir: str | os.PathLike[str] | None = None,
    sidecars: bool = False,
    threads_per_worker: int | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    **options: Any,
) -> BatchResult:
    """Analyse many evidence files in parallel; stream the results to a table.

    Inputs are discovered (:func:`~vtract.batch.inputs.discover_inputs`),
    hashed, and those already in ``out`` are skipped (same path, audio
    SHA-256, alignment SHA-256, transcript, speaker and label: every path is
    a row of its own, copies of one recording included). A copy of another
    input of this run (same bytes, transcript and file ending under another
    path, no alignment file, and with a ``per_file`` plugin the same
    speaker) is not analysed again unless
    ``reports_dir`` is given: its row carries that analysis's results, with ``copy_of``
    naming the analysed path. The
    rest run through :func:`vtract.analyze` on the chosen backend
    (:func:`~vtract.batch.runners.map_files`). Every finished file is written
    at once; a file that fails becomes an error row and the run goes on.

    Parameters
    ----------
    inputs : path, glob, folder, CSV manifest, BatchInput, or a list of them
        Evidence to analyse. Manifest columns ``transcript``, ``textgrid``,
        ``speaker`` and ``label`` are passed on (see
        :mod:`vtract.batch.manifest`).
    n_jobs : int, optional
        Worker processes (default: all cores).
    backend : {"loky", "dask", "serial"}, default "loky"
        Process pool on this machine, Dask cluster, or in this process.
    scheduler : str or distributed.Client, optional
        Dask scheduler (``"tcp://host:8786"``); implies ``backend="dask"``.
        With ``backend="dask"`` and no scheduler a ``LocalCluster`` of
        ``n_jobs`` single-threaded processes is started and closed.
    out : path-like, optional
        Results table, ``.parquet``/``.pq`` or ``.csv``, written atomically.
        Without it the results stay in memory (``result.reports``,
        ``result.rows``): for small batches only.
    per_bigram : path-like, optional
        Also write one row per bigram of each file (requires ``out``).
    reference : path-like or Reference, optional
        Organic reference (default: the one shipped with vtract).
    per_file : callable, optional
        Replacement for :func:`vtract.analyze` (same signature, returns a
        :class:`~vtract.report.Report`); must be picklable for process
        backends. Its source and its bound state are fingerprinted
        (:func:`~vtract.batch.settings.per_file_fingerprint`,
        :func:`~vtract.batch.settings.per_file_state_fingerprint`, the same
        in every process for the same state): a table made by another
        version of it is not resumed, nor one made by a function whose
        source cannot be read or whose state cannot be pickled.
    ordered : bool, default True
        Write rows in input order (identical tables from every backend).
        Rows already in ``out`` stay first; rows carried from the journal of
        an interrupted run are written at their input's place, so a resumed
        run gives the table of an uninterrupted one.
    resume : bool, default True
        Keep the rows already in ``out`` and skip those files. A carried row
        for a path listed again with other content, speaker, transcript or
        alignment is replaced by this run's (with a note); listed again with
        only another label, it is relabelled without a new analysis, and so
        it is with only another speaker (or speaker and label) when
        ``per_file`` is not given: :func:`vtract.analyze` does not use the
        speaker (a plugin is passed it and may use it, so there a speaker
        change is analysed again).
    retry_failed : bool, default True
        On resume, run files that failed before again.
    reports_dir : path-like, optional
        Also write each file's full JSON report into this folder (names are
        sanitised and cannot leave it; see :mod:`vtract.batch.reports`).
        A leading ``~`` is expanded, as for ``out``, ``per_bigram`` and the
        inputs (also when the shell left it, as in ``--reports=~/x``).
    sidecars : bool, default False
        Use ``<stem>.TextGrid`` / ``<stem>.lab`` / ``<stem>.txt`` beside
        audio files found directly or in folders as alignment / transcript.
    threads_per_worker : int, optional
        Numba/BLAS threads per worker (default cores // workers).
    progress : bool, optional
        Progress bar on stderr; default only when stderr is a terminal.
    quiet : bool, default False
        No progress bar and no summary line.
    **options
        Passed to ``per_file`` for every file (e.g. ``detector="paper"``).

    Returns
    -------
    BatchResult
        Counts (done, skipped, failed, verdicts), timing and the paths written.

    Raises
    ------
    InputFileError
        An input path, folder, glob or manifest is unusable.
    BackendError, OutputError
        The backend or the output cannot be set up.

    Examples
    --------
    >>> res = vtract.analyze_many("calls/", out="calls.parquet", n_jobs=2)  # doctest: +SKIP
    >>> res.verdicts                                                         # doctest: +SKIP
    {'organic': 41, 'synthetic': 7, 'inconclusive': 2}
    """
    t0 = time.perf_counter()
    if per_bigram is not None and out is None:
        raise BatchError("per_bigram needs out: the per-bigram table is written beside the results")
    if per_file is not None and not callable(per_file):
        raise BatchError(f"per_file must be callable, got {type(per_file).__name__}")
    settings = analysis_settings(per_file, reference, options)
    # vtract.analyze writes the speaker into a feature table it does not keep: nothing of its
    # answer depends on it; a plugin is passed the speaker and may use it
    speaker_in_analysis = per_file is not None
    left_out: list[LeftOut] = []
    items = hash_inputs(discover_inputs(inputs, sidecars=sidecars, left_out=left_out))
    result = BatchResult(
        total=len(items), left_out=[(path_text(e.path), e.reason) for e in left_out]
    )
    if reports_dir is not None:
        # One resolution (``~`` expanded, as for out) for the check, the workers and resume.
        reports_dir = _resolve_folder(reports_dir)
        _check_reports_dir(reports_dir)  # before any analysis, as for --out
    output = None
    if out is not None:
        output = BatchOutput(
            out,
            per_bigram=per_bigram,
            resume=resume,
            retry_failed=retry_failed,
            settings=settings,
            reports_dir=reports_dir,
            inputs=items,
            speaker_in_analysis=speaker_in_analysis,
            provenance=provenance(
                {
                    "backend": "dask" if scheduler is not None else backend,
                    "n_jobs": n_jobs,
                    "threads_per_worker": threads_per_worker,
                    "reference": describe_setting(reference),
                    "per_file": describe_setting(per_file)
                    if per_file is not None
                    else "vtract.analyze",
                    "options": {k: describe_setting(v) for k, v in options.items()},
                    "ordered": ordered,
                    "sidecars": sidecars,
                }
            ),
        )
        _refuse_output_over_input(items, [output.out, output.per_bigram])
        result.out, result.per_bigram = output.out, output.per_bigram
    else:
        result.reports, result.rows = [], []
    task = AnalyzeTask(
        per_file=per_file,
        reference=reference,
        options=dict(options),
        with_bigrams=per_bigram is not None,
        keep_report=out is None,
        reports_dir=None if reports_dir is None else os.fspath(reports_dir),
    )
    verdicts: Counter[str] = Counter()
    if output is not None:
        output.open()
        result.notes = list(output.notes)
    try:
        seen = set(output.done) if output is not None else set()
        todo: list[BatchInput] = []
        places: list[int] = []  # places[i]: todo[i]'s place in the inputs (input order)
        # Copies: todo index of the analysed input -> [(place, copy)]; one analysis serves all.
        copies: dict[int, list[tuple[int, BatchInput]]] = {}
        first: dict[tuple[object, ...], int] = {}
        for place, item in enumerate(items):
            key = item.key
            if key is not None and key in seen:
                result.skipped += 1
                continue
            if key is not None:
                seen.add(key)
            # With --reports every path is analysed: a report names the file it analysed in
            # its custody block, so a copy's report must come from the copy itself.
            same = (
                _analysis_identity(item, speaker_in_analysis=speaker_in_analysis)
                if reports_dir is None
                else None
            )
            if same is not None and same in first:
                copies.setdefault(first[same], []).append((place, item))
                result.copies += 1
                continue
            if same is not None:
                first[same] = len(todo)
            todo.append(item)
            places.append(place)
        made: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        # Rows of copies, waiting for their place: (place, row, bigrams, ok).
        held: list[tuple[int, int, dict[str, Any], list[dict[str, Any]], bool]] = []

        def finished(outcome: FileOutcome) -> None:
            # Runs as each file finishes (completion order): journal it now, so an
            # interrupt or crash while it waits for earlier files loses nothing.
            row, bigrams = _outcome_rows(outcome, settings)
            made[outcome.index] = (row, bigrams)
            if output is not None:
                output.journal(row, bigrams, position=places[outcome.index])
            for place, item in copies.get(outcome.index, ()):
                copy, copy_bigrams = copy_rows(item, outcome.item, row, bigrams)
                if output is not None:
                    output.journal(copy, copy_bigrams, position=place)
                heapq.heappush(held, (place, id(copy), copy, copy_bigrams, outcome.ok))

        def emit(place: int, row: dict[str, Any], bigrams: list[dict[str, Any]]) -> None:
            if output is not None:
                # rows carried from an interrupted run's journal go in at their place
                output.write(row, bigrams, position=place)
            elif result.rows is not None:
                result.rows.append(row)

        def count(row: dict[str, Any], ok: bool, path: Any) -> None:
            if ok:
                result.done += 1
                verdicts[row["verdict"]] += 1
            else:
                result.failed += 1
                result.errors.append((path_text(path), row["error_type"], row["error_message"]))

        def emit_copies(before: int | None) -> None:
            while held and (before is None or held[0][0] < before):
                place, _, row, bigrams, ok = heapq.heappop(held)
                count(row, ok, items[place].path)
                emit(place, row, bigrams)

        for outcome in map_files(
            task,
            todo,
            n_jobs=n_jobs,
            backend=backend,
            scheduler=scheduler,
            ordered=ordered,
            threads_per_worker=threads_per_worker,
            progress=False if quiet else progress,
            desc="vtract batch",
            on_outcome=finished,
        ):
            row, bigrams = made.pop(outcome.index)
            place = places[outcome.index]
            if ordered:
                emit_copies(before=place)  # copies whose turn came (their original is earlier)
            count(row, outcome.ok, outcome.item.path)
            if outcome.ok:
                result.audio_s += row.get("duration_s") or 0.0
                report = outcome.value[2]
                if result.reports is not None and report is not None:
                    result.reports.append(report)
            emit(place, row, bigrams)
            if not ordered:
                emit_copies(before=None)  # this file's copies, right after it
        emit_copies(before=None)
    except BaseException:
        if output is not None:
            output.abort()
        raise
    if output is not None:
        output.commit()
    result.verdicts = dict(verdicts)
    if output is not None:
        result.table_verdicts = dict(output.carried_verdicts + verdicts)
    result.elapsed_s = time.perf_counter() - t0
    if not quiet:
        for path, reason in result.left_out[:20]:
            print(
                f"vtract batch: left out: {terminal_text(path)}: {reason}, not analysed",
                file=sys.stderr,
            )
        if len(result.left_out) > 20:
            print(
                f"vtract batch: ... and {len(result.left_out) - 20} more left out "
                "(see left_out in --summary-json)",
                file=sys.stderr,
            )
        for note in result.notes:
            print(f"vtract batch: note: {terminal_text(note)}", file=sys.stderr)
        print(f"vtract batch: {terminal_text(str(result))}", file=sys.stderr)
        for path, etype, message in result.errors[:20]:
            print(
                f"vtract batch: failed: {terminal_text(path)}: {etype}: {terminal_text(message)}",
                file=sys.stderr,
            )
        if len(result.errors) > 20:
            print(
                f"vtract batch: ... and {len(result.errors) - 20} more failures (see error_type in the table)",
                file=sys.stderr,
            )
    return result


def _outcome_rows(
    outcome: FileOutcome, settings: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The results row and bigram rows of one outcome, with the run's bookkeeping columns."""
    meta = {
        "elapsed_s": outcome.elapsed_s,
        "cpu_s": outcome.cpu_s,
        "worker": outcome.worker,
        "worker_maxrss_mb": _finite_or_none(outcome.worker_maxrss_mb),
        "analysis_settings": settings,  # what BatchOutput checks on resume
    }
    if outcome.ok:
        row, bigrams, _report = outcome.value
    else:
        row = error_row(outcome.item, outcome.error_type or "Error", outcome.error_message or "")
        bigrams = []
    row.update(meta)
    return row, bigrams


def _analysis_identity(
    item: BatchInput, *, speaker_in_analysis: bool = True
) -> tuple[object, ...] | None:
    """What one analysis of ``item`` depends on besides its path (``None``: never shared).

    Inputs with equal identities give the same analysis: the same audio
    bytes, read by the same file ending (the decoder may go by it),
    transcript and, when ``speaker_in_analysis`` (a per-file plugin, which
    is passed the speaker), speaker; :func:`vtract.analyze` does not use the
    speaker. The label is not an input of the analysis.
    Inputs with a problem, or not hashed, are not shared, and neither are
    inputs with an alignment file: what is read from it depends on more than
    its bytes (a CSV of several utterances is read for the row naming the
    audio file, a TIMIT ``.WRD`` brings the ``.PHN`` beside it), so two
    copies of one recording may be aligned differently (session-27 review, B1).
    """
    if item.problem is not None or item.sha256 is None or item.textgrid is not None:
        return None
    speaker = item.speaker if speaker_in_analysis else None
    return (item.sha256, item.path.suffix.lower(), item.transcript, speaker)


def _refuse_output_over_input(items: list[BatchInput], outputs: list[Path | None]) -> None:
    """Refuse an output path that is one of the inputs (audio, alignment, transcript, manifest)."""
    inputs: list[str | os.PathLike[str] | None] = []
    for item in items:
        inputs += [item.path, item.textgrid, item.transcript_path]
        if item.source and os.path.isfile(item.source):
            inputs.append(item.source)
    try:
        refuse_output_over_inputs(outputs, inputs)
    except OutputOverInputError as exc:
        raise OutputError(str(exc)) from None


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal or log: every character that does not print
    (control, bidi and other format characters, newlines) becomes an escape.

    Evidence names are adversary-controlled; an escape sequence in a name
    would otherwise reach the terminal, and a newline would forge log lines.
    :func:`vtract.provenance.visible_text` with nothing kept and only printable
    characters (and the space) drawn.
    """
    return visible_text(text, lambda ch: ch.isprintable() or ch == " ", keep="")


def _resolve_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as an absolute path, ``~`` expanded (the one spelling a run uses)."""
    return Path(os.path.abspath(Path(folder).expanduser()))


def _check_reports_dir(folder: Path) -> None:
    """Create the reports folder and check a file can be written in it, before any analysis."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vtract-check-"):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write reports into {str(folder)!r}: {os_error_reason(exc)}"
        ) from None


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None
