"""``vtract batch``: analyse many files in parallel into a Parquet or CSV table."""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import EXIT_INPUT
from ._channel import channel_option
from ._methods import analysis_method_option
from ._pronunciations import parse_pronunciations, pronunciation_option

#: Exit code after SIGTERM (the shell's 128 + 15).
EXIT_TERMINATED = 143


class _Terminated(KeyboardInterrupt):
    """SIGTERM received: unwound like Ctrl-C (temporary tables removed, workers stopped)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def _check_table_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and Path(value).suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise click.BadParameter(f"{value!r} must end in .parquet, .pq or .csv")
    return value


def _check_jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value == 0:
        raise click.BadParameter("must be a positive number of workers, or -1 for all cores")
    return value


def _import_callable(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Callable[..., Any] | None:
    if value is None:
        return None
    module, _, name = value.partition(":")
    if not module or not name:
        raise click.BadParameter(f"{value!r} must look like 'package.module:function'")
    try:
        func = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot import {value!r}: {exc}") from None
    if not callable(func):
        raise click.BadParameter(f"{value!r} is not callable")
    return func  # type: ignore[no-any-return]


@click.command("batch")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "-o",
    required=True,
    callback=_check_table_path,
    help="Results table: .parquet (or .pq) or .csv. Re-running resumes it.",
)
@click.option(
    "--jobs",
    "-j",
    callback=_check_jobs,
    type=click.IntRange(min=-1),
    default=None,
    help="Worker processes (default: all cores; -1 = all cores).",
)
@click.option(
    "--backend",
    type=click.Choice(["loky", "dask", "serial"]),
    default="loky",
    show_default=True,
    help="Process pool here, Dask cluster, or one process.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Dask scheduler, e.g. tcp://host:8786 (implies --backend dask).",
)
@click.option(
    "--per-bigram",
    "per_bigram",
    metavar="FILE",
    callback=_check_table_path,
    default=None,
    help="Also write one row per bigram (.parquet or .csv).",
)
@click.option(
    "--reference",
    "reference",
    type=click.Path(dir_okay=False),
    default=None,
    help="Organic reference file (default: the shipped one).",
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write each analysis's JSON report into this folder (named in the "
    "'report_file' column); a leading ~ is expanded, also in --reports=~/x.",
)
@click.option(
    "--sidecars",
    is_flag=True,
    help="Use <stem>.TextGrid / <stem>.lab / <stem>.txt beside each audio file.",
)
@click.option(
    "--detector",
    type=click.Choice(["default", "paper"]),
    default=None,
    help="Detector passed to the analysis (default: the analysis default).",
)
@analysis_method_option
@channel_option
@pronunciation_option
@click.option(
    "--threads-per-worker",
    type=click.IntRange(min=1),
    default=None,
    help="Numba/BLAS threads per worker (default: cores // workers).",
)
@click.option(
    "--unordered", is_flag=True, help="Write rows as files finish instead of in input order."
)
@click.option(
    "--no-resume", is_flag=True, help="Replace an existing output instead of resuming it."
)
@click.option(
    "--keep-failed",
    is_flag=True,
    help="On resume, keep earlier error rows instead of retrying those files.",
)
@click.option("--summary-json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary on stderr.")
@click.option(
    "--per-file",
    "per_file",
    metavar="MODULE:FUNC",
    callback=_import_callable,
    default=None,
    hidden=True,
    help="Replace vtract.analyze by another function (testing, plugins).",
)
def batch_command(
    inputs: tuple[str, ...],
    out: str,
    jobs: int | None,
    backend: str,
    scheduler: str | None,
    per_bigram: str | None,
    reference: str | None,
    reports_dir: str | None,
    sidecars: bool,
    detector: str | None,
    method: str | None,
    channel: int | None,
    pronunciation: tuple[str, ...],
    threads_per_worker: int | None,
    unordered: bool,
    no_resume: bool,
    keep_failed: bool,
    summary_json: bool,
    quiet: bool,
    per_file: Callable[..., Any] | None,
) -> None:
    """Analyse INPUTS (files, folders, globs or a CSV manifest) into a table.

    Folders are searched recursively for audio files (links to folders are
    not followed; a folder named like audio is searched like any other).
    Globs match as Python's glob with '**' does, but below the part before
    their first wildcard they follow no link to a folder either. A broken
    link, a FIFO named like audio, a folder named like audio that a glob
    matches without searching it, a link to a folder or a folder that
    cannot be listed is named on stderr ('left out') and under 'left_out'
    in --summary-json. A CSV manifest has a
    'path' column and optional 'transcript', 'textgrid', 'speaker' and
    'label' columns; relative paths are resolved against the manifest's
    folder. Rows are written as files finish; the table appears atomically
    at the end. Re-running skips inputs already in the output (same path,
    audio SHA-256, alignment, transcript, speaker and label); every path gets
    its own row, in input order also after an interrupted run. A path listed
    again with other content, transcript or alignment (or, with --per-file,
    speaker) gets a new row that replaces its old one (a note says so); with
    only another label (or, without --per-file, speaker) its row is
    relabelled, not analysed again (vtract's analysis does not use the
    speaker; a plugin may). Copies (same bytes under
    several paths, no alignment file) are analysed once per run, each keeping its own row with
    'copy_of' naming the analysed path (without --reports; with it every
    path is analysed for its own report); when a later run replaces the
    analysed path's row, a copy is analysed again if listed, else its
    'copy_of' is cleared and a warning names whose analysis it carries. A
    file that cannot be
    analysed becomes a row with 'error_type' and 'error_message'; the others
    go on.
    Progress and the summary go to stderr. Exit code 1 when any file failed.
    A table is only resumed with the same analysis settings (detector,
    method, reference, channel, pronunciations, vtract code and library
    versions, the source and bound state of a --per-file plugin); otherwise the run is
    refused. A --per-bigram table is only resumed beside the results table
    it was written with (their rows share a 'table_id'). --pronunciation entries serve the files aligned from
    a transcript. Ctrl-C (exit 130) and SIGTERM (exit 143) stop the workers at
    once and keep every finished file in the journal for the next run.
    """
    options: dict[str, Any] = {}
    if detector is not None:
        options["detector"] = detector
    if method is not None:
        options["method"] = method
    if channel is not None:
        options["channel"] = channel
    prons = parse_pronunciations(pronunciation)
    if prons is not None:
        options["pronunciations"] = prons
    # SIGTERM (timeout, systemd, docker stop, Slurm, kill) takes the Ctrl-C path: the
    # temporary tables are removed, the journal kept and the workers killed, instead
    # of the process dying with its temporary copy and orphaned workers left behind.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    try:
        result = _run(
            inputs,
            jobs,
            backend,
            scheduler,
            out,
            per_bigram,
            reference,
            per_file,
            unordered,
            no_resume,
            keep_failed,
            reports_dir,
            sidecars,
            threads_per_worker,
            quiet,
            options,
        )
    except _Terminated:
        click.echo("vtract: terminated (SIGTERM); finished files are kept in the journal", err=True)
        sys.exit(EXIT_TERMINATED)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if summary_json:
        click.echo(json.dumps(result.summary(), sort_keys=True))
    raise SystemExit(EXIT_INPUT if result.failed else 0)


def _run(
    inputs: tuple[str, ...],
    jobs: int | None,
    backend: str,
    scheduler: str | None,
    out: str,
    per_bigram: str | None,
    reference: str | None,
    per_file: Callable[..., Any] | None,
    unordered: bool,
    no_resume: bool,
    keep_failed: bool,
    reports_dir: str | None,
    sidecars: bool,
    threads_per_worker: int | None,
    quiet: bool,
    options: dict[str, Any],
) -> Any:
    from ..batch import analyze_many

    return analyze_many(
        list(inputs),
        n_jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        out=out,
        per_bigram=per_bigram,
        reference=reference,
        per_file=per_file,
        ordered=not unordered,
        resume=not no_resume,
        retry_failed=not keep_failed,
        reports_dir=reports_dir,
        sidecars=sidecars,
        threads_per_worker=threads_per_worker,
        progress=None,
        quiet=quiet,
        **options,
    )
