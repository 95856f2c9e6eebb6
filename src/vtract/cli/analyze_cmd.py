"""``vtract analyze``: a verdict per evidence file, as JSON lines."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from ..errors import VtractError
from ..output_files import atomic_text_file, prepare_output, refuse_output_over_inputs
from . import EXIT_INPUT, EXIT_OK
from ._channel import channel_option
from ._methods import analysis_method_option
from ._pronunciations import parse_pronunciations, pronunciation_option


def _per_file(values: tuple[str, ...], n_files: int, option: str) -> list[str | None]:
    if not values:
        return [None] * n_files
    if len(values) == 1 and n_files == 1:
        return [values[0]]
    if len(values) != n_files:
        raise click.UsageError(
            f"{option} given {len(values)} time(s) for {n_files} file(s); give it once per file, "
            "in the same order"
        )
    return list(values)


def _html_path(html: str, file: str, n_files: int) -> Path:
    """The page of ``file``: ``html`` itself for one file (unless it is a folder), else a
    placeholder in the folder ``html``, named once the evidence's hash is known
    (:func:`_page_in_folder`)."""
    out = Path(html)
    if n_files == 1 and not out.is_dir():
        return prepare_output(out)
    return prepare_output(out / f"{Path(file).stem}.html")


def _page_in_folder(folder: Path, file: str, sha256: str, taken: set[Path]) -> Path:
    """``<safe stem>-<sha256[:16]>.html`` in ``folder``, as ``vtract batch --reports``
    names its reports: two files of one name in two folders get two pages (the
    second replaced the first), and an adversarial name cannot leave the folder."""
    from ..batch.reports import report_path

    page = report_path(folder, file, sha256).with_suffix(".html")
    n = 2
    while page in taken:  # the same recording twice (another alignment or transcript)
        page = page.with_name(f"{page.stem.rsplit('~', 1)[0]}~{n}.html")
        n += 1
    taken.add(page)
    return page


def _write_html(report: Any, path: Path, evidence: Any, reference: Any) -> None:
    to_html = getattr(report, "to_html", None)
    if to_html is None:
        raise VtractError(
            "HTML output is not available in this installation (Report.to_html is missing)"
        )
    to_html(path, evidence=evidence, reference=reference)


def _page_failure(report: Any, path: Path, evidence: Any, reference: Any) -> dict[str, str] | None:
    """Write the HTML page of one report; what went wrong, or ``None``.

    A page that fails must not take the other files' records with it: the
    JSON lines go to an atomic file that is discarded when the command
    dies. A :class:`VtractError` (output not writable, ...) is reported as
    it is; any other exception is a bug in the renderer and says so.
    """
    try:
        _write_html(report, path, evidence, reference)
    except VtractError as exc:
        reason = str(exc).replace("\n", " ").strip() or type(exc).__name__
        return {"type": type(exc).__name__, "message": f"HTML page not written: {reason}"}
    except Exception as exc:  # kept as this record's error, see the docstring
        reason = str(exc).replace("\n", " ").strip() or type(exc).__name__
        return {
            "type": type(exc).__name__,
            "message": f"HTML page not written (an error in vtract's renderer): {reason}",
        }
    return None


@click.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--transcript",
    "transcripts",
    multiple=True,
    metavar="TEXT",
    help="Words spoken in FILE (once per file, in order).",
)
@click.option(
    "--textgrid",
    "--alignment",
    "alignments",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="F",
    help="Alignment of FILE: TextGrid, HTS .lab, TIMIT .PHN or CSV (once per file; "
    "'' for a file without one, whose phones are then recognised). A CSV of several "
    "utterances gives FILE the rows whose filepath/filename names it.",
)
@pronunciation_option
@click.option(
    "--reference",
    "reference",
    default=None,
    type=click.Path(dir_okay=False),
    help="Organic reference file (default: the one shipped with vtract).",
)
@click.option(
    "--detector",
    type=click.Choice(["default", "paper"]),
    default="default",
    show_default=True,
    help="Detector to use.",
)
@analysis_method_option
@channel_option
@click.option(
    "--json",
    "json_out",
    default="-",
    show_default=True,
    metavar="OUT|-",
    help="Write the JSON lines to OUT instead of stdout.",
)
@click.option(
    "--html",
    "html",
    default=None,
    metavar="OUT",
    help="Write an HTML report: OUT for one file, else a folder OUT of "
    "<stem>-<first 16 hex digits of the SHA-256>.html (the path is in each record's html; "
    "a page that cannot be written is in its html_error, and the command exits 1).",
)
def analyze_command(
    files: tuple[str, ...],
    transcripts: tuple[str, ...],
    alignments: tuple[str, ...],
    pronunciation: tuple[str, ...],
    reference: str | None,
    detector: str,
    method: str | None,
    channel: int | None,
    json_out: str,
    html: str | None,
) -> None:
    """Analyse FILES and print one JSON report per line.

    Each object is the report (schema vtract/schemas/report.schema.json): at
    least file (the evidence's absolute path, as in the custody block),
    sha256, score, verdict, reason, flags, n_bigrams and provenance. Without
    --transcript or --textgrid the phones are recognised (low confidence). A
    file that cannot be analysed gets an ``error`` object, a one-line reason
    on stderr, and the command exits 1 after the other files are done (a
    folder among FILES too). With --html each record's ``html`` names the
    page written; a page that cannot be rendered or written leaves the
    report in the record with an ``html_error`` object instead, a reason on
    stderr, and exit code 1, and the other files are still analysed.
    """
    from ..analysis import ANALYSIS_RATE, analyze
    from ..evidence import load
    from ..provenance import path_text

    if transcripts and alignments:
        raise click.UsageError("give --transcript or --textgrid, not both")
    per_t = _per_file(transcripts, len(files), "--transcript")
    # an empty --textgrid holds the place of a file that has none (its phones are recognised)
    per_a = [a or None for a in _per_file(alignments, len(files), "--textgrid")]
    prons = parse_pronunciations(pronunciation)

    ref_obj: Any = None
    if reference is not None:
        from ..reference import Reference

        ref_obj = Reference.load(reference)  # a bad reference fails every file: exit 1 now

    html_paths = [None if html is None else _html_path(html, f, len(files)) for f in files]
    outputs: list[str | Path | None] = [None if json_out == "-" else json_out, *html_paths]
    refuse_output_over_inputs(outputs, [*files, *(a for a in per_a if a is not None)])

    status = EXIT_OK
    pages_taken: set[Path] = set()
    html_folder = len(files) > 1 or (html is not None and Path(html).is_dir())
    with contextlib.ExitStack() as stack:
        out: IO[str] = (
            sys.stdout if json_out == "-" else stack.enter_context(atomic_text_file(json_out))
        )
        for f, t, a, html_path in zip(files, per_t, per_a, html_paths):
            try:
                # With --html the file is decoded once and the same samples are analysed
                # and drawn; without it analyze() decodes it itself.
                source: Any = f
                file_channel = channel
                if html_path is not None:
                    source = load(f, sr=ANALYSIS_RATE, channel=channel)
                    file_channel = None
                    if html_folder:
                        html_path = _page_in_folder(html_path.parent, f, source.sha256, pages_taken)
                        refuse_output_over_inputs([html_path], [*files, *(a for a in per_a if a)])
                report = analyze(
                    source,
                    channel=file_channel,
                    transcript=t,
                    alignment=a,
                    pronunciations=prons,
                    reference=ref_obj,
                    detector=detector,
                    method=method,
                )
                # the record names the file as the report and its custody block do (the
                # absolute path), so that Report.from_dict(record) gives the same custody
                record: dict[str, Any] = report.to_dict()
                if html_path is not None:
                    if ref_obj is None:
                        from ..reference import default_reference

                        ref_obj = default_reference()
                    failed = _page_failure(report, html_path, source, ref_obj)
                    if failed is None:
                        record["html"] = path_text(html_path)
                    else:
                        record["html_error"] = failed
                        click.echo(f"vtract: error: {path_text(f)}: {failed['message']}", err=True)
                        status = EXIT_INPUT
            except VtractError as exc:
                reason = str(exc).replace("\n", " ").strip() or type(exc).__name__
                named = path_text(Path(f).name) in reason  # most messages already name the file
                shown = path_text(f)
                click.echo(f"vtract: error: {'' if named else shown + ': '}{reason}", err=True)
                record = {
                    "file": path_text(Path(f).resolve()),  # as a report names its file
                    "error": {"type": type(exc).__name__, "message": reason},
                }
                status = EXIT_INPUT
            out.write(json.dumps(record, sort_keys=True, allow_nan=False) + "\n")
            out.flush()
    raise SystemExit(status)
